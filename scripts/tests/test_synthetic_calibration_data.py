"""Tests for scripts/synthetic_calibration_data.py: the generator of synthetic calibration data.

Run from the repository root: python3 -m pytest scripts/tests -q
Standard library and pytest only.
"""
import csv
import datetime
import importlib.util
import io
import json
import math
import os
import subprocess
import sys

import pytest

SCRIPT = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "synthetic_calibration_data.py")
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

sys.dont_write_bytecode = True  # no scripts/__pycache__ from importing the script
_spec = importlib.util.spec_from_file_location("synthetic_calibration_data", SCRIPT)
gen = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(gen)

LEVELS = ["Low", "Mid", "High"]


def small_truth(**changes):
    """A three-level, two-area truth; `changes` replace top-level keys."""
    truth = {
        "description": "test truth",
        "levels": LEVELS,
        "start_date": "2015-07-31",
        "years": 4,
        "rates_per_year": {"Low": {"Mid": 0.2, "High": 0.02}, "Mid": {"Low": 0.5, "High": 0.15},
                           "High": {"Low": 0.05, "Mid": 0.6}},
        "exit_rate_per_year": {"Low": 0.06, "Mid": 0.08, "High": 0.1},
        "areas": {
            "north": {"initial_counts": {"Low": 900, "Mid": 300, "High": 100},
                      "entries_per_year": {"Low": 80, "Mid": 10}},
            "south": {"initial_counts": {"Low": 500, "High": 40}, "entries_per_year": {"Low": 40},
                      "rates_per_year": {"Low": {"Mid": 0.3}, "Mid": {"Low": 0.4}, "High": {"Mid": 0.5}}},
        },
        "panel": {"children": 60, "visits_per_child": [2, 6], "gap_days": [30, 400]},
    }
    truth.update(changes)
    return truth


def write_truth(folder, truth):
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, "truth.json")
    with open(path, "w") as f:
        json.dump(truth, f)
    return path


def run_script(*args):
    return subprocess.run([sys.executable, SCRIPT, *map(str, args)], capture_output=True, text=True, timeout=300)


def read_csv(text):
    return list(csv.DictReader(io.StringIO(text)))


def generate(truth, seed=1, path="truth.json"):
    return gen.generate(gen.Truth(json.loads(json.dumps(truth)), path), seed)


# ---------------------------------------------------------------------------
# The matrix exponential and the steady state


def test_expm_two_states_closed_form():
    # Q = [[−a, a], [b, −b]]: P_01(t) = a/(a+b)·(1 − e^{−(a+b)t}), P_10(t) = b/(a+b)·(1 − e^{−(a+b)t})
    a, b, t = 0.7, 2.3, 1.9
    p = gen.expm([[-a, a], [b, -b]], t)
    decay = 1 - math.exp(-(a + b) * t)
    assert math.isclose(p[0][1], a / (a + b) * decay, rel_tol=1e-12)
    assert math.isclose(p[1][0], b / (a + b) * decay, rel_tol=1e-12)
    assert all(math.isclose(sum(row), 1.0, rel_tol=1e-12) for row in p)


def test_expm_diagonal_and_zero():
    p = gen.expm([[-1.0, 0.0], [0.0, -3.0]], 2.0)
    assert math.isclose(p[0][0], math.exp(-2), rel_tol=1e-12) and math.isclose(p[1][1], math.exp(-6), rel_tol=1e-12)
    assert p[0][1] == 0.0
    assert gen.expm([[0.0, 0.0], [0.0, 0.0]]) == [[1.0, 0.0], [0.0, 1.0]]


def test_equilibrium_is_a_steady_state():
    truth = gen.Truth(small_truth(), "t.json")
    area = truth.areas[0]
    s = area.equilibrium()
    # dS/dt = S·(Q − diag μ) + λ = 0 at the steady state
    n = len(s)
    drift = [sum(s[i] * (area.q[i][j] - (area.mu[i] if i == j else 0)) for i in range(n)) + area.entries[j]
             for j in range(n)]
    assert max(abs(d) for d in drift) < 1e-9
    # and the exact expected stocks stay there
    later = area.expected_stocks(s, 5.0)
    assert all(math.isclose(x, y, rel_tol=1e-10) for x, y in zip(s, later))


def test_equilibrium_initial_counts_are_resolved_and_recorded():
    truth = small_truth()
    truth["areas"]["north"]["initial_counts"] = "equilibrium"
    files = generate(truth)
    written = json.loads(files["truth.json"])
    expected = [round(x) for x in gen.Truth(small_truth(), "t").areas[0].equilibrium()]
    assert list(written["generated"]["initial_counts"]["north"].values()) == expected
    first = [r for r in read_csv(files["stocks.csv"]) if r["date"] == "2015-07-31" and r["area"] == "north"]
    assert [int(r["count"]) for r in first] == expected


