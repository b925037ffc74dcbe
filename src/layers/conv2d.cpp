#include "layers/conv2d.h"

#include <algorithm>

#include "edgetrain/error.h"
#include "edgetrain/properties.h"
#include "kernels/elementwise.h"
#include "kernels/gemm.h"
#include "kernels/threads.h"

namespace edgetrain {
namespace {

// The requested tensor `index`, or null when it was not requested (-1).
float* optional_tensor(RunContext& context, int index) {
  return index >= 0 ? context.tensor(index).data() : nullptr;
}

// First sample of chunk `chunk` when `batch` samples are cut into `chunks` contiguous runs.
size_t chunk_begin(size_t batch, size_t chunks, size_t chunk) { return batch * chunk / chunks; }

// Adds bias[f] to `count` values of every channel f, channel f's starting at f * stride.
void add_channel_bias_strided(float* x, const float* bias, size_t channels, size_t count,
                              size_t stride) {
  for (size_t f = 0; f < channels; ++f) {
    float* __restrict row = x + f * stride;
    const float b = bias[f];
    for (size_t i = 0; i < count; ++i) row[i] += b;
  }
}

}  // namespace

bool Conv2DLayer::set_property(const std::string& key, const std::string& value,
                               const std::string& owner) {
  return set_conv_property(key, value, owner);
}

std::string Conv2DLayer::property_keys() const { return conv_property_keys(); }

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
  const auto [top, bottom, left, right] =
      padding_.resolve(g.height, g.width, {g.kernel_extent_h(), g.kernel_extent_w()}, stride_);
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
  check_conv_properties(context);
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
  // The per-sample loops run on up to slots_ threads, each with its own columns; the
  // weight gradient sums gradient_chunks_ fixed chunks of the batch, chunk 0 into the
  // gradient itself and the others into partial sums (kernels/threads.h).
  slots_ = std::min<size_t>(static_cast<size_t>(kernels::max_threads()), context.batch());
  gradient_chunks_ = std::min(kernels::kGradientChunks, context.batch());
  forward_columns_ = backward_columns_ = weight_partials_ = bias_sums_ = -1;
  if (gradient_chunks_ > 1 && trainable_)
    weight_partials_ = static_cast<int>(context.request_tensor(
        "weight_grad_partials", TensorShape(gradient_chunks_ - 1, 1, filters_, column_rows_),
        Lifespan::backward));
  if (!pointwise_) {
    const TensorShape columns(slots_, 1, column_rows_, positions_);
    forward_columns_ =
        static_cast<int>(context.request_tensor("columns", columns, Lifespan::forward));
    backward_columns_ =
        static_cast<int>(context.request_tensor("backward_columns", columns, Lifespan::backward));
  }
  // dL/dZ of a fused activation is computed per sample inside the loops, into per-thread
  // scratch; the bias gradient then sums per-sample channel sums, kept here.
  if (weights_.bias && trainable_)
    bias_sums_ = static_cast<int>(context.request_tensor(
        "bias_grad_sums", TensorShape(context.batch(), 1, 1, filters_), Lifespan::backward));
  activation_.finalize(context, output, slots_);
}

const float* Conv2DLayer::group_columns(const float* image, size_t g, float* buffer) const {
  if (pointwise_) return image + g * group_channels_ * positions_;
  kernels::im2col(image, geometry_, g * group_channels_, group_channels_, buffer);
  return buffer;
}

