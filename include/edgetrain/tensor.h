// TensorShape and Tensor: a float32 view into memory that edgetrain's planner owns.
#pragma once

#include <array>
#include <cstddef>
#include <string>
#include <string_view>

namespace edgetrain {

// Four dimensions batch:channel:height:width, written "N:C:H:W" as in NNTrainer.
struct TensorShape {
  size_t batch = 1;
  size_t channel = 1;
  size_t height = 1;
  size_t width = 1;

  TensorShape() = default;
  TensorShape(size_t n, size_t c, size_t h, size_t w) : batch(n), channel(c), height(h), width(w) {}

  // Parses 1 to 4 colon-separated positive integers, filled from the right:
  // "1:28:28" is C:H:W with batch 1, "10" is width 10. Throws PropertyError.
  static TensorShape parse(std::string_view text);

  size_t size() const { return batch * channel * height * width; }
  // Elements of one sample.
  size_t feature_size() const { return channel * height * width; }
  size_t bytes() const { return size() * sizeof(float); }
  std::string str() const;  // "N:C:H:W"
  // The same shape with another batch size.
  TensorShape with_batch(size_t n) const { return {n, channel, height, width}; }
  std::array<size_t, 4> dims() const { return {batch, channel, height, width}; }

  bool operator==(const TensorShape&) const = default;
};

// A non-owning view of contiguous float32 data in N:C:H:W order. Copying a Tensor
// copies the view, never the data.
class Tensor {
 public:
  Tensor() = default;
  Tensor(float* data, TensorShape shape) : data_(data), shape_(shape) {}

  float* data() { return data_; }
  const float* data() const { return data_; }
  const TensorShape& shape() const { return shape_; }
  size_t size() const { return shape_.size(); }
  bool empty() const { return data_ == nullptr; }
  size_t batch() const { return shape_.batch; }

  float& operator[](size_t i) { return data_[i]; }
  float operator[](size_t i) const { return data_[i]; }
  float& at(size_t n, size_t c, size_t h, size_t w) { return data_[index(n, c, h, w)]; }
  float at(size_t n, size_t c, size_t h, size_t w) const { return data_[index(n, c, h, w)]; }

  // Samples [first, first + count) as a view.
  Tensor batch_slice(size_t first, size_t count) const;
  // The same data seen with another shape of equal size.
  Tensor reshaped(TensorShape shape) const;

  void fill(float value);
  void copy_from(const Tensor& source);  // sizes must match

  float* begin() { return data_; }
  float* end() { return data_ + size(); }
  const float* begin() const { return data_; }
  const float* end() const { return data_ + size(); }

 private:
  size_t index(size_t n, size_t c, size_t h, size_t w) const {
    return ((n * shape_.channel + c) * shape_.height + h) * shape_.width + w;
  }

  float* data_ = nullptr;
  TensorShape shape_{0, 0, 0, 0};
};

}  // namespace edgetrain
