#include "graph/graph.h"

#include <algorithm>
#include <cstdio>
#include <map>
#include <set>

#include "edgetrain/error.h"
#include "edgetrain/properties.h"
#include "graph/in_place.h"
#include "layers/input.h"
#include "layers/multiout.h"

namespace edgetrain {

const char* tensor_kind_name(TensorKind kind) {
  switch (kind) {
    case TensorKind::input:
      return "input";
    case TensorKind::label:
      return "label";
    case TensorKind::activation:
      return "activation";
    case TensorKind::gradient:
      return "gradient";
    case TensorKind::weight:
      return "weight";
    case TensorKind::weight_gradient:
      return "weight_gradient";
    case TensorKind::optimizer_state:
      return "optimizer_state";
    case TensorKind::layer_tensor:
      return "layer_tensor";
  }
  return "unknown";
}

const char* phase_name(Phase phase) {
  switch (phase) {
    case Phase::forward:
      return "forward";
    case Phase::calc_gradient:
      return "calc_gradient";
    case Phase::calc_derivative:
      return "calc_derivative";
    case Phase::apply_gradient:
      return "apply_gradient";
    case Phase::clip_gradients:
      return "clip_gradients";
  }
  return "unknown";
}

int CompiledGraph::find_node(const std::string& name) const {
  for (size_t i = 0; i < nodes.size(); ++i)
    if (nodes[i].name == name) return static_cast<int>(i);
  return -1;
}

std::vector<bool> CompiledGraph::computable_from(size_t from) const {
  ET_ASSERT(from < nodes.size(), "computable_from: bad node");
  std::vector<bool> computed(nodes.size(), false);
  computed[from] = true;
  for (size_t n = from + 1; n < nodes.size(); ++n) {
    const GraphNode& node = nodes[n];
    if (node.layer->is_loss() || node.inputs_from.empty()) continue;
    computed[n] =
        std::all_of(node.inputs_from.begin(), node.inputs_from.end(), [&](const auto& input) {
          return computed[input.first] && (input.first != from || input.second == 0);
        });
  }
  return computed;
}

namespace {

// A connection "name" or "name(k)".
struct InputReference {
  std::string layer;
  size_t output = 0;
};

InputReference parse_input_reference(const std::string& text, const std::string& owner) {
  InputReference reference{text, 0};
  size_t open = text.find('(');
  if (open == std::string::npos) return reference;
  if (text.back() != ')' || open == 0)
    throw PropertyError(owner + ": bad input_layers entry '" + text +
                        "': expected NAME or NAME(INDEX)");
  reference.layer = trim(text.substr(0, open));
  reference.output =
      parse_count(text.substr(open + 1, text.size() - open - 2), owner, "input_layers");
  return reference;
}

// The working form of a node while the graph is built.
struct BuildNode {
  std::string name;
  Layer* layer = nullptr;
  bool trainable = true;
  std::vector<InputReference> inputs;
  bool is_input = false;
};

std::string owner_of(const BuildNode& node) {
  return "layer '" + node.name + "' (" + node.layer->type() + ")";
}

// Names layers, inserts input layers for input_shape, resolves the implicit "previous
// layer" connection.
std::vector<BuildNode> describe(const std::vector<NodeDescription>& description,
                                CompiledGraph& graph) {
  std::vector<BuildNode> nodes;
  std::map<std::string, size_t> type_counts;
  std::set<std::string> names;
  for (const NodeDescription& desc : description) {
    if (!desc.name.empty() && !names.insert(desc.name).second)
      throw GraphError("two layers are named '" + desc.name + "'");
  }
  for (const NodeDescription& desc : description) {
    ET_ASSERT(desc.layer != nullptr, "node without a layer");
    BuildNode node;
    node.layer = desc.layer;
    node.trainable = desc.trainable;
    node.is_input = desc.layer->type() == "input";
    node.name = desc.name;
    if (node.name.empty()) {
      // Generated names skip names the user took.
      do {
        node.name = desc.layer->type() + std::to_string(type_counts[desc.layer->type()]++);
      } while (!names.insert(node.name).second);
    }
    for (const std::string& entry : desc.input_layers)
      node.inputs.push_back(parse_input_reference(entry, owner_of(node)));

    if (desc.input_shape && !node.is_input) {
      if (!node.inputs.empty())
        throw GraphError(owner_of(node) + " has both input_shape and input_layers; give one");
      auto input = std::make_unique<InputLayer>(*desc.input_shape);
      BuildNode input_node;
      input_node.name = node.name + "_input";
      if (!names.insert(input_node.name).second)
        throw GraphError("two layers are named '" + input_node.name + "'");
      input_node.layer = input.get();
      input_node.is_input = true;
      graph.inserted_layers.push_back(std::move(input));
      node.inputs.push_back({input_node.name, 0});
      nodes.push_back(std::move(input_node));
    } else if (node.is_input && !node.inputs.empty()) {
      throw GraphError(owner_of(node) + " is an input layer and cannot have input_layers");
    } else if (!node.is_input && node.inputs.empty()) {
      if (nodes.empty())
        throw GraphError(
            owner_of(node) +
            " is the first layer but has no input: set input_shape, or add an input layer");
      node.inputs.push_back({nodes.back().name, 0});
    }
    nodes.push_back(std::move(node));
  }
  return nodes;
}

// Kahn's algorithm, ties broken by the order layers were added.
std::vector<size_t> topological_order(const std::vector<BuildNode>& nodes,
                                      const std::map<std::string, size_t>& index) {
  std::vector<size_t> missing(nodes.size(), 0);
  std::vector<std::vector<size_t>> consumers(nodes.size());
  for (size_t i = 0; i < nodes.size(); ++i) {
    for (const InputReference& input : nodes[i].inputs) {
      size_t producer = index.at(input.layer);
      consumers[producer].push_back(i);
      ++missing[i];
    }
  }
  std::set<size_t> ready;
  for (size_t i = 0; i < nodes.size(); ++i)
    if (missing[i] == 0) ready.insert(i);
  std::vector<size_t> order;
  while (!ready.empty()) {
    size_t next = *ready.begin();
    ready.erase(ready.begin());
    order.push_back(next);
    for (size_t consumer : consumers[next])
      if (--missing[consumer] == 0) ready.insert(consumer);
  }
  if (order.size() != nodes.size()) {
    std::string cycle;
    for (size_t i = 0; i < nodes.size(); ++i)
      if (missing[i] > 0) cycle += (cycle.empty() ? "'" : ", '") + nodes[i].name + "'";
    throw GraphError("the layers " + cycle + " form a cycle through input_layers");
  }
  return order;
}

class GraphBuilder {
 public:
  GraphBuilder(CompiledGraph& graph, const CompileOptions& options)
      : graph_(graph), options_(options) {}

