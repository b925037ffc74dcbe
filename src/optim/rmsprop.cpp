#include "optim/rmsprop.h"

#include <cmath>

#include "edgetrain/properties.h"

namespace edgetrain {

bool RmsProp::set_property(const std::string& key, const std::string& value,
                           const std::string& owner) {
  if (set_common_property(key, value, owner)) return true;
  if (key == "learning_rate" || key == "lr") {
    learning_rate_ = parse_non_negative_float(value, owner, key);
  } else if (key == "alpha" || key == "rho") {  // rho: the name Keras and TensorFlow use
    alpha_ = parse_fraction(value, owner, key);
  } else if (key == "epsilon") {
    epsilon_ = parse_non_negative_float(value, owner, key);
  } else if (key == "momentum") {
    momentum_ = parse_non_negative_float(value, owner, key);
  } else if (key == "centered") {
    centered_ = parse_bool(value, owner, key);
  } else if (key == "weight_decay") {
    weight_decay_ = parse_non_negative_float(value, owner, key);
  } else {
    return false;
  }
  return true;
}

std::string RmsProp::property_keys() const {
  return "learning_rate, alpha, epsilon, momentum, centered, weight_decay, " +
         std::string(kCommonPropertyKeys);
}

std::vector<std::string> RmsProp::state_names() const {
  std::vector<std::string> names = {"square_avg"};
  if (momentum_ > 0.0f) names.push_back("momentum_buffer");
  if (centered_) names.push_back("grad_avg");
  return names;
}

void RmsProp::apply(Tensor& weight, const Tensor& grad, std::span<Tensor> state,
                    const OptimizerStep& step) const {
  float* w = weight.data();
  const float* g = grad.data();
  float* square_avg = state[0].data();
  size_t next_state = 1;
  float* buffer = momentum_ > 0.0f ? state[next_state++].data() : nullptr;
  float* grad_avg = centered_ ? state[next_state++].data() : nullptr;
  const float lr = step.learning_rate;
  for (size_t i = 0; i < weight.size(); ++i) {
    const float d = g[i] + weight_decay_ * w[i];
    square_avg[i] = alpha_ * square_avg[i] + (1.0f - alpha_) * d * d;
    float avg;
    if (centered_) {
      // Subtracting the squared mean turns the second moment into a variance estimate.
      grad_avg[i] = alpha_ * grad_avg[i] + (1.0f - alpha_) * d;
      avg = std::sqrt(square_avg[i] - grad_avg[i] * grad_avg[i]) + epsilon_;
    } else {
      avg = std::sqrt(square_avg[i]) + epsilon_;
    }
    if (buffer != nullptr) {
      buffer[i] = momentum_ * buffer[i] + d / avg;
      w[i] -= lr * buffer[i];
    } else {
      w[i] -= lr * d / avg;
    }
  }
}

}  // namespace edgetrain
