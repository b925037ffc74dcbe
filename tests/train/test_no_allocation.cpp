#include <gtest/gtest.h>

#include "edgetrain/model.h"
#include "support/allocation_counter.h"

namespace edgetrain::testing {
namespace {

TEST(NoAllocation, TrainingStepsRunOutOfTheArena) {
  Model model({"batch_size=8", "loss=mse", "seed=3"});
  model.addLayer(createLayer("input", {"name=in", "input_shape=1:1:12"}));
  model.addLayer(createLayer("fully_connected", {"unit=16", "activation=gelu"}));
  model.addLayer(createLayer("fully_connected", {"unit=4", "activation=softmax"}));
  model.setOptimizer(createOptimizer("adam", {"learning_rate=0.01"}));
  model.compile();
  model.initialize();
  for (Tensor& t : model.inputs()) t.fill(0.5f);
  for (Tensor& t : model.labels()) t.fill(0.25f);
  model.trainStep();  // the first step may touch lazily initialized library state
  AllocationCounter counter;
  for (int step = 0; step < 5; ++step) model.trainStep();
  model.trainStep(3);  // a partial batch rebinds views without allocating
  model.forward();
  EXPECT_EQ(counter.count(), 0u);
}

// Gradient clipping scales the gradients in place: the clip step allocates nothing.
TEST(NoAllocation, ClippingGradientsRunsOutOfTheArena) {
  Model model({"batch_size=8", "loss=mse", "seed=3"});
  model.addLayer(createLayer("input", {"name=in", "input_shape=1:1:12"}));
  model.addLayer(createLayer("fully_connected", {"unit=16", "activation=relu"}));
  model.addLayer(createLayer("fully_connected", {"unit=4"}));
  model.setOptimizer(createOptimizer("sgd", {"learning_rate=0.01", "clip_grad_norm=0.001"}));
  model.compile();
  model.initialize();
  for (Tensor& t : model.inputs()) t.fill(0.5f);
  for (Tensor& t : model.labels()) t.fill(3.0f);
  model.trainStep();
  AllocationCounter counter;
  for (int step = 0; step < 5; ++step) model.trainStep();
  model.trainStep(3);
  EXPECT_EQ(counter.count(), 0u);
}

}  // namespace
}  // namespace edgetrain::testing

namespace edgetrain::testing {
namespace {

// Model::train reads samples straight into the batch views: after the first epoch set
// things up, an epoch allocates nothing.
TEST(NoAllocation, TrainingEpochsReadIntoTheBatchViews) {
  Model model({"batch_size=4", "epochs=1", "loss=mse", "seed=3"});
  model.addLayer(createLayer("input", {"name=in", "input_shape=1:1:3"}));
  model.addLayer(createLayer("fully_connected", {"unit=2"}));
  model.setOptimizer(createOptimizer("sgd", {"learning_rate=0.01"}));
  model.compile();
  model.initialize();
  MemoryDataset data(std::vector<float>(30, 0.5f), 3, std::vector<float>(20, 0.25f), 2);
  model.train(data);
  AllocationCounter counter;
  model.train(data);
  // A few allocations set an epoch up (views, history), none per batch: 10 samples in
  // batches of 4 are 3 steps, and the count must not grow with them.
  const size_t per_epoch = counter.count();
  MemoryDataset bigger(std::vector<float>(300, 0.5f), 3, std::vector<float>(200, 0.25f), 2);
  AllocationCounter counter_bigger;
  model.train(bigger);
  EXPECT_EQ(counter_bigger.count(), per_epoch);
}

}  // namespace
}  // namespace edgetrain::testing
