// batch_normalization: y = gamma * (x - mean) / sqrt(var + epsilon) + beta per feature, as
// torch.nn.BatchNorm2d (conv outputs) and torch.nn.BatchNorm1d (fully_connected outputs).
//   input N:C:H:W  ->  output N:C:H:W
//
// The features lie along one axis; their statistics are taken over every other dimension,
// the batch included:
//   axis=channel (or 1): per channel over N, H, W       (BatchNorm2d)
//   axis=height  (or 2): per row over N, C, W
//   axis=width   (or 3): per width entry over N, C, H   (BatchNorm1d on N:1:1:F)
// Default: width for a flat input N:1:1:F (a fully_connected output, per feature), channel
// for everything else (a conv output N:C:H:W, single-channel images N:1:H:W included).
//
// Weights, each with the K features along the axis (1:K:1:1, 1:1:K:1 or 1:1:1:K):
//   gamma, beta                  trainable
//   running_mean, running_var    state (trainable=false), updated by training forwards
//
// Training normalizes with the batch mean and biased variance, and updates
//   running = (1 - momentum) * running + momentum * batch_statistic
// using the unbiased variance for running_var. This is PyTorch's momentum; NNTrainer and
// Keras weight the running value instead, so their momentum 0.99 is 0.01 here. Like
// PyTorch, training needs more than one value per feature (ShapeError otherwise).
// Evaluation normalizes with the running statistics. Backward after an evaluation forward
// treats the statistics as constants (fine-tuning with frozen statistics); after a training
// forward it differentiates through the batch statistics too.
//
// Properties: axis (default above), momentum (0.1, in [0, 1]), epsilon (1e-5, > 0),
// gamma_initializer (ones), beta_initializer (zeros), moving_mean_initializer (zeros),
// moving_variance_initializer (ones).
#pragma once

#include <string>

#include "edgetrain/layer.h"

namespace edgetrain {

class BatchNormalizationLayer : public Layer {
 public:
  std::string type() const override { return "batch_normalization"; }
  bool set_property(const std::string& key, const std::string& value,
                    const std::string& owner) override;
  std::string property_keys() const override;
  void finalize(FinalizeContext& context) override;
  void forward(RunContext& context) override;
  void calc_derivative(RunContext& context) override;
  void calc_gradient(RunContext& context) override;
  // Forward saves x-hat and 1/sqrt(var + epsilon), which is all backward needs.
  bool backward_needs_input(size_t) const override { return false; }
  // Each feature's values are read (statistics, x-hat) before its outputs are written, and
  // dx is written only after the sums over dy; calc_gradient runs before calc_derivative.
  bool supports_in_place(size_t) const override { return true; }
  bool supports_in_place_derivative(size_t) const override { return true; }

 private:
  void normalize_with_batch_statistics(RunContext& context);
  void normalize_with_running_statistics(RunContext& context);

  size_t axis_property_ = 0;  // 1, 2 or 3 (the N:C:H:W index); 0: the default
  float momentum_ = 0.1f;
  float epsilon_ = 1e-5f;
  Initializer gamma_initializer_ = Initializer::ones;
  Initializer beta_initializer_ = Initializer::zeros;
  Initializer moving_mean_initializer_ = Initializer::zeros;
  Initializer moving_variance_initializer_ = Initializer::ones;

  size_t axis_ = 1;        // resolved in finalize
  std::string owner_;      // for errors found at run time
  size_t normalized_ = 0;  // tensor index of x-hat
  size_t inv_std_ = 0;     // tensor index of 1 / sqrt(var + epsilon)
};

}  // namespace edgetrain
