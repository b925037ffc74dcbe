// warmup: a linear warm-up over the first warmup_steps iterations, in front of another
// scheduler (`after`), which then runs as if training had started when warm-up ended:
//   lr(it) = after(0) * (it + 1) / warmup_steps   for it < warmup_steps
//   lr(it) = after(it - warmup_steps)             from then on
// `it` counts updates from 0. The first update uses after(0) / warmup_steps, never 0 (an
// update at rate 0 would be wasted), and the last warm-up update reaches after(0).
// PyTorch: SequentialLR([LinearLR(start_factor=1/warmup_steps, end_factor=1,
// total_iters=warmup_steps - 1), <after>], milestones=[warmup_steps]).
// Properties: warmup_steps (>= 1, required), after (a scheduler type other than warmup
// and reduce_on_plateau, default constant), and every property of the `after` scheduler, e.g.
//   Type = warmup, warmup_steps = 100, after = cosine, max_learning_rate = 0.1, ...
// Properties may come in any order: those given before `after` are held and handed to
// the `after` scheduler once it is known.
#pragma once

#include <memory>
#include <utility>
#include <vector>

#include "edgetrain/optimizer.h"

namespace edgetrain {

class WarmupScheduler : public LearningRateScheduler {
 public:
  WarmupScheduler();
  std::string type() const override { return "warmup"; }
  bool set_property(const std::string& key, const std::string& value,
                    const std::string& owner) override;
  std::string property_keys() const override;
  void validate(const std::string& owner) const override;
  float learning_rate(size_t iteration, float base_learning_rate) const override;

 private:
  // Names both schedulers in messages about the `after` scheduler's properties.
  std::string after_owner(const std::string& owner) const;
  void set_after(const std::string& value, const std::string& owner);

  size_t warmup_steps_ = 0;  // 0 until set
  std::unique_ptr<LearningRateScheduler> after_;
  bool after_given_ = false;
  // Every property handed to `after_`, replayed when `after` names another scheduler.
  std::vector<std::pair<std::string, std::string>> after_properties_;
  // Keys the default `after` (constant) does not know, which a later `after` may.
  std::vector<std::string> unclaimed_keys_;
};

}  // namespace edgetrain
