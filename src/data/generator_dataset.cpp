#include "edgetrain/data.h"
#include "edgetrain/error.h"

namespace edgetrain {

GeneratorDataset::GeneratorDataset(size_t samples, Generator generator)
    : samples_(samples), generator_(std::move(generator)) {
  if (!generator_) throw DataError("GeneratorDataset: the generator function is empty");
}

void GeneratorDataset::read(size_t index, std::span<Tensor> inputs, std::span<Tensor> labels) {
  ET_ASSERT(index < samples_, "sample index out of range");
  generator_(index, inputs, labels);
}

}  // namespace edgetrain
