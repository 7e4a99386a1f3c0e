"""Golden fixtures for nn's own layers and losses (Linear, LayerNorm,
BatchNorm, Embedding, the losses, state dict names).
Run: /usr/bin/python3 testdata/torch/gen_nn.py"""
import torch
import torch.nn as tnn
import torch.nn.functional as F
from fixtures import Fixtures

fx = Fixtures("nn", seed=3)
r = torch.randn

# Linear: x·Wᵀ + b for 2-d and 3-d inputs, with and without bias.
fx.add("linear2d", "linear", [r(3, 7), r(5, 7), r(5)], F.linear)
fx.add("linear3d", "linear", [r(2, 3, 33), r(7, 33), r(7)], F.linear)
fx.add("linear_nobias", "linear_nobias", [r(4, 6), r(1, 6)], lambda x, w: F.linear(x, w))

# LayerNorm over the last one or two dims.
fx.add("layernorm1", "layernorm", [r(3, 4, 33), r(33), r(33)],
       lambda x, w, b: F.layer_norm(x, [33], w, b), {"shape": [33]})
fx.add("layernorm2", "layernorm", [r(2, 4, 7), r(4, 7), r(4, 7)],
       lambda x, w, b: F.layer_norm(x, [4, 7], w, b), {"shape": [4, 7]})


# BatchNorm in training mode (batch statistics; running stats updated) and eval.
def bn_train(x, w, b):
    rm, rv = torch.zeros(w.shape[0]), torch.ones(w.shape[0])
    y = F.batch_norm(x, rm, rv, w, b, training=True, momentum=0.1, eps=1e-5)
    return y, rm, rv


fx.add("batchnorm2d_train", "batchnorm_train", [r(4, 3, 5, 5), r(3), r(3)], bn_train)
fx.add("batchnorm1d_train", "batchnorm_train", [r(8, 6), r(6), r(6)], bn_train)
fx.add("batchnorm1d_3d_train", "batchnorm_train", [r(4, 6, 7), r(6), r(6)], bn_train)
rm, rv = r(3), torch.rand(3) + 0.5
fx.add("batchnorm2d_eval", "batchnorm_eval", [r(2, 3, 4, 4), r(3), r(3)],
       lambda x, w, b: F.batch_norm(x, rm, rv, w, b, training=False, eps=1e-5),
       {"running_mean": rm.tolist(), "running_var": rv.tolist()})

# Embedding with a padding index.
fx.add("embedding", "embedding", [torch.tensor([[1, 2, 3, 2], [0, 9, 2, 4], [5, 5, 1, 7]]), r(10, 5)],
       lambda ids, w: F.embedding(ids, w, padding_idx=2), {"padding_idx": 2})

# Losses.
p, t = r(4, 33), r(4, 33)
for red in ["mean", "sum", "none"]:
    fx.add("mse_" + red, "mse", [p, t], lambda a, b: F.mse_loss(a, b, reduction=red), {"reduction": red})
    fx.add("l1_" + red, "l1", [p, t], lambda a, b: F.l1_loss(a, b, reduction=red), {"reduction": red})
fx.add("smoothl1", "smoothl1", [p * 2, t], lambda a, b: F.smooth_l1_loss(a, b, beta=0.5), {"beta": 0.5})
fx.add("huber", "huber", [p * 2, t], lambda a, b: F.huber_loss(a, b, delta=1.5), {"delta": 1.5})

logits = r(6, 5)
y = torch.tensor([0, 4, 2, 2, 1, 3])
y_ign = torch.tensor([0, -100, 2, 2, -100, 3])
cw = torch.rand(5) + 0.5
ce_cases = [
    ("ce", y, {}),
    ("ce_weight", y, {"weight": cw}),
    ("ce_smooth", y, {"label_smoothing": 0.1}),
    ("ce_weight_smooth", y, {"weight": cw, "label_smoothing": 0.2}),
    ("ce_ignore", y_ign, {}),
    ("ce_ignore_weight_smooth", y_ign, {"weight": cw, "label_smoothing": 0.1}),
    ("ce_sum", y, {"reduction": "sum"}),
    ("ce_none", y, {"reduction": "none"}),
]
for name, target, kw in ce_cases:
    args = {k: (v.tolist() if torch.is_tensor(v) else v) for k, v in kw.items()}
    fx.add(name, "cross_entropy", [logits, target], lambda a, tt: F.cross_entropy(a, tt, **kw), args)
fx.add("ce_spatial", "cross_entropy", [r(2, 4, 3), torch.tensor([[0, 3, 1], [2, 2, 0]])],
       lambda a, tt: F.cross_entropy(a, tt), {})
fx.add("nll", "nll", [F.log_softmax(logits, 1), y_ign],
       lambda a, tt: F.nll_loss(a, tt, weight=cw), {"weight": cw.tolist()})

prob = torch.rand(4, 7) * 0.98 + 0.01
tgt = (torch.rand(4, 7) > 0.5).float()
fx.add("bce", "bce", [prob, tgt], lambda a, b: F.binary_cross_entropy(a, b))
fx.add("bce_logits", "bce_logits", [r(4, 7) * 3, tgt], lambda a, b: F.binary_cross_entropy_with_logits(a, b))
pw = torch.rand(7) * 3
fx.add("bce_logits_pos", "bce_logits", [r(4, 7) * 3, tgt],
       lambda a, b: F.binary_cross_entropy_with_logits(a, b, pos_weight=pw), {"pos_weight": pw.tolist()})


# State dict names of a composite model, to check that Shen names match.
class Net(tnn.Module):
    def __init__(self):
        super().__init__()
        self.features = tnn.Sequential(tnn.Conv2d(1, 4, 3), tnn.BatchNorm2d(4), tnn.ReLU(), tnn.MaxPool2d(2))
        self.norm = tnn.LayerNorm(16)
        self.emb = tnn.Embedding(10, 16)
        self.head = tnn.Linear(16, 3)


fx.add("keys", "state_dict_keys", [torch.zeros(1)], lambda a: a * 1,
       {"keys": list(Net().state_dict().keys())}, grad=False)
# padding="same" with an even kernel pads one more zero after the input.
fx.add("conv2d_same_even", "conv2d_same", [r(2, 3, 7, 6), r(4, 3, 4, 2), r(4)],
       lambda x, w, b: F.conv2d(x, w, b, padding="same"), {})
fx.add("conv1d_same_even", "conv1d_same", [r(2, 3, 9), r(5, 3, 4), r(5)],
       lambda x, w, b: F.conv1d(x, w, b, padding="same", dilation=1), {})
fx.write()