  void build(std::vector<BuildNode> nodes) {
    std::map<std::string, size_t> index;
    for (size_t i = 0; i < nodes.size(); ++i) index[nodes[i].name] = i;
    for (const BuildNode& node : nodes) {
      for (const InputReference& input : node.inputs) {
        if (index.count(input.layer)) continue;
        std::string known;
        for (const BuildNode& other : nodes) known += (known.empty() ? "" : ", ") + other.name;
        throw GraphError(owner_of(node) + ": input_layers names '" + input.layer +
                         "', which is not a layer of this model (layers: " + known + ")");
      }
    }
    std::vector<size_t> order = topological_order(nodes, index);
    std::vector<BuildNode> sorted;
    for (size_t i : order) sorted.push_back(nodes[i]);
    insert_fan_out(sorted);
    finalize_nodes(sorted);
    propagate_requires_grad();
    create_gradients();
    if (options_.in_place) assign_in_place(graph_);
    emit_steps();
    plan_memory();
  }

 private:
  // Every (producer, output) consumed more than once gets a multiout node right after
  // the producer, so each gradient has exactly one writer.
  void insert_fan_out(std::vector<BuildNode>& nodes) {
    std::map<std::pair<std::string, size_t>, std::vector<std::pair<size_t, size_t>>> uses;
    for (size_t n = 0; n < nodes.size(); ++n)
      for (size_t slot = 0; slot < nodes[n].inputs.size(); ++slot)
        uses[{nodes[n].inputs[slot].layer, nodes[n].inputs[slot].output}].push_back({n, slot});
    std::vector<BuildNode> result;
    std::map<std::string, std::vector<std::pair<size_t, std::vector<std::pair<size_t, size_t>>>>>
        fan_outs;  // producer -> (output, uses)
    for (auto& [key, consumers] : uses)
      if (consumers.size() > 1) fan_outs[key.first].push_back({key.second, consumers});
    for (BuildNode& node : nodes) result.push_back(node);
    // Rewire and insert; positions shift, so insert after building the rewiring.
    std::vector<std::pair<std::string, BuildNode>> insertions;  // after producer name
    for (auto& [producer, outputs] : fan_outs) {
      for (auto& [output, consumers] : outputs) {
        auto layer = std::make_unique<MultiOutLayer>(consumers.size());
        BuildNode fan;
        fan.name = producer + (output == 0 ? "" : "(" + std::to_string(output) + ")") + "/multiout";
        fan.layer = layer.get();
        fan.inputs.push_back({producer, output});
        graph_.inserted_layers.push_back(std::move(layer));
        for (size_t j = 0; j < consumers.size(); ++j)
          result[consumers[j].first].inputs[consumers[j].second] = {fan.name, j};
        insertions.push_back({producer, fan});
      }
    }
    for (auto& [producer, fan] : insertions) {
      auto at = std::find_if(result.begin(), result.end(),
                             [&](const BuildNode& n) { return n.name == producer; });
      result.insert(at + 1, fan);
    }
    nodes = std::move(result);
  }

