"""Golden fixtures for the indexing ops and the fused cross-entropy
(tensor/index.go): Gather, IndexSelect, ScatterAdd, OneHot, Embedding,
cross_entropy with class weights, label smoothing and ignore_index.
Run: /usr/bin/python3 testdata/torch/gen_index.py"""
import torch
import torch.nn.functional as F
from fixtures import Fixtures

fx = Fixtures("index", seed=4)
r = torch.randn
ri = torch.randint

# Gather: idx no larger than the input outside dim; repeated indices.
for i, (s, dim, ishape) in enumerate([((7,), 0, (9,)), ((3, 5), 1, (3, 8)), ((4, 3), 0, (2, 3)),
                                      ((2, 5, 6), 2, (2, 3, 4)), ((2, 5, 6), -2, (1, 7, 6))]):
    idx = ri(0, s[dim], ishape)
    fx.add(f"gather{i}", "gather", [r(*s), idx], lambda a, ix: torch.gather(a, dim, ix), {"dim": dim})
fx.add("gather_t", "gather_t", [r(5, 3), ri(0, 5, (3, 4))], lambda a, ix: torch.gather(a.t(), 1, ix), {"dim": 1})

# IndexSelect with repeats.
for i, (s, dim, n) in enumerate([((7,), 0, 10), ((3, 5), 1, 7), ((4, 3, 2), 0, 3), ((2, 33, 3), 1, 1)]):
    idx = ri(0, s[dim], (n,))
    fx.add(f"index_select{i}", "index_select", [r(*s), idx], lambda a, ix: torch.index_select(a, dim, ix), {"dim": dim})

# ScatterAdd: idx the shape of src (repeated targets add up), and smaller than src.
for i, (s, dim, ss, ishape) in enumerate([((5,), 0, (9,), (9,)), ((4, 3), 0, (6, 3), (6, 3)),
                                          ((3, 7), 1, (3, 4), (3, 4)), ((2, 4, 5), 1, (2, 6, 5), (2, 6, 5)),
                                          ((3, 5), 1, (4, 6), (2, 4))]):
    idx = ri(0, s[dim], ishape)
    # PyTorch cannot differentiate src when idx is smaller than src (its
    # backward returns a gradient of idx's shape), so that case is forward only.
    fx.add(f"scatter_add{i}", "scatter_add", [r(*s), idx, r(*ss)],
           lambda a, ix, b: torch.scatter_add(a, dim, ix, b), {"dim": dim}, grad=ss == ishape)

# OneHot (int64 in torch; compared as numbers).
fx.add("one_hot0", "one_hot", [torch.tensor([0, 3, 1, 3])], lambda ix: F.one_hot(ix, 5), {"classes": 5}, grad=False)
fx.add("one_hot1", "one_hot", [ri(0, 4, (2, 3))], lambda ix: F.one_hot(ix, -1), {"classes": -1}, grad=False)

# Embedding, with and without a padding row that gets no gradient.
for i, (v, d, ishape, pad) in enumerate([(10, 4, (7,), -1), (10, 3, (2, 5), 2), (33, 7, (3, 4), 0), (1, 129, (2,), -1)]):
    idx = ri(0, v, ishape)
    if pad >= 0:
        idx.view(-1)[0] = pad
    fx.add(f"embedding{i}", "embedding", [idx, r(v, d)],
           lambda ix, w: F.embedding(ix, w, padding_idx=pad if pad >= 0 else None), {"padding": pad})

# Cross-entropy: [N, C] and [N, C, d1, d2], class weights, label smoothing,
# ignore_index (the default -100 and a class id), every reduction.
for i, (ls, ts, weighted, ignore, smooth) in enumerate([
        ((8, 5), (8,), False, -100, 0.0),
        ((8, 5), (8,), True, -100, 0.0),
        ((8, 5), (8,), False, 2, 0.0),
        ((8, 5), (8,), True, 2, 0.0),
        ((8, 5), (8,), False, -100, 0.1),
        ((8, 5), (8,), True, -100, 0.2),
        ((8, 5), (8,), False, 1, 0.3),
        ((8, 5), (8,), True, 1, 0.15),
        ((2, 4, 3, 5), (2, 3, 5), False, -100, 0.0),
        ((2, 4, 3, 5), (2, 3, 5), True, 3, 0.1),
        ((1, 33), (1,), False, -100, 0.05),
        ((7, 129), (7,), True, 5, 0.0)]):
    x = r(*ls) * 2
    tgt = ri(0, ls[1], ts)
    if ignore == -100:
        if tgt.numel() > 1:
            tgt.view(-1)[1] = -100
    else:
        tgt.view(-1)[0] = ignore
    w = (torch.rand(ls[1]) + 0.5) if weighted else None
    for red in ("mean", "sum", "none"):
        args = {"ignore": ignore, "smoothing": smooth, "reduction": red,
                "weight": w.tolist() if w is not None else None}
        fx.add(f"ce{i}_{red}", "cross_entropy", [x, tgt],
               lambda a, t: F.cross_entropy(a, t, weight=w, ignore_index=ignore, reduction=red, label_smoothing=smooth),
               args)

# A 1-d input with a 0-d target.
fx.add("ce_1d", "cross_entropy", [r(6), torch.tensor(4)],
       lambda a, t: F.cross_entropy(a, t, label_smoothing=0.1),
       {"ignore": -100, "smoothing": 0.1, "reduction": "mean", "weight": None})

fx.write()
