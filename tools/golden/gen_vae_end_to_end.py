"""Golden loss curve for the VAE of models/vae.ini: 20 Adam steps from identical initial
weights, data and reparametrization noise.

The model is the one in models/vae.ini (section names = the module names here): conv 4
k3 s2 p1 -> batch norm -> relu -> conv 8 k3 s2 p1 -> batch norm -> relu -> flatten ->
mu, logvar (16 each) -> z = mu + eps * exp(logvar / 2) -> fc 392 + relu -> 8:7:7 ->
conv-transpose 4 k4 s2 p1 -> batch norm -> relu -> conv-transpose 1 k4 s2 p1 -> sigmoid,
with vae_loss (summed BCE + KL, batch mean). Batch 8; step s uses batch s % 4 of the
first 32 Fashion-MNIST training images (Debian's dataset-fashion-mnist), pixels / 255.

eps is what edgetrain's reparametrize layer draws: the model's layers draw from an Rng
seeded with seed ^ 0x9e3779b97f4a7c15 (src/graph/executor.cpp), reparametrize being the
only one, batch * 16 normals per training step in row-major order.
"""
import gzip
import struct

import torch
import torch.nn.functional as F

from golden_io import EdgetrainRng, GoldenWriter

STEPS = 20
BATCH = 8
BATCHES = 4
LATENT = 16
SEED = 7  # the model's seed in the test
LAYER_STREAM = 0x9E3779B97F4A7C15
IMAGES = "/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz"


def first_images(count):
    """The first `count` images of the IDX file, as edgetrain's IdxDataset reads them."""
    with gzip.open(IMAGES, "rb") as f:
        magic, _, rows, cols = struct.unpack(">IIII", f.read(16))
        assert magic == 0x803, hex(magic)
        pixels = f.read(count * rows * cols)
    values = torch.tensor(list(pixels), dtype=torch.float32) / 255.0
    return values.reshape(count, 1, rows, cols)


class Vae(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.enc_conv1 = torch.nn.Conv2d(1, 4, 3, stride=2, padding=1)
        self.enc_bn1 = torch.nn.BatchNorm2d(4, eps=1e-5, momentum=0.1)
        self.enc_conv2 = torch.nn.Conv2d(4, 8, 3, stride=2, padding=1)
        self.enc_bn2 = torch.nn.BatchNorm2d(8, eps=1e-5, momentum=0.1)
        self.mu = torch.nn.Linear(392, LATENT)
        self.logvar = torch.nn.Linear(392, LATENT)
        self.dec_fc = torch.nn.Linear(LATENT, 392)
        self.dec_deconv1 = torch.nn.ConvTranspose2d(8, 4, 4, stride=2, padding=1)
        self.dec_bn1 = torch.nn.BatchNorm2d(4, eps=1e-5, momentum=0.1)
        self.recon = torch.nn.ConvTranspose2d(4, 1, 4, stride=2, padding=1)

    def forward(self, x, eps):
        h = F.relu(self.enc_bn1(self.enc_conv1(x)))
        h = torch.flatten(F.relu(self.enc_bn2(self.enc_conv2(h))), 1)
        mu, logvar = self.mu(h), self.logvar(h)
        z = mu + eps * torch.exp(0.5 * logvar)
        d = F.relu(self.dec_fc(z)).reshape(-1, 8, 7, 7)
        d = F.relu(self.dec_bn1(self.dec_deconv1(d)))
        return torch.sigmoid(self.recon(d)), mu, logvar


def vae_loss(recon, x, mu, logvar):
    bce = F.binary_cross_entropy(recon, x, reduction="sum")
    kl = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
    return (bce + kl) / x.shape[0]


def edgetrain_name(name):
    """'enc_bn1.weight' -> 'weight:enc_bn1:gamma', as Model::weight() names it."""
    layer, kind = name.split(".")
    if layer.endswith(("bn1", "bn2")):
        kind = {"weight": "gamma", "bias": "beta"}[kind]
    return f"weight:{layer}:{kind}"


def main():
    torch.manual_seed(0)
    images = first_images(BATCH * BATCHES)
    model = Vae()
    tensors = [("data:input", images, True), ("model:seed", torch.tensor([float(SEED)]), False)]
    for name, value in model.named_parameters():
        tensors.append((edgetrain_name(name), value.detach().clone(), False))

    rng = EdgetrainRng(SEED ^ LAYER_STREAM)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    model.train()
    losses = []
    for step in range(STEPS):
        b = step % BATCHES
        x = images[b * BATCH:(b + 1) * BATCH]
        eps = rng.normal_tensor((BATCH, LATENT))
        optimizer.zero_grad()
        recon, mu, logvar = model(x, eps)
        loss = vae_loss(recon, x, mu, logvar)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    tensors.append(("loss:adam", torch.tensor(losses), False))

    writer = GoldenWriter("end_to_end_vae.txt")
    writer.case("vae", "none", [], True, [], tensors)
    writer.write()


if __name__ == "__main__":
    main()
