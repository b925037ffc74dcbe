// cross_entropy: softmax cross-entropy on logits, as torch.nn.CrossEntropyLoss with
// class-probability targets (reduction='mean') for an [N, classes] input.
//   input  N:C:H:W logits; each of the N*C*H rows of W values is one sample's classes
//   label  same shape: class probabilities per row, one-hot or soft
//   target t[w] = (1 - label_smoothing) * label[w] + label_smoothing / W
//   loss   (1 / rows) * sum over rows of -sum_w t[w] * log_softmax(input)[w]
//   dL/d(input) = (softmax(input) * sum_w t[w] - t) / rows
// The smoothed target is PyTorch's for label_smoothing= with probability targets, and,
// for one-hot labels, with class-index targets too. The row sum of t is 1 for probability
// labels, giving the familiar (softmax - t) / rows; keeping it makes the gradient exact
// (and equal to PyTorch's) for any label, e.g. an all-zero row that masks a sample out
// (which smoothing then gives label_smoothing / W per class, as PyTorch does).
// log_softmax is x - max - log(sum exp(x - max)), so large logits stay finite and no
// logarithm of a (possibly zero) probability is taken.
// Properties: label_smoothing, in [0, 1) (default 0: none).
#pragma once

#include "layers/losses/loss_layer.h"

namespace edgetrain {

class CrossEntropyLoss : public LossLayer {
 public:
  std::string type() const override { return "cross_entropy"; }
  bool set_property(const std::string& key, const std::string& value,
                    const std::string& owner) override;
  std::string property_keys() const override { return "label_smoothing"; }
  void forward(RunContext& context) override;
  void calc_derivative(RunContext& context) override;
  // The backward recomputes the softmax from the logits instead of saving it: the loss
  // runs last in forward and first in backward, so keeping its input alive costs no
  // memory, while a saved softmax would need a buffer of its own.
  bool backward_needs_input(size_t) const override { return true; }

 private:
  float label_smoothing_ = 0.0f;
};

}  // namespace edgetrain
