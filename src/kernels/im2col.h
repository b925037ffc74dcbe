// im2col / col2im: unfold one image into the columns a convolution reads, so that the
// convolution becomes one matrix product (W[out x K] * columns[K x OH*OW]).
//
// Column layout, for the channel range [first_channel, first_channel + channels):
//   row    (c - first_channel) * kernel_h * kernel_w + ki * kernel_w + kj
//   column oh * out_w + ow
//   value  image[c][oh * stride_h + ki * dilation_h - pad_top]
//               [ow * stride_w + kj * dilation_w - pad_left], 0 where that is padding.
// The row order is the one of a PyTorch conv weight O:(C/groups):kH:kW, so a group's
// weight rows multiply its columns directly.
//
// A negative pad_bottom / pad_right makes the windows stop that many rows / columns short
// of the image's end: the rows a transposed convolution's output_padding adds, which no
// window reaches (conv2dtranspose runs its convolution backwards over its output image).
#pragma once

#include <cstddef>

namespace edgetrain::kernels {

// The sizes of one 2-D convolution over a C:H:W image.
struct ConvGeometry {
  size_t height = 0, width = 0;  // of the input image
  size_t kernel_h = 1, kernel_w = 1;
  size_t stride_h = 1, stride_w = 1;
  size_t dilation_h = 1, dilation_w = 1;
  std::ptrdiff_t pad_top = 0, pad_bottom = 0, pad_left = 0, pad_right = 0;

  // Extent of the dilated kernel: (kernel - 1) * dilation + 1.
  size_t kernel_extent_h() const { return (kernel_h - 1) * dilation_h + 1; }
  size_t kernel_extent_w() const { return (kernel_w - 1) * dilation_w + 1; }
  // Whether the dilated kernel fits in the padded image (else there is no output).
  bool fits() const;
  // Height and width of the padded image, which the windows slide over.
  std::ptrdiff_t padded_h() const;
  std::ptrdiff_t padded_w() const;
  // Output size; only meaningful when fits().
  size_t out_h() const;
  size_t out_w() const;
  // Rows of the column matrix per channel: kernel_h * kernel_w.
  size_t kernel_size() const { return kernel_h * kernel_w; }
};

// Writes the (channels * kernel_h * kernel_w) x (out_h * out_w) column matrix of
// channels [first_channel, first_channel + channels) of `image` (C:H:W, one sample).
void im2col(const float* image, const ConvGeometry& geometry, size_t first_channel, size_t channels,
            float* columns);

// The columns of output rows [row_begin, row_end) only: the same rows of the column matrix,
// each (row_end - row_begin) * out_w values long, i.e. the column block of those output
// positions as a compact matrix (for splitting one image's convolution across threads).
void im2col_output_rows(const float* image, const ConvGeometry& geometry, size_t first_channel,
                        size_t channels, size_t row_begin, size_t row_end, float* columns);

// The adjoint of im2col: ADDS every column value back to the image position it was read
// from (padding positions are dropped). The caller zeroes `image` first if needed.
void col2im(const float* columns, const ConvGeometry& geometry, size_t first_channel,
            size_t channels, float* image);

}  // namespace edgetrain::kernels
