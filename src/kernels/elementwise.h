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
// Sum of x[0, n) in double (lane_sum), rounded to float.
float sum(const float* x, size_t n);

// Sum of term(i) for i in [begin, end) in double, in kSumLanes interleaved lanes added
// together in a fixed order at the end: independent chains the compiler vectorizes (one
// chain cannot be without reassociating), and the same value on any thread count.
constexpr size_t kSumLanes = 8;
template <typename Term>
double lane_sum(size_t begin, size_t end, Term term) {
  double lanes[kSumLanes] = {};
  size_t i = begin;
  for (; i + kSumLanes <= end; i += kSumLanes)
    for (size_t j = 0; j < kSumLanes; ++j) lanes[j] += term(i + j);
  for (size_t j = 0; i < end; ++i, ++j) lanes[j] += term(i);
  return ((lanes[0] + lanes[1]) + (lanes[2] + lanes[3])) +
         ((lanes[4] + lanes[5]) + (lanes[6] + lanes[7]));
}
// Adds row vector `bias` (length cols) to every row of x (rows x cols).
void add_row_vector(float* x, const float* bias, size_t rows, size_t cols);
// out[c] = sum over rows of x[r * cols + c]  (overwrites out)
void sum_rows(const float* x, float* out, size_t rows, size_t cols);
// out[c] += scale * (the sum sum_rows writes): a bias's plain gradient step.
void add_scaled_column_sums(const float* x, float scale, float* out, size_t rows, size_t cols);
// Per-channel bias of one N:C:H:W sample, channels planes of `positions` values:
// x[c * positions + p] += bias[c].
void add_channel_bias(float* x, const float* bias, size_t channels, size_t positions);
// Its gradient over a batch: out[c] = sum over n and p of x[(n * channels + c) * positions + p]
// (overwrites out; accumulates in double, as sum does).
void sum_channels(const float* x, float* out, size_t batch, size_t channels, size_t positions);

}  // namespace edgetrain::kernels
