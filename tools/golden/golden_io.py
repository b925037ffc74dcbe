"""Writes golden cases in the text format read by tests/support/golden.h.

Every generator in this folder imports this module, builds cases with PyTorch and
writes one file under tests/golden/. Shapes are written N:C:H:W: tensors of fewer
dimensions are padded with leading 1s after the batch (a [N, F] tensor is N:1:1:F).
"""
import math
import os
import struct

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

    def case(self, name, layer_type, props, training, inputs, tensors, seed=None):
        """inputs: list of batch-first tensors; tensors: list of (key, tensor, batch_first);
        seed: if given, the test reseeds edgetrain's random stream with it before forward."""
        self.lines.append(f"case {name}")
        self.lines.append(f"type {layer_type}")
        self.lines.append("props " + ";".join(props))
        self.lines.append("mode " + ("train" if training else "eval"))
        self.lines.append("inputs " + " ".join(shape_text(t) for t in inputs))
        if seed is not None:
            self.lines.append(f"seed {seed}")
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


class EdgetrainRng:
    """edgetrain's Rng (include/edgetrain/rng.h) in Python, so that a golden case can use
    the noise a layer draws: std::mt19937_64 and the same Box-Muller normal(). Python's
    math functions are the C library's, so the normals match edgetrain's to the bit on
    the same C library."""

    _N, _M, _MASK = 312, 156, (1 << 64) - 1
    _MATRIX_A, _UPPER, _LOWER = 0xB5026F5AA96619E9, 0xFFFFFFFF80000000, 0x7FFFFFFF

    def __init__(self, seed):
        self._state = [seed & self._MASK]
        for i in range(1, self._N):
            previous = self._state[-1]
            self._state.append((6364136223846793005 * (previous ^ (previous >> 62)) + i) & self._MASK)
        self._index = self._N
        self._spare = None

    def _twist(self):
        s = self._state
        for i in range(self._N):
            x = (s[i] & self._UPPER) | (s[(i + 1) % self._N] & self._LOWER)
            s[i] = s[(i + self._M) % self._N] ^ (x >> 1) ^ (self._MATRIX_A if x & 1 else 0)
        self._index = 0

    def next_u64(self):
        if self._index >= self._N:
            self._twist()
        y = self._state[self._index]
        self._index += 1
        y ^= (y >> 29) & 0x5555555555555555
        y ^= (y << 17) & 0x71D67FFFEDA60000
        y ^= (y << 37) & 0xFFF7EEE000000000
        y ^= y >> 43
        return y & self._MASK

    def normal(self):
        if self._spare is not None:
            spare, self._spare = self._spare, None
            return spare
        u1 = 1.0 - (self.next_u64() >> 11) * (1.0 / 9007199254740992.0)
        u2 = (self.next_u64() >> 11) * (1.0 / 9007199254740992.0)
        radius = math.sqrt(-2.0 * math.log(u1))
        angle = 2.0 * math.pi * u2
        self._spare = _to_float32(radius * math.sin(angle))
        return _to_float32(radius * math.cos(angle))

    def normal_tensor(self, shape):
        """A float32 tensor of `shape` filled in row-major order, as a layer draws it."""
        count = math.prod(shape)
        return torch.tensor([self.normal() for _ in range(count)], dtype=torch.float32).reshape(shape)


def _to_float32(value):
    return struct.unpack("f", struct.pack("f", value))[0]
