// GeneratorDataset and SubsetDataset.
#include <gtest/gtest.h>

#include <vector>

#include "edgetrain/data.h"
#include "support/data_files.h"

namespace edgetrain::testing {
namespace {

// Sample i: input (i, 2i), label (-i).
GeneratorDataset counting(size_t samples) {
  return GeneratorDataset(samples,
                          [](size_t index, std::span<Tensor> inputs, std::span<Tensor> labels) {
                            inputs[0][0] = static_cast<float>(index);
                            inputs[0][1] = static_cast<float>(2 * index);
                            labels[0][0] = -static_cast<float>(index);
                          });
}

TEST(Generator, ReadsThroughTheCallback) {
  GeneratorDataset data = counting(5);
  EXPECT_EQ(data.size(), 5u);
  SampleBuffer input(TensorShape(1, 1, 1, 2));
  SampleBuffer label(TensorShape(1, 1, 1, 1));
  data.read(3, {&input.tensor, 1}, {&label.tensor, 1});
  EXPECT_EQ(input.values, (std::vector<float>{3, 6}));
  EXPECT_EQ(label.values, (std::vector<float>{-3}));
}

TEST(Generator, EmptyFunctionIsAnError) {
  expect_data_error([] { GeneratorDataset(3, nullptr); }, {"generator"});
}

TEST(Subset, ReadsTheBaseSamplesAtItsIndices) {
  GeneratorDataset base = counting(10);
  SubsetDataset subset(base, {7, 2, 7});
  ASSERT_EQ(subset.size(), 3u);
  SampleBuffer input(TensorShape(1, 1, 1, 2));
  SampleBuffer label(TensorShape(1, 1, 1, 1));
  std::vector<float> seen;
  for (size_t i = 0; i < subset.size(); ++i) {
    subset.read(i, {&input.tensor, 1}, {&label.tensor, 1});
    seen.push_back(input.values[0]);
  }
  EXPECT_EQ(seen, (std::vector<float>{7, 2, 7}));
}

TEST(Subset, IndexOutsideTheBaseIsAnError) {
  GeneratorDataset base = counting(4);
  expect_data_error([&] { SubsetDataset(base, {0, 4}); }, {"index 4", "entry 1", "4 samples"});
}

}  // namespace
}  // namespace edgetrain::testing
