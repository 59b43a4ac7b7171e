#!/usr/bin/env python3
"""Synthetic calibration data sets from a known truth, for testing `girfec calibrate`.

Usage:
    python3 scripts/synthetic_calibration_data.py TRUTH.json --seed S --out DIR

Reads a "truth" (a JSON file, described below), simulates every child of
every area exactly in continuous time, and writes into DIR:

  stocks.csv   date,area,level,count — children in each level of each area on
               each census date: the start date and its anniversaries (in
               Scotland 31 July); one row per date, area and level, zeros
               included.
  flows.csv    period_start,period_end,area,from_level,to_level,count — for
               each yearly period between consecutive census dates (all of
               them, or the last `flows.last_periods`): the children present
               at the period start by their level at the period end (from =
               to: the stayers; to_level `exit`: left the population during
               the period), and the children who entered during the period
               by their level at the end (from_level `entry`; `entry,exit`:
               came and went within the period). Every combination is
               written, zeros included.
  panel.csv    child_id,date,level,area — a random subset of children seen at
               irregular times (only when the truth has a `panel` section).
  truth.json   the truth as read, plus a "generated" block: the seed, the
               generator, and the initial counts actually used (resolved
               when the truth asks for "equilibrium").

The three CSV files follow the formats `girfec calibrate` reads (see
Sources/Calibration/DataFiles.swift): exact headers, dates YYYY-MM-DD, levels
the truth's (= the scenario's) level names.

The model simulated
-------------------
Each child is in one level at a time. Between levels it moves as a
continuous-time Markov chain with the yearly rate matrix Q (`rates_per_year`;
the diagonal is minus the sum of the rest of the row). It leaves the
population (ageing out, moving away) at the yearly rate μ of its level
(`exit_rate_per_year`). Exact simulation: a child in level i waits an
exponential time with rate Σ_{j≠i} q_ij + μ_i, then moves to j with
probability q_ij / (Σ q + μ_i) or leaves with probability μ_i / (Σ q + μ_i)
(competing risks). Children enter each area and level as a Poisson process
with the yearly rate `entries_per_year` (exponential gaps). There are no ages
and no duration dependence: the yearly flow proportions of children present
at a period start are, in expectation, exp(Q̃·Δt) with Q̃ the generator
extended by an absorbing `exit` state and Δt the period length in years.

Time is in years of 365.25 days from the start date, as `girfec calibrate`
converts dates (Day.years(since:)): a census date d is at
(d − start_date).days / 365.25, so 31 July to 31 July is 365/365.25 or
366/365.25 years.

The truth file (JSON; keys in this order are conventional, unknown keys are errors)
-----------------------------------------------------------------------------------
  description          text, optional (free text; "notes" too)
  levels               list of level names, in order (the scenario's)
  start_date           "YYYY-MM-DD": time 0 and the first census date (not 29 February)
  years                whole number ≥ 1: census dates are the start and its next `years` anniversaries
  rates_per_year       {from: {to: rate ≥ 0}}: off-diagonal yearly rates; a level
                       without a row never moves; a diagonal, if written, must
                       make the row sum to 0
  exit_rate_per_year   a rate ≥ 0 for every level, or {level: rate}
  areas                {area: {"initial_counts": {level: whole number} or "equilibrium",
                               "entries_per_year": {level: rate ≥ 0},
                               "rates_per_year": ..., "exit_rate_per_year": ...}}
                       (the last two optional: this area's own dynamics);
                       "equilibrium" puts the area at the steady state of its
                       dynamics, S = λ (diag(μ) − Q)⁻¹, rounded to whole children
  flows                optional {"last_periods": n}: write only the last n yearly periods
  panel                optional {"children": n, "visits_per_child": [min, max],
                                 "gap_days": [min ≥ 1, max],
                                 "window": ["YYYY-MM-DD", "YYYY-MM-DD"] (default: start to last census),
                                 "eligible_levels": [levels] (default: all)}
  generated            ignored on input (written by this script)

The panel: the eligible children are those present on the window's first
date in an eligible level; `children` of them are drawn at random without
replacement. Each is seen on the window's first date, then again after gaps
drawn uniformly from `gap_days` (whole days), up to its number of visits
(drawn uniformly from `visits_per_child`), while it is still in the
population and the date is within the window. Each record gives the level
on that date. Child identifiers are P0001, P0002, ... in the order drawn.

Randomness: one `random.Random(seed)` stream (Mersenne Twister), used only
through `random()` (exponentials by inversion, −ln(1 − U)/rate; whole numbers
as ⌊U·n⌋), so a seed gives the same bytes on every Python 3 version. The
draws are made in a fixed order: for each area in the truth's order, its
initial children level by level, then its entry processes level by level
(each child's whole path is drawn when it appears); then the panel. Changing
a truth's areas, levels or counts changes every later draw.

Standard library only. Exit status: 0 on success, 1 on a data error (the
message names the file and the key), 2 on a usage error.
"""
import argparse
import bisect
import csv
import datetime
import io
import json
import math
import os
import random
import sys

