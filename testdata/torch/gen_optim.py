"""Golden fixtures for package optim: optimizer updates, LR schedules and
gradient clipping, recorded from PyTorch 1.13 so the Go tests can replay
them. Run: /usr/bin/python3 testdata/torch/gen_optim.py  (writes optim.json).

There is no model: each optimizer case starts from fixed parameters and is fed
fixed gradients, stored per step, and the parameters after every step are
recorded. Every optimizer runs its single-tensor path (foreach=False), the
implementation whose float32 operation order the Go code follows.
"""
import json
import math
import os

import torch
from torch.optim import SGD, Adam, AdamW, RMSprop, Adagrad
from torch.optim import lr_scheduler as lrs

torch.manual_seed(7)
torch.set_default_dtype(torch.float32)

SHAPES = [(7,), (3, 5)]
STEPS = 5


def flat(t):
    return [float(v) for v in t.detach().reshape(-1).tolist()]


def make_params():
    ps = [torch.randn(*s) for s in SHAPES]
    return [p.requires_grad_(True) for p in ps]


def make_grads():
    steps = []
    for _ in range(STEPS):
        gs = [torch.randn(*s) * 0.5 for s in SHAPES]
        gs[0][3] = 0.0  # one coordinate never sees a gradient: exercises eps paths
        steps.append(gs)
    return steps


OPT = {"sgd": SGD, "adam": Adam, "adamw": AdamW, "rmsprop": RMSprop, "adagrad": Adagrad}


def run_opt(name, kind, config, groups=None):
    """groups: list of (param indices, overrides) or None for one group."""
    params = make_params()
    p0 = [flat(p) for p in params]
    grads = make_grads()
    kw = dict(config)
    kw["foreach"] = False
    if groups is None:
        opt = OPT[kind](params, **kw)
    else:
        opt = OPT[kind]([dict(params=[params[i] for i in idx], **ov) for idx, ov in groups], **kw)
    after = []
    for gs in grads:
        for p, g in zip(params, gs):
            p.grad = g.clone()
        opt.step()
        after.append([flat(p) for p in params])
    case = {"name": name, "kind": kind, "config": config, "shapes": [list(s) for s in SHAPES],
            "params0": p0, "grads": [[flat(g) for g in gs] for gs in grads], "params": after}
    if groups is not None:
        case["groups"] = [{"params": idx, "overrides": ov} for idx, ov in groups]
    return case


optimizers = [
    run_opt("sgd", "sgd", {"lr": 0.1}),
    run_opt("sgd_momentum", "sgd", {"lr": 0.1, "momentum": 0.9}),
    run_opt("sgd_nesterov", "sgd", {"lr": 0.1, "momentum": 0.9, "nesterov": True}),
    run_opt("sgd_weight_decay", "sgd", {"lr": 0.1, "momentum": 0.9, "weight_decay": 0.01}),
    run_opt("sgd_dampening", "sgd", {"lr": 0.1, "momentum": 0.9, "dampening": 0.3}),
    run_opt("sgd_groups", "sgd", {"lr": 0.1, "momentum": 0.9},
            groups=[([0], {"weight_decay": 0.05}), ([1], {"lr": 0.01})]),
    run_opt("adam", "adam", {"lr": 0.01}),
    run_opt("adam_weight_decay", "adam", {"lr": 0.01, "weight_decay": 0.1}),
    run_opt("adam_amsgrad", "adam", {"lr": 0.01, "betas": [0.8, 0.99], "amsgrad": True}),
    run_opt("adamw", "adamw", {"lr": 0.01}),
    run_opt("adamw_amsgrad", "adamw", {"lr": 0.01, "weight_decay": 0.1, "amsgrad": True, "eps": 1e-6}),
    run_opt("rmsprop", "rmsprop", {"lr": 0.01}),
    run_opt("rmsprop_centered", "rmsprop", {"lr": 0.01, "centered": True}),
    run_opt("rmsprop_momentum", "rmsprop", {"lr": 0.01, "momentum": 0.9, "weight_decay": 0.01}),
    run_opt("rmsprop_centered_momentum", "rmsprop", {"lr": 0.01, "alpha": 0.9, "momentum": 0.5, "centered": True}),
    run_opt("adagrad", "adagrad", {"lr": 0.1}),
    run_opt("adagrad_decay", "adagrad", {"lr": 0.1, "lr_decay": 0.01, "weight_decay": 0.01,
                                         "initial_accumulator_value": 0.1}),
]