void Conv2DLayer::forward(RunContext& context) {
  if (context.input().batch() == 1) {
    forward_one_image(context);
    return;
  }
  const Tensor& input = context.input();
  const size_t input_sample = input.shape().feature_size();
  const size_t output_sample = filters_ * positions_;
  const float* weight = context.weight(0).data();
  const float* bias = weights_.bias ? context.weight(1).data() : nullptr;
  float* columns = optional_tensor(context, forward_columns_);
  float* z = activation_.pre_activation(context);
  const size_t batch = input.batch();
  const size_t chunks = std::min(slots_, batch);
  const size_t work = batch * output_sample * column_rows_;
  kernels::parallel_chunks(chunks, slots_, work, [&](size_t chunk, size_t slot) {
    float* scratch = columns ? columns + slot * column_rows_ * positions_ : nullptr;
    for (size_t n = chunk_begin(batch, chunks, chunk); n < chunk_begin(batch, chunks, chunk + 1);
         ++n) {
      const float* image = input.data() + n * input_sample;
      float* out = z + n * output_sample;
      for (size_t g = 0; g < groups_; ++g) {
        // out_g[O/g x OH*OW] = W_g[O/g x K] * columns_g[K x OH*OW]
        kernels::gemm(false, false, group_filters_, positions_, column_rows_, 1.0f,
                      weight + g * group_filters_ * column_rows_, column_rows_,
                      group_columns(image, g, scratch), positions_, 0.0f,
                      out + g * group_filters_ * positions_, positions_);
      }
      if (bias) kernels::add_channel_bias(out, bias, filters_, positions_);
      activation_.apply_sample(context, n);  // while the sample is in cache
    }
  });
}

// dW_g = sum over samples of dZ_g[O/g x OH*OW] * columns_g^T. Each of the fixed chunks of
// the batch sums into its own buffer (its first sample overwrites with GEMM beta 0, the
// others accumulate with beta 1); the chunks' sums are then added in chunk order. The
// chunks do not follow the thread count, so neither does the result. The bias gradient
// adds each sample's channel sums in sample order (as kernels::sum_channels).
void Conv2DLayer::calc_gradient(RunContext& context) {
  const bool weight = context.needs_weight_grad(0);
  const bool bias = weights_.bias && context.needs_weight_grad(1);
  if (!weight && !bias) return;
  if (context.input().batch() == 1) {
    gradient_one_image(context, weight, bias);
    return;
  }
  const Tensor& input = context.input();
  const size_t input_sample = input.shape().feature_size();
  const size_t output_sample = filters_ * positions_;
  const size_t weight_size = filters_ * column_rows_;
  float* weight_grad = weight ? context.weight_grad(0).data() : nullptr;
  float* partials = optional_tensor(context, weight_partials_);
  float* columns = optional_tensor(context, backward_columns_);
  float* bias_sums = bias ? context.tensor(bias_sums_).data() : nullptr;
  const size_t batch = input.batch();
  const size_t chunks = std::min(gradient_chunks_, batch);
  const size_t work = batch * output_sample * column_rows_;
  kernels::parallel_chunks(chunks, slots_, work, [&](size_t chunk, size_t slot) {
    float* sum = !weight || chunk == 0 ? weight_grad : partials + (chunk - 1) * weight_size;
    float* scratch = columns ? columns + slot * column_rows_ * positions_ : nullptr;
    const size_t first = chunk_begin(batch, chunks, chunk);
    for (size_t n = first; n < chunk_begin(batch, chunks, chunk + 1); ++n) {
      const float* dz = activation_.sample_pre_activation_grad(context, n, slot);
      if (bias)
        for (size_t f = 0; f < filters_; ++f)
          bias_sums[n * filters_ + f] = kernels::sum(dz + f * positions_, positions_);
      if (!weight) continue;
      const float beta = n == first ? 0.0f : 1.0f;
      for (size_t g = 0; g < groups_; ++g) {
        kernels::gemm(false, true, group_filters_, column_rows_, positions_, 1.0f,
                      dz + g * group_filters_ * positions_, positions_,
                      group_columns(input.data() + n * input_sample, g, scratch), positions_, beta,
                      sum + g * group_filters_ * column_rows_, column_rows_);
      }
    }
  });
  if (weight)
    for (size_t chunk = 1; chunk < chunks; ++chunk)
      kernels::add_inplace(weight_grad, partials + (chunk - 1) * weight_size, weight_size);
  if (bias) {
    float* bias_grad = context.weight_grad(1).data();
    for (size_t f = 0; f < filters_; ++f) {
      double total = 0.0;
      for (size_t n = 0; n < batch; ++n) total += bias_sums[n * filters_ + f];
      bias_grad[f] = static_cast<float>(total);
    }
  }
}

