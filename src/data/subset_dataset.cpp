#include "edgetrain/data.h"
#include "edgetrain/error.h"

namespace edgetrain {

SubsetDataset::SubsetDataset(Dataset& base, std::vector<size_t> indices)
    : base_(base), indices_(std::move(indices)) {
  for (size_t i = 0; i < indices_.size(); ++i)
    if (indices_[i] >= base_.size())
      throw DataError("SubsetDataset: index " + std::to_string(indices_[i]) + " (entry " +
                      std::to_string(i) + ") is outside a dataset of " +
                      std::to_string(base_.size()) + " samples");
}

void SubsetDataset::read(size_t index, std::span<Tensor> inputs, std::span<Tensor> labels) {
  ET_ASSERT(index < indices_.size(), "sample index out of range");
  base_.read(indices_[index], inputs, labels);
}

void SubsetDataset::read_augmented(size_t index, std::span<Tensor> inputs, std::span<Tensor> labels,
                                   uint64_t seed) {
  ET_ASSERT(index < indices_.size(), "sample index out of range");
  base_.read_augmented(indices_[index], inputs, labels, seed);
}

}  // namespace edgetrain
