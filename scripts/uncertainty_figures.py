#!/usr/bin/env python3
"""Figures of parameter uncertainty from a girfec folder: sensitivity analyses,
value of information and the split of variance between parameters and chance.

Usage:
    python3 scripts/uncertainty_figures.py DIR [--outcome NAME] [--arm NAME] [--out FOLDER] [--top K]
        [--format png] [--width single|double] [--font-size PT] [--dpi N]

Reads whichever of these files exist in DIR (written by the girfec tool) and
writes figures (default PNG at 200 dpi; --format, --width, --font-size, --dpi
as in figures.py) into DIR/figures/ unless --out is given, each with its
caption beside it as NAME.caption.txt (what is shown, the interval type, and
the replications and seed from DIR/manifest.json when there is one):

  sensitivity.csv  (`girfec sensitivity`)
      tornado.png         one-way analyses: one bar per parameter entry from the
                          result at its low value to the result at its high
                          value, around the base-case line; widest bar on top;
                          whiskers: 95 % CI for the mean (Monte Carlo)
      twoway-<name>.png   one heatmap per two-way grid (cells annotated up to
                          8 x 8; diverging colours centred on 0 for delta_
                          outcomes)
      sweep-<name>.png    one line per sweep: mean and its 95 % CI against the
                          parameter value (line at 0 for delta_ outcomes)
      All three show one outcome of one arm: --outcome (default: the first
      delta_net_benefit_<wtp> in the file, else delta_cost_discounted, else the
      first outcome) and --arm (default: the first arm with that outcome).
  voi.csv
      voi.png             EVPI and an EVPPI line for each of the --top K
                          parameter groups (default 6) with the largest EVPPI,
                          each in its own colour and line style; the others
                          as thin grey lines, named in the caption; a bar
                          chart when the file has a single willingness to pay
  uncertainty.csv
      variance.png        per arm and outcome with a split: share of the
                          variance from parameter uncertainty vs chance
                          (percent, stacked bars)

An absent file is skipped; a file that is present must be well formed. All
present files are read and checked before any figure is drawn. Prints the
path of each figure written; notes (figures skipped and why) go to stderr.
Standard library and matplotlib only (scripts/install-python-deps.sh).
Exit status: 0 on success, 1 on a data error (the message names the file, the
row and the column), 2 on a usage error (no such DIR, none of the files in it,
--outcome or --arm not in sensitivity.csv).
"""
import argparse
import math
import os
import re
import sys
from dataclasses import dataclass

from girfec_py import style
from girfec_py.runfolder import (BOUNDS, OutputError, read_manifest,  # noqa: F401 (re-exported for tests)
                                 read_sensitivity, read_uncertainty, read_voi)
from girfec_py.style import OKABE_ITO, new_axes, pounds, pt

try:
    from matplotlib.colors import Normalize
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch
    from matplotlib.ticker import FuncFormatter
except ImportError:  # reported by main(); the readers and tornado_rows() work without it
    pass

ANNOTATE_MAX = 8  # annotate heatmap cells when the grid is at most this many cells each way

SENSITIVITY = "sensitivity.csv"
VOI = "voi.csv"
UNCERTAINTY = "uncertainty.csv"
EXPECTED_FILES = {
    SENSITIVITY: "from `girfec sensitivity`: tornado.png, twoway-<name>.png, sweep-<name>.png",
    VOI: "value of information: voi.png",
    UNCERTAINTY: "variance decomposition of nested runs: variance.png",
}

CI_MEAN = "95 % confidence interval for the mean (Monte Carlo)"
DEFAULT_FORMATS = "png"
VOI_TOP = 6  # EVPPI groups drawn in colour: the colours and line styles stay distinct


class UsageError(Exception):
    """A command-line choice that does not fit the data (exit status 2)."""


# ---------------------------------------------------------------------------
# Pure computations (no matplotlib)


def _f(x):
    """A cell as a float: numbers pass, empty text or None is NaN."""
    if x is None or (isinstance(x, str) and x.strip() == ""):
        return math.nan
    return float(x)


@dataclass
class TornadoEntry:
    """One one-way entry: results (outcome means) at the parameter's low and high values."""

    name: str
    parameter: str
    low_value: float  # parameter value used for the "low" run
    high_value: float
    low: float  # outcome mean with the parameter at low_value
    high: float
    base: float  # outcome mean at the base values
    low_ci: tuple = (math.nan, math.nan)
    high_ci: tuple = (math.nan, math.nan)

    @property
    def width(self):
        """Width of the bar: |high result - low result|."""
        return abs(self.high - self.low)


