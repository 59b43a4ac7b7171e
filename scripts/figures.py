#!/usr/bin/env python3
"""Figures for papers from a girfec run folder.

Usage:
    python3 scripts/figures.py DIR [--out FIGDIR] [--wtp-max 100000] [--format png,pdf]

DIR is a folder written by `girfec run ... --out DIR` (or `girfec merge`).
Reads DIR/bands.csv, DIR/replications.csv, DIR/manifest.json and, when
present, DIR/aggregate.csv (the deterministic aggregate stock-flow model on
the same parameters); docs/outputs.md documents the files. Writes, into
DIR/figures/ unless --out is given, each figure as PNG (200 dpi) and PDF:

  stocks          stock per level: mean, 2.5-97.5 % and 25-75 % bands across
                  replications, aggregate model line (dashed) when available
  costs_qol       cumulative discounted cost and QoL-years per arm; paired
                  differences from the first arm with the 95 % CI for the mean
                  and the 2.5-97.5 % band across replications (break-even)
  flows           inflow and outflow per level
  length_of_stay  mean length of stay per level (only when bands.csv has
                  length_of_stay_years rows)
  ce_plane        paired (delta QoL-years, delta cost) per replication, per
                  later arm
  ceac            probability that the net monetary benefit is positive over a
                  willingness-to-pay range, per later arm

A one-arm run gets no difference panels, CE plane or CEAC (a note says so).
Standard library and matplotlib only (scripts/install-python-deps.sh installs
matplotlib). Exit status: 0 on success, 1 on a data error (the message names
the file), 2 on a usage error.
"""
import argparse
import csv
import json
import math
import os
import sys

try:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch
    from matplotlib.ticker import FuncFormatter
except ImportError:  # reported by main(); ceac() and the readers work without it
    matplotlib = None
    plt = None

# Okabe & Ito (2008) colour-blind-safe palette, most distinct first (yellow last:
# it is hard to see on white).
OKABE_ITO = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442"]
AGGREGATE_STYLES = [(0, (5, 2)), (0, (1, 1.5)), (0, (6, 2, 1, 2))]
FORMATS = ("png", "pdf", "svg")
PNG_DPI = 200

BANDS_COLUMNS = ["arm", "step", "time_years", "quantity", "level", "from_level", "to_level",
                 "replications", "mean", "mcse", "ci_low", "ci_high",
                 "p2_5", "p5", "p25", "p50", "p75", "p95", "p97_5"]
BANDS_NUMBERS = ["mean", "ci_low", "ci_high", "p2_5", "p25", "p50", "p75", "p97_5"]
REPLICATIONS_COLUMNS = ["replication", "arm", "cost_discounted", "qol_years_discounted",
                        "delta_cost_discounted", "delta_qol_years_discounted"]
AGGREGATE_COLUMNS = ["arm", "step", "time_years", "quantity", "level", "from_level", "to_level", "value"]

BAND_OUTER = "95 % of replications (2.5–97.5 percentiles)"
BAND_INNER = "50 % of replications (25–75 percentiles)"
CI_MEAN = "95 % confidence interval for the mean"


class FigureError(Exception):
    """A problem with the input files; the message names the file."""


# ---------------------------------------------------------------------------
# Pure computations (no matplotlib)


def nmb(delta_qol, delta_cost, wtp):
    """Net monetary benefit of one replication at willingness to pay `wtp` (£ per QoL-year)."""
    return wtp * delta_qol - delta_cost


def ceac(delta_qol, delta_cost, wtps):
    """Cost-effectiveness acceptability curve.

    For each willingness to pay λ in `wtps`, the share of replications whose
    net monetary benefit λ·ΔQoL − Δcost is strictly positive. `delta_qol` and
    `delta_cost` are paired per replication (same length, at least one).
    """
    if len(delta_qol) != len(delta_cost):
        raise ValueError("delta_qol and delta_cost differ in length")
    n = len(delta_qol)
    if n == 0:
        raise ValueError("no replications")
    pairs = list(zip(delta_qol, delta_cost))
    return [sum(1 for q, c in pairs if nmb(q, c, lam) > 0) / n for lam in wtps]


def wtp_grid(wtp_max, points=201):
    """Evenly spaced willingness-to-pay values from 0 to `wtp_max` inclusive."""
    return [wtp_max * i / (points - 1) for i in range(points)]


