// CsvDataset on small files the tests write: layouts, headers, and broken rows named by
// file:row(:column).
#include <gtest/gtest.h>

#include <vector>

#include "edgetrain/data.h"
#include "support/data_files.h"

namespace edgetrain::testing {
namespace {

class Csv : public ::testing::Test {
 protected:
  void SetUp() override { path_ = fresh_temp_dir() + "data.csv"; }

  // Reads sample `index` into an input of `input_size` and a label of `label_size`.
  static std::pair<std::vector<float>, std::vector<float>> sample(CsvDataset& data, size_t index,
                                                                  size_t input_size,
                                                                  size_t label_size) {
    SampleBuffer input(TensorShape(1, 1, 1, input_size));
    SampleBuffer label(TensorShape(1, 1, 1, label_size));
    data.read(index, {&input.tensor, 1}, {&label.tensor, 1});
    return {input.values, label.values};
  }

  std::string path_;
};

TEST_F(Csv, ReadsFeaturesThenAClassIndexWrittenOneHot) {
  write_text(path_, "0.5,1,-2,2\n3,4e-1,5,0\n");
  CsvDataset data(path_, 3, 3);
  ASSERT_EQ(data.size(), 2u);
  auto [input, label] = sample(data, 0, 3, 3);
  EXPECT_EQ(input, (std::vector<float>{0.5f, 1, -2}));
  EXPECT_EQ(label, (std::vector<float>{0, 0, 1}));
  std::tie(input, label) = sample(data, 1, 3, 3);
  EXPECT_EQ(input, (std::vector<float>{3, 0.4f, 5}));
  EXPECT_EQ(label, (std::vector<float>{1, 0, 0}));
  EXPECT_EQ(data.class_labels(), (std::vector<size_t>{2, 0}));
}

TEST_F(Csv, HeaderIsDetectedWhenACellIsNotANumber) {
  write_text(path_, "x, y, class\n1, 2, 1\n");
  CsvDataset data(path_, 2, 2);
  ASSERT_EQ(data.size(), 1u);
  EXPECT_EQ(sample(data, 0, 2, 2).first, (std::vector<float>{1, 2}));
}

TEST_F(Csv, HeaderOptionOverridesDetection) {
  // A header of numbers is only skipped when asked.
  write_text(path_, "0,1,2\n5,6,1\n");
  EXPECT_EQ(CsvDataset(path_, 2, 3).size(), 2u);
  EXPECT_EQ(CsvDataset(path_, 2, 3, {.has_header = true}).size(), 1u);
  write_text(path_, "x,y,class\n5,6,1\n");
  expect_data_error([&] { CsvDataset(path_, 2, 2, {.has_header = false}); },
                    {path_ + ":1:1: 'x' is not a finite number"});
}

TEST_F(Csv, LabelColumnCanBeAnywhere) {
  write_text(path_, "1,10,20\n0,30,40\n");
  CsvDataset data(path_, 2, 2, {.label_column = 0});
  auto [input, label] = sample(data, 0, 2, 2);
  EXPECT_EQ(input, (std::vector<float>{10, 20}));
  EXPECT_EQ(label, (std::vector<float>{0, 1}));
}

TEST_F(Csv, LabelValuesWithoutOneHot) {
  write_text(path_, "1,2,0.5,-0.5,3\n");
  // Labels at the end: the last two columns.
  CsvDataset at_end(path_, 3, 2, {.one_hot = false});
  auto [input, label] = sample(at_end, 0, 3, 2);
  EXPECT_EQ(input, (std::vector<float>{1, 2, 0.5f}));
  EXPECT_EQ(label, (std::vector<float>{-0.5f, 3}));
  // Labels from column 1 (0-based): columns 1 and 2.
  CsvDataset inside(path_, 3, 2, {.label_column = 1, .one_hot = false});
  std::tie(input, label) = sample(inside, 0, 3, 2);
  EXPECT_EQ(input, (std::vector<float>{1, -0.5f, 3}));
  EXPECT_EQ(label, (std::vector<float>{2, 0.5f}));
  expect_data_error([&] { inside.class_labels(); }, {path_, "one_hot"});
}

TEST_F(Csv, BlankLinesAndCrlfAreAcceptedAndRowsCountLines) {
  write_text(path_, "1,2,0\r\n\r\n3,4,1\r\n\n5,6\r\n");
  expect_data_error([&] { CsvDataset(path_, 2, 2); },
                    {path_ + ":5: 2 columns, expected 3 (2 features and a class index)"});
  write_text(path_, "1,2,0\r\n\r\n3,4,1\r\n");
  EXPECT_EQ(CsvDataset(path_, 2, 2).size(), 2u);
}

TEST_F(Csv, RowWithTheWrongNumberOfColumnsIsAnError) {
  write_text(path_, "1,2,3,0\n1,2,3,4,0\n");
  expect_data_error([&] { CsvDataset(path_, 3, 2); },
                    {path_ + ":2: 5 columns, expected 4 (3 features and a class index)"});
  expect_data_error([&] { CsvDataset(path_, 3, 2, {.one_hot = false}); },
                    {path_ + ":1: 4 columns, expected 5 (3 features and 2 labels)"});
}

TEST_F(Csv, CellThatIsNotANumberIsAnError) {
  write_text(path_, "1,2,0\n3,abc,1\n4,,1\n");
  expect_data_error([&] { CsvDataset(path_, 2, 2); },
                    {path_ + ":2:2: 'abc' is not a finite number"});
  write_text(path_, "1,2,0\n4,,1\n");
  expect_data_error([&] { CsvDataset(path_, 2, 2); }, {path_ + ":2:2: '' is not a finite number"});
  // "inf" and "nan" parse as numbers, so a first row holding one is data, not a header.
  write_text(path_, "1,inf,0\n4,nan,1\n");
  expect_data_error([&] { CsvDataset(path_, 2, 2); },
                    {path_ + ":1:2: 'inf' is not a finite number"});
}

TEST_F(Csv, ClassIndexOutsideTheClassesIsAnError) {
  write_text(path_, "1,2,0\n3,4,3\n");
  expect_data_error([&] { CsvDataset(path_, 2, 3); },
                    {path_ + ":2:3: '3' is not a class index of the model's 3 classes (0 to 2)"});
  write_text(path_, "1,2,1.5\n");
  expect_data_error([&] { CsvDataset(path_, 2, 3); }, {path_ + ":1:3: '1.5'"});
  write_text(path_, "1,2,-1\n");
  expect_data_error([&] { CsvDataset(path_, 2, 3); }, {path_ + ":1:3: '-1'"});
}

TEST_F(Csv, EmptyFileOrHeaderOnlyIsAnError) {
  write_text(path_, "");
  expect_data_error([&] { CsvDataset(path_, 2, 2); }, {path_, "empty"});
  write_text(path_, "\n\n");
  expect_data_error([&] { CsvDataset(path_, 2, 2); }, {path_, "empty"});
  write_text(path_, "a,b,label\n");
  expect_data_error([&] { CsvDataset(path_, 2, 2); }, {path_, "no samples"});
  expect_data_error([&] { CsvDataset(path_ + ".absent", 2, 2); },
                    {path_ + ".absent", "cannot open"});
}

TEST_F(Csv, LabelColumnOutsideTheRowIsAnError) {
  write_text(path_, "1,2,0\n");
  expect_data_error([&] { CsvDataset(path_, 2, 2, {.label_column = 3}); },
                    {path_, "label_column 3", "3 columns"});
  // Two label columns from column 2 (0-based) would need a fourth column.
  expect_data_error([&] { CsvDataset(path_, 1, 2, {.label_column = 2, .one_hot = false}); },
                    {path_, "label_column 2", "3 columns (1 feature and 2 labels)"});
  EXPECT_NO_THROW(CsvDataset(path_, 1, 2, {.label_column = 1, .one_hot = false}));
}

TEST_F(Csv, ViewsThatDoNotFitTheRowsAreAnError) {
  write_text(path_, "1,2,0\n");
  CsvDataset data(path_, 2, 2);
  expect_data_error([&] { sample(data, 0, 3, 2); }, {path_, "2 feature values", "1:1:1:3"});
  expect_data_error([&] { sample(data, 0, 2, 5); }, {path_, "2 classes", "1:1:1:5"});
}

}  // namespace
}  // namespace edgetrain::testing
