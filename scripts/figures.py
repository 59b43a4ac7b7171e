#!/usr/bin/env python3
"""Figures for papers from a girfec run folder, each with its caption beside it.

Usage:
    python3 scripts/figures.py DIR [--out FIGDIR] [--wtp-max POUNDS] [--level NAME] [--only LIST]
        [--format png,pdf] [--width single|double] [--font-size PT] [--dpi N]

DIR is a folder written by `girfec run ... --out DIR` (or `girfec merge`).
Reads DIR/bands.csv, DIR/bands-yearly.csv (girfec's statistics of each
year's totals), DIR/replications.csv, DIR/manifest.json, DIR/summary.csv
(the acceptability curve and the share cheaper and better, as girfec computed
them) and, when present, DIR/aggregate.csv (the deterministic aggregate stock-flow model on
the same parameters); docs/outputs.md documents the files. Writes, into
DIR/figures/ unless --out is given, each figure in every --format (default
PNG at 200 dpi and PDF) and its caption as NAME.caption.txt: what is shown,
the interval type, scenario, replications and seed (from manifest.json).

  stocks          stock per level: mean, 2.5-97.5 % and 25-75 % bands across
                  replications, aggregate model line (dashed) when available
  costs_qol       cumulative discounted cost and QoL-years per arm (a note
                  when the arms' lines overlap); paired differences from the
                  first arm with the 95 % CI for the mean and the 2.5-97.5 %
                  band across replications (break-even)
  flows           inflow and outflow per level per year, and each later arm's
                  difference from the first
  escalation      moves to a later level (escalation) and to an earlier one
                  (step-down) per year, and the difference from the first arm
  budget          yearly cost by level and programme per arm (undiscounted),
                  and each later arm's difference from the first by level
  areas           with two or more areas: per area (small multiples), the
                  children at each year's end, escalations and step-downs,
                  and the cost of its children per year, per arm
  level_NAME      one level (--level, default the last, most intensive):
                  stock, length of stay, and per arm the yearly inflow by
                  source and outflow by destination ("same stock, different
                  flows")
  length_of_stay  length of stay per level, each model's definition named
                  (only when bands.csv has length_of_stay_years rows)
  ce_plane        paired (delta QoL-years, delta cost) per replication, per
                  later arm
  ce_frontier     every arm's mean discounted cost and QoL-years, the
                  efficiency frontier and its ICERs (incremental.csv; only
                  when the folder has it)
  ceac            with acceptability.csv: the probability that each arm has
                  the highest net monetary benefit against willingness to
                  pay, and the acceptability frontier; without it (older
                  folders): the probability that the net monetary benefit
                  is positive, per later arm against the first, with its
                  95 % CI (summary.csv's probability_cost_effective rows)

Yearly totals (flows, escalation, budget, areas, level_NAME) are girfec's: the
rows of bands-yearly.csv, drawn with their 95 % confidence interval for the
mean as error bars; a folder without bands-yearly.csv (an older girfec)
gets those figures skipped, with a note naming the file.
A one-arm run gets no difference panels, CE plane or CEAC (a note says so).
--width single|double makes every figure one (85 mm) or two (175 mm) journal
columns wide. Standard library and matplotlib only
(scripts/install-python-deps.sh installs matplotlib). Exit status: 0 on
success, 1 on a data error (the message names the file), 2 on a usage error.
"""
import argparse
import math
import os
import sys

from girfec_py import schema, style
from girfec_py.runfolder import OutputError, RunFolder, Series, read_table
from girfec_py.style import BAND_INNER, BAND_OUTER, grid_shape, hide_unused, new_figure, pt, thousands

try:
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch
    from matplotlib.ticker import FuncFormatter, MaxNLocator
except ImportError:  # reported by main(); the computations and the readers work without it
    pass

CI_MEAN = "95 % confidence interval for the mean"
CI_SHORT = "95 % CI for the mean"
DEFAULT_FORMATS = "png,pdf"
NO_PARAMETER_UNCERTAINTY = "Monte Carlo variation only: no parameter uncertainty was drawn"


class UsageError(Exception):
    """A command-line choice that does not fit the data (exit status 2)."""


# ---------------------------------------------------------------------------
# Pure computations (no matplotlib)


def ceac_points(run, arm, wtp_max=None):
    """(λ, probability, CI low, CI high) of an arm's acceptability curve as girfec computed it: summary.csv's
    `probability_cost_effective` rows (share of replications with λ·ΔQoL − Δcost > 0 and Wilson's 95 % interval),
    up to `wtp_max` when given."""
    return [(r["willingness_to_pay"], r["mean"], r["ci_low"], r["ci_high"])
            for r in run.measure(arm, "probability_cost_effective")
            if wtp_max is None or r["willingness_to_pay"] <= wtp_max]


def acceptability_curves(run, wtp_max=None):
    """Every arm's probability of the highest net monetary benefit, {arm: [(λ, probability)]}, and the acceptability
    frontier [(λ, arm, probability)] (the arm with the highest expected NMB), as girfec computed them in
    acceptability.csv, up to `wtp_max` when given; ({}, []) without that file."""
    curves, frontier = {}, []
    for r in run.acceptability or []:
        lam = r["willingness_to_pay"]
        if wtp_max is not None and lam > wtp_max:
            continue
        curves.setdefault(r["arm"], []).append((lam, r["probability_best"]))
        if r["on_frontier"]:
            frontier.append((lam, r["arm"], r["probability_best"]))
    return curves, frontier


def frontier_switches(frontier):
    """[(λ, arm)] where the acceptability frontier changes arm, starting with the first λ."""
    out = []
    for lam, arm, _p in frontier:
        if not out or out[-1][1] != arm:
            out.append((lam, arm))
    return out


def win_win(run, arm):
    """(share cheaper and better, replications) from summary.csv's `probability_win_win` row; None if absent."""
    rows = run.measure(arm, "probability_win_win")
    return (rows[0]["mean"], rows[0]["replications"]) if rows else None


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


def provenance(manifest, name):
    """`Scenario “NAME”; N replications, seed S; girfec V.` from manifest.json (and the replications covered)."""
    reps = manifest.get("replications")
    text = (f"Scenario “{name}”; {reps:,} replications" if isinstance(reps, int) else f"Scenario “{name}”")
    text += f", seed {manifest.get('seed', '?')}; girfec {manifest.get('version', '?')}"
    if manifest.get("complete") is False:
        text += f" (incomplete folder: replications {manifest.get('replicationsCovered')} only)"
    return text + "."


def uncertainty_text(manifest):
    """What the spread across replications holds: chance only, or parameter draws and chance (manifest.json)."""
    pu = manifest.get("parameterUncertainty")
    if not isinstance(pu, dict) or not pu.get("drawn"):
        return NO_PARAMETER_UNCERTAINTY
    draws, per = pu.get("draws"), pu.get("replicationsPerDraw")
    what = f"{draws:,} parameter draws" if isinstance(draws, int) else "parameter draws"
    if isinstance(per, int):
        what += f" × {per:,} replication{'s' if per != 1 else ''} per draw"
    return f"Parameter uncertainty ({what}) and Monte Carlo variation"


# ---------------------------------------------------------------------------
# Drawing helpers


def arm_colour(run, arm):
    return style.colour(run.arms.index(arm))


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


def finish(fig, run, title, handles, ncol=None, note=None):
    """Title, run name (and a note), the legend below the panels, and the run's footer under the legend."""
    subtitle = run.name + (f"\n{note}" if note else "")
    style.finish(fig, title, subtitle, handles, footer=run.footer(), ncol=ncol, handlelength=2.6)


def save(fig, run, folder, name, formats, caption):
    """Write the figure in each format and its caption (NAME.caption.txt); the paths written."""
    files = style.save(fig, folder, name, formats)
    text = f"{caption} {provenance(run.manifest, run.name)}"
    return files + [style.write_caption(folder, name, text)]


