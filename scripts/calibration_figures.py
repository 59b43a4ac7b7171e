#!/usr/bin/env python3
"""Figures from a `girfec calibrate` output folder.

Usage:
    python3 scripts/calibration_figures.py DIR [--out FIGDIR] [--format png,pdf]
        [--width single|double] [--font-size PT] [--dpi N]   (as in figures.py)

DIR is a folder written by `girfec calibrate`. Each of these files is
optional; a missing one is skipped with a note. Into DIR/figures/ (or
--out) it draws, as PNG (200 dpi) unless --format says otherwise:

  fit             from fit.csv
                  (date,time_years,area,level,observed,fitted,fitted_low,fitted_high):
                  one panel per level; per area (colour) the observed stocks
                  (points), the fitted stocks (line) and the 95 % band of the
                  fit (shaded, where fitted_low and fitted_high are given).
                  The x axis is the date when every row has one, else
                  time_years.
  estimates       from estimates.csv
                  (area,from_level,to_level,rate_per_year,rate_low,rate_high,se_log_rate,method,identified):
                  each yearly rate as a dot with its interval (whiskers) on a
                  log axis, labelled "from → to", one panel per area, coloured
                  by `identified` (identified, weak, not identified, or empty:
                  not assessed; "weakly identified" is read as weak), marker
                  by method. A rate of 0 cannot sit on a log axis: it is drawn
                  as an open marker at the left edge.
  identifiability from identifiability.csv
                  (parameter,prior_sd_log,posterior_sd_log,contraction,profile_low,profile_high,
                  profile_closed_low,profile_closed_high,verdict,max_abs_correlation,most_correlated_with):
                  horizontal bars of the posterior contraction (1 − posterior/prior
                  variance of the log-rate; 0 means the data taught nothing about the
                  parameter) with a reference line at 0.5, coloured by verdict (which also
                  uses the profile likelihood, docs/calibration.md §6), and the
                  strongest posterior correlation written beside each bar.
  ppc             from ppc.csv
                  (date,time_years,level,observed,predictive_mean,predictive_q2_5,predictive_q97_5,inside):
                  the posterior predictive check, one panel per level: the 95 %
                  predictive interval of a replicated count (shaded band) and
                  its mean (line) over time, the observed counts as points,
                  filled when inside their interval and open red diamonds when
                  outside; the panel title gives how many are inside.

Every listed column must be present (other columns are ignored). Numbers may
be empty where a value is optional (observed, fitted, the interval ends,
widths, correlations); a malformed cell is an error that names the file, the
line (and data row) and the column.

Standard library and matplotlib only (scripts/install-python-deps.sh installs
matplotlib). Exit status: 0 on success; 1 on a data error (the files without
errors are still drawn); 2 on a usage error, including a DIR holding none of
the four files.
"""
import argparse
import math
import os
import sys

from girfec_py import style
from girfec_py.runfolder import OutputError, read_estimates, read_fit, read_identifiability, read_ppc
from girfec_py.style import pt, save, thousands

try:
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch
    from matplotlib.ticker import FuncFormatter
except ImportError:  # reported by main(); the readers work without it
    pass

plt = style.plt

# `identified` in estimates.csv and `verdict` in identifiability.csv (as read by girfec_py.runfolder): a colour
# and a legend label per value
_GREEN, _ORANGE, _VERMILLION, _BLUE = (style.OKABE_ITO[i] for i in (2, 4, 1, 0))
VERDICT_COLOURS = {"identified": _GREEN, "weak": _ORANGE, "not identified": _VERMILLION, "not assessed": _BLUE}
VERDICT_ORDER = ["identified", "weak", "not identified", "not assessed"]
OTHER_COLOURS = [style.OKABE_ITO[3], style.OKABE_ITO[5], style.OKABE_ITO[6], "#999999"]  # then grey
METHOD_MARKERS = {"flows": "o", "panel": "s", "stocks": "D"}
OTHER_MARKERS = ["^", "v", "P", "X"]
ARROW = "→"


