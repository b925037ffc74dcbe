"""Golden values for flatten (torch.flatten(x, 1))."""
import torch

from golden_io import GoldenWriter, layer_case


class Flatten(torch.nn.Module):
    def forward(self, x):
        return torch.flatten(x, 1)


def main():
    torch.manual_seed(0)
    writer = GoldenWriter("flatten.txt")
    for name, shape in [("nchw", [2, 3, 4, 5]), ("batch1", [1, 2, 3, 1]),
                        ("batch3", [3, 1, 2, 2])]:
        layer_case(writer, name, "flatten", [], Flatten(), [torch.randn(*shape)], {})
    writer.write()


if __name__ == "__main__":
    main()