def break_even_time(times, means):
    """First time after which the mean cumulative cost difference stays at or below 0.

    Returns (kind, time): ("crosses", t) with t linearly interpolated between
    the last positive step and the next; ("never-above", None) when the mean is
    never above 0 after the start; ("not-reached", None) when it is above 0 at
    the end.
    """
    pts = [(t, m) for t, m in zip(times, means) if t > 0 and not math.isnan(m)]
    if not pts:
        return ("not-reached", None)
    if pts[-1][1] > 0:
        return ("not-reached", None)
    last_pos = max((i for i, (_, m) in enumerate(pts) if m > 0), default=None)
    if last_pos is None:
        return ("never-above", None)
    (t0, m0), (t1, m1) = pts[last_pos], pts[last_pos + 1]
    return ("crosses", t0 + (t1 - t0) * m0 / (m0 - m1))


def share_cheaper_and_better(delta_qol, delta_cost):
    """Share of replications with ΔQoL > 0 and Δcost < 0 (strictly)."""
    n = len(delta_qol)
    return sum(1 for q, c in zip(delta_qol, delta_cost) if q > 0 and c < 0) / n if n else float("nan")


# ---------------------------------------------------------------------------
# Reading the run folder


def _number(text, path, line, column):
    if text is None or text.strip() == "":
        return math.nan
    try:
        return float(text)
    except ValueError:
        raise FigureError(f"{path}, line {line}: column {column!r} is not a number: {text!r}") from None


def read_table(path, required):
    """Rows of a CSV file as dicts; FigureError naming the file if absent or lacking columns."""
    if not os.path.isfile(path):
        raise FigureError(f"{path}: file not found")
    try:
        with open(path, newline="", encoding="utf-8") as f:
            reader = csv.DictReader(f)
            header = reader.fieldnames
            if not header:
                raise FigureError(f"{path}: empty file (no header row)")
            missing = [c for c in required if c not in header]
            if missing:
                raise FigureError(f"{path}: missing column(s) {', '.join(missing)} "
                                  f"(found: {', '.join(header)})")
            rows = list(reader)
    except UnicodeDecodeError as e:
        raise FigureError(f"{path}: not UTF-8 text ({e})") from None
    except csv.Error as e:
        raise FigureError(f"{path}: unreadable CSV ({e})") from None
    if not rows:
        raise FigureError(f"{path}: no data rows")
    return rows


class Series:
    """One arm's time series of a quantity for one level (or flow): parallel lists by step."""

    def __init__(self):
        self.steps, self.times, self.values = [], [], {}

    def add(self, step, time, values):
        self.steps.append(step)
        self.times.append(time)
        for k, v in values.items():
            self.values.setdefault(k, []).append(v)

    def sort(self):
        order = sorted(range(len(self.steps)), key=lambda i: self.steps[i])
        self.steps = [self.steps[i] for i in order]
        self.times = [self.times[i] for i in order]
        self.values = {k: [v[i] for i in order] for k, v in self.values.items()}

    def __getitem__(self, column):
        return self.values[column]


def _key(row, prefix=""):
    return (row["arm"], prefix + row["quantity"], row["level"], row["from_level"], row["to_level"])


def _step_time(row, path, line):
    """A row's step (int) and time in years, or a FigureError naming the file and line."""
    step = _number(row["step"], path, line, "step")
    time = _number(row["time_years"], path, line, "time_years")
    if math.isnan(step) or math.isnan(time):
        raise FigureError(f"{path}, line {line}: empty step or time_years")
    return int(step), time


def read_bands(path):
    rows = read_table(path, BANDS_COLUMNS)
    series = {}
    for i, row in enumerate(rows, start=2):
        step, time = _step_time(row, path, i)
        values = {c: _number(row[c], path, i, c) for c in BANDS_NUMBERS}
        series.setdefault(_key(row), Series()).add(step, time, values)
    for s in series.values():
        s.sort()
    return series


def read_aggregate(path):
    """Aggregate-model series keyed by (mode, arm, quantity, level, from, to); {} if the file is absent."""
    if not os.path.exists(path):
        return {}
    rows = read_table(path, AGGREGATE_COLUMNS)
    series = {}
    for i, row in enumerate(rows, start=2):
        step, time = _step_time(row, path, i)
        mode = (row.get("mode") or "").strip() or "aggregate"
        key = (mode,) + _key(row)
        series.setdefault(key, Series()).add(step, time, {"value": _number(row["value"], path, i, "value")})
    for s in series.values():
        s.sort()
    return series


def read_replications(path):
    rows = read_table(path, REPLICATIONS_COLUMNS)
    by_arm = {}
    for i, row in enumerate(rows, start=2):
        d = by_arm.setdefault(row["arm"], {"delta_qol": [], "delta_cost": []})
        d["delta_qol"].append(_number(row["delta_qol_years_discounted"], path, i, "delta_qol_years_discounted"))
        d["delta_cost"].append(_number(row["delta_cost_discounted"], path, i, "delta_cost_discounted"))
    return by_arm


