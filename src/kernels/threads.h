// The one place that decides how many threads the library uses, for both of its pools:
// OpenMP (the non-GEMM loops and conv2d's per-sample loop) and OpenBLAS (inside GEMM).
#pragma once

#include <omp.h>

#include <cstddef>

namespace edgetrain::kernels {

struct ThreadPolicy {
  int loop_threads = 1;    // OpenMP threads for the non-GEMM loops; 1: serial
  int sample_threads = 1;  // OpenMP threads for conv2d's per-sample loop; 1: serial
  int blas_threads = 0;    // OpenBLAS threads; 0: leave OpenBLAS's own setting
};

void set_thread_policy(const ThreadPolicy& policy);
const ThreadPolicy& thread_policy();

// A loop does not fork below this many element operations.
constexpr size_t kParallelMinWork = size_t{1} << 15;

// Threads for a loop of `work` element operations: 1 below kParallelMinWork.
int loop_threads(size_t work);

// Calls body(begin, end) on contiguous ranges covering [0, n), one per thread; with one
// thread, body(0, n) on the calling thread and no parallel region at all.
template <typename Body>
void parallel_ranges(size_t n, size_t work_per_item, Body&& body) {
  const int threads = n > 1 ? loop_threads(n * work_per_item) : 1;
  if (threads <= 1) {
    body(size_t{0}, n);
    return;
  }
#pragma omp parallel num_threads(threads)
  {
    const size_t t = static_cast<size_t>(omp_get_thread_num());
    const size_t count = static_cast<size_t>(omp_get_num_threads());
    body(n * t / count, n * (t + 1) / count);
  }
}

// OpenBLAS is held to one thread from construction to destruction (when it had more), so
// that GEMMs called from OpenMP threads do not start OpenBLAS threads of their own.
class SerialBlasScope {
 public:
  SerialBlasScope();
  ~SerialBlasScope();
  SerialBlasScope(const SerialBlasScope&) = delete;
  SerialBlasScope& operator=(const SerialBlasScope&) = delete;

 private:
  int saved_ = 0;
};

// Threads for conv2d's per-sample loop of `work` element operations.
int sample_threads(size_t work);

// Calls body(chunk) for every chunk in [0, chunks), at most sample_threads(work) of them
// at once, OpenBLAS serial meanwhile. Which thread runs a chunk does not change its result.
template <typename Body>
void parallel_chunks(size_t chunks, size_t work, Body&& body) {
  const int threads = chunks > 1 ? sample_threads(work) : 1;
  if (threads <= 1) {
    for (size_t c = 0; c < chunks; ++c) body(c);
    return;
  }
  SerialBlasScope serial_blas;
#pragma omp parallel for num_threads(threads) schedule(static, 1)
  for (size_t c = 0; c < chunks; ++c) body(c);
}

}  // namespace edgetrain::kernels
