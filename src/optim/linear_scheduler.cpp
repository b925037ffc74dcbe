#include "optim/linear_scheduler.h"

#include <algorithm>

namespace edgetrain {

float LinearScheduler::learning_rate(size_t iteration, float base_learning_rate) const {
  const double max = max_rate(base_learning_rate);
  const double progress =
      static_cast<double>(std::min(iteration, decay_steps())) / static_cast<double>(decay_steps());
  return static_cast<float>(max + (min_rate() - max) * progress);
}

}  // namespace edgetrain
