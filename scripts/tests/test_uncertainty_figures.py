"""Tests for scripts/uncertainty_figures.py: run it on small synthetic
sensitivity.csv, voi.csv and uncertainty.csv files.

Run from the repository root: python3 -m pytest scripts/tests -q
Needs matplotlib (scripts/install-python-deps.sh) and pytest.
"""
import csv
import json
import importlib.util
import math
import os
import struct
import subprocess
import sys

import pytest

SCRIPT = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "uncertainty_figures.py")

sys.dont_write_bytecode = True  # no scripts/__pycache__ from importing the script
_spec = importlib.util.spec_from_file_location("uncertainty_figures", SCRIPT)
uf = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(uf)

pytest.importorskip("matplotlib")

SENSITIVITY_HEADER = ["analysis", "name", "point", "parameter_1", "value_1", "parameter_2", "value_2", "bound",
                      "arm", "outcome", "replications", "mean", "mcse", "ci_low", "ci_high"]
VOI_HEADER = ["measure", "parameter_group", "parameters", "willingness_to_pay", "draws", "value", "optimal_arm"]
UNCERTAINTY_HEADER = ["arm", "outcome", "draws", "replications_per_draw", "mean", "total_variance",
                      "parameter_variance", "chance_variance", "parameter_share"]
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
ARMS = ("baseline", "programme")
COST = "levels.Intensive.costPerChildYear"
ESCALATION = "transitions.Universal.Targeted.rate"
EFFECT = "programme.effect"


# ---------------------------------------------------------------------------
# Synthetic files


