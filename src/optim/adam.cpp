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

namespace {

struct AdamConstants {
  float beta1, one_minus_beta1, beta2, one_minus_beta2, epsilon, weight_decay, shrink;
  float step_size, bias_correction2_sqrt;
};

// The update of weights [begin, end), one instantiation per weight-decay mode and amsgrad
// setting: with no branch left in the loop (and sqrt without errno, -fno-math-errno) it
// vectorizes (SSE2 on x86-64, NEON on aarch64).
template <bool kDecoupled, bool kAmsgrad>
void adam_update(const AdamConstants& c, size_t begin, size_t end, float* __restrict w,
                 const float* __restrict g, float* __restrict m, float* __restrict v,
                 float* __restrict v_max) {
  for (size_t i = begin; i < end; ++i) {
    float d = g[i];
    if constexpr (kDecoupled)
      w[i] *= c.shrink;
    else
      d += c.weight_decay * w[i];
    m[i] = c.beta1 * m[i] + c.one_minus_beta1 * d;
    v[i] = c.beta2 * v[i] + c.one_minus_beta2 * d * d;
    float second_moment = v[i];
    if constexpr (kAmsgrad) {
      // The largest second moment so far, so the effective step size never grows.
      v_max[i] = std::max(v_max[i], v[i]);
      second_moment = v_max[i];
    }
    const float denominator = std::sqrt(second_moment) / c.bias_correction2_sqrt + c.epsilon;
    w[i] -= c.step_size * m[i] / denominator;
  }
}

}  // namespace

void Adam::apply(Tensor& weight, const Tensor& grad, std::span<Tensor> state,
                 const OptimizerStep& step) const {
  float* w = weight.data();
  const float* g = grad.data();
  float* m = state[0].data();
  float* v = state[1].data();
  float* v_max = amsgrad_ ? state[2].data() : nullptr;
  const double t = static_cast<double>(step.iteration);
  const float bias_correction1 = static_cast<float>(1.0 - std::pow(beta1_, t));
  AdamConstants c;
  c.beta1 = beta1_;
  c.one_minus_beta1 = 1.0f - beta1_;
  c.beta2 = beta2_;
  c.one_minus_beta2 = 1.0f - beta2_;
  c.epsilon = epsilon_;
  c.weight_decay = weight_decay_;
  // PyTorch forms 1 - lr * wd in double precision and scales the weight by it in float.
  c.shrink = static_cast<float>(1.0 - static_cast<double>(step.learning_rate) *
                                          static_cast<double>(weight_decay_));
  c.step_size = step.learning_rate / bias_correction1;
  c.bias_correction2_sqrt = static_cast<float>(std::sqrt(1.0 - std::pow(beta2_, t)));
  const bool decoupled = weight_decay_mode_ == WeightDecay::kDecoupled;
  auto update = decoupled ? (amsgrad_ ? adam_update<true, true> : adam_update<true, false>)
                          : (amsgrad_ ? adam_update<false, true> : adam_update<false, false>);
  // Every weight is updated on its own: any split over threads gives the same values.
  kernels::parallel_ranges(weight.size(), 8, [&](size_t begin, size_t end) {
    update(c, begin, end, w, g, m, v, v_max);
  });
}

}  // namespace edgetrain
