#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "edgetrain/error.h"
#include "support/golden.h"
#include "support/layer_harness.h"
#include "support/partial_batch.h"

namespace edgetrain::testing {
namespace {

// Running statistics away from the zeros/ones defaults, for evaluation-mode tests.
void set_running_statistics(LayerHarness& harness) {
  Tensor mean = harness.weight("running_mean");
  Tensor var = harness.weight("running_var");
  for (size_t k = 0; k < mean.size(); ++k) {
    mean[k] = 0.3f - 0.2f * static_cast<float>(k);
    var[k] = 0.5f + 0.25f * static_cast<float>(k);
  }
}

template <typename ErrorType>
std::string error_of(const std::vector<std::string>& properties, TensorShape shape) {
  try {
    LayerHarness harness("batch_normalization", properties, {shape});
    harness.forward(true);
  } catch (const ErrorType& error) {
    return error.what();
  }
  ADD_FAILURE() << "expected an error";
  return "";
}

void expect_property_error(const std::string& property, const std::string& expected) {
  SCOPED_TRACE(property);
  const std::string message = error_of<PropertyError>({property}, TensorShape(2, 3, 2, 2));
  const std::string key = property.substr(0, property.find('='));
  EXPECT_NE(message.find("'" + key + "'"), std::string::npos) << message;
  EXPECT_NE(message.find(property.substr(key.size() + 1)), std::string::npos) << message;
  EXPECT_NE(message.find(expected), std::string::npos) << message;
}

}  // namespace

TEST(BatchNormalization, MatchesPyTorch) { run_layer_golden_file("batch_normalization.txt"); }

TEST(BatchNormalization, TrainingGradientsMatchFiniteDifferences) {
  for (const auto& [properties, shape] :
       std::vector<std::pair<std::vector<std::string>, TensorShape>>{
           {{}, TensorShape(2, 3, 3, 4)},                  // per channel
           {{}, TensorShape(5, 1, 1, 4)},                  // per feature
           {{"axis=height"}, TensorShape(2, 2, 3, 4)}}) {  // per row
    SCOPED_TRACE(shape.str());
    LayerHarness harness("batch_normalization", properties, {shape});
    Tensor gamma = harness.weight("gamma");
    for (size_t k = 0; k < gamma.size(); ++k) gamma[k] = 0.5f + 0.3f * static_cast<float>(k);
    expect_gradients_match(harness);
  }
}

TEST(BatchNormalization, EvaluationGradientsMatchFiniteDifferences) {
  for (const TensorShape& shape : {TensorShape(2, 3, 3, 4), TensorShape(5, 1, 1, 4)}) {
    SCOPED_TRACE(shape.str());
    LayerHarness harness("batch_normalization", {}, {shape});
    set_running_statistics(harness);
    GradCheckOptions options;
    options.training = false;
    expect_gradients_match(harness, options);
  }
}

TEST(BatchNormalization, DefaultAxisIsWidthForFlatInputElseChannel) {
  struct Expected {
    std::vector<std::string> properties;
    TensorShape input, weight;
  };
  for (const Expected& expected : {
           Expected{{}, TensorShape(2, 3, 4, 5), TensorShape(1, 3, 1, 1)},
           Expected{{}, TensorShape(2, 1, 1, 5), TensorShape(1, 1, 1, 5)},
           Expected{{}, TensorShape(2, 1, 4, 5), TensorShape(1, 1, 1, 1)},
           Expected{{"axis=width"}, TensorShape(2, 1, 4, 5), TensorShape(1, 1, 1, 5)},
           Expected{{"axis=channel"}, TensorShape(2, 1, 4, 5), TensorShape(1, 1, 1, 1)},
           Expected{{"axis=2"}, TensorShape(2, 3, 4, 5), TensorShape(1, 1, 4, 1)},
           Expected{{"axis=width"}, TensorShape(2, 3, 4, 5), TensorShape(1, 1, 1, 5)},
       }) {
    SCOPED_TRACE(expected.input.str());
    LayerHarness harness("batch_normalization", expected.properties, {expected.input});
    for (const char* name : {"gamma", "beta", "running_mean", "running_var"})
      EXPECT_EQ(harness.weight(name).shape(), expected.weight) << name;
  }
}

TEST(BatchNormalization, InitializersAreApplied) {
  LayerHarness harness("batch_normalization",
                       {"gamma_initializer=zeros", "beta_initializer=ones",
                        "moving_mean_initializer=ones", "moving_variance_initializer=zeros"},
                       {TensorShape(2, 3, 2, 2)});
  for (float value : harness.weight("gamma")) EXPECT_EQ(value, 0.0f);
  for (float value : harness.weight("beta")) EXPECT_EQ(value, 1.0f);
  for (float value : harness.weight("running_mean")) EXPECT_EQ(value, 1.0f);
  for (float value : harness.weight("running_var")) EXPECT_EQ(value, 0.0f);
}

TEST(BatchNormalization, EvaluationLeavesRunningStatisticsAlone) {
  LayerHarness harness("batch_normalization", {}, {TensorShape(3, 2, 2, 2)});
  set_running_statistics(harness);
  const std::vector<float> mean(harness.weight("running_mean").begin(),
                                harness.weight("running_mean").end());
  for (size_t i = 0; i < harness.input().size(); ++i) harness.input()[i] = static_cast<float>(i);
  harness.forward(false);
  for (size_t k = 0; k < mean.size(); ++k) EXPECT_EQ(harness.weight("running_mean")[k], mean[k]);
}

TEST(BatchNormalization, StatisticsAreStateNotParameters) {
  LayerHarness harness("batch_normalization", {}, {TensorShape(3, 2, 2, 2)});
  harness.forward();
  harness.output_grad().fill(1.0f);
  harness.backward();
  EXPECT_FALSE(harness.weight_grad("gamma").empty());
  EXPECT_FALSE(harness.weight_grad("beta").empty());
  EXPECT_TRUE(harness.weight_grad("running_mean").empty());
  EXPECT_TRUE(harness.weight_grad("running_var").empty());
}

TEST(BatchNormalization, FrozenLayerStillPassesGradientsOn) {
  LayerHarness harness("batch_normalization", {}, {TensorShape(3, 2, 2, 2)}, 1, false);
  expect_gradients_match(harness);
  EXPECT_TRUE(harness.weight_grad("gamma").empty());
}

TEST(BatchNormalization, BackwardReadsNeitherInputNorOutput) {
  std::unique_ptr<LayerNode> node = createLayer("batch_normalization");
  EXPECT_FALSE(node->layer().backward_needs_input(0));
  EXPECT_FALSE(node->layer().backward_needs_output(0));
}

TEST(BatchNormalization, PartialLastBatch) {
  expect_partial_batch_matches("batch_normalization", {}, TensorShape(1, 2, 3, 4), 5, 3);
  expect_partial_batch_matches("batch_normalization", {}, TensorShape(1, 1, 1, 4), 5, 3);
}

TEST(BatchNormalization, TrainingWithOneValuePerFeatureIsAnError) {
  const std::string message = error_of<ShapeError>({}, TensorShape(1, 1, 1, 4));
  EXPECT_NE(message.find("under_test"), std::string::npos) << message;
  EXPECT_NE(message.find("more than one value per feature"), std::string::npos) << message;
  // Evaluation uses the running statistics and works on a single sample.
  LayerHarness harness("batch_normalization", {}, {TensorShape(1, 1, 1, 4)});
  EXPECT_NO_THROW(harness.forward(false));
}

TEST(BatchNormalization, BadPropertiesAreErrors) {
  expect_property_error("momentum=1.5", "[0, 1]");
  expect_property_error("momentum=-0.1", "[0, 1]");
  expect_property_error("momentum=fast", "a finite number");
  expect_property_error("epsilon=0", "> 0");
  expect_property_error("epsilon=-1e-3", "> 0");
  expect_property_error("axis=depth", "channel, height, width");
  expect_property_error("gamma_initializer=random", "xavier_uniform");
  expect_property_error("moving_variance_initializer=2", "ones");
}

TEST(BatchNormalization, UnknownPropertyIsAnError) {
  const std::string message = error_of<PropertyError>({"decay=0.9"}, TensorShape(2, 3, 2, 2));
  EXPECT_NE(message.find("decay"), std::string::npos) << message;
  EXPECT_NE(message.find("momentum"), std::string::npos) << message;  // lists the keys
}

}  // namespace edgetrain::testing
