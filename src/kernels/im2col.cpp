#include "kernels/im2col.h"

namespace edgetrain::kernels {
namespace {

// The input coordinate that output position `out` reads through kernel tap `tap`;
// outside [0, size) when it falls in the padding.
std::ptrdiff_t input_coordinate(size_t out, size_t stride, size_t tap, size_t dilation,
                                std::ptrdiff_t pad) {
  return static_cast<std::ptrdiff_t>(out * stride + tap * dilation) - pad;
}

bool inside(std::ptrdiff_t coordinate, size_t size) {
  return coordinate >= 0 && coordinate < static_cast<std::ptrdiff_t>(size);
}

// One column-matrix row: what kernel tap (ki, kj) sees of one channel plane, for every
// output position.
void unfold_row(const float* plane, const ConvGeometry& g, size_t ki, size_t kj, float* row) {
  const size_t out_h = g.out_h(), out_w = g.out_w();
  for (size_t oh = 0; oh < out_h; ++oh) {
    const std::ptrdiff_t ih = input_coordinate(oh, g.stride_h, ki, g.dilation_h, g.pad_top);
    for (size_t ow = 0; ow < out_w; ++ow) {
      const std::ptrdiff_t iw = input_coordinate(ow, g.stride_w, kj, g.dilation_w, g.pad_left);
      row[oh * out_w + ow] =
          inside(ih, g.height) && inside(iw, g.width) ? plane[ih * g.width + iw] : 0.0f;
    }
  }
}

// The adjoint of unfold_row: adds the row back into the channel plane.
void fold_row(const float* row, const ConvGeometry& g, size_t ki, size_t kj, float* plane) {
  const size_t out_h = g.out_h(), out_w = g.out_w();
  for (size_t oh = 0; oh < out_h; ++oh) {
    const std::ptrdiff_t ih = input_coordinate(oh, g.stride_h, ki, g.dilation_h, g.pad_top);
    if (!inside(ih, g.height)) continue;
    for (size_t ow = 0; ow < out_w; ++ow) {
      const std::ptrdiff_t iw = input_coordinate(ow, g.stride_w, kj, g.dilation_w, g.pad_left);
      if (inside(iw, g.width)) plane[ih * g.width + iw] += row[oh * out_w + ow];
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
  const size_t plane_size = geometry.height * geometry.width;
  const size_t row_size = geometry.out_h() * geometry.out_w();
  float* row = columns;
  for (size_t c = first_channel; c < first_channel + channels; ++c) {
    for (size_t ki = 0; ki < geometry.kernel_h; ++ki) {
      for (size_t kj = 0; kj < geometry.kernel_w; ++kj) {
        unfold_row(image + c * plane_size, geometry, ki, kj, row);
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
