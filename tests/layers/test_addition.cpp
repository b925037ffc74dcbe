#include <gtest/gtest.h>

#include "edgetrain/error.h"
#include "support/golden.h"
#include "support/graph_checks.h"
#include "support/layer_harness.h"

namespace edgetrain::testing {

TEST(Addition, MatchesPyTorch) { run_layer_golden_file("addition.txt"); }

TEST(Addition, GradientsMatchFiniteDifferences) {
  const TensorShape shape(2, 2, 3, 2);
  LayerHarness harness("addition", {}, {shape, shape, shape});
  expect_gradients_match(harness);
}

TEST(Addition, BackwardDoesNotKeepTheInputs) {
  LayerHarness harness("addition", {}, {TensorShape(2, 1, 2, 3), TensorShape(2, 1, 2, 3)});
  for (int input : harness.graph().input_tensors)
    EXPECT_FALSE(alive_in_derivative(harness.graph(), input));
}

TEST(Addition, PartialBatchUsesLeadingSamples) {
  const TensorShape shape(3, 1, 2, 3);
  expect_partial_batch_matches("addition", {}, {shape, shape}, 1);
}

TEST(Addition, OnlyInputsThatNeedAGradientGetOne) {
  const TensorShape shape(2, 1, 3, 4);
  const FrozenFirstInput run = run_with_frozen_first_input("addition", {}, shape, shape);
  ASSERT_EQ(run.input_grads.size(), 2u);
  EXPECT_TRUE(run.input_grads[0].empty());
  EXPECT_EQ(run.input_grads[1], run.output_grad);
}

TEST(Addition, ShapeMismatchIsAnError) {
  const std::string message = compile_error<ShapeError>(
      "addition", {}, {TensorShape(2, 1, 3, 4), TensorShape(2, 1, 3, 4), TensorShape(2, 1, 4, 3)});
  expect_mentions(message, {"under_test", "input 2", "in2", "2:1:4:3", "2:1:3:4", "in0"});
}

TEST(Addition, OneInputIsAnError) {
  const std::string message = compile_error<ShapeError>("addition", {}, {TensorShape(1, 1, 2, 2)});
  expect_mentions(message, {"under_test", "1 input", "at least 2", "input_layers"});
}

TEST(Addition, UnknownPropertyIsAnError) {
  const std::string message = compile_error<PropertyError>(
      "addition", {"axis=1"}, {TensorShape(1, 1, 2, 2), TensorShape(1, 1, 2, 2)});
  expect_mentions(message, {"under_test", "unknown property 'axis'"});
}

}  // namespace edgetrain::testing
