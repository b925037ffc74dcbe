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

const TensorShape kImage(2, 1, 2, 3);
const TensorShape kLatent(2, 1, 1, 3);

// The message of the ShapeError VaeLoss::finalize throws for these input shapes. Calls
// finalize directly: a compiled graph gives every input the same batch.
std::string finalize_error(const std::vector<TensorShape>& shapes) {
  std::unique_ptr<Layer> layer = make_layer("vae_loss");
  FinalizeContext context("loss", "vae_loss", shapes[0].batch, shapes, {"recon", "mu", "logvar"},
                          true);
  try {
    layer->finalize(context);
  } catch (const ShapeError& error) {
    return error.what();
  }
  ADD_FAILURE() << "expected a ShapeError";
  return "";
}

// The loss of a (recon, mu, logvar) triple, each a fully_connected layer on the input;
// `frozen_recon` freezes the recon layer, so that the loss's input 0 needs no gradient
// (a frozen decoder after reparametrize would still pass gradients to the encoder).
std::unique_ptr<Model> three_heads(bool frozen_recon) {
  auto model = std::make_unique<Model>(std::vector<std::string>{"batch_size=2", "seed=6"});
  model->addLayer(createLayer("input", {"name=in", "input_shape=1:1:4"}));
  model->addLayer(createLayer("fully_connected",
                              {"name=recon", "unit=4", "activation=sigmoid", "input_layers=in",
                               "trainable=" + std::string(frozen_recon ? "false" : "true")}));
  model->addLayer(createLayer("fully_connected", {"name=mu", "unit=2", "input_layers=in"}));
  model->addLayer(createLayer("fully_connected", {"name=logvar", "unit=2", "input_layers=in"}));
  model->addLayer(createLayer("vae_loss", {"name=loss", "input_layers=recon,mu,logvar"}));
  model->setOptimizer(createOptimizer("sgd", {"learning_rate=0.1"}));
  model->initialize();
  Rng rng(2);
  Tensor input = model->inputs()[0];
  Tensor label = model->labels()[0];
  for (float& value : input) value = rng.uniform(0.0f, 1.0f);
  for (float& value : label) value = rng.uniform(0.0f, 1.0f);
  return model;
}

}  // namespace

TEST(VaeLoss, MatchesPyTorch) { run_layer_golden_file("vae_loss.txt"); }

TEST(VaeLoss, IsRegisteredAsALoss) {
  std::unique_ptr<Layer> layer = make_layer("vae_loss");
  EXPECT_TRUE(layer->is_loss());
  EXPECT_EQ(layer->type(), "vae_loss");
}

TEST(VaeLoss, GradientsMatchFiniteDifferences) {
  // Every input is filled from one range; recon must stay inside (0, 1).
  LayerHarness harness("vae_loss", {}, {kImage, kLatent, kLatent});
  GradCheckOptions options;
  options.input_low = 0.05f;
  options.input_high = 0.95f;
  expect_gradients_match(harness, options);
}

TEST(VaeLoss, GradientsMatchFiniteDifferencesForAnImage) {
  LayerHarness harness("vae_loss", {},
                       {TensorShape(3, 2, 3, 3), TensorShape(3, 1, 1, 2), TensorShape(3, 1, 1, 2)});
  GradCheckOptions options;
  options.input_low = 0.1f;
  options.input_high = 0.9f;
  expect_gradients_match(harness, options);
}

TEST(VaeLoss, PerfectReconstructionOfTheStandardPriorCostsNothing) {
  LayerHarness harness("vae_loss", {}, {kImage, kLatent, kLatent});
  for (size_t i = 0; i < kImage.size(); ++i) harness.input(0)[i] = static_cast<float>(i % 2);
  harness.label().copy_from(harness.input(0));
  harness.input(1).fill(0.0f);  // mu = 0, logvar = 0: N(0, 1) itself, KL = 0
  harness.input(2).fill(0.0f);
  harness.forward();
  harness.backward();
  EXPECT_EQ(harness.output()[0], 0.0f);
  for (size_t i = 0; i < 3; ++i)
    for (float value : harness.input_grad(i)) EXPECT_EQ(value, 0.0f);
}

