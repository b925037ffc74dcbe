#include <gtest/gtest.h>

#include "edgetrain/rng.h"
#include "memory/planner.h"

namespace edgetrain {
namespace {

std::vector<MemoryRequest> random_requests(Rng& rng, size_t count, size_t steps) {
  std::vector<MemoryRequest> requests;
  for (size_t i = 0; i < count; ++i) {
    size_t first = rng.below(steps);
    size_t last = first + rng.below(steps - first);
    requests.push_back({1 + rng.below(10000), first, last});
  }
  return requests;
}

TEST(Planner, NoLiveTensorsOverlapOnRandomIntervals) {
  Rng rng(3);
  FirstFitPlanner first_fit;
  NaivePlanner naive;
  for (int trial = 0; trial < 500; ++trial) {
    auto requests = random_requests(rng, 1 + rng.below(60), 1 + rng.below(40));
    MemoryPlan plan = first_fit.plan(requests);
    ASSERT_EQ(find_plan_conflict(requests, plan), "") << "trial " << trial;
    MemoryPlan oracle = naive.plan(requests);
    ASSERT_EQ(find_plan_conflict(requests, oracle), "");
    EXPECT_GE(plan.arena_bytes, memory_lower_bound(requests));
    EXPECT_LE(plan.arena_bytes, oracle.arena_bytes);
  }
}

TEST(Planner, ReusesMemoryOfDeadTensors) {
  // Three tensors in sequence, each dead before the next is born: one slot suffices.
  std::vector<MemoryRequest> requests = {{1024, 0, 1}, {1024, 2, 3}, {1024, 4, 5}};
  MemoryPlan plan = FirstFitPlanner().plan(requests);
  EXPECT_EQ(plan.arena_bytes, 1024u);
  EXPECT_EQ(memory_lower_bound(requests), 1024u);
  EXPECT_EQ(NaivePlanner().plan(requests).arena_bytes, 3072u);
}

TEST(Planner, ConflictCheckerFindsOverlap) {
  std::vector<MemoryRequest> requests = {{128, 0, 2}, {128, 1, 3}};
  MemoryPlan bad{{0, 64}, 192};
  EXPECT_NE(find_plan_conflict(requests, bad), "");
}

TEST(Planner, OffsetsAreAligned) {
  std::vector<MemoryRequest> requests = {{3, 0, 5}, {5, 0, 5}, {7, 1, 2}};
  MemoryPlan plan = FirstFitPlanner().plan(requests);
  for (size_t offset : plan.offsets) EXPECT_EQ(offset % kArenaAlignment, 0u);
}

}  // namespace
}  // namespace edgetrain
