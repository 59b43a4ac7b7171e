"""Tests for scripts/flow_patterns.py on a tiny synthetic run folder.

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

SCRIPT = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "flow_patterns.py")

sys.dont_write_bytecode = True  # no scripts/__pycache__ from importing the script
_spec = importlib.util.spec_from_file_location("flow_patterns", SCRIPT)
fp = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(fp)

HEADER = ["arm", "step", "time_years", "quantity", "level", "from_level", "to_level", "replications",
          "mean", "mcse", "ci_low", "ci_high", "p2_5", "p5", "p25", "p50", "p75", "p95", "p97_5"]
STEPS = 24  # two years of monthly steps

# Monthly flows of the level "Mid" per arm: inflow(step), outflow(step).
FLOWS = {
    "flat": (lambda s: 10.0, lambda s: 8.0),
    "rising": (lambda s: float(s), lambda s: 2.0),
}
# Their yearly totals, by hand: flat 12 x 10 and 12 x 8; rising 1+...+12 = 78 and 13+...+24 = 222.
YEARLY = {"flat": {"inflow": [120.0, 120.0], "outflow": [96.0, 96.0]},
          "rising": {"inflow": [78.0, 222.0], "outflow": [24.0, 24.0]}}


def row(arm, step, quantity, level, mean, spread=4.0, n=3, mcse=1.0):
    return [arm, step, step / 12, quantity, level, "", "", n, mean, mcse, mean - 2 * mcse, mean + 2 * mcse,
            mean - spread, mean - 0.8 * spread, mean - 0.3 * spread, mean, mean + 0.3 * spread,
            mean + 0.8 * spread, mean + spread]


def stock_path(arm, step):
    """Stock of Mid: starts at 100 and follows inflow - outflow."""
    inflow, outflow = FLOWS[arm]
    return 100.0 + sum(inflow(s) - outflow(s) for s in range(1, step + 1))


def make_run(folder, arms=("flat", "rising")):
    os.makedirs(folder, exist_ok=True)
    rows = []
    for arm in arms:
        inflow, outflow = FLOWS[arm]
        for step in range(STEPS + 1):
            for level in ("Low", "Mid"):
                rows.append(row(arm, step, "stock", level, stock_path(arm, step) if level == "Mid" else 500.0))
            if step:
                rows.append(row(arm, step, "inflow", "Mid", inflow(step)))
                rows.append(row(arm, step, "outflow", "Mid", outflow(step)))
                rows.append(row(arm, step, "inflow", "Low", 999.0))  # another level: must be ignored
    for arm in arms[1:]:
        for step in range(STEPS + 1):
            d = stock_path(arm, step) - stock_path(arms[0], step)
            rows.append(row(arm, step, "delta_stock", "Mid", d, mcse=0.5 if step else 0.0))
            rows.append(row(arm, step, "delta_inflow", "Mid", 1e6))  # delta_ flows: must be ignored
    with open(os.path.join(folder, "bands.csv"), "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(HEADER)
        w.writerows(rows)
    with open(os.path.join(folder, "manifest.json"), "w") as f:
        json.dump({"tool": "girfec", "version": "0.1.0", "seed": "7", "replications": 3,
                   "format": "girfec-output-folder/1",
                   "scenario": {"name": "Synthetic", "arms": list(arms), "levels": ["Low", "Mid"],
                                "stepMonths": 1, "steps": STEPS}}, f)
    return folder


def make_replication_flows(folder, arms=("flat", "rising"), shift=0.0):
    """Three replications whose monthly flows are the run's mean -1, +0, +1 (+ shift)."""
    os.makedirs(folder, exist_ok=True)
    for rep, offset in enumerate((-1.0, 0.0, 1.0)):
        with open(os.path.join(folder, f"rep-{rep:04d}.csv"), "w", newline="") as f:
            w = csv.writer(f, lineterminator="\n")
            w.writerow(HEADER)
            for arm in arms:
                inflow, outflow = FLOWS[arm]
                for step in range(1, STEPS + 1):
                    w.writerow(row(arm, step, "inflow", "Mid", inflow(step) + offset + shift, n=1))
                    w.writerow(row(arm, step, "outflow", "Mid", outflow(step) + offset, n=1))
    return folder


def run_script(*args):
    return subprocess.run([sys.executable, SCRIPT, *map(str, args)], capture_output=True, text=True, timeout=300)


def check_png(path):
    with open(path, "rb") as f:
        data = f.read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path}: not a PNG"
    width, height = struct.unpack(">II", data[16:24])
    assert width > 500 and height > 300, f"{path}: {width}x{height}"
    assert b"IEND" in data[-12:], f"{path}: truncated"


# ---------------------------------------------------------------------------
# The computations


def test_yearly_totals_by_hand():
    assert fp.yearly_totals({s: float(s) for s in range(1, 25)}) == [78.0, 222.0]
    # quarterly steps: 4 a year
    assert fp.yearly_totals({1: 1.0, 2: 2.0, 3: 3.0, 4: 4.0, 5: 10.0, 6: 10.0, 7: 10.0, 8: 10.0},
                            step_months=3) == [10.0, 40.0]
    # step 0 (the start) is not a flow and is ignored
    assert fp.yearly_totals({0: 1e9, **{s: 1.0 for s in range(1, 13)}}) == [12.0]