DAYS_PER_YEAR = 365.25
ENTRY, EXIT = "entry", "exit"
STOCKS_COLUMNS = ["date", "area", "level", "count"]
FLOWS_COLUMNS = ["period_start", "period_end", "area", "from_level", "to_level", "count"]
PANEL_COLUMNS = ["child_id", "date", "level", "area"]
TOP_KEYS = ["description", "notes", "levels", "start_date", "years", "rates_per_year", "exit_rate_per_year",
            "areas", "flows", "panel", "generated"]
AREA_KEYS = ["initial_counts", "entries_per_year", "rates_per_year", "exit_rate_per_year"]
PANEL_KEYS = ["children", "visits_per_child", "gap_days", "window", "eligible_levels"]
GENERATOR = "scripts/synthetic_calibration_data.py"


class TruthError(Exception):
    """A problem with the truth file; the message names the file and the key."""


# ---------------------------------------------------------------------------
# Small matrices (lists of rows) in pure Python


def mat_mul(a, b):
    """Product of two matrices given as lists of rows."""
    bt = list(zip(*b))
    return [[sum(x * y for x, y in zip(row, col)) for col in bt] for row in a]


def identity(n):
    return [[1.0 if i == j else 0.0 for j in range(n)] for i in range(n)]


def expm(a, t=1.0):
    """exp(A·t) by scaling and squaring with a Taylor series (Higham 2008, ch. 10).

    A·t is scaled by 2^-s so that its ∞-norm is at most 1/2, the series is
    summed until its terms fall below 1e-17 of the sum, and the result is
    squared s times. Accurate to about 1e-13 for the small generators used
    here (a few levels, rates of order 1 per year).
    """
    n = len(a)
    m = [[x * t for x in row] for row in a]
    norm = max((sum(abs(x) for x in row) for row in m), default=0.0)
    s = max(0, math.ceil(math.log2(norm / 0.5))) if norm > 0.5 else 0
    m = [[x / 2 ** s for x in row] for row in m]
    result, term = identity(n), identity(n)
    for k in range(1, 60):
        term = [[x / k for x in row] for row in mat_mul(term, m)]
        result = [[r + x for r, x in zip(rr, tr)] for rr, tr in zip(result, term)]
        if max(abs(x) for row in term for x in row) < 1e-17:
            break
    for _ in range(s):
        result = mat_mul(result, result)
    return result