  int add_tensor(std::string name, TensorKind kind, TensorShape shape, bool batch_scaled,
                 size_t node) {
    GraphTensor tensor;
    tensor.name = std::move(name);
    tensor.kind = kind;
    tensor.shape = shape;
    tensor.batch_scaled = batch_scaled;
    tensor.node = node;
    graph_.tensors.push_back(tensor);
    return static_cast<int>(graph_.tensors.size() - 1);
  }

  void finalize_nodes(const std::vector<BuildNode>& nodes) {
    std::map<std::string, size_t> position;
    for (size_t n = 0; n < nodes.size(); ++n) {
      const BuildNode& build = nodes[n];
      position[build.name] = n;
      GraphNode node;
      node.name = build.name;
      node.type = build.layer->type();
      node.layer = build.layer;
      node.trainable = build.trainable;
      std::vector<TensorShape> input_shapes;
      for (const InputReference& input : build.inputs) {
        size_t producer = position.at(input.layer);
        const GraphNode& from = graph_.nodes[producer];
        if (input.output >= from.outputs.size())
          throw GraphError(owner_of(build) + ": input_layers asks for output " +
                           std::to_string(input.output) + " of layer '" + from.name +
                           "', which has " + std::to_string(from.outputs.size()) + " output(s)");
        node.inputs_from.push_back({producer, input.output});
        node.input_names.push_back(from.name);
        node.inputs.push_back(from.outputs[input.output]);
        input_shapes.push_back(from.outputs[input.output].shape);
      }
      FinalizeContext context(node.name, node.type, graph_.batch, input_shapes, node.input_names,
                              node.trainable);
      finalize_layer(build, context);
      ET_ASSERT(!context.output_shapes().empty(), owner_of(build) + " declared no outputs");

      const bool is_loss = node.layer->is_loss();
      const bool view = node.layer->output_is_input_view();
      for (size_t k = 0; k < context.output_shapes().size(); ++k) {
        TensorShape shape = context.output_shapes()[k];
        if (view) {
          ET_ASSERT(shape.size() == node.inputs[0].shape.size(),
                    owner_of(build) + " is a view but changes the size");
          node.outputs.push_back({node.inputs[0].id, shape});
        } else {
          TensorKind kind = build.is_input ? TensorKind::input : TensorKind::activation;
          std::string suffix =
              context.output_shapes().size() > 1 ? "(" + std::to_string(k) + ")" : "";
          node.outputs.push_back({add_tensor(node.name + suffix, kind, shape, !is_loss, n), shape});
        }
      }
      node.run_forward = !view && !build.is_input;
      if (build.is_input) graph_.input_tensors.push_back(node.outputs[0].id);
      if (is_loss) {
        node.label = {
            add_tensor(node.name + ":label", TensorKind::label, node.inputs[0].shape, true, n),
            node.inputs[0].shape};
        graph_.label_tensors.push_back(node.label.id);
        graph_.loss_tensors.push_back(node.outputs[0].id);
      }
      for (const WeightSpec& spec : context.weights()) {
        node.weight_specs.push_back(spec);
        node.weights.push_back(
            add_tensor(node.name + ":" + spec.name, TensorKind::weight, spec.shape, false, n));
        if (spec.trainable) node.parameter_count += spec.shape.size();
      }
      for (const TensorSpec& spec : context.tensors())
        node.tensors.push_back({add_tensor(node.name + ":" + spec.name, TensorKind::layer_tensor,
                                           spec.shape, false, n),
                                spec.shape});
      tensor_lifespans_.push_back({});
      for (const TensorSpec& spec : context.tensors())
        tensor_lifespans_.back().push_back(spec.lifespan);
      graph_.nodes.push_back(std::move(node));
    }
  }

