// Memory swap (memory_budget + memory_swap): the swap planner on random tensor sets, and
// models that train under a quarter of their planned arena give the same bits as without.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "edgetrain/error.h"
#include "edgetrain/model.h"
#include "edgetrain/properties.h"
#include "edgetrain/rng.h"
#include "memory/planner.h"
#include "memory/swap_planner.h"
#include "support/allocation_counter.h"
#include "support/data_files.h"

namespace edgetrain {
namespace {

// ------------------------------------------------------------------ the swap planner

struct RandomSet {
  std::vector<MemoryRequest> requests;
  std::vector<std::vector<size_t>> touches;
};

// Tensors used at a few random steps each; a fifth must stay in memory (no touches).
RandomSet random_set(Rng& rng) {
  RandomSet set;
  const size_t count = 3 + rng.below(60);
  const size_t steps = 4 + rng.below(60);
  for (size_t i = 0; i < count; ++i) {
    std::vector<size_t> uses;
    const size_t n = 1 + rng.below(5);
    for (size_t k = 0; k < n; ++k) uses.push_back(rng.below(steps));
    std::sort(uses.begin(), uses.end());
    uses.erase(std::unique(uses.begin(), uses.end()), uses.end());
    set.requests.push_back({1 + rng.below(1 << 16), uses.front(), uses.back()});
    set.touches.push_back(rng.uniform() < 0.2f ? std::vector<size_t>{} : uses);
  }
  return set;
}

bool touched_in(const std::vector<size_t>& uses, const StepRange& range) {
  return std::any_of(uses.begin(), uses.end(),
                     [&](size_t s) { return range.first <= s && s <= range.last; });
}

TEST(SwapPlanner, PlansFitTheBudgetAndNeverDropATensorAtAUse) {
  Rng rng(17);
  BestFitPlanner planner;
  size_t fitted = 0, refused = 0;
  for (int trial = 0; trial < 800; ++trial) {
    RandomSet set = random_set(rng);
    const size_t unswapped = planner.plan(set.requests).arena_bytes;
    SwapOptions options;
    options.budget = static_cast<size_t>(unswapped * (0.1 + 0.8 * rng.uniform()));
    options.lookahead = 1 + rng.below(3);
    options.min_bytes = 1;
    SwapPlanResult result = plan_with_swap(set.requests, set.touches, options, planner);
    ASSERT_EQ(find_plan_conflict(set.requests, result.plan), "") << "trial " << trial;
    EXPECT_GE(result.plan.arena_bytes, memory_lower_bound(set.requests));
    for (const SwapGap& gap : result.gaps) {
      const std::vector<size_t>& uses = set.touches[gap.request];
      ASSERT_FALSE(uses.empty()) << "a tensor that must stay was swapped";
      const StepRange out = gap.absent();
      EXPECT_LE(out.first, out.last);
      EXPECT_FALSE(touched_in(uses, out)) << "trial " << trial << ": out of memory at a use";
      EXPECT_LT(gap.out_after, out.first);
      EXPECT_LE(gap.read_from, gap.in_before);
      EXPECT_TRUE(std::binary_search(uses.begin(), uses.end(), gap.out_after));
      EXPECT_TRUE(std::binary_search(uses.begin(), uses.end(), gap.in_before));
    }
    if (result.fits) {
      ++fitted;
      EXPECT_LE(result.plan.arena_bytes, options.budget);
    } else {
      ++refused;
      EXPECT_GT(result.smallest_arena, options.budget);
      // The smallest arena it names is a budget that works.
      for (MemoryRequest& request : set.requests) request.absent.clear();
      options.budget = result.smallest_arena;
      EXPECT_TRUE(plan_with_swap(set.requests, set.touches, options, planner).fits)
          << "trial " << trial;
    }
  }
  EXPECT_GT(fitted, 100u);
  EXPECT_GT(refused, 50u);
}

TEST(SwapPlanner, NoGapsWhenTheArenaFits) {
  std::vector<MemoryRequest> requests = {{1000, 0, 9}, {2000, 2, 7}};
  const std::vector<std::vector<size_t>> touches = {{0, 9}, {2, 7}};
  SwapOptions options;
  options.budget = 1 << 20;
  options.min_bytes = 1;
  const SwapPlanResult result = plan_with_swap(requests, touches, options, BestFitPlanner());
  EXPECT_TRUE(result.fits);
  EXPECT_TRUE(result.gaps.empty());
}

TEST(SwapPlanner, TimingOfAGap) {
  // A tensor used at steps 0 and 10 beside one used at 4..6: with lookahead 2 it is written
  // after step 0, out of memory from step 2 to step 7, read back from the start of step 8.
  std::vector<MemoryRequest> requests = {{4096, 0, 10}, {4096, 4, 6}};
  const std::vector<std::vector<size_t>> touches = {{0, 10}, {}};
  SwapOptions options;
  options.budget = 4096;
  const SwapPlanResult result = plan_with_swap(requests, touches, options, BestFitPlanner());
  ASSERT_TRUE(result.fits);
  ASSERT_EQ(result.gaps.size(), 1u);
  const SwapGap& gap = result.gaps[0];
  EXPECT_EQ(gap.out_after, 0u);
  EXPECT_EQ(gap.read_from, 8u);
  EXPECT_EQ(gap.in_before, 10u);
  EXPECT_EQ(gap.absent().first, 2u);
  EXPECT_EQ(gap.absent().last, 7u);
  EXPECT_EQ(result.plan.arena_bytes, 4096u);
  EXPECT_EQ(result.plan.offsets[0], result.plan.offsets[1]);
}

TEST(SwapPlanner, TighterTimingWhenTheLookaheadDoesNotFit) {
  // Uses at 0 and 4 with another tensor alive at 1..3: lookahead 2 leaves step 2 only,
  // which overlaps; without overlap (wait for the write, read just in time) 1..3 are free.
  std::vector<MemoryRequest> requests = {{4096, 0, 4}, {4096, 1, 3}};
  const std::vector<std::vector<size_t>> touches = {{0, 4}, {}};
  SwapOptions options;
  options.budget = 4096;
  const SwapPlanResult result = plan_with_swap(requests, touches, options, BestFitPlanner());
  ASSERT_TRUE(result.fits);
  EXPECT_FALSE(result.timing.write_overlap);
  EXPECT_EQ(result.timing.lookahead, 0u);
  ASSERT_EQ(result.gaps.size(), 1u);
  EXPECT_EQ(result.gaps[0].absent().first, 1u);
  EXPECT_EQ(result.gaps[0].absent().last, 3u);
}

// ------------------------------------------------------------------ planning with holes

TEST(Planner, AbsentRangesLetOthersUseTheBytes) {
  Rng rng(29);
  BestFitPlanner best_fit;
  FirstFitPlanner first_fit;
  double ratio_sum = 0.0;
  const int trials = 1000;
  for (int trial = 0; trial < trials; ++trial) {
    std::vector<MemoryRequest> requests;
    const size_t steps = 6 + rng.below(50);
    for (size_t i = 0, n = 2 + rng.below(80); i < n; ++i) {
      const size_t first = rng.below(steps - 4);
      const size_t last = first + 3 + rng.below(steps - first - 3);
      MemoryRequest request(1 + rng.below(1 << 18), first, last);
      // Up to two holes strictly inside.
      size_t cursor = first + 1;
      for (int h = 0; h < 2 && cursor + 1 < last; ++h) {
        if (rng.uniform() < 0.4f) break;
        const size_t hole_first = cursor + rng.below(last - cursor);
        if (hole_first >= last) break;
        const size_t hole_last = hole_first + rng.below(last - hole_first);
        request.absent.push_back({hole_first, hole_last});
        cursor = hole_last + 2;
      }
      requests.push_back(request);
    }
    for (const MemoryPlanner* planner : {static_cast<const MemoryPlanner*>(&best_fit),
                                         static_cast<const MemoryPlanner*>(&first_fit)}) {
      const MemoryPlan plan = planner->plan(requests);
      ASSERT_EQ(find_plan_conflict(requests, plan), "") << planner->name() << " trial " << trial;
      EXPECT_GE(plan.arena_bytes, memory_lower_bound(requests));
      EXPECT_LE(plan.arena_bytes, NaivePlanner().plan(requests).arena_bytes);
    }
    ratio_sum += static_cast<double>(best_fit.plan(requests).arena_bytes) /
                 static_cast<double>(memory_lower_bound(requests));
  }
  EXPECT_LT(ratio_sum / trials, 1.10) << "best_fit vs the lower bound, on average";
}

TEST(Planner, AliveTogetherSeesHoles) {
  const MemoryRequest a(64, 0, 10, {{3, 6}});
  EXPECT_FALSE(alive_together(a, MemoryRequest(64, 3, 6)));
  EXPECT_TRUE(alive_together(a, MemoryRequest(64, 2, 3)));
  EXPECT_TRUE(alive_together(a, MemoryRequest(64, 6, 7)));
  EXPECT_FALSE(alive_together(a, MemoryRequest(64, 11, 12)));
  EXPECT_TRUE(alive_together(a, MemoryRequest(64, 1, 8, {{2, 7}})));     // at step 1
  EXPECT_FALSE(alive_together(a, MemoryRequest(64, 3, 12, {{7, 11}})));  // 3..6 and 12
  EXPECT_FALSE(alive_at(a, 4));
  EXPECT_TRUE(alive_at(a, 7));
}

// ------------------------------------------------------------------ models under a budget

constexpr size_t kBatch = 16, kClasses = 5;

// A deep, narrow residual CNN: many saved activations, each step needs few of them, so a
// quarter of its arena is enough with swap. Tanh keeps its output for backward; batch norm,
// max pooling, an addition and fully connected layers have their own saved tensors.
std::unique_ptr<Model> deep_cnn(const std::vector<std::string>& properties) {
  std::vector<std::string> model_properties = {"batch_size=" + std::to_string(kBatch),
                                               "loss=cross_entropy", "seed=3"};
  model_properties.insert(model_properties.end(), properties.begin(), properties.end());
  auto model = std::make_unique<Model>(model_properties);
  model->addLayer(createLayer("input", {"name=input", "input_shape=3:16:16"}));
  model->addLayer(createLayer(
      "conv2d", {"name=stem", "filters=8", "kernel_size=3,3", "padding=same", "activation=tanh"}));
  for (int i = 0; i < 30; ++i)
    model->addLayer(createLayer("conv2d", {"name=conv" + std::to_string(i), "filters=8",
                                           "kernel_size=3,3", "padding=same", "activation=tanh"}));
  model->addLayer(createLayer("batch_normalization", {"name=bn"}));
  model->addLayer(createLayer("addition", {"name=skip", "input_layers=bn,stem"}));
  model->addLayer(createLayer("activation", {"name=act", "activation=sigmoid"}));
  model->addLayer(createLayer("pooling2d", {"name=pool", "pooling=max", "pool_size=4,4"}));
  model->addLayer(createLayer("flatten", {"name=flatten"}));
  model->addLayer(createLayer("fully_connected", {"name=fc1", "unit=32", "activation=tanh"}));
  model->addLayer(createLayer("fully_connected", {"name=fc2", "unit=" + std::to_string(kClasses)}));
  model->setOptimizer(createOptimizer("adam", {"learning_rate=0.01"}));
  model->compile();
  return model;
}

struct TrainedRun {
  std::vector<float> losses;
  std::vector<float> predictions;  // of an evaluation forward after the steps
  std::vector<std::vector<float>> weights;
};

// Trains a few steps on fixed random data, the last on a partial batch, with an
// evaluation forward in between; returns what the caller can read.
TrainedRun train(Model& model, size_t steps = 4) {
  model.initialize();
  Rng data(41);
  TrainedRun run;
  for (size_t step = 0; step < steps; ++step) {
    Tensor input = model.inputs()[0];
    Tensor label = model.labels()[0];
    for (float& value : input) value = data.uniform(-1.0f, 1.0f);
    label.fill(0.0f);
    for (size_t s = 0; s < kBatch; ++s) label[s * kClasses + data.below(kClasses)] = 1.0f;
    run.losses.push_back(model.trainStep(step + 1 == steps ? kBatch - 3 : 0));
    if (step == 1) {
      model.forward(0, false);
      const Tensor output = model.outputs()[0];
      run.predictions.assign(output.begin(), output.end());
    }
  }
  for (const std::string& name : model.weightNames()) {
    const size_t colon = name.find(':');
    const Tensor weight = model.weight(name.substr(0, colon), name.substr(colon + 1));
    run.weights.emplace_back(weight.begin(), weight.end());
  }
  return run;
}

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

void expect_identical(const TrainedRun& a, const TrainedRun& b) {
  EXPECT_TRUE(same_bits(a.losses, b.losses)) << "the losses differ";
  EXPECT_TRUE(same_bits(a.predictions, b.predictions)) << "the evaluation outputs differ";
  ASSERT_EQ(a.weights.size(), b.weights.size());
  for (size_t w = 0; w < a.weights.size(); ++w)
    EXPECT_TRUE(same_bits(a.weights[w], b.weights[w])) << "weight " << w << " differs";
}

size_t planned_arena() { return deep_cnn({})->memory().planned_bytes; }

TEST(Swap, AQuarterOfThePlannedArenaTrainsBitForBitAlike) {
  const size_t planned = planned_arena();
  const TrainedRun reference = train(*deep_cnn({}));
  for (const std::string lookahead : {"1", "2", "4"}) {
    auto model = deep_cnn({"memory_budget=" + std::to_string(planned / 4), "memory_swap=true",
                           "memory_swap_lookahead=" + lookahead});
    const MemoryReport memory = model->memory();
    EXPECT_LE(memory.planned_bytes, planned / 4);
    EXPECT_EQ(memory.unswapped_bytes, planned);
    EXPECT_GT(memory.swapped_tensors, 3u);
    EXPECT_GT(memory.swap_bytes_per_step, 0u);
    expect_identical(train(*model), reference);
  }
}

TEST(Swap, TheMemoryProfileLeavesSwappedTensorsOut) {
  auto model = deep_cnn({"memory_budget=" + std::to_string(planned_arena() / 4),
                         "memory_swap=true"});
  size_t most_live = 0, highest = 0;
  for (const MemoryProfileStep& step : model->memoryProfile()) {
    most_live = std::max(most_live, step.live_bytes);
    highest = std::max(highest, step.high_water_bytes);
  }
  EXPECT_EQ(most_live, model->memory().lower_bound_bytes);
  EXPECT_LE(highest, model->memory().planned_bytes);
}

TEST(Swap, ABudgetTheArenaFitsNeedsNoSwap) {
  auto model = deep_cnn({"memory_budget=" + std::to_string(planned_arena()), "memory_swap=true"});
  EXPECT_EQ(model->memory().swapped_tensors, 0u);
  EXPECT_EQ(model->memory().planned_bytes, planned_arena());
}

TEST(Swap, TrainingStepsAllocateNothing) {
  auto model =
      deep_cnn({"memory_budget=" + std::to_string(planned_arena() / 4), "memory_swap=true"});
  model->initialize();
  model->trainStep();  // warm-up
  testing::AllocationCounter counter;
  for (int step = 0; step < 3; ++step) model->trainStep();
  model->forward(0, false);
  EXPECT_EQ(counter.count(), 0u);
}

// The number in "at least N bytes".
size_t named_budget(const std::string& message) {
  const size_t at = message.find("at least ");
  EXPECT_NE(at, std::string::npos) << message;
  return at == std::string::npos ? 0 : std::stoull(message.substr(at + 9));
}

TEST(Swap, ABudgetBelowTheSmallestNamesTheSmallestThatWorks) {
  std::string message;
  try {
    deep_cnn({"memory_budget=20KiB", "memory_swap=true"});
    FAIL() << "a 20 KiB budget cannot work";
  } catch (const MemoryBudgetError& error) {
    message = error.what();
  }
  EXPECT_NE(message.find("memory_budget 20480 bytes"), std::string::npos) << message;
  EXPECT_NE(message.find("weights and optimizer state"), std::string::npos) << message;
  const size_t smallest = named_budget(message);
  ASSERT_GT(smallest, 20480u);
  auto model = deep_cnn({"memory_budget=" + std::to_string(smallest), "memory_swap=true"});
  EXPECT_LE(model->memory().planned_bytes, smallest);
  expect_identical(train(*model), train(*deep_cnn({})));
  EXPECT_THROW(deep_cnn({"memory_budget=" + std::to_string(smallest - 64), "memory_swap=true"}),
               MemoryBudgetError);
}

TEST(Recompute, ABudgetWithoutSwapRecomputesOutputsAndTrainsBitForBitAlike) {
  const size_t planned = planned_arena();
  const TrainedRun reference = train(*deep_cnn({}));
  const size_t budget = planned * 7 / 10;
  auto model = deep_cnn({"memory_budget=" + std::to_string(budget)});
  const MemoryReport memory = model->memory();
  EXPECT_LE(memory.planned_bytes, budget);
  EXPECT_GT(memory.recomputed_tensors, 3u);
  EXPECT_EQ(memory.swapped_tensors, 0u);
  expect_identical(train(*model), reference);
}

TEST(Recompute, TrainingStepsAllocateNothing) {
  auto model = deep_cnn({"memory_budget=" + std::to_string(planned_arena() * 7 / 10)});
  model->initialize();
  model->trainStep();
  testing::AllocationCounter counter;
  for (int step = 0; step < 3; ++step) model->trainStep();
  EXPECT_EQ(counter.count(), 0u);
}

TEST(Recompute, ABudgetBelowWhatRecomputingReachesNamesBothWays) {
  std::string message;
  try {
    deep_cnn({"memory_budget=100KiB"});
    FAIL() << "expected MemoryBudgetError";
  } catch (const MemoryBudgetError& error) {
    message = error.what();
  }
  EXPECT_NE(message.find("by recomputing"), std::string::npos) << message;
  EXPECT_NE(message.find("memory_swap = true"), std::string::npos) << message;
  const size_t smallest = named_budget(message);
  ASSERT_GT(smallest, 102400u);
  auto model = deep_cnn({"memory_budget=" + std::to_string(smallest)});
  EXPECT_LE(model->memory().planned_bytes, smallest);
  EXPECT_GT(model->memory().recomputed_tensors, 0u);
  expect_identical(train(*model), train(*deep_cnn({})));
}

TEST(Swap, AMissingOrUnusableSwapFolderIsAClearError) {
  const std::string budget = "memory_budget=" + std::to_string(planned_arena() / 4);
  const std::string missing = testing::fresh_temp_dir() + "no/such/folder";
  auto model = deep_cnn({budget, "memory_swap=true", "memory_swap_path=" + missing});
  try {
    model->initialize();
    FAIL() << "expected an error";
  } catch (const Error& error) {
    const std::string message = error.what();
    EXPECT_NE(message.find("memory_swap_path '" + missing + "'"), std::string::npos) << message;
    EXPECT_NE(message.find("No such file or directory"), std::string::npos) << message;
  }
  const std::string file = testing::fresh_temp_dir() + "a_file";
  testing::write_text(file, "not a folder");
  model = deep_cnn({budget, "memory_swap=true", "memory_swap_path=" + file});
  try {
    model->initialize();
    FAIL() << "expected an error";
  } catch (const Error& error) {
    EXPECT_NE(std::string(error.what()).find("memory_swap_path '" + file + "'"), std::string::npos)
        << error.what();
  }
}

TEST(Swap, TheSwapFileLeavesNothingBehind) {
  const std::string folder = testing::fresh_temp_dir();
  {
    auto model = deep_cnn({"memory_budget=" + std::to_string(planned_arena() / 4),
                           "memory_swap=true", "memory_swap_path=" + folder});
    train(*model, 2);
  }
  testing::write_text(folder + "marker", "");  // the folder still exists and is writable
  size_t entries = 0;
  for (const auto& entry : std::filesystem::directory_iterator(folder)) entries += entry.exists();
  EXPECT_EQ(entries, 1u) << "only the marker: the swap file is unnamed";
}

TEST(ByteSize, ParsesUnits) {
  EXPECT_EQ(parse_byte_size("4194304", "model", "memory_budget"), 4194304u);
  EXPECT_EQ(parse_byte_size("4MiB", "model", "memory_budget"), 4194304u);
  EXPECT_EQ(parse_byte_size("4 mib", "model", "memory_budget"), 4194304u);
  EXPECT_EQ(parse_byte_size("512KiB", "model", "memory_budget"), 524288u);
  EXPECT_EQ(parse_byte_size("1.5G", "model", "memory_budget"), 1610612736u);
  EXPECT_EQ(parse_byte_size("2MB", "model", "memory_budget"), 2000000u);
  EXPECT_EQ(parse_byte_size("0", "model", "memory_budget"), 0u);
  for (const char* bad : {"", "MiB", "-1MiB", "4 parsecs", "1e30"})
    EXPECT_THROW(parse_byte_size(bad, "model", "memory_budget"), PropertyError) << bad;
}

}  // namespace
}  // namespace edgetrain
