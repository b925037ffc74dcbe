// Matrix multiply on row-major matrices through OpenBLAS, and a plain reference.
#pragma once

#include <cstddef>

namespace edgetrain::kernels {

// C[m x n] = alpha * op(A) * op(B) + beta * C, where op(A) is m x k and op(B) is k x n;
// op transposes when the flag is set. lda/ldb/ldc are row strides of A, B and C as stored.
void gemm(bool transpose_a, bool transpose_b, size_t m, size_t n, size_t k, float alpha,
          const float* a, size_t lda, const float* b, size_t ldb, float beta, float* c, size_t ldc);

// The same with three loops, for tests.
void gemm_reference(bool transpose_a, bool transpose_b, size_t m, size_t n, size_t k, float alpha,
                    const float* a, size_t lda, const float* b, size_t ldb, float beta, float* c,
                    size_t ldc);

}  // namespace edgetrain::kernels
