// AutoencoderDataset and open_dataset's target = input: the label is the input itself.
#include <gtest/gtest.h>

#include <memory>
#include <vector>

#include "edgetrain/data.h"
#include "support/data_files.h"

namespace edgetrain::testing {
namespace {

DatasetSpec input_target_spec(const std::string& type, const std::string& origin = "") {
  DatasetSpec spec;
  spec.type = type;
  spec.target_is_input = true;
  spec.origin = origin;
  return spec;
}

class AutoencoderData : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fresh_temp_dir();
    // Two 2x2 images; pixel p of image i is 10 * i + p.
    write_gzip(dir_ + "images.gz",
               idx_images(2, 2, 2, [](size_t i, size_t p) { return uint8_t(10 * i + p); }));
  }
  std::string dir_;
};

TEST_F(AutoencoderData, IdxImagesAreInputAndLabel) {
  DatasetSpec spec = input_target_spec("idx");
  spec.images = dir_ + "images.gz";
  const TensorShape shape(1, 1, 2, 2);
  std::unique_ptr<Dataset> data = open_dataset(spec, shape, 4);
  ASSERT_EQ(data->size(), 2u);
  SampleBuffer input(shape), label(shape);
  std::vector<Tensor> inputs = {input.tensor}, labels = {label.tensor};
  data->read(1, inputs, labels);
  EXPECT_EQ(input.values, (std::vector<float>{10 / 255.0f, 11 / 255.0f, 12 / 255.0f, 13 / 255.0f}));
  EXPECT_EQ(label.values, input.values);
  // A model without a loss reads the input alone.
  data->read(0, inputs, {});
  EXPECT_EQ(input.values, (std::vector<float>{0, 1 / 255.0f, 2 / 255.0f, 3 / 255.0f}));
}

TEST_F(AutoencoderData, CsvAndRawFloatSamplesHoldOnlyTheInput) {
  write_text(dir_ + "data.csv", "1,2,3\n4,5,6\n");
  write_floats(dir_ + "data.dat", {1, 2, 3, 4, 5, 6, 7, 8, 9});
  const TensorShape shape(1, 1, 1, 3);
  DatasetSpec csv = input_target_spec("csv"), raw = input_target_spec("file");
  csv.path = dir_ + "data.csv";
  raw.path = dir_ + "data.dat";
  SampleBuffer input(shape), label(TensorShape(1, 3, 1, 1));  // same values, another shape
  std::vector<Tensor> inputs = {input.tensor}, labels = {label.tensor};
  std::unique_ptr<Dataset> from_csv = open_dataset(csv, shape, 3);
  ASSERT_EQ(from_csv->size(), 2u);
  from_csv->read(1, inputs, labels);
  EXPECT_EQ(label.values, (std::vector<float>{4, 5, 6}));
  std::unique_ptr<Dataset> from_raw = open_dataset(raw, shape, 3);
  ASSERT_EQ(from_raw->size(), 3u);
  from_raw->read(2, inputs, labels);
  EXPECT_EQ(label.values, (std::vector<float>{7, 8, 9}));
}

TEST_F(AutoencoderData, ALabelOfAnotherSizeIsAnError) {
  DatasetSpec spec = input_target_spec("idx", "vae.ini:20");
  spec.images = dir_ + "images.gz";
  expect_data_error([&] { open_dataset(spec, TensorShape(1, 1, 2, 2), 3); },
                    {"vae.ini:20: target = input", "1:1:2:2, 4 values", "loss takes 3 values"});
  spec.origin = "";
  std::unique_ptr<Dataset> data = open_dataset(spec, TensorShape(1, 1, 2, 2), 4);
  SampleBuffer input(TensorShape(1, 1, 2, 2)), label(TensorShape(1, 1, 1, 3));
  std::vector<Tensor> inputs = {input.tensor}, labels = {label.tensor};
  expect_data_error([&] { data->read(0, inputs, labels); }, {"label (1:1:1:3)", "(1:1:2:2)"});
}

TEST_F(AutoencoderData, SpecErrors) {
  DatasetSpec spec = input_target_spec("idx");
  expect_data_error([&] { open_dataset(spec, TensorShape(1, 1, 2, 2), 4); },
                    {"'idx' needs an 'images' file"});
  spec.images = dir_ + "images.gz";
  spec.labels = dir_ + "labels.gz";
  expect_data_error([&] { open_dataset(spec, TensorShape(1, 1, 2, 2), 4); },
                    {"target = input reads no 'labels' file"});
  expect_data_error([] { open_dataset(input_target_spec("csv"), TensorShape(1, 1, 1, 4), 4); },
                    {"'csv' needs a 'path'"});
  expect_data_error([] { open_dataset(input_target_spec("hdf5"), TensorShape(1, 1, 1, 4), 4); },
                    {"unknown dataset type 'hdf5'"});
  expect_data_error([] { AutoencoderDataset(nullptr); }, {"no dataset"});
}

}  // namespace
}  // namespace edgetrain::testing
