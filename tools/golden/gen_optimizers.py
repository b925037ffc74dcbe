"""Golden values for the optimizers: torch.optim.SGD, Adam, AdamW and RMSprop run for STEPS
steps on fixed parameters with a fixed, seeded sequence of gradients.

Writes tests/golden/optimizers.txt in the case format of tests/support/golden.h, read
with load_golden(); only `case`, `type`, `props`, `tensor` and `end` lines are used
(GoldenWriter also writes `mode` and `inputs` lines, which mean nothing here):

  case gradients                     the shared inputs, written once
  type data
  tensor param:NAME SHAPE            initial value of parameter NAME
  tensor grad:S:NAME SHAPE           gradient of NAME given to step S (1..STEPS)
  end
  case NAME                          one optimizer configuration
  type sgd|adam|adamw|rmsprop       edgetrain's createOptimizer type
  props key=value;...                edgetrain's properties (learning_rate included)
  tensor after:S:NAME SHAPE          NAME after step S (1..STEPS)
  end

Parameters keep their PyTorch shapes, padded on the left to N:C:H:W.
"""
import torch

from golden_io import GoldenWriter

STEPS = 20
PARAMS = {"weight": [3, 4], "bias": [5], "kernel": [2, 1, 2, 3]}

# name, torch.optim class, torch keyword arguments, edgetrain type, edgetrain properties
CONFIGS = [
    ("sgd_plain", torch.optim.SGD, {"lr": 0.1}, "sgd", ["learning_rate=0.1"]),
    ("sgd_momentum", torch.optim.SGD, {"lr": 0.1, "momentum": 0.9},
     "sgd", ["learning_rate=0.1", "momentum=0.9"]),
    ("sgd_nesterov", torch.optim.SGD, {"lr": 0.1, "momentum": 0.9, "nesterov": True},
     "sgd", ["learning_rate=0.1", "momentum=0.9", "nesterov=true"]),
    ("sgd_dampening", torch.optim.SGD, {"lr": 0.1, "momentum": 0.9, "dampening": 0.1},
     "sgd", ["learning_rate=0.1", "momentum=0.9", "dampening=0.1"]),
    ("sgd_weight_decay", torch.optim.SGD, {"lr": 0.1, "momentum": 0.9, "weight_decay": 0.01},
     "sgd", ["learning_rate=0.1", "momentum=0.9", "weight_decay=0.01"]),
    ("adam_default", torch.optim.Adam, {"lr": 1e-3}, "adam", ["learning_rate=0.001"]),
    ("adam_weight_decay", torch.optim.Adam, {"lr": 1e-3, "weight_decay": 0.01},
     "adam", ["learning_rate=0.001", "weight_decay=0.01"]),
    ("adam_betas", torch.optim.Adam, {"lr": 0.01, "betas": (0.8, 0.99), "eps": 1e-6},
     "adam", ["learning_rate=0.01", "beta1=0.8", "beta2=0.99", "epsilon=1e-6"]),
    ("adam_amsgrad", torch.optim.Adam, {"lr": 0.01, "amsgrad": True},
     "adam", ["learning_rate=0.01", "amsgrad=true"]),
    # AdamW's default weight_decay is 0.01 in both, so adamw_default decays too.
    ("adamw_default", torch.optim.AdamW, {"lr": 1e-3}, "adamw", ["learning_rate=0.001"]),
    ("adamw_no_weight_decay", torch.optim.AdamW, {"lr": 0.01, "weight_decay": 0.0},
     "adamw", ["learning_rate=0.01", "weight_decay=0"]),
    ("adamw_weight_decay", torch.optim.AdamW,
     {"lr": 0.01, "betas": (0.8, 0.99), "eps": 1e-6, "weight_decay": 0.5},
     "adamw", ["learning_rate=0.01", "beta1=0.8", "beta2=0.99", "epsilon=1e-6",
               "weight_decay=0.5"]),
    ("adamw_amsgrad", torch.optim.AdamW, {"lr": 0.01, "weight_decay": 0.1, "amsgrad": True},
     "adamw", ["learning_rate=0.01", "weight_decay=0.1", "amsgrad=true"]),
    ("rmsprop_default", torch.optim.RMSprop, {}, "rmsprop", []),
    ("rmsprop_alpha", torch.optim.RMSprop, {"lr": 0.001, "alpha": 0.9, "eps": 1e-6},
     "rmsprop", ["learning_rate=0.001", "rho=0.9", "epsilon=1e-6"]),
    ("rmsprop_momentum", torch.optim.RMSprop, {"lr": 0.001, "momentum": 0.9},
     "rmsprop", ["learning_rate=0.001", "momentum=0.9"]),
    ("rmsprop_centered", torch.optim.RMSprop, {"lr": 0.001, "centered": True},
     "rmsprop", ["learning_rate=0.001", "centered=true"]),
    ("rmsprop_weight_decay", torch.optim.RMSprop, {"lr": 0.001, "weight_decay": 0.1},
     "rmsprop", ["learning_rate=0.001", "weight_decay=0.1"]),
    ("rmsprop_centered_momentum", torch.optim.RMSprop,
     {"lr": 0.001, "alpha": 0.95, "momentum": 0.5, "centered": True, "weight_decay": 0.01},
     "rmsprop", ["learning_rate=0.001", "alpha=0.95", "momentum=0.5", "centered=true",
                 "weight_decay=0.01"]),
]


def main():
    generator = torch.Generator().manual_seed(0)
    initial = {name: torch.randn(shape, generator=generator) for name, shape in PARAMS.items()}
    # Gradients of varying scale, so that Adam's normalisation and SGD's momentum are
    # exercised by more than one magnitude.
    gradients = [{name: torch.randn(shape, generator=generator) * (0.1 + step % 4)
                  for name, shape in PARAMS.items()} for step in range(STEPS)]

    writer = GoldenWriter("optimizers.txt")
    shared = [(f"param:{name}", value, False) for name, value in initial.items()]
    for step, grads in enumerate(gradients, start=1):
        shared += [(f"grad:{step}:{name}", grad, False) for name, grad in grads.items()]
    writer.case("gradients", "data", [], True, [], shared)

    for name, optimizer_class, kwargs, edgetrain_type, props in CONFIGS:
        params = {key: value.clone().requires_grad_(True) for key, value in initial.items()}
        optimizer = optimizer_class(params.values(), **kwargs)
        after = []
        for step, grads in enumerate(gradients, start=1):
            for key, param in params.items():
                param.grad = grads[key].clone()
            optimizer.step()
            after += [(f"after:{step}:{key}", param.detach().clone(), False)
                      for key, param in params.items()]
        writer.case(name, edgetrain_type, props, True, [], after)
    writer.write()


if __name__ == "__main__":
    main()
