#include "layers/losses/bce_with_logits.h"

#include <algorithm>
#include <cmath>

#include "layers/activation_functions.h"

namespace edgetrain {

void BceWithLogitsLoss::forward(RunContext& context) {
  const Tensor& logits = context.input();
  const Tensor& label = context.label();
  double sum = 0.0;
  for (size_t i = 0; i < logits.size(); ++i) {
    const double x = logits[i];
    sum += std::max(x, 0.0) - x * label[i] + std::log1p(std::exp(-std::abs(x)));
  }
  context.output()[0] = static_cast<float>(sum / static_cast<double>(logits.size()));
}

void BceWithLogitsLoss::calc_derivative(RunContext& context) {
  const Tensor& logits = context.input();
  const Tensor& label = context.label();
  Tensor& grad = context.input_grad();
  const float scale = 1.0f / static_cast<float>(logits.size());
  activation_forward(ActivationType::sigmoid, logits.data(), grad.data(), logits.size(),
                     logits.size());
  for (size_t i = 0; i < grad.size(); ++i) grad[i] = scale * (grad[i] - label[i]);
}

}  // namespace edgetrain
