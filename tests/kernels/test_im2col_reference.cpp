// im2col / col2im against a per-element reference over many geometries: sizes, kernels,
// strides, dilations and asymmetric paddings, including paddings wider than the image
// and kernels that see padding only. Both must match bit for bit (col2im adds in the same
// order as the reference: channel, tap row, tap column, output row, output column).
#include <gtest/gtest.h>

#include <array>
#include <vector>

#include "edgetrain/rng.h"
#include "kernels/im2col.h"

namespace edgetrain::testing {
namespace {

using kernels::ConvGeometry;

bool inside(std::ptrdiff_t coordinate, size_t size) {
  return coordinate >= 0 && coordinate < static_cast<std::ptrdiff_t>(size);
}

// The input coordinate output position `out` reads through tap `tap`.
std::ptrdiff_t coordinate(size_t out, size_t stride, size_t tap, size_t dilation, size_t pad) {
  return static_cast<std::ptrdiff_t>(out * stride + tap * dilation) -
         static_cast<std::ptrdiff_t>(pad);
}

void reference_im2col(const std::vector<float>& image, const ConvGeometry& g, size_t first,
                      size_t channels, std::vector<float>& columns) {
  size_t r = 0;
  for (size_t c = first; c < first + channels; ++c)
    for (size_t ki = 0; ki < g.kernel_h; ++ki)
      for (size_t kj = 0; kj < g.kernel_w; ++kj, ++r)
        for (size_t oh = 0; oh < g.out_h(); ++oh)
          for (size_t ow = 0; ow < g.out_w(); ++ow) {
            const std::ptrdiff_t ih = coordinate(oh, g.stride_h, ki, g.dilation_h, g.pad_top);
            const std::ptrdiff_t iw = coordinate(ow, g.stride_w, kj, g.dilation_w, g.pad_left);
            columns[(r * g.out_h() + oh) * g.out_w() + ow] =
                inside(ih, g.height) && inside(iw, g.width)
                    ? image[(c * g.height + ih) * g.width + iw]
                    : 0.0f;
          }
}

void reference_col2im(const std::vector<float>& columns, const ConvGeometry& g, size_t first,
                      size_t channels, std::vector<float>& image) {
  size_t r = 0;
  for (size_t c = first; c < first + channels; ++c)
    for (size_t ki = 0; ki < g.kernel_h; ++ki)
      for (size_t kj = 0; kj < g.kernel_w; ++kj, ++r)
        for (size_t oh = 0; oh < g.out_h(); ++oh)
          for (size_t ow = 0; ow < g.out_w(); ++ow) {
            const std::ptrdiff_t ih = coordinate(oh, g.stride_h, ki, g.dilation_h, g.pad_top);
            const std::ptrdiff_t iw = coordinate(ow, g.stride_w, kj, g.dilation_w, g.pad_left);
            if (inside(ih, g.height) && inside(iw, g.width))
              image[(c * g.height + ih) * g.width + iw] +=
                  columns[(r * g.out_h() + oh) * g.out_w() + ow];
          }
}

std::vector<float> random_values(size_t n, Rng& rng) {
  std::vector<float> values(n);
  for (float& value : values) value = rng.uniform(-1.0f, 1.0f);
  return values;
}

TEST(Im2colReference, ManyGeometriesMatchBitForBit) {
  Rng rng(11);
  size_t checked = 0;
  const size_t channels = 3, first = 1, used = 2;  // channels [1, 3) of a 3-channel image
  for (size_t height : {1, 2, 5, 7})
    for (size_t width : {1, 3, 6})
      for (size_t kernel_h : {1, 2, 3})
        for (size_t kernel_w : {1, 3, 4})
          for (size_t stride : {1, 2, 3})
            for (size_t dilation : {1, 2})
              for (const auto& pads : std::vector<std::array<size_t, 4>>{
                       {0, 0, 0, 0}, {1, 1, 1, 1}, {0, 2, 1, 0}, {3, 1, 0, 4}, {5, 5, 6, 6}}) {
                ConvGeometry g;
                g.height = height;
                g.width = width;
                g.kernel_h = kernel_h;
                g.kernel_w = kernel_w;
                g.stride_h = stride;
                g.stride_w = stride == 3 ? 1 : stride + 1;  // different strides per axis too
                g.dilation_h = dilation;
                g.dilation_w = 3 - dilation;
                g.pad_top = pads[0];
                g.pad_bottom = pads[1];
                g.pad_left = pads[2];
                g.pad_right = pads[3];
                if (!g.fits()) continue;
                const size_t rows = used * g.kernel_size(), positions = g.out_h() * g.out_w();
                const std::vector<float> image = random_values(channels * height * width, rng);
                std::vector<float> expected(rows * positions, -7.0f),
                    actual(rows * positions, 7.0f);
                reference_im2col(image, g, first, used, expected);
                kernels::im2col(image.data(), g, first, used, actual.data());
                ASSERT_EQ(actual, expected)
                    << "im2col " << height << "x" << width << " kernel " << kernel_h << "x"
                    << kernel_w << " stride " << g.stride_h << "," << g.stride_w << " dilation "
                    << g.dilation_h << "," << g.dilation_w << " pads " << pads[0] << "," << pads[1]
                    << "," << pads[2] << "," << pads[3];

                const std::vector<float> columns = random_values(rows * positions, rng);
                std::vector<float> expected_image = random_values(channels * height * width, rng);
                std::vector<float> actual_image = expected_image;
                reference_col2im(columns, g, first, used, expected_image);
                kernels::col2im(columns.data(), g, first, used, actual_image.data());
                ASSERT_EQ(actual_image, expected_image)
                    << "col2im " << height << "x" << width << " kernel " << kernel_h << "x"
                    << kernel_w << " stride " << g.stride_h << "," << g.stride_w << " dilation "
                    << g.dilation_h << "," << g.dilation_w << " pads " << pads[0] << "," << pads[1]
                    << "," << pads[2] << "," << pads[3];
                ++checked;
              }
  EXPECT_GT(checked, 1000u);
}

}  // namespace
}  // namespace edgetrain::testing
