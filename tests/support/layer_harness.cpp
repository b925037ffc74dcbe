#include "support/layer_harness.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "edgetrain/error.h"

namespace edgetrain::testing {

class LayerHarness::RecordingOptimizer : public Optimizer {
 public:
  std::string type() const override { return "recording"; }
  bool set_property(const std::string&, const std::string&, const std::string&) override {
    return false;
  }
  std::string property_keys() const override { return ""; }
  std::vector<std::string> state_names() const override { return {}; }
  void apply(Tensor& weight, const Tensor& grad, std::span<Tensor>,
             const OptimizerStep&) const override {
    recorded[weight.data()] = std::vector<float>(grad.begin(), grad.end());
  }
  mutable std::map<const float*, std::vector<float>> recorded;
};

LayerHarness::LayerHarness(const std::string& type, const std::vector<std::string>& properties,
                           const std::vector<TensorShape>& input_shapes, uint64_t seed,
                           bool trainable, bool between_layers)
    : optimizer_(std::make_unique<RecordingOptimizer>()) {
  std::vector<NodeDescription> description;
  std::vector<std::string> input_names;
  for (size_t i = 0; i < input_shapes.size(); ++i) {
    const TensorShape& shape = input_shapes[i];
    inputs_.push_back(createLayer(
        "input", {"name=in" + std::to_string(i), "input_shape=" + shape.with_batch(1).str()}));
    description.push_back(
        {"in" + std::to_string(i), &inputs_.back()->layer(), {}, std::nullopt, true});
    input_names.push_back("in" + std::to_string(i));
    if (!between_layers) continue;
    const std::string pre = "pre" + std::to_string(i);
    inputs_.push_back(createLayer("activation", {"name=" + pre, "activation=none"}));
    description.push_back(
        {pre, &inputs_.back()->layer(), {input_names.back()}, std::nullopt, true});
    input_names.back() = pre;
  }
  std::vector<std::string> props = properties;
  props.push_back("name=under_test");
  layer_ = createLayer(type, props);
  description.push_back({"under_test", &layer_->layer(), input_names, std::nullopt, trainable});
  if (between_layers) {
    inputs_.push_back(createLayer("activation", {"name=post", "activation=none"}));
    description.push_back({"post", &inputs_.back()->layer(), {"under_test"}, std::nullopt, true});
  }
  CompileOptions options;
  options.batch = input_shapes.empty() ? 1 : input_shapes[0].batch;
  options.optimizer = optimizer_.get();
  options.input_gradients = true;
  graph_ = std::make_unique<CompiledGraph>(compile_graph(description, options));
  node_ = graph_->find_node("under_test");
  post_ = graph_->find_node("post");
  executor_ = std::make_unique<Executor>(*graph_, optimizer_.get(), nullptr, seed);
}

LayerHarness::~LayerHarness() = default;

const GraphNode& LayerHarness::node() const { return graph_->nodes[node_]; }

Tensor LayerHarness::input(size_t i) { return executor_->tensor(graph_->input_tensors.at(i)); }
Tensor LayerHarness::output(size_t k) {
  // A view layer's (flatten, reshape) output is its input's tensor with another shape.
  const TensorRef& ref = post_ >= 0 ? graph_->nodes[post_].outputs.at(k) : node().outputs.at(k);
  const Tensor tensor = executor_->tensor(ref.id);
  return tensor.reshaped(ref.shape.with_batch(tensor.batch()));
}
Tensor LayerHarness::output_grad(size_t k) {
  ET_ASSERT(!is_loss(), "a loss has no incoming gradient");
  const GraphNode& owner = post_ >= 0 ? graph_->nodes[post_] : node();
  return executor_->tensor(owner.output_grads.at(k).id);
}
Tensor LayerHarness::label() { return executor_->tensor(node().label.id); }
Tensor LayerHarness::input_grad(size_t i) {
  return executor_->tensor(graph_->input_gradients.at(i));
}
size_t LayerHarness::num_inputs() const { return graph_->input_tensors.size(); }
size_t LayerHarness::num_outputs() const { return node().outputs.size(); }
bool LayerHarness::is_loss() const { return node().layer->is_loss(); }

Tensor LayerHarness::weight(const std::string& name) {
  for (size_t w = 0; w < node().weights.size(); ++w)
    if (node().weight_specs[w].name == name) return executor_->tensor(node().weights[w]);
  throw Error("the layer under test has no weight '" + name + "'");
}

bool LayerHarness::has_weight(const std::string& name) const {
  for (const WeightSpec& spec : node().weight_specs)
    if (spec.name == name) return true;
  return false;
}

std::vector<std::string> LayerHarness::weight_names() const {
  std::vector<std::string> names;
  for (const WeightSpec& spec : node().weight_specs) names.push_back(spec.name);
  return names;
}

const std::vector<float>& LayerHarness::weight_grad(const std::string& name) const {
  static const std::vector<float> none;
  for (size_t w = 0; w < node().weights.size(); ++w) {
    if (node().weight_specs[w].name != name) continue;
    auto found = optimizer_->recorded.find(executor_->tensor(node().weights[w]).data());
    return found == optimizer_->recorded.end() ? none : found->second;
  }
  throw Error("the layer under test has no weight '" + name + "'");
}

void LayerHarness::forward(bool training) { executor_->forward(training); }

void LayerHarness::backward() {
  optimizer_->recorded.clear();
  executor_->backward();
}

void LayerHarness::reseed(uint64_t seed) { executor_->rng().seed(seed); }

namespace {

double objective(LayerHarness& harness, const std::vector<std::vector<float>>& weights_r) {
  if (harness.is_loss()) return harness.output(0)[0];
  double total = 0.0;
  for (size_t k = 0; k < harness.num_outputs(); ++k) {
    Tensor out = harness.output(k);
    for (size_t i = 0; i < out.size(); ++i) total += static_cast<double>(out[i]) * weights_r[k][i];
  }
  return total;
}

// `inputs` are written again before every forward: once read, the model inputs' memory may
// hold other tensors (between_layers: a later layer's output).
void check_tensor(LayerHarness& harness, const std::vector<std::vector<float>>& r, Tensor values,
                  const std::vector<float>& analytic, const std::string& what,
                  const GradCheckOptions& options, const std::vector<std::vector<float>>& inputs) {
  ASSERT_EQ(analytic.size(), values.size()) << what;
  auto restore_inputs = [&] {
    for (size_t j = 0; j < inputs.size(); ++j)
      std::copy(inputs[j].begin(), inputs[j].end(), harness.input(j).data());
  };
  const size_t stride = std::max<size_t>(1, values.size() / options.max_checks_per_tensor);
  for (size_t i = 0; i < values.size(); i += stride) {
    restore_inputs();
    const float saved = values[i];
    values[i] = saved + options.epsilon;
    harness.reseed(7);
    harness.forward(options.training);
    const double plus = objective(harness, r);
    restore_inputs();
    values[i] = saved - options.epsilon;
    harness.reseed(7);
    harness.forward(options.training);
    const double minus = objective(harness, r);
    restore_inputs();
    values[i] = saved;
    const double numeric = (plus - minus) / (2.0 * options.epsilon);
    const double scale = std::max(std::abs(numeric), std::abs(static_cast<double>(analytic[i])));
    EXPECT_LE(std::abs(numeric - analytic[i]), options.absolute + options.tolerance * scale)
        << what << "[" << i << "]: analytic " << analytic[i] << ", numeric " << numeric;
  }
}

}  // namespace

void expect_gradients_match(LayerHarness& harness, const GradCheckOptions& options) {
  Rng rng(42);
  for (size_t i = 0; i < harness.num_inputs(); ++i)
    for (float& value : harness.input(i))
      value = rng.uniform(options.input_low, options.input_high);
  if (harness.is_loss()) {
    Tensor label = harness.label();
    if (options.one_hot_labels) {
      label.fill(0.0f);
      const size_t width = label.shape().width;
      for (size_t row = 0; row < label.size() / width; ++row)
        label[row * width + rng.below(width)] = 1.0f;
    } else {
      for (float& value : label) value = rng.uniform(options.label_low, options.label_high);
    }
  }
  std::vector<std::vector<float>> r;
  if (!harness.is_loss()) {
    for (size_t k = 0; k < harness.num_outputs(); ++k) {
      Tensor grad = harness.output_grad(k);
      r.emplace_back(grad.size());
      for (float& value : r.back()) value = rng.uniform(-1.0f, 1.0f);
    }
  }
  // A layer whose backward does not read its inputs lets the planner reuse their memory
  // (e.g. for the input gradients), so keep a copy to restore for the perturbed forwards.
  std::vector<std::vector<float>> inputs;
  for (size_t i = 0; i < harness.num_inputs(); ++i)
    inputs.emplace_back(harness.input(i).begin(), harness.input(i).end());
  harness.reseed(7);
  harness.forward(options.training);
  for (size_t k = 0; k < r.size(); ++k)
    std::copy(r[k].begin(), r[k].end(), harness.output_grad(k).data());
  harness.backward();

  std::vector<std::vector<float>> input_grads;
  for (size_t i = 0; i < harness.num_inputs(); ++i) {
    Tensor grad = harness.input_grad(i);
    input_grads.emplace_back(grad.begin(), grad.end());
  }
  std::map<std::string, std::vector<float>> weight_grads;
  for (const std::string& name : harness.weight_names())
    weight_grads[name] = harness.weight_grad(name);
  for (size_t i = 0; i < harness.num_inputs(); ++i)
    std::copy(inputs[i].begin(), inputs[i].end(), harness.input(i).data());

  for (size_t i = 0; i < harness.num_inputs(); ++i)
    check_tensor(harness, r, harness.input(i), input_grads[i], "d/d input " + std::to_string(i),
                 options, inputs);
  for (const auto& [name, grad] : weight_grads)
    if (!grad.empty())
      check_tensor(harness, r, harness.weight(name), grad, "d/d weight " + name, options, inputs);
}

}  // namespace edgetrain::testing