def tornado_rows(rows, outcome, arm):
    """The one-way entries of `arm` and `outcome`, widest bar first.

    `rows` are sensitivity.csv rows as dicts keyed by its columns (strings or
    numbers). Each entry has the low and high results, their CIs and the base
    result (the `base` row of the same arm and outcome). Ties keep the order of
    the file. ValueError when there is no base row or an entry lacks its low or
    high row.
    """
    base, entries = None, {}
    for r in rows:
        if r["arm"] != arm or r["outcome"] != outcome:
            continue
        if r["analysis"] == "base":
            base = _f(r["mean"])
        elif r["analysis"] == "oneWay":
            entries.setdefault(r["name"], {})[r["bound"]] = r
    if not entries:
        return []
    if base is None:
        raise ValueError(f"no base row for arm {arm!r} and outcome {outcome!r}")
    out = []
    for name, ends in entries.items():
        if set(ends) != set(BOUNDS):
            raise ValueError(f"oneWay entry {name!r} needs a low and a high row (has {', '.join(ends)})")
        lo, hi = ends["low"], ends["high"]
        out.append(TornadoEntry(name=name, parameter=lo["parameter_1"], low_value=_f(lo["value_1"]),
                                high_value=_f(hi["value_1"]), low=_f(lo["mean"]), high=_f(hi["mean"]), base=base,
                                low_ci=(_f(lo.get("ci_low")), _f(lo.get("ci_high"))),
                                high_ci=(_f(hi.get("ci_low")), _f(hi.get("ci_high")))))
    return sorted(out, key=lambda e: -e.width)  # stable: ties keep file order


def twoway_grid(rows, name, outcome, arm):
    """(parameter_1, parameter_2, xs, ys, means) of a two-way grid.

    xs: sorted distinct value_1, ys: sorted distinct value_2; means[j][i] is the
    outcome mean at (xs[i], ys[j]), NaN where the grid has no point.
    """
    pts = [r for r in rows if r["analysis"] == "twoWay" and r["name"] == name
           and r["arm"] == arm and r["outcome"] == outcome]
    if not pts:
        return None
    xs = sorted({_f(r["value_1"]) for r in pts})
    ys = sorted({_f(r["value_2"]) for r in pts})
    means = [[math.nan] * len(xs) for _ in ys]
    for r in pts:
        means[ys.index(_f(r["value_2"]))][xs.index(_f(r["value_1"]))] = _f(r["mean"])
    return pts[0]["parameter_1"], pts[0]["parameter_2"], xs, ys, means


def sweep_series(rows, name, outcome, arm):
    """(parameter, values, means, ci_lows, ci_highs) of a sweep, by increasing value; None if absent."""
    pts = sorted((r for r in rows if r["analysis"] == "sweep" and r["name"] == name
                  and r["arm"] == arm and r["outcome"] == outcome), key=lambda r: _f(r["value_1"]))
    if not pts:
        return None
    return (pts[0]["parameter_1"], [_f(r["value_1"]) for r in pts], [_f(r["mean"]) for r in pts],
            [_f(r["ci_low"]) for r in pts], [_f(r["ci_high"]) for r in pts])


def default_outcome(rows):
    """First delta_net_benefit_* outcome in file order, else delta_cost_discounted, else the first outcome."""
    outcomes = list(dict.fromkeys(r["outcome"] for r in rows))
    for o in outcomes:
        if o.startswith("delta_net_benefit_"):
            return o
    return "delta_cost_discounted" if "delta_cost_discounted" in outcomes else outcomes[0]


def choose(rows, outcome=None, arm=None):
    """The outcome and arm to draw; UsageError when a requested one is not in the rows."""
    outcomes = list(dict.fromkeys(r["outcome"] for r in rows))
    if outcome is None:
        outcome = default_outcome(rows)
    elif outcome not in outcomes:
        raise UsageError(f"--outcome {outcome}: not in {SENSITIVITY} (outcomes there: {', '.join(outcomes)})")
    arms = list(dict.fromkeys(r["arm"] for r in rows if r["outcome"] == outcome))
    if arm is None:
        arm = arms[0]
    elif arm not in arms:
        every = list(dict.fromkeys(r["arm"] for r in rows))
        raise UsageError(f"--arm {arm}: no {outcome} rows for it in {SENSITIVITY} "
                         f"(arms with {outcome}: {', '.join(arms)}; all arms: {', '.join(every)})")
    return outcome, arm


def variance_split(row):
    """(parameter share, chance share, estimated parameter share); None if not identified.

    The estimate is parameter_share when given, else parameter / (parameter +
    chance variance); the two shares drawn are it clipped to [0, 1] (an
    estimate of the between-draw variance can fall below 0) and 1 minus that.
    """
    share = _f(row["parameter_share"])
    if math.isnan(share):
        p, c = _f(row["parameter_variance"]), _f(row["chance_variance"])
        if math.isnan(p) or math.isnan(c) or p + c <= 0:
            return None
        share = p / (p + c)
    clipped = min(1.0, max(0.0, share))
    return clipped, 1.0 - clipped, share


def arm_runs(points):
    """[(arm, first wtp, last wtp)] runs of the same optimal arm over sorted (wtp, arm) points."""
    runs = []
    for wtp, arm in points:
        if runs and runs[-1][0] == arm:
            runs[-1][2] = wtp
        else:
            runs.append([arm, wtp, wtp])
    return [tuple(r) for r in runs]