# ---------------------------------------------------------------------------
# Pure helpers


def unique(values):
    """Distinct values in order of first appearance."""
    return list(dict.fromkeys(values))


def log_limits(values, pad=1.6):
    """(low, high) for a log axis covering the positive values, padded by a factor; (0.01, 1) if none."""
    positive = [v for v in values if not math.isnan(v) and v > 0]
    if not positive:
        return 0.01, 1.0
    low, high = min(positive), max(positive)
    if high / low < 10:  # at least a decade, centred on the values
        mid = math.sqrt(low * high)
        low, high = min(low, mid / math.sqrt(10)), max(high, mid * math.sqrt(10))
    return low / pad, high * pad


def verdict_colour(verdict, others):
    """A fixed colour for the known verdicts; the next free colour for another text (remembered in `others`)."""
    if verdict in VERDICT_COLOURS:
        return VERDICT_COLOURS[verdict]
    if verdict not in others:
        others[verdict] = OTHER_COLOURS[len(others) % len(OTHER_COLOURS)]
    return others[verdict]


def method_marker(method, others):
    if method in METHOD_MARKERS:
        return METHOD_MARKERS[method]
    if method not in others:
        others[method] = OTHER_MARKERS[len(others) % len(OTHER_MARKERS)]
    return others[method]


def correlation_note(r):
    """`|ρ| 0.97 with X` when the file gives a correlation, else empty."""
    if math.isnan(r["correlation"]):
        return ""
    text = f"|ρ| {r['correlation']:.2f}"
    return f"{text} with {r['partner']}" if r["partner"] else text


def rate_label(x, _pos=None):
    """Log-axis tick label: 0.001, 0.01, 0.1, 1, 10."""
    return f"{x:g}"


# ---------------------------------------------------------------------------
# Figures


def legend_below(fig, title, subtitle, handles, ncol):
    style.finish(fig, title, subtitle, handles, ncol=ncol)


def label_level_panels(flat, used, ncols, use_dates):
    """Small multiples, one panel per level: hide the unused panels, show tick labels on every used
    one, and name the time axis under the bottom panel of each column."""
    for ax in flat[used:]:
        ax.set_visible(False)
    for ax in flat[:used]:
        ax.xaxis.set_tick_params(labelbottom=True)
    for ax in flat[max(0, used - ncols):used]:
        ax.set_xlabel("Census date" if use_dates else "Time (years)")


def fig_fit(rows, title, folder, formats):
    levels = unique(r["level"] for r in rows)
    areas = unique(r["area"] for r in rows)
    use_dates = all(r["date"] is not None for r in rows)
    x_of = (lambda r: r["date"]) if use_dates else (lambda r: r["time"])
    nrows, ncols = style.grid_shape(len(levels))
    fig, axes = plt.subplots(nrows, ncols, squeeze=False,
                             figsize=style.journal_size(4.6 * ncols + 0.6, 2.9 * nrows + 0.9, 1.45 * nrows + 0.5),
                             sharex=True, layout="constrained")
    flat = list(axes.flat)
    for ax, level in zip(flat, levels):
        for k, area in enumerate(areas):
            colour = style.colour(k)
            series = sorted((r for r in rows if r["level"] == level and r["area"] == area),
                            key=lambda r: r["time"])
            band = [r for r in series if not (math.isnan(r["fitted_low"]) or math.isnan(r["fitted_high"]))]
            if band:
                ax.fill_between([x_of(r) for r in band], [r["fitted_low"] for r in band],
                                [r["fitted_high"] for r in band], color=colour, alpha=0.2, linewidth=0)
            line = [r for r in series if not math.isnan(r["fitted"])]
            if line:
                ax.plot([x_of(r) for r in line], [r["fitted"] for r in line], color=colour, linewidth=1.5, zorder=3)
            points = [r for r in series if not math.isnan(r["observed"])]
            if points:
                ax.scatter([x_of(r) for r in points], [r["observed"] for r in points], s=16, color=colour,
                           edgecolors="white", linewidths=0.5, zorder=4)
        ax.set_title(level, fontsize=pt(10))
        ax.set_ylabel("Children in level")
        ax.yaxis.set_major_formatter(FuncFormatter(thousands))
        ax.grid(**style.GRID)
    label_level_panels(flat, len(levels), ncols, use_dates)
    if use_dates:
        fig.autofmt_xdate(rotation=30)
    handles = [Line2D([], [], color=style.colour(k), linewidth=1.5, marker="o", markersize=4,
                      label=f"{area}: observed (points), fitted (line)") for k, area in enumerate(areas)]
    handles.append(Patch(color="0.55", alpha=0.2, label="95 % band of the fit"))
    legend_below(fig, "Observed and fitted stocks", title, handles, ncol=min(3, len(handles)))
    return save(fig, folder, "fit", formats)


