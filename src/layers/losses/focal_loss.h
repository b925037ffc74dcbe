// focal_loss: softmax focal loss on logits (Lin et al., "Focal Loss for Dense Object
// Detection", in its multi-class softmax form), which down-weights the classes a sample
// already predicts well so that training concentrates on the hard ones.
//   input  N:C:H:W logits; each of the N*C*H rows of W values is one sample's classes
//   label  same shape: class probabilities per row, one-hot or soft
//   p      softmax(input) over the row, log p = log_softmax(input)
//   loss   (1 / rows) * sum over rows of -sum_c label[c] * alpha[c] * (1 - p[c])^gamma * log p[c]
// With a one-hot label of class t this is the familiar -alpha_t (1 - p_t)^gamma log p_t;
// gamma = 0 with no alpha is cross_entropy. In PyTorch, for [rows, classes] tensors:
//   logp = torch.log_softmax(x, 1)
//   (-(label * alpha * (1 - logp.exp()) ** gamma * logp).sum(1)).mean()
// Gradient, with w[c] = label[c] * alpha[c] and
//   g[c] = (1 - p[c])^gamma - gamma * p[c] * log p[c] * (1 - p[c])^(gamma - 1)
// (d/d log p[c] of (1 - p[c])^gamma * log p[c]):
//   dL/d(input)[j] = (p[j] * sum_c w[c] * g[c] - w[j] * g[j]) / rows
// log p comes from the max-shifted log-sum-exp and 1 - p from expm1(log p), so large
// logits stay finite and 1 - p keeps its digits when p is near 1.
// Properties: gamma (>= 0, default 2); alpha: one weight for every class or a
// comma-separated weight per class (>= 0; default: 1 for all). A per-class list must have
// as many weights as the input has classes (its width), checked at compile.
#pragma once

#include <vector>

#include "layers/losses/loss_layer.h"

namespace edgetrain {

class FocalLoss : public LossLayer {
 public:
  std::string type() const override { return "focal_loss"; }
  bool set_property(const std::string& key, const std::string& value,
                    const std::string& owner) override;
  std::string property_keys() const override { return "gamma, alpha"; }
  void finalize(FinalizeContext& context) override;
  void forward(RunContext& context) override;
  void calc_derivative(RunContext& context) override;
  // Backward recomputes the softmax from the logits, as cross_entropy does.
  bool backward_needs_input(size_t) const override { return true; }

 private:
  // The weight of class c: alpha_ holds one weight for all classes, or one per class.
  float alpha(size_t c) const { return alpha_.size() == 1 ? alpha_[0] : alpha_[c]; }

  float gamma_ = 2.0f;
  std::vector<float> alpha_ = {1.0f};
};

}  // namespace edgetrain
