// A tiny variational autoencoder trains on four binary patterns: the reparametrize layer
// and vae_loss in a real model, with fan-out of mu and logvar to both.
#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "edgetrain/error.h"
#include "edgetrain/model.h"

namespace edgetrain::testing {
namespace {

constexpr size_t kPixels = 8;

// 16 samples, four copies of each of four 8-pixel patterns; the targets are the inputs.
MemoryDataset patterns() {
  const float prototypes[4][kPixels] = {{1, 1, 1, 1, 0, 0, 0, 0},
                                        {0, 0, 0, 0, 1, 1, 1, 1},
                                        {1, 0, 1, 0, 1, 0, 1, 0},
                                        {0, 1, 0, 1, 0, 1, 0, 1}};
  std::vector<float> images;
  for (size_t i = 0; i < 16; ++i)
    images.insert(images.end(), prototypes[i % 4], prototypes[i % 4] + kPixels);
  return MemoryDataset(images, kPixels, images, kPixels);
}

// input -> fully_connected mu, fully_connected logvar -> reparametrize ->
// fully_connected + sigmoid -> vae_loss(recon, mu, logvar), label = the input image.
std::unique_ptr<Model> tiny_vae(const std::string& epochs) {
  auto model = std::make_unique<Model>(
      std::vector<std::string>{"batch_size=4", "epochs=" + epochs, "seed=7"});
  model->addLayer(createLayer("input", {"name=image", "input_shape=1:1:8"}));
  model->addLayer(createLayer("fully_connected", {"name=mu", "unit=2", "input_layers=image"}));
  model->addLayer(createLayer("fully_connected", {"name=logvar", "unit=2", "input_layers=image"}));
  model->addLayer(createLayer("reparametrize", {"name=z", "input_layers=mu,logvar"}));
  model->addLayer(createLayer("fully_connected",
                              {"name=decoder", "unit=8", "activation=sigmoid", "input_layers=z"}));
  model->addLayer(createLayer("vae_loss", {"name=loss", "input_layers=decoder,mu,logvar"}));
  model->setOptimizer(createOptimizer("adam", {"learning_rate=0.05"}));
  model->initialize();
  return model;
}

}  // namespace

TEST(Vae, TrainsOnToyPatterns) {
  std::unique_ptr<Model> model = tiny_vae("80");
  MemoryDataset data = patterns();
  const std::vector<EpochResult> history = model->train(data);
  for (const EpochResult& epoch : history) EXPECT_TRUE(std::isfinite(epoch.training_loss));
  // An untrained decoder costs about 8 * log 2 = 5.5 nats per image.
  EXPECT_GT(history.front().training_loss, 4.0f);
  EXPECT_LT(history.back().training_loss, 0.5f * history.front().training_loss);
  const float evaluation = model->evaluate(data).loss;
  EXPECT_TRUE(std::isfinite(evaluation));
  EXPECT_LT(evaluation, 0.5f * history.front().training_loss);
}

TEST(Vae, SameSeedSameTraining) {
  MemoryDataset data = patterns();
  const std::vector<EpochResult> first = tiny_vae("3")->train(data);
  const std::vector<EpochResult> second = tiny_vae("3")->train(data);
  ASSERT_EQ(first.size(), second.size());
  for (size_t i = 0; i < first.size(); ++i)
    EXPECT_EQ(first[i].training_loss, second[i].training_loss);
}

TEST(Vae, TargetsOfAnotherSizeThanTheReconstructionAreAnError) {
  std::unique_ptr<Model> model = tiny_vae("1");
  MemoryDataset wrong(std::vector<float>(2 * kPixels), kPixels, std::vector<float>(2 * 6), 6);
  try {
    model->train(wrong);
    FAIL() << "expected a ShapeError";
  } catch (const ShapeError& error) {
    EXPECT_NE(std::string(error.what()).find("1:1:1:8"), std::string::npos) << error.what();
  }
}

}  // namespace edgetrain::testing
