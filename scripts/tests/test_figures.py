"""Tests for scripts/figures.py: run it on small synthetic run folders.

Run from the repository root: python3 -m pytest scripts/tests -q
Needs matplotlib (scripts/install-python-deps.sh) and pytest.
"""
import csv
import importlib.util
import json
import math
import os
import struct
import subprocess
import sys

import pytest

SCRIPT = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "figures.py")

sys.dont_write_bytecode = True  # no scripts/__pycache__ from importing the script
_spec = importlib.util.spec_from_file_location("figures", SCRIPT)
figures = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(figures)

pytest.importorskip("matplotlib")

BANDS_HEADER = ["arm", "step", "time_years", "quantity", "level", "from_level", "to_level", "replications",
                "mean", "mcse", "ci_low", "ci_high", "p2_5", "p5", "p25", "p50", "p75", "p95", "p97_5"]
ALL_FIGURES = ["stocks", "costs_qol", "flows", "escalation", "budget", "level_High", "length_of_stay", "ce_plane",
               "ceac"]
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


# ---------------------------------------------------------------------------
# Synthetic run folders


def band_row(arm, step, step_months, quantity, level, mean, spread, from_level="", to_level="", n=5,
             undefined=False):
    """A bands.csv row with percentiles spread symmetrically around `mean`."""
    if undefined:  # e.g. no child left the level in any replication
        stats = [""] * 11
    else:
        s = spread
        stats = [mean, s / 3, mean - s / 2, mean + s / 2,
                 mean - 2 * s, mean - 1.6 * s, mean - 0.7 * s, mean, mean + 0.7 * s, mean + 1.6 * s, mean + 2 * s]
    return [arm, step, step * step_months / 12, quantity, level, from_level, to_level, n] + stats


