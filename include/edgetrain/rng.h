// The one source of randomness. Same seed, same bits: the distributions are written
// here rather than taken from <random>, whose distributions differ between standard
// libraries (normal() uses the C library's log/sin/cos, exact to the last bit only
// within one C library).
#pragma once

#include <cstdint>
#include <random>
#include <string>

#include "edgetrain/error.h"

namespace edgetrain {

class Rng {
 public:
  explicit Rng(uint64_t seed = 0) : engine_(seed) {}

  void seed(uint64_t seed) {
    engine_.seed(seed);
    has_spare_normal_ = false;
  }
  uint64_t next_u64() { return engine_(); }
  // The whole generator state as text, for checkpoints; set_state restores it exactly.
  // set_state throws Error on text that state() did not produce.
  std::string state() const;
  void set_state(const std::string& text);
  // Uniform in [0, 1) with 24 random bits, exactly representable in float.
  float uniform() { return static_cast<float>(engine_() >> 40) * (1.0f / 16777216.0f); }
  float uniform(float low, float high) { return low + (high - low) * uniform(); }
  // Standard normal by the Box-Muller transform.
  float normal();
  float normal(float mean, float stddev) { return mean + stddev * normal(); }
  // Uniform integer in [0, n).
  uint64_t below(uint64_t n) {
    ET_ASSERT(n > 0, "Rng::below(0)");
    return engine_() % n;
  }

 private:
  std::mt19937_64 engine_;
  bool has_spare_normal_ = false;
  float spare_normal_ = 0.0f;
};

}  // namespace edgetrain
