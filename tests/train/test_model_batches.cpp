// Model views after a partial last batch.
#include <gtest/gtest.h>

#include <vector>

#include "edgetrain/model.h"

namespace edgetrain {

TEST(ModelBatches, ViewsKeepTheCompiledBatchAfterAPartialBatch) {
  Model model({"batch_size=4", "loss=mse"});
  model.addLayer(createLayer("input", {"input_shape=1:1:2"}));
  model.addLayer(createLayer("fully_connected", {"unit=1"}));
  model.setOptimizer(createOptimizer("sgd", {"learning_rate=0.1"}));
  model.initialize();
  // 6 samples: a full batch of 4, then a partial batch of 2.
  MemoryDataset data({1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}, 2, {1, 2, 3, 4, 5, 6}, 1);
  model.train(data);
  EXPECT_EQ(model.inputs()[0].batch(), 4u);
  EXPECT_EQ(model.labels()[0].batch(), 4u);
  EXPECT_EQ(model.outputs()[0].batch(), 4u);
  // Both build per-sample views of the whole compiled batch from inputs() and labels().
  EXPECT_NO_THROW(model.evaluate(data));
  EXPECT_NO_THROW(model.train(data));
}

}  // namespace edgetrain