def read_manifest(path):
    if not os.path.isfile(path):
        raise FigureError(f"{path}: file not found")
    try:
        with open(path, encoding="utf-8") as f:
            manifest = json.load(f)
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise FigureError(f"{path}: not valid JSON ({e})") from None
    if not isinstance(manifest, dict):
        raise FigureError(f"{path}: expected a JSON object")
    scenario = manifest.get("scenario")
    if not isinstance(scenario, dict):
        raise FigureError(f"{path}: missing key 'scenario'")
    return manifest


class Run:
    """Everything read from a run folder."""

    def __init__(self, folder):
        self.folder = folder
        self.manifest = read_manifest(os.path.join(folder, "manifest.json"))
        bands_path = os.path.join(folder, "bands.csv")
        self.bands = read_bands(bands_path)
        self.aggregate = read_aggregate(os.path.join(folder, "aggregate.csv"))
        self.aggregate_modes = list(dict.fromkeys(k[0] for k in self.aggregate))
        scenario = self.manifest["scenario"]
        band_arms = list(dict.fromkeys(k[0] for k in self.bands if not k[1].startswith("delta_")))
        self.arms = list(scenario.get("arms") or band_arms)
        unknown = [a for a in band_arms if a not in self.arms]
        if unknown:
            raise FigureError(f"{bands_path}: arm(s) {', '.join(unknown)} not in manifest.json's scenario.arms "
                              f"({', '.join(self.arms)})")
        self.arms = [a for a in self.arms if a in band_arms]
        band_levels = list(dict.fromkeys(k[2] for k in self.bands if k[1] == "stock" and k[2] not in ("", "all")))
        self.levels = [lvl for lvl in (scenario.get("levels") or band_levels) if lvl in band_levels] or band_levels
        self.name = scenario.get("name") or os.path.basename(os.path.normpath(folder))
        self.step_months = scenario.get("stepMonths")
        self.replications_by_arm = None
        if len(self.arms) > 1:
            path = os.path.join(folder, "replications.csv")
            self.replications_by_arm = read_replications(path)
            for arm in self.arms[1:]:
                if arm not in self.replications_by_arm:
                    raise FigureError(f"{path}: no rows for arm {arm!r}")

    def series(self, arm, quantity, level="", from_level="", to_level=""):
        return self.bands.get((arm, quantity, level, from_level, to_level))

    def has(self, quantity):
        return any(k[1] == quantity for k in self.bands)

    def aggregate_series(self, mode, arm, quantity, level="", from_level="", to_level=""):
        return self.aggregate.get((mode, arm, quantity, level, from_level, to_level))

    def aggregate_has(self, quantity):
        return any(k[2] == quantity for k in self.aggregate)

    def footer(self):
        m = self.manifest
        text = (f"girfec {m.get('version', '?')}, seed {m.get('seed', '?')}, "
                f"{m.get('replications', '?')} replications")
        if m.get("complete") is False:
            covered = m.get("replicationsCovered")
            text += f" (incomplete folder: replications {covered} only)"
        return text

    def step_unit(self):
        if self.step_months == 1:
            return "children per month"
        if self.step_months == 12:
            return "children per year"
        if self.step_months:
            return f"children per step ({self.step_months} months)"
        return "children per step"


# ---------------------------------------------------------------------------
# Drawing helpers


def arm_colour(run, arm):
    return OKABE_ITO[run.arms.index(arm) % len(OKABE_ITO)]


def thousands(x, _pos=None):
    """Tick label with thousands separators and a true minus sign: 12,500, −17.5, 0.25."""
    text = f"{x:,.0f}" if abs(x) >= 1000 else f"{x:.6g}"
    return "0" if text in ("-0", "0") else text.replace("-", "−")


def fan(ax, series, colour, scale=1.0, inner=True, ci=False):
    """Mean line with the 2.5-97.5 % band, optionally 25-75 % band and the CI for the mean."""
    t = series.times
    sc = lambda col: [v / scale for v in series[col]]
    ax.fill_between(t, sc("p2_5"), sc("p97_5"), color=colour, alpha=0.15, linewidth=0)
    if inner:
        ax.fill_between(t, sc("p25"), sc("p75"), color=colour, alpha=0.32, linewidth=0)
    if ci:
        ax.fill_between(t, sc("ci_low"), sc("ci_high"), color=colour, alpha=0.45, linewidth=0)
    ax.plot(t, sc("mean"), color=colour, linewidth=1.5, zorder=3)  # lines above every arm's bands


