"""Golden fixtures for the tensor core: elementwise ops with broadcasting,
views and copies, and the basic reductions. Run: /usr/bin/python3 testdata/torch/gen_core.py"""
import torch
from fixtures import Fixtures

fx = Fixtures("core", seed=1)
r = torch.randn
pos = lambda *s: torch.rand(*s) + 0.5

shapes = [((7,), (7,)), ((3, 1), (1, 5)), ((2, 3, 33), (33,)), ((1,), (4, 1, 7)), ((129,), (1,)), ((2, 1, 4, 1), (3, 1, 5))]
for i, (sa, sb) in enumerate(shapes):
    fx.add(f"add{i}", "add", [r(*sa), r(*sb)], lambda a, b: a + b)
    fx.add(f"sub{i}", "sub", [r(*sa), r(*sb)], lambda a, b: a - b)
    fx.add(f"mul{i}", "mul", [r(*sa), r(*sb)], lambda a, b: a * b)
    fx.add(f"div{i}", "div", [r(*sa), pos(*sb)], lambda a, b: a / b)
    fx.add(f"pow{i}", "pow", [pos(*sa), r(*sb)], lambda a, b: torch.pow(a, b))
    fx.add(f"maximum{i}", "maximum", [r(*sa), r(*sb)], lambda a, b: torch.maximum(a, b))
    fx.add(f"minimum{i}", "minimum", [r(*sa), r(*sb)], lambda a, b: torch.minimum(a, b))
    fx.add(f"where{i}", "where", [(r(*sa) > 0).float(), r(*sa), r(*sb)],
           lambda c, a, b: torch.where(c > 0, a, b))

for i, s in enumerate([(7,), (3, 33), (2, 1, 129), (1,)]):
    fx.add(f"neg{i}", "neg", [r(*s)], lambda a: -a)
    fx.add(f"sqrt{i}", "sqrt", [pos(*s)], torch.sqrt)
    fx.add(f"exp{i}", "exp", [r(*s)], torch.exp)
    fx.add(f"log{i}", "log", [pos(*s)], torch.log)
    fx.add(f"abs{i}", "abs", [r(*s)], torch.abs)
    fx.add(f"clamp{i}", "clamp", [r(*s)], lambda a: torch.clamp(a, -0.5, 0.7), {"lo": -0.5, "hi": 0.7})
    fx.add(f"powscalar{i}", "powscalar", [pos(*s)], lambda a: a ** 3.0, {"p": 3.0})

# Views and copies.
fx.add("reshape", "reshape", [r(2, 3, 4)], lambda a: a.reshape(4, -1) * 2, {"shape": [4, -1]})
fx.add("permute", "permute", [r(2, 3, 4)], lambda a: a.permute(2, 0, 1).contiguous() * 1, {"perm": [2, 0, 1]})
fx.add("transpose_reshape", "transpose_reshape", [r(3, 5)], lambda a: a.t().reshape(-1) * 1)
fx.add("slice", "slice", [r(4, 9)], lambda a: a[:, 1:8:3] * 1, {"dim": 1, "start": 1, "end": 8, "step": 3})
fx.add("slice_neg", "slice", [r(6, 3)], lambda a: a[-4:-1] * 1, {"dim": 0, "start": -4, "end": -1, "step": 1})
fx.add("squeeze_unsqueeze", "squeeze_unsqueeze", [r(3, 1, 4)], lambda a: a.squeeze(1).unsqueeze(0) * 1)
fx.add("expand", "expand", [r(3, 1)], lambda a: a.expand(2, 3, 5) * 1, {"shape": [2, 3, 5]})
fx.add("concat", "concat", [r(2, 3), r(2, 5), r(2, 1)], lambda a, b, c: torch.cat([a, b, c], 1), {"dim": 1})
fx.add("stack", "stack", [r(2, 3), r(2, 3)], lambda a, b: torch.stack([a, b], 1), {"dim": 1})
fx.add("split", "split", [r(7, 2)], lambda a: torch.split(a, [3, 4], 0)[1] * 2, {"sizes": [3, 4]})

# Reductions.
for i, (s, axes, keep) in enumerate([((7,), [], False), ((3, 33), [1], False), ((3, 33), [0], True),
                                     ((2, 5, 129), [0, 2], False), ((2, 3, 4), [-1], True), ((1, 1), [], False),
                                     ((4, 1000), [1], False)]):
    args = {"axes": axes, "keepdim": keep}
    dims = axes if axes else list(range(len(s)))
    fx.add(f"sum{i}", "sum", [r(*s)], lambda a: a.sum(dim=dims, keepdim=keep), args)
    fx.add(f"mean{i}", "mean", [r(*s)], lambda a: a.mean(dim=dims, keepdim=keep), args)
    fx.add(f"max{i}", "max", [r(*s)], lambda a: torch.amax(a, dim=dims, keepdim=keep), args)
    fx.add(f"min{i}", "min", [r(*s)], lambda a: torch.amin(a, dim=dims, keepdim=keep), args)

# Zero padding (F.pad constant mode), appended last so earlier cases keep their random draws.
import torch.nn.functional as F
fx.add("pad_w", "pad", [r(2, 3, 5)], lambda a: F.pad(a, (1, 2)), {"pads": [1, 2]})
fx.add("pad_hw", "pad", [r(2, 1, 4, 3)], lambda a: F.pad(a, (0, 1, 2, 1)), {"pads": [0, 1, 2, 1]})

fx.write()