# ---------------------------------------------------------------------------
# The simulation against the truth


def test_flow_proportions_converge_to_exp_q():
    """With 90,000 children, each row of yearly flow proportions is within 5 binomial standard errors of exp(Q̃·Δt).

    Q̃ is the truth's generator with `exit` as an absorbing state and Δt the period in years
    (365 days / 365.25). The tolerance is far below the gap to the first-order guess I + Q̃·Δt, so a
    simulation that treated rates as yearly probabilities, or ignored competing risks, would fail.
    """
    truth = small_truth(years=1)
    truth["areas"] = {"only": {"initial_counts": {"Low": 40000, "Mid": 30000, "High": 20000},
                               "entries_per_year": {"Low": 500}}}
    del truth["panel"]
    t = gen.Truth(truth, "t.json")
    rows = read_csv(generate(truth, seed=7)["flows.csv"])
    dt = 365 / 365.25
    p = t.areas[0].period_probabilities(dt)
    names = LEVELS + ["exit"]
    telling = 0  # entries where the tolerance would reject the first-order guess I + Q̃·Δt
    for i, src in enumerate(LEVELS):
        counts = {r["to_level"]: int(r["count"]) for r in rows if r["from_level"] == src}
        n = sum(counts.values())
        assert n == truth["areas"]["only"]["initial_counts"][src]
        for j, dst in enumerate(names):
            observed = counts[dst] / n
            se = math.sqrt(p[i][j] * (1 - p[i][j]) / n)
            assert abs(observed - p[i][j]) <= 5 * se + 1e-12, (src, dst, observed, p[i][j])
            first_order = (1.0 if i == j else 0.0) + t.areas[0].extended_generator()[i][j] * dt
            telling += abs(first_order - p[i][j]) > 10 * se
    # the tolerance is tight enough to tell exp(Q̃·Δt) from I + Q̃·Δt in most entries
    assert telling >= 8


def test_stock_means_near_expected_path():
    """Mean stocks over 20 seeds are close to the exact expected path (the ODE of the truth)."""
    truth = small_truth()
    del truth["panel"]
    t = gen.Truth(truth, "t.json")
    sums = {}
    seeds = range(20)
    for seed in seeds:
        for r in read_csv(generate(truth, seed=seed)["stocks.csv"]):
            key = (r["date"], r["area"], r["level"])
            sums[key] = sums.get(key, 0) + int(r["count"])
    for a, area in enumerate(t.areas):
        for k, date in enumerate(t.census):
            expected = area.expected_stocks(area.initial, t.time_of(date))
            for lvl, level in enumerate(LEVELS):
                mean = sums[(date.isoformat(), area.name, level)] / len(seeds)
                # Poisson-like spread: sd ≤ √(expected + 1); the mean of 20 has sd ≤ √((e + 1)/20)
                assert abs(mean - expected[lvl]) <= 5 * math.sqrt((expected[lvl] + 1) / len(seeds)), \
                    (area.name, date, level, mean, expected[lvl])


def test_stocks_and_flows_conserve_children():
    files = generate(small_truth(years=5), seed=3)
    stocks = {(r["date"], r["area"], r["level"]): int(r["count"]) for r in read_csv(files["stocks.csv"])}
    flows = read_csv(files["flows.csv"])
    periods = sorted({(r["period_start"], r["period_end"]) for r in flows})
    assert len(periods) == 5
    for start, end in periods:
        for area in ("north", "south"):
            rows = [r for r in flows if (r["period_start"], r["period_end"], r["area"]) == (start, end, area)]
            assert len(rows) == (len(LEVELS) + 1) ** 2  # every combination, zeros included
            n = {(r["from_level"], r["to_level"]): int(r["count"]) for r in rows}
            entries = sum(v for (f, _), v in n.items() if f == "entry")
            exits = sum(v for (_, t), v in n.items() if t == "exit")
            before = sum(stocks[(start, area, lvl)] for lvl in LEVELS)
            after = sum(stocks[(end, area, lvl)] for lvl in LEVELS)
            assert after == before + entries - exits
            for lvl in LEVELS:  # level by level: rows out of a level sum to its stock at the start, ...
                assert sum(v for (f, _), v in n.items() if f == lvl) == stocks[(start, area, lvl)]
                # ... and columns into a level (from levels and entry) to its stock at the end
                assert sum(v for (_, t), v in n.items() if t == lvl) == stocks[(end, area, lvl)]
            assert sum(1 for (f, t) in n if f == t) == len(LEVELS)  # a stayers row for every level


