#!/usr/bin/python3
"""Optuna 3.1 (Debian python3-optuna) on the synthetic objective of
tune.BenchmarkSamplerSynthetic: mean best value of TPE and random search in
TRIALS trials over SEEDS seeds (lower is better).
usage: /usr/bin/python3 bench/tpe_synthetic.py [TRIALS=40] [SEEDS=100]"""
import math, statistics, sys, time

import optuna

optuna.logging.set_verbosity(optuna.logging.WARNING)
N = int(sys.argv[1]) if len(sys.argv) > 1 else 40
SEEDS = int(sys.argv[2]) if len(sys.argv) > 2 else 100


def f(t):
    x = t.suggest_float("x", -1, 1)
    lr = t.suggest_float("lr", 1e-5, 1, log=True)
    c = t.suggest_categorical("c", ["a", "b", "c", "d"])
    n = t.suggest_int("n", 1, 20)
    return (x - 0.3) ** 2 + (math.log10(lr) + 2) ** 2 + {"a": 0.5, "b": 0.0, "c": 0.3, "d": 0.8}[c] + ((n - 7) / 10) ** 2


for name, make in [("tpe", lambda s: optuna.samplers.TPESampler(seed=s)), ("random", lambda s: optuna.samplers.RandomSampler(seed=s))]:
    bests, t0 = [], time.time()
    for s in range(SEEDS):
        st = optuna.create_study(sampler=make(s))
        st.optimize(f, n_trials=N)
        bests.append(st.best_value)
    us = (time.time() - t0) / (SEEDS * N) * 1e6
    print(f"optuna {name}: mean best {statistics.mean(bests):.4f} sd {statistics.pstdev(bests):.4f}, {us:.0f} us/trial")
