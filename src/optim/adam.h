// adam, as torch.optim.Adam (L2 weight decay added to the gradient):
//   g += wd * w;  m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2
//   with amsgrad: v_max = max(v_max, v), used below in place of v
//   w -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)
// Properties: learning_rate (lr, default 1e-3), beta1 (0.9), beta2 (0.999), epsilon
// (1e-8), weight_decay (0), amsgrad (false). Betas must be in [0, 1), the others >= 0.
// State: exp_avg (m), exp_avg_sq (v), and max_exp_avg_sq (v_max) with amsgrad.
//
// AdamW (adamw.h) is this class with decoupled weight decay, so both share one update.
#pragma once

#include "edgetrain/optimizer.h"

namespace edgetrain {

class Adam : public Optimizer {
 public:
  Adam() = default;
  std::string type() const override { return "adam"; }
  bool set_property(const std::string& key, const std::string& value,
                    const std::string& owner) override;
  std::string property_keys() const override;
  std::vector<std::string> state_names() const override;
  void apply(Tensor& weight, const Tensor& grad, std::span<Tensor> state,
             const OptimizerStep& step) const override;

 protected:
  // How weight_decay acts: as an L2 term added to the gradient (Adam), or by shrinking
  // the weight before the update, outside the adaptive scaling (AdamW).
  enum class WeightDecay { kL2, kDecoupled };
  Adam(WeightDecay weight_decay_mode, float weight_decay)
      : weight_decay_mode_(weight_decay_mode), weight_decay_(weight_decay) {}

 private:
  WeightDecay weight_decay_mode_ = WeightDecay::kL2;
  float beta1_ = 0.9f;
  float beta2_ = 0.999f;
  float epsilon_ = 1e-8f;
  float weight_decay_ = 0.0f;
  bool amsgrad_ = false;
};

}  // namespace edgetrain
