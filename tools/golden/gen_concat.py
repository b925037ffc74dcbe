"""Golden values for concat (torch.cat(inputs, dim=axis))."""
import torch

from golden_io import GoldenWriter, layer_case


class Cat(torch.nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.dim = dim

    def forward(self, *inputs):
        return torch.cat(inputs, dim=self.dim)


def main():
    torch.manual_seed(0)
    writer = GoldenWriter("concat.txt")
    cases = [
        # name, props, torch dim, input shapes
        ("channel", ["axis=1"], 1, [[2, 2, 3, 4], [2, 3, 3, 4]]),
        ("height", ["axis=2"], 2, [[2, 2, 1, 4], [2, 2, 3, 4], [2, 2, 2, 4]]),
        ("width", ["axis=3"], 3, [[3, 2, 3, 2], [3, 2, 3, 5]]),
        ("default_is_width", [], 3, [[1, 1, 1, 3], [1, 1, 1, 4]]),
        ("channel_batch1", ["axis=1"], 1, [[1, 1, 2, 2], [1, 2, 2, 2], [1, 1, 2, 2]]),
        ("width_batch3", ["axis=3"], 3, [[3, 1, 1, 3], [3, 1, 1, 1], [3, 1, 1, 2]]),
    ]
    for name, props, dim, shapes in cases:
        inputs = [torch.randn(*shape) for shape in shapes]
        layer_case(writer, name, "concat", props, Cat(dim), inputs, {})
    writer.write()


if __name__ == "__main__":
    main()
