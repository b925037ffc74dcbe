#include "layers/losses/cross_entropy.h"

#include <numeric>

#include "edgetrain/properties.h"
#include "layers/activation_functions.h"
#include "layers/losses/log_sum_exp.h"

namespace edgetrain {

bool CrossEntropyLoss::set_property(const std::string& key, const std::string& value,
                                    const std::string& owner) {
  if (key != "label_smoothing") return false;
  // PyTorch takes [0, 1]; at 1 the label would no longer count at all.
  label_smoothing_ = parse_fraction(value, owner, key);
  return true;
}

void CrossEntropyLoss::forward(RunContext& context) {
  const Tensor& logits = context.input();
  const Tensor& label = context.label();
  const size_t classes = logits.shape().width;
  const size_t rows = logits.size() / classes;
  const double kept = 1.0 - label_smoothing_;
  const double spread = static_cast<double>(label_smoothing_) / static_cast<double>(classes);
  double total = 0.0;
  for (size_t row = 0; row < rows; ++row) {
    const float* x = logits.data() + row * classes;
    const float* y = label.data() + row * classes;
    const double log_normalizer = log_sum_exp(x, classes);
    // -sum t * log_softmax(x) = sum t * (log_normalizer - x)
    for (size_t i = 0; i < classes; ++i) total += (kept * y[i] + spread) * (log_normalizer - x[i]);
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
  const float kept = 1.0f - label_smoothing_;
  const float spread = label_smoothing_ / static_cast<float>(classes);
  activation_forward(ActivationType::softmax, logits.data(), grad.data(), logits.size(), classes);
  for (size_t row = 0; row < rows; ++row) {
    float* g = grad.data() + row * classes;
    const float* y = label.data() + row * classes;
    const float target_sum = kept * std::accumulate(y, y + classes, 0.0f) + label_smoothing_;
    for (size_t i = 0; i < classes; ++i)
      g[i] = scale * (g[i] * target_sum - (kept * y[i] + spread));
  }
}

}  // namespace edgetrain