def solve_left(m, b):
    """x with x·M = b (a row vector), by Gaussian elimination with partial pivoting on Mᵀ."""
    n = len(m)
    aug = [[m[j][i] for j in range(n)] + [b[i]] for i in range(n)]  # rows of Mᵀ | b
    for col in range(n):
        pivot = max(range(col, n), key=lambda r: abs(aug[r][col]))
        if abs(aug[pivot][col]) < 1e-300:
            raise ZeroDivisionError("singular matrix")
        aug[col], aug[pivot] = aug[pivot], aug[col]
        for r in range(n):
            if r != col and aug[r][col] != 0.0:
                f = aug[r][col] / aug[col][col]
                aug[r] = [x - f * y for x, y in zip(aug[r], aug[col])]
    return [aug[i][n] / aug[i][i] for i in range(n)]


# ---------------------------------------------------------------------------
# The truth


def _is_number(x):
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


def _date(text, where):
    if not isinstance(text, str):
        raise TruthError(f"{where}: expected a date \"YYYY-MM-DD\", found {json.dumps(text)}")
    try:
        if len(text) != 10:
            raise ValueError
        return datetime.date.fromisoformat(text)
    except ValueError:
        raise TruthError(f"{where}: expected a date \"YYYY-MM-DD\", found {text!r}") from None


def _keys(obj, allowed, where):
    if not isinstance(obj, dict):
        raise TruthError(f"{where}: expected a JSON object, found {json.dumps(obj)[:60]}")
    unknown = [k for k in obj if k not in allowed]
    if unknown:
        raise TruthError(f"{where}: unknown key(s) {', '.join(map(repr, unknown))}; "
                         f"expected among {', '.join(allowed)}")


def _rate(x, where, what="a rate per year ≥ 0"):
    if not _is_number(x) or x < 0:
        raise TruthError(f"{where}: expected {what}, found {json.dumps(x)}")
    return float(x)


def _whole(x, where, low=0):
    if not _is_number(x) or x != int(x) or x < low:
        raise TruthError(f"{where}: expected a whole number ≥ {low}, found {json.dumps(x)}")
    return int(x)


def _range(x, where, low):
    if (not isinstance(x, list) or len(x) != 2 or not all(_is_number(v) and v == int(v) for v in x)
            or x[0] < low or x[1] < x[0]):
        raise TruthError(f"{where}: expected [min, max], whole numbers with {low} ≤ min ≤ max, "
                         f"found {json.dumps(x)}")
    return int(x[0]), int(x[1])


def _level_map(obj, levels, where, value):
    """{level: value} checked against the levels; levels left out get 0."""
    if not isinstance(obj, dict):
        raise TruthError(f"{where}: expected an object {{level: value}}, found {json.dumps(obj)[:60]}")
    out = [0] * len(levels)
    for name, x in obj.items():
        if name not in levels:
            raise TruthError(f"{where}: unknown level {name!r} (levels: {', '.join(levels)})")
        out[levels.index(name)] = value(x, f"{where}.{name}")
    return out


def _generator(obj, levels, where):
    """The rate matrix Q (diagonal = − the rest of the row) from {from: {to: rate}}."""
    if not isinstance(obj, dict):
        raise TruthError(f"{where}: expected an object {{from: {{to: rate}}}}, found {json.dumps(obj)[:60]}")
    n = len(levels)
    q = [[0.0] * n for _ in range(n)]
    for src, row in obj.items():
        if src not in levels:
            raise TruthError(f"{where}: unknown level {src!r} (levels: {', '.join(levels)})")
        i = levels.index(src)
        if not isinstance(row, dict):
            raise TruthError(f"{where}.{src}: expected an object {{to: rate}}, found {json.dumps(row)[:60]}")
        diagonal = None
        for dst, x in row.items():
            if dst not in levels:
                raise TruthError(f"{where}.{src}: unknown level {dst!r} (levels: {', '.join(levels)})")
            j = levels.index(dst)
            if j == i:
                if not _is_number(x) or x > 0:
                    raise TruthError(f"{where}.{src}.{dst}: expected a diagonal ≤ 0, found {json.dumps(x)}")
                diagonal = float(x)
            else:
                q[i][j] = _rate(x, f"{where}.{src}.{dst}")
        q[i][i] = -sum(q[i][j] for j in range(n) if j != i)
        if diagonal is not None and abs(diagonal - q[i][i]) > 1e-9:
            raise TruthError(f"{where}.{src}.{src}: the diagonal {diagonal} does not make the row sum to 0 "
                             f"(expected {q[i][i]}, or leave it out)")
    return q


