#include "optim/constant_scheduler.h"

#include "edgetrain/properties.h"

namespace edgetrain {

bool ConstantScheduler::set_property(const std::string& key, const std::string& value,
                                     const std::string& owner) {
  if (key != "learning_rate" && key != "lr") return false;
  learning_rate_ = parse_non_negative_float(value, owner, key);
  has_learning_rate_ = true;
  return true;
}

}  // namespace edgetrain
