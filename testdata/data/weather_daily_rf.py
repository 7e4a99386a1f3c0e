#!/usr/bin/env python3
"""Reference for the date-feature test: a random forest (scikit-learn
1.2.1, 300 trees, random_state 0) on weather_daily.csv, trained on 2021-2022
and scored on 2023, with and without the date. With the date, the forest
gets what a user would hand it: year, month, day of year and day of week
as plain numbers. Writes weather_daily_rf.json (test RMSE of temp_max).
Run from the repo root: /usr/bin/python3 testdata/data/weather_daily_rf.py
"""
import csv
import datetime
import json
import os

import numpy as np
from sklearn.ensemble import RandomForestRegressor

here = os.path.dirname(os.path.abspath(__file__))
rows = list(csv.DictReader(open(os.path.join(here, "weather_daily.csv"))))


def features(r, dates):
    x = [float(r["humidity"]), float(r["wind"])]
    if dates:
        d = datetime.date.fromisoformat(r["date"])
        x += [d.year, d.month, d.timetuple().tm_yday, d.isoweekday() % 7]
    return x


out = {}
for dates in (False, True):
    train = [r for r in rows if r["date"] < "2023"]
    test = [r for r in rows if r["date"] >= "2023"]
    xtr = np.array([features(r, dates) for r in train])
    ytr = np.array([float(r["temp_max"]) for r in train])
    xte = np.array([features(r, dates) for r in test])
    yte = np.array([float(r["temp_max"]) for r in test])
    rf = RandomForestRegressor(n_estimators=300, random_state=0, n_jobs=1).fit(xtr, ytr)
    rmse = float(np.sqrt(np.mean((rf.predict(xte) - yte) ** 2)))
    out["rf_rmse_with_dates" if dates else "rf_rmse_without_dates"] = round(rmse, 4)

with open(os.path.join(here, "weather_daily_rf.json"), "w") as f:
    json.dump(out, f, indent=2, sort_keys=True)
    f.write("\n")
print(out)
