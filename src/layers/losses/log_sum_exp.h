// The log-softmax normalizer shared by the softmax losses (cross_entropy, focal_loss).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>

namespace edgetrain {

// log(sum_i exp(x[i])), shifted by the maximum so that no exp overflows: log_softmax(x)[i]
// is then x[i] - log_sum_exp(x, n), with no logarithm of a (possibly zero) probability.
inline double log_sum_exp(const float* x, size_t n) {
  const float max = *std::max_element(x, x + n);
  double sum = 0.0;
  for (size_t i = 0; i < n; ++i) sum += std::exp(static_cast<double>(x[i]) - max);
  return max + std::log(sum);
}

}  // namespace edgetrain
