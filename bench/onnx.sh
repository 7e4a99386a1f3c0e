#!/usr/bin/env bash
# Shen's ONNX runtime vs ONNX Runtime 1.30 (CPU, npm onnxruntime-node) on the
# same model files and inputs, in one run: the MNIST zoo model (batch 1; its
# input is fixed) and PyTorch 1.13 exports of a LeNet-style CNN with
# BatchNorm, a 2-layer LSTM and a 2-layer transformer encoder (written by
# testdata/onnx/gen_torch.py --bench), at batch 1 and 64 with 1 and 2
# threads. Each line of the output gives Shen's ms/op, ONNX Runtime's
# ort-ms/op and their ratio shen/ort (below 1: Shen is faster).
#
# Needs /usr/bin/python3 with torch (Debian python3-torch) for the exports and
# node + npm for ONNX Runtime (installed with --ignore-scripts into a temp dir
# unless SHEN_ORT_NODE_PATH names a node_modules folder that has it).
#
# usage: bench/onnx.sh [benchtime]   e.g. bench/onnx.sh 2s
set -euo pipefail
cd "$(dirname "$0")/.."
benchtime=${1:-1s}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

/usr/bin/python3 testdata/onnx/gen_torch.py --bench "$tmp" 2>/dev/null
if [ -z "${SHEN_ORT_NODE_PATH:-}" ]; then
  if command -v npm >/dev/null && command -v node >/dev/null; then
    (cd "$tmp" && npm install --ignore-scripts --no-audit --no-fund --silent onnxruntime-node@1.30.0 >/dev/null)
    export SHEN_ORT_NODE_PATH="$tmp/node_modules"
  else
    echo "npm/node not found: timing Shen only"
  fi
fi
echo "CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) cores"
SHEN_ONNX_BENCH_DIR="$tmp" go test ./onnx -run '^$' -bench BenchmarkInference -benchtime "$benchtime" |
  grep -E '^Benchmark|^cpu' | sed 's/BenchmarkInference\///'
