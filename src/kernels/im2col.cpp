#include "kernels/im2col.h"

#include <algorithm>

namespace edgetrain::kernels {
namespace {

// Output positions [begin, end) along one axis whose input coordinate
// out * stride + offset falls inside [0, size); the others read padding. offset is
// tap * dilation - pad.
struct Span {
  size_t begin = 0, end = 0;
};

Span inside_span(size_t out_size, size_t stride, std::ptrdiff_t offset, size_t size) {
  const auto s = static_cast<std::ptrdiff_t>(stride);
  const std::ptrdiff_t first = offset >= 0 ? 0 : (-offset + s - 1) / s;
  const std::ptrdiff_t last_input = static_cast<std::ptrdiff_t>(size) - 1 - offset;
  const std::ptrdiff_t end = last_input < 0 ? 0 : last_input / s + 1;
  Span span;
  span.end = std::min(out_size, static_cast<size_t>(end));
  span.begin = std::min(span.end, static_cast<size_t>(first));
  return span;
}

// Where kernel tap (ki, kj) reads: the offsets and the output rows and columns that see
// the image rather than padding.
struct TapWindow {
  std::ptrdiff_t offset_h, offset_w;
  Span rows, cols;
};

TapWindow tap_window(const ConvGeometry& g, size_t ki, size_t kj) {
  TapWindow w;
  w.offset_h =
      static_cast<std::ptrdiff_t>(ki * g.dilation_h) - static_cast<std::ptrdiff_t>(g.pad_top);
  w.offset_w =
      static_cast<std::ptrdiff_t>(kj * g.dilation_w) - static_cast<std::ptrdiff_t>(g.pad_left);
  w.rows = inside_span(g.out_h(), g.stride_h, w.offset_h, g.height);
  w.cols = inside_span(g.out_w(), g.stride_w, w.offset_w, g.width);
  return w;
}

// The plane index output position (oh, ow) reads through the tap; it must see the image.
size_t plane_index(const ConvGeometry& g, const TapWindow& w, size_t oh, size_t ow) {
  return static_cast<size_t>(static_cast<std::ptrdiff_t>(oh * g.stride_h) + w.offset_h) * g.width +
         static_cast<size_t>(static_cast<std::ptrdiff_t>(ow * g.stride_w) + w.offset_w);
}

// One column-matrix row restricted to output rows [row_begin, row_end): what kernel tap
// (ki, kj) sees of one channel plane at those output positions (0 where it sees padding),
// written as (row_end - row_begin) * out_w contiguous values.
void unfold_row(const float* plane, const ConvGeometry& g, size_t ki, size_t kj, size_t row_begin,
                size_t row_end, float* row) {
  const size_t out_w = g.out_w();
  const TapWindow w = tap_window(g, ki, kj);
  const size_t inside_begin = std::clamp(w.rows.begin, row_begin, row_end);
  const size_t inside_end = std::clamp(w.rows.end, inside_begin, row_end);
  std::fill(row, row + (inside_begin - row_begin) * out_w, 0.0f);
  for (size_t oh = inside_begin; oh < inside_end; ++oh) {
    float* out = row + (oh - row_begin) * out_w;
    std::fill(out, out + w.cols.begin, 0.0f);
    if (w.cols.begin < w.cols.end) {
      const float* in = plane + plane_index(g, w, oh, w.cols.begin);
      const size_t count = w.cols.end - w.cols.begin;
      if (g.stride_w == 1) {
        std::copy(in, in + count, out + w.cols.begin);
      } else {
        for (size_t i = 0; i < count; ++i) out[w.cols.begin + i] = in[i * g.stride_w];
      }
    }
    std::fill(out + w.cols.end, out + out_w, 0.0f);
  }
  std::fill(row + (inside_end - row_begin) * out_w, row + (row_end - row_begin) * out_w, 0.0f);
}

// The adjoint of unfold_row: adds the row back into the channel plane (padding dropped).
void fold_row(const float* row, const ConvGeometry& g, size_t ki, size_t kj, float* plane) {
  const size_t out_w = g.out_w();
  const TapWindow w = tap_window(g, ki, kj);
  if (w.cols.begin == w.cols.end) return;
  const size_t count = w.cols.end - w.cols.begin;
  for (size_t oh = w.rows.begin; oh < w.rows.end; ++oh) {
    const float* in = row + oh * out_w + w.cols.begin;
    float* out = plane + plane_index(g, w, oh, w.cols.begin);
    if (g.stride_w == 1) {
      for (size_t i = 0; i < count; ++i) out[i] += in[i];
    } else {
      for (size_t i = 0; i < count; ++i) out[i * g.stride_w] += in[i];
    }
  }
}

}  // namespace

std::ptrdiff_t ConvGeometry::padded_h() const {
  return static_cast<std::ptrdiff_t>(height) + pad_top + pad_bottom;
}

std::ptrdiff_t ConvGeometry::padded_w() const {
  return static_cast<std::ptrdiff_t>(width) + pad_left + pad_right;
}

bool ConvGeometry::fits() const {
  return padded_h() >= static_cast<std::ptrdiff_t>(kernel_extent_h()) &&
         padded_w() >= static_cast<std::ptrdiff_t>(kernel_extent_w());
}

size_t ConvGeometry::out_h() const {
  return (static_cast<size_t>(padded_h()) - kernel_extent_h()) / stride_h + 1;
}

size_t ConvGeometry::out_w() const {
  return (static_cast<size_t>(padded_w()) - kernel_extent_w()) / stride_w + 1;
}

void im2col(const float* image, const ConvGeometry& geometry, size_t first_channel, size_t channels,
            float* columns) {
  im2col_output_rows(image, geometry, first_channel, channels, 0, geometry.out_h(), columns);
}

void im2col_output_rows(const float* image, const ConvGeometry& geometry, size_t first_channel,
                        size_t channels, size_t row_begin, size_t row_end, float* columns) {
  const size_t plane_size = geometry.height * geometry.width;
  const size_t row_size = (row_end - row_begin) * geometry.out_w();
  float* row = columns;
  for (size_t c = first_channel; c < first_channel + channels; ++c) {
    for (size_t ki = 0; ki < geometry.kernel_h; ++ki) {
      for (size_t kj = 0; kj < geometry.kernel_w; ++kj) {
        unfold_row(image + c * plane_size, geometry, ki, kj, row_begin, row_end, row);
        row += row_size;
      }
    }
  }
}

void col2im(const float* columns, const ConvGeometry& geometry, size_t first_channel,
            size_t channels, float* image) {
  const size_t plane_size = geometry.height * geometry.width;
  const size_t row_size = geometry.out_h() * geometry.out_w();
  const float* row = columns;
  for (size_t c = first_channel; c < first_channel + channels; ++c) {
    for (size_t ki = 0; ki < geometry.kernel_h; ++ki) {
      for (size_t kj = 0; kj < geometry.kernel_w; ++kj) {
        fold_row(row, geometry, ki, kj, image + c * plane_size);
        row += row_size;
      }
    }
  }
}

}  // namespace edgetrain::kernels
