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
import math
import os
import sys

from girfec_py import style
from girfec_py.runfolder import OutputError, RunFolder, Series
from girfec_py.style import BAND_INNER, BAND_OUTER, FORMATS, grid_shape, hide_unused, new_figure, thousands

try:
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch
    from matplotlib.ticker import FuncFormatter
except ImportError:  # reported by main(); ceac() and the readers work without it
    pass

CI_MEAN = "95 % confidence interval for the mean"


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
# Drawing helpers


def arm_colour(run, arm):
    return style.colour(run.arms.index(arm))


def step_unit(run):
    """`children per month`, `per year` or `per step (N months)`: the unit of a flow per step."""
    if run.step_months == 1:
        return "children per month"
    if run.step_months == 12:
        return "children per year"
    if run.step_months:
        return f"children per step ({run.step_months} months)"
    return "children per step"


def fan(ax, series, colour, scale=1.0, inner=True, ci=False):
    """Mean line with the 2.5-97.5 % band, optionally 25-75 % band and the CI for the mean."""
    t = series.times
    sc = lambda col: [v / scale for v in series[col]]
    ax.fill_between(t, sc("p2_5"), sc("p97_5"), color=colour, alpha=style.BAND_OUTER_ALPHA, linewidth=0)
    if inner:
        ax.fill_between(t, sc("p25"), sc("p75"), color=colour, alpha=style.BAND_INNER_ALPHA, linewidth=0)
    if ci:
        ax.fill_between(t, sc("ci_low"), sc("ci_high"), color=colour, alpha=0.45, linewidth=0)
    ax.plot(t, sc("mean"), color=colour, linewidth=1.5, zorder=3)  # lines above every arm's bands


def aggregate_line(ax, series, colour, dashes, scale=1.0, column="value"):
    ax.plot(series.times, [v / scale for v in series[column]], color=colour, linewidth=1.3,
            linestyle=dashes, alpha=0.95, zorder=3.5)


def finish(fig, run, title, handles, ncol=None):
    """Title and run name, the legend below the panels, and the run's footer under the legend."""
    style.finish(fig, title, run.name, handles, footer=run.footer(), ncol=ncol, handlelength=2.6)


def arm_handles(run, arms=None, label="{arm}: mean over replications"):
    return [Line2D([], [], color=arm_colour(run, a), linewidth=1.5, label=label.format(arm=a))
            for a in (arms or run.arms)]


