#include "kernels/elementwise.h"


namespace edgetrain::kernels {

void add_inplace(float* dst, const float* src, size_t n) {
  for (size_t i = 0; i < n; ++i) dst[i] += src[i];
}

void add(const float* a, const float* b, float* dst, size_t n) {
  for (size_t i = 0; i < n; ++i) dst[i] = a[i] + b[i];
}

void axpy(float alpha, const float* x, float* y, size_t n) {
  for (size_t i = 0; i < n; ++i) y[i] += alpha * x[i];
}

void scale(float* x, float alpha, size_t n) {
  for (size_t i = 0; i < n; ++i) x[i] *= alpha;
}

void multiply(const float* a, const float* b, float* dst, size_t n) {
  for (size_t i = 0; i < n; ++i) dst[i] = a[i] * b[i];
}

float sum(const float* x, size_t n) {
  double total = 0.0;
  for (size_t i = 0; i < n; ++i) total += x[i];
  return static_cast<float>(total);
}

void add_row_vector(float* x, const float* bias, size_t rows, size_t cols) {
  for (size_t r = 0; r < rows; ++r) add_inplace(x + r * cols, bias, cols);
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

void sum_rows(const float* x, float* out, size_t rows, size_t cols) {
  for (size_t c = 0; c < cols; ++c) out[c] = 0.0f;
  for (size_t r = 0; r < rows; ++r) add_inplace(out, x + r * cols, cols);
}

}  // namespace edgetrain::kernels
