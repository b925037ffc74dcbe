#include "memory/planner.h"

#include <algorithm>
#include <map>
#include <numeric>

namespace edgetrain {

MemoryPlan NaivePlanner::plan(const std::vector<MemoryRequest>& requests) const {
  MemoryPlan result;
  for (const MemoryRequest& request : requests) {
    result.offsets.push_back(result.arena_bytes);
    result.arena_bytes += align_up(request.bytes);
  }
  return result;
}

MemoryPlan FirstFitPlanner::plan(const std::vector<MemoryRequest>& requests) const {
  std::vector<size_t> order(requests.size());
  std::iota(order.begin(), order.end(), 0);
  // Larger tensors first among those born at the same step packs tighter.
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    if (requests[a].first != requests[b].first) return requests[a].first < requests[b].first;
    return requests[a].bytes > requests[b].bytes;
  });

  MemoryPlan result;
  result.offsets.assign(requests.size(), 0);
  std::vector<size_t> placed;  // indices already given an offset
  for (size_t index : order) {
    const MemoryRequest& request = requests[index];
    const size_t bytes = align_up(request.bytes);
    // Occupied ranges of placed tensors whose lifetime intersects this one.
    std::vector<std::pair<size_t, size_t>> busy;
    for (size_t other : placed) {
      const MemoryRequest& o = requests[other];
      if (o.first <= request.last && request.first <= o.last)
        busy.emplace_back(result.offsets[other], result.offsets[other] + align_up(o.bytes));
    }
    std::sort(busy.begin(), busy.end());
    size_t offset = 0;
    for (const auto& [begin, end] : busy) {
      if (begin >= offset + bytes) break;
      offset = std::max(offset, end);
    }
    result.offsets[index] = offset;
    result.arena_bytes = std::max(result.arena_bytes, offset + bytes);
    placed.push_back(index);
  }
  return result;
}

size_t memory_lower_bound(const std::vector<MemoryRequest>& requests) {
  std::map<size_t, long long> delta;  // step -> change in live bytes
  for (const MemoryRequest& request : requests) {
    delta[request.first] += static_cast<long long>(align_up(request.bytes));
    delta[request.last + 1] -= static_cast<long long>(align_up(request.bytes));
  }
  long long live = 0, peak = 0;
  for (const auto& [step, change] : delta) {
    live += change;
    peak = std::max(peak, live);
  }
  return static_cast<size_t>(peak);
}

std::string find_plan_conflict(const std::vector<MemoryRequest>& requests, const MemoryPlan& plan) {
  if (plan.offsets.size() != requests.size()) return "plan has the wrong number of offsets";
  for (size_t a = 0; a < requests.size(); ++a) {
    if (plan.offsets[a] % kArenaAlignment != 0)
      return "tensor " + std::to_string(a) + " is not aligned";
    if (plan.offsets[a] + requests[a].bytes > plan.arena_bytes)
      return "tensor " + std::to_string(a) + " ends past the arena";
    for (size_t b = a + 1; b < requests.size(); ++b) {
      bool alive_together =
          requests[a].first <= requests[b].last && requests[b].first <= requests[a].last;
      bool overlap = plan.offsets[a] < plan.offsets[b] + requests[b].bytes &&
                     plan.offsets[b] < plan.offsets[a] + requests[a].bytes;
      if (alive_together && overlap && requests[a].bytes > 0 && requests[b].bytes > 0)
        return "tensors " + std::to_string(a) + " and " + std::to_string(b) +
               " are alive together and overlap";
    }
  }
  return "";
}

}  // namespace edgetrain
