"""Golden values for conv2dtranspose (torch.nn.ConvTranspose2d, optionally with a fused
activation).

PyTorch removes the same padding from both ends of an axis, so asymmetric padding
(explicit top,bottom,left,right and Keras-style "same") is an unpadded, bias-free
ConvTranspose2d whose full output is cropped (F.pad with negative sizes) or extended with
zero rows to the expected size, then the bias is added. main() checks that this wrapper
agrees with PyTorch's own padding and output_padding on a symmetric case.
"""
import torch
import torch.nn.functional as F

from golden_io import GoldenWriter, identity, layer_case

ACTIVATIONS = {"relu": torch.nn.ReLU(), "sigmoid": torch.nn.Sigmoid()}


class CroppedConvTranspose(torch.nn.Module):
    """Full transposed convolution, then rows [top, top + out_h) and columns
    [left, left + out_w) of it (zeros past its end), then the bias."""

    def __init__(self, conv, top, left, out_h, out_w):
        super().__init__()
        self.conv = conv
        self.top, self.left, self.out_h, self.out_w = top, left, out_h, out_w

    def forward(self, x):
        full = F.conv_transpose2d(x, self.conv.weight, None, self.conv.stride, 0, 0,
                                  self.conv.groups, self.conv.dilation)
        full_h, full_w = full.shape[2], full.shape[3]
        y = F.pad(full, (-self.left, self.left + self.out_w - full_w,
                         -self.top, self.top + self.out_h - full_h))
        if self.conv.bias is not None:
            y = y + self.conv.bias.view(1, -1, 1, 1)
        return y