  void finalize_layer(const BuildNode& build, FinalizeContext& context) {
    try {
      build.layer->finalize(context);
    } catch (const Error&) {
      throw;
    } catch (const std::exception& error) {
      throw ShapeError(owner_of(build) + ": " + error.what());
    }
  }

  // A tensor needs a gradient if it depends on a weight that is trained.
  void propagate_requires_grad() {
    requires_grad_.assign(graph_.tensors.size(), false);
    for (size_t n = 0; n < graph_.nodes.size(); ++n) {
      GraphNode& node = graph_.nodes[n];
      bool trains = false;
      for (const WeightSpec& spec : node.weight_specs) trains |= spec.trainable && node.trainable;
      node.run_gradient = trains && options_.optimizer != nullptr;
      bool any_input = options_.input_gradients && node.layer->type() == "input";
      for (const TensorRef& input : node.inputs) any_input |= requires_grad_[input.id];
      if (node.layer->is_loss()) continue;  // the loss value itself has no gradient
      for (const TensorRef& output : node.outputs)
        if (trains || any_input) requires_grad_[output.id] = true;
    }
  }

  // Walks backwards: each output's gradient is the tensor its (single) consumer writes;
  // outputs nobody consumes get an external gradient the caller sets.
  void create_gradients() {
    std::map<std::pair<size_t, size_t>, TensorRef> consumer_grad;  // (node, output) -> grad
    std::set<std::pair<size_t, size_t>> consumed;                  // (node, output)
    for (const GraphNode& node : graph_.nodes)
      consumed.insert(node.inputs_from.begin(), node.inputs_from.end());
    for (size_t n = graph_.nodes.size(); n-- > 0;) {
      GraphNode& node = graph_.nodes[n];
      for (size_t k = 0; k < node.outputs.size(); ++k) {
        TensorRef grad;
        const bool needs = !node.layer->is_loss() && requires_grad_[node.outputs[k].id];
        auto found = consumer_grad.find({n, k});
        if (found != consumer_grad.end()) {
          grad = found->second;
        } else if (needs) {
          grad = {add_tensor(node.name + ":external_grad", TensorKind::gradient,
                             node.outputs[k].shape, true, n),
                  node.outputs[k].shape};
          graph_.external_gradients.push_back(grad.id);
        }
        if (!consumed.count({n, k}) && !node.layer->is_loss())
          graph_.output_tensors.push_back(node.outputs[k].id);
        node.output_grads.push_back(grad);
      }
      const bool view = node.layer->output_is_input_view() && node.outputs.size() == 1;
      for (size_t i = 0; i < node.inputs.size(); ++i) {
        TensorRef grad;
        if (requires_grad_[node.inputs[i].id]) {
          if (view)
            grad = {node.output_grads[0].id, node.inputs[i].shape};
          else
            grad = {add_tensor(node.input_names[i] + ":grad", TensorKind::gradient,
                               node.inputs[i].shape, true, n),
                    node.inputs[i].shape};
          consumer_grad[node.inputs_from[i]] = grad;
        }
        node.input_grads.push_back(grad);
        if (grad.valid() && !view) node.run_derivative = true;
      }
      node.fused_update = fuses_update(node);
      for (size_t w = 0; w < node.weights.size(); ++w) {
        int grad = -1;
        if (node.run_gradient && node.weight_specs[w].trainable && !node.fused_update)
          grad = add_tensor(graph_.tensors[node.weights[w]].name + ":grad",
                            TensorKind::weight_gradient, node.weight_specs[w].shape, false, n);
        node.weight_grads.push_back(grad);
        std::vector<int> state;
        if (grad >= 0)
          for (const std::string& state_name : options_.optimizer->state_names())
            state.push_back(add_tensor(graph_.tensors[node.weights[w]].name + ":" + state_name,
                                       TensorKind::optimizer_state, node.weight_specs[w].shape,
                                       false, n));
        node.optimizer_state.push_back(state);
      }
    }
    std::reverse(graph_.output_tensors.begin(), graph_.output_tensors.end());
    if (options_.input_gradients)
      for (const GraphNode& node : graph_.nodes)
        if (node.type == "input") graph_.input_gradients.push_back(node.output_grads[0].id);
  }

