#!/usr/bin/env python3
"""Writes weather_daily.csv: three years of a synthetic daily weather table
with a seasonal signal, for the date-feature tests of package data.

Deterministic (Python's random with a fixed seed, no other dependency):
rerun with `python3 testdata/data/make_weather_daily.py` from the repo root
and the file is byte-identical.

temp_max follows the season (a sine over the day of the year peaking in
late July) plus small effects of humidity and wind and Gaussian noise;
humidity itself is mildly seasonal. A model that sees only humidity and
wind recovers little of the season; one that sees the date does.
"""
import datetime
import math
import os
import random

random.seed(20240331)
start = datetime.date(2021, 1, 1)
rows = []
for i in range(3 * 365):
    d = start + datetime.timedelta(days=i)
    doy = d.timetuple().tm_yday
    season = math.sin(2 * math.pi * (doy - 110) / 365.25)
    humidity = min(100.0, max(20.0, 65 - 6 * season + random.gauss(0, 10)))
    wind = abs(random.gauss(12, 5))
    temp = 14 + 10 * season - 0.05 * (humidity - 65) - 0.15 * (wind - 12) + random.gauss(0, 2)
    rows.append((d.isoformat(), humidity, wind, temp))

out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "weather_daily.csv")
with open(out, "w", newline="\n") as f:
    f.write("date,humidity,wind,temp_max\n")
    for d, h, w, t in rows:
        f.write(f"{d},{h:.1f},{w:.1f},{t:.1f}\n")
