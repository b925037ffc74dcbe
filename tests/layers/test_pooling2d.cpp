#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "edgetrain/error.h"
#include "support/golden.h"
#include "support/graph_checks.h"
#include "support/layer_harness.h"

namespace edgetrain::testing {

TEST(Pooling2D, MatchesPyTorch) { run_layer_golden_file("pooling2d.txt"); }

TEST(Pooling2D, MaxGradientsMatchFiniteDifferences) {
  // Finite differences need a clear maximum in every window: inputs spread over
  // [-100, 100] lie far apart compared with epsilon, so no perturbation changes a window's
  // argmax.
  GradCheckOptions options;
  options.input_low = -100.0f;
  options.input_high = 100.0f;
  for (const std::vector<std::string>& props :
       {std::vector<std::string>{"pooling=max"},
        {"pooling=max", "pool_size=3,3", "stride=2,2", "padding=1,1"},
        {"pooling=max", "pool_size=3,3", "stride=1,1"},
        {"pooling=max", "pool_size=3,2", "stride=2,1", "padding=same"},
        {"pooling=global_max"}}) {
    SCOPED_TRACE(props[props.size() - 1]);
    LayerHarness harness("pooling2d", props, {TensorShape(2, 3, 5, 6)});
    expect_gradients_match(harness, options);
  }
}

TEST(Pooling2D, AverageGradientsMatchFiniteDifferences) {
  for (const std::vector<std::string>& props :
       {std::vector<std::string>{"pooling=average"},
        {"pooling=average", "pool_size=3,3", "stride=2,2", "padding=1,0,1,1"},
        {"pooling=average", "pool_size=3,2", "stride=2,1", "padding=same"},
        {"pooling=global_average"}}) {
    SCOPED_TRACE(props[props.size() - 1]);
    LayerHarness harness("pooling2d", props, {TensorShape(2, 3, 5, 6)});
    expect_gradients_match(harness);
  }
}

TEST(Pooling2D, BackwardKeepsTheArgmaxButNotTheInput) {
  LayerHarness max("pooling2d", {"pooling=max"}, {TensorShape(2, 3, 4, 4)});
  const GraphNode& node = max.graph().nodes[max.graph().find_node("under_test")];
  ASSERT_EQ(node.tensors.size(), 1u);
  EXPECT_TRUE(alive_in_derivative(max.graph(), node.tensors[0].id));
  EXPECT_FALSE(alive_in_derivative(max.graph(), max.graph().input_tensors[0]));

  LayerHarness average("pooling2d", {"pooling=average"}, {TensorShape(2, 3, 4, 4)});
  EXPECT_TRUE(average.graph().nodes[average.graph().find_node("under_test")].tensors.empty());
  EXPECT_FALSE(alive_in_derivative(average.graph(), average.graph().input_tensors[0]));
}

TEST(Pooling2D, PartialBatchUsesLeadingSamples) {
  // The saved argmax positions are declared for the compiled batch of 3.
  expect_partial_batch_matches("pooling2d", {"pooling=max", "pool_size=3", "stride=2"},
                               {TensorShape(3, 2, 7, 7)}, 2);
  expect_partial_batch_matches("pooling2d", {"pooling=average", "padding=same", "stride=1"},
                               {TensorShape(3, 2, 5, 4)}, 1);
}

TEST(Pooling2D, OutputShapes) {
  struct Case {
    std::vector<std::string> props;
    TensorShape input, output;
  };
  const std::vector<Case> cases = {
      {{"pooling=max"}, {2, 3, 4, 5}, {2, 3, 2, 2}},                  // pool 2,2 stride 2,2
      {{"pooling=max", "pool_size=3"}, {1, 1, 9, 10}, {1, 1, 3, 3}},  // stride = pool_size
      {{"pooling=average", "pool_size=3", "stride=2", "padding=same"}, {1, 1, 5, 8}, {1, 1, 3, 4}},
      {{"pooling=max", "pool_size=2", "stride=1", "padding=same"}, {1, 1, 4, 5}, {1, 1, 4, 5}},
      {{"pooling=global_average"}, {3, 4, 5, 6}, {3, 4, 1, 1}},
  };
  for (const Case& c : cases) {
    LayerHarness harness("pooling2d", c.props, {c.input});
    EXPECT_EQ(harness.output().shape(), c.output) << c.props.back();
  }
}

TEST(Pooling2D, MaxTiesSendTheGradientToTheFirstMaximum) {
  // As PyTorch: with equal values the first one in row-major order takes the gradient.
  LayerHarness harness("pooling2d", {"pooling=max"}, {TensorShape(1, 1, 2, 4)});
  harness.input().fill(1.0f);
  harness.forward();
  harness.output_grad().fill(1.0f);
  harness.backward();
  const std::vector<float> expected = {1, 0, 1, 0, 0, 0, 0, 0};
  const Tensor grad = harness.input_grad();
  EXPECT_EQ(std::vector<float>(grad.begin(), grad.end()), expected);
}

// 2x2 max pooling with stride 2 runs a vectorized row kernel: it must pick the same
// maximum as the general window scan, ties (first in row-major order) and NaN (the last
// NaN) included, on odd sizes whose last row and column no window covers.
TEST(Pooling2D, TwoByTwoRowKernelPicksTheSameMaximumAsTheWindowScan) {
  const size_t batch = 3, channels = 2, height = 7, width = 9;
  LayerHarness harness("pooling2d", {"pooling=max"}, {TensorShape(batch, channels, height, width)});
  // Kept apart: the plan may reuse the input's memory once forward is done.
  std::vector<float> input(harness.input().size());
  const float nan = std::numeric_limits<float>::quiet_NaN();
  for (size_t i = 0; i < input.size(); ++i)  // few distinct values: many ties
    input[i] = i % 17 == 5 ? nan : static_cast<float>((i * 7919) % 5) - 2.0f;
  std::copy(input.begin(), input.end(), harness.input().data());
  harness.forward();
  harness.output_grad().fill(1.0f);
  harness.backward();
  const Tensor output = harness.output(), grad = harness.input_grad();
  std::vector<float> expected_grad(input.size(), 0.0f);
  size_t o = 0;
  for (size_t plane = 0; plane < batch * channels; ++plane)
    for (size_t oh = 0; oh < height / 2; ++oh)
      for (size_t ow = 0; ow < width / 2; ++ow, ++o) {
        size_t best = plane * height * width + 2 * oh * width + 2 * ow;
        for (size_t k = 1; k < 4; ++k) {
          const size_t i = plane * height * width + (2 * oh + k / 2) * width + 2 * ow + k % 2;
          if (std::isnan(input[i]) || (!std::isnan(input[best]) && input[i] > input[best]))
            best = i;
        }
        if (std::isnan(input[best]))
          EXPECT_TRUE(std::isnan(output[o])) << o;
        else
          EXPECT_EQ(output[o], input[best]) << o;
        expected_grad[best] += 1.0f;
      }
  EXPECT_EQ(std::vector<float>(grad.begin(), grad.end()), expected_grad);
}

TEST(Pooling2D, MaxPropagatesNaN) {
  LayerHarness harness("pooling2d", {"pooling=max"}, {TensorShape(1, 1, 2, 2)});
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float values[] = {1.0f, nan, 3.0f, 2.0f};
  std::copy(std::begin(values), std::end(values), harness.input().data());
  harness.forward();
  EXPECT_TRUE(std::isnan(harness.output()[0]));
}

TEST(Pooling2D, PoolLargerThanInputIsAnError) {
  const std::string message = compile_error<ShapeError>(
      "pooling2d", {"pooling=max", "pool_size=3,3"}, {TensorShape(1, 2, 2, 5)});
  expect_mentions(message, {"under_test", "in0", "1:2:2:5", "pool_size 3,3"});
}

TEST(Pooling2D, BadPoolingNameIsAnError) {
  const std::string message =
      compile_error<PropertyError>("pooling2d", {"pooling=maximum"}, {TensorShape(1, 1, 4, 4)});
  expect_mentions(message, {"under_test", "pooling", "maximum", "global_average"});
}

TEST(Pooling2D, MissingPoolingIsAnError) {
  const std::string message =
      compile_error<PropertyError>("pooling2d", {"pool_size=2"}, {TensorShape(1, 1, 4, 4)});
  expect_mentions(message, {"under_test", "pooling", "required"});
}

TEST(Pooling2D, ZeroPoolSizeOrStrideIsAnError) {
  expect_mentions(compile_error<PropertyError>("pooling2d", {"pooling=max", "pool_size=0,2"},
                                               {TensorShape(1, 1, 4, 4)}),
                  {"under_test", "pool_size", "0,2", "positive"});
  expect_mentions(compile_error<PropertyError>("pooling2d", {"pooling=max", "stride=0"},
                                               {TensorShape(1, 1, 4, 4)}),
                  {"under_test", "stride", "positive"});
}

TEST(Pooling2D, BadPaddingIsAnError) {
  for (const char* padding : {"full", "1,2,3", "1,-1", ""}) {
    SCOPED_TRACE(padding);
    const std::string message = compile_error<PropertyError>(
        "pooling2d", {"pooling=max", std::string("padding=") + padding}, {TensorShape(1, 1, 4, 4)});
    expect_mentions(message, {"under_test", "padding", "valid", "same", "top,bottom,left,right"});
  }
}

TEST(Pooling2D, PaddingOverHalfThePoolIsAnError) {
  const std::string message = compile_error<PropertyError>(
      "pooling2d", {"pooling=max", "pool_size=3,2", "padding=1,1,0,2"}, {TensorShape(1, 1, 6, 6)});
  expect_mentions(message, {"under_test", "padding 1,1,0,2", "pool_size 3,2", "half"});
}

TEST(Pooling2D, GlobalPoolingRejectsWindowProperties) {
  for (const char* property : {"pool_size=2", "stride=1", "padding=valid"}) {
    SCOPED_TRACE(property);
    const std::string message = compile_error<PropertyError>(
        "pooling2d", {"pooling=global_average", property}, {TensorShape(1, 1, 4, 4)});
    expect_mentions(message, {"under_test", "global", "pool_size, stride and padding"});
  }
}

TEST(Pooling2D, UnknownPropertyListsTheKnownOnes) {
  const std::string message = compile_error<PropertyError>(
      "pooling2d", {"pooling=max", "kernel_size=2"}, {TensorShape(1, 1, 4, 4)});
  expect_mentions(message, {"under_test", "kernel_size", "pool_size", "padding"});
}

TEST(Pooling2D, TwoInputsAreAnError) {
  const std::string message = compile_error<ShapeError>(
      "pooling2d", {"pooling=max"}, {TensorShape(1, 1, 4, 4), TensorShape(1, 1, 4, 4)});
  expect_mentions(message, {"under_test", "2 inputs", "expected 1"});
}

}  // namespace edgetrain::testing
