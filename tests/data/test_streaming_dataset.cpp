// The streaming readers: the samples and the errors of the in-memory readers, gzip files
// through a cache that is reused, and rebuilt when it or its source changes, and reads
// that allocate nothing.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <optional>
#include <vector>

#include "data/stream_file.h"
#include "edgetrain/data.h"
#include "edgetrain/error.h"
#include "support/allocation_counter.h"
#include "support/data_files.h"

namespace edgetrain::testing {
namespace {

namespace fs = std::filesystem;

uint8_t pixel(size_t image, size_t p) { return static_cast<uint8_t>(image * 10 + p); }

// The message of the DataError `action` throws, "" when it throws none.
std::string message_of(const std::function<void()>& action) {
  try {
    action();
  } catch (const DataError& error) {
    return error.what();
  }
  return "";
}

// Every sample of `data` (inputs then labels), read through batch-1 views.
std::vector<float> all_samples(Dataset& data, TensorShape input, size_t classes) {
  std::vector<float> values;
  SampleBuffer in(input);
  std::optional<SampleBuffer> label;
  if (classes > 0) label.emplace(TensorShape(1, 1, 1, classes));
  for (size_t i = 0; i < data.size(); ++i) {
    std::vector<Tensor> labels;
    if (label) labels.push_back(label->tensor);
    data.read(i, {&in.tensor, 1}, labels);
    values.insert(values.end(), in.values.begin(), in.values.end());
    if (label) values.insert(values.end(), label->values.begin(), label->values.end());
  }
  return values;
}

// A data set section as the model file would describe it.
DatasetSpec spec_of(const std::string& type, const std::string& path, const std::string& images,
                    const std::string& labels, const std::string& cache_dir,
                    const std::string& origin = "") {
  DatasetSpec spec;
  spec.type = type;
  spec.path = path;
  spec.images = images;
  spec.labels = labels;
  spec.stream = true;
  spec.cache_dir = cache_dir;
  spec.origin = origin;
  return spec;
}

// The files in `dir` (names).
std::vector<std::string> files_in(const std::string& dir) {
  std::vector<std::string> names;
  if (!fs::exists(dir)) return names;
  for (const auto& entry : fs::directory_iterator(dir))
    names.push_back(entry.path().filename().string());
  return names;
}

class StreamingIdx : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fresh_temp_dir();
    images_ = dir_ + "images.gz";
    labels_ = dir_ + "labels.gz";
    cache_ = dir_ + "cache";
    write_gzip(images_, idx_images(3, 2, 3, pixel));
    write_gzip(labels_, idx_labels({2, 0, 1}));
  }

  StreamingIdxDataset open() {
    return StreamingIdxDataset(images_, labels_, {.cache_dir = cache_});
  }

  std::string dir_, images_, labels_, cache_;
};

TEST_F(StreamingIdx, ReadsTheSamplesOfIdxDataset) {
  StreamingIdxDataset data = open();
  IdxDataset memory(images_, labels_);
  EXPECT_TRUE(data.streams());
  EXPECT_FALSE(memory.streams());
  ASSERT_EQ(data.size(), 3u);
  EXPECT_EQ(data.rows(), 2u);
  EXPECT_EQ(data.cols(), 3u);
  EXPECT_EQ(data.class_labels(), memory.class_labels());
  EXPECT_EQ(all_samples(data, TensorShape(1, 1, 2, 3), 3),
            all_samples(memory, TensorShape(1, 1, 2, 3), 3));
  EXPECT_EQ(data.cache_path(), data::cache_file_path(images_, cache_));
  EXPECT_TRUE(fs::exists(data.cache_path()));
  // Images only, for an autoencoder or prediction.
  StreamingIdxDataset images(images_, "", {.cache_dir = cache_});
  EXPECT_EQ(all_samples(images, TensorShape(1, 1, 1, 6), 0),
            all_samples(memory, TensorShape(1, 1, 1, 6), 0));
}

