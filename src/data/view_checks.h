// Checks the file readers share in read(): the model's batch-1 views must fit the file's
// samples. The conditions are cheap; the messages are built only when a check fails, so
// reading a sample allocates nothing.
#pragma once

#include <cstddef>
#include <span>
#include <string>

#include "edgetrain/tensor.h"

namespace edgetrain::data {

// True when `views` is one view of `size` values.
inline bool is_one_view_of(std::span<const Tensor> views, size_t size) {
  return views.size() == 1 && views[0].size() == size;
}

// Throw DataError beginning with `file`. `samples` describes what the file holds per
// sample ("28x28 images (784 values)", "4 feature values").
[[noreturn]] void throw_input_mismatch(const std::string& file, const std::string& samples,
                                       std::span<const Tensor> inputs);
[[noreturn]] void throw_label_mismatch(const std::string& file, const std::string& samples,
                                       std::span<const Tensor> labels);

}  // namespace edgetrain::data
