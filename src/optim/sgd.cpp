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
  float* w = weight.data();
  const float* g = grad.data();
  const float lr = step.learning_rate;
  // Every weight is updated on its own: any split over threads gives the same values.
  kernels::parallel_ranges(weight.size(), 4, [&](size_t begin, size_t end) {
    for (size_t i = begin; i < end; ++i) {
      float d = g[i] + weight_decay_ * w[i];
      if (momentum_ != 0.0f) {
        float& buffer = state[0][i];
        buffer = step.iteration == 1 ? d : momentum_ * buffer + (1.0f - dampening_) * d;
        d = nesterov_ ? d + momentum_ * buffer : buffer;
      }
      w[i] -= lr * d;
    }
  });
}

}  // namespace edgetrain
