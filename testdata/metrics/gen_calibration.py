"""Generate testdata/metrics/calibration.json: probability/label sets and
scikit-learn's calibration_curve and brier_score_loss on them, the
reference for metrics/calibration_test.go.

Run from the repository root with Debian's python3-sklearn:
    /usr/bin/python3 testdata/metrics/gen_calibration.py

Scores are float32 values written as the float64 they equal, so the Go
side reads exactly what sklearn saw.
"""
import json
import numpy as np
import sklearn
from sklearn.calibration import calibration_curve
from sklearn.metrics import brier_score_loss

rng = np.random.default_rng(20261206)
cases = []


def case(name, scores, labels, bins):
    scores = np.asarray(scores, dtype=np.float32)
    labels = np.asarray(labels, dtype=np.int64)
    pt, pp = calibration_curve(labels, scores.astype(np.float64), n_bins=bins)
    cases.append({
        "name": name, "bins": bins,
        "scores": [float(x) for x in scores], "labels": labels.tolist(),
        "prob_true": pt.tolist(), "prob_pred": pp.tolist(),
        "brier": float(brier_score_loss(labels, scores.astype(np.float64))),
    })


for n, bins in [(50, 5), (400, 10), (1000, 15)]:
    s = rng.uniform(0, 1, n)
    y = (rng.uniform(0, 1, n) < s ** 1.5).astype(int)  # over-confident
    case(f"uniform n={n} bins={bins}", s, y, bins)
# Edges exactly on bin boundaries, 0 and 1, and empty bins.
case("edges", [0.0, 0.1, 0.2, 0.5, 0.5, 0.9, 1.0, 1.0], [0, 0, 1, 0, 1, 1, 1, 0], 10)
case("one bin", [0.3, 0.7, 0.9], [0, 1, 1], 1)

with open("testdata/metrics/calibration.json", "w") as fh:
    json.dump({"sklearn": sklearn.__version__, "cases": cases}, fh)
