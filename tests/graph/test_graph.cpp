#include <gtest/gtest.h>

#include <sstream>

#include "edgetrain/error.h"
#include "edgetrain/model.h"
#include "graph/executor.h"
#include "graph/graph.h"
#include "kernels/gemm.h"
#include "memory/planner.h"
#include "support/graph_checks.h"

namespace edgetrain {
namespace {

bool has_step(const CompiledGraph& graph, const std::string& node, Phase phase) {
  for (const Step& step : graph.steps)
    if (graph.nodes[step.node].name == node && step.phase == phase) return true;
  return false;
}

// input -> fc1 (frozen) -> fc2 -> fc3 -> mse
std::unique_ptr<Model> frozen_prefix_model() {
  auto model =
      std::make_unique<Model>(std::vector<std::string>{"batch_size=4", "loss=mse", "seed=5"});
  model->addLayer(createLayer("input", {"name=in", "input_shape=1:1:6"}));
  model->addLayer(createLayer("fully_connected", {"name=fc1", "unit=5", "trainable=false"}));
  model->addLayer(createLayer("fully_connected", {"name=fc2", "unit=4", "activation=relu"}));
  model->addLayer(createLayer("fully_connected", {"name=fc3", "unit=3"}));
  model->setOptimizer(createOptimizer("sgd", {"learning_rate=0.1"}));
  return model;
}

TEST(Graph, FrozenPrefixSkipsDerivativeAndGradient) {
  std::vector<std::unique_ptr<LayerNode>> layers;
  layers.push_back(createLayer("input", {"name=in", "input_shape=1:1:6"}));
  layers.push_back(createLayer("fully_connected", {"name=fc1", "unit=5", "trainable=false"}));
  layers.push_back(createLayer("fully_connected", {"name=fc2", "unit=4"}));
  layers.push_back(createLayer("mse", {"name=loss"}));
  std::vector<NodeDescription> description;
  for (auto& layer : layers)
    description.push_back({layer->getName(), &layer->layer(), layer->inputLayers(),
                           layer->inputShape(), layer->trainable()});
  auto sgd = createOptimizer("sgd");
  CompiledGraph graph = compile_graph(description, {2, sgd.get(), nullptr});
  EXPECT_FALSE(has_step(graph, "fc1", Phase::calc_gradient));
  EXPECT_FALSE(has_step(graph, "fc1", Phase::calc_derivative));
  EXPECT_TRUE(has_step(graph, "fc2", Phase::calc_gradient));
  EXPECT_FALSE(has_step(graph, "fc2", Phase::calc_derivative))
      << "nobody needs fc1's output gradient";
  EXPECT_TRUE(has_step(graph, "loss", Phase::calc_derivative));
  EXPECT_TRUE(has_step(graph, "fc2", Phase::apply_gradient));
}

// The trainer counts training accuracy after each step from the predictions and the
// labels, so no planner may reuse their memory during the step.
TEST(Graph, PredictionsAndLabelsSurviveATrainingStep) {
  for (const char* planner : {"best_fit", "first_fit"}) {
    SCOPED_TRACE(planner);
    Model model({"batch_size=64", "loss=cross_entropy", "seed=1",
                 std::string("memory_planner=") + planner});
    model.addLayer(createLayer("input", {"name=in", "input_shape=1:8:8"}));
    model.addLayer(
        createLayer("conv2d", {"filters=8", "kernel_size=3,3", "padding=same", "activation=relu"}));
    model.addLayer(createLayer("pooling2d", {"pooling=max", "pool_size=2,2"}));
    model.addLayer(createLayer("flatten"));
    model.addLayer(createLayer("fully_connected", {"unit=32", "activation=relu"}));
    model.addLayer(createLayer("fully_connected", {"unit=10"}));
    model.setOptimizer(createOptimizer("adam"));
    model.compile();
    model.initialize();
    Rng rng(2);
    Tensor input = model.inputs()[0];
    for (float& v : input) v = rng.uniform(-1, 1);
    Tensor label = model.labels()[0];
    for (size_t i = 0; i < label.size(); ++i) label[i] = i % 10 == (i / 10) % 10 ? 1.0f : 0.0f;
    const std::vector<float> labels_before(label.begin(), label.end());
    model.forward(0, true);
    const Tensor prediction = model.outputs()[0];
    const std::vector<float> prediction_before(prediction.begin(), prediction.end());
    model.trainStep();
    EXPECT_EQ(std::vector<float>(label.begin(), label.end()), labels_before);
    // The step's own forward gave the same predictions (same weights, training mode).
    EXPECT_EQ(std::vector<float>(prediction.begin(), prediction.end()), prediction_before);
  }
}

TEST(Graph, FrozenLayerWeightsDoNotChange) {
  auto model = frozen_prefix_model();
  model->compile();
  model->initialize();
  Rng rng(1);
  for (Tensor& t : model->inputs())
    for (float& v : t) v = rng.uniform(-1, 1);
  for (Tensor& t : model->labels())
    for (float& v : t) v = rng.uniform(-1, 1);
  const Tensor frozen = model->weight("fc1", "weight");
  const Tensor trained = model->weight("fc3", "weight");
  std::vector<float> frozen_before(frozen.begin(), frozen.end());
  std::vector<float> trained_before(trained.begin(), trained.end());
  model->trainStep();
  EXPECT_EQ(std::vector<float>(frozen.begin(), frozen.end()), frozen_before);
  EXPECT_NE(std::vector<float>(trained.begin(), trained.end()), trained_before);
}

TEST(Graph, InputShapeOnFirstLayerInsertsInputLayer) {
  Model model({"batch_size=2"});
  model.addLayer(createLayer("fully_connected", {"name=fc", "unit=3", "input_shape=1:1:4"}));
  model.compile();
  std::ostringstream summary;
  model.summary(summary);
  EXPECT_NE(summary.str().find("fc_input"), std::string::npos) << summary.str();
  EXPECT_NE(summary.str().find("2:1:1:4"), std::string::npos) << summary.str();
}

// input -> a -> {b, c}: the fan-out node sums both consumers' gradients into a's.
TEST(Graph, FanOutSumsGradients) {
  std::vector<std::unique_ptr<LayerNode>> layers;
  layers.push_back(createLayer("input", {"name=in", "input_shape=1:1:3"}));
  layers.push_back(createLayer("fully_connected", {"name=a", "unit=4"}));
  layers.push_back(createLayer("fully_connected", {"name=b", "unit=2", "input_layers=a"}));
  layers.push_back(createLayer("fully_connected", {"name=c", "unit=5", "input_layers=a"}));
  std::vector<NodeDescription> description;
  for (auto& layer : layers)
    description.push_back({layer->getName(), &layer->layer(), layer->inputLayers(),
                           layer->inputShape(), layer->trainable()});
  // A "recording" use of SGD with rate 0 keeps weights; read a's gradient by comparing
  // the update of a real step instead: with lr=1 and plain SGD, w_after = w - grad.
  auto sgd = createOptimizer("sgd", {"learning_rate=1"});
  CompiledGraph graph = compile_graph(description, {2, sgd.get(), nullptr});
  ASSERT_GE(graph.find_node("a/multiout"), 0);
  Executor executor(graph, sgd.get(), nullptr, 9);

  Rng rng(4);
  Tensor input = executor.tensor(graph.input_tensors[0]);
  for (float& v : input) v = rng.uniform(-1, 1);
  const GraphNode& a = graph.nodes[graph.find_node("a")];
  const GraphNode& b = graph.nodes[graph.find_node("b")];
  const GraphNode& c = graph.nodes[graph.find_node("c")];
  std::vector<float> wa(executor.tensor(a.weights[0]).begin(), executor.tensor(a.weights[0]).end());
  std::vector<float> wb(executor.tensor(b.weights[0]).begin(), executor.tensor(b.weights[0]).end());
  std::vector<float> wc(executor.tensor(c.weights[0]).begin(), executor.tensor(c.weights[0]).end());
  executor.forward(true);
  ASSERT_EQ(graph.external_gradients.size(), 2u);
  std::vector<std::vector<float>> r;
  for (int id : graph.external_gradients) {
    Tensor g = executor.tensor(id);
    for (float& v : g) v = rng.uniform(-1, 1);
    r.emplace_back(g.begin(), g.end());
  }
  executor.backward();

  // Expected: dA = Rb * Wb + Rc * Wc (2x4); dWa = dA^T * X (4x3). a has no activation.
  // external_gradients follow reverse topological order: c first, then b.
  const std::vector<float>& rc = r[0];
  const std::vector<float>& rb = r[1];
  std::vector<float> da(2 * 4, 0.0f), dwa(4 * 3, 0.0f);
  kernels::gemm_reference(false, false, 2, 4, 2, 1.0f, rb.data(), 2, wb.data(), 4, 0.0f, da.data(),
                          4);
  kernels::gemm_reference(false, false, 2, 4, 5, 1.0f, rc.data(), 5, wc.data(), 4, 1.0f, da.data(),
                          4);
  kernels::gemm_reference(true, false, 4, 3, 2, 1.0f, da.data(), 4, input.data(), 3, 0.0f,
                          dwa.data(), 3);
  Tensor wa_after = executor.tensor(a.weights[0]);
  for (size_t i = 0; i < dwa.size(); ++i) EXPECT_NEAR(wa[i] - wa_after[i], dwa[i], 1e-5f) << i;
}

TEST(Graph, PlannedPeakIsBelowNaiveSumAndConflictFree) {
  auto model = frozen_prefix_model();
  model->compile();
  MemoryReport memory = model->memory();
  EXPECT_LT(memory.planned_bytes, memory.naive_bytes);
  EXPECT_GE(memory.planned_bytes, memory.lower_bound_bytes);
}

TEST(Graph, SummaryListsLayersAndMemory) {
  auto model = frozen_prefix_model();
  model->compile();
  std::ostringstream out;
  model->summary(out);
  const std::string text = out.str();
  for (const char* part : {"in", "fc1", "fc2", "fc3", "fully_connected", "4:1:1:5",
                           "Planned peak memory", "naive sum", "Params"})
    EXPECT_NE(text.find(part), std::string::npos) << part << "\n" << text;
  // fc2: 5*4 + 4 parameters, fc3: 4*3 + 3, fc1 is frozen.
  EXPECT_NE(text.find("Parameters: 74 (trainable: 39)"), std::string::npos) << text;
}

TEST(Graph, NanLossStopsTrainingWithAMessage) {
  auto model = frozen_prefix_model();
  model->compile();
  model->initialize();
  for (Tensor& t : model->inputs()) t.fill(0.0f);
  for (Tensor& t : model->labels()) t.fill(std::numeric_limits<float>::quiet_NaN());
  try {
    model->trainStep();
    FAIL() << "expected NumericError";
  } catch (const NumericError& error) {
    EXPECT_NE(std::string(error.what()).find("nan"), std::string::npos) << error.what();
    EXPECT_NE(std::string(error.what()).find("iteration 1"), std::string::npos) << error.what();
  }
}

TEST(Graph, PartialBatchRunsOnTheFirstSamples) {
  auto model = frozen_prefix_model();
  model->compile();
  model->initialize();
  Rng rng(2);
  std::vector<float> input(6 * 3);
  for (float& v : input) v = rng.uniform(-1, 1);
  std::vector<float> all = model->predict(input, 3);  // batch 4 compiled, 3 samples
  std::vector<float> one = model->predict(std::span<const float>(input).subspan(6, 6), 1);
  ASSERT_EQ(all.size(), 9u);
  for (size_t i = 0; i < 3; ++i) EXPECT_FLOAT_EQ(all[3 + i], one[i]);
}

}  // namespace
}  // namespace edgetrain

