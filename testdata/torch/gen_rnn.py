"""Golden fixtures for nn's recurrent layers: torch.nn.RNN (tanh, relu),
LSTM and GRU, over single-layer, stacked bidirectional batch-first, given
initial states, and variable lengths (pack_padded_sequence with
enforce_sorted=False, then pad_packed_sequence back to the full length).

Each case records the weights by state dict name, the input, the initial
states, the outputs and final states, and the gradients of
    sum(out*U1) + sum(h_n*U2) (+ sum(c_n*U3) for LSTM)
with respect to the input, the initial states and every weight.

Floats are written with 9 significant digits (enough to round-trip a
float32) to keep the file small.
Run: /usr/bin/python3 testdata/torch/gen_rnn.py"""
import json
import os

import torch
import torch.nn as tnn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

torch.manual_seed(7)
torch.set_default_dtype(torch.float32)


def t2j(t):
    t = t.detach().float()
    return {"shape": list(t.shape), "data": [float("%.9g" % v) for v in t.reshape(-1).tolist()]}


CONFIGS = [
    # name, layers, bidirectional, batch_first, hidden, seq, initial states, lengths
    ("1layer", 1, False, False, 5, 9, False, None),
    ("seq1", 1, False, False, 5, 1, False, None),
    ("2layer_bidir_bf", 2, True, True, 5, 9, False, None),
    ("h0", 2, True, False, 5, 9, True, None),
    ("lengths", 2, True, False, 5, 9, True, [7, 2, 5]),
    ("lengths_bf", 1, True, True, 5, 9, False, [3, 9, 1]),
    ("hidden33", 1, False, False, 33, 9, True, None),
]
MODES = [("rnn_tanh", "tanh"), ("rnn_relu", "relu"), ("lstm", None), ("gru", None)]
INPUT, BATCH = 7, 3

cases = []
for mode, nonlin in MODES:
    for name, layers, bidir, bf, hidden, seq, with_h0, lengths in CONFIGS:
        if mode == "rnn_relu" and hidden > 5:
            continue  # the tanh RNN covers the wide case; this keeps the file under 1 MB
        if mode == "lstm":
            m = tnn.LSTM(INPUT, hidden, layers, bidirectional=bidir, batch_first=bf)
        elif mode == "gru":
            m = tnn.GRU(INPUT, hidden, layers, bidirectional=bidir, batch_first=bf)
        else:
            m = tnn.RNN(INPUT, hidden, layers, nonlinearity=nonlin, bidirectional=bidir, batch_first=bf)
        dirs = 2 if bidir else 1
        x = torch.randn((BATCH, seq, INPUT) if bf else (seq, BATCH, INPUT), requires_grad=True)
        h0 = torch.randn(layers * dirs, BATCH, hidden, requires_grad=True) if with_h0 else None
        c0 = torch.randn(layers * dirs, BATCH, hidden, requires_grad=True) if with_h0 and mode == "lstm" else None
        state = None
        if with_h0:
            state = (h0, c0) if mode == "lstm" else h0
        if lengths is not None:
            packed = pack_padded_sequence(x, torch.tensor(lengths), batch_first=bf, enforce_sorted=False)
            out_p, st = m(packed, state)
            out, _ = pad_packed_sequence(out_p, batch_first=bf, total_length=seq)
        else:
            out, st = m(x, state)
        hn, cn = (st if mode == "lstm" else (st, None))
        u1, u2 = torch.randn_like(out), torch.randn_like(hn)
        loss = (out * u1).sum() + (hn * u2).sum()
        u3 = None
        if cn is not None:
            u3 = torch.randn_like(cn)
            loss = loss + (cn * u3).sum()
        params = dict(m.named_parameters())
        wrt = {"x": x}
        if h0 is not None:
            wrt["h0"] = h0
        if c0 is not None:
            wrt["c0"] = c0
        wrt.update(params)
        gs = torch.autograd.grad(loss, list(wrt.values()))
        case = {
            "name": f"{mode}_{name}",
            "mode": mode,
            "nonlinearity": nonlin or "",
            "input_size": INPUT,
            "hidden_size": hidden,
            "num_layers": layers,
            "bidirectional": bidir,
            "batch_first": bf,
            "lengths": lengths,
            "params": {k: t2j(v) for k, v in params.items()},
            "x": t2j(x),
            "h0": t2j(h0) if h0 is not None else None,
            "c0": t2j(c0) if c0 is not None else None,
            "out": t2j(out),
            "h_n": t2j(hn),
            "c_n": t2j(cn) if cn is not None else None,
            "u1": t2j(u1),
            "u2": t2j(u2),
            "u3": t2j(u3) if u3 is not None else None,
            "grads": {k: t2j(g) for k, g in zip(wrt.keys(), gs)},
        }
        cases.append(case)

path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "rnn.json")
with open(path + ".tmp", "w") as f:
    json.dump({"generator": "testdata/torch/gen_rnn.py", "torch": torch.__version__, "cases": cases}, f,
              separators=(",", ":"))
os.replace(path + ".tmp", path)
print("wrote", path, len(cases), "cases", os.path.getsize(path), "bytes")