# ---- schedules: two groups with different base LRs, SGD with momentum ----
NSCHED = 30
BASE = [0.1, 0.05]


def warmup_cosine(warmup, total, min_lr, base):
    # transformers.get_cosine_schedule_with_warmup (num_cycles=0.5); with
    # min_lr > 0 the floor is applied as get_cosine_with_min_lr_schedule_with_warmup
    # does, with min_lr_rate = min_lr / base per group.
    rate = min_lr / base

    def f(step):
        if step < warmup:
            return float(step) / float(max(1, warmup))
        progress = float(step - warmup) / float(max(1, total - warmup))
        factor = 0.5 * (1.0 + math.cos(math.pi * float(0.5) * 2.0 * progress))
        factor = factor * (1 - rate) + rate
        return max(0.0, factor)
    return f


def run_sched(name, kind, args, make, metrics=None, momentum=False):
    ps = [torch.zeros(2, requires_grad=True), torch.zeros(3, requires_grad=True)]
    opt = SGD([{"params": [ps[0]], "lr": BASE[0]}, {"params": [ps[1]], "lr": BASE[1]}], lr=BASE[0], momentum=0.9)
    s = make(opt)
    lr = [[g["lr"] for g in opt.param_groups]]
    mom = [[g["momentum"] for g in opt.param_groups]]
    for i in range(NSCHED):
        opt.step()
        if metrics is not None:
            s.step(metrics[i])
        else:
            s.step()
        lr.append([g["lr"] for g in opt.param_groups])
        mom.append([g["momentum"] for g in opt.param_groups])
    c = {"name": name, "kind": kind, "args": args, "base_lrs": BASE, "lrs": lr}
    if metrics is not None:
        c["metrics"] = metrics
    if momentum:
        c["momentum"] = mom
    return c


plateau_min = [1.0, 0.9, 0.85, 0.86, 0.849, 0.85, 0.9, 0.7, 0.71, 0.72, 0.73, 0.695, 0.7, 0.7, 0.7,
               0.69, 0.71, 0.72, 0.73, 0.74, 0.75, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5]
plateau_max = [0.1, 0.2, 0.3, 0.3, 0.3, 0.31, 0.301, 0.302, 0.5, 0.5, 0.5, 0.5, 0.5, 0.6, 0.6,
               0.6, 0.6, 0.6, 0.6, 0.6, 0.6, 0.7, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6]

