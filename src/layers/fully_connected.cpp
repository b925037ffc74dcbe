#include "layers/fully_connected.h"

#include "edgetrain/error.h"
#include "edgetrain/properties.h"
#include "kernels/elementwise.h"
#include "kernels/gemm.h"

namespace edgetrain {

bool FullyConnectedLayer::set_property(const std::string& key, const std::string& value,
                                       const std::string& owner) {
  if (key == "unit" || key == "units") {
    unit_ = parse_positive(value, owner, key);
  } else {
    return weights_.set_property(key, value, owner) || activation_.set_property(key, value, owner);
  }
  return true;
}

std::string FullyConnectedLayer::property_keys() const {
  return std::string("unit, ") + WeightProperties::kKeys + ", activation";
}

void FullyConnectedLayer::finalize(FinalizeContext& context) {
  context.expect_inputs(1, 1);
  if (unit_ == 0)
    throw PropertyError(context.owner() + ": property 'unit' is required (e.g. unit=10)");
  const TensorShape& input = context.input_shape();
  in_ = input.width;
  trainable_ = context.trainable();
  const TensorShape output(input.batch, input.channel, input.height, unit_);
  context.set_output_shape(output);
  context.request_weight(
      {"weight", TensorShape(1, 1, unit_, in_), weights_.weight_initializer, in_, unit_, true});
  if (weights_.bias)
    context.request_weight(
        {"bias", TensorShape(1, 1, 1, unit_), weights_.bias_initializer, in_, unit_, true});
  activation_.finalize(context, output);
}

void FullyConnectedLayer::forward(RunContext& context) {
  const Tensor& input = context.input();
  const size_t rows = input.size() / in_;
  float* z = activation_.pre_activation(context);
  kernels::gemm(false, true, rows, unit_, in_, 1.0f, input.data(), in_, context.weight(0).data(),
                in_, 0.0f, z, unit_);
  if (weights_.bias) kernels::add_row_vector(z, context.weight(1).data(), rows, unit_);
  activation_.apply(context);
}

void FullyConnectedLayer::calc_gradient(RunContext& context) {
  const Tensor& input = context.input();
  const size_t rows = input.size() / in_;
  const float* dz = activation_.pre_activation_grad(context);
  if (context.fused_update()) {
    // weight += scale * dZ^T X and bias += scale * column sums of dZ, with scale = -lr.
    const float scale = context.update_scale();
    kernels::gemm_split_rows(true, false, unit_, in_, rows, scale, dz, unit_, input.data(), in_,
                             1.0f, context.weight(0).data(), in_);
    if (weights_.bias)
      kernels::add_scaled_column_sums(dz, scale, context.weight(1).data(), rows, unit_);
    return;
  }
  if (context.needs_weight_grad(0))
    kernels::gemm_split_rows(true, false, unit_, in_, rows, 1.0f, dz, unit_, input.data(), in_,
                             0.0f, context.weight_grad(0).data(), in_);
  if (weights_.bias && context.needs_weight_grad(1))
    kernels::sum_rows(dz, context.weight_grad(1).data(), rows, unit_);
}

void FullyConnectedLayer::calc_derivative(RunContext& context) {
  Tensor& input_grad = context.input_grad();
  const size_t rows = input_grad.size() / in_;
  const float* dz = activation_.pre_activation_grad(context);
  kernels::gemm(false, false, rows, in_, unit_, 1.0f, dz, unit_, context.weight(0).data(), in_,
                0.0f, input_grad.data(), in_);
}

}  // namespace edgetrain
