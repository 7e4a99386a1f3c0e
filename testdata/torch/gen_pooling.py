"""Golden fixtures for MaxPool2D/AvgPool2D/MaxPool1D/AvgPool1D and
AdaptiveAvgPool2D: padding, ceil_mode, stride != kernel, count_include_pad,
ties (the gradient goes to the first max) and 3-d inputs.
Run: /usr/bin/python3 testdata/torch/gen_pooling.py"""
import torch
import torch.nn.functional as F
from fixtures import Fixtures

fx = Fixtures("pooling", seed=4)
r = torch.randn
ties = lambda *s: torch.randint(-2, 3, s).float()  # many equal values per window


def pair(v):
    return list(v) if isinstance(v, tuple) else [v, v]


# name, input, kernel, stride (None = kernel), padding, ceil_mode
pool2d = [
    ("k2", r(2, 3, 8, 8), 2, None, 0, False),
    ("k3_s2_p1", r(2, 2, 9, 7), 3, 2, 1, False),
    ("k3_s2_ceil", r(1, 2, 8, 8), 3, 2, 0, True),
    ("ceil_pad", r(1, 2, 6, 7), 3, 2, 1, True),
    ("rect", r(1, 3, 7, 9), (3, 2), (1, 2), (1, 0), False),
    ("odd_ceil", r(1, 1, 7, 33), 2, None, 0, True),
    ("ties", ties(2, 2, 6, 6), 3, 1, 1, False),
    ("chw", r(3, 5, 5), 2, 1, 1, False),
    ("one", r(1, 1, 1, 1), 1, None, 0, False),
    ("lenet", r(1, 2, 24, 24), 2, None, 0, False),
]
for name, x, k, s, p, ceil in pool2d:
    st = s if s is not None else k
    args = {"kernel": pair(k), "stride": pair(s) if s is not None else [0, 0], "padding": pair(p), "ceil": ceil}
    fx.add("max2d_" + name, "maxpool2d", [x], lambda x: F.max_pool2d(x, k, st, p, ceil_mode=ceil), args)
    for inc in (True, False):
        a = dict(args, include=inc)
        fx.add(f"avg2d_{name}_{'inc' if inc else 'exc'}", "avgpool2d", [x],
               lambda x: F.avg_pool2d(x, k, st, p, ceil_mode=ceil, count_include_pad=inc), a)

pool1d = [
    ("k2", r(2, 3, 8), 2, None, 0, False),
    ("k3_s2_p1_ceil", r(2, 2, 10), 3, 2, 1, True),
    ("s1", r(1, 2, 33), 4, 1, 2, False),
    ("ties_cl", ties(3, 9), 3, 2, 1, True),
]
for name, x, k, s, p, ceil in pool1d:
    st = s if s is not None else k
    args = {"kernel": k, "stride": s if s is not None else 0, "padding": p, "ceil": ceil}
    fx.add("max1d_" + name, "maxpool1d", [x], lambda x: F.max_pool1d(x, k, st, p, ceil_mode=ceil), args)
    for inc in (True, False):
        fx.add(f"avg1d_{name}_{'inc' if inc else 'exc'}", "avgpool1d", [x],
               lambda x: F.avg_pool1d(x, k, st, p, ceil_mode=ceil, count_include_pad=inc), dict(args, include=inc))

for name, x, oh, ow in [("3x4", r(2, 3, 7, 9), 3, 4), ("global", r(2, 3, 7, 9), 1, 1),
                        ("up", r(1, 2, 5, 5), 7, 7), ("chw", r(3, 6, 6), 2, 3)]:
    fx.add("adaptive_" + name, "adaptive", [x], lambda x: F.adaptive_avg_pool2d(x, (oh, ow)), {"out": [oh, ow]})

# Non-square max pooling with dilation ((3, 1) and (1, 5) windows, as
# torch.nn.MaxPool2d(kernel_size, stride, padding, dilation) takes them).
# Last, so that the random draws of the cases above are unchanged.
# name, input, kernel, stride, padding, dilation, ceil_mode
dilated = [
    ("k3x1_d2", r(2, 2, 11, 6), (3, 1), (1, 1), (1, 0), (2, 1), False),
    ("k1x5_s2_d3", r(1, 3, 5, 20), (1, 5), (1, 2), (0, 2), (1, 3), False),
    ("k3x3_d2_ceil_pad", r(1, 2, 9, 10), 3, 2, 1, 2, True),
    ("chw_k2x3_d2x1", r(3, 7, 8), (2, 3), (2, 1), (1, 1), (2, 1), False),
]
for name, x, k, s, p, d, ceil in dilated:
    args = {"kernel": pair(k), "stride": pair(s), "padding": pair(p), "dilation": pair(d), "ceil": ceil}
    fx.add("max2d_" + name, "maxpool2d", [x],
           lambda x: F.max_pool2d(x, k, s, p, dilation=d, ceil_mode=ceil), args)
for name, x, k, s, p, d in [("d2", r(2, 3, 17), 3, 2, 1, 2), ("d3_s1", r(1, 2, 12), 2, 1, 1, 3)]:
    args = {"kernel": k, "stride": s, "padding": p, "dilation": d, "ceil": False}
    fx.add("max1d_" + name, "maxpool1d", [x], lambda x: F.max_pool1d(x, k, s, p, dilation=d), args)

fx.write()
