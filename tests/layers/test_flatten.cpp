// flatten and reshape: both are views of their input.
#include <gtest/gtest.h>

#include "edgetrain/error.h"
#include "support/golden.h"
#include "support/graph_checks.h"
#include "support/layer_harness.h"

namespace edgetrain::testing {

TEST(Flatten, MatchesPyTorch) { run_layer_golden_file("flatten.txt"); }

TEST(Flatten, OutputSharesInputMemory) {
  LayerHarness harness("flatten", {}, {TensorShape(2, 3, 4, 5)});
  EXPECT_EQ(harness.output().shape(), TensorShape(2, 1, 1, 60));
  EXPECT_EQ(harness.output().data(), harness.input().data());
  // The gradient is not copied either.
  EXPECT_EQ(harness.input_grad().data(), harness.output_grad().data());
}

TEST(Flatten, GradientsMatchFiniteDifferences) {
  LayerHarness harness("flatten", {}, {TensorShape(2, 2, 3, 2)});
  expect_gradients_match(harness);
}

TEST(Flatten, TwoInputsAreAnError) {
  const std::string message =
      compile_error<ShapeError>("flatten", {}, {TensorShape(1, 1, 2, 2), TensorShape(1, 1, 2, 2)});
  expect_mentions(message, {"under_test", "2 inputs", "expected 1"});
}

TEST(Reshape, MatchesPyTorch) { run_layer_golden_file("reshape.txt"); }

TEST(Reshape, OutputSharesInputMemory) {
  LayerHarness harness("reshape", {"target_shape=5:4:3"}, {TensorShape(2, 3, 4, 5)});
  EXPECT_EQ(harness.output().shape(), TensorShape(2, 5, 4, 3));
  EXPECT_EQ(harness.output().data(), harness.input().data());
  EXPECT_EQ(harness.input_grad().data(), harness.output_grad().data());
}

TEST(Reshape, GradientsMatchFiniteDifferences) {
  LayerHarness harness("reshape", {"target_shape=6:2"}, {TensorShape(3, 1, 3, 4)});
  expect_gradients_match(harness);
}

TEST(Reshape, SizeMismatchIsAnError) {
  const std::string message =
      compile_error<ShapeError>("reshape", {"target_shape=1:5:7"}, {TensorShape(2, 3, 4, 5)});
  expect_mentions(message, {"under_test", "in0", "2:3:4:5", "1:5:7", "35", "60"});
}

TEST(Reshape, MissingTargetShapeIsAnError) {
  const std::string message =
      compile_error<PropertyError>("reshape", {}, {TensorShape(1, 2, 3, 4)});
  expect_mentions(message, {"under_test", "target_shape", "required"});
}

TEST(Reshape, BadTargetShapeIsAnError) {
  for (const char* target : {"2:-1", "0:4", "a:b", "1:2:3:4"}) {
    SCOPED_TRACE(target);
    const std::string message = compile_error<PropertyError>(
        "reshape", {std::string("target_shape=") + target}, {TensorShape(1, 1, 1, 24)});
    expect_mentions(message, {"under_test", "target_shape", target});
  }
}

}  // namespace edgetrain::testing