def aggregate_handles(run):
    return [Line2D([], [], color="0.2", linewidth=1.3, linestyle=style.aggregate_style(i),
                   label=f"aggregate stock-flow model ({mode})" if mode != "aggregate" else "aggregate stock-flow model")
            for i, mode in enumerate(run.aggregate_modes)]


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
                    aggregate_line(ax, a, arm_colour(run, arm), style.aggregate_style(i))
        ax.set_title(level, fontsize=10)
        ax.set_ylabel("Children in level")
        ax.yaxis.set_major_formatter(FuncFormatter(thousands))
        ax.grid(**style.GRID)
    hide_unused(axes, len(levels))
    for ax in list(axes.flat)[max(0, len(levels) - ncols):len(levels)]:
        ax.set_xlabel("Time (years)")
    handles = arm_handles(run) + [Patch(color=style.NEUTRAL, alpha=style.BAND_INNER_ALPHA, label=BAND_INNER),
                                  Patch(color=style.NEUTRAL, alpha=style.BAND_OUTER_ALPHA, label=BAND_OUTER)] + aggregate_handles(run)
    finish(fig, run, "Children by level of support", handles, ncol=2)
    return style.save(fig, folder, "stocks", formats), None


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
                    aggregate_line(ax, a, arm_colour(run, arm), style.aggregate_style(i), scale)
        ax.set_title(title, fontsize=10)
        ax.set_ylabel(ylabel)
        ax.yaxis.set_major_formatter(FuncFormatter(thousands))
        ax.grid(**style.GRID)
    handles = arm_handles(run) + [Patch(color=style.NEUTRAL, alpha=style.BAND_INNER_ALPHA, label=BAND_INNER),
                                  Patch(color=style.NEUTRAL, alpha=style.BAND_OUTER_ALPHA, label=BAND_OUTER)]
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
                                color=colour, alpha=style.BAND_OUTER_ALPHA, linewidth=0)
                ax.fill_between(t, [v / scale for v in s["ci_low"]], [v / scale for v in s["ci_high"]],
                                color=colour, alpha=0.5, linewidth=0)
                ax.plot(t, [v / scale for v in s["mean"]], color=colour, linewidth=1.5, zorder=3)
                for i, mode in enumerate(run.aggregate_modes):
                    a, b = run.aggregate_series(mode, arm, q, "all"), run.aggregate_series(mode, first, q, "all")
                    if a is not None and b is not None and a.steps == b.steps:
                        ax.plot(a.times, [(x - y) / scale for x, y in zip(a["value"], b["value"])], color=colour,
                                linewidth=1.3, linestyle=style.aggregate_style(i), zorder=3.5)
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
            ax.grid(**style.GRID)
        handles = (arm_handles(run) + [Patch(color=style.NEUTRAL, alpha=style.BAND_INNER_ALPHA, label=BAND_INNER + " (top row)"),
                                       Patch(color=style.NEUTRAL, alpha=style.BAND_OUTER_ALPHA, label=BAND_OUTER),
                                       Patch(color=style.NEUTRAL, alpha=0.5, label=CI_MEAN + " difference (bottom row)")])
    for ax in axes[-1]:
        ax.set_xlabel("Time (years)")
    handles += aggregate_handles(run)
    finish(fig, run, "Cumulative discounted cost and quality of life", handles, ncol=2)
    return style.save(fig, folder, "costs_qol", formats), None


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
                    dashes = style.aggregate_style(i)
                    if run.aggregate_has(q):
                        a = run.aggregate_series(mode, arm, q, level)
                    else:
                        a = _summed_means(run, arm, level, word, _AggregateSource(run, mode, arm))
                    if a is not None:
                        aggregate_line(ax, a, colour, dashes)
            ax.set_title(f"{level}: {'inflow (moves in + entries)' if word == 'in' else 'outflow (moves out + exits)'}",
                         fontsize=9.5)
            ax.set_ylabel(step_unit(run).capitalize(), fontsize=8.5)
            ax.yaxis.set_major_formatter(FuncFormatter(thousands))
            ax.set_ylim(bottom=0)
            ax.grid(**style.GRID)
    for ax in axes[-1]:
        ax.set_xlabel("Time (years)")
    if direct:
        handles = arm_handles(run) + [Patch(color=style.NEUTRAL, alpha=style.BAND_OUTER_ALPHA, label=BAND_OUTER)]
    else:
        handles = arm_handles(run, label="{arm}: mean (summed from flow, entries and exits rows; no band: "
                                         "percentiles do not add up)")
    handles += aggregate_handles(run)
    finish(fig, run, "Flows into and out of each level", handles, ncol=1 if not direct else 2)
    return style.save(fig, folder, "flows", formats), None


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
                    aggregate_line(ax, a, arm_colour(run, arm), style.aggregate_style(i))
        # stays of children present at the start count from time 0: no stay can exceed the time elapsed
        ax.set_ylim(bottom=0)
        top = ax.get_ylim()[1]
        ax.plot([0, top], [0, top], color="0.35", linewidth=0.9, linestyle=":")
        ax.set_ylim(0, top)
        ax.set_title(level, fontsize=10)
        ax.set_ylabel("Mean length of stay (years)")
        ax.grid(**style.GRID)
    hide_unused(axes, len(levels))
    for ax in list(axes.flat)[max(0, len(levels) - ncols):len(levels)]:
        ax.set_xlabel("Time (years)")
    handles = (arm_handles(run) + [Patch(color=style.NEUTRAL, alpha=style.BAND_OUTER_ALPHA, label=BAND_OUTER)] + aggregate_handles(run)
               + [Line2D([], [], color="0.35", linewidth=0.9, linestyle=":",
                         label="time elapsed: the longest stay possible (stays of children present at the "
                               "start are counted from time 0)")])
    finish(fig, run, "Mean completed length of stay of the children leaving each level during a step", handles,
           ncol=1)
    return style.save(fig, folder, "length_of_stay", formats), None


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
        ax.grid(**style.GRID)
    handles = [Line2D([], [], marker="o", linestyle="", color="0.45", alpha=0.6, markersize=4,
                      label="one replication (paired: same random numbers)"),
               Line2D([], [], marker="D", linestyle="", color="0.45", markeredgecolor="black", markersize=7,
                      label="mean over replications")]
    finish(fig, run, "Cost-effectiveness plane (whole horizon, discounted)", handles, ncol=2)
    return style.save(fig, folder, "ce_plane", formats), None


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
    ax.grid(**style.GRID)
    finish(fig, run, "Cost-effectiveness acceptability curve", handles, ncol=1)
    return style.save(fig, folder, "ceac", formats), None


# ---------------------------------------------------------------------------
# Command line


def make_figures(run, folder, formats, wtp_max, note=print):
    os.makedirs(folder, exist_ok=True)
    style.apply()
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
    args.formats, problem = style.parse_formats(args.format)
    if problem:
        p.error(problem)
    if not (args.wtp_max > 0 and math.isfinite(args.wtp_max)):
        p.error("--wtp-max must be a positive number")
    return args


def main(argv=None):
    args = parse_args(argv)
    if style.plt is None:
        print(f"figures.py: error: {style.MISSING}", file=sys.stderr)
        return 1
    if not os.path.isdir(args.run_dir):
        print(f"figures.py: error: {args.run_dir}: not a folder", file=sys.stderr)
        return 1
    out = args.out or os.path.join(args.run_dir, "figures")
    try:
        run = RunFolder(args.run_dir)
        written = make_figures(run, out, args.formats, args.wtp_max,
                               note=lambda m: print(m, file=sys.stderr))
    except OutputError as e:
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
