#include "optim/sgd.h"

#include <sstream>

#include "edgetrain/error.h"
#include "edgetrain/properties.h"
#include "kernels/threads.h"

namespace edgetrain {
namespace {

// Shortest readable form ("0.9", not "0.900000"), for messages.
std::string format_float(float value) {
  std::ostringstream text;
  text << value;
  return text.str();
}

}  // namespace

bool Sgd::set_property(const std::string& key, const std::string& value, const std::string& owner) {
  if (set_common_property(key, value, owner)) return true;
  if (key == "learning_rate" || key == "lr") {
    learning_rate_ = parse_non_negative_float(value, owner, key);
  } else if (key == "momentum") {
    momentum_ = parse_non_negative_float(value, owner, key);
  } else if (key == "dampening") {
    dampening_ = parse_float(value, owner, key);
  } else if (key == "nesterov") {
    nesterov_ = parse_bool(value, owner, key);
  } else if (key == "weight_decay") {
    weight_decay_ = parse_non_negative_float(value, owner, key);
  } else {
    return false;
  }
  return true;
}

void Sgd::validate(const std::string& owner) const {
  if (!nesterov_) return;
  // Nesterov momentum looks ahead along an undamped momentum buffer (as in PyTorch).
  if (momentum_ <= 0.0f)
    throw PropertyError(
        owner + ": nesterov=true needs momentum > 0, found momentum=" + format_float(momentum_));
  if (dampening_ != 0.0f)
    throw PropertyError(
        owner + ": nesterov=true needs dampening=0, found dampening=" + format_float(dampening_));
}

std::string Sgd::property_keys() const {
  return "learning_rate, momentum, dampening, nesterov, weight_decay, " +
         std::string(kCommonPropertyKeys);
}

std::vector<std::string> Sgd::state_names() const {
  if (momentum_ == 0.0f) return {};
  return {"momentum_buffer"};
}

void Sgd::apply(Tensor& weight, const Tensor& grad, std::span<Tensor> state,
                const OptimizerStep& step) const {
  float* __restrict w = weight.data();
  const float* __restrict g = grad.data();
  float* __restrict buffer = momentum_ != 0.0f ? state[0].data() : nullptr;
  // Locals, not members: stores through w could otherwise alias them, which keeps the
  // compiler from vectorizing the loops.
  const float lr = step.learning_rate, weight_decay = weight_decay_, momentum = momentum_;
  const float dampening = 1.0f - dampening_;
  const bool first = step.iteration == 1, nesterov = nesterov_;
  // Every weight is updated on its own: any split over threads gives the same values.
  kernels::parallel_ranges(weight.size(), 4, [&](size_t begin, size_t end) {
    if (!buffer) {
      for (size_t i = begin; i < end; ++i) w[i] -= lr * (g[i] + weight_decay * w[i]);
      return;
    }
    for (size_t i = begin; i < end; ++i) {
      const float d = g[i] + weight_decay * w[i];
      buffer[i] = first ? d : momentum * buffer[i] + dampening * d;
      w[i] -= lr * (nesterov ? d + momentum * buffer[i] : buffer[i]);
    }
  });
}

}  // namespace edgetrain
