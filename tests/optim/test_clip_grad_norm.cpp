// Gradient clipping (clip_grad_norm on every optimizer): PyTorch's clip_grad_norm_ before
// each update (tools/golden/gen_clip_grad_norm.py), the clip step and whole-model
// gradients in the compiled step list, the memory they cost, the INI key and bad values.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <memory>

#include "edgetrain/error.h"
#include "edgetrain/model.h"
#include "edgetrain/model_file.h"
#include "graph/graph.h"
#include "support/golden.h"

namespace edgetrain::testing {
namespace {

constexpr size_t kSteps = 6, kBatches = 2;

std::unique_ptr<Model> small_mlp(const std::string& optimizer,
                                 const std::vector<std::string>& properties) {
  auto model =
      std::make_unique<Model>(std::vector<std::string>{"batch_size=4", "loss=cross_entropy"});
  model->addLayer(createLayer("input", {"name=input", "input_shape=1:1:6"}));
  model->addLayer(createLayer("fully_connected", {"name=fc1", "unit=8", "activation=relu"}));
  model->addLayer(createLayer("fully_connected", {"name=fc2", "unit=4"}));
  model->setOptimizer(createOptimizer(optimizer, properties));
  return model;
}

// Trains the MLP from the golden weights and data; returns the losses.
std::vector<float> train(Model& model, const GoldenCase& golden) {
  model.compile();
  model.initialize();
  for (const char* layer : {"fc1", "fc2"})
    for (const char* kind : {"weight", "bias"}) {
      const GoldenTensor& value = golden.at(std::string("weight:") + layer + ":" + kind);
      Tensor target = model.weight(layer, kind);
      EXPECT_EQ(target.size(), value.values.size());
      std::copy(value.values.begin(), value.values.end(), target.data());
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

void expect_matches_pytorch(const std::string& optimizer,
                            const std::vector<std::string>& properties, const std::string& key) {
  auto golden = load_golden("clip_grad_norm.txt");
  ASSERT_EQ(golden.size(), 1u);
  auto model = small_mlp(optimizer, properties);
  const std::vector<float> losses = train(*model, golden[0]);
  expect_close(losses.data(), golden[0].at("loss:" + key), "loss:" + key, 1e-5f, 1e-6f);
  for (const char* layer : {"fc1", "fc2"})
    for (const char* kind : {"weight", "bias"}) {
      const std::string name = "after:" + key + ":" + layer + ":" + kind;
      expect_close(model->weight(layer, kind).data(), golden[0].at(name), name, 1e-5f, 1e-6f);
    }
  // Every step clipped: the norms PyTorch saw were all above the threshold, and without
  // clipping the weights end elsewhere.
  const float threshold = std::stof(properties.back().substr(properties.back().find('=') + 1));
  for (float norm : golden[0].at("norm:" + key).values) EXPECT_GT(norm, threshold);
  std::vector<std::string> unclipped(properties.begin(), properties.end() - 1);
  auto reference = small_mlp(optimizer, unclipped);
  train(*reference, golden[0]);
  const Tensor clipped_weight = model->weight("fc1", "weight");
  const Tensor free_weight = reference->weight("fc1", "weight");
  EXPECT_FALSE(std::equal(clipped_weight.begin(), clipped_weight.end(), free_weight.begin()));
}

TEST(ClipGradNorm, SgdMatchesPyTorch) {
  expect_matches_pytorch("sgd", {"learning_rate=0.1", "momentum=0.9", "clip_grad_norm=0.5"}, "sgd");
}

TEST(ClipGradNorm, AdamMatchesPyTorch) {
  expect_matches_pytorch("adam", {"learning_rate=0.01", "clip_grad_norm=0.25"}, "adam");
}

std::vector<std::string> phases(const Model& model) {
  std::vector<std::string> result;
  for (const MemoryProfileStep& step : model.memoryProfile()) result.push_back(step.phase);
  return result;
}

TEST(ClipGradNorm, UpdatesWaitForOneClipStepAfterTheWholeBackward) {
  auto plain = small_mlp("adam", {});
  plain->compile();
  auto clipped = small_mlp("adam", {"clip_grad_norm=1"});
  clipped->compile();
  const std::vector<std::string> before = phases(*plain), after = phases(*clipped);
  EXPECT_EQ(std::count(before.begin(), before.end(), "clip_gradients"), 0);
  ASSERT_EQ(std::count(after.begin(), after.end(), "clip_gradients"), 1);
  EXPECT_EQ(after.size(), before.size() + 1);
  // Without clipping fc2's update comes before fc1's backward; with it every update
  // follows the clip step, and every backward step precedes it.
  const auto clip = std::find(after.begin(), after.end(), "clip_gradients");
  EXPECT_EQ(std::count(after.begin(), clip, "apply_gradient"), 0);
  EXPECT_EQ(std::count(clip, after.end(), "calc_gradient"), 0);
  EXPECT_EQ(std::count(clip, after.end(), "calc_derivative"), 0);
  EXPECT_EQ(std::count(clip, after.end(), "apply_gradient"), 2);
  const auto first_apply = std::find(before.begin(), before.end(), "apply_gradient");
  EXPECT_NE(std::find(first_apply, before.end(), "calc_gradient"), before.end());
  EXPECT_TRUE(std::all_of(clip + 1, after.end(),
                          [](const std::string& phase) { return phase == "apply_gradient"; }));
}

// In the compiled graph: every weight gradient lives from its calc_gradient to its
// update, across the clip step, and the plan keeps them apart.
TEST(ClipGradNorm, WeightGradientsLiveUntilTheirUpdate) {
  auto input = createLayer("input", {"input_shape=1:1:6"});
  auto fc1 = createLayer("fully_connected", {"unit=8", "activation=relu"});
  auto fc2 = createLayer("fully_connected", {"unit=4"});
  auto loss = createLayer("mse");
  std::vector<NodeDescription> description = {{"input", &input->layer(), {}, {}, true},
                                              {"fc1", &fc1->layer(), {}, {}, true},
                                              {"fc2", &fc2->layer(), {}, {}, true},
                                              {"loss", &loss->layer(), {}, {}, true}};
  auto optimizer = createOptimizer("adam", {"clip_grad_norm=1"});
  const CompiledGraph graph = compile_graph(description, {4, optimizer.get(), nullptr});
  size_t clip = kNoStep;
  for (size_t s = 0; s < graph.steps.size(); ++s)
    if (graph.steps[s].phase == Phase::clip_gradients) clip = s;
  ASSERT_NE(clip, kNoStep);
  size_t weight_gradients = 0;
  for (size_t n = 0; n < graph.nodes.size(); ++n)
    for (int id : graph.nodes[n].weight_grads) {
      if (id < 0) continue;
      ++weight_gradients;
      const GraphTensor& grad = graph.tensors[id];
      EXPECT_LT(grad.first, clip) << grad.name;
      EXPECT_GT(grad.last, clip) << grad.name;
      EXPECT_EQ(graph.steps[grad.last].phase, Phase::apply_gradient) << grad.name;
      EXPECT_EQ(graph.steps[grad.last].node, n) << grad.name;
    }
  EXPECT_EQ(weight_gradients, 4u);
  std::vector<MemoryRequest> requests;
  for (const GraphTensor& tensor : graph.tensors)
    requests.push_back(tensor.first == kNoStep
                           ? MemoryRequest{0, 0, 0}
                           : MemoryRequest{tensor.shape.bytes(), tensor.first, tensor.last});
  EXPECT_EQ(find_plan_conflict(requests, graph.plan), "");
}

TEST(ClipGradNorm, HoldsGradientsLongerAndPlansAtLeastAsMuch) {
  for (const char* model_name : {"fashion_mnist_cnn.ini", "vae.ini"}) {
    SCOPED_TRACE(model_name);
    const std::string path = std::string(EDGETRAIN_SOURCE_DIR) + "/models/" + model_name;
    ModelFile plain = load_model_file(path);
    ModelFile clipped = load_model_file(path, {"optimizer.clip_grad_norm=1.0"});
    plain.model->compile();
    clipped.model->compile();
    const MemoryReport a = plain.model->memory(), b = clipped.model->memory();
    EXPECT_GE(b.planned_bytes, a.planned_bytes);
    EXPECT_GE(b.lower_bound_bytes, a.lower_bound_bytes);
    EXPECT_EQ(b.naive_bytes, a.naive_bytes);
    // The CNN's peak is in backward, where its 785 KiB fc1 weight gradient now waits.
    if (std::string(model_name) == "fashion_mnist_cnn.ini") {
      EXPECT_GT(b.lower_bound_bytes, a.lower_bound_bytes);
      EXPECT_GT(b.planned_bytes, a.planned_bytes);
    }
    // At the clip step every weight gradient is alive besides the weights and Adam's
    // state (two tensors per trainable weight, each as large as its gradient).
    size_t persistent = 0, state = 0;
    for (const LayerMemory& layer : clipped.model->memoryBreakdown()) {
      persistent += layer.weights + layer.optimizer_state;
      state += layer.optimizer_state;
    }
    size_t clip_steps = 0;
    for (const MemoryProfileStep& step : clipped.model->memoryProfile())
      if (step.phase == "clip_gradients") {
        ++clip_steps;
        EXPECT_GE(step.live_bytes, persistent + state / 2);
      }
    EXPECT_EQ(clip_steps, 1u);
  }
}

TEST(ClipGradNorm, IniKeyInTheOptimizerSection) {
  const std::filesystem::path folder =
      std::filesystem::path(::testing::TempDir()) / "edgetrain_clip_grad_norm";
  std::filesystem::create_directories(folder);
  const std::string path = (folder / "model.ini").string();
  std::ofstream(path) << "[Model]\nLoss = mse\nBatch_Size = 2\n"
                         "[Optimizer]\nType = sgd\nLearning_rate = 0.1\nclip_grad_norm = 1.0\n"
                         "[input]\nType = input\nInput_Shape = 1:1:3\n"
                         "[fc]\nType = fully_connected\nUnit = 2\n";
  ModelFile file = load_model_file(path);
  file.model->compile();
  const std::vector<std::string> steps = phases(*file.model);
  EXPECT_EQ(std::count(steps.begin(), steps.end(), "clip_gradients"), 1);
  file.model->initialize();
  std::fill(file.model->inputs()[0].begin(), file.model->inputs()[0].end(), 100.0f);
  EXPECT_TRUE(std::isfinite(file.model->trainStep()));

  std::ofstream(path) << "[Model]\nLoss = mse\n[Optimizer]\nType = adam\nclip_grad_norm = -2\n"
                         "[input]\nType = input\nInput_Shape = 1:1:3\n"
                         "[fc]\nType = fully_connected\nUnit = 2\n";
  try {
    load_model_file(path);
    ADD_FAILURE() << "no error";
  } catch (const ModelFileError& error) {
    EXPECT_NE(std::string(error.what()).find("clip_grad_norm"), std::string::npos) << error.what();
    EXPECT_NE(std::string(error.what()).find("model.ini:5"), std::string::npos) << error.what();
  }
}

TEST(ClipGradNorm, EveryOptimizerTakesItAndRejectsBadValues) {
  for (const char* type : {"sgd", "adam", "adamw", "rmsprop"}) {
    SCOPED_TRACE(type);
    EXPECT_EQ(createOptimizer(type, {"clip_grad_norm=2.5"})->clip_grad_norm(), 2.5f);
    EXPECT_EQ(createOptimizer(type)->clip_grad_norm(), 0.0f);
    EXPECT_NE(createOptimizer(type)->property_keys().find("clip_grad_norm"), std::string::npos);
    for (const char* bad : {"0", "-1", "abc", "", "nan", "inf"}) {
      try {
        createOptimizer(type, {std::string("clip_grad_norm=") + bad});
        ADD_FAILURE() << "no error for '" << bad << "'";
      } catch (const PropertyError& error) {
        EXPECT_NE(std::string(error.what()).find("clip_grad_norm"), std::string::npos)
            << error.what();
      }
    }
  }
}

}  // namespace
}  // namespace edgetrain::testing