def fig_estimates(rows, title, folder, formats):
    areas = unique(r["area"] for r in rows)
    counts = [sum(1 for r in rows if r["area"] == a) for a in areas]
    values = [v for r in rows for v in (r["rate"], r["low"], r["high"])]
    xlim = log_limits(values)
    height = 0.27 * len(rows) + 0.55 * len(areas) + 1.4
    fig, axes = plt.subplots(len(areas), 1, figsize=style.journal_size(7.2, height), squeeze=False, sharex=True,
                             gridspec_kw={"height_ratios": counts}, layout="constrained")
    other_colours, other_markers, zero_seen = {}, {}, False
    for ax, area in zip(axes[:, 0], areas):
        mine = [r for r in rows if r["area"] == area]
        ys = list(range(len(mine)))[::-1]  # first row at the top
        for y, r in zip(ys, mine):
            colour = verdict_colour(r["identified"], other_colours)
            marker = method_marker(r["method"], other_markers)
            low = r["low"] if not math.isnan(r["low"]) else None
            high = r["high"] if not math.isnan(r["high"]) else None
            if low is not None or high is not None:
                a = max(low if low is not None else r["rate"], xlim[0])
                b = max(high if high is not None else r["rate"], xlim[0])
                ax.plot([a, b], [y, y], color=colour, linewidth=1.6, solid_capstyle="butt", zorder=2)
                for end in (low, high):
                    if end is not None:
                        ax.plot([max(end, xlim[0])] * 2, [y - 0.18, y + 0.18], color=colour, linewidth=1.2)
            if r["rate"] > 0:
                ax.scatter([r["rate"]], [y], marker=marker, s=36, color=colour, edgecolors="black",
                           linewidths=0.5, zorder=3)
            else:
                zero_seen = True
                ax.scatter([xlim[0]], [y], marker=marker, s=36, facecolors="white", edgecolors=colour,
                           linewidths=1.2, zorder=3, clip_on=False)
        ax.set_yticks(ys)
        ax.set_yticklabels([f"{r['from']} {ARROW} {r['to']}" for r in mine], fontsize=pt(8.5))
        ax.set_ylim(-0.7, len(mine) - 0.3)
        ax.set_xscale("log")
        ax.set_xlim(*xlim)
        ax.xaxis.set_major_formatter(FuncFormatter(rate_label))
        ax.grid(axis="x", which="both", **style.GRID)
        if len(areas) > 1 or area:
            ax.set_title(f"area: {area}" if area else "area: (none given)", fontsize=pt(9.5), loc="left")
    axes[-1, 0].set_xlabel(style.wrap("Rate per year (log scale); whiskers: the interval in rate_low – rate_high",
                                      fig.get_figwidth() * 0.9, style.LAYOUT.font_size))
    verdicts = unique(r["identified"] for r in rows)
    handles = [Patch(color=verdict_colour(v, other_colours), label=v)
               for v in VERDICT_ORDER + sorted(other_colours) if v in verdicts]
    methods = unique(r["method"] for r in rows)
    handles += [Line2D([], [], linestyle="", marker=method_marker(m, other_markers), color="0.4",
                       markeredgecolor="black", markersize=6, label=f"method: {m or '(none)'}") for m in methods]
    if zero_seen:
        handles.append(Line2D([], [], linestyle="", marker="o", markerfacecolor="white", markeredgecolor="0.3",
                              markersize=6, label="rate 0 (drawn at the left edge)"))
    legend_below(fig, "Estimated transition rates", title, handles, ncol=min(4, len(handles)))
    return save(fig, folder, "estimates", formats)


