#include "optim/step_scheduler.h"

#include <algorithm>
#include <cmath>

#include "edgetrain/error.h"
#include "edgetrain/properties.h"
#include "optim/scheduler_properties.h"

namespace edgetrain {

bool StepScheduler::set_property(const std::string& key, const std::string& value,
                                 const std::string& owner) {
  if (key == "milestones") {
    milestones_ = parse_increasing_counts(value, owner, key);
  } else if (key == "gamma") {
    gamma_ = parse_non_negative_float(value, owner, key);
  } else if (key == "learning_rate" || key == "lr") {
    learning_rates_ = parse_non_negative_floats(value, owner, key);
  } else if (key == "iteration") {
    iterations_ = parse_increasing_counts(value, owner, key);
  } else {
    return false;
  }
  return true;
}

void StepScheduler::validate(const std::string& owner) const {
  if (!iterations_.empty()) {
    if (!milestones_.empty() || gamma_)
      throw PropertyError(owner +
                          ": property 'iteration' (with a learning_rate list) cannot be "
                          "combined with milestones or gamma");
    if (learning_rates_.size() != iterations_.size() + 1)
      throw PropertyError(owner +
                          ": property 'learning_rate' needs one rate more than "
                          "'iteration' has iterations, found " +
                          std::to_string(learning_rates_.size()) + " rates and " +
                          std::to_string(iterations_.size()) + " iterations");
    return;
  }
  if (milestones_.empty()) throw_missing_property(owner, "milestones");
  if (learning_rates_.size() > 1)
    throw PropertyError(owner +
                        ": property 'learning_rate' takes one rate with milestones; "
                        "a list of rates goes with 'iteration'");
}

float StepScheduler::learning_rate(size_t iteration, float base_learning_rate) const {
  if (!iterations_.empty()) {
    const auto passed = std::lower_bound(iterations_.begin(), iterations_.end(), iteration);
    return learning_rates_[static_cast<size_t>(passed - iterations_.begin())];
  }
  const auto reached = std::upper_bound(milestones_.begin(), milestones_.end(), iteration);
  const double start = learning_rates_.empty() ? base_learning_rate : learning_rates_.front();
  return static_cast<float>(start * std::pow(static_cast<double>(gamma_.value_or(0.1f)),
                                             static_cast<double>(reached - milestones_.begin())));
}

}  // namespace edgetrain
