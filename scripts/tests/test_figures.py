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
             replications_csv=True, summary_csv=True, yearly=True, areas=()):
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
                put("programme_cost", "all", 2e4 * e, 1e3, first_mean=2e4 * e0)
                put("cost", "all", len(levels) * 1e5 * (3 - e) + 2e4 * e, 3e4,
                    first_mean=len(levels) * 1e5 * (3 - e0) + 2e4 * e0)
                moves = 10 * sum(1 / (1 + j - i) for i in range(len(levels)) for j in range(i + 1, len(levels)))
                put("escalations", "all", moves * e, 3, first_mean=moves * e0)
                put("step_downs", "all", moves * e, 3, first_mean=moves * e0)
    with open(os.path.join(folder, "bands.csv"), "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(BANDS_HEADER)
        w.writerows(rows)

    if yearly:
        write_yearly(folder, rows, step_months, areas)

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

    if summary_csv and len(arms) > 1:
        # cost-effectiveness as girfec writes it: the share cheaper and better and the acceptability curve
        # (values of the replications above: Δcost = (−2e5 + 1e5·r)·i, ΔQoL = (3 − r)·i, r = 0..4)
        with open(os.path.join(folder, "summary.csv"), "w", newline="") as f:
            w = csv.writer(f, lineterminator="\n")
            w.writerow(["arm", "comparator", "measure", "willingness_to_pay", "replications", "mean", "mcse",
                        "ci_low", "ci_high", "p2_5", "p50", "p97_5"])
            for arm in arms[1:]:
                w.writerow([arm, arms[0], "probability_win_win", "", replications, 0.4, 0.22, 0.12, 0.77, "", "", ""])
                for lam, p in ((0, 0.4), (50000, 0.6), (100000, 0.6)):
                    w.writerow([arm, arms[0], "probability_cost_effective", lam, replications, p, 0.22, p - 0.3,
                                p + 0.3, "", "", ""])

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


YEARLY_HEADER = ["arm", "area", "year", "start_years", "end_years", "quantity", "level", "from_level", "to_level",
                 "replications", "mean", "mcse", "ci_low", "ci_high", "p2_5", "p5", "p25", "p50", "p75", "p95",
                 "p97_5"]
STATES = ("stock", "children_reached", "cumulative_cost_discounted", "cumulative_qol_years_discounted")


def yearly_interval(mean):
    """The synthetic 95 % CI of a yearly row: asymmetric about the mean, so a figure drawing it is checkable."""
    return mean - 0.1 * abs(mean) - 1, mean + 0.05 * abs(mean) + 2


def write_yearly(folder, rows, step_months, areas=()):
    """bands-yearly.csv from the synthetic bands.csv rows: a year's total of each per-step quantity (its steps'
    means summed), the end-of-year value of a state; a step is in the year in which it ends. Each of `areas`
    gets rows of its own, area k's values (k + 1)/(k + 2) of all areas' (no programme cost rows)."""
    years = {}
    for arm, step, _t, q, level, fr, to, n, mean, *_ in rows:
        if step == 0 or q.endswith("length_of_stay_years") or mean == "":
            continue
        year = math.ceil(step * step_months / 12)
        key = (arm, year, q, level, fr, to)
        if q.replace("delta_", "") in STATES:
            years[key] = (n, mean, step)
        else:
            old = years.get(key, (n, 0.0, step))
            years[key] = (n, old[1] + mean, step)
    with open(os.path.join(folder, "bands-yearly.csv"), "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(YEARLY_HEADER)
        for area, share in [("all", 1.0)] + [(a, (k + 1) / (k + 2)) for k, a in enumerate(areas)]:
            for (arm, year, q, level, fr, to), (n, mean, _s) in years.items():
                if area != "all" and "programme_cost" in q:
                    continue
                low, high = yearly_interval(mean * share)
                w.writerow([arm, area, year, (year - 1) * 1.0, year * 1.0, q, level, fr, to, n, mean * share,
                            (high - low) / 4, low, high] + [mean * share] * 7)


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


def test_two_arms_without_aggregate_or_length_of_stay(tmp_path):
    """Older run folders: no aggregate.csv, no length_of_stay rows."""
    run = make_run(tmp_path / "run", length_of_stay=False)
    out = tmp_path / "figs"
    result = run_script(run, "--out", out)
    assert result.returncode == 0, result.stderr
    expected = [n for n in ALL_FIGURES if n != "length_of_stay"]
    check_figures(out, expected)
    assert not (out / "length_of_stay.png").exists()
    assert not (run / "figures").exists()
    assert "no aggregate.csv" in result.stderr


def test_without_bands_yearly_csv(tmp_path):
    """A folder from a girfec that did not write bands-yearly.csv: the yearly figures are skipped, each with a note
    naming the file; the others are drawn; asked for a yearly figure alone, a data error naming the file."""
    run = make_run(tmp_path / "run", yearly=False)
    result = run_script(run, "--format", "png")
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    path = str(run / "bands-yearly.csv")
    for name in ("flows", "escalation", "budget", "level"):
        assert f"note: {name} skipped: {path}: file not found; the yearly figures draw girfec's yearly totals " \
               f"from it (a folder from an older girfec: run it again)" in result.stderr, result.stderr
    check_figures(run / "figures", ["stocks", "costs_qol", "length_of_stay", "ce_plane", "ceac"], formats=("png",))
    assert not (run / "figures" / "flows.png").exists() and not (run / "figures" / "budget.png").exists()
    alone = run_script(run, "--only", "budget", "--out", tmp_path / "alone")
    assert alone.returncode == 1 and "Traceback" not in alone.stderr
    assert f"{path}: file not found" in alone.stderr and "no figure could be drawn" in alone.stderr


def test_bands_yearly_csv_with_a_bad_cell(tmp_path):
    run = make_run(tmp_path / "run")
    with open(run / "bands-yearly.csv", "a") as f:
        f.write("baseline,all,9,8,9,cost,Low,,,5,abc,1,1,1,1,1,1,1,1,1,1\n")
    result = run_script(run, "--only", "budget")
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "bands-yearly.csv" in result.stderr and "mean" in result.stderr and "abc" in result.stderr


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
    assert "£0 to £50,000 per QoL-year" in read_caption(run / "figures", "ceac")
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


def test_ceac_and_win_win_are_read_from_summary_csv(tmp_path):
    """The CEAC and the share cheaper and better are girfec's (summary.csv), not recomputed."""
    run = figures.RunFolder(str(make_run(tmp_path / "run")))
    d = run.replications_by_arm["programme"]
    # synthetic replications r = 0..4: Δcost = −2e5 + 1e5·r, ΔQoL = 3 − r (the CE plane's points)
    assert d["delta_cost"] == [-2e5, -1e5, 0, 1e5, 2e5]
    assert d["delta_qol"] == [3, 2, 1, 0, -1]
    points = figures.ceac_points(run, "programme")
    assert [p[:2] for p in points] == [(0, 0.4), (50000, 0.6), (100000, 0.6)]
    assert [p[2:] for p in points] == [pytest.approx((0.1, 0.7)), pytest.approx((0.3, 0.9)),
                                       pytest.approx((0.3, 0.9))]
    assert [p[0] for p in figures.ceac_points(run, "programme", wtp_max=50000)] == [0, 50000]
    assert figures.win_win(run, "programme") == (0.4, 5)
    assert figures.win_win(run, "baseline") is None


def test_all_arm_acceptability_and_frontier_are_read_from_their_files(tmp_path):
    """With incremental.csv and acceptability.csv, ceac shows every arm and the acceptability frontier and
    ce_frontier the efficiency frontier, as girfec computed them (not recomputed)."""
    run = make_run(tmp_path / "run", arms=("a", "b", "c"))
    (run / "incremental.csv").write_text(
        "arm,cost_discounted,qol_years_discounted,status,dominated_by,comparator,inc_cost,inc_qol_years,icer\n"
        "a,100,1,frontier,,,,,\n"
        "b,150,1.2,extendedly_dominated,a;c,,,,\n"
        "c,200,2,frontier,,a,100,1,100\n", encoding="utf-8")
    header = ("willingness_to_pay,arm,replications,expected_nmb,nmb_mcse,nmb_ci_low,nmb_ci_high,units,"
              "probability_best,on_frontier\n")
    rows = [(0, "a", 1, True), (0, "b", 0, False), (0, "c", 0, False),
            (100, "a", 0.5, True), (100, "b", 0.1, False), (100, "c", 0.4, False),
            (200, "a", 0.2, False), (200, "b", 0, False), (200, "c", 0.8, True)]
    (run / "acceptability.csv").write_text(header + "".join(
        f"{lam},{arm},5,0,1,-1,1,5,{p},{'true' if f else 'false'}\n" for lam, arm, p, f in rows), encoding="utf-8")
    folder = figures.RunFolder(str(run))
    curves, frontier = figures.acceptability_curves(folder)
    assert curves == {"a": [(0, 1), (100, 0.5), (200, 0.2)], "b": [(0, 0), (100, 0.1), (200, 0)],
                      "c": [(0, 0), (100, 0.4), (200, 0.8)]}
    assert frontier == [(0, "a", 1), (100, "a", 0.5), (200, "c", 0.8)]
    assert figures.frontier_switches(frontier) == [(0, "a"), (200, "c")]
    assert figures.acceptability_curves(folder, wtp_max=100)[1] == [(0, "a", 1), (100, "a", 0.5)]
    result = run_script(run, "--format", "png", "--only", "ce_frontier,ceac")
    assert result.returncode == 0, result.stderr
    check_figures(run / "figures", ["ce_frontier", "ceac"], formats=("png",))
    ceac = read_caption(run / "figures", "ceac")
    assert "acceptability curves of all 3 arms" in ceac and "(a from £0; c from £200, on the grid of λ)" in ceac
    assert "over 5 replications" in ceac
    frontier_caption = read_caption(run / "figures", "ce_frontier")
    assert "a → c (ICER £100 per QoL-year against a)" in frontier_caption
    assert "Off the frontier: b extendedly dominated by a mix of a and c." in frontier_caption


def test_without_summary_csv(tmp_path):
    run = make_run(tmp_path / "run", summary_csv=False)
    result = run_script(run, "--format", "png", "--only", "ce_plane,ceac")
    assert result.returncode == 0, result.stderr
    assert "ceac skipped: no summary.csv (girfec computes the acceptability curve there)" in result.stderr
    assert not (run / "figures" / "ceac.png").exists()
    assert "cheaper and better" not in read_caption(run / "figures", "ce_plane")


def test_break_even_time():
    times = [0, 1, 2, 3, 4]
    assert figures.break_even_time(times, [0, 2, 1, -1, -3]) == ("crosses", 2.5)
    assert figures.break_even_time(times, [0, -1, -2, -3, -4]) == ("never-above", None)
    assert figures.break_even_time(times, [0, 1, -1, 1, 2]) == ("not-reached", None)
    # a dip below zero that does not last: the break-even is the last crossing
    assert figures.break_even_time(times, [0, -1, 1, -1, -1]) == ("crosses", 2.5)


def test_tick_labels():
    assert figures.thousands(12500) == "12,500"
    assert figures.thousands(-17.5) == "−17.5"
    assert figures.thousands(0.25) == "0.25"
    assert figures.thousands(-0.0) == "0"


# ---------------------------------------------------------------------------
# Yearly totals, escalation and step-down, captions, sizes (issue 14 item 2)


def drawn(monkeypatch, folder, name, **kwargs):
    """(figure, caption, yearly file) of one yearly figure, drawn in memory from a run folder."""
    run = figures.RunFolder(str(folder))
    yearly = figures.YearlyBands(str(folder))
    kept = {}

    def keep(fig, _run, _folder, _name, _formats, caption):
        kept.update(fig=fig, caption=caption)
        return ["kept"]

    monkeypatch.setattr(figures, "save", keep)
    figures.style.apply()
    draw = {"flows": figures.fig_flows, "escalation": figures.fig_escalation, "budget": figures.fig_budget,
            "areas": figures.fig_areas}
    if name == "level":
        files, why = figures.fig_level(run, yearly, ["png"], str(folder), kwargs["level"])
    else:
        files, why = draw[name](run, yearly, ["png"], str(folder))
    assert files == ["kept"], why
    return kept["fig"], kept["caption"], yearly


def error_bars(ax):
    """(year, mean, CI low, CI high) of every error bar drawn in a panel, sorted; the year rounded (bars side by
    side are offset a little)."""
    out = []
    for c in ax.containers:
        if not hasattr(c, "has_yerr"):
            continue
        line, _caps, cols = c.lines
        xs, ys = line.get_xdata(), line.get_ydata()
        segments = cols[0].get_segments()
        for x, y, seg in zip(xs, ys, segments):
            if math.isnan(y):  # the legend's error-bar entry, drawn at NaN
                continue
            out.append((round(float(x)), float(y), float(min(seg[0][1], seg[1][1])),
                        float(max(seg[0][1], seg[1][1]))))
    return sorted(out)


def expected(rows, scale=1.0, sign=1):
    return sorted((r["year"], sign * r["mean"] / scale, *sorted((sign * r["ci_low"] / scale,
                                                                  sign * r["ci_high"] / scale))) for r in rows)


def test_flows_and_escalation_draw_bands_yearly_csv(tmp_path, monkeypatch):
    """Each yearly total drawn is the mean of its bands-yearly.csv row, its error bar that row's ci_low to ci_high
    (the synthetic interval is asymmetric, so a re-derived one would not match)."""
    folder = make_run(tmp_path / "run", steps=24, step_months=1)
    fig, caption, yearly = drawn(monkeypatch, folder, "flows")
    rows = fig.axes[0:2]  # level Low: arms, then the difference panel
    want = [r for arm in ("baseline", "programme") for q in ("inflow", "outflow") for r in yearly.get(arm, q, "Low")]
    assert len(want) == 8 and error_bars(rows[0]) == pytest.approx(expected(want))
    # programme's inflow in year 1: 12 synthetic months of 25·e, e = 0.95
    assert [b for b in error_bars(rows[0]) if b[0] == 1 and b[1] == pytest.approx(12 * 25 * 0.95)]
    delta = [r for q in ("inflow", "outflow") for r in yearly.get("programme", "delta_" + q, "Low")]
    assert error_bars(rows[1]) == pytest.approx(expected(delta))
    assert "from the inflow and outflow rows of bands-yearly.csv" in caption

    fig, caption, yearly = drawn(monkeypatch, folder, "escalation")
    up, down, diff = fig.axes[:3]
    assert error_bars(up) == pytest.approx(expected(yearly.get("baseline", "escalations", "all")
                                                    + yearly.get("programme", "escalations", "all")))
    assert error_bars(down) == pytest.approx(expected(yearly.get("baseline", "step_downs", "all")
                                                      + yearly.get("programme", "step_downs", "all")))
    assert error_bars(diff) == pytest.approx(expected(yearly.get("programme", "delta_escalations", "all")
                                                      + yearly.get("programme", "delta_step_downs", "all")))
    assert "escalations and step_downs rows of bands-yearly.csv" in caption


def test_budget_and_level_draw_bands_yearly_csv(tmp_path, monkeypatch):
    folder = make_run(tmp_path / "run", steps=24, step_months=1)
    fig, caption, yearly = drawn(monkeypatch, folder, "budget")
    baseline, programme, delta = fig.axes[:3]
    # the stacked bars are the levels' and programme's yearly means (£ million); the mark on top the total's CI
    parts = [r for lvl in ("Low", "Mid", "High") for r in yearly.get("baseline", "cost", lvl)]
    parts += yearly.get("baseline", "programme_cost", "all")
    assert sorted(p.get_height() for p in baseline.patches) == pytest.approx(sorted(r["mean"] / 1e6 for r in parts))
    assert error_bars(baseline) == pytest.approx(expected(yearly.get("baseline", "cost", "all"), 1e6))
    assert error_bars(programme) == pytest.approx(expected(yearly.get("programme", "cost", "all"), 1e6))
    want = [r for lvl in ("Low", "Mid", "High", "all") for r in yearly.get("programme", "delta_cost", lvl)]
    want += yearly.get("programme", "delta_programme_cost", "all")
    assert error_bars(delta) == pytest.approx(expected(want, 1e6))
    assert "cost and programme_cost rows of bands-yearly.csv" in caption

    fig, caption, yearly = drawn(monkeypatch, folder, "level", level="Mid")
    arm_panel = fig.axes[2]  # after the stock and length-of-stay panels
    want = expected(yearly.get("baseline", "inflow", "Mid")) + expected(yearly.get("baseline", "outflow", "Mid"),
                                                                        sign=-1)
    assert error_bars(arm_panel) == pytest.approx(sorted(want))
    assert "95 % confidence interval for the mean of each yearly inflow and outflow" in caption


def test_areas_draws_each_areas_rows_of_bands_yearly_csv(tmp_path, monkeypatch):
    """One column of panels per area: its stocks, escalations and step-downs, and cost, each the area's rows."""
    folder = make_run(tmp_path / "run", steps=24, step_months=1, areas=("north", "south"))
    fig, caption, yearly = drawn(monkeypatch, folder, "areas")
    assert yearly.areas == ["north", "south"]
    panels = [ax for ax in fig.axes if ax.get_visible()]
    for c, area in enumerate(("north", "south")):
        stock, moves, cost = panels[c], panels[2 + c], panels[4 + c]  # rows of panels, one column per area
        arms = ("baseline", "programme")
        assert error_bars(stock) == pytest.approx(expected([r for a in arms for r in yearly.get(a, "stock", "all", area=area)]))
        assert error_bars(moves) == pytest.approx(expected([r for a in arms for q in ("escalations", "step_downs")
                                                             for r in yearly.get(a, q, "all", area=area)]))
        assert error_bars(cost) == pytest.approx(expected([r for a in arms for r in yearly.get(a, "cost", "all", area=area)],
                                                          1e6))
        assert yearly.get("baseline", "cost", "all", area=area) != yearly.get("baseline", "cost", "all")
    assert "rows of each area in bands-yearly.csv" in caption and "programme's cost is authority-wide" in caption
    # one area (the synthetic run as written): no figure, and a reason
    files, why = figures.fig_areas(figures.RunFolder(str(folder)), figures.YearlyBands(str(tmp_path / "none")),
                                   ["png"], str(folder))
    assert files is None and "bands-yearly.csv: file not found" in why


def png_size(path):
    with open(path, "rb") as f:
        data = f.read(24)
    return struct.unpack(">II", data[16:24])


def read_caption(folder, name):
    with open(os.path.join(folder, f"{name}.caption.txt"), encoding="utf-8") as f:
        return f.read()


def test_captions_name_what_the_run_folder_holds(tmp_path):
    run = make_run(tmp_path / "run", aggregate=True)
    result = run_script(run, "--format", "png")
    assert result.returncode == 0, result.stderr
    with open(run / "manifest.json") as f:
        manifest = json.load(f)
    figs = run / "figures"
    for name in ALL_FIGURES:
        text = read_caption(figs, name)
        assert f"Scenario “{manifest['scenario']['name']}”" in text, name
        assert f"{manifest['replications']:,} replications, seed {manifest['seed']}" in text, name
        assert f"girfec {manifest['version']}" in text, name
    # the interval each figure draws, by name
    assert "2.5–97.5 % and 25–75 % of replications" in read_caption(figs, "stocks")
    assert "not confidence intervals for the mean" in read_caption(figs, "stocks")
    assert "95 % confidence interval for the mean" in read_caption(figs, "costs_qol")
    for name in ("flows", "escalation", "budget"):
        assert ("Error bars: the 95 % confidence interval for the mean of each yearly total (ci_low to ci_high in "
                "bands-yearly.csv, computed by girfec from the yearly totals of the 5 replications in "
                "replications-yearly.csv)") in read_caption(figs, name), name
        assert "sums of the per-step means" not in read_caption(figs, name)
    assert "95 % confidence interval for the mean of each yearly inflow and outflow" in read_caption(figs,
                                                                                                     "level_High")
    assert "Low < Mid < High" in read_caption(figs, "escalation")
    # no parameterUncertainty in this manifest: chance only, on the figure's caption (and title)
    for name in ("ce_plane", "ceac"):
        assert figures.NO_PARAMETER_UNCERTAINTY in read_caption(figs, name)
    # replications.csv: Δcost = −2e5 + 1e5·r, ΔQoL = 3 − r for r = 0..4: cheaper and better for r = 0, 1
    assert "programme: 40.0 % of 5" in read_caption(figs, "ce_plane")
    # the two definitions of length of stay, each named
    los = read_caption(figs, "length_of_stay")
    assert "mean completed stay of the children who left" in los and "divided by the outflow per year" in los


def test_caption_with_parameter_uncertainty(tmp_path):
    run = make_run(tmp_path / "run")
    with open(run / "manifest.json") as f:
        manifest = json.load(f)
    manifest["parameterUncertainty"] = {"drawn": True, "draws": 5, "replicationsPerDraw": 1}
    with open(run / "manifest.json", "w") as f:
        json.dump(manifest, f)
    result = run_script(run, "--format", "png")
    assert result.returncode == 0, result.stderr
    text = read_caption(run / "figures", "ce_plane")
    assert "Parameter uncertainty (5 parameter draws × 1 replication per draw) and Monte Carlo variation" in text
    assert figures.NO_PARAMETER_UNCERTAINTY not in text
    # drawn but switched off (--base-case): chance only
    manifest["parameterUncertainty"]["drawn"] = False
    assert figures.uncertainty_text(manifest) == figures.NO_PARAMETER_UNCERTAINTY
    assert figures.uncertainty_text({"parameterUncertainty": None}) == figures.NO_PARAMETER_UNCERTAINTY


def test_overlap_note():
    class Axes:
        def __init__(self, top):
            self.top = top

        def get_ylim(self):
            return (0.0, self.top)

    class Run:
        arms = ["a", "b"]

        def series(self, arm, quantity, level):
            s = figures.Series()
            for t, v in enumerate([0.0, 2.0, -3.0] if quantity.startswith("delta_") else [0.0, 500.0, 1000.0]):
                s.add(t, t, {"mean": v})
            return s

    # largest |Δ| = 3: under 1 % of a panel 1,000 high is 10, so the lines overlap; of a panel 100 high, they do not
    assert Run().series("a", "q", "all")["mean"][2] == 1000.0
    assert figures.overlap_note(Run(), "q", Axes(1000.0), 1.0, "QoL-years") == ["b within 3 QoL-years (0.3 %)"]
    assert figures.overlap_note(Run(), "q", Axes(100.0), 1.0, "QoL-years") == []


def test_level_option(tmp_path):
    run = make_run(tmp_path / "run")
    result = run_script(run, "--format", "png", "--level", "Mid")
    assert result.returncode == 0, result.stderr
    check_figures(run / "figures", ["level_Mid"], formats=("png",))
    assert not (run / "figures" / "level_High.png").exists()
    assert "One level, Mid" in read_caption(run / "figures", "level_Mid")
    bad = run_script(run, "--level", "Nowhere", "--out", tmp_path / "bad")
    assert bad.returncode == 2
    assert "--level Nowhere: no such level in bands.csv; expected one of Low, Mid, High" in bad.stderr
    assert "Traceback" not in bad.stderr and not (tmp_path / "bad").exists()


@pytest.mark.parametrize("width, mm", [("single", 85.0), ("double", 175.0)])
def test_journal_widths(tmp_path, width, mm):
    """At a journal width every PNG is at most that wide (and nearly that wide) at the dpi asked for."""
    run = make_run(tmp_path / "run", arms=("a", "b", "c"))
    result = run_script(run, "--width", width, "--dpi", "150", "--format", "png", "--format", "svg")
    assert result.returncode == 0, result.stderr
    limit = math.ceil(mm / 25.4 * 150) + 1
    for name in ALL_FIGURES:
        w, h = png_size(run / "figures" / f"{name}.png")
        assert 0.9 * limit <= w <= limit, (name, w, limit)
        with open(run / "figures" / f"{name}.svg", encoding="utf-8") as f:
            assert "<svg" in f.read(2000)


def test_dpi_and_font_size(tmp_path):
    run = make_run(tmp_path / "run")
    sizes = {}
    for dpi, font in ((100, 7), (200, 7), (100, 11)):
        out = tmp_path / f"f{dpi}-{font}"
        result = run_script(run, "--width", "single", "--dpi", dpi, "--font-size", font, "--format", "png",
                            "--out", out, "--only", "stocks")
        assert result.returncode == 0, result.stderr
        sizes[dpi, font] = png_size(out / "stocks.png")
        assert sorted(os.listdir(out)) == ["stocks.caption.txt", "stocks.png"]
    # twice the dpi: twice the pixels each way (to a pixel or two: the drawing's extent is rounded)
    assert abs(sizes[200, 7][0] - 2 * sizes[100, 7][0]) <= 3
    assert abs(sizes[200, 7][1] - 2 * sizes[100, 7][1]) <= 3
    # larger text at the same width: the same width, and taller (the legend and titles take more lines)
    assert abs(sizes[100, 11][0] - sizes[100, 7][0]) <= 3
    assert sizes[100, 11][1] > sizes[100, 7][1]


def test_bad_size_options(tmp_path):
    run = make_run(tmp_path / "run")
    result = run_script(run, "--width", "triple", "--font-size", "0", "--dpi", "10", "--format", "gif")
    assert result.returncode == 2
    only = run_script(run, "--only", "stocks,pie")
    assert only.returncode == 2 and "--only: unknown figure(s) pie; choose among stocks, costs_qol" in only.stderr
    for text in ("--format: unknown format(s) gif; choose among png, pdf, svg",
                 "--width: found 'triple'; expected single (85 mm) or double (175 mm)",
                 "--font-size: found 0; expected a size in points from 4 to 24",
                 "--dpi: found 10; expected dots per inch from 50 to 2400"):
        assert text in result.stderr, result.stderr
    assert not (run / "figures").exists()


def test_real_run_captions_match_its_files(tmp_path):
    """A small run of the default experiment: each caption's numbers are those of manifest.json and summary.csv."""
    from girfec_build import ROOT, girfec_binary

    out = tmp_path / "run"
    result = subprocess.run([girfec_binary(), "run", str(ROOT / "experiments/default/scenario.yaml"),
                             "--replications", "6", "--seed", "11", "--out", str(out), "--quiet"],
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    result = run_script(out, "--format", "pdf", "--width", "double")
    assert result.returncode == 0, result.stderr
    with open(out / "manifest.json") as f:
        manifest = json.load(f)
    names = ["stocks", "costs_qol", "flows", "escalation", "budget", "areas", "level_Compulsory", "length_of_stay",
             "ce_plane", "ceac"]
    check_figures(out / "figures", names, formats=("pdf",))
    for name in names:
        text = read_caption(out / "figures", name)
        assert (f"Scenario “{manifest['scenario']['name']}”; 6 replications, seed 11; "
                f"girfec {manifest['version']}.") in text, name
    assert "Universal < Additional < Intensive < Compulsory" in read_caption(out / "figures", "escalation")
    for name in ("flows", "escalation", "budget", "areas", "level_Compulsory"):
        assert "the yearly totals of the 6 replications in replications-yearly.csv" in read_caption(out / "figures",
                                                                                                     name), name
    assert figures.NO_PARAMETER_UNCERTAINTY in read_caption(out / "figures", "ce_plane")
    # the share cheaper and better drawn is girfec's probability_win_win (summary.csv), to the 0.1 % shown
    with open(out / "summary.csv", newline="") as f:
        win = next(r for r in csv.DictReader(f) if r["measure"] == "probability_win_win" and r["arm"] == "wm2u")
    assert f"wm2u: {100 * float(win['mean']):.1f} % of 6" in read_caption(out / "figures", "ce_plane")