def safe_name(name):
    """A label as a file-name part: letters, digits, '.', '_' and '-' only."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._") or "unnamed"


# ---------------------------------------------------------------------------
# Labels


def outcome_label(outcome, reference=None):
    """(axis text without unit, kind) with kind 'money', 'qol' or '' for an outcome name."""
    vs = f" vs {reference}" if reference else ""
    fixed = {"cost_discounted": ("Discounted cost", "money"),
             "qol_years_discounted": ("Discounted quality of life", "qol"),
             "delta_cost_discounted": (f"Δ discounted cost{vs}", "money"),
             "delta_qol_years_discounted": (f"Δ discounted quality of life{vs}", "qol")}
    if outcome in fixed:
        return fixed[outcome]
    m = re.fullmatch(r"delta_net_benefit_(\d+)", outcome)
    if m:
        return f"Δ net monetary benefit{vs} at £{int(m.group(1)):,} per QoL-year", "money"
    return outcome, ""


def money_scale(values):
    """(divisor, unit) for £ amounts: £ million when the largest is at least a million."""
    finite = [abs(v) for v in values if not math.isnan(v)]
    return (1e6, "£ million") if finite and max(finite) >= 1e6 else (1.0, "£")


def axis_label(outcome, values, reference=None):
    """(label with unit, divisor) for an outcome whose values will be drawn."""
    text, kind = outcome_label(outcome, reference)
    if kind == "money":
        scale, unit = money_scale(values)
        return f"{text} ({unit})", scale
    if kind == "qol":
        return f"{text} (QoL-years)", 1.0
    return text, 1.0


def amount_text(value, outcome, scale):
    """A value already divided by `scale`, with its unit: £0.8 million, −£12,000, 3.5 QoL-years."""
    kind = outcome_label(outcome)[1]
    number = thousands(abs(value) if kind == "money" else value)
    if kind == "money":
        return ("−£" if value < 0 else "£") + number + (" million" if scale == 1e6 else "")
    return number + (" QoL-years" if kind == "qol" else "")


def thousands(x, _pos=None):
    """Tick label with thousands separators and a true minus sign, 4 significant digits: 12,500, −17.5, 0.25."""
    return style.thousands(x, digits=4)


# ---------------------------------------------------------------------------
# Drawing


def finish(fig, title, subtitle, footer, handles=None, ncol=2):
    style.finish(fig, title, subtitle, handles, footer=footer, ncol=ncol, handlelength=2.4)


def save(ctx, fig, stem, caption):
    """Write the figure in each format and its caption (NAME.caption.txt); the paths written."""
    name = ctx.name(stem)
    files = style.save(fig, ctx.folder, name, ctx.formats)
    text = caption + (f" {ctx.provenance}" if ctx.provenance else "")
    return files + [style.write_caption(ctx.folder, name, text)]


def _value_text(v):
    return thousands(v) if abs(v) >= 1000 or v == int(v) else f"{v:.4g}".replace("-", "−")


def provenance(manifest):
    """`Scenario “NAME”; N replications; seed S; girfec V.` from a manifest.json (what it holds of these): a
    sensitivity folder's `replicationsPerPoint`, a run folder's `replications`."""
    if not manifest:
        return ""
    scenario = manifest.get("scenario") if isinstance(manifest.get("scenario"), dict) else {}
    parts = [f"Scenario “{scenario['name']}”" if scenario.get("name") else None]
    per_point, reps = manifest.get("replicationsPerPoint"), manifest.get("replications")  # sensitivity, run
    if isinstance(per_point, int):
        parts.append(f"{per_point:,} replications per point")
    elif isinstance(reps, int):
        parts.append(f"{reps:,} replications")
    if manifest.get("seed") is not None:
        parts.append(f"seed {manifest['seed']}")
    parts.append(f"girfec {manifest.get('version', '?')}")
    return "; ".join(p for p in parts if p) + "."


class Context:
    """What every figure needs: the output folder, formats, subtitle, provenance and the names already used."""

    def __init__(self, folder, subtitle, formats=("png",), manifest=None):
        self.folder, self.subtitle, self.used = folder, subtitle, set()
        self.formats, self.provenance = list(formats), provenance(manifest)

    def name(self, stem):
        name, k = stem, 2
        while name in self.used:
            name, k = f"{stem}-{k}", k + 1
        self.used.add(name)
        return name


def fig_tornado(ctx, entries, outcome, arm, reference):
    values = [v for e in entries for v in (e.low, e.high, e.base, *e.low_ci, *e.high_ci)]
    label, scale = axis_label(outcome, values, reference)
    n = len(entries)
    fig, ax = new_axes(8.0, 1.6 + 0.48 * n)
    low_colour, high_colour = OKABE_ITO[0], OKABE_ITO[1]
    base = entries[0].base / scale
    span = [base]
    for i, e in enumerate(entries):
        y = n - 1 - i  # widest on top
        ends = [(e.low / scale, e.low_value, low_colour, e.low_ci), (e.high / scale, e.high_value, high_colour,
                                                                     e.high_ci)]
        for res, value, colour, ci in sorted(ends, key=lambda t: -abs(t[0] - base)):  # shorter drawn on top
            ax.barh(y, res - base, left=base, height=0.62, color=colour, edgecolor="white", linewidth=0.5,
                    zorder=2)
        for res, value, colour, ci in ends:
            lo, hi = ci[0] / scale, ci[1] / scale
            if not (math.isnan(lo) or math.isnan(hi)):
                ax.errorbar(res, y, xerr=[[max(0.0, res - lo)], [max(0.0, hi - res)]], fmt="none", ecolor="0.15",
                            elinewidth=0.8, capsize=2.5, zorder=3)
                span += [lo, hi]
            span.append(res)
        # each parameter value at the end of its own bar: outside, or inside when the other end is farther
        # out on the same side of the base line
        for k, (res, value, colour, ci) in enumerate(ends):
            d, other = res - base, ends[1 - k][0] - base
            if d != 0:
                direction = 1 if d > 0 else -1
            else:  # at the base line: away from the other end (low to the left when both are there)
                direction = -1 if other > 0 or (other == 0 and k == 0) else 1
            if d * other > 0 and (abs(d) < abs(other) or (d == other and k == 0)):  # equal: high drawn on top
                x, dx, text_colour = res, -3 * direction, "white"
            else:
                whisker = ci[1] / scale if direction > 0 else ci[0] / scale
                x = res if math.isnan(whisker) else (max(res, whisker) if direction > 0 else min(res, whisker))
                dx, text_colour = 4 * direction, colour
            ax.annotate(_value_text(value), (x, y), xytext=(dx, 0), textcoords="offset points",
                        ha="left" if dx > 0 else "right", va="center", fontsize=pt(7.5), color=text_colour,
                        fontweight="bold", zorder=4)
    ax.axvline(base, color="0.2", linewidth=1.0, zorder=2.5)
    lo_x, hi_x = min(span), max(span)
    pad = 0.18 * (hi_x - lo_x or abs(base) or 1.0)
    ax.set_xlim(lo_x - pad, hi_x + pad)
    ax.set_yticks(range(n))
    ax.set_yticklabels([(e.name if e.name == e.parameter else f"{e.name}\n{e.parameter}") for e in
                        reversed(entries)], fontsize=pt(8))
    ax.set_ylim(-0.7, n - 0.3)
    ax.set_xlabel(label)
    ax.xaxis.set_major_formatter(FuncFormatter(thousands))
    ax.grid(axis="x", **style.GRID)
    handles = [Patch(color=low_colour, label="parameter at its low value (value at the bar's end)"),
               Patch(color=high_colour, label="parameter at its high value"),
               Line2D([], [], color="0.2", linewidth=1.0, label=f"base case: {amount_text(base, outcome, scale)}"),
               Line2D([], [], color="0.15", marker="|", linestyle="", markersize=8, label=CI_MEAN)]
    finish(fig, f"One-way sensitivity: {arm}", ctx.subtitle,
           f"{SENSITIVITY}: outcome {outcome}, arm {arm}; bars sorted by width (high − low result)", handles)
    caption = (f"One-way sensitivity of {outcome_label(outcome, reference)[0]} ({outcome}) for {arm}: each bar runs "
               f"from the mean result with the parameter at its low value to the mean with it at its high value, "
               f"around the base case ({amount_text(base, outcome, scale)}); widest bar on top. Whiskers: "
               f"{CI_MEAN} at each end (Monte Carlo error of the mean, not the spread of replications). From "
               f"{SENSITIVITY}.")
    return save(ctx, fig, "tornado", caption)


def fig_twoway(ctx, name, grid, outcome, arm, reference):
    import numpy as np

    p1, p2, xs, ys, means = grid
    flat = [v for row in means for v in row]
    label, scale = axis_label(outcome, flat, reference)
    data = np.ma.masked_invalid(np.array(means, dtype=float) / scale)
    finite = [v / scale for v in flat if not math.isnan(v)]
    delta = outcome.startswith("delta_")
    if delta:
        m = max((abs(v) for v in finite), default=1.0) or 1.0
        norm = Normalize(-m, m)
        cmap = "RdBu_r" if outcome.startswith("delta_cost") else "RdBu"  # red: costlier / worse
    else:
        lo, hi = (min(finite), max(finite)) if finite else (0.0, 1.0)
        norm = Normalize(lo, hi if hi > lo else lo + 1.0)
        cmap = "viridis"
    fig, ax = new_axes(max(5.6, 1.8 + 0.62 * len(xs)), max(4.4, 1.9 + 0.5 * len(ys)))
    image = ax.imshow(data, origin="lower", aspect="auto", cmap=cmap, norm=norm, interpolation="nearest")
    bar = fig.colorbar(image, ax=ax, format=FuncFormatter(thousands))
    bar.set_label(label, fontsize=pt(8.5))
    if delta:
        bar.ax.axhline(0, color="black", linewidth=0.8)
    if len(xs) <= ANNOTATE_MAX and len(ys) <= ANNOTATE_MAX:
        for j, row in enumerate(means):
            for i, v in enumerate(row):
                if math.isnan(v):
                    ax.text(i, j, "–", ha="center", va="center", fontsize=pt(8), color="0.4")
                    continue
                t = norm(v / scale)
                dark = (abs(t - 0.5) > 0.3) if delta else (t < 0.45)
                ax.text(i, j, thousands(v / scale), ha="center", va="center", fontsize=pt(7.5),
                        color="white" if dark else "black")
    step_x, step_y = max(1, math.ceil(len(xs) / 12)), max(1, math.ceil(len(ys) / 14))
    ax.set_xticks(range(0, len(xs), step_x))
    ax.set_xticklabels([_value_text(v) for v in xs[::step_x]], rotation=45 if len(xs) > 6 else 0,
                       ha="right" if len(xs) > 6 else "center")
    ax.set_yticks(range(0, len(ys), step_y))
    ax.set_yticklabels([_value_text(v) for v in ys[::step_y]])
    ax.set_xlabel(p1)
    ax.set_ylabel(p2)
    missing = sum(1 for v in flat if math.isnan(v))
    note = f"; {missing} grid point(s) missing (–)" if missing else ""
    finish(fig, f"Two-way sensitivity “{name}”: {arm}", ctx.subtitle,
           f"{SENSITIVITY}: outcome {outcome}, arm {arm}; mean over replications{note}")
    caption = (f"Two-way sensitivity “{name}”: the mean over replications of {label} ({outcome}) for {arm} at each "
               f"pair of values of {p1} (x) and {p2} (y), from {SENSITIVITY}; no interval is drawn (each cell's "
               f"95 % confidence interval for the mean is in the file){note}.")
    return save(ctx, fig, f"twoway-{safe_name(name)}", caption)


def fig_sweep(ctx, name, series, outcome, arm, reference, base):
    parameter, xs, means, lows, highs = series
    label, scale = axis_label(outcome, means + lows + highs + ([base] if base is not None else []), reference)
    colour = OKABE_ITO[0]
    fig, ax = new_axes(6.6, 4.3)
    ok = [not (math.isnan(a) or math.isnan(b)) for a, b in zip(lows, highs)]
    if any(ok):
        ax.fill_between(xs, [v / scale if k else math.nan for v, k in zip(lows, ok)],
                        [v / scale if k else math.nan for v, k in zip(highs, ok)], color=colour, alpha=0.25,
                        linewidth=0)
    ax.plot(xs, [v / scale for v in means], color=colour, linewidth=1.6, marker="o" if len(xs) <= 30 else None,
            markersize=3.5, zorder=3)
    handles = [Line2D([], [], color=colour, linewidth=1.6, label="mean over replications"),
               Patch(color=colour, alpha=0.25, label=CI_MEAN)]
    if outcome.startswith("delta_"):
        ax.axhline(0, color="0.3", linewidth=0.8, zorder=1)
    if base is not None:
        ax.axhline(base / scale, color="0.35", linewidth=0.9, linestyle=":", zorder=1)
        handles.append(Line2D([], [], color="0.35", linewidth=0.9, linestyle=":",
                              label=f"base case: {amount_text(base / scale, outcome, scale)}"))
    ax.set_xlabel(parameter)
    ax.set_ylabel(label)
    ax.xaxis.set_major_formatter(FuncFormatter(thousands))
    ax.yaxis.set_major_formatter(FuncFormatter(thousands))
    ax.grid(**style.GRID)
    finish(fig, f"Sensitivity sweep “{name}”: {arm}", ctx.subtitle,
           f"{SENSITIVITY}: outcome {outcome}, arm {arm}", handles, ncol=3)
    caption = (f"Sensitivity sweep “{name}”: the mean over replications of {label} ({outcome}) for {arm} against "
               f"{parameter}, with its {CI_MEAN} (shaded; not the spread of replications), from {SENSITIVITY}"
               + (f"; dotted: the base case, {amount_text(base / scale, outcome, scale)}" if base is not None else "")
               + ".")
    return save(ctx, fig, f"sweep-{safe_name(name)}", caption)


def _short_parameters(text, most=3):
    parts = [p for p in text.split(";") if p.strip()]
    return "; ".join(parts[:most]) + (f"; … ({len(parts)} parameters)" if len(parts) > most else "")


def rank_groups(rows):
    """EVPPI groups, largest first by their largest EVPPI over willingness to pay: [(group, rows by λ, largest)].

    Ties keep the file's order.
    """
    groups = {}
    for r in rows:
        if r["measure"] == "evppi":
            groups.setdefault(r["parameter_group"], []).append(r)
    ranked = []
    for g, rs in groups.items():
        rs.sort(key=lambda r: r["willingness_to_pay"])
        ranked.append((g, rs, max((r["value"] for r in rs), default=math.nan)))
    return sorted(ranked, key=lambda t: -t[2] if not math.isnan(t[2]) else math.inf)


VOI_COLOURS = [OKABE_ITO[i] for i in (0, 1, 2, 3, 4, 5)]  # black is EVPI's, yellow is hard to see


def voi_style(i):
    """(colour, dashes) of the i-th EVPPI group drawn: a colour each, and a line style that differs from the
    neighbours' (so the groups stay apart in grey print)."""
    return VOI_COLOURS[i % len(VOI_COLOURS)], style.LINE_STYLES[1 + i % (len(style.LINE_STYLES) - 1)]


