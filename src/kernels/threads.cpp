#include "kernels/threads.h"

#include <cblas.h>

namespace edgetrain::kernels {
namespace {
ThreadPolicy g_policy;
}  // namespace

void set_thread_policy(const ThreadPolicy& policy) {
  g_policy = policy;
  if (g_policy.loop_threads < 1) g_policy.loop_threads = 1;
  if (g_policy.sample_threads < 1) g_policy.sample_threads = 1;
  if (g_policy.blas_threads > 0) openblas_set_num_threads(g_policy.blas_threads);
}

const ThreadPolicy& thread_policy() { return g_policy; }

int loop_threads(size_t work) {
  // Inside a parallel region (conv2d's per-sample loop) loops stay serial.
  if (work < kParallelMinWork || omp_in_parallel()) return 1;
  return g_policy.loop_threads;
}

int sample_threads(size_t work) {
  if (work < kParallelMinWork || omp_in_parallel()) return 1;
  return g_policy.sample_threads;
}

SerialBlasScope::SerialBlasScope() : saved_(openblas_get_num_threads()) {
  if (saved_ > 1) openblas_set_num_threads(1);
}

SerialBlasScope::~SerialBlasScope() {
  if (saved_ > 1) openblas_set_num_threads(saved_);
}

}  // namespace edgetrain::kernels
