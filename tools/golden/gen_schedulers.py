"""Golden values for the learning-rate schedulers: the rate of each of the first
ITERATIONS updates (iteration 0, 1, ...).

Where PyTorch has the same schedule, the rates are torch.optim.lr_scheduler's, read from
the optimizer before each update; the script also checks them against the formula
documented in src/optim/*_scheduler.h. Where it has none (exponential's continuous
form, NNTrainer's step form, constant), the rates are that formula, computed here in
double precision.

reduce_on_plateau follows a metric instead of the iteration: its cases hold the metric
reported after each epoch and the rate torch's ReduceLROnPlateau gives the next epoch.

Writes tests/golden/schedulers.txt in the case format of tests/support/golden.h:

  case NAME                         one scheduler configuration
  type exponential|step|...         edgetrain's createLearningRateScheduler type
  props key=value;...               edgetrain's properties
  tensor base 1:1:1:1               the optimizer's learning_rate
  tensor rates 1:1:1:ITERATIONS     the rate of iterations 0 .. ITERATIONS - 1
  end
or, for reduce_on_plateau:
  tensor metrics 1:1:1:EPOCHS       the monitored metric after each epoch
  tensor rates 1:1:1:EPOCHS         the rate after stepping with that epoch's metric
"""
import math
import warnings

import torch
from torch.optim import lr_scheduler

from golden_io import GoldenWriter

ITERATIONS = 100
BASE = 0.1  # the optimizer's learning_rate unless a case says otherwise


def torch_rates(lr, make_scheduler):
    """The rates torch's scheduler gives an optimizer whose lr is `lr`."""
    optimizer = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=lr)
    scheduler = make_scheduler(optimizer)
    rates = []
    for _ in range(ITERATIONS):
        rates.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    return rates


def warmup_then(steps, after):
    """torch's equivalent of edgetrain's warmup: (it + 1) / steps of the rate, then `after`."""
    return lambda optimizer: lr_scheduler.SequentialLR(
        optimizer,
        [lr_scheduler.LinearLR(optimizer, start_factor=1 / steps, end_factor=1.0,
                               total_iters=steps - 1), after(optimizer)],
        milestones=[steps])


# The formulas of src/optim/*_scheduler.h, as functions of the iteration.
def exponential(lr0, decay_rate, decay_steps, staircase=False):
    def rate(it):
        exponent = it / decay_steps
        return lr0 * decay_rate ** (math.floor(exponent) if staircase else exponent)
    return rate


def multi_step(lr0, milestones, gamma):
    return lambda it: lr0 * gamma ** sum(1 for m in milestones if m <= it)


def nntrainer_step(rates, iterations):
    return lambda it: rates[sum(1 for i in iterations if i < it)]


def cosine(max_lr, min_lr, decay_steps):
    return lambda it: min_lr + (max_lr - min_lr) / 2 * (
        1 + math.cos(math.pi * (it % decay_steps) / decay_steps))


def linear(max_lr, min_lr, decay_steps):
    return lambda it: max_lr + (min_lr - max_lr) * min(it, decay_steps) / decay_steps


def warmup(steps, after):
    return lambda it: after(0) * (it + 1) / steps if it < steps else after(it - steps)


