"""Golden values for gradient clipping (the optimizers' clip_grad_norm property): a small
MLP trained a few steps with torch.nn.utils.clip_grad_norm_ before every optimizer step,
with SGD (momentum) and with Adam, from identical initial weights and data. The total
gradient norm stays above the threshold, so every step clips.

Model (edgetrain names): input 1:1:6 -> fc1 (8 units, relu) -> fc2 (4 units) ->
cross_entropy. Batch 4; step s uses batch s % 2.

Writes tests/golden/clip_grad_norm.txt, one case:
  tensor data:input / data:label      all the batches, back to back
  tensor weight:LAYER:KIND            initial weights (PyTorch layouts)
  tensor loss:OPT                     the loss of each step
  tensor norm:OPT                     the total gradient norm of each step, before clipping
  tensor after:OPT:LAYER:KIND         the weights after the last step
"""
import torch
import torch.nn.functional as F

from golden_io import GoldenWriter

STEPS = 6
BATCH = 4
BATCHES = 2
CLASSES = 4

# name, optimizer class, keyword arguments, max norm
OPTIMIZERS = [
    ("sgd", torch.optim.SGD, {"lr": 0.1, "momentum": 0.9}, 0.5),
    ("adam", torch.optim.Adam, {"lr": 0.01}, 0.25),
]


class Mlp(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = torch.nn.Linear(6, 8)
        self.fc2 = torch.nn.Linear(8, CLASSES)

    def forward(self, x):
        return self.fc2(F.relu(self.fc1(x)))


def main():
    torch.manual_seed(0)
    inputs = torch.randn(BATCH * BATCHES, 6) * 3.0
    classes = torch.randint(0, CLASSES, (BATCH * BATCHES,))
    labels = F.one_hot(classes, CLASSES).float()
    initial = Mlp()
    state = {k: v.clone() for k, v in initial.state_dict().items()}

    tensors = [("data:input", inputs, True), ("data:label", labels, True)]
    for name, value in state.items():
        layer, kind = name.split(".")
        tensors.append((f"weight:{layer}:{kind}", value, False))

    for name, optimizer_class, kwargs, max_norm in OPTIMIZERS:
        model = Mlp()
        model.load_state_dict(state)
        optimizer = optimizer_class(model.parameters(), **kwargs)
        losses, norms = [], []
        for step in range(STEPS):
            b = step % BATCHES
            x = inputs[b * BATCH:(b + 1) * BATCH]
            y = labels[b * BATCH:(b + 1) * BATCH]
            optimizer.zero_grad()
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            norm = torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm)
            assert norm.item() > max_norm, (name, step, norm.item())
            optimizer.step()
            losses.append(loss.item())
            norms.append(norm.item())
        tensors.append((f"loss:{name}", torch.tensor(losses), False))
        tensors.append((f"norm:{name}", torch.tensor(norms), False))
        for key, value in model.state_dict().items():
            layer, kind = key.split(".")
            tensors.append((f"after:{name}:{layer}:{kind}", value, False))

    writer = GoldenWriter("clip_grad_norm.txt")
    writer.case("mlp", "none", [], True, [], tensors)
    writer.write()


if __name__ == "__main__":
    main()
