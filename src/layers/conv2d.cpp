#include "layers/conv2d.h"

#include <algorithm>
#include <cctype>

#include "edgetrain/error.h"
#include "edgetrain/properties.h"
#include "kernels/elementwise.h"
#include "kernels/gemm.h"
#include "kernels/threads.h"

namespace edgetrain {
namespace {

[[noreturn]] void throw_bad_value(const std::string& owner, const std::string& key,
                                  const std::string& value, const std::string& expected) {
  throw PropertyError(owner + ": property '" + key + "' has bad value '" + value + "': expected " +
                      expected);
}

// "3" or "3,5": one value is used for height and width.
std::array<size_t, 2> parse_positive_pair(const std::string& value, const std::string& owner,
                                          const std::string& key) {
  const std::vector<std::string> pieces = split_list(value);
  if (pieces.empty() || pieces.size() > 2)
    throw_bad_value(owner, key, value, "one or two positive integers like 3 or 3,3");
  const size_t first = parse_positive(pieces[0], owner, key);
  return {first, pieces.size() == 2 ? parse_positive(pieces[1], owner, key) : first};
}

// "p" (all sides), "ph,pw" (symmetric per axis) or "top,bottom,left,right".
std::array<size_t, 4> parse_explicit_padding(const std::string& value, const std::string& owner,
                                             const std::string& key) {
  const std::vector<std::string> pieces = split_list(value);
  const auto is_count = [](const std::string& piece) {
    return !piece.empty() && std::all_of(piece.begin(), piece.end(),
                                         [](unsigned char c) { return std::isdigit(c) != 0; });
  };
  const bool valid_count = pieces.size() == 1 || pieces.size() == 2 || pieces.size() == 4;
  if (!valid_count || !std::all_of(pieces.begin(), pieces.end(), is_count))
    throw_bad_value(owner, key, value,
                    "same, valid, or 1, 2 or 4 non-negative integers (all sides; "
                    "height,width; top,bottom,left,right)");
  std::vector<size_t> pads;
  for (const std::string& piece : pieces) pads.push_back(parse_count(piece, owner, key));
  if (pads.size() == 1) return {pads[0], pads[0], pads[0], pads[0]};
  if (pads.size() == 2) return {pads[0], pads[0], pads[1], pads[1]};
  return {pads[0], pads[1], pads[2], pads[3]};
}

// TensorFlow's "same": the output has ceil(in / stride) positions and the padding it
// needs is split with the odd pixel after (bottom / right). Returns {before, after}.
std::array<size_t, 2> same_padding(size_t in, size_t stride, size_t kernel_extent) {
  const size_t out = (in + stride - 1) / stride;
  const size_t needed = (out - 1) * stride + kernel_extent;
  const size_t total = needed > in ? needed - in : 0;
  return {total / 2, total - total / 2};
}

std::string pair_text(const std::array<size_t, 2>& pair) {
  return std::to_string(pair[0]) + "," + std::to_string(pair[1]);
}

// The requested tensor `index`, or null when it was not requested (-1).
float* optional_tensor(RunContext& context, int index) {
  return index >= 0 ? context.tensor(index).data() : nullptr;
}

// First sample of chunk `chunk` when `batch` samples are cut into `chunks` contiguous runs.
size_t chunk_begin(size_t batch, size_t chunks, size_t chunk) { return batch * chunk / chunks; }

// x[c * positions + p] += bias[c]: one bias per output channel plane.
void add_channel_bias(float* x, const float* bias, size_t channels, size_t positions) {
  for (size_t c = 0; c < channels; ++c) {
    float* plane = x + c * positions;
    for (size_t p = 0; p < positions; ++p) plane[p] += bias[c];
  }
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
    const std::string lower = to_lower(value);
    same_padding_ = lower == "same";
    padding_ = same_padding_ || lower == "valid" ? std::array<size_t, 4>{0, 0, 0, 0}
                                                 : parse_explicit_padding(value, owner, key);
  } else if (key == "bias") {
    bias_ = parse_bool(value, owner, key);
  } else if (key == "disable_bias") {
    bias_ = !parse_bool(value, owner, key);
  } else if (key == "weight_initializer") {
    weight_initializer_ = parse_initializer(value, owner, key);
  } else if (key == "bias_initializer") {
    bias_initializer_ = parse_initializer(value, owner, key);
  } else {
    return activation_.set_property(key, value, owner);
  }
  return true;
}

std::string Conv2DLayer::property_keys() const {
  return "filters, kernel_size, stride, dilation, groups, padding, bias, disable_bias, "
         "weight_initializer, bias_initializer, activation";
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
  if (same_padding_) {
    const auto [top, bottom] = same_padding(g.height, g.stride_h, g.kernel_extent_h());
    const auto [left, right] = same_padding(g.width, g.stride_w, g.kernel_extent_w());
    g.pad_top = top;
    g.pad_bottom = bottom;
    g.pad_left = left;
    g.pad_right = right;
  } else {
    g.pad_top = padding_[0];
    g.pad_bottom = padding_[1];
    g.pad_left = padding_[2];
    g.pad_right = padding_[3];
  }
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
       weight_initializer_, fan_in, fan_out, true});
  if (bias_)
    context.request_weight(
        {"bias", TensorShape(1, 1, 1, filters_), bias_initializer_, fan_in, fan_out, true});
  // The per-sample loops run on up to slots_ threads, each with its own columns; the
  // weight gradient sums gradient_chunks_ fixed chunks of the batch, chunk 0 into the
  // gradient itself and the others into partial sums (kernels/threads.h).
  slots_ = std::min<size_t>(static_cast<size_t>(kernels::max_threads()), context.batch());
  gradient_chunks_ = std::min(kernels::kGradientChunks, context.batch());
  forward_columns_ = backward_columns_ = weight_partials_ = -1;
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
  const float* bias = bias_ ? context.weight(1).data() : nullptr;
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
      if (bias) add_channel_bias(out, bias, filters_, positions_);
    }
  });
  activation_.apply(context);
}

