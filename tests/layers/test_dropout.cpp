#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "edgetrain/error.h"
#include "support/layer_harness.h"
#include "support/partial_batch.h"

namespace edgetrain::testing {
namespace {

// Inputs in [1, 2], so that a zero in the output always means a dropped value.
void fill_input(LayerHarness& harness) {
  Rng rng(5);
  for (float& value : harness.input()) value = rng.uniform(1.0f, 2.0f);
}

std::vector<float> training_output(const std::string& rate, uint64_t seed) {
  LayerHarness harness("dropout", {"dropout_rate=" + rate}, {TensorShape(2, 3, 4, 5)}, seed);
  fill_input(harness);
  harness.forward(true);
  return {harness.output().begin(), harness.output().end()};
}

std::string error_of(const std::string& property) {
  try {
    LayerHarness harness("dropout", {property}, {TensorShape(1, 1, 1, 3)});
  } catch (const PropertyError& error) {
    return error.what();
  }
  ADD_FAILURE() << "expected a PropertyError for " << property;
  return "";
}

}  // namespace

TEST(Dropout, EvaluationIsIdentity) {
  LayerHarness harness("dropout", {"dropout_rate=0.5"}, {TensorShape(2, 3, 4, 5)});
  fill_input(harness);
  const std::vector<float> input(harness.input().begin(), harness.input().end());
  harness.forward(false);
  for (size_t i = 0; i < input.size(); ++i) EXPECT_EQ(harness.output()[i], input[i]);
  for (size_t i = 0; i < input.size(); ++i) harness.output_grad()[i] = static_cast<float>(i);
  harness.backward();
  for (size_t i = 0; i < input.size(); ++i)
    EXPECT_EQ(harness.input_grad()[i], static_cast<float>(i));
}

TEST(Dropout, RateZeroIsIdentity) {
  LayerHarness harness("dropout", {"dropout_rate=0"}, {TensorShape(2, 3, 4, 5)});
  fill_input(harness);
  const std::vector<float> input(harness.input().begin(), harness.input().end());
  harness.forward(true);
  for (size_t i = 0; i < input.size(); ++i) EXPECT_EQ(harness.output()[i], input[i]);
  for (size_t i = 0; i < input.size(); ++i) harness.output_grad()[i] = static_cast<float>(i);
  harness.backward();
  for (size_t i = 0; i < input.size(); ++i)
    EXPECT_EQ(harness.input_grad()[i], static_cast<float>(i));
}

TEST(Dropout, SameSeedSameMaskOtherSeedOtherMask) {
  EXPECT_EQ(training_output("0.5", 1), training_output("0.5", 1));
  EXPECT_NE(training_output("0.5", 1), training_output("0.5", 2));
}

TEST(Dropout, ReseedingRepeatsTheMask) {
  LayerHarness harness("dropout", {"dropout_rate=0.5"}, {TensorShape(2, 3, 4, 5)});
  fill_input(harness);
  harness.reseed(9);
  harness.forward(true);
  const std::vector<float> first(harness.output().begin(), harness.output().end());
  harness.forward(true);
  const std::vector<float> second(harness.output().begin(), harness.output().end());
  harness.reseed(9);
  harness.forward(true);
  const std::vector<float> third(harness.output().begin(), harness.output().end());
  EXPECT_NE(first, second);  // the stream moves on between forwards
  EXPECT_EQ(first, third);
}

TEST(Dropout, KeepsAboutOneMinusRate) {
  // 32768 values: the kept fraction has a standard deviation below 0.003.
  for (const auto& [properties, rate] : std::vector<std::pair<std::vector<std::string>, float>>{
           {{}, 0.5f}, {{"dropout_rate=0.2"}, 0.2f}, {{"rate=0.75"}, 0.75f}}) {
    SCOPED_TRACE(rate);
    LayerHarness harness("dropout", properties, {TensorShape(4, 8, 32, 32)});
    fill_input(harness);
    harness.forward(true);
    size_t kept = 0;
    for (float value : harness.output()) kept += value != 0.0f;
    EXPECT_NEAR(static_cast<double>(kept) / harness.output().size(), 1.0 - rate, 0.015);
  }
}

TEST(Dropout, ScalesKeptValuesByOneOverKeepProbability) {
  LayerHarness harness("dropout", {"dropout_rate=0.3"}, {TensorShape(2, 3, 4, 5)});
  fill_input(harness);
  harness.forward(true);
  const float scale = 1.0f / (1.0f - 0.3f);
  size_t dropped = 0;
  for (size_t i = 0; i < harness.output().size(); ++i) {
    const float y = harness.output()[i];
    if (y == 0.0f) {
      ++dropped;
    } else {
      EXPECT_EQ(y, harness.input()[i] * scale) << i;
    }
  }
  EXPECT_GT(dropped, 0u);
}

TEST(Dropout, BackwardAppliesTheForwardMask) {
  LayerHarness harness("dropout", {"dropout_rate=0.4"}, {TensorShape(2, 3, 4, 5)});
  fill_input(harness);
  harness.forward(true);
  const std::vector<float> output(harness.output().begin(), harness.output().end());
  harness.output_grad().fill(1.0f);
  harness.backward();
  const float scale = 1.0f / (1.0f - 0.4f);
  for (size_t i = 0; i < output.size(); ++i)
    EXPECT_EQ(harness.input_grad()[i], output[i] == 0.0f ? 0.0f : scale) << i;
}

TEST(Dropout, GradientsMatchFiniteDifferences) {
  LayerHarness harness("dropout", {"dropout_rate=0.5"}, {TensorShape(2, 3, 2, 5)});
  expect_gradients_match(harness);
}

TEST(Dropout, BackwardReadsNeitherInputNorOutput) {
  std::unique_ptr<LayerNode> node = createLayer("dropout", {"dropout_rate=0.5"});
  EXPECT_FALSE(node->layer().backward_needs_input(0));
  EXPECT_FALSE(node->layer().backward_needs_output(0));
}

TEST(Dropout, PartialLastBatch) {
  expect_partial_batch_matches("dropout", {"dropout_rate=0.5"}, TensorShape(1, 2, 3, 4), 5, 3);
}

TEST(Dropout, BadRateIsAnError) {
  for (const std::string property : {"dropout_rate=1.0", "dropout_rate=-0.1", "rate=1.5"}) {
    const std::string message = error_of(property);
    EXPECT_NE(message.find(property.substr(0, property.find('='))), std::string::npos) << message;
    EXPECT_NE(message.find(property.substr(property.find('=') + 1)), std::string::npos) << message;
    EXPECT_NE(message.find("[0, 1)"), std::string::npos) << message;
  }
  EXPECT_NE(error_of("dropout_rate=half").find("a finite number"), std::string::npos);
}

TEST(Dropout, UnknownPropertyIsAnError) {
  const std::string message = error_of("p=0.5");
  EXPECT_NE(message.find("'p'"), std::string::npos) << message;
  EXPECT_NE(message.find("dropout_rate"), std::string::npos) << message;
}

}  // namespace edgetrain::testing
