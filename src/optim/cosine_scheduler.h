// cosine: cosine annealing from max_learning_rate down to min_learning_rate over
// decay_steps iterations, restarting at the maximum every decay_steps (SGDR, Loshchilov &
// Hutter):
//   lr(it) = min + (max - min) / 2 * (1 + cos(pi * (it mod decay_steps) / decay_steps))
// `it` counts updates from 0.
// PyTorch: CosineAnnealingWarmRestarts(T_0=decay_steps, T_mult=1, eta_min=min) with the
// optimizer's lr = max.
// Properties: max_learning_rate (default: the optimizer's learning_rate),
// min_learning_rate (0), decay_steps (required); see range_scheduler.h.
#pragma once

#include "optim/range_scheduler.h"

namespace edgetrain {

class CosineScheduler : public RangeScheduler {
 public:
  std::string type() const override { return "cosine"; }
  float learning_rate(size_t iteration, float base_learning_rate) const override;
};

}  // namespace edgetrain
