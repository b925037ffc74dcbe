#include "optim/range_scheduler.h"

#include <sstream>

#include "edgetrain/error.h"
#include "edgetrain/properties.h"
#include "optim/scheduler_properties.h"

namespace edgetrain {

bool RangeScheduler::set_property(const std::string& key, const std::string& value,
                                  const std::string& owner) {
  if (key == "max_learning_rate") {
    max_learning_rate_ = parse_non_negative_float(value, owner, key);
  } else if (key == "min_learning_rate") {
    min_learning_rate_ = parse_non_negative_float(value, owner, key);
  } else if (key == "decay_steps") {
    decay_steps_ = parse_positive(value, owner, key);
  } else {
    return false;
  }
  return true;
}

void RangeScheduler::validate(const std::string& owner) const {
  if (decay_steps_ == 0) throw_missing_property(owner, "decay_steps");
  // Without max_learning_rate the maximum is the optimizer's rate, known only in training.
  if (max_learning_rate_ && min_learning_rate_ > *max_learning_rate_) {
    std::ostringstream message;
    message << owner << ": property 'min_learning_rate' (" << min_learning_rate_
            << ") must not exceed max_learning_rate (" << *max_learning_rate_ << ")";
    throw PropertyError(message.str());
  }
}

}  // namespace edgetrain
