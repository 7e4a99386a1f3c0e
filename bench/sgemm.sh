#!/usr/bin/env bash
# Shen SGEMM vs OpenBLAS (its best kernel for the CPU) vs PyTorch, in one run.
#
# The machine is shared and noisy, so every number in the table comes from
# this one run and the comparison is made as ratios. Needs gcc,
# libopenblas-dev and python3-torch (Debian): the peers are the programs in
# bench/peers, copied from the project's shared reference set.
#
# Every column is the best of several trials (the peers' max=, the best of
# `go test -count`): on a loaded machine the least disturbed trial is the
# closest to what each library can do. A second table times Shen and OpenBLAS
# interleaved in one process (bench/sgemm_cmp_test.go, build tag openblas,
# cgo), the fairest ratio when other jobs come and go.
#
# usage: bench/sgemm.sh [trials] [benchtime]     e.g. bench/sgemm.sh 5 1s
set -euo pipefail
cd "$(dirname "$0")/.."
trials=${1:-5}
benchtime=${2:-1s}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# OPENBLAS_CORETYPE: OpenBLAS's fastest kernel for the CPU: SkylakeX where
# there is AVX-512 (the environment may preset Haswell, about half as fast
# there); elsewhere Zen on AMD and Haswell on Intel (the same AVX2+FMA
# kernels). SkylakeX on a CPU without AVX-512 would die of an illegal
# instruction. OPENBLAS_CORETYPE_OVERRIDE=name forces one.
if [ -n "${OPENBLAS_CORETYPE_OVERRIDE:-}" ]; then
	export OPENBLAS_CORETYPE=$OPENBLAS_CORETYPE_OVERRIDE
elif grep -qw avx512f /proc/cpuinfo; then
	export OPENBLAS_CORETYPE=SkylakeX
elif grep -q AuthenticAMD /proc/cpuinfo; then
	export OPENBLAS_CORETYPE=Zen
else
	export OPENBLAS_CORETYPE=Haswell
fi

gcc -O2 bench/peers/openblas_sgemm.c -o "$tmp/openblas_sgemm" -lopenblas
for t in 1 2; do
	echo "== OpenBLAS threads=$t" >&2
	OPENBLAS_NUM_THREADS=$t "$tmp/openblas_sgemm" "$trials" 0.2 | tee "$tmp/openblas_t$t.txt" >&2
done
for t in 1 2; do
	echo "== PyTorch threads=$t" >&2
	OMP_NUM_THREADS=$t /usr/bin/python3 bench/peers/torch_sgemm.py torch "$t" "$trials" 0.2 | tee "$tmp/torch_t$t.txt" >&2 || echo "(torch failed)" >&2
done
echo "== Shen" >&2
go test -run '^$' -bench '^BenchmarkSgemm$' -benchtime "$benchtime" -count "$trials" ./internal/kernel/ | tee "$tmp/shen.txt" >&2

# Table: peers print "name ... max=  X"; go prints
# "BenchmarkSgemm/name/tN-P  iters  ns/op  X GFLOP/s ...".
awk -v dir="$tmp" '
function peer(file, key,   line, f, i, n) {
	while ((getline line < file) > 0) {
		if (line ~ /^#/) continue
		n = split(line, f, /[ =]+/)
		for (i = 1; i <= n; i++) if (f[i] == "max") { key[f[1]] = f[i+1]; break }
	}
	close(file)
}
BEGIN {
	for (t = 1; t <= 2; t++) {
		delete ob; delete pt
		peer(dir "/openblas_t" t ".txt", ob)
		peer(dir "/torch_t" t ".txt", pt)
		for (k in ob) OB[k, t] = ob[k]
		for (k in pt) PT[k, t] = pt[k]
	}
	while ((getline line < (dir "/shen.txt")) > 0) {
		if (line !~ /^BenchmarkSgemm\//) continue
		n = split(line, f, /[ \t]+/)
		split(f[1], p, "/"); sub(/-[0-9]+$/, "", p[3]); t = substr(p[3], 2)
		for (i = 1; i <= n; i++) if (f[i] == "GFLOP/s" && f[i-1] + 0 > SH[p[2], t] + 0) SH[p[2], t] = f[i-1]
		if (!(p[2] in seen)) { seen[p[2]] = 1; order[++ns] = p[2] }
	}
	print "# best of trials, GFLOP/s (OpenBLAS core " ENVIRON["OPENBLAS_CORETYPE"] ")"
	printf "%-8s %3s %10s %10s %10s %9s %9s\n", "shape", "thr", "Shen", "OpenBLAS", "PyTorch", "Shen/OB", "Shen/PT"
	for (s = 1; s <= ns; s++) for (t = 1; t <= 2; t++) {
		name = order[s]; sh = SH[name, t]; o = OB[name, t]; q = PT[name, t]
		printf "%-8s %3d %10.1f %10.1f %10.1f %9s %9s\n", name, t, sh, o, q, \
			(o > 0 ? sprintf("%.2f", sh / o) : "-"), (q > 0 ? sprintf("%.2f", sh / q) : "-")
	}
}'

echo
echo "== Shen vs OpenBLAS interleaved in one process (cgo)"
go test -v -tags openblas -count 1 -run TestSgemmVsOpenBLAS ./bench/ -args -rounds "$trials" | grep -v -E '^(ok|PASS|=== RUN|--- PASS)'