def arm_handles(run, arms=None, label="{arm}: mean over replications"):
    return [Line2D([], [], color=arm_colour(run, a), linewidth=1.5, label=label.format(arm=a))
            for a in (arms or run.arms)]


def aggregate_handles(run):
    return [Line2D([], [], color="0.2", linewidth=1.3, linestyle=style.aggregate_style(i),
                   label=f"aggregate stock-flow model ({mode})" if mode != "aggregate" else "aggregate stock-flow model")
            for i, mode in enumerate(run.aggregate_modes)]


def band_patches(inner=True):
    return ([Patch(color=style.NEUTRAL, alpha=style.BAND_INNER_ALPHA, label=BAND_INNER)] if inner else []) + \
        [Patch(color=style.NEUTRAL, alpha=style.BAND_OUTER_ALPHA, label=BAND_OUTER)]


def bands_text(inner=True):
    which = "2.5–97.5 % and 25–75 %" if inner else "2.5–97.5 %"
    return (f"Shaded bands: where single replications fall ({which} of replications), "
            f"not confidence intervals for the mean.")


def aggregate_text(run):
    if not run.aggregate_modes:
        return ""
    return (f"Dashed: the deterministic aggregate stock-flow model on the same scenario "
            f"({', '.join(run.aggregate_modes)}).")


def chance_text(run):
    return uncertainty_text(run.manifest) + "."


def year_axis(ax):
    """`Year` (1 = the year of the first steps) with a tick per year up to 12 years, else whole years."""
    ax.set_xlabel("Year")
    last = int(math.floor(ax.dataLim.x1 + 0.5)) if ax.dataLim.x1 > 0 else 0
    if 1 <= last <= 12:
        inches_per_year = ax.get_figure().get_figwidth() / ax.get_gridspec().ncols / last
        ax.set_xticks(range(1, last + 1, 1 if inches_per_year >= 0.25 else 2))
    else:
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))


def panel_note(ax, text, where="upper left", share=0.85):
    """A short note inside a panel, wrapped to `share` of its width."""
    x, ha = (0.02, "left") if "left" in where else (0.98, "right")
    y, va = (0.97, "top") if "upper" in where else (0.03, "bottom")
    width = ax.get_figure().get_figwidth() / ax.get_gridspec().ncols * share
    ax.text(x, y, style.wrap(text, width, pt(7.5)), transform=ax.transAxes, ha=ha, va=va, fontsize=pt(7.5),
            color="0.25", zorder=6, bbox={"facecolor": "white", "alpha": 0.6, "edgecolor": "none", "pad": 1.5})


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
        style.panel_title(ax, level)
        ax.set_ylabel("Children in level")
        ax.yaxis.set_major_formatter(FuncFormatter(thousands))
        ax.grid(**style.GRID)
    hide_unused(axes, len(levels))
    for ax in list(axes.flat)[max(0, len(levels) - ncols):len(levels)]:
        ax.set_xlabel("Time (years)")
    handles = arm_handles(run) + band_patches() + aggregate_handles(run)
    finish(fig, run, "Children by level of support", handles, ncol=2)
    caption = (f"Children in each level of support at the end of each step, per arm "
               f"({', '.join(run.arms)}): mean over replications (line). {bands_text()} {aggregate_text(run)} "
               f"{chance_text(run)}")
    return save(fig, run, folder, "stocks", formats, caption), None


def overlap_note(run, quantity, ax, scale, unit):
    """When each later arm's mean line is within 1 % of the panel's height of the first arm's at every step (from the
    `delta_` rows), a phrase per arm saying by how much at most; [] when the lines are apart."""
    low, high = ax.get_ylim()
    first = run.series(run.arms[0], quantity, "all")
    notes = []
    for arm in run.arms[1:]:
        d = run.series(arm, "delta_" + quantity, "all")
        if d is None or first is None:
            continue
        biggest = max((abs(v) for v in d["mean"] if not math.isnan(v)), default=0.0) / scale
        total = max((abs(v) for v in first["mean"] if not math.isnan(v)), default=0.0) / scale
        if biggest < 0.01 * (high - low):
            share = f" ({100 * biggest / total:.2g} %)" if total else ""
            notes.append(f"{arm} within {thousands(biggest, digits=3)} {unit}{share}")
    return notes


def fig_costs_qol(run, formats, folder):
    cost_q, qol_q = "cumulative_cost_discounted", "cumulative_qol_years_discounted"
    if not (run.has(cost_q) and run.has(qol_q)):
        return None, f"bands.csv has no {cost_q} / {qol_q} rows"
    later = run.arms[1:]
    with_delta = bool(later) and run.has("delta_" + cost_q)
    single = style.LAYOUT.width == "single"
    panels_top = [(cost_q, 1e6, "Cumulative discounted cost (£ million)", "Cost", "£ million"),
                  (qol_q, 1.0, "Cumulative discounted QoL-years", "Quality of life", "QoL-years")]
    if single:
        fig, axes = new_figure(4 if with_delta else 2, 1, height=11.0 if with_delta else 6.0)
        top, bottom = [axes[0][0], axes[1][0]], ([axes[2][0], axes[3][0]] if with_delta else [])
    else:
        fig, axes = new_figure(2 if with_delta else 1, 2, height=6.6 if with_delta else 3.9)
        top, bottom = list(axes[0]), (list(axes[1]) if with_delta else [])
    overlapping = []
    for ax, (q, scale, ylabel, title, unit) in zip(top, panels_top):
        for arm in run.arms:
            s = run.series(arm, q, "all")
            if s is not None:
                fan(ax, s, arm_colour(run, arm), scale=scale)
            for i, mode in enumerate(run.aggregate_modes):
                a = run.aggregate_series(mode, arm, q, "all")
                if a is not None:
                    aggregate_line(ax, a, arm_colour(run, arm), style.aggregate_style(i), scale)
        style.panel_title(ax, title)
        style.set_ylabel(ax, ylabel)
        ax.yaxis.set_major_formatter(FuncFormatter(thousands))
        ax.grid(**style.GRID)
        notes = overlap_note(run, q, ax, scale, unit) if with_delta else []
        if notes:  # the lines lie on top of each other at this scale: say so, and point to the difference panel
            panel_note(ax, f"Lines overlap at this scale: {'; '.join(notes)} of {run.arms[0]} at every step. "
                           f"The difference is drawn below.", where="upper left", share=0.55)
            overlapping.append(title.lower())
    handles = arm_handles(run) + band_patches()
    if with_delta:
        first = run.arms[0]
        delta_panels = [(cost_q, 1e6, f"Difference from {first} (£ million)", "Cost difference"),
                        (qol_q, 1.0, f"Difference from {first} (QoL-years)", "QoL difference")]
        for ax, (q, scale, ylabel, title) in zip(bottom, delta_panels):
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
            style.panel_title(ax, "\n".join([title] + notes), size=10 if len(notes) < 2 else 9)
            style.set_ylabel(ax, ylabel)
            ax.yaxis.set_major_formatter(FuncFormatter(thousands))
            ax.grid(**style.GRID)
        handles = (arm_handles(run) + [Patch(color=style.NEUTRAL, alpha=style.BAND_INNER_ALPHA,
                                             label=BAND_INNER + " (top row)"),
                                       Patch(color=style.NEUTRAL, alpha=style.BAND_OUTER_ALPHA, label=BAND_OUTER),
                                       Patch(color=style.NEUTRAL, alpha=0.5, label=CI_MEAN + " difference (bottom row)")])
    for ax in (bottom or top)[-1:] if single else axes[-1]:
        ax.set_xlabel("Time (years)")
    handles += aggregate_handles(run)
    finish(fig, run, "Cumulative discounted cost and quality of life", handles, ncol=2)
    caption = (f"Cumulative discounted cost (£ million) and quality-adjusted life-years from the start, per arm "
               f"({', '.join(run.arms)}): mean over replications (line). {bands_text()}")
    if overlapping:
        caption += (f" In the {' and '.join(overlapping)} panel the arms' lines overlap at that scale; the "
                    f"panel says by how much they differ at most.")
    if with_delta:
        caption += (f" Lower panels: each later arm minus {first} in the same replication (paired, common random "
                    f"numbers): mean, {CI_MEAN} (darker) and 2.5–97.5 % of replications (lighter); a dotted "
                    f"vertical line where the mean cost difference falls below 0 and stays there.")
    caption += f" {aggregate_text(run)} {chance_text(run)}"
    return save(fig, run, folder, "costs_qol", formats, caption), None


