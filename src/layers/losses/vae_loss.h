// vae_loss: the loss of a variational autoencoder with a Bernoulli decoder, the negative
// evidence lower bound averaged over the batch:
//   loss = (1 / N) * sum over samples of [ BCE(recon, x) + KL ]
//   BCE  = -sum over pixels of x * log(recon) + (1 - x) * log(1 - recon)
//   KL   = -1/2 * sum over latents of 1 + logvar - mu^2 - exp(logvar)
// KL is the divergence of N(mu, exp(logvar)) from the prior N(0, 1). In PyTorch:
//   (F.binary_cross_entropy(recon, x, reduction='sum')
//    - 0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())) / N
//   inputs  recon N:C:H:W probabilities (e.g. after a sigmoid), mu and logvar of one
//           shape N:C':H':W' (usually N:1:1:latent), input_layers=RECON,MU,LOGVAR
//   label   x, shaped like recon, with targets in [0, 1]
//   dL/drecon  = (recon - x) / max(recon * (1 - recon), 1e-12) / N
//   dL/dmu     = mu / N
//   dL/dlogvar = (exp(logvar) - 1) / (2 N)
// As in torch.nn.functional.binary_cross_entropy, each logarithm is clamped to >= -100, so
// a reconstruction of exactly 0 or 1 costs at most 100 per pixel instead of infinity, and
// the recon gradient's denominator is kept >= 1e-12. A recon outside [0, 1] has no
// logarithm: the loss becomes NaN, which training reports. No properties.
#pragma once

#include "layers/losses/loss_layer.h"

namespace edgetrain {

class VaeLoss : public LossLayer {
 public:
  std::string type() const override { return "vae_loss"; }
  bool label_is_class() const override { return false; }  // the label is the image
  void finalize(FinalizeContext& context) override;
  void forward(RunContext& context) override;
  void calc_derivative(RunContext& context) override;
};

}  // namespace edgetrain
