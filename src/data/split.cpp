#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>
#include <sstream>

#include "edgetrain/data.h"
#include "edgetrain/error.h"
#include "edgetrain/rng.h"

namespace edgetrain {

namespace {

// Ratios that come from floats carry their rounding error (validation_split = 0.29 is
// 0.28999999165...), and 0.29 of 100 samples should be 29, not 28: shares are taken with
// this much relative slack before rounding down.
constexpr double kRatioSlack = 1e-6;

double exact_share(double ratio, size_t n) {
  return ratio * static_cast<double>(n) * (1.0 + kRatioSlack);
}

size_t share(double ratio, size_t n) { return static_cast<size_t>(exact_share(ratio, n)); }

std::string format(double value) {
  std::ostringstream text;
  text << value;
  return text.str();
}

// Checks the ratios and returns the size of each part of n: the share of parts p > 0,
// the rest for part 0.
std::vector<size_t> part_sizes(size_t n, const std::vector<double>& ratios) {
  if (ratios.empty()) throw DataError("split: no ratios given");
  double sum = 0.0;
  for (double ratio : ratios) {
    if (!(ratio >= 0.0) || !std::isfinite(ratio))
      throw DataError("split: ratio " + format(ratio) + " is not a number >= 0");
    sum += ratio;
  }
  if (sum > 1.0 + kRatioSlack)
    throw DataError("split: the ratios sum to " + format(sum) + ", more than 1");
  std::vector<size_t> sizes(ratios.size());
  size_t taken = 0;
  for (size_t part = 1; part < ratios.size(); ++part) {
    sizes[part] = std::min(share(ratios[part], n), n - taken);
    taken += sizes[part];
  }
  sizes[0] = n - taken;
  return sizes;
}

// Fisher-Yates, as the DataLoader shuffles.
void shuffle(std::vector<size_t>& values, Rng& rng) {
  for (size_t i = values.size(); i > 1; --i) std::swap(values[i - 1], values[rng.below(i)]);
}

}  // namespace

std::vector<std::vector<size_t>> split_indices(size_t n, const std::vector<double>& ratios,
                                               uint64_t seed) {
  const std::vector<size_t> sizes = part_sizes(n, ratios);
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), size_t{0});
  Rng rng(seed);
  shuffle(order, rng);
  std::vector<std::vector<size_t>> parts(sizes.size());
  auto next = order.begin();
  for (size_t part = 0; part < sizes.size(); ++part) {
    parts[part].assign(next, next + static_cast<std::ptrdiff_t>(sizes[part]));
    next += static_cast<std::ptrdiff_t>(sizes[part]);
  }
  return parts;
}

std::vector<std::vector<size_t>> stratified_split_indices(std::span<const size_t> labels,
                                                          const std::vector<double>& ratios,
                                                          uint64_t seed) {
  const std::vector<size_t> sizes = part_sizes(labels.size(), ratios);
  // The samples of each class in a shuffled order; classes in ascending order, so the
  // result depends only on the labels and the seed.
  std::map<size_t, std::vector<size_t>> by_class;
  for (size_t i = 0; i < labels.size(); ++i) by_class[labels[i]].push_back(i);
  std::vector<std::vector<size_t>> classes;
  for (auto& [label, samples] : by_class) classes.push_back(std::move(samples));
  Rng rng(seed);
  for (std::vector<size_t>& samples : classes) shuffle(samples, rng);

  std::vector<size_t> used(classes.size(), 0);  // samples of each class given out so far
  std::vector<std::vector<size_t>> parts(sizes.size());
  std::vector<size_t> take(classes.size());
  std::vector<size_t> by_fraction(classes.size());
  std::vector<double> fraction(classes.size());  // of each class's exact share
  for (size_t part = 1; part < sizes.size(); ++part) {
    size_t total = 0;
    for (size_t c = 0; c < classes.size(); ++c) {
      take[c] = std::min(share(ratios[part], classes[c].size()), classes[c].size() - used[c]);
      total += take[c];
    }
    // Rounding every class down leaves the part a few samples short of its size; they
    // come from the classes whose shares were rounded down the most.
    // Each fraction is computed once and the sort compares the stored values: computed
    // inside the comparator, the same class's fraction can come out different in two
    // inlined copies (on aarch64 GCC fuses `exact - floor(exact)` into one fnmsub in one
    // copy and not in another), which breaks the strict weak ordering std::stable_sort
    // relies on: its unguarded insertion sort then read outside the vector and crashed.
    std::iota(by_fraction.begin(), by_fraction.end(), size_t{0});
    for (size_t c = 0; c < classes.size(); ++c) {
      const double exact = exact_share(ratios[part], classes[c].size());
      fraction[c] = exact - std::floor(exact);
    }
    std::stable_sort(by_fraction.begin(), by_fraction.end(),
                     [&](size_t a, size_t b) { return fraction[a] > fraction[b]; });
    while (total < sizes[part]) {
      const size_t before = total;
      for (size_t c : by_fraction) {
        if (total == sizes[part]) break;
        if (used[c] + take[c] < classes[c].size()) {
          ++take[c];
          ++total;
        }
      }
      // The part sizes add up to the number of samples, so enough are always left.
      ET_ASSERT(total > before, "stratified split ran out of samples");
    }
    for (size_t c = 0; c < classes.size(); ++c) {
      auto first = classes[c].begin() + static_cast<std::ptrdiff_t>(used[c]);
      parts[part].insert(parts[part].end(), first, first + static_cast<std::ptrdiff_t>(take[c]));
      used[c] += take[c];
    }
  }
  for (size_t c = 0; c < classes.size(); ++c)
    parts[0].insert(parts[0].end(), classes[c].begin() + static_cast<std::ptrdiff_t>(used[c]),
                    classes[c].end());
  // Class by class until here; mixed so that a part read in order is not sorted by class.
  for (std::vector<size_t>& part : parts) shuffle(part, rng);
  return parts;
}

}  // namespace edgetrain
