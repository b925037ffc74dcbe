// reparametrize: the reparametrization trick of a variational autoencoder (Kingma and
// Welling, 2014). It samples z ~ N(mu, exp(logvar)) as a differentiable function of mu
// and logvar, so that gradients reach the encoder:
//   z = mu + eps * exp(logvar / 2),  eps ~ N(0, 1)
// In PyTorch: `mu + torch.randn_like(mu) * torch.exp(0.5 * logvar)`.
//   inputs  mu N:C:H:W and logvar N:C:H:W (input_layers=MU_LAYER,LOGVAR_LAYER)
//   output  z  N:C:H:W, no weights, no properties
//   dL/dmu = dL/dz,  dL/dlogvar = dL/dz * eps * exp(logvar / 2) / 2
// Training draws eps[i] as the i-th Rng::normal() of the run's seeded stream, in row-major
// order, so a seed fixes the samples. Evaluation returns z = mu, the mean of the posterior,
// as PyTorch VAEs commonly do at inference; its backward passes dL/dz to mu and gives
// logvar a zero gradient. Backward follows the mode of the forward before it.
// Forward keeps eps * exp(logvar / 2) (which is z - mu, but without the cancellation of
// computing it as z - mu) for backward, which then reads neither inputs nor output.
#pragma once

#include "edgetrain/layer.h"

namespace edgetrain {

class ReparametrizeLayer : public Layer {
 public:
  std::string type() const override { return "reparametrize"; }
  void finalize(FinalizeContext& context) override;
  void forward(RunContext& context) override;
  void calc_derivative(RunContext& context) override;
  bool backward_needs_input(size_t) const override { return false; }

 private:
  size_t scaled_noise_ = 0;  // index of the eps * exp(logvar / 2) tensor
};

}  // namespace edgetrain
