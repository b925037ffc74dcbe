// The compiler's in-place pass (src/graph/in_place.h): which tensors share memory, which
// must not, and that training gives the same results, bit for bit, with it on and off.
#include <gtest/gtest.h>

#include <functional>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "edgetrain/error.h"
#include "edgetrain/model.h"
#include "edgetrain/model_file.h"
#include "edgetrain/optimizer.h"
#include "edgetrain/rng.h"
#include "graph/executor.h"
#include "graph/graph.h"
#include "support/data_files.h"
#include "support/graph_checks.h"
#include "support/layer_harness.h"

namespace edgetrain {
namespace {

using Layers = std::vector<std::unique_ptr<LayerNode>>;
using Builder = std::function<Layers()>;

struct Net {
  Layers layers;
  std::unique_ptr<Optimizer> optimizer;
  CompiledGraph graph;

  const GraphNode& node(const std::string& name) const {
    const int n = graph.find_node(name);
    EXPECT_GE(n, 0) << "no layer " << name;
    return graph.nodes.at(static_cast<size_t>(n));
  }
  int output(const std::string& name) const { return node(name).outputs[0].id; }
  int input(const std::string& name, size_t i = 0) const { return node(name).inputs[i].id; }
  int output_grad(const std::string& name) const { return node(name).output_grads[0].id; }
  int input_grad(const std::string& name, size_t i = 0) const {
    return node(name).input_grads[i].id;
  }
  // Whether the two tensors share memory by the in-place pass.
  bool shared(int a, int b) const { return graph.storage(a) == graph.storage(b); }
  bool in_place(const std::string& name, size_t i = 0) const {
    return shared(output(name), input(name, i));
  }
  bool gradient_in_place(const std::string& name, size_t i = 0) const {
    return input_grad(name, i) >= 0 && shared(input_grad(name, i), output_grad(name));
  }
  size_t aliases() const {
    size_t count = 0;
    for (const GraphTensor& tensor : graph.tensors) count += tensor.alias_of >= 0;
    return count;
  }
};

std::unique_ptr<Net> compile(const Builder& build, bool in_place, size_t batch = 4,
                             const std::string& optimizer = "sgd",
                             const std::vector<std::string>& optimizer_properties = {
                                 "learning_rate=0.05"}) {
  auto net = std::make_unique<Net>();
  net->layers = build();
  net->optimizer = createOptimizer(optimizer, optimizer_properties);
  std::vector<NodeDescription> description;
  for (const auto& layer : net->layers)
    description.push_back({layer->getName(), &layer->layer(), layer->inputLayers(),
                           layer->inputShape(), layer->trainable()});
  CompileOptions options;
  options.batch = batch;
  options.optimizer = net->optimizer.get();
  options.input_gradients = true;
  options.in_place = in_place;
  net->graph = compile_graph(description, options);
  EXPECT_EQ(testing::plan_conflict(net->graph), "");
  return net;
}

std::vector<float> values_of(const Tensor& tensor) { return {tensor.begin(), tensor.end()}; }

struct Trace {
  std::vector<float> losses;
  std::vector<std::vector<float>> outputs;      // loss predictions and model outputs, per step
  std::vector<std::vector<float>> kept;         // the same after backward
  std::vector<std::vector<float>> input_grads;  // per step
  std::vector<std::vector<float>> weights;      // after the last step
};

// Trains `steps` steps on fixed random data (the last one on a smaller batch when
// `partial` is set) and records everything the caller can read.
Trace train(Net& net, size_t steps = 3, size_t partial = 0) {
  CompiledGraph& graph = net.graph;
  Executor executor(graph, net.optimizer.get(), nullptr, 11);
  std::vector<int> results;
  for (const GraphNode& node : graph.nodes)
    if (node.layer->is_loss()) results.push_back(node.inputs[0].id);
  results.insert(results.end(), graph.output_tensors.begin(), graph.output_tensors.end());
  Trace trace;
  for (size_t step = 0; step < steps; ++step) {
    executor.set_batch(partial > 0 && step + 1 == steps ? partial : graph.batch);
    Rng rng(100 + step);
    for (int id : graph.input_tensors)
      for (float& value : executor.tensor(id)) value = rng.uniform(-1.0f, 1.0f);
    for (int id : graph.label_tensors)
      for (float& value : executor.tensor(id)) value = rng.uniform(0.0f, 1.0f);
    executor.forward(true);
    trace.losses.push_back(executor.loss());
    for (int id : results) trace.outputs.push_back(values_of(executor.tensor(id)));
    executor.set_external_gradients_zero();
    executor.backward();
    for (int id : results) trace.kept.push_back(values_of(executor.tensor(id)));
    for (int id : graph.input_gradients)
      trace.input_grads.push_back(values_of(executor.tensor(id)));
  }
  for (const GraphNode& node : graph.nodes)
    for (int id : node.weights) trace.weights.push_back(values_of(executor.tensor(id)));
  return trace;
}

// Bit-identical results with in_place on and off; returns the net compiled with it on.
std::unique_ptr<Net> expect_same_training(const Builder& build, size_t batch = 4,
                                          size_t partial = 0) {
  auto on = compile(build, true, batch);
  auto off = compile(build, false, batch);
  EXPECT_EQ(off->aliases(), 0u);
  const Trace a = train(*on, 3, partial);
  const Trace b = train(*off, 3, partial);
  EXPECT_EQ(a.losses, b.losses);
  EXPECT_EQ(a.outputs, b.outputs);
  EXPECT_EQ(a.kept, a.outputs) << "predictions and outputs must survive backward";
  EXPECT_EQ(a.kept, b.kept);
  EXPECT_EQ(a.input_grads, b.input_grads);
  EXPECT_EQ(a.weights, b.weights);
  // Sharing never adds bytes alive at a step; the planner's heuristic arena may still come
  // out a little larger on such small graphs (a merged tensor is one longer-lived block to
  // place; best_fit: 13056 vs 12864 bytes for the conv-bn-relu test).
  EXPECT_LE(on->graph.lower_bound_bytes, off->graph.lower_bound_bytes);
  EXPECT_LT(on->graph.naive_bytes, off->graph.naive_bytes);
  return on;
}

std::unique_ptr<LayerNode> layer(const std::string& type, std::vector<std::string> properties) {
  return createLayer(type, properties);
}

// in -> fc1 -> act(activation) -> fc2 -> mse
Builder activation_chain(const std::string& activation) {
  return [activation] {
    Layers layers;
    layers.push_back(layer("input", {"name=in", "input_shape=1:1:5"}));
    layers.push_back(layer("fully_connected", {"name=fc1", "unit=6"}));
    layers.push_back(layer("activation", {"name=act", "activation=" + activation}));
    layers.push_back(layer("fully_connected", {"name=fc2", "unit=3"}));
    layers.push_back(layer("mse", {"name=loss"}));
    return layers;
  };
}

TEST(InPlace, ActivationsFromTheirOutputRunInPlace) {
  for (const std::string activation : {"none", "relu", "leaky_relu", "elu", "selu", "sigmoid",
                                       "tanh", "softmax", "relu6", "hard_sigmoid"}) {
    SCOPED_TRACE(activation);
    auto net = expect_same_training(activation_chain(activation));
    EXPECT_TRUE(net->in_place("act"));
    EXPECT_TRUE(net->gradient_in_place("act"));
    EXPECT_EQ(net->graph.tensors[net->input("act")].overwritten_by, net->graph.find_node("act"));
  }
}

TEST(InPlace, ActivationsFromTheirInputKeepIt) {
  for (const std::string activation : {"swish", "gelu", "hard_swish"}) {
    SCOPED_TRACE(activation);
    auto net = expect_same_training(activation_chain(activation));
    EXPECT_FALSE(net->in_place("act")) << "backward reads the input";
    EXPECT_TRUE(net->gradient_in_place("act")) << "dx may still overwrite dy";
  }
}

TEST(InPlace, BatchNormalizationAndReluChainShareTheConvOutput) {
  auto net = expect_same_training([] {
    Layers layers;
    layers.push_back(layer("input", {"name=in", "input_shape=2:6:6"}));
    layers.push_back(layer("conv2d", {"name=conv", "filters=3", "kernel_size=3", "padding=same"}));
    layers.push_back(layer("batch_normalization", {"name=bn"}));
    layers.push_back(layer("activation", {"name=relu", "activation=relu"}));
    layers.push_back(layer("flatten", {"name=flat"}));
    layers.push_back(layer("fully_connected", {"name=fc", "unit=4"}));
    layers.push_back(layer("mse", {"name=loss"}));
    return layers;
  });
  EXPECT_TRUE(net->in_place("bn"));
  EXPECT_TRUE(net->in_place("relu"));
  EXPECT_EQ(net->graph.storage(net->output("relu")), net->output("conv"));
  EXPECT_TRUE(net->gradient_in_place("bn"));
  EXPECT_TRUE(net->gradient_in_place("relu"));
  EXPECT_EQ(net->graph.storage(net->input_grad("bn")), net->graph.storage(net->output_grad("relu")))
      << "a chain of gradient aliases shares one tensor";
}

TEST(InPlace, BatchNormalizationAfterFullyConnected) {
  auto net = expect_same_training([] {
    Layers layers;
    layers.push_back(layer("input", {"name=in", "input_shape=1:1:5"}));
    layers.push_back(layer("fully_connected", {"name=fc1", "unit=6"}));
    layers.push_back(layer("batch_normalization", {"name=bn"}));
    layers.push_back(layer("fully_connected", {"name=fc2", "unit=3"}));
    layers.push_back(layer("mse", {"name=loss"}));
    return layers;
  });
  EXPECT_TRUE(net->in_place("bn"));
  EXPECT_TRUE(net->gradient_in_place("bn"));
}

TEST(InPlace, DropoutUsesItsMask) {
  auto net = expect_same_training([] {
    Layers layers;
    layers.push_back(layer("input", {"name=in", "input_shape=1:1:8"}));
    layers.push_back(layer("fully_connected", {"name=fc1", "unit=16"}));
    layers.push_back(layer("dropout", {"name=drop", "dropout_rate=0.4"}));
    layers.push_back(layer("fully_connected", {"name=fc2", "unit=3"}));
    layers.push_back(layer("mse", {"name=loss"}));
    return layers;
  });
  EXPECT_TRUE(net->in_place("drop"));
  EXPECT_TRUE(net->gradient_in_place("drop"));
}

// in -> conv1 -> bn1 -> relu1 -+-> conv2 -> bn2 -> add -> relu2 -> flatten -> fc -> loss
//                              +------------------^
Builder residual_block() {
  return [] {
    Layers layers;
    layers.push_back(layer("input", {"name=in", "input_shape=2:6:6"}));
    layers.push_back(layer("conv2d", {"name=conv1", "filters=3", "kernel_size=3", "padding=same"}));
    layers.push_back(layer("batch_normalization", {"name=bn1"}));
    layers.push_back(layer("activation", {"name=relu1", "activation=relu"}));
    layers.push_back(layer("conv2d", {"name=conv2", "filters=3", "kernel_size=3", "padding=same"}));
    layers.push_back(layer("batch_normalization", {"name=bn2"}));
    layers.push_back(layer("addition", {"name=add", "input_layers=bn2,relu1"}));
    layers.push_back(layer("activation", {"name=relu2", "activation=relu"}));
    layers.push_back(layer("flatten", {"name=flat"}));
    layers.push_back(layer("fully_connected", {"name=fc", "unit=4"}));
    layers.push_back(layer("mse", {"name=loss"}));
    return layers;
  };
}

TEST(InPlace, ResidualBlockAddsIntoTheBranchNotTheShortcut) {
  auto net = expect_same_training(residual_block());
  EXPECT_TRUE(net->in_place("relu1")) << "its input, bn1's output, has one reader";
  EXPECT_TRUE(net->in_place("add", 0)) << "bn2's output has one reader";
  EXPECT_FALSE(net->in_place("add", 1)) << "relu1's output also feeds conv2";
  EXPECT_FALSE(net->shared(net->output("add"), net->output("relu1")));
  EXPECT_TRUE(net->in_place("relu2"));
  // One of the addition's input gradients is its output gradient; the other is a copy.
  EXPECT_TRUE(net->gradient_in_place("add", 0));
  EXPECT_FALSE(net->gradient_in_place("add", 1));
  // The fan-out node sums its consumers' gradients over the first one.
  EXPECT_TRUE(net->gradient_in_place("relu1/multiout"));
}

TEST(InPlace, ResidualBlockWithAdamAndGradientClipping) {
  // Clipping keeps every weight gradient to one step after the backward pass.
  auto on =
      compile(residual_block(), true, 4, "adam", {"learning_rate=0.01", "clip_grad_norm=0.1"});
  auto off =
      compile(residual_block(), false, 4, "adam", {"learning_rate=0.01", "clip_grad_norm=0.1"});
  EXPECT_GT(on->aliases(), 0u);
  const Trace a = train(*on);
  const Trace b = train(*off);
  EXPECT_EQ(a.losses, b.losses);
  EXPECT_EQ(a.input_grads, b.input_grads);
  EXPECT_EQ(a.weights, b.weights);
}

TEST(InPlace, ResidualBlockOnAPartialBatch) { expect_same_training(residual_block(), 4, 3); }

TEST(InPlace, AdditionInPlaceOverItsSecondInput) {
  // in -> fc0 -+-> elu --------------> add(fc1, elu)
  //            +-> fc1 (one reader) ----^
  auto net = expect_same_training([] {
    Layers layers;
    layers.push_back(layer("input", {"name=in", "input_shape=1:1:5"}));
    layers.push_back(layer("fully_connected", {"name=fc0", "unit=6"}));
    layers.push_back(layer("activation", {"name=elu", "activation=elu", "input_layers=fc0"}));
    layers.push_back(layer("fully_connected", {"name=fc1", "unit=6", "input_layers=fc0"}));
    layers.push_back(layer("addition", {"name=add", "input_layers=elu,fc1"}));
    layers.push_back(layer("fully_connected", {"name=fc2", "unit=3"}));
    layers.push_back(layer("mse", {"name=loss"}));
    return layers;
  });
  EXPECT_FALSE(net->in_place("elu")) << "fc0's output also feeds fc1";
  EXPECT_FALSE(net->in_place("add", 0)) << "elu's backward reads its output";
  EXPECT_TRUE(net->in_place("add", 1));
}

TEST(InPlace, AdditionInPlaceOverAReluOutput) {
  // As above with relu, whose backward reads its mask and not its output: the addition
  // takes its first input's memory.
  auto net = expect_same_training([] {
    Layers layers;
    layers.push_back(layer("input", {"name=in", "input_shape=1:1:5"}));
    layers.push_back(layer("fully_connected", {"name=fc0", "unit=6"}));
    layers.push_back(layer("activation", {"name=relu", "activation=relu", "input_layers=fc0"}));
    layers.push_back(layer("fully_connected", {"name=fc1", "unit=6", "input_layers=fc0"}));
    layers.push_back(layer("addition", {"name=add", "input_layers=relu,fc1"}));
    layers.push_back(layer("fully_connected", {"name=fc2", "unit=3"}));
    layers.push_back(layer("mse", {"name=loss"}));
    return layers;
  });
  EXPECT_FALSE(net->in_place("relu")) << "fc0's output also feeds fc1";
  EXPECT_TRUE(net->in_place("add", 0));
  EXPECT_FALSE(net->in_place("add", 1));
}

TEST(InPlace, AdditionOfThreeOnlyOverTheFirstTwo) {
  // Inputs 0 and 1 are outputs their producers' backward reads; input 2 has one reader,
  // but forward writes the sum of inputs 0 and 1 before reading it.
  auto net = expect_same_training([] {
    Layers layers;
    layers.push_back(layer("input", {"name=in", "input_shape=1:1:5"}));
    layers.push_back(layer("activation", {"name=s", "activation=sigmoid", "input_layers=in"}));
    layers.push_back(layer("activation", {"name=t", "activation=tanh", "input_layers=in"}));
    layers.push_back(layer("fully_connected", {"name=b", "unit=5", "input_layers=in"}));
    layers.push_back(layer("addition", {"name=add", "input_layers=s,t,b"}));
    layers.push_back(layer("fully_connected", {"name=fc", "unit=3"}));
    layers.push_back(layer("mse", {"name=loss"}));
    return layers;
  });
  EXPECT_FALSE(net->in_place("add", 0));
  EXPECT_FALSE(net->in_place("add", 1));
  EXPECT_FALSE(net->in_place("add", 2));
  EXPECT_TRUE(net->gradient_in_place("add", 0));
}

TEST(InPlace, FanOutIsNeverOverwritten) {
  // in -> fc -> relu -+-> sigmoid -> add -> fc2 -> loss
  //                   +-> tanh -----^
  auto net = expect_same_training([] {
    Layers layers;
    layers.push_back(layer("input", {"name=in", "input_shape=1:1:5"}));
    layers.push_back(layer("fully_connected", {"name=fc", "unit=6"}));
    layers.push_back(layer("activation", {"name=relu", "activation=relu"}));
    layers.push_back(layer("activation", {"name=s1", "activation=sigmoid", "input_layers=relu"}));
    layers.push_back(layer("activation", {"name=s2", "activation=tanh", "input_layers=relu"}));
    layers.push_back(layer("addition", {"name=add", "input_layers=s1,s2"}));
    layers.push_back(layer("fully_connected", {"name=fc2", "unit=3"}));
    layers.push_back(layer("mse", {"name=loss"}));
    return layers;
  });
  EXPECT_TRUE(net->in_place("relu"));
  EXPECT_FALSE(net->in_place("s1"));
  EXPECT_FALSE(net->in_place("s2"));
  EXPECT_FALSE(net->in_place("add", 0)) << "sigmoid's backward reads its output";
  EXPECT_FALSE(net->in_place("add", 1)) << "tanh's backward reads its output";
}

TEST(InPlace, ActivationBesideAShortcutKeepsItsInput) {
  // in -> fc0 -+-> elu -> add -> fc1 -> loss
  //            +---------^
  auto net = expect_same_training([] {
    Layers layers;
    layers.push_back(layer("input", {"name=in", "input_shape=1:1:5"}));
    layers.push_back(layer("fully_connected", {"name=fc0", "unit=6"}));
    layers.push_back(layer("activation", {"name=elu", "activation=elu"}));
    layers.push_back(layer("addition", {"name=add", "input_layers=elu,fc0"}));
    layers.push_back(layer("fully_connected", {"name=fc1", "unit=3"}));
    layers.push_back(layer("mse", {"name=loss"}));
    return layers;
  });
  EXPECT_FALSE(net->in_place("elu"));
  EXPECT_FALSE(net->in_place("add", 1));
  EXPECT_FALSE(net->in_place("add", 0)) << "elu's backward reads its output";
}

TEST(InPlace, NotOverAnOutputTheProducerBackwardReads) {
  // sigmoid's backward reads its output: relu must not overwrite it.
  auto net = expect_same_training([] {
    Layers layers;
    layers.push_back(layer("input", {"name=in", "input_shape=1:1:5"}));
    layers.push_back(layer("fully_connected", {"name=fc1", "unit=6"}));
    layers.push_back(layer("activation", {"name=sigmoid", "activation=sigmoid"}));
    layers.push_back(layer("activation", {"name=relu", "activation=relu"}));
    layers.push_back(layer("fully_connected", {"name=fc2", "unit=3"}));
    layers.push_back(layer("mse", {"name=loss"}));
    return layers;
  });
  EXPECT_TRUE(net->in_place("sigmoid"));
  EXPECT_FALSE(net->in_place("relu"));
  EXPECT_TRUE(net->gradient_in_place("relu"));
  EXPECT_TRUE(net->gradient_in_place("sigmoid"));
}

TEST(InPlace, NotOverAFusedActivationOutputThroughAView) {
  // conv2d with a fused elu reads its output in backward; flatten shares that tensor.
  auto net = expect_same_training([] {
    Layers layers;
    layers.push_back(layer("input", {"name=in", "input_shape=1:4:4"}));
    layers.push_back(layer(
        "conv2d", {"name=conv", "filters=2", "kernel_size=3", "padding=same", "activation=elu"}));
    layers.push_back(layer("flatten", {"name=flat"}));
    layers.push_back(layer("dropout", {"name=drop", "dropout_rate=0.25"}));
    layers.push_back(layer("fully_connected", {"name=fc", "unit=3"}));
    layers.push_back(layer("mse", {"name=loss"}));
    return layers;
  });
  EXPECT_FALSE(net->in_place("drop"));
  EXPECT_TRUE(net->gradient_in_place("drop"));
}

TEST(InPlace, OverAFusedReluOutputThroughAView) {
  // A fused relu keeps a mask, not its output: dropout may overwrite it (through flatten).
  auto net = expect_same_training([] {
    Layers layers;
    layers.push_back(layer("input", {"name=in", "input_shape=1:4:4"}));
    layers.push_back(layer(
        "conv2d", {"name=conv", "filters=2", "kernel_size=3", "padding=same", "activation=relu"}));
    layers.push_back(layer("flatten", {"name=flat"}));
    layers.push_back(layer("dropout", {"name=drop", "dropout_rate=0.25"}));
    layers.push_back(layer("fully_connected", {"name=fc", "unit=3"}));
    layers.push_back(layer("mse", {"name=loss"}));
    return layers;
  });
  EXPECT_TRUE(net->in_place("drop"));
  EXPECT_EQ(net->graph.storage(net->output("drop")), net->output("conv"));
}

TEST(InPlace, ThroughAViewWhenTheProducerAllows) {
  auto net = expect_same_training([] {
    Layers layers;
    layers.push_back(layer("input", {"name=in", "input_shape=1:4:4"}));
    layers.push_back(layer("conv2d", {"name=conv", "filters=2", "kernel_size=3", "padding=same"}));
    layers.push_back(layer("flatten", {"name=flat"}));
    layers.push_back(layer("activation", {"name=tanh", "activation=tanh"}));
    layers.push_back(layer("reshape", {"name=shape", "target_shape=2:2:8"}));
    layers.push_back(layer("activation", {"name=ident", "activation=none"}));
    layers.push_back(layer("flatten", {"name=flat2"}));
    layers.push_back(layer("fully_connected", {"name=fc", "unit=3"}));
    layers.push_back(layer("mse", {"name=loss"}));
    return layers;
  });
  EXPECT_TRUE(net->in_place("tanh"));
  EXPECT_EQ(net->graph.storage(net->output("tanh")), net->output("conv"));
  EXPECT_FALSE(net->in_place("ident")) << "tanh's backward reads its output";
}

TEST(InPlace, NeverOverAModelInput) {
  auto net = expect_same_training([] {
    Layers layers;
    layers.push_back(layer("input", {"name=in", "input_shape=1:1:5"}));
    layers.push_back(layer("activation", {"name=relu", "activation=relu"}));
    layers.push_back(layer("fully_connected", {"name=fc", "unit=3"}));
    layers.push_back(layer("mse", {"name=loss"}));
    return layers;
  });
  EXPECT_FALSE(net->in_place("relu"));
  // The input gradient the caller reads may still be relu's output gradient's memory.
  EXPECT_TRUE(net->gradient_in_place("relu"));
}

TEST(InPlace, PredictionsAndModelOutputsSurvive) {
  // The loss's prediction (sigmoid, in place over fc1) stays readable after backward; the
  // unconsumed output (relu, over fc2) too; neither has a reader that overwrites it.
  auto net = expect_same_training([] {
    Layers layers;
    layers.push_back(layer("input", {"name=in", "input_shape=1:1:5"}));
    layers.push_back(layer("fully_connected", {"name=fc1", "unit=3", "input_layers=in"}));
    layers.push_back(layer("activation", {"name=pred", "activation=sigmoid"}));
    layers.push_back(layer("mse", {"name=loss", "input_layers=pred"}));
    layers.push_back(layer("fully_connected", {"name=fc2", "unit=4", "input_layers=in"}));
    layers.push_back(layer("activation", {"name=out", "activation=relu"}));
    return layers;
  });
  EXPECT_TRUE(net->in_place("pred"));
  EXPECT_TRUE(net->in_place("out"));
  // The external gradient of the unconsumed output is the caller's: not overwritten.
  EXPECT_FALSE(net->gradient_in_place("out"));
}

TEST(InPlace, OffMeansNoAliases) {
  auto net = compile(residual_block(), false);
  EXPECT_EQ(net->aliases(), 0u);
  for (const GraphTensor& tensor : net->graph.tensors) EXPECT_EQ(tensor.overwritten_by, -1);
}

TEST(InPlace, SavesMemoryOnAResidualBlock) {
  auto on = compile(residual_block(), true, 16);
  auto off = compile(residual_block(), false, 16);
  EXPECT_GT(on->aliases(), 0u);
  EXPECT_LT(on->graph.naive_bytes, off->graph.naive_bytes);
  EXPECT_LE(on->graph.lower_bound_bytes, off->graph.lower_bound_bytes);
  std::cout << "residual block, batch 16: arena " << on->graph.plan.arena_bytes << " / "
            << off->graph.plan.arena_bytes << ", lower bound " << on->graph.lower_bound_bytes
            << " / " << off->graph.lower_bound_bytes << " (in place on / off)\n";
}

TEST(InPlace, ModelPropertyTurnsItOff) {
  auto build = [](const std::string& in_place) {
    auto model = std::make_unique<Model>(
        std::vector<std::string>{"batch_size=8", "seed=3", "in_place=" + in_place});
    for (auto& node : residual_block()()) model->addLayer(std::move(node));
    model->setOptimizer(createOptimizer("sgd", {"learning_rate=0.05"}));
    model->compile();
    return model;
  };
  auto on = build("true");
  auto off = build("false");
  EXPECT_LT(on->memory().naive_bytes, off->memory().naive_bytes);
  std::ostringstream summary;
  on->summary(summary);
  EXPECT_NE(summary.str().find("[in place: conv1]"), std::string::npos) << summary.str();
  EXPECT_NE(summary.str().find("In place: 5 output(s) over their input"), std::string::npos)
      << summary.str();
  std::ostringstream plain;
  off->summary(plain);
  EXPECT_EQ(plain.str().find("in place"), std::string::npos);

  on->initialize();
  off->initialize();
  for (int step = 0; step < 3; ++step) {
    // Data again on every step: the plan reuses the input's memory once it is read.
    for (Model* model : {on.get(), off.get()}) {
      Rng rng(4 + step);
      for (Tensor& tensor : model->inputs())
        for (float& value : tensor) value = rng.uniform(-1.0f, 1.0f);
      for (Tensor& tensor : model->labels())
        for (float& value : tensor) value = rng.uniform(0.0f, 1.0f);
    }
    EXPECT_EQ(on->trainStep(), off->trainStep());
  }
  EXPECT_EQ(values_of(on->outputs()[0]), values_of(off->outputs()[0]));
}

}  // namespace
}  // namespace edgetrain

