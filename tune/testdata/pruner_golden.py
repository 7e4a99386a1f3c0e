"""Golden pruning decisions of Optuna 3.1's MedianPruner and
SuccessiveHalvingPruner (ASHA), replayed by the Go tests.

Run with Debian's python3-optuna (3.1.0):  /usr/bin/python3 pruner_golden.py > pruner_golden.json
Trials run one after another; trial i reports curve(i, step) after each
step 1..12 and stops at the first step where should_prune() is true.
"""
import json
import math

import optuna

optuna.logging.set_verbosity(optuna.logging.ERROR)
EPOCHS, TRIALS = 12, 24


def curve(i, step):
    # Different asymptotes and speeds, some crossing: a fair test of both rules.
    final = 0.2 + 0.6 * ((i * 7919) % 23) / 23.0
    speed = 0.15 + 0.5 * ((i * 104729) % 11) / 11.0
    return final + (1.5 - final) * math.exp(-speed * step)


out = {"optuna": optuna.__version__, "epochs": EPOCHS, "studies": []}
for name, direction, pruner in [
    ("median", "minimize", optuna.pruners.MedianPruner(n_startup_trials=5, n_warmup_steps=0)),
    ("asha", "minimize", optuna.pruners.SuccessiveHalvingPruner(min_resource=1, reduction_factor=3, min_early_stopping_rate=0)),
    ("asha_max", "maximize", optuna.pruners.SuccessiveHalvingPruner(min_resource=2, reduction_factor=3, min_early_stopping_rate=0)),
    ("median_max", "maximize", optuna.pruners.MedianPruner(n_startup_trials=5, n_warmup_steps=2)),
]:
    study = optuna.create_study(direction=direction, pruner=pruner)
    sign = -1 if direction == "maximize" else 1
    trials = []
    for i in range(TRIALS):
        t = study.ask()
        values, pruned_at = [], None
        for step in range(1, EPOCHS + 1):
            v = sign * curve(i, step)
            values.append(v)
            t.report(v, step)
            if t.should_prune():
                pruned_at = step
                break
        if pruned_at is None:
            study.tell(t, values[-1])
        else:
            study.tell(t, state=optuna.trial.TrialState.PRUNED)
        trials.append({"values": values, "pruned_at": pruned_at})
    out["studies"].append({"name": name, "direction": direction, "trials": trials})
print(json.dumps(out))