def fig_voi(ctx, rows, top=VOI_TOP):
    evpi = sorted((r for r in rows if r["measure"] == "evpi"), key=lambda r: r["willingness_to_pay"])
    ranked = rank_groups(rows)
    shown, rest = ranked[:top], ranked[top:]
    scale, unit = money_scale([r["value"] for r in rows])
    wtps = sorted({r["willingness_to_pay"] for r in rows})

    def label(g, rs):
        return f"EVPPI {g}: {_short_parameters(rs[0]['parameters'])}" if rs[0]["parameters"] else f"EVPPI {g}"

    series = ([("EVPI (all parameters)", evpi, "black", "-")] if evpi else []) + \
             [(label(g, rs), rs, *voi_style(i)) for i, (g, rs, _m) in enumerate(shown)]
    ylabel = f"Expected value of information ({unit}, discounted)"
    rest_text = ""
    if rest:
        largest = max(m for _g, _rs, m in rest)
        rest_text = f"{len(rest)} other group{'s' if len(rest) > 1 else ''}, each at most {pounds(largest)}"
    if len(wtps) == 1:
        fig, ax = new_axes(max(5.6, 1.8 + 1.0 * len(series)), 4.4)
        names = ["EVPI" if s[1] is evpi else s[1][0]["parameter_group"] for s in series]
        heights = [s[1][0]["value"] / scale for s in series]
        ax.bar(range(len(series)), heights, color=[s[2] for s in series], width=0.65)
        for i, h in enumerate(heights):
            ax.annotate(thousands(h), (i, h), xytext=(0, 3 if h >= 0 else -3), textcoords="offset points",
                        ha="center", va="bottom" if h >= 0 else "top", fontsize=pt(8))
        ax.set_xticks(range(len(series)))
        ax.set_xticklabels(names, rotation=30 if len(series) > 4 else 0, ha="right" if len(series) > 4 else "center")
        ax.axhline(0, color="0.3", linewidth=0.8)
        ax.set_xlabel(f"at a willingness to pay of {pounds(wtps[0])} per QoL-year")
        handles = [Patch(color=c, label=lab) for lab, _rs, c, _d in series]
    else:
        fig, ax = new_axes(7.0, 4.6)
        for _g, rs, _m in rest:  # behind the named lines, thin and grey
            ax.plot([r["willingness_to_pay"] for r in rs], [r["value"] / scale for r in rs], color="0.72",
                    linewidth=0.7, zorder=1)
        for lab, rs, colour, dashes in series:
            ax.plot([r["willingness_to_pay"] for r in rs], [r["value"] / scale for r in rs], color=colour,
                    linewidth=2.0 if rs is evpi else 1.5, marker="o" if len(rs) <= 25 else None, markersize=3,
                    linestyle=dashes, zorder=3 if rs is evpi else 2)
        ax.set_xlabel("Willingness to pay λ (£ per QoL-year)")
        ax.xaxis.set_major_formatter(FuncFormatter(pounds))
        ax.set_ylim(bottom=min(0.0, ax.get_ylim()[0]))
        handles = [Line2D([], [], color=c, linewidth=2.0 if rs is evpi else 1.5, linestyle=d, label=lab)
                   for lab, rs, c, d in series]
        if rest:
            handles.append(Line2D([], [], color="0.72", linewidth=0.7, label=rest_text + " (named in the caption)"))
    ax.set_ylabel(ylabel)
    ax.yaxis.set_major_formatter(FuncFormatter(thousands))
    ax.grid(**style.GRID)
    source = evpi or (ranked[0][1] if ranked else [])
    runs = arm_runs([(r["willingness_to_pay"], r["optimal_arm"]) for r in source if r["optimal_arm"]])
    optimal = ", ".join(f"{arm} ({pounds(a)}–{pounds(b)})" if a != b else f"{arm} ({pounds(a)})"
                        for arm, a, b in runs)
    draws = sorted({r["draws"] for r in rows})
    draws_text = f"{'/'.join(f'{d:,}' for d in draws)} parameter draws"
    footer = (f"{VOI}: whole simulated population and horizon; {draws_text}"
              + (f"; optimal arm at current information: {optimal}" if optimal else ""))
    finish(fig, "Value of information", ctx.subtitle, footer, handles, ncol=1)
    at = f"at £{wtps[0]:,.0f} per QoL-year" if len(wtps) == 1 else "against willingness to pay λ (£ per QoL-year)"
    caption = (f"Expected value of perfect information (EVPI, all parameters"
               + (", black" if evpi else "") + f") and of partial perfect information (EVPPI) {at}, "
               f"for the whole simulated population over the horizon, discounted (£), from {VOI} ({draws_text}; "
               f"EVPPI by regression on the draws). Point estimates: no interval is drawn.")
    if ranked:
        caption += (f" Drawn: the {len(shown)} parameter group{'s' if len(shown) > 1 else ''} with the largest "
                    f"EVPPI (largest over λ): " + "; ".join(f"{g} ({pounds(m)})" for g, _rs, m in shown) + ".")
    if rest:
        caption += (f" The other {len(rest)}" + (" (thin grey lines)" if len(wtps) > 1 else " (not drawn)")
                    + ", largest first: " + "; ".join(f"{g} ({pounds(m)})" for g, _rs, m in rest) + ".")
    if all(r["value"] == 0 for r in rows):
        caption += " Every EVPI and EVPPI value in the file is £0."
    if optimal:
        caption += f" Optimal arm at current information: {optimal}."
    return save(ctx, fig, "voi", caption)