# ---------------------------------------------------------------------------
# Yearly totals: girfec's bands-yearly.csv, drawn as it is


YEARLY_FILE = "bands-yearly.csv"
YEARLY_COLUMNS = schema.YEARLY_BANDS.fixed("arm", "area", "year", "start_years", "end_years", "quantity", "level",
                                           "from_level", "to_level", "replications", "mean", "ci_low", "ci_high")


class YearlyBands:
    """bands-yearly.csv: girfec's mean and 95 % CI of each year's total (or end-of-year state) per arm, area
    ("all", or one of `areas`), quantity and level (or flow), rows by year; `missing` when the folder has no such file
    (written by an older girfec)."""

    def __init__(self, folder):
        self.path = os.path.join(folder, YEARLY_FILE)
        self.missing = not os.path.isfile(self.path)
        self.rows = {}
        self.areas = []
        if self.missing:
            return
        for r in read_table(self.path, schema.YEARLY_BANDS, YEARLY_COLUMNS):
            if r["area"] != "all" and r["area"] not in self.areas:
                self.areas.append(r["area"])
            self.rows.setdefault((r["arm"], r["quantity"], r["level"], r["from_level"], r["to_level"], r["area"]), []).append(r)
        for rows in self.rows.values():
            rows.sort(key=lambda r: r["year"])

    def get(self, arm, quantity, level="", from_level="", to_level="", area="all"):
        """The rows of one arm, quantity and level (or flow) of all areas (or of `area`), by year; [] when absent."""
        return self.rows.get((arm, quantity, level, from_level, to_level, area), [])

    def has(self, quantity):
        return any(k[1] == quantity for k in self.rows)

    def why_not(self, *quantities):
        """Why a yearly figure cannot be drawn (the file or a quantity is missing), or None."""
        if self.missing:
            return (f"{self.path}: file not found; the yearly figures draw girfec's yearly totals from it "
                    f"(a folder from an older girfec: run it again)")
        absent = [q for q in quantities if not self.has(q)]
        return f"{self.path}: no {', '.join(absent)} rows" if absent else None

    def replications(self):
        """The replications behind the rows (a sorted list of the distinct counts)."""
        return sorted({r["replications"] for rows in self.rows.values() for r in rows})

    def uneven_years(self):
        """True when some year's steps do not cover exactly 12 months (end_years − start_years ≠ 1)."""
        return any(abs(r["end_years"] - r["start_years"] - 1) > 1e-9 for rows in self.rows.values() for r in rows)


def yearly_ci_text(run, yearly, what="yearly total"):
    """The caption's sentence on the interval drawn: girfec's 95 % CI of each yearly total, over how many
    replications (and draw means in a nested run), and how years are made of steps."""
    counts = yearly.replications()
    n = f"{counts[0]:,}" if len(counts) == 1 else f"{counts[0]:,}–{counts[-1]:,}"
    text = (f"Error bars: the {CI_MEAN} of each {what} (ci_low to ci_high in {YEARLY_FILE}, computed by girfec from "
            f"the yearly totals of the {n} replications in replications-yearly.csv)")
    pu = run.manifest.get("parameterUncertainty")
    if isinstance(pu, dict) and pu.get("drawn") and (pu.get("replicationsPerDraw") or 1) > 1:
        text += "; with several replications per parameter draw, from the spread of the draw means"
    text += ". A step counts in the year in which it ends"
    if yearly.uneven_years():
        text += ("; here some years' steps cover more or less than 12 months (start_years to end_years in "
                 f"{YEARLY_FILE}), so their totals are not directly comparable")
    return text + "."


def dodge(i, n, width=0.36):
    """Horizontal offset (years) of series i of n drawn side by side at each year, so error bars do not overlap."""
    return 0.0 if n <= 1 else -width / 2 + width * i / (n - 1)


def yearly_errorbar(ax, rows, colour, offset=0.0, scale=1.0, sign=1, linestyle="-", marker="o", linewidth=1.3,
                    markersize=3.0, zorder=3):
    """An arm's yearly means (line and markers) with their 95 % CI as error bars, from bands-yearly.csv rows."""
    if not rows:
        return
    x = [r["year"] + offset for r in rows]
    mean = [sign * r["mean"] / scale for r in rows]
    low = [sign * r["ci_low"] / scale for r in rows]
    high = [sign * r["ci_high"] / scale for r in rows]
    below = [0.0 if math.isnan(m) or math.isnan(a) else max(0.0, m - min(a, b)) for m, a, b in zip(mean, low, high)]
    above = [0.0 if math.isnan(m) or math.isnan(b) else max(0.0, max(a, b) - m) for m, a, b in zip(mean, low, high)]
    ax.errorbar(x, mean, yerr=[below, above], color=colour, linestyle=linestyle, marker=marker, markersize=markersize,
                linewidth=linewidth, elinewidth=1.1, capsize=2.2, capthick=1.0, zorder=zorder)


def ci_handle(ax, label=None, colour="0.3", marker="o", markersize=3.0):
    """A legend entry drawn as an error bar: an errorbar at NaN on `ax` (nothing shows, the limits stay)."""
    handle = ax.errorbar([math.nan], [math.nan], yerr=[[1.0], [1.0]], color=colour, linestyle="", marker=marker,
                         markersize=markersize, elinewidth=1.1, capsize=2.2, capthick=1.0)
    handle.set_label(label or f"error bar: {CI_SHORT} of the yearly total")
    return handle


IN_STYLE, OUT_STYLE = "-", (0, (4, 1.6))


def fig_flows(run, yearly, formats, folder):
    why = yearly.why_not("inflow", "outflow")
    if why:
        return None, why
    levels, first, later = run.levels, run.arms[0], run.arms[1:]
    with_delta = bool(later) and yearly.has("delta_inflow")
    ncols = 2 if with_delta else 1
    fig, axes = new_figure(len(levels), ncols, width=4.2 * ncols + 0.8, height=2.2 * len(levels) + 1.0)
    directions = (("inflow", IN_STYLE, "o"), ("outflow", OUT_STYLE, "s"))
    for row, level in enumerate(levels):
        ax = axes[row][0]
        n = len(run.arms) * 2
        for i, arm in enumerate(run.arms):
            for j, (q, dashes, marker) in enumerate(directions):
                yearly_errorbar(ax, yearly.get(arm, q, level), arm_colour(run, arm), dodge(2 * i + j, n),
                                linestyle=dashes, marker=marker)
        style.panel_title(ax, f"{level}: children in and out")
        ax.set_ylabel("Children per year")
        ax.yaxis.set_major_formatter(FuncFormatter(thousands))
        ax.grid(**style.GRID)
        if with_delta:
            ax = axes[row][1]
            ax.axhline(0, color="0.3", linewidth=0.8)
            n = len(later) * 2
            for i, arm in enumerate(later):
                for j, (q, dashes, marker) in enumerate(directions):
                    yearly_errorbar(ax, yearly.get(arm, "delta_" + q, level), arm_colour(run, arm),
                                    dodge(2 * i + j, n), linestyle=dashes, marker=marker)
            style.panel_title(ax, f"{level}: difference from {first}")
            ax.set_ylabel("Δ children per year")
            ax.yaxis.set_major_formatter(FuncFormatter(thousands))
            ax.grid(**style.GRID)
    for ax in axes[-1]:
        year_axis(ax)
    handles = arm_handles(run, label="{arm}") + [
        Line2D([], [], color="0.3", linestyle=IN_STYLE, marker="o", markersize=2.8,
               label="inflow: moves in from other levels + entries"),
        Line2D([], [], color="0.3", linestyle=OUT_STYLE, marker="s", markersize=2.8,
               label="outflow: moves out to other levels + exits"),
        ci_handle(axes[0][0])]
    finish(fig, run, "Flows into and out of each level, per year", handles, ncol=2)
    caption = (f"Children arriving in (solid) and leaving (dashed) each level per year, per arm "
               f"({', '.join(run.arms)}), from the inflow and outflow rows of {YEARLY_FILE}: mean over "
               f"replications of each year's total.")
    if with_delta:
        caption += (f" Panels “LEVEL: difference from {first}”: each later arm minus {first} in the same "
                    f"replication (paired, common random numbers; the delta_inflow and delta_outflow rows), mean.")
    caption += f" {yearly_ci_text(run, yearly)} "
    caption += ("The aggregate model's flows are in aggregate.csv and comparison.csv. " if run.aggregate_modes
                else "")
    caption += chance_text(run)
    return save(fig, run, folder, "flows", formats, caption), None


