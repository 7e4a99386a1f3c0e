"""Golden values of Optuna 3.1's univariate Parzen estimator (TPE).

Run with Debian's python3-optuna (3.1.0):  /usr/bin/python3 tpe_golden.py > tpe_golden.json
For each case it records the component weights, means and bandwidths that
optuna.samplers._tpe.parzen_estimator._ParzenEstimator builds with
TPESampler's defaults (prior weight 1, magic clip, consider_endpoints
false, default_weights), and the log density/mass at some points. The
continuous density of Optuna 3.1.0 omits each component's -log(sigma)
(its vendored truncnorm.logpdf); Shen's TPE does the same, and the Go test
also rebuilds that density by hand from these parameters.
"""
import json

import numpy as np
import optuna
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution
from optuna.samplers._tpe.parzen_estimator import _ParzenEstimator, _ParzenEstimatorParameters
from optuna.samplers._tpe.sampler import default_weights

params = _ParzenEstimatorParameters(
    consider_prior=True, prior_weight=1.0, consider_magic_clip=True,
    consider_endpoints=False, weights=default_weights, multivariate=False)

cases = [
    ("uniform", FloatDistribution(0.0, 0.3), {"space": "uniform", "lower": 0.0, "upper": 0.3},
     [0.05, 0.2, 0.11], [0.0, 0.07, 0.15, 0.3]),
    ("uniform_empty", FloatDistribution(-1.0, 2.0), {"space": "uniform", "lower": -1.0, "upper": 2.0},
     [], [-1.0, 0.5, 1.7]),
    ("uniform_one", FloatDistribution(-1.0, 2.0), {"space": "uniform", "lower": -1.0, "upper": 2.0},
     [1.9], [-0.5, 1.9]),
    ("loguniform", FloatDistribution(3e-4, 3e-2, log=True), {"space": "loguniform", "lower": 3e-4, "upper": 3e-2},
     [1e-3, 2e-2, 5e-4, 3e-3], [3e-4, 1e-3, 0.01, 0.03]),
    ("quniform", FloatDistribution(0.0, 1.0, step=0.25), {"space": "quniform", "lower": 0.0, "upper": 1.0, "q": 0.25},
     [0.25, 0.75, 0.75], [0.0, 0.25, 0.5, 1.0]),
    ("randint", IntDistribution(5, 29), {"space": "randint", "lower": 5, "upper": 30},
     [7, 12, 29, 20, 5], [5, 6, 17, 29]),
    ("qrandint", IntDistribution(16, 128, step=16), {"space": "qrandint", "lower": 16, "upper": 128, "q": 16},
     [32, 128], [16, 48, 128]),
    ("lograndint", IntDistribution(1, 63, log=True), {"space": "lograndint", "lower": 1, "upper": 64},
     [2, 8, 40], [1, 3, 63]),
    ("choice", CategoricalDistribution([16, 32, 64]), {"space": "choice", "categories": [16, 32, 64]},
     [0, 2, 2, 1], [0, 1, 2]),
]
# Many observations exercise default_weights' ramp (n >= 25).
rng = np.random.RandomState(3)
many = list(rng.uniform(0.0, 1.0, size=30))
cases.append(("uniform_many", FloatDistribution(0.0, 1.0), {"space": "uniform", "lower": 0.0, "upper": 1.0},
              many, [0.1, 0.5, 0.93]))

out = {"optuna": optuna.__version__, "cases": []}
for name, dist, space, obs, points in cases:
    if isinstance(dist, CategoricalDistribution):
        internal = np.asarray(obs, dtype=float)
    else:
        internal = np.asarray(obs, dtype=float)
    pe = _ParzenEstimator({"x": internal}, {"x": dist}, params)
    rec = {
        "name": name, "space": space, "observations": [float(v) for v in obs],
        "weights": pe._weights.tolist(),
    }
    if isinstance(dist, CategoricalDistribution):
        rec["categorical"] = pe._categorical_weights["x"].tolist()
        rec["points"] = points
        rec["log_pdf"] = pe.log_pdf({"x": np.asarray(points)}).tolist()
    else:
        rec["mus"] = pe._mus["x"].tolist()
        rec["sigmas"] = pe._sigmas["x"].tolist()
        rec["low"], rec["high"] = float(pe._low["x"]), float(pe._high["x"])
        rec["points"] = [float(p) for p in points]
        rec["log_pdf"] = pe.log_pdf({"x": np.asarray(points, dtype=float)}).tolist()
    out["cases"].append(rec)
print(json.dumps(out, indent=1))