def test_yearly_totals_refuses_gaps_and_part_years():
    with pytest.raises(ValueError, match="missing step"):
        fp.yearly_totals({s: 1.0 for s in range(1, 25) if s != 17})
    with pytest.raises(ValueError, match="whole year"):
        fp.yearly_totals({s: 1.0 for s in range(1, 19)})
    with pytest.raises(ValueError):
        fp.steps_per_year(5)


def test_flow_totals_from_bands_rows(tmp_path):
    run = make_run(tmp_path / "run")
    bands = fp.read_level_rows(os.path.join(run, "bands.csv"), "Mid", ("inflow", "outflow"))
    for arm, want in YEARLY.items():
        got = fp.flow_totals(bands, arm, "Mid")
        assert got == want, arm
    with pytest.raises(KeyError):
        fp.flow_totals(bands, "no-such-arm", "Mid")


def test_trend_percentiles_and_describe():
    assert fp.trend([1.0, 3.0, 5.0, 7.0]) == pytest.approx(2.0)
    assert fp.trend([4.0, 4.0, 4.0]) == pytest.approx(0.0)
    assert math.isnan(fp.trend([1.0]))
    v = sorted(float(i) for i in range(1, 201))  # 1..200
    assert fp.sample_quantile(v, 0.025) == pytest.approx(5.975)    # h = 0.025 * 199 = 4.975: v[4] + 0.975
    assert fp.sample_quantile(v, 0.975) == pytest.approx(195.025)  # h = 194.025: v[194] + 0.025
    assert fp.sample_quantile([3.0], 0.5) == 3.0
    d = fp.describe([1.0, 2.0, 3.0])
    assert d["mean"] == pytest.approx(2.0)
    # t(0.975, 2) = 4.303; sd 1; half-width 4.303 / sqrt(3)
    assert d["ci_high"] - d["mean"] == pytest.approx(4.302653 / math.sqrt(3), rel=1e-6)
    assert fp.t_quantile_975(199) == pytest.approx(1.971957, abs=1e-6)
    assert fp.t_quantile_975(1) == pytest.approx(12.706205, abs=1e-6)


# ---------------------------------------------------------------------------
# The script end to end


def test_figure_and_summary_with_replication_bands(tmp_path):
    run = make_run(tmp_path / "run")
    reps = make_replication_flows(tmp_path / "reps")
    png, summary = tmp_path / "out" / "fig.png", tmp_path / "summary.csv"
    os.makedirs(png.parent)
    result = run_script(run, "--level", "Mid", "--replication-flows", reps, "--out", png, "--summary", summary)
    assert result.returncode == 0, result.stderr
    check_png(png)
    with open(summary, newline="") as f:
        rows = {(r["arm"], r["year"], r["quantity"]): r for r in csv.DictReader(f)}
    assert float(rows[("rising", "2", "inflow_per_year")]["mean"]) == 222.0
    assert float(rows[("flat", "1", "outflow_per_year")]["mean"]) == 96.0
    # replications are the monthly means -1, 0, +1: yearly totals mean -12, mean, mean +12
    r = rows[("rising", "1", "inflow_per_year")]
    # type 7 over 66, 78, 90: h = 2 * 0.025 = 0.05 -> 66 + 0.05 * 12; h = 1.95 -> 78 + 0.95 * 12
    assert (float(r["p2_5"]), float(r["p97_5"])) == pytest.approx((66.6, 89.4))
    assert float(rows[("rising", "1-2", "inflow_trend_per_year")]["mean"]) == 144.0
    assert float(rows[("flat", "2", "stock_end_of_year")]["mean"]) == stock_path("flat", 24)
    assert "within" in result.stdout


def test_means_only_without_replication_flows(tmp_path):
    run = make_run(tmp_path / "run")
    result = run_script(run, "--level", "Mid")
    assert result.returncode == 0, result.stderr
    check_png(os.path.join(run, "flow_patterns.png"))


def test_replications_that_are_not_the_run_are_refused(tmp_path):
    run = make_run(tmp_path / "run")
    reps = make_replication_flows(tmp_path / "reps", shift=0.5)  # 6 more children a year than the run says
    result = run_script(run, "--level", "Mid", "--replication-flows", reps, "--out", tmp_path / "f.png")
    assert result.returncode == 1
    assert "not the same replications" in result.stderr
    assert not (tmp_path / "f.png").exists()


def test_missing_level_and_missing_folder(tmp_path):
    run = make_run(tmp_path / "run")
    result = run_script(run, "--level", "Nowhere")
    assert result.returncode == 1 and "no stock, inflow or outflow rows" in result.stderr
    result = run_script(tmp_path / "absent")
    assert result.returncode == 1 and "not a folder" in result.stderr
