#include "layers/conv2d.h"

#include <algorithm>
#include <cctype>

#include "edgetrain/error.h"
#include "edgetrain/properties.h"
#include "kernels/elementwise.h"
#include "kernels/gemm.h"

namespace edgetrain {
namespace {

// The requested tensor `index`, or null when it was not requested (-1).
float* optional_tensor(RunContext& context, int index) {
  return index >= 0 ? context.tensor(index).data() : nullptr;
}

}  // namespace

bool Conv2DLayer::set_property(const std::string& key, const std::string& value,
                               const std::string& owner) {
  if (key == "filters") {
    filters_ = parse_positive(value, owner, key);
  } else if (key == "kernel_size") {
    kernel_size_ = parse_positive_pair(value, owner, key);
  } else if (key == "stride") {
    stride_ = parse_positive_pair(value, owner, key);
  } else if (key == "dilation") {
    dilation_ = parse_positive_pair(value, owner, key);
  } else if (key == "groups") {
    groups_ = parse_positive(value, owner, key);
  } else if (key == "padding") {
    padding_ = Padding2D::parse(value, owner, key);
  } else {
    return weights_.set_property(key, value, owner) || activation_.set_property(key, value, owner);
  }
  return true;
}

std::string Conv2DLayer::property_keys() const {
  return std::string("filters, kernel_size, stride, dilation, groups, padding, ") +
         WeightProperties::kKeys + ", activation";
}

void Conv2DLayer::check_properties(const FinalizeContext& context) const {
  if (filters_ == 0)
    throw PropertyError(context.owner() + ": property 'filters' is required (e.g. filters=8)");
  if (kernel_size_[0] == 0)
    throw PropertyError(context.owner() +
                        ": property 'kernel_size' is required (e.g. kernel_size=3,3)");
  if (filters_ % groups_ != 0)
    throw PropertyError(context.owner() + ": filters=" + std::to_string(filters_) +
                        " is not divisible by groups=" + std::to_string(groups_));
  if (context.input_shape().channel % groups_ != 0)
    context.shape_error(0, "a channel count divisible by groups=" + std::to_string(groups_));
}

kernels::ConvGeometry Conv2DLayer::make_geometry(const FinalizeContext& context) const {
  const TensorShape& input = context.input_shape();
  kernels::ConvGeometry g;
  g.height = input.height;
  g.width = input.width;
  g.kernel_h = kernel_size_[0];
  g.kernel_w = kernel_size_[1];
  g.stride_h = stride_[0];
  g.stride_w = stride_[1];
  g.dilation_h = dilation_[0];
  g.dilation_w = dilation_[1];
  const auto [top, bottom, left, right] = padding_.resolve(
      g.height, g.width, {g.kernel_extent_h(), g.kernel_extent_w()}, stride_);
  g.pad_top = top;
  g.pad_bottom = bottom;
  g.pad_left = left;
  g.pad_right = right;
  if (!g.fits())
    context.shape_error(
        0, "height and width, after padding (top " + std::to_string(g.pad_top) + ", bottom " +
               std::to_string(g.pad_bottom) + ", left " + std::to_string(g.pad_left) + ", right " +
               std::to_string(g.pad_right) + "), of at least the dilated kernel " +
               std::to_string(g.kernel_extent_h()) + "x" + std::to_string(g.kernel_extent_w()) +
               " (kernel_size=" + pair_text(kernel_size_) + ", dilation=" + pair_text(dilation_) +
               ")");
  return g;
}

void Conv2DLayer::finalize(FinalizeContext& context) {
  context.expect_inputs(1, 1);
  check_properties(context);
  const TensorShape& input = context.input_shape();
  geometry_ = make_geometry(context);
  group_channels_ = input.channel / groups_;
  group_filters_ = filters_ / groups_;
  column_rows_ = group_channels_ * geometry_.kernel_size();
  positions_ = geometry_.out_h() * geometry_.out_w();
  pointwise_ =
      geometry_.kernel_size() == 1 && stride_ == std::array<size_t, 2>{1, 1} &&
      geometry_.pad_top + geometry_.pad_bottom + geometry_.pad_left + geometry_.pad_right == 0;
  trainable_ = context.trainable();

  const TensorShape output(input.batch, filters_, geometry_.out_h(), geometry_.out_w());
  context.set_output_shape(output);
  declare_tensors(context, output);
}

void Conv2DLayer::declare_tensors(FinalizeContext& context, const TensorShape& output) {
  // PyTorch's fans for a conv weight: receptive field times in/groups and out channels.
  const size_t fan_in = column_rows_;
  const size_t fan_out = filters_ * geometry_.kernel_size();
  context.request_weight(
      {"weight", TensorShape(filters_, group_channels_, geometry_.kernel_h, geometry_.kernel_w),
       weights_.weight_initializer, fan_in, fan_out, true});
  if (weights_.bias)
    context.request_weight(
        {"bias", TensorShape(1, 1, 1, filters_), weights_.bias_initializer, fan_in, fan_out, true});
  forward_columns_ = backward_columns_ = -1;
  if (!pointwise_) {
    const TensorShape columns(1, 1, column_rows_, positions_);
    forward_columns_ =
        static_cast<int>(context.request_tensor("columns", columns, Lifespan::forward));
    backward_columns_ =
        static_cast<int>(context.request_tensor("backward_columns", columns, Lifespan::backward));
  }
  activation_.finalize(context, output);
}

const float* Conv2DLayer::group_columns(const float* image, size_t g, float* buffer) const {
  if (pointwise_) return image + g * group_channels_ * positions_;
  kernels::im2col(image, geometry_, g * group_channels_, group_channels_, buffer);
  return buffer;
}

void Conv2DLayer::forward(RunContext& context) {
  const Tensor& input = context.input();
  const size_t input_sample = input.shape().feature_size();
  const size_t output_sample = filters_ * positions_;
  const float* weight = context.weight(0).data();
  float* columns = optional_tensor(context, forward_columns_);
  float* z = activation_.pre_activation(context);
  for (size_t n = 0; n < input.batch(); ++n) {
    const float* image = input.data() + n * input_sample;
    float* out = z + n * output_sample;
    for (size_t g = 0; g < groups_; ++g) {
      // out_g[O/g x OH*OW] = W_g[O/g x K] * columns_g[K x OH*OW]
      kernels::gemm(false, false, group_filters_, positions_, column_rows_, 1.0f,
                    weight + g * group_filters_ * column_rows_, column_rows_,
                    group_columns(image, g, columns), positions_, 0.0f,
                    out + g * group_filters_ * positions_, positions_);
    }
    if (weights_.bias)
      kernels::add_channel_bias(out, context.weight(1).data(), filters_, positions_);
  }
  activation_.apply(context);
}

void Conv2DLayer::calc_gradient(RunContext& context) {
  const float* output_grad = activation_.pre_activation_grad(context);
  if (context.needs_weight_grad(0)) weight_gradient(context, output_grad);
  if (weights_.bias && context.needs_weight_grad(1))
    kernels::sum_channels(output_grad, context.weight_grad(1).data(), context.output_grad().batch(),
                          filters_, positions_);
}

// dW_g = sum over samples of dY_g[O/g x OH*OW] * columns_g^T; the first sample
// overwrites (GEMM beta 0), later ones accumulate (beta 1).
void Conv2DLayer::weight_gradient(RunContext& context, const float* output_grad) const {
  const Tensor& input = context.input();
  const size_t input_sample = input.shape().feature_size();
  const size_t output_sample = filters_ * positions_;
  float* weight_grad = context.weight_grad(0).data();
  float* columns = optional_tensor(context, backward_columns_);
  for (size_t n = 0; n < input.batch(); ++n) {
    const float beta = n == 0 ? 0.0f : 1.0f;
    for (size_t g = 0; g < groups_; ++g) {
      kernels::gemm(false, true, group_filters_, column_rows_, positions_, 1.0f,
                    output_grad + n * output_sample + g * group_filters_ * positions_, positions_,
                    group_columns(input.data() + n * input_sample, g, columns), positions_, beta,
                    weight_grad + g * group_filters_ * column_rows_, column_rows_);
    }
  }
}

// dX = col2im(W_g^T * dY_g) per sample and group. Pointwise, the GEMM writes dX directly.
void Conv2DLayer::calc_derivative(RunContext& context) {
  if (!context.needs_input_grad()) return;
  Tensor& input_grad = context.input_grad();
  const size_t input_sample = input_grad.shape().feature_size();
  const size_t output_sample = filters_ * positions_;
  const float* weight = context.weight(0).data();
  const float* output_grad = activation_.pre_activation_grad(context);
  float* columns = optional_tensor(context, backward_columns_);
  if (!pointwise_) input_grad.fill(0.0f);  // col2im accumulates
  for (size_t n = 0; n < input_grad.batch(); ++n) {
    float* image_grad = input_grad.data() + n * input_sample;
    for (size_t g = 0; g < groups_; ++g) {
      float* target = pointwise_ ? image_grad + g * group_channels_ * positions_ : columns;
      // columns_g[K x OH*OW] = W_g^T[K x O/g] * dY_g[O/g x OH*OW]
      kernels::gemm(true, false, column_rows_, positions_, group_filters_, 1.0f,
                    weight + g * group_filters_ * column_rows_, column_rows_,
                    output_grad + n * output_sample + g * group_filters_ * positions_, positions_,
                    0.0f, target, positions_);
      if (!pointwise_)
        kernels::col2im(columns, geometry_, g * group_channels_, group_channels_, image_grad);
    }
  }
}

}  // namespace edgetrain