def test_census_dates_and_flow_periods():
    files = generate(small_truth(flows={"last_periods": 2}))
    dates = sorted({r["date"] for r in read_csv(files["stocks.csv"])})
    assert dates == ["2015-07-31", "2016-07-31", "2017-07-31", "2018-07-31", "2019-07-31"]
    periods = sorted({(r["period_start"], r["period_end"]) for r in read_csv(files["flows.csv"])})
    assert periods == [("2017-07-31", "2018-07-31"), ("2018-07-31", "2019-07-31")]
    assert files["stocks.csv"].splitlines()[0] == "date,area,level,count"
    assert files["flows.csv"].splitlines()[0] == "period_start,period_end,area,from_level,to_level,count"


# ---------------------------------------------------------------------------
# The panel


def check_panel_rules(rows, levels, areas):
    seen, last, area_of = set(), {}, {}
    for r in rows:
        key = (r["child_id"], r["date"])
        assert key not in seen, f"child {r['child_id']} seen twice on {r['date']}"
        seen.add(key)
        day = datetime.date.fromisoformat(r["date"])
        if r["child_id"] in last:
            assert day > last[r["child_id"]], f"child {r['child_id']} out of date order"
        last[r["child_id"]] = day
        assert r["level"] in levels and r["area"] in areas
        assert area_of.setdefault(r["child_id"], r["area"]) == r["area"]


def test_panel_rules():
    files = generate(small_truth(years=6), seed=11)
    rows = read_csv(files["panel.csv"])
    assert files["panel.csv"].splitlines()[0] == "child_id,date,level,area"
    check_panel_rules(rows, LEVELS, ["north", "south"])
    children = {r["child_id"] for r in rows}
    assert len(children) == 60
    # each child's rows are together (not only in order), and visits are within 2..6 and the gap range
    order = [r["child_id"] for r in rows]
    assert order == sorted(order)
    by_child = {}
    for r in rows:
        by_child.setdefault(r["child_id"], []).append(datetime.date.fromisoformat(r["date"]))
    for days in by_child.values():
        assert days[0] == datetime.date(2015, 7, 31)  # first visit on the window's first date
        assert len(days) <= 6
        assert all(30 <= (b - a).days <= 400 for a, b in zip(days, days[1:]))
        assert days[-1] <= datetime.date(2021, 7, 31)


def test_panel_window_and_eligible_levels():
    panel = {"children": 30, "visits_per_child": [3, 3], "gap_days": [10, 20],
             "window": ["2016-07-31", "2017-01-31"], "eligible_levels": ["Mid", "High"]}
    rows = read_csv(generate(small_truth(panel=panel), seed=5)["panel.csv"])
    first = {}
    for r in rows:
        first.setdefault(r["child_id"], r)
        assert "2016-07-31" <= r["date"] <= "2017-01-31"
    assert len(first) == 30
    assert all(r["date"] == "2016-07-31" and r["level"] in ("Mid", "High") for r in first.values())


def test_panel_levels_agree_with_stocks_on_census_dates():
    """A panel record on the start date is a draw from that date's stock: the panel and stocks come from one population."""
    truth = small_truth(panel={"children": 1840, "visits_per_child": [1, 1], "gap_days": [1, 1]})
    files = generate(truth, seed=2)  # 1,840 = every child present at the start (900 + 300 + 100 + 500 + 40)
    panel = read_csv(files["panel.csv"])
    counts = {}
    for r in panel:
        counts[(r["area"], r["level"])] = counts.get((r["area"], r["level"]), 0) + 1
    stocks = {(r["area"], r["level"]): int(r["count"]) for r in read_csv(files["stocks.csv"])
              if r["date"] == "2015-07-31" and int(r["count"]) > 0}
    assert counts == stocks


# ---------------------------------------------------------------------------
# Reproducibility and the command line


def test_same_seed_same_bytes_and_different_seed_differs(tmp_path):
    path = write_truth(tmp_path, small_truth())
    for out in ("a", "b", "c"):
        seed = 42 if out != "c" else 43
        result = run_script(path, "--seed", seed, "--out", tmp_path / out)
        assert result.returncode == 0, result.stderr
    for name in ("stocks.csv", "flows.csv", "panel.csv", "truth.json"):
        a, b = (tmp_path / "a" / name).read_bytes(), (tmp_path / "b" / name).read_bytes()
        assert a == b, name
    assert (tmp_path / "a" / "flows.csv").read_bytes() != (tmp_path / "c" / "flows.csv").read_bytes()
    assert (tmp_path / "a" / "panel.csv").read_bytes() != (tmp_path / "c" / "panel.csv").read_bytes()


