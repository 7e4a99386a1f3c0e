"""Times PyTorch's LSTM on the row-by-row MNIST model that
nn.BenchmarkLSTMMNISTRows times in Shen: 28 steps of 28 pixels, batch 64,
hidden 128, forward + sum of the final hidden state + backward, on 2 threads
(the test machine's cores). Prints ms per step and samples/s.

OpenMP's threads spin while they wait for work by default; on a machine
shared with other jobs that makes 2-thread PyTorch 10-20x slower than it is
(190 ms/step instead of 12), so the script asks for passive waiting unless
OMP_WAIT_POLICY is already set. Shen's worker pool sleeps on a channel.

Run: /usr/bin/python3 bench/torch_lstm.py [--gru] [--inference] [--threads=N]"""
import os
import sys
import time

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import torch  # noqa: E402 (after the OpenMP setting)

THREADS = int(next((a.split("=")[1] for a in sys.argv if a.startswith("--threads=")), 2))
torch.set_num_threads(THREADS)
torch.manual_seed(0)
SEQ, BATCH, INPUT, HIDDEN = 28, 64, 28, 128

cls = torch.nn.GRU if "--gru" in sys.argv else torch.nn.LSTM
m = cls(INPUT, HIDDEN)
x = torch.randn(SEQ, BATCH, INPUT)
infer = "--inference" in sys.argv


def step():
    if infer:
        with torch.no_grad():
            m(x)
        return
    m.zero_grad(set_to_none=True)
    _, st = m(x)
    h = st[0] if isinstance(st, tuple) else st
    h[-1].sum().backward()


for _ in range(20):
    step()
best = float("inf")
for _ in range(5):
    n, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < 1.0:
        step()
        n += 1
    best = min(best, (time.perf_counter() - t0) / n)
c0, n = time.process_time(), 50
for _ in range(n):
    step()
cpu = (time.process_time() - c0) / n
print(f"torch {torch.__version__} {cls.__name__}{' inference' if infer else ''}: "
      f"{best * 1e3:.2f} ms/step, {BATCH / best:.0f} samples/s ({THREADS} threads, best of 5); "
      f"CPU time {cpu * 1e3:.2f} ms/step")