def fig_identifiability(rows, title, folder, formats):
    height = 0.3 * len(rows) + 1.8
    fig, ax = plt.subplots(figsize=style.journal_size(7.6, height), layout="constrained")
    other_colours = {}
    ys = list(range(len(rows)))[::-1]
    colours = [verdict_colour(r["verdict"], other_colours) for r in rows]
    values = [max(r["contraction"], 0.0) for r in rows]
    ax.barh(ys, values, color=colours, height=0.65, zorder=2)
    right = 1.05
    notes = [correlation_note(r) for r in rows]
    if any(notes):
        right *= 1.6  # room for the correlation notes
    for y, value, note in zip(ys, values, notes):
        if note:
            ax.text(value + 0.01 * right, y, note, va="center", ha="left", fontsize=pt(7.5), color="0.3")
    ax.axvline(0.5, color="0.2", linewidth=1.0, linestyle=(0, (4, 2)), zorder=3)
    ax.set_xlim(0, right)
    ax.set_yticks(ys)
    ax.set_yticklabels([r["parameter"] for r in rows], fontsize=pt(8.5))
    ax.set_ylim(-0.7, len(rows) - 0.3)
    ax.set_xlabel(style.wrap("Posterior contraction: 1 − posterior variance / prior variance of the log-rate",
                             fig.get_figwidth() * 0.9, style.LAYOUT.font_size))
    ax.grid(axis="x", **style.GRID)
    verdicts = unique(r["verdict"] for r in rows)
    handles = [Patch(color=verdict_colour(v, other_colours), label=v)
               for v in VERDICT_ORDER + sorted(other_colours) if v in verdicts]
    handles.append(Line2D([], [], color="0.2", linewidth=1.0, linestyle=(0, (4, 2)),
                          label="0.5: data and prior carry equal information"))
    legend_below(fig, "Identifiability: how much the data narrowed each parameter", title, handles,
                 ncol=min(4, len(handles)))
    return save(fig, folder, "identifiability", formats)


def fig_ppc(rows, title, folder, formats):
    levels = unique(r["level"] for r in rows)
    use_dates = all(r["date"] is not None for r in rows)
    x_of = (lambda r: r["date"]) if use_dates else (lambda r: r["time"])
    nrows, ncols = style.grid_shape(len(levels))
    fig, axes = plt.subplots(nrows, ncols, squeeze=False,
                             figsize=style.journal_size(4.6 * ncols + 0.6, 2.9 * nrows + 0.9, 1.45 * nrows + 0.5),
                             sharex=True, layout="constrained")
    flat = list(axes.flat)
    colour, outside_colour = style.colour(0), _VERMILLION
    for ax, level in zip(flat, levels):
        series = sorted((r for r in rows if r["level"] == level), key=lambda r: r["time"])
        band = [r for r in series if not (math.isnan(r["low"]) or math.isnan(r["high"]))]
        if band:
            ax.fill_between([x_of(r) for r in band], [r["low"] for r in band], [r["high"] for r in band],
                            color=colour, alpha=0.22, linewidth=0)
        line = [r for r in series if not math.isnan(r["mean"])]
        if line:
            ax.plot([x_of(r) for r in line], [r["mean"] for r in line], color=colour, linewidth=1.3, zorder=3)
        inside = [r for r in series if r["inside"]]
        outside = [r for r in series if not r["inside"]]
        ax.scatter([x_of(r) for r in inside], [r["observed"] for r in inside], s=16, color="black", zorder=4)
        ax.scatter([x_of(r) for r in outside], [r["observed"] for r in outside], s=30, marker="D",
                   facecolors="white", edgecolors=outside_colour, linewidths=1.4, zorder=5)
        ax.set_title(f"{level}: {len(inside)} of {len(series)} inside", fontsize=pt(10))
        ax.set_ylabel("Children in level")
        ax.yaxis.set_major_formatter(FuncFormatter(thousands))
        ax.grid(**style.GRID)
    label_level_panels(flat, len(levels), ncols, use_dates)
    if use_dates:  # rotated labels on every panel (autofmt_xdate would hide those above the last row)
        for ax in flat[:len(levels)]:
            for label in ax.get_xticklabels():
                label.set_rotation(30)
                label.set_horizontalalignment("right")
    n_inside = sum(1 for r in rows if r["inside"])
    handles = [Patch(color=colour, alpha=0.22, label="95 % predictive interval of a replicated count"),
               Line2D([], [], color=colour, linewidth=1.3, label="predictive mean"),
               Line2D([], [], linestyle="", marker="o", color="black", markersize=4, label="observed, inside"),
               Line2D([], [], linestyle="", marker="D", markerfacecolor="white", markeredgecolor=outside_colour,
                      markersize=5, label="observed, outside")]
    legend_below(fig, f"Posterior predictive check: {n_inside} of {len(rows)} counts inside their 95 % interval",
                 title, handles, ncol=2)
    return save(fig, folder, "ppc", formats)


