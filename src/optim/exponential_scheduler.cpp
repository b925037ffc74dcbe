#include "optim/exponential_scheduler.h"

#include <cmath>

#include "edgetrain/properties.h"
#include "optim/scheduler_properties.h"

namespace edgetrain {

bool ExponentialScheduler::set_property(const std::string& key, const std::string& value,
                                        const std::string& owner) {
  if (key == "decay_rate") {
    decay_rate_ = parse_positive_float(value, owner, key);
  } else if (key == "decay_steps") {
    decay_steps_ = parse_positive(value, owner, key);
  } else if (key == "staircase") {
    staircase_ = parse_bool(value, owner, key);
  } else if (key == "learning_rate" || key == "lr") {
    learning_rate_ = parse_non_negative_float(value, owner, key);
  } else {
    return false;
  }
  return true;
}

void ExponentialScheduler::validate(const std::string& owner) const {
  if (!decay_rate_) throw_missing_property(owner, "decay_rate");
}

float ExponentialScheduler::learning_rate(size_t iteration, float base_learning_rate) const {
  double exponent = static_cast<double>(iteration) / static_cast<double>(decay_steps_);
  if (staircase_) exponent = std::floor(exponent);
  const double start = learning_rate_.value_or(base_learning_rate);
  return static_cast<float>(start * std::pow(static_cast<double>(*decay_rate_), exponent));
}

}  // namespace edgetrain
