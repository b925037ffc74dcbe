#include <gtest/gtest.h>

#include "edgetrain/error.h"
#include "support/golden.h"
#include "support/graph_checks.h"
#include "support/layer_harness.h"

namespace edgetrain::testing {

TEST(Concat, MatchesPyTorch) { run_layer_golden_file("concat.txt"); }

TEST(Concat, GradientsMatchFiniteDifferences) {
  struct Case {
    const char* axis;
    std::vector<TensorShape> inputs;
  };
  const std::vector<Case> cases = {
      {"axis=1", {{2, 1, 3, 2}, {2, 3, 3, 2}, {2, 2, 3, 2}}},
      {"axis=2", {{2, 2, 2, 3}, {2, 2, 1, 3}}},
      {"axis=3", {{3, 2, 2, 1}, {3, 2, 2, 4}, {3, 2, 2, 2}}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.axis);
    LayerHarness harness("concat", {c.axis}, c.inputs);
    expect_gradients_match(harness);
  }
}

TEST(Concat, OutputShapes) {
  const std::vector<TensorShape> inputs = {{2, 1, 3, 4}, {2, 1, 3, 4}};
  EXPECT_EQ(LayerHarness("concat", {}, inputs).output().shape(), TensorShape(2, 1, 3, 8));
  EXPECT_EQ(LayerHarness("concat", {"axis=1"}, inputs).output().shape(), TensorShape(2, 2, 3, 4));
  EXPECT_EQ(LayerHarness("concat", {"axis=2"}, inputs).output().shape(), TensorShape(2, 1, 6, 4));
}

TEST(Concat, BackwardDoesNotKeepTheInputs) {
  LayerHarness harness("concat", {}, {TensorShape(2, 1, 2, 3), TensorShape(2, 1, 2, 1)});
  for (int input : harness.graph().input_tensors)
    EXPECT_FALSE(alive_in_derivative(harness.graph(), input));
}

TEST(Concat, PartialBatchUsesLeadingSamples) {
  expect_partial_batch_matches("concat", {"axis=2"}, {{3, 2, 1, 3}, {3, 2, 2, 3}}, 2);
}

TEST(Concat, OnlyInputsThatNeedAGradientGetOne) {
  const FrozenFirstInput run =
      run_with_frozen_first_input("concat", {"axis=3"}, {2, 1, 2, 3}, {2, 1, 2, 2});
  ASSERT_EQ(run.input_grads.size(), 2u);
  EXPECT_TRUE(run.input_grads[0].empty());
  // Input 1 takes the last 2 of every 5 output columns.
  std::vector<float> expected;
  for (size_t row = 0; row < 4; ++row)
    for (size_t w = 3; w < 5; ++w) expected.push_back(run.output_grad[row * 5 + w]);
  EXPECT_EQ(run.input_grads[1], expected);
}

TEST(Concat, MismatchedDimensionsAreAnError) {
  const std::string message = compile_error<ShapeError>(
      "concat", {"axis=3"}, {TensorShape(2, 2, 3, 4), TensorShape(2, 3, 3, 4)});
  expect_mentions(message, {"under_test", "input 1", "in1", "2:3:3:4", "2:2:3:*", "in0", "width"});
}

TEST(Concat, OneInputIsAnError) {
  const std::string message = compile_error<ShapeError>("concat", {}, {TensorShape(1, 1, 2, 2)});
  expect_mentions(message, {"under_test", "1 input", "at least 2", "input_layers"});
}

TEST(Concat, BadAxisIsAnError) {
  for (const char* axis : {"0", "4", "width", "-1"}) {
    SCOPED_TRACE(axis);
    const std::string message =
        compile_error<PropertyError>("concat", {std::string("axis=") + axis},
                                     {TensorShape(1, 1, 2, 2), TensorShape(1, 1, 2, 2)});
    expect_mentions(message, {"under_test", "axis", axis, "1, 2, 3"});
  }
}

}  // namespace edgetrain::testing
