"""Golden values for the loss layers: mse (torch.nn.MSELoss), cross_entropy
(torch.nn.CrossEntropyLoss with class-probability targets) and bce_with_logits
(torch.nn.BCEWithLogitsLoss), all with reduction='mean'.

Each case stores input:0 (the prediction or logits), label, output:0 (the loss, a
1:1:1:1 tensor) and input_grad:0 (d loss / d input).
"""
import torch

from golden_io import GoldenWriter


def cross_entropy(logits, label):
    # edgetrain takes the softmax over the last dimension and treats every other index
    # as a sample, which is torch's [rows, classes] layout after flattening.
    classes = logits.shape[-1]
    return torch.nn.CrossEntropyLoss()(logits.reshape(-1, classes), label.reshape(-1, classes))


LOSSES = {
    "mse": torch.nn.MSELoss(),
    "cross_entropy": cross_entropy,
    "bce_with_logits": torch.nn.BCEWithLogitsLoss(),
}


def loss_case(writer, name, layer_type, x, label):
    x = x.clone().requires_grad_(True)
    loss = LOSSES[layer_type](x, label)
    loss.backward()
    assert torch.isfinite(loss) and torch.isfinite(x.grad).all(), name
    writer.case(name, layer_type, [], True, [x.detach()], [
        ("label", label, True),
        ("output:0", loss.detach().reshape(1), False),
        ("input_grad:0", x.grad, True),
    ])


def one_hot(shape):
    classes = shape[-1]
    index = torch.randint(classes, shape[:-1])
    return torch.nn.functional.one_hot(index, classes).float()


def soft(shape):
    return torch.softmax(torch.randn(*shape) * 2, dim=-1)


def large_logits(shape):
    # Entries of +-50 and +-30: exp(50) overflows nothing in the stable form, while a
    # naive softmax or log(sigmoid) would produce inf or log(0).
    return torch.tensor([-50.0, 50.0, -30.0, 30.0])[torch.randint(4, shape)] + torch.randn(*shape)


def mse_cases(writer):
    for name, shape in [("batch1", [1, 7]), ("batch4", [4, 5]), ("rows", [2, 1, 3, 4])]:
        loss_case(writer, f"mse_{name}", "mse", torch.randn(*shape), torch.randn(*shape))


def cross_entropy_cases(writer):
    configs = [
        ("onehot_batch1_c3", [1, 3], one_hot),
        ("onehot_batch4_c10", [4, 10], one_hot),
        ("onehot_batch4_c2", [4, 2], one_hot),
        ("soft_batch1_c5", [1, 5], soft),
        ("soft_batch4_c7", [4, 7], soft),
        ("soft_batch4_c100", [4, 100], soft),
        ("onehot_rows", [2, 1, 3, 4], one_hot),
        ("soft_rows", [2, 2, 1, 6], soft),
    ]
    for name, shape, make_label in configs:
        loss_case(writer, f"ce_{name}", "cross_entropy", torch.randn(*shape) * 3, make_label(shape))
    loss_case(writer, "ce_large_onehot", "cross_entropy", large_logits([4, 6]), one_hot([4, 6]))
    loss_case(writer, "ce_large_soft", "cross_entropy", large_logits([4, 6]), soft([4, 6]))
    # Labels that do not sum to 1, and an all-zero row that masks its sample out.
    label = torch.rand(3, 5)
    label[1] = 0.0
    loss_case(writer, "ce_unnormalized", "cross_entropy", torch.randn(3, 5), label)
    # The label picks the smallest logit: log_softmax near -100, the loss stays finite.
    x = torch.tensor([[50.0, -50.0, 0.0], [-50.0, 50.0, 49.0]])
    loss_case(writer, "ce_large_wrong_class", "cross_entropy", x,
              torch.tensor([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]]))


def bce_cases(writer):
    configs = [
        ("hard_batch1", [1, 6], lambda s: torch.randint(2, s).float()),
        ("hard_batch4", [4, 3], lambda s: torch.randint(2, s).float()),
        ("soft_batch4", [4, 5], lambda s: torch.rand(*s)),
        ("soft_rows", [2, 1, 3, 4], lambda s: torch.rand(*s)),
    ]
    for name, shape, make_label in configs:
        loss_case(writer, f"bce_{name}", "bce_with_logits", torch.randn(*shape) * 3,
                  make_label(shape))
    loss_case(writer, "bce_large_hard", "bce_with_logits", large_logits([4, 4]),
              torch.randint(2, [4, 4]).float())
    loss_case(writer, "bce_large_soft", "bce_with_logits", large_logits([4, 4]), torch.rand(4, 4))


def main():
    torch.manual_seed(0)
    writer = GoldenWriter("losses.txt")
    mse_cases(writer)
    cross_entropy_cases(writer)
    bce_cases(writer)
    writer.write()


if __name__ == "__main__":
    main()
