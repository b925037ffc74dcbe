#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "edgetrain/rng.h"
#include "kernels/im2col.h"

namespace edgetrain::testing {
namespace {

using kernels::ConvGeometry;

ConvGeometry geometry(size_t height, size_t width, size_t kernel, size_t stride = 1,
                      size_t dilation = 1) {
  ConvGeometry g;
  g.height = height;
  g.width = width;
  g.kernel_h = g.kernel_w = kernel;
  g.stride_h = g.stride_w = stride;
  g.dilation_h = g.dilation_w = dilation;
  return g;
}

ConvGeometry padded(ConvGeometry g, size_t top, size_t bottom, size_t left, size_t right) {
  g.pad_top = top;
  g.pad_bottom = bottom;
  g.pad_left = left;
  g.pad_right = right;
  return g;
}

std::vector<float> random_values(size_t n, Rng& rng) {
  std::vector<float> values(n);
  for (float& value : values) value = rng.uniform(-1.0f, 1.0f);
  return values;
}

double dot(const std::vector<float>& a, const std::vector<float>& b) {
  double total = 0.0;
  for (size_t i = 0; i < a.size(); ++i) total += static_cast<double>(a[i]) * b[i];
  return total;
}

}  // namespace

TEST(Im2col, UnfoldsKernelWindowsRowByRow) {
  const std::vector<float> image = {1, 2, 3, 4, 5, 6, 7, 8, 9};  // 1:3:3
  const ConvGeometry g = geometry(3, 3, 2);
  std::vector<float> columns(4 * 4);
  kernels::im2col(image.data(), g, 0, 1, columns.data());
  const std::vector<float> expected = {1, 2, 4, 5,   // tap (0,0) at the 4 output positions
                                       2, 3, 5, 6,   // tap (0,1)
                                       4, 5, 7, 8,   // tap (1,0)
                                       5, 6, 8, 9};  // tap (1,1)
  EXPECT_EQ(columns, expected);
}

TEST(Im2col, AsymmetricPaddingReadsZeros) {
  const std::vector<float> image = {1, 2, 3, 4};  // 1:2:2
  const ConvGeometry g = padded(geometry(2, 2, 1), 1, 0, 0, 1);
  ASSERT_EQ(g.out_h(), 3u);
  ASSERT_EQ(g.out_w(), 3u);
  std::vector<float> columns(9);
  kernels::im2col(image.data(), g, 0, 1, columns.data());
  EXPECT_EQ(columns, (std::vector<float>{0, 0, 0, 1, 2, 0, 3, 4, 0}));
}

// A negative bottom/right pad stops the windows short of the image's last rows/columns.
TEST(Im2col, NegativePaddingLeavesTheLastRowsUnread) {
  const std::vector<float> image = {1, 2, 3, 4, 5, 6, 7, 8, 9};  // 1:3:3
  ConvGeometry g = geometry(3, 3, 2);
  g.pad_bottom = -1;
  g.pad_right = -1;
  ASSERT_TRUE(g.fits());
  ASSERT_EQ(g.out_h(), 1u);
  ASSERT_EQ(g.out_w(), 1u);
  std::vector<float> columns(4);
  kernels::im2col(image.data(), g, 0, 1, columns.data());
  EXPECT_EQ(columns, (std::vector<float>{1, 2, 4, 5}));
  g.pad_bottom = g.pad_right = -2;
  EXPECT_FALSE(g.fits());
}

TEST(Im2col, ChannelRangeSelectsPlanes) {
  Rng rng(3);
  const ConvGeometry g = geometry(4, 5, 3, 1, 1);
  const std::vector<float> image = random_values(3 * 4 * 5, rng);
  const size_t rows = 9, positions = g.out_h() * g.out_w();
  std::vector<float> all(3 * rows * positions), last_two(2 * rows * positions);
  kernels::im2col(image.data(), g, 0, 3, all.data());
  kernels::im2col(image.data(), g, 1, 2, last_two.data());
  EXPECT_EQ(last_two, std::vector<float>(all.begin() + rows * positions, all.end()));
}

// The output-row range is the same column block of the whole matrix, for strides,
// dilation and padding on every side (windows reaching padding at both ends).
TEST(Im2col, OutputRowsAreTheColumnBlockOfThoseRows) {
  Rng rng(4);
  const ConvGeometry geometries[] = {padded(geometry(7, 5, 3), 1, 1, 1, 1),
                                     padded(geometry(9, 6, 3, 2, 2), 2, 1, 0, 3),
                                     padded(geometry(5, 5, 2, 1), 0, 0, 0, 0)};
  for (const ConvGeometry& g : geometries) {
    const size_t channels = 2, rows = channels * g.kernel_size();
    const size_t out_h = g.out_h(), out_w = g.out_w(), positions = out_h * out_w;
    const std::vector<float> image = random_values(channels * g.height * g.width, rng);
    std::vector<float> all(rows * positions);
    kernels::im2col(image.data(), g, 0, channels, all.data());
    for (size_t begin = 0; begin < out_h; ++begin) {
      for (size_t end = begin + 1; end <= out_h; ++end) {
        const size_t width = (end - begin) * out_w;
        std::vector<float> block(rows * width, -7.0f);
        kernels::im2col_output_rows(image.data(), g, 0, channels, begin, end, block.data());
        for (size_t r = 0; r < rows; ++r)
          for (size_t p = 0; p < width; ++p)
            ASSERT_EQ(block[r * width + p], all[r * positions + begin * out_w + p])
                << "rows " << begin << ".." << end << " row " << r << " position " << p;
      }
    }
  }
}

// col2im is the adjoint (transpose) of im2col: <im2col(x), y> == <x, col2im(y)>.
TEST(Im2col, Col2imIsTheAdjoint) {
  Rng rng(5);
  ConvGeometry wide = padded(geometry(7, 9, 3, 2), 2, 0, 1, 3);
  wide.kernel_w = 5;
  ConvGeometry uneven_stride = padded(geometry(6, 5, 2, 1, 2), 0, 1, 0, 0);
  uneven_stride.stride_w = 2;
  // Top padding with a negative bottom, as conv2dtranspose's output_padding makes.
  ConvGeometry negative = padded(geometry(6, 7, 3, 1, 2), 2, 0, 1, 0);
  negative.pad_bottom = -1;
  negative.pad_right = -2;
  const std::vector<ConvGeometry> cases = {padded(geometry(5, 6, 3), 1, 1, 1, 1), wide,
                                           geometry(7, 7, 3, 3, 2), uneven_stride, negative};
  for (const ConvGeometry& g : cases) {
    SCOPED_TRACE(::testing::Message() << g.height << "x" << g.width << " kernel " << g.kernel_h
                                      << "x" << g.kernel_w << " stride " << g.stride_h);
    ASSERT_TRUE(g.fits());
    const size_t channels = 3, first = 1, count = 2;
    const size_t column_count = count * g.kernel_size() * g.out_h() * g.out_w();
    const std::vector<float> x = random_values(channels * g.height * g.width, rng);
    const std::vector<float> y = random_values(column_count, rng);
    std::vector<float> columns(column_count);
    kernels::im2col(x.data(), g, first, count, columns.data());
    std::vector<float> folded(x.size(), 0.0f);
    kernels::col2im(y.data(), g, first, count, folded.data());
    const double lhs = dot(columns, y), rhs = dot(x, folded);
    EXPECT_NEAR(lhs, rhs, 1e-5 * (1.0 + std::abs(lhs)));
    for (size_t i = 0; i < g.height * g.width; ++i) EXPECT_EQ(folded[i], 0.0f) << "channel 0";
  }
}

}  // namespace edgetrain::testing
