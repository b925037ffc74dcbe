#include "optim/sgd.h"

#include "edgetrain/error.h"
#include "edgetrain/properties.h"

namespace edgetrain {

bool Sgd::set_property(const std::string& key, const std::string& value, const std::string& owner) {
  if (key == "learning_rate" || key == "lr") {
    learning_rate_ = parse_float(value, owner, key);
  } else if (key == "momentum") {
    momentum_ = parse_float(value, owner, key);
  } else if (key == "dampening") {
    dampening_ = parse_float(value, owner, key);
  } else if (key == "nesterov") {
    nesterov_ = parse_bool(value, owner, key);
  } else if (key == "weight_decay") {
    weight_decay_ = parse_float(value, owner, key);
  } else {
    return false;
  }
  if (nesterov_ && (momentum_ <= 0.0f || dampening_ != 0.0f))
    throw PropertyError(owner + ": nesterov needs momentum > 0 and dampening = 0");
  return true;
}

std::string Sgd::property_keys() const {
  return "learning_rate, momentum, dampening, nesterov, weight_decay";
}

std::vector<std::string> Sgd::state_names() const {
  if (momentum_ == 0.0f) return {};
  return {"momentum_buffer"};
}

void Sgd::apply(Tensor& weight, const Tensor& grad, std::span<Tensor> state,
                const OptimizerStep& step) const {
  float* w = weight.data();
  const float* g = grad.data();
  const float lr = step.learning_rate;
  for (size_t i = 0; i < weight.size(); ++i) {
    float d = g[i] + weight_decay_ * w[i];
    if (momentum_ != 0.0f) {
      float& buffer = state[0][i];
      buffer = step.iteration == 1 ? d : momentum_ * buffer + (1.0f - dampening_) * d;
      d = nesterov_ ? d + momentum_ * buffer : buffer;
    }
    w[i] -= lr * d;
  }
}

}  // namespace edgetrain