def fig_variance(ctx, rows, note):
    split = [(r, variance_split(r)) for r in rows]
    shown = [(r, s) for r, s in split if s is not None]
    without = [r for r, s in split if s is None]
    if not shown:
        note(f"note: variance skipped: no row of {UNCERTAINTY} has a parameter/chance split "
             f"(not identified with 1 replication per draw)")
        return None
    arms = list(dict.fromkeys(r["arm"] for r in rows))
    n = len(shown)
    fig, ax = new_axes(8.0, 1.6 + 0.5 * n)
    p_colour, c_colour = OKABE_ITO[0], OKABE_ITO[4]
    labels = []
    for i, (r, (p, c, estimate)) in enumerate(shown):
        y = n - 1 - i
        ax.barh(y, 100 * p, color=p_colour, height=0.62, edgecolor="white", linewidth=0.5)
        ax.barh(y, 100 * c, left=100 * p, color=c_colour, height=0.62, edgecolor="white", linewidth=0.5)
        for start, width, colour in ((0, 100 * p, "white"), (100 * p, 100 * c, "black")):
            if width >= 7:
                ax.text(start + width / 2, y, f"{width:.0f} %", ha="center", va="center", fontsize=pt(8), color=colour)
        reference = arms[0] if r["outcome"].startswith("delta_") and arms[0] != r["arm"] else None
        text, _kind = outcome_label(r["outcome"], reference)
        clipped = f"; parameter share estimated at {100 * estimate:.0f} %".replace("-", "−") if estimate != p else ""
        k = r["replications_per_draw"]  # a mean: whole unless the draws have unequal replications
        per_draw = f"{k:,.0f}" if k == int(k) else f"{k:,.2f}"
        labels.append(f"{r['arm']}: {text}\n({r['draws']:,} draws × {per_draw} replications"
                      f"{clipped})")
    ax.set_yticks(range(n))
    ax.set_yticklabels(list(reversed(labels)), fontsize=pt(7.5))
    ax.set_ylim(-0.7, n - 0.3)
    ax.set_xlim(0, 100)
    ax.set_xlabel("Share of the variance of one run's outcome (%)")
    ax.grid(axis="x", **style.GRID)
    handles = [Patch(color=p_colour, label="parameter uncertainty (between draws)"),
               Patch(color=c_colour, label="chance (between replications of a draw)")]
    footer = f"{UNCERTAINTY}"
    if without:
        footer += "; no split (1 replication per draw): " + ", ".join(f"{r['arm']} {r['outcome']}" for r in without)
    finish(fig, "Variance from parameter uncertainty and from chance", ctx.subtitle, footer, handles)
    caption = ("Share of the variance of one run's outcome (replication totals at the horizon) due to parameter "
               "uncertainty (between parameter draws) and to chance (between replications of one draw), per arm and "
               f"outcome, by one-way random-effects analysis of variance, from {UNCERTAINTY}: point estimates "
               "(the file holds a 95 % interval for each share); a negative estimate of the parameter share is drawn "
               "as 0 and given in the label.")
    if without:
        caption += " Not drawn (one replication per draw cannot separate the two): " + \
            ", ".join(f"{r['arm']} {r['outcome']}" for r in without) + "."
    return save(ctx, fig, "variance", caption)


