#include "edgetrain/data.h"
#include "edgetrain/error.h"

namespace edgetrain {

AutoencoderDataset::AutoencoderDataset(std::unique_ptr<Dataset> base) : base_(std::move(base)) {
  if (!base_) throw DataError("AutoencoderDataset: no dataset to read inputs from");
}

void AutoencoderDataset::read(size_t index, std::span<Tensor> inputs, std::span<Tensor> labels) {
  base_->read(index, inputs, {});
  if (labels.empty()) return;  // a model without a loss
  if (labels.size() != 1 || inputs.size() != 1 || labels[0].size() != inputs[0].size()) {
    auto shapes = [](std::span<Tensor> views) {
      std::string text;
      for (const Tensor& view : views) text += (text.empty() ? "" : ", ") + view.shape().str();
      return text;
    };
    throw DataError("target = input: the label (" + shapes(labels) +
                    ") must hold the input's values (" + shapes(inputs) + ")");
  }
  std::copy_n(inputs[0].data(), inputs[0].size(), labels[0].data());
}

}  // namespace edgetrain