def make_run(folder, arms=("baseline", "programme"), levels=("Low", "Mid", "High"), steps=6, step_months=12,
             replications=5, aggregate=False, inflow=True, length_of_stay=True, manifest=True,
             replications_csv=True):
    """Write a small, internally consistent-looking run folder and return its path."""
    os.makedirs(folder, exist_ok=True)
    rows = []
    effect = {arm: 1.0 - 0.05 * i for i, arm in enumerate(arms)}  # later arms: fewer children escalate

    def values(arm):
        """Per-arm quantities per step, as functions of the step."""
        e = effect[arm]
        stock = {lvl: (lambda t, i=i: 1000 / (i + 1) * (1 + 0.02 * t * (e if i else 2 - e))) for i, lvl in
                 enumerate(levels)}
        return stock, e

    for block in ("arms", "delta"):
        for arm in (arms if block == "arms" else arms[1:]):
            stock, e = values(arm)
            prefix = "" if block == "arms" else "delta_"
            first_stock, e0 = values(arms[0])
            for t in range(steps + 1):
                def put(q, level, mean, spread, fr="", to="", undefined=False, first_mean=None):
                    if block == "delta":
                        mean = mean - first_mean
                    rows.append(band_row(arm, t, step_months, prefix + q, level, mean, spread, fr, to,
                                         n=replications, undefined=undefined))

                for lvl in levels:
                    put("stock", lvl, stock[lvl](t), 20, first_mean=first_stock[lvl](t))
                put("stock", "all", sum(f(t) for f in stock.values()), 30,
                    first_mean=sum(f(t) for f in first_stock.values()))
                cum_cost = 1e6 * t * (3 - e) - (0 if arm == arms[0] else 0.2e6 * (t - 2) ** 2 * (t > 2))
                cum_cost0 = 1e6 * t * (3 - e0)
                put("cumulative_cost_discounted", "all", cum_cost, 2e5, first_mean=cum_cost0)
                put("cumulative_qol_years_discounted", "all", 800 * t * (2 - e), 15,
                    first_mean=800 * t * (2 - e0))
                if t == 0:
                    continue
                for i, a in enumerate(levels):
                    for j, b in enumerate(levels):
                        if i != j:
                            put("flow", "", 10 * e / (1 + abs(i - j)), 3, fr=a, to=b,
                                first_mean=10 * e0 / (1 + abs(i - j)))
                for q in ("entries", "exits"):
                    for lvl in levels + ("all",):
                        put(q, lvl, 5.0, 2, first_mean=5.0)
                for lvl in levels:
                    put("cost", lvl, 1e5 * (3 - e), 1e4, first_mean=1e5 * (3 - e0))
                    if inflow:
                        put("inflow", lvl, 25 * e, 5, first_mean=25 * e0)
                        put("outflow", lvl, 24 * e, 5, first_mean=24 * e0)
                    if length_of_stay:
                        put("length_of_stay_years", lvl, min(t, 2.5), 0.4, undefined=(t == 3 and lvl == levels[-1]),
                            first_mean=min(t, 2.5))
    with open(os.path.join(folder, "bands.csv"), "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(BANDS_HEADER)
        w.writerows(rows)

    if replications_csv:
        with open(os.path.join(folder, "replications.csv"), "w", newline="") as f:
            w = csv.writer(f, lineterminator="\n")
            w.writerow(["replication", "arm", "children_ever", "cost_discounted", "qol_years_discounted",
                        "delta_cost_discounted", "delta_qol_years_discounted"])
            for r in range(replications):
                base_cost, base_qol = 5e6 + 1e5 * r, 4000 + 10 * r
                for i, arm in enumerate(arms):
                    d_cost = 0 if i == 0 else (-2e5 + 1e5 * r) * i
                    d_qol = 0 if i == 0 else (3 - r) * i
                    w.writerow([r, arm, 1000, base_cost + d_cost, base_qol + d_qol, d_cost, d_qol])

    if aggregate:
        with open(os.path.join(folder, "aggregate.csv"), "w", newline="") as f:
            w = csv.writer(f, lineterminator="\n")
            w.writerow(["arm", "step", "time_years", "quantity", "level", "from_level", "to_level", "value", "mode"])
            for row in rows:
                if not row[3].startswith("delta_"):
                    w.writerow(row[:7] + [row[8] * 1.01 if row[8] != "" else "", "cohort/meanField"])

    if manifest:
        with open(os.path.join(folder, "manifest.json"), "w") as f:
            json.dump({"tool": "girfec", "version": "9.9.9", "seed": "42", "replications": replications,
                       "complete": True,
                       "format": "girfec-output-folder/1",
                       "scenario": {"name": "Synthetic test scenario", "arms": list(arms), "levels": list(levels),
                                    "stepMonths": step_months, "steps": steps}}, f)
    return folder


def run_script(*args):
    return subprocess.run([sys.executable, SCRIPT, *map(str, args)], capture_output=True, text=True, timeout=300)


def check_png(path):
    with open(path, "rb") as f:
        data = f.read()
    assert data[:8] == PNG_MAGIC, f"{path}: not a PNG"
    assert data[12:16] == b"IHDR", f"{path}: no IHDR chunk"
    width, height = struct.unpack(">II", data[16:24])
    assert width > 200 and height > 200, f"{path}: {width}x{height}"
    assert b"IEND" in data[-12:], f"{path}: truncated (no IEND)"


def check_pdf(path):
    with open(path, "rb") as f:
        data = f.read()
    assert data[:5] == b"%PDF-", f"{path}: not a PDF"
    assert b"%%EOF" in data[-32:], f"{path}: truncated (no %%EOF)"
    assert len(data) > 1000


def check_figures(folder, names, formats=("png", "pdf")):
    for name in names:
        for fmt in formats:
            path = os.path.join(folder, f"{name}.{fmt}")
            assert os.path.isfile(path), f"missing {path}"
            assert os.path.getsize(path) > 0
            {"png": check_png, "pdf": check_pdf}[fmt](path)


# ---------------------------------------------------------------------------
# Figures from whole folders


def test_two_arms_with_aggregate(tmp_path):
    run = make_run(tmp_path / "run", aggregate=True)
    result = run_script(run)
    assert result.returncode == 0, result.stderr
    check_figures(run / "figures", ALL_FIGURES)
    assert "aggregate" not in result.stderr  # no "no aggregate.csv" note
    printed = result.stdout.split()
    assert len(printed) == 3 * len(ALL_FIGURES) and all(os.path.isfile(p) for p in printed)
    assert sorted(p for p in printed if p.endswith(".caption.txt")) == \
        sorted(str(run / "figures" / f"{n}.caption.txt") for n in ALL_FIGURES)


def test_two_arms_without_aggregate_or_inflow(tmp_path):
    """Older run folders: no aggregate.csv, no inflow/outflow/length_of_stay rows."""
    run = make_run(tmp_path / "run", inflow=False, length_of_stay=False)
    out = tmp_path / "figs"
    result = run_script(run, "--out", out)
    assert result.returncode == 0, result.stderr
    expected = [n for n in ALL_FIGURES if n != "length_of_stay"]
    check_figures(out, expected)
    assert not (out / "length_of_stay.png").exists()
    assert not (run / "figures").exists()
    assert "no aggregate.csv" in result.stderr
    assert "flow, entries and exits" in result.stderr


def test_one_arm(tmp_path):
    run = make_run(tmp_path / "run", arms=("only",), aggregate=True, replications_csv=False)
    result = run_script(run)
    assert result.returncode == 0, result.stderr
    check_figures(run / "figures", ["stocks", "costs_qol", "flows", "escalation", "budget", "level_High",
                                    "length_of_stay"])
    assert not (run / "figures" / "ce_plane.png").exists()
    assert not (run / "figures" / "ceac.png").exists()
    assert "one arm" in result.stderr


def test_three_arms_and_formats(tmp_path):
    run = make_run(tmp_path / "run", arms=("a", "b", "c"), levels=("L1", "L2", "L3", "L4", "L5"), steps=4)
    result = run_script(run, "--format", "png", "--wtp-max", "50000")
    assert result.returncode == 0, result.stderr
    check_figures(run / "figures", [n.replace("High", "L5") for n in ALL_FIGURES], formats=("png",))
    assert not list((run / "figures").glob("*.pdf"))


def test_missing_bands_csv(tmp_path):
    run = make_run(tmp_path / "run")
    os.remove(run / "bands.csv")
    result = run_script(run)
    assert result.returncode != 0
    assert "bands.csv" in result.stderr and "not found" in result.stderr
    assert "Traceback" not in result.stderr


def test_missing_replications_csv(tmp_path):
    run = make_run(tmp_path / "run", replications_csv=False)
    result = run_script(run)
    assert result.returncode != 0
    assert "replications.csv" in result.stderr and "Traceback" not in result.stderr


def test_missing_manifest(tmp_path):
    run = make_run(tmp_path / "run", manifest=False)
    result = run_script(run)
    assert result.returncode != 0
    assert "manifest.json" in result.stderr and "Traceback" not in result.stderr


def test_wrong_columns(tmp_path):
    run = make_run(tmp_path / "run")
    with open(run / "bands.csv", "w") as f:
        f.write("arm,step,quantity,value\nbaseline,0,stock,1\n")
    result = run_script(run)
    assert result.returncode != 0
    assert "bands.csv" in result.stderr and "time_years" in result.stderr and "p97_5" in result.stderr
    assert "Traceback" not in result.stderr


def test_not_a_number(tmp_path):
    run = make_run(tmp_path / "run")
    with open(run / "replications.csv", "a") as f:
        f.write("9,programme,1000,1,1,abc,1\n")
    result = run_script(run)
    assert result.returncode != 0
    assert "replications.csv" in result.stderr and "delta_cost_discounted" in result.stderr


def test_bad_format_option(tmp_path):
    run = make_run(tmp_path / "run")
    result = run_script(run, "--format", "png,gif")
    assert result.returncode == 2 and "gif" in result.stderr


# ---------------------------------------------------------------------------
# The numbers behind the figures


def test_ceac_matches_hand_computation():
    # NMB = λ·ΔQoL − Δcost for four replications:
    #   λ = 0:      −1000,   500,  3000, −100  -> 2 of 4 positive
    #   λ = 500:     −500,  1500,  2500,  150  -> 3 of 4
    #   λ = 1000:       0,  2500,  2000,  400  -> 3 of 4 (0 is not > 0)
    #   λ = 5000:    4000, 10500, −2000, 2400  -> 3 of 4
    delta_qol = [1.0, 2.0, -1.0, 0.5]
    delta_cost = [1000.0, -500.0, -3000.0, 100.0]
    assert figures.ceac(delta_qol, delta_cost, [0, 500, 1000, 5000]) == [0.5, 0.75, 0.75, 0.75]
    assert figures.nmb(2.0, -500.0, 1000) == 2500.0
    # a dominant programme (cheaper and better in every replication) is cost-effective at any λ
    assert figures.ceac([1, 2], [-1, -2], figures.wtp_grid(100000, 11)) == [1.0] * 11


def test_ceac_from_script_data(tmp_path):
    """The CEAC uses replications.csv's paired differences of the later arm."""
    run = figures.RunFolder(str(make_run(tmp_path / "run")))
    d = run.replications_by_arm["programme"]
    # synthetic replications r = 0..4: Δcost = −2e5 + 1e5·r, ΔQoL = 3 − r
    assert d["delta_cost"] == [-2e5, -1e5, 0, 1e5, 2e5]
    assert d["delta_qol"] == [3, 2, 1, 0, -1]
    # λ = 0: NMB = −Δcost > 0 for r = 0, 1 -> 0.4; λ = 1e5: NMB = 1e5(3 − r) + 2e5 − 1e5 r = 5e5 − 2e5 r > 0 for r ≤ 2
    assert figures.ceac(d["delta_qol"], d["delta_cost"], [0, 1e5]) == [0.4, 0.6]
    assert figures.share_cheaper_and_better(d["delta_qol"], d["delta_cost"]) == 0.4


def test_wtp_grid():
    grid = figures.wtp_grid(100000)
    assert grid[0] == 0 and grid[-1] == 100000 and len(grid) == 201


def test_break_even_time():
    times = [0, 1, 2, 3, 4]
    assert figures.break_even_time(times, [0, 2, 1, -1, -3]) == ("crosses", 2.5)
    assert figures.break_even_time(times, [0, -1, -2, -3, -4]) == ("never-above", None)
    assert figures.break_even_time(times, [0, 1, -1, 1, 2]) == ("not-reached", None)
    # a dip below zero that does not last: the break-even is the last crossing
    assert figures.break_even_time(times, [0, -1, 1, -1, -1]) == ("crosses", 2.5)


def test_inflow_fallback_adds_means(tmp_path):
    """Without inflow rows, inflow = entries + moves in, outflow = exits + moves out (means)."""
    run = figures.RunFolder(str(make_run(tmp_path / "run", inflow=False)))
    s = figures._summed_means(run, "baseline", "Low", "in", figures._BandSource(run, "baseline"))
    # entries 5 + flows from Mid (10/2) and High (10/3)
    assert all(math.isclose(v, 5 + 5 + 10 / 3) for v in s["mean"])
    s = figures._summed_means(run, "baseline", "Mid", "out", figures._BandSource(run, "baseline"))
    assert all(math.isclose(v, 5 + 5 + 5) for v in s["mean"])
    assert s.steps == list(range(1, 7))


def test_tick_labels():
    assert figures.thousands(12500) == "12,500"
    assert figures.thousands(-17.5) == "−17.5"
    assert figures.thousands(0.25) == "0.25"
    assert figures.thousands(-0.0) == "0"
