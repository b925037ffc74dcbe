#include "kernels/gemm.h"

#include <cblas.h>

#include <algorithm>

#include "kernels/threads.h"

namespace edgetrain::kernels {

namespace {

void blas_gemm(bool transpose_a, bool transpose_b, size_t m, size_t n, size_t k, float alpha,
               const float* a, size_t lda, const float* b, size_t ldb, float beta, float* c,
               size_t ldc) {
  cblas_sgemm(CblasRowMajor, transpose_a ? CblasTrans : CblasNoTrans,
              transpose_b ? CblasTrans : CblasNoTrans, static_cast<int>(m), static_cast<int>(n),
              static_cast<int>(k), alpha, a, static_cast<int>(lda), b, static_cast<int>(ldb), beta,
              c, static_cast<int>(ldc));
}

}  // namespace

size_t gemm_column_blocks(size_t m, size_t n, size_t k) {
  if (2 * m * n * k < kSplitGemmFlops) return 1;
  return std::clamp<size_t>(n / kGemmBlockMinColumns, 1, kGemmBlocks);
}

void gemm(bool transpose_a, bool transpose_b, size_t m, size_t n, size_t k, float alpha,
          const float* a, size_t lda, const float* b, size_t ldb, float beta, float* c,
          size_t ldc) {
  if (m == 0 || n == 0) return;
  const size_t blocks = gemm_column_blocks(m, n, k);
  if (blocks == 1) {
    blas_gemm(transpose_a, transpose_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    return;
  }
  // Column blocks of C, each an OpenBLAS call on one thread; block edges at multiples of
  // 16 columns. The blocks follow the shape alone, so the result does not depend on how
  // many threads run them.
  auto edge = [&](size_t block) {
    return block == blocks ? n : (n * block / blocks) & ~size_t{15};
  };
  parallel_chunks(blocks, static_cast<size_t>(max_threads()), 2 * m * n * k,
                  [&](size_t block, size_t) {
                    const size_t first = edge(block), columns = edge(block + 1) - first;
                    const float* b_block = b + (transpose_b ? first * ldb : first);
                    blas_gemm(transpose_a, transpose_b, m, columns, k, alpha, a, lda, b_block, ldb,
                              beta, c + first, ldc);
                  });
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
