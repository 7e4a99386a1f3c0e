"""Golden fixtures for the activations (tensor/activation.go), forward and
backward, including large-magnitude inputs where a naive formula overflows.
Run: /usr/bin/python3 testdata/torch/gen_activation.py"""
import torch
import torch.nn.functional as F
from fixtures import Fixtures

fx = Fixtures("activation", seed=2)


def inputs(*s):
    # Mostly N(0, 2), plus a few extreme values to exercise stability.
    x = torch.randn(*s) * 2
    flat = x.view(-1)
    for i, v in enumerate([30.0, -30.0, 90.0, -90.0, 1e-3, -1e-3]):
        if i < flat.numel() and flat.numel() >= 12:
            flat[(i * 7) % flat.numel()] = v
    return x


ops = {
    "sigmoid": (torch.sigmoid, {}),
    "tanh": (torch.tanh, {}),
    "relu": (torch.relu, {}),
    "leaky_relu": (lambda a: F.leaky_relu(a, 0.1), {"slope": 0.1}),
    "elu": (lambda a: F.elu(a, 1.3), {"alpha": 1.3}),
    "gelu": (F.gelu, {}),
    "gelu_tanh": (lambda a: F.gelu(a, approximate="tanh"), {}),
    "silu": (F.silu, {}),
    "softplus": (F.softplus, {"beta": 1.0, "threshold": 20.0}),
    "softplus_beta": (lambda a: F.softplus(a, 2.0, 5.0), {"beta": 2.0, "threshold": 5.0}),
}
for i, s in enumerate([(1,), (7,), (3, 33), (2, 1, 129)]):
    for name, (fn, args) in ops.items():
        fx.add(f"{name}{i}", name, [inputs(*s)], fn, args)

# A strided (transposed) input: the op sees a non-contiguous view.
for name, (fn, args) in ops.items():
    fx.add(f"{name}_t", name + "_t", [inputs(5, 9)], lambda a, fn=fn: fn(a.t()), args)

fx.write()
