#include "graph/memory_report.h"

#include <algorithm>

namespace edgetrain {

std::vector<LayerMemoryRow> layer_memory(const CompiledGraph& graph) {
  std::vector<LayerMemoryRow> rows(graph.nodes.size());
  for (size_t n = 0; n < rows.size(); ++n) rows[n].node = n;
  for (const GraphTensor& tensor : graph.tensors) {
    if (tensor.first == kNoStep || tensor.alias_of >= 0) continue;  // an alias: no own bytes
    LayerMemoryRow& row = rows[tensor.node];
    const size_t bytes = align_up(tensor.shape.bytes());
    switch (tensor.kind) {
      case TensorKind::weight:
        row.weights += bytes;
        break;
      case TensorKind::optimizer_state:
        row.optimizer_state += bytes;
        break;
      case TensorKind::input:
      case TensorKind::label:
      case TensorKind::activation:
        row.activations += bytes;
        break;
      case TensorKind::gradient:
      case TensorKind::weight_gradient:
        row.gradients += bytes;
        break;
      case TensorKind::layer_tensor:
        row.scratch += bytes;
        break;
    }
  }
  return rows;
}

std::vector<MemoryProfileRow> memory_profile(const CompiledGraph& graph) {
  std::vector<MemoryProfileRow> rows(graph.steps.size());
  for (size_t s = 0; s < rows.size(); ++s)
    rows[s] = {s, graph.steps[s].phase, graph.steps[s].node, 0, 0};
  for (const GraphTensor& tensor : graph.tensors) {
    if (tensor.first == kNoStep || tensor.alias_of >= 0) continue;  // an alias: no own bytes
    const size_t bytes = align_up(tensor.shape.bytes());
    if (bytes == 0) continue;
    for (size_t s = tensor.first; s <= tensor.last && s < rows.size(); ++s) {
      const bool swapped_out =
          std::any_of(tensor.absent.begin(), tensor.absent.end(),
                      [&](const StepRange& r) { return r.first <= s && s <= r.last; });
      if (swapped_out) continue;  // on disk, or to be recomputed: its bytes serve others
      rows[s].live_bytes += bytes;
      rows[s].high_water_bytes = std::max(rows[s].high_water_bytes, tensor.offset + bytes);
    }
  }
  return rows;
}

}  // namespace edgetrain