# ---------------------------------------------------------------------------
# Command line


def read_folder(folder):
    """{file name: checked rows} for the expected files present in `folder`."""
    readers = {SENSITIVITY: read_sensitivity, VOI: read_voi, UNCERTAINTY: read_uncertainty}
    return {name: readers[name](os.path.join(folder, name)) for name in EXPECTED_FILES
            if os.path.isfile(os.path.join(folder, name))}


def make_figures(tables, folder, subtitle, outcome=None, arm=None, note=print, formats=("png",), manifest=None,
                 top=VOI_TOP):
    """Draw the figures of the tables read by read_folder(); returns the paths written (figures and captions)."""
    ctx = Context(folder, subtitle, formats, manifest)
    written = []
    rows = tables.get(SENSITIVITY)
    if rows is not None:
        outcome, arm = choose(rows, outcome, arm)
    elif outcome is not None or arm is not None:
        note(f"note: --outcome/--arm ignored: no {SENSITIVITY}")
    os.makedirs(folder, exist_ok=True)
    style.apply()
    if rows is not None:
        arms = list(dict.fromkeys(r["arm"] for r in rows))
        reference = arms[0] if outcome.startswith("delta_") and arms[0] != arm else None
        base = next((r["mean"] for r in rows if r["analysis"] == "base" and r["arm"] == arm
                     and r["outcome"] == outcome), None)
        entries = tornado_rows(rows, outcome, arm)
        if entries:
            written += fig_tornado(ctx, entries, outcome, arm, reference)
        else:
            note(f"note: tornado skipped: no oneWay rows for outcome {outcome}, arm {arm}")
        for kind in ("twoWay", "sweep"):
            for name in dict.fromkeys(r["name"] for r in rows if r["analysis"] == kind):
                if kind == "twoWay":
                    data = twoway_grid(rows, name, outcome, arm)
                    draw = lambda: fig_twoway(ctx, name, data, outcome, arm, reference)
                else:
                    data = sweep_series(rows, name, outcome, arm)
                    draw = lambda: fig_sweep(ctx, name, data, outcome, arm, reference, base)
                if data is None:
                    note(f"note: {kind} {name!r} skipped: no rows for outcome {outcome}, arm {arm}")
                else:
                    written += draw()
    if VOI in tables:
        written += fig_voi(ctx, tables[VOI], top)
    if UNCERTAINTY in tables:
        written += fig_variance(ctx, tables[UNCERTAINTY], note) or []
    return written