def fig_escalation(run, yearly, formats, folder):
    if len(run.levels) < 2:
        return None, "one level: no escalation or step-down"
    why = yearly.why_not("escalations", "step_downs")
    if why:
        return None, why
    first, later = run.arms[0], run.arms[1:]
    with_delta = bool(later) and yearly.has("delta_escalations")
    n = 3 if with_delta else 2
    single = style.LAYOUT.width == "single"
    fig, axes = new_figure(n if single else 1, 1 if single else n, width=None if single else 3.4 * n + 0.4,
                           height=None if single else 3.4, sharex=True)
    flat = list(axes.flat)
    for ax, q, title, dashes in ((flat[0], "escalations", "Escalation: moves to a more intensive level", IN_STYLE),
                                 (flat[1], "step_downs", "Step-down: moves to a less intensive level", OUT_STYLE)):
        for i, arm in enumerate(run.arms):
            yearly_errorbar(ax, yearly.get(arm, q, "all"), arm_colour(run, arm), dodge(i, len(run.arms), 0.24),
                            linestyle=dashes, linewidth=1.5)
        style.panel_title(ax, title, columns=1 if single else n)
        ax.set_ylabel("Children per year")
    if with_delta:
        ax = flat[2]
        ax.axhline(0, color="0.3", linewidth=0.8)
        for i, arm in enumerate(later):
            for j, (q, dashes) in enumerate((("escalations", IN_STYLE), ("step_downs", OUT_STYLE))):
                yearly_errorbar(ax, yearly.get(arm, "delta_" + q, "all"), arm_colour(run, arm),
                                dodge(2 * i + j, 2 * len(later), 0.3), linestyle=dashes, linewidth=1.5)
        style.panel_title(ax, f"Difference from {first}", columns=1 if single else n)
        ax.set_ylabel("Δ children per year")
    for ax in flat:
        ax.yaxis.set_major_formatter(FuncFormatter(thousands))
        ax.grid(**style.GRID)
        year_axis(ax)
    if single:  # stacked panels share the year axis: its label once, under the last
        for ax in flat[:-1]:
            ax.set_xlabel("")
    handles = arm_handles(run, label="{arm}") + [
        Line2D([], [], color="0.3", linestyle=IN_STYLE, label="escalation (to a later level)"),
        Line2D([], [], color="0.3", linestyle=OUT_STYLE, label="step-down (to an earlier level)"),
        ci_handle(flat[0])]
    finish(fig, run, "Escalation and step-down, per year", handles, ncol=2)
    caption = (f"Moves between levels per year, per arm ({', '.join(run.arms)}): escalation (solid) is a move to a "
               f"level later in the scenario's order ({' < '.join(run.levels)}), step-down (dashed) a move to an "
               f"earlier one; the escalations and step_downs rows of {YEARLY_FILE} (entries and exits are not "
               f"moves). Mean over replications of each year's total.")
    if with_delta:
        caption += (f" Panel “Difference from {first}”: each later arm minus {first} in the same replication "
                    f"(paired; the delta_escalations and delta_step_downs rows), mean.")
    caption += f" {yearly_ci_text(run, yearly)} {chance_text(run)}"
    return save(fig, run, folder, "escalation", formats, caption), None


PROGRAMME_COLOUR = "0.6"


def fig_budget(run, yearly, formats, folder):
    why = yearly.why_not("cost")
    if why:
        return None, why
    levels, first, later = run.levels, run.arms[0], run.arms[1:]
    colours = style.level_colours(len(levels))
    with_delta = bool(later) and yearly.has("delta_cost")
    n = len(run.arms) + (len(later) if with_delta else 0)
    nrows, ncols = grid_shape(n)
    fig, axes = new_figure(nrows, ncols, sharex=True)
    flat = list(axes.flat)
    scale = 1e6
    for ax, arm in zip(flat, run.arms):
        bottom = {}
        parts = [(yearly.get(arm, "cost", lvl), colours[i], None) for i, lvl in enumerate(levels)]
        parts.append((yearly.get(arm, "programme_cost", "all"), PROGRAMME_COLOUR, "////"))
        for rows, colour, hatch in parts:
            if not rows:
                continue
            years = [r["year"] for r in rows]
            heights = [r["mean"] / scale for r in rows]
            base = [bottom.get(y, 0.0) for y in years]
            ax.bar(years, heights, bottom=base, width=0.8, color=colour, hatch=hatch, edgecolor="white",
                   linewidth=0.4)
            for y, b, h in zip(years, base, heights):
                bottom[y] = b + h
        # the total (levels and programme: girfec's cost rows of level all) with its 95 % CI, on top of the stack
        yearly_errorbar(ax, yearly.get(arm, "cost", "all"), "black", scale=scale, linestyle="", marker="_",
                        markersize=7, zorder=5)
        style.panel_title(ax, f"{arm}: cost per year")
        ax.set_ylabel("£ million (undiscounted)")
    top = max(ax.get_ylim()[1] for ax in flat[:len(run.arms)])
    for ax in flat[:len(run.arms)]:
        ax.set_ylim(0, top)
    if with_delta:
        k = len(levels) + 2
        for ax, arm in zip(flat[len(run.arms):], later):
            ax.axhline(0, color="0.3", linewidth=0.8)
            for i, lvl in enumerate(levels):
                yearly_errorbar(ax, yearly.get(arm, "delta_cost", lvl), colours[i], dodge(i, k, 0.4), scale=scale,
                                linewidth=1.4)
            yearly_errorbar(ax, yearly.get(arm, "delta_programme_cost", "all"), PROGRAMME_COLOUR,
                            dodge(k - 2, k, 0.4), scale=scale, marker="s", linestyle=OUT_STYLE, linewidth=1.4)
            yearly_errorbar(ax, yearly.get(arm, "delta_cost", "all"), "black", dodge(k - 1, k, 0.4), scale=scale,
                            marker="D", linewidth=2.0, zorder=4)
            style.panel_title(ax, f"{arm} minus {first}, by level")
            ax.set_ylabel("Δ £ million (undiscounted)")
        delta_axes = flat[len(run.arms):n]
        low = min(ax.get_ylim()[0] for ax in delta_axes)
        high = max(ax.get_ylim()[1] for ax in delta_axes)
        for ax in delta_axes:  # one scale, so the arms' differences compare
            ax.set_ylim(low, high)
    for ax in flat[:n]:
        ax.yaxis.set_major_formatter(FuncFormatter(thousands))
        ax.grid(axis="y", **style.GRID)
        year_axis(ax)
    hide_unused(axes, n)
    handles = [Patch(color=c, label=lvl) for lvl, c in zip(levels, colours)]
    handles.append(Patch(facecolor=PROGRAMME_COLOUR, hatch="////", edgecolor="white",
                         label="programme" + (" (difference: dashed grey)" if with_delta else "")))
    handles.append(ci_handle(flat[0], f"total (levels and programme), {CI_SHORT}", "black", "_", 7))
    if with_delta:
        handles.append(Line2D([], [], color="black", linewidth=2.0, marker="D", markersize=3,
                              label="difference in total cost (levels and programme)"))
    finish(fig, run, "Budget by level, per year", handles, ncol=2)
    caption = (f"Undiscounted cost per year (£ million) of the time children spend in each level, and of the "
               f"programme, per arm ({', '.join(run.arms)}), from the cost and programme_cost rows of {YEARLY_FILE} "
               f"(each level's yearly budget): mean over replications, stacked; the black mark on each stack is the "
               f"total (the cost rows of level all: levels and programme) with its error bar.")
    if with_delta:
        caption += (f" Panels “ARM minus {first}, by level”: each later arm minus {first} in the same replication "
                    f"(paired; the delta_ rows), mean, per level, programme (dashed) and in total (black), each with "
                    f"its error bar, side by side at each year, on one scale.")
    caption += f" {yearly_ci_text(run, yearly)} {chance_text(run)}"
    return save(fig, run, folder, "budget", formats, caption), None


