#!/usr/bin/env bash
# Every CPU speed table of the README for one machine, in one run, one
# benchmark after the other (run it on a quiet machine; it prints the load
# before each part): SGEMM at 1 and 2 threads (mean and best-call
# GFLOP/s), Shen against OpenBLAS interleaved in one process, MNIST epochs
# against PyTorch at 1 and 2 threads, int8 against float32 inference, and
# predict.Forward against PyTorch. About 15 minutes on 2 cores. Needs gcc,
# libopenblas-dev and python3-torch (Debian).
#
# usage: [ROUNDS=n] bench/cpu_tables.sh > tables.log   (ROUNDS: see bench/mnist.sh)
set -uo pipefail
cd "$(dirname "$0")/.."
echo "== cpu"; grep -m1 "model name" /proc/cpuinfo; grep -m1 "cpu MHz" /proc/cpuinfo
grep -m1 flags /proc/cpuinfo | tr ' ' '\n' | grep -E '^(avx2|fma|avx512f|avx512_bf16|avx512_vnni|amx_bf16|amx_int8)$' | tr '\n' ' '; echo
uptime
echo "== sgemm (go test ./internal/kernel -bench Sgemm)"
go test ./internal/kernel -run '^$' -bench 'Sgemm$' -benchtime 0.3s 2>&1 | grep Bench
uptime
echo "== sgemm against OpenBLAS, interleaved"
core=Haswell
if grep -qw avx512f /proc/cpuinfo; then core=SkylakeX; elif grep -q AuthenticAMD /proc/cpuinfo; then core=Zen; fi
OPENBLAS_CORETYPE=$core CGO_ENABLED=1 go test -tags openblas ./bench -run TestSgemmVsOpenBLAS -rounds 7 -v 2>&1 | grep -v '^=== \|^---\|^PASS\|^ok'
uptime
for t in 1 2; do
	echo "== MNIST epochs, $t thread(s) (bench/mnist.sh 1 $t)"
	bench/mnist.sh 1 "$t" 2>/dev/null
	uptime
done
echo "== int8 against float32 (go test ./quant -bench Inference, one thread)"
go test ./quant -run '^$' -bench Inference -benchtime 0.5s -cpu 1 2>&1 | grep Bench
echo "== predict.Forward, 1 and 2 threads, then PyTorch (bench/predict.sh)"
bench/predict.sh 0.5s
uptime
