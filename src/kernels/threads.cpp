#include "kernels/threads.h"

#include <cblas.h>

namespace edgetrain::kernels {

int max_threads() {
  if (omp_in_parallel()) return 1;
  return std::clamp(omp_get_max_threads(), 1, kMaxThreads);
}

int loop_threads(size_t work) { return work < kParallelMinWork ? 1 : max_threads(); }

void apply_thread_policy() {
  if (openblas_get_num_threads() != 1) openblas_set_num_threads(1);
}

}  // namespace edgetrain::kernels
