// The Inception-Score math on distributions whose score is known by hand.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "edgetrain/error.h"
#include "edgetrain/sample_quality.h"

namespace edgetrain::testing {
namespace {

std::string error_of(const std::vector<float>& values, size_t classes) {
  try {
    inception_score(values, classes);
  } catch (const Error& error) {
    return error.what();
  }
  return "no error";
}

TEST(InceptionScore, UniformPredictionsScoreOne) {
  EXPECT_NEAR(inception_score(std::vector<float>(7 * 10, 0.1f), 10), 1.0, 1e-6);
}

TEST(InceptionScore, ConfidentAndEvenlySpreadScoresTheClassCount) {
  for (size_t classes : {2u, 3u, 10u}) {
    std::vector<float> one_hot(2 * classes * classes, 0.0f);  // each class twice
    for (size_t r = 0; r < 2 * classes; ++r) one_hot[r * classes + r % classes] = 1.0f;
    EXPECT_NEAR(inception_score(one_hot, classes), static_cast<double>(classes), 1e-9) << classes;
  }
}

TEST(InceptionScore, ConfidentButAllOneClassScoresOne) {
  std::vector<float> same(5 * 4, 0.0f);
  for (size_t r = 0; r < 5; ++r) same[r * 4 + 2] = 1.0f;
  EXPECT_NEAR(inception_score(same, 4), 1.0, 1e-9);
}

TEST(InceptionScore, MixedCaseByHand) {
  // p(y) = (0.75, 0.25); KL = log(4/3) and 0.5 log(2/3) + 0.5 log 2.
  const double expected =
      std::exp(0.5 * (std::log(4.0 / 3.0) + 0.5 * std::log(2.0 / 3.0) + 0.5 * std::log(2.0)));
  EXPECT_NEAR(inception_score(std::vector<float>{1.0f, 0.0f, 0.5f, 0.5f}, 2), expected, 1e-6);
}

TEST(InceptionScore, RejectsWhatIsNotProbabilities) {
  EXPECT_EQ(error_of({0.5f, 0.5f}, 0), "inception_score(): 0 classes");
  EXPECT_EQ(error_of({}, 2), "inception_score(): no samples");
  EXPECT_EQ(error_of({0.5f, 0.5f, 1.0f}, 2),
            "inception_score(): 3 values are not whole rows of 2 classes");
  EXPECT_NE(error_of({1.0f, 0.0f, 1.5f, -0.5f}, 2).find("row 1 has the value -0.5"),
            std::string::npos);
  EXPECT_NE(
      error_of({std::numeric_limits<float>::quiet_NaN(), 1.0f}, 2).find("row 0 has the value"),
      std::string::npos);
  EXPECT_NE(error_of({2.0f, 3.0f}, 2).find("row 0 sums to 5"), std::string::npos);
}

TEST(InceptionScore, SoftmaxRowsOfLogits) {
  const std::vector<float> probabilities =
      softmax_rows(std::vector<float>{0.0f, 0.0f, 1000.0f, 0.0f, std::log(3.0f), 0.0f}, 2);
  ASSERT_EQ(probabilities.size(), 6u);
  EXPECT_FLOAT_EQ(probabilities[0], 0.5f);
  EXPECT_FLOAT_EQ(probabilities[2], 1.0f);  // no overflow
  EXPECT_FLOAT_EQ(probabilities[3], 0.0f);
  EXPECT_FLOAT_EQ(probabilities[4], 0.75f);
  EXPECT_THROW(softmax_rows(std::vector<float>{1.0f, 2.0f, 3.0f}, 2), Error);
}

}  // namespace
}  // namespace edgetrain::testing
