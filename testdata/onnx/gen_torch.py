"""Golden fixtures for package onnx (run with Debian's /usr/bin/python3:
PyTorch 1.13, onnx 1.12, NumPy). Writes folders in the ONNX test layout
(model.onnx, test_data_set_0/input_N.pb, output_N.pb):

  torch/cnn_bn      a CNN with BatchNorm (eval), exported at PyTorch's default opset
  torch/rnn         LSTM + GRU + LayerNorm
  torch/transformer a TransformerEncoder (GELU) with a causal mask and a key padding mask
  gonnx/{mlp,gru,scaler}  outputs of the gonnx sample models, computed with NumPy from
                    the models' own weights (the samples ship without outputs)

usage: /usr/bin/python3 testdata/onnx/gen_torch.py             (fixtures, committed)
       /usr/bin/python3 testdata/onnx/gen_torch.py --bench DIR (bench/onnx.sh's models)
"""
import os

import numpy as np
import onnx
import torch
from onnx import numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
SAMPLES = os.path.join(HERE, "..", "..", "..", "shared", "data", "onnx", "gonnx-sample-models")
torch.manual_seed(12)
np.random.seed(12)


def write_case(folder, model_bytes, inputs, outputs):
    os.makedirs(os.path.join(folder, "test_data_set_0"), exist_ok=True)
    with open(os.path.join(folder, "model.onnx"), "wb") as f:
        f.write(model_bytes)
    for kind, arrays in (("input", inputs), ("output", outputs)):
        for i, a in enumerate(arrays):
            t = numpy_helper.from_array(np.asarray(a), name=f"{kind}_{i}")
            with open(os.path.join(folder, "test_data_set_0", f"{kind}_{i}.pb"), "wb") as f:
                f.write(t.SerializeToString())


def export(name, net, args, input_names, output_names, dynamic):
    net.eval()
    with torch.no_grad():
        outs = net(*args)
    if not isinstance(outs, tuple):
        outs = (outs,)
    path = os.path.join(HERE, "torch", name, "model.onnx")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    torch.onnx.export(net, args, path, input_names=input_names, output_names=output_names,
                      dynamic_axes=dynamic)  # PyTorch 1.13's default opset (14)
    with open(path, "rb") as f:
        model = f.read()
    write_case(os.path.dirname(path), model, [a.numpy() for a in args], [o.numpy() for o in outs])


