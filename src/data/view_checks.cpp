#include "data/view_checks.h"

#include "edgetrain/error.h"

namespace edgetrain::data {

namespace {

// "1:1:3:3 (9 values)" for a batch-1 view.
std::string describe_view(const Tensor& view) {
  return view.shape().with_batch(1).str() + " (" + std::to_string(view.size()) + " values)";
}

}  // namespace

void throw_input_mismatch(const std::string& file, const std::string& samples,
                          std::span<const Tensor> inputs) {
  if (inputs.size() != 1)
    throw DataError(file + ": a file dataset feeds a model with one input; this model has " +
                    std::to_string(inputs.size()));
  throw DataError(file + ": samples are " + samples + " but the model's input takes " +
                  describe_view(inputs[0]));
}

void throw_label_mismatch(const std::string& file, const std::string& samples,
                          std::span<const Tensor> labels) {
  if (labels.size() != 1)
    throw DataError(file + ": a file dataset feeds a model with one loss; this model has " +
                    std::to_string(labels.size()));
  throw DataError(file + ": labels are " + samples + " but the model's loss takes " +
                  describe_view(labels[0]));
}

}  // namespace edgetrain::data
