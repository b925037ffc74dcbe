// A small CNN with PyTorch's initial weights and data trains 50 steps with SGD (momentum)
// and with Adam; its loss curve must match PyTorch's (tools/golden/gen_end_to_end.py).
#include <gtest/gtest.h>

#include <cmath>

#include "edgetrain/model.h"
#include "support/golden.h"

namespace edgetrain::testing {
namespace {

constexpr size_t kSteps = 50, kBatch = 4, kBatches = 8;

std::vector<float> train_small_cnn(const GoldenCase& golden, const std::string& optimizer,
                                   const std::vector<std::string>& optimizer_properties) {
  Model model({"batch_size=4", "loss=cross_entropy"});
  model.addLayer(createLayer("input", {"name=input", "input_shape=1:8:8"}));
  model.addLayer(createLayer(
      "conv2d", {"name=conv1", "filters=4", "kernel_size=3,3", "padding=1,1", "activation=relu"}));
  model.addLayer(createLayer("pooling2d", {"name=pool1", "pooling=max", "pool_size=2,2"}));
  model.addLayer(createLayer(
      "conv2d", {"name=conv2", "filters=6", "kernel_size=3,3", "padding=same", "activation=relu"}));
  model.addLayer(createLayer("pooling2d", {"name=pool2", "pooling=average", "pool_size=2,2"}));
  model.addLayer(createLayer("flatten", {"name=flatten"}));
  model.addLayer(createLayer("fully_connected", {"name=fc", "unit=5"}));
  model.setOptimizer(createOptimizer(optimizer, optimizer_properties));
  model.compile();
  model.initialize();
  for (const char* layer : {"conv1", "conv2", "fc"}) {
    for (const char* kind : {"weight", "bias"}) {
      const GoldenTensor& value = golden.at(std::string("weight:") + layer + ":" + kind);
      Tensor target = model.weight(layer, kind);
      EXPECT_EQ(target.size(), value.values.size()) << layer << ":" << kind;
      std::copy(value.values.begin(), value.values.end(), target.data());
    }
  }
  const GoldenTensor& inputs = golden.at("data:input");
  const GoldenTensor& labels = golden.at("data:label");
  Tensor input = model.inputs()[0];
  Tensor label = model.labels()[0];
  std::vector<float> losses;
  for (size_t step = 0; step < kSteps; ++step) {
    const size_t b = step % kBatches;
    std::copy_n(inputs.values.begin() + b * input.size(), input.size(), input.data());
    std::copy_n(labels.values.begin() + b * label.size(), label.size(), label.data());
    losses.push_back(model.trainStep());
  }
  return losses;
}

void expect_same_curve(const std::vector<float>& ours, const GoldenTensor& pytorch) {
  ASSERT_EQ(ours.size(), pytorch.values.size());
  for (size_t step = 0; step < ours.size(); ++step)
    EXPECT_NEAR(ours[step], pytorch.values[step], 1e-4f * std::abs(pytorch.values[step]))
        << "step " << step;
}

TEST(EndToEnd, SmallCnnWithSgdMatchesPyTorch) {
  auto golden = load_golden("end_to_end_cnn.txt");
  ASSERT_EQ(golden.size(), 1u);
  static_assert(kBatch * kBatches == 32);
  expect_same_curve(train_small_cnn(golden[0], "sgd", {"learning_rate=0.05", "momentum=0.9"}),
                    golden[0].at("loss:sgd"));
}

TEST(EndToEnd, SmallCnnWithAdamMatchesPyTorch) {
  auto golden = load_golden("end_to_end_cnn.txt");
  ASSERT_EQ(golden.size(), 1u);
  expect_same_curve(train_small_cnn(golden[0], "adam", {"learning_rate=0.01"}),
                    golden[0].at("loss:adam"));
}

}  // namespace
}  // namespace edgetrain::testing
