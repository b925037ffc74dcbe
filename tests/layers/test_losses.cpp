#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <string>
#include <vector>

#include "edgetrain/error.h"
#include "edgetrain/model.h"
#include "edgetrain/model_file.h"
#include "support/golden.h"
#include "support/layer_harness.h"

namespace edgetrain::testing {
namespace {

// Fills the input with +-logit_magnitude and the label with one-hot rows that pick a
// negative logit, runs forward and backward, and expects finite results.
void expect_finite_for_large_logits(const std::string& type, float logit_magnitude) {
  LayerHarness harness(type, {}, {TensorShape(2, 1, 1, 4)});
  Tensor input = harness.input();
  for (size_t i = 0; i < input.size(); ++i)
    input[i] = (i % 3 == 0 ? 1.0f : -1.0f) * logit_magnitude;
  Tensor label = harness.label();
  label.fill(0.0f);
  label[1] = 1.0f;  // rows are {+m, -m, -m, +m} and {-m, -m, +m, -m}: the loss is ~2m
  label[4] = 1.0f;
  harness.forward();
  harness.backward();
  EXPECT_TRUE(std::isfinite(harness.output()[0])) << type << " loss " << harness.output()[0];
  EXPECT_GT(harness.output()[0], 0.0f) << type;
  for (float value : harness.input_grad()) EXPECT_TRUE(std::isfinite(value)) << type;
}

// The message of the PropertyError that creating, or else compiling, a `type` loss with
// `properties` on `input` throws. The harness names the loss 'under_test'.
std::string property_error(const std::string& type, const std::vector<std::string>& properties,
                           TensorShape input = TensorShape(2, 1, 1, 4)) {
  try {
    LayerHarness harness(type, properties, {input});
  } catch (const PropertyError& error) {
    return error.what();
  }
  ADD_FAILURE() << "no error for " << type;
  return "";
}

// Expects every fragment in the message.
void expect_message(const std::string& message, const std::vector<std::string>& fragments) {
  for (const std::string& fragment : fragments)
    EXPECT_NE(message.find(fragment), std::string::npos) << fragment << " in: " << message;
}

// -sum label * log_softmax(logits) over one row, in double.
double cross_entropy_row(const float* logits, const float* label, size_t classes) {
  const double max = *std::max_element(logits, logits + classes);
  double sum = 0.0;
  for (size_t i = 0; i < classes; ++i) sum += std::exp(logits[i] - max);
  double loss = 0.0;
  for (size_t i = 0; i < classes; ++i) loss -= label[i] * (logits[i] - max - std::log(sum));
  return loss;
}

// Three well separated clusters in the plane, one-hot labelled, `per_class` each.
MemoryDataset three_clusters(size_t per_class) {
  const float centers[3][2] = {{2.0f, 0.0f}, {-1.0f, 1.7f}, {-1.0f, -1.7f}};
  std::vector<float> inputs, labels;
  Rng rng(5);
  for (size_t i = 0; i < per_class * 3; ++i) {
    const size_t label = i % 3;
    for (float center : centers[label]) inputs.push_back(center + rng.uniform(-0.3f, 0.3f));
    for (size_t c = 0; c < 3; ++c) labels.push_back(c == label ? 1.0f : 0.0f);
  }
  return MemoryDataset(inputs, 2, labels, 3);
}

}  // namespace

TEST(Losses, MatchPyTorch) { run_layer_golden_file("losses.txt"); }

TEST(Losses, AreRegisteredAsLosses) {
  for (const char* type : {"mse", "cross_entropy", "bce_with_logits", "focal_loss"}) {
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
    EXPECT_NE(std::string(error.what()).find("layer 'loss'"), std::string::npos) << error.what();
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

TEST(CrossEntropy, PartialBatchAveragesOverItsOwnRows) {
  // A model compiled for 5 samples evaluates a batch of 2: the loss is the mean over
  // those 2 rows, not over 5.
  Model model({"batch_size=5", "loss=cross_entropy"});
  model.addLayer(createLayer("input", {"input_shape=1:1:2"}));
  model.addLayer(createLayer("fully_connected", {"unit=3"}));
  model.initialize();
  const std::vector<float> inputs = {0.5f, -1.0f, 2.0f, 0.25f};
  const std::vector<float> labels = {0.0f, 1.0f, 0.0f, 0.2f, 0.3f, 0.5f};
  MemoryDataset two(inputs, 2, labels, 3);
  const float loss = model.evaluate(two).loss;
  const std::vector<float> logits = model.predict(inputs, 2);
  const double expected = (cross_entropy_row(&logits[0], &labels[0], 3) +
                           cross_entropy_row(&logits[3], &labels[3], 3)) /
                          2.0;
  EXPECT_NEAR(loss, expected, 1e-5 * expected);
}

TEST(CrossEntropy, TrainsASoftmaxClassifier) {
  // 12 samples in batches of 5: the last batch is partial.
  Model model({"batch_size=5", "epochs=40", "loss=cross_entropy", "seed=3"});
  model.addLayer(createLayer("input", {"input_shape=1:1:2"}));
  model.addLayer(createLayer("fully_connected", {"unit=3"}));
  model.setOptimizer(createOptimizer("sgd", {"learning_rate=0.5"}));
  model.initialize();
  MemoryDataset data = three_clusters(4);
  const std::vector<EpochResult> history = model.train(data);
  EXPECT_LT(history.back().training_loss, 0.1f * history.front().training_loss);
  EXPECT_EQ(model.evaluate(data).accuracy, 1.0f);
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

TEST(CrossEntropy, GradientsMatchFiniteDifferencesWithLabelSmoothing) {
  LayerHarness harness("cross_entropy", {"label_smoothing=0.2"}, {TensorShape(3, 1, 2, 5)});
  GradCheckOptions options;
  options.one_hot_labels = true;
  options.input_low = -3.0f;
  options.input_high = 3.0f;
  expect_gradients_match(harness, options);
  LayerHarness soft("cross_entropy", {"label_smoothing=0.1"}, {TensorShape(4, 1, 1, 6)});
  expect_gradients_match(soft);
}

TEST(CrossEntropy, LabelSmoothingOutsideZeroToOneIsAnError) {
  for (const char* value : {"1", "1.5", "-0.1"})
    expect_message(property_error("cross_entropy", {std::string("label_smoothing=") + value}),
                   {"layer 'under_test' (cross_entropy)", "label_smoothing", "[0, 1)"});
}

TEST(FocalLoss, GradientsMatchFiniteDifferencesWithOneHotLabels) {
  for (const char* gamma : {"gamma=0", "gamma=0.5", "gamma=2", "gamma=3.5"}) {
    LayerHarness harness("focal_loss", {gamma, "alpha=0.5,1,2,0.25,1"}, {TensorShape(3, 1, 2, 5)});
    GradCheckOptions options;
    options.one_hot_labels = true;
    options.input_low = -3.0f;
    options.input_high = 3.0f;
    SCOPED_TRACE(gamma);
    expect_gradients_match(harness, options);
  }
}

TEST(FocalLoss, GradientsMatchFiniteDifferencesWithAnyLabels) {
  // Soft labels that do not sum to 1 per row, and one weight for every class.
  LayerHarness harness("focal_loss", {"gamma=1.5", "alpha=0.75"}, {TensorShape(4, 1, 1, 6)});
  expect_gradients_match(harness);
}

TEST(FocalLoss, GammaZeroIsCrossEntropy) {
  LayerHarness focal("focal_loss", {"gamma=0"}, {TensorShape(3, 1, 1, 4)});
  LayerHarness cross("cross_entropy", {}, {TensorShape(3, 1, 1, 4)});
  for (LayerHarness* harness : {&focal, &cross}) {
    Tensor input = harness->input();
    Tensor label = harness->label();
    for (size_t i = 0; i < input.size(); ++i) {
      input[i] = static_cast<float>(i % 5) - 2.0f;
      label[i] = static_cast<float>(i % 3) / 4.0f;
    }
    harness->forward();
    harness->backward();
  }
  EXPECT_NEAR(focal.output()[0], cross.output()[0], 1e-6f);
  for (size_t i = 0; i < focal.input_grad().size(); ++i)
    EXPECT_NEAR(focal.input_grad()[i], cross.input_grad()[i], 1e-6f) << i;
}

TEST(FocalLoss, LargeLogitsStayFinite) { expect_finite_for_large_logits("focal_loss", 1000.0f); }

TEST(FocalLoss, ConfidentRightPredictionHasNoLossOrGradientForAnyGamma) {
  // p_t rounds to 1: (1 - p_t)^(gamma - 1) is infinite for gamma < 1, its limit term 0.
  for (const char* gamma : {"gamma=0.25", "gamma=2"}) {
    LayerHarness harness("focal_loss", {gamma}, {TensorShape(1, 1, 1, 3)});
    Tensor input = harness.input();
    input[0] = -200.0f;
    input[1] = 200.0f;
    input[2] = -200.0f;
    Tensor label = harness.label();
    label.fill(0.0f);
    label[1] = 1.0f;
    harness.forward();
    harness.backward();
    EXPECT_EQ(harness.output()[0], 0.0f) << gamma;
    for (float value : harness.input_grad()) EXPECT_EQ(value, 0.0f) << gamma;
  }
}

TEST(FocalLoss, BadPropertiesNameTheLayerAndKey) {
  expect_message(property_error("focal_loss", {"gamma=-1"}),
                 {"layer 'under_test' (focal_loss)", "'gamma'", "-1", ">= 0"});
  expect_message(property_error("focal_loss", {"alpha=1,-2"}),
                 {"layer 'under_test' (focal_loss)", "'alpha'", ">= 0"});
  expect_message(property_error("focal_loss", {"alpha="}),
                 {"layer 'under_test' (focal_loss)", "'alpha'", "one per class"});
  // The class count is known at compile: 3 weights for an input of 4 classes.
  expect_message(property_error("focal_loss", {"alpha=1,2,3"}, TensorShape(2, 1, 1, 4)),
                 {"layer 'under_test' (focal_loss)", "'alpha' has 3 weights", "4 classes"});
}

TEST(FocalLoss, LayerSectionOfAModelFileTakesItsProperties) {
  const std::string path = ::testing::TempDir() + "edgetrain_focal_loss.ini";
  std::ofstream(path) << R"([Model]
batch_size = 4
[Optimizer]
Type = sgd
[in]
Type = input
Input_Shape = 1:1:2
[fc]
Type = fully_connected
Unit = 3
[loss]
Type = focal_loss
gamma = 1
alpha = 0.25, 0.5, 1
)";
  ModelFile file = load_model_file(path);
  Model& model = *file.model;
  model.compile();
  EXPECT_EQ(model.layerNames("focal_loss"), std::vector<std::string>{"loss"});
  const std::string message = [&] {
    try {
      load_model_file(path, {"loss.alpha=1,2"}).model->compile();
    } catch (const Error& error) {
      return std::string(error.what());
    }
    return std::string();
  }();
  expect_message(message, {"layer 'loss' (focal_loss)", "'alpha' has 2 weights", "3 classes"});
}

TEST(FocalLoss, TrainsASoftmaxClassifier) {
  Model model({"batch_size=5", "epochs=40", "loss=focal_loss", "seed=3"});
  model.addLayer(createLayer("input", {"input_shape=1:1:2"}));
  model.addLayer(createLayer("fully_connected", {"unit=3"}));
  model.setOptimizer(createOptimizer("sgd", {"learning_rate=0.5"}));
  model.initialize();
  MemoryDataset data = three_clusters(4);
  const std::vector<EpochResult> history = model.train(data);
  EXPECT_LT(history.back().training_loss, 0.1f * history.front().training_loss);
  EXPECT_EQ(model.evaluate(data).accuracy, 1.0f);
}

TEST(Bce, GradientsMatchFiniteDifferences) {
  LayerHarness harness("bce_with_logits", {}, {TensorShape(3, 1, 2, 4)});
  GradCheckOptions options;
  options.input_low = -4.0f;
  options.input_high = 4.0f;
  expect_gradients_match(harness, options);
}

TEST(Bce, LargeLogitsStayFinite) { expect_finite_for_large_logits("bce_with_logits", 1000.0f); }

}  // namespace edgetrain::testing