# ---------------------------------------------------------------------------
# Command line

JOBS = [("fit.csv", read_fit, fig_fit),
        ("estimates.csv", read_estimates, fig_estimates),
        ("identifiability.csv", read_identifiability, fig_identifiability),
        ("ppc.csv", read_ppc, fig_ppc)]


def make_figures(folder, out, formats, note=print):
    """Draw every figure whose file is present. Returns (written paths, error messages, files present)."""
    title = os.path.basename(os.path.normpath(folder)) or folder
    written, errors, present = [], [], []
    style.apply()
    for name, reader, draw in JOBS:
        path = os.path.join(folder, name)
        if not os.path.isfile(path):
            note(f"note: {name} not found in {folder}: {name.replace('.csv', '')} figure skipped")
            continue
        present.append(name)
        try:
            rows = reader(path)
        except OutputError as e:
            errors.append(str(e))
            continue
        if not rows:
            note(f"note: {path} has a header and no rows: {name.replace('.csv', '')} figure skipped")
            continue
        os.makedirs(out, exist_ok=True)
        written += draw(rows, title, out, formats)
    return written, errors, present


def parse_args(argv):
    p = argparse.ArgumentParser(prog="calibration_figures.py",
                                description="Figures from a `girfec calibrate` output folder: fit, estimates, "
                                            "identifiability, ppc.")
    p.add_argument("folder", metavar="DIR", help="folder written by `girfec calibrate`")
    p.add_argument("--out", metavar="FIGDIR", help="where to write the figures (default DIR/figures)")
    style.add_size_options(p, "png")
    args = p.parse_args(argv)
    style.check_size_options(p, args, "png")
    return args


def main(argv=None):
    args = parse_args(argv)
    prog = "calibration_figures.py"
    if not os.path.isdir(args.folder):
        print(f"{prog}: error: {args.folder}: not a folder", file=sys.stderr)
        return 2
    if not any(os.path.isfile(os.path.join(args.folder, name)) for name, _, _ in JOBS):
        print(f"{prog}: error: {args.folder} holds none of {', '.join(n for n, _, _ in JOBS)}: nothing to draw",
              file=sys.stderr)
        return 2
    if plt is None:
        print(f"{prog}: error: {style.MISSING}", file=sys.stderr)
        return 1
    out = args.out or os.path.join(args.folder, "figures")
    written, errors, _ = make_figures(args.folder, out, args.formats, note=lambda m: print(m, file=sys.stderr))
    for message in errors:
        print(f"{prog}: error: {message}", file=sys.stderr)
    for path in written:
        print(path)
    if errors:
        return 1
    if not written:
        print(f"{prog}: error: no figure could be drawn from {args.folder}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
