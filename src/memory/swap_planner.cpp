#include "memory/swap_planner.h"

#include <algorithm>

namespace edgetrain {

std::vector<size_t> live_bytes_per_step(const std::vector<MemoryRequest>& requests, size_t steps) {
  std::vector<long long> delta(steps + 1, 0);
  for (const MemoryRequest& request : requests) {
    const auto bytes = static_cast<long long>(align_up(request.bytes));
    if (bytes == 0 || request.first >= steps) continue;
    size_t begin = request.first;
    auto add = [&](size_t first, size_t last) {
      delta[first] += bytes;
      delta[std::min(last, steps - 1) + 1] -= bytes;
    };
    for (const StepRange& gap : request.absent) {
      add(begin, gap.first - 1);
      begin = gap.last + 1;
    }
    add(begin, request.last);
  }
  std::vector<size_t> live(steps);
  long long running = 0;
  for (size_t s = 0; s < steps; ++s) {
    running += delta[s];
    live[s] = static_cast<size_t>(running);
  }
  return live;
}

namespace {

std::vector<SwapGap> candidate_gaps(const std::vector<MemoryRequest>& requests,
                                    const std::vector<std::vector<size_t>>& touches,
                                    const SwapOptions& options) {
  std::vector<SwapGap> gaps;
  for (size_t r = 0; r < requests.size() && r < touches.size(); ++r) {
    if (requests[r].bytes < options.min_bytes) continue;
    const std::vector<size_t>& uses = touches[r];
    for (size_t i = 0; i + 1 < uses.size(); ++i) {
      const size_t out_after = uses[i], in_before = uses[i + 1];
      const size_t earliest_read = out_after + (options.write_overlap ? 3 : 2);
      if (in_before < earliest_read) continue;  // no step would be free
      const size_t ahead = in_before >= options.lookahead ? in_before - options.lookahead : 0;
      SwapGap gap;
      gap.request = r;
      gap.out_after = out_after;
      gap.read_from = std::max(ahead, earliest_read);
      gap.in_before = in_before;
      gap.write_overlap = options.write_overlap;
      gaps.push_back(gap);
    }
  }
  return gaps;
}

// `base` with the chosen gaps' absent ranges.
void apply_gaps(const std::vector<MemoryRequest>& base, std::vector<MemoryRequest>& requests,
                const std::vector<SwapGap>& gaps, const std::vector<bool>& chosen) {
  requests = base;
  for (size_t g = 0; g < gaps.size(); ++g) {
    if (!chosen[g]) continue;
    const SwapGap& gap = gaps[g];
    requests[gap.request].absent.push_back(gap.absent());
    for (size_t r : gap.scratch) {
      MemoryRequest& scratch = requests[r];
      if (gap.in_before <= scratch.last) continue;
      if (gap.in_before > scratch.last + 1)
        scratch.absent.push_back({scratch.last + 1, gap.in_before - 1});
      scratch.last = gap.in_before;
    }
  }
  for (MemoryRequest& request : requests)
    std::sort(request.absent.begin(), request.absent.end(),
              [](const StepRange& a, const StepRange& b) { return a.first < b.first; });
}

size_t step_count(const std::vector<MemoryRequest>& requests) {
  size_t steps = 0;
  for (const MemoryRequest& request : requests)
    if (request.bytes > 0) steps = std::max(steps, request.last + 1);
  return steps;
}

// The not yet chosen gap out of memory at the busiest step that has one: the largest
// there, then the one out longest. -1 when every gap is chosen.
long next_gap(const std::vector<MemoryRequest>& requests, const std::vector<SwapGap>& gaps,
              const std::vector<bool>& chosen, const GapAllowed& allowed) {
  const std::vector<size_t> live = live_bytes_per_step(requests, step_count(requests));
  long best = -1;
  size_t best_live = 0, best_bytes = 0, best_length = 0;
  for (size_t g = 0; g < gaps.size(); ++g) {
    if (chosen[g] || (allowed && !allowed(chosen, g))) continue;
    const StepRange out = gaps[g].absent();
    // The busiest step this gap would relieve.
    size_t busiest = 0;
    for (size_t s = out.first; s <= out.last && s < live.size(); ++s)
      busiest = std::max(busiest, live[s]);
    const size_t bytes = requests[gaps[g].request].bytes;
    const size_t length = out.last - out.first + 1;
    if (best < 0 || busiest > best_live ||
        (busiest == best_live &&
         (bytes > best_bytes || (bytes == best_bytes && length > best_length)))) {
      best = static_cast<long>(g);
      best_live = busiest;
      best_bytes = bytes;
      best_length = length;
    }
  }
  return best;
}

}  // namespace

SwapPlanResult choose_gaps(const std::vector<MemoryRequest>& base,
                           std::vector<MemoryRequest>& requests, const std::vector<SwapGap>& gaps,
                           size_t budget, const MemoryPlanner& planner, const GapAllowed& allowed) {
  std::vector<bool> chosen(gaps.size(), false);
  SwapPlanResult result;
  apply_gaps(base, requests, gaps, chosen);
  // Cheap first: choose until the most bytes in memory at one step fit, then plan and
  // choose one more at a time while the packed arena does not.
  while (memory_lower_bound(requests) > budget) {
    const long g = next_gap(requests, gaps, chosen, allowed);
    if (g < 0) break;
    chosen[g] = true;
    apply_gaps(base, requests, gaps, chosen);
  }
  result.plan = planner.plan(requests);
  while (result.plan.arena_bytes > budget) {
    const long g = next_gap(requests, gaps, chosen, allowed);
    if (g < 0) break;
    chosen[g] = true;
    apply_gaps(base, requests, gaps, chosen);
    result.plan = planner.plan(requests);
  }
  result.fits = result.plan.arena_bytes <= budget;
  for (size_t g = 0; g < gaps.size(); ++g)
    if (chosen[g]) result.gaps.push_back(gaps[g]);
  std::sort(result.gaps.begin(), result.gaps.end(), [](const SwapGap& a, const SwapGap& b) {
    return a.out_after != b.out_after ? a.out_after < b.out_after : a.request < b.request;
  });
  if (!result.fits) {
    result.smallest_arena = result.plan.arena_bytes;  // every allowed gap is chosen by now
    const std::vector<size_t> live = live_bytes_per_step(requests, step_count(requests));
    result.peak_step =
        static_cast<size_t>(std::max_element(live.begin(), live.end()) - live.begin());
  }
  return result;
}

SwapPlanResult plan_with_swap(std::vector<MemoryRequest>& requests,
                              const std::vector<std::vector<size_t>>& touches,
                              const SwapOptions& options, const MemoryPlanner& planner) {
  std::vector<SwapOptions> timings = {options};
  if (options.lookahead > 1) {
    timings.push_back(options);
    timings.back().lookahead = 1;
  }
  timings.push_back(options);
  timings.back().lookahead = 0;
  timings.back().write_overlap = false;
  const std::vector<MemoryRequest> base = requests;
  SwapPlanResult result;
  for (const SwapOptions& timing : timings) {
    result =
        choose_gaps(base, requests, candidate_gaps(base, touches, timing), timing.budget, planner);
    result.timing = timing;
    if (result.fits) break;
  }
  return result;
}

}  // namespace edgetrain
