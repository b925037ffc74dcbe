// constant: the optimizer's learning_rate at every iteration, or this scheduler's own
// learning_rate property (>= 0) when it is set.
#pragma once

#include "edgetrain/optimizer.h"

namespace edgetrain {

class ConstantScheduler : public LearningRateScheduler {
 public:
  std::string type() const override { return "constant"; }
  bool set_property(const std::string& key, const std::string& value,
                    const std::string& owner) override;
  std::string property_keys() const override { return "learning_rate"; }
  float learning_rate(size_t, float base_learning_rate) const override {
    return has_learning_rate_ ? learning_rate_ : base_learning_rate;
  }

 private:
  float learning_rate_ = 0.0f;
  bool has_learning_rate_ = false;
};

}  // namespace edgetrain
