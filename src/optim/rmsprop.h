// rmsprop, as torch.optim.RMSprop (Hinton's RMSprop; centered as in Graves 2013):
//   g += wd * w
//   sq = alpha sq + (1 - alpha) g^2
//   centered:  ga = alpha ga + (1 - alpha) g;  avg = sqrt(sq - ga^2) + eps
//   otherwise: avg = sqrt(sq) + eps
//   momentum > 0: buf = momentum buf + g / avg;  w -= lr * buf
//   otherwise:    w -= lr * g / avg
// eps is added after the square root, as PyTorch does (Keras adds it inside).
// Properties: learning_rate (lr, default 0.01 as PyTorch), alpha (rho, 0.99), epsilon
// (1e-8), momentum (0), centered (false), weight_decay (0). alpha must be in [0, 1), the
// others >= 0. State: square_avg, then momentum_buffer when momentum > 0, then grad_avg
// when centered.
#pragma once

#include "edgetrain/optimizer.h"

namespace edgetrain {

class RmsProp : public Optimizer {
 public:
  RmsProp() { learning_rate_ = 0.01f; }
  std::string type() const override { return "rmsprop"; }
  bool set_property(const std::string& key, const std::string& value,
                    const std::string& owner) override;
  std::string property_keys() const override;
  std::vector<std::string> state_names() const override;
  void apply(Tensor& weight, const Tensor& grad, std::span<Tensor> state,
             const OptimizerStep& step) const override;

 private:
  float alpha_ = 0.99f;
  float epsilon_ = 1e-8f;
  float momentum_ = 0.0f;
  bool centered_ = false;
  float weight_decay_ = 0.0f;
};

}  // namespace edgetrain