# name, edgetrain type, edgetrain properties, the optimizer's learning_rate, the formula,
# and torch's scheduler (taking the optimizer, with the lr it needs) or None.
CASES = [
    ("constant_optimizer_rate", "constant", [], BASE, lambda it: BASE, None),
    ("constant_own_rate", "constant", ["learning_rate=0.05"], BASE, lambda it: 0.05, None),
    ("exponential_every_iteration", "exponential", ["decay_rate=0.95"], BASE,
     exponential(BASE, 0.95, 1),
     (BASE, lambda o: lr_scheduler.ExponentialLR(o, gamma=0.95))),
    ("exponential_staircase", "exponential",
     ["learning_rate=0.2", "decay_rate=0.5", "decay_steps=10", "staircase=true"], BASE,
     exponential(0.2, 0.5, 10, staircase=True),
     (0.2, lambda o: lr_scheduler.StepLR(o, step_size=10, gamma=0.5))),
    ("exponential_continuous", "exponential", ["decay_rate=0.5", "decay_steps=10"], BASE,
     exponential(BASE, 0.5, 10), None),
    ("step_milestones", "step", ["milestones=10,30,60", "gamma=0.5"], BASE,
     multi_step(BASE, [10, 30, 60], 0.5),
     (BASE, lambda o: lr_scheduler.MultiStepLR(o, milestones=[10, 30, 60], gamma=0.5))),
    ("step_default_gamma_own_rate", "step", ["learning_rate=0.3", "milestones=0,50"], BASE,
     multi_step(0.3, [0, 50], 0.1),
     (0.3, lambda o: lr_scheduler.MultiStepLR(o, milestones=[0, 50]))),
    ("step_nntrainer", "step", ["learning_rate=0.1,0.01,0.001", "iteration=20,50"], BASE,
     nntrainer_step([0.1, 0.01, 0.001], [20, 50]), None),
    ("cosine_restarts", "cosine", ["min_learning_rate=0.001", "decay_steps=30"], BASE,
     cosine(BASE, 0.001, 30),
     (BASE, lambda o: lr_scheduler.CosineAnnealingWarmRestarts(o, T_0=30, eta_min=0.001))),
    ("cosine_own_max", "cosine", ["max_learning_rate=0.05", "decay_steps=100"], BASE,
     cosine(0.05, 0.0, 100),
     (0.05, lambda o: lr_scheduler.CosineAnnealingWarmRestarts(o, T_0=100))),
    ("linear", "linear", ["min_learning_rate=0.01", "decay_steps=40"], BASE,
     linear(BASE, 0.01, 40),
     (BASE, lambda o: lr_scheduler.LinearLR(o, start_factor=1.0, end_factor=0.1,
                                            total_iters=40))),
    ("linear_own_max", "linear", ["max_learning_rate=0.5", "min_learning_rate=0.1",
                                  "decay_steps=64"], BASE,
     linear(0.5, 0.1, 64),
     (0.5, lambda o: lr_scheduler.LinearLR(o, start_factor=1.0, end_factor=0.2,
                                           total_iters=64))),
    ("warmup_constant", "warmup", ["warmup_steps=10"], BASE,
     warmup(10, lambda it: BASE),
     (BASE, lambda o: lr_scheduler.LinearLR(o, start_factor=1 / 10, end_factor=1.0,
                                            total_iters=9))),
    # The `after` scheduler's properties come first: their order does not matter.
    ("warmup_cosine", "warmup",
     ["min_learning_rate=0.001", "decay_steps=30", "after=cosine", "warmup_steps=20"], BASE,
     warmup(20, cosine(BASE, 0.001, 30)),
     (BASE, warmup_then(20, lambda o: lr_scheduler.CosineAnnealingWarmRestarts(
         o, T_0=30, eta_min=0.001)))),
    ("warmup_step", "warmup", ["warmup_steps=5", "after=step", "milestones=20,40", "gamma=0.5"],
     BASE, warmup(5, multi_step(BASE, [20, 40], 0.5)),
     (BASE, warmup_then(5, lambda o: lr_scheduler.MultiStepLR(o, milestones=[20, 40],
                                                              gamma=0.5)))),
    ("warmup_linear", "warmup", ["warmup_steps=8", "after=linear", "max_learning_rate=0.2",
                                 "min_learning_rate=0.02", "decay_steps=50"], BASE,
     warmup(8, linear(0.2, 0.02, 50)),
     (0.2, warmup_then(8, lambda o: lr_scheduler.LinearLR(o, start_factor=1.0,
                                                          end_factor=0.1, total_iters=50)))),
    ("warmup_exponential", "warmup", ["warmup_steps=3", "after=exponential", "decay_rate=0.97"],
     BASE, warmup(3, exponential(BASE, 0.97, 1)),
     (BASE, warmup_then(3, lambda o: lr_scheduler.ExponentialLR(o, gamma=0.97)))),
]


# A loss that falls, stalls, wobbles within the threshold, falls again and stalls.
LOSS_CURVE = [1.0, 0.8, 0.7, 0.7, 0.69995, 0.71, 0.7, 0.6, 0.6, 0.61, 0.62, 0.6, 0.6, 0.59,
              0.58, 0.58, 0.58, 0.58, 0.58, 0.58, 0.58, 0.58, 0.58, 0.58, 0.58]
