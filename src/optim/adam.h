// adam, as torch.optim.Adam (L2 weight decay added to the gradient):
//   g += wd * w;  m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2
//   w -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)
// Properties: learning_rate (lr, default 1e-3), beta1 (0.9), beta2 (0.999), epsilon
// (1e-8), weight_decay (0). Betas must be in [0, 1), the others >= 0.
#pragma once

#include "edgetrain/optimizer.h"

namespace edgetrain {

class Adam : public Optimizer {
 public:
  std::string type() const override { return "adam"; }
  bool set_property(const std::string& key, const std::string& value,
                    const std::string& owner) override;
  std::string property_keys() const override;
  std::vector<std::string> state_names() const override { return {"exp_avg", "exp_avg_sq"}; }
  void apply(Tensor& weight, const Tensor& grad, std::span<Tensor> state,
             const OptimizerStep& step) const override;

 private:
  float beta1_ = 0.9f;
  float beta2_ = 0.999f;
  float epsilon_ = 1e-8f;
  float weight_decay_ = 0.0f;
};

}  // namespace edgetrain
