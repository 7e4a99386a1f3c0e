"""Golden fixtures for Conv2D and Conv1D (torch.nn.functional.conv2d/conv1d):
stride, padding, dilation, groups, depthwise, 1x1, no bias, odd sizes, and a
non-contiguous input. Run: /usr/bin/python3 testdata/torch/gen_conv.py"""
import torch
import torch.nn.functional as F
from fixtures import Fixtures

fx = Fixtures("conv", seed=3)
r = torch.randn

# name, x shape, w shape, stride, padding, dilation, groups, bias, transpose x's last two dims
conv2d = [
    ("basic", (2, 3, 7, 7), (4, 3, 3, 3), 1, 0, 1, 1, True, False),
    ("stride2_pad1", (2, 3, 9, 8), (5, 3, 3, 3), 2, 1, 1, 1, True, False),
    ("dilation2", (1, 2, 11, 9), (3, 2, 3, 2), 1, (2, 1), 2, 1, True, False),
    ("groups2", (2, 4, 7, 7), (6, 2, 3, 3), (2, 1), 0, 1, 2, True, False),
    ("depthwise", (2, 4, 7, 7), (4, 1, 3, 3), 1, 1, 1, 4, True, False),
    ("depthwise_mult", (1, 3, 8, 7), (6, 1, 3, 3), 2, 1, 1, 3, False, False),
    ("pointwise", (2, 5, 7, 7), (3, 5, 1, 1), 1, 0, 1, 1, True, False),
    ("pointwise_s2", (2, 5, 7, 7), (3, 5, 1, 1), 2, 0, 1, 1, True, False),
    ("odd_nobias", (1, 1, 33, 7), (2, 1, 5, 3), (3, 2), (2, 0), 1, 1, False, False),
    ("full_kernel", (1, 3, 5, 5), (2, 3, 5, 5), 1, 0, 1, 1, True, False),
    ("big_pad", (1, 2, 3, 4), (2, 2, 2, 2), 3, 2, 1, 1, True, False),
    ("mix", (2, 4, 10, 9), (4, 2, 3, 2), (2, 3), (1, 2), (2, 1), 2, True, False),
    ("lenet1", (2, 1, 28, 28), (6, 1, 5, 5), 1, 0, 1, 1, True, False),
    ("lenet2", (2, 6, 12, 12), (16, 6, 5, 5), 1, 0, 1, 1, True, False),
    ("strided_x", (2, 3, 8, 7), (4, 3, 3, 3), 1, 1, 1, 1, True, True),
]


def pair(v):
    return list(v) if isinstance(v, tuple) else [v, v]


for name, sx, sw, st, pd, dl, gr, bias, tx in conv2d:
    ins = [r(*sx), r(*sw)] + ([r(sw[0])] if bias else [])
    fn = lambda x, w, *b: F.conv2d(x.transpose(-1, -2) if tx else x, w, b[0] if b else None,
                                   stride=st, padding=pd, dilation=dl, groups=gr)
    fx.add("conv2d_" + name, "conv2d", ins, fn,
           {"stride": pair(st), "padding": pair(pd), "dilation": pair(dl), "groups": gr, "transpose": tx})

conv1d = [
    ("basic", (2, 3, 33), (4, 3, 5), 1, 0, 1, 1, True),
    ("s2_p1_d2", (2, 3, 33), (4, 3, 3), 2, 1, 2, 1, True),
    ("groups3", (2, 6, 7), (6, 2, 3), 1, 1, 1, 3, True),
    ("depthwise", (1, 4, 9), (4, 1, 3), 3, 2, 1, 4, False),
    ("one", (1, 1, 1), (1, 1, 1), 1, 0, 1, 1, True),
]
for name, sx, sw, st, pd, dl, gr, bias in conv1d:
    ins = [r(*sx), r(*sw)] + ([r(sw[0])] if bias else [])
    fn = lambda x, w, *b: F.conv1d(x, w, b[0] if b else None, stride=st, padding=pd, dilation=dl, groups=gr)
    fx.add("conv1d_" + name, "conv1d", ins, fn, {"stride": st, "padding": pd, "dilation": dl, "groups": gr})

# Non-square kernels as torch.nn.Conv2d(kernel_size=(3, 1)) and (1, 5) take
# them, with per-dimension stride, padding and dilation, and unbatched
# inputs (C, H, W) / (C, L). nn/conv_test.go replays these through the nn
# layers too. Last, so that the random draws above are unchanged.
rect2d = [
    ("k3x1", (2, 3, 9, 7), (4, 3, 3, 1), (2, 1), (1, 0), (2, 1), 1, True, False),
    ("k1x5", (1, 2, 6, 12), (3, 2, 1, 5), (1, 3), (0, 2), (1, 2), 1, True, False),
    ("k1x5_groups", (2, 4, 5, 11), (4, 2, 1, 5), 1, (0, 2), 1, 2, False, False),
    ("chw_k3x1", (3, 8, 6), (2, 3, 3, 1), (1, 2), (1, 0), 1, 1, True, False),
]
for name, sx, sw, st, pd, dl, gr, bias, tx in rect2d:
    ins = [r(*sx), r(*sw)] + ([r(sw[0])] if bias else [])
    fn = lambda x, w, *b: F.conv2d(x, w, b[0] if b else None, stride=st, padding=pd, dilation=dl, groups=gr)
    fx.add("conv2d_" + name, "conv2d", ins, fn,
           {"stride": pair(st), "padding": pair(pd), "dilation": pair(dl), "groups": gr, "transpose": tx})
ins = [r(3, 10), r(2, 3, 3), r(2)]
fx.add("conv1d_cl_unbatched", "conv1d", ins,
       lambda x, w, b: F.conv1d(x, w, b, stride=2, padding=1, dilation=2),
       {"stride": 2, "padding": 1, "dilation": 2, "groups": 1})

fx.write()
