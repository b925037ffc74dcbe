#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "data/stream_file.h"
#include "data/view_checks.h"
#include "edgetrain/data.h"
#include "edgetrain/error.h"

namespace edgetrain {

namespace {

// Checks the size of a raw float file and returns its number of records.
size_t count_records(const std::string& path, size_t input_size, size_t label_size) {
  const size_t record_values = input_size + label_size;
  const size_t record_bytes = record_values * sizeof(float);
  if (record_values == 0) throw DataError(path + ": records of 0 values (input and label size 0)");
  std::error_code error;
  const uintmax_t bytes = std::filesystem::file_size(path, error);
  if (error) throw DataError(path + ": cannot open: " + error.message());
  if (bytes == 0) throw DataError(path + ": the file is empty");
  if (bytes % record_bytes != 0)
    throw DataError(path + ": " + std::to_string(bytes) +
                    " bytes are not a whole number of records of " + std::to_string(record_bytes) +
                    " bytes (" + std::to_string(input_size) + " input and " +
                    std::to_string(label_size) + " label float32 values)");
  return bytes / record_bytes;
}

}  // namespace

RawFloatDataset::RawFloatDataset(std::string path, size_t input_size, size_t label_size)
    : path_(std::move(path)), input_size_(input_size), label_size_(label_size) {
  const size_t record_values = input_size_ + label_size_;
  samples_ = count_records(path_, input_size_, label_size_);
  const uintmax_t bytes = samples_ * record_values * sizeof(float);

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

StreamingRawFloatDataset::StreamingRawFloatDataset(std::string path, size_t input_size,
                                                   size_t label_size)
    : path_(std::move(path)), input_size_(input_size), label_size_(label_size) {
  samples_ = count_records(path_, input_size_, label_size_);
  file_ = std::make_unique<data::StreamFile>(data::StreamFile::open_plain(path_));
}

StreamingRawFloatDataset::~StreamingRawFloatDataset() = default;

void StreamingRawFloatDataset::read(size_t index, std::span<Tensor> inputs,
                                    std::span<Tensor> labels) {
  ET_ASSERT(index < samples_, "sample index out of range");
  if (!data::is_one_view_of(inputs, input_size_))
    data::throw_input_mismatch(path_, std::to_string(input_size_) + " values", inputs);
  const uint64_t record = uint64_t{index} * (input_size_ + label_size_) * sizeof(float);
  iovec buffers[2] = {{inputs[0].data(), input_size_ * sizeof(float)}, {nullptr, 0}};
  if (labels.empty()) {  // a model without a loss
    file_->read(record, buffers, 1);
    return;
  }
  if (!data::is_one_view_of(labels, label_size_))
    data::throw_label_mismatch(path_, std::to_string(label_size_) + " values", labels);
  buffers[1] = {labels[0].data(), label_size_ * sizeof(float)};
  file_->read(record, buffers, 2);
}

std::vector<size_t> StreamingRawFloatDataset::class_labels() const {
  if (label_size_ == 0) throw DataError(path_ + ": class labels need labels (label size 0)");
  std::vector<size_t> classes(samples_);
  std::vector<float> label(label_size_);
  for (size_t i = 0; i < samples_; ++i) {
    file_->read((uint64_t{i} * (input_size_ + label_size_) + input_size_) * sizeof(float),
                label.data(), label_size_ * sizeof(float));
    classes[i] = static_cast<size_t>(std::max_element(label.begin(), label.end()) - label.begin());
  }
  return classes;
}

}  // namespace edgetrain