# An accuracy that rises and stalls.
ACCURACY_CURVE = [0.5, 0.6, 0.65, 0.65, 0.66, 0.65, 0.66, 0.66, 0.7, 0.7, 0.7, 0.7, 0.71,
                  0.71, 0.71, 0.71, 0.71, 0.71]

# name, edgetrain properties, the optimizer's rate, the metrics, torch's keyword arguments
PLATEAU_CASES = [
    ("plateau_defaults", [], 0.1, LOSS_CURVE * 2, {}),
    ("plateau_patience1", ["patience=1"], 0.1, LOSS_CURVE, {"patience": 1}),
    ("plateau_patience0_factor_half", ["patience=0", "factor=0.5"], 0.01, LOSS_CURVE,
     {"patience": 0, "factor": 0.5}),
    ("plateau_cooldown_min_lr", ["patience=1", "cooldown=2", "min_lr=0.004", "factor=0.5"], 0.05,
     LOSS_CURVE, {"patience": 1, "cooldown": 2, "min_lr": 0.004, "factor": 0.5}),
    ("plateau_threshold_rel", ["patience=1", "threshold=0.05"], 0.1, LOSS_CURVE,
     {"patience": 1, "threshold": 0.05}),
    ("plateau_threshold_abs", ["patience=1", "threshold=0.015", "threshold_mode=abs"], 0.1,
     LOSS_CURVE, {"patience": 1, "threshold": 0.015, "threshold_mode": "abs"}),
    ("plateau_accuracy_max", ["monitor=val_accuracy", "patience=1", "factor=0.2"], 0.1,
     ACCURACY_CURVE, {"mode": "max", "patience": 1, "factor": 0.2}),
    ("plateau_accuracy_abs", ["monitor=accuracy", "patience=2", "threshold=0.02",
                              "threshold_mode=abs", "cooldown=1"], 0.1, ACCURACY_CURVE,
     {"mode": "max", "patience": 2, "threshold": 0.02, "threshold_mode": "abs", "cooldown": 1}),
    ("plateau_own_rate", ["patience=1", "learning_rate=0.3"], 0.1, LOSS_CURVE,
     {"patience": 1, "lr": 0.3}),
]


def plateau_rates(lr, metrics, arguments):
    """The optimizer's rate after each ReduceLROnPlateau.step(metric)."""
    arguments = dict(arguments)
    lr = arguments.pop("lr", lr)
    optimizer = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=lr)
    scheduler = lr_scheduler.ReduceLROnPlateau(optimizer, **arguments)
    rates = []
    for metric in metrics:
        optimizer.step()
        scheduler.step(metric)
        rates.append(optimizer.param_groups[0]["lr"])
    return rates


def main():
    # SequentialLR restarts the `after` scheduler with step(0), which torch itself warns
    # about; the rates are checked against the formula below regardless.
    warnings.filterwarnings("ignore", message="The epoch parameter", category=UserWarning)
    writer = GoldenWriter("schedulers.txt")
    for name, edgetrain_type, props, base, formula, reference in CASES:
        rates = [formula(it) for it in range(ITERATIONS)]
        if reference is not None:
            torch_lr, make_scheduler = reference
            from_torch = torch_rates(torch_lr, make_scheduler)
            for it, (ours, theirs) in enumerate(zip(rates, from_torch)):
                assert math.isclose(ours, theirs, rel_tol=1e-9, abs_tol=1e-12), \
                    f"{name}: iteration {it}: formula {ours} != torch {theirs}"
            rates = from_torch
        writer.case(name, edgetrain_type, props, True, [],
                    [("base", torch.tensor([base]), False),
                     ("rates", torch.tensor(rates, dtype=torch.float64), False)])
    for name, props, base, metrics, arguments in PLATEAU_CASES:
        # The metrics as edgetrain reads them, in float32, so that no comparison with the
        # best differs by the rounding.
        metrics = torch.tensor(metrics, dtype=torch.float32).tolist()
        rates = plateau_rates(base, metrics, arguments)
        writer.case(name, "reduce_on_plateau", props, True, [],
                    [("base", torch.tensor([base]), False),
                     ("metrics", torch.tensor(metrics, dtype=torch.float64), False),
                     ("rates", torch.tensor(rates, dtype=torch.float64), False)])
    writer.write()


if __name__ == "__main__":
    main()