def expected_files_text():
    return "\n".join(f"  {name:<16} {what}" for name, what in EXPECTED_FILES.items())


def parse_args(argv):
    p = argparse.ArgumentParser(
        prog="uncertainty_figures.py",
        description="PNG figures from sensitivity.csv, voi.csv and uncertainty.csv in a girfec folder "
                    "(each optional).")
    p.add_argument("folder", metavar="DIR", help="folder holding sensitivity.csv, voi.csv and/or uncertainty.csv")
    p.add_argument("--outcome", metavar="NAME",
                   help="sensitivity outcome to draw, e.g. delta_net_benefit_20000 (default: the first "
                        "delta_net_benefit_* in the file, else delta_cost_discounted)")
    p.add_argument("--arm", metavar="NAME", help="arm to draw (default: the first arm with the outcome)")
    p.add_argument("--out", metavar="FOLDER", help="where to write the figures (default DIR/figures)")
    p.add_argument("--top", type=int, default=VOI_TOP, metavar="K",
                   help=f"EVPPI groups drawn in colour in voi.png, largest first (default {VOI_TOP}); the others "
                        f"grey, named in the caption")
    style.add_size_options(p, DEFAULT_FORMATS)
    args = p.parse_args(argv)
    style.check_size_options(p, args, DEFAULT_FORMATS)
    if not 1 <= args.top <= len(VOI_COLOURS):
        p.error(f"--top: found {args.top}; expected 1 to {len(VOI_COLOURS)} (distinct colours)")
    return args


