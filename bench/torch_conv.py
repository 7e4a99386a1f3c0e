"""Times PyTorch's conv2d, max_pool2d and linear on the shapes of Shen's
tensor benchmarks (tensor/conv_bench_test.go, tensor/matmul_bench_test.go),
forward and forward+backward, at 1 and 2 threads, so the README can show
Shen vs PyTorch as a ratio. GFLOP/s counts useful work exactly as the Go
benchmarks do (2 flops per multiply-add; backward = dW, plus dX where the
input needs a gradient).

Run: /usr/bin/python3 bench/torch_conv.py   (Debian's PyTorch 1.13, CPU)
"""
import time

import torch
import torch.nn.functional as F

CONVS = [
    # name, x shape, w shape, padding, input needs grad
    ("LeNet1_64x1x28x28_6x5x5", (64, 1, 28, 28), (6, 1, 5, 5), 0, False),
    ("LeNet2_64x6x12x12_16x5x5", (64, 6, 12, 12), (16, 6, 5, 5), 0, True),
    ("ResNet_8x64x56x56_64x3x3", (8, 64, 56, 56), (64, 64, 3, 3), 1, True),
]
POOLS = [(64, 6, 24, 24), (64, 16, 8, 8)]


def bench(fn, min_time=1.0):
    """Best-of-5 mean seconds per call, after warm-up."""
    for _ in range(3):
        fn()
    n, t = 1, 0.0
    while True:  # calibrate a batch of calls lasting ~min_time/5
        t0 = time.perf_counter()
        for _ in range(n):
            fn()
        t = time.perf_counter() - t0
        if t > min_time / 5:
            break
        n *= 2
    best = t / n
    for _ in range(4):
        t0 = time.perf_counter()
        for _ in range(n):
            fn()
        best = min(best, (time.perf_counter() - t0) / n)
    return best


def main():
    torch.manual_seed(0)
    print(f"torch {torch.__version__}, {torch.backends.mkldnn.is_available() and 'mkldnn' or 'no mkldnn'}")
    for threads in (1, 2):
        torch.set_num_threads(threads)
        print(f"\nthreads={threads}")
        for name, xs, ws, pad, xgrad in CONVS:
            x = torch.randn(*xs, requires_grad=xgrad)
            w = torch.randn(*ws, requires_grad=True)
            b = torch.randn(ws[0], requires_grad=True)
            with torch.no_grad():
                y = F.conv2d(x, w, b, padding=pad)
            fwd = 2.0 * y.numel() * ws[1] * ws[2] * ws[3]
            up = torch.randn_like(y)

            def f():
                with torch.no_grad():
                    F.conv2d(x, w, b, padding=pad)

            def fb():
                y = F.conv2d(x, w, b, padding=pad)
                y.backward(up)

            t1, t2 = bench(f), bench(fb)
            total = fwd * (3 if xgrad else 2)
            print(f"Conv2D/{name}/fwd      {t1 * 1e3:9.3f} ms  {fwd / t1 / 1e9:7.2f} GFLOP/s")
            print(f"Conv2D/{name}/fwd+bwd  {t2 * 1e3:9.3f} ms  {total / t2 / 1e9:7.2f} GFLOP/s")
        for s in POOLS:
            x = torch.randn(*s, requires_grad=True)
            up = torch.randn(s[0], s[1], s[2] // 2, s[3] // 2)

            def f():
                with torch.no_grad():
                    F.max_pool2d(x, 2)

            def fb():
                F.max_pool2d(x, 2).backward(up)

            name = "x".join(map(str, s))
            print(f"MaxPool2D/{name}/fwd      {bench(f) * 1e3:9.3f} ms")
            print(f"MaxPool2D/{name}/fwd+bwd  {bench(fb) * 1e3:9.3f} ms")
        x = torch.randn(256, 784, requires_grad=True)
        w = torch.randn(512, 784, requires_grad=True)
        b = torch.randn(512, requires_grad=True)
        up = torch.randn(256, 512)
        flops = 2.0 * 256 * 784 * 512

        def f():
            with torch.no_grad():
                F.linear(x, w, b)

        def fb():
            F.linear(x, w, b).backward(up)

        t1, t2 = bench(f), bench(fb)
        print(f"Linear/fwd      {t1 * 1e3:9.3f} ms  {flops / t1 / 1e9:7.2f} GFLOP/s")
        print(f"Linear/fwd+bwd  {t2 * 1e3:9.3f} ms  {3 * flops / t2 / 1e9:7.2f} GFLOP/s")


if __name__ == "__main__":
    main()
