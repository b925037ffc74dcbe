// Max pooling picks, in every window, the first maximum in row-major order, or the last
// NaN when there is one (PyTorch's choice). Checked against that rule written as a plain
// loop, on inputs full of ties, zeros, infinities and NaNs, with overlapping windows and
// padding; the gradient must land where the rule says.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "edgetrain/rng.h"
#include "support/layer_harness.h"

namespace edgetrain::testing {
namespace {

struct Case {
  std::vector<std::string> properties;
  size_t height, width, pool, stride, pad;
};

// The rule: position of the window's maximum (first on ties, last NaN wins).
size_t reference_argmax(const float* plane, size_t width, size_t h0, size_t h1, size_t w0,
                        size_t w1) {
  size_t best = h0 * width + w0;
  for (size_t h = h0; h < h1; ++h)
    for (size_t w = w0; w < w1; ++w) {
      const size_t i = h * width + w;
      if (plane[i] > plane[best] || std::isnan(plane[i])) best = i;
    }
  return best;
}

TEST(Pooling2DArgmax, FirstMaximumOrLastNaNOnHardInputs) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float inf = std::numeric_limits<float>::infinity();
  const float palette[] = {0.0f, 0.0f, 1.0f, 1.0f, -1.0f, 2.0f, -inf, inf, nan, -0.0f};
  const std::vector<Case> cases = {
      {{"pooling=max", "pool_size=2,2"}, 6, 8, 2, 2, 0},
      {{"pooling=max", "pool_size=3,3", "stride=1,1"}, 5, 6, 3, 1, 0},
      {{"pooling=max", "pool_size=3,3", "stride=2,2", "padding=1"}, 7, 7, 3, 2, 1},
  };
  Rng rng(3);
  for (const Case& c : cases) {
    const size_t channels = 3, batch = 2;
    LayerHarness harness("pooling2d", c.properties,
                         {TensorShape(batch, channels, c.height, c.width)});
    // Copies: the planner reuses the input's and output's memory during backward.
    std::vector<float> input(harness.input().size());
    for (float& value : input) value = palette[rng.below(std::size(palette))];
    std::copy(input.begin(), input.end(), harness.input().data());
    harness.forward();
    const Tensor output_view = harness.output();
    const std::vector<float> output(output_view.begin(), output_view.end());
    const size_t out_h = output_view.shape().height, out_w = output_view.shape().width;
    harness.output_grad().fill(1.0f);
    harness.backward();

    std::vector<float> expected_grad(input.size(), 0.0f);
    for (size_t plane = 0; plane < batch * channels; ++plane) {
      const float* in = input.data() + plane * c.height * c.width;
      for (size_t oh = 0; oh < out_h; ++oh)
        for (size_t ow = 0; ow < out_w; ++ow) {
          // The window in padded coordinates, clipped to the image.
          const size_t top = oh * c.stride, left = ow * c.stride;
          const size_t h0 = std::max(top, c.pad) - c.pad;
          const size_t h1 = std::min(top + c.pool, c.pad + c.height) - c.pad;
          const size_t w0 = std::max(left, c.pad) - c.pad;
          const size_t w1 = std::min(left + c.pool, c.pad + c.width) - c.pad;
          const size_t best = reference_argmax(in, c.width, h0, h1, w0, w1);
          const float got = output[(plane * out_h + oh) * out_w + ow];
          EXPECT_EQ(std::memcmp(&got, &in[best], sizeof(float)), 0)
              << c.properties.back() << " plane " << plane << " window " << oh << "," << ow;
          expected_grad[plane * c.height * c.width + best] += 1.0f;
        }
    }
    const Tensor grad = harness.input_grad();
    EXPECT_EQ(std::vector<float>(grad.begin(), grad.end()), expected_grad) << c.properties.back();
  }
}

}  // namespace
}  // namespace edgetrain::testing