namespace edgetrain {
namespace {

// conv2d and conv2dtranspose compute dL/dZ of a fused activation one sample at a time and
// sum the bias gradient per sample: bit for bit what a separate activation layer gives.
void expect_fused_matches_separate(const std::string& type, const std::string& activation) {
  auto build = [&](bool fused) {
    return [=] {
      Layers layers;
      layers.push_back(layer("input", {"name=in", "input_shape=2:5:5"}));
      std::vector<std::string> conv = {"name=conv", "filters=3", "kernel_size=3", "stride=1"};
      if (type == "conv2d") conv.push_back("padding=same");
      if (fused) conv.push_back("activation=" + activation);
      layers.push_back(layer(type, conv));
      if (!fused) layers.push_back(layer("activation", {"name=act", "activation=" + activation}));
      layers.push_back(layer("flatten", {"name=flat"}));
      layers.push_back(layer("fully_connected", {"name=fc", "unit=3"}));
      layers.push_back(layer("mse", {"name=loss"}));
      return layers;
    };
  };
  auto fused = compile(build(true), true, 6);
  auto separate = compile(build(false), false, 6);
  const Trace a = train(*fused, 3, 5);
  const Trace b = train(*separate, 3, 5);
  EXPECT_EQ(a.losses, b.losses);
  EXPECT_EQ(a.outputs, b.outputs);
  EXPECT_EQ(a.input_grads, b.input_grads);
  EXPECT_EQ(a.weights, b.weights);
}

TEST(SavedTensors, FusedConvActivationMatchesASeparateLayer) {
  for (const char* type : {"conv2d", "conv2dtranspose"})
    for (const char* activation : {"relu", "sigmoid", "gelu", "softmax"}) {
      SCOPED_TRACE(std::string(type) + " " + activation);
      expect_fused_matches_separate(type, activation);
    }
}

// The fused activation's dL/dZ is per-thread scratch, not a batch-sized tensor.
TEST(SavedTensors, FusedConvActivationGradientIsPerSample) {
  auto net = compile(
      [] {
        Layers layers;
        layers.push_back(layer("input", {"name=in", "input_shape=2:5:5"}));
        layers.push_back(layer("conv2d", {"name=conv", "filters=3", "kernel_size=3", "padding=same",
                                          "activation=relu"}));
        layers.push_back(layer("flatten", {"name=flat"}));
        layers.push_back(layer("fully_connected", {"name=fc", "unit=3"}));
        layers.push_back(layer("mse", {"name=loss"}));
        return layers;
      },
      true, 16);
  bool found = false;
  for (const GraphTensor& tensor : net->graph.tensors) {
    if (tensor.name != "conv:pre_activation_grad") continue;
    found = true;
    EXPECT_LT(tensor.shape.batch, 16u);
  }
  EXPECT_TRUE(found);
}

TEST(InPlace, ModelFileKey) {
  const std::string text = R"(
[Model]
Type = NeuralNetwork
Loss = mse
Batch_Size = 4
in_place = false
[Optimizer]
Type = sgd
[in]
Type = input
Input_Shape = 1:1:5
[fc]
Type = fully_connected
Unit = 6
[bn]
Type = batch_normalization
Activation = relu
[out]
Type = fully_connected
Unit = 2
)";
  const std::string path = testing::fresh_temp_dir() + "/model.ini";
  testing::write_text(path, text);
  auto summary = [&](const std::vector<std::string>& overrides) {
    ModelFile file = load_model_file(path, overrides);
    file.model->compile();
    std::ostringstream out;
    file.model->summary(out);
    return out.str();
  };
  EXPECT_EQ(summary({}).find("in place"), std::string::npos);
  EXPECT_NE(summary({"model.in_place=true"}).find("[in place: fc]"), std::string::npos);
  EXPECT_THROW(load_model_file(path, {"model.in_place=perhaps"}), Error);
}

TEST(InPlace, PartialForwardRefusesAnOutputOverwrittenInPlace) {
  // relu runs over fc's output: fc's values are gone once relu has run.
  for (const bool in_place : {true, false}) {
    Model model({"batch_size=2", "seed=1", std::string("in_place=") + (in_place ? "1" : "0")});
    model.addLayer(createLayer("input", {"name=x", "input_shape=1:1:4"}));
    model.addLayer(createLayer("fully_connected", {"name=fc", "unit=4"}));
    model.addLayer(createLayer("activation", {"name=relu", "activation=relu"}));
    model.initialize();
    const std::vector<float> x = {0.5f, -1.0f, 0.25f, 2.0f};
    if (in_place)
      EXPECT_THROW(model.forwardFrom("x", x, 1, "fc"), StateError);
    else
      EXPECT_EQ(model.forwardFrom("x", x, 1, "fc").size(), 4u);
    EXPECT_EQ(model.forwardFrom("x", x, 1, "relu"), model.predict(x, 1));
  }
}

TEST(SavedTensors, DropoutKeepsOneBitPerValue) {
  auto net = compile(
      [] {
        Layers layers;
        layers.push_back(layer("input", {"name=in", "input_shape=1:1:8"}));
        layers.push_back(layer("fully_connected", {"name=fc1", "unit=100"}));
        layers.push_back(layer("dropout", {"name=drop", "dropout_rate=0.5"}));
        layers.push_back(layer("fully_connected", {"name=fc2", "unit=3"}));
        layers.push_back(layer("mse", {"name=loss"}));
        return layers;
      },
      true, 3);
  const GraphNode& drop = net->node("drop");
  ASSERT_EQ(drop.tensors.size(), 1u);
  EXPECT_EQ(net->graph.tensors[drop.tensors[0].id].shape.size(), (300u + 31) / 32);
}

TEST(SavedTensors, FrozenFullyConnectedDropsItsInput) {
  auto net = compile(
      [] {
        Layers layers;
        layers.push_back(layer("input", {"name=in", "input_shape=1:1:5"}));
        layers.push_back(layer("fully_connected", {"name=fc1", "unit=6"}));
        layers.push_back(layer("fully_connected", {"name=frozen", "unit=6", "trainable=false"}));
        layers.push_back(layer("fully_connected", {"name=fc2", "unit=3"}));
        layers.push_back(layer("mse", {"name=loss"}));
        return layers;
      },
      true);
  EXPECT_LT(net->graph.tensors[net->input("frozen")].last, net->graph.forward_steps);
}

}  // namespace
}  // namespace edgetrain

