#include "edgetrain/tensor.h"

#include <algorithm>
#include <charconv>
#include <cstring>
#include <vector>

#include "edgetrain/error.h"

namespace edgetrain {

TensorShape TensorShape::parse(std::string_view text) {
  std::vector<size_t> parts;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find(':', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view part = text.substr(start, end - start);
    while (!part.empty() && part.front() == ' ') part.remove_prefix(1);
    while (!part.empty() && part.back() == ' ') part.remove_suffix(1);
    size_t value = 0;
    auto [ptr, ec] = std::from_chars(part.data(), part.data() + part.size(), value);
    if (part.empty() || ec != std::errc() || ptr != part.data() + part.size() || value == 0)
      throw PropertyError("bad shape '" + std::string(text) +
                          "': expected 1 to 4 positive integers separated by ':', e.g. 1:28:28");
    parts.push_back(value);
    start = end + 1;
  }
  if (parts.empty() || parts.size() > 4)
    throw PropertyError("bad shape '" + std::string(text) +
                        "': expected 1 to 4 positive integers separated by ':', e.g. 1:28:28");
  std::array<size_t, 4> dims{1, 1, 1, 1};
  std::copy(parts.begin(), parts.end(), dims.begin() + (4 - parts.size()));
  return {dims[0], dims[1], dims[2], dims[3]};
}

std::string TensorShape::str() const {
  return std::to_string(batch) + ":" + std::to_string(channel) + ":" + std::to_string(height) +
         ":" + std::to_string(width);
}

Tensor Tensor::batch_slice(size_t first, size_t count) const {
  ET_ASSERT(first + count <= shape_.batch, "batch slice out of range of " + shape_.str());
  return Tensor(data_ + first * shape_.feature_size(), shape_.with_batch(count));
}

Tensor Tensor::reshaped(TensorShape shape) const {
  ET_ASSERT(shape.size() == size(), "reshape " + shape_.str() + " to " + shape.str());
  return Tensor(data_, shape);
}

void Tensor::fill(float value) { std::fill(begin(), end(), value); }

void Tensor::copy_from(const Tensor& source) {
  ET_ASSERT(source.size() == size(), "copy " + source.shape().str() + " into " + shape_.str());
  if (size() > 0 && source.data_ != data_) std::memcpy(data_, source.data_, size() * sizeof(float));
}

}  // namespace edgetrain