schedules = [
    run_sched("step", "step", {"step_size": 7, "gamma": 0.5}, lambda o: lrs.StepLR(o, 7, 0.5)),
    run_sched("multistep", "multistep", {"milestones": [5, 12, 12, 20], "gamma": 0.3},
              lambda o: lrs.MultiStepLR(o, [5, 12, 12, 20], 0.3)),
    run_sched("exponential", "exponential", {"gamma": 0.9}, lambda o: lrs.ExponentialLR(o, 0.9)),
    run_sched("cosine", "cosine", {"t_max": 10, "eta_min": 0.001},
              lambda o: lrs.CosineAnnealingLR(o, 10, 0.001)),
    run_sched("cosine_long", "cosine", {"t_max": 30, "eta_min": 0.0},
              lambda o: lrs.CosineAnnealingLR(o, 30, 0.0)),
    run_sched("warmup_cosine", "warmup_cosine", {"warmup": 5, "total": 30, "min_lr": 0.0},
              lambda o: lrs.LambdaLR(o, [warmup_cosine(5, 30, 0.0, b) for b in BASE])),
    run_sched("warmup_cosine_min", "warmup_cosine", {"warmup": 4, "total": 30, "min_lr": 0.001},
              lambda o: lrs.LambdaLR(o, [warmup_cosine(4, 30, 0.001, b) for b in BASE])),
    run_sched("onecycle", "onecycle", {"max_lr": [1.0, 0.5], "total_steps": 30},
              lambda o: lrs.OneCycleLR(o, [1.0, 0.5], total_steps=30, cycle_momentum=False)),
    run_sched("onecycle_momentum", "onecycle",
              {"max_lr": [1.0, 0.5], "total_steps": 30, "pct_start": 0.25, "cycle_momentum": True,
               "base_momentum": 0.8, "max_momentum": 0.9, "div_factor": 10.0, "final_div_factor": 100.0},
              lambda o: lrs.OneCycleLR(o, [1.0, 0.5], total_steps=30, pct_start=0.25, cycle_momentum=True,
                                       base_momentum=0.8, max_momentum=0.9, div_factor=10.0,
                                       final_div_factor=100.0), momentum=True),
    run_sched("onecycle_three_phase_linear", "onecycle",
              {"max_lr": [1.0, 0.5], "total_steps": 30, "anneal": "linear", "three_phase": True},
              lambda o: lrs.OneCycleLR(o, [1.0, 0.5], total_steps=30, anneal_strategy="linear",
                                       three_phase=True, cycle_momentum=False)),
    run_sched("plateau_min", "plateau",
              {"mode": "min", "factor": 0.5, "patience": 2, "threshold": 0.01, "cooldown": 1, "min_lr": 0.02},
              lambda o: lrs.ReduceLROnPlateau(o, "min", 0.5, 2, 0.01, "rel", 1, 0.02), metrics=plateau_min),
    run_sched("plateau_max", "plateau",
              {"mode": "max", "factor": 0.1, "patience": 3, "threshold": 1e-4, "cooldown": 0, "min_lr": 0.0},
              lambda o: lrs.ReduceLROnPlateau(o, "max", 0.1, 3, 1e-4, "rel", 0, 0.0), metrics=plateau_max),
]

# ---- clipping ----
clips = []
CLIP_SHAPES = [(7,), (3, 5), (2, 2, 2)]
for name, max_norm, norm_type in [("norm2", 1.0, 2.0), ("norm2_noclip", 100.0, 2.0),
                                   ("norminf", 0.5, math.inf), ("norminf_noclip", 100.0, math.inf)]:
    ps = [torch.zeros(*s, requires_grad=True) for s in CLIP_SHAPES]
    g0 = [torch.randn(*s) * 2 for s in CLIP_SHAPES]
    for p, g in zip(ps, g0):
        p.grad = g.clone()
    total = torch.nn.utils.clip_grad_norm_(ps, max_norm, norm_type)
    clips.append({"name": name, "max_norm": max_norm, "norm_type": "inf" if math.isinf(norm_type) else norm_type,
                  "shapes": [list(s) for s in CLIP_SHAPES], "grads0": [flat(g) for g in g0],
                  "total_norm": float(total), "grads": [flat(p.grad) for p in ps]})
ps = [torch.zeros(*s, requires_grad=True) for s in CLIP_SHAPES]
g0 = [torch.randn(*s) for s in CLIP_SHAPES]
for p, g in zip(ps, g0):
    p.grad = g.clone()
torch.nn.utils.clip_grad_value_(ps, 0.5)
clips.append({"name": "value", "clip_value": 0.5, "shapes": [list(s) for s in CLIP_SHAPES],
              "grads0": [flat(g) for g in g0], "grads": [flat(p.grad) for p in ps]})

out = {"torch": torch.__version__, "optimizers": optimizers, "schedules": schedules, "clip": clips}
path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "optim.json")
with open(path, "w") as f:
    json.dump(out, f, separators=(",", ":"))
print(path, os.path.getsize(path), "bytes")
