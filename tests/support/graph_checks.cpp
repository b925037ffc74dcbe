#include "support/graph_checks.h"

#include <memory>

#include "edgetrain/model.h"
#include "edgetrain/optimizer.h"
#include "graph/executor.h"
#include "memory/planner.h"

namespace edgetrain::testing {
namespace {

std::vector<float> random_values(Rng& rng, size_t count) {
  std::vector<float> values(count);
  for (float& value : values) value = rng.uniform(-1.0f, 1.0f);
  return values;
}

std::vector<float> values_of(const Tensor& tensor) { return {tensor.begin(), tensor.end()}; }

// Expects `part` to equal the first part.size() values of `full`, reporting the first
// difference only.
void expect_prefix_equal(const std::vector<float>& part, const std::vector<float>& full,
                         const std::string& what) {
  ASSERT_LE(part.size(), full.size()) << what;
  for (size_t i = 0; i < part.size(); ++i) {
    if (part[i] == full[i]) continue;
    ADD_FAILURE() << what << "[" << i << "]: " << part[i] << " on the partial batch, " << full[i]
                  << " on the full one";
    return;
  }
}

}  // namespace

void expect_mentions(const std::string& message, const std::vector<std::string>& words) {
  for (const std::string& word : words)
    EXPECT_NE(message.find(word), std::string::npos) << "'" << word << "' missing in: " << message;
}

std::string plan_conflict(const CompiledGraph& graph) {
  std::vector<MemoryRequest> requests;
  for (size_t t = 0; t < graph.tensors.size(); ++t) {
    const GraphTensor& tensor = graph.tensors[t];
    const bool own_memory = tensor.first != kNoStep && tensor.alias_of < 0;
    requests.push_back(own_memory ? MemoryRequest{tensor.shape.bytes(), tensor.first, tensor.last}
                                  : MemoryRequest{0, 0, 0});
    if (tensor.alias_of < 0 || tensor.first == kNoStep) continue;
    const GraphTensor& storage = graph.tensors[tensor.alias_of];
    const std::string what = "tensor '" + tensor.name + "' in place over '" + storage.name + "'";
    if (storage.alias_of >= 0) return what + ", itself an alias";
    if (tensor.offset != storage.offset) return what + " at another offset";
    if (tensor.shape.bytes() != storage.shape.bytes()) return what + " of another size";
    if (storage.first == kNoStep || tensor.first < storage.first || tensor.last > storage.last)
      return what + " outside its planned lifetime";
  }
  return find_plan_conflict(requests, graph.plan);
}

bool alive_in_derivative(const CompiledGraph& graph, int id) {
  const size_t node = static_cast<size_t>(graph.find_node("under_test"));
  for (size_t step = 0; step < graph.steps.size(); ++step) {
    if (graph.steps[step].node != node || graph.steps[step].phase != Phase::calc_derivative)
      continue;
    const GraphTensor& tensor = graph.tensors[id];
    return tensor.first != kNoStep && tensor.first <= step && step <= tensor.last;
  }
  ADD_FAILURE() << "the layer under test has no calc_derivative step";
  return false;
}

void expect_partial_batch_matches(const std::string& type,
                                  const std::vector<std::string>& properties,
                                  const std::vector<TensorShape>& input_shapes, size_t batch) {
  std::vector<std::unique_ptr<LayerNode>> layers;
  std::vector<NodeDescription> description;
  std::vector<std::string> input_names;
  for (size_t i = 0; i < input_shapes.size(); ++i) {
    const std::string name = "in" + std::to_string(i);
    layers.push_back(createLayer(
        "input", {"name=" + name, "input_shape=" + input_shapes[i].with_batch(1).str()}));
    description.push_back({name, &layers.back()->layer(), {}, std::nullopt, true});
    input_names.push_back(name);
  }
  std::vector<std::string> props = properties;
  props.push_back("name=under_test");
  layers.push_back(createLayer(type, props));
  description.push_back({"under_test", &layers.back()->layer(), input_names, std::nullopt, true});
  const std::unique_ptr<Optimizer> optimizer = createOptimizer("sgd");
  CompileOptions options;
  options.batch = input_shapes[0].batch;
  options.optimizer = optimizer.get();
  options.input_gradients = true;
  CompiledGraph graph = compile_graph(description, options);
  Executor executor(graph, optimizer.get(), nullptr, 1);
  const GraphNode& node = graph.nodes[graph.find_node("under_test")];

  Rng rng(3);
  std::vector<std::vector<float>> inputs;
  for (const TensorShape& shape : input_shapes) inputs.push_back(random_values(rng, shape.size()));
  const std::vector<float> output_grad =
      random_values(rng, graph.tensors[node.outputs[0].id].shape.size());

  struct Results {
    std::vector<float> output;
    std::vector<std::vector<float>> input_grads;
  };
  // Inputs and the output gradient are set again on every run: the planner may have
  // reused their memory in between.
  auto run = [&](size_t samples) {
    executor.set_batch(samples);
    for (size_t i = 0; i < inputs.size(); ++i) {
      Tensor input = executor.tensor(graph.input_tensors[i]);
      std::copy_n(inputs[i].begin(), input.size(), input.data());
    }
    executor.forward(true);
    Results results;
    results.output = values_of(executor.tensor(node.outputs[0].id));
    Tensor grad = executor.tensor(node.output_grads[0].id);
    std::copy_n(output_grad.begin(), grad.size(), grad.data());
    executor.backward();
    for (int id : graph.input_gradients)
      results.input_grads.push_back(values_of(executor.tensor(id)));
    return results;
  };
  const Results full = run(input_shapes[0].batch);
  const Results part = run(batch);
  expect_prefix_equal(part.output, full.output, "output");
  for (size_t i = 0; i < part.input_grads.size(); ++i)
    expect_prefix_equal(part.input_grads[i], full.input_grads[i],
                        "input_grad " + std::to_string(i));
}

FrozenFirstInput run_with_frozen_first_input(const std::string& type,
                                             const std::vector<std::string>& properties,
                                             const TensorShape& shape0, const TensorShape& shape1) {
  std::vector<std::unique_ptr<LayerNode>> layers;
  std::vector<NodeDescription> description;
  const std::vector<TensorShape> shapes = {shape0, shape1};
  for (size_t i = 0; i < shapes.size(); ++i) {
    const std::string index = std::to_string(i);
    layers.push_back(
        createLayer("input", {"name=in" + index, "input_shape=" + shapes[i].with_batch(1).str()}));
    description.push_back({"in" + index, &layers.back()->layer(), {}, std::nullopt, true});
    layers.push_back(createLayer("fully_connected",
                                 {"name=fc" + index, "unit=" + std::to_string(shapes[i].width)}));
    const bool trainable = i != 0;
    description.push_back(
        {"fc" + index, &layers.back()->layer(), {"in" + index}, std::nullopt, trainable});
  }
  std::vector<std::string> props = properties;
  props.push_back("name=under_test");
  layers.push_back(createLayer(type, props));
  description.push_back(
      {"under_test", &layers.back()->layer(), {"fc0", "fc1"}, std::nullopt, true});
  const std::unique_ptr<Optimizer> optimizer = createOptimizer("sgd");
  CompileOptions options;
  options.batch = shape0.batch;
  options.optimizer = optimizer.get();
  CompiledGraph graph = compile_graph(description, options);
  Executor executor(graph, optimizer.get(), nullptr, 1);
  const GraphNode& node = graph.nodes[graph.find_node("under_test")];

  Rng rng(5);
  for (int id : graph.input_tensors) {
    Tensor input = executor.tensor(id);
    const std::vector<float> values = random_values(rng, input.size());
    std::copy(values.begin(), values.end(), input.data());
  }
  executor.forward(true);
  FrozenFirstInput result;
  Tensor output_grad = executor.tensor(node.output_grads[0].id);
  result.output_grad = random_values(rng, output_grad.size());
  std::copy(result.output_grad.begin(), result.output_grad.end(), output_grad.data());
  executor.backward();
  // Read after backward: with two inputs only fc1's weight gradient and update run after
  // the layer under test, and they do not reuse the input gradients' memory.
  for (const TensorRef& grad : node.input_grads)
    result.input_grads.push_back(grad.valid() ? values_of(executor.tensor(grad.id))
                                              : std::vector<float>());
  return result;
}

}  // namespace edgetrain::testing
