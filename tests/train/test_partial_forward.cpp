// Model::forwardFrom: running a model from a layer's output onward (a VAE's decoder from
// z) gives what a full forward gives, batch by batch, without reading anything else; and
// its errors.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "edgetrain/error.h"
#include "edgetrain/model.h"
#include "edgetrain/rng.h"

namespace edgetrain::testing {
namespace {

constexpr size_t kPixels = 8;

// image -> mu, logvar -> reparametrize z -> fc + sigmoid -> reshape -> vae_loss, with a
// second head on z (fan-out) and a layer mixing z with mu.
std::unique_ptr<Model> vae_shaped(bool with_optimizer = true) {
  auto model = std::make_unique<Model>(std::vector<std::string>{"batch_size=4", "seed=3"});
  model->addLayer(createLayer("input", {"name=image", "input_shape=1:1:8"}));
  model->addLayer(createLayer("fully_connected", {"name=mu", "unit=3", "input_layers=image"}));
  model->addLayer(createLayer("fully_connected", {"name=logvar", "unit=3", "input_layers=image"}));
  model->addLayer(createLayer("reparametrize", {"name=z", "input_layers=mu,logvar"}));
  model->addLayer(createLayer("fully_connected",
                              {"name=hidden", "unit=6", "activation=relu", "input_layers=z"}));
  model->addLayer(createLayer(
      "fully_connected", {"name=decoder", "unit=8", "activation=sigmoid", "input_layers=hidden"}));
  model->addLayer(
      createLayer("reshape", {"name=picture", "target_shape=1:2:4", "input_layers=decoder"}));
  model->addLayer(createLayer("flatten", {"name=flat", "input_layers=picture"}));
  model->addLayer(createLayer("vae_loss", {"name=loss", "input_layers=flat,mu,logvar"}));
  model->addLayer(createLayer("fully_connected", {"name=side", "unit=2", "input_layers=z"}));
  model->addLayer(createLayer("addition", {"name=mixed", "input_layers=z,mu"}));
  if (with_optimizer) model->setOptimizer(createOptimizer("sgd", {"learning_rate=0.1"}));
  model->initialize();
  return model;
}

std::vector<float> random_values(size_t count, uint64_t seed) {
  Rng rng(seed);
  std::vector<float> values(count);
  for (float& value : values) value = rng.uniform();
  return values;
}

void expect_near_all(const std::vector<float>& actual, const std::vector<float>& expected) {
  ASSERT_EQ(actual.size(), expected.size());
  for (size_t i = 0; i < actual.size(); ++i) EXPECT_FLOAT_EQ(actual[i], expected[i]) << "at " << i;
}

TEST(PartialForward, FromZEqualsAFullForward) {
  std::unique_ptr<Model> model = vae_shaped();
  const size_t count = 6;  // a full batch of 4 and a partial one of 2
  const std::vector<float> images = random_values(count * kPixels, 1);
  const std::vector<float> full = model->predict(images, count);
  ASSERT_EQ(full.size(), count * kPixels);
  // In evaluation z = mu: what the full forward gave z.
  const std::vector<float> mu = model->forwardFrom("image", images, count, "mu");
  ASSERT_EQ(mu.size(), count * 3);
  expect_near_all(model->forwardFrom("z", mu, count), full);
  // The default output is the loss's input; naming it (or the view before it) is the same.
  expect_near_all(model->forwardFrom("z", mu, count, "flat"), full);
  expect_near_all(model->forwardFrom("z", mu, count, "decoder"), full);
}

TEST(PartialForward, ReadsNothingButTheGivenOutput) {
  std::unique_ptr<Model> model = vae_shaped();
  const std::vector<float> z = random_values(4 * 3, 2);
  const std::vector<float> expected = model->forwardFrom("z", z, 4);
  // Poison the inputs, labels and mu: the decoder's result must not change.
  const float nan = std::numeric_limits<float>::quiet_NaN();
  model->inputs()[0].fill(nan);
  model->labels()[0].fill(nan);
  model->forward();
  expect_near_all(model->forwardFrom("z", z, 4), expected);
  for (float value : expected) EXPECT_TRUE(value > 0.0f && value < 1.0f);
}

TEST(PartialForward, FanOutHeadsAreComputedMixedLayersAreNot) {
  std::unique_ptr<Model> model = vae_shaped();
  const std::vector<float> z = random_values(2 * 3, 3);
  EXPECT_EQ(model->forwardFrom("z", z, 2, "side").size(), 2u * 2u);
  EXPECT_EQ(model->forwardFrom("z", z, 2, "z"), z);
  try {
    model->forwardFrom("z", z, 2, "mixed");
    FAIL() << "expected an Error";
  } catch (const Error& error) {
    EXPECT_STREQ(error.what(),
                 "forwardFrom(): the output of layer 'mixed' is not computed from layer 'z' alone");
  }
  EXPECT_THROW(model->forwardFrom("z", z, 2, "mu"), Error);
}

TEST(PartialForward, Errors) {
  std::unique_ptr<Model> model = vae_shaped();
  const std::vector<float> z = random_values(3, 4);
  auto message = [&](auto call) -> std::string {
    try {
      call();
    } catch (const Error& error) {
      return error.what();
    }
    return "no error";
  };
  EXPECT_EQ(message([&] { model->forwardFrom("nope", z, 1); }),
            "forwardFrom(): no layer named 'nope'");
  EXPECT_EQ(message([&] { model->forwardFrom("z", z, 1, "nope"); }),
            "forwardFrom(): no layer named 'nope'");
  EXPECT_EQ(message([&] { model->forwardFrom("loss", z, 1); }),
            "forwardFrom(): layer 'loss' is a loss; start from a layer that computes values");
  EXPECT_THROW(model->forwardFrom("z", z, 2), ShapeError);
  EXPECT_EQ(message([&] { model->forwardFrom("z", z, 2); }),
            "forwardFrom(): 3 values for 2 samples; the output of layer 'z' holds 3 per sample "
            "(1:1:1:3)");

  Model uninitialized({"batch_size=1"});
  uninitialized.addLayer(createLayer("input", {"name=x", "input_shape=1:1:2"}));
  EXPECT_THROW(uninitialized.forwardFrom("x", z, 1), StateError);
}

TEST(PartialForward, OutputsWhoseMemoryIsReusedAreRefused) {
  // relu's backward needs its output, not its input: 'a' is dead once 'r' has run.
  Model model({"batch_size=2", "seed=1", "loss=mse"});
  model.addLayer(createLayer("input", {"name=x", "input_shape=1:1:4"}));
  model.addLayer(createLayer("fully_connected", {"name=a", "unit=4"}));
  model.addLayer(createLayer("activation", {"name=r", "activation=relu"}));
  model.addLayer(createLayer("fully_connected", {"name=c", "unit=4"}));
  model.setOptimizer(createOptimizer("sgd", {}));
  model.initialize();
  const std::vector<float> x = random_values(4, 5);
  EXPECT_THROW(model.forwardFrom("x", x, 1, "a"), StateError);
  expect_near_all(model.forwardFrom("x", x, 1), model.predict(x, 1));
  // Set from outside, 'a' is read by 'r' before anything reuses its memory.
  EXPECT_EQ(model.forwardFrom("a", x, 1).size(), 4u);
}

TEST(PartialForward, LayerNamesAndOutputShapes) {
  std::unique_ptr<Model> model = vae_shaped(false);
  EXPECT_EQ(model->layerNames("reparametrize"), std::vector<std::string>{"z"});
  EXPECT_TRUE(model->layerNames("conv2d").empty());
  const std::vector<std::string> all = model->layerNames();
  EXPECT_EQ(all.front(), "image");
  EXPECT_GE(all.size(), 11u);
  EXPECT_EQ(model->outputShape("picture").str(), "1:1:2:4");
  EXPECT_THROW(model->outputShape("nope"), Error);
}

}  // namespace
}  // namespace edgetrain::testing