def fig_areas(run, yearly, formats, folder):
    """Small multiples, one column per area: children at each year's end, escalations and step-downs, and the cost
    of the area's children per year, per arm with girfec's 95 % CI (the area rows of bands-yearly.csv)."""
    if yearly.missing:
        return None, yearly.why_not("stock")
    if not yearly.areas:
        return None, "one area: the area rows would repeat all areas"
    areas = yearly.areas
    rows_spec = (("stock", "Children at the year's end", "Children", 1.0),
                 ("moves", "Escalations (solid) and step-downs (dashed)", "Children per year", 1.0),
                 ("cost", "Cost of the area's children", "£ million (undiscounted)", 1e6))
    fig, axes = new_figure(len(rows_spec), len(areas), width=3.3 * len(areas) + 0.6, height=2.5 * len(rows_spec) + 1.4,
                           sharex=True)
    for c, area in enumerate(areas):
        for r, (what, title, unit, scale) in enumerate(rows_spec):
            ax = axes[r][c]
            for i, arm in enumerate(run.arms):
                colour, offset = arm_colour(run, arm), dodge(i, len(run.arms), 0.24)
                if what == "moves":
                    yearly_errorbar(ax, yearly.get(arm, "escalations", "all", area=area), colour, offset,
                                    linestyle=IN_STYLE, linewidth=1.5)
                    yearly_errorbar(ax, yearly.get(arm, "step_downs", "all", area=area), colour, offset,
                                    linestyle=OUT_STYLE, linewidth=1.5)
                else:
                    yearly_errorbar(ax, yearly.get(arm, what, "all", area=area), colour, offset, scale=scale,
                                    linewidth=1.5)
            style.panel_title(ax, f"{area}: {title}" if r == 0 else title, columns=len(areas))
            ax.set_ylabel(unit if c == 0 else "")
            ax.yaxis.set_major_formatter(FuncFormatter(thousands))
            ax.grid(**style.GRID)
            year_axis(ax)
            if r < len(rows_spec) - 1:
                ax.set_xlabel("")
    for r, (what, _, _, _) in enumerate(rows_spec):  # each area on its own scale (areas differ in size)
        for k in range(len(areas)):  # moves and costs from 0; stocks around their values, so a change shows
            if what != "stock":
                axes[r][k].set_ylim(min(axes[r][k].get_ylim()[0], 0), axes[r][k].get_ylim()[1])
    handles = arm_handles(run, label="{arm}") + [
        Line2D([], [], color="0.3", linestyle=IN_STYLE, label="escalation (to a later level)"),
        Line2D([], [], color="0.3", linestyle=OUT_STYLE, label="step-down (to an earlier level)"),
        ci_handle(axes[0][0])]
    finish(fig, run, "By area, per year", handles, ncol=2)
    caption = (f"Each area ({', '.join(areas)}) on its own, per arm ({', '.join(run.arms)}): the children in the area "
               f"at the end of each year (the stock rows of level all), its escalations and step-downs per year, and "
               f"the undiscounted cost per year of its children's time in the levels and of their one-off transition "
               f"costs (£ million; the cost rows of level all), from the rows of each area in {YEARLY_FILE}; mean "
               f"over replications. Each panel has its own scale, as areas differ in size (moves and costs from 0; the "
               f"children's axis does not start at 0). The programme's cost is authority-wide and in "
               f"no area (it is in the budget figure).")
    caption += f" {yearly_ci_text(run, yearly)} {chance_text(run)}"
    return save(fig, run, folder, "areas", formats, caption), None


def choose_level(run, name=None):
    """The level to decompose: `name`, or the last (most intensive) level; UsageError naming the levels."""
    if name is None:
        return run.levels[-1]
    if name not in run.levels:
        raise UsageError(f"--level {name}: no such level in bands.csv; expected one of {', '.join(run.levels)}")
    return name


