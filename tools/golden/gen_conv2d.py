"""Golden values for conv2d (torch.nn.Conv2d, optionally with a fused activation).

PyTorch pads symmetrically, so asymmetric padding (explicit top,bottom,left,right and
TensorFlow-style "same") is an F.pad in front of an unpadded convolution.
"""
import torch
import torch.nn.functional as F

from golden_io import GoldenWriter, identity, layer_case

ACTIVATIONS = {"relu": torch.nn.ReLU(), "swish": torch.nn.SiLU()}


class PaddedConv(torch.nn.Module):
    """F.pad with (top, bottom, left, right) then a convolution without padding."""

    def __init__(self, conv, pads):
        super().__init__()
        self.conv = conv
        self.pads = pads

    def forward(self, x):
        top, bottom, left, right = self.pads
        return self.conv(F.pad(x, (left, right, top, bottom)))


def same_pads(size, kernel, stride, dilation):
    """TensorFlow's "same": ceil(size / stride) outputs, the odd padding pixel after."""
    out = -(-size // stride)
    total = max((out - 1) * stride + (kernel - 1) * dilation + 1 - size, 0)
    return total // 2, total - total // 2


def resolve_padding(padding, kernel, stride, dilation, height, width):
    """edgetrain's padding property -> (top, bottom, left, right)."""
    if padding == "valid":
        return (0, 0, 0, 0)
    if padding == "same":
        return (same_pads(height, kernel[0], stride[0], dilation[0])
                + same_pads(width, kernel[1], stride[1], dilation[1]))
    values = [int(v) for v in padding.split(",")]
    if len(values) == 1:
        return tuple(values * 4)
    if len(values) == 2:
        return (values[0], values[0], values[1], values[1])
    return tuple(values)


def pair(value):
    return value if isinstance(value, tuple) else (value, value)


# name, input N:C:H:W, filters, kernel, stride, padding, dilation, groups, bias, activation
CASES = [
    ("pointwise_1x1", (2, 3, 5, 4), 4, 1, 1, "valid", 1, 1, True, None),
    ("pointwise_groups2", (2, 4, 3, 5), 6, 1, 1, "0", 1, 2, True, None),
    ("k1_stride2", (2, 3, 5, 6), 2, 1, 2, "valid", 1, 1, True, None),
    ("k3_s1_p1", (2, 2, 5, 5), 3, 3, 1, "1", 1, 1, True, None),
    ("stride2", (2, 2, 7, 7), 3, 3, 2, "1", 1, 1, True, None),
    ("stride3", (1, 2, 8, 7), 2, 3, 3, "0", 1, 1, True, None),
    ("kernel3x5_pad_asymmetric", (2, 2, 5, 6), 2, (3, 5), 1, "1,0,2,1", 1, 1, True, None),
    ("pad_per_axis_odd7x9", (2, 1, 7, 9), 2, 3, (2, 1), "1,2", 1, 1, True, None),
    ("same_stride2", (2, 2, 8, 7), 2, 3, 2, "same", 1, 1, True, None),
    ("same_dilation2", (1, 2, 7, 6), 2, 3, 1, "same", 2, 1, True, None),
    ("same_dilation2_stride2", (1, 2, 8, 7), 2, 3, 2, "same", 2, 1, True, None),
    ("same_k4_stride2", (1, 2, 6, 5), 2, (4, 2), 2, "same", 1, 1, True, None),
    ("valid", (2, 3, 6, 5), 2, 3, 1, "valid", 1, 1, True, None),
    ("dilation2", (1, 2, 7, 7), 2, 3, 1, "2", 2, 1, True, None),
    ("groups2", (2, 4, 4, 5), 4, 3, 1, "1", 1, 2, True, None),
    ("depthwise_multiplier2", (2, 3, 4, 5), 6, 3, 1, "1", 1, 3, True, None),
    ("no_bias", (2, 2, 5, 5), 3, 3, 1, "1", 1, 1, False, None),
    ("batch3", (3, 2, 5, 4), 2, 3, 1, "1", 1, 1, True, None),
    ("relu", (2, 2, 5, 5), 3, 3, 1, "1", 1, 1, True, "relu"),
    ("swish", (1, 2, 5, 5), 3, 3, 2, "same", 1, 1, True, "swish"),
]


def main():
    torch.manual_seed(0)
    writer = GoldenWriter("conv2d.txt")
    for name, shape, filters, kernel, stride, padding, dilation, groups, bias, act in CASES:
        kernel, stride, dilation = pair(kernel), pair(stride), pair(dilation)
        pads = resolve_padding(padding, kernel, stride, dilation, shape[2], shape[3])
        symmetric = pads[0] == pads[1] and pads[2] == pads[3]
        conv = torch.nn.Conv2d(shape[1], filters, kernel, stride=stride,
                               padding=(pads[0], pads[2]) if symmetric else 0,
                               dilation=dilation, groups=groups, bias=bias)
        module = conv if symmetric else PaddedConv(conv, pads)
        if act:
            module = torch.nn.Sequential(module, ACTIVATIONS[act])
        props = [f"filters={filters}", f"kernel_size={kernel[0]},{kernel[1]}",
                 f"stride={stride[0]},{stride[1]}", f"dilation={dilation[0]},{dilation[1]}",
                 f"groups={groups}", f"padding={padding}", f"bias={'true' if bias else 'false'}"]
        if act:
            props.append(f"activation={act}")
        weights = {"weight": (conv.weight, identity)}
        if bias:
            weights["bias"] = (conv.bias, identity)
        layer_case(writer, name, "conv2d", props, module, [torch.randn(*shape)], weights)
    writer.write()


if __name__ == "__main__":
    main()
