// The VAE of models/vae.ini, with PyTorch's initial weights and data, trains 20 Adam steps;
// its loss curve must match PyTorch's (tools/golden/gen_vae_end_to_end.py) within 1e-3
// relative. The reparametrization noise is not injected: the PyTorch side reproduces the
// draws of our reparametrize layer from the model's seed with EdgetrainRng.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>

#include "edgetrain/model.h"
#include "edgetrain/model_file.h"
#include "support/golden.h"

namespace edgetrain::testing {
namespace {

constexpr size_t kSteps = 20, kBatch = 8, kBatches = 4;

TEST(VaePyTorch, LossCurveOfModelsVaeIniMatchesPyTorch) {
  auto golden = load_golden("end_to_end_vae.txt");
  ASSERT_EQ(golden.size(), 1u);
  const GoldenCase& reference = golden[0];
  const auto seed = static_cast<uint64_t>(reference.at("model:seed").values.at(0));
  ModelFile file =
      load_model_file(std::string(EDGETRAIN_SOURCE_DIR) + "/models/vae.ini",
                      {"batch_size=" + std::to_string(kBatch), "seed=" + std::to_string(seed)});
  Model& model = *file.model;
  model.compile();
  model.initialize();

  // Every trainable weight comes from PyTorch; the running statistics start as PyTorch's
  // (zeros, ones) and only matter for evaluation.
  size_t loaded = 0;
  for (const auto& [key, value] : reference.tensors) {
    if (!key.starts_with("weight:")) continue;
    const std::string name = key.substr(7);
    const size_t colon = name.find(':');
    Tensor target = model.weight(name.substr(0, colon), name.substr(colon + 1));
    ASSERT_EQ(target.size(), value.values.size()) << name;
    std::copy(value.values.begin(), value.values.end(), target.data());
    ++loaded;
  }
  size_t trainable = 0;
  for (const std::string& name : model.weightNames())
    trainable += !name.ends_with(":running_mean") && !name.ends_with(":running_var");
  EXPECT_EQ(loaded, trainable);

  const GoldenTensor& images = reference.at("data:input");
  Tensor input = model.inputs().at(0);
  Tensor label = model.labels().at(0);
  ASSERT_EQ(input.size(), label.size());
  ASSERT_EQ(images.values.size(), kBatches * input.size());
  const GoldenTensor& expected = reference.at("loss:adam");
  ASSERT_EQ(expected.values.size(), kSteps);
  double max_relative = 0.0;
  for (size_t step = 0; step < kSteps; ++step) {
    // The label is the image, as a target = input data set makes it.
    const auto batch = images.values.begin() + (step % kBatches) * input.size();
    std::copy_n(batch, input.size(), input.data());
    std::copy_n(batch, label.size(), label.data());
    const float loss = model.trainStep();
    const float pytorch = expected.values[step];
    EXPECT_NEAR(loss, pytorch, 1e-3f * std::abs(pytorch)) << "step " << step;
    max_relative = std::max(max_relative, std::abs(double(loss) - pytorch) / std::abs(pytorch));
  }
  RecordProperty("max_relative_loss_difference", std::to_string(max_relative));
  std::cout << "VAE vs PyTorch, 20 steps: max relative loss difference " << max_relative
            << std::endl;
}

}  // namespace
}  // namespace edgetrain::testing
