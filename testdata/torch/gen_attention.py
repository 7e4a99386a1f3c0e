"""Golden fixtures for nn.MultiHeadAttention, nn.TransformerEncoderLayer and
nn.TransformerEncoder (nn/attention_test.go, nn/transformer_test.go).

Each case records a module's full state dict (by torch's names), its inputs
and masks, the output (and attention weights when asked), a random upstream
gradient U, and the gradients of sum(out * U) with respect to every input
and every parameter. Weights are perturbed from torch's initialisation so
that zero-initialised biases and unit LayerNorm scales are exercised too.
Modules run in eval mode (dropout off); with inputs requiring grad PyTorch
1.13 takes the reference (non-fast) path.

Run with Debian's PyTorch 1.13:  /usr/bin/python3 testdata/torch/gen_attention.py
"""
import json
import os

import torch
from torch import nn

torch.set_default_dtype(torch.float32)
torch.manual_seed(0)


def t2j(t):
    t = t.detach()
    if t.dtype == torch.bool:
        return {"shape": list(t.shape), "data": [float(v) for v in t.reshape(-1).int().tolist()]}
    # 9 significant digits round-trip a float32 and keep the file small.
    return {"shape": list(t.shape), "data": [float("%.9g" % v) for v in t.float().reshape(-1).tolist()]}


def perturb(m):
    with torch.no_grad():
        for p in m.parameters():
            p.add_(0.2 * torch.randn_like(p))


cases = []


def record(name, kind, config, module, inputs, call, masks, weights_out=True):
    """inputs: dict name -> tensor (leaves; the same object may appear
    under several names for self-attention, listed once)."""
    module.eval()
    perturb(module)
    leaves = {k: v.detach().clone().requires_grad_(True) for k, v in inputs.items()}
    res = call(module, leaves)
    out, w = res if isinstance(res, tuple) else (res, None)
    up = torch.randn_like(out)
    names = list(leaves.keys())
    params = list(module.named_parameters())
    gs = torch.autograd.grad((out * up).sum(), [leaves[n] for n in names] + [p for _, p in params], allow_unused=True)
    grads = {}
    for n, g in zip(["input." + n for n in names] + [n for n, _ in params], gs):
        grads[n] = t2j(g if g is not None else torch.zeros(1))
    cases.append({
        "name": name, "kind": kind, "config": config,
        "state": {k: t2j(v) for k, v in module.state_dict().items()},
        "inputs": {k: t2j(v) for k, v in leaves.items()},
        "masks": masks,
        "output": t2j(out),
        "weights": t2j(w) if (w is not None and weights_out) else None,
        "upstream": t2j(up),
        "grads": grads,
    })


def mask_json(kpm=None, attn_mask=None, attn_mask_bool=None, causal=False):
    return {
        "key_padding_mask": t2j(kpm) if kpm is not None else None,
        "attn_mask": t2j(attn_mask) if attn_mask is not None else None,
        "attn_mask_bool": t2j(attn_mask_bool) if attn_mask_bool is not None else None,
        "causal": causal,
    }


def mha(name, E, H, B, L, S, mode, bias=True, kpm=None, attn_mask=None, attn_mask_bool=None,
        causal=False, need_weights=False, per_head=False, batch_first=True):
    m = nn.MultiheadAttention(E, H, dropout=0.1, bias=bias, batch_first=batch_first)

    def shape(B, N):  # torch's default layout is (seq, batch, embed)
        return (B, N, E) if batch_first else (N, B, E)

    if mode == "self":
        inputs = {"q": torch.randn(*shape(B, L))}
    elif mode == "kv":
        inputs = {"q": torch.randn(*shape(B, L)), "k": torch.randn(*shape(B, S))}
    else:
        inputs = {"q": torch.randn(*shape(B, L)), "k": torch.randn(*shape(B, S)), "v": torch.randn(*shape(B, S))}
    mask = attn_mask
    if attn_mask_bool is not None:
        mask = attn_mask_bool
    if causal:
        mask = torch.triu(torch.ones(L, S, dtype=torch.bool), 1)

    def call(mod, x):
        q = x["q"]
        k = q if mode == "self" else x["k"]
        v = k if mode in ("self", "kv") else x["v"]
        return mod(q, k, v, key_padding_mask=kpm, need_weights=need_weights, attn_mask=mask,
                   average_attn_weights=not per_head)

    cfg = {"embed_dim": E, "num_heads": H, "bias": bias, "mode": mode,
           "need_weights": need_weights, "per_head": per_head, "seq_first": not batch_first}
    record(name, "mha", cfg, m, inputs, call,
           mask_json(kpm, attn_mask, attn_mask_bool, causal), weights_out=need_weights)


def padding(B, S, lens):
    kpm = torch.zeros(B, S, dtype=torch.bool)
    for b, n in enumerate(lens):
        kpm[b, n:] = True
    return kpm


