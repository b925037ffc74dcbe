#include "optim/warmup_scheduler.h"

#include <algorithm>

#include "edgetrain/error.h"
#include "edgetrain/properties.h"
#include "optim/registry.h"
#include "optim/scheduler_properties.h"

namespace edgetrain {

WarmupScheduler::WarmupScheduler() : after_(new_scheduler("constant")) {}

std::string WarmupScheduler::after_owner(const std::string& owner) const {
  return owner + " (after = " + after_->type() + ")";
}

bool WarmupScheduler::set_property(const std::string& key, const std::string& value,
                                   const std::string& owner) {
  if (key == "warmup_steps") {
    warmup_steps_ = parse_positive(value, owner, key);
    return true;
  }
  if (key == "after") {
    set_after(value, owner);
    return true;
  }
  const bool known = after_->set_property(key, value, after_owner(owner));
  if (!known && after_given_) return false;
  after_properties_.emplace_back(key, value);
  if (!known) unclaimed_keys_.push_back(key);
  return true;
}

void WarmupScheduler::set_after(const std::string& value, const std::string& owner) {
  const std::string type = to_lower(value);
  std::vector<std::string> choices = scheduler_types();
  // A warm-up after a warm-up is one longer warm-up with a kink: not worth allowing.
  std::erase(choices, "warmup");
  // reduce_on_plateau follows epochs, not iterations, so there is no start to shift.
  std::erase(choices, "reduce_on_plateau");
  if (std::find(choices.begin(), choices.end(), type) == choices.end()) {
    std::string list;
    for (const std::string& choice : choices) list += (list.empty() ? "" : ", ") + choice;
    throw PropertyError(
        owner + ": property 'after' has bad value '" + value +
        "': expected a scheduler type other than warmup and reduce_on_plateau: " + list);
  }
  after_ = new_scheduler(type);
  after_given_ = true;
  unclaimed_keys_.clear();
  for (const auto& [key, held_value] : after_properties_)
    if (!after_->set_property(key, held_value, after_owner(owner)))
      throw_unknown_property(after_owner(owner), key, property_keys());
}

std::string WarmupScheduler::property_keys() const {
  return "warmup_steps, after, " + after_->property_keys();
}

void WarmupScheduler::validate(const std::string& owner) const {
  if (!unclaimed_keys_.empty())
    throw_unknown_property(owner, unclaimed_keys_.front(), property_keys());
  if (warmup_steps_ == 0) throw_missing_property(owner, "warmup_steps");
  after_->validate(after_owner(owner));
}

float WarmupScheduler::learning_rate(size_t iteration, float base_learning_rate) const {
  if (iteration >= warmup_steps_)
    return after_->learning_rate(iteration - warmup_steps_, base_learning_rate);
  const double target = after_->learning_rate(0, base_learning_rate);
  return static_cast<float>(target * static_cast<double>(iteration + 1) /
                            static_cast<double>(warmup_steps_));
}

}  // namespace edgetrain
