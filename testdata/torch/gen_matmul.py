"""Golden fixtures for Matmul and Linear: torch.matmul in every rank
combination (1-d dot, 2-d, batched with broadcasting, promoted 1-d operands)
and strided views as operands (transposed, row-sliced, column-sliced,
expanded), and torch.nn.functional.linear with and without bias.
Run: /usr/bin/python3 testdata/torch/gen_matmul.py"""
import torch
import torch.nn.functional as F
from fixtures import Fixtures

fx = Fixtures("matmul", seed=2)
r = torch.randn


def view(x, how):
    """The strided view the Go test builds from the same leaf (see matmul_test.go)."""
    if how == "t":
        return x.transpose(-1, -2)
    if how == "rows2":
        return x[..., ::2, :]
    if how == "cols2":
        return x[..., ::2]
    if how.startswith("expand"):
        return x.expand(int(how[6:]), *x.shape[1:])
    return x


# (name, shape a, shape b, view of a, view of b); shapes are of the leaves.
cases = [
    ("dot", (7,), (7,), "", ""),
    ("dot1", (1,), (1,), "", ""),
    ("mm", (7, 33), (33, 5), "", ""),
    ("mm1", (1, 1), (1, 1), "", ""),
    ("mm_big", (17, 70), (70, 20), "", ""),
    ("mv", (7, 33), (33,), "", ""),
    ("vm", (33,), (33, 5), "", ""),
    ("mm_ta", (33, 7), (33, 5), "t", ""),
    ("mm_tb", (7, 33), (5, 33), "", "t"),
    ("mm_tab", (33, 7), (5, 33), "t", "t"),
    ("mm_rows", (14, 33), (33, 5), "rows2", ""),
    ("mm_cols", (7, 66), (33, 5), "cols2", ""),
    ("mm_rowsb", (7, 33), (66, 5), "", "rows2"),
    ("bmm", (2, 7, 5), (2, 5, 3), "", ""),
    ("bmm_t", (2, 5, 7), (2, 3, 5), "t", "t"),
    ("b3x2", (3, 7, 33), (33, 5), "", ""),
    ("b3x2_tb", (3, 7, 33), (5, 33), "", "t"),
    ("b3x2_ta", (3, 33, 7), (33, 5), "t", ""),
    ("b2x3", (7, 33), (3, 33, 5), "", ""),
    ("b4", (2, 1, 3, 4), (1, 3, 4, 5), "", ""),
    ("b4b", (3, 4, 5), (2, 1, 5, 2), "", ""),
    ("b1x3", (5,), (2, 5, 3), "", ""),
    ("b3x1", (2, 3, 5), (5,), "", ""),
    ("bexpand", (4, 3, 5), (1, 5, 2), "", "expand4"),
    ("b4_big", (2, 3, 20, 33), (3, 33, 17), "", ""),
]
for name, sa, sb, va, vb in cases:
    fx.add(name, "matmul", [r(*sa), r(*sb)], lambda a, b: torch.matmul(view(a, va), view(b, vb)),
           {"va": va, "vb": vb})

lin = [
    ("lin", (7, 33), (5, 33), True, "", ""),
    ("lin_nobias", (7, 33), (5, 33), False, "", ""),
    ("lin1d", (33,), (5, 33), True, "", ""),
    ("lin3d", (2, 3, 33), (5, 33), True, "", ""),
    ("lin_tx", (33, 7), (5, 33), True, "t", ""),
    ("lin_tw", (7, 33), (33, 5), True, "", "t"),
    ("lin_one", (1, 1), (1, 1), True, "", ""),
    ("lin_big", (16, 100), (20, 100), True, "", ""),
]
for name, sx, sw, bias, vx, vw in lin:
    ins = [r(*sx), r(*sw)] + ([r(view(torch.zeros(sw), vw).shape[0])] if bias else [])
    fx.add(name, "linear", ins, lambda x, w, *b: F.linear(view(x, vx), view(w, vw), b[0] if b else None),
           {"va": vx, "vb": vw})

fx.write()
