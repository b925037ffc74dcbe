// step: piecewise-constant rates, in either of two forms.
//
// PyTorch's MultiStepLR: milestones=m1,m2,... (increasing iterations) and gamma multiply
// the rate by gamma at each milestone reached:
//   lr(it) = lr0 * gamma ^ (number of milestones <= it)
// lr0 is the learning_rate property, else the optimizer's learning_rate.
//
// NNTrainer's step scheduler: learning_rate=r0,r1,...,rn with iteration=i1,...,in gives
// r0 up to and including iteration i1, r1 after i1 up to and including i2, ..., rn after in:
//   lr(it) = r_k, k = number of i_j < it
// Note the convention differs by one from milestones: iteration=i is the last iteration
// at the old rate, milestones=m the first at the new one.
//
// `it` counts updates from 0. Properties: milestones, gamma (>= 0, default 0.1),
// learning_rate (one number >= 0, default: the optimizer's) for the first form;
// learning_rate (n + 1 numbers) with iteration (n increasing iterations) for the second.
#pragma once

#include <optional>
#include <vector>

#include "edgetrain/optimizer.h"

namespace edgetrain {

class StepScheduler : public LearningRateScheduler {
 public:
  std::string type() const override { return "step"; }
  bool set_property(const std::string& key, const std::string& value,
                    const std::string& owner) override;
  std::string property_keys() const override {
    return "milestones, gamma, learning_rate, iteration";
  }
  void validate(const std::string& owner) const override;
  float learning_rate(size_t iteration, float base_learning_rate) const override;

 private:
  std::vector<size_t> milestones_;
  std::optional<float> gamma_;  // 0.1 when unset; kept unset to reject it beside `iteration`
  std::vector<float> learning_rates_;
  std::vector<size_t> iterations_;  // NNTrainer's form
};

}  // namespace edgetrain
