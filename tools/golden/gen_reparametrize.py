"""Golden values for reparametrize: z = mu + eps * exp(logvar / 2), as a PyTorch VAE
computes it with eps = torch.randn_like(mu), and z = mu in evaluation.

edgetrain draws eps from its own seeded stream, so each training case stores the seed the
test reseeds the stream with (`seed`) and takes eps from EdgetrainRng, the same generator
in Python; the noise is written too (tensor `noise`) for reference. Each case stores mu
(input:0), logvar (input:1), z (output:0), a random dL/dz (output_grad:0) and the input
gradients autograd computes from it.
"""
import torch

from golden_io import EdgetrainRng, GoldenWriter


def reparametrize_case(writer, name, mu, logvar, training, seed):
    eps = EdgetrainRng(seed).normal_tensor(mu.shape)
    mu = mu.clone().requires_grad_(True)
    logvar = logvar.clone().requires_grad_(True)
    z = mu + eps * torch.exp(0.5 * logvar) if training else mu
    z_grad = torch.rand(z.shape) * 2 - 1
    z.backward(z_grad)
    # In evaluation z does not depend on logvar: autograd leaves its gradient unset.
    logvar_grad = logvar.grad if logvar.grad is not None else torch.zeros_like(logvar)
    tensors = [("output:0", z, True), ("output_grad:0", z_grad, True),
               ("input_grad:0", mu.grad, True), ("input_grad:1", logvar_grad, True)]
    if training:
        tensors.append(("noise", eps, True))
    writer.case(name, "reparametrize", [], training, [mu.detach(), logvar.detach()], tensors,
                seed=seed)


def main():
    torch.manual_seed(0)
    writer = GoldenWriter("reparametrize.txt")
    configs = [
        ("latent4_batch2", [2, 4], 11),
        ("latent7_batch1", [1, 7], 12),  # an odd count leaves Box-Muller's spare unused
        ("image_batch3", [3, 2, 2, 3], 13),
    ]
    for name, shape, seed in configs:
        # logvar in about [-6, 6]: standard deviations from 0.05 to 20.
        reparametrize_case(writer, name, torch.randn(*shape), torch.randn(*shape) * 3, True, seed)
    reparametrize_case(writer, "eval_is_the_mean", torch.randn(2, 5), torch.randn(2, 5), False, 14)
    writer.write()


if __name__ == "__main__":
    main()