namespace edgetrain {
namespace {

std::vector<NodeDescription> describe_layers(
    const std::vector<std::unique_ptr<LayerNode>>& layers) {
  std::vector<NodeDescription> description;
  for (const auto& layer : layers)
    description.push_back({layer->getName(), &layer->layer(), layer->inputLayers(),
                           layer->inputShape(), layer->trainable()});
  return description;
}

void expect_plan_is_valid(const CompiledGraph& graph) {
  EXPECT_EQ(testing::plan_conflict(graph), "");
  EXPECT_LT(graph.plan.arena_bytes, graph.naive_bytes);
  EXPECT_GE(graph.plan.arena_bytes, graph.lower_bound_bytes);
}

TEST(Graph, CnnPlanHasNoOverlapAndBeatsNaiveSum) {
  std::vector<std::unique_ptr<LayerNode>> layers;
  layers.push_back(createLayer("input", {"name=input", "input_shape=1:28:28"}));
  layers.push_back(
      createLayer("conv2d", {"filters=8", "kernel_size=3,3", "padding=same", "activation=relu"}));
  layers.push_back(createLayer("pooling2d", {"pooling=max", "pool_size=2,2"}));
  layers.push_back(
      createLayer("conv2d", {"filters=16", "kernel_size=3,3", "padding=same", "activation=relu"}));
  layers.push_back(createLayer("pooling2d", {"pooling=max", "pool_size=2,2"}));
  layers.push_back(createLayer("flatten"));
  layers.push_back(createLayer("fully_connected", {"unit=128", "activation=relu"}));
  layers.push_back(createLayer("fully_connected", {"unit=10"}));
  layers.push_back(createLayer("cross_entropy"));
  auto adam = createOptimizer("adam");
  CompiledGraph graph = compile_graph(describe_layers(layers), {64, adam.get(), nullptr});
  expect_plan_is_valid(graph);
}

TEST(Graph, ResidualPlanHasNoOverlap) {
  std::vector<std::unique_ptr<LayerNode>> layers;
  layers.push_back(createLayer("input", {"name=input", "input_shape=4:8:8"}));
  layers.push_back(
      createLayer("conv2d", {"name=a", "filters=4", "kernel_size=3,3", "padding=same"}));
  layers.push_back(createLayer("batch_normalization", {"name=bn"}));
  layers.push_back(createLayer("activation", {"name=relu", "activation=relu"}));
  layers.push_back(createLayer("addition", {"name=add", "input_layers=input,relu"}));
  layers.push_back(createLayer("pooling2d", {"pooling=global_average"}));
  layers.push_back(createLayer("flatten"));
  layers.push_back(createLayer("fully_connected", {"unit=3"}));
  layers.push_back(createLayer("mse"));
  auto sgd = createOptimizer("sgd", {"momentum=0.9"});
  CompiledGraph graph = compile_graph(describe_layers(layers), {8, sgd.get(), nullptr});
  EXPECT_GE(graph.find_node("input/multiout"), 0);
  expect_plan_is_valid(graph);
}

TEST(Graph, ShapeMismatchNamesBothLayers) {
  Model model;
  model.addLayer(createLayer("input", {"name=in", "input_shape=1:1:4"}));
  model.addLayer(createLayer("fully_connected", {"name=wide", "unit=5"}));
  model.addLayer(createLayer("fully_connected", {"name=narrow", "unit=3", "input_layers=in"}));
  model.addLayer(createLayer("addition", {"name=sum", "input_layers=wide,narrow"}));
  try {
    model.compile();
    FAIL() << "expected ShapeError";
  } catch (const ShapeError& error) {
    const std::string message = error.what();
    for (const char* part : {"sum", "wide", "narrow", "1:1:1:5", "1:1:1:3"})
      EXPECT_NE(message.find(part), std::string::npos) << part << " not in: " << message;
  }
}

}  // namespace
}  // namespace edgetrain