def main(argv=None):
    args = parse_args(argv)
    prog = "uncertainty_figures.py"
    if not os.path.isdir(args.folder):
        print(f"{prog}: error: {args.folder}: not a folder; expected a folder with one or more of:\n"
              f"{expected_files_text()}", file=sys.stderr)
        return 2
    present = [n for n in EXPECTED_FILES if os.path.isfile(os.path.join(args.folder, n))]
    if not present:
        print(f"{prog}: error: {args.folder} has none of the files this script draws; expected one or more of:\n"
              f"{expected_files_text()}", file=sys.stderr)
        return 2
    if style.plt is None:
        print(f"{prog}: error: {style.MISSING}", file=sys.stderr)
        return 1
    out = args.out or os.path.join(args.folder, "figures")
    subtitle = os.path.basename(os.path.normpath(os.path.abspath(args.folder)))
    try:
        tables = read_folder(args.folder)
        manifest_path = os.path.join(args.folder, "manifest.json")
        manifest = read_manifest(manifest_path, scenario=False) if os.path.isfile(manifest_path) else None
        written = make_figures(tables, out, subtitle, args.outcome, args.arm,
                               note=lambda m: print(m, file=sys.stderr), formats=args.formats, manifest=manifest,
                               top=args.top)
    except UsageError as e:
        print(f"{prog}: error: {e}", file=sys.stderr)
        return 2
    except OutputError as e:
        print(f"{prog}: error: {e}", file=sys.stderr)
        return 1
    except OSError as e:
        print(f"{prog}: error: {e.filename or out}: {e.strerror or e}", file=sys.stderr)
        return 1
    if not written:
        print(f"{prog}: error: no figure could be drawn from {args.folder}", file=sys.stderr)
        return 1
    for path in written:
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
