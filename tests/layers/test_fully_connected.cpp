#include <gtest/gtest.h>

#include "edgetrain/error.h"
#include "support/golden.h"
#include "support/layer_harness.h"

namespace edgetrain::testing {

TEST(FullyConnected, MatchesPyTorch) { run_layer_golden_file("fully_connected.txt"); }

TEST(FullyConnected, GradientsMatchFiniteDifferences) {
  LayerHarness harness("fully_connected", {"unit=4"}, {TensorShape(3, 1, 1, 5)});
  expect_gradients_match(harness);
}

TEST(FullyConnected, FusedActivationGradients) {
  for (const char* activation : {"relu", "gelu", "sigmoid", "softmax", "hard_swish"}) {
    SCOPED_TRACE(activation);
    LayerHarness harness("fully_connected", {"unit=4", std::string("activation=") + activation},
                         {TensorShape(2, 1, 3, 5)});
    expect_gradients_match(harness);
  }
}

TEST(FullyConnected, FrozenLayerHasNoWeightGradient) {
  LayerHarness harness("fully_connected", {"unit=2"}, {TensorShape(2, 1, 1, 3)}, 1, false);
  harness.forward();
  harness.output_grad().fill(1.0f);
  harness.backward();
  EXPECT_TRUE(harness.weight_grad("weight").empty());
}

TEST(FullyConnected, MissingUnitIsAnError) {
  try {
    LayerHarness harness("fully_connected", {}, {TensorShape(1, 1, 1, 3)});
    FAIL() << "expected an error";
  } catch (const PropertyError& error) {
    EXPECT_NE(std::string(error.what()).find("unit"), std::string::npos) << error.what();
    EXPECT_NE(std::string(error.what()).find("under_test"), std::string::npos) << error.what();
  }
}

}  // namespace edgetrain::testing
