#include "layers/pooling2d.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <vector>

#include "edgetrain/error.h"
#include "edgetrain/properties.h"
#include "kernels/threads.h"

namespace edgetrain {
namespace {

// float counts exactly up to 2^24, the limit for the argmax positions.
constexpr size_t kMaxExactPosition = size_t{1} << 24;

// The maximum as argmax_in_window finds it (the first in row-major order; the last NaN
// wins): its index in the window, row-major with row length pool_w, and its value.
struct WindowMax {
  size_t index;
  float value;
};
WindowMax window_argmax(const float* plane, size_t in_w, size_t pool_w, size_t h_begin,
                        size_t h_end, size_t w_begin, size_t w_end) {
  size_t best = 0;
  float best_value = plane[h_begin * in_w + w_begin];
  for (size_t h = h_begin; h < h_end; ++h) {
    const float* row = plane + h * in_w;
    size_t k = (h - h_begin) * pool_w;
    for (size_t w = w_begin; w < w_end; ++w, ++k) {
      const float value = row[w];
      if (std::isnan(value)) {
        best = k;
        best_value = value;
        continue;
      }
      const size_t greater = size_t{0} - static_cast<size_t>(value > best_value);
      best = (k & greater) | (best & ~greater);
      best_value = std::max(best_value, value);
    }
  }
  return {best, best_value};
}

// All ones when `value` takes the place of `best_value`: a NaN always does, else a strictly
// greater value. Masks, not ?:, which the compiler may turn into mispredicted branches.
inline uint32_t takes_place(float value, float best_value) {
  return 0u - (static_cast<uint32_t>(value != value) | static_cast<uint32_t>(value > best_value));
}

inline float select(uint32_t mask, float if_set, float if_clear) {
  return std::bit_cast<float>((std::bit_cast<uint32_t>(if_set) & mask) |
                              (std::bit_cast<uint32_t>(if_clear) & ~mask));
}

// One output row of 2x2 max pooling with stride 2 and no padding: rows `top` and `bottom`
// of the input, `width` outputs. The same maximum and index as window_argmax (first
// maximum in row-major order, the last NaN wins), without branches. The indices are
// formed as 32-bit values and narrowed to bytes afterwards: with bytes in the loop GCC
// vectorizes 16 outputs at a time, more than most rows have (14 for a 28-pixel image).
void max_pool_2x2_row(const float* __restrict top, const float* __restrict bottom, size_t width,
                      float* __restrict out, unsigned char* __restrict index) {
  constexpr size_t kTile = 64;
  uint32_t wide[kTile];
  for (size_t first = 0; first < width; first += kTile) {
    const size_t count = std::min(kTile, width - first);
    const float* t = top + 2 * first;
    const float* b = bottom + 2 * first;
    float* o = out + first;
    for (size_t i = 0; i < count; ++i) {
      const float v0 = t[2 * i], v1 = t[2 * i + 1], v2 = b[2 * i], v3 = b[2 * i + 1];
      const uint32_t take1 = takes_place(v1, v0);
      float best_value = select(take1, v1, v0);
      uint32_t best = 1u & take1;
      const uint32_t take2 = takes_place(v2, best_value);
      best_value = select(take2, v2, best_value);
      best = (2u & take2) | (best & ~take2);
      const uint32_t take3 = takes_place(v3, best_value);
      o[i] = select(take3, v3, best_value);
      wide[i] = (3u & take3) | (best & ~take3);
    }
    for (size_t i = 0; i < count; ++i) index[first + i] = static_cast<unsigned char>(wide[i]);
  }
}

}  // namespace

Pooling2DLayer::Window Pooling2DLayer::Geometry::window(size_t oh, size_t ow) const {
  // Window start and end in padded coordinates, clipped to the input and shifted back.
  const size_t top = oh * stride_h;
  const size_t left = ow * stride_w;
  return {std::max(top, pad_top) - pad_top, std::min(top + pool_h, pad_top + in_h) - pad_top,
          std::max(left, pad_left) - pad_left, std::min(left + pool_w, pad_left + in_w) - pad_left};
}

template <typename Visit>
void Pooling2DLayer::Geometry::for_each_window(size_t planes, Visit visit) const {
  const size_t out_plane = out_h * out_w;
  kernels::parallel_ranges(planes, out_plane * pool_h * pool_w, [&](size_t begin, size_t end) {
    size_t o = begin * out_plane;
    for (size_t plane = begin; plane < end; ++plane)
      for (size_t oh = 0; oh < out_h; ++oh)
        for (size_t ow = 0; ow < out_w; ++ow) visit(plane, o++, window(oh, ow));
  });
}

size_t Pooling2DLayer::argmax_in_window(const float* plane, size_t in_w, const Window& window) {
  size_t best = window.h_begin * in_w + window.w_begin;
  float best_value = plane[best];
  for (size_t h = window.h_begin; h < window.h_end; ++h) {
    for (size_t w = window.w_begin; w < window.w_end; ++w) {
      const size_t i = h * in_w + w;
      const float value = plane[i];
      if (std::isnan(value)) {  // rare: the branch predicts well
        best = i;
        best_value = value;
        continue;
      }
      // Selects rather than a branch: on real data the comparison is a coin toss.
      const size_t greater = size_t{0} - static_cast<size_t>(value > best_value);
      best = (i & greater) | (best & ~greater);
      best_value = std::max(best_value, value);  // stays NaN once NaN
    }
  }
  return best;
}

bool Pooling2DLayer::set_property(const std::string& key, const std::string& value,
                                  const std::string& owner) {
  if (key == "pooling") {
    const std::string name =
        parse_choice(value, {"max", "average", "global_max", "global_average"}, owner, key);
    if (name == "max") pooling_ = Pooling::max;
    if (name == "average") pooling_ = Pooling::average;
    if (name == "global_max") pooling_ = Pooling::global_max;
    if (name == "global_average") pooling_ = Pooling::global_average;
  } else if (key == "pool_size") {
    pool_size_ = parse_positive_pair(value, owner, key);
  } else if (key == "stride") {
    stride_ = parse_positive_pair(value, owner, key);
  } else if (key == "padding") {
    padding_ = Padding2D::parse(value, owner, key);
  } else {
    return false;
  }
  return true;
}

std::string Pooling2DLayer::property_keys() const { return "pooling, pool_size, stride, padding"; }

bool Pooling2DLayer::is_max() const {
  return pooling_ == Pooling::max || pooling_ == Pooling::global_max;
}

Pooling2DLayer::Geometry Pooling2DLayer::resolve_geometry(const FinalizeContext& context) const {
  const TensorShape& input = context.input_shape();
  Geometry g;
  g.in_h = input.height;
  g.in_w = input.width;
  if (pooling_ == Pooling::global_max || pooling_ == Pooling::global_average) {
    if (pool_size_ || stride_ || padding_)
      throw PropertyError(context.owner() +
                          ": global pooling covers the whole input; remove pool_size, stride "
                          "and padding");
    g.pool_h = input.height;
    g.pool_w = input.width;
    g.stride_h = g.stride_w = 1;
    g.out_h = g.out_w = 1;
    return g;
  }
  const std::array<size_t, 2> pool = pool_size_.value_or(std::array<size_t, 2>{2, 2});
  const std::array<size_t, 2> stride = stride_.value_or(pool);
  const std::array<size_t, 4> sides =
      padding_.value_or(Padding2D()).resolve(input.height, input.width, pool, stride);
  if (std::max(sides[0], sides[1]) > pool[0] / 2 || std::max(sides[2], sides[3]) > pool[1] / 2)
    throw PropertyError(context.owner() + ": padding " + std::to_string(sides[0]) + "," +
                        std::to_string(sides[1]) + "," + std::to_string(sides[2]) + "," +
                        std::to_string(sides[3]) +
                        " (top,bottom,left,right) is more than half of pool_size " +
                        pair_text(pool) + "; a window would cover padding only");
  const size_t padded_h = input.height + sides[0] + sides[1];
  const size_t padded_w = input.width + sides[2] + sides[3];
  if (padded_h < pool[0] || padded_w < pool[1])
    context.shape_error(
        0, "height and width of at least pool_size " + pair_text(pool) + " (padding included)");
  g.pool_h = pool[0];
  g.pool_w = pool[1];
  g.stride_h = stride[0];
  g.stride_w = stride[1];
  g.pad_top = sides[0];
  g.pad_left = sides[2];
  g.out_h = (padded_h - pool[0]) / stride[0] + 1;
  g.out_w = (padded_w - pool[1]) / stride[1] + 1;
  return g;
}

void Pooling2DLayer::finalize(FinalizeContext& context) {
  context.expect_inputs(1, 1);
  if (!pooling_)
    throw PropertyError(context.owner() +
                        ": property 'pooling' is required (max, average, global_max or "
                        "global_average)");
  geometry_ = resolve_geometry(context);
  const TensorShape& input = context.input_shape();
  const TensorShape output(input.batch, input.channel, geometry_.out_h, geometry_.out_w);
  context.set_output_shape(output);
  if (!is_max()) return;
  if (input.height * input.width > kMaxExactPosition)
    context.shape_error(
        0, "at most " + std::to_string(kMaxExactPosition) + " pixels per plane for max pooling");
  byte_argmax_ = geometry_.pool_h * geometry_.pool_w <= 256;
  const Geometry& g = geometry_;
  two_by_two_ = pooling_ == Pooling::max && g.pool_h == 2 && g.pool_w == 2 && g.stride_h == 2 &&
                g.stride_w == 2 && g.pad_top == 0 && g.pad_left == 0 && 2 * g.out_h <= g.in_h &&
                2 * g.out_w <= g.in_w;  // no window in padding
  window_offsets_.clear();
  if (byte_argmax_)
    for (size_t k = 0; k < geometry_.pool_h * geometry_.pool_w; ++k)
      window_offsets_.push_back(k / geometry_.pool_w * geometry_.in_w + k % geometry_.pool_w);
  const size_t outputs = output.with_batch(context.batch()).size();
  const TensorShape saved =
      byte_argmax_ ? TensorShape(1, 1, 1, (outputs + 3) / 4) : output.with_batch(context.batch());
  argmax_ = context.request_tensor("argmax", saved, Lifespan::forward_to_backward);
}

void Pooling2DLayer::forward(RunContext& context) {
  if (is_max())
    forward_max(context);
  else
    forward_average(context);
}

void Pooling2DLayer::calc_derivative(RunContext& context) {
  if (is_max())
    derivative_max(context);
  else
    derivative_average(context);
}

void Pooling2DLayer::forward_max(RunContext& context) const {
  const Geometry& g = geometry_;
  const size_t in_plane = g.in_h * g.in_w;
  const float* input = context.input().data();
  Tensor& output = context.output();
  // The argmax tensor has the compiled batch; the first samples are used. Threads write
  // distinct bytes of it.
  float* argmax = context.tensor(argmax_).data();
  unsigned char* argmax_bytes = reinterpret_cast<unsigned char*>(argmax);
  const size_t planes = context.input().size() / in_plane;
  if (two_by_two_) {
    kernels::parallel_ranges(planes, 4 * g.out_h * g.out_w, [&](size_t begin, size_t end) {
      for (size_t plane = begin; plane < end; ++plane)
        for (size_t oh = 0; oh < g.out_h; ++oh) {
          const float* top = input + plane * in_plane + 2 * oh * g.in_w;
          const size_t o = (plane * g.out_h + oh) * g.out_w;
          max_pool_2x2_row(top, top + g.in_w, g.out_w, output.data() + o, argmax_bytes + o);
        }
    });
    return;
  }
  g.for_each_window(planes, [&](size_t plane, size_t o, const Window& win) {
    const float* in = input + plane * in_plane;
    if (byte_argmax_) {
      const WindowMax best =
          window_argmax(in, g.in_w, g.pool_w, win.h_begin, win.h_end, win.w_begin, win.w_end);
      argmax_bytes[o] = static_cast<unsigned char>(best.index);
      output[o] = best.value;  // in[best], NaN included
      return;
    }
    const size_t best = argmax_in_window(in, g.in_w, win);
    output[o] = in[best];
    argmax[o] = static_cast<float>(best);
  });
}

void Pooling2DLayer::forward_average(RunContext& context) const {
  const Geometry& g = geometry_;
  const size_t in_plane = g.in_h * g.in_w;
  const float divisor = static_cast<float>(g.pool_h * g.pool_w);
  const float* input = context.input().data();
  Tensor& output = context.output();
  g.for_each_window(context.input().size() / in_plane,
                    [&](size_t plane, size_t o, const Window& win) {
                      const float* in = input + plane * in_plane;
                      float sum = 0.0f;
                      for (size_t h = win.h_begin; h < win.h_end; ++h)
                        for (size_t w = win.w_begin; w < win.w_end; ++w) sum += in[h * g.in_w + w];
                      output[o] = sum / divisor;
                    });
}

void Pooling2DLayer::derivative_max(RunContext& context) const {
  const Geometry& g = geometry_;
  const size_t in_plane = g.in_h * g.in_w;
  const size_t out_plane = g.out_h * g.out_w;
  const Tensor& output_grad = context.output_grad();
  const float* argmax = context.tensor(argmax_).data();
  const unsigned char* argmax_bytes = reinterpret_cast<const unsigned char*>(argmax);
  float* input_grad = context.input_grad().data();
  // Overlapping windows may share a maximum: accumulate, plane by plane.
  kernels::parallel_ranges(
      output_grad.size() / out_plane, in_plane + out_plane, [&](size_t begin, size_t end) {
        std::fill(input_grad + begin * in_plane, input_grad + end * in_plane, 0.0f);
        size_t o = begin * out_plane;
        for (size_t plane = begin; plane < end; ++plane) {
          float* grad = input_grad + plane * in_plane;
          if (!byte_argmax_) {
            for (size_t i = 0; i < out_plane; ++i, ++o)
              grad[static_cast<size_t>(argmax[o])] += output_grad[o];
            continue;
          }
          for (size_t oh = 0; oh < g.out_h; ++oh)
            for (size_t ow = 0; ow < g.out_w; ++ow, ++o) {
              const Window win = g.window(oh, ow);
              grad[win.h_begin * g.in_w + win.w_begin + window_offsets_[argmax_bytes[o]]] +=
                  output_grad[o];
            }
        }
      });
}

void Pooling2DLayer::derivative_average(RunContext& context) const {
  const Geometry& g = geometry_;
  const size_t in_plane = g.in_h * g.in_w;
  const float divisor = static_cast<float>(g.pool_h * g.pool_w);
  const Tensor& output_grad = context.output_grad();
  Tensor& input_grad = context.input_grad();
  input_grad.fill(0.0f);
  g.for_each_window(input_grad.size() / in_plane, [&](size_t plane, size_t o, const Window& win) {
    float* in_grad = input_grad.data() + plane * in_plane;
    const float share = output_grad[o] / divisor;
    for (size_t h = win.h_begin; h < win.h_end; ++h)
      for (size_t w = win.w_begin; w < win.w_end; ++w) in_grad[h * g.in_w + w] += share;
  });
}

}  // namespace edgetrain
