// With a plain gradient step (SGD without momentum, weight decay or clipping), fully
// connected layers apply the update inside calc_gradient, after calc_derivative, and keep
// no weight gradients. The same model trained through stored gradients and separate
// apply_gradient steps (clip_grad_norm high enough never to clip) must end with the same
// weights, up to the rounding of a fused multiply-add in the GEMM.
#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "edgetrain/model.h"
#include "edgetrain/rng.h"

namespace edgetrain::testing {
namespace {

std::unique_ptr<Model> make_mlp(const std::string& optimizer_extra) {
  auto model = std::make_unique<Model>(
      std::vector<std::string>{"batch_size=8", "loss=cross_entropy", "seed=11"});
  model->addLayer(createLayer("input", {"name=input", "input_shape=1:1:12"}));
  model->addLayer(createLayer("fully_connected", {"name=fc1", "unit=16", "activation=relu"}));
  model->addLayer(createLayer("fully_connected", {"name=fc2", "unit=5"}));
  std::vector<std::string> properties = {"learning_rate=0.1"};
  if (!optimizer_extra.empty()) properties.push_back(optimizer_extra);
  model->setOptimizer(createOptimizer("sgd", properties));
  model->compile();
  model->initialize();
  return model;
}

void train_steps(Model& model, size_t steps) {
  Rng rng(5);
  for (size_t s = 0; s < steps; ++s) {
    Tensor input = model.inputs()[0], label = model.labels()[0];
    for (float& value : input) value = rng.uniform(-1.0f, 1.0f);
    label.fill(0.0f);
    for (size_t n = 0; n < 8; ++n) label[n * 5 + (n + s) % 5] = 1.0f;
    model.trainStep(s % 3 == 2 ? 5 : s % 3 == 1 ? 1 : 0);  // partial batches, one of 1 sample
  }
}

std::vector<std::string> phases_of(const Model& model, const std::string& layer) {
  std::vector<std::string> phases;
  for (const MemoryProfileStep& step : model.memoryProfile())
    if (step.layer == layer) phases.push_back(step.phase);
  return phases;
}

TEST(FusedUpdate, PlainSgdUpdatesInsideCalcGradientAndKeepsNoWeightGradients) {
  auto fused = make_mlp("");
  auto separate = make_mlp("clip_grad_norm=1e30");
  EXPECT_EQ(phases_of(*fused, "fc2"),
            (std::vector<std::string>{"forward", "calc_derivative", "calc_gradient"}));
  EXPECT_EQ(phases_of(*fused, "fc1"), (std::vector<std::string>{"forward", "calc_gradient"}));
  const std::vector<std::string> with_apply = phases_of(*separate, "fc2");
  EXPECT_EQ(with_apply.back(), "apply_gradient");
  for (const LayerMemory& layer : fused->memoryBreakdown()) {
    if (layer.layer == "fc1") {
      EXPECT_EQ(layer.gradients, 0u) << "fc1 stores no gradient";
    }
  }
  EXPECT_LT(fused->memory().planned_bytes, separate->memory().planned_bytes);

  train_steps(*fused, 30);
  train_steps(*separate, 30);
  const auto a = fused->persistentTensors(false), b = separate->persistentTensors(false);
  ASSERT_EQ(a.size(), b.size());
  for (size_t t = 0; t < a.size(); ++t)
    for (size_t i = 0; i < a[t].tensor.size(); ++i)
      ASSERT_NEAR(a[t].tensor[i], b[t].tensor[i], 1e-5f * (1.0f + std::fabs(b[t].tensor[i])))
          << a[t].name << " [" << i << "]";
}

TEST(FusedUpdate, OptimizersWithStateOrDecayStoreGradients) {
  for (const char* extra : {"momentum=0.9", "weight_decay=0.01"}) {
    auto model = make_mlp(extra);
    EXPECT_EQ(phases_of(*model, "fc2").back(), "apply_gradient") << extra;
  }
}

}  // namespace
}  // namespace edgetrain::testing
