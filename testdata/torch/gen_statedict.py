"""State-dict fixtures written by PyTorch 1.13 for nn.SaveStateDict /
nn.LoadStateDictFile: a small model's state_dict() as safetensors bytes
exactly as torch holds it (F32 weights, BatchNorm's num_batches_tracked as
a 0-d I64, a [1] and a 0-d parameter side by side), its eval-mode output on
a fixed input, and what load_state_dict(strict=False) reports for a
checkpoint that lacks some keys and has others.

Run: /usr/bin/python3 testdata/torch/gen_statedict.py
It writes testdata/torch/statedict/{model,partial}.safetensors and
statedict.json. When statedict/from_shen.safetensors exists (written by
`go test ./nn -run TestStateDictFileWrittenByShen -update`), it also loads
that file into the torch model with strict=True and checks the output.

The safetensors bytes come from testdata/safetensors/gen.py's `serialize`
(the reference layout), since the safetensors package is not installable
here.
"""
import json
import os
import sys

import numpy as np
import torch
import torch.nn as nn

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(HERE, "..", "safetensors"))
from gen import serialize, deserialize  # noqa: E402

OUT = os.path.join(HERE, "statedict")
DTYPE = {torch.float32: ("F32", "<f4"), torch.int64: ("I64", "<i8")}


class Net(nn.Module):
    """conv -> batch norm -> relu -> flatten -> linear, times a [1] scale,
    plus a 0-d temperature: what Go's testNet in nn/statedict_test.go is."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 2, 3)
        self.bn = nn.BatchNorm2d(2)
        self.head = nn.Linear(2 * 2 * 2, 3)
        self.scale = nn.Parameter(torch.tensor([0.75]))
        self.temp = nn.Parameter(torch.tensor(2.0))

    def forward(self, x):
        h = torch.relu(self.bn(self.conv(x))).flatten(1)
        return self.head(h) * self.scale / self.temp


def tensors_of(sd):
    out = {}
    for k, v in sd.items():
        name, np_dtype = DTYPE[v.dtype]
        out[k] = (name, tuple(v.shape), np.ascontiguousarray(v.detach().numpy()).astype(np_dtype).tobytes())
    return out


def from_tensors(tensors):
    sd = {}
    for k, (dtype, shape, raw) in tensors.items():
        np_dtype = {"F32": "<f4", "I64": "<i8"}[dtype]
        sd[k] = torch.from_numpy(np.frombuffer(raw, dtype=np_dtype).copy().reshape(shape))
    return sd


def main():
    torch.manual_seed(7)
    net = Net()
    net.train()
    for _ in range(3):  # running statistics and num_batches_tracked = 3
        net(torch.randn(4, 1, 4, 4))
    net.eval()
    x = torch.randn(2, 1, 4, 4)
    with torch.no_grad():
        y = net(x)
    sd = net.state_dict()
    assert sd["bn.num_batches_tracked"].dtype == torch.int64 and sd["bn.num_batches_tracked"].dim() == 0
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, "model.safetensors"), "wb") as f:
        f.write(serialize(tensors_of(sd), {"format": "pt"}))

    # A checkpoint of an older version of the model: no temp, no head.bias,
    # and an auxiliary head the model no longer has.
    partial = {k: v for k, v in sd.items() if k not in ("temp", "head.bias")}
    partial["aux.weight"] = torch.full((2, 2), 0.5)
    with open(os.path.join(OUT, "partial.safetensors"), "wb") as f:
        f.write(serialize(tensors_of(partial), {"format": "pt"}))
    fresh = Net()
    keys = fresh.load_state_dict(from_tensors(tensors_of(partial)), strict=False)

    with open(os.path.join(HERE, "statedict.json"), "w") as f:
        json.dump({"generator": "testdata/torch/gen_statedict.py", "torch": torch.__version__,
                   "input": {"shape": list(x.shape), "data": [float(v) for v in x.reshape(-1).tolist()]},
                   "output": {"shape": list(y.shape), "data": [float(v) for v in y.reshape(-1).tolist()]},
                   "keys": list(sd.keys()),
                   "missing_keys": list(keys.missing_keys), "unexpected_keys": list(keys.unexpected_keys)},
                  f, indent=1)
    print("wrote", OUT, "and statedict.json; strict=False:", keys)

    shen = os.path.join(OUT, "from_shen.safetensors")
    if os.path.exists(shen):
        with open(shen, "rb") as f:
            meta, tensors = deserialize(f.read())
        for k, (dtype, shape, _) in tensors.items():
            want = tensors_of(sd)[k]
            assert (dtype, shape) == want[:2], (k, dtype, shape, want[:2])
        other = Net()
        other.load_state_dict(from_tensors(tensors), strict=True)
        other.eval()
        with torch.no_grad():
            got = other(x)
        assert torch.equal(got, y), (got, y)
        print("from_shen.safetensors: dtypes and shapes as torch's, loads with strict=True, same output")


if __name__ == "__main__":
    main()
