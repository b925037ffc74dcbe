#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "edgetrain/error.h"
#include "edgetrain/model.h"
#include "support/golden.h"
#include "support/layer_harness.h"

namespace edgetrain::testing {
namespace {

// Fills the input with `logit_magnitude` times alternating signs and the label with
// one-hot rows, runs forward and backward, and expects finite results.
void expect_finite_for_large_logits(const std::string& type, float logit_magnitude) {
  LayerHarness harness(type, {}, {TensorShape(2, 1, 1, 4)});
  Tensor input = harness.input();
  for (size_t i = 0; i < input.size(); ++i) input[i] = (i % 3 == 0 ? 1.0f : -1.0f) * logit_magnitude;
  Tensor label = harness.label();
  label.fill(0.0f);
  label[1] = 1.0f;  // row 0 labels a class with logit -magnitude: loss about 2 * magnitude
  label[4] = 1.0f;
  harness.forward();
  harness.backward();
  EXPECT_TRUE(std::isfinite(harness.output()[0])) << type << " loss " << harness.output()[0];
  EXPECT_GT(harness.output()[0], 0.0f) << type;
  for (float value : harness.input_grad()) EXPECT_TRUE(std::isfinite(value)) << type;
}

}  // namespace

TEST(Losses, MatchPyTorch) { run_layer_golden_file("losses.txt"); }

TEST(Losses, AreRegisteredAsLosses) {
  for (const char* type : {"mse", "cross_entropy", "bce_with_logits"}) {
    std::unique_ptr<Layer> layer = make_layer(type);
    EXPECT_TRUE(layer->is_loss()) << type;
    EXPECT_EQ(layer->type(), type);
  }
}

TEST(Losses, UnknownPropertyNamesTheKey) {
  try {
    createLayer("cross_entropy", {"name=loss", "from_logits=true"});
    FAIL() << "expected an error";
  } catch (const PropertyError& error) {
    EXPECT_NE(std::string(error.what()).find("from_logits"), std::string::npos) << error.what();
    EXPECT_NE(std::string(error.what()).find("loss"), std::string::npos) << error.what();
  }
}

TEST(Losses, TwoInputsAreAShapeError) {
  try {
    LayerHarness harness("bce_with_logits", {}, {TensorShape(1, 1, 1, 3), TensorShape(1, 1, 1, 3)});
    FAIL() << "expected an error";
  } catch (const ShapeError& error) {
    EXPECT_NE(std::string(error.what()).find("under_test"), std::string::npos) << error.what();
    EXPECT_NE(std::string(error.what()).find("expected 1"), std::string::npos) << error.what();
  }
}

TEST(Mse, GradientsMatchFiniteDifferences) {
  LayerHarness harness("mse", {}, {TensorShape(3, 1, 2, 4)});
  expect_gradients_match(harness);
}

TEST(CrossEntropy, GradientsMatchFiniteDifferencesWithOneHotLabels) {
  LayerHarness harness("cross_entropy", {}, {TensorShape(3, 1, 2, 5)});
  GradCheckOptions options;
  options.one_hot_labels = true;
  options.input_low = -3.0f;
  options.input_high = 3.0f;
  expect_gradients_match(harness, options);
}

TEST(CrossEntropy, GradientsMatchFiniteDifferencesWithAnyLabels) {
  // Uniform labels in [0, 1] do not sum to 1 per row: the gradient must still be exact.
  LayerHarness harness("cross_entropy", {}, {TensorShape(4, 1, 1, 6)});
  expect_gradients_match(harness);
}

TEST(CrossEntropy, LargeLogitsStayFinite) {
  // exp(1000) overflows float and double: only the max-shifted form survives.
  expect_finite_for_large_logits("cross_entropy", 1000.0f);
}

TEST(CrossEntropy, PerfectPredictionHasZeroLossAndGradient) {
  LayerHarness harness("cross_entropy", {}, {TensorShape(1, 1, 1, 3)});
  Tensor input = harness.input();
  input[0] = -200.0f;
  input[1] = 200.0f;
  input[2] = -200.0f;
  Tensor label = harness.label();
  label.fill(0.0f);
  label[1] = 1.0f;
  harness.forward();
  harness.backward();
  EXPECT_EQ(harness.output()[0], 0.0f);
  for (float value : harness.input_grad()) EXPECT_EQ(value, 0.0f);
}

TEST(Bce, GradientsMatchFiniteDifferences) {
  LayerHarness harness("bce_with_logits", {}, {TensorShape(3, 1, 2, 4)});
  GradCheckOptions options;
  options.input_low = -4.0f;
  options.input_high = 4.0f;
  expect_gradients_match(harness, options);
}

TEST(Bce, LargeLogitsStayFinite) {
  expect_finite_for_large_logits("bce_with_logits", 1000.0f);
}

}  // namespace edgetrain::testing
