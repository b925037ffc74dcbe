#include "layers/losses/mse.h"

namespace edgetrain {

void MseLoss::forward(RunContext& context) {
  const Tensor& prediction = context.input();
  const Tensor& label = context.label();
  double sum = 0.0;
  for (size_t i = 0; i < prediction.size(); ++i) {
    const double difference = static_cast<double>(prediction[i]) - label[i];
    sum += difference * difference;
  }
  context.output()[0] = static_cast<float>(sum / prediction.size());
}

void MseLoss::calc_derivative(RunContext& context) {
  const Tensor& prediction = context.input();
  const Tensor& label = context.label();
  Tensor& grad = context.input_grad();
  const float scale = 2.0f / static_cast<float>(prediction.size());
  for (size_t i = 0; i < prediction.size(); ++i) grad[i] = scale * (prediction[i] - label[i]);
}

}  // namespace edgetrain
