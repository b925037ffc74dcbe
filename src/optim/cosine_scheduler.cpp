#include "optim/cosine_scheduler.h"

#include <cmath>
#include <numbers>

namespace edgetrain {

float CosineScheduler::learning_rate(size_t iteration, float base_learning_rate) const {
  const double max = max_rate(base_learning_rate);
  const double progress =
      static_cast<double>(iteration % decay_steps()) / static_cast<double>(decay_steps());
  return static_cast<float>(min_rate() + (max - min_rate()) *
                                             (1.0 + std::cos(std::numbers::pi * progress)) / 2.0);
}

}  // namespace edgetrain
