// Small dataset files written by the tests themselves, in a fresh directory per test, and
// a check for DataError messages.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "edgetrain/tensor.h"

namespace edgetrain::testing {

// An empty directory for the running test under testing::TempDir(); returns its path
// with a trailing '/'.
std::string fresh_temp_dir();

void write_bytes(const std::string& path, const std::vector<uint8_t>& bytes);
void write_gzip(const std::string& path, const std::vector<uint8_t>& bytes);
void write_text(const std::string& path, const std::string& text);
void write_floats(const std::string& path, const std::vector<float>& values);
std::vector<uint8_t> read_bytes(const std::string& path);

// IDX contents: an images file (magic 0x803) of count rows x cols images with
// pixel(i, p) as byte p of image i, and a labels file (magic 0x801).
std::vector<uint8_t> idx_images(uint32_t count, uint32_t rows, uint32_t cols,
                                const std::function<uint8_t(size_t image, size_t pixel)>& pixel);
std::vector<uint8_t> idx_labels(const std::vector<uint8_t>& labels);

// Runs `action`, expects a DataError whose message holds every one of `parts`.
void expect_data_error(const std::function<void()>& action, const std::vector<std::string>& parts);

// A batch-1 tensor with its own storage, for reading samples outside a model.
struct SampleBuffer {
  explicit SampleBuffer(TensorShape shape) : values(shape.size()), tensor(values.data(), shape) {}
  SampleBuffer(const SampleBuffer&) = delete;
  SampleBuffer& operator=(const SampleBuffer&) = delete;
  std::vector<float> values;
  Tensor tensor;
};

}  // namespace edgetrain::testing