def aggregate_line(ax, series, colour, style, scale=1.0, column="value"):
    ax.plot(series.times, [v / scale for v in series[column]], color=colour, linewidth=1.3,
            linestyle=style, alpha=0.95, zorder=3.5)


def new_figure(nrows, ncols, width=None, height=None, sharex=True):
    width = width or (4.4 * ncols + 0.6)
    height = height or (2.9 * nrows + 0.9)
    fig, axes = plt.subplots(nrows, ncols, figsize=(width, height), sharex=sharex, squeeze=False,
                             layout="constrained")
    return fig, axes


def finish(fig, run, title, handles, ncol=None):
    """Title, a legend below the panels, and the footer under the legend."""
    fig.suptitle(f"{title}\n{run.name}", fontsize=11)
    legend = None
    if handles:
        ncol = ncol or min(len(handles), 3)
        legend = fig.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, 0.0), ncol=ncol,
                            frameon=False, fontsize=8.5, handlelength=2.6)
    fig.canvas.draw()  # lay out, so the legend's extent is known
    y = 0.0
    if legend is not None:
        box = legend.get_window_extent().transformed(fig.transFigure.inverted())
        y = box.y0
    fig.text(0.995, y - 0.01, run.footer(), ha="right", va="top", fontsize=7, color="0.35")


def save(fig, folder, name, formats):
    written = []
    for fmt in formats:
        path = os.path.join(folder, f"{name}.{fmt}")
        kwargs = {"bbox_inches": "tight", "pad_inches": 0.08}
        if fmt == "png":
            kwargs["dpi"] = PNG_DPI
        if fmt == "pdf":
            kwargs["metadata"] = {"CreationDate": None}  # same bytes on every run
        if fmt == "svg":
            kwargs["metadata"] = {"Date": None}
        fig.savefig(path, format=fmt, **kwargs)
        written.append(path)
    plt.close(fig)
    return written


def arm_handles(run, arms=None, label="{arm}: mean over replications"):
    return [Line2D([], [], color=arm_colour(run, a), linewidth=1.5, label=label.format(arm=a))
            for a in (arms or run.arms)]


def aggregate_handles(run):
    return [Line2D([], [], color="0.2", linewidth=1.3, linestyle=AGGREGATE_STYLES[i % len(AGGREGATE_STYLES)],
                   label=f"aggregate stock-flow model ({mode})" if mode != "aggregate" else "aggregate stock-flow model")
            for i, mode in enumerate(run.aggregate_modes)]


def grid_shape(n):
    ncols = 1 if n == 1 else 2
    return math.ceil(n / ncols), ncols


def hide_unused(axes, used):
    flat = list(axes.flat)
    for ax in flat[used:]:
        ax.set_visible(False)
    # the x tick labels of a hidden bottom panel vanish with it: show them on the panel above
    for ax in flat[:used]:
        ax.xaxis.set_tick_params(labelbottom=True)


# ---------------------------------------------------------------------------
# Figures


def fig_stocks(run, formats, folder):
    levels = run.levels
    if not levels:
        return None, "no stock rows in bands.csv"
    nrows, ncols = grid_shape(len(levels))
    fig, axes = new_figure(nrows, ncols)
    for ax, level in zip(axes.flat, levels):
        for arm in run.arms:
            s = run.series(arm, "stock", level)
            if s is None:
                continue
            fan(ax, s, arm_colour(run, arm))
            for i, mode in enumerate(run.aggregate_modes):
                a = run.aggregate_series(mode, arm, "stock", level)
                if a is not None:
                    aggregate_line(ax, a, arm_colour(run, arm), AGGREGATE_STYLES[i % len(AGGREGATE_STYLES)])
        ax.set_title(level, fontsize=10)
        ax.set_ylabel("Children in level")
        ax.yaxis.set_major_formatter(FuncFormatter(thousands))
        ax.grid(alpha=0.25, linewidth=0.5)
    hide_unused(axes, len(levels))
    for ax in list(axes.flat)[max(0, len(levels) - ncols):len(levels)]:
        ax.set_xlabel("Time (years)")
    handles = arm_handles(run) + [Patch(color="0.55", alpha=0.32, label=BAND_INNER),
                                  Patch(color="0.55", alpha=0.15, label=BAND_OUTER)] + aggregate_handles(run)
    finish(fig, run, "Children by level of support", handles, ncol=2)
    return save(fig, folder, "stocks", formats), None


