// DataLoader: every sample once per epoch, orders that follow from the seed or a restored
// generator state, partial and dropped last batches, and no allocation per batch.
#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>
#include <optional>
#include <set>
#include <vector>

#include "edgetrain/data.h"
#include "edgetrain/error.h"
#include "support/allocation_counter.h"
#include "support/data_files.h"

namespace edgetrain::testing {
namespace {

// Sample i has input i and label 10 * i, so a batch shows which samples it holds.
MemoryDataset numbered(size_t samples) {
  std::vector<float> inputs(samples), labels(samples);
  for (size_t i = 0; i < samples; ++i) {
    inputs[i] = static_cast<float>(i);
    labels[i] = static_cast<float>(10 * i);
  }
  return MemoryDataset(inputs, 1, labels, 1);
}

// Batch tensors of one value per sample, as a model's inputs() and labels() would be.
struct Batch {
  explicit Batch(size_t size)
      : input(TensorShape(size, 1, 1, 1)), label(TensorShape(size, 1, 1, 1)) {}
  SampleBuffer input;
  SampleBuffer label;
  std::span<const Tensor> inputs() const { return {&input.tensor, 1}; }
  std::span<const Tensor> labels() const { return {&label.tensor, 1}; }
};

// The samples of one epoch in the order the loader gives them, checking labels on the way.
std::vector<size_t> epoch_order(DataLoader& loader, Batch& batch) {
  std::vector<size_t> order;
  loader.start_epoch();
  while (size_t n = loader.next_batch(batch.inputs(), batch.labels())) {
    for (size_t b = 0; b < n; ++b) {
      EXPECT_EQ(batch.label.values[b], 10 * batch.input.values[b]);
      order.push_back(static_cast<size_t>(batch.input.values[b]));
    }
  }
  return order;
}

std::vector<size_t> iota(size_t n) {
  std::vector<size_t> values(n);
  std::iota(values.begin(), values.end(), size_t{0});
  return values;
}

TEST(DataLoader, ReadsEverySampleExactlyOncePerEpoch) {
  MemoryDataset data = numbered(10);
  DataLoader loader(data, {.batch_size = 4, .seed = 1});
  EXPECT_EQ(loader.num_batches(), 3u);
  Batch batch(4);
  loader.start_epoch();
  std::vector<size_t> counts;
  std::vector<size_t> seen;
  while (size_t n = loader.next_batch(batch.inputs(), batch.labels())) {
    counts.push_back(n);
    for (size_t b = 0; b < n; ++b) seen.push_back(static_cast<size_t>(batch.input.values[b]));
  }
  EXPECT_EQ(counts, (std::vector<size_t>{4, 4, 2}));
  EXPECT_EQ(loader.position(), 10u);
  EXPECT_EQ(loader.next_batch(batch.inputs(), batch.labels()), 0u);
  std::sort(seen.begin(), seen.end());
  EXPECT_EQ(seen, iota(10));
}

TEST(DataLoader, OrderFollowsFromTheSeedAndChangesEveryEpoch) {
  MemoryDataset data = numbered(20);
  Batch batch(3);
  DataLoader a(data, {.batch_size = 3, .seed = 7});
  DataLoader b(data, {.batch_size = 3, .seed = 7});
  DataLoader c(data, {.batch_size = 3, .seed = 8});
  const std::vector<size_t> first = epoch_order(a, batch);
  const std::vector<size_t> second = epoch_order(a, batch);
  EXPECT_NE(first, iota(20));
  EXPECT_NE(first, second);
  EXPECT_EQ(epoch_order(b, batch), first);
  EXPECT_EQ(epoch_order(b, batch), second);
  EXPECT_NE(epoch_order(c, batch), first);
}

TEST(DataLoader, RestoredGeneratorStateReproducesTheNextEpoch) {
  MemoryDataset data = numbered(15);
  Batch batch(4);
  DataLoader original(data, {.batch_size = 4, .seed = 3});
  epoch_order(original, batch);
  const std::string state = original.rng().state();  // a checkpoint between epochs
  const std::vector<size_t> next = epoch_order(original, batch);

  DataLoader resumed(data, {.batch_size = 4, .seed = 99});
  resumed.rng().set_state(state);
  EXPECT_EQ(epoch_order(resumed, batch), next);
}

TEST(DataLoader, ResumesAnEpochMidWayFromItsPosition) {
  MemoryDataset data = numbered(11);
  Batch batch(4);
  DataLoader original(data, {.batch_size = 4, .seed = 5});
  const std::string state = original.rng().state();
  const std::vector<size_t> whole = epoch_order(original, batch);

  DataLoader resumed(data, {.batch_size = 4, .seed = 0});
  resumed.rng().set_state(state);
  resumed.start_epoch();
  resumed.set_position(4);  // one batch was done before the checkpoint
  std::vector<size_t> rest;
  while (size_t n = resumed.next_batch(batch.inputs(), batch.labels()))
    for (size_t b = 0; b < n; ++b) rest.push_back(static_cast<size_t>(batch.input.values[b]));
  EXPECT_EQ(rest, std::vector<size_t>(whole.begin() + 4, whole.end()));
  expect_data_error([&] { resumed.set_position(12); }, {"position 12", "11 samples"});
}

TEST(DataLoader, WithoutShuffleKeepsTheDatasetOrder) {
  MemoryDataset data = numbered(7);
  Batch batch(3);
  DataLoader loader(data, {.batch_size = 3, .shuffle = false});
  EXPECT_EQ(epoch_order(loader, batch), iota(7));
  EXPECT_EQ(epoch_order(loader, batch), iota(7));
}

TEST(DataLoader, DropLastSkipsAPartialLastBatch) {
  MemoryDataset data = numbered(10);
  Batch batch(4);
  DataLoader loader(data, {.batch_size = 4, .drop_last = true, .seed = 2});
  EXPECT_EQ(loader.num_batches(), 2u);
  const std::vector<size_t> order = epoch_order(loader, batch);
  EXPECT_EQ(order.size(), 8u);
  EXPECT_EQ(std::set<size_t>(order.begin(), order.end()).size(), 8u);
  DataLoader exact(data, {.batch_size = 5, .drop_last = true});
  EXPECT_EQ(exact.num_batches(), 2u);
  Batch five(5);
  EXPECT_EQ(epoch_order(exact, five).size(), 10u);
}

TEST(DataLoader, PartialBatchFillsOnlyItsSamples) {
  MemoryDataset data = numbered(6);
  Batch batch(4);
  DataLoader loader(data, {.batch_size = 4, .shuffle = false});
  loader.start_epoch();
  ASSERT_EQ(loader.next_batch(batch.inputs(), batch.labels()), 4u);
  batch.input.tensor.fill(-1.0f);
  ASSERT_EQ(loader.next_batch(batch.inputs(), batch.labels()), 2u);
  EXPECT_EQ(batch.input.values, (std::vector<float>{4, 5, -1, -1}));
}

TEST(DataLoader, LargerBatchTensorsTakeTheFirstSamples) {
  // A model compiled for 5 reading batches of 2: only the first two samples are written.
  MemoryDataset data = numbered(3);
  Batch batch(5);
  batch.input.tensor.fill(-1.0f);
  DataLoader loader(data, {.batch_size = 2, .shuffle = false});
  loader.start_epoch();
  ASSERT_EQ(loader.next_batch(batch.inputs(), batch.labels()), 2u);
  EXPECT_EQ(batch.input.values, (std::vector<float>{0, 1, -1, -1, -1}));
}

TEST(DataLoader, FeedsSeveralInputsAndLabels) {
  GeneratorDataset data(4, [](size_t index, std::span<Tensor> inputs, std::span<Tensor> labels) {
    ASSERT_EQ(inputs.size(), 2u);
    ASSERT_EQ(labels.size(), 1u);
    inputs[0].fill(static_cast<float>(index));
    inputs[1].fill(static_cast<float>(100 + index));
    labels[0].fill(static_cast<float>(200 + index));
  });
  SampleBuffer a(TensorShape(2, 1, 1, 3)), b(TensorShape(2, 1, 1, 1)),
      label(TensorShape(2, 1, 1, 1));
  const std::vector<Tensor> inputs = {a.tensor, b.tensor};
  DataLoader loader(data, {.batch_size = 2, .shuffle = false});
  loader.start_epoch();
  loader.next_batch(inputs, {&label.tensor, 1});
  ASSERT_EQ(loader.next_batch(inputs, {&label.tensor, 1}), 2u);
  EXPECT_EQ(a.values, (std::vector<float>{2, 2, 2, 3, 3, 3}));
  EXPECT_EQ(b.values, (std::vector<float>{102, 103}));
  EXPECT_EQ(label.values, (std::vector<float>{202, 203}));
}

TEST(DataLoader, ReadingAllocatesNothingAfterTheFirstBatch) {
  MemoryDataset data = numbered(50);
  Batch batch(4);
  DataLoader loader(data, {.batch_size = 4, .seed = 1});
  loader.start_epoch();
  loader.next_batch(batch.inputs(), batch.labels());  // makes the per-sample views
  AllocationCounter counter;
  while (loader.next_batch(batch.inputs(), batch.labels()) > 0) {
  }
  loader.start_epoch();
  while (loader.next_batch(batch.inputs(), batch.labels()) > 0) {
  }
  EXPECT_EQ(counter.count(), 0u);
}

TEST(DataLoader, MisuseIsAnError) {
  MemoryDataset data = numbered(5);
  Batch batch(4);
  expect_data_error([&] { DataLoader(data, {.batch_size = 0}); }, {"batch_size"});
  DataLoader loader(data, {.batch_size = 4});
  EXPECT_THROW(loader.next_batch(batch.inputs(), batch.labels()), StateError);
  loader.start_epoch();
  Batch small(3);
  expect_data_error([&] { loader.next_batch(small.inputs(), small.labels()); },
                    {"batches of 4", "3:1:1:1"});
}

TEST(DataLoader, EmptyDatasetHasNoBatches) {
  GeneratorDataset data(0, [](size_t, std::span<Tensor>, std::span<Tensor>) {});
  Batch batch(2);
  DataLoader loader(data, {.batch_size = 2});
  EXPECT_EQ(loader.num_batches(), 0u);
  loader.start_epoch();
  EXPECT_EQ(loader.next_batch(batch.inputs(), batch.labels()), 0u);
}

// ---------------------------------------------------------------- prefetch

// Every batch of `epochs` epochs as the samples it held (-1 marks a batch's end); with
// `position` set, the first epoch jumps there after its second batch, and the second
// epoch is restarted after its first batch.
std::vector<int> batches(Dataset& data, DataLoader::Options options, size_t epochs,
                         std::optional<size_t> position = std::nullopt) {
  DataLoader loader(data, options);
  Batch batch(options.batch_size);
  std::vector<int> seen;
  for (size_t epoch = 0; epoch < epochs; ++epoch) {
    loader.start_epoch();
    size_t count = 0;
    for (size_t n; (n = loader.next_batch(batch.inputs(), batch.labels())) > 0;) {
      for (size_t b = 0; b < n; ++b) {
        EXPECT_EQ(batch.label.values[b], 10 * batch.input.values[b]);
        seen.push_back(static_cast<int>(batch.input.values[b]));
      }
      seen.push_back(-1);
      ++count;
      if (position && epoch == 0 && count == 2) loader.set_position(*position);
      if (position && epoch == 1 && count == 1) {
        loader.start_epoch();  // a batch is being read ahead: it must be discarded
        seen.push_back(-2);
      }
    }
  }
  return seen;
}

TEST(DataLoader, PrefetchGivesTheBatchesOfTheSynchronousLoader) {
  MemoryDataset data = numbered(23);
  for (bool drop_last : {false, true})
    for (bool shuffle : {true, false})
      for (std::optional<size_t> position : {std::optional<size_t>(), std::optional<size_t>(5)}) {
        DataLoader::Options options{
            .batch_size = 4, .shuffle = shuffle, .drop_last = drop_last, .seed = 3};
        options.prefetch = false;
        const std::vector<int> expected = batches(data, options, 3, position);
        options.prefetch = true;
        EXPECT_EQ(batches(data, options, 3, position), expected)
            << drop_last << shuffle << position.has_value();
      }
  EXPECT_TRUE(DataLoader(data, {.batch_size = 4, .prefetch = true}).prefetches());
  EXPECT_FALSE(DataLoader(data, {.batch_size = 4}).prefetches());  // memory: no need
}

TEST(DataLoader, PrefetchResumesFromACheckpointState) {
  MemoryDataset data = numbered(19);
  Batch batch(4);
  DataLoader original(data, {.batch_size = 4, .seed = 5, .prefetch = true});
  const std::string state = original.rng().state();
  const std::vector<size_t> whole = epoch_order(original, batch);

  DataLoader resumed(data, {.batch_size = 4, .seed = 0, .prefetch = true});
  resumed.rng().set_state(state);
  resumed.start_epoch();
  resumed.set_position(8);
  std::vector<size_t> rest;
  while (size_t n = resumed.next_batch(batch.inputs(), batch.labels()))
    for (size_t b = 0; b < n; ++b) rest.push_back(static_cast<size_t>(batch.input.values[b]));
  EXPECT_EQ(rest, std::vector<size_t>(whole.begin() + 8, whole.end()));
}

TEST(DataLoader, AnErrorInTheWorkerIsThrownByNextBatch) {
  GeneratorDataset data(12, [](size_t index, std::span<Tensor> inputs, std::span<Tensor> labels) {
    if (index == 6) throw DataError("sample.dat: sample 6 is broken");
    inputs[0].fill(static_cast<float>(index));
    labels[0].fill(static_cast<float>(10 * index));
  });
  Batch batch(4);
  DataLoader loader(data, {.batch_size = 4, .shuffle = false, .prefetch = true});
  loader.start_epoch();
  ASSERT_EQ(loader.next_batch(batch.inputs(), batch.labels()), 4u);  // read by the caller
  // Samples 4 to 7 were read by the worker, which failed at sample 6.
  expect_data_error([&] { loader.next_batch(batch.inputs(), batch.labels()); },
                    {"sample.dat: sample 6 is broken"});
  EXPECT_EQ(loader.position(), 4u);
  // Asked again, the batch fails again; past it, reading goes on.
  expect_data_error([&] { loader.next_batch(batch.inputs(), batch.labels()); },
                    {"sample 6 is broken"});
  loader.set_position(8);
  ASSERT_EQ(loader.next_batch(batch.inputs(), batch.labels()), 4u);
  EXPECT_EQ(batch.input.values, (std::vector<float>{8, 9, 10, 11}));
}

TEST(DataLoader, PrefetchAllocatesNothingAfterTheFirstBatch) {
  MemoryDataset data = numbered(50);
  Batch batch(4);
  DataLoader loader(data, {.batch_size = 4, .seed = 1, .prefetch = true});
  loader.start_epoch();
  loader.next_batch(batch.inputs(), batch.labels());  // the views, staging and the worker
  AllocationCounter counter;
  while (loader.next_batch(batch.inputs(), batch.labels()) > 0) {
  }
  for (int epoch = 0; epoch < 2; ++epoch) {
    loader.start_epoch();
    while (loader.next_batch(batch.inputs(), batch.labels()) > 0) {
    }
  }
  loader.start_epoch();
  loader.next_batch(batch.inputs(), batch.labels());
  loader.set_position(20);
  while (loader.next_batch(batch.inputs(), batch.labels()) > 0) {
  }
  EXPECT_EQ(counter.count(), 0u);
}

}  // namespace
}  // namespace edgetrain::testing
