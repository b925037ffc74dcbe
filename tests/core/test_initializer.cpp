// Initializers against the formulas in edgetrain/initializer.h. Statistical checks use
// a large tensor and tolerances of kSigmas standard errors, so a correct implementation
// fails with negligible probability while a wrong formula (a fan swapped, a missing
// factor of 2, uniform instead of normal) fails by many standard errors.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "edgetrain/error.h"
#include "edgetrain/initializer.h"
#include "edgetrain/rng.h"

namespace edgetrain {
namespace {

constexpr size_t kSamples = 200001;  // odd: the last Box-Muller pair is half used
constexpr size_t kFanIn = 300;
constexpr size_t kFanOut = 100;  // differs from kFanIn so a swapped fan shows
constexpr double kSigmas = 6.0;

struct Samples {
  std::vector<float> values;
  double mean = 0.0;
  double stddev = 0.0;
  float min = 0.0f;
  float max = 0.0f;
};

Samples draw(Initializer initializer, uint64_t seed = 1) {
  Samples samples;
  samples.values.assign(kSamples, 7.0f);  // garbage that every initializer must overwrite
  Tensor tensor(samples.values.data(), TensorShape(1, 1, 1, kSamples));
  Rng rng(seed);
  initialize(tensor, initializer, kFanIn, kFanOut, rng);
  double sum = 0.0, sum_squares = 0.0;
  samples.min = samples.max = samples.values[0];
  for (float value : samples.values) {
    sum += value;
    sum_squares += static_cast<double>(value) * value;
    samples.min = std::min(samples.min, value);
    samples.max = std::max(samples.max, value);
  }
  samples.mean = sum / kSamples;
  samples.stddev = std::sqrt(sum_squares / kSamples - samples.mean * samples.mean);
  return samples;
}

// Mean 0 and standard deviation `stddev`, within kSigmas standard errors. The relative
// standard error of a sample standard deviation is sqrt((kurtosis - 1) / (4 n)); the
// normal's kurtosis of 3 bounds the uniform's 1.8.
void expect_moments(const Samples& samples, double stddev) {
  const double n = static_cast<double>(kSamples);
  EXPECT_NEAR(samples.mean, 0.0, kSigmas * stddev / std::sqrt(n));
  EXPECT_NEAR(samples.stddev, stddev, kSigmas * stddev * std::sqrt(2.0 / (4.0 * n)));
}

// U(-bound, bound): every value in [-bound, bound), the range filled to its ends, and
// the uniform's standard deviation bound / sqrt(3).
void expect_uniform(Initializer initializer, double bound) {
  SCOPED_TRACE(initializer_name(initializer));
  const Samples samples = draw(initializer);
  EXPECT_GE(samples.min, -bound);
  EXPECT_LT(samples.max, bound);
  // With 2e5 samples, a gap of bound / 1000 at either end has probability ~e^-100.
  EXPECT_LT(samples.min, -bound * 0.999);
  EXPECT_GT(samples.max, bound * 0.999);
  expect_moments(samples, bound / std::sqrt(3.0));
}

// N(0, stddev^2): the moments, and the normal's 68.27% of values within one stddev
// (a uniform of the same stddev has 57.7%).
void expect_normal(Initializer initializer, double stddev) {
  SCOPED_TRACE(initializer_name(initializer));
  const Samples samples = draw(initializer);
  expect_moments(samples, stddev);
  size_t within = 0;
  for (float value : samples.values) within += std::abs(value) < stddev ? 1 : 0;
  const double fraction = static_cast<double>(within) / kSamples;
  const double p = std::erf(1.0 / std::sqrt(2.0));
  EXPECT_NEAR(fraction, p, kSigmas * std::sqrt(p * (1.0 - p) / kSamples));
}

}  // namespace

TEST(Initializer, XavierUniform) {
  expect_uniform(Initializer::xavier_uniform, std::sqrt(6.0 / 400));
}
TEST(Initializer, XavierNormal) { expect_normal(Initializer::xavier_normal, std::sqrt(2.0 / 400)); }
TEST(Initializer, HeUniform) { expect_uniform(Initializer::he_uniform, std::sqrt(6.0 / 300)); }
TEST(Initializer, HeNormal) { expect_normal(Initializer::he_normal, std::sqrt(2.0 / 300)); }
TEST(Initializer, LecunUniform) {
  expect_uniform(Initializer::lecun_uniform, std::sqrt(3.0 / 300));
}
TEST(Initializer, LecunNormal) { expect_normal(Initializer::lecun_normal, std::sqrt(1.0 / 300)); }

TEST(Initializer, ZerosAndOnesAreExact) {
  for (float value : draw(Initializer::zeros).values) ASSERT_EQ(value, 0.0f);
  for (float value : draw(Initializer::ones).values) ASSERT_EQ(value, 1.0f);
}

TEST(Initializer, SameSeedGivesSameBits) {
  for (Initializer initializer : {Initializer::xavier_uniform, Initializer::he_normal}) {
    SCOPED_TRACE(initializer_name(initializer));
    const std::vector<float> first = draw(initializer, 11).values;
    const std::vector<float> second = draw(initializer, 11).values;
    EXPECT_EQ(std::memcmp(first.data(), second.data(), first.size() * sizeof(float)), 0);
  }
}

TEST(Initializer, DifferentSeedsDiffer) {
  for (Initializer initializer : {Initializer::xavier_uniform, Initializer::he_normal}) {
    SCOPED_TRACE(initializer_name(initializer));
    const std::vector<float> first = draw(initializer, 11).values;
    const std::vector<float> second = draw(initializer, 12).values;
    size_t equal = 0;
    for (size_t i = 0; i < first.size(); ++i) equal += first[i] == second[i] ? 1 : 0;
    EXPECT_LT(equal, first.size() / 1000);
  }
}

TEST(Initializer, ReseedingRestartsTheNormalStream) {
  // A normal draw leaves half a Box-Muller pair behind; seed() must drop it.
  std::vector<float> fresh(5), reseeded(5);
  Tensor fresh_tensor(fresh.data(), TensorShape(1, 1, 1, 5));
  Tensor reseeded_tensor(reseeded.data(), TensorShape(1, 1, 1, 5));
  Rng first(3);
  initialize(fresh_tensor, Initializer::he_normal, 4, 4, first);
  Rng second(99);
  second.normal();
  second.seed(3);
  initialize(reseeded_tensor, Initializer::he_normal, 4, 4, second);
  EXPECT_EQ(fresh, reseeded);
}

TEST(Initializer, ParsesNamesAndAliases) {
  const std::string owner = "layer 'fc' (fully_connected)";
  EXPECT_EQ(parse_initializer("xavier_uniform", owner, "weight_initializer"),
            Initializer::xavier_uniform);
  EXPECT_EQ(parse_initializer("glorot_uniform", owner, "weight_initializer"),
            Initializer::xavier_uniform);
  EXPECT_EQ(parse_initializer("Glorot_Normal", owner, "weight_initializer"),
            Initializer::xavier_normal);
  EXPECT_EQ(parse_initializer("kaiming_uniform", owner, "weight_initializer"),
            Initializer::he_uniform);
  EXPECT_EQ(parse_initializer("kaiming_normal", owner, "weight_initializer"),
            Initializer::he_normal);
  EXPECT_EQ(parse_initializer("lecun_normal", owner, "weight_initializer"),
            Initializer::lecun_normal);
  for (Initializer initializer :
       {Initializer::zeros, Initializer::ones, Initializer::xavier_uniform,
        Initializer::xavier_normal, Initializer::he_uniform, Initializer::he_normal,
        Initializer::lecun_uniform, Initializer::lecun_normal})
    EXPECT_EQ(parse_initializer(initializer_name(initializer), owner, "bias_initializer"),
              initializer);
}

TEST(Initializer, UnknownNameListsTheNames) {
  try {
    parse_initializer("glorot", "layer 'fc' (fully_connected)", "weight_initializer");
    FAIL() << "expected an error";
  } catch (const PropertyError& error) {
    const std::string message = error.what();
    for (const char* part : {"layer 'fc' (fully_connected)", "weight_initializer", "'glorot'",
                             "zeros", "ones", "xavier_uniform", "glorot_normal", "he_normal",
                             "kaiming_uniform", "lecun_uniform", "lecun_normal"})
      EXPECT_NE(message.find(part), std::string::npos)
          << "'" << part << "' missing from: " << message;
  }
}

}  // namespace edgetrain

namespace edgetrain {
namespace {

TEST(RngState, RestoresTheExactStream) {
  Rng rng(11);
  rng.normal();  // leaves a spare normal in the state
  const std::string saved = rng.state();
  std::vector<float> expected;
  for (int i = 0; i < 5; ++i) expected.push_back(rng.normal());
  Rng restored(999);
  restored.set_state(saved);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(restored.normal(), expected[i]);
  EXPECT_THROW(restored.set_state("not a state"), Error);
}

}  // namespace
}  // namespace edgetrain
