"""Generate testdata/metrics/metrics.json: random label/score sets and
scikit-learn's metrics on them, the reference for train/metrics_test.go.

Run from the repository root with Debian's python3-sklearn:
    /usr/bin/python3 testdata/metrics/gen_metrics.py

Probabilities are float32 values written as the float64 they equal, so the
Go side reads exactly what sklearn saw.
"""
import json
import numpy as np
import sklearn
from sklearn import metrics as M

rng = np.random.default_rng(20240611)


def f32list(a):
    return [float(x) for x in np.asarray(a, dtype=np.float32).ravel()]


def classification_case(name, k, labels, probs=None, pred=None):
    labels = np.asarray(labels, dtype=np.int64)
    if probs is not None:
        probs = np.asarray(probs, dtype=np.float32)
        pred = probs.argmax(axis=1)
    pred = np.asarray(pred, dtype=np.int64)
    ks = list(range(k))
    p, r, f, s = M.precision_recall_fscore_support(labels, pred, labels=ks, zero_division=0)
    out = {
        "name": name,
        "k": k,
        "labels": labels.tolist(),
        "pred": pred.tolist(),
        "accuracy": M.accuracy_score(labels, pred),
        "precision": p.tolist(),
        "recall": r.tolist(),
        "f1": f.tolist(),
        "support": s.tolist(),
        "confusion": M.confusion_matrix(labels, pred, labels=ks).tolist(),
    }
    for avg in ("macro", "weighted"):
        ap, ar, af, _ = M.precision_recall_fscore_support(labels, pred, labels=ks, average=avg, zero_division=0)
        out[avg] = [ap, ar, af]
    if probs is not None:
        p64 = probs.astype(np.float64)
        out["probs"] = f32list(probs)
        out["log_loss"] = M.log_loss(labels, p64, labels=ks)
        if k == 2:
            out["roc_auc"] = M.roc_auc_score(labels, p64[:, 1])
        else:
            out["roc_auc"] = M.roc_auc_score(labels, p64, multi_class="ovr", average="macro", labels=ks)
        out["class_auc"] = [M.roc_auc_score(labels == c, p64[:, c]) for c in ks]
    return out


def dirichlet_probs(n, k, labels, sharp):
    a = np.ones((n, k))
    a[np.arange(n), labels] += sharp
    p = rng.dirichlet(a[0] * 0 + 1, size=n) if sharp == 0 else np.stack([rng.dirichlet(r) for r in a])
    p = p.astype(np.float32)
    return p / p.sum(axis=1, keepdims=True)


cases = []

# Binary with many tied scores (rounded to 0.05).
n = 400
y = rng.integers(0, 2, n)
s = np.clip(np.round((0.35 * y + rng.random(n) * 0.65) / 0.05) * 0.05, 0, 1).astype(np.float32)
probs = np.stack([np.float32(1) - s, s], axis=1)
c = classification_case("binary_ties", 2, y, probs=probs)
c["scores"] = f32list(s)
cases.append(c)

# Binary, continuous scores, imbalanced.
n = 250
y = (rng.random(n) < 0.2).astype(np.int64)
s = (1 / (1 + np.exp(-(1.5 * y + rng.normal(size=n))))).astype(np.float32)
probs = np.stack([np.float32(1) - s, s], axis=1)
c = classification_case("binary_imbalanced", 2, y, probs=probs)
c["scores"] = f32list(s)
cases.append(c)

# Multiclass, informative probabilities.
n, k = 300, 4
y = rng.integers(0, k, n)
cases.append(classification_case("multiclass4", k, y, probs=dirichlet_probs(n, k, y, 2.0)))

# Multiclass, 7 classes, weak signal, imbalanced.
n, k = 500, 7
y = rng.choice(k, size=n, p=[0.3, 0.2, 0.15, 0.12, 0.1, 0.08, 0.05])
cases.append(classification_case("multiclass7", k, y, probs=dirichlet_probs(n, k, y, 0.7)))

# Hard predictions: class 4 never predicted, class 5 never present at all.
n, k = 120, 6
y = rng.integers(0, 5, n)
pred = np.where(rng.random(n) < 0.6, y, rng.integers(0, 4, n))
pred = np.where(pred == 4, 3, pred)
cases.append(classification_case("hard_zero_division", k, y, pred=pred))

reg = []
for name, n, const in (("regression", 200, False), ("regression_const", 50, True)):
    t = np.full(n, 3.25) if const else rng.normal(5, 2, n)
    p = t + rng.normal(0, 0.7, n)
    reg.append({
        "name": name,
        "target": t.tolist(),
        "pred": p.tolist(),
        "mae": M.mean_absolute_error(t, p),
        "mse": M.mean_squared_error(t, p),
        "rmse": float(np.sqrt(M.mean_squared_error(t, p))),
        "r2": M.r2_score(t, p),
    })
t = np.full(10, 1.5)
reg.append({"name": "regression_exact_const", "target": t.tolist(), "pred": t.tolist(),
            "mae": 0.0, "mse": 0.0, "rmse": 0.0, "r2": M.r2_score(t, t)})

with open("testdata/metrics/metrics.json", "w") as fh:
    json.dump({"sklearn": sklearn.__version__, "classification": cases, "regression": reg}, fh)
    fh.write("\n")
