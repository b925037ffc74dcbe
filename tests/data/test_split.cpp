// split_indices and stratified_split_indices: sizes, disjoint parts, reproducibility and
// class balance.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <numeric>
#include <vector>

#include "edgetrain/data.h"
#include "support/data_files.h"

namespace edgetrain::testing {
namespace {

std::vector<size_t> sizes_of(const std::vector<std::vector<size_t>>& parts) {
  std::vector<size_t> sizes;
  for (const auto& part : parts) sizes.push_back(part.size());
  return sizes;
}

// Every index below n in exactly one part.
void expect_partition(const std::vector<std::vector<size_t>>& parts, size_t n) {
  std::vector<size_t> all;
  for (const auto& part : parts) all.insert(all.end(), part.begin(), part.end());
  std::sort(all.begin(), all.end());
  std::vector<size_t> expected(n);
  std::iota(expected.begin(), expected.end(), size_t{0});
  EXPECT_EQ(all, expected);
}

TEST(Split, PartSizesRoundDownAndTheRemainderGoesToTheFirstPart) {
  EXPECT_EQ(sizes_of(split_indices(10, {0.8, 0.2}, 1)), (std::vector<size_t>{8, 2}));
  EXPECT_EQ(sizes_of(split_indices(10, {0, 0.25}, 1)), (std::vector<size_t>{8, 2}));
  EXPECT_EQ(sizes_of(split_indices(10, {0.5, 0.3}, 1)), (std::vector<size_t>{7, 3}));
  EXPECT_EQ(sizes_of(split_indices(7, {0.6, 0.2, 0.2}, 1)), (std::vector<size_t>{5, 1, 1}));
  EXPECT_EQ(sizes_of(split_indices(5, {1.0}, 1)), (std::vector<size_t>{5}));
  EXPECT_EQ(sizes_of(split_indices(0, {0.5, 0.5}, 1)), (std::vector<size_t>{0, 0}));
  // A validation_split read as a float: 0.29f is 0.28999999..., still 29 of 100.
  const float validation_split = 0.29f;
  EXPECT_EQ(sizes_of(split_indices(100, {1 - validation_split, validation_split}, 1)),
            (std::vector<size_t>{71, 29}));
}

TEST(Split, PartsAreDisjointAndCoverEveryIndex) {
  expect_partition(split_indices(103, {0.7, 0.2, 0.1}, 4), 103);
}

TEST(Split, IsReproducibleFromTheSeedAndShuffled) {
  const auto a = split_indices(50, {0.8, 0.2}, 9);
  EXPECT_EQ(a, split_indices(50, {0.8, 0.2}, 9));
  EXPECT_NE(a, split_indices(50, {0.8, 0.2}, 10));
  EXPECT_FALSE(std::is_sorted(a[0].begin(), a[0].end()));
}

TEST(Split, BadRatiosAreAnError) {
  expect_data_error([] { split_indices(10, {}, 1); }, {"no ratios"});
  expect_data_error([] { split_indices(10, {0.5, -0.1}, 1); }, {"ratio -0.1"});
  expect_data_error([] { split_indices(10, {0.7, 0.4}, 1); }, {"sum to 1.1", "more than 1"});
  expect_data_error(
      [] {
        stratified_split_indices(std::vector<size_t>{0, 1}, {0.9, 0.2}, 1);
      },
      {"more than 1"});
}

TEST(Split, StratifiedKeepsEachClassInProportion) {
  // 50, 30 and 20 samples of classes 0, 1 and 2, interleaved.
  std::vector<size_t> labels;
  for (size_t i = 0; i < 100; ++i) labels.push_back(i % 10 < 5 ? 0 : i % 10 < 8 ? 1 : 2);
  const auto parts = stratified_split_indices(labels, {0.8, 0.2}, 3);
  EXPECT_EQ(sizes_of(parts), (std::vector<size_t>{80, 20}));
  expect_partition(parts, 100);
  std::map<size_t, size_t> validation;
  for (size_t i : parts[1]) ++validation[labels[i]];
  EXPECT_EQ(validation, (std::map<size_t, size_t>{{0, 10}, {1, 6}, {2, 4}}));
  EXPECT_EQ(parts, stratified_split_indices(labels, {0.8, 0.2}, 3));
  EXPECT_NE(parts, stratified_split_indices(labels, {0.8, 0.2}, 4));
}

TEST(Split, StratifiedMatchesThePlainSizesWhenClassesRoundDown) {
  // Classes 5, 9 and 40 (not contiguous) of 7 samples each: 0.2 of a class is 1.4, so the
  // part of floor(0.2 * 21) = 4 takes one class twice and the others once.
  std::vector<size_t> labels;
  for (size_t i = 0; i < 21; ++i) labels.push_back(i < 7 ? 5 : i < 14 ? 9 : 40);
  const auto parts = stratified_split_indices(labels, {0.8, 0.2}, 1);
  EXPECT_EQ(sizes_of(parts), sizes_of(split_indices(21, {0.8, 0.2}, 1)));
  expect_partition(parts, 21);
  std::map<size_t, size_t> validation;
  for (size_t i : parts[1]) ++validation[labels[i]];
  ASSERT_EQ(validation.size(), 3u);
  for (auto [label, count] : validation) EXPECT_TRUE(count == 1 || count == 2) << label;
}

TEST(Split, StratifiedWithThreeParts) {
  std::vector<size_t> labels(60);
  for (size_t i = 0; i < labels.size(); ++i) labels[i] = i % 3;
  const auto parts = stratified_split_indices(labels, {0.5, 0.3, 0.2}, 2);
  EXPECT_EQ(sizes_of(parts), (std::vector<size_t>{30, 18, 12}));
  expect_partition(parts, 60);
  for (size_t part = 1; part < 3; ++part) {
    std::vector<size_t> per_class(3, 0);
    for (size_t i : parts[part]) ++per_class[labels[i]];
    for (size_t count : per_class) EXPECT_EQ(count, parts[part].size() / 3) << part;
  }
}

}  // namespace
}  // namespace edgetrain::testing
