#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "edgetrain/error.h"
#include "support/golden.h"
#include "support/layer_harness.h"

namespace edgetrain::testing {
namespace {

// Input ranges that stay well clear (>> epsilon) of the kinks at 0, -3, 3 and 6.
struct Range {
  float low, high;
};

void expect_gradients_match_on(const std::string& activation, const std::vector<Range>& ranges) {
  for (const Range& range : ranges) {
    SCOPED_TRACE(activation + " on [" + std::to_string(range.low) + ", " +
                 std::to_string(range.high) + "]");
    LayerHarness harness("activation", {"activation=" + activation}, {TensorShape(2, 3, 2, 5)});
    GradCheckOptions options;
    options.input_low = range.low;
    options.input_high = range.high;
    expect_gradients_match(harness, options);
  }
}

std::string error_of(const std::vector<std::string>& properties) {
  try {
    LayerHarness harness("activation", properties, {TensorShape(1, 1, 1, 3)});
  } catch (const PropertyError& error) {
    return error.what();
  }
  ADD_FAILURE() << "expected a PropertyError";
  return "";
}

}  // namespace

TEST(Activation, MatchesPyTorch) { run_layer_golden_file("activation.txt"); }

TEST(Activation, SmoothGradientsMatchFiniteDifferences) {
  for (const char* activation : {"elu", "selu", "sigmoid", "tanh", "softmax", "swish", "gelu"})
    expect_gradients_match_on(activation, {{-5.0f, 5.0f}});
}

TEST(Activation, PiecewiseGradientsMatchFiniteDifferencesAwayFromKinks) {
  const std::vector<Range> around_zero = {{-2.9f, -0.1f}, {0.1f, 2.9f}};
  for (const char* activation : {"relu", "leaky_relu"})
    expect_gradients_match_on(activation, around_zero);
  expect_gradients_match_on("relu6", {{-2.9f, -0.1f}, {0.1f, 5.9f}, {6.1f, 8.0f}});
  for (const char* activation : {"hard_swish", "hard_sigmoid"})
    expect_gradients_match_on(activation, {{-6.0f, -3.1f}, {-2.9f, 2.9f}, {3.1f, 6.0f}});
}

TEST(Activation, IdentityWhenNone) {
  LayerHarness harness("activation", {"activation=none"}, {TensorShape(2, 1, 1, 4)});
  expect_gradients_match(harness);
}

// Backward reads only what the derivative needs, so the planner may reuse the rest.
TEST(Activation, DeclaresWhatBackwardReads) {
  struct Expected {
    const char* activation;
    bool input, output;
  };
  for (const Expected& expected :
       {Expected{"relu", false, false}, Expected{"leaky_relu", false, false},
        Expected{"relu6", false, false}, Expected{"hard_sigmoid", false, false},
        Expected{"elu", false, true}, Expected{"selu", false, true},
        Expected{"sigmoid", false, true}, Expected{"softmax", false, true},
        Expected{"gelu", true, false}, Expected{"swish", true, false},
        Expected{"hard_swish", true, false}, Expected{"none", false, false}}) {
    SCOPED_TRACE(expected.activation);
    std::unique_ptr<LayerNode> node =
        createLayer("activation", {std::string("activation=") + expected.activation});
    EXPECT_EQ(node->layer().backward_needs_input(0), expected.input);
    EXPECT_EQ(node->layer().backward_needs_output(0), expected.output);
  }
}

TEST(Activation, MissingActivationIsAnError) {
  const std::string message = error_of({});
  EXPECT_NE(message.find("under_test"), std::string::npos) << message;
  EXPECT_NE(message.find("'activation' is required"), std::string::npos) << message;
  EXPECT_NE(message.find("hard_sigmoid"), std::string::npos) << message;  // lists the names
}

TEST(Activation, UnknownActivationIsAnError) {
  const std::string message = error_of({"activation=softplus"});
  EXPECT_NE(message.find("under_test"), std::string::npos) << message;
  EXPECT_NE(message.find("softplus"), std::string::npos) << message;
  EXPECT_NE(message.find("gelu"), std::string::npos) << message;
}

TEST(Activation, UnknownPropertyIsAnError) {
  const std::string message = error_of({"activation=relu", "slope=0.2"});
  EXPECT_NE(message.find("slope"), std::string::npos) << message;
}

}  // namespace edgetrain::testing
