"""Golden loss curves for the end-to-end test: a small CNN trained 50 steps with SGD
(momentum) and with Adam from identical initial weights and data.

Model (edgetrain names): input 1:8:8 -> conv1 (4 filters 3x3, padding 1, relu) ->
pool1 (max 2x2) -> conv2 (6 filters 3x3, padding same, relu) -> pool2 (average 2x2)
-> flatten -> fc (5 units) -> cross_entropy. Batch 4; step s uses batch s % 8.
"""
import torch
import torch.nn.functional as F

from golden_io import GoldenWriter

STEPS = 50
BATCH = 4
BATCHES = 8
CLASSES = 5


class SmallCnn(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = torch.nn.Conv2d(1, 4, 3, padding=1)
        self.conv2 = torch.nn.Conv2d(4, 6, 3, padding=1)
        self.fc = torch.nn.Linear(6 * 2 * 2, CLASSES)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.avg_pool2d(F.relu(self.conv2(x)), 2)
        return self.fc(torch.flatten(x, 1))


def train(model, optimizer, inputs, labels):
    losses = []
    for step in range(STEPS):
        b = step % BATCHES
        x = inputs[b * BATCH:(b + 1) * BATCH]
        y = labels[b * BATCH:(b + 1) * BATCH]
        optimizer.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(x), y)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return torch.tensor(losses)


def main():
    torch.manual_seed(0)
    inputs = torch.rand(BATCH * BATCHES, 1, 8, 8)
    classes = torch.randint(0, CLASSES, (BATCH * BATCHES,))
    labels = F.one_hot(classes, CLASSES).float()
    initial = SmallCnn()
    state = {k: v.clone() for k, v in initial.state_dict().items()}

    tensors = [("data:input", inputs, True), ("data:label", labels, True)]
    for name, value in state.items():
        layer, kind = name.split(".")
        tensors.append((f"weight:{layer}:{kind}", value, False))

    sgd_model = SmallCnn()
    sgd_model.load_state_dict(state)
    sgd = torch.optim.SGD(sgd_model.parameters(), lr=0.05, momentum=0.9)
    tensors.append(("loss:sgd", train(sgd_model, sgd, inputs, labels), False))

    adam_model = SmallCnn()
    adam_model.load_state_dict(state)
    adam = torch.optim.Adam(adam_model.parameters(), lr=0.01)
    tensors.append(("loss:adam", train(adam_model, adam, inputs, labels), False))

    writer = GoldenWriter("end_to_end_cnn.txt")
    writer.case("small_cnn", "none", [], True, [], tensors)
    writer.write()


if __name__ == "__main__":
    main()
