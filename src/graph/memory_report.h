// Where a compiled graph's memory goes: per layer and kind of tensor, and step by step
// over one training iteration. Pure functions of the compiled graph and its plan.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "graph/graph.h"

namespace edgetrain {

// Sums of the aligned sizes of one layer's tensors (those some step touches). Over all
// layers the columns add up to the graph's naive sum, not to the arena, which shares
// memory between tensors that are not alive together.
struct LayerMemoryRow {
  size_t node = 0;
  size_t weights = 0;          // parameters and persistent layer state
  size_t optimizer_state = 0;  // per-weight optimizer state
  size_t activations = 0;      // its outputs (the data for an input layer; labels for a loss)
  size_t gradients = 0;        // gradients of activations it writes, and of its weights
  size_t scratch = 0;          // tensors it requested: scratch, and saved for backward
};
std::vector<LayerMemoryRow> layer_memory(const CompiledGraph& graph);

struct MemoryProfileRow {
  size_t step = 0;
  Phase phase = Phase::forward;
  size_t node = 0;
  size_t live_bytes = 0;        // aligned sizes of the tensors alive at this step
  size_t high_water_bytes = 0;  // highest end (offset + aligned size) of those tensors
};
// One row per step of graph.steps; the largest live_bytes is graph.lower_bound_bytes and
// the largest high_water_bytes at most the arena.
std::vector<MemoryProfileRow> memory_profile(const CompiledGraph& graph);

}  // namespace edgetrain
