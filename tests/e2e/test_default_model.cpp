// The shipped model files: each loads and compiles, and the default model,
// models/fashion_mnist_cnn.ini, learns real Fashion-MNIST from a few thousand images.
#include <gtest/gtest.h>

#include <filesystem>
#include <numeric>
#include <sstream>
#include <string>
#include <vector>

#include "edgetrain/data.h"
#include "edgetrain/model.h"
#include "edgetrain/model_file.h"
#include "edgetrain/trainer.h"
#include "support/data_files.h"

namespace edgetrain::testing {
namespace {

namespace fs = std::filesystem;

const fs::path kModels = fs::path(EDGETRAIN_SOURCE_DIR) / "models";

std::vector<size_t> range(size_t first, size_t count) {
  std::vector<size_t> indices(count);
  std::iota(indices.begin(), indices.end(), first);
  return indices;
}

TEST(DefaultModel, EveryModelFileLoadsAndCompiles) {
  size_t files = 0;
  for (const fs::directory_entry& entry : fs::directory_iterator(kModels)) {
    if (entry.path().extension() != ".ini") continue;
    SCOPED_TRACE(entry.path().string());
    ++files;
    ModelFile file = load_model_file(entry.path().string());
    ASSERT_NO_THROW(file.model->compile());
    std::ostringstream summary;
    file.model->summary(summary);
    EXPECT_FALSE(summary.str().empty());
    EXPECT_TRUE(file.train_set.has_value()) << "nothing to train on";
  }
  EXPECT_GE(files, 1u);
}

// One epoch on the first 3000 training images (500 more for validation) takes the default
// CNN well above chance (10%) on 1000 test images. The data comes from the paths the model
// file names; without them (Debian's dataset-fashion-mnist) the test is skipped.
TEST(DefaultModel, LearnsFashionMnistFromASubset) {
  ModelFile file = load_model_file((kModels / "fashion_mnist_cnn.ini").string(), {"epochs=1"});
  ASSERT_TRUE(file.train_set && file.test_set);
  for (const std::string& path : {file.train_set->images, file.train_set->labels,
                                  file.test_set->images, file.test_set->labels})
    if (!fs::exists(path))
      GTEST_SKIP() << path
                   << " is missing: install Fashion-MNIST (scripts/setup.sh installs Debian's "
                   << "dataset-fashion-mnist)";
  Model& model = *file.model;
  model.compile();
  model.initialize();
  const TensorShape input_shape = model.inputs()[0].shape().with_batch(1);
  const size_t classes = model.labels()[0].shape().feature_size();
  std::unique_ptr<Dataset> train_file = open_dataset(*file.train_set, input_shape, classes);
  std::unique_ptr<Dataset> test_file = open_dataset(*file.test_set, input_shape, classes);
  SubsetDataset train(*train_file, range(0, 3000)), validation(*train_file, range(3000, 500));
  SubsetDataset test(*test_file, range(0, 1000));

  TrainerOptions options = file.trainer;  // the file's early stopping and shuffling
  options.save_path = fresh_temp_dir() + "fashion_mnist_cnn.bin";
  std::ostringstream log;
  const TrainResult result = Trainer(model, options, log).fit(train, &validation);
  ASSERT_EQ(result.epochs_completed, 1u) << log.str();
  EXPECT_GT(result.history[0].val_accuracy, 0.6f) << log.str();

  const EvaluationResult evaluation = model.evaluate(test);
  EXPECT_EQ(evaluation.samples, 1000u);
  EXPECT_GT(evaluation.accuracy, 0.6f) << log.str();
}

}  // namespace
}  // namespace edgetrain::testing
