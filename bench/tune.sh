#!/bin/sh
# Hyperparameter search: Shen TPE, Shen random and Optuna 3.1's TPE on the
# same search space, objective and budget (N trials, one at a time, no
# pruning), on tabular configs from configs/. Optuna drives `shen train
# --set ...` per trial (bench/tune_optuna.py), so the three samplers face
# the identical objective: the best epoch's validation loss. Shen TPE also
# runs with ASHA pruning (shen-tpe-asha) to show what pruning saves.
# Reports the best value reached (mean and sd over the seeds) and wall time.
#   sh bench/tune.sh [TRIALS=20] [SEEDS=5]
set -eu
cd "$(dirname "$0")/.."
TRIALS=${1:-20}
SEEDS=${2:-5}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
go build -o "$work/shen" ./cmd/shen
echo "# $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) cores; $TRIALS trials, seeds 1..$SEEDS"
space() { # SAMPLER SEED [PRUNER]
	cat <<YAML
metric: loss
goal: minimize
trials: $TRIALS
parallel: 1
sampler: $1
pruner: ${3:-none}
seed: $2
parameters:
  train.optimizer.lr: {space: loguniform, lower: 0.0001, upper: 0.1}
  model.hidden: {space: choice, categories: [[16], [32, 16], [64, 32]]}
  model.dropout: {space: uniform, lower: 0.0, upper: 0.3}
  train.batch_size: {space: choice, categories: [16, 32, 64]}
YAML
}
best_of() { # STUDY_DIR -> best value
	/usr/bin/python3 -c '
import json, sys
v = [json.loads(l).get("value") for l in open(sys.argv[1] + "/journal.jsonl") if "\"state\":\"complete\"" in l]
print(min(x for x in v if x is not None))' "$1"
}
for cfg in iris breast_cancer; do
	for s in $(seq 1 "$SEEDS"); do
		for variant in tpe random tpe-asha; do
			space "${variant%-asha}" "$s" "$([ "$variant" = tpe-asha ] && echo asha || echo none)" > "$work/space.yaml"
			t0=$(date +%s.%N)
			"$work/shen" tune --config "configs/$cfg.yaml" --space "$work/space.yaml" --out "$work/$cfg-$variant-$s" > /dev/null
			t1=$(date +%s.%N)
			echo "$cfg shen-$variant $s $(best_of "$work/$cfg-$variant-$s") $(echo "$t1 - $t0" | bc)"
		done
		space tpe "$s" > "$work/space.yaml"
		/usr/bin/python3 bench/tune_optuna.py "$work/shen" "configs/$cfg.yaml" "$work/space.yaml" "$s" "$TRIALS" "$work/optuna-$cfg-$s" |
			/usr/bin/python3 -c 'import json,sys; d=json.load(sys.stdin); print(sys.argv[1], "optuna-tpe", sys.argv[2], d["best"], d["seconds"])' "$cfg" "$s"
	done
done > "$work/results.txt"
/usr/bin/python3 - "$work/results.txt" <<'PY'
import collections, statistics, sys
rows = collections.defaultdict(list)
for line in open(sys.argv[1]):
    cfg, eng, seed, best, secs = line.split()
    rows[(cfg, eng)].append((float(best), float(secs)))
print(f"{'config':<14} {'sampler':<11} {'best val_loss mean':>18} {'sd':>8} {'wall s mean':>12}")
for (cfg, eng), v in rows.items():
    b = [x[0] for x in v]; s = [x[1] for x in v]
    print(f"{cfg:<14} {eng:<11} {statistics.mean(b):>18.4f} {statistics.pstdev(b):>8.4f} {statistics.mean(s):>12.1f}")
PY