TEST_F(StreamingIdx, ReadsPlainFilesDirectlyWithoutACache) {
  write_bytes(dir_ + "images", idx_images(3, 2, 3, pixel));
  write_bytes(dir_ + "labels", idx_labels({2, 0, 1}));
  StreamingIdxDataset data(dir_ + "images", dir_ + "labels", {.cache_dir = cache_});
  IdxDataset memory(dir_ + "images", dir_ + "labels");
  EXPECT_EQ(all_samples(data, TensorShape(1, 1, 2, 3), 4),
            all_samples(memory, TensorShape(1, 1, 2, 3), 4));
  EXPECT_EQ(data.cache_path(), "");
  EXPECT_TRUE(files_in(cache_).empty());
}

TEST_F(StreamingIdx, BrokenFilesGiveTheMessagesOfIdxDataset) {
  // Each case breaks the files, then both readers must fail with the same message.
  const std::vector<std::pair<std::string, std::function<void()>>> cases = {
      {"truncated gzip",
       [&] {
         std::vector<uint8_t> compressed = read_bytes(images_);
         compressed.resize(compressed.size() / 2);
         write_bytes(images_, compressed);
       }},
      {"corrupt gzip checksum",
       [&] {
         std::vector<uint8_t> compressed = read_bytes(images_);
         compressed[compressed.size() - 8] ^= 0xff;
         write_bytes(images_, compressed);
       }},
      {"truncated plain",
       [&] {
         std::vector<uint8_t> bytes = idx_images(3, 2, 3, pixel);
         bytes.resize(bytes.size() - 4);
         write_bytes(images_, bytes);
       }},
      {"truncated header",
       [&] {
         write_bytes(images_, {0, 0, 8, 3, 0, 0});
       }},
      {"extra image bytes",
       [&] {
         std::vector<uint8_t> bytes = idx_images(3, 2, 3, pixel);
         bytes.push_back(7);
         write_gzip(images_, bytes);
       }},
      {"extra label bytes",
       [&] {
         std::vector<uint8_t> bytes = idx_labels({2, 0, 1});
         bytes.push_back(7);
         write_gzip(labels_, bytes);
       }},
      {"wrong magic",
       [&] {
         write_gzip(images_, idx_labels({2, 0, 1}));
       }},
      {"count mismatch",
       [&] {
         write_gzip(labels_, idx_labels({2, 0}));
       }},
      {"missing", [&] { fs::remove(images_); }},
      {"no images",
       [&] {
         write_gzip(images_, idx_images(0, 2, 3, pixel));
         write_gzip(labels_, idx_labels({}));
       }},
      {"empty rows", [&] { write_gzip(images_, idx_images(3, 0, 3, pixel)); }},
  };
  for (const auto& [name, action] : cases) {
    SetUp();
    action();
    const std::string expected = message_of([&] { IdxDataset(images_, labels_); });
    ASSERT_NE(expected, "") << name;
    EXPECT_EQ(message_of([&] { open(); }), expected) << name;
    // A broken file leaves no temporary file behind.
    for (const std::string& file : files_in(cache_))
      EXPECT_EQ(file.find(".tmp."), std::string::npos) << name << ": " << file;
  }
}

TEST_F(StreamingIdx, LabelAndShapeChecksAreThoseOfIdxDataset) {
  write_gzip(labels_, idx_labels({2, 7, 1}));
  StreamingIdxDataset data = open();
  IdxDataset memory(images_, labels_);
  EXPECT_EQ(message_of([&] { data.check_fits(TensorShape(1, 1, 2, 3), 3); }),
            message_of([&] { memory.check_fits(TensorShape(1, 1, 2, 3), 3); }));
  EXPECT_EQ(message_of([&] { data.check_fits(TensorShape(1, 1, 28, 28), 10); }),
            message_of([&] { memory.check_fits(TensorShape(1, 1, 28, 28), 10); }));
  SampleBuffer input(TensorShape(1, 1, 2, 3)), label(TensorShape(1, 1, 1, 3));
  EXPECT_EQ(message_of([&] {
              data.read(1, {&input.tensor, 1}, {&label.tensor, 1});
            }),
            message_of([&] {
              memory.read(1, {&input.tensor, 1}, {&label.tensor, 1});
            }));
  SampleBuffer wrong(TensorShape(1, 1, 1, 5));
  EXPECT_EQ(message_of([&] {
              data.read(0, {&wrong.tensor, 1}, {});
            }),
            message_of([&] {
              memory.read(0, {&wrong.tensor, 1}, {});
            }));
}

