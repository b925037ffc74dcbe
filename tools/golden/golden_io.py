"""Writes golden cases in the text format read by tests/support/golden.h.

Every generator in this folder imports this module, builds cases with PyTorch and
writes one file under tests/golden/. Shapes are written N:C:H:W: tensors of fewer
dimensions are padded with leading 1s after the batch (a [N, F] tensor is N:1:1:F).
"""
import os

import torch

GOLDEN_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "golden")


def shape_text(t, batch_first=True):
    dims = list(t.shape)
    if batch_first and len(dims) >= 1:
        n, rest = dims[0], dims[1:]
        rest = [1] * (3 - len(rest)) + rest
        dims = [n] + rest
    else:
        dims = [1] * (4 - len(dims)) + dims
    assert len(dims) == 4, dims
    return ":".join(str(d) for d in dims)


class GoldenWriter:
    def __init__(self, file_name):
        self.path = os.path.join(GOLDEN_DIR, file_name)
        self.lines = []

    def case(self, name, layer_type, props, training, inputs, tensors):
        """inputs: list of batch-first tensors; tensors: list of (key, tensor, batch_first)."""
        self.lines.append(f"case {name}")
        self.lines.append(f"type {layer_type}")
        self.lines.append("props " + ";".join(props))
        self.lines.append("mode " + ("train" if training else "eval"))
        self.lines.append("inputs " + " ".join(shape_text(t) for t in inputs))
        for i, t in enumerate(inputs):
            self._tensor(f"input:{i}", t, True)
        for key, t, batch_first in tensors:
            self._tensor(key, t, batch_first)
        self.lines.append("end")

    def _tensor(self, key, t, batch_first):
        t = t.detach().contiguous().float()
        self.lines.append(f"tensor {key} {shape_text(t, batch_first)}")
        self.lines.append(" ".join(f"{v:.9g}" for v in t.reshape(-1).tolist()))

    def write(self):
        os.makedirs(GOLDEN_DIR, exist_ok=True)
        with open(self.path, "w") as f:
            f.write("\n".join(self.lines) + "\n")
        print(f"wrote {self.path}")


def layer_case(writer, name, layer_type, props, module, inputs, weights, training=True,
               seed=0, extra_after=None):
    """Runs `module` on `inputs` (batch-first tensors), backpropagates a random output
    gradient, and writes inputs, weights (dict edgetrain-name -> (tensor, batch_first=False)),
    output, output_grad, input_grad and weight_grad (grads of `weights` tensors).
    `weights` values are (param, converted) where `converted(t)` maps a PyTorch tensor of
    the parameter's layout to edgetrain's."""
    gen = torch.Generator().manual_seed(seed + 1000)
    inputs = [x.clone().requires_grad_(True) for x in inputs]
    before = {key: conv(p.detach().clone()) for key, (p, conv) in weights.items()}
    module.train(training)
    out = module(*inputs)
    outs = out if isinstance(out, (tuple, list)) else [out]
    grads = [torch.rand(o.shape, generator=gen) * 2 - 1 for o in outs]
    torch.autograd.backward(outs, grads)
    tensors = []
    for key, value in before.items():
        tensors.append((f"weight:{key}", value, False))
    for k, (o, g) in enumerate(zip(outs, grads)):
        tensors.append((f"output:{k}", o, True))
        tensors.append((f"output_grad:{k}", g, True))
    for i, x in enumerate(inputs):
        tensors.append((f"input_grad:{i}", x.grad, True))
    for key, (p, conv) in weights.items():
        if p.grad is not None:
            tensors.append((f"weight_grad:{key}", conv(p.grad), False))
    for key, value in (extra_after or {}).items():
        tensors.append((f"weight_after:{key}", value(), False))
    writer.case(name, layer_type, props, training, [x.detach() for x in inputs], tensors)


def identity(t):
    return t