def _exit_rates(obj, levels, where):
    if isinstance(obj, dict):
        return [float(x) for x in _level_map(obj, levels, where, _rate)]
    return [_rate(obj, where)] * len(levels)


class Area:
    """One area's dynamics and starting point."""

    def __init__(self, name, q, mu, entries, initial):
        self.name, self.q, self.mu, self.entries, self.initial = name, q, mu, entries, initial

    def extended_generator(self):
        """Q̃: Q minus the exit rates, plus an absorbing `exit` state as the last row and column."""
        n = len(self.q)
        rows = [[self.q[i][j] - (self.mu[i] if i == j else 0.0) for j in range(n)] + [self.mu[i]]
                for i in range(n)]
        return rows + [[0.0] * (n + 1)]

    def period_probabilities(self, years):
        """exp(Q̃·t): row i gives the chance of each level (and `exit`, last) after t years, from level i."""
        return expm(self.extended_generator(), years)

    def equilibrium(self):
        """Steady state S of dS/dt = S·(Q − diag(μ)) + λ, that is S = λ·(diag(μ) − Q)⁻¹."""
        n = len(self.q)
        m = [[(self.mu[i] if i == j else 0.0) - self.q[i][j] for j in range(n)] for i in range(n)]
        return solve_left(m, self.entries)

    def expected_stocks(self, start, years):
        """Expected stocks after `years` from `start` (a list per level): the ODE solved exactly.

        With y = (S, 1), dy/dt = y·B where B = [[Q − diag(μ), 0], [λ, 0]], so y(t) = y(0)·exp(B·t).
        """
        n = len(self.q)
        b = [[self.q[i][j] - (self.mu[i] if i == j else 0.0) for j in range(n)] + [0.0] for i in range(n)]
        b.append(list(self.entries) + [0.0])
        e = expm(b, years)
        y = list(start) + [1.0]
        return [sum(y[k] * e[k][j] for k in range(n + 1)) for j in range(n)]


