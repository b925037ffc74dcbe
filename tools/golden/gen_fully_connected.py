"""Golden values for fully_connected (torch.nn.Linear, optionally with a fused activation)."""
import torch

from golden_io import GoldenWriter, identity, layer_case

ACTIVATIONS = {
    "relu": torch.nn.ReLU(), "sigmoid": torch.nn.Sigmoid(), "gelu": torch.nn.GELU(),
    "swish": torch.nn.SiLU(), "tanh": torch.nn.Tanh(),
}


def main():
    torch.manual_seed(0)
    writer = GoldenWriter("fully_connected.txt")
    configs = [
        ("basic", 2, 5, 3, True, None, [2, 5]),
        ("batch1", 1, 7, 4, True, None, [1, 7]),
        ("no_bias", 3, 6, 2, False, None, [3, 6]),
        ("rows", 2, 4, 3, True, None, [2, 2, 3, 4]),
        ("relu", 4, 8, 5, True, "relu", [4, 8]),
        ("sigmoid", 2, 8, 5, True, "sigmoid", [2, 8]),
        ("gelu", 2, 8, 5, True, "gelu", [2, 8]),
        ("swish", 3, 6, 4, True, "swish", [3, 6]),
        ("tanh", 3, 6, 4, True, "tanh", [3, 6]),
    ]
    for name, _, fin, fout, bias, act, in_shape in configs:
        linear = torch.nn.Linear(fin, fout, bias=bias)
        module = linear if act is None else torch.nn.Sequential(linear, ACTIVATIONS[act])
        x = torch.randn(*in_shape)
        props = [f"unit={fout}", f"bias={'true' if bias else 'false'}"]
        if act:
            props.append(f"activation={act}")
        weights = {"weight": (linear.weight, identity)}
        if bias:
            weights["bias"] = (linear.bias, identity)
        layer_case(writer, name, "fully_connected", props, module, [x], weights)
    writer.write()


if __name__ == "__main__":
    main()
