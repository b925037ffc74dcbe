// Swap planning: which tensors leave memory between two of their uses, so that the arena
// fits a budget. A pure function of sizes, touches and the budget, like the planners.
//
// Timing of one swapped gap (the executor keeps it, src/graph/executor.cpp):
//   after step `out_after` (a use), the tensor is written to the swap file; with
//   `write_overlap` the write may overlap step out_after + 1, so the bytes stay reserved
//   through it, else step out_after + 1 waits for it;
//   from then to read_from - 1 the tensor is out of memory (`absent`);
//   when step `read_from` begins the read back is queued, `lookahead` steps ahead of
//   step `in_before` (the next use), which waits for it.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include "memory/planner.h"

namespace edgetrain {

struct SwapGap {
  size_t request = 0;    // index into the requests
  size_t out_after = 0;  // the use after which the tensor is written out
  size_t read_from = 0;  // the step at whose start the read back is queued
  size_t in_before = 0;  // the next use, which waits for the read
  bool write_overlap = true;
  // Recomputation instead of a transfer: nothing is written; before step in_before the
  // tensor's producer runs its forward again (`node`, for the graph), whose forward-only
  // `scratch` requests then live at in_before too (out of memory in between).
  bool recompute = false;
  size_t node = 0;
  std::vector<size_t> scratch;
  StepRange absent() const {
    if (recompute) return {out_after + 1, in_before - 1};
    return {out_after + (write_overlap ? 2 : 1), read_from - 1};
  }
};

struct SwapOptions {
  size_t budget = 0;          // bytes the arena may take
  size_t lookahead = 2;       // steps between queueing a read and the step that needs it
  bool write_overlap = true;  // a write may run during the step after it is queued
  size_t min_bytes = 4096;    // smaller tensors are not worth a transfer
};

struct SwapPlanResult {
  bool fits = false;          // plan.arena_bytes <= budget
  SwapOptions timing;         // the lookahead and write overlap the gaps use
  std::vector<SwapGap> gaps;  // sorted by out_after
  MemoryPlan plan;            // for the requests with the gaps' absent ranges
  size_t smallest_arena = 0;  // when !fits: the arena with every possible gap swapped
  size_t peak_step = 0;       // when !fits: the step with the most bytes in memory then
};

// `touches[r]`: the ascending steps at which request r is used; empty for a request that
// must stay in memory (weights, results read after the step, ...). Gaps of at least 3
// steps between two uses of a request of at least min_bytes are candidates. Chooses gaps
// greedily (at the step with the most bytes in memory, the largest tensor out of memory
// there) until the planned arena fits the budget, planning with `planner`. When the
// options' timing cannot fit, tighter timings follow (lookahead 1, then reads and writes
// that the steps wait for at once): slower, but less memory in flight. `requests` get the
// chosen gaps' absent ranges; smallest_arena is that of the tightest timing.
SwapPlanResult plan_with_swap(std::vector<MemoryRequest>& requests,
                              const std::vector<std::vector<size_t>>& touches,
                              const SwapOptions& options, const MemoryPlanner& planner);

// Whether gap `g` may be chosen besides the gaps chosen so far.
using GapAllowed = std::function<bool(const std::vector<bool>& chosen, size_t g)>;

// The greedy choice behind plan_with_swap, for any candidate gaps: `base` are the
// requests without gaps; `requests` receive the chosen gaps' absent ranges (recompute
// scratch: its lifetime extended to in_before, absent in between). Never chooses a gap
// `allowed` refuses (when given). `timing` of the result is left default.
SwapPlanResult choose_gaps(const std::vector<MemoryRequest>& base,
                           std::vector<MemoryRequest>& requests, const std::vector<SwapGap>& gaps,
                           size_t budget, const MemoryPlanner& planner,
                           const GapAllowed& allowed = {});

// Bytes in memory at each step of `steps` (aligned sizes, absent ranges left out).
std::vector<size_t> live_bytes_per_step(const std::vector<MemoryRequest>& requests, size_t steps);

}  // namespace edgetrain
