#include "layers/losses/vae_loss.h"

#include <algorithm>
#include <cmath>

#include "edgetrain/error.h"
#include "kernels/elementwise.h"
#include "kernels/threads.h"

namespace edgetrain {
namespace {

enum Input : size_t { kRecon = 0, kMu = 1, kLogvar = 2 };

// torch's binary_cross_entropy bounds log(0) = -inf to this.
constexpr double kMinLog = -100.0;
// ...and bounds the denominator recon * (1 - recon) of its gradient below by this.
constexpr float kMinVariance = 1e-12f;

// The reconstruction term's sum runs as this many fixed chunks (on the OpenMP threads),
// each in kernels::lane_sum's lanes, the chunks then added in order: two logarithms per
// value made the serial loop an eighth of a VAE step; the result does not follow the
// thread count.
constexpr size_t kChunks = 4;

}  // namespace

void VaeLoss::finalize(FinalizeContext& context) {
  // The model's loss= property would attach this loss to the last layer alone.
  if (context.num_inputs() != 3)
    throw ShapeError(context.owner() + " has " + std::to_string(context.num_inputs()) +
                     " input(s), expected 3: reconstruction, mean and log-variance (add it as a "
                     "layer with input_layers=RECON,MU,LOGVAR)");
  const TensorShape& recon = context.input_shape(kRecon);
  const TensorShape& mu = context.input_shape(kMu);
  if (mu.batch != recon.batch)
    context.shape_error(kMu, "a batch of " + std::to_string(recon.batch) +
                                 " like the reconstruction, input 0 from layer '" +
                                 context.input_name(kRecon) + "' of shape " + recon.str());
  if (!(context.input_shape(kLogvar) == mu))
    context.shape_error(
        kLogvar, mu.str() + " like the mean, input 1 from layer '" + context.input_name(kMu) + "'");
  context.set_output_shape(TensorShape(1, 1, 1, 1));
}

void VaeLoss::forward(RunContext& context) {
  const Tensor& recon = context.input(kRecon);
  const Tensor& mu = context.input(kMu);
  const Tensor& logvar = context.input(kLogvar);
  const Tensor& target = context.label();
  const float* p = recon.data();
  const float* y = target.data();
  const size_t n = recon.size();
  double chunk_sums[kChunks] = {};
  kernels::parallel_chunks(kChunks, kChunks, 40 * n, [&](size_t chunk, size_t) {
    chunk_sums[chunk] =
        kernels::lane_sum(n * chunk / kChunks, n * (chunk + 1) / kChunks, [p, y](size_t i) {
          const double q = p[i];
          return y[i] * std::max(std::log(q), kMinLog) +
                 (1.0 - y[i]) * std::max(std::log(1.0 - q), kMinLog);
        });
  });
  double bce = 0.0;
  for (double sum : chunk_sums) bce -= sum;
  double kl = 0.0;
  for (size_t i = 0; i < mu.size(); ++i) {
    const double m = mu[i], lv = logvar[i];
    kl -= 0.5 * (1.0 + lv - m * m - std::exp(lv));
  }
  // Activations carry the running batch, which a last partial batch makes smaller.
  context.output()[0] = static_cast<float>((bce + kl) / static_cast<double>(recon.batch()));
}

void VaeLoss::calc_derivative(RunContext& context) {
  const float scale = 1.0f / static_cast<float>(context.input(kRecon).batch());
  if (context.needs_input_grad(kRecon)) {
    const Tensor& recon = context.input(kRecon);
    const Tensor& target = context.label();
    Tensor& grad = context.input_grad(kRecon);
    for (size_t i = 0; i < recon.size(); ++i) {
      const float p = recon[i];
      grad[i] = scale * (p - target[i]) / std::max(p * (1.0f - p), kMinVariance);
    }
  }
  if (context.needs_input_grad(kMu)) {
    const Tensor& mu = context.input(kMu);
    Tensor& grad = context.input_grad(kMu);
    for (size_t i = 0; i < mu.size(); ++i) grad[i] = scale * mu[i];
  }
  if (context.needs_input_grad(kLogvar)) {
    const Tensor& logvar = context.input(kLogvar);
    Tensor& grad = context.input_grad(kLogvar);
    for (size_t i = 0; i < logvar.size(); ++i)
      grad[i] = 0.5f * scale * (std::exp(logvar[i]) - 1.0f);
  }
}

}  // namespace edgetrain
