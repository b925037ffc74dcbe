// IdxDataset on small IDX files the tests write, plain and gzip-compressed, and on broken
// ones: each break is a DataError naming the file.
#include <gtest/gtest.h>

#include <vector>

#include "edgetrain/data.h"
#include "edgetrain/model.h"
#include "support/data_files.h"

namespace edgetrain::testing {
namespace {

// Image i of 2x3 pixels holds i * 10 + p at pixel p.
uint8_t pixel(size_t image, size_t p) { return static_cast<uint8_t>(image * 10 + p); }

class Idx : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fresh_temp_dir();
    images_ = dir_ + "images.gz";
    labels_ = dir_ + "labels.gz";
    write_gzip(images_, idx_images(3, 2, 3, pixel));
    write_gzip(labels_, idx_labels({2, 0, 1}));
  }

  std::string dir_, images_, labels_;
};

TEST_F(Idx, ReadsGzipImagesAsUnitFloatsAndLabelsOneHot) {
  IdxDataset data(images_, labels_);
  ASSERT_EQ(data.size(), 3u);
  EXPECT_EQ(data.rows(), 2u);
  EXPECT_EQ(data.cols(), 3u);
  SampleBuffer input(TensorShape(1, 1, 2, 3));
  SampleBuffer label(TensorShape(1, 1, 1, 3));
  data.read(2, {&input.tensor, 1}, {&label.tensor, 1});
  for (size_t p = 0; p < 6; ++p) EXPECT_EQ(input.values[p], pixel(2, p) / 255.0f) << p;
  EXPECT_EQ(label.values, (std::vector<float>{0, 1, 0}));
  data.read(0, {&input.tensor, 1}, {&label.tensor, 1});
  EXPECT_EQ(label.values, (std::vector<float>{0, 0, 1}));
  EXPECT_EQ(data.class_labels(), (std::vector<size_t>{2, 0, 1}));
}

TEST_F(Idx, ReadsImagesWithoutLabelsForPrediction) {
  IdxDataset data(images_, "");
  ASSERT_EQ(data.size(), 3u);
  SampleBuffer input(TensorShape(1, 1, 2, 3));
  data.read(1, {&input.tensor, 1}, {});
  for (size_t p = 0; p < 6; ++p) EXPECT_EQ(input.values[p], pixel(1, p) / 255.0f) << p;
  SampleBuffer label(TensorShape(1, 1, 1, 3));
  try {
    data.read(1, {&input.tensor, 1}, {&label.tensor, 1});
    FAIL() << "expected DataError";
  } catch (const DataError& error) {
    EXPECT_NE(std::string(error.what()).find("without a labels file"), std::string::npos)
        << error.what();
  }
}

TEST_F(Idx, ReadsUncompressedFilesAndAnyInputShapeOfTheImageSize) {
  write_bytes(dir_ + "images", idx_images(3, 2, 3, pixel));
  write_bytes(dir_ + "labels", idx_labels({2, 0, 1}));
  IdxDataset data(dir_ + "images", dir_ + "labels");
  // A flat input of 6 values takes the image row by row.
  SampleBuffer input(TensorShape(1, 1, 1, 6));
  SampleBuffer label(TensorShape(1, 1, 1, 4));
  data.read(1, {&input.tensor, 1}, {&label.tensor, 1});
  for (size_t p = 0; p < 6; ++p) EXPECT_EQ(input.values[p], pixel(1, p) / 255.0f) << p;
  EXPECT_EQ(label.values, (std::vector<float>{1, 0, 0, 0}));
  EXPECT_NO_THROW(data.check_fits(TensorShape(1, 1, 2, 3), 3));
}

TEST_F(Idx, ScalesTheFullByteRangeToZeroOne) {
  write_gzip(images_, idx_images(3, 1, 2, [](size_t, size_t p) { return p == 0 ? 0 : 255; }));
  IdxDataset data(images_, labels_);
  SampleBuffer input(TensorShape(1, 1, 1, 2));
  data.read(0, {&input.tensor, 1}, {});  // no label view: a model without a loss
  EXPECT_EQ(input.values, (std::vector<float>{0.0f, 1.0f}));
}

TEST_F(Idx, TruncatedGzipStreamIsAnError) {
  std::vector<uint8_t> compressed = read_bytes(images_);
  compressed.resize(compressed.size() / 2);
  write_bytes(images_, compressed);
  expect_data_error([&] { IdxDataset(images_, labels_); }, {images_, "truncated"});
}

TEST_F(Idx, CorruptGzipChecksumIsAnError) {
  // The gzip trailer is the CRC-32 of the data, then its length; the data itself is intact.
  std::vector<uint8_t> compressed = read_bytes(images_);
  compressed[compressed.size() - 8] ^= 0xff;
  write_bytes(images_, compressed);
  expect_data_error([&] { IdxDataset(images_, labels_); }, {images_, "corrupt gzip data"});
}

