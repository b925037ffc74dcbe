#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "edgetrain/error.h"
#include "edgetrain/model.h"
#include "support/golden.h"
#include "support/graph_checks.h"
#include "support/layer_harness.h"

namespace edgetrain::testing {
namespace {

const TensorShape kLatent(3, 1, 1, 4);

// mu in [-2, 2] and logvar in [-3, 3].
void fill_inputs(LayerHarness& harness) {
  Rng rng(5);
  for (float& value : harness.input(0)) value = rng.uniform(-2.0f, 2.0f);
  for (float& value : harness.input(1)) value = rng.uniform(-3.0f, 3.0f);
}

std::vector<float> training_output(uint64_t seed) {
  LayerHarness harness("reparametrize", {}, {kLatent, kLatent}, seed);
  fill_inputs(harness);
  harness.forward(true);
  return {harness.output().begin(), harness.output().end()};
}

// input -> fully_connected mu, fully_connected logvar -> reparametrize -> mse, compiled for
// `compiled_batch` samples, with the first `batch` samples of inputs and labels set.
std::unique_ptr<Model> latent_model(size_t compiled_batch, size_t batch) {
  auto model = std::make_unique<Model>(std::vector<std::string>{
      "batch_size=" + std::to_string(compiled_batch), "loss=mse", "seed=4"});
  model->addLayer(createLayer("input", {"name=in", "input_shape=1:1:3"}));
  model->addLayer(createLayer("fully_connected", {"name=mu", "unit=2", "input_layers=in"}));
  model->addLayer(createLayer("fully_connected", {"name=logvar", "unit=2", "input_layers=in"}));
  model->addLayer(createLayer("reparametrize", {"name=z", "input_layers=mu,logvar"}));
  model->setOptimizer(createOptimizer("sgd", {"learning_rate=0.1"}));
  model->initialize();
  Rng rng(8);
  Tensor input = model->inputs()[0];
  Tensor label = model->labels()[0];
  for (size_t i = 0; i < batch * 3; ++i) input[i] = rng.uniform(-1.0f, 1.0f);
  for (size_t i = 0; i < batch * 2; ++i) label[i] = rng.uniform(-1.0f, 1.0f);
  return model;
}

}  // namespace

TEST(Reparametrize, MatchesPyTorch) { run_layer_golden_file("reparametrize.txt"); }

TEST(Reparametrize, GradientsMatchFiniteDifferencesWithFixedNoise) {
  // expect_gradients_match reseeds before every forward, so each one draws the same eps.
  LayerHarness harness("reparametrize", {}, {TensorShape(2, 2, 1, 3), TensorShape(2, 2, 1, 3)});
  GradCheckOptions options;
  options.input_low = -2.0f;
  options.input_high = 2.0f;
  expect_gradients_match(harness, options);
}

TEST(Reparametrize, EpsIsTheSeededNormalStreamInOrder) {
  LayerHarness harness("reparametrize", {}, {kLatent, kLatent});
  fill_inputs(harness);
  harness.reseed(21);
  harness.forward(true);
  Rng rng(21);
  for (size_t i = 0; i < kLatent.size(); ++i) {
    const float expected =
        harness.input(0)[i] + rng.normal() * std::exp(0.5f * harness.input(1)[i]);
    EXPECT_FLOAT_EQ(harness.output()[i], expected) << i;
  }
}

TEST(Reparametrize, SameSeedSameSamplesOtherSeedOtherSamples) {
  EXPECT_EQ(training_output(1), training_output(1));
  EXPECT_NE(training_output(1), training_output(2));
}

TEST(Reparametrize, EachForwardDrawsNewNoise) {
  LayerHarness harness("reparametrize", {}, {kLatent, kLatent});
  fill_inputs(harness);
  harness.reseed(9);
  harness.forward(true);
  const std::vector<float> first(harness.output().begin(), harness.output().end());
  harness.forward(true);
  const std::vector<float> second(harness.output().begin(), harness.output().end());
  harness.reseed(9);
  harness.forward(true);
  const std::vector<float> third(harness.output().begin(), harness.output().end());
  EXPECT_NE(first, second);
  EXPECT_EQ(first, third);
}

TEST(Reparametrize, SamplesHaveMeanMuAndVarianceExpLogvar) {
  // 65536 samples of N(1, 4): the sample mean is within 0.025 and the variance within
  // 0.1 of the truth with overwhelming probability.
  const TensorShape shape(16, 1, 64, 64);
  LayerHarness harness("reparametrize", {}, {shape, shape});
  harness.input(0).fill(1.0f);
  harness.input(1).fill(std::log(4.0f));
  harness.forward(true);
  double sum = 0.0, sum_squares = 0.0;
  for (float z : harness.output()) {
    sum += z;
    sum_squares += static_cast<double>(z) * z;
  }
  const double mean = sum / shape.size();
  EXPECT_NEAR(mean, 1.0, 0.025);
  EXPECT_NEAR(sum_squares / shape.size() - mean * mean, 4.0, 0.1);
}

TEST(Reparametrize, EvaluationReturnsTheMean) {
  LayerHarness harness("reparametrize", {}, {kLatent, kLatent});
  fill_inputs(harness);
  harness.forward(false);
  for (size_t i = 0; i < kLatent.size(); ++i) EXPECT_EQ(harness.output()[i], harness.input(0)[i]);
  for (size_t i = 0; i < kLatent.size(); ++i) harness.output_grad()[i] = static_cast<float>(i);
  harness.backward();
  for (size_t i = 0; i < kLatent.size(); ++i) {
    EXPECT_EQ(harness.input_grad(0)[i], static_cast<float>(i));
    EXPECT_EQ(harness.input_grad(1)[i], 0.0f);
  }
}

TEST(Reparametrize, BackwardReadsNeitherInputs) {
  LayerHarness harness("reparametrize", {}, {kLatent, kLatent});
  for (int input : harness.graph().input_tensors)
    EXPECT_FALSE(alive_in_derivative(harness.graph(), input));
}

TEST(Reparametrize, OnlyInputsThatNeedAGradientGetOne) {
  const FrozenFirstInput run = run_with_frozen_first_input("reparametrize", {}, kLatent, kLatent);
  ASSERT_EQ(run.input_grads.size(), 2u);
  EXPECT_TRUE(run.input_grads[0].empty());
  EXPECT_EQ(run.input_grads[1].size(), kLatent.size());
}

TEST(Reparametrize, PartialLastBatchUsesLeadingSamples) {
  // The same seed draws the same eps for the first samples whatever the compiled batch.
  std::unique_ptr<Model> larger = latent_model(3, 2);
  std::unique_ptr<Model> exact = latent_model(2, 2);
  EXPECT_FLOAT_EQ(larger->trainStep(2), exact->trainStep(2));
  for (const char* layer : {"mu", "logvar"})
    for (const char* name : {"weight", "bias"}) {
      const Tensor expected = exact->weight(layer, name);
      const Tensor actual = larger->weight(layer, name);
      for (size_t i = 0; i < expected.size(); ++i)
        EXPECT_FLOAT_EQ(actual[i], expected[i]) << layer << ":" << name << "[" << i << "]";
    }
}

TEST(Reparametrize, ShapeMismatchIsAnError) {
  const std::string message = compile_error<ShapeError>(
      "reparametrize", {}, {TensorShape(2, 1, 1, 4), TensorShape(2, 1, 1, 3)});
  expect_mentions(message, {"under_test", "input 1", "in1", "2:1:1:3", "2:1:1:4", "in0"});
}

TEST(Reparametrize, OneOrThreeInputsAreAnError) {
  const TensorShape shape(1, 1, 1, 2);
  expect_mentions(compile_error<ShapeError>("reparametrize", {}, {shape}),
                  {"under_test", "1 inputs", "expected 2", "input_layers"});
  expect_mentions(compile_error<ShapeError>("reparametrize", {}, {shape, shape, shape}),
                  {"under_test", "3 inputs", "expected 2"});
}

TEST(Reparametrize, UnknownPropertyIsAnError) {
  const TensorShape shape(1, 1, 1, 2);
  expect_mentions(
      compile_error<PropertyError>("reparametrize", {"sample_in_eval=true"}, {shape, shape}),
      {"under_test", "unknown property 'sample_in_eval'"});
}

}  // namespace edgetrain::testing
