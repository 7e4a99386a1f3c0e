"""Time the MNIST vision-transformer encoder step in PyTorch, the twin of
BenchmarkViTEncoder and BenchmarkMultiHeadAttention in nn/attention_bench_test.go:
batch 64, 50 tokens (49 patches of 4x4 + a class token), d_model 64,
4 heads, 2 post-norm layers, feed-forward 128, training mode, forward +
backward of sum(out) with respect to the input and every weight.

Run with Debian's PyTorch 1.13 at the thread count Go uses:
    /usr/bin/python3 bench/torch_attention.py [--threads 2]
"""
import argparse
import time

import torch
from torch import nn

B, L, D, H, LAYERS, FF = 64, 50, 64, 4, 2, 128


def bench(name, step, seconds):
    """Prints the median and the best step time (on a shared machine the
    best is the least disturbed estimate; nn's benchmarks report it as
    best-ms) and the process CPU time per step, which waiting for a core
    does not inflate (OpenMP's spinning does, above one thread)."""
    for _ in range(5):
        step()
    times, t0, c0 = [], time.perf_counter(), time.process_time()
    while time.perf_counter() - t0 < seconds:
        t = time.perf_counter()
        step()
        times.append(time.perf_counter() - t)
    cpu = (time.process_time() - c0) / len(times)
    times.sort()
    med, best = times[len(times) // 2], times[0]
    print(f"{name:26s} median {med * 1e3:8.2f} ms/step {B / med:7.0f} samples/s   "
          f"best {best * 1e3:8.2f} ms/step {B / best:7.0f} samples/s   "
          f"cpu {cpu * 1e3:8.2f} ms/step   ({len(times)} steps)")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seconds", type=float, default=3)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(1)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    x = torch.randn(B, L, D, requires_grad=True)
    for p in (0.0, 0.1):
        layer = nn.TransformerEncoderLayer(D, H, dim_feedforward=FF, dropout=p, batch_first=True)
        enc = nn.TransformerEncoder(layer, LAYERS, enable_nested_tensor=False).train()

        def step():
            enc.zero_grad(set_to_none=False)
            x.grad = None
            enc(x).sum().backward()

        bench(f"ViTEncoder/dropout={p:g}", step, a.seconds)
    mha = nn.MultiheadAttention(D, H, batch_first=True).train()

    def step_mha():
        mha.zero_grad(set_to_none=False)
        x.grad = None
        mha(x, x, x, need_weights=False)[0].sum().backward()

    bench("MultiHeadAttention", step_mha, a.seconds)


if __name__ == "__main__":
    main()
