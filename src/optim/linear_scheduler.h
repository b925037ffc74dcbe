// linear: the rate falls in a straight line from max_learning_rate to min_learning_rate
// over decay_steps iterations, then stays at min_learning_rate:
//   lr(it) = max + (min - max) * min(it, decay_steps) / decay_steps
// `it` counts updates from 0.
// PyTorch: LinearLR(start_factor=1, end_factor=min/max, total_iters=decay_steps) with the
// optimizer's lr = max.
// Properties: max_learning_rate (default: the optimizer's learning_rate),
// min_learning_rate (0), decay_steps (required); see range_scheduler.h.
#pragma once

#include "optim/range_scheduler.h"

namespace edgetrain {

class LinearScheduler : public RangeScheduler {
 public:
  std::string type() const override { return "linear"; }
  float learning_rate(size_t iteration, float base_learning_rate) const override;
};

}  // namespace edgetrain
