// Optimizers and learning-rate schedulers.
//
// An optimizer declares the state it keeps per weight (so the planner places it in the
// arena) and updates one weight at a time from its gradient, in place.
#pragma once

#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "edgetrain/tensor.h"

namespace edgetrain {

// A learning-rate schedule: a function of the iteration (0-based) and the optimizer's
// learning_rate. Most are pure functions of those; one driven by a metric
// (reduce_on_plateau) names it in monitor(), and the trainer then reports that metric
// after every epoch (epoch_end) and checkpoints the scheduler's state.
class LearningRateScheduler {
 public:
  virtual ~LearningRateScheduler() = default;
  virtual std::string type() const = 0;
  virtual bool set_property(const std::string& key, const std::string& value,
                            const std::string& owner) = 0;
  virtual std::string property_keys() const = 0;
  // Checks properties that constrain each other, once all are set, so that their order
  // does not matter. Throws PropertyError naming `owner`.
  virtual void validate(const std::string& /*owner*/) const {}
  virtual float learning_rate(size_t iteration, float base_learning_rate) const = 0;

  // The metric the schedule follows: val_loss, val_accuracy, loss or accuracy (the
  // trainer's names, as for early stopping); empty for a schedule of the iteration alone.
  virtual std::string monitor() const { return ""; }
  // After an epoch, the monitored metric's value; `base_learning_rate` as above.
  virtual void epoch_end(double /*metric*/, float /*base_learning_rate*/) {}
  // What epoch_end has changed, as "key=value" texts for a checkpoint, and setting it
  // back. set_state throws Error naming `origin` (the checkpoint) on a bad or missing key.
  virtual std::vector<std::string> state() const { return {}; }
  virtual void set_state(const std::vector<std::string>& /*state*/, const std::string& /*origin*/) {
  }
};

// What one update step knows besides the tensors.
struct OptimizerStep {
  float learning_rate = 0.0f;
  size_t iteration = 1;  // 1-based count of updates, for bias correction
};

class Optimizer {
 public:
  virtual ~Optimizer() = default;
  virtual std::string type() const = 0;
  // Returns false if `key` is not this optimizer's; throws PropertyError on a bad value.
  virtual bool set_property(const std::string& key, const std::string& value,
                            const std::string& owner) = 0;
  virtual std::string property_keys() const = 0;
  // Checks properties that constrain each other, once all are set, so that their order
  // does not matter. Throws PropertyError naming `owner`.
  virtual void validate(const std::string& /*owner*/) const {}
  // Names of the state tensors kept per weight, each shaped like the weight.
  virtual std::vector<std::string> state_names() const = 0;
  // weight -= update(grad, state); state tensors are zero before the first step.
  virtual void apply(Tensor& weight, const Tensor& grad, std::span<Tensor> state,
                     const OptimizerStep& step) const = 0;
  // True when an update is exactly weight -= learning_rate * grad (no state, no decay, no
  // clipping): the graph may then fold the update into a layer's weight-gradient product
  // (Layer::supports_fused_update), and that layer's gradient is never stored.
  virtual bool is_plain_gradient_step() const { return false; }
  // The rate given by learning_rate=, which a "constant" scheduler uses by default.
  float base_learning_rate() const { return learning_rate_; }
  // clip_grad_norm=X (X > 0), taken by every optimizer: before the updates of a step, all
  // weight gradients are scaled by X / (norm + 1e-6) when their total L2 norm is above X,
  // as torch.nn.utils.clip_grad_norm_(params, X). The model then keeps every weight
  // gradient until the whole backward pass is done ("whole-model gradients"), which needs
  // more memory. 0: no clipping (the default).
  float clip_grad_norm() const { return clip_grad_norm_; }

 protected:
  // For set_property: handles the keys every optimizer takes (kCommonPropertyKeys);
  // returns false for any other key.
  bool set_common_property(const std::string& key, const std::string& value,
                           const std::string& owner);
  static constexpr const char* kCommonPropertyKeys = "clip_grad_norm";

  float learning_rate_ = 1e-3f;
  float clip_grad_norm_ = 0.0f;
};

// Creates "sgd", "adam", "adamw" or "rmsprop" with "key=value" properties. Throws
// UnknownTypeError or PropertyError.
std::unique_ptr<Optimizer> createOptimizer(const std::string& type,
                                           const std::vector<std::string>& properties = {});
// Creates "constant", "exponential", "step", "cosine", "linear", "warmup" or
// "reduce_on_plateau" with "key=value" properties. Throws UnknownTypeError or PropertyError.
std::unique_ptr<LearningRateScheduler> createLearningRateScheduler(
    const std::string& type, const std::vector<std::string>& properties = {});

}  // namespace edgetrain