  // Whether `node`'s calc_gradient applies the optimizer's step itself: a plain gradient
  // step, a layer that can, every weight trained, and no in-place input gradient over the
  // output gradient (calc_gradient reads that after calc_derivative then).
  bool fuses_update(const GraphNode& node) const {
    if (!options_.fused_updates || !options_.optimizer ||
        !options_.optimizer->is_plain_gradient_step() || !node.run_gradient ||
        !node.layer->supports_fused_update() || node.weights.empty())
      return false;
    for (const WeightSpec& spec : node.weight_specs)
      if (!spec.trainable) return false;
    for (size_t i = 0; i < node.inputs.size(); ++i)
      if (node.layer->supports_in_place_derivative(i)) return false;
    return true;
  }

  // Touching an in-place alias touches the tensor whose memory it shares, too.
  void touch(int id, size_t step) {
    if (id < 0) return;
    for (int t : {id, graph_.tensors[id].alias_of}) {
      if (t < 0) continue;
      GraphTensor& tensor = graph_.tensors[t];
      if (tensor.first == kNoStep || step < tensor.first) tensor.first = step;
      tensor.last = std::max(tensor.last, step);
      auto at = std::lower_bound(tensor.touches.begin(), tensor.touches.end(), step);
      if (at == tensor.touches.end() || *at != step) tensor.touches.insert(at, step);
    }
  }
  void touch(const TensorRef& ref, size_t step) { touch(ref.id, step); }

  void touch_saved(const GraphNode& node, size_t n, size_t step, Phase phase) {
    for (size_t i = 0; i < node.inputs.size(); ++i) {
      const bool reads = phase == Phase::calc_derivative ? node.layer->derivative_needs_input(i)
                                                         : node.layer->backward_needs_input(i);
      if (reads) touch(node.inputs[i], step);
    }
    for (size_t k = 0; k < node.outputs.size(); ++k)
      if (node.layer->backward_needs_output(k)) touch(node.outputs[k], step);
    for (size_t t = 0; t < node.tensors.size(); ++t)
      if (tensor_lifespans_[n][t] != Lifespan::forward) touch(node.tensors[t], step);
    for (const TensorRef& grad : node.output_grads) touch(grad, step);
  }