def fig_level(run, yearly, formats, folder, level):
    why = yearly.why_not("flow", "entries", "exits", "inflow", "outflow")
    if why:
        return None, why
    levels = run.levels
    others = [lvl for lvl in levels if lvl != level]
    colours = dict(zip(levels, style.level_colours(len(levels))))
    with_los = run.has("length_of_stay_years")
    n = (2 if with_los else 1) + len(run.arms)
    nrows, ncols = grid_shape(n)
    fig, axes = new_figure(nrows, ncols, sharex=False)
    flat = list(axes.flat)
    ax = flat[0]
    for arm in run.arms:
        s = run.series(arm, "stock", level)
        if s is not None:
            fan(ax, s, arm_colour(run, arm), inner=False)
    style.panel_title(ax, f"{level}: children in the level")
    ax.set_ylabel("Children")
    ax.set_xlabel("Time (years)")
    panels = [ax]
    if with_los:
        ax = flat[1]
        for arm in run.arms:
            s = run.series(arm, "length_of_stay_years", level)
            if s is not None:
                fan(ax, s, arm_colour(run, arm), inner=False)
        style.panel_title(ax, f"{level}: completed stay of the children leaving")
        ax.set_ylabel("Years")
        ax.set_xlabel("Time (years)")
        ax.set_ylim(bottom=0)
        panels.append(ax)
    flow_axes = flat[len(panels):n]
    for ax, arm in zip(flow_axes, run.arms):
        ax.axhline(0, color="0.2", linewidth=0.8, zorder=4)
        for sign, parts in ((1, [(yearly.get(arm, "entries", level), "0.82", None)]
                             + [(yearly.get(arm, "flow", "", o, level), colours[o], None) for o in others]),
                            (-1, [(yearly.get(arm, "exits", level), "0.45", None)]
                             + [(yearly.get(arm, "flow", "", level, o), colours[o], "///") for o in others])):
            bottom = {}
            for rows, colour, hatch in parts:
                if not rows:
                    continue
                years = [r["year"] for r in rows]
                heights = [sign * r["mean"] for r in rows]
                base = [bottom.get(y, 0.0) for y in years]
                ax.bar(years, heights, bottom=base, width=0.8, color=colour, hatch=hatch, edgecolor="white",
                       linewidth=0.4, zorder=3)
                for y, b, h in zip(years, base, heights):
                    bottom[y] = b + h
        # girfec's inflow and outflow totals with their 95 % CI, at the ends of the stacks
        yearly_errorbar(ax, yearly.get(arm, "inflow", level), "black", linestyle="", marker="_", markersize=7,
                        zorder=5)
        yearly_errorbar(ax, yearly.get(arm, "outflow", level), "black", sign=-1, linestyle="", marker="_",
                        markersize=7, zorder=5)
        style.panel_title(ax, f"{arm}: in (up) and out (down) per year")
        ax.set_ylabel("Children per year")
        year_axis(ax)
        panels.append(ax)
    low = min(ax.get_ylim()[0] for ax in flow_axes)
    high = max(ax.get_ylim()[1] for ax in flow_axes)
    for ax in flow_axes:
        ax.set_ylim(low, high)
    for ax in panels:
        ax.yaxis.set_major_formatter(FuncFormatter(lambda x, p: thousands(abs(x), p)))
        ax.grid(**style.GRID)
    hide_unused(axes, n)
    handles = (arm_handles(run, label="{arm}: mean over replications") + band_patches(inner=False)
               + [Patch(color="0.82", label="entries (births, in-migrants)"),
                  Patch(color="0.45", label="exits (ageing out, out-migration)")]
               + [Patch(facecolor=colours[o], label=f"moves from / to {o} (to: hatched)") for o in others]
               + [ci_handle(flow_axes[0], f"total in / out, {CI_SHORT}", "black", "_", 7)])
    finish(fig, run, f"{level}: the stock, its length of stay and its flows", handles, ncol=2)
    caption = (f"One level, {level}, per arm ({', '.join(run.arms)}): the children in it (mean over replications "
               f"and 2.5–97.5 % of replications, not a confidence interval)")
    if with_los:
        caption += (", the mean completed stay of the children leaving it during each step (the agents' "
                    "length_of_stay_years; a child present at the start counts the months it is taken to have "
                    "spent in the level already)")
    caption += (f", both from bands.csv step by step; and per year the children arriving (above 0: entries and moves "
                f"from each other level) and leaving (below 0: exits and moves to each other level), stacked means "
                f"of the entries, exits and flow rows of {YEARLY_FILE}, with the year's inflow and outflow (black "
                f"marks: the inflow and outflow rows). Arms with similar stocks can reach them by different flows. "
                f"{yearly_ci_text(run, yearly, 'yearly inflow and outflow')} {chance_text(run)}")
    return save(fig, run, folder, f"level_{safe_name(level)}", formats, caption), None


def safe_name(name):
    """A level name as a file-name part: letters, digits, '.', '_' and '-' only."""
    out = "".join(c if c.isalnum() or c in "._-" else "_" for c in name).strip("._")
    return out or "level"


LOS_AGENT = "agents: mean completed stay of the children who left the level during the step"
LOS_AGGREGATE = "aggregate model: stock at the start of the step ÷ outflow per year (expected stay at that step's rate)"


def fig_length_of_stay(run, formats, folder):
    q = "length_of_stay_years"
    if not run.has(q):
        return None, None  # optional figure: silent when the quantity is absent
    levels = run.levels
    nrows, ncols = grid_shape(len(levels))
    fig, axes = new_figure(nrows, ncols)
    with_aggregate = any(run.aggregate_series(m, a, q, lvl) is not None for m in run.aggregate_modes
                         for a in run.arms for lvl in levels)
    for ax, level in zip(axes.flat, levels):
        for arm in run.arms:
            s = run.series(arm, q, level)
            if s is not None:
                fan(ax, s, arm_colour(run, arm), inner=False)
            for i, mode in enumerate(run.aggregate_modes):
                a = run.aggregate_series(mode, arm, q, level)
                if a is not None:
                    aggregate_line(ax, a, arm_colour(run, arm), style.aggregate_style(i))
        ax.set_ylim(bottom=0)
        style.panel_title(ax, level)
        ax.set_ylabel("Length of stay (years)")
        ax.grid(**style.GRID)
    hide_unused(axes, len(levels))
    for ax in list(axes.flat)[max(0, len(levels) - ncols):len(levels)]:
        ax.set_xlabel("Time (years)")
    handles = (arm_handles(run, label="{arm}, " + LOS_AGENT) + band_patches(inner=False)
               + [Line2D([], [], color="0.2", linewidth=1.3, linestyle=style.aggregate_style(i),
                         label=LOS_AGGREGATE + (f" ({mode})" if mode != "aggregate" else ""))
                  for i, mode in enumerate(run.aggregate_modes) if with_aggregate])
    title = "Length of stay in each level" + (": two definitions" if with_aggregate else "")
    finish(fig, run, title, handles, ncol=1)
    caption = (f"Length of stay in each level (years), per arm ({', '.join(run.arms)}). Solid lines, agents: the "
               f"mean completed stay of the children who left the level during the step, by a move or an exit "
               f"(length_of_stay_years in bands.csv), with 2.5–97.5 % of replications (shaded, not a confidence "
               f"interval). A child present at the start counts the months it is taken to have spent in the level "
               f"already (none with initialMonthsInLevel: zero, drawn from the level's stationary distribution "
               f"with stationary), so early values reflect that assumption.")
    if with_aggregate:
        caption += (" Dashed lines, aggregate model: a different quantity, the stock at the start of the step "
                    "divided by the outflow per year (the expected stay if that step's leaving rate held), "
                    "length_of_stay_years in aggregate.csv. The two agree only in a steady state.")
    caption += f" {chance_text(run)}"
    return save(fig, run, folder, "length_of_stay", formats, caption), None


def fig_ce_plane(run, formats, folder):
    later = run.arms[1:]
    first = run.arms[0]
    n = len(later)
    single = style.LAYOUT.width == "single"
    fig, axes = new_figure(n if single else 1, 1 if single else n, width=max(5.6, 4.8 * n) if not single else None,
                           height=5.0 if not single else None, sharex=False)
    data = {arm: run.replications_by_arm[arm] for arm in later}
    xs = [v for d in data.values() for v in d["delta_qol"] if not math.isnan(v)] + [0.0]
    ys = [v / 1e6 for d in data.values() for v in d["delta_cost"] if not math.isnan(v)] + [0.0]
    padx, pady = 0.06 * (max(xs) - min(xs) or 1), 0.06 * (max(ys) - min(ys) or 1)
    xlim, ylim = (min(xs) - padx, max(xs) + padx), (min(ys) - pady, max(ys) + pady)
    shares = []
    for ax, arm in zip(axes.flat, later):
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
        share = win_win(run, arm)  # girfec's probability_win_win
        if share is not None:
            shares.append(f"{arm}: {100 * share[0]:.1f} % of {share[1]:,}")
        style.panel_title(ax, f"{arm} vs {first}" + (f": cheaper and better in {100 * share[0]:.1f} % of "
                                                     f"{share[1]:,} replications" if share else ""),
                          columns=1 if single else n)
        # name each quadrant in its outer corner, when enough of it is on the plot to hold the words
        fx = (0 - xlim[0]) / (xlim[1] - xlim[0])  # where x = 0 and y = 0 sit, as axes fractions
        fy = (0 - ylim[0]) / (ylim[1] - ylim[0])
        for right, top, text in ((True, False, "cheaper, better"), (True, True, "costlier, better"),
                                 (False, True, "costlier, worse"), (False, False, "cheaper, worse")):
            width = 1 - fx if right else fx
            height = 1 - fy if top else fy
            if width > 0.3 and height > 0.12:
                ax.text(0.98 if right else 0.02, 0.98 if top else 0.02, text, transform=ax.transAxes,
                        ha="right" if right else "left", va="top" if top else "bottom", fontsize=pt(7.5),
                        color="0.4", zorder=5)
        ax.set_xlim(*xlim)
        ax.set_ylim(*ylim)
        ax.set_xlabel(f"Δ discounted QoL-years vs {first}")
        ax.set_ylabel(f"Δ discounted cost vs {first}\n(£ million)")
        ax.xaxis.set_major_formatter(FuncFormatter(thousands))
        ax.yaxis.set_major_formatter(FuncFormatter(thousands))
        ax.grid(**style.GRID)
    handles = [Line2D([], [], marker="o", linestyle="", color="0.45", alpha=0.6, markersize=4,
                      label="one replication (paired: same random numbers)"),
               Line2D([], [], marker="D", linestyle="", color="0.45", markeredgecolor="black", markersize=7,
                      label="mean over replications")]
    spread = uncertainty_text(run.manifest)
    finish(fig, run, "Cost-effectiveness plane (whole horizon, discounted)", handles, ncol=2, note=spread)
    caption = (f"Cost-effectiveness plane: each point is one replication's difference from {first} in total "
               f"discounted QoL-years (x) and cost (y, £ million) over the whole horizon, paired (same random "
               f"numbers), from replications.csv; diamond: the mean over replications."
               + (f" Share of replications cheaper and better (probability_win_win in summary.csv): "
                  f"{'; '.join(shares)}." if shares else "")
               + f" The scatter shows the spread of single replications. "
               f"{spread}.")
    if spread == NO_PARAMETER_UNCERTAINTY:
        caption += " It is not a probabilistic sensitivity analysis: the parameters are fixed at their values."
    return save(fig, run, folder, "ce_plane", formats, caption), None