TEST_F(StreamingIdx, ReusesAValidCache) {
  const std::string cache = open().cache_path();
  struct stat first = {};
  ASSERT_EQ(::stat(cache.c_str(), &first), 0);
  const std::string second_path = open().cache_path();
  struct stat second = {};
  ASSERT_EQ(::stat(second_path.c_str(), &second), 0);
  EXPECT_EQ(first.st_ino, second.st_ino);  // not rewritten
  EXPECT_EQ(files_in(cache_).size(), 1u);
}

TEST_F(StreamingIdx, TruncatedOrCorruptCacheIsRebuilt) {
  const std::vector<float> expected =
      all_samples(*std::make_unique<IdxDataset>(images_, labels_), TensorShape(1, 1, 2, 3), 3);
  const std::string cache = open().cache_path();
  const std::vector<uint8_t> good = read_bytes(cache);

  std::vector<uint8_t> truncated = good;
  truncated.resize(truncated.size() - 5);
  write_bytes(cache, truncated);
  {
    StreamingIdxDataset data = open();
    EXPECT_EQ(all_samples(data, TensorShape(1, 1, 2, 3), 3), expected);
    EXPECT_EQ(read_bytes(cache), good);
  }
  // A flipped byte in the content (the last pixel): same size, wrong checksum.
  std::vector<uint8_t> flipped = good;
  flipped.back() ^= 0x5a;
  write_bytes(cache, flipped);
  {
    StreamingIdxDataset data = open();
    EXPECT_EQ(all_samples(data, TensorShape(1, 1, 2, 3), 3), expected);
    EXPECT_EQ(read_bytes(cache), good);
  }
  // A flipped byte in the header (the recorded source path).
  flipped = good;
  flipped[50] ^= 0x01;
  write_bytes(cache, flipped);
  {
    StreamingIdxDataset data = open();
    EXPECT_EQ(all_samples(data, TensorShape(1, 1, 2, 3), 3), expected);
    EXPECT_EQ(read_bytes(cache), good);
  }
  // Not a cache at all, e.g. an empty file left by a crash.
  write_bytes(cache, {});
  {
    StreamingIdxDataset data = open();
    EXPECT_EQ(all_samples(data, TensorShape(1, 1, 2, 3), 3), expected);
  }
  EXPECT_EQ(files_in(cache_).size(), 1u);  // no temporary files left
}

TEST_F(StreamingIdx, ChangedSourceRebuildsTheCache) {
  {
    StreamingIdxDataset data = open();
    SampleBuffer input(TensorShape(1, 1, 2, 3));
    data.read(0, {&input.tensor, 1}, {});
    EXPECT_EQ(input.values[0], 0.0f);
  }
  // New content of the same size, with a new modification time.
  write_gzip(images_,
             idx_images(3, 2, 3, [](size_t image, size_t p) { return pixel(image, p) + 1; }));
  fs::last_write_time(images_, fs::last_write_time(images_) + std::chrono::seconds(5));
  {
    StreamingIdxDataset data = open();
    SampleBuffer input(TensorShape(1, 1, 2, 3));
    data.read(0, {&input.tensor, 1}, {});
    EXPECT_EQ(input.values[0], 1.0f / 255.0f);
  }
  // Only the modification time changes ("touch"): rebuilt too, same data.
  const std::string cache = data::cache_file_path(images_, cache_);
  struct stat before = {};
  ASSERT_EQ(::stat(cache.c_str(), &before), 0);
  fs::last_write_time(images_, fs::last_write_time(images_) + std::chrono::seconds(5));
  open();
  struct stat after = {};
  ASSERT_EQ(::stat(cache.c_str(), &after), 0);
  EXPECT_NE(before.st_ino, after.st_ino);
}

