#include "layers/losses/focal_loss.h"

#include <cmath>

#include "edgetrain/error.h"
#include "edgetrain/properties.h"
#include "layers/losses/log_sum_exp.h"

namespace edgetrain {
namespace {

// d/d(log p) of (1 - p)^gamma * log p, from log p. At p = 1 with gamma < 1 the second
// term's 0 * infinity has the limit 0, as (1 - p)^(gamma - 1) * log p ~ -(1 - p)^gamma.
double focal_slope(double log_p, double gamma) {
  const double p = std::exp(log_p);
  const double one_minus_p = -std::expm1(log_p);
  const double modulation = std::pow(one_minus_p, gamma);
  if (one_minus_p <= 0.0) return modulation;
  return modulation - gamma * p * log_p * modulation / one_minus_p;
}

}  // namespace

bool FocalLoss::set_property(const std::string& key, const std::string& value,
                             const std::string& owner) {
  if (key == "gamma") {
    gamma_ = parse_non_negative_float(value, owner, key);
  } else if (key == "alpha") {
    std::vector<float> weights;
    for (const std::string& piece : split_list(value))
      weights.push_back(parse_non_negative_float(piece, owner, key));
    if (weights.empty())
      throw PropertyError(owner + ": property 'alpha' has bad value '" + value +
                          "': expected one weight >= 0 or one per class, comma-separated");
    alpha_ = std::move(weights);
  } else {
    return false;
  }
  return true;
}

void FocalLoss::finalize(FinalizeContext& context) {
  LossLayer::finalize(context);
  const size_t classes = context.input_shape().width;
  if (alpha_.size() != 1 && alpha_.size() != classes)
    throw PropertyError(context.owner() + ": property 'alpha' has " +
                        std::to_string(alpha_.size()) + " weights, but the input from layer '" +
                        context.input_name() + "' has " + std::to_string(classes) +
                        " classes (shape " + context.input_shape().str() +
                        "): give one weight or one per class");
}

void FocalLoss::forward(RunContext& context) {
  const Tensor& logits = context.input();
  const Tensor& label = context.label();
  const size_t classes = logits.shape().width;
  const size_t rows = logits.size() / classes;
  double total = 0.0;
  for (size_t row = 0; row < rows; ++row) {
    const float* x = logits.data() + row * classes;
    const float* y = label.data() + row * classes;
    const double log_normalizer = log_sum_exp(x, classes);
    for (size_t c = 0; c < classes; ++c) {
      if (y[c] == 0.0f) continue;  // most of a one-hot row: skip its pow and expm1
      const double log_p = x[c] - log_normalizer;
      total -= static_cast<double>(y[c]) * alpha(c) *
               std::pow(-std::expm1(log_p), static_cast<double>(gamma_)) * log_p;
    }
  }
  context.output()[0] = static_cast<float>(total / static_cast<double>(rows));
}

void FocalLoss::calc_derivative(RunContext& context) {
  const Tensor& logits = context.input();
  const Tensor& label = context.label();
  Tensor& grad = context.input_grad();
  const size_t classes = logits.shape().width;
  const size_t rows = logits.size() / classes;
  const double scale = 1.0 / static_cast<double>(rows);
  for (size_t row = 0; row < rows; ++row) {
    const float* x = logits.data() + row * classes;
    const float* y = label.data() + row * classes;
    float* g = grad.data() + row * classes;
    const double log_normalizer = log_sum_exp(x, classes);
    // w[c] * g[c] is zero wherever the label is zero (most of a one-hot row): only those
    // classes pay for the pow and expm1, once for the row's sum and once for their own term.
    auto weighted_slope = [&](size_t c) {
      const double weight = static_cast<double>(y[c]) * alpha(c);
      return weight == 0.0 ? 0.0 : weight * focal_slope(x[c] - log_normalizer, gamma_);
    };
    double slope_sum = 0.0;
    for (size_t c = 0; c < classes; ++c) slope_sum += weighted_slope(c);
    for (size_t c = 0; c < classes; ++c) {
      const double p = std::exp(x[c] - log_normalizer);
      g[c] = static_cast<float>(scale * (p * slope_sum - weighted_slope(c)));
    }
  }
}

}  // namespace edgetrain
