#include "layers/conv2d_transpose.h"

#include <algorithm>
#include <cstddef>

#include "edgetrain/error.h"
#include "edgetrain/properties.h"
#include "kernels/elementwise.h"
#include "kernels/gemm.h"

namespace edgetrain {
namespace {

// One axis of the output size, for the message when it is not positive.
std::string size_formula(size_t in, size_t stride, size_t extent, size_t before, size_t after,
                         size_t output_padding, std::ptrdiff_t size) {
  return "(" + std::to_string(in) + " - 1) * stride " + std::to_string(stride) +
         " + dilated kernel " + std::to_string(extent) + " - padding " + std::to_string(before) +
         " - padding " + std::to_string(after) + " + output_padding " +
         std::to_string(output_padding) + " = " + std::to_string(size);
}

}  // namespace

bool Conv2DTransposeLayer::set_property(const std::string& key, const std::string& value,
                                        const std::string& owner) {
  if (key != "output_padding") return set_conv_property(key, value, owner);
  output_padding_ = parse_pair(value, owner, key);
  return true;
}

std::string Conv2DTransposeLayer::property_keys() const {
  return conv_property_keys() + ", output_padding";
}

void Conv2DTransposeLayer::check_properties(const FinalizeContext& context) const {
  check_conv_properties(context);
  // Larger output padding would add rows that a smaller padding already gives (PyTorch's rule).
  for (size_t axis = 0; axis < 2; ++axis) {
    if (output_padding_[axis] >= std::max(stride_[axis], dilation_[axis]))
      throw PropertyError(context.owner() + ": output_padding=" + pair_text(output_padding_) +
                          " must be smaller than stride=" + pair_text(stride_) +
                          " or dilation=" + pair_text(dilation_) + " on each axis");
  }
}

// The output size, and the conv2d geometry that maps an output-shaped image back to the
// input's H x W positions. That convolution reads the output padded by the transposed
// convolution's padding; its bottom/right pads come out negative when output_padding adds
// rows beyond the full output (see kernels/im2col.h).
kernels::ConvGeometry Conv2DTransposeLayer::make_geometry(const FinalizeContext& context) const {
  const TensorShape& input = context.input_shape();
  kernels::ConvGeometry g;
  g.kernel_h = kernel_size_[0];
  g.kernel_w = kernel_size_[1];
  g.stride_h = stride_[0];
  g.stride_w = stride_[1];
  g.dilation_h = dilation_[0];
  g.dilation_w = dilation_[1];
  const size_t extent_h = g.kernel_extent_h(), extent_w = g.kernel_extent_w();
  // "same" removes what conv2d's "same" pads onto an H * stride image to give back H.
  const auto [top, bottom, left, right] = padding_.resolve(
      input.height * stride_[0], input.width * stride_[1], {extent_h, extent_w}, stride_);
  // Every input pixel scatters a dilated kernel: the output before padding is removed.
  const auto full_h = static_cast<std::ptrdiff_t>((input.height - 1) * stride_[0] + extent_h);
  const auto full_w = static_cast<std::ptrdiff_t>((input.width - 1) * stride_[1] + extent_w);
  const auto signed_size = [](size_t value) { return static_cast<std::ptrdiff_t>(value); };
  const std::ptrdiff_t out_h = (padding_.same ? signed_size(input.height * stride_[0])
                                              : full_h - signed_size(top) - signed_size(bottom)) +
                               signed_size(output_padding_[0]);
  const std::ptrdiff_t out_w = (padding_.same ? signed_size(input.width * stride_[1])
                                              : full_w - signed_size(left) - signed_size(right)) +
                               signed_size(output_padding_[1]);
  if (out_h <= 0 || out_w <= 0)
    context.shape_error(0, "a larger height and width or less padding: the output would be " +
                               std::to_string(out_h) + "x" + std::to_string(out_w) + ", height " +
                               size_formula(input.height, stride_[0], extent_h, top, bottom,
                                            output_padding_[0], out_h) +
                               ", width " +
                               size_formula(input.width, stride_[1], extent_w, left, right,
                                            output_padding_[1], out_w));
  g.height = static_cast<size_t>(out_h);
  g.width = static_cast<size_t>(out_w);
  g.pad_top = signed_size(top);
  g.pad_left = signed_size(left);
  g.pad_bottom = full_h - g.pad_top - out_h;
  g.pad_right = full_w - g.pad_left - out_w;
  return g;
}

void Conv2DTransposeLayer::finalize(FinalizeContext& context) {
  context.expect_inputs(1, 1);
  check_properties(context);
  const TensorShape& input = context.input_shape();
  geometry_ = make_geometry(context);
  group_channels_ = input.channel / groups_;
  group_filters_ = filters_ / groups_;
  column_rows_ = group_filters_ * geometry_.kernel_size();
  positions_ = input.height * input.width;
  output_positions_ = geometry_.height * geometry_.width;
  trainable_ = context.trainable();

  const TensorShape output(input.batch, filters_, geometry_.height, geometry_.width);
  context.set_output_shape(output);
  declare_tensors(context, output);
}

void Conv2DTransposeLayer::declare_tensors(FinalizeContext& context, const TensorShape& output) {
  // PyTorch's fans for a C:(F/groups):kH:kW weight: dimension 1 (times the receptive field)
  // is the fan-in, dimension 0 the fan-out.
  const size_t fan_in = column_rows_;
  const size_t fan_out = context.input_shape().channel * geometry_.kernel_size();
  context.request_weight({"weight",
                          TensorShape(context.input_shape().channel, group_filters_,
                                      geometry_.kernel_h, geometry_.kernel_w),
                          weights_.weight_initializer, fan_in, fan_out, true});
  if (weights_.bias)
    context.request_weight(
        {"bias", TensorShape(1, 1, 1, filters_), weights_.bias_initializer, fan_in, fan_out, true});
  const TensorShape columns(1, 1, column_rows_, positions_);
  forward_columns_ = context.request_tensor("columns", columns, Lifespan::forward);
  backward_columns_ = context.request_tensor("backward_columns", columns, Lifespan::backward);
  // dL/dZ of a fused activation is computed one sample at a time; the bias gradient sums
  // per-sample channel sums, kept here.
  bias_sums_ = -1;
  if (weights_.bias && trainable_)
    bias_sums_ = static_cast<int>(context.request_tensor(
        "bias_grad_sums", TensorShape(context.batch(), 1, 1, filters_), Lifespan::backward));
  activation_.finalize(context, output, 1);
}

// Y = col2im(W_g^T * X_g) per sample and group, plus bias.
void Conv2DTransposeLayer::forward(RunContext& context) {
  const Tensor& input = context.input();
  const size_t input_sample = input.shape().feature_size();
  const size_t output_sample = filters_ * output_positions_;
  const float* weight = context.weight(0).data();
  float* columns = context.tensor(forward_columns_).data();
  float* z = activation_.pre_activation(context);
  for (size_t n = 0; n < input.batch(); ++n) {
    const float* image = input.data() + n * input_sample;
    float* out = z + n * output_sample;
    std::fill(out, out + output_sample, 0.0f);  // col2im accumulates
    for (size_t g = 0; g < groups_; ++g) {
      // columns_g[K x H*W] = W_g^T[K x C/g] * X_g[C/g x H*W], K = F/g * kH * kW
      kernels::gemm(true, false, column_rows_, positions_, group_channels_, 1.0f,
                    weight + g * group_channels_ * column_rows_, column_rows_,
                    image + g * group_channels_ * positions_, positions_, 0.0f, columns,
                    positions_);
      kernels::col2im(columns, geometry_, g * group_filters_, group_filters_, out);
    }
    if (weights_.bias)
      kernels::add_channel_bias(out, context.weight(1).data(), filters_, output_positions_);
  }
  activation_.apply(context);
}

// dW_g = sum over samples of X_g[C/g x H*W] * im2col(dZ)_g^T; the first sample overwrites
// (GEMM beta 0), later ones accumulate (beta 1). The bias gradient adds each sample's
// channel sums in sample order (as kernels::sum_channels).
void Conv2DTransposeLayer::calc_gradient(RunContext& context) {
  const bool weight = context.needs_weight_grad(0);
  const bool bias = weights_.bias && context.needs_weight_grad(1);
  if (!weight && !bias) return;
  const Tensor& input = context.input();
  const size_t input_sample = input.shape().feature_size();
  float* weight_grad = weight ? context.weight_grad(0).data() : nullptr;
  float* columns = context.tensor(backward_columns_).data();
  float* bias_sums = bias ? context.tensor(bias_sums_).data() : nullptr;
  for (size_t n = 0; n < input.batch(); ++n) {
    const float* dz = activation_.sample_pre_activation_grad(context, n, 0);
    if (bias)
      for (size_t f = 0; f < filters_; ++f)
        bias_sums[n * filters_ + f] = kernels::sum(dz + f * output_positions_, output_positions_);
    if (!weight) continue;
    const float beta = n == 0 ? 0.0f : 1.0f;
    for (size_t g = 0; g < groups_; ++g) {
      kernels::im2col(dz, geometry_, g * group_filters_, group_filters_, columns);
      kernels::gemm(false, true, group_channels_, column_rows_, positions_, 1.0f,
                    input.data() + n * input_sample + g * group_channels_ * positions_, positions_,
                    columns, positions_, beta, weight_grad + g * group_channels_ * column_rows_,
                    column_rows_);
    }
  }
  if (bias) {
    float* bias_grad = context.weight_grad(1).data();
    for (size_t f = 0; f < filters_; ++f) {
      double total = 0.0;
      for (size_t n = 0; n < input.batch(); ++n) total += bias_sums[n * filters_ + f];
      bias_grad[f] = static_cast<float>(total);
    }
  }
}

// dX_g = W_g[C/g x K] * im2col(dY)_g[K x H*W]: the forward of the matching conv2d.
void Conv2DTransposeLayer::calc_derivative(RunContext& context) {
  if (!context.needs_input_grad()) return;
  Tensor& input_grad = context.input_grad();
  const size_t input_sample = input_grad.shape().feature_size();
  const float* weight = context.weight(0).data();
  float* columns = context.tensor(backward_columns_).data();
  for (size_t n = 0; n < input_grad.batch(); ++n) {
    const float* dz = activation_.sample_pre_activation_grad(context, n, 0);
    for (size_t g = 0; g < groups_; ++g) {
      kernels::im2col(dz, geometry_, g * group_filters_, group_filters_, columns);
      kernels::gemm(false, false, group_channels_, positions_, column_rows_, 1.0f,
                    weight + g * group_channels_ * column_rows_, column_rows_, columns, positions_,
                    0.0f, input_grad.data() + n * input_sample + g * group_channels_ * positions_,
                    positions_);
    }
  }
}

}  // namespace edgetrain