def fig_ceac_all_arms(run, formats, folder, wtp_max=None):
    """Every arm's probability of the highest NMB against λ, with the acceptability frontier (acceptability.csv)."""
    curves, frontier = acceptability_curves(run, wtp_max)
    if not frontier:
        return None, "acceptability.csv has no rows" + (f" up to £{wtp_max:,.0f}" if wtp_max else "")
    fig, axes = new_figure(1, 1, width=6.4, height=4.4)
    ax = axes[0][0]
    # the frontier first (under the curves): a wide grey band along the frontier arm's curve, broken where it changes
    runs, current = [], []
    for lam, arm, p in frontier:
        if current and current[-1][1] != arm:
            runs.append(current)
            current = []
        current.append((lam, arm, p))
    runs.append(current)
    for seg in runs:
        ax.plot([q[0] for q in seg], [q[2] for q in seg], color="0.55", alpha=0.45, linewidth=7.0,
                solid_capstyle="round", zorder=2)
    handles = []
    for i, arm in enumerate(run.arms):
        pts = curves.get(arm, [])
        if not pts:
            continue
        colour = arm_colour(run, arm)
        ax.plot([p[0] for p in pts], [p[1] for p in pts], color=colour, linewidth=1.6,
                linestyle=style.aggregate_style(i) if i else "-", zorder=3)
        handles.append(Line2D([], [], color=colour, linewidth=1.6, linestyle=style.aggregate_style(i) if i else "-",
                              label=arm))
    handles.append(Line2D([], [], color="0.55", alpha=0.45, linewidth=7.0,
                          label="acceptability frontier: the arm with the highest expected net monetary benefit"))
    top = max(q[0] for q in frontier)
    ax.set_xlim(0, top)
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel("Willingness to pay λ (£ per QoL-year)")
    ax.set_ylabel("Probability of the highest\nnet monetary benefit")
    ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _p: f"£{x:,.0f}"))
    ax.grid(**style.GRID)
    spread = uncertainty_text(run.manifest)
    finish(fig, run, "Cost-effectiveness acceptability curves and frontier", handles, ncol=2, note=spread)
    units = run.acceptability[0]["units"]
    nested = isinstance(run.manifest.get("parameterUncertainty"), dict) and \
        (run.manifest["parameterUncertainty"].get("replicationsPerDraw") or 1) > 1 and \
        run.manifest["parameterUncertainty"].get("drawn")
    over = f"{units:,} parameter draws (each the mean of its replications)" if nested else f"{units:,} replications"
    switches = frontier_switches(frontier)
    path = "; ".join([f"{switches[0][1]} from £{switches[0][0]:,.0f}"]
                     + [f"{arm} from £{lam:,.0f}" for lam, arm in switches[1:]])
    caption = (f"Cost-effectiveness acceptability curves of all {len(run.arms)} arms: for each willingness to pay λ "
               f"from £0 to £{top:,.0f} per QoL-year, the probability that each arm has the highest net monetary "
               f"benefit λ·QoL-years − cost (discounted, whole horizon) over {over}; at each λ the probabilities "
               f"sum to 1 (an arm tied for the highest shares it). Wide grey line: the cost-effectiveness "
               f"acceptability frontier, the arm with the highest expected net monetary benefit ({path}, on the "
               f"grid of λ). From acceptability.csv. {spread}.")
    if spread == NO_PARAMETER_UNCERTAINTY:
        caption += (" The probabilities measure chance alone (how often one realisation of the population comes out "
                    "ahead), not decision uncertainty about the parameters.")
    return save(fig, run, folder, "ceac", formats, caption), None


def fig_ce_frontier(run, formats, folder):
    """Every arm's mean discounted cost and QoL-years with the efficiency frontier and its ICERs (incremental.csv)."""
    if not run.incremental:
        return None, "no incremental.csv (girfec computes the efficiency frontier there)"
    rows = run.incremental
    single = style.LAYOUT.width == "single"
    fig, axes = new_figure(1, 1, width=6.4, height=4.8)
    ax = axes[0][0]
    frontier = [r for r in rows if r["status"] == "frontier"]
    ax.plot([r["qol_years_discounted"] for r in frontier], [r["cost_discounted"] / 1e6 for r in frontier],
            color="0.3", linewidth=1.4, zorder=2)
    markers = {"frontier": ("o", True), "dominated": ("X", True), "extendedly_dominated": ("o", False)}
    for r in rows:
        colour = arm_colour(run, r["arm"])
        marker, filled = markers.get(r["status"], ("o", True))
        ax.scatter([r["qol_years_discounted"]], [r["cost_discounted"] / 1e6], s=40 if single else 70, marker=marker,
                   facecolors=colour if filled else "white", edgecolors="black" if filled and marker == "o" else colour,
                   linewidths=0.8 if filled else 2.0, zorder=4)
        ax.annotate(r["arm"], (r["qol_years_discounted"], r["cost_discounted"] / 1e6), xytext=(6, -10),
                    textcoords="offset points", fontsize=pt(8), color="0.15", zorder=5)
    for r in frontier:
        if r["comparator"] is None or (isinstance(r["comparator"], float) and math.isnan(r["comparator"])) \
                or r["comparator"] == "":
            continue
        prev = next(p for p in frontier if p["arm"] == r["comparator"])
        mx = (r["qol_years_discounted"] + prev["qol_years_discounted"]) / 2
        my = (r["cost_discounted"] + prev["cost_discounted"]) / 2e6
        # below and right of the segment: arms off the frontier lie above and left of it
        ax.annotate(f"ICER £{r['icer']:,.0f}", (mx, my), xytext=(6, -6), textcoords="offset points", ha="left",
                    va="top", fontsize=pt(7.5), color="0.3", zorder=5)
    xs = [r["qol_years_discounted"] for r in rows]
    ys = [r["cost_discounted"] / 1e6 for r in rows]
    padx, pady = 0.12 * (max(xs) - min(xs) or 1), 0.12 * (max(ys) - min(ys) or 1)
    ax.set_xlim(min(xs) - padx, max(xs) + padx)
    ax.set_ylim(min(ys) - pady, max(ys) + pady)
    ax.set_xlabel("Discounted QoL-years (mean over replications)")
    ax.set_ylabel("Discounted cost (£ million,\nmean over replications)")
    ax.xaxis.set_major_formatter(FuncFormatter(thousands))
    ax.yaxis.set_major_formatter(FuncFormatter(thousands))
    ax.grid(**style.GRID)
    handles = [Line2D([], [], color="0.3", linewidth=1.4, marker="o", markerfacecolor="0.5", markeredgecolor="black",
                      label="efficiency frontier"),
               Line2D([], [], linestyle="", marker="o", markerfacecolor="white", markeredgecolor="black",
                      label="extendedly dominated"),
               Line2D([], [], linestyle="", marker="X", color="0.45", label="dominated")]
    finish(fig, run, "Efficiency frontier (whole horizon, discounted)", handles, ncol=3)
    words = {"dominated": "dominated by", "extendedly_dominated": "extendedly dominated by a mix of"}
    off = [f"{r['arm']} {words[r['status']]} {' and '.join(str(r['dominated_by']).split(';'))}"
           for r in rows if r["status"] in words]
    steps = [f"{r['arm']} (ICER £{r['icer']:,.0f} per QoL-year against {r['comparator']})"
             if isinstance(r["icer"], float) and not math.isnan(r["icer"]) else r["arm"] for r in frontier]
    caption = (f"Efficiency frontier: each arm's mean discounted QoL-years (x) and cost (y, £ million) over the whole "
               f"horizon, from incremental.csv. The line joins the arms on the frontier, by cost: "
               f"{' → '.join(steps)}." + (f" Off the frontier: {'; '.join(off)}." if off else "")
               + " Means only: the spread of single replications is on the ce_plane figure.")
    return save(fig, run, folder, "ce_frontier", formats, caption), None


