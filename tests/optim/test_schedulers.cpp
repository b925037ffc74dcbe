// Learning-rate schedulers against torch.optim.lr_scheduler, or against their formula
// where PyTorch has no such schedule (tests/golden/schedulers.txt, written by
// tools/golden/gen_schedulers.py); composition with warmup; property errors.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "edgetrain/error.h"
#include "edgetrain/optimizer.h"
#include "support/golden.h"

namespace edgetrain::testing {
namespace {

// The rates of iterations 0 .. count - 1.
std::vector<float> rates(const LearningRateScheduler& scheduler, float base, size_t count) {
  std::vector<float> values;
  for (size_t iteration = 0; iteration < count; ++iteration)
    values.push_back(scheduler.learning_rate(iteration, base));
  return values;
}

// Compares every golden case of `type` over all its iterations.
void run_scheduler_golden(const std::string& type) {
  size_t matched = 0;
  for (const GoldenCase& golden : load_golden("schedulers.txt")) {
    if (golden.type != type) continue;
    ++matched;
    SCOPED_TRACE("golden case " + golden.name);
    std::unique_ptr<LearningRateScheduler> scheduler =
        createLearningRateScheduler(golden.type, golden.properties);
    const GoldenTensor& expected = golden.at("rates");
    const std::vector<float> actual =
        rates(*scheduler, golden.at("base").values.at(0), expected.values.size());
    ASSERT_EQ(expected.values.size(), 100u);
    // Properties are float32, as everywhere in edgetrain, so decay_rate ^ it carries the
    // rounding of decay_rate (0.95f is 0.95 - 2e-8) a hundred times: within 1e-5.
    expect_close(actual.data(), expected, "rates", 1e-5f, 0.0f);
  }
  EXPECT_GT(matched, 0u) << "no golden cases of type " << type;
}

// Expects `create` to throw ErrorType whose message contains every one of `parts`.
template <typename ErrorType, typename Create>
void expect_error(Create create, const std::vector<std::string>& parts) {
  try {
    create();
    ADD_FAILURE() << "expected an error";
  } catch (const ErrorType& error) {
    for (const std::string& part : parts)
      EXPECT_NE(std::string(error.what()).find(part), std::string::npos)
          << "'" << part << "' missing from: " << error.what();
  }
}

// Expects createLearningRateScheduler(type, properties) to throw a PropertyError whose
// message contains every one of `parts`.
void expect_property_error(const std::string& type, const std::vector<std::string>& properties,
                           const std::vector<std::string>& parts) {
  expect_error<PropertyError>([&] { createLearningRateScheduler(type, properties); }, parts);
}

}  // namespace

TEST(SchedulerGolden, Constant) { run_scheduler_golden("constant"); }
TEST(SchedulerGolden, Exponential) { run_scheduler_golden("exponential"); }
TEST(SchedulerGolden, Step) { run_scheduler_golden("step"); }
TEST(SchedulerGolden, Cosine) { run_scheduler_golden("cosine"); }
TEST(SchedulerGolden, Linear) { run_scheduler_golden("linear"); }
TEST(SchedulerGolden, Warmup) { run_scheduler_golden("warmup"); }

TEST(SchedulerGolden, ReduceOnPlateau) {
  size_t matched = 0;
  for (const GoldenCase& golden : load_golden("schedulers.txt")) {
    if (golden.type != "reduce_on_plateau") continue;
    ++matched;
    SCOPED_TRACE("golden case " + golden.name);
    std::unique_ptr<LearningRateScheduler> scheduler =
        createLearningRateScheduler(golden.type, golden.properties);
    const float base = golden.at("base").values.at(0);
    std::vector<float> actual;
    for (float metric : golden.at("metrics").values) {
      scheduler->epoch_end(metric, base);
      // The rate holds whatever the iteration.
      EXPECT_EQ(scheduler->learning_rate(0, base), scheduler->learning_rate(12345, base));
      actual.push_back(scheduler->learning_rate(0, base));
    }
    ASSERT_EQ(actual.size(), golden.at("rates").values.size());
    expect_close(actual.data(), golden.at("rates"), "rates", 1e-5f, 0.0f);
  }
  EXPECT_GT(matched, 0u);
}

TEST(ReduceOnPlateau, MonitorsTheNamedMetric) {
  EXPECT_EQ(createLearningRateScheduler("reduce_on_plateau")->monitor(), "val_loss");
  EXPECT_EQ(createLearningRateScheduler("reduce_on_plateau", {"monitor=Val_Accuracy"})->monitor(),
            "val_accuracy");
  // Schedules of the iteration follow no metric.
  EXPECT_EQ(createLearningRateScheduler("constant")->monitor(), "");
}

TEST(ReduceOnPlateau, StateRoundTripsExactly) {
  std::unique_ptr<LearningRateScheduler> first =
      createLearningRateScheduler("reduce_on_plateau", {"patience=1", "cooldown=3"});
  for (double metric : {1.0, 0.9, 0.95, 0.97, 0.96}) first->epoch_end(metric, 0.1f);
  std::unique_ptr<LearningRateScheduler> second =
      createLearningRateScheduler("reduce_on_plateau", {"patience=1", "cooldown=3"});
  second->set_state(first->state(), "run.ckpt");
  EXPECT_EQ(second->state(), first->state());
  for (double metric : {0.97, 0.98, 0.99, 1.0, 1.1, 1.2}) {
    first->epoch_end(metric, 0.1f);
    second->epoch_end(metric, 0.1f);
    EXPECT_EQ(second->learning_rate(0, 0.1f), first->learning_rate(0, 0.1f));
  }
  EXPECT_LT(first->learning_rate(0, 0.1f), 0.01f);
  expect_error<Error>(
      [&] {
        second->set_state({"rate=none", "best=0x1p-1"}, "run.ckpt");
      },
      {"run.ckpt", "bad_epochs"});
  expect_error<Error>(
      [&] {
        second->set_state({"rate=x", "best=none", "bad_epochs=0", "cooldown_left=0"}, "a");
      },
      {"'rate'", "not a number"});
}

TEST(ReduceOnPlateau, BadPropertiesNameTheKey) {
  const std::string owner = "learning rate scheduler 'reduce_on_plateau'";
  expect_property_error("reduce_on_plateau", {"factor=1"}, {owner, "factor", "[0, 1)"});
  expect_property_error("reduce_on_plateau", {"monitor=f1"}, {owner, "monitor", "val_accuracy"});
  expect_property_error("reduce_on_plateau", {"threshold_mode=relative"},
                        {owner, "threshold_mode", "rel, abs"});
  expect_property_error("reduce_on_plateau", {"patience=-1"}, {owner, "patience"});
  expect_property_error("reduce_on_plateau", {"min_lr=-0.1"}, {owner, "min_lr", ">= 0"});
  expect_property_error("warmup", {"warmup_steps=5", "after=reduce_on_plateau"},
                        {"learning rate scheduler 'warmup'", "after", "reduce_on_plateau"});
}

TEST(Scheduler, ConstantReturnsTheOptimizerRate) {
  std::unique_ptr<LearningRateScheduler> scheduler = createLearningRateScheduler("constant");
  EXPECT_EQ(scheduler->type(), "constant");
  for (size_t iteration : {0u, 1u, 1000u})
    EXPECT_EQ(scheduler->learning_rate(iteration, 0.125f), 0.125f);
}

TEST(Scheduler, ConstantReturnsItsOwnRateWhenSet) {
  std::unique_ptr<LearningRateScheduler> scheduler =
      createLearningRateScheduler("constant", {"learning_rate=0.5"});
  for (size_t iteration : {0u, 7u, 1000u})
    EXPECT_EQ(scheduler->learning_rate(iteration, 0.125f), 0.5f);
}

TEST(Scheduler, ExponentialDecaysByDecayRatePerDecaySteps) {
  std::unique_ptr<LearningRateScheduler> continuous =
      createLearningRateScheduler("exponential", {"decay_rate=0.5", "decay_steps=4"});
  EXPECT_FLOAT_EQ(continuous->learning_rate(0, 0.8f), 0.8f);
  EXPECT_FLOAT_EQ(continuous->learning_rate(2, 0.8f), 0.8f * std::sqrt(0.5f));
  EXPECT_FLOAT_EQ(continuous->learning_rate(8, 0.8f), 0.2f);
  std::unique_ptr<LearningRateScheduler> staircase = createLearningRateScheduler(
      "exponential", {"decay_rate=0.5", "decay_steps=4", "staircase=true"});
  EXPECT_FLOAT_EQ(staircase->learning_rate(3, 0.8f), 0.8f);
  EXPECT_FLOAT_EQ(staircase->learning_rate(4, 0.8f), 0.4f);
}

TEST(Scheduler, StepMilestonesAndNNTrainerIterationsDifferByOne) {
  // milestones=m: m is the first iteration at the new rate (MultiStepLR);
  // iteration=i: i is the last iteration at the old rate (NNTrainer).
  std::unique_ptr<LearningRateScheduler> milestones =
      createLearningRateScheduler("step", {"milestones=10", "gamma=0.5"});
  EXPECT_FLOAT_EQ(milestones->learning_rate(9, 1.0f), 1.0f);
  EXPECT_FLOAT_EQ(milestones->learning_rate(10, 1.0f), 0.5f);
  std::unique_ptr<LearningRateScheduler> nntrainer =
      createLearningRateScheduler("step", {"learning_rate=1,0.5", "iteration=10"});
  EXPECT_FLOAT_EQ(nntrainer->learning_rate(10, 0.1f), 1.0f);
  EXPECT_FLOAT_EQ(nntrainer->learning_rate(11, 0.1f), 0.5f);
}

TEST(Scheduler, CosineRestartsEveryDecaySteps) {
  std::unique_ptr<LearningRateScheduler> cosine = createLearningRateScheduler(
      "cosine", {"max_learning_rate=1", "min_learning_rate=0.2", "decay_steps=10"});
  EXPECT_FLOAT_EQ(cosine->learning_rate(0, 0.1f), 1.0f);
  EXPECT_FLOAT_EQ(cosine->learning_rate(5, 0.1f), 0.6f);
  EXPECT_FLOAT_EQ(cosine->learning_rate(10, 0.1f), 1.0f);
  EXPECT_FLOAT_EQ(cosine->learning_rate(25, 0.1f), 0.6f);
}

TEST(Scheduler, LinearHoldsTheMinimumAfterDecaySteps) {
  std::unique_ptr<LearningRateScheduler> linear =
      createLearningRateScheduler("linear", {"min_learning_rate=0.1", "decay_steps=4"});
  EXPECT_FLOAT_EQ(linear->learning_rate(0, 0.5f), 0.5f);
  EXPECT_FLOAT_EQ(linear->learning_rate(2, 0.5f), 0.3f);
  EXPECT_FLOAT_EQ(linear->learning_rate(4, 0.5f), 0.1f);
  EXPECT_FLOAT_EQ(linear->learning_rate(1000, 0.5f), 0.1f);
}

TEST(SchedulerWarmup, RisesToTheFirstRateOfTheSchedulerAfterIt) {
  std::unique_ptr<LearningRateScheduler> warmup = createLearningRateScheduler(
      "warmup", {"warmup_steps=4", "after=step", "milestones=2", "learning_rate=0.8"});
  EXPECT_EQ(warmup->type(), "warmup");
  // (it + 1) / 4 of step's rate at its iteration 0, then step shifted by 4 iterations.
  const std::vector<float> expected = {0.2f, 0.4f, 0.6f, 0.8f, 0.8f, 0.8f, 0.08f, 0.08f};
  const std::vector<float> actual = rates(*warmup, 0.5f, expected.size());
  for (size_t i = 0; i < expected.size(); ++i) EXPECT_FLOAT_EQ(actual[i], expected[i]) << i;
}

TEST(SchedulerWarmup, WarmsUpToTheOptimizerRateByDefault) {
  std::unique_ptr<LearningRateScheduler> warmup =
      createLearningRateScheduler("warmup", {"warmup_steps=2"});
  EXPECT_FLOAT_EQ(warmup->learning_rate(0, 0.5f), 0.25f);
  EXPECT_FLOAT_EQ(warmup->learning_rate(1, 0.5f), 0.5f);
  EXPECT_FLOAT_EQ(warmup->learning_rate(100, 0.5f), 0.5f);
  EXPECT_EQ(warmup->property_keys(), "warmup_steps, after, learning_rate");
}

TEST(SchedulerWarmup, PropertyOrderDoesNotMatter) {
  const std::vector<std::string> properties = {"warmup_steps=5", "after=cosine",
                                               "max_learning_rate=0.3", "decay_steps=20"};
  const std::vector<float> expected =
      rates(*createLearningRateScheduler("warmup", properties), 0.1f, 60);
  const std::vector<std::vector<std::string>> orders = {
      {"decay_steps=20", "max_learning_rate=0.3", "after=cosine", "warmup_steps=5"},
      {"max_learning_rate=0.3", "warmup_steps=5", "after=cosine", "decay_steps=20"},
      // A second `after` replaces the first and takes every property given so far.
      {"after=linear", "max_learning_rate=0.3", "decay_steps=20", "after=cosine",
       "warmup_steps=5"}};
  for (const std::vector<std::string>& order : orders)
    EXPECT_EQ(rates(*createLearningRateScheduler("warmup", order), 0.1f, 60), expected);
  EXPECT_EQ(createLearningRateScheduler("warmup", properties)->property_keys(),
            "warmup_steps, after, max_learning_rate, min_learning_rate, decay_steps");
}

TEST(SchedulerErrors, UnknownTypeListsKnownTypes) {
  expect_error<UnknownTypeError>(
      [] { createLearningRateScheduler("onecycle"); },
      {"onecycle", "constant, cosine, exponential, linear, reduce_on_plateau, step, warmup"});
}

TEST(SchedulerErrors, UnknownPropertyNamesTheKey) {
  expect_property_error("constant", {"gamma=0.1"},
                        {"learning rate scheduler 'constant'", "gamma", "learning_rate"});
  expect_property_error("cosine", {"decay_steps=10", "gamma=0.1"},
                        {"learning rate scheduler 'cosine'", "gamma", "max_learning_rate"});
}

TEST(SchedulerErrors, NegativeRateIsAnError) {
  expect_property_error("constant", {"learning_rate=-0.5"},
                        {"learning rate scheduler 'constant'", "learning_rate", "-0.5", ">= 0"});
  expect_property_error("step", {"milestones=5", "learning_rate=0.1,-1"},
                        {"learning rate scheduler 'step'", "learning_rate", "-1", ">= 0"});
}

TEST(SchedulerErrors, MinAboveMaxIsAnError) {
  for (const char* type : {"cosine", "linear"}) {
    SCOPED_TRACE(type);
    // Checked once all properties are set, whichever comes first.
    expect_property_error(type,
                          {"min_learning_rate=0.5", "max_learning_rate=0.1", "decay_steps=10"},
                          {std::string("learning rate scheduler '") + type + "'",
                           "min_learning_rate", "0.5", "max_learning_rate", "0.1"});
  }
}

TEST(SchedulerErrors, ZeroStepsAreErrors) {
  for (const char* type : {"cosine", "linear", "exponential"}) {
    SCOPED_TRACE(type);
    expect_property_error(type, {"decay_steps=0"},
                          {std::string("learning rate scheduler '") + type + "'", "decay_steps",
                           "'0'", "positive integer"});
  }
  expect_property_error(
      "warmup", {"warmup_steps=0"},
      {"learning rate scheduler 'warmup'", "warmup_steps", "'0'", "positive integer"});
}

TEST(SchedulerErrors, DecayRateMustBePositive) {
  for (const char* rate : {"0", "-0.5"}) {
    SCOPED_TRACE(rate);
    expect_property_error("exponential", {std::string("decay_rate=") + rate},
                          {"learning rate scheduler 'exponential'", "decay_rate", rate, "> 0"});
  }
}

TEST(SchedulerErrors, MilestonesMustIncrease) {
  for (const char* list : {"30,10", "10,10", "10,,20"}) {
    SCOPED_TRACE(list);
    expect_property_error("step", {std::string("milestones=") + list},
                          {"learning rate scheduler 'step'", "milestones", list});
  }
  expect_property_error(
      "step", {"learning_rate=1,0.1", "iteration=20,5"},
      {"learning rate scheduler 'step'", "iteration", "20,5", "increasing order"});
}

TEST(SchedulerErrors, StepFormsDoNotMix) {
  expect_property_error("step", {"learning_rate=1,0.1,0.01", "iteration=20"},
                        {"learning rate scheduler 'step'", "learning_rate", "one rate more",
                         "3 rates and 1 iterations"});
  expect_property_error("step", {"learning_rate=1,0.1", "iteration=20", "milestones=5"},
                        {"learning rate scheduler 'step'", "iteration", "milestones"});
  expect_property_error(
      "step", {"learning_rate=1,0.1", "milestones=5"},
      {"learning rate scheduler 'step'", "learning_rate", "one rate", "iteration"});
}

TEST(SchedulerErrors, RequiredPropertiesAreNamed) {
  expect_property_error("exponential", {},
                        {"learning rate scheduler 'exponential'", "'decay_rate' is required"});
  expect_property_error("step", {"gamma=0.5"},
                        {"learning rate scheduler 'step'", "'milestones' is required"});
  expect_property_error("cosine", {},
                        {"learning rate scheduler 'cosine'", "'decay_steps' is required"});
  expect_property_error("linear", {},
                        {"learning rate scheduler 'linear'", "'decay_steps' is required"});
  expect_property_error("warmup", {"after=constant"},
                        {"learning rate scheduler 'warmup'", "'warmup_steps' is required"});
}

TEST(SchedulerErrors, WarmupNamesBothSchedulers) {
  expect_property_error("warmup", {"warmup_steps=5", "after=onecycle"},
                        {"learning rate scheduler 'warmup'", "after", "onecycle",
                         "constant, cosine, exponential, linear, step"});
  expect_property_error("warmup", {"warmup_steps=5", "after=warmup"},
                        {"learning rate scheduler 'warmup'", "after", "other than warmup"});
  // The `after` scheduler's own checks name it too.
  expect_property_error(
      "warmup", {"warmup_steps=5", "after=cosine"},
      {"learning rate scheduler 'warmup' (after = cosine)", "'decay_steps' is required"});
  expect_property_error("warmup",
                        {"warmup_steps=5", "after=linear", "decay_steps=10",
                         "max_learning_rate=0.1", "min_learning_rate=0.2"},
                        {"learning rate scheduler 'warmup' (after = linear)", "min_learning_rate",
                         "max_learning_rate"});
  expect_property_error(
      "warmup", {"decay_steps=x", "after=cosine", "warmup_steps=5"},
      {"learning rate scheduler 'warmup' (after = cosine)", "decay_steps", "'x'"});
}

TEST(SchedulerErrors, WarmupRejectsKeysItsSchedulerDoesNotKnow) {
  // Given after `after`: rejected at once.
  expect_property_error("warmup", {"warmup_steps=5", "after=step", "milestones=3", "decay=1"},
                        {"learning rate scheduler 'warmup'", "unknown property 'decay'",
                         "warmup_steps, after, milestones"});
  // Given before `after`: rejected when `after` turns out not to know it.
  expect_property_error("warmup", {"warmup_steps=5", "decay_steps=9", "after=step"},
                        {"learning rate scheduler 'warmup' (after = step)",
                         "unknown property 'decay_steps'", "milestones"});
  // Never claimed, since `after` stayed the default constant.
  expect_property_error("warmup", {"warmup_steps=5", "decay_steps=9"},
                        {"learning rate scheduler 'warmup'", "unknown property 'decay_steps'",
                         "warmup_steps, after, learning_rate"});
}

}  // namespace edgetrain::testing
