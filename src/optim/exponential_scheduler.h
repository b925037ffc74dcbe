// exponential: decays the rate by decay_rate every decay_steps iterations, continuously
// (NNTrainer's and TensorFlow's ExponentialDecay):
//   lr(it) = lr0 * decay_rate ^ (it / decay_steps)
// or, with staircase=true, by whole steps: lr0 * decay_rate ^ floor(it / decay_steps).
// lr0 is the learning_rate property, else the optimizer's learning_rate; `it` counts
// updates from 0.
// PyTorch: decay_steps = 1 is ExponentialLR(gamma=decay_rate); staircase=true is
// StepLR(step_size=decay_steps, gamma=decay_rate).
// Properties: decay_rate (> 0, required), decay_steps (>= 1, default 1), staircase
// (false), learning_rate (>= 0, default: the optimizer's).
#pragma once

#include <optional>

#include "edgetrain/optimizer.h"

namespace edgetrain {

class ExponentialScheduler : public LearningRateScheduler {
 public:
  std::string type() const override { return "exponential"; }
  bool set_property(const std::string& key, const std::string& value,
                    const std::string& owner) override;
  std::string property_keys() const override {
    return "decay_rate, decay_steps, staircase, learning_rate";
  }
  void validate(const std::string& owner) const override;
  float learning_rate(size_t iteration, float base_learning_rate) const override;

 private:
  std::optional<float> decay_rate_;
  size_t decay_steps_ = 1;
  bool staircase_ = false;
  std::optional<float> learning_rate_;
};

}  // namespace edgetrain
