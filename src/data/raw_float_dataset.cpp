#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "data/view_checks.h"
#include "edgetrain/data.h"
#include "edgetrain/error.h"

namespace edgetrain {

RawFloatDataset::RawFloatDataset(std::string path, size_t input_size, size_t label_size)
    : path_(std::move(path)), input_size_(input_size), label_size_(label_size) {
  const size_t record_values = input_size_ + label_size_;
  const size_t record_bytes = record_values * sizeof(float);
  if (record_values == 0) throw DataError(path_ + ": records of 0 values (input and label size 0)");
  std::error_code error;
  const uintmax_t bytes = std::filesystem::file_size(path_, error);
  if (error) throw DataError(path_ + ": cannot open: " + error.message());
  if (bytes == 0) throw DataError(path_ + ": the file is empty");
  if (bytes % record_bytes != 0)
    throw DataError(path_ + ": " + std::to_string(bytes) +
                    " bytes are not a whole number of records of " + std::to_string(record_bytes) +
                    " bytes (" + std::to_string(input_size_) + " input and " +
                    std::to_string(label_size_) + " label float32 values)");
  samples_ = bytes / record_bytes;

  std::ifstream in(path_, std::ios::binary);
  if (!in) throw DataError(path_ + ": cannot open: " + std::strerror(errno));
  values_.resize(samples_ * record_values);
  in.read(reinterpret_cast<char*>(values_.data()), static_cast<std::streamsize>(bytes));
  if (!in) throw DataError(path_ + ": read error after " + std::to_string(in.gcount()) + " bytes");
}

void RawFloatDataset::read(size_t index, std::span<Tensor> inputs, std::span<Tensor> labels) {
  ET_ASSERT(index < samples_, "sample index out of range");
  if (!data::is_one_view_of(inputs, input_size_))
    data::throw_input_mismatch(path_, std::to_string(input_size_) + " values", inputs);
  const float* record = values_.data() + index * (input_size_ + label_size_);
  std::copy_n(record, input_size_, inputs[0].data());
  if (labels.empty()) return;  // a model without a loss
  if (!data::is_one_view_of(labels, label_size_))
    data::throw_label_mismatch(path_, std::to_string(label_size_) + " values", labels);
  std::copy_n(record + input_size_, label_size_, labels[0].data());
}

std::vector<size_t> RawFloatDataset::class_labels() const {
  if (label_size_ == 0) throw DataError(path_ + ": class labels need labels (label size 0)");
  std::vector<size_t> classes(samples_);
  for (size_t i = 0; i < samples_; ++i) {
    const float* label = values_.data() + i * (input_size_ + label_size_) + input_size_;
    classes[i] = static_cast<size_t>(std::max_element(label, label + label_size_) - label);
  }
  return classes;
}

}  // namespace edgetrain