// dX = col2im(W_g^T * dY_g) per sample and group. Pointwise, the GEMM writes dX directly.
void Conv2DLayer::calc_derivative(RunContext& context) {
  if (!context.needs_input_grad()) return;
  if (context.input_grad().batch() == 1) {
    derivative_one_image(context);
    return;
  }
  Tensor& input_grad = context.input_grad();
  const size_t input_sample = input_grad.shape().feature_size();
  const size_t output_sample = filters_ * positions_;
  const float* weight = context.weight(0).data();
  float* columns = optional_tensor(context, backward_columns_);
  if (!pointwise_) input_grad.fill(0.0f);  // col2im accumulates
  const size_t batch = input_grad.batch();
  const size_t chunks = std::min(slots_, batch);
  const size_t work = batch * output_sample * column_rows_;
  kernels::parallel_chunks(chunks, slots_, work, [&](size_t chunk, size_t slot) {
    float* scratch = columns ? columns + slot * column_rows_ * positions_ : nullptr;
    for (size_t n = chunk_begin(batch, chunks, chunk); n < chunk_begin(batch, chunks, chunk + 1);
         ++n) {
      float* image_grad = input_grad.data() + n * input_sample;
      const float* dz = activation_.sample_pre_activation_grad(context, n, slot);
      for (size_t g = 0; g < groups_; ++g) {
        float* target = pointwise_ ? image_grad + g * group_channels_ * positions_ : scratch;
        // columns_g[K x OH*OW] = W_g^T[K x O/g] * dY_g[O/g x OH*OW]
        kernels::gemm(true, false, column_rows_, positions_, group_filters_, 1.0f,
                      weight + g * group_filters_ * column_rows_, column_rows_,
                      dz + g * group_filters_ * positions_, positions_, 0.0f, target, positions_);
        if (!pointwise_)
          kernels::col2im(scratch, geometry_, g * group_channels_, group_channels_, image_grad);
      }
    }
  });
}

// One image: the per-sample loops would run it on one thread, so its convolution is cut
// into kImageParts fixed parts instead, forward by output rows (column blocks of the
// output), gradient and derivative by input channels (column blocks of dW, row blocks of
// the column matrix); every part writes its own outputs and its own block of the columns.
// The parts follow the shape alone, so the result does not follow the thread count.
size_t Conv2DLayer::image_parts(size_t extent) { return std::min(kImageParts, extent); }

void Conv2DLayer::forward_one_image(RunContext& context) {
  const float* image = context.input().data();
  const float* weight = context.weight(0).data();
  const float* bias = weights_.bias ? context.weight(1).data() : nullptr;
  float* columns = optional_tensor(context, forward_columns_);
  float* z = activation_.pre_activation(context);
  const size_t out_h = geometry_.out_h(), out_w = geometry_.out_w();
  const size_t parts = image_parts(out_h);
  const size_t work = filters_ * positions_ * column_rows_;
  kernels::parallel_chunks(parts, parts, work, [&](size_t part, size_t) {
    const size_t row_begin = chunk_begin(out_h, parts, part);
    const size_t row_end = chunk_begin(out_h, parts, part + 1);
    const size_t first = row_begin * out_w, count = (row_end - row_begin) * out_w;
    float* block = columns ? columns + column_rows_ * first : nullptr;
    for (size_t g = 0; g < groups_; ++g) {
      const float* b = image + g * group_channels_ * positions_ + first;
      size_t ldb = positions_;
      if (!pointwise_) {
        kernels::im2col_output_rows(image, geometry_, g * group_channels_, group_channels_,
                                    row_begin, row_end, block);
        b = block;
        ldb = count;
      }
      kernels::gemm(false, false, group_filters_, count, column_rows_, 1.0f,
                    weight + g * group_filters_ * column_rows_, column_rows_, b, ldb, 0.0f,
                    z + g * group_filters_ * positions_ + first, positions_);
    }
    if (bias) add_channel_bias_strided(z + first, bias, filters_, count, positions_);
  });
  activation_.apply_sample(context, 0);
}