TEST(VaeLoss, ReconstructionOutsideZeroOneIsNaN) {
  // As documented: no logarithm exists, and Model::trainStep reports the NaN loss.
  LayerHarness harness("vae_loss", {}, {kImage, kLatent, kLatent});
  harness.input(0).fill(0.5f);
  harness.input(0)[3] = 1.5f;
  harness.label().fill(0.5f);
  harness.input(1).fill(0.0f);
  harness.input(2).fill(0.0f);
  harness.forward();
  EXPECT_TRUE(std::isnan(harness.output()[0]));
}

TEST(VaeLoss, OnlyInputsThatNeedAGradientGetOne) {
  // The graph gives the loss no recon gradient tensor when recon is frozen; mu and logvar
  // get the same gradients either way, since the KL term alone depends on them.
  std::unique_ptr<Model> frozen = three_heads(true);
  std::unique_ptr<Model> trained = three_heads(false);
  const std::vector<float> recon_before(frozen->weight("recon", "weight").begin(),
                                        frozen->weight("recon", "weight").end());
  EXPECT_FLOAT_EQ(frozen->trainStep(), trained->trainStep());
  for (size_t i = 0; i < recon_before.size(); ++i)
    EXPECT_EQ(frozen->weight("recon", "weight")[i], recon_before[i]);
  for (const char* layer : {"mu", "logvar"}) {
    const Tensor expected = trained->weight(layer, "weight");
    const Tensor actual = frozen->weight(layer, "weight");
    for (size_t i = 0; i < expected.size(); ++i) EXPECT_FLOAT_EQ(actual[i], expected[i]) << layer;
  }
}

TEST(VaeLoss, MeanAndLogVarianceShapeMismatchIsAnError) {
  const std::string message =
      compile_error<ShapeError>("vae_loss", {}, {kImage, kLatent, TensorShape(2, 1, 1, 4)});
  expect_mentions(message, {"under_test", "input 2", "in2", "2:1:1:4", "2:1:1:3", "in1"});
}

TEST(VaeLoss, BatchMismatchIsAnError) {
  const std::string message =
      finalize_error({TensorShape(2, 1, 2, 2), TensorShape(3, 1, 1, 2), TensorShape(3, 1, 1, 2)});
  expect_mentions(message, {"layer 'loss' (vae_loss)", "input 1", "'mu'", "3:1:1:2", "a batch of 2",
                            "'recon'", "2:1:2:2"});
}

TEST(VaeLoss, WrongInputCountIsAnError) {
  expect_mentions(compile_error<ShapeError>("vae_loss", {}, {kImage, kLatent}),
                  {"under_test", "2 input(s)", "expected 3", "input_layers=RECON,MU,LOGVAR"});
}

TEST(VaeLoss, AsTheModelsLossPropertyItNamesInputLayers) {
  // loss=vae_loss attaches the loss to the last layer only.
  Model model({"batch_size=2", "loss=vae_loss"});
  model.addLayer(createLayer("input", {"input_shape=1:1:4"}));
  model.addLayer(createLayer("fully_connected", {"unit=4", "activation=sigmoid"}));
  try {
    model.compile();
    FAIL() << "expected a ShapeError";
  } catch (const ShapeError& error) {
    expect_mentions(error.what(), {"vae_loss", "1 input(s)", "input_layers=RECON,MU,LOGVAR"});
  }
}

TEST(VaeLoss, UnknownPropertyIsAnError) {
  expect_mentions(compile_error<PropertyError>("vae_loss", {"beta=2"}, {kImage, kLatent, kLatent}),
                  {"under_test", "unknown property 'beta'"});
}

}  // namespace edgetrain::testing