# MultiheadAttention
mha("self_e16_h4", 16, 4, 2, 7, 7, "self", need_weights=True)
mha("self_e16_h1", 16, 1, 2, 7, 7, "self", need_weights=True)
mha("self_len1", 16, 4, 3, 1, 1, "self", need_weights=True)
mha("self_nobias", 16, 4, 2, 5, 5, "self", bias=False)
mha("cross_kv_L5_S7", 16, 4, 2, 5, 7, "kv", need_weights=True)
mha("cross_qkv_L3_S7", 16, 4, 2, 3, 7, "qkv", need_weights=True, per_head=True)
mha("cross_qkv_L7_S1_h1", 16, 1, 2, 7, 1, "qkv")
mha("self_kpm", 16, 4, 2, 7, 7, "self", kpm=padding(2, 7, [7, 4]), need_weights=True)
mha("cross_kpm", 16, 4, 2, 3, 7, "kv", kpm=padding(2, 7, [5, 2]))
mha("self_causal", 16, 4, 2, 7, 7, "self", causal=True, need_weights=True)
mha("self_causal_kpm_h1", 16, 1, 2, 7, 7, "self", causal=True, kpm=padding(2, 7, [7, 3]))
mha("self_float_mask", 16, 4, 2, 7, 7, "self", attn_mask=0.5 * torch.randn(7, 7), need_weights=True)
mha("cross_bool_mask", 16, 4, 2, 5, 7, "kv", attn_mask_bool=torch.rand(5, 7) < 0.3)


# TransformerEncoderLayer
def enc_layer(name, d, h, ff, act, norm_first, B, L, kpm=None, causal=False):
    m = nn.TransformerEncoderLayer(d, h, dim_feedforward=ff, dropout=0.1, activation=act,
                                   layer_norm_eps=1e-5, batch_first=True, norm_first=norm_first)
    mask = torch.triu(torch.ones(L, L, dtype=torch.bool), 1) if causal else None

    def call(mod, x):
        return mod(x["x"], src_mask=mask, src_key_padding_mask=kpm)

    cfg = {"d_model": d, "nhead": h, "dim_feedforward": ff, "activation": act, "norm_first": norm_first}
    record(name, "encoder_layer", cfg, m, {"x": torch.randn(B, L, d)}, call, mask_json(kpm, causal=causal))


enc_layer("post_relu", 16, 4, 32, "relu", False, 2, 7)
enc_layer("post_gelu_kpm", 16, 4, 32, "gelu", False, 2, 7, kpm=padding(2, 7, [7, 5]))
enc_layer("pre_relu_causal", 16, 4, 32, "relu", True, 2, 7, causal=True)
enc_layer("pre_gelu_h1_len1", 16, 1, 32, "gelu", True, 3, 1)


# TransformerEncoder: two pre-norm layers and a final norm.
def encoder(name, d, h, ff, n, B, L, kpm=None):
    layer = nn.TransformerEncoderLayer(d, h, dim_feedforward=ff, dropout=0.1, batch_first=True, norm_first=True)
    m = nn.TransformerEncoder(layer, n, norm=nn.LayerNorm(d), enable_nested_tensor=False)

    def call(mod, x):
        return mod(x["x"], src_key_padding_mask=kpm)

    cfg = {"d_model": d, "nhead": h, "dim_feedforward": ff, "activation": "relu", "norm_first": True,
           "num_layers": n, "final_norm": True}
    record(name, "encoder", cfg, m, {"x": torch.randn(B, L, d)}, call, mask_json(kpm))


encoder("encoder_2x_pre_norm", 16, 4, 32, 2, 2, 7, kpm=padding(2, 7, [7, 6]))

# MultiheadAttention in torch's default layout, batch_first=False: inputs
# (seq, batch, embed), weights still (batch, L, S) averaged over heads.
# (Last, so that the random draws of the cases above are unchanged.)
mha("seqfirst_self_weights", 16, 4, 3, 5, 5, "self", need_weights=True, batch_first=False)
mha("seqfirst_cross_qkv_kpm_float_mask", 16, 2, 2, 4, 6, "qkv", kpm=padding(2, 6, [6, 3]),
    attn_mask=0.5 * torch.randn(4, 6), need_weights=True, batch_first=False)
mha("seqfirst_kv_bool_mask_per_head", 16, 4, 2, 3, 5, "kv", attn_mask_bool=torch.rand(3, 5) < 0.3,
    need_weights=True, per_head=True, batch_first=False)

path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "attention.json")
with open(path + ".tmp", "w") as f:
    json.dump({"generator": "testdata/torch/gen_attention.py", "torch": torch.__version__, "cases": cases},
              f, separators=(",", ":"))
os.replace(path + ".tmp", path)
print("wrote", path, len(cases), "cases")
