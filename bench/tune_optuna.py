#!/usr/bin/python3
"""Optuna 3.1's TPESampler (Debian python3-optuna) on the same search space
and objective as `shen tune`: each trial runs `shen train --set ...
--katib-metrics` and its objective is the validation loss of the best
epoch (the one the run keeps), read from the name=value lines.

usage: /usr/bin/python3 tune_optuna.py SHEN CONFIG SPACE SEED TRIALS OUTDIR
prints one JSON line: {"best": ..., "seconds": ..., "trials": ...}
"""
import json, math, os, re, subprocess, sys, time

import optuna
import yaml

shen, config, space_file, seed, trials, outdir = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]), sys.argv[6]
space = yaml.safe_load(open(space_file))
metric = "val_" + space.get("metric", "loss").removeprefix("val_")
maximize = space.get("goal", "minimize") == "maximize"
filt = re.compile(r"([\w|-]+)\s*=\s*([+-]?\d*(\.\d+)?([Ee][+-]?\d+)?)")
optuna.logging.set_verbosity(optuna.logging.WARNING)


def flow(v):
    return json.dumps(v).replace('"', "")


def suggest(trial, key, p):
    s = p["space"]
    if s == "loguniform":
        return trial.suggest_float(key, p["lower"], p["upper"], log=True)
    if s == "uniform":
        return trial.suggest_float(key, p["lower"], p["upper"])
    if s == "randint":
        return trial.suggest_int(key, p["lower"], p["upper"] - 1)
    if s == "choice":
        cats = [flow(c) for c in p["categories"]]
        return trial.suggest_categorical(key, cats)
    raise SystemExit(f"space {s} not in this bench")


def objective(trial):
    sets = []
    for key, p in space["parameters"].items():
        sets += ["--set", f"{key}={suggest(trial, key, p)}"]
    out = subprocess.run([shen, "train", "--config", config, "--out", os.path.join(outdir, str(trial.number)), "--katib-metrics"] + sets,
                         capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(out.stderr[-300:])
    vals = []
    for line in out.stdout.splitlines():
        if line.startswith("epoch="):
            d = {m[0]: float(m[1]) for m in filt.findall(line)}
            if metric in d:
                vals.append(d[metric])
    if not vals:
        raise RuntimeError("no metric")
    return max(vals) if maximize else min(vals)


start = time.time()
study = optuna.create_study(direction="maximize" if maximize else "minimize", sampler=optuna.samplers.TPESampler(seed=seed))
study.optimize(objective, n_trials=trials, catch=(RuntimeError,))
done = [t.value for t in study.trials if t.value is not None]
print(json.dumps({"best": study.best_value, "seconds": time.time() - start, "trials": len(done)}))
