#include "layers/reparametrize.h"

#include <cmath>

namespace edgetrain {

void ReparametrizeLayer::finalize(FinalizeContext& context) {
  context.expect_inputs(2, 2);
  const TensorShape& mu = context.input_shape(0);
  if (!(context.input_shape(1) == mu))
    context.shape_error(
        1, mu.str() + " like the mean, input 0 from layer '" + context.input_name(0) + "'");
  context.set_output_shape(mu);
  // Sized for the compiled batch, of which a smaller last batch uses the first samples.
  scaled_noise_ = context.request_tensor("scaled_noise", mu.with_batch(context.batch()),
                                         Lifespan::forward_to_backward);
}

void ReparametrizeLayer::forward(RunContext& context) {
  const Tensor& mu = context.input(0);
  Tensor& z = context.output();
  if (!context.training()) {
    z.copy_from(mu);
    return;
  }
  const Tensor& logvar = context.input(1);
  float* scaled_noise = context.tensor(scaled_noise_).data();
  Rng& rng = context.rng();
  for (size_t i = 0; i < mu.size(); ++i) {
    scaled_noise[i] = rng.normal() * std::exp(0.5f * logvar[i]);
    z[i] = mu[i] + scaled_noise[i];
  }
}

void ReparametrizeLayer::calc_derivative(RunContext& context) {
  const Tensor& z_grad = context.output_grad();
  if (context.needs_input_grad(0)) context.input_grad(0).copy_from(z_grad);
  if (!context.needs_input_grad(1)) return;
  Tensor& logvar_grad = context.input_grad(1);
  if (!context.training()) {
    logvar_grad.fill(0.0f);  // z = mu does not depend on logvar
    return;
  }
  const float* scaled_noise = context.tensor(scaled_noise_).data();
  for (size_t i = 0; i < z_grad.size(); ++i) logvar_grad[i] = 0.5f * z_grad[i] * scaled_noise[i];
}

}  // namespace edgetrain
