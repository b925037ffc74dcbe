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

}  // namespace
}  // namespace edgetrain::testing
