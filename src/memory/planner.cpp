#include "memory/planner.h"

#include <algorithm>
#include <functional>
#include <map>
#include <numeric>

#include "edgetrain/error.h"

namespace edgetrain {

namespace {

// The ranges of steps at which `request` is in memory, in order.
template <typename Visit>
void for_each_live_range(const MemoryRequest& request, Visit visit) {
  size_t begin = request.first;
  for (const StepRange& gap : request.absent) {
    visit(begin, gap.first - 1);
    begin = gap.last + 1;
  }
  visit(begin, request.last);
}

size_t live_steps(const MemoryRequest& request) {
  size_t steps = 0;
  for_each_live_range(request, [&](size_t first, size_t last) { steps += last - first + 1; });
  return steps;
}

}  // namespace

bool alive_together(const MemoryRequest& a, const MemoryRequest& b) {
  if (a.first > b.last || b.first > a.last) return false;
  if (a.absent.empty() && b.absent.empty()) return true;
  // Two sorted lists of ranges: walk both.
  std::vector<StepRange> ranges_a, ranges_b;
  for_each_live_range(a, [&](size_t f, size_t l) { ranges_a.push_back({f, l}); });
  for_each_live_range(b, [&](size_t f, size_t l) { ranges_b.push_back({f, l}); });
  size_t i = 0, j = 0;
  while (i < ranges_a.size() && j < ranges_b.size()) {
    if (ranges_a[i].first <= ranges_b[j].last && ranges_b[j].first <= ranges_a[i].last) return true;
    if (ranges_a[i].last < ranges_b[j].last)
      ++i;
    else
      ++j;
  }
  return false;
}

bool alive_at(const MemoryRequest& request, size_t step) {
  if (step < request.first || step > request.last) return false;
  for (const StepRange& gap : request.absent)
    if (gap.first <= step && step <= gap.last) return false;
  return true;
}

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
      if (alive_together(o, request))
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

namespace {

enum class Fit { best, first };

// Places the requests in `order`, each at a free gap among the already placed requests
// whose lifetimes intersect its own: the smallest that fits (best) or the lowest (first);
// the space between the highest of them and the arena's current end counts as a gap.
// Without a fitting gap a request goes right above them, growing the arena.
MemoryPlan place_in_order(const std::vector<MemoryRequest>& requests,
                          const std::vector<size_t>& order, Fit fit) {
  struct Placed {
    size_t offset, end;
    const MemoryRequest* request;
  };
  constexpr size_t kNone = static_cast<size_t>(-1);
  MemoryPlan result;
  result.offsets.assign(requests.size(), 0);
  std::vector<Placed> placed;  // sorted by offset
  placed.reserve(requests.size());
  for (size_t index : order) {
    const MemoryRequest& request = requests[index];
    const size_t bytes = align_up(request.bytes);
    if (bytes == 0) continue;
    size_t cursor = 0;  // end of the busy memory seen so far
    size_t best_offset = kNone, best_gap = kNone;
    for (const Placed& other : placed) {
      if (!alive_together(*other.request, request)) continue;
      if (other.offset >= cursor + bytes) {
        const size_t gap = other.offset - cursor;
        if (gap < best_gap) {
          best_gap = gap;
          best_offset = cursor;
          if (fit == Fit::first || gap == bytes) break;
        }
      }
      cursor = std::max(cursor, other.end);
    }
    // Above them all: free up to the arena's end (a gap like the others), or growing it.
    // (An exact fit stops the scan early, and then no tail gap can be smaller.)
    if (fit == Fit::best && cursor + bytes <= result.arena_bytes &&
        result.arena_bytes - cursor < best_gap)
      best_offset = cursor;
    if (best_offset == kNone) best_offset = cursor;
    result.offsets[index] = best_offset;
    result.arena_bytes = std::max(result.arena_bytes, best_offset + bytes);
    const Placed entry{best_offset, best_offset + bytes, &request};
    placed.insert(
        std::upper_bound(placed.begin(), placed.end(), entry,
                         [](const Placed& a, const Placed& b) { return a.offset < b.offset; }),
        entry);
  }
  return result;
}

}  // namespace

MemoryPlan BestFitPlanner::plan(const std::vector<MemoryRequest>& requests) const {
  auto bytes = [&](size_t i) { return align_up(requests[i].bytes); };
  auto length = [&](size_t i) { return live_steps(requests[i]); };
  using Less = std::function<bool(size_t, size_t)>;
  const std::vector<Less> orders = {
      // Largest first; among equal sizes the longer-lived, then the earlier.
      [&](size_t a, size_t b) {
        if (bytes(a) != bytes(b)) return bytes(a) > bytes(b);
        if (length(a) != length(b)) return length(a) > length(b);
        return requests[a].first < requests[b].first;
      },
      // In order of first use, larger first among those born together: with first fit,
      // FirstFitPlanner's plan, so best_fit never does worse.
      [&](size_t a, size_t b) {
        if (requests[a].first != requests[b].first) return requests[a].first < requests[b].first;
        return requests[a].bytes > requests[b].bytes;
      },
      // By the area they take in the (step, byte) plane.
      [&](size_t a, size_t b) {
        const double area_a = static_cast<double>(bytes(a)) * static_cast<double>(length(a));
        const double area_b = static_cast<double>(bytes(b)) * static_cast<double>(length(b));
        if (area_a != area_b) return area_a > area_b;
        return bytes(a) > bytes(b);
      },
      // Longest-lived first (weights and optimizer state at the bottom), then by size.
      [&](size_t a, size_t b) {
        if (length(a) != length(b)) return length(a) > length(b);
        return bytes(a) > bytes(b);
      },
  };
  std::vector<size_t> order(requests.size());
  MemoryPlan best;
  bool have_best = false;
  for (const Less& less : orders) {
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), less);
    for (Fit fit : {Fit::best, Fit::first}) {
      MemoryPlan candidate = place_in_order(requests, order, fit);
      if (!have_best || candidate.arena_bytes < best.arena_bytes) {
        best = std::move(candidate);
        have_best = true;
      }
    }
  }
  return best;
}

std::unique_ptr<MemoryPlanner> make_planner(const std::string& name, const std::string& owner) {
  if (name == "best_fit") return std::make_unique<BestFitPlanner>();
  if (name == "first_fit") return std::make_unique<FirstFitPlanner>();
  if (name == "naive") return std::make_unique<NaivePlanner>();
  throw PropertyError(owner + ": property 'memory_planner' is '" + name +
                      "' (known: best_fit, first_fit, naive)");
}

size_t memory_lower_bound(const std::vector<MemoryRequest>& requests) {
  std::map<size_t, long long> delta;  // step -> change in live bytes
  for (const MemoryRequest& request : requests) {
    const auto bytes = static_cast<long long>(align_up(request.bytes));
    for_each_live_range(request, [&](size_t first, size_t last) {
      delta[first] += bytes;
      delta[last + 1] -= bytes;
    });
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
      bool both_alive = alive_together(requests[a], requests[b]);
      bool overlap = plan.offsets[a] < plan.offsets[b] + requests[b].bytes &&
                     plan.offsets[b] < plan.offsets[a] + requests[a].bytes;
      if (both_alive && overlap && requests[a].bytes > 0 && requests[b].bytes > 0)
        return "tensors " + std::to_string(a) + " and " + std::to_string(b) +
               " are alive together and overlap";
    }
  }
  return "";
}

}  // namespace edgetrain