void Conv2DLayer::calc_gradient(RunContext& context) {
  const float* output_grad = activation_.pre_activation_grad(context);
  if (context.needs_weight_grad(0)) weight_gradient(context, output_grad);
  if (bias_ && context.needs_weight_grad(1)) bias_gradient(context, output_grad);
}

// dW_g = sum over samples of dY_g[O/g x OH*OW] * columns_g^T. Each of the fixed chunks of
// the batch sums into its own buffer (its first sample overwrites with GEMM beta 0, the
// others accumulate with beta 1); the chunks' sums are then added in chunk order. The
// chunks do not follow the thread count, so neither does the result.
void Conv2DLayer::weight_gradient(RunContext& context, const float* output_grad) const {
  const Tensor& input = context.input();
  const size_t input_sample = input.shape().feature_size();
  const size_t output_sample = filters_ * positions_;
  const size_t weight_size = filters_ * column_rows_;
  float* weight_grad = context.weight_grad(0).data();
  float* partials = optional_tensor(context, weight_partials_);
  float* columns = optional_tensor(context, backward_columns_);
  const size_t batch = input.batch();
  const size_t chunks = std::min(gradient_chunks_, batch);
  const size_t work = batch * output_sample * column_rows_;
  kernels::parallel_chunks(chunks, slots_, work, [&](size_t chunk, size_t slot) {
    float* sum = chunk == 0 ? weight_grad : partials + (chunk - 1) * weight_size;
    float* scratch = columns ? columns + slot * column_rows_ * positions_ : nullptr;
    const size_t first = chunk_begin(batch, chunks, chunk);
    for (size_t n = first; n < chunk_begin(batch, chunks, chunk + 1); ++n) {
      const float beta = n == first ? 0.0f : 1.0f;
      for (size_t g = 0; g < groups_; ++g) {
        kernels::gemm(false, true, group_filters_, column_rows_, positions_, 1.0f,
                      output_grad + n * output_sample + g * group_filters_ * positions_, positions_,
                      group_columns(input.data() + n * input_sample, g, scratch), positions_, beta,
                      sum + g * group_filters_ * column_rows_, column_rows_);
      }
    }
  });
  for (size_t chunk = 1; chunk < chunks; ++chunk)
    kernels::add_inplace(weight_grad, partials + (chunk - 1) * weight_size, weight_size);
}

// db[o] = sum over samples and positions of dY[n][o].
void Conv2DLayer::bias_gradient(RunContext& context, const float* output_grad) const {
  const size_t batch = context.output_grad().batch();
  float* bias_grad = context.weight_grad(1).data();
  // Split over filters: each one sums its samples in order.
  kernels::parallel_ranges(filters_, batch * positions_, [&](size_t begin, size_t end) {
    for (size_t o = begin; o < end; ++o) {
      double total = 0.0;
      for (size_t n = 0; n < batch; ++n)
        total += kernels::sum(output_grad + (n * filters_ + o) * positions_, positions_);
      bias_grad[o] = static_cast<float>(total);
    }
  });
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
  const size_t batch = input_grad.batch();
  const size_t chunks = std::min(slots_, batch);
  const size_t work = batch * output_sample * column_rows_;
  kernels::parallel_chunks(chunks, slots_, work, [&](size_t chunk, size_t slot) {
    float* scratch = columns ? columns + slot * column_rows_ * positions_ : nullptr;
    for (size_t n = chunk_begin(batch, chunks, chunk); n < chunk_begin(batch, chunks, chunk + 1);
         ++n) {
      float* image_grad = input_grad.data() + n * input_sample;
      for (size_t g = 0; g < groups_; ++g) {
        float* target = pointwise_ ? image_grad + g * group_channels_ * positions_ : scratch;
        // columns_g[K x OH*OW] = W_g^T[K x O/g] * dY_g[O/g x OH*OW]
        kernels::gemm(true, false, column_rows_, positions_, group_filters_, 1.0f,
                      weight + g * group_filters_ * column_rows_, column_rows_,
                      output_grad + n * output_sample + g * group_filters_ * positions_, positions_,
                      0.0f, target, positions_);
        if (!pointwise_)
          kernels::col2im(scratch, geometry_, g * group_channels_, group_channels_, image_grad);
      }
    }
  });
}

}  // namespace edgetrain
