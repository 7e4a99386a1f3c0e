#!/usr/bin/env bash
# Shen vs PyTorch 1.13: seconds per MNIST training epoch (batch 64) for the
# four example models, run one after the other in this one script so both
# see the same machine. The Go side is the examples/ programs; the PyTorch
# side is bench/peers/torch_mnist.py (the project's reference script, same
# models, optimisers and normalisation). Needs python3-torch (Debian).
#
# usage: [ROUNDS=n] bench/mnist.sh [epochs] [threads] [models...]   e.g. bench/mnist.sh 2 2 mlp lenet
set -euo pipefail
cd "$(dirname "$0")/.."
epochs=${1:-2}
threads=${2:-2}
shift $(( $# > 2 ? 2 : $# ))
models=${*:-mlp lenet lstm vit}
rounds=${ROUNDS:-1}
mnist=${MNIST_DIR:-../shared/data/mnist}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# PyTorch's OpenMP threads spin while waiting by default; on a shared machine
# that makes 2-thread PyTorch many times slower than it is. Passive waiting
# matches Shen's pool, which parks idle workers.
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-PASSIVE}

declare -A torchName=([mlp]=mlp [lenet]=cnn [lstm]=lstm [vit]=transformer)
for m in $models; do
	go build -o "$tmp/$m" "./examples/$m"
done
printf "%-6s %8s %12s %12s %10s %10s %12s\n" model threads "Shen s/ep" "PyTorch s/ep" "Shen/PT" "Shen acc" "PyTorch acc" > "$tmp/table"
for m in $models; do
	# ROUNDS alternates PyTorch and Shen that many times and keeps each
	# one's fastest round: on a machine that drifts 10-20% between runs,
	# the fastest of a few interleaved runs compares like with like.
	pts="" shs=""
	for r in $(seq "$rounds"); do
		echo "== $m: PyTorch (round $r)" >&2
		MNIST_DIR=$mnist OMP_NUM_THREADS=$threads /usr/bin/python3 bench/peers/torch_mnist.py "${torchName[$m]}" "$epochs" "$threads" | tee "$tmp/$m.torch" >&2
		echo "== $m: Shen (round $r)" >&2
		"$tmp/$m" -data "$mnist" -epochs "$epochs" -threads "$threads" | tee "$tmp/$m.shen" >&2
		pt=$(grep '^RESULT' "$tmp/$m.torch" | sed 's/^RESULT //' | /usr/bin/python3 -c 'import json,sys; r=json.load(sys.stdin); print(r["median_epoch_s"], r["acc"][max(r["acc"], key=int)])')
		sh=$(grep '^RESULT' "$tmp/$m.shen" | sed -E 's/.*test_acc=([0-9.]+) sec_per_epoch=([0-9.]+).*/\2 \1/')
		read -r pt_s pta <<<"$pt"
		read -r sh_s sha <<<"$sh"
		pts=$(awk -v a="$pts" -v b="$pt_s" 'BEGIN { print (a == "" || b < a) ? b : a }')
		shs=$(awk -v a="$shs" -v b="$sh_s" 'BEGIN { print (a == "" || b < a) ? b : a }')
	done
	awk -v m="$m" -v t="$threads" -v s="$shs" -v p="$pts" -v sa="$sha" -v pa="$pta" \
		'BEGIN { printf "%-6s %8d %12.2f %12.2f %10.2f %9.2f%% %11.2f%%\n", m, t, s, p, s/p, sa*100, pa }' >> "$tmp/table"
done
echo
echo "# seconds per epoch (Shen: mean over epochs; PyTorch: median; the fastest of $rounds interleaved round(s) each); Shen/PT < 1 means Shen is faster"
cat "$tmp/table"
