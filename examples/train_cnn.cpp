// Builds a small CNN through the C++ API, prints its summary with the memory plan,
// trains it for a few epochs on random data and evaluates it.
//
//   build/train_cnn
#include <iostream>
#include <vector>

#include "edgetrain/error.h"
#include "edgetrain/model.h"
#include "edgetrain/rng.h"

int main() {
  using namespace edgetrain;
  try {
    Model model({"batch_size=32", "epochs=3", "loss=cross_entropy", "seed=1"});
    model.addLayer(createLayer("input", {"name=input", "input_shape=1:28:28"}));
    model.addLayer(createLayer("conv2d", {"name=conv1", "filters=8", "kernel_size=3,3",
                                          "padding=same", "activation=relu"}));
    model.addLayer(createLayer("pooling2d", {"name=pool1", "pooling=max", "pool_size=2,2"}));
    model.addLayer(createLayer("conv2d", {"name=conv2", "filters=16", "kernel_size=3,3",
                                          "padding=same", "activation=relu"}));
    model.addLayer(createLayer("pooling2d", {"name=pool2", "pooling=max", "pool_size=2,2"}));
    model.addLayer(createLayer("flatten", {"name=flatten"}));
    model.addLayer(createLayer("fully_connected", {"name=fc1", "unit=64", "activation=relu"}));
    model.addLayer(createLayer("fully_connected", {"name=fc2", "unit=10"}));
    model.setOptimizer(createOptimizer("adam", {"learning_rate=0.001"}));
    model.compile();
    model.initialize();
    model.summary(std::cout);

    // Random images whose class is the brightest of 10 horizontal bands, so that
    // the loss has something to learn.
    const size_t samples = 512, pixels = 28 * 28, classes = 10;
    Rng rng(7);
    std::vector<float> images(samples * pixels), labels(samples * classes, 0.0f);
    for (size_t s = 0; s < samples; ++s) {
      const size_t label = rng.below(classes);
      for (size_t p = 0; p < pixels; ++p) {
        const size_t band = (p / 28) * classes / 28;
        images[s * pixels + p] = rng.uniform() * (band == label ? 1.0f : 0.5f);
      }
      labels[s * classes + label] = 1.0f;
    }
    MemoryDataset data(images, pixels, labels, classes);

    for (const EpochResult& epoch : model.train(data))
      std::cout << "#" << epoch.epoch << " - Training Loss: " << epoch.training_loss << " ("
                << epoch.seconds << " s)\n";
    EvaluationResult result = model.evaluate(data);
    std::cout << "Accuracy on the training data: " << result.accuracy * 100.0f << "%\n";
  } catch (const Error& error) {
    std::cerr << "error: " << error.what() << "\n";
    return 1;
  }
  return 0;
}
