"""The VAE of models/vae.ini in PyTorch, trained as `edgetrain train models/vae.ini` trains
it: Adam 1e-3, batch 64 (the last partial batch kept), a new shuffle every epoch, the
training-loop time per epoch measured as edgetrain measures it, then the test loss.
Prints one JSON object. The layout is tools/golden/gen_vae_end_to_end.py's Vae, the one
whose loss curve tests/e2e/test_vae_pytorch.cpp matches.

    python3 vae_pytorch.py --epochs 2 --threads 2
"""
import argparse
import gzip
import json
import os
import struct
import sys
import time

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                                "tools", "golden"))
from gen_vae_end_to_end import LATENT, Vae, vae_loss  # noqa: E402

DATA = "/usr/share/datasets/fashion-mnist"


def read_images(name):
    """IDX images as uint8 [count, 1, rows, cols]; edgetrain also keeps them as bytes."""
    with gzip.open(os.path.join(DATA, name), "rb") as f:
        magic, count, rows, cols = struct.unpack(">IIII", f.read(16))
        assert magic == 0x803, hex(magic)
        data = f.read()
    return torch.frombuffer(bytearray(data), dtype=torch.uint8).reshape(count, 1, rows, cols)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--batch", type=int, default=64)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(1)
    train = read_images("train-images-idx3-ubyte.gz")
    test = read_images("t10k-images-idx3-ubyte.gz")
    model = Vae()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    epochs = []
    for _ in range(args.epochs):
        model.train()
        order = torch.randperm(len(train))
        start = time.perf_counter()
        loss_sum, batches = 0.0, 0
        for first in range(0, len(train), args.batch):
            x = train[order[first:first + args.batch]].float() / 255.0
            eps = torch.randn(x.shape[0], LATENT)
            optimizer.zero_grad()
            recon, mu, logvar = model(x, eps)
            loss = vae_loss(recon, x, mu, logvar)
            loss.backward()
            optimizer.step()
            loss_sum += loss.item()
            batches += 1
        epochs.append({"loss": loss_sum / batches, "seconds": time.perf_counter() - start})
    # Evaluation as edgetrain's: running statistics, z = mu.
    model.eval()
    test_sum = 0.0
    with torch.no_grad():
        for first in range(0, len(test), args.batch):
            x = test[first:first + args.batch].float() / 255.0
            recon, mu, logvar = model(x, torch.zeros(x.shape[0], LATENT))
            test_sum += vae_loss(recon, x, mu, logvar).item() * x.shape[0]
    print(json.dumps({"epochs": epochs, "test_loss": test_sum / len(test)}))


if __name__ == "__main__":
    main()
