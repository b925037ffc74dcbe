// Issue 9, the saved-tensor economy of relu-like activations: relu, leaky_relu, relu6 and
// hard_sigmoid keep one bit per value for backward instead of their output, in the
// activation layer and fused into conv2d, conv2dtranspose and fully_connected. Training
// gives the same results, bit for bit, as a reference layer that keeps the output; the
// output then dies once its readers' forwards have run.
#include <gtest/gtest.h>
#include <omp.h>

#include <cmath>
#include <cstring>
#include <functional>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "edgetrain/error.h"
#include "edgetrain/model.h"
#include "edgetrain/model_file.h"
#include "edgetrain/optimizer.h"
#include "edgetrain/rng.h"
#include "graph/executor.h"
#include "graph/graph.h"
#include "layers/activation_functions.h"
#include "support/graph_checks.h"

namespace edgetrain {
namespace {

// The activation layer as it was before masks: backward reads the output (or, for
// swish/gelu/hard_swish, the input). The reference the masked layers must match.
class OutputSavingActivation : public Layer {
 public:
  std::string type() const override { return "test_output_saving_activation"; }
  bool set_property(const std::string& key, const std::string& value,
                    const std::string& owner) override {
    if (key != "activation") return false;
    activation_ = parse_activation(value, owner, key);
    return true;
  }
  void finalize(FinalizeContext& context) override {
    context.set_output_shape(context.input_shape());
  }
  void forward(RunContext& context) override {
    Tensor& output = context.output();
    activation_forward(activation_, context.input().data(), output.data(), output.size(),
                       output.shape().width);
  }
  void calc_derivative(RunContext& context) override {
    if (!context.needs_input_grad()) return;
    const Tensor& dy = context.output_grad();
    const bool x = activation_derivative_needs_input(activation_);
    activation_backward(activation_, x ? context.input().data() : nullptr,
                        x ? nullptr : context.output().data(), dy.data(),
                        context.input_grad().data(), dy.size(), dy.shape().width);
  }
  bool backward_needs_input(size_t) const override {
    return activation_derivative_needs_input(activation_);
  }
  bool backward_needs_output(size_t) const override {
    return !activation_derivative_needs_input(activation_);
  }