def test_truth_json_round_trips(tmp_path):
    """The written truth.json is a truth: generating from it again gives the same files."""
    path = write_truth(tmp_path, small_truth())
    assert run_script(path, "--seed", 9, "--out", tmp_path / "one").returncode == 0
    written = json.loads((tmp_path / "one" / "truth.json").read_text())
    assert written["generated"]["seed"] == 9
    assert {k: v for k, v in written.items() if k != "generated"} == small_truth()
    assert run_script(tmp_path / "one" / "truth.json", "--seed", 9, "--out", tmp_path / "two").returncode == 0
    for name in ("stocks.csv", "flows.csv", "panel.csv", "truth.json"):
        assert (tmp_path / "one" / name).read_bytes() == (tmp_path / "two" / name).read_bytes(), name


def test_no_panel_section_no_panel_file(tmp_path):
    truth = small_truth()
    del truth["panel"]
    result = run_script(write_truth(tmp_path, truth), "--seed", 1, "--out", tmp_path / "out")
    assert result.returncode == 0, result.stderr
    assert not (tmp_path / "out" / "panel.csv").exists()
    assert (tmp_path / "out" / "stocks.csv").exists()


@pytest.mark.parametrize("change, words", [
    (lambda t: t["rates_per_year"]["Low"].update({"Midd": 0.1}), ["rates_per_year.Low", "unknown level 'Midd'"]),
    (lambda t: t["rates_per_year"]["Mid"].update({"High": -0.1}), ["rates_per_year.Mid.High", "≥ 0"]),
    (lambda t: t["rates_per_year"]["Mid"].update({"Mid": -0.1}), ["rates_per_year.Mid.Mid", "sum to 0"]),
    (lambda t: t.update(start_date="31/07/2015"), ["start_date", "YYYY-MM-DD"]),
    (lambda t: t.update(start_date="2016-02-29"), ["start_date", "29 February"]),
    (lambda t: t.update(years=0), ["years", "whole number ≥ 1"]),
    (lambda t: t.update(colour="blue"), ["unknown key", "'colour'"]),
    (lambda t: t["areas"]["north"].update(initial_counts={"Low": 10.5}), ["areas.north.initial_counts.Low", "whole"]),
    (lambda t: t["areas"]["south"].pop("initial_counts"), ["areas.south", "initial_counts"]),
    (lambda t: t["panel"].update(gap_days=[0, 10]), ["panel.gap_days", "1 ≤ min ≤ max"]),
    (lambda t: t["panel"].update(children=100000), ["panel.children", "only"]),
    (lambda t: t["panel"].update(window=["2010-01-01", "2016-01-01"]), ["panel.window"]),
    (lambda t: t.update(flows={"last_periods": 9}), ["flows.last_periods", "4 yearly periods"]),
    (lambda t: t.update(levels=["Low", "Mid", "exit"]), ["levels", "'exit'"]),
])
def test_truth_errors_name_the_key(tmp_path, change, words):
    truth = small_truth()
    change(truth)
    path = write_truth(tmp_path, truth)
    result = run_script(path, "--seed", 1, "--out", tmp_path / "out")
    assert result.returncode == 1, result.stderr
    assert str(path) in result.stderr and "Traceback" not in result.stderr
    for w in words:
        assert w in result.stderr, (w, result.stderr)
    assert not (tmp_path / "out").exists()


def test_not_json(tmp_path):
    path = tmp_path / "truth.json"
    path.write_text('{"levels": [1,\n')
    result = run_script(path, "--seed", 1, "--out", tmp_path / "out")
    assert result.returncode == 1 and "not valid JSON" in result.stderr and "line 2" in result.stderr


def test_usage_errors(tmp_path):
    path = write_truth(tmp_path, small_truth())
    assert run_script(path, "--out", tmp_path / "out").returncode == 2  # --seed is required
    assert run_script(path, "--seed", "-1", "--out", tmp_path / "out").returncode == 2


# ---------------------------------------------------------------------------
# The data sets in calibration/ are what their truth and seed give


@pytest.mark.parametrize("folder", ["calibration/synthetic/identified", "calibration/synthetic/not-identified",
                                    "calibration/worked-example"])
def test_committed_data_sets_are_reproducible(tmp_path, folder):
    src = os.path.join(ROOT, folder)
    if not os.path.isfile(os.path.join(src, "truth.json")):
        pytest.skip(f"{folder} not present")
    with open(os.path.join(src, "truth.json")) as f:
        seed = json.load(f)["generated"]["seed"]
    result = run_script(os.path.join(src, "truth.json"), "--seed", seed, "--out", tmp_path)
    assert result.returncode == 0, result.stderr
    for name in sorted(os.listdir(tmp_path)):
        with open(os.path.join(src, name), "rb") as f:
            assert f.read() == (tmp_path / name).read_bytes(), f"{folder}/{name} differs from a fresh generation"
