// Checks that a layer handles a last batch smaller than the compiled one: requested
// tensors keep the compiled batch, and only the first samples may be used.
#pragma once

#include <string>
#include <vector>

#include "edgetrain/tensor.h"

namespace edgetrain::testing {

// Trains one step of input -> fully_connected -> LAYER -> mse on `batch` samples twice:
// in a model compiled for batch + 1 samples (whose extra sample holds junk) and in one
// compiled for exactly `batch`. Expects the same loss, the same weights after the step (so
// the layer's input and weight gradients agree) and the same evaluation outputs after it.
// `sample_shape` is C:H:W of the model input; fully_connected maps its width to `unit`.
void expect_partial_batch_matches(const std::string& type,
                                  const std::vector<std::string>& properties,
                                  const TensorShape& sample_shape, size_t unit, size_t batch);

}  // namespace edgetrain::testing