TEST_F(StreamingIdx, CacheDirThatCannotBeCreatedIsAnErrorNamingIt) {
  write_text(dir_ + "a-file", "not a directory");
  const std::string bad = dir_ + "a-file/cache";
  const std::string message =
      message_of([&] { StreamingIdxDataset(images_, labels_, {.cache_dir = bad}); });
  EXPECT_NE(message.find(images_), std::string::npos) << message;
  EXPECT_NE(message.find("cannot create the cache directory " + bad), std::string::npos) << message;
  // Through open_dataset, with the section's place in front.
  const DatasetSpec spec = spec_of("idx", "", images_, labels_, bad, "model.ini:3");
  const std::string opened = message_of([&] { open_dataset(spec, TensorShape(1, 1, 2, 3), 3); });
  EXPECT_TRUE(opened.starts_with("model.ini:3: " + images_)) << opened;
  EXPECT_NE(opened.find(bad), std::string::npos) << opened;
}

TEST_F(StreamingIdx, DefaultCacheDirComesFromTheEnvironment) {
  const char* saved = std::getenv("EDGETRAIN_CACHE_DIR");
  const std::string previous = saved ? saved : "";
  ::setenv("EDGETRAIN_CACHE_DIR", (dir_ + "env-cache").c_str(), 1);
  EXPECT_EQ(data::default_cache_dir(), dir_ + "env-cache");
  StreamingIdxDataset data(images_, labels_);
  EXPECT_EQ(fs::path(data.cache_path()).parent_path().string(), dir_ + "env-cache");
  if (saved)
    ::setenv("EDGETRAIN_CACHE_DIR", previous.c_str(), 1);
  else
    ::unsetenv("EDGETRAIN_CACHE_DIR");
}

TEST_F(StreamingIdx, OpenDatasetHonoursStream) {
  DatasetSpec spec = spec_of("idx", "", images_, labels_, cache_);
  std::unique_ptr<Dataset> data = open_dataset(spec, TensorShape(1, 1, 2, 3), 3);
  EXPECT_TRUE(data->streams());
  EXPECT_NE(dynamic_cast<StreamingIdxDataset*>(data.get()), nullptr);
  spec.stream = false;
  EXPECT_FALSE(open_dataset(spec, TensorShape(1, 1, 2, 3), 3)->streams());
  // An autoencoder's images stream too.
  DatasetSpec images = spec_of("idx", "", images_, "", cache_);
  images.target_is_input = true;
  EXPECT_TRUE(open_dataset(images, TensorShape(1, 1, 2, 3), 6)->streams());
  // csv does not stream.
  write_text(dir_ + "data.csv", "1,2,0\n");
  const DatasetSpec csv = spec_of("csv", dir_ + "data.csv", "", "", "", "m.ini:4");
  expect_data_error([&] { open_dataset(csv, TensorShape(1, 1, 1, 2), 2); },
                    {"m.ini:4", "'csv' does not stream (idx and file do)", dir_ + "data.csv"});
}

TEST_F(StreamingIdx, ReadingAllocatesNothing) {
  StreamingIdxDataset data = open();
  SampleBuffer input(TensorShape(1, 1, 2, 3)), label(TensorShape(1, 1, 1, 3));
  AllocationCounter counter;
  for (int round = 0; round < 10; ++round)
    for (size_t i = 0; i < data.size(); ++i) data.read(i, {&input.tensor, 1}, {&label.tensor, 1});
  EXPECT_EQ(counter.count(), 0u);
}

TEST_F(StreamingIdx, LoaderPrefetchesTheBatchesOfTheInMemoryReaderWithoutAllocating) {
  // 37 images of 4x4, batches of 5 with a partial last one.
  write_gzip(images_, idx_images(37, 4, 4, [](size_t image, size_t p) {
               return static_cast<uint8_t>(image * 7 + p * 3);
             }));
  std::vector<uint8_t> classes;
  for (size_t i = 0; i < 37; ++i) classes.push_back(static_cast<uint8_t>(i % 3));
  write_gzip(labels_, idx_labels(classes));
  StreamingIdxDataset streamed = open();
  IdxDataset memory(images_, labels_);
  SampleBuffer in_a(TensorShape(5, 1, 4, 4)), label_a(TensorShape(5, 1, 1, 3));
  SampleBuffer in_b(TensorShape(5, 1, 4, 4)), label_b(TensorShape(5, 1, 1, 3));
  DataLoader a(streamed, {.batch_size = 5, .seed = 11});
  DataLoader b(memory, {.batch_size = 5, .seed = 11});
  EXPECT_TRUE(a.prefetches());
  EXPECT_FALSE(b.prefetches());
  a.start_epoch();
  b.start_epoch();
  ASSERT_EQ(a.next_batch({&in_a.tensor, 1}, {&label_a.tensor, 1}), 5u);
  ASSERT_EQ(b.next_batch({&in_b.tensor, 1}, {&label_b.tensor, 1}), 5u);
  size_t batches = 1;
  AllocationCounter counter;
  for (int epoch = 0; epoch < 3; ++epoch) {
    if (epoch > 0) {
      a.start_epoch();
      b.start_epoch();
    }
    while (true) {
      const size_t n = a.next_batch({&in_a.tensor, 1}, {&label_a.tensor, 1});
      ASSERT_EQ(n, b.next_batch({&in_b.tensor, 1}, {&label_b.tensor, 1}));
      if (n == 0) break;
      ++batches;
      ASSERT_EQ(in_a.values, in_b.values);
      ASSERT_EQ(label_a.values, label_b.values);
    }
  }
  EXPECT_EQ(counter.count(), 0u);
  EXPECT_EQ(batches, 3u * 8u);  // 7 full batches and a partial one per epoch
}

