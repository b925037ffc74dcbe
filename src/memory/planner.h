// Memory planning: a pure function from tensor sizes and lifetimes to arena offsets.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace edgetrain {

// Steps `first` to `last`, inclusive.
struct StepRange {
  size_t first = 0;
  size_t last = 0;
};

// One tensor to place: `bytes` must stay intact from step `first` to step `last`
// (inclusive), except in the `absent` ranges, where the tensor is out of memory (swapped
// to disk) and its bytes may be used by others. Two requests alive at a common step must
// not overlap in memory.
struct MemoryRequest {
  MemoryRequest() = default;
  MemoryRequest(size_t bytes_, size_t first_, size_t last_, std::vector<StepRange> absent_ = {})
      : bytes(bytes_), first(first_), last(last_), absent(std::move(absent_)) {}
  size_t bytes = 0;
  size_t first = 0;
  size_t last = 0;
  std::vector<StepRange> absent;  // sorted, disjoint, strictly inside (first, last)
};

// Whether `a` and `b` are alive (in memory) at some common step.
bool alive_together(const MemoryRequest& a, const MemoryRequest& b);
// Whether `request` is alive (in memory) at `step`.
bool alive_at(const MemoryRequest& request, size_t step);

struct MemoryPlan {
  std::vector<size_t> offsets;  // one per request, each a multiple of kArenaAlignment
  size_t arena_bytes = 0;
};

// Offsets are aligned for SIMD loads and cache lines.
inline constexpr size_t kArenaAlignment = 64;
inline size_t align_up(size_t bytes) {
  return (bytes + kArenaAlignment - 1) / kArenaAlignment * kArenaAlignment;
}

class MemoryPlanner {
 public:
  virtual ~MemoryPlanner() = default;
  virtual std::string name() const = 0;
  virtual MemoryPlan plan(const std::vector<MemoryRequest>& requests) const = 0;
};

// Every tensor gets its own bytes: the test oracle, and the "naive sum" in summaries.
class NaivePlanner : public MemoryPlanner {
 public:
  std::string name() const override { return "naive"; }
  MemoryPlan plan(const std::vector<MemoryRequest>& requests) const override;
};

// Walks requests in order of first use and puts each at the lowest offset that is
// free for its whole lifetime (first fit), reusing the memory of dead tensors.
class FirstFitPlanner : public MemoryPlanner {
 public:
  std::string name() const override { return "first_fit"; }
  MemoryPlan plan(const std::vector<MemoryRequest>& requests) const override;
};

// Places large tensors first, each in the smallest free gap that fits it among the tensors
// already placed whose lifetimes intersect its own (best fit; else at the lowest offset
// above them). It tries a few orders (by size, by first use, by size * lifetime, by
// lifetime) and both best and first fit, and keeps the smallest arena. On random interval
// sets it stays within a few percent of memory_lower_bound (tests/memory/test_planner.cpp).
class BestFitPlanner : public MemoryPlanner {
 public:
  std::string name() const override { return "best_fit"; }
  MemoryPlan plan(const std::vector<MemoryRequest>& requests) const override;
};

// "best_fit" (the default), "first_fit" or "naive". Throws PropertyError naming `owner`
// and the known names.
std::unique_ptr<MemoryPlanner> make_planner(const std::string& name, const std::string& owner);

// The most bytes alive at any one step (aligned sizes): no plan can use less.
size_t memory_lower_bound(const std::vector<MemoryRequest>& requests);

// Empty if `plan` is valid for `requests`; otherwise describes the first conflict.
std::string find_plan_conflict(const std::vector<MemoryRequest>& requests, const MemoryPlan& plan);

}  // namespace edgetrain
