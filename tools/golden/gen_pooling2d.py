"""Golden values for pooling2d (F.max_pool2d, F.avg_pool2d, the adaptive pools, and
"same" padding as F.pad followed by a pool without padding)."""
import math

import torch
import torch.nn.functional as F

from golden_io import GoldenWriter, layer_case


class Function(torch.nn.Module):
    """Wraps a function of the input as a module for layer_case."""

    def __init__(self, function):
        super().__init__()
        self.function = function

    def forward(self, x):
        return self.function(x)


def same_padding(size, pool, stride):
    """TensorFlow's / NNTrainer's "same": ceil(size / stride) windows, odd pad after."""
    windows = math.ceil(size / stride)
    total = max((windows - 1) * stride + pool - size, 0)
    return total // 2, total - total // 2


def padded_pool(kind, pool, stride, sides):
    """Pads (top, bottom, left, right) explicitly, then pools without padding: max pads
    with -inf; average pads with 0 and divides by the whole window."""
    top, bottom, left, right = sides
    if kind == "max":
        return lambda x: F.max_pool2d(F.pad(x, (left, right, top, bottom), value=-math.inf),
                                      pool, stride)
    return lambda x: F.avg_pool2d(F.pad(x, (left, right, top, bottom)), pool, stride)


def same_pool(kind, pool, stride, shape):
    top, bottom = same_padding(shape[2], pool[0], stride[0])
    left, right = same_padding(shape[3], pool[1], stride[1])
    return padded_pool(kind, pool, stride, (top, bottom, left, right))


def main():
    torch.manual_seed(0)
    writer = GoldenWriter("pooling2d.txt")
    cases = [
        # name, props, function, input shape
        ("max_2x2_s2", ["pooling=max", "pool_size=2,2"],
         lambda x: F.max_pool2d(x, 2), [2, 3, 6, 6]),
        ("max_3x3_s2_pad1", ["pooling=max", "pool_size=3,3", "stride=2,2", "padding=1,1"],
         lambda x: F.max_pool2d(x, 3, 2, padding=1), [3, 2, 7, 7]),
        ("max_3x3_s1", ["pooling=max", "pool_size=3", "stride=1"],
         lambda x: F.max_pool2d(x, 3, 1), [1, 2, 5, 6]),
        ("max_odd_sizes", ["pooling=max", "pool_size=2,2"],
         lambda x: F.max_pool2d(x, 2), [3, 2, 5, 7]),
        ("max_rectangular", ["pooling=max", "pool_size=2,3", "stride=1,2"],
         lambda x: F.max_pool2d(x, (2, 3), (1, 2)), [2, 2, 5, 7]),
        ("max_same_3x3_s2", ["pooling=max", "pool_size=3,3", "stride=2,2", "padding=same"],
         same_pool("max", (3, 3), (2, 2), [2, 2, 6, 7]), [2, 2, 6, 7]),
        ("max_same_2x2_s2", ["pooling=max", "pool_size=2,2", "padding=same"],
         same_pool("max", (2, 2), (2, 2), [1, 3, 5, 5]), [1, 3, 5, 5]),
        ("max_explicit_sides", ["pooling=max", "pool_size=2,2", "stride=1,1",
                                "padding=1,0,0,1"],
         padded_pool("max", (2, 2), (1, 1), (1, 0, 0, 1)), [2, 2, 4, 5]),
        ("average_2x2", ["pooling=average", "pool_size=2,2"],
         lambda x: F.avg_pool2d(x, 2), [2, 3, 6, 6]),
        ("average_3x3_s2_pad1", ["pooling=average", "pool_size=3,3", "stride=2,2",
                                 "padding=1"],
         lambda x: F.avg_pool2d(x, 3, 2, padding=1, count_include_pad=True), [3, 2, 7, 7]),
        ("average_odd_sizes", ["pooling=average", "pool_size=3,2", "stride=2,1"],
         lambda x: F.avg_pool2d(x, (3, 2), (2, 1)), [1, 2, 7, 5]),
        ("average_same_3x3_s2", ["pooling=average", "pool_size=3,3", "stride=2,2",
                                 "padding=same"],
         same_pool("average", (3, 3), (2, 2), [2, 2, 6, 7]), [2, 2, 6, 7]),
        ("global_max", ["pooling=global_max"],
         lambda x: F.adaptive_max_pool2d(x, 1), [3, 4, 5, 3]),
        ("global_max_batch1", ["pooling=global_max"],
         lambda x: F.adaptive_max_pool2d(x, 1), [1, 2, 7, 6]),
        ("global_average", ["pooling=global_average"],
         lambda x: F.adaptive_avg_pool2d(x, 1), [3, 4, 5, 3]),
        ("global_average_batch1", ["pooling=global_average"],
         lambda x: F.adaptive_avg_pool2d(x, 1), [1, 2, 7, 6]),
    ]
    for name, props, function, shape in cases:
        x = torch.randn(*shape)
        layer_case(writer, name, "pooling2d", props, Function(function), [x], {})
    writer.write()


if __name__ == "__main__":
    main()