def fig_costs_qol(run, formats, folder):
    cost_q, qol_q = "cumulative_cost_discounted", "cumulative_qol_years_discounted"
    if not (run.has(cost_q) and run.has(qol_q)):
        return None, f"bands.csv has no {cost_q} / {qol_q} rows"
    later = run.arms[1:]
    with_delta = bool(later) and run.has("delta_" + cost_q)
    fig, axes = new_figure(2 if with_delta else 1, 2, height=6.6 if with_delta else 3.9)
    panels = [(cost_q, 1e6, "Cumulative discounted cost (£ million)", "Cost"),
              (qol_q, 1.0, "Cumulative discounted QoL-years", "Quality of life")]
    for ax, (q, scale, ylabel, title) in zip(axes[0], panels):
        for arm in run.arms:
            s = run.series(arm, q, "all")
            if s is not None:
                fan(ax, s, arm_colour(run, arm), scale=scale)
            for i, mode in enumerate(run.aggregate_modes):
                a = run.aggregate_series(mode, arm, q, "all")
                if a is not None:
                    aggregate_line(ax, a, arm_colour(run, arm), AGGREGATE_STYLES[i % len(AGGREGATE_STYLES)], scale)
        ax.set_title(title, fontsize=10)
        ax.set_ylabel(ylabel)
        ax.yaxis.set_major_formatter(FuncFormatter(thousands))
        ax.grid(alpha=0.25, linewidth=0.5)
    handles = arm_handles(run) + [Patch(color="0.55", alpha=0.32, label=BAND_INNER),
                                  Patch(color="0.55", alpha=0.15, label=BAND_OUTER)]
    if with_delta:
        first = run.arms[0]
        delta_panels = [(cost_q, 1e6, f"Difference from {first} (£ million)", "Cost difference"),
                        (qol_q, 1.0, f"Difference from {first} (QoL-years)", "QoL difference")]
        for ax, (q, scale, ylabel, title) in zip(axes[1], delta_panels):
            ax.axhline(0, color="0.3", linewidth=0.8)
            notes = []
            for arm in later:
                colour = arm_colour(run, arm)
                s = run.series(arm, "delta_" + q, "all")
                if s is None:
                    continue
                t = s.times
                ax.fill_between(t, [v / scale for v in s["p2_5"]], [v / scale for v in s["p97_5"]],
                                color=colour, alpha=0.15, linewidth=0)
                ax.fill_between(t, [v / scale for v in s["ci_low"]], [v / scale for v in s["ci_high"]],
                                color=colour, alpha=0.5, linewidth=0)
                ax.plot(t, [v / scale for v in s["mean"]], color=colour, linewidth=1.5, zorder=3)
                for i, mode in enumerate(run.aggregate_modes):
                    a, b = run.aggregate_series(mode, arm, q, "all"), run.aggregate_series(mode, first, q, "all")
                    if a is not None and b is not None and a.steps == b.steps:
                        ax.plot(a.times, [(x - y) / scale for x, y in zip(a["value"], b["value"])], color=colour,
                                linewidth=1.3, linestyle=AGGREGATE_STYLES[i % len(AGGREGATE_STYLES)], zorder=3.5)
                if q == cost_q:
                    kind, when = break_even_time(t, s["mean"])
                    prefix = f"{arm}: " if len(later) > 1 else ""
                    if kind == "crosses":
                        ax.axvline(when, color=colour, linewidth=0.8, linestyle=":")
                        notes.append(f"{prefix}mean breaks even at {when:.1f} years")
                    elif kind == "never-above":
                        notes.append(f"{prefix}mean cheaper from the first step")
                    else:
                        notes.append(f"{prefix}mean not below 0 by the end")
            ax.set_title("\n".join([title] + notes), fontsize=10 if len(notes) < 2 else 9)
            ax.set_ylabel(ylabel)
            ax.yaxis.set_major_formatter(FuncFormatter(thousands))
            ax.grid(alpha=0.25, linewidth=0.5)
        handles = (arm_handles(run) + [Patch(color="0.55", alpha=0.32, label=BAND_INNER + " (top row)"),
                                       Patch(color="0.55", alpha=0.15, label=BAND_OUTER),
                                       Patch(color="0.55", alpha=0.5, label=CI_MEAN + " difference (bottom row)")])
    for ax in axes[-1]:
        ax.set_xlabel("Time (years)")
    handles += aggregate_handles(run)
    finish(fig, run, "Cumulative discounted cost and quality of life", handles, ncol=2)
    return save(fig, folder, "costs_qol", formats), None