  void emit_steps() {
    auto& steps = graph_.steps;
    for (size_t n = 0; n < graph_.nodes.size(); ++n) {
      const GraphNode& node = graph_.nodes[n];
      if (!node.run_forward) continue;
      size_t step = steps.size();
      steps.push_back({n, Phase::forward});
      for (const TensorRef& ref : node.inputs) touch(ref, step);
      for (const TensorRef& ref : node.outputs) touch(ref, step);
      for (size_t t = 0; t < node.tensors.size(); ++t)
        if (tensor_lifespans_[n][t] != Lifespan::backward) touch(node.tensors[t], step);
      touch(node.label, step);
    }
    graph_.forward_steps = steps.size();
    const size_t last_forward = steps.empty() ? 0 : steps.size() - 1;
    for (int id : graph_.external_gradients) touch(id, last_forward);

    // Each layer's update follows its backward, so its weight gradients die at once;
    // gradient clipping needs them all first (whole-model gradients): then every update
    // waits for one clip step after the whole backward pass.
    const bool clip = options_.optimizer != nullptr && options_.optimizer->clip_grad_norm() > 0.0f;
    auto emit_apply = [&](size_t n) {
      size_t step = steps.size();
      steps.push_back({n, Phase::apply_gradient});
      for (int grad : graph_.nodes[n].weight_grads) touch(grad, step);
    };
    bool any_update = false;
    auto emit_gradient = [&](size_t n) {
      const GraphNode& node = graph_.nodes[n];
      size_t step = steps.size();
      steps.push_back({n, Phase::calc_gradient});
      touch_saved(node, n, step, Phase::calc_gradient);
      for (int grad : node.weight_grads) touch(grad, step);
    };
    for (size_t n = graph_.nodes.size(); n-- > 0;) {
      const GraphNode& node = graph_.nodes[n];
      // A fused update changes the weights, which calc_derivative reads: it goes last.
      if (node.run_gradient && !node.fused_update) {
        emit_gradient(n);
        any_update = true;
      }
      if (node.run_derivative) {
        size_t step = steps.size();
        steps.push_back({n, Phase::calc_derivative});
        touch_saved(node, n, step, Phase::calc_derivative);
        for (const TensorRef& grad : node.input_grads) touch(grad, step);
        touch(node.label, step);
      }
      if (node.fused_update) emit_gradient(n);
      if (node.run_gradient && !node.fused_update && !clip) emit_apply(n);
    }
    if (clip && any_update) {
      size_t step = steps.size();
      steps.push_back({0, Phase::clip_gradients});
      for (const GraphNode& node : graph_.nodes)
        for (int grad : node.weight_grads) touch(grad, step);
      for (size_t n = graph_.nodes.size(); n-- > 0;)
        if (graph_.nodes[n].run_gradient && !graph_.nodes[n].fused_update) emit_apply(n);
    }

    // Data is written before the first step; results are read after the last one;
    // weights and optimizer state persist.
    const size_t end = steps.empty() ? 0 : steps.size() - 1;
    for (int id : graph_.input_tensors) touch(id, 0);
    for (int id : graph_.label_tensors) touch(id, 0);
    for (int id : graph_.output_tensors) touch(id, end);
    for (int id : graph_.loss_tensors) touch(id, end);
    // Predictions stay readable after a training step, for training accuracy, and so do
    // the labels it compares them with (class labels only: no accuracy without classes).
    for (const GraphNode& node : graph_.nodes)
      if (node.layer->is_loss()) {
        touch(node.inputs[0], end);
        if (node.layer->label_is_class()) touch(node.label, end);
      }
    for (int id : graph_.input_gradients) touch(id, end);
    for (GraphTensor& tensor : graph_.tensors) {
      if (tensor.kind == TensorKind::weight || tensor.kind == TensorKind::optimizer_state) {
        tensor.first = 0;
        tensor.last = end;
      }
    }
  }

  void plan_memory() {
    std::vector<MemoryRequest> requests;
    for (const GraphTensor& tensor : graph_.tensors) {
      if (tensor.first == kNoStep || tensor.alias_of >= 0)
        requests.push_back({0, 0, 0});
      else
        requests.push_back({tensor.shape.bytes(), tensor.first, tensor.last});
    }
    BestFitPlanner default_planner;
    const MemoryPlanner& planner = options_.planner ? *options_.planner : default_planner;
    graph_.plan = planner.plan(requests);
    graph_.unswapped_arena_bytes = graph_.plan.arena_bytes;
    graph_.naive_bytes = NaivePlanner().plan(requests).arena_bytes;
    graph_.memory_budget = options_.memory_budget;
    if (options_.memory_budget > 0 && graph_.plan.arena_bytes > options_.memory_budget)
      fit_budget(requests, planner);
    for (size_t t = 0; t < graph_.tensors.size(); ++t) {
      graph_.tensors[t].offset = graph_.plan.offsets[graph_.storage(static_cast<int>(t))];
      graph_.tensors[t].absent = requests[t].absent;
    }
    graph_.lower_bound_bytes = memory_lower_bound(requests);
  }