class Truth:
    """A checked truth file."""

    def __init__(self, data, path):
        self.path, self.raw = path, data
        _keys(data, TOP_KEYS, path)
        for key in ("levels", "start_date", "years", "rates_per_year", "exit_rate_per_year", "areas"):
            if key not in data:
                raise TruthError(f"{path}: missing key {key!r}")
        levels = data["levels"]
        if (not isinstance(levels, list) or not levels or not all(isinstance(x, str) and x for x in levels)):
            raise TruthError(f"{path}: levels: expected a non-empty list of level names, found {json.dumps(levels)}")
        reserved = [x for x in levels if x in (ENTRY, EXIT, "all")]
        if reserved or len(set(levels)) != len(levels):
            raise TruthError(f"{path}: levels: names must be distinct and not 'entry', 'exit' or 'all', "
                             f"found {json.dumps(levels)}")
        self.levels = levels
        self.start = _date(data["start_date"], f"{path}: start_date")
        if (self.start.month, self.start.day) == (2, 29):
            raise TruthError(f"{path}: start_date: 29 February has no yearly anniversary; choose another date")
        self.years = _whole(data["years"], f"{path}: years", low=1)
        self.census = [self.start.replace(year=self.start.year + k) for k in range(self.years + 1)]
        q = _generator(data["rates_per_year"], levels, f"{path}: rates_per_year")
        mu = _exit_rates(data["exit_rate_per_year"], levels, f"{path}: exit_rate_per_year")
        if not isinstance(data["areas"], dict) or not data["areas"]:
            raise TruthError(f"{path}: areas: expected an object with at least one area")
        self.areas = []
        for name, spec in data["areas"].items():
            where = f"{path}: areas.{name}"
            if not name or name in (ENTRY, EXIT):
                raise TruthError(f"{where}: an area name must be non-empty and not 'entry' or 'exit'")
            _keys(spec, AREA_KEYS, where)
            if "initial_counts" not in spec:
                raise TruthError(f"{where}: missing key 'initial_counts'")
            aq = _generator(spec["rates_per_year"], levels, f"{where}.rates_per_year") if "rates_per_year" in spec else q
            amu = (_exit_rates(spec["exit_rate_per_year"], levels, f"{where}.exit_rate_per_year")
                   if "exit_rate_per_year" in spec else mu)
            entries = [float(x) for x in _level_map(spec.get("entries_per_year", {}), levels,
                                                    f"{where}.entries_per_year", _rate)]
            area = Area(name, aq, amu, entries, None)
            init = spec["initial_counts"]
            if init == "equilibrium":
                try:
                    area.initial = [max(0, round(x)) for x in area.equilibrium()]
                except ZeroDivisionError:
                    raise TruthError(f"{where}.initial_counts: \"equilibrium\" needs a steady state, but "
                                     f"diag(μ) − Q is singular (give every level a path to exit)") from None
            else:
                area.initial = _level_map(init, levels, f"{where}.initial_counts", _whole)
            self.areas.append(area)
        self.flow_periods = self.years
        if "flows" in data:
            _keys(data["flows"], ["last_periods"], f"{path}: flows")
            if "last_periods" in data["flows"]:
                self.flow_periods = _whole(data["flows"]["last_periods"], f"{path}: flows.last_periods", low=1)
                if self.flow_periods > self.years:
                    raise TruthError(f"{path}: flows.last_periods: {self.flow_periods} periods asked for, "
                                     f"but the truth has {self.years} yearly periods")
        self.panel = None
        if "panel" in data:
            self.panel = self._panel(data["panel"], f"{path}: panel")

    def _panel(self, spec, where):
        _keys(spec, PANEL_KEYS, where)
        for key in ("children", "visits_per_child", "gap_days"):
            if key not in spec:
                raise TruthError(f"{where}: missing key {key!r}")
        p = {"children": _whole(spec["children"], f"{where}.children", low=1),
             "visits": _range(spec["visits_per_child"], f"{where}.visits_per_child", 1),
             "gaps": _range(spec["gap_days"], f"{where}.gap_days", 1)}
        window = spec.get("window", [self.census[0].isoformat(), self.census[-1].isoformat()])
        if not isinstance(window, list) or len(window) != 2:
            raise TruthError(f"{where}.window: expected [\"YYYY-MM-DD\", \"YYYY-MM-DD\"], found {json.dumps(window)}")
        first, last = _date(window[0], f"{where}.window[0]"), _date(window[1], f"{where}.window[1]")
        if not (self.census[0] <= first <= last <= self.census[-1]):
            raise TruthError(f"{where}.window: expected two dates in order within {self.census[0]} to "
                             f"{self.census[-1]}, found {first} to {last}")
        p["window"] = (first, last)
        eligible = spec.get("eligible_levels", self.levels)
        if not isinstance(eligible, list) or not eligible:
            raise TruthError(f"{where}.eligible_levels: expected a non-empty list of levels, found {json.dumps(eligible)}")
        for x in eligible:
            if x not in self.levels:
                raise TruthError(f"{where}.eligible_levels: unknown level {x!r} (levels: {', '.join(self.levels)})")
        p["eligible"] = {self.levels.index(x) for x in eligible}
        return p

    def time_of(self, date):
        """Years from the start date to `date`, with 365.25 days a year."""
        return (date - self.start).days / DAYS_PER_YEAR


