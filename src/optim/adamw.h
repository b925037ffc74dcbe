// adamw, as torch.optim.AdamW: Adam with decoupled weight decay (Loshchilov & Hutter).
// The weight is shrunk before the Adam update instead of adding wd * w to the gradient,
// so the decay is not rescaled by the adaptive denominator:
//   w *= 1 - lr * wd;  m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2
//   with amsgrad: v_max = max(v_max, v), used below in place of v
//   w -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)
// Properties: learning_rate (lr, default 1e-3), beta1 (0.9), beta2 (0.999), epsilon
// (1e-8), weight_decay (0.01, as PyTorch), amsgrad (false). State: exp_avg, exp_avg_sq,
// and max_exp_avg_sq with amsgrad.
#pragma once

#include "optim/adam.h"

namespace edgetrain {

class AdamW : public Adam {
 public:
  AdamW();
  std::string type() const override { return "adamw"; }
};

}  // namespace edgetrain