  // The arena is above the budget: swap tensors out between uses, or recompute them.
  void fit_budget(std::vector<MemoryRequest>& requests, const MemoryPlanner& planner) {
    const std::vector<MemoryRequest> base = requests;
    const size_t budget = options_.memory_budget;
    SwapOptions swap;
    swap.budget = budget;
    swap.lookahead = options_.swap_lookahead;
    if (options_.memory_swap) {
      SwapPlanResult result = plan_with_swap(requests, swap_touches(), swap, planner);
      if (!result.fits) throw_budget_error(result, "trains in with swap", "");
      graph_.plan = std::move(result.plan);
      graph_.swap_gaps = std::move(result.gaps);
      graph_.swap_write_overlap = result.timing.write_overlap;
      graph_.swap_directory = options_.swap_directory;
      return;
    }
    const std::vector<SwapGap> candidates = recompute_candidates();
    SwapPlanResult result = choose_gaps(base, requests, candidates, budget, planner,
                                        [&](const std::vector<bool>& chosen, size_t g) {
                                          return recompute_allowed(candidates, chosen, g);
                                        });
    if (!result.fits) {
      std::vector<MemoryRequest> with_swap = base;
      swap.budget = 0;  // as small as it gets
      const SwapPlanResult swapped = plan_with_swap(with_swap, swap_touches(), swap, planner);
      throw_budget_error(result, "trains in by recomputing layer outputs",
                         ", or set memory_swap = true so that tensors wait on disk between their "
                         "uses (then at least " +
                             describe_bytes(swapped.smallest_arena) + ")");
    }
    graph_.plan = std::move(result.plan);
    graph_.recompute_gaps = std::move(result.gaps);
    for (size_t t = 0; t < graph_.tensors.size(); ++t)
      if (requests[t].bytes > 0) graph_.tensors[t].last = requests[t].last;
  }

  [[noreturn]] void throw_budget_error(const SwapPlanResult& result, const std::string& how,
                                       const std::string& alternative) const {
    size_t persistent = 0;
    for (const GraphTensor& tensor : graph_.tensors)
      if (tensor.kind == TensorKind::weight || tensor.kind == TensorKind::optimizer_state)
        persistent += align_up(tensor.shape.bytes());
    const Step& peak = graph_.steps.at(result.peak_step);
    throw MemoryBudgetError(
        "memory_budget " + describe_bytes(options_.memory_budget) +
        " is below the smallest arena this model " + how + ": set memory_budget to at least " +
        describe_bytes(result.smallest_arena) + alternative +
        ". The most memory is needed at step " + std::to_string(result.peak_step) + " (layer '" +
        graph_.nodes[peak.node].name + "', " + phase_name(peak.phase) +
        "); weights and optimizer state, which stay in memory, take " + describe_bytes(persistent));
  }

  // What callers read or write outside the steps (results, predictions, labels, external
  // and input gradients): such tensors stay in memory. By storage tensor.
  std::vector<bool> kept_tensors() const {
    std::vector<bool> keep(graph_.tensors.size(), false);
    auto keep_storage = [&](int id) {
      if (id >= 0) keep[graph_.storage(id)] = true;
    };
    for (const std::vector<int>* ids :
         {&graph_.output_tensors, &graph_.loss_tensors, &graph_.label_tensors,
          &graph_.external_gradients, &graph_.input_gradients})
      for (int id : *ids) keep_storage(id);
    for (const GraphNode& node : graph_.nodes)
      if (node.layer->is_loss()) keep_storage(node.inputs[0].id);
    return keep;
  }

  // Per tensor, the steps between which it may wait on disk; empty for tensors that must
  // stay: aliases (their storage tensor moves), weights and optimizer state (they persist
  // across iterations), and kept_tensors.
  std::vector<std::vector<size_t>> swap_touches() const {
    const std::vector<bool> keep = kept_tensors();
    std::vector<std::vector<size_t>> touches(graph_.tensors.size());
    for (size_t t = 0; t < graph_.tensors.size(); ++t) {
      const GraphTensor& tensor = graph_.tensors[t];
      if (keep[t] || tensor.alias_of >= 0 || tensor.first == kNoStep ||
          tensor.kind == TensorKind::weight || tensor.kind == TensorKind::optimizer_state)
        continue;
      touches[t] = tensor.touches;
    }
    return touches;
  }

