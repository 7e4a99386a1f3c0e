"""PyTorch 1.13 inference beside Shen's predict.Forward benchmark
(predict/bench_test.go): the same four models with fresh weights, one
sample (median latency) and batch 256 (samples/s), under torch.no_grad in
eval mode, at the given thread counts.

    /usr/bin/python3 bench/torch_infer.py 1 2

Prints one line per model, batch and thread count, then RESULT {json}.
"""
import json
import statistics
import sys
import time

import torch
from torch import nn


def models():
    lenet = nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
        nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10))

    class GRUHead(nn.Module):
        def __init__(self):
            super().__init__()
            self.gru = nn.GRU(1, 32, batch_first=True)
            self.head = nn.Linear(32, 1)

        def forward(self, x):
            _, h = self.gru(x)
            return self.head(h[-1])

    return {
        "iris_mlp": (nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 3)), (4,)),
        "mnist_mlp": (nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 256), nn.ReLU(), nn.Linear(256, 10)), (784,)),
        "mnist_lenet": (lenet, (1, 28, 28)),
        "window_gru": (GRUHead(), (12, 1)),
    }


def bench(model, shape, n):
    x = torch.rand((n,) + shape)
    for _ in range(20):
        model(x)
    if n == 1:
        lat = []
        for _ in range(2000):
            t = time.perf_counter()
            model(x)
            lat.append(time.perf_counter() - t)
        return statistics.median(lat) * 1e6
    rates = []
    for _ in range(7):
        t = time.perf_counter()
        for _ in range(10):
            model(x)
        rates.append(n * 10 / (time.perf_counter() - t))
    return statistics.median(rates)


def main():
    threads = [int(a) for a in sys.argv[1:]] or [1]
    torch.manual_seed(1)
    res = {}
    with torch.no_grad():
        for name, (m, shape) in models().items():
            m.eval()
            for th in threads:
                torch.set_num_threads(th)
                us = bench(m, shape, 1)
                sps = bench(m, shape, 256)
                res[f"{name}/t{th}"] = {"b1_us": round(us, 1), "b256_samples_per_s": round(sps)}
                print(f"{name} threads {th}: 1 sample {us:.1f} µs, batch 256 {sps:.0f} samples/s", flush=True)
    print("RESULT " + json.dumps(res), flush=True)


main()