namespace edgetrain {
namespace {

TEST(Graph, PersistentTensorsNameWeightsThenOptimizerState) {
  Model model({"batch_size=2", "loss=mse"});
  model.addLayer(createLayer("input", {"name=in", "input_shape=1:1:3"}));
  model.addLayer(createLayer("fully_connected", {"name=fc", "unit=2"}));
  model.addLayer(createLayer("batch_normalization", {"name=bn"}));
  model.setOptimizer(createOptimizer("adam"));
  model.compile();
  model.initialize();
  std::vector<std::string> names;
  for (const auto& named : model.persistentTensors(true)) names.push_back(named.name);
  const std::vector<std::string> expected = {"fc:weight",         "fc:bias",
                                             "bn:gamma",          "bn:beta",
                                             "bn:running_mean",   "bn:running_var",
                                             "fc:weight:exp_avg", "fc:weight:exp_avg_sq",
                                             "fc:bias:exp_avg",   "fc:bias:exp_avg_sq",
                                             "bn:gamma:exp_avg",  "bn:gamma:exp_avg_sq",
                                             "bn:beta:exp_avg",   "bn:beta:exp_avg_sq"};
  EXPECT_EQ(names, expected);
  EXPECT_EQ(model.persistentTensors(false).size(), 6u);
}

}  // namespace
}  // namespace edgetrain

namespace edgetrain {
namespace {

// Without an optimizer (inference only) the model's outputs are still only the outputs
// nobody consumes, so the planner reuses the memory of everything in between.
TEST(Graph, InferenceOnlyModelOutputsAreTheUnconsumedOnes) {
  Model model({"batch_size=2"});
  model.addLayer(createLayer("input", {"name=in", "input_shape=1:1:4"}));
  model.addLayer(createLayer("fully_connected", {"name=fc1", "unit=8", "activation=relu"}));
  model.addLayer(createLayer("fully_connected", {"name=fc2", "unit=8", "activation=relu"}));
  model.addLayer(createLayer("fully_connected", {"name=fc3", "unit=3"}));
  model.compile();
  model.initialize();
  ASSERT_EQ(model.outputs().size(), 1u);
  EXPECT_EQ(model.outputs()[0].shape(), TensorShape(2, 1, 1, 3));
  EXPECT_LT(model.memory().planned_bytes, model.memory().naive_bytes);
  EXPECT_EQ(model.predict(std::vector<float>(4, 0.5f)).size(), 3u);
}

}  // namespace
}  // namespace edgetrain
