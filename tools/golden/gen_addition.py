"""Golden values for addition (x0 + x1 + ...)."""
import torch

from golden_io import GoldenWriter, layer_case


class Sum(torch.nn.Module):
    def forward(self, *inputs):
        total = inputs[0]
        for x in inputs[1:]:
            total = total + x
        return total


def main():
    torch.manual_seed(0)
    writer = GoldenWriter("addition.txt")
    cases = [
        ("two", 2, [2, 3, 4, 5]),
        ("three", 3, [3, 2, 2, 3]),
        ("batch1", 2, [1, 1, 1, 7]),
        ("four", 4, [2, 1, 3, 2]),
    ]
    for name, count, shape in cases:
        inputs = [torch.randn(*shape) for _ in range(count)]
        layer_case(writer, name, "addition", [], Sum(), inputs, {})
    writer.write()


if __name__ == "__main__":
    main()
