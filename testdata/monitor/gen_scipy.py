#!/usr/bin/python3
"""Writes scipy.json: the drift statistics of package monitor as SciPy 1.10
computes them, for monitor's tests (run: /usr/bin/python3 gen_scipy.py).

Each case holds its inputs and SciPy's answer:
  ks_2samp       scipy.stats.ks_2samp(a, b) (method "auto": exact or asymp)
  kstwo_sf       scipy.stats.kstwo.sf(x, n) over every region of (n, x)
  ks_cdf         kstest(x, piecewise linear CDF through knots) for D; the
                 p-value is kstwo.sf(D, round(n*m/(n+m))) with m reference rows
  wasserstein    scipy.stats.wasserstein_distance(u, v)
  wasserstein_cdf the integral of |ECDF(x) - G| (G the knots' linear CDF) by
                 scipy.integrate.quad between breakpoints
  chisquare      scipy.stats.chisquare(obs, exp)
  chi2_sf        scipy.stats.chi2.sf(x, df)
  jensenshannon  scipy.spatial.distance.jensenshannon(p, q[, base])
  psi            Evidently's PSI: sum((r-c)*ln(r/c)) on shares, 0 -> 0.0001
"""
import json
import os

import numpy as np
import scipy
from scipy import integrate, stats
from scipy.spatial import distance

rng = np.random.default_rng(20261206)


def r(v):
    return [float(x) for x in v]


out = {"scipy": scipy.__version__, "ks_2samp": [], "kstwo_sf": [], "ks_cdf": [],
       "wasserstein": [], "wasserstein_cdf": [], "chisquare": [], "chi2_sf": [],
       "jensenshannon": [], "psi": []}

pairs = [
    (rng.normal(0, 1, 20), rng.normal(0, 1, 20)),
    (rng.normal(0, 1, 20), rng.normal(1, 1, 20)),
    (rng.normal(0, 1, 30), rng.normal(0.3, 1, 45)),
    (rng.normal(0, 1, 7), rng.normal(0, 2, 300)),
    (rng.integers(0, 5, 40).astype(float), rng.integers(0, 6, 55).astype(float)),
    (rng.exponential(1, 100), rng.exponential(1.3, 100)),
    (rng.normal(0, 1, 250), rng.normal(0.1, 1, 400)),
    (rng.normal(0, 1, 3), rng.normal(5, 1, 4)),
    (rng.uniform(0, 1, 64), rng.uniform(0, 1, 48)),
]
for a, b in pairs:
    res = stats.ks_2samp(a, b)
    out["ks_2samp"].append({"a": r(a), "b": r(b), "d": float(res.statistic), "p": float(res.pvalue)})

for n in [1, 2, 3, 5, 10, 30, 50, 100, 140, 141, 500, 1000, 5000, 99999, 100001, 250000]:
    for x in [0.001, 0.004, 0.01, 0.02, 0.05, 0.08, 0.1, 0.15, 0.2, 0.3, 0.45, 0.5, 0.7, 0.95]:
        out["kstwo_sf"].append({"n": n, "x": x, "sf": float(stats.kstwo.sf(x, n))})
    for t in [0.6, 0.9, n - 0.5]:  # Ruben-Gambino regions n*x <= 1 and >= n-1
        if 0 < t / n < 1:
            out["kstwo_sf"].append({"n": n, "x": t / n, "sf": float(stats.kstwo.sf(t / n, n))})


def knots_of(ref):
    """Knots like monitor.NewRefCDF: histogram edges with cumulative shares."""
    counts, edges = np.histogram(ref, bins=10)
    f = np.concatenate([[0], np.cumsum(counts) / counts.sum()])
    return edges, f


