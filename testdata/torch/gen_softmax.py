"""Golden fixtures for softmax-family ops and statistics
(tensor/softmax.go): Softmax, LogSoftmax, LogSumExp, Var, Std, Argmax,
Argmin. Run: /usr/bin/python3 testdata/torch/gen_softmax.py"""
import torch
from fixtures import Fixtures

fx = Fixtures("softmax", seed=3)
r = torch.randn

for i, (s, axis) in enumerate([((7,), 0), ((3, 33), 1), ((3, 33), 0), ((2, 5, 33), 1),
                               ((2, 3, 4), -1), ((1,), 0), ((1, 1000), 1)]):
    x = r(*s) * 3
    if i == 1:
        x[0, 0] = 80.0  # would overflow exp without the max shift
        x[1, 2] = -80.0
    fx.add(f"softmax{i}", "softmax", [x], lambda a: torch.softmax(a, axis), {"axis": axis})
    fx.add(f"log_softmax{i}", "log_softmax", [x], lambda a: torch.log_softmax(a, axis), {"axis": axis})

fx.add("softmax_t", "softmax_t", [r(6, 5)], lambda a: torch.softmax(a.t(), 1), {"axis": 1})
fx.add("log_softmax_t", "log_softmax_t", [r(6, 5)], lambda a: torch.log_softmax(a.t(), 1), {"axis": 1})

for i, (s, axes, keep) in enumerate([((7,), [], False), ((3, 33), [1], False), ((3, 33), [0], True),
                                     ((2, 5, 17), [0, 2], False), ((2, 3, 4), [-1], True),
                                     ((1, 1000), [1], False)]):
    dims = axes if axes else list(range(len(s)))
    args = {"axes": axes, "keepdim": keep}
    x = r(*s) * 2 + 1
    fx.add(f"logsumexp{i}", "logsumexp", [x], lambda a: torch.logsumexp(a, dims, keep), args)
    for unb in ((True, False) if i != 5 else (True,)):
        a2 = dict(args, unbiased=unb)
        fx.add(f"var{i}_{unb}", "var", [x], lambda a: torch.var(a, dims, unbiased=unb, keepdim=keep), a2)
        fx.add(f"std{i}_{unb}", "std", [x], lambda a: torch.std(a, dims, unbiased=unb, keepdim=keep), a2)

# Large values: logsumexp must not overflow.
fx.add("logsumexp_big", "logsumexp", [torch.tensor([[100.0, 101.0, 99.0], [-100.0, -101.0, -99.0]])],
       lambda a: torch.logsumexp(a, [1], False), {"axes": [1], "keepdim": False})

# Argmax/argmin with ties (first index wins) and NaN.
tie = torch.tensor([[1.0, 3.0, 3.0, 0.0], [2.0, 2.0, -1.0, -1.0], [5.0, 5.0, 5.0, 5.0]])
# JSON cannot hold NaN, so the NaN case stores 999 and both sides swap it for NaN.
nan = torch.tensor([[1.0, 999.0, 3.0, 999.0], [0.0, 1.0, 2.0, 3.0]])
unnan = lambda a: torch.where(a == 999, torch.tensor(float("nan")), a)
for i, (x, axis, keep) in enumerate([(tie, 1, False), (tie, 0, True), (r(2, 5, 7), 1, False),
                                     (r(33,), 0, False), (r(3, 4, 5), -1, True), (nan, 1, False)]):
    args = {"axis": axis, "keepdim": keep}
    fx.add(f"argmax{i}", "argmax", [x], lambda a: torch.argmax(unnan(a), axis, keep), args, grad=False)
    fx.add(f"argmin{i}", "argmin", [x], lambda a: torch.argmin(unnan(a), axis, keep), args, grad=False)

fx.write()
