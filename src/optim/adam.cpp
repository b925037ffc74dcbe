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
  float* w = weight.data();
  const float* g = grad.data();
  float* m = state[0].data();
  float* v = state[1].data();
  float* v_max = amsgrad_ ? state[2].data() : nullptr;
  const double t = static_cast<double>(step.iteration);
  const float bias_correction1 = static_cast<float>(1.0 - std::pow(beta1_, t));
  const float bias_correction2_sqrt = static_cast<float>(std::sqrt(1.0 - std::pow(beta2_, t)));
  const float step_size = step.learning_rate / bias_correction1;
  const bool decoupled = weight_decay_mode_ == WeightDecay::kDecoupled;
  // PyTorch forms 1 - lr * wd in double precision and scales the weight by it in float.
  const float shrink = static_cast<float>(1.0 - static_cast<double>(step.learning_rate) *
                                                    static_cast<double>(weight_decay_));
  // Every weight is updated on its own: any split over threads gives the same values.
  kernels::parallel_ranges(weight.size(), 8, [&](size_t begin, size_t end) {
    for (size_t i = begin; i < end; ++i) {
      float d = g[i];
      if (decoupled)
        w[i] *= shrink;
      else
        d += weight_decay_ * w[i];
      m[i] = beta1_ * m[i] + (1.0f - beta1_) * d;
      v[i] = beta2_ * v[i] + (1.0f - beta2_) * d * d;
      float second_moment = v[i];
      if (amsgrad_) {
        // The largest second moment so far, so the effective step size never grows.
        v_max[i] = std::max(v_max[i], v[i]);
        second_moment = v_max[i];
      }
      const float denominator = std::sqrt(second_moment) / bias_correction2_sqrt + epsilon_;
      w[i] -= step_size * m[i] / denominator;
    }
  });
}

}  // namespace edgetrain