def load_truth(path):
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except FileNotFoundError:
        raise TruthError(f"{path}: file not found") from None
    except json.JSONDecodeError as e:
        raise TruthError(f"{path}: not valid JSON (line {e.lineno}, column {e.colno}: {e.msg})") from None
    except UnicodeDecodeError as e:
        raise TruthError(f"{path}: not UTF-8 text ({e})") from None
    return Truth(data, path)


# ---------------------------------------------------------------------------
# Simulation


class Child:
    """One child's path: the level it entered in and every change, and when it left (inf: still present)."""

    __slots__ = ("area", "entered", "times", "levels", "left")

    def __init__(self, area, entered, level):
        self.area, self.entered = area, entered
        self.times, self.levels = [entered], [level]
        self.left = math.inf

    def present(self, t):
        return self.entered <= t < self.left

    def level_at(self, t):
        """The level at time t (the child must be present)."""
        return self.levels[bisect.bisect_right(self.times, t) - 1]


def exponential(rng, rate):
    """An exponential waiting time with the given rate, by inversion of one uniform."""
    return -math.log(1.0 - rng.random()) / rate


def uniform_int(rng, low, high):
    """A whole number uniform on [low, high]: low + ⌊U·(high − low + 1)⌋."""
    return low + min(high - low, int(rng.random() * (high - low + 1)))


def simulate_child(rng, child, area, horizon):
    """Draw the child's path up to `horizon` (competing risks: moves to each level and exit)."""
    n = len(area.q)
    t, i = child.entered, child.levels[0]
    while True:
        rates = [area.q[i][j] if j != i else 0.0 for j in range(n)] + [area.mu[i]]
        total = sum(rates)
        if total <= 0.0:
            return
        t += exponential(rng, total)
        if t >= horizon:
            return
        u, k, acc = rng.random() * total, 0, rates[0]
        while acc <= u and k < n:
            k += 1
            acc += rates[k]
        if k == n:
            child.left = t
            return
        child.times.append(t)
        child.levels.append(k)
        i = k


def simulate(truth, rng):
    """Every child of every area, in the documented order of random draws."""
    horizon = truth.time_of(truth.census[-1])
    children = []
    for a, area in enumerate(truth.areas):
        for lvl, count in enumerate(area.initial):
            for _ in range(count):
                c = Child(a, 0.0, lvl)
                simulate_child(rng, c, area, horizon)
                children.append(c)
        for lvl, rate in enumerate(area.entries):
            if rate <= 0:
                continue
            t = exponential(rng, rate)
            while t < horizon:
                c = Child(a, t, lvl)
                simulate_child(rng, c, area, horizon)
                children.append(c)
                t += exponential(rng, rate)
    return children


# ---------------------------------------------------------------------------
# Tables


def stock_rows(truth, children):
    counts = {}
    times = [truth.time_of(d) for d in truth.census]
    for c in children:
        for k, t in enumerate(times):
            if c.present(t):
                key = (k, c.area, c.level_at(t))
                counts[key] = counts.get(key, 0) + 1
    return [[d.isoformat(), area.name, level, counts.get((k, a, lvl), 0)]
            for k, d in enumerate(truth.census)
            for a, area in enumerate(truth.areas)
            for lvl, level in enumerate(truth.levels)]


def flow_rows(truth, children):
    n = len(truth.levels)
    rows = []
    first = truth.years - truth.flow_periods
    names_from, names_to = truth.levels + [ENTRY], truth.levels + [EXIT]
    for k in range(first, truth.years):
        t0, t1 = truth.time_of(truth.census[k]), truth.time_of(truth.census[k + 1])
        counts = [[[0] * (n + 1) for _ in range(n + 1)] for _ in truth.areas]
        for c in children:
            if c.present(t0):
                i = c.level_at(t0)
            elif t0 < c.entered < t1:
                i = n
            else:
                continue
            j = c.level_at(t1) if c.present(t1) else n
            counts[c.area][i][j] += 1
        for a, area in enumerate(truth.areas):
            for i in range(n + 1):
                for j in range(n + 1):
                    rows.append([truth.census[k].isoformat(), truth.census[k + 1].isoformat(), area.name,
                                 names_from[i], names_to[j], counts[a][i][j]])
    return rows


