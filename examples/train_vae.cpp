// Builds the variational autoencoder of models/vae.ini through the C++ API and trains it
// briefly on Fashion-MNIST (the first 6,400 training images; generated images when
// Debian's dataset-fashion-mnist is not installed), printing the loss per epoch: the
// negative evidence lower bound in nats per image, which falls as it learns.
//
//   build/examples/train_vae
#include <filesystem>
#include <iostream>
#include <memory>
#include <numeric>
#include <vector>

#include "edgetrain/data.h"
#include "edgetrain/error.h"
#include "edgetrain/model.h"
#include "edgetrain/rng.h"

namespace {

using namespace edgetrain;

constexpr const char* kImages = "/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz";
constexpr size_t kSamples = 6400;

// Encoder: 1:28:28 -> conv 4 s2 -> 4:14:14 -> conv 8 s2 -> 8:7:7 -> 392 -> mu, logvar (16).
// Decoder: z (16) -> 392 -> 8:7:7 -> conv-transpose 4 -> 4:14:14 -> conv-transpose 1 ->
// 1:28:28 pixel probabilities. vae_loss reads them with mu and logvar; the label is the image.
void add_vae_layers(Model& model) {
  auto conv = [](const char* type, const char* name, const char* filters, const char* kernel) {
    return createLayer(type, {std::string("name=") + name, std::string("filters=") + filters,
                              std::string("kernel_size=") + kernel, "stride=2,2", "padding=1,1"});
  };
  auto norm_relu = [&](const char* name) {
    model.addLayer(createLayer("batch_normalization", {std::string("name=") + name}));
    model.addLayer(
        createLayer("activation", {std::string("name=") + name + "_relu", "activation=relu"}));
  };
  model.addLayer(createLayer("input", {"name=image", "input_shape=1:28:28"}));
  model.addLayer(conv("conv2d", "enc_conv1", "4", "3,3"));
  norm_relu("enc_bn1");
  model.addLayer(conv("conv2d", "enc_conv2", "8", "3,3"));
  norm_relu("enc_bn2");
  model.addLayer(createLayer("flatten", {"name=features"}));
  model.addLayer(createLayer("fully_connected", {"name=mu", "unit=16", "input_layers=features"}));
  model.addLayer(
      createLayer("fully_connected", {"name=logvar", "unit=16", "input_layers=features"}));
  model.addLayer(createLayer("reparametrize", {"name=z", "input_layers=mu,logvar"}));
  model.addLayer(createLayer("fully_connected", {"name=dec_fc", "unit=392", "activation=relu"}));
  model.addLayer(createLayer("reshape", {"name=dec_reshape", "target_shape=8:7:7"}));
  model.addLayer(conv("conv2dtranspose", "dec_deconv1", "4", "4,4"));
  norm_relu("dec_bn1");
  auto recon = conv("conv2dtranspose", "recon", "1", "4,4");
  recon->setProperty({"activation=sigmoid"});
  model.addLayer(std::move(recon));
  model.addLayer(createLayer("vae_loss", {"name=loss", "input_layers=recon,mu,logvar"}));
}

// Images that are not noise: a bright rectangle of random size and place on a dark ground.
std::unique_ptr<Dataset> generated_images() {
  const size_t pixels = 28 * 28;
  Rng rng(7);
  std::vector<float> images(kSamples * pixels, 0.0f);
  for (size_t s = 0; s < kSamples; ++s) {
    const size_t top = rng.below(14), left = rng.below(14);
    const size_t bottom = top + 4 + rng.below(10), right = left + 4 + rng.below(10);
    const float brightness = rng.uniform(0.5f, 1.0f);
    for (size_t y = top; y < bottom; ++y)
      for (size_t x = left; x < right; ++x) images[s * pixels + y * 28 + x] = brightness;
  }
  return std::make_unique<MemoryDataset>(images, pixels, images, pixels);
}

}  // namespace

int main() {
  try {
    Model model({"batch_size=64", "epochs=3", "seed=1"});
    add_vae_layers(model);
    model.setOptimizer(createOptimizer("adam", {"learning_rate=0.001"}));
    model.compile();
    model.initialize();
    model.summary(std::cout);

    std::unique_ptr<Dataset> all;
    std::unique_ptr<Dataset> data;
    if (std::filesystem::exists(kImages)) {
      // The label is the image itself: an AutoencoderDataset over the images alone.
      all = std::make_unique<AutoencoderDataset>(std::make_unique<IdxDataset>(kImages, ""));
      std::vector<size_t> first(kSamples);
      std::iota(first.begin(), first.end(), 0);
      data = std::make_unique<SubsetDataset>(*all, first);
      std::cout << "Fashion-MNIST: the first " << kSamples << " training images\n";
    } else {
      data = generated_images();
      std::cout << kImages << " is missing: " << kSamples << " generated images instead\n";
    }
    for (const EpochResult& epoch : model.train(*data))
      std::cout << "#" << epoch.epoch << " - Training Loss: " << epoch.training_loss
                << " nats per image (" << epoch.seconds << " s)\n";
  } catch (const Error& error) {
    std::cerr << "error: " << error.what() << "\n";
    return 1;
  }
  return 0;
}
