#include "edgetrain/model.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <iomanip>
#include <ostream>
#include <sstream>

#include "edgetrain/classification_metrics.h"
#include "edgetrain/data.h"
#include "edgetrain/error.h"
#include "edgetrain/properties.h"
#include "graph/executor.h"
#include "graph/graph.h"
#include "graph/memory_report.h"
#include "kernels/threads.h"
#include "train/metrics.h"
#include "train/text_table.h"

namespace edgetrain {

// ---------------------------------------------------------------- LayerNode

LayerNode::LayerNode(std::unique_ptr<Layer> layer) : layer_(std::move(layer)) {
  ET_ASSERT(layer_ != nullptr, "LayerNode without a layer");
}

std::string LayerNode::owner() const {
  return "layer '" + (name_.empty() ? std::string("(unnamed)") : name_) + "' (" + layer_->type() +
         ")";
}

void LayerNode::setProperty(const std::vector<std::string>& properties) {
  // The name first, so that every later message can name the layer.
  for (const std::string& text : properties) {
    auto [key, value] = split_property(text, owner());
    if (key == "name") {
      if (value.empty()) throw PropertyError(owner() + ": property 'name' is empty");
      name_ = value;
    }
  }
  for (const std::string& text : properties) {
    auto [key, value] = split_property(text, owner());
    if (key == "name") continue;
    if (key == "input_layers") {
      input_layers_ = split_list(value);
    } else if (key == "trainable") {
      trainable_ = parse_bool(value, owner(), key);
    } else if (layer_->set_property(key, value, owner())) {
      // handled by the layer
    } else if (key == "input_shape") {
      try {
        input_shape_ = TensorShape::parse(value);
      } catch (const PropertyError& error) {
        throw PropertyError(owner() + ": property 'input_shape': " + error.what());
      }
    } else {
      std::string keys = "name, input_layers, trainable, input_shape";
      if (!layer_->property_keys().empty()) keys += ", " + layer_->property_keys();
      throw_unknown_property(owner(), key, keys);
    }
  }
}

std::unique_ptr<LayerNode> createLayer(const std::string& type,
                                       const std::vector<std::string>& properties) {
  auto node = std::make_unique<LayerNode>(make_layer(to_lower(type)));
  node->setProperty(properties);
  return node;
}

// ---------------------------------------------------------------- MemoryDataset

MemoryDataset::MemoryDataset(std::vector<float> inputs, size_t input_size,
                             std::vector<float> labels, size_t label_size)
    : inputs_(std::move(inputs)),
      labels_(std::move(labels)),
      input_size_(input_size),
      label_size_(label_size),
      samples_(input_size == 0 ? 0 : inputs_.size() / input_size) {
  if (input_size == 0 || inputs_.size() % input_size != 0)
    throw Error("MemoryDataset: " + std::to_string(inputs_.size()) +
                " input values are not a whole number of samples of " + std::to_string(input_size));
  if (labels_.size() != samples_ * label_size)
    throw Error("MemoryDataset: " + std::to_string(labels_.size()) + " label values for " +
                std::to_string(samples_) + " samples of " + std::to_string(label_size));
}

void MemoryDataset::read(size_t index, std::span<Tensor> inputs, std::span<Tensor> labels) {
  ET_ASSERT(index < samples_, "sample index out of range");
  if (inputs.size() != 1 || inputs[0].size() != input_size_)
    throw ShapeError(
        "MemoryDataset holds samples of " + std::to_string(input_size_) +
        " values; the model's input takes " +
        (inputs.empty() ? std::string("none") : inputs[0].shape().with_batch(1).str()));
  std::copy_n(inputs_.begin() + index * input_size_, input_size_, inputs[0].data());
  if (!labels.empty()) {
    if (labels[0].size() != label_size_)
      throw ShapeError("MemoryDataset holds labels of " + std::to_string(label_size_) +
                       " values; the model's loss takes " + labels[0].shape().with_batch(1).str());
    std::copy_n(labels_.begin() + index * label_size_, label_size_, labels[0].data());
  }
}

// ---------------------------------------------------------------- Model

struct Model::Compiled {
  CompiledGraph graph;
  std::unique_ptr<Executor> executor;
  std::vector<int> output_ids;  // predictions fed to losses, then unconsumed outputs
  bool has_accuracy = false;    // the first loss's label marks classes
  Rng shuffle_rng;