class CNN(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.c1 = torch.nn.Conv2d(1, 4, 3, padding=1)
        self.b1 = torch.nn.BatchNorm2d(4)
        self.c2 = torch.nn.Conv2d(4, 6, 3, stride=2)
        self.b2 = torch.nn.BatchNorm2d(6)
        self.fc = torch.nn.Linear(6 * 3 * 3, 5)

    def forward(self, x):
        x = torch.relu(self.b1(self.c1(x)))
        x = torch.nn.functional.max_pool2d(x, 2)
        x = torch.relu(self.b2(self.c2(x)))
        return torch.log_softmax(self.fc(torch.flatten(x, 1)), dim=1)


class RNN(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = torch.nn.LSTM(4, 8, num_layers=2, batch_first=True, bidirectional=True)
        self.gru = torch.nn.GRU(16, 6, batch_first=True)
        self.norm = torch.nn.LayerNorm(6)
        self.head = torch.nn.Linear(6, 3)

    def forward(self, x):
        y, _ = self.lstm(x)
        y, h = self.gru(y)
        return self.head(self.norm(y[:, -1])), h


class Encoder(torch.nn.Module):
    def __init__(self):
        super().__init__()
        layer = torch.nn.TransformerEncoderLayer(16, 4, 32, dropout=0.0, activation="gelu", batch_first=True)
        self.enc = torch.nn.TransformerEncoder(layer, 2)
        self.out = torch.nn.Linear(16, 2)

    def forward(self, x, pad):
        t = x.shape[1]
        causal = torch.triu(torch.full((t, t), float("-inf")), diagonal=1)
        return self.out(self.enc(x, mask=causal, src_key_padding_mask=pad))


def randomize_bn(net):
    for m in net.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.uniform_(-0.5, 0.5)
            m.running_var.uniform_(0.5, 1.5)
            m.weight.data.uniform_(0.5, 1.5)
            m.bias.data.uniform_(-0.5, 0.5)


def torch_fixtures():
    cnn = CNN()
    randomize_bn(cnn)
    export("cnn_bn", cnn, (torch.randn(3, 1, 14, 14),), ["image"], ["logprobs"], {"image": {0: "batch"}, "logprobs": {0: "batch"}})
    export("rnn", RNN(), (torch.randn(3, 5, 4),), ["x"], ["y", "h"], {"x": {0: "batch"}, "y": {0: "batch"}, "h": {1: "batch"}})
    pad = torch.zeros(3, 6, dtype=torch.bool)
    pad[1, 4:] = True
    pad[2, 2:] = True
    export("transformer", Encoder(), (torch.randn(3, 6, 16), pad), ["x", "pad"], ["y"],
           {"x": {0: "batch"}, "pad": {0: "batch"}, "y": {0: "batch"}})


def weights(model):
    return {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}


def attr(node, name, default):
    for a in node.attribute:
        if a.name == name:
            return onnx.helper.get_attribute_value(a)
    return default


def sigmoid(v):
    return 1 / (1 + np.exp(-v))


def gonnx_mlp(model, x):
    w = weights(model)
    for node in model.graph.node:
        if node.op_type == "Gemm":
            b = w[node.input[1]]
            if attr(node, "transB", 0):
                b = b.T
            x = attr(node, "alpha", 1.0) * x @ b + attr(node, "beta", 1.0) * w[node.input[2]]
        elif node.op_type == "Relu":
            x = np.maximum(x, 0)
    return [x.astype(np.float32)]


def gonnx_gru(model, x, h0):
    (node,) = [n for n in model.graph.node if n.op_type == "GRU"]
    w = weights(model)
    W, R, B = w[node.input[1]][0], w[node.input[2]][0], w[node.input[3]][0]
    H = R.shape[1]
    lbr = attr(node, "linear_before_reset", 0)
    Wz, Wr, Wh = np.split(W, 3)
    Rz, Rr, Rh = np.split(R, 3)
    Wbz, Wbr, Wbh, Rbz, Rbr, Rbh = np.split(B, 6)
    h = h0[0].astype(np.float64)
    ys = []
    for t in range(x.shape[1]):
        xt = x[:, t].astype(np.float64)
        z = sigmoid(xt @ Wz.T + h @ Rz.T + Wbz + Rbz)
        r = sigmoid(xt @ Wr.T + h @ Rr.T + Wbr + Rbr)
        if lbr:
            c = np.tanh(xt @ Wh.T + r * (h @ Rh.T + Rbh) + Wbh)
        else:
            c = np.tanh(xt @ Wh.T + (r * h) @ Rh.T + Rbh + Wbh)
        h = (1 - z) * c + z * h
        ys.append(h)
    # The graph: Transpose -> GRU -> Squeeze(axis 1) -> Transpose(1,0,2): preds is [batch, seq, H].
    preds = np.stack(ys, axis=1)
    return [preds.astype(np.float32), h[None].astype(np.float32)]


def gonnx_scaler(model, x):
    (node,) = model.graph.node
    off = np.array(attr(node, "offset", [0.0]), dtype=np.float64)
    scale = np.array(attr(node, "scale", [1.0]), dtype=np.float64)
    return [((x - off) * scale).astype(np.float32)]


def gonnx_fixtures():
    for name in ("mlp", "gru", "scaler"):
        src = os.path.join(SAMPLES, name + ".onnx")
        if not os.path.exists(src):
            print("skip", src)
            continue
        model = onnx.load(src)
        if name == "gru":
            ins = [np.random.randn(2, 4, 3).astype(np.float32), np.random.randn(1, 2, 5).astype(np.float32)]
            outs = gonnx_gru(model, *ins)
        elif name == "mlp":
            ins = [np.random.randn(4, 3).astype(np.float32)]
            outs = gonnx_mlp(model, *ins)
        else:
            ins = [np.random.randn(4, 3).astype(np.float32)]
            outs = gonnx_scaler(model, *ins)
        with open(src, "rb") as f:
            write_case(os.path.join(HERE, "gonnx", name), f.read(), ins, outs)




def bench_models(out):
    """Bench-sized models for bench/onnx.sh (not committed): a LeNet-style CNN
    with BatchNorm on 28x28 images, a 2-layer LSTM over 32 steps and a
    2-layer transformer encoder over 32 steps, each with a dynamic batch."""
    class LeNet(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.c1, self.b1 = torch.nn.Conv2d(1, 16, 5, padding=2), torch.nn.BatchNorm2d(16)
            self.c2, self.b2 = torch.nn.Conv2d(16, 32, 5), torch.nn.BatchNorm2d(32)
            self.f1, self.f2 = torch.nn.Linear(32 * 5 * 5, 120), torch.nn.Linear(120, 10)

        def forward(self, x):
            x = torch.nn.functional.max_pool2d(torch.relu(self.b1(self.c1(x))), 2)
            x = torch.nn.functional.max_pool2d(torch.relu(self.b2(self.c2(x))), 2)
            return self.f2(torch.relu(self.f1(torch.flatten(x, 1))))

    class Seq(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.lstm = torch.nn.LSTM(16, 64, num_layers=2, batch_first=True)
            self.head = torch.nn.Linear(64, 4)

        def forward(self, x):
            y, _ = self.lstm(x)
            return self.head(y[:, -1])

    class Enc(torch.nn.Module):
        def __init__(self):
            super().__init__()
            layer = torch.nn.TransformerEncoderLayer(64, 4, 128, dropout=0.0, activation="gelu", batch_first=True)
            self.enc = torch.nn.TransformerEncoder(layer, 2)
            self.head = torch.nn.Linear(64, 4)

        def forward(self, x):
            return self.head(self.enc(x).mean(1))

    for name, net, shape in (("cnn", LeNet(), (1, 1, 28, 28)), ("lstm", Seq(), (1, 32, 16)), ("transformer", Enc(), (1, 32, 64))):
        net.eval()
        randomize_bn(net)
        path = os.path.join(out, name + ".onnx")
        torch.onnx.export(net, (torch.randn(*shape),), path, input_names=["x"], output_names=["y"],
                          dynamic_axes={"x": {0: "batch"}, "y": {0: "batch"}})


if __name__ == "__main__":
    import sys
    if len(sys.argv) == 3 and sys.argv[1] == "--bench":
        bench_models(sys.argv[2])
    else:
        torch_fixtures()
        gonnx_fixtures()
