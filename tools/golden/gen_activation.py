"""Golden values for the activation layer: every activation against its torch.nn module.

Inputs are 4-D with batch 2 and spread over [-5, 5] ([-8, 8] for the piecewise-linear
"hard" activations, so that both sides of their kinks at -3, 3 and 6 are covered). No
value lies within KINK_MARGIN of a kink, where the derivative is a matter of convention.
PyTorch computes in float64 from the float32 inputs, so the golden values are exact to
float32 rounding.
"""
import torch

from golden_io import GoldenWriter, layer_case

SHAPE = (2, 3, 4, 5)
KINKS = (-6.0, -3.0, 0.0, 3.0, 6.0)
KINK_MARGIN = 0.05

ACTIVATIONS = [
    # (edgetrain name, module, value range)
    ("relu", torch.nn.ReLU(), 5.0),
    ("leaky_relu", torch.nn.LeakyReLU(0.01), 5.0),
    ("elu", torch.nn.ELU(), 5.0),
    ("selu", torch.nn.SELU(), 5.0),
    ("sigmoid", torch.nn.Sigmoid(), 5.0),
    ("tanh", torch.nn.Tanh(), 5.0),
    ("softmax", torch.nn.Softmax(dim=-1), 5.0),
    ("swish", torch.nn.SiLU(), 5.0),
    ("gelu", torch.nn.GELU(), 5.0),  # exact erf form, PyTorch's default
    ("relu6", torch.nn.ReLU6(), 8.0),
    ("hard_swish", torch.nn.Hardswish(), 8.0),
    ("hard_sigmoid", torch.nn.Hardsigmoid(), 8.0),
]


def spread_input(bound):
    """Uniform values in [-bound, bound], each moved at least KINK_MARGIN off every kink."""
    x = (torch.rand(*SHAPE) * 2 - 1) * bound
    for kink in KINKS:
        near = (x - kink).abs() < KINK_MARGIN
        x[near] = kink + 2 * KINK_MARGIN * torch.where(x[near] >= kink, 1.0, -1.0)
    assert x.min() < -3 and x.max() > 3
    if bound > 6:
        assert x.min() < -6 and x.max() > 6
    return x.float()


def main():
    torch.manual_seed(0)
    writer = GoldenWriter("activation.txt")
    for name, module, bound in ACTIVATIONS:
        x = spread_input(bound).double()
        layer_case(writer, name, "activation", [f"activation={name}"], module, [x], {})
    writer.write()


if __name__ == "__main__":
    main()
