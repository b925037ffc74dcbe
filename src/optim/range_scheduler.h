// The properties shared by the schedulers that move the rate from a maximum to a minimum
// over a number of iterations (cosine, linear): max_learning_rate (>= 0, default: the
// optimizer's learning_rate), min_learning_rate (>= 0, default 0, at most
// max_learning_rate), decay_steps (>= 1, required).
#pragma once

#include <optional>

#include "edgetrain/optimizer.h"

namespace edgetrain {

class RangeScheduler : public LearningRateScheduler {
 public:
  bool set_property(const std::string& key, const std::string& value,
                    const std::string& owner) override;
  std::string property_keys() const override {
    return "max_learning_rate, min_learning_rate, decay_steps";
  }
  void validate(const std::string& owner) const override;

 protected:
  double max_rate(float base_learning_rate) const {
    return max_learning_rate_.value_or(base_learning_rate);
  }
  double min_rate() const { return min_learning_rate_; }
  size_t decay_steps() const { return decay_steps_; }

 private:
  std::optional<float> max_learning_rate_;
  float min_learning_rate_ = 0.0f;
  size_t decay_steps_ = 0;  // 0 until set
};

}  // namespace edgetrain