def panel_rows(truth, children, rng):
    p = truth.panel
    start, end = p["window"]
    t_start = truth.time_of(start)
    eligible = [c for c in children if c.present(t_start) and c.level_at(t_start) in p["eligible"]]
    if p["children"] > len(eligible):
        raise TruthError(f"{truth.path}: panel.children: {p['children']} children asked for, but only "
                         f"{len(eligible)} are present on {start} in an eligible level")
    # partial Fisher–Yates: the first `children` entries become a uniform sample without replacement
    for i in range(p["children"]):
        j = uniform_int(rng, i, len(eligible) - 1)
        eligible[i], eligible[j] = eligible[j], eligible[i]
    width = max(4, len(str(p["children"])))
    rows = []
    for number, c in enumerate(eligible[:p["children"]], start=1):
        child_id = f"P{number:0{width}d}"
        visits = uniform_int(rng, *p["visits"])
        day = start
        for v in range(visits):
            if v > 0:
                day = day + datetime.timedelta(days=uniform_int(rng, *p["gaps"]))
            t = truth.time_of(day)
            if day > end or not c.present(t):
                break
            rows.append([child_id, day.isoformat(), truth.levels[c.level_at(t)], truth.areas[c.area].name])
    return rows


def csv_text(header, rows):
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    w.writerows(rows)
    return buf.getvalue()


def truth_text(truth, seed):
    data = {k: v for k, v in truth.raw.items() if k != "generated"}
    data["generated"] = {
        "generator": GENERATOR,
        "seed": seed,
        "initial_counts": {a.name: dict(zip(truth.levels, a.initial)) for a in truth.areas},
        "note": "written by the generator; ignored when this file is read as a truth",
    }
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def generate(truth, seed):
    """The files of a data set as {name: text}, from one random.Random(seed) stream."""
    rng = random.Random(seed)
    children = simulate(truth, rng)
    files = {"stocks.csv": csv_text(STOCKS_COLUMNS, stock_rows(truth, children)),
             "flows.csv": csv_text(FLOWS_COLUMNS, flow_rows(truth, children))}
    if truth.panel is not None:
        files["panel.csv"] = csv_text(PANEL_COLUMNS, panel_rows(truth, children, rng))
    files["truth.json"] = truth_text(truth, seed)
    return files


# ---------------------------------------------------------------------------
# Command line


def parse_args(argv):
    p = argparse.ArgumentParser(prog="synthetic_calibration_data.py",
                                description="Synthetic stocks.csv, flows.csv and panel.csv from a known truth "
                                            "(a continuous-time Markov chain simulated child by child).")
    p.add_argument("truth", metavar="TRUTH", help="the truth, a JSON file (see the top of this script)")
    p.add_argument("--seed", type=int, required=True, metavar="S",
                   help="seed of the random.Random stream; the same truth and seed give the same bytes")
    p.add_argument("--out", required=True, metavar="DIR", help="folder to write the data set into (created)")
    args = p.parse_args(argv)
    if args.seed < 0:
        p.error("--seed must be ≥ 0")
    return args


def main(argv=None):
    args = parse_args(argv)
    try:
        truth = load_truth(args.truth)
        files = generate(truth, args.seed)
    except TruthError as e:
        print(f"synthetic_calibration_data.py: error: {e}", file=sys.stderr)
        return 1
    os.makedirs(args.out, exist_ok=True)
    for name, text in files.items():
        path = os.path.join(args.out, name)
        with open(path, "w", encoding="utf-8", newline="") as f:
            f.write(text)
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
