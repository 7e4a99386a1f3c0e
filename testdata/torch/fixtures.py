"""Shared helpers for Shen's PyTorch golden fixtures.

Each gen_*.py script builds cases with `Fixtures.add` and writes one JSON
file next to itself. A case holds the op's inputs, its arguments, its output,
a random upstream gradient, and the gradient of sum(output * upstream) with
respect to every floating input: exactly what the Go tests replay.

Run with Debian's PyTorch 1.13:  /usr/bin/python3 testdata/torch/gen_<group>.py
CI never runs these; it reads the committed JSON.
"""
import json
import os

import torch

torch.set_default_dtype(torch.float32)


def _t2j(t):
    t = t.detach()
    out = {"shape": list(t.shape)}
    if t.dtype in (torch.int64, torch.int32, torch.bool):
        out["dtype"] = "int64"
        out["data"] = [int(v) for v in t.reshape(-1).tolist()]
    else:
        # repr of a float32 widened to float64 parses back to the same float32.
        out["data"] = [float(v) for v in t.float().reshape(-1).tolist()]
    return out


class Fixtures:
    def __init__(self, group, seed=0):
        self.group = group
        self.cases = []
        torch.manual_seed(seed)

    def add(self, name, op, inputs, fn, args=None, grad=True):
        """Record fn(*inputs). Floating inputs get requires_grad; the output
        may be a tensor or a tuple (the first element is differentiated)."""
        leaves = []
        for x in inputs:
            if x.is_floating_point():
                x = x.detach().clone().requires_grad_(grad)
            leaves.append(x)
        out = fn(*leaves)
        extra = []
        if isinstance(out, (tuple, list)):
            out, extra = out[0], list(out[1:])
        case = {
            "name": name,
            "op": op,
            "args": args or {},
            "inputs": [_t2j(x) for x in leaves],
            "output": _t2j(out),
            "extra": [_t2j(e) for e in extra],
        }
        if grad and out.is_floating_point() and out.requires_grad:
            up = torch.randn_like(out)
            gs = torch.autograd.grad(out, [x for x in leaves if x.requires_grad], up, allow_unused=True)
            it = iter(gs)
            grads = []
            for x in leaves:
                if x.requires_grad:
                    g = next(it)
                    grads.append(_t2j(g if g is not None else torch.zeros_like(x)))
                else:
                    grads.append(None)
            case["upstream"] = _t2j(up)
            case["grads"] = grads
        self.cases.append(case)

    def write(self):
        path = os.path.join(os.path.dirname(os.path.abspath(__file__)), self.group + ".json")
        with open(path + ".tmp", "w") as f:
            json.dump({"generator": "testdata/torch/gen_" + self.group + ".py",
                       "torch": torch.__version__, "cases": self.cases}, f, separators=(",", ":"))
        os.replace(path + ".tmp", path)
        print("wrote", path, len(self.cases), "cases")