def fig_ceac(run, formats, folder, wtp_max=None):
    if run.acceptability:
        return fig_ceac_all_arms(run, formats, folder, wtp_max)
    later = run.arms[1:]
    first = run.arms[0]
    if run.summary is None:
        return None, "no summary.csv (girfec computes the acceptability curve there)"
    curves = {arm: ceac_points(run, arm, wtp_max) for arm in later}
    if not any(curves.values()):
        return None, "summary.csv has no probability_cost_effective rows" + (f" up to £{wtp_max:,.0f}" if wtp_max
                                                                             else "")
    fig, axes = new_figure(1, 1, width=6.4, height=4.4)
    ax = axes[0][0]
    handles = []
    for arm, pts in curves.items():
        if not pts:
            continue
        colour = arm_colour(run, arm)
        lam = [p[0] for p in pts]
        ax.fill_between(lam, [p[2] for p in pts], [p[3] for p in pts], color=colour, alpha=0.25, linewidth=0)
        ax.plot(lam, [p[1] for p in pts], color=colour, linewidth=1.8)
        reps = run.measure(arm, "probability_cost_effective")[0]["replications"]
        handles.append(Line2D([], [], color=colour, linewidth=1.8, label=f"{arm} vs {first} ({reps:,} replications)"))
    handles.append(Patch(color=style.NEUTRAL, alpha=0.35, label="95 % confidence interval (Wilson) of each share"))
    top = max(p[0] for pts in curves.values() for p in pts)
    ax.set_xlim(0, top)
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel("Willingness to pay λ (£ per QoL-year)")
    ax.set_ylabel("Probability cost-effective\n(share with λ·ΔQoL − Δcost > 0)")
    ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _p: f"£{x:,.0f}"))
    ax.grid(**style.GRID)
    spread = uncertainty_text(run.manifest)
    finish(fig, run, "Cost-effectiveness acceptability curve", handles, ncol=1, note=spread)
    caption = (f"Cost-effectiveness acceptability curve against {first}: for each willingness to pay λ from £0 to "
               f"£{top:,.0f} per QoL-year, the share of replications whose net monetary benefit λ·ΔQoL − Δcost "
               f"(discounted, whole horizon, paired) is above 0, with its 95 % confidence interval (Wilson; shaded), "
               f"from the probability_cost_effective rows of summary.csv. {spread}.")
    if spread == NO_PARAMETER_UNCERTAINTY:
        caption += (" The share measures chance alone (how often one realisation of the population comes out ahead), "
                    "not decision uncertainty about the parameters.")
    return save(fig, run, folder, "ceac", formats, caption), None


# ---------------------------------------------------------------------------
# Command line


FIGURES = ("stocks", "costs_qol", "flows", "escalation", "budget", "areas", "level", "length_of_stay", "ce_plane",
           "ce_frontier", "ceac")


def make_figures(run, folder, formats, wtp_max=None, note=print, level=None, only=None):
    """Draw every figure the folder's rows allow (or those named in `only`) into `folder`; the paths written
    (figures and captions)."""
    level = choose_level(run, level) if run.levels else None
    yearly = YearlyBands(run.folder)
    os.makedirs(folder, exist_ok=True)
    style.apply()
    written = []
    jobs = [("stocks", lambda: fig_stocks(run, formats, folder)),
            ("costs_qol", lambda: fig_costs_qol(run, formats, folder)),
            ("flows", lambda: fig_flows(run, yearly, formats, folder)),
            ("escalation", lambda: fig_escalation(run, yearly, formats, folder)),
            ("budget", lambda: fig_budget(run, yearly, formats, folder)),
            ("areas", lambda: fig_areas(run, yearly, formats, folder) if yearly.areas else (None, None)),
            ("level", lambda: fig_level(run, yearly, formats, folder, level) if level else (None, "no levels")),
            ("length_of_stay", lambda: fig_length_of_stay(run, formats, folder))]
    if len(run.arms) > 1:
        jobs += [("ce_plane", lambda: fig_ce_plane(run, formats, folder))]
        if run.incremental:  # folders written before incremental.csv existed have none: no note
            jobs += [("ce_frontier", lambda: fig_ce_frontier(run, formats, folder))]
        jobs += [("ceac", lambda: fig_ceac(run, formats, folder, wtp_max))]
    else:
        note(f"note: one arm ({run.arms[0]}): no difference panels, ce_plane or ceac figures")
    for name, job in jobs:
        if only and name not in only:
            continue
        files, why = job()
        if files:
            written += files
        elif why:
            note(f"note: {name} skipped: {why}")
    if not run.aggregate:
        note("note: no aggregate.csv: figures show the agent-based model only")
    return written


def parse_args(argv):
    p = argparse.ArgumentParser(prog="figures.py",
                                description="Figures (PNG, PDF, SVG) with their captions from a girfec run folder.")
    p.add_argument("run_dir", metavar="DIR", help="run folder written by `girfec run ... --out DIR`")
    p.add_argument("--out", metavar="FIGDIR", help="where to write the figures (default DIR/figures)")
    p.add_argument("--wtp-max", type=float, metavar="POUNDS",
                   help="largest willingness to pay the CEAC shows, £ per QoL-year (default: every value in "
                        "summary.csv, up to girfec run's --ceac-max)")
    p.add_argument("--level", metavar="NAME",
                   help="the level whose stock, length of stay and flows level_NAME shows (default: the last, most "
                        "intensive, level of the scenario)")
    p.add_argument("--only", metavar="LIST",
                   help=f"comma-separated figures to draw, among {', '.join(FIGURES)} (default: all)")
    style.add_size_options(p, DEFAULT_FORMATS)
    args = p.parse_args(argv)
    style.check_size_options(p, args, DEFAULT_FORMATS)
    args.only = [n.strip() for n in args.only.split(",") if n.strip()] if args.only else None
    unknown = [n for n in args.only or [] if n not in FIGURES]
    if unknown or args.only == []:
        p.error(f"--only: unknown figure(s) {', '.join(unknown) or '(none)'}; choose among {', '.join(FIGURES)}")
    if args.wtp_max is not None and not (args.wtp_max > 0 and math.isfinite(args.wtp_max)):
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
                               note=lambda m: print(m, file=sys.stderr), level=args.level, only=args.only)
    except UsageError as e:
        print(f"figures.py: error: {e}", file=sys.stderr)
        return 2
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
