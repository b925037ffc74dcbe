#include "kernels/elementwise.h"

#include "kernels/threads.h"

namespace edgetrain::kernels {
namespace {

// Calls f(i) for every i in [0, n), split over threads when n is large enough.
template <typename F>
void each_index(size_t n, F f) {
  parallel_ranges(n, 1, [&](size_t begin, size_t end) {
    for (size_t i = begin; i < end; ++i) f(i);
  });
}

}  // namespace

void add_inplace(float* dst, const float* src, size_t n) {
  each_index(n, [&](size_t i) { dst[i] += src[i]; });
}

void add(const float* a, const float* b, float* dst, size_t n) {
  each_index(n, [&](size_t i) { dst[i] = a[i] + b[i]; });
}

void axpy(float alpha, const float* x, float* y, size_t n) {
  each_index(n, [&](size_t i) { y[i] += alpha * x[i]; });
}

void scale(float* x, float alpha, size_t n) {
  each_index(n, [&](size_t i) { x[i] *= alpha; });
}

void multiply(const float* a, const float* b, float* dst, size_t n) {
  each_index(n, [&](size_t i) { dst[i] = a[i] * b[i]; });
}

// Serial: a split sum would change the summation order with the thread count.
float sum(const float* x, size_t n) {
  return static_cast<float>(lane_sum(0, n, [x](size_t i) { return static_cast<double>(x[i]); }));
}

void add_row_vector(float* x, const float* bias, size_t rows, size_t cols) {
  parallel_ranges(rows, cols, [&](size_t begin, size_t end) {
    for (size_t r = begin; r < end; ++r)
      for (size_t c = 0; c < cols; ++c) x[r * cols + c] += bias[c];
  });
}

void add_channel_bias(float* x, const float* bias, size_t channels, size_t positions) {
  for (size_t c = 0; c < channels; ++c) {
    float* plane = x + c * positions;
    for (size_t p = 0; p < positions; ++p) plane[p] += bias[c];
  }
}

void sum_channels(const float* x, float* out, size_t batch, size_t channels, size_t positions) {
  for (size_t c = 0; c < channels; ++c) {
    double total = 0.0;
    for (size_t n = 0; n < batch; ++n) total += sum(x + (n * channels + c) * positions, positions);
    out[c] = static_cast<float>(total);
  }
}

// Serial (OpenMP here was not measured to pay); rows are added in order 0, 1, 2, ...
void sum_rows(const float* x, float* out, size_t rows, size_t cols) {
  for (size_t c = 0; c < cols; ++c) out[c] = 0.0f;
  for (size_t r = 0; r < rows; ++r)
    for (size_t c = 0; c < cols; ++c) out[c] += x[r * cols + c];
}

void add_scaled_column_sums(const float* x, float scale, float* out, size_t rows, size_t cols) {
  for (size_t c = 0; c < cols; ++c) {
    float total = 0.0f;
    for (size_t r = 0; r < rows; ++r) total += x[r * cols + c];
    out[c] += scale * total;
  }
}

}  // namespace edgetrain::kernels
