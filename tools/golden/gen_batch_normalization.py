"""Golden values for batch_normalization against torch.nn.BatchNorm1d / BatchNorm2d.

Every case starts from non-trivial gamma, beta and running statistics. Training cases
also check the running statistics after the forward (weight_after:running_mean/var);
evaluation cases check the affine-only backward of frozen statistics. PyTorch computes
in float64 from float32 values.
"""
import torch

from golden_io import GoldenWriter, identity, layer_case


class Around(torch.nn.Module):
    """Runs `inner` on to_inner(x) and maps the result back with from_inner."""

    def __init__(self, inner, to_inner, from_inner):
        super().__init__()
        self.inner = inner
        self.to_inner = to_inner
        self.from_inner = from_inner

    def forward(self, x):
        return self.from_inner(self.inner(self.to_inner(x)))


def random_state(bn):
    """Float32-representable gamma, beta and running statistics away from the defaults."""
    k = bn.num_features
    with torch.no_grad():
        bn.weight.copy_(1 + 0.5 * torch.randn(k))
        bn.bias.copy_(0.5 * torch.randn(k))
        bn.running_mean.copy_(torch.randn(k))
        bn.running_var.copy_(torch.rand(k) * 1.5 + 0.5)


def bn_case(writer, name, props, bn, module, x, training):
    random_state(bn)
    module.double()
    weights = {
        "gamma": (bn.weight, identity),
        "beta": (bn.bias, identity),
        "running_mean": (bn.running_mean, identity),
        "running_var": (bn.running_var, identity),
    }
    after = None
    if training:
        after = {"running_mean": lambda: bn.running_mean, "running_var": lambda: bn.running_var}
    layer_case(writer, name, "batch_normalization", props, module, [x.double()], weights,
               training=training, extra_after=after)


def conv_input(shape):
    """Per-channel offsets and scales, so that every channel has its own statistics."""
    n, c, h, w = shape
    return (torch.randn(shape) * (0.5 + torch.rand(1, c, 1, 1) * 2)
            + torch.randn(1, c, 1, 1) * 3).float()


def main():
    torch.manual_seed(0)
    writer = GoldenWriter("batch_normalization.txt")
    for momentum in (0.1, 0.3):
        props = [f"momentum={momentum}", "epsilon=1e-3"]
        bn = torch.nn.BatchNorm2d(4, eps=1e-3, momentum=momentum)
        bn_case(writer, f"conv_train_momentum_{momentum}", props, bn, bn,
                conv_input((3, 4, 5, 5)), True)
        bn = torch.nn.BatchNorm1d(7, eps=1e-3, momentum=momentum)
        bn_case(writer, f"fc_train_momentum_{momentum}", props, bn, bn,
                conv_input((6, 7, 1, 1)).reshape(6, 7), True)

    props = ["momentum=0.1", "epsilon=1e-3"]
    bn = torch.nn.BatchNorm2d(4, eps=1e-3)
    bn_case(writer, "conv_eval", props, bn, bn, conv_input((3, 4, 5, 5)), False)
    bn = torch.nn.BatchNorm1d(7, eps=1e-3)
    bn_case(writer, "fc_eval", props, bn, bn, conv_input((6, 7, 1, 1)).reshape(6, 7), False)

    # Defaults: momentum 0.1, epsilon 1e-5.
    bn = torch.nn.BatchNorm2d(3)
    bn_case(writer, "conv_defaults", [], bn, bn, conv_input((2, 3, 3, 4)), True)
    # N:1:H:F (a fully_connected output over rows) with axis=width: each feature is
    # normalized over N and H, as BatchNorm1d on (N, F, H).
    bn = torch.nn.BatchNorm1d(5, eps=1e-3)
    x = conv_input((2, 5, 3, 1)).permute(0, 3, 2, 1).contiguous()  # 2:1:3:5
    module = Around(bn, lambda t: t.squeeze(1).transpose(1, 2),
                    lambda t: t.transpose(1, 2).unsqueeze(1))
    bn_case(writer, "rows_axis_width", ["axis=width", "epsilon=1e-3"], bn, module, x, True)
    # axis=height: per row over N, C, W, as BatchNorm2d on (N, H, C, W).
    bn = torch.nn.BatchNorm2d(4, eps=1e-3)
    x = conv_input((2, 4, 3, 5)).permute(0, 2, 1, 3).contiguous()  # 2:3:4:5
    swap = lambda t: t.permute(0, 2, 1, 3)  # its own inverse
    bn_case(writer, "axis_height", ["axis=height", "epsilon=1e-3"], bn, Around(bn, swap, swap),
            x, True)
    writer.write()


if __name__ == "__main__":
    main()