def _summed_means(run, arm, level, direction, source):
    """Inflow (direction 'in') or outflow ('out') means of a level from flow, entries and exits.

    `source` is a function (quantity, level, from, to) -> Series or None with a
    mean column. Means add up across rows; percentiles do not, so only means.
    """
    own = "entries" if direction == "in" else "exits"
    base = source(own, level, "", "")
    if base is None:
        return None
    totals = list(base[source.column])
    for other in run.levels:
        if other == level:
            continue
        f = source("flow", "", other, level) if direction == "in" else source("flow", "", level, other)
        if f is None or f.steps != base.steps:
            return None
        totals = [a + b for a, b in zip(totals, f[source.column])]
    out = Series()
    for st, tm, v in zip(base.steps, base.times, totals):
        out.add(st, tm, {source.column: v})
    return out


class _BandSource:
    column = "mean"

    def __init__(self, run, arm):
        self.run, self.arm = run, arm

    def __call__(self, q, level, fr, to):
        return self.run.series(self.arm, q, level, fr, to)


class _AggregateSource:
    column = "value"

    def __init__(self, run, mode, arm):
        self.run, self.mode, self.arm = run, mode, arm

    def __call__(self, q, level, fr, to):
        return self.run.aggregate_series(self.mode, self.arm, q, level, fr, to)


def fig_flows(run, formats, folder):
    direct = run.has("inflow") and run.has("outflow")
    if not direct and not (run.has("flow") and run.has("entries") and run.has("exits")):
        return None, "bands.csv has neither inflow/outflow nor flow, entries and exits rows"
    levels = run.levels
    fig, axes = new_figure(len(levels), 2, width=9.4, height=2.3 * len(levels) + 1.0)
    for row, level in enumerate(levels):
        for col, (q, word) in enumerate((("inflow", "in"), ("outflow", "out"))):
            ax = axes[row][col]
            for arm in run.arms:
                colour = arm_colour(run, arm)
                if direct:
                    s = run.series(arm, q, level)
                    if s is not None:
                        fan(ax, s, colour, inner=False)
                else:
                    s = _summed_means(run, arm, level, word, _BandSource(run, arm))
                    if s is not None:
                        ax.plot(s.times, s["mean"], color=colour, linewidth=1.3, zorder=3)
                for i, mode in enumerate(run.aggregate_modes):
                    style = AGGREGATE_STYLES[i % len(AGGREGATE_STYLES)]
                    if run.aggregate_has(q):
                        a = run.aggregate_series(mode, arm, q, level)
                    else:
                        a = _summed_means(run, arm, level, word, _AggregateSource(run, mode, arm))
                    if a is not None:
                        aggregate_line(ax, a, colour, style)
            ax.set_title(f"{level}: {'inflow (moves in + entries)' if word == 'in' else 'outflow (moves out + exits)'}",
                         fontsize=9.5)
            ax.set_ylabel(run.step_unit().capitalize(), fontsize=8.5)
            ax.yaxis.set_major_formatter(FuncFormatter(thousands))
            ax.set_ylim(bottom=0)
            ax.grid(alpha=0.25, linewidth=0.5)
    for ax in axes[-1]:
        ax.set_xlabel("Time (years)")
    if direct:
        handles = arm_handles(run) + [Patch(color="0.55", alpha=0.15, label=BAND_OUTER)]
    else:
        handles = arm_handles(run, label="{arm}: mean (summed from flow, entries and exits rows; no band: "
                                         "percentiles do not add up)")
    handles += aggregate_handles(run)
    finish(fig, run, "Flows into and out of each level", handles, ncol=1 if not direct else 2)
    return save(fig, folder, "flows", formats), None


def fig_length_of_stay(run, formats, folder):
    q = "length_of_stay_years"
    if not run.has(q):
        return None, None  # optional figure: silent when the quantity is absent
    levels = run.levels
    nrows, ncols = grid_shape(len(levels))
    fig, axes = new_figure(nrows, ncols)
    for ax, level in zip(axes.flat, levels):
        for arm in run.arms:
            s = run.series(arm, q, level)
            if s is not None:
                fan(ax, s, arm_colour(run, arm), inner=False)
            for i, mode in enumerate(run.aggregate_modes):
                a = run.aggregate_series(mode, arm, q, level)
                if a is not None:
                    aggregate_line(ax, a, arm_colour(run, arm), AGGREGATE_STYLES[i % len(AGGREGATE_STYLES)])
        # stays of children present at the start count from time 0: no stay can exceed the time elapsed
        ax.set_ylim(bottom=0)
        top = ax.get_ylim()[1]
        ax.plot([0, top], [0, top], color="0.35", linewidth=0.9, linestyle=":")
        ax.set_ylim(0, top)
        ax.set_title(level, fontsize=10)
        ax.set_ylabel("Mean length of stay (years)")
        ax.grid(alpha=0.25, linewidth=0.5)
    hide_unused(axes, len(levels))
    for ax in list(axes.flat)[max(0, len(levels) - ncols):len(levels)]:
        ax.set_xlabel("Time (years)")
    handles = (arm_handles(run) + [Patch(color="0.55", alpha=0.15, label=BAND_OUTER)] + aggregate_handles(run)
               + [Line2D([], [], color="0.35", linewidth=0.9, linestyle=":",
                         label="time elapsed: the longest stay possible (stays of children present at the "
                               "start are counted from time 0)")])
    finish(fig, run, "Mean completed length of stay of the children leaving each level during a step", handles,
           ncol=1)
    return save(fig, folder, "length_of_stay", formats), None