def write_csv(path, header, rows):
    with open(path, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(header)
        w.writerows(rows)
    return path


def outcomes_of(arm):
    base = ["cost_discounted", "qol_years_discounted"]
    if arm == ARMS[0]:
        return base
    return base + ["delta_cost_discounted", "delta_qol_years_discounted", "delta_net_benefit_20000",
                   "delta_net_benefit_30000"]


def model(outcome, cost=30000.0, escalation=0.1, effect=0.2):
    """A made-up smooth response of each outcome to three parameters."""
    d_cost = 2e6 * (1 - effect) - 1e7 * escalation * effect + 10 * (cost - 30000)
    d_qol = 500 * effect * (1 + escalation)
    return {"cost_discounted": 5e7 + 1000 * cost, "qol_years_discounted": 40000 - 1e4 * escalation,
            "delta_cost_discounted": d_cost, "delta_qol_years_discounted": d_qol,
            "delta_net_benefit_20000": 20000 * d_qol - d_cost,
            "delta_net_benefit_30000": 30000 * d_qol - d_cost}[outcome]


def sens_row(analysis, name, point, p1, v1, p2, v2, bound, arm, outcome, mean, n=20):
    half = 0.05 * abs(mean) + 1
    return [analysis, name, point, p1, v1, p2, v2, bound, arm, outcome, n, mean, half / 1.96, mean - half,
            mean + half]


def make_sensitivity(folder, twoway_size=(3, 4), sweep_points=6):
    rows = []
    for arm in ARMS:
        for o in outcomes_of(arm):
            rows.append(sens_row("base", "", 0, "", "", "", "", "", arm, o, model(o)))
            for name, path, lo, hi, key in (("Intensive cost", COST, 20000, 45000, "cost"),
                                            ("Escalation rate", ESCALATION, 0.05, 0.2, "escalation"),
                                            ("Programme effect", EFFECT, 0.1, 0.3, "effect")):
                for point, (bound, v) in enumerate((("low", lo), ("high", hi))):
                    rows.append(sens_row("oneWay", name, point, path, v, "", "", bound, arm, o,
                                         model(o, **{key: v})))
            nx, ny = twoway_size
            point = 0
            for i in range(nx):
                for j in range(ny):
                    esc, eff = 0.05 + 0.05 * i, 0.1 + 0.1 * j
                    rows.append(sens_row("twoWay", "escalation by effect", point, ESCALATION, esc, EFFECT, eff, "",
                                         arm, o, model(o, escalation=esc, effect=eff)))
                    point += 1
            for point in range(sweep_points):
                eff = 0.05 * point
                rows.append(sens_row("sweep", "effect/size", point, EFFECT, eff, "", "", "", arm, o,
                                     model(o, effect=eff)))
    return write_csv(os.path.join(folder, "sensitivity.csv"), SENSITIVITY_HEADER, rows)


def make_voi(folder, wtps=(0, 10000, 20000, 30000, 50000)):
    rows = []
    for w in wtps:
        rows.append(["evpi", "", "", w, 500, 1.2e6 + 20 * w, "programme" if w >= 20000 else "baseline"])
        rows.append(["evppi", "costs", f"{COST};levels.Targeted.costPerChildYear", w, 500, 3e5 + 5 * w, ""])
        rows.append(["evppi", "effect", EFFECT, w, 500, 8e5 + 12 * w, ""])
    return write_csv(os.path.join(folder, "voi.csv"), VOI_HEADER, rows)


def make_uncertainty(folder, split=True):
    rows = []
    for arm in ARMS:
        for o in outcomes_of(arm)[:4]:
            p, c = (3.0, 1.0) if "cost" in o else (1.0, 4.0)
            if split:
                rows.append([arm, o, 200, 10, model(o), p + c, p, c, p / (p + c)])
            else:
                rows.append([arm, o, 200, 1, model(o), p + c, "", "", ""])
    return write_csv(os.path.join(folder, "uncertainty.csv"), UNCERTAINTY_HEADER, rows)


def run_script(*args):
    return subprocess.run([sys.executable, SCRIPT, *map(str, args)], capture_output=True, text=True, timeout=300)


def check_png(path):
    assert os.path.isfile(path), f"missing {path}"
    with open(path, "rb") as f:
        data = f.read()
    assert data[:8] == PNG_MAGIC, f"{path}: not a PNG"
    assert data[12:16] == b"IHDR", f"{path}: no IHDR chunk"
    width, height = struct.unpack(">II", data[16:24])
    assert width > 200 and height > 200, f"{path}: {width}x{height}"
    assert b"IEND" in data[-12:], f"{path}: truncated (no IEND)"


def read_sensitivity_rows(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


# ---------------------------------------------------------------------------
# Whole folders


ALL_PNGS = ["tornado.png", "twoway-escalation_by_effect.png", "sweep-effect_size.png", "voi.png", "variance.png"]
ALL_CAPTIONS = [n.replace(".png", ".caption.txt") for n in ALL_PNGS]


def test_all_three_files(tmp_path):
    make_sensitivity(tmp_path)
    make_voi(tmp_path)
    make_uncertainty(tmp_path)
    result = run_script(tmp_path)
    assert result.returncode == 0, result.stderr
    for name in ALL_PNGS:
        check_png(tmp_path / "figures" / name)
    printed = result.stdout.split()
    assert sorted(os.path.basename(p) for p in printed) == sorted(ALL_PNGS + ALL_CAPTIONS)
    assert all(os.path.isfile(p) for p in printed)
    assert sorted(os.listdir(tmp_path / "figures")) == sorted(ALL_PNGS + ALL_CAPTIONS)


def test_only_voi_with_out_folder(tmp_path):
    make_voi(tmp_path)
    out = tmp_path / "elsewhere"
    result = run_script(tmp_path, "--out", out)
    assert result.returncode == 0, result.stderr
    check_png(out / "voi.png")
    assert sorted(os.listdir(out)) == ["voi.caption.txt", "voi.png"]
    assert not (tmp_path / "figures").exists()
    assert result.stdout.split() == [str(out / "voi.png"), str(out / "voi.caption.txt")]


def test_voi_single_willingness_to_pay_is_a_bar_chart(tmp_path):
    make_voi(tmp_path, wtps=(20000,))
    result = run_script(tmp_path)
    assert result.returncode == 0, result.stderr
    check_png(tmp_path / "figures" / "voi.png")


def test_large_grid_other_outcome_and_arm(tmp_path):
    """A 10 x 9 grid (no cell labels), a chosen non-delta outcome, the first arm."""
    make_sensitivity(tmp_path, twoway_size=(10, 9), sweep_points=40)
    result = run_script(tmp_path, "--outcome", "cost_discounted", "--arm", "baseline")
    assert result.returncode == 0, result.stderr
    for name in ALL_PNGS[:3]:
        check_png(tmp_path / "figures" / name)


def test_uncertainty_without_split_draws_nothing(tmp_path):
    make_uncertainty(tmp_path, split=False)
    result = run_script(tmp_path)
    assert result.returncode == 1
    assert "no figure could be drawn" in result.stderr and "split" in result.stderr
    assert "Traceback" not in result.stderr


def test_uncertainty_partly_split(tmp_path):
    make_uncertainty(tmp_path)
    with open(tmp_path / "uncertainty.csv", "a") as f:
        f.write("programme,delta_net_benefit_20000,200,1,5,9,,,\n")
    result = run_script(tmp_path)
    assert result.returncode == 0, result.stderr
    check_png(tmp_path / "figures" / "variance.png")


def test_uncertainty_with_unequal_draws(tmp_path):
    """replications_per_draw is a mean (girfec writes replications / draws): 161 over 81 draws is not whole."""
    make_uncertainty(tmp_path)
    with open(tmp_path / "uncertainty.csv", "a") as f:
        f.write("programme,delta_net_benefit_20000,81,1.9876543209876543,5,9,2,7,0.2222\n")
    result = run_script(tmp_path)
    assert result.returncode == 0, result.stderr
    check_png(tmp_path / "figures" / "variance.png")
    assert uf.read_uncertainty(str(tmp_path / "uncertainty.csv"))[-1]["replications_per_draw"] == 1.9876543209876543


# ---------------------------------------------------------------------------
# Usage errors: exit status 2


def test_missing_folder(tmp_path):
    result = run_script(tmp_path / "nowhere")
    assert result.returncode == 2
    assert "nowhere" in result.stderr and "not a folder" in result.stderr
    for name in ("sensitivity.csv", "voi.csv", "uncertainty.csv"):
        assert name in result.stderr
    assert "Traceback" not in result.stderr


def test_folder_without_known_files(tmp_path):
    (tmp_path / "bands.csv").write_text("arm,step\n")
    result = run_script(tmp_path)
    assert result.returncode == 2
    for name in ("sensitivity.csv", "voi.csv", "uncertainty.csv"):
        assert name in result.stderr
    assert not (tmp_path / "figures").exists()


def test_unknown_outcome_or_arm(tmp_path):
    make_sensitivity(tmp_path)
    result = run_script(tmp_path, "--outcome", "delta_net_benefit_99")
    assert result.returncode == 2
    assert "delta_net_benefit_99" in result.stderr and "delta_net_benefit_20000" in result.stderr
    # baseline (the first arm) has no delta outcomes
    result = run_script(tmp_path, "--outcome", "delta_cost_discounted", "--arm", "baseline")
    assert result.returncode == 2 and "programme" in result.stderr
    assert not (tmp_path / "figures").exists()


# ---------------------------------------------------------------------------
# Malformed files: exit status 1, naming file, row and column


def test_missing_column(tmp_path):
    make_voi(tmp_path)
    path = make_sensitivity(tmp_path)
    rows = list(csv.reader(open(path)))
    write_csv(path, [c for c in rows[0] if c != "ci_high"], [r[:-1] for r in rows[1:]])
    result = run_script(tmp_path)
    assert result.returncode == 1
    assert "sensitivity.csv" in result.stderr and "missing column" in result.stderr and "ci_high" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "figures").exists()  # checked before anything is drawn


def test_not_a_number(tmp_path):
    make_sensitivity(tmp_path)
    path = make_voi(tmp_path)
    rows = list(csv.reader(open(path)))
    rows[3][5] = "lots"  # data row 3, column value
    write_csv(path, rows[0], rows[1:])
    result = run_script(tmp_path)
    assert result.returncode == 1
    assert "voi.csv" in result.stderr and "row 3" in result.stderr and "'value'" in result.stderr
    assert "lots" in result.stderr and "Traceback" not in result.stderr


def test_bad_values_in_sensitivity(tmp_path):
    path = make_sensitivity(tmp_path)
    good = list(csv.reader(open(path)))
    cases = [(2, 0, "threeWay", "'analysis'"),  # row 2 is the first oneWay row
             (2, 7, "middle", "'bound'"),
             (2, 4, "", "'value_1'"),
             (5, 11, "nan?", "'mean'"),
             (5, 10, "2.5", "'replications'")]
    for row, col, text, column in cases:
        rows = [r[:] for r in good]
        rows[row][col] = text
        write_csv(path, rows[0], rows[1:])
        result = run_script(tmp_path)
        assert result.returncode == 1, (text, result.stdout)
        assert "sensitivity.csv" in result.stderr and f"row {row}" in result.stderr, result.stderr
        assert column in result.stderr, result.stderr
        assert "Traceback" not in result.stderr


def test_unpaired_one_way_entry(tmp_path):
    path = make_sensitivity(tmp_path)
    rows = list(csv.reader(open(path)))
    high = next(i for i, r in enumerate(rows) if r[0] == "oneWay" and r[7] == "high")
    del rows[high]
    write_csv(path, rows[0], rows[1:])
    result = run_script(tmp_path)
    assert result.returncode == 1
    assert "sensitivity.csv" in result.stderr and "no high row" in result.stderr


def test_too_many_cells_and_duplicates(tmp_path):
    path = make_uncertainty(tmp_path)
    with open(path, "a") as f:
        f.write("programme,cost_discounted,200,10,1,4,3,1,0.75,extra\n")
    result = run_script(tmp_path)
    assert result.returncode == 1 and "uncertainty.csv" in result.stderr and "cells" in result.stderr
    make_uncertainty(tmp_path)
    with open(path, "a") as f:
        f.write("programme,cost_discounted,200,10,1,4,3,1,0.75\n")
    result = run_script(tmp_path)
    assert result.returncode == 1 and "duplicate" in result.stderr and "line 8 (data row 7)" in result.stderr
    assert "same as line 4" in result.stderr


def test_empty_file(tmp_path):
    (tmp_path / "voi.csv").write_text("")
    result = run_script(tmp_path)
    assert result.returncode == 1 and "voi.csv" in result.stderr and "Traceback" not in result.stderr


# ---------------------------------------------------------------------------
# The numbers behind the figures


def one_way(name, bound, value, mean, arm="programme", outcome="delta_cost_discounted", ci=("", "")):
    return {"analysis": "oneWay", "name": name, "point": "0", "parameter_1": f"p.{name}", "value_1": str(value),
            "parameter_2": "", "value_2": "", "bound": bound, "arm": arm, "outcome": outcome, "replications": "10",
            "mean": str(mean), "mcse": "", "ci_low": ci[0], "ci_high": ci[1]}


def test_tornado_rows_by_hand():
    base = {"analysis": "base", "name": "", "point": "0", "parameter_1": "", "value_1": "", "parameter_2": "",
            "value_2": "", "bound": "", "arm": "programme", "outcome": "delta_cost_discounted", "replications": "10",
            "mean": "100", "mcse": "1", "ci_low": "98", "ci_high": "102"}
    rows = [base,
            one_way("a", "low", 1, 90), one_way("a", "high", 2, 120),  # width 30
            one_way("b", "high", 8, 50, ci=("40", "60")), one_way("b", "low", 4, 150),  # width 100, high first
            one_way("c", "low", 0.1, 101), one_way("c", "high", 0.2, 105),  # width 4, both above base
            one_way("d", "low", 3, 110), one_way("d", "high", 5, 80),  # width 30: tie with a, after it
            # other arm and outcome: ignored
            one_way("e", "low", 1, -1e9, arm="baseline"), one_way("e", "high", 1, 1e9, arm="baseline"),
            one_way("f", "low", 1, -1e9, outcome="delta_qol_years_discounted"),
            one_way("f", "high", 1, 1e9, outcome="delta_qol_years_discounted")]
    entries = uf.tornado_rows(rows, "delta_cost_discounted", "programme")
    assert [e.name for e in entries] == ["b", "a", "d", "c"]
    assert [e.width for e in entries] == [100, 30, 30, 4]
    b = entries[0]
    assert (b.low_value, b.high_value, b.low, b.high, b.base) == (4, 8, 150, 50, 100)
    assert b.parameter == "p.b"
    assert b.high_ci == (40, 60) and all(math.isnan(x) for x in b.low_ci)
    assert all(e.base == 100 for e in entries)
    # the same rows, in another order, give the same ranking of distinct widths
    shuffled = rows[::-1]
    assert [e.name for e in uf.tornado_rows(shuffled, "delta_cost_discounted", "programme")] == ["b", "d", "a", "c"]
    # no one-way rows for that pair: nothing to draw
    assert uf.tornado_rows(rows, "cost_discounted", "programme") == []
    with pytest.raises(ValueError, match="base"):
        uf.tornado_rows(rows[1:], "delta_cost_discounted", "programme")
    with pytest.raises(ValueError, match="'a'"):
        uf.tornado_rows(rows[:2], "delta_cost_discounted", "programme")


def test_tornado_rows_from_file(tmp_path):
    """Parsed rows of a synthetic file: one entry per oneWay name, widest first, base from the base row."""
    rows = uf.read_sensitivity(make_sensitivity(tmp_path))
    o = "delta_net_benefit_20000"
    entries = uf.tornado_rows(rows, o, "programme")
    assert [e.name for e in entries] == sorted(["Intensive cost", "Escalation rate", "Programme effect"],
                                               key=lambda n: -next(e.width for e in entries if e.name == n))
    widths = [e.width for e in entries]
    assert widths == sorted(widths, reverse=True) and len(set(widths)) == 3
    cost = next(e for e in entries if e.name == "Intensive cost")
    assert cost.parameter == COST and (cost.low_value, cost.high_value) == (20000, 45000)
    assert math.isclose(cost.low, model(o, cost=20000)) and math.isclose(cost.high, model(o, cost=45000))
    assert math.isclose(cost.base, model(o))


def test_default_outcome_and_arm(tmp_path):
    rows = uf.read_sensitivity(make_sensitivity(tmp_path))
    assert uf.choose(rows) == ("delta_net_benefit_20000", "programme")
    assert uf.choose(rows, outcome="cost_discounted") == ("cost_discounted", "baseline")
    no_nmb = [r for r in rows if not r["outcome"].startswith("delta_net_benefit")]
    assert uf.choose(no_nmb) == ("delta_cost_discounted", "programme")
    one_arm = [r for r in rows if r["arm"] == "baseline"]
    assert uf.choose(one_arm) == ("cost_discounted", "baseline")
    with pytest.raises(uf.UsageError):
        uf.choose(rows, outcome="delta_cost_discounted", arm="baseline")


def test_twoway_grid_and_sweep(tmp_path):
    rows = uf.read_sensitivity(make_sensitivity(tmp_path, twoway_size=(3, 4)))
    o = "delta_cost_discounted"
    p1, p2, xs, ys, means = uf.twoway_grid(rows, "escalation by effect", o, "programme")
    assert (p1, p2) == (ESCALATION, EFFECT)
    assert len(xs) == 3 and len(ys) == 4 and xs == sorted(xs) and ys == sorted(ys)
    assert math.isclose(means[2][1], model(o, escalation=xs[1], effect=ys[2]))
    assert uf.twoway_grid(rows, "no such grid", o, "programme") is None
    parameter, values, m, lo, hi = uf.sweep_series(rows[::-1], "effect/size", o, "programme")
    assert parameter == EFFECT and values == sorted(values) and len(values) == 6
    assert all(a < b < c for a, b, c in zip(lo, m, hi))


def test_variance_split():
    row = {"parameter_variance": "", "chance_variance": "", "parameter_share": "0.25"}
    assert uf.variance_split(row) == (0.25, 0.75, 0.25)
    assert uf.variance_split({"parameter_variance": "3", "chance_variance": "1", "parameter_share": ""}) == \
        (0.75, 0.25, 0.75)
    assert uf.variance_split({"parameter_variance": "", "chance_variance": "", "parameter_share": ""}) is None
    assert uf.variance_split({"parameter_variance": "-1", "chance_variance": "5", "parameter_share": "-0.25"}) == \
        (0.0, 1.0, -0.25)


def test_labels_and_names():
    assert uf.outcome_label("delta_net_benefit_20000", "baseline") == \
        ("Δ net monetary benefit vs baseline at £20,000 per QoL-year", "money")
    assert uf.axis_label("delta_cost_discounted", [2.5e6, -1e3])[0].endswith("(£ million)")
    assert uf.axis_label("cost_discounted", [2.5e5])[0].endswith("(£)")
    assert uf.axis_label("qol_years_discounted", [1e7])[0].endswith("(QoL-years)")
    assert uf.safe_name("effect/size by area") == "effect_size_by_area"
    assert uf.arm_runs([(0, "a"), (1, "a"), (2, "b"), (3, "a")]) == [("a", 0, 1), ("b", 2, 2), ("a", 3, 3)]
    assert uf.amount_text(0.8, "delta_net_benefit_20000", 1e6) == "£0.8 million"
    assert uf.amount_text(-12000, "cost_discounted", 1.0) == "−£12,000"
    assert uf.amount_text(3.5, "delta_qol_years_discounted", 1.0) == "3.5 QoL-years"


# ---------------------------------------------------------------------------
# Value of information with many groups, captions, sizes (issue 14 item 2)


def make_many_groups(folder, groups=25, wtps=(0, 10000, 20000, 30000, 50000)):
    """voi.csv with `groups` EVPPI groups: group g peaks at 1e6 / (g + 1), so group00 is the largest."""
    rows = []
    for w in wtps:
        rows.append(["evpi", "", "", w, 400, 2e6, "programme"])
        for g in range(groups):
            rows.append(["evppi", f"group{g:02d}", f"p.q{g}", w, 400, 1e6 / (g + 1) * (1 + w / 1e5), ""])
    return write_csv(os.path.join(folder, "voi.csv"), VOI_HEADER, rows)


def caption(folder, name):
    with open(os.path.join(folder, "figures", f"{name}.caption.txt"), encoding="utf-8") as f:
        return f.read()


def test_voi_draws_the_top_groups_and_names_the_rest(tmp_path):
    make_many_groups(tmp_path)
    ranked = uf.rank_groups(uf.read_voi(str(tmp_path / "voi.csv")))
    assert [g for g, _rs, _m in ranked] == [f"group{g:02d}" for g in range(25)]
    assert ranked[0][2] == pytest.approx(1.5e6)  # largest over λ: at λ = 50,000, 1e6 · 1.5
    result = run_script(tmp_path, "--top", "4")
    assert result.returncode == 0, result.stderr
    text = caption(tmp_path, "voi")
    assert "Drawn: the 4 parameter groups with the largest EVPPI (largest over λ): group00 (£1,500,000); " \
           "group01 (£750,000); group02 (£500,000); group03 (£375,000)." in text
    assert "The other 21 (thin grey lines), largest first: group04 (£300,000); group05 (£250,000);" in text
    assert "group24 (£60,000)." in text
    assert "400 parameter draws" in text and "Point estimates: no interval is drawn." in text
    # the default: 6 groups, each with its own colour, and line styles that differ from their neighbours'
    styles = [uf.voi_style(i) for i in range(uf.VOI_TOP)]
    assert len({c for c, _d in styles}) == uf.VOI_TOP
    assert all(styles[i][1] != styles[i + 1][1] for i in range(uf.VOI_TOP - 1))
    assert "black" not in [c for c, _d in styles]  # EVPI's


def test_voi_top_option_out_of_range(tmp_path):
    make_many_groups(tmp_path)
    for k in ("0", "7"):
        result = run_script(tmp_path, "--top", k)
        assert result.returncode == 2
        assert f"--top: found {k}; expected 1 to 6 (distinct colours)" in result.stderr


def test_captions_read_the_manifest(tmp_path):
    make_sensitivity(tmp_path)
    make_voi(tmp_path)
    make_uncertainty(tmp_path)
    with open(tmp_path / "manifest.json", "w") as f:
        json.dump({"format": "girfec-output-folder/1", "version": "9.9.9", "seed": "77", "replicationsPerPoint": 20,
                   "points": 12, "scenario": {"name": "Sensitivity check"}}, f)  # as `girfec sensitivity` writes
    result = run_script(tmp_path)
    assert result.returncode == 0, result.stderr
    for name in ALL_CAPTIONS:
        text = caption(tmp_path, name.replace(".caption.txt", ""))
        assert "Scenario “Sensitivity check”; 20 replications per point; seed 77; girfec 9.9.9." in text, name
    assert "95 % confidence interval for the mean (Monte Carlo) at each end" in caption(tmp_path, "tornado")
    assert "not the spread of replications" in caption(tmp_path, "sweep-effect_size")
    assert "random-effects analysis of variance" in caption(tmp_path, "variance")
    # without a manifest the captions say what the files hold, and no more
    os.remove(tmp_path / "manifest.json")
    assert run_script(tmp_path).returncode == 0
    assert "seed" not in caption(tmp_path, "tornado")


def test_formats_and_widths(tmp_path):
    make_voi(tmp_path)
    result = run_script(tmp_path, "--format", "svg,pdf", "--format", "png", "--width", "single", "--dpi", "120")
    assert result.returncode == 0, result.stderr
    names = sorted(os.listdir(tmp_path / "figures"))
    assert names == ["voi.caption.txt", "voi.pdf", "voi.png", "voi.svg"]
    with open(tmp_path / "figures" / "voi.png", "rb") as f:
        width = struct.unpack(">II", f.read(24)[16:24])[0]
    limit = math.ceil(85 / 25.4 * 120) + 1
    assert 0.9 * limit <= width <= limit
    bad = run_script(tmp_path, "--width", "wide")
    assert bad.returncode == 2 and "--width: found 'wide'; expected single (85 mm) or double (175 mm)" in bad.stderr
