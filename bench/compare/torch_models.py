"""The comparison models in PyTorch, trained as `edgetrain train bench/compare/models/M.ini`
trains them: the same layers, optimizer, batch size and epochs on Fashion-MNIST (all
60,000 training images, a new shuffle every epoch, the last partial batch kept), then the
test loss and accuracy. Prints one JSON object.

    python3 torch_models.py --model cnn --epochs 1 --threads 2
    python3 torch_models.py --model cnn --no-train     # build model and optimizer only

--no-train builds the model and its optimizer and exits: the baseline whose peak RSS the
harness subtracts to get training-only memory. The images are held as uint8, as a PyTorch
user holds them (torchvision does the same), and converted per batch.
"""
import argparse
import gzip
import json
import os
import resource
import struct
import sys
import time

import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tools", "golden"))
from gen_vae_end_to_end import LATENT, Vae, vae_loss  # noqa: E402

DATA = "/usr/share/datasets/fashion-mnist"


class Cnn(torch.nn.Module):
    """conv 8 3x3 pad 1 relu, maxpool 2, conv 16 3x3 pad 1 relu, maxpool 2, fc 128 relu, fc 10."""

    def __init__(self):
        super().__init__()
        self.conv1 = torch.nn.Conv2d(1, 8, 3, padding=1)
        self.conv2 = torch.nn.Conv2d(8, 16, 3, padding=1)
        self.fc1 = torch.nn.Linear(16 * 7 * 7, 128)
        self.fc2 = torch.nn.Linear(128, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        return self.fc2(F.relu(self.fc1(torch.flatten(x, 1))))


class Mlp(torch.nn.Module):
    """784-256-128-10, relu."""

    def __init__(self):
        super().__init__()
        self.fc1 = torch.nn.Linear(784, 256)
        self.fc2 = torch.nn.Linear(256, 128)
        self.fc3 = torch.nn.Linear(128, 10)

    def forward(self, x):
        x = torch.flatten(x, 1)
        return self.fc3(F.relu(self.fc2(F.relu(self.fc1(x)))))


class ResidualCnn(torch.nn.Module):
    """conv-bn-relu 16, `blocks` identity blocks (conv-bn-relu, conv-bn, + shortcut, relu),
    maxpool 2, conv-bn-relu 32, maxpool 2, fc 10. resnet: 1 block; resnet_deep: 4."""

    def __init__(self, blocks=1):
        super().__init__()
        self.conv0 = torch.nn.Conv2d(1, 16, 3, padding=1)
        self.bn0 = torch.nn.BatchNorm2d(16)
        self.blocks = torch.nn.ModuleList(
            torch.nn.ModuleList([torch.nn.Conv2d(16, 16, 3, padding=1), torch.nn.BatchNorm2d(16),
                                 torch.nn.Conv2d(16, 16, 3, padding=1), torch.nn.BatchNorm2d(16)])
            for _ in range(blocks))
        self.conv2 = torch.nn.Conv2d(16, 32, 3, padding=1)
        self.bn2 = torch.nn.BatchNorm2d(32)
        self.fc = torch.nn.Linear(32 * 7 * 7, 10)

    def forward(self, x):
        x = F.relu(self.bn0(self.conv0(x)))
        for conv_a, bn_a, conv_b, bn_b in self.blocks:
            y = F.relu(bn_a(conv_a(x)))
            x = F.relu(x + bn_b(conv_b(y)))
        x = F.max_pool2d(x, 2)
        x = F.max_pool2d(F.relu(self.bn2(self.conv2(x))), 2)
        return self.fc(torch.flatten(x, 1))


# model -> (module, optimizer factory, classifier?)
MODELS = {
    "cnn": (Cnn, lambda p: torch.optim.Adam(p, lr=1e-3), True),
    "mlp": (Mlp, lambda p: torch.optim.SGD(p, lr=0.1), True),
    "resnet": (ResidualCnn, lambda p: torch.optim.Adam(p, lr=1e-3), True),
    "resnet_deep": (lambda: ResidualCnn(blocks=4), lambda p: torch.optim.Adam(p, lr=1e-3), True),
    "vae": (Vae, lambda p: torch.optim.Adam(p, lr=1e-3), False),
}


def initialize_as_edgetrain(model):
    """edgetrain's (and NNTrainer's) defaults: xavier_uniform weights and zero biases for
    conv and fully connected layers; batch norm as PyTorch (gamma 1, beta 0)."""
    for layer in model.modules():
        if isinstance(layer, (torch.nn.Conv2d, torch.nn.ConvTranspose2d, torch.nn.Linear)):
            torch.nn.init.xavier_uniform_(layer.weight)
            if layer.bias is not None:
                torch.nn.init.zeros_(layer.bias)


def read_idx(name, images):
    with gzip.open(os.path.join(DATA, name), "rb") as f:
        if images:
            magic, count, rows, cols = struct.unpack(">IIII", f.read(16))
            assert magic == 0x803, hex(magic)
            data = f.read()
            return torch.frombuffer(bytearray(data), dtype=torch.uint8).reshape(count, 1, rows, cols)
        magic, count = struct.unpack(">II", f.read(8))
        assert magic == 0x801, hex(magic)
        return torch.frombuffer(bytearray(f.read()), dtype=torch.uint8).long()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", choices=sorted(MODELS), required=True)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--limit", type=int, default=0, help="train on the first N images only")
    parser.add_argument("--test-limit", type=int, default=0, help="test on the first N images only")
    parser.add_argument("--no-train", action="store_true")
    parser.add_argument("--seed", type=int, default=1, help="torch.manual_seed: init and shuffle")
    parser.add_argument("--init", choices=["torch", "edgetrain"], default="torch",
                        help="edgetrain: the model files' initialization (xavier_uniform "
                             "weights, zero biases) instead of PyTorch's defaults")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    module, make_optimizer, classifier = MODELS[args.model]
    model = module()
    if args.init == "edgetrain":
        initialize_as_edgetrain(model)
    optimizer = make_optimizer(model.parameters())
    if args.no_train:
        # The peak RSS so far, in KiB (Linux), as the other frameworks report their baseline.
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        print(json.dumps({"model": args.model, "mode": "no-train", "peak_rss_kib": peak}))
        return
    train_x = read_idx("train-images-idx3-ubyte.gz", True)
    train_y = read_idx("train-labels-idx1-ubyte.gz", False)
    if args.limit:
        train_x, train_y = train_x[:args.limit], train_y[:args.limit]

    def batch_loss(x, y, training):
        if classifier:
            logits = model(x)
            return F.cross_entropy(logits, y), (logits.argmax(1) == y).sum().item()
        eps = torch.randn(x.shape[0], LATENT) if training else torch.zeros(x.shape[0], LATENT)
        recon, mu, logvar = model(x, eps)
        return vae_loss(recon, x, mu, logvar), 0

    epochs = []
    for _ in range(args.epochs):
        model.train()
        order = torch.randperm(len(train_x))
        start = time.perf_counter()
        loss_sum, batches = 0.0, 0
        for first in range(0, len(train_x), args.batch):
            index = order[first:first + args.batch]
            x = train_x[index].float() / 255.0
            if args.model == "mlp":
                x = x.reshape(-1, 784)
            optimizer.zero_grad()
            loss, _ = batch_loss(x, train_y[index], True)
            loss.backward()
            optimizer.step()
            loss_sum += loss.item()
            batches += 1
        seconds = time.perf_counter() - start
        epochs.append({"loss": loss_sum / batches, "seconds": seconds,
                       "samples_per_second": len(train_x) / seconds})
    model.eval()
    test_x = read_idx("t10k-images-idx3-ubyte.gz", True)
    test_y = read_idx("t10k-labels-idx1-ubyte.gz", False)
    if args.test_limit:
        test_x, test_y = test_x[:args.test_limit], test_y[:args.test_limit]
    test_sum, correct = 0.0, 0
    with torch.no_grad():
        for first in range(0, len(test_x), args.batch):
            x = test_x[first:first + args.batch].float() / 255.0
            if args.model == "mlp":
                x = x.reshape(-1, 784)
            loss, hits = batch_loss(x, test_y[first:first + args.batch], False)
            test_sum += loss.item() * x.shape[0]
            correct += hits
    result = {"model": args.model, "epochs": epochs, "test_loss": test_sum / len(test_x)}
    if classifier:
        result["test_accuracy"] = correct / len(test_x)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
