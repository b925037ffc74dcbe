#include "graph/in_place.h"

#include <set>

namespace edgetrain {
namespace {

bool runs_backward(const GraphNode& node) { return node.run_gradient || node.run_derivative; }

// Tensors the data loader writes or the caller reads after a step.
std::set<int> caller_tensors(const CompiledGraph& graph) {
  std::set<int> kept;
  for (const std::vector<int>* ids :
       {&graph.input_tensors, &graph.label_tensors, &graph.loss_tensors, &graph.output_tensors,
        &graph.external_gradients, &graph.input_gradients})
    kept.insert(ids->begin(), ids->end());
  for (const GraphNode& node : graph.nodes)
    if (node.layer->is_loss()) kept.insert(node.inputs[0].id);
  return kept;
}

bool same_memory_size(const CompiledGraph& graph, int a, int b) {
  const GraphTensor& x = graph.tensors[a];
  const GraphTensor& y = graph.tensors[b];
  return x.shape.bytes() == y.shape.bytes() && x.batch_scaled == y.batch_scaled;
}

// Whether layer `n` may overwrite its input `slot` with its output.
bool may_overwrite_input(const CompiledGraph& graph, const std::set<int>& kept, size_t n,
                         size_t slot) {
  const GraphNode& node = graph.nodes[n];
  const int input = node.inputs[slot].id;
  const GraphTensor& tensor = graph.tensors[input];
  if (tensor.kind != TensorKind::activation || kept.count(input)) return false;
  if (!same_memory_size(graph, input, node.outputs[0].id)) return false;
  if (runs_backward(node) && node.layer->backward_needs_input(slot)) return false;
  size_t readers = 0;
  for (const GraphNode& other : graph.nodes) {
    if (other.layer->output_is_input_view()) continue;  // not run; its consumers are counted
    for (const TensorRef& ref : other.inputs) readers += ref.id == input;
    if (!runs_backward(other)) continue;
    for (size_t k = 0; k < other.outputs.size(); ++k)
      if (other.outputs[k].id == input && other.layer->backward_needs_output(k)) return false;
  }
  return readers == 1;
}

}  // namespace

void assign_in_place(CompiledGraph& graph) {
  const std::set<int> kept = caller_tensors(graph);
  for (size_t n = 0; n < graph.nodes.size(); ++n) {
    const GraphNode& node = graph.nodes[n];
    if (!node.run_forward || node.layer->is_loss() || node.layer->output_is_input_view() ||
        node.outputs.size() != 1)
      continue;
    for (size_t i = 0; i < node.inputs.size(); ++i) {
      if (!node.layer->supports_in_place(i) || !may_overwrite_input(graph, kept, n, i)) continue;
      const int input = node.inputs[i].id;
      graph.tensors[node.outputs[0].id].alias_of = graph.storage(input);
      graph.tensors[input].overwritten_by = static_cast<int>(n);
      break;
    }
  }
  // Consumers first, so that a chain of aliases all name the first tensor's memory.
  for (size_t n = graph.nodes.size(); n-- > 0;) {
    const GraphNode& node = graph.nodes[n];
    if (!node.run_derivative || node.output_grads.empty()) continue;
    const int output_grad = node.output_grads[0].id;
    if (output_grad < 0 || kept.count(output_grad)) continue;
    for (size_t i = 0; i < node.inputs.size(); ++i) {
      const int input_grad = node.input_grads[i].id;
      if (input_grad < 0 || input_grad == output_grad ||
          !node.layer->supports_in_place_derivative(i) || graph.tensors[input_grad].alias_of >= 0 ||
          !same_memory_size(graph, input_grad, output_grad))
        continue;
      graph.tensors[input_grad].alias_of = graph.storage(output_grad);
      graph.tensors[output_grad].overwritten_by = static_cast<int>(n);
      break;
    }
  }
}

}  // namespace edgetrain
