"""Golden values for reshape (x.reshape(N, *target_shape))."""
import torch

from golden_io import GoldenWriter, layer_case


class Reshape(torch.nn.Module):
    def __init__(self, target):
        super().__init__()
        self.target = target

    def forward(self, x):
        return x.reshape(x.shape[0], *self.target)


def main():
    torch.manual_seed(0)
    writer = GoldenWriter("reshape.txt")
    cases = [
        ("chw", [5, 3, 4], [2, 3, 4, 5]),
        ("hw", [4, 15], [2, 3, 4, 5]),
        ("w", [6], [1, 1, 2, 3]),
        ("batch3", [2, 1, 6], [3, 3, 2, 2]),
    ]
    for name, target, shape in cases:
        props = ["target_shape=" + ":".join(str(d) for d in target)]
        layer_case(writer, name, "reshape", props, Reshape(target), [torch.randn(*shape)], {})
    writer.write()


if __name__ == "__main__":
    main()
