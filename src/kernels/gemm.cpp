#include "kernels/gemm.h"

#include <cblas.h>

#include <algorithm>

#include "kernels/threads.h"

namespace edgetrain::kernels {

namespace {

// Edge `block` of `blocks` blocks over `n` rows or columns: at multiples of 16.
size_t block_edge(size_t n, size_t blocks, size_t block) {
  return block == blocks ? n : (n * block / blocks) & ~size_t{15};
}

size_t gemv_row_blocks(size_t rows, size_t columns) {
  if (2 * rows * columns < kSplitGemvFlops) return 1;
  return std::clamp<size_t>(rows / kGemmBlockMinColumns, 1, kGemmBlocks);
}

void blas_gemm(bool transpose_a, bool transpose_b, size_t m, size_t n, size_t k, float alpha,
               const float* a, size_t lda, const float* b, size_t ldb, float beta, float* c,
               size_t ldc) {
  cblas_sgemm(CblasRowMajor, transpose_a ? CblasTrans : CblasNoTrans,
              transpose_b ? CblasTrans : CblasNoTrans, static_cast<int>(m), static_cast<int>(n),
              static_cast<int>(k), alpha, a, static_cast<int>(lda), b, static_cast<int>(ldb), beta,
              c, static_cast<int>(ldc));
}

// C[m x n] = alpha * op(A)[m x 1] * op(B)[1 x n] + beta * C: an outer product, row by row.
void outer_product(bool transpose_a, bool transpose_b, size_t m, size_t n, float alpha,
                   const float* a, size_t lda, const float* b, size_t ldb, float beta, float* c,
                   size_t ldc) {
  const size_t a_stride = transpose_a ? 1 : lda, b_stride = transpose_b ? ldb : 1;
  parallel_ranges(m, n, [&](size_t begin, size_t end) {
    for (size_t i = begin; i < end; ++i) {
      const float scale = alpha * a[i * a_stride];
      float* __restrict row = c + i * ldc;
      if (b_stride == 1) {  // the common case, contiguous: vectorizes
        const float* __restrict v = b;
        if (beta == 0.0f)
          for (size_t j = 0; j < n; ++j) row[j] = scale * v[j];
        else
          for (size_t j = 0; j < n; ++j) row[j] = scale * v[j] + beta * row[j];
      } else if (beta == 0.0f) {
        for (size_t j = 0; j < n; ++j) row[j] = scale * b[j * b_stride];
      } else {
        for (size_t j = 0; j < n; ++j) row[j] = scale * b[j * b_stride] + beta * row[j];
      }
    }
  });
}

// y = alpha * op(M) * x + beta * y through sgemv, M stored rows x columns. y is zeroed
// first when beta is 0: BLAS may compute 0 * y, and y may hold anything (even NaN).
void blas_gemv(bool transpose, size_t rows, size_t columns, float alpha, const float* matrix,
               size_t ld, const float* x, size_t x_stride, float beta, float* y, size_t y_stride) {
  const size_t outputs = transpose ? columns : rows;
  if (beta == 0.0f)
    for (size_t i = 0; i < outputs; ++i) y[i * y_stride] = 0.0f;
  cblas_sgemv(CblasRowMajor, transpose ? CblasTrans : CblasNoTrans, static_cast<int>(rows),
              static_cast<int>(columns), alpha, matrix, static_cast<int>(ld), x,
              static_cast<int>(x_stride), beta, y, static_cast<int>(y_stride));
}

// As blas_gemv; a large untransposed M runs as fixed blocks of its rows on the OpenMP
// threads. The blocks are those gemm() cuts C's columns into, so a fully connected layer
// at batch 1 (forward: y = W x; gradient: an outer product, split by rows the same way)
// reads and updates the same rows of its weight on the same thread every step, and each
// core keeps its part of the weight in its own cache. Blocks follow the shape alone.
void gemv(bool transpose, size_t rows, size_t columns, float alpha, const float* matrix, size_t ld,
          const float* x, size_t x_stride, float beta, float* y, size_t y_stride) {
  const size_t blocks = transpose ? 1 : gemv_row_blocks(rows, columns);
  if (blocks == 1) {
    blas_gemv(transpose, rows, columns, alpha, matrix, ld, x, x_stride, beta, y, y_stride);
    return;
  }
  parallel_chunks(blocks, static_cast<size_t>(max_threads()), 2 * rows * columns,
                  [&](size_t block, size_t) {
                    const size_t first = block_edge(rows, blocks, block);
                    const size_t count = block_edge(rows, blocks, block + 1) - first;
                    blas_gemv(false, count, columns, alpha, matrix + first * ld, ld, x, x_stride,
                              beta, y + first * y_stride, y_stride);
                  });
}

}  // namespace

size_t gemm_column_blocks(size_t m, size_t n, size_t k) {
  if (2 * m * n * k < kSplitGemmFlops) return 1;
  return std::clamp<size_t>(n / kGemmBlockMinColumns, 1, kGemmBlocks);
}

namespace {

// gemm() and gemm_split_rows(): the products BLAS runs badly as matrix-vector and outer
// products, the rest through OpenBLAS, large ones in blocks of C's columns or rows.
void gemm_blocked(bool split_rows, bool transpose_a, bool transpose_b, size_t m, size_t n, size_t k,
                  float alpha, const float* a, size_t lda, const float* b, size_t ldb, float beta,
                  float* c, size_t ldc) {
  if (m == 0 || n == 0) return;
  // A row or a column of C (batch 1 in a fully connected layer), or a product over one
  // value: matrix-vector products and outer products, which GEMM runs far slower.
  if (m == 1 && k > 1) {  // C^T = op(B)^T * op(A)^T
    gemv(!transpose_b, transpose_b ? n : k, transpose_b ? k : n, alpha, b, ldb, a,
         transpose_a ? lda : 1, beta, c, 1);
    return;
  }
  if (n == 1 && k > 1) {  // C = op(A) * op(B)
    gemv(transpose_a, transpose_a ? k : m, transpose_a ? m : k, alpha, a, lda, b,
         transpose_b ? 1 : ldb, beta, c, ldc);
    return;
  }
  if (k == 1) {
    outer_product(transpose_a, transpose_b, m, n, alpha, a, lda, b, ldb, beta, c, ldc);
    return;
  }
  const size_t blocks = split_rows ? gemm_column_blocks(n, m, k) : gemm_column_blocks(m, n, k);
  if (blocks == 1) {
    blas_gemm(transpose_a, transpose_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    return;
  }
  // Blocks of C, each an OpenBLAS call on one thread; block edges at multiples of 16
  // columns (rows). The blocks follow the shape alone, so the result does not depend on
  // how many threads run them.
  parallel_chunks(blocks, static_cast<size_t>(max_threads()), 2 * m * n * k,
                  [&](size_t block, size_t) {
                    const size_t first = block_edge(split_rows ? m : n, blocks, block);
                    const size_t count = block_edge(split_rows ? m : n, blocks, block + 1) - first;
                    if (split_rows) {
                      const float* a_block = a + (transpose_a ? first : first * lda);
                      blas_gemm(transpose_a, transpose_b, count, n, k, alpha, a_block, lda, b, ldb,
                                beta, c + first * ldc, ldc);
                    } else {
                      const float* b_block = b + (transpose_b ? first * ldb : first);
                      blas_gemm(transpose_a, transpose_b, m, count, k, alpha, a, lda, b_block, ldb,
                                beta, c + first, ldc);
                    }
                  });
}

}  // namespace

void gemm(bool transpose_a, bool transpose_b, size_t m, size_t n, size_t k, float alpha,
          const float* a, size_t lda, const float* b, size_t ldb, float beta, float* c,
          size_t ldc) {
  gemm_blocked(false, transpose_a, transpose_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

void gemm_split_rows(bool transpose_a, bool transpose_b, size_t m, size_t n, size_t k, float alpha,
                     const float* a, size_t lda, const float* b, size_t ldb, float beta, float* c,
                     size_t ldc) {
  gemm_blocked(true, transpose_a, transpose_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

void gemm_reference(bool transpose_a, bool transpose_b, size_t m, size_t n, size_t k, float alpha,
                    const float* a, size_t lda, const float* b, size_t ldb, float beta, float* c,
                    size_t ldc) {
  for (size_t i = 0; i < m; ++i) {
    for (size_t j = 0; j < n; ++j) {
      double sum = 0.0;
      for (size_t p = 0; p < k; ++p) {
        float av = transpose_a ? a[p * lda + i] : a[i * lda + p];
        float bv = transpose_b ? b[j * ldb + p] : b[p * ldb + j];
        sum += static_cast<double>(av) * bv;
      }
      float& out = c[i * ldc + j];
      out = static_cast<float>(alpha * sum + (beta == 0.0f ? 0.0f : beta * out));
    }
  }
}

}  // namespace edgetrain::kernels