for ref, cur, m in [
    (rng.normal(0, 1, 5000), rng.normal(0, 1, 30), 5000),
    (rng.normal(0, 1, 5000), rng.normal(0.8, 1, 30), 5000),
    (rng.gamma(2, 1, 800), rng.gamma(2, 1.5, 200), 800),
    (rng.uniform(-3, 3, 1000), rng.uniform(-2, 5, 120), 1000),
]:
    X, F = knots_of(ref)
    cdf = lambda v, X=X, F=F: np.interp(v, X, F, left=0.0, right=1.0)
    D = float(stats.kstest(cur, cdf).statistic)
    n = len(cur)
    p = float(stats.kstwo.sf(D, np.round(n * m / (n + m))))
    s = np.sort(cur)
    bp = np.unique(np.concatenate([s, X]))
    w = 0.0
    for lo, hi in zip(bp[:-1], bp[1:]):
        c = np.searchsorted(s, lo, side="right") / n
        w += integrate.quad(lambda v: abs(c - cdf(v)), lo, hi, epsabs=1e-13, epsrel=1e-12)[0]
    out["ks_cdf"].append({"x": r(cur), "knots_x": r(X), "knots_f": r(F), "m": m, "d": D, "p": p})
    out["wasserstein_cdf"].append({"x": r(cur), "knots_x": r(X), "knots_f": r(F), "w": w})

for u, v in [(rng.normal(0, 1, 25), rng.normal(0.5, 1, 40)),
             (rng.exponential(1, 100), rng.exponential(2, 17)),
             (np.array([0, 1, 3.0]), np.array([5, 6, 8.0])),
             (rng.integers(0, 4, 30).astype(float), rng.integers(0, 4, 31).astype(float))]:
    out["wasserstein"].append({"u": r(u), "v": r(v), "w": float(stats.wasserstein_distance(u, v))})

for obs, freq in [([16, 18, 16, 14, 12, 12], [1 / 6] * 6),
                  ([30, 5, 5], [0.5, 0.3, 0.2]),
                  ([3, 0, 27], [0.2, 0.2, 0.6]),
                  ([500, 480, 20], [0.49, 0.49, 0.02]),
                  ([1, 2], [0.5, 0.5])]:
    obs = np.array(obs, float)
    exp = np.array(freq) * obs.sum()
    res = stats.chisquare(obs, exp)
    out["chisquare"].append({"obs": r(obs), "exp": r(exp), "stat": float(res.statistic), "p": float(res.pvalue)})

out["chi2_contingency"] = []
for a, b in [([30, 50, 20], [25, 60, 15]), ([100, 5], [80, 30]), ([3, 9, 1, 7], [6, 2, 2, 10])]:
    res = stats.chi2_contingency(np.array([a, b], float), correction=False)
    out["chi2_contingency"].append({"a": r(a), "b": r(b), "stat": float(res[0]), "p": float(res[1])})

for df in [1, 2, 3, 5, 9, 20, 100]:
    for x in [0.01, 0.5, 1, 2.5, 7.8, 15, 40, 120, 300]:
        out["chi2_sf"].append({"x": x, "df": df, "sf": float(stats.chi2.sf(x, df))})

for p, q in [([0.1, 0.4, 0.5], [0.8, 0.15, 0.05]),
             ([1, 0, 0], [0, 1, 0]),
             ([3, 5, 2, 0], [2, 5, 2, 1]),
             ([0.25] * 4, [0.25] * 4)]:
    for base in [None, 2.0]:
        out["jensenshannon"].append({"p": r(p), "q": r(q), "base": base or 0.0,
                                     "js": float(distance.jensenshannon(p, q, base=base))})

for ref, cur in [([10, 20, 30, 40], [12, 18, 33, 37]),
                 ([10, 20, 30, 40], [40, 30, 20, 10]),
                 ([5, 0, 5], [3, 3, 4])]:
    rp = np.array(ref, float) / sum(ref)
    cp = np.array(cur, float) / sum(cur)
    rp[rp == 0] = 0.0001
    cp[cp == 0] = 0.0001
    out["psi"].append({"ref": r(ref), "cur": r(cur), "psi": float(np.sum((rp - cp) * np.log(rp / cp)))})

with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "scipy.json"), "w") as f:
    json.dump(out, f, indent=0)
