#include "optim/adam.h"

#include <algorithm>
#include <cmath>

#include "edgetrain/properties.h"
#include "kernels/threads.h"

namespace edgetrain {

bool Adam::set_property(const std::string& key, const std::string& value,
                        const std::string& owner) {
  if (set_common_property(key, value, owner)) return true;
  if (key == "learning_rate" || key == "lr") {
    learning_rate_ = parse_non_negative_float(value, owner, key);
  } else if (key == "beta1") {
    beta1_ = parse_fraction(value, owner, key);
  } else if (key == "beta2") {
    beta2_ = parse_fraction(value, owner, key);
  } else if (key == "epsilon") {
    epsilon_ = parse_non_negative_float(value, owner, key);
  } else if (key == "weight_decay") {
    weight_decay_ = parse_non_negative_float(value, owner, key);
  } else if (key == "amsgrad") {
    amsgrad_ = parse_bool(value, owner, key);
  } else {
    return false;
  }
  return true;
}

std::string Adam::property_keys() const {
  return "learning_rate, beta1, beta2, epsilon, weight_decay, amsgrad, " +
         std::string(kCommonPropertyKeys);
}

std::vector<std::string> Adam::state_names() const {
  if (amsgrad_) return {"exp_avg", "exp_avg_sq", "max_exp_avg_sq"};
  return {"exp_avg", "exp_avg_sq"};
}

void Adam::apply(Tensor& weight, const Tensor& grad, std::span<Tensor> state,
                 const OptimizerStep& step) const {
  float* __restrict w = weight.data();
  const float* __restrict g = grad.data();
  float* __restrict m = state[0].data();
  float* __restrict v = state[1].data();
  float* __restrict v_max = amsgrad_ ? state[2].data() : nullptr;
  const double t = static_cast<double>(step.iteration);
  const float bias_correction1 = static_cast<float>(1.0 - std::pow(beta1_, t));
  const float bias_correction2_sqrt = static_cast<float>(std::sqrt(1.0 - std::pow(beta2_, t)));
  const float step_size = step.learning_rate / bias_correction1;
  const bool decoupled = weight_decay_mode_ == WeightDecay::kDecoupled;
  // PyTorch forms 1 - lr * wd in double precision and scales the weight by it in float.
  const float shrink = static_cast<float>(1.0 - static_cast<double>(step.learning_rate) *
                                                    static_cast<double>(weight_decay_));
  // Locals, not members: stores through w could otherwise alias them, which keeps the
  // compiler from vectorizing the loop.
  const float beta1 = beta1_, beta2 = beta2_, epsilon = epsilon_, weight_decay = weight_decay_;
  const float one_minus_beta1 = 1.0f - beta1, one_minus_beta2 = 1.0f - beta2;
  // Every weight is updated on its own: any split over threads gives the same values.
  kernels::parallel_ranges(weight.size(), 8, [&](size_t begin, size_t end) {
    for (size_t i = begin; i < end; ++i) {
      float d = g[i];
      if (decoupled)
        w[i] *= shrink;
      else
        d += weight_decay * w[i];
      m[i] = beta1 * m[i] + one_minus_beta1 * d;
      v[i] = beta2 * v[i] + one_minus_beta2 * d * d;
      float second_moment = v[i];
      if (v_max) {
        // The largest second moment so far, so the effective step size never grows.
        v_max[i] = std::max(v_max[i], v[i]);
        second_moment = v_max[i];
      }
      const float denominator = std::sqrt(second_moment) / bias_correction2_sqrt + epsilon;
      w[i] -= step_size * m[i] / denominator;
    }
  });
}

}  // namespace edgetrain
