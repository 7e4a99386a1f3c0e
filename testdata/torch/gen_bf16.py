"""Golden fixtures for bf16 mixed precision: F.linear under
torch.autocast("cpu", dtype=torch.bfloat16) on float32 leaves. Autocast
rounds both operands (and the bias) to bfloat16, oneDNN sums the exact
products in float32, and the result is rounded to bfloat16; Shen keeps
its result float32, so the Go test (tensor/precision_golden_test.go)
allows for that last rounding.

Only the Linear forward pass is a reference here: PyTorch 1.13 as Debian
builds it (generic BLAS, AVX2) runs autocast's matmul, bmm and the
backward products through its own bf16 GEMM, which accumulates some
layouts in bfloat16 (0.25 off on a 33-long dot product of unit normals
where float32 accumulation is exact to 2^-8), so those are checked
against the analytic bound in tensor/precision_test.go instead.
Run: /usr/bin/python3 testdata/torch/gen_bf16.py"""
import torch
import torch.nn.functional as F
from fixtures import Fixtures

fx = Fixtures("bf16", seed=16)
r = torch.randn


def autocast_linear(*xs):
    with torch.autocast("cpu", dtype=torch.bfloat16):
        out = F.linear(*xs)
    assert out.dtype == torch.bfloat16, out.dtype
    return out


fx.add("linear", "linear", [r(8, 40), r(12, 40), r(12)], autocast_linear, grad=False)
fx.add("linear_3d", "linear", [r(2, 5, 64), r(16, 64), r(16)], autocast_linear, grad=False)
fx.add("linear_nobias", "linear", [r(7, 160), r(9, 160)], autocast_linear, grad=False)
fx.write()
