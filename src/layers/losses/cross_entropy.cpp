#include "layers/losses/cross_entropy.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "layers/activation_functions.h"

namespace edgetrain {
namespace {

// log(sum_i exp(x[i])), shifted by the maximum so that no exp overflows.
double log_sum_exp(const float* x, size_t n) {
  const float max = *std::max_element(x, x + n);
  double sum = 0.0;
  for (size_t i = 0; i < n; ++i) sum += std::exp(static_cast<double>(x[i]) - max);
  return max + std::log(sum);
}

}  // namespace

void CrossEntropyLoss::forward(RunContext& context) {
  const Tensor& logits = context.input();
  const Tensor& label = context.label();
  const size_t classes = logits.shape().width;
  const size_t rows = logits.size() / classes;
  double total = 0.0;
  for (size_t row = 0; row < rows; ++row) {
    const float* x = logits.data() + row * classes;
    const float* y = label.data() + row * classes;
    const double log_normalizer = log_sum_exp(x, classes);
    // -sum y * log_softmax(x) = sum y * (log_normalizer - x)
    for (size_t i = 0; i < classes; ++i) total += y[i] * (log_normalizer - x[i]);
  }
  context.output()[0] = static_cast<float>(total / static_cast<double>(rows));
}

void CrossEntropyLoss::calc_derivative(RunContext& context) {
  const Tensor& logits = context.input();
  const Tensor& label = context.label();
  Tensor& grad = context.input_grad();
  const size_t classes = logits.shape().width;
  const size_t rows = logits.size() / classes;
  const float scale = 1.0f / static_cast<float>(rows);
  activation_forward(ActivationType::softmax, logits.data(), grad.data(), logits.size(), classes);
  for (size_t row = 0; row < rows; ++row) {
    float* g = grad.data() + row * classes;
    const float* y = label.data() + row * classes;
    const float label_sum = std::accumulate(y, y + classes, 0.0f);
    for (size_t i = 0; i < classes; ++i) g[i] = scale * (g[i] * label_sum - y[i]);
  }
}

}  // namespace edgetrain
