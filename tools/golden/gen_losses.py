"""Golden values for the loss layers: mse (torch.nn.MSELoss), cross_entropy
(torch.nn.CrossEntropyLoss with class-probability targets, also with label_smoothing),
bce_with_logits (torch.nn.BCEWithLogitsLoss), all with reduction='mean', and focal_loss
(the softmax focal loss, written out below as src/layers/losses/focal_loss.h defines it).

Each case stores input:0 (the prediction or logits), label, output:0 (the loss, a
1:1:1:1 tensor) and input_grad:0 (d loss / d input).
"""
import torch

from golden_io import GoldenWriter


def cross_entropy(logits, label, label_smoothing=0.0):
    # edgetrain takes the softmax over the last dimension and treats every other index
    # as a sample, which is torch's [rows, classes] layout after flattening.
    classes = logits.shape[-1]
    loss = torch.nn.CrossEntropyLoss(label_smoothing=label_smoothing)
    return loss(logits.reshape(-1, classes), label.reshape(-1, classes))


def focal_loss(logits, label, gamma=2.0, alpha=None):
    """Softmax focal loss with class-probability labels, mean over rows:
    -sum_c label[c] * alpha[c] * (1 - p[c])^gamma * log p[c], p = softmax(logits).
    With a one-hot label of class t: -alpha_t * (1 - p_t)^gamma * log p_t."""
    classes = logits.shape[-1]
    logp = torch.log_softmax(logits.reshape(-1, classes).double(), dim=1)
    weight = label.reshape(-1, classes).double()
    if alpha is not None:
        weight = weight * torch.tensor(alpha, dtype=torch.float64)
    return (-(weight * (1 - logp.exp()) ** gamma * logp).sum(dim=1)).mean().float()


def focal_loss_of_class_indices(logits, target, gamma, alpha):
    """The usual implementation for class-index targets, alpha_t * (1 - p_t)^gamma * CE,
    which focal_loss must equal for one-hot labels."""
    classes = logits.shape[-1]
    ce = torch.nn.functional.cross_entropy(logits.reshape(-1, classes).double(), target,
                                           reduction="none")
    alpha_t = torch.tensor(alpha, dtype=torch.float64)[target] if alpha is not None else 1.0
    return (alpha_t * (1 - torch.exp(-ce)) ** gamma * ce).mean().float()


LOSSES = {
    "mse": torch.nn.MSELoss(),
    "cross_entropy": cross_entropy,
    "bce_with_logits": torch.nn.BCEWithLogitsLoss(),
    "focal_loss": focal_loss,
}


def loss_case(writer, name, layer_type, x, label, props=None):
    """props: the layer's properties as a dict, passed to the loss as keyword arguments
    (alpha as a list) and to edgetrain as key=value strings."""
    props = props or {}
    x = x.clone().requires_grad_(True)
    loss = LOSSES[layer_type](x, label, **props)
    loss.backward()
    assert torch.isfinite(loss) and torch.isfinite(x.grad).all(), name
    texts = [f"{key}={','.join(map(str, value)) if isinstance(value, list) else value}"
             for key, value in props.items()]
    writer.case(name, layer_type, texts, True, [x.detach()], [
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


def label_smoothing_cases(writer):
    for name, shape, make_label in [("onehot", [4, 6], one_hot), ("soft", [3, 5], soft),
                                    ("onehot_rows", [2, 1, 3, 4], one_hot)]:
        loss_case(writer, f"ce_smooth_{name}", "cross_entropy", torch.randn(*shape) * 3,
                  make_label(shape), {"label_smoothing": 0.1})
    loss_case(writer, "ce_smooth_0.3_large", "cross_entropy", large_logits([4, 6]),
              one_hot([4, 6]), {"label_smoothing": 0.3})
    # An all-zero row still gets label_smoothing / classes per class, as in PyTorch.
    label = torch.rand(3, 5)
    label[1] = 0.0
    loss_case(writer, "ce_smooth_unnormalized", "cross_entropy", torch.randn(3, 5), label,
              {"label_smoothing": 0.2})


def focal_cases(writer):
    configs = [
        ("default_onehot", [4, 6], one_hot, {}),
        ("default_soft", [3, 5], soft, {}),
        ("gamma0", [4, 5], one_hot, {"gamma": 0.0}),
        ("gamma0.5", [4, 5], soft, {"gamma": 0.5}),
        ("gamma1", [3, 4], one_hot, {"gamma": 1.0}),
        ("gamma3_alpha", [4, 3], one_hot, {"gamma": 3.0, "alpha": [0.25, 0.5, 1.5]}),
        ("alpha_scalar", [3, 5], soft, {"alpha": 0.25}),
        ("alpha_list_soft", [2, 4], soft, {"gamma": 1.5, "alpha": [1.0, 2.0, 0.5, 0.0]}),
        ("rows", [2, 1, 3, 4], one_hot, {"gamma": 2.0}),
        ("c10", [4, 10], one_hot, {}),
    ]
    for name, shape, make_label, props in configs:
        x, label = torch.randn(*shape) * 3, make_label(shape)
        if make_label is one_hot:
            alpha = props.get("alpha")
            expected = focal_loss_of_class_indices(
                x, label.reshape(-1, shape[-1]).argmax(dim=1), props.get("gamma", 2.0),
                alpha if isinstance(alpha, list) or alpha is None else [alpha] * shape[-1])
            assert torch.isclose(focal_loss(x, label, **props), expected, rtol=1e-6), name
        loss_case(writer, f"focal_{name}", "focal_loss", x, label, props)
    loss_case(writer, "focal_large_onehot", "focal_loss", large_logits([4, 6]), one_hot([4, 6]))
    loss_case(writer, "focal_large_soft", "focal_loss", large_logits([4, 6]), soft([4, 6]),
              {"gamma": 1.0})
    label = torch.rand(3, 5)
    label[1] = 0.0
    loss_case(writer, "focal_unnormalized", "focal_loss", torch.randn(3, 5), label)


def main():
    torch.manual_seed(0)
    writer = GoldenWriter("losses.txt")
    mse_cases(writer)
    cross_entropy_cases(writer)
    bce_cases(writer)
    # Appended after the older cases, so that their random draws stay the same.
    label_smoothing_cases(writer)
    focal_cases(writer)
    writer.write()


if __name__ == "__main__":
    main()
