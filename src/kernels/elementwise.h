// Elementwise operations and reductions over contiguous float arrays.
#pragma once

#include <cstddef>

namespace edgetrain::kernels {

// dst[i] += src[i]
void add_inplace(float* dst, const float* src, size_t n);
// dst[i] = a[i] + b[i]
void add(const float* a, const float* b, float* dst, size_t n);
// y[i] += alpha * x[i]
void axpy(float alpha, const float* x, float* y, size_t n);
// x[i] *= alpha
void scale(float* x, float alpha, size_t n);
// dst[i] = a[i] * b[i]
void multiply(const float* a, const float* b, float* dst, size_t n);
float sum(const float* x, size_t n);
// Adds row vector `bias` (length cols) to every row of x (rows x cols).
void add_row_vector(float* x, const float* bias, size_t rows, size_t cols);
// out[c] = sum over rows of x[r * cols + c]  (overwrites out)
void sum_rows(const float* x, float* out, size_t rows, size_t cols);
// Per-channel bias of one N:C:H:W sample, channels planes of `positions` values:
// x[c * positions + p] += bias[c].
void add_channel_bias(float* x, const float* bias, size_t channels, size_t positions);
// Its gradient over a batch: out[c] = sum over n and p of x[(n * channels + c) * positions + p]
// (overwrites out; accumulates in double, as sum does).
void sum_channels(const float* x, float* out, size_t batch, size_t channels, size_t positions);

}  // namespace edgetrain::kernels
