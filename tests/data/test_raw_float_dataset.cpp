// RawFloatDataset: NNTrainer's .dat records of input then label float32 values.
#include <gtest/gtest.h>

#include <vector>

#include "edgetrain/data.h"
#include "support/data_files.h"

namespace edgetrain::testing {
namespace {

class RawFloat : public ::testing::Test {
 protected:
  void SetUp() override { path_ = fresh_temp_dir() + "data.dat"; }
  std::string path_;
};

TEST_F(RawFloat, ReadsRecordsOfInputThenLabel) {
  // Three records of 2 input values and a one-hot label of 3.
  write_floats(path_, {0.5f, -1, 0, 1, 0,  //
                       2, 3, 1, 0, 0,      //
                       4, 5, 0, 0, 1});
  RawFloatDataset data(path_, 2, 3);
  ASSERT_EQ(data.size(), 3u);
  SampleBuffer input(TensorShape(1, 1, 1, 2));
  SampleBuffer label(TensorShape(1, 1, 1, 3));
  data.read(2, {&input.tensor, 1}, {&label.tensor, 1});
  EXPECT_EQ(input.values, (std::vector<float>{4, 5}));
  EXPECT_EQ(label.values, (std::vector<float>{0, 0, 1}));
  data.read(0, {&input.tensor, 1}, {&label.tensor, 1});
  EXPECT_EQ(input.values, (std::vector<float>{0.5f, -1}));
  EXPECT_EQ(label.values, (std::vector<float>{0, 1, 0}));
  EXPECT_EQ(data.class_labels(), (std::vector<size_t>{1, 0, 2}));
}

TEST_F(RawFloat, SizeThatIsNotWholeRecordsIsAnErrorNamingTheRecordSize) {
  write_floats(path_, std::vector<float>(12, 0.0f));
  expect_data_error([&] { RawFloatDataset(path_, 2, 3); },
                    {path_, "48 bytes", "records of 20 bytes", "2 input and 3 label"});
}

TEST_F(RawFloat, MissingOrEmptyFileIsAnError) {
  expect_data_error([&] { RawFloatDataset(path_, 2, 3); }, {path_, "cannot open"});
  write_floats(path_, {});
  expect_data_error([&] { RawFloatDataset(path_, 2, 3); }, {path_, "empty"});
}

TEST_F(RawFloat, ViewsThatDoNotFitTheRecordsAreAnError) {
  write_floats(path_, {1, 2, 0, 1});
  RawFloatDataset data(path_, 2, 2);
  SampleBuffer input(TensorShape(1, 1, 1, 3));
  SampleBuffer label(TensorShape(1, 1, 1, 2));
  expect_data_error(
      [&] {
        data.read(0, {&input.tensor, 1}, {&label.tensor, 1});
      },
      {path_, "2 values", "1:1:1:3 (3 values)"});
}

}  // namespace
}  // namespace edgetrain::testing