def fig_ce_plane(run, formats, folder):
    later = run.arms[1:]
    first = run.arms[0]
    n = len(later)
    fig, axes = new_figure(1, n, width=max(5.6, 4.8 * n), height=5.0, sharex=False)
    data = {arm: run.replications_by_arm[arm] for arm in later}
    xs = [v for d in data.values() for v in d["delta_qol"] if not math.isnan(v)] + [0.0]
    ys = [v / 1e6 for d in data.values() for v in d["delta_cost"] if not math.isnan(v)] + [0.0]
    padx, pady = 0.06 * (max(xs) - min(xs) or 1), 0.06 * (max(ys) - min(ys) or 1)
    xlim, ylim = (min(xs) - padx, max(xs) + padx), (min(ys) - pady, max(ys) + pady)
    for ax, arm in zip(axes[0], later):
        colour = arm_colour(run, arm)
        q, c = data[arm]["delta_qol"], data[arm]["delta_cost"]
        pairs = [(a, b) for a, b in zip(q, c) if not (math.isnan(a) or math.isnan(b))]
        q, c = [a for a, _ in pairs], [b for _, b in pairs]
        size = max(3.0, min(14.0, 6000.0 / max(1, len(q))))
        ax.axhline(0, color="0.3", linewidth=0.8, zorder=1)
        ax.axvline(0, color="0.3", linewidth=0.8, zorder=1)
        ax.scatter(q, [v / 1e6 for v in c], s=size, color=colour, alpha=0.35, linewidths=0, zorder=2)
        mq, mc = sum(q) / len(q), sum(c) / len(c) / 1e6
        ax.scatter([mq], [mc], s=70, marker="D", color=colour, edgecolors="black", linewidths=1.0, zorder=4)
        share = share_cheaper_and_better(q, c)
        ax.set_title(f"{arm} vs {first}: cheaper and better\nin {100 * share:.1f} % of {len(q):,} replications",
                     fontsize=10)
        # name each quadrant in its outer corner, when enough of it is on the plot to hold the words
        fx = (0 - xlim[0]) / (xlim[1] - xlim[0])  # where x = 0 and y = 0 sit, as axes fractions
        fy = (0 - ylim[0]) / (ylim[1] - ylim[0])
        for right, top, text in ((True, False, "cheaper, better"), (True, True, "costlier, better"),
                                 (False, True, "costlier, worse"), (False, False, "cheaper, worse")):
            width = 1 - fx if right else fx
            height = 1 - fy if top else fy
            if width > 0.3 and height > 0.12:
                ax.text(0.98 if right else 0.02, 0.98 if top else 0.02, text, transform=ax.transAxes,
                        ha="right" if right else "left", va="top" if top else "bottom", fontsize=7.5,
                        color="0.4", zorder=5)
        ax.set_xlim(*xlim)
        ax.set_ylim(*ylim)
        ax.set_xlabel(f"Δ discounted QoL-years vs {first}")
        ax.set_ylabel(f"Δ discounted cost vs {first} (£ million)")
        ax.xaxis.set_major_formatter(FuncFormatter(thousands))
        ax.yaxis.set_major_formatter(FuncFormatter(thousands))
        ax.grid(alpha=0.25, linewidth=0.5)
    handles = [Line2D([], [], marker="o", linestyle="", color="0.45", alpha=0.6, markersize=4,
                      label="one replication (paired: same random numbers)"),
               Line2D([], [], marker="D", linestyle="", color="0.45", markeredgecolor="black", markersize=7,
                      label="mean over replications")]
    finish(fig, run, "Cost-effectiveness plane (whole horizon, discounted)", handles, ncol=2)
    return save(fig, folder, "ce_plane", formats), None


