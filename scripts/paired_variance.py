#!/usr/bin/env python3
"""Variance of paired differences between arms, from run folders.

Usage: python3 scripts/paired_variance.py RUN_DIR [RUN_DIR ...]

For each folder, reads replications.csv and prints, for every arm after the
first, the mean, variance and Monte Carlo standard error of
delta_cost_discounted and delta_qol_years_discounted. Run the same scenario
and seed with and without `--independent-streams` to see what common random
numbers buy (docs/performance.md). Standard library only.
"""
import os
import statistics
import sys

from girfec_py import schema
from girfec_py.runfolder import OutputError, read_table

DELTAS = schema.REPLICATIONS.fixed("delta_cost_discounted", "delta_qol_years_discounted")


def summarise(folder):
    rows = read_table(os.path.join(folder, "replications.csv"), schema.REPLICATIONS, ["arm"] + DELTAS)
    arms = list(dict.fromkeys(r["arm"] for r in rows))
    for arm in arms[1:]:
        for column in DELTAS:
            xs = [r[column] for r in rows if r["arm"] == arm]
            if len(xs) < 2:
                print(f"{folder}: {arm} {column}: fewer than 2 replications")
                continue
            var = statistics.variance(xs)
            print(f"{folder}: {arm} − {arms[0]} {column}: n={len(xs)} mean={statistics.mean(xs):.6g} "
                  f"variance={var:.4g} mcse={(var / len(xs)) ** 0.5:.4g}")


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    try:
        for folder in sys.argv[1:]:
            summarise(folder)
    except OutputError as e:
        sys.exit(f"paired_variance.py: error: {e}")