namespace edgetrain::testing {
namespace {

// The layer under test runs in place over its input i (pre<i>'s output) and writes its
// input gradient `grad_input` over its output gradient.
void expect_in_place(const LayerHarness& harness, size_t i, int grad_input) {
  const CompiledGraph& graph = harness.graph();
  const GraphNode& node = graph.nodes[graph.find_node("under_test")];
  EXPECT_EQ(graph.storage(node.outputs[0].id), graph.storage(node.inputs[i].id));
  if (grad_input >= 0) {
    EXPECT_EQ(graph.storage(node.input_grads[grad_input].id),
              graph.storage(node.output_grads[0].id));
  }
}

// The finite-difference checks of the in-place layers, with the layer run in place.
TEST(InPlaceLayers, ActivationGradientsMatchFiniteDifferences) {
  struct Case {
    const char* activation;
    float low, high;  // clear of kinks
  };
  for (const Case& c :
       {Case{"relu", 0.1f, 2.9f}, Case{"relu", -2.9f, -0.1f}, Case{"leaky_relu", -2.9f, -0.1f},
        Case{"elu", -5.0f, 5.0f}, Case{"selu", -5.0f, 5.0f}, Case{"sigmoid", -5.0f, 5.0f},
        Case{"tanh", -5.0f, 5.0f}, Case{"softmax", -5.0f, 5.0f}, Case{"relu6", 0.1f, 5.9f},
        Case{"hard_sigmoid", -2.9f, 2.9f}, Case{"none", -1.0f, 1.0f}}) {
    SCOPED_TRACE(c.activation);
    LayerHarness harness("activation", {std::string("activation=") + c.activation},
                         {TensorShape(2, 3, 2, 5)}, 1, true, true);
    expect_in_place(harness, 0, 0);
    GradCheckOptions options;
    options.input_low = c.low;
    options.input_high = c.high;
    expect_gradients_match(harness, options);
  }
}

// Max pooling keeps a byte per output (the maximum's index in its window) for windows of up
// to 256 pixels, else the float position in the plane; both give the same gradients.
TEST(SavedTensors, MaxPoolingArgmaxEncodings) {
  struct Case {
    std::vector<std::string> properties;
    TensorShape input;
    bool bytes;
  };
  for (const Case& c :
       {Case{{"pooling=max", "pool_size=16", "stride=4"}, TensorShape(2, 2, 20, 20), true},
        Case{
            {"pooling=max", "pool_size=3", "stride=2", "padding=1"}, TensorShape(3, 2, 7, 6), true},
        Case{{"pooling=global_max"}, TensorShape(2, 2, 16, 16), true},
        Case{{"pooling=global_max"}, TensorShape(2, 2, 17, 16), false}}) {
    SCOPED_TRACE(c.input.str() + " " + c.properties.front());
    LayerHarness harness("pooling2d", c.properties, {c.input});
    const GraphNode& node = harness.graph().nodes[harness.graph().find_node("under_test")];
    const size_t outputs = harness.graph().tensors[node.outputs[0].id].shape.size();
    EXPECT_EQ(harness.graph().tensors[node.tensors[0].id].shape.size(),
              c.bytes ? (outputs + 3) / 4 : outputs);
    GradCheckOptions options;
    options.max_checks_per_tensor = 400;
    expect_gradients_match(harness, options);
  }
}

TEST(InPlaceLayers, BatchNormalizationGradientsMatchFiniteDifferences) {
  for (const bool training : {true, false}) {
    SCOPED_TRACE(training ? "training" : "evaluation");
    LayerHarness harness("batch_normalization", {}, {TensorShape(2, 3, 3, 4)}, 1, true, true);
    expect_in_place(harness, 0, 0);
    Tensor gamma = harness.weight("gamma");
    for (size_t k = 0; k < gamma.size(); ++k) gamma[k] = 0.5f + 0.3f * static_cast<float>(k);
    GradCheckOptions options;
    options.training = training;
    expect_gradients_match(harness, options);
  }
}

TEST(InPlaceLayers, DropoutGradientsMatchFiniteDifferences) {
  LayerHarness harness("dropout", {"dropout_rate=0.5"}, {TensorShape(2, 3, 2, 5)}, 1, true, true);
  expect_in_place(harness, 0, 0);
  expect_gradients_match(harness);
}

TEST(InPlaceLayers, AdditionGradientsMatchFiniteDifferences) {
  const TensorShape shape(2, 2, 3, 3);
  LayerHarness two("addition", {}, {shape, shape}, 1, true, true);
  expect_in_place(two, 0, 0);
  expect_gradients_match(two);
  LayerHarness three("addition", {}, {shape, shape, shape}, 1, true, true);
  expect_in_place(three, 0, 0);
  expect_gradients_match(three);
}

}  // namespace
}  // namespace edgetrain::testing
