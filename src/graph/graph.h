// The compiled graph: layers in topological order, a tensor table with lifetimes and
// arena offsets, and the ordered steps of one training iteration. compile_graph is the
// only place that turns a model description into this; the Executor only runs it.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "edgetrain/layer.h"
#include "edgetrain/optimizer.h"
#include "memory/planner.h"
#include "memory/swap_planner.h"

namespace edgetrain {

// One layer as the user described it. `layer` is owned by the caller.
struct NodeDescription {
  std::string name;  // may be empty: a name is generated
  Layer* layer = nullptr;
  std::vector<std::string> input_layers;   // "name" or "name(k)" for output k
  std::optional<TensorShape> input_shape;  // on a non-input layer: an input layer is inserted
  bool trainable = true;
};

enum class TensorKind {
  input,            // model input, written by the data loader
  label,            // target of a loss layer
  activation,       // a layer output
  gradient,         // dL/d(activation)
  weight,           // parameters and persistent layer state
  weight_gradient,  // dL/d(weight)
  optimizer_state,  // per-weight optimizer state, e.g. Adam moments
  layer_tensor,     // a tensor a layer requested (scratch or saved for backward)
};
const char* tensor_kind_name(TensorKind kind);

constexpr size_t kNoStep = static_cast<size_t>(-1);

struct GraphTensor {
  std::string name;
  TensorKind kind = TensorKind::activation;
  TensorShape shape;
  bool batch_scaled = false;  // the batch dimension follows the running batch size
  size_t first = kNoStep;     // first step that touches it (kNoStep: never used)
  size_t last = 0;            // last step that touches it
  size_t offset = 0;          // in the arena, after planning
  size_t node = 0;            // the node it belongs to
  // In place (src/graph/in_place.h): this tensor shares the memory of tensor `alias_of`
  // (never itself an alias). first/last of the storage tensor then span every tensor
  // sharing it; an alias's own first/last are its own touches.
  int alias_of = -1;
  // The node whose output (or, for a gradient, input gradient) is written over this
  // tensor in place; its values are dead from that node's step on. -1: none.
  int overwritten_by = -1;
  // Every step that touches it, ascending (a storage tensor's include its aliases').
  std::vector<size_t> touches;
  // Steps at which it is swapped out to disk (memory_swap); its bytes serve others then.
  std::vector<StepRange> absent;
};

// A view of a tensor: several views with other shapes may share one tensor id.
struct TensorRef {
  int id = -1;
  TensorShape shape;
  bool valid() const { return id >= 0; }
};

struct GraphNode {
  std::string name;
  std::string type;
  Layer* layer = nullptr;
  bool trainable = true;
  std::vector<std::string> input_names;                // producer layer of each input
  std::vector<std::pair<size_t, size_t>> inputs_from;  // (producer node, output index)
  std::vector<TensorRef> inputs, outputs, output_grads, input_grads, tensors;
  std::vector<WeightSpec> weight_specs;
  std::vector<int> weights, weight_grads;         // weight_grads[i] = -1: no gradient
  std::vector<std::vector<int>> optimizer_state;  // per weight
  TensorRef label;
  bool run_forward = true;
  bool run_gradient = false;
  bool run_derivative = false;
  // calc_gradient applies the optimizer step itself, after calc_derivative; no weight
  // gradient tensors, no apply_gradient step (CompileOptions::fused_updates).
  bool fused_update = false;
  size_t parameter_count = 0;
};

// clip_gradients: one step (of node 0) that scales every weight gradient together, before
// the apply_gradient steps, when the optimizer has clip_grad_norm.
enum class Phase { forward, calc_gradient, calc_derivative, apply_gradient, clip_gradients };
const char* phase_name(Phase phase);

struct Step {
  size_t node;
  Phase phase;
};

struct CompiledGraph {
  size_t batch = 1;
  std::vector<GraphNode> nodes;  // topological order
  std::vector<GraphTensor> tensors;
  std::vector<Step> steps;              // one training iteration
  size_t forward_steps = 0;             // steps[0, forward_steps) are inference
  std::vector<int> input_tensors;       // in the order input layers were added
  std::vector<int> label_tensors;       // one per loss layer
  std::vector<int> loss_tensors;        // one per loss layer
  std::vector<int> output_tensors;      // outputs of layers nobody consumes (losses excluded)
  std::vector<int> external_gradients;  // gradients of those outputs, zeroed or set by the caller
  std::vector<int> input_gradients;     // per input tensor when CompileOptions::input_gradients
  std::vector<std::unique_ptr<Layer>>
      inserted_layers;  // input and fan-out layers the compiler added
  MemoryPlan plan;
  size_t lower_bound_bytes = 0;
  size_t naive_bytes = 0;
  // Memory swap (CompileOptions::memory_swap): the gaps between two uses in which a tensor
  // (SwapGap::request: its id) is on disk, sorted by SwapGap::out_after. Empty when the
  // arena fits the budget without swapping.
  std::vector<SwapGap> swap_gaps;
  // Recomputation (memory_budget without memory_swap): outputs dropped after their last
  // forward use and recomputed by their producer's forward (SwapGap::node) before step
  // SwapGap::in_before; sorted by out_after.
  std::vector<SwapGap> recompute_gaps;
  bool swap_write_overlap = true;  // SwapGap::write_overlap of every gap
  std::string swap_directory;
  size_t memory_budget = 0;
  size_t unswapped_arena_bytes = 0;  // the plan without swapping

  int find_node(const std::string& name) const;
  // The tensor whose memory `id` uses: alias_of, or `id` itself.
  int storage(int id) const { return tensors[id].alias_of >= 0 ? tensors[id].alias_of : id; }
  // Which nodes a forward pass can compute from output 0 of node `from` alone: `from`
  // itself, and every later node whose inputs all come from computed nodes (output 0
  // only, of `from`). Loss layers are never computed (they need a label); input layers
  // only when they are `from`.
  std::vector<bool> computable_from(size_t from) const;
};

struct CompileOptions {
  size_t batch = 1;
  const Optimizer* optimizer = nullptr;    // null: no optimizer state, no apply steps
  const MemoryPlanner* planner = nullptr;  // null: BestFitPlanner
  // Compute dL/d(model inputs) too (saliency, adversarial examples, layer tests); they
  // are kept until the end of the iteration.
  bool input_gradients = false;
  // Run elementwise layers in their input's memory where nothing else reads it, and let
  // their input gradients share their output gradient's memory (src/graph/in_place.h).
  bool in_place = true;
  // Bytes the arena may take; 0: no limit. Above it, memory_swap lets tensors wait on disk
  // between uses; without it, outputs of layers with a repeatable forward are recomputed
  // before backward needs them. A budget neither meets is an error naming the smallest
  // feasible one.
  size_t memory_budget = 0;
  bool memory_swap = false;
  std::string swap_directory = "";  // where the (unnamed) swap file lives; empty: $TMPDIR or /tmp
  size_t swap_lookahead = 2;        // steps a read back is queued ahead of its use
  // With an optimizer whose update is a plain gradient step (Optimizer::
  // is_plain_gradient_step), layers that support it apply it in calc_gradient, after
  // calc_derivative, and keep no weight gradients (GraphNode::fused_update).
  bool fused_updates = false;
};

// Throws GraphError (names, cycles), ShapeError (shape inference) or PropertyError.
CompiledGraph compile_graph(const std::vector<NodeDescription>& description,
                            const CompileOptions& options);

}  // namespace edgetrain
