// sgd, as torch.optim.SGD: with weight_decay g += wd * w; with momentum
// buf = momentum * buf + (1 - dampening) * g (buf = g on the first step), and
// g = nesterov ? g + momentum * buf : buf; then w -= lr * g.
// Properties: learning_rate (lr, default 1e-3), momentum (0), dampening (0), nesterov
// (false), weight_decay (0). Rates, momentum and weight_decay must be >= 0; nesterov
// needs momentum > 0 and dampening = 0, as in PyTorch.
#pragma once

#include "edgetrain/optimizer.h"

namespace edgetrain {

class Sgd : public Optimizer {
 public:
  std::string type() const override { return "sgd"; }
  bool set_property(const std::string& key, const std::string& value,
                    const std::string& owner) override;
  std::string property_keys() const override;
  void validate(const std::string& owner) const override;
  std::vector<std::string> state_names() const override;
  void apply(Tensor& weight, const Tensor& grad, std::span<Tensor> state,
             const OptimizerStep& step) const override;
  bool is_plain_gradient_step() const override {
    return momentum_ == 0.0f && weight_decay_ == 0.0f && clip_grad_norm_ == 0.0f;
  }

 private:
  float momentum_ = 0.0f;
  float dampening_ = 0.0f;
  bool nesterov_ = false;
  float weight_decay_ = 0.0f;
};

}  // namespace edgetrain