  // Outputs that could be dropped after their last forward use and recomputed before their
  // first backward use: the single output of a layer with a repeatable forward, memory of
  // its own (nothing in place over it), not kept, whose producer's inputs and saved
  // tensors are still intact then. SwapGap::scratch: the producer's forward-only tensors.
  std::vector<SwapGap> recompute_candidates() const {
    const std::vector<bool> keep = kept_tensors();
    std::vector<bool> shared(graph_.tensors.size(), false);
    for (const GraphTensor& tensor : graph_.tensors)
      if (tensor.alias_of >= 0) shared[tensor.alias_of] = true;
    auto intact_at = [&](int id, size_t step) {
      const GraphTensor& storage = graph_.tensors[graph_.storage(id)];
      return graph_.tensors[id].overwritten_by < 0 && storage.overwritten_by < 0 &&
             storage.first != kNoStep && storage.first <= step && step <= storage.last;
    };
    std::vector<SwapGap> gaps;
    for (size_t n = 0; n < graph_.nodes.size(); ++n) {
      const GraphNode& node = graph_.nodes[n];
      if (!node.run_forward || node.layer->is_loss() || !node.layer->forward_is_repeatable() ||
          node.outputs.size() != 1)
        continue;
      const int output = node.outputs[0].id;
      const GraphTensor& tensor = graph_.tensors[output];
      if (keep[output] || shared[output] || tensor.alias_of >= 0 || tensor.first == kNoStep)
        continue;
      size_t out_after = kNoStep, in_before = kNoStep;
      for (size_t step : tensor.touches) {
        if (step < graph_.forward_steps)
          out_after = step;
        else if (in_before == kNoStep)
          in_before = step;
      }
      if (out_after == kNoStep || in_before == kNoStep || in_before < out_after + 2) continue;
      bool intact = true;
      for (const TensorRef& input : node.inputs) intact = intact && intact_at(input.id, in_before);
      SwapGap gap;
      for (size_t t = 0; t < node.tensors.size(); ++t) {
        if (tensor_lifespans_[n][t] == Lifespan::forward)
          gap.scratch.push_back(static_cast<size_t>(node.tensors[t].id));
        else if (tensor_lifespans_[n][t] == Lifespan::forward_to_backward)
          intact = intact && intact_at(node.tensors[t].id, in_before);
      }
      if (!intact) continue;
      gap.request = static_cast<size_t>(output);
      gap.out_after = out_after;
      gap.read_from = in_before;
      gap.in_before = in_before;
      gap.recompute = true;
      gap.node = n;
      gaps.push_back(gap);
    }
    return gaps;
  }

  // A recomputation reads its producer's inputs: none of them may be out of memory for
  // another recomputation then, and this one's output may not be out when another's
  // producer reads it.
  bool recompute_allowed(const std::vector<SwapGap>& gaps, const std::vector<bool>& chosen,
                         size_t g) const {
    auto reads = [&](const SwapGap& reader, const SwapGap& dropped) {
      const StepRange out = dropped.absent();
      if (reader.in_before < out.first || reader.in_before > out.last) return false;
      for (const TensorRef& input : graph_.nodes[reader.node].inputs)
        if (static_cast<size_t>(graph_.storage(input.id)) == dropped.request) return true;
      return false;
    };
    for (size_t h = 0; h < gaps.size(); ++h)
      if (chosen[h] && (reads(gaps[g], gaps[h]) || reads(gaps[h], gaps[g]))) return false;
    return true;
  }

  static std::string describe_bytes(size_t bytes) {
    char mib[32];
    std::snprintf(mib, sizeof mib, "%.2f MiB", static_cast<double>(bytes) / (1024.0 * 1024.0));
    return std::to_string(bytes) + " bytes (" + mib + ")";
  }

  CompiledGraph& graph_;
  const CompileOptions& options_;
  std::vector<bool> requires_grad_;
  std::vector<std::vector<Lifespan>> tensor_lifespans_;
};

}  // namespace

CompiledGraph compile_graph(const std::vector<NodeDescription>& description,
                            const CompileOptions& options) {
  if (description.empty()) throw GraphError("the model has no layers");
  if (options.batch == 0) throw PropertyError("batch_size must be at least 1");
  CompiledGraph graph;
  graph.batch = options.batch;
  GraphBuilder builder(graph, options);
  builder.build(describe(description, graph));
  return graph;
}

}  // namespace edgetrain
