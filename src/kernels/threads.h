// The threads edgetrain uses, decided here and nowhere else (docs/architecture.md,
// "Threads"; the measurements behind it are in bench/README.md):
//  - OpenMP runs edgetrain's own loops: conv2d's per-sample loop, pooling, activations,
//    batch norm, elementwise kernels, optimizers. It uses omp_get_max_threads() threads
//    (OMP_NUM_THREADS, omp_set_num_threads; all cores by default), at most kMaxThreads,
//    and forks only for loops of at least kParallelMinWork element operations. On 2 free
//    cores it made a training step 1.5x faster; where other processes hold the cores a
//    parallel region waits for its descheduled threads: run with OMP_NUM_THREADS=1 there.
//  - OpenBLAS runs every GEMM on the calling thread (apply_thread_policy): with OpenMP
//    and OpenBLAS both running 2 threads on 2 cores, the two pools fought for the cores.
//  - Results do not depend on the thread count: loops split only independent work
//    (elements, planes, features, samples), every reduction keeps one order, and
//    conv2d's weight gradient sums fixed chunks of the batch (kGradientChunks).
#pragma once

#include <omp.h>

#include <algorithm>
#include <cstddef>

namespace edgetrain::kernels {

// Most threads edgetrain runs at once; conv2d plans its per-thread scratch for up to
// min(kMaxThreads, omp_get_max_threads()) threads.
constexpr int kMaxThreads = 4;
// Chunks of the batch whose conv2d weight gradients are summed separately and then added
// in chunk order: fixed, so that the sum's order does not follow the thread count.
constexpr size_t kGradientChunks = 4;
// A loop does not fork below this many element operations.
constexpr size_t kParallelMinWork = size_t{1} << 15;

// Threads a loop may use now: min(omp_get_max_threads(), kMaxThreads); 1 inside a
// parallel region (no nesting).
int max_threads();

// Threads for a loop of `work` element operations: 1 below kParallelMinWork.
int loop_threads(size_t work);

// Sets OpenBLAS to one thread. Model::initialize calls it; calling it again is harmless.
void apply_thread_policy();

// Calls body(begin, end) on contiguous ranges covering [0, n), one per thread; with one
// thread, body(0, n) on the calling thread and no parallel region at all. For
// independent items only: which thread runs an item must not change its result.
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

// Calls body(chunk, slot) for every chunk in [0, chunks), on at most `slots` threads at
// once (and loop_threads(work)); slot < slots is the running thread's index, for
// per-thread scratch. Chunks are handed out in order, contiguously per thread.
template <typename Body>
void parallel_chunks(size_t chunks, size_t slots, size_t work, Body&& body) {
  const int threads =
      std::min<int>(static_cast<int>(std::min(chunks, slots)), chunks > 1 ? loop_threads(work) : 1);
  if (threads <= 1) {
    for (size_t c = 0; c < chunks; ++c) body(c, size_t{0});
    return;
  }
#pragma omp parallel for num_threads(threads) schedule(static)
  for (size_t c = 0; c < chunks; ++c) body(c, static_cast<size_t>(omp_get_thread_num()));
}

}  // namespace edgetrain::kernels
