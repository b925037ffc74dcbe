// kernels::gemm against the three-loop reference, with every transpose, on shapes below
// and above the size where it cuts C into column blocks run on several threads, and on
// matrix-vector and outer-product shapes; no result may depend on the thread count.
#include <gtest/gtest.h>
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "edgetrain/rng.h"
#include "kernels/gemm.h"

namespace edgetrain::testing {
namespace {

struct Shape {
  size_t m, n, k;
};

std::vector<float> random_values(size_t count, uint64_t seed) {
  Rng rng(seed);
  std::vector<float> values(count);
  for (float& value : values) value = rng.uniform(-1.0f, 1.0f);
  return values;
}

std::vector<float> run_gemm(bool ta, bool tb, const Shape& s, float beta, int threads,
                            bool split_rows) {
  const int saved = omp_get_max_threads();
  omp_set_num_threads(threads);
  const std::vector<float> a = random_values(s.m * s.k, 1), b = random_values(s.k * s.n, 2);
  std::vector<float> c = random_values(s.m * s.n, 3);
  // With beta 0, C is not read: NaN there must not come through.
  if (beta == 0.0f) std::fill(c.begin(), c.end(), std::numeric_limits<float>::quiet_NaN());
  auto* product = split_rows ? kernels::gemm_split_rows : kernels::gemm;
  product(ta, tb, s.m, s.n, s.k, 0.5f, a.data(), ta ? s.m : s.k, b.data(), tb ? s.k : s.n, beta,
          c.data(), s.n);
  omp_set_num_threads(saved);
  return c;
}

TEST(Gemm, MatchesTheReferenceAndDoesNotDependOnThreads) {
  // The MLP's fc1 shapes (blocked), an odd blocked shape, and a small unblocked one.
  // Matrix-vector (m or n of 1; large ones in row blocks) and outer products (k of 1) take
  // their own paths; gemm_split_rows cuts C's rows instead of its columns.
  const std::vector<Shape> shapes = {{64, 256, 784}, {256, 784, 64}, {37, 333, 401}, {5, 7, 3},
                                     {1, 256, 784},  {256, 1, 784},  {256, 784, 1},  {1, 1, 9},
                                     {1, 7, 1},      {300, 500, 1},  {1, 301, 700},  {333, 1, 700},
                                     {8, 256, 784},  {256, 784, 8}};
  EXPECT_GT(kernels::gemm_column_blocks(64, 256, 784), 1u);
  EXPECT_GT(kernels::gemm_column_blocks(37, 333, 401), 1u);
  EXPECT_EQ(kernels::gemm_column_blocks(5, 7, 3), 1u);
  for (const Shape& s : shapes)
    for (bool ta : {false, true})
      for (bool tb : {false, true})
        for (float beta : {0.0f, 1.0f})
          for (bool rows : {false, true}) {
            SCOPED_TRACE(std::to_string(s.m) + "x" + std::to_string(s.n) + "x" +
                         std::to_string(s.k) + (ta ? " A^T" : "") + (tb ? " B^T" : "") + " beta " +
                         std::to_string(beta) + (rows ? " row blocks" : ""));
            const std::vector<float> one = run_gemm(ta, tb, s, beta, 1, rows);
            EXPECT_EQ(one, run_gemm(ta, tb, s, beta, 2, rows));
            EXPECT_EQ(one, run_gemm(ta, tb, s, beta, 3, rows));
            const std::vector<float> a = random_values(s.m * s.k, 1),
                                     b = random_values(s.k * s.n, 2);
            std::vector<float> expected = random_values(s.m * s.n, 3);
            kernels::gemm_reference(ta, tb, s.m, s.n, s.k, 0.5f, a.data(), ta ? s.m : s.k, b.data(),
                                    tb ? s.k : s.n, beta, expected.data(), s.n);
            for (size_t i = 0; i < one.size(); ++i)
              ASSERT_NEAR(one[i], expected[i], 1e-5f * (1.0f + std::sqrt(float(s.k)))) << i;
          }
}

}  // namespace
}  // namespace edgetrain::testing