template <typename Body>
void Conv2DLayer::for_each_channel_part(float* columns, Body&& body) const {
  const size_t kernel_size = geometry_.kernel_size();
  const size_t parts = image_parts(group_channels_);
  const size_t work = filters_ * positions_ * column_rows_;
  kernels::parallel_chunks(parts, parts, work, [&](size_t part, size_t) {
    ChannelPart p;
    p.channel_begin = chunk_begin(group_channels_, parts, part);
    p.channels = chunk_begin(group_channels_, parts, part + 1) - p.channel_begin;
    p.row_begin = p.channel_begin * kernel_size;
    p.rows = p.channels * kernel_size;
    p.block = columns ? columns + p.row_begin * positions_ : nullptr;
    body(p);
  });
}

void Conv2DLayer::gradient_one_image(RunContext& context, bool weight, bool bias) {
  const float* image = context.input().data();
  const float* dz = activation_.sample_pre_activation_grad(context, 0, 0);
  if (bias) {
    float* bias_grad = context.weight_grad(1).data();
    for (size_t f = 0; f < filters_; ++f)
      bias_grad[f] = static_cast<float>(kernels::sum(dz + f * positions_, positions_));
  }
  if (!weight) return;
  float* weight_grad = context.weight_grad(0).data();
  float* columns = optional_tensor(context, backward_columns_);
  for_each_channel_part(columns, [&](const ChannelPart& part) {
    const auto [channel_begin, channels, row_begin, rows, block] = part;
    for (size_t g = 0; g < groups_; ++g) {
      const size_t first_channel = g * group_channels_ + channel_begin;
      const float* b = image + first_channel * positions_;
      if (!pointwise_) {
        kernels::im2col(image, geometry_, first_channel, channels, block);
        b = block;
      }
      // dW_g[:, rows] = dZ_g[O/g x OH*OW] * columns_g[rows]^T
      kernels::gemm(false, true, group_filters_, rows, positions_, 1.0f,
                    dz + g * group_filters_ * positions_, positions_, b, positions_, 0.0f,
                    weight_grad + g * group_filters_ * column_rows_ + row_begin, column_rows_);
    }
  });
}

void Conv2DLayer::derivative_one_image(RunContext& context) {
  Tensor& input_grad = context.input_grad();
  float* image_grad = input_grad.data();
  const float* weight = context.weight(0).data();
  const float* dz = activation_.sample_pre_activation_grad(context, 0, 0);
  float* columns = optional_tensor(context, backward_columns_);
  if (!pointwise_) input_grad.fill(0.0f);  // col2im accumulates
  for_each_channel_part(columns, [&](const ChannelPart& part) {
    const auto [channel_begin, channels, row_begin, rows, block] = part;
    for (size_t g = 0; g < groups_; ++g) {
      const size_t first_channel = g * group_channels_ + channel_begin;
      float* target = pointwise_ ? image_grad + first_channel * positions_ : block;
      // columns_g[rows] = W_g[:, rows]^T * dY_g[O/g x OH*OW]
      kernels::gemm(true, false, rows, positions_, group_filters_, 1.0f,
                    weight + g * group_filters_ * column_rows_ + row_begin, column_rows_,
                    dz + g * group_filters_ * positions_, positions_, 0.0f, target, positions_);
      if (!pointwise_) kernels::col2im(block, geometry_, first_channel, channels, image_grad);
    }
  });
}

}  // namespace edgetrain