 private:
  ActivationType activation_ = ActivationType::none;
};

const bool registered = [] {
  register_layer_type("test_output_saving_activation",
                      [] { return std::make_unique<OutputSavingActivation>(); });
  return true;
}();

using Layers = std::vector<std::unique_ptr<LayerNode>>;
using Builder = std::function<Layers()>;

std::unique_ptr<LayerNode> layer(const std::string& type, std::vector<std::string> properties) {
  return createLayer(type, properties);
}

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
  // The step of a layer's forward.
  size_t forward_step(const std::string& name) const {
    const size_t n = static_cast<size_t>(graph.find_node(name));
    for (size_t s = 0; s < graph.steps.size(); ++s)
      if (graph.steps[s].node == n && graph.steps[s].phase == Phase::forward) return s;
    ADD_FAILURE() << "no forward step of " << name;
    return 0;
  }
  // The memory tensor `id` lives in (itself or the tensor it runs in place over).
  const GraphTensor& storage(int id) const { return graph.tensors[graph.storage(id)]; }
  const GraphTensor* tensor(const std::string& name) const {
    for (const GraphTensor& tensor : graph.tensors)
      if (tensor.name == name) return &tensor;
    return nullptr;
  }
};

std::unique_ptr<Net> compile(const Builder& build, size_t batch) {
  auto net = std::make_unique<Net>();
  net->layers = build();
  net->optimizer = createOptimizer("sgd", {"learning_rate=0.05"});
  std::vector<NodeDescription> description;
  for (const auto& node : net->layers)
    description.push_back({node->getName(), &node->layer(), node->inputLayers(), node->inputShape(),
                           node->trainable()});
  CompileOptions options;
  options.batch = batch;
  options.optimizer = net->optimizer.get();
  options.input_gradients = true;
  net->graph = compile_graph(description, options);
  EXPECT_EQ(testing::plan_conflict(net->graph), "");
  return net;
}

std::vector<float> values_of(const Tensor& tensor) { return {tensor.begin(), tensor.end()}; }

struct Trace {
  std::vector<float> losses;
  std::vector<std::vector<float>> predictions;
  std::vector<std::vector<float>> input_grads;
  std::vector<std::vector<float>> weights;
};

// Trains `steps` steps on fixed random data, inputs in [-scale, scale], the last step on
// a batch of `partial` when it is not 0.
Trace train(Net& net, size_t steps, size_t partial, float scale) {
  CompiledGraph& graph = net.graph;
  Executor executor(graph, net.optimizer.get(), nullptr, 11);
  Trace trace;
  for (size_t step = 0; step < steps; ++step) {
    executor.set_batch(partial > 0 && step + 1 == steps ? partial : graph.batch);
    Rng rng(200 + step);
    for (int id : graph.input_tensors)
      for (float& value : executor.tensor(id)) value = rng.uniform(-scale, scale);
    for (int id : graph.label_tensors)
      for (float& value : executor.tensor(id)) value = rng.uniform(0.0f, 1.0f);
    executor.forward(true);
    trace.losses.push_back(executor.loss());
    for (const GraphNode& node : graph.nodes)
      if (node.layer->is_loss())
        trace.predictions.push_back(values_of(executor.tensor(node.inputs[0].id)));
    executor.set_external_gradients_zero();
    executor.backward();
    for (int id : graph.input_gradients)
      trace.input_grads.push_back(values_of(executor.tensor(id)));
  }
  for (const GraphNode& node : graph.nodes)
    for (int id : node.weights) trace.weights.push_back(values_of(executor.tensor(id)));
  return trace;
}

void expect_same(const Trace& a, const Trace& b) {
  EXPECT_EQ(a.losses, b.losses);
  EXPECT_EQ(a.predictions, b.predictions);
  EXPECT_EQ(a.input_grads, b.input_grads);
  EXPECT_EQ(a.weights, b.weights);
}

const char* const kMaskActivations[] = {"relu", "leaky_relu", "relu6", "hard_sigmoid"};

// in -> `type` with `activation` -> flatten -> fc -> mse, the activation either fused
// (masked), a separate activation layer (masked) or the output-saving reference after the
// layer without activation.
enum class Form { fused, layer, reference };

Builder model(const std::string& type, const std::string& activation, Form form,
              const std::string& input_shape, size_t filters) {
  return [=] {
    Layers layers;
    layers.push_back(layer("input", {"name=in", "input_shape=" + input_shape}));
    std::vector<std::string> properties = {"name=main"};
    if (type == "fully_connected") {
      properties.push_back("unit=" + std::to_string(filters));
    } else {
      properties.insert(properties.end(),
                        {"filters=" + std::to_string(filters), "kernel_size=3", "stride=1"});
      if (type == "conv2d") properties.push_back("padding=same");
    }
    if (form == Form::fused) properties.push_back("activation=" + activation);
    layers.push_back(layer(type, properties));
    if (form == Form::layer)
      layers.push_back(layer("activation", {"name=act", "activation=" + activation}));
    if (form == Form::reference)
      layers.push_back(
          layer("test_output_saving_activation", {"name=act", "activation=" + activation}));
    layers.push_back(layer("flatten", {"name=flat"}));
    layers.push_back(layer("fully_connected", {"name=fc", "unit=3"}));
    layers.push_back(layer("mse", {"name=loss"}));
    return layers;
  };
}

// Masked (fused and as a layer) against the reference, a partial last batch included.
void expect_masks_match_reference(const std::string& type, const std::string& input_shape,
                                  size_t filters, size_t batch, size_t partial) {
  for (const char* activation : kMaskActivations) {
    SCOPED_TRACE(type + " " + activation);
    // Inputs large enough that relu6 and hard_sigmoid saturate on both sides.
    const float scale = 8.0f;
    auto reference = compile(model(type, activation, Form::reference, input_shape, filters), batch);
    const Trace expected = train(*reference, 3, partial, scale);
    for (Form form : {Form::fused, Form::layer}) {
      SCOPED_TRACE(form == Form::fused ? "fused" : "layer");
      auto net = compile(model(type, activation, form, input_shape, filters), batch);
      // The masked activation's backward reads no output: nothing but the mask is saved.
      const std::string owner = form == Form::fused ? "main" : "act";
      EXPECT_FALSE(net->node(owner).layer->backward_needs_output(0));
      expect_same(train(*net, 3, partial, scale), expected);
    }
  }
}

TEST(ActivationMask, FunctionsMatchTheOutputBasedOnes) {
  // Rows of 75 values (3 words, the last one partly used) in rows of 4 words; special
  // values at the kinks and beyond.
  const size_t rows = 5, row_size = 75, row_words = 4, n = rows * row_size;
  std::vector<float> x(n), dy(n);
  Rng rng(3);
  for (size_t i = 0; i < n; ++i) {
    x[i] = rng.uniform(-8.0f, 8.0f);
    dy[i] = rng.uniform(-1.0f, 1.0f);
  }
  const float specials[] = {0.0f,
                            -0.0f,
                            6.0f,
                            -3.0f,
                            3.0f,
                            1e-30f,
                            -1e-30f,
                            std::numeric_limits<float>::infinity(),
                            -std::numeric_limits<float>::infinity(),
                            std::numeric_limits<float>::quiet_NaN()};
  for (size_t k = 0; k < std::size(specials); ++k) x[7 * k] = specials[k];
  for (const char* name : kMaskActivations) {
    SCOPED_TRACE(name);
    const ActivationType type = parse_activation(name, "test", "activation");
    ASSERT_TRUE(activation_derivative_from_mask(type));
    std::vector<float> y(n), dx(n), y_masked(n), dx_masked(n), dx_in_place(dy);
    std::vector<float> mask(rows * row_words, -1.0f);
    activation_forward(type, x.data(), y.data(), n, row_size);
    activation_backward(type, nullptr, y.data(), dy.data(), dx.data(), n, row_size);
    activation_forward_masked(type, x.data(), y_masked.data(), mask.data(), rows, row_size,
                              row_words);
    activation_backward_masked(type, mask.data(), dy.data(), dx_masked.data(), rows, row_size,
                               row_words);
    activation_backward_masked(type, mask.data(), dx_in_place.data(), dx_in_place.data(), rows,
                               row_size, row_words);
    EXPECT_EQ(std::memcmp(y.data(), y_masked.data(), n * sizeof(float)), 0);
    EXPECT_EQ(std::memcmp(dx.data(), dx_masked.data(), n * sizeof(float)), 0);
    EXPECT_EQ(std::memcmp(dx.data(), dx_in_place.data(), n * sizeof(float)), 0);
    // The bits past a row's values are 0; the words past mask_words(row_size) untouched.
    for (size_t r = 0; r < rows; ++r) {
      uint32_t last;
      std::memcpy(&last, &mask[r * row_words + 2], sizeof last);
      EXPECT_EQ(last >> (row_size - 64), 0u);
      EXPECT_EQ(mask[r * row_words + 3], -1.0f);
    }
  }
  for (const char* name :
       {"elu", "selu", "sigmoid", "tanh", "softmax", "gelu", "swish", "hard_swish", "none"})
    EXPECT_FALSE(activation_derivative_from_mask(parse_activation(name, "test", "activation")))
        << name;
}

TEST(ActivationMask, Conv2DMatchesTheOutputSavingReference) {
  expect_masks_match_reference("conv2d", "2:5:5", 3, 6, 5);
}

TEST(ActivationMask, Conv2DTransposeMatchesTheOutputSavingReference) {
  expect_masks_match_reference("conv2dtranspose", "2:4:3", 3, 6, 5);
}

TEST(ActivationMask, FullyConnectedMatchesTheOutputSavingReference) {
  expect_masks_match_reference("fully_connected", "1:1:7", 37, 6, 5);
}

// Large enough that conv2d's per-sample loops and the mask loops run on several threads:
// 7 x 15 x 15 = 1575 values (49.2 words) per sample, so samples of one mask word meet
// at no thread boundary.
TEST(ActivationMask, ThreadedConv2DMatchesTheOutputSavingReference) {
  const int threads = omp_get_max_threads();
  if (threads < 2) omp_set_num_threads(2);
  expect_masks_match_reference("conv2d", "2:15:15", 7, 24, 13);
  omp_set_num_threads(threads);
}

TEST(ActivationMask, MaskSizes) {
  auto layer_net = compile(model("conv2d", "relu", Form::layer, "2:5:5", 3), 6);
  const GraphTensor* mask = layer_net->tensor("act:mask");
  ASSERT_NE(mask, nullptr);
  EXPECT_EQ(mask->shape.size(), mask_words(6 * 75));
  EXPECT_LT(mask->first, layer_net->graph.forward_steps);
  EXPECT_GE(mask->last, layer_net->graph.forward_steps);
  // Fused: whole words per sample.
  auto fused = compile(model("conv2d", "relu", Form::fused, "2:5:5", 3), 6);
  mask = fused->tensor("main:activation_mask");
  ASSERT_NE(mask, nullptr);
  EXPECT_EQ(mask->shape.size(), 6 * mask_words(75));
  EXPECT_EQ(fused->tensor("main:pre_activation"), nullptr);
}

// A relu whose output the next layer's backward reads (fully_connected's input) still
// trains as the reference, its output alive until that backward.
TEST(ActivationMask, ReluOutputReadByTheNextBackward) {
  auto build = [](const std::string& act_type) {
    return [=] {
      Layers layers;
      layers.push_back(layer("input", {"name=in", "input_shape=1:1:9"}));
      layers.push_back(layer("fully_connected", {"name=fc0", "unit=40", "activation=relu"}));
      layers.push_back(layer("fully_connected", {"name=fc1", "unit=33"}));
      layers.push_back(layer(act_type, {"name=act", "activation=relu"}));
      layers.push_back(layer("fully_connected", {"name=fc2", "unit=3"}));
      layers.push_back(layer("mse", {"name=loss"}));
      return layers;
    };
  };
  auto net = compile(build("activation"), 5);
  auto reference = compile(build("test_output_saving_activation"), 5);
  expect_same(train(*net, 3, 4, 2.0f), train(*reference, 3, 4, 2.0f));
  // fc1 and fc2 read their inputs, the relu outputs, in backward.
  EXPECT_GT(net->storage(net->output("fc0")).last, net->forward_step("loss"));
  EXPECT_GT(net->storage(net->output("act")).last, net->forward_step("loss"));
}

// The cnn of bench/compare/models/cnn.ini, the relu of conv1 fused or a separate layer.
Builder cnn(bool fused) {
  return [=] {
    Layers layers;
    layers.push_back(layer("input", {"name=in", "input_shape=1:28:28"}));
    std::vector<std::string> conv = {"name=conv1", "filters=8", "kernel_size=3,3", "padding=1,1"};
    if (fused) conv.push_back("activation=relu");
    layers.push_back(layer("conv2d", conv));
    if (!fused) layers.push_back(layer("activation", {"name=relu1", "activation=relu"}));
    layers.push_back(
        layer("pooling2d", {"name=pool1", "pooling=max", "pool_size=2,2", "stride=2,2"}));
    layers.push_back(layer("conv2d", {"name=conv2", "filters=16", "kernel_size=3,3", "padding=1,1",
                                      "activation=relu"}));
    layers.push_back(
        layer("pooling2d", {"name=pool2", "pooling=max", "pool_size=2,2", "stride=2,2"}));
    layers.push_back(layer("flatten", {"name=flatten"}));
    layers.push_back(layer("fully_connected", {"name=fc1", "unit=128", "activation=relu"}));
    layers.push_back(layer("fully_connected", {"name=out", "unit=10", "activation=softmax"}));
    layers.push_back(layer("cross_entropy", {"name=loss"}));
    return layers;
  };
}

// The relu outputs feeding max pooling (which keeps a byte argmax) die at pooling's forward.
TEST(ActivationMask, ReluOutputBeforeMaxPoolingDiesAtPoolingsForward) {
  for (bool fused : {true, false}) {
    SCOPED_TRACE(fused ? "fused" : "layer");
    auto net = compile(cnn(fused), 64);
    const GraphTensor& conv1 = net->storage(net->output(fused ? "conv1" : "relu1"));
    EXPECT_EQ(conv1.last, net->forward_step("pool1"));
    EXPECT_EQ(net->storage(net->output("conv2")).last, net->forward_step("pool2"));
    // fc1's output is out's input, which out's backward reads.
    EXPECT_GE(net->storage(net->output("fc1")).last, net->graph.forward_steps);
  }
}

TEST(ActivationMask, CnnArenaShrinks) {
  ModelFile file =
      load_model_file(std::string(EDGETRAIN_SOURCE_DIR) + "/bench/compare/models/cnn.ini", {});
  file.model->compile();
  const MemoryReport memory = file.model->memory();
  // 5.45 MiB (5714432 B) when relu kept its output.
  EXPECT_LT(memory.planned_bytes, size_t{5714432});
  EXPECT_LT(memory.planned_bytes, size_t{4} << 20);
}

}  // namespace
}  // namespace edgetrain