def same_pads(size, extent, stride):
    """conv2d's "same" padding of an image of `size` pixels: TensorFlow's split."""
    out = -(-size // stride)
    total = max((out - 1) * stride + extent - size, 0)
    return total // 2, total - total // 2


def pair(value):
    return value if isinstance(value, tuple) else (value, value)


def geometry(shape, kernel, stride, padding, dilation, output_padding):
    """edgetrain's padding property -> (top, left, out_h, out_w, symmetric)."""
    extent = [(k - 1) * d + 1 for k, d in zip(kernel, dilation)]
    full = [(n - 1) * s + e for n, s, e in zip(shape[2:], stride, extent)]
    if padding == "same":
        top, _ = same_pads(shape[2] * stride[0], extent[0], stride[0])
        left, _ = same_pads(shape[3] * stride[1], extent[1], stride[1])
        out = [n * s + p for n, s, p in zip(shape[2:], stride, output_padding)]
        return top, left, out[0], out[1], False
    values = [0] if padding == "valid" else [int(v) for v in padding.split(",")]
    if len(values) == 1:
        values = values * 4
    elif len(values) == 2:
        values = [values[0], values[0], values[1], values[1]]
    top, bottom, left, right = values
    out_h = full[0] - top - bottom + output_padding[0]
    out_w = full[1] - left - right + output_padding[1]
    return top, left, out_h, out_w, top == bottom and left == right


def make_module(shape, filters, kernel, stride, padding, dilation, output_padding, groups, bias):
    top, left, out_h, out_w, symmetric = geometry(shape, kernel, stride, padding, dilation,
                                                  output_padding)
    conv = torch.nn.ConvTranspose2d(shape[1], filters, kernel, stride=stride,
                                    padding=(top, left) if symmetric else 0,
                                    output_padding=output_padding if symmetric else 0,
                                    groups=groups, bias=bias, dilation=dilation)
    module = conv if symmetric else CroppedConvTranspose(conv, top, left, out_h, out_w)
    return conv, module, (out_h, out_w)


def check_cropping_matches_pytorch():
    torch.manual_seed(1)
    x = torch.randn(2, 4, 5, 6)
    conv = torch.nn.ConvTranspose2d(4, 6, (3, 4), stride=(2, 3), padding=(1, 2),
                                    output_padding=(1, 2), groups=2, dilation=(2, 1))
    wrapped = CroppedConvTranspose(conv, 1, 2, conv(x).shape[2], conv(x).shape[3])
    assert torch.allclose(conv(x), wrapped(x), atol=1e-6)


# name, input N:C:H:W, filters, kernel, stride, padding, output_padding, dilation, groups,
# bias, activation
CASES = [
    ("k3_valid", (1, 2, 2, 3), 2, 3, 1, "valid", 0, 1, 1, True, None),
    ("k3_p1", (1, 2, 3, 4), 2, 3, 1, "1", 0, 1, 1, True, None),
    ("stride2_p1_op1", (2, 1, 2, 3), 2, 3, 2, "1", 1, 1, 1, True, None),
    ("stride2_k4_p1", (1, 2, 3, 3), 2, 4, 2, "1", 0, 1, 1, True, None),
    ("stride3", (1, 1, 2, 3), 2, 3, 3, "0", 0, 1, 1, True, None),
    ("stride3_kernel2_gaps", (1, 1, 2, 2), 2, 2, 3, "valid", 2, 1, 1, True, None),
    ("stride2x3_kernel3x2", (1, 1, 3, 3), 2, (3, 2), (2, 3), "1,0", (1, 2), 1, 1, True, None),
    ("pad_asymmetric", (1, 1, 3, 4), 2, 3, 2, "1,0,2,1", (1, 0), 1, 1, True, None),
    ("odd_5x7", (1, 1, 5, 7), 1, 3, 2, "1", (0, 1), 1, 1, True, None),
    ("dilation2", (1, 1, 3, 3), 2, 3, 1, "1", 0, 2, 1, True, None),
    ("dilation2_output_padding1", (1, 1, 3, 4), 2, 3, 1, "2", 1, 2, 1, True, None),
    ("groups2", (1, 4, 2, 2), 4, 3, 2, "1", 1, 1, 2, True, None),
    ("depthwise_groups_c", (1, 3, 2, 3), 3, 3, 1, "1", 0, 1, 3, True, None),
    ("depthwise_multiplier2", (1, 2, 2, 2), 4, 3, 2, "0", 0, 1, 2, True, None),
    ("batch3", (3, 1, 2, 2), 1, 3, 2, "0", 0, 1, 1, True, None),
    ("no_bias", (1, 1, 3, 3), 2, 3, 2, "1", 1, 1, 1, False, None),
    ("same_stride1", (1, 1, 4, 5), 2, 3, 1, "same", 0, 1, 1, True, None),
    ("same_stride1_k4", (1, 1, 3, 3), 2, 4, 1, "same", 0, 1, 1, True, None),
    ("same_stride2_k3", (1, 1, 2, 3), 2, 3, 2, "same", 0, 1, 1, True, None),
    ("same_stride2_k4", (1, 1, 2, 3), 2, 4, 2, "same", 0, 1, 1, True, None),
    ("same_stride3_k2", (1, 1, 2, 2), 2, 2, 3, "same", 0, 1, 1, True, None),
    ("same_stride2_dilation2", (1, 1, 2, 3), 2, 3, 2, "same", 0, 2, 1, True, None),
    ("same_stride2_output_padding1", (1, 1, 2, 3), 2, 3, 2, "same", 1, 1, 1, True, None),
    # The two transposed convolutions of a small VAE decoder (7x7 -> 14x14 -> 28x28), which
    # also cover the fused activations.
    ("vae_decoder_1", (1, 8, 7, 7), 4, 4, 2, "1", 0, 1, 1, True, "relu"),
    ("vae_decoder_2", (1, 4, 14, 14), 1, 4, 2, "1", 0, 1, 1, True, "sigmoid"),
]


def main():
    check_cropping_matches_pytorch()
    torch.manual_seed(0)
    writer = GoldenWriter("conv2d_transpose.txt")
    for (name, shape, filters, kernel, stride, padding, output_padding, dilation, groups, bias,
         act) in CASES:
        kernel, stride = pair(kernel), pair(stride)
        output_padding, dilation = pair(output_padding), pair(dilation)
        conv, module, out = make_module(shape, filters, kernel, stride, padding, dilation,
                                        output_padding, groups, bias)
        if act:
            module = torch.nn.Sequential(module, ACTIVATIONS[act])
        x = torch.randn(*shape)
        assert tuple(module(x).shape[2:]) == out, (name, module(x).shape, out)
        props = [f"filters={filters}", f"kernel_size={kernel[0]},{kernel[1]}",
                 f"stride={stride[0]},{stride[1]}", f"dilation={dilation[0]},{dilation[1]}",
                 f"groups={groups}", f"padding={padding}",
                 f"output_padding={output_padding[0]},{output_padding[1]}",
                 f"bias={'true' if bias else 'false'}"]
        if act:
            props.append(f"activation={act}")
        weights = {"weight": (conv.weight, identity)}
        if bias:
            weights["bias"] = (conv.bias, identity)
        layer_case(writer, name, "conv2dtranspose", props, module, [x], weights)
    writer.write()


if __name__ == "__main__":
    main()