TEST_F(Idx, TruncatedPlainFileIsAnError) {
  std::vector<uint8_t> bytes = idx_images(3, 2, 3, pixel);
  bytes.resize(bytes.size() - 4);
  write_bytes(dir_ + "images", bytes);
  expect_data_error([&] { IdxDataset(dir_ + "images", labels_); },
                    {dir_ + "images", "truncated", "expected 18 pixels, found 14"});
  write_bytes(dir_ + "images", {0, 0, 8, 3, 0, 0});
  expect_data_error([&] { IdxDataset(dir_ + "images", labels_); },
                    {dir_ + "images", "truncated in the IDX header"});
}

TEST_F(Idx, ExtraBytesAfterTheDataAreAnError) {
  std::vector<uint8_t> bytes = idx_labels({2, 0, 1});
  bytes.push_back(7);
  write_gzip(labels_, bytes);
  expect_data_error([&] { IdxDataset(images_, labels_); },
                    {labels_, "more data than the 3 labels"});
}

TEST_F(Idx, WrongMagicIsAnError) {
  expect_data_error([&] { IdxDataset(labels_, labels_); },
                    {labels_, "not an IDX images file", "magic 0x00000801", "0x00000803"});
  expect_data_error([&] { IdxDataset(images_, images_); },
                    {images_, "not an IDX labels file", "magic 0x00000803", "0x00000801"});
}

TEST_F(Idx, ImageAndLabelCountMismatchIsAnError) {
  write_gzip(labels_, idx_labels({2, 0}));
  expect_data_error([&] { IdxDataset(images_, labels_); },
                    {labels_ + " holds 2 labels", images_ + " holds 3 images"});
}

TEST_F(Idx, MissingOrEmptyFileIsAnError) {
  expect_data_error([&] { IdxDataset(dir_ + "absent.gz", labels_); },
                    {dir_ + "absent.gz", "cannot open"});
  write_gzip(images_, idx_images(0, 2, 3, pixel));
  write_gzip(labels_, idx_labels({}));
  expect_data_error([&] { IdxDataset(images_, labels_); }, {images_, "no images"});
}

TEST_F(Idx, LabelOutsideTheClassesIsAnErrorNamingTheSample) {
  write_gzip(labels_, idx_labels({2, 7, 1}));
  IdxDataset data(images_, labels_);
  SampleBuffer input(TensorShape(1, 1, 2, 3));
  SampleBuffer label(TensorShape(1, 1, 1, 3));
  EXPECT_NO_THROW(data.read(0, {&input.tensor, 1}, {&label.tensor, 1}));
  expect_data_error(
      [&] {
        data.read(1, {&input.tensor, 1}, {&label.tensor, 1});
      },
      {labels_, "sample 1", "label 7", "3 classes"});
  expect_data_error([&] { data.check_fits(TensorShape(1, 1, 2, 3), 3); },
                    {labels_, "sample 1", "label 7"});
  EXPECT_NO_THROW(data.check_fits(TensorShape(1, 1, 2, 3), 8));
}

TEST_F(Idx, ImageSizeNotTheModelInputIsAnErrorWithBothShapes) {
  IdxDataset data(images_, labels_);
  SampleBuffer input(TensorShape(1, 1, 1, 5));
  SampleBuffer label(TensorShape(1, 1, 1, 3));
  expect_data_error(
      [&] {
        data.read(0, {&input.tensor, 1}, {&label.tensor, 1});
      },
      {images_, "2x3 images (6 values)", "1:1:1:5 (5 values)"});
  expect_data_error([&] { data.check_fits(TensorShape(1, 1, 28, 28), 3); },
                    {images_, "2x3 images (6 values)", "1:1:28:28 (784 values)"});
}

// Bright images are class 1, dark ones class 0: a softmax classifier learns them from the
// files through Model::train.
TEST_F(Idx, TrainsAModelThroughModelTrain) {
  std::vector<uint8_t> labels(20);
  for (size_t i = 0; i < labels.size(); ++i) labels[i] = i % 2;
  write_gzip(images_, idx_images(20, 2, 2, [&](size_t image, size_t p) {
               return static_cast<uint8_t>(labels[image] == 1 ? 200 + p * 10 : 10 + p * 5);
             }));
  write_gzip(labels_, idx_labels(labels));
  IdxDataset data(images_, labels_);
  Model model({"batch_size=6", "epochs=30", "loss=cross_entropy", "seed=5"});
  model.addLayer(createLayer("input", {"input_shape=1:2:2"}));
  model.addLayer(createLayer("flatten"));
  model.addLayer(createLayer("fully_connected", {"unit=2"}));
  model.setOptimizer(createOptimizer("sgd", {"learning_rate=0.5"}));
  model.initialize();
  data.check_fits(model.inputs()[0].shape(), model.labels()[0].shape().width);
  const std::vector<EpochResult> history = model.train(data);
  EXPECT_LT(history.back().training_loss, 0.5f * history.front().training_loss);
  EXPECT_EQ(model.evaluate(data).accuracy, 1.0f);
}

}  // namespace
}  // namespace edgetrain::testing
