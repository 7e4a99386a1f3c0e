#!/bin/sh
# A 30-trial MNIST MLP study end to end (each trial one epoch on 12000
# digits): shen tune (TPE, one trial at a time, then two at once) against
# Optuna 3.1 TPE + PyTorch 1.13 on the same space (bench/tune_mnist.yaml,
# bench/tune_mnist_optuna.py). Wall time includes everything each side
# does: Shen reads and prepares the data, trains, evaluates and saves an
# artifact in every trial; the Python side loads the data once.
#   sh bench/tune_mnist.sh [TRIALS=30]
set -eu
cd "$(dirname "$0")/.."
TRIALS=${1:-30}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
go build -o "$work/shen" ./cmd/shen
echo "# $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) cores; $TRIALS trials"
for par in 1 2; do
	sed "s/trials: 30/trials: $TRIALS/; s/parallel: 1/parallel: $par/" bench/tune_mnist.yaml > bench/.tune_mnist_run.yaml
	t0=$(date +%s.%N)
	"$work/shen" tune --config bench/.tune_mnist_run.yaml --out "$work/p$par" > "$work/p$par.log"
	t1=$(date +%s.%N)
	best=$(grep '^best:' "$work/p$par.log" | sed 's/.*val_accuracy \([0-9.]*\).*/\1/')
	echo "shen tpe, parallel $par: best val_accuracy $best, $(echo "$t1 - $t0" | bc) s"
done
rm -f bench/.tune_mnist_run.yaml
/usr/bin/python3 bench/tune_mnist_optuna.py ../shared/data/mnist "$TRIALS" 1 2 |
	/usr/bin/python3 -c 'import json,sys; d=json.load(sys.stdin); print("optuna tpe + pytorch: best val_accuracy %.4f, %.1f s" % (d["best"], d["seconds"]))'