// ---------------------------------------------------------------- raw float32

class StreamingRawFloat : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fresh_temp_dir();
    // 5 samples of 3 inputs and a 2-value one-hot label.
    std::vector<float> values;
    for (size_t i = 0; i < 5; ++i) {
      for (size_t j = 0; j < 3; ++j) values.push_back(static_cast<float>(i) + 0.25f * j);
      values.push_back(i % 2 == 0 ? 1.0f : 0.0f);
      values.push_back(i % 2 == 0 ? 0.0f : 1.0f);
    }
    path_ = dir_ + "data.dat";
    write_floats(path_, values);
  }
  std::string dir_, path_;
};

TEST_F(StreamingRawFloat, ReadsTheSamplesOfRawFloatDataset) {
  StreamingRawFloatDataset data(path_, 3, 2);
  RawFloatDataset memory(path_, 3, 2);
  EXPECT_TRUE(data.streams());
  ASSERT_EQ(data.size(), 5u);
  EXPECT_EQ(all_samples(data, TensorShape(1, 1, 1, 3), 2),
            all_samples(memory, TensorShape(1, 1, 1, 3), 2));
  EXPECT_EQ(data.class_labels(), memory.class_labels());
  // Inputs only, for a model without a loss.
  EXPECT_EQ(all_samples(data, TensorShape(1, 1, 1, 3), 0),
            all_samples(memory, TensorShape(1, 1, 1, 3), 0));
  const DatasetSpec spec = spec_of("file", path_, "", "", "");
  EXPECT_TRUE(open_dataset(spec, TensorShape(1, 1, 1, 3), 2)->streams());
  SampleBuffer input(TensorShape(1, 1, 1, 3)), label(TensorShape(1, 1, 1, 2));
  AllocationCounter counter;
  for (size_t i = 0; i < data.size(); ++i) data.read(i, {&input.tensor, 1}, {&label.tensor, 1});
  EXPECT_EQ(counter.count(), 0u);
}

TEST_F(StreamingRawFloat, ErrorsAreThoseOfRawFloatDataset) {
  auto same = [&](const std::string& path, size_t inputs, size_t labels) {
    const std::string expected = message_of([&] { RawFloatDataset(path, inputs, labels); });
    ASSERT_NE(expected, "");
    EXPECT_EQ(message_of([&] { StreamingRawFloatDataset(path, inputs, labels); }), expected);
  };
  same(path_, 4, 2);  // not a whole number of records
  same(dir_ + "absent.dat", 3, 2);
  write_bytes(dir_ + "empty.dat", {});
  same(dir_ + "empty.dat", 3, 2);
  StreamingRawFloatDataset data(path_, 3, 2);
  SampleBuffer wrong(TensorShape(1, 1, 1, 4));
  RawFloatDataset memory(path_, 3, 2);
  EXPECT_EQ(message_of([&] {
              data.read(0, {&wrong.tensor, 1}, {});
            }),
            message_of([&] {
              memory.read(0, {&wrong.tensor, 1}, {});
            }));
}

}  // namespace
}  // namespace edgetrain::testing
