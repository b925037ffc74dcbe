// Matrix multiply on row-major matrices through OpenBLAS, and a plain reference.
#pragma once

#include <cstddef>

namespace edgetrain::kernels {

// GEMMs of at least kSplitGemmFlops run as up to kGemmBlocks column blocks of C (each at
// least kGemmBlockMinColumns wide) on the OpenMP threads: OpenBLAS itself stays on one
// thread (kernels/threads.h), and the fully connected layers' GEMMs are large enough to
// gain from a second core.
constexpr size_t kSplitGemmFlops = size_t{1} << 20;
constexpr size_t kGemmBlocks = 4;
constexpr size_t kGemmBlockMinColumns = 64;
// A matrix-vector product of at least this many FLOPs (a fully connected layer at batch
// 1) runs as row blocks the same way: it is bound by reading the matrix, not by FLOPs.
constexpr size_t kSplitGemvFlops = size_t{1} << 18;
// How many column blocks gemm() cuts an m x n x k product into: a function of the shape only.
size_t gemm_column_blocks(size_t m, size_t n, size_t k);

// C[m x n] = alpha * op(A) * op(B) + beta * C, where op(A) is m x k and op(B) is k x n;
// op transposes when the flag is set. lda/ldb/ldc are row strides of A, B and C as stored.
void gemm(bool transpose_a, bool transpose_b, size_t m, size_t n, size_t k, float alpha,
          const float* a, size_t lda, const float* b, size_t ldb, float beta, float* c, size_t ldc);

// The same, with large products cut into blocks of C's rows instead of its columns. For a
// product that writes a weight W[out x in] (a fully connected layer's weight gradient or
// fused update): its rows are the columns forward's gemm() cuts, so both phases touch the
// same rows of W on the same thread and each core keeps its part of W in its cache.
void gemm_split_rows(bool transpose_a, bool transpose_b, size_t m, size_t n, size_t k, float alpha,
                     const float* a, size_t lda, const float* b, size_t ldb, float beta, float* c,
                     size_t ldc);

// The same with three loops, for tests.
void gemm_reference(bool transpose_a, bool transpose_b, size_t m, size_t n, size_t k, float alpha,
                    const float* a, size_t lda, const float* b, size_t ldb, float beta, float* c,
                    size_t ldc);

}  // namespace edgetrain::kernels
