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
echo "== PyTorch"
/usr/bin/python3 bench/torch_infer.py 1 2