def fig_ceac(run, formats, folder, wtp_max):
    later = run.arms[1:]
    first = run.arms[0]
    wtps = wtp_grid(wtp_max)
    fig, axes = new_figure(1, 1, width=6.4, height=4.4)
    ax = axes[0][0]
    handles = []
    for arm in later:
        d = run.replications_by_arm[arm]
        pairs = [(a, b) for a, b in zip(d["delta_qol"], d["delta_cost"]) if not (math.isnan(a) or math.isnan(b))]
        probs = ceac([a for a, _ in pairs], [b for _, b in pairs], wtps)
        ax.plot(wtps, probs, color=arm_colour(run, arm), linewidth=1.8)
        handles.append(Line2D([], [], color=arm_colour(run, arm), linewidth=1.8,
                              label=f"{arm} vs {first} ({len(pairs):,} replications)"))
    ax.set_xlim(0, wtp_max)
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel("Willingness to pay λ (£ per QoL-year)")
    ax.set_ylabel("Probability cost-effective\n(share with λ·ΔQoL − Δcost > 0)")
    ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _p: f"£{x:,.0f}"))
    ax.grid(alpha=0.25, linewidth=0.5)
    finish(fig, run, "Cost-effectiveness acceptability curve", handles, ncol=1)
    return save(fig, folder, "ceac", formats), None


# ---------------------------------------------------------------------------
# Command line


def make_figures(run, folder, formats, wtp_max, note=print):
    os.makedirs(folder, exist_ok=True)
    plt.rcParams.update({"pdf.fonttype": 42, "ps.fonttype": 42, "font.size": 9,
                         "axes.titlesize": 10, "axes.labelsize": 9, "svg.hashsalt": "girfec"})
    written = []
    jobs = [("stocks", lambda: fig_stocks(run, formats, folder)),
            ("costs_qol", lambda: fig_costs_qol(run, formats, folder)),
            ("flows", lambda: fig_flows(run, formats, folder)),
            ("length_of_stay", lambda: fig_length_of_stay(run, formats, folder))]
    if len(run.arms) > 1:
        jobs += [("ce_plane", lambda: fig_ce_plane(run, formats, folder)),
                 ("ceac", lambda: fig_ceac(run, formats, folder, wtp_max))]
    else:
        note(f"note: one arm ({run.arms[0]}): no difference panels, ce_plane or ceac figures")
    for name, job in jobs:
        files, why = job()
        if files:
            written += files
        elif why:
            note(f"note: {name} skipped: {why}")
    if not run.aggregate:
        note("note: no aggregate.csv: figures show the agent-based model only")
    if not run.has("inflow"):
        note("note: bands.csv has no inflow/outflow rows: flows shows means summed from flow, entries and exits")
    return written


def parse_args(argv):
    p = argparse.ArgumentParser(prog="figures.py", description="Figures (PNG, PDF) from a girfec run folder.")
    p.add_argument("run_dir", metavar="DIR", help="run folder written by `girfec run ... --out DIR`")
    p.add_argument("--out", metavar="FIGDIR", help="where to write the figures (default DIR/figures)")
    p.add_argument("--wtp-max", type=float, default=100000.0, metavar="POUNDS",
                   help="largest willingness to pay for the CEAC, £ per QoL-year (default 100000)")
    p.add_argument("--format", default="png,pdf", metavar="LIST",
                   help=f"comma-separated file formats among {', '.join(FORMATS)} (default png,pdf)")
    args = p.parse_args(argv)
    formats = [f.strip().lower() for f in args.format.split(",") if f.strip()]
    bad = [f for f in formats if f not in FORMATS]
    if bad or not formats:
        p.error(f"--format: unknown format(s) {', '.join(bad) or '(none)'}; choose among {', '.join(FORMATS)}")
    args.formats = list(dict.fromkeys(formats))
    if not (args.wtp_max > 0 and math.isfinite(args.wtp_max)):
        p.error("--wtp-max must be a positive number")
    return args


def main(argv=None):
    args = parse_args(argv)
    if plt is None:
        print("figures.py: error: matplotlib is not installed; run scripts/install-python-deps.sh", file=sys.stderr)
        return 1
    if not os.path.isdir(args.run_dir):
        print(f"figures.py: error: {args.run_dir}: not a folder", file=sys.stderr)
        return 1
    out = args.out or os.path.join(args.run_dir, "figures")
    try:
        run = Run(args.run_dir)
        written = make_figures(run, out, args.formats, args.wtp_max,
                               note=lambda m: print(m, file=sys.stderr))
    except FigureError as e:
        print(f"figures.py: error: {e}", file=sys.stderr)
        return 1
    if not written:
        print(f"figures.py: error: no figure could be drawn from {args.run_dir}", file=sys.stderr)
        return 1
    for path in written:
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