  // Tensor `id` seen with the compiled batch size, whatever batch the last step ran with
  // (the executor's own views shrink to a partial batch).
  Tensor full_batch(int id) const {
    return Tensor(executor->tensor(id).data(), graph.tensors[id].shape);
  }
};

Model::Model() = default;
Model::Model(const std::vector<std::string>& properties) { setProperty(properties); }
Model::~Model() = default;

void Model::setProperty(const std::vector<std::string>& properties) {
  const std::string owner = "model";
  for (const std::string& text : properties) {
    auto [key, value] = split_property(text, owner);
    if (key == "batch_size") {
      batch_size_ = parse_positive(value, owner, key);
    } else if (key == "epochs") {
      epochs_ = parse_positive(value, owner, key);
    } else if (key == "loss") {
      loss_ = to_lower(value);
      auto layer = make_layer(loss_);
      if (!layer->is_loss())
        throw PropertyError("model: loss '" + value + "' is a layer type, not a loss");
    } else if (key == "seed") {
      seed_ = parse_count(value, owner, key);
    } else if (key == "memory_planner") {
      make_planner(to_lower(value), owner);  // checks the name
      memory_planner_ = to_lower(value);
    } else if (key == "in_place") {
      in_place_ = parse_bool(value, owner, key);
    } else if (key == "memory_budget") {
      memory_budget_ = parse_byte_size(value, owner, key);
    } else if (key == "memory_swap") {
      memory_swap_ = parse_bool(value, owner, key);
    } else if (key == "memory_swap_path") {
      memory_swap_path_ = value;
    } else if (key == "memory_swap_lookahead") {
      memory_swap_lookahead_ = parse_positive(value, owner, key);
    } else {
      throw_unknown_property(owner, key,
                             "batch_size, epochs, loss, seed, memory_planner, in_place, "
                             "memory_budget, memory_swap, memory_swap_path, memory_swap_lookahead");
    }
  }
  compiled_.reset();
}

void Model::addLayer(std::unique_ptr<LayerNode> layer) {
  ET_ASSERT(layer != nullptr, "addLayer(nullptr)");
  layers_.push_back(std::move(layer));
  compiled_.reset();
}

void Model::setOptimizer(std::unique_ptr<Optimizer> optimizer) {
  optimizer_ = std::move(optimizer);
  compiled_.reset();
}

void Model::setLearningRateScheduler(std::unique_ptr<LearningRateScheduler> scheduler) {
  scheduler_ = std::move(scheduler);
}

void Model::compile() {
  std::vector<NodeDescription> description;
  for (const auto& node : layers_)
    description.push_back({node->getName(), &node->layer(), node->inputLayers(), node->inputShape(),
                           node->trainable()});
  loss_layer_.reset();
  if (!loss_.empty()) {
    loss_layer_ = createLayer(loss_, {"name=" + loss_});
    // Without input_layers the loss consumes the last layer added.
    description.push_back({loss_, &loss_layer_->layer(), {}, std::nullopt, true});
  }
  auto compiled = std::make_unique<Compiled>();
  const std::unique_ptr<MemoryPlanner> planner = make_planner(memory_planner_, "model");
  CompileOptions options{batch_size_, optimizer_.get(), planner.get()};
  options.in_place = in_place_;
  options.fused_updates = true;
  options.memory_budget = memory_budget_;
  options.memory_swap = memory_swap_;
  options.swap_directory = memory_swap_path_;
  options.swap_lookahead = memory_swap_lookahead_;
  compiled->graph = compile_graph(description, options);
  const CompiledGraph& graph = compiled->graph;
  for (const GraphNode& node : graph.nodes) {
    if (!node.layer->is_loss()) continue;
    if (compiled->output_ids.empty()) compiled->has_accuracy = node.layer->label_is_class();
    compiled->output_ids.push_back(node.inputs[0].id);
  }
  for (int id : graph.output_tensors) compiled->output_ids.push_back(id);
  compiled_ = std::move(compiled);
}

void Model::initialize() {
  if (!compiled_) compile();
  kernels::apply_thread_policy();
  compiled_->executor =
      std::make_unique<Executor>(compiled_->graph, optimizer_.get(), scheduler_.get(), seed_);
  compiled_->shuffle_rng.seed(seed_ + 1);
}

bool Model::hasAccuracy() const {
  if (!compiled_) throw StateError("hasAccuracy() needs a compiled model: call compile() first");
  return compiled_->has_accuracy;
}

void Model::require_initialized(const char* what) const {
  if (!compiled_ || !compiled_->executor)
    throw StateError(std::string(what) +
                     " needs an initialized model: call compile() and initialize() first");
}

std::vector<Tensor> Model::inputs() {
  require_initialized("inputs()");
  std::vector<Tensor> result;
  for (int id : compiled_->graph.input_tensors) result.push_back(compiled_->full_batch(id));
  return result;
}

std::vector<Tensor> Model::labels() {
  require_initialized("labels()");
  std::vector<Tensor> result;
  for (int id : compiled_->graph.label_tensors) result.push_back(compiled_->full_batch(id));
  return result;
}

std::vector<Tensor> Model::outputs() {
  require_initialized("outputs()");
  std::vector<Tensor> result;
  for (int id : compiled_->output_ids) result.push_back(compiled_->full_batch(id));
  return result;
}

void Model::forward(size_t batch, bool training) {
  require_initialized("forward()");
  Executor& executor = *compiled_->executor;
  executor.set_batch(batch == 0 ? batch_size_ : batch);
  executor.forward(training);
}

float Model::trainStep(size_t batch) {
  require_initialized("trainStep()");
  if (!optimizer_)
    throw StateError("training needs an optimizer: call setOptimizer() before compile()");
  if (compiled_->graph.loss_tensors.empty())
    throw StateError("training needs a loss: set the model's loss property or add a loss layer");
  Executor& executor = *compiled_->executor;
  executor.set_batch(batch == 0 ? batch_size_ : batch);
  executor.forward(true);
  const float loss = executor.loss();
  if (!std::isfinite(loss)) {
    std::ostringstream message;
    message << "training loss became " << loss << " at iteration " << executor.iteration() + 1
            << "; lower the learning rate or check the data for NaN/infinite values";
    throw NumericError(message.str());
  }
  executor.set_external_gradients_zero();
  executor.backward();
  return loss;
}

std::vector<EpochResult> Model::train(Dataset& data) {
  require_initialized("train()");
  if (data.size() == 0) throw Error("train(): the dataset is empty");
  const std::vector<Tensor> batch_inputs = inputs();
  const std::vector<Tensor> batch_labels = labels();
  DataLoader loader(data, {.batch_size = batch_size_, .shuffle = true, .drop_last = false});
  // The shuffles continue the model's own stream (copied in here, back after each epoch's
  // shuffle), so successive train() calls see new orders and a run follows from the seed.
  loader.rng() = compiled_->shuffle_rng;
  std::vector<EpochResult> history;
  for (size_t epoch = 1; epoch <= epochs_; ++epoch) {
    auto start = std::chrono::steady_clock::now();
    loader.start_epoch();
    compiled_->shuffle_rng = loader.rng();
    double loss_sum = 0.0;
    size_t batches = 0;
    while (const size_t batch = loader.next_batch(batch_inputs, batch_labels)) {
      loss_sum += trainStep(batch);
      ++batches;
    }
    std::chrono::duration<float> seconds = std::chrono::steady_clock::now() - start;
    history.push_back({epoch, static_cast<float>(loss_sum / batches), seconds.count()});
  }
  return history;
}

EvaluationResult Model::evaluate(Dataset& data, ClassificationMetrics* metrics) {
  require_initialized("evaluate()");
  if (metrics != nullptr && !compiled_->has_accuracy)
    throw StateError(
        "evaluate() with classification metrics needs a loss whose label marks classes");
  const std::vector<Tensor> batch_inputs = inputs();
  const std::vector<Tensor> batch_labels = labels();
  DataLoader loader(
      data, {.batch_size = batch_size_, .shuffle = false, .drop_last = false, .augment = false});
  loader.start_epoch();
  EvaluationResult result;
  double loss_sum = 0.0;
  size_t correct = 0, rows = 0;
  const bool has_loss = !compiled_->graph.loss_tensors.empty();
  while (const size_t batch = loader.next_batch(batch_inputs, batch_labels)) {
    forward(batch, false);
    if (!has_loss) continue;
    loss_sum += static_cast<double>(compiled_->executor->loss()) * batch;
    if (!compiled_->has_accuracy) continue;
    const Tensor prediction = compiled_->executor->tensor(compiled_->output_ids[0]);
    const Tensor label = compiled_->executor->tensor(compiled_->graph.label_tensors[0]);
    const RowCounts counts = count_correct_rows(prediction, label, batch);
    if (metrics != nullptr) metrics->add(prediction, label, batch);
    correct += counts.correct;
    rows += counts.rows;
  }
  result.samples = data.size();
  result.has_accuracy = compiled_->has_accuracy;
  if (result.samples > 0) {
    result.loss = static_cast<float>(loss_sum / result.samples);
    result.accuracy = rows > 0 ? static_cast<float>(correct) / rows : 0.0f;
  }
  return result;
}

std::vector<float> Model::predict(std::span<const float> input, size_t count) {
  require_initialized("predict()");
  std::vector<Tensor> in = inputs();
  if (in.size() != 1)
    throw StateError("predict() takes one input; this model has " + std::to_string(in.size()));
  const size_t sample_size = in[0].shape().feature_size();
  if (input.size() != count * sample_size)
    throw ShapeError("predict(): " + std::to_string(input.size()) + " values for " +
                     std::to_string(count) + " samples; the input layer takes " +
                     std::to_string(sample_size) + " per sample (" +
                     in[0].shape().with_batch(1).str() + ")");
  std::vector<float> result;
  for (size_t first = 0; first < count; first += batch_size_) {
    const size_t batch = std::min(batch_size_, count - first);
    std::copy_n(input.begin() + first * sample_size, batch * sample_size, in[0].data());
    forward(batch, false);
    const Tensor output = compiled_->executor->tensor(compiled_->output_ids.at(0));
    result.insert(result.end(), output.begin(), output.end());
  }
  return result;
}

std::vector<float> Model::forwardFrom(const std::string& from, std::span<const float> values,
                                      size_t count, const std::string& to) {
  require_initialized("forwardFrom()");
  const CompiledGraph& graph = compiled_->graph;
  const int from_node = graph.find_node(from);
  if (from_node < 0) throw Error("forwardFrom(): no layer named '" + from + "'");
  if (graph.nodes[from_node].layer->is_loss())
    throw Error("forwardFrom(): layer '" + from +
                "' is a loss; start from a layer that computes values");

  // The output to return, as (node, output index).
  std::pair<size_t, size_t> target;
  if (!to.empty()) {
    const int to_node = graph.find_node(to);
    if (to_node < 0) throw Error("forwardFrom(): no layer named '" + to + "'");
    target = {static_cast<size_t>(to_node), 0};
  } else {
    const auto loss = std::find_if(graph.nodes.begin(), graph.nodes.end(),
                                   [](const GraphNode& node) { return node.layer->is_loss(); });
    if (loss != graph.nodes.end()) {
      target = loss->inputs_from[0];
    } else {
      // Views share their input's tensor: the unconsumed output is the last node holding it.
      const int id = graph.output_tensors.at(0);
      bool found = false;
      for (size_t n = graph.nodes.size(); n-- > 0 && !found;)
        for (size_t k = 0; k < graph.nodes[n].outputs.size() && !found; ++k)
          if (graph.nodes[n].outputs[k].id == id) {
            target = {n, k};
            found = true;
          }
    }
  }
  const std::string& target_name = graph.nodes[target.first].name;
  const std::vector<bool> computed = graph.computable_from(from_node);
  if (!computed[target.first] ||
      (target.first == static_cast<size_t>(from_node) && target.second != 0))
    throw Error("forwardFrom(): the output of layer '" + target_name +
                "' is not computed from layer '" + from + "' alone");

  std::vector<size_t> steps;
  for (size_t s = 0; s < graph.forward_steps; ++s) {
    const size_t node = graph.steps[s].node;
    if (computed[node] && node != static_cast<size_t>(from_node)) steps.push_back(s);
  }
  const TensorRef& source = graph.nodes[from_node].outputs[0];
  const TensorRef& result_ref = graph.nodes[target.first].outputs[target.second];
  // A tensor an in-place layer overwrites holds its values only until that layer runs.
  const GraphTensor& result_tensor = graph.tensors[result_ref.id];
  const int overwriter = result_tensor.overwritten_by;
  if ((!steps.empty() && result_tensor.last < steps.back()) ||
      (overwriter >= 0 && overwriter != from_node && computed[overwriter]))
    throw StateError("forwardFrom(): the memory plan reuses the output of layer '" + target_name +
                     "' before the forward pass ends; read a later layer's output");
  const size_t in_size = source.shape.feature_size();
  const size_t out_size = result_ref.shape.feature_size();
  if (values.size() != count * in_size)
    throw ShapeError("forwardFrom(): " + std::to_string(values.size()) + " values for " +
                     std::to_string(count) + " samples; the output of layer '" + from + "' holds " +
                     std::to_string(in_size) + " per sample (" + source.shape.with_batch(1).str() +
                     ")");

  Executor& executor = *compiled_->executor;
  std::vector<float> result;
  result.reserve(count * out_size);
  for (size_t first = 0; first < count; first += batch_size_) {
    const size_t batch = std::min(batch_size_, count - first);
    executor.set_batch(batch);
    std::copy_n(values.begin() + first * in_size, batch * in_size,
                executor.tensor(source.id).data());
    executor.forward(steps, false);
    const float* output = executor.tensor(result_ref.id).data();
    result.insert(result.end(), output, output + batch * out_size);
  }
  return result;
}

std::vector<std::string> Model::layerNames(const std::string& type) const {
  if (!compiled_) throw StateError("layerNames() needs a compiled model: call compile() first");
  std::vector<std::string> names;
  for (const GraphNode& node : compiled_->graph.nodes)
    if (type.empty() || node.type == type) names.push_back(node.name);
  return names;
}

TensorShape Model::outputShape(const std::string& layer) const {
  if (!compiled_) throw StateError("outputShape() needs a compiled model: call compile() first");
  const int node = compiled_->graph.find_node(layer);
  if (node < 0) throw Error("outputShape(): no layer named '" + layer + "'");
  return compiled_->graph.nodes[node].outputs[0].shape.with_batch(1);
}

Tensor Model::weight(const std::string& layer, const std::string& name) {
  require_initialized("weight()");
  const CompiledGraph& graph = compiled_->graph;
  int node = graph.find_node(layer);
  if (node < 0) throw Error("weight(): no layer named '" + layer + "'");
  const GraphNode& found = graph.nodes[node];
  std::string known;
  for (size_t w = 0; w < found.weights.size(); ++w) {
    if (found.weight_specs[w].name == name) return compiled_->executor->tensor(found.weights[w]);
    known += (known.empty() ? "" : ", ") + found.weight_specs[w].name;
  }
  throw Error("weight(): layer '" + layer + "' has no weight '" + name +
              "' (it has: " + (known.empty() ? "none" : known) + ")");
}

std::vector<std::string> Model::weightNames() const {
  if (!compiled_) throw StateError("weightNames() needs a compiled model: call compile() first");
  std::vector<std::string> names;
  for (const GraphNode& node : compiled_->graph.nodes)
    for (const WeightSpec& spec : node.weight_specs) names.push_back(node.name + ":" + spec.name);
  return names;
}

std::vector<Model::NamedTensor> Model::persistentTensors(bool with_optimizer) {
  require_initialized("persistentTensors()");
  std::vector<NamedTensor> result;
  const CompiledGraph& graph = compiled_->graph;
  auto add = [&](int id) {
    result.push_back({graph.tensors[id].name, compiled_->executor->tensor(id)});
  };
  for (const GraphNode& node : graph.nodes)
    for (int id : node.weights) add(id);
  if (with_optimizer)
    for (const GraphNode& node : graph.nodes)
      for (const std::vector<int>& state : node.optimizer_state)
        for (int id : state) add(id);
  return result;
}

void Model::setIteration(size_t iteration) {
  require_initialized("setIteration()");
  compiled_->executor->set_iteration(iteration);
}

float Model::learningRate() const {
  require_initialized("learningRate()");
  return compiled_->executor->learning_rate();
}

Rng& Model::layerRng() {
  require_initialized("layerRng()");
  return compiled_->executor->rng();
}

size_t Model::iteration() const {
  return compiled_ && compiled_->executor ? compiled_->executor->iteration() : 0;
}

MemoryReport Model::memory() const {
  if (!compiled_) throw StateError("memory() needs a compiled model: call compile() first");
  const CompiledGraph& graph = compiled_->graph;
  MemoryReport report{graph.plan.arena_bytes, graph.lower_bound_bytes, graph.naive_bytes};
  report.budget_bytes = graph.memory_budget;
  report.unswapped_bytes = graph.unswapped_arena_bytes;
  std::vector<bool> swapped(graph.tensors.size(), false);
  for (const SwapGap& gap : graph.swap_gaps) {
    swapped[gap.request] = true;
    report.swap_bytes_per_step += graph.tensors[gap.request].shape.bytes();
  }
  report.swapped_tensors = static_cast<size_t>(std::count(swapped.begin(), swapped.end(), true));
  report.recomputed_tensors = graph.recompute_gaps.size();
  return report;
}

std::vector<LayerMemory> Model::memoryBreakdown() const {
  if (!compiled_)
    throw StateError("memoryBreakdown() needs a compiled model: call compile() first");
  const CompiledGraph& graph = compiled_->graph;
  std::vector<LayerMemory> result;
  for (const LayerMemoryRow& row : layer_memory(graph)) {
    const GraphNode& node = graph.nodes[row.node];
    result.push_back({node.name, node.type, row.weights, row.optimizer_state, row.activations,
                      row.gradients, row.scratch});
  }
  return result;
}

std::vector<MemoryProfileStep> Model::memoryProfile() const {
  if (!compiled_) throw StateError("memoryProfile() needs a compiled model: call compile() first");
  const CompiledGraph& graph = compiled_->graph;
  std::vector<MemoryProfileStep> result;
  for (const MemoryProfileRow& row : memory_profile(graph))
    result.push_back({row.step, phase_name(row.phase),
                      row.phase == Phase::clip_gradients ? "" : graph.nodes[row.node].name,
                      row.live_bytes, row.high_water_bytes});
  return result;
}

double TrainingProfile::total() const {
  double seconds = clip_gradients + recompute + swap_wait;
  for (const LayerTime& layer : layers) seconds += layer.total();
  return seconds;
}

void Model::setProfiling(bool on) {
  require_initialized("setProfiling()");
  compiled_->executor->set_profiling(on);
}

TrainingProfile Model::profile() const {
  require_initialized("profile()");
  const CompiledGraph& graph = compiled_->graph;
  const Executor& executor = *compiled_->executor;
  TrainingProfile profile;
  profile.iterations = executor.profiled_iterations();
  profile.recompute = executor.recompute_seconds();
  profile.swap_wait = executor.swap_seconds();
  for (const GraphNode& node : graph.nodes) profile.layers.push_back({node.name, node.type});
  const std::vector<double>& seconds = executor.step_seconds();
  for (size_t s = 0; s < seconds.size(); ++s) {
    const Step& step = graph.steps[s];
    LayerTime& layer = profile.layers[step.node];
    switch (step.phase) {
      case Phase::forward:
        layer.forward += seconds[s];
        break;
      case Phase::calc_derivative:
        layer.calc_derivative += seconds[s];
        break;
      case Phase::calc_gradient:
        layer.calc_gradient += seconds[s];
        break;
      case Phase::apply_gradient:
        layer.optimizer += seconds[s];
        break;
      case Phase::clip_gradients:
        profile.clip_gradients += seconds[s];
        break;
    }
  }
  return profile;
}

namespace {

std::string format_bytes(size_t bytes) {
  std::ostringstream text;
  if (bytes >= (1u << 20))
    text << std::fixed << std::setprecision(2) << bytes / 1048576.0 << " MiB";
  else if (bytes >= 1024)
    text << std::fixed << std::setprecision(1) << bytes / 1024.0 << " KiB";
  else
    text << bytes << " B";
  return text.str();
}

}  // namespace

void Model::summary(std::ostream& out) const {
  if (!compiled_) throw StateError("summary() needs a compiled model: call compile() first");
  const CompiledGraph& graph = compiled_->graph;
  // Memory of each layer's own tensors (outputs, gradients, weights, state, scratch).
  std::vector<size_t> layer_bytes(graph.nodes.size(), 0);
  for (const GraphTensor& tensor : graph.tensors)
    if (tensor.first != kNoStep && tensor.alias_of < 0)
      layer_bytes[tensor.node] += tensor.shape.bytes();

  std::vector<std::vector<std::string>> rows = {
      {"Layer", "Type", "Output shape", "Inputs", "Params", "Memory"}};
  size_t total_params = 0, trainable_params = 0;
  for (size_t n = 0; n < graph.nodes.size(); ++n) {
    const GraphNode& node = graph.nodes[n];
    std::string shapes, inputs;
    for (const TensorRef& output : node.outputs) {
      shapes += (shapes.empty() ? "" : " ") + output.shape.str();
      // In place: the output shares the memory of the tensor named after the brackets.
      const int storage = graph.storage(output.id);
      if (storage != output.id) shapes += " [in place: " + graph.tensors[storage].name + "]";
    }
    for (const std::string& input : node.input_names) inputs += (inputs.empty() ? "" : ",") + input;
    rows.push_back({node.name, node.type, shapes, inputs.empty() ? "-" : inputs,
                    std::to_string(node.parameter_count), format_bytes(layer_bytes[n])});
    total_params += node.parameter_count;
    if (node.trainable) trainable_params += node.parameter_count;
  }
  print_table(out, rows);
  out << "Batch size: " << graph.batch << "    Parameters: " << total_params
      << " (trainable: " << trainable_params << ")\n";
  out << "Planned peak memory: " << format_bytes(graph.plan.arena_bytes) << " ("
      << graph.plan.arena_bytes
      << " bytes)    lower bound: " << format_bytes(graph.lower_bound_bytes)
      << "    naive sum of all tensors: " << format_bytes(graph.naive_bytes) << "\n";
  const MemoryReport report = memory();
  if (report.swapped_tensors > 0)
    out << "Swap: " << report.swapped_tensors << " tensor(s) wait on disk between uses, "
        << format_bytes(report.swap_bytes_per_step) << " written and read back per step, to fit "
        << "memory_budget " << format_bytes(report.budget_bytes)
        << " (without swap: " << format_bytes(report.unswapped_bytes) << ")\n";
  else if (report.recomputed_tensors > 0)
    out << "Recompute: " << report.recomputed_tensors
        << " layer output(s) dropped after forward and recomputed before backward, to fit "
        << "memory_budget " << format_bytes(report.budget_bytes)
        << " (without: " << format_bytes(report.unswapped_bytes) << ")\n";
  else if (report.budget_bytes > 0)
    out << "Memory budget: " << format_bytes(report.budget_bytes)
        << " (the plan fits without swap)\n";
  size_t in_place_outputs = 0, in_place_gradients = 0;
  for (const GraphTensor& tensor : graph.tensors)
    if (tensor.alias_of >= 0)
      ++(tensor.kind == TensorKind::gradient ? in_place_gradients : in_place_outputs);
  if (in_place_outputs + in_place_gradients > 0)
    out << "In place: " << in_place_outputs << " output(s) over their input, " << in_place_gradients
        << " input gradient(s) over their output gradient (model property in_place)\n";

  // Where the naive sum goes.
  std::vector<std::vector<std::string>> memory_rows = {
      {"Layer", "Weights", "Optimizer", "Activations", "Gradients", "Scratch", "Total"}};
  LayerMemory sum;
  for (const LayerMemory& layer : memoryBreakdown()) {
    if (layer.total() == 0) continue;
    memory_rows.push_back({layer.layer, format_bytes(layer.weights),
                           format_bytes(layer.optimizer_state), format_bytes(layer.activations),
                           format_bytes(layer.gradients), format_bytes(layer.scratch),
                           format_bytes(layer.total())});
    sum.weights += layer.weights;
    sum.optimizer_state += layer.optimizer_state;
    sum.activations += layer.activations;
    sum.gradients += layer.gradients;
    sum.scratch += layer.scratch;
  }
  memory_rows.push_back({"(sum)", format_bytes(sum.weights), format_bytes(sum.optimizer_state),
                         format_bytes(sum.activations), format_bytes(sum.gradients),
                         format_bytes(sum.scratch), format_bytes(sum.total())});
  out << "\nMemory by layer (tensor sizes*):\n";
  print_table(out, memory_rows);
  out << "* Sums of each layer's tensor sizes (64-byte aligned). The arena shares memory\n"
         "  between tensors that are never alive together, so the columns add up to the naive\n"
         "  sum, not to the planned peak. Gradients: the activation gradients a layer writes\n"
         "  and its weight gradients; scratch: tensors it keeps for backward or uses briefly.\n";
}

}  // namespace edgetrain
