#include "edgetrain/rng.h"

#include <cmath>
#include <numbers>

namespace edgetrain {

float Rng::normal() {
  if (has_spare_normal_) {
    has_spare_normal_ = false;
    return spare_normal_;
  }
  // 1 - uniform() is in (0, 1], so the logarithm is finite.
  double u1 = 1.0 - static_cast<double>(engine_() >> 11) * (1.0 / 9007199254740992.0);
  double u2 = static_cast<double>(engine_() >> 11) * (1.0 / 9007199254740992.0);
  double radius = std::sqrt(-2.0 * std::log(u1));
  double angle = 2.0 * std::numbers::pi * u2;
  spare_normal_ = static_cast<float>(radius * std::sin(angle));
  has_spare_normal_ = true;
  return static_cast<float>(radius * std::cos(angle));
}

}  // namespace edgetrain
