// Classification metrics shared by evaluation and the training loop.
#pragma once

#include <cstddef>

#include "edgetrain/tensor.h"

namespace edgetrain {

// The index of the largest of n values; the first one on a tie.
size_t arg_max(const float* values, size_t n);

struct RowCounts {
  size_t correct = 0;
  size_t rows = 0;
};

// Classes lie along the width, as for cross_entropy's softmax: every row of the first
// `samples` samples counts, and is correct when its arg-max matches the label's.
RowCounts count_correct_rows(const Tensor& prediction, const Tensor& label, size_t samples);

}  // namespace edgetrain
