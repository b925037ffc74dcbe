// The planners on the shipped models, and the memory reports of the Model API: the
// per-layer breakdown (adds up to the naive sum) and the per-step profile (its peak is the
// lower bound, its high-water mark the arena).
#include <gtest/gtest.h>

#include <algorithm>
#include <iostream>
#include <string>

#include "edgetrain/error.h"
#include "edgetrain/model.h"
#include "edgetrain/model_file.h"

namespace edgetrain {
namespace {

std::string model_path(const std::string& name) {
  return std::string(EDGETRAIN_SOURCE_DIR) + "/models/" + name;
}

MemoryReport planned(const std::string& model, const std::string& planner) {
  ModelFile file = load_model_file(model_path(model), {"memory_planner=" + planner});
  file.model->compile();
  return file.model->memory();
}

// The default CNN at its batch of 64 and the VAE: best fit reaches (nearly) the lower
// bound and never does worse than first fit.
TEST(PlannerOnModels, BestFitNearTheLowerBound) {
  for (const char* model : {"fashion_mnist_cnn.ini", "vae.ini"}) {
    SCOPED_TRACE(model);
    const MemoryReport best = planned(model, "best_fit");
    const MemoryReport first = planned(model, "first_fit");
    const MemoryReport naive = planned(model, "naive");
    std::cout << model << ": best_fit " << best.planned_bytes << " B, first_fit "
              << first.planned_bytes << " B, lower bound " << best.lower_bound_bytes << " B, naive "
              << best.naive_bytes << " B (best_fit / lower bound "
              << static_cast<double>(best.planned_bytes) / best.lower_bound_bytes << ")"
              << std::endl;
    RecordProperty(std::string(model) + ":best_fit", std::to_string(best.planned_bytes));
    RecordProperty(std::string(model) + ":first_fit", std::to_string(first.planned_bytes));
    RecordProperty(std::string(model) + ":lower_bound", std::to_string(best.lower_bound_bytes));
    EXPECT_EQ(best.lower_bound_bytes, first.lower_bound_bytes);
    EXPECT_GE(best.planned_bytes, best.lower_bound_bytes);
    EXPECT_LE(best.planned_bytes, first.planned_bytes);
    EXPECT_LE(static_cast<double>(best.planned_bytes), 1.05 * best.lower_bound_bytes);
    EXPECT_EQ(naive.planned_bytes, naive.naive_bytes);
  }
}

TEST(PlannerOnModels, ModelPropertyChoosesThePlanner) {
  Model model;
  EXPECT_THROW(model.setProperty({"memory_planner=optimal"}), PropertyError);
  EXPECT_NO_THROW(model.setProperty({"memory_planner=First_Fit"}));
}

std::unique_ptr<Model> small_model() {
  auto model =
      std::make_unique<Model>(std::vector<std::string>{"batch_size=8", "loss=cross_entropy"});
  model->addLayer(createLayer("input", {"name=input", "input_shape=1:6:6"}));
  model->addLayer(createLayer(
      "conv2d", {"name=conv", "filters=3", "kernel_size=3,3", "padding=same", "activation=relu"}));
  model->addLayer(createLayer("flatten", {"name=flatten"}));
  model->addLayer(createLayer("fully_connected", {"name=fc", "unit=4"}));
  model->setOptimizer(createOptimizer("adam"));
  return model;
}

TEST(MemoryReport, BreakdownAddsUpToTheNaiveSum) {
  auto model = small_model();
  EXPECT_THROW(model->memoryBreakdown(), StateError);
  model->compile();
  const std::vector<LayerMemory> layers = model->memoryBreakdown();
  ASSERT_EQ(layers.size(), model->layerNames().size());
  size_t total = 0;
  for (const LayerMemory& layer : layers) total += layer.total();
  EXPECT_EQ(total, model->memory().naive_bytes);
  const auto fc = std::find_if(layers.begin(), layers.end(),
                               [](const LayerMemory& layer) { return layer.layer == "fc"; });
  ASSERT_NE(fc, layers.end());
  // 108x4 weights (1728 B) and 4 biases (64 B aligned); Adam keeps two of each.
  EXPECT_EQ(fc->weights, 1728u + 64u);
  EXPECT_EQ(fc->optimizer_state, 2 * (1728u + 64u));
  EXPECT_EQ(fc->activations, 8 * 4 * 4u);  // 8x4 floats
  // dL/d(fc's input), 8x108 floats, and its weight gradients.
  EXPECT_EQ(fc->gradients, 8 * 108 * 4u + 1728u + 64u);
  ModelFile vae = load_model_file(model_path("vae.ini"));
  vae.model->compile();
  size_t vae_total = 0;
  for (const LayerMemory& layer : vae.model->memoryBreakdown()) vae_total += layer.total();
  EXPECT_EQ(vae_total, vae.model->memory().naive_bytes);
}

TEST(MemoryReport, ProfilePeaksAtTheLowerBoundAndTheArena) {
  auto model = small_model();
  EXPECT_THROW(model->memoryProfile(), StateError);
  model->compile();
  const std::vector<MemoryProfileStep> profile = model->memoryProfile();
  ASSERT_FALSE(profile.empty());
  size_t max_live = 0, max_high_water = 0;
  for (size_t s = 0; s < profile.size(); ++s) {
    EXPECT_EQ(profile[s].step, s);
    EXPECT_FALSE(profile[s].layer.empty());
    EXPECT_LE(profile[s].live_bytes, profile[s].high_water_bytes);
    max_live = std::max(max_live, profile[s].live_bytes);
    max_high_water = std::max(max_high_water, profile[s].high_water_bytes);
  }
  EXPECT_EQ(max_live, model->memory().lower_bound_bytes);
  EXPECT_EQ(max_high_water, model->memory().planned_bytes);
  EXPECT_EQ(profile.front().phase, "forward");
  EXPECT_EQ(profile.front().layer, "conv");
  EXPECT_EQ(profile.back().phase, "apply_gradient");
  EXPECT_EQ(profile.back().layer, "conv");
}

}  // namespace
}  // namespace edgetrain
