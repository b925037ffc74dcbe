#include "layers/batch_normalization.h"

#include <array>
#include <cmath>

#include "edgetrain/error.h"
#include "edgetrain/properties.h"
#include "kernels/elementwise.h"
#include "kernels/threads.h"

namespace edgetrain {
namespace {

// Weight indices, in the order finalize requests them.
enum WeightIndex : size_t { kGamma, kBeta, kRunningMean, kRunningVar };

// A tensor seen as [outer, features, inner]: feature k's values are at
// (o * features + k) * inner + i for every o and i.
struct FeatureLayout {
  size_t outer = 1;
  size_t features = 1;
  size_t inner = 1;
  size_t count() const { return outer * inner; }  // values per feature
};

// `axis` is the N:C:H:W index of the features.
FeatureLayout feature_layout(const TensorShape& shape, size_t axis) {
  const std::array<size_t, 4> dims = shape.dims();
  FeatureLayout layout;
  for (size_t d = 0; d < axis; ++d) layout.outer *= dims[d];
  layout.features = dims[axis];
  for (size_t d = axis + 1; d < dims.size(); ++d) layout.inner *= dims[d];
  return layout;
}

// Calls visit(index) for every value of feature k.
template <typename Visit>
void for_each_value(const FeatureLayout& layout, size_t k, Visit visit) {
  for (size_t o = 0; o < layout.outer; ++o) {
    const size_t start = (o * layout.features + k) * layout.inner;
    for (size_t i = start; i < start + layout.inner; ++i) visit(i);
  }
}

// Sum of term(i) over the values of feature k: span by span (a sample's plane), each span
// in kernels::lane_sum's fixed lanes, the spans in order; the same on any thread count.
template <typename Term>
double feature_sum(const FeatureLayout& layout, size_t k, Term term) {
  double total = 0.0;
  if (layout.inner >= kernels::kSumLanes) {
    for (size_t o = 0; o < layout.outer; ++o) {
      const size_t start = (o * layout.features + k) * layout.inner;
      total += kernels::lane_sum(start, start + layout.inner, term);
    }
    return total;
  }
  // Short spans (features along the width): lanes over the feature's values in order.
  return kernels::lane_sum(0, layout.count(), [&](size_t p) {
    return term((p / layout.inner * layout.features + k) * layout.inner + p % layout.inner);
  });
}

// Calls f(k) for every feature; features are independent and each one's sums run in
// the serial order, so the thread count does not change any result.
template <typename F>
void each_feature(const FeatureLayout& layout, size_t cost, F f) {
  kernels::parallel_ranges(layout.features, layout.count() * cost, [&](size_t begin, size_t end) {
    for (size_t k = begin; k < end; ++k) f(k);
  });
}

struct Moments {
  double mean = 0.0;
  double variance = 0.0;  // biased: divided by the count
};

// Two passes in double: the one-pass formula E[x^2] - E[x]^2 cancels badly.
Moments feature_moments(const float* x, const FeatureLayout& layout, size_t k) {
  Moments moments;
  const double count = static_cast<double>(layout.count());
  moments.mean =
      feature_sum(layout, k, [x](size_t i) { return static_cast<double>(x[i]); }) / count;
  const double mean = moments.mean;
  moments.variance = feature_sum(layout, k,
                                 [x, mean](size_t i) {
                                   const double centered = x[i] - mean;
                                   return centered * centered;
                                 }) /
                     count;
  return moments;
}

// Writes x-hat = (x - mean) * inv_std and y = gamma * x-hat + beta for feature k.
void normalize_feature(const float* x, float* x_hat, float* y, const FeatureLayout& layout,
                       size_t k, float mean, float inv_std, float gamma, float beta) {
  for_each_value(layout, k, [&](size_t i) {
    x_hat[i] = (x[i] - mean) * inv_std;
    y[i] = gamma * x_hat[i] + beta;
  });
}

// Sums over feature k of dL/dy and of dL/dy * x-hat: the gradients of beta and gamma.
struct GradientSums {
  double dy = 0.0;
  double dy_x_hat = 0.0;
};

GradientSums feature_gradient_sums(const float* dy, const float* x_hat, const FeatureLayout& layout,
                                   size_t k) {
  GradientSums sums;
  sums.dy = feature_sum(layout, k, [dy](size_t i) { return static_cast<double>(dy[i]); });
  sums.dy_x_hat = feature_sum(
      layout, k, [dy, x_hat](size_t i) { return static_cast<double>(dy[i]) * x_hat[i]; });
  return sums;
}

// "channel", "height", "width" or their N:C:H:W index 1, 2, 3.
size_t parse_axis(const std::string& value, const std::string& owner, const std::string& key) {
  const std::string axis =
      parse_choice(value, {"channel", "height", "width", "1", "2", "3"}, owner, key);
  if (axis == "channel" || axis == "1") return 1;
  if (axis == "height" || axis == "2") return 2;
  return 3;
}

}  // namespace

bool BatchNormalizationLayer::set_property(const std::string& key, const std::string& value,
                                           const std::string& owner) {
  if (key == "axis") {
    axis_property_ = parse_axis(value, owner, key);
  } else if (key == "momentum") {
    momentum_ = parse_unit_interval(value, owner, key);
  } else if (key == "epsilon") {
    epsilon_ = parse_positive_float(value, owner, key);
  } else if (key == "gamma_initializer") {
    gamma_initializer_ = parse_initializer(value, owner, key);
  } else if (key == "beta_initializer") {
    beta_initializer_ = parse_initializer(value, owner, key);
  } else if (key == "moving_mean_initializer") {
    moving_mean_initializer_ = parse_initializer(value, owner, key);
  } else if (key == "moving_variance_initializer") {
    moving_variance_initializer_ = parse_initializer(value, owner, key);
  } else {
    return false;
  }
  return true;
}

std::string BatchNormalizationLayer::property_keys() const {
  return "axis, momentum, epsilon, gamma_initializer, beta_initializer, "
         "moving_mean_initializer, moving_variance_initializer";
}

void BatchNormalizationLayer::finalize(FinalizeContext& context) {
  context.expect_inputs(1, 1);
  const TensorShape& input = context.input_shape();
  axis_ = axis_property_ != 0 ? axis_property_ : (input.channel == 1 && input.height == 1 ? 3 : 1);
  owner_ = context.owner();
  context.set_output_shape(input);

  std::array<size_t, 4> dims = {1, 1, 1, 1};
  dims[axis_] = input.dims()[axis_];
  const TensorShape features(dims[0], dims[1], dims[2], dims[3]);
  context.request_weight({.name = "gamma", .shape = features, .initializer = gamma_initializer_});
  context.request_weight({.name = "beta", .shape = features, .initializer = beta_initializer_});
  // Persistent state that training forwards update; no gradient, no optimizer state.
  context.request_weight({.name = "running_mean",
                          .shape = features,
                          .initializer = moving_mean_initializer_,
                          .trainable = false});
  context.request_weight({.name = "running_var",
                          .shape = features,
                          .initializer = moving_variance_initializer_,
                          .trainable = false});
  // Sized for the compiled batch; a smaller last batch uses the first samples.
  normalized_ = context.request_tensor("normalized", input.with_batch(context.batch()),
                                       Lifespan::forward_to_backward);
  inv_std_ = context.request_tensor("inv_std", features, Lifespan::forward_to_backward);
}

void BatchNormalizationLayer::forward(RunContext& context) {
  if (context.training())
    normalize_with_batch_statistics(context);
  else
    normalize_with_running_statistics(context);
}

void BatchNormalizationLayer::normalize_with_batch_statistics(RunContext& context) {
  const FeatureLayout layout = feature_layout(context.input().shape(), axis_);
  const size_t count = layout.count();
  if (count < 2)
    throw ShapeError(owner_ + ": training needs more than one value per feature to estimate " +
                     "a variance, got input " + context.input().shape().str() + " with " +
                     std::to_string(layout.features) + " features: use a larger batch");
  const float* x = context.input().data();
  float* x_hat = context.tensor(normalized_).data();
  float* y = context.output().data();
  float* inv_std = context.tensor(inv_std_).data();
  const float* gamma = context.weight(kGamma).data();
  const float* beta = context.weight(kBeta).data();
  float* running_mean = context.weight(kRunningMean).data();
  float* running_var = context.weight(kRunningVar).data();
  const double unbiased = static_cast<double>(count) / static_cast<double>(count - 1);
  each_feature(layout, 4, [&](size_t k) {
    const Moments moments = feature_moments(x, layout, k);
    inv_std[k] = static_cast<float>(1.0 / std::sqrt(moments.variance + epsilon_));
    normalize_feature(x, x_hat, y, layout, k, static_cast<float>(moments.mean), inv_std[k],
                      gamma[k], beta[k]);
    running_mean[k] =
        (1.0f - momentum_) * running_mean[k] + momentum_ * static_cast<float>(moments.mean);
    running_var[k] = (1.0f - momentum_) * running_var[k] +
                     momentum_ * static_cast<float>(moments.variance * unbiased);
  });
}

// Also saves x-hat and inv_std, so that backward works after an evaluation forward.
void BatchNormalizationLayer::normalize_with_running_statistics(RunContext& context) {
  const FeatureLayout layout = feature_layout(context.input().shape(), axis_);
  const float* x = context.input().data();
  float* x_hat = context.tensor(normalized_).data();
  float* y = context.output().data();
  float* inv_std = context.tensor(inv_std_).data();
  const float* gamma = context.weight(kGamma).data();
  const float* beta = context.weight(kBeta).data();
  const float* running_mean = context.weight(kRunningMean).data();
  const float* running_var = context.weight(kRunningVar).data();
  each_feature(layout, 2, [&](size_t k) {
    inv_std[k] = 1.0f / std::sqrt(running_var[k] + epsilon_);
    normalize_feature(x, x_hat, y, layout, k, running_mean[k], inv_std[k], gamma[k], beta[k]);
  });
}

void BatchNormalizationLayer::calc_gradient(RunContext& context) {
  const Tensor& output_grad = context.output_grad();
  const FeatureLayout features = feature_layout(output_grad.shape(), axis_);
  const float* x_hat = context.tensor(normalized_).data();
  each_feature(features, 2, [&](size_t k) {
    const GradientSums sums = feature_gradient_sums(output_grad.data(), x_hat, features, k);
    if (context.needs_weight_grad(kGamma))
      context.weight_grad(kGamma)[k] = static_cast<float>(sums.dy_x_hat);
    if (context.needs_weight_grad(kBeta))
      context.weight_grad(kBeta)[k] = static_cast<float>(sums.dy);
  });
}

// With batch statistics, mean and variance depend on every x of the feature:
//   dx = gamma * inv_std * (dy - mean(dy) - x-hat * mean(dy * x-hat)).
// With running statistics they are constants: dx = gamma * inv_std * dy.
void BatchNormalizationLayer::calc_derivative(RunContext& context) {
  if (!context.needs_input_grad()) return;
  const float* dy = context.output_grad().data();
  float* dx = context.input_grad().data();
  const FeatureLayout features = feature_layout(context.output_grad().shape(), axis_);
  const float* x_hat = context.tensor(normalized_).data();
  const float* inv_std = context.tensor(inv_std_).data();
  const float* gamma = context.weight(kGamma).data();
  const double count = static_cast<double>(features.count());
  const bool training = context.training();
  each_feature(features, 4, [&](size_t k) {
    const float scale = gamma[k] * inv_std[k];
    if (!training) {
      for_each_value(features, k, [&](size_t i) { dx[i] = scale * dy[i]; });
      return;
    }
    const GradientSums sums = feature_gradient_sums(dy, x_hat, features, k);
    const float mean_dy = static_cast<float>(sums.dy / count);
    const float mean_dy_x_hat = static_cast<float>(sums.dy_x_hat / count);
    for_each_value(features, k,
                   [&](size_t i) { dx[i] = scale * (dy[i] - mean_dy - x_hat[i] * mean_dy_x_hat); });
  });
}

}  // namespace edgetrain
