// open_dataset: a DatasetSpec to a dataset checked against the model's sizes.
#include <gtest/gtest.h>

#include "edgetrain/data.h"
#include "support/data_files.h"

namespace edgetrain::testing {
namespace {

DatasetSpec path_spec(const std::string& type, const std::string& path,
                      const std::string& origin = "") {
  DatasetSpec spec;
  spec.type = type;
  spec.path = path;
  spec.origin = origin;
  return spec;
}

DatasetSpec idx_spec(const std::string& images, const std::string& labels,
                     const std::string& origin = "") {
  DatasetSpec spec;
  spec.type = "idx";
  spec.images = images;
  spec.labels = labels;
  spec.origin = origin;
  return spec;
}

class OpenDataset : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fresh_temp_dir();
    write_gzip(dir_ + "images.gz", idx_images(2, 2, 2, [](size_t, size_t) { return 0; }));
  }
  std::string dir_;
};

TEST_F(OpenDataset, OpensEachType) {
  write_gzip(dir_ + "labels.gz", idx_labels({1, 0}));
  write_text(dir_ + "data.csv", "1,2,3,4,0\n");
  write_floats(dir_ + "data.dat", {1, 2, 3, 4, 0, 1, 5, 6, 7, 8, 1, 0, 9, 9, 9, 9, 1, 0});
  const TensorShape input(1, 1, 2, 2);
  auto idx = open_dataset(idx_spec(dir_ + "images.gz", dir_ + "labels.gz"), input, 2);
  EXPECT_EQ(idx->size(), 2u);
  EXPECT_NE(dynamic_cast<IdxDataset*>(idx.get()), nullptr);
  EXPECT_EQ(open_dataset(path_spec("CSV", dir_ + "data.csv"), input, 2)->size(), 1u);
  EXPECT_EQ(open_dataset(path_spec("file", dir_ + "data.dat"), input, 2)->size(), 3u);
}

TEST_F(OpenDataset, ChecksTheDataAgainstTheModelAndNamesTheOrigin) {
  write_gzip(dir_ + "labels.gz", idx_labels({1, 5}));
  const DatasetSpec spec = idx_spec(dir_ + "images.gz", dir_ + "labels.gz", "model.ini:12");
  expect_data_error([&] { open_dataset(spec, TensorShape(1, 1, 28, 28), 10); },
                    {"model.ini:12: " + dir_ + "images.gz", "2x2 images", "1:1:28:28"});
  expect_data_error([&] { open_dataset(spec, TensorShape(1, 1, 2, 2), 3); },
                    {"model.ini:12: " + dir_ + "labels.gz", "sample 1 has label 5"});
  write_text(dir_ + "data.csv", "1,2,3\n");
  expect_data_error(
      [&] {
        open_dataset(path_spec("csv", dir_ + "data.csv", "a.ini:3"), TensorShape(1, 1, 1, 4), 2);
      },
      {"a.ini:3: " + dir_ + "data.csv:1: 3 columns, expected 5"});
}

TEST_F(OpenDataset, UnknownTypeOrMissingFileNamesAreErrors) {
  expect_data_error([] { open_dataset(path_spec("parquet", "x", "m.ini:4"), TensorShape(), 1); },
                    {"m.ini:4: unknown dataset type 'parquet'", "known: idx, csv, file"});
  expect_data_error([] { open_dataset(idx_spec("a.gz", ""), TensorShape(), 1); },
                    {"'idx' needs both 'images' and 'labels'"});
  expect_data_error([] { open_dataset(path_spec("csv", ""), TensorShape(), 1); },
                    {"'csv' needs a 'path'"});
}

}  // namespace
}  // namespace edgetrain::testing
