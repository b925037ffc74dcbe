"""Golden values for vae_loss: binary cross-entropy of the reconstruction summed over
pixels plus the KL divergence of N(mu, exp(logvar)) from N(0, 1), averaged over the batch,
as the PyTorch VAE example computes it:

  (F.binary_cross_entropy(recon, x, reduction='sum')
   - 0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())) / N

Each case stores recon (input:0), mu (input:1), logvar (input:2), the target image
(label), the loss (output:0) and the gradients of all three inputs.
"""
import torch
import torch.nn.functional as F

from golden_io import GoldenWriter


def vae_loss(recon, x, mu, logvar):
    bce = F.binary_cross_entropy(recon, x, reduction="sum")
    kl = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
    return (bce + kl) / recon.shape[0]


def loss_case(writer, name, recon, x, mu, logvar):
    inputs = [t.clone().requires_grad_(True) for t in (recon, mu, logvar)]
    loss = vae_loss(inputs[0], x, inputs[1], inputs[2])
    loss.backward()
    assert torch.isfinite(loss) and all(torch.isfinite(t.grad).all() for t in inputs), name
    writer.case(name, "vae_loss", [], True, [t.detach() for t in inputs], [
        ("label", x, True),
        ("output:0", loss.detach().reshape(1), False),
    ] + [(f"input_grad:{i}", t.grad, True) for i, t in enumerate(inputs)])


def probabilities(shape):
    return torch.sigmoid(torch.randn(*shape) * 2)


def main():
    torch.manual_seed(0)
    writer = GoldenWriter("vae_loss.txt")
    configs = [
        # name, image shape, latent shape, targets
        ("vector_batch2", [2, 6], [2, 3], lambda s: torch.rand(*s)),
        ("image_batch3", [3, 1, 4, 4], [3, 2], lambda s: torch.randint(2, s).float()),
        ("image_batch1", [1, 2, 3, 3], [1, 5], lambda s: torch.rand(*s)),
    ]
    for name, image, latent, make_target in configs:
        loss_case(writer, name, probabilities(image), make_target(image), torch.randn(*latent),
                  torch.randn(*latent) * 2)

    # Reconstructions within 1e-6 of 0 and 1: large but finite logarithms and gradients.
    near = torch.tensor([1e-6, 1e-4, 1 - 1e-4, 1 - 1e-6])
    recon = near[torch.randint(4, [2, 8])]
    loss_case(writer, "near_0_and_1", recon, torch.randint(2, [2, 8]).float(),
              torch.randn(2, 2), torch.randn(2, 2))
    # Exactly 0 and 1: each logarithm is clamped to -100, and the gradient's denominator
    # recon * (1 - recon) to 1e-12, for agreeing, opposite and soft targets.
    recon = torch.tensor([[0.0, 0.0, 0.0, 1.0, 1.0, 1.0]])
    target = torch.tensor([[0.0, 1.0, 0.25, 1.0, 0.0, 0.25]])
    loss_case(writer, "saturated", recon, target, torch.randn(1, 3), torch.randn(1, 3))
    # Large |mu| and |logvar|: the KL term dominates.
    loss_case(writer, "wide_posterior", probabilities([2, 4]), torch.rand(2, 4),
              torch.randn(2, 3) * 10, torch.tensor([[-8.0, 0.0, 8.0], [5.0, -5.0, 1.0]]))
    writer.write()


if __name__ == "__main__":
    main()
