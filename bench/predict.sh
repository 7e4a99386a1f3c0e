#!/usr/bin/env bash
# Inference through package predict beside PyTorch 1.13, in one run:
# predict.Forward (BenchmarkForward) for the iris MLP, the MNIST MLP and
# LeNet-5 and a GRU window model, one sample and batch 256, at 1 and 2
# threads, then bench/torch_infer.py on the same models. Usage:
#   bench/predict.sh [benchtime]
set -euo pipefail
cd "$(dirname "$0")/.."
bt=${1:-1s}
grep -m1 'model name' /proc/cpuinfo
for th in 1 2; do
  echo "== Shen, GOMAXPROCS=$th"
  GOMAXPROCS=$th go test ./predict -run '^$' -bench 'Forward' -benchtime "$bt" | grep Benchmark
done
# torch.set_num_threads does not reach the BLAS that Debian's PyTorch
# calls for Linear (OpenBLAS, OpenMP-threaded): without OMP_NUM_THREADS its
# "one thread" runs the products on every core (measured: 4.2 ms of CPU
# per 2.1 ms batch). Each thread count gets its own process.
for th in 1 2; do
  echo "== PyTorch, $th thread(s)"
  OMP_NUM_THREADS=$th OPENBLAS_NUM_THREADS=$th /usr/bin/python3 bench/torch_infer.py "$th"
done
