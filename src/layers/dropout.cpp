#include "layers/dropout.h"

#include "edgetrain/error.h"
#include "edgetrain/properties.h"
#include "kernels/elementwise.h"

namespace edgetrain {

bool DropoutLayer::set_property(const std::string& key, const std::string& value,
                                const std::string& owner) {
  if (key != "dropout_rate" && key != "rate") return false;
  // A rate of 1 would drop everything and make the 1 / (1 - rate) scale infinite.
  rate_ = parse_fraction(value, owner, key);
  return true;
}

void DropoutLayer::finalize(FinalizeContext& context) {
  context.expect_inputs(1, 1);
  const TensorShape& input = context.input_shape();
  context.set_output_shape(input);
  mask_ = -1;
  // Requested tensors keep their declared shape: sized for the compiled batch, of which
  // a smaller last batch uses the first samples.
  if (rate_ > 0.0f)
    mask_ = static_cast<int>(context.request_tensor("mask", input.with_batch(context.batch()),
                                                    Lifespan::forward_to_backward));
}

void DropoutLayer::forward(RunContext& context) {
  const Tensor& input = context.input();
  Tensor& output = context.output();
  if (!dropping(context)) {
    output.copy_from(input);
    return;
  }
  const float scale = 1.0f / (1.0f - rate_);
  float* mask = context.tensor(mask_).data();
  Rng& rng = context.rng();
  for (size_t i = 0; i < input.size(); ++i) mask[i] = rng.uniform() < rate_ ? 0.0f : scale;
  kernels::multiply(input.data(), mask, output.data(), input.size());
}

void DropoutLayer::calc_derivative(RunContext& context) {
  if (!context.needs_input_grad()) return;
  const Tensor& output_grad = context.output_grad();
  Tensor& input_grad = context.input_grad();
  if (!dropping(context)) {
    input_grad.copy_from(output_grad);
    return;
  }
  kernels::multiply(output_grad.data(), context.tensor(mask_).data(), input_grad.data(),
                    output_grad.size());
}

}  // namespace edgetrain
