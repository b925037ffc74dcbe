#include "edgetrain/rng.h"

#include <cmath>
#include <cstdlib>
#include <numbers>
#include <sstream>

#include "edgetrain/error.h"

namespace edgetrain {

std::string Rng::state() const {
  std::ostringstream text;
  text << engine_ << ' ' << has_spare_normal_ << ' ' << std::hexfloat << spare_normal_;
  return text.str();
}

void Rng::set_state(const std::string& text) {
  std::istringstream in(text);
  std::mt19937_64 engine;
  bool has_spare = false;
  std::string spare;
  in >> engine >> has_spare >> spare;
  if (in.fail()) throw Error("random generator state is corrupt");
  engine_ = engine;
  has_spare_normal_ = has_spare;
  spare_normal_ = std::strtof(spare.c_str(), nullptr);
}

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
