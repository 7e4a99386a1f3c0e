#!/usr/bin/python3
"""Load the weights examples/customcnn saved into the same network in
PyTorch (1.13) with strict=True and measure its MNIST test accuracy, which
matches what the Go program printed.

    /usr/bin/python3 examples/customcnn/load_in_torch.py cnn.safetensors [mnist dir]

The safetensors package is not needed: the file is read with the reference
layout rules that testdata/safetensors/gen.py implements.
"""
import gzip
import os
import sys

import numpy as np
import torch
import torch.nn as nn

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(HERE, "..", "..", "testdata", "safetensors"))
from gen import deserialize  # noqa: E402


class CNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 16, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(16)
        self.conv2 = nn.Conv2d(16, 32, 3, padding=1)
        self.bn2 = nn.BatchNorm2d(32)
        self.pool = nn.MaxPool2d(2)
        self.dropout = nn.Dropout(0.25)
        self.fc1 = nn.Linear(32 * 7 * 7, 128)
        self.fc2 = nn.Linear(128, 10)

    def forward(self, x):
        x = self.pool(torch.relu(self.bn1(self.conv1(x))))
        x = self.pool(torch.relu(self.bn2(self.conv2(x))))
        x = self.dropout(x.flatten(1))
        return self.fc2(torch.relu(self.fc1(x)))


def main():
    path = sys.argv[1]
    mnist = sys.argv[2] if len(sys.argv) > 2 else os.path.join(HERE, "..", "..", "..", "shared", "data", "mnist")
    with open(path, "rb") as f:
        _, tensors = deserialize(f.read())
    np_dtype = {"F32": "<f4", "I64": "<i8"}
    sd = {k: torch.from_numpy(np.frombuffer(raw, dtype=np_dtype[d]).copy().reshape(shape))
          for k, (d, shape, raw) in tensors.items()}
    net = CNN()
    net.load_state_dict(sd, strict=True)
    net.eval()
    with gzip.open(os.path.join(mnist, "t10k-images-idx3-ubyte.gz")) as f:
        x = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 1, 28, 28).astype(np.float32) / 255
    with gzip.open(os.path.join(mnist, "t10k-labels-idx1-ubyte.gz")) as f:
        y = np.frombuffer(f.read(), np.uint8, offset=8)
    x = (x - 0.1307) / 0.3081
    with torch.no_grad():
        pred = net(torch.from_numpy(x)).argmax(1).numpy()
    print("loaded %s with strict=True; test accuracy %.4f" % (path, (pred == y).mean()))


if __name__ == "__main__":
    main()
