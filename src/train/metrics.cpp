#include "train/metrics.h"

#include <algorithm>

namespace edgetrain {
size_t arg_max(const float* values, size_t n) {
  return static_cast<size_t>(std::max_element(values, values + n) - values);
}

RowCounts count_correct_rows(const Tensor& prediction, const Tensor& label, size_t samples) {
  RowCounts counts;
  const size_t classes = prediction.shape().width;
  counts.rows = samples * prediction.shape().feature_size() / classes;
  for (size_t row = 0; row < counts.rows; ++row)
    counts.correct += arg_max(prediction.data() + row * classes, classes) ==
                      arg_max(label.data() + row * classes, classes);
  return counts;
}

}  // namespace edgetrain
