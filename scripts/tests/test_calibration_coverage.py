"""The coverage study's driver (experiments/calibration-coverage/coverage.py), end to end on the current girfec.

`--quick` (one data set per shape) must run, write fits.csv, rates.csv and
summary.md with the documented columns, and fit every data set without an
error (a fit may fail to converge or hit the time limit; that is the study's
finding, not this test's). Also checks the truths each shape draws: the
closed shapes keep 24,000 children, the equilibrium one starts at its
stationary shares, the transient one away from them. The coverage figure
itself is the study's (README.md there), not asserted here.
"""
from __future__ import annotations

import csv
import importlib.util
import os
import subprocess
import sys

from girfec_build import ROOT, girfec_binary

DRIVER = os.path.join(ROOT, "experiments", "calibration-coverage", "coverage.py")
_spec = importlib.util.spec_from_file_location("coverage", DRIVER)
coverage = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(coverage)


def test_closed_shapes_start_where_their_names_say():
    for shape, at_eq in (("closed-equilibrium", True), ("closed-transient", False)):
        truth, free = coverage.draw_truth(shape, 7)
        initial = truth["areas"]["all"]["initial_counts"]
        assert sum(initial.values()) == 24000 and len(free) == 12
        rates = {(a, b): r for a, row in truth["rates_per_year"].items() for b, r in row.items()}
        pi = coverage.stationary(truth["levels"], rates)
        distance = sum(abs(initial[level] / 24000 - p) for level, p in zip(truth["levels"], pi)) / 2
        assert (distance < 1e-3) if at_eq else (distance > 0.1), (shape, distance)


def test_the_same_shape_and_seed_draw_the_same_truth_and_seeds_differ():
    assert coverage.draw_truth("mixed", 3) == coverage.draw_truth("mixed", 3)
    assert coverage.draw_truth("mixed", 3) != coverage.draw_truth("mixed", 4)


def test_wilson_interval_golden():
    # 9 of 10: Wilson 95 % interval 0.5958–0.9821 (closed form, z = 1.96)
    low, high = coverage.wilson(9, 10)
    assert abs(low - 0.5958) < 5e-4 and abs(high - 0.9821) < 5e-4


def test_only_the_samplers_note_says_not_converged():
    # The least-squares check's note may say its own optimiser did not converge: not the sampler's verdict.
    least = "stocks: least squares: X² = 3.556 on 32 counts, NOT converged (64002 evaluations, 8 starts)"
    assert coverage.status_of(0, {"status": "converged", "notes": [least, "stocks: converged (largest R̂ 1.005)"]}) == "converged"
    assert coverage.status_of(0, {"status": "", "notes": [least, "stocks: NOT converged (largest R̂ 1.02)"]}) == "not converged"
    assert coverage.status_of(3, {"status": "", "notes": []}) == "not converged"
    assert coverage.status_of(None, {"status": "", "notes": []}) == "timeout"


def test_quick_study_runs_and_writes_the_documented_files(tmp_path):
    out = tmp_path / "study"
    done = subprocess.run([sys.executable, DRIVER, "--quick", "--out", str(out), "--girfec", girfec_binary(),
                           "--timeout", "10", "--jobs", "2"], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    with open(out / "fits.csv", newline="") as f:
        reader = csv.DictReader(f)
        fits = list(reader)
        assert reader.fieldnames == coverage.FITS_COLUMNS
    with open(out / "rates.csv", newline="") as f:
        reader = csv.DictReader(f)
        rates = list(reader)
        assert reader.fieldnames == coverage.RATES_COLUMNS
    assert [f["shape"] for f in fits] == list(coverage.SHAPES)
    assert all(f["status"] in ("converged", "not converged", "timeout") for f in fits), fits
    assert len(rates) == sum(int(f["free_rates"]) for f in fits) == 12 + 12 + 4 + 4
    for r in rates:
        assert r["covered"] in ("", "0", "1")
        assert r["covered"] == "" or (r["status"] == "converged" and r["verdict"] == "identified")
    summary = (out / "summary.md").read_text()
    assert "| shape | fits | converged | identified rates | covered | coverage (95 % CI) | median s per fit |" in summary
    for shape in coverage.SHAPES:
        assert f"| {shape} | 1 |" in summary
    assert "[4/4]" in done.stderr
