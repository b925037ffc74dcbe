#include "edgetrain/sample_quality.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "edgetrain/error.h"

namespace edgetrain {
namespace {

constexpr double kSumTolerance = 1e-3;

size_t row_count(size_t values, size_t classes, const char* what) {
  if (classes == 0) throw Error(std::string(what) + ": 0 classes");
  if (values == 0) throw Error(std::string(what) + ": no samples");
  if (values % classes != 0)
    throw Error(std::string(what) + ": " + std::to_string(values) +
                " values are not whole rows of " + std::to_string(classes) + " classes");
  return values / classes;
}

}  // namespace

double inception_score(std::span<const float> probabilities, size_t classes) {
  const size_t rows = row_count(probabilities.size(), classes, "inception_score()");
  // Accumulated in double: with thousands of rows float sums lose the digits that matter.
  std::vector<double> marginal(classes, 0.0);
  for (size_t r = 0; r < rows; ++r) {
    double sum = 0.0;
    for (size_t c = 0; c < classes; ++c) {
      const float p = probabilities[r * classes + c];
      if (!(p >= 0.0f))
        throw Error("inception_score(): row " + std::to_string(r) + " has the value " +
                    std::to_string(p) + "; probabilities are non-negative");
      sum += p;
      marginal[c] += p;
    }
    if (std::abs(sum - 1.0) > kSumTolerance)
      throw Error("inception_score(): row " + std::to_string(r) + " sums to " +
                  std::to_string(sum) +
                  ", not 1; pass probabilities (softmax_rows() turns logits into them)");
  }
  for (double& p : marginal) p /= static_cast<double>(rows);
  double kl_sum = 0.0;
  for (size_t r = 0; r < rows; ++r)
    for (size_t c = 0; c < classes; ++c) {
      const double p = probabilities[r * classes + c];
      // p(y) >= p(y|x) / rows > 0 wherever p(y|x) > 0, so the logarithm is finite.
      if (p > 0.0) kl_sum += p * std::log(p / marginal[c]);
    }
  return std::exp(kl_sum / static_cast<double>(rows));
}

std::vector<float> softmax_rows(std::span<const float> logits, size_t classes) {
  const size_t rows = row_count(logits.size(), classes, "softmax_rows()");
  std::vector<float> result(logits.size());
  for (size_t r = 0; r < rows; ++r) {
    const auto row = logits.subspan(r * classes, classes);
    const float max = *std::max_element(row.begin(), row.end());
    double sum = 0.0;
    for (size_t c = 0; c < classes; ++c) sum += std::exp(static_cast<double>(row[c]) - max);
    for (size_t c = 0; c < classes; ++c)
      result[r * classes + c] =
          static_cast<float>(std::exp(static_cast<double>(row[c]) - max) / sum);
  }
  return result;
}

}  // namespace edgetrain
