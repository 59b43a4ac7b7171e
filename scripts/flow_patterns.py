#!/usr/bin/env python3
"""Same stock, different flows: one level's stock and its yearly inflow and
outflow, arm by arm, from a girfec run folder (the seed report's Figure 6).

Usage:
    python3 scripts/flow_patterns.py RUN_DIR [--replication-flows DIR] [--level Intensive]
                                     [--out FILE.png] [--summary FILE.csv]

RUN_DIR is a folder written by `girfec run ... --out RUN_DIR`. Reads
RUN_DIR/bands.csv (quantities `stock`, `inflow`, `outflow` of the level; see
docs/outputs.md), RUN_DIR/manifest.json and, when present, RUN_DIR/aggregate.csv
(the aggregate model's expected values).

Yearly flows are sums of the monthly (per-step) flows. Means add up, so the
yearly mean comes from bands.csv alone; percentiles and confidence intervals
do not add up across steps, so bands for yearly flows need each replication's
own series: --replication-flows DIR names a folder of CSV files, one per
replication, each with bands.csv's header and that replication's `inflow` and
`outflow` rows of the level (what `girfec run ... --replication I` writes in
its bands.csv, where the mean is the replication's value;
experiments/same-stock-different-flows/run.sh makes them). Without it, yearly
flows are drawn as means only.

Writes a two-panel PNG (200 dpi; default RUN_DIR/flow_patterns.png): (a) the
level's stock per arm, mean and 2.5-97.5 % of replications, with the
aggregate model's expected stock; (b) yearly inflow (solid) and outflow
(dashed) per arm, with 2.5-97.5 % of replications when available. Prints the
headline numbers; --summary writes them per arm, year and quantity as CSV.

Standard library and matplotlib only. Exit status: 0 on success, 1 on a data
error (the message names the file), 2 on a usage error.
"""
import argparse
import csv
import glob
import math
import os
import statistics
import sys

from girfec_py import schema, style
from girfec_py.runfolder import OutputError, footer, read_manifest, read_table

try:
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch
except ImportError:  # reported by main(); the computations work without it
    pass

plt = style.plt
FLOWS = ("inflow", "outflow")


# ---------------------------------------------------------------------------
# Pure computations (no matplotlib)


def steps_per_year(step_months):
    if not step_months or 12 % step_months:
        raise ValueError(f"a step of {step_months} months does not divide a year")
    return 12 // step_months


def yearly_totals(per_step, step_months=1):
    """Sum a per-step flow ({step: value}, steps 1..T) into whole years.

    Year y (1-based) is steps (y-1)*k+1 .. y*k with k steps a year. Every step
    of every whole year must be present; a trailing part-year is an error.
    """
    k = steps_per_year(step_months)
    steps = sorted(s for s in per_step if s >= 1)
    if not steps:
        return []
    last = steps[-1]
    if last % k:
        raise ValueError(f"the last step {last} does not end a whole year of {k} steps")
    missing = [s for s in range(1, last + 1) if s not in per_step]
    if missing:
        raise ValueError(f"missing step(s) {missing[:5]}{' ...' if len(missing) > 5 else ''}")
    return [math.fsum(per_step[s] for s in range(y * k + 1, (y + 1) * k + 1)) for y in range(last // k)]


def flow_totals(bands, arm, level, step_months=1, column="mean"):
    """Yearly inflow and outflow of `level` for `arm`: {"inflow": [...], "outflow": [...]}.

    `bands` maps (arm, quantity, level) to {step: {column: value}}.
    """
    out = {}
    for q in FLOWS:
        rows = bands.get((arm, q, level))
        if rows is None:
            raise KeyError(f"no {q} rows for arm {arm!r}, level {level!r}")
        out[q] = yearly_totals({s: r[column] for s, r in rows.items()}, step_months)
    return out


def trend(values):
    """Least-squares slope of values against 1, 2, ..., n (per year for yearly values)."""
    n = len(values)
    if n < 2:
        return math.nan
    xbar = (n + 1) / 2
    ybar = math.fsum(values) / n
    return math.fsum((i + 1 - xbar) * (v - ybar) for i, v in enumerate(values)) / math.fsum(
        (i + 1 - xbar) ** 2 for i in range(n))


def _betacf(a, b, x):
    """Continued fraction of the regularised incomplete beta function (Lentz; Press et al., 6.4)."""
    tiny = 1e-300
    qab, qap, qam = a + b, a + 1, a - 1
    c, d = 1.0, 1 - qab * x / qap
    d = 1 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, 300):
        m2 = 2 * m
        for aa in (m * (b - m) * x / ((qam + m2) * (a + m2)), -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))):
            d = 1 + aa * d
            d = 1 / (d if abs(d) > tiny else tiny)
            c = 1 + aa / c
            c = c if abs(c) > tiny else tiny
            h *= d * c
        if abs(d * c - 1) < 1e-15:
            break
    return h


def _betainc(a, b, x):
    """Regularised incomplete beta I_x(a, b)."""
    if x <= 0:
        return 0.0
    if x >= 1:
        return 1.0
    front = math.exp(math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x))
    if x < (a + 1) / (a + b + 2):
        return front * _betacf(a, b, x) / a
    return 1 - front * _betacf(b, a, 1 - x) / b


def t_quantile_975(df):
    """t(0.975, df): the point with 2.5 % of Student's t above it, by bisection on the exact CDF."""
    if df <= 0:
        return math.nan

    def upper_tail(t):  # P(T > t) for t >= 0
        return 0.5 * _betainc(df / 2, 0.5, df / (df + t * t))

    lo, hi = 0.0, 1.0
    while upper_tail(hi) > 0.025:
        hi *= 2
    for _ in range(200):
        mid = (lo + hi) / 2
        if upper_tail(mid) > 0.025:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


def sample_quantile(sorted_values, p):
    """The p-quantile as girfec defines it (docs/methods.md §13): Hyndman and Fan's type 7,
    linear interpolation between the order statistics at h = (n - 1) p, counted from 0."""
    n = len(sorted_values)
    if not n:
        return math.nan
    h = (n - 1) * p
    lo = math.floor(h)
    hi = min(lo + 1, n - 1)
    return sorted_values[lo] + (h - lo) * (sorted_values[hi] - sorted_values[lo])


def describe(values):
    """Mean, 95 % CI for the mean (t-based), 2.5 and 97.5 % percentiles (type 7), n."""
    v = sorted(values)
    n = len(v)
    mean = math.fsum(v) / n if n else math.nan
    if n > 1:
        half = t_quantile_975(n - 1) * statistics.stdev(v) / math.sqrt(n)
        lo, hi = mean - half, mean + half
    else:
        lo = hi = math.nan
    return {"mean": mean, "ci_low": lo, "ci_high": hi, "p2_5": sample_quantile(v, 0.025),
            "p97_5": sample_quantile(v, 0.975), "n": n}


# ---------------------------------------------------------------------------
# Reading


def read_level_rows(path, level, quantities, columns=("mean", "mcse", "ci_low", "ci_high", "p2_5", "p97_5"),
                    value_column=None):
    """Rows of a bands.csv-like file for one level: {(arm, quantity, level): {step: {column: value}}}.

    With `value_column` (aggregate.csv's `value`), the file is read as
    aggregate.csv and the value is returned as "mean".
    """
    spec, cols = (schema.AGGREGATE, [value_column]) if value_column else (schema.BANDS, list(columns))
    rows = read_table(path, spec, ["arm", "step", "quantity", "level"] + cols,
                      keep=lambda r: r["level"] == level and r["quantity"] in quantities)
    out = {}
    for row in rows:
        vals = {"mean": row[value_column]} if value_column else {c: row[c] for c in cols}
        out.setdefault((row["arm"], row["quantity"], level), {})[row["step"]] = vals
    return out


def read_replication_flows(folder, level, arms, step_months):
    """Yearly inflow and outflow per replication: {(arm, quantity): [[year totals] per file]}."""
    files = sorted(glob.glob(os.path.join(folder, "*.csv")))
    if not files:
        raise OutputError(f"{folder}: no CSV files")
    out = {}
    for path in files:
        rows = read_level_rows(path, level, FLOWS, columns=("mean",))
        for arm in arms:
            try:
                totals = flow_totals(rows, arm, level, step_months)
            except (KeyError, ValueError) as e:
                raise OutputError(f"{path}: {e}") from None
            for q in FLOWS:
                out.setdefault((arm, q), []).append(totals[q])
    return out, len(files)


class Run:
    def __init__(self, folder, level):
        self.folder, self.level = folder, level
        self.manifest = read_manifest(os.path.join(folder, "manifest.json"))
        bands_path = os.path.join(folder, "bands.csv")
        self.bands = read_level_rows(bands_path, level, ("stock", "delta_stock") + FLOWS)
        if not self.bands:
            raise OutputError(f"{bands_path}: no stock, inflow or outflow rows for level {level!r}")
        scenario = self.manifest["scenario"]
        found = list(dict.fromkeys(k[0] for k in self.bands))
        self.arms = [a for a in (scenario.get("arms") or found) if a in found]
        self.step_months = scenario.get("stepMonths") or 1
        agg_path = os.path.join(folder, "aggregate.csv")
        self.expected = (read_level_rows(agg_path, level, ("stock",) + FLOWS, value_column="value")
                         if os.path.exists(agg_path) else {})
        self.name = scenario.get("name") or os.path.basename(os.path.normpath(folder))

    def stock(self, arm):
        rows = self.bands.get((arm, "stock", self.level))
        if rows is None:
            raise OutputError(f"{self.folder}/bands.csv: no stock rows for arm {arm!r}")
        steps = sorted(rows)
        return steps, rows

    def footer(self):
        return footer(self.manifest)


def analyse(run, per_replication=None):
    """Everything the figure and the summary need, as plain dicts and lists."""
    k = steps_per_year(run.step_months)
    result = {"arms": run.arms, "stock": {}, "expected_stock": {}, "flows": {}, "expected_flows": {},
              "flow_bands": {}}
    for arm in run.arms:
        steps, rows = run.stock(arm)
        result["stock"][arm] = (steps, rows)
        exp = run.expected.get((arm, "stock", run.level))
        if exp:
            result["expected_stock"][arm] = exp
        try:
            result["flows"][arm] = flow_totals(run.bands, arm, run.level, run.step_months)
            if run.expected:
                result["expected_flows"][arm] = flow_totals(run.expected, arm, run.level, run.step_months)
        except (KeyError, ValueError) as e:
            raise OutputError(f"{run.folder}/bands.csv: {e}") from None
        if per_replication:
            result["flow_bands"][arm] = {q: [describe([rep[y] for rep in per_replication[(arm, q)]])
                                             for y in range(len(per_replication[(arm, q)][0]))] for q in FLOWS}
            slopes = {q: [trend(rep) for rep in per_replication[(arm, q)]] for q in FLOWS}
            result.setdefault("trends", {})[arm] = {
                q: dict(describe(v), share_rising=sum(1 for s in v if s > 0) / len(v)) for q, v in slopes.items()}
            first = run.arms[0]
            if arm != first:
                result.setdefault("paired_last_year", {})[arm] = {
                    q: describe([a[-1] - b[-1] for a, b in zip(per_replication[(arm, q)], per_replication[(first, q)])])
                    for q in FLOWS}
    # How closely the stocks agree: the largest gap between arms' means, step by step.
    common = sorted(set.intersection(*(set(result["stock"][a][0]) for a in run.arms)))
    gaps = [(max(result["stock"][a][1][s]["mean"] for a in run.arms)
             - min(result["stock"][a][1][s]["mean"] for a in run.arms), s) for s in common]
    result["max_mean_gap"] = max(gaps) if gaps else (math.nan, None)
    if len(result["expected_stock"]) == len(run.arms):
        egaps = [max(result["expected_stock"][a][s]["mean"] for a in run.arms)
                 - min(result["expected_stock"][a][s]["mean"] for a in run.arms) for s in common]
        result["max_expected_gap"] = max(egaps)
    # Paired differences of the stock from the first arm (delta_stock rows), in Monte Carlo standard errors.
    paired = []
    for arm in run.arms[1:]:
        rows = run.bands.get((arm, "delta_stock", run.level), {})
        for s, r in rows.items():
            z = r["mean"] / r["mcse"] if r["mcse"] > 0 else (0.0 if r["mean"] == 0 else math.inf)
            paired.append((abs(r["mean"]), abs(z), r["ci_low"] > 0 or r["ci_high"] < 0))
    if paired:
        result["paired_stock"] = {"max_abs_mean": max(p[0] for p in paired), "max_abs_z": max(p[1] for p in paired),
                                  "share_ci_excluding_0": sum(p[2] for p in paired) / len(paired), "rows": len(paired)}
    # The agents' mean stock against the aggregate model's expectation, in Monte Carlo standard errors.
    zs = []
    for arm in run.arms:
        exp = result["expected_stock"].get(arm)
        if not exp:
            continue
        for s, r in result["stock"][arm][1].items():
            if s in exp and r["mcse"] > 0:
                zs.append(abs(r["mean"] - exp[s]["mean"]) / r["mcse"])
    if zs:
        result["agents_vs_expected_max_z"] = max(zs)
    result["years"] = len(next(iter(result["flows"].values()))["inflow"])
    result["steps_per_year"] = k
    return result


def summary_rows(run, res):
    """Per arm, year and quantity: the stock at the year's end and the year's inflow and outflow."""
    rows = []
    k = res["steps_per_year"]
    for arm in res["arms"]:
        steps, stock = res["stock"][arm]
        for y in range(1, res["years"] + 1):
            s = stock.get(y * k)
            if s is not None:
                e = res["expected_stock"].get(arm, {}).get(y * k, {}).get("mean", math.nan)
                rows.append([arm, y, "stock_end_of_year", s["mean"], s["ci_low"], s["ci_high"], s["p2_5"],
                             s["p97_5"], e, "bands.csv"])
            for q in FLOWS:
                mean = res["flows"][arm][q][y - 1]
                e = res["expected_flows"].get(arm, {}).get(q, [math.nan] * y)[y - 1]
                band = res["flow_bands"].get(arm, {}).get(q)
                if band:
                    b = band[y - 1]
                    rows.append([arm, y, q + "_per_year", mean, b["ci_low"], b["ci_high"], b["p2_5"], b["p97_5"], e,
                                 f"mean: bands.csv; bands: {b['n']} replications"])
                else:
                    rows.append([arm, y, q + "_per_year", mean, math.nan, math.nan, math.nan, math.nan, e,
                                 "bands.csv (means only)"])
    for arm, by_q in res.get("trends", {}).items():
        for q, d in by_q.items():
            rows.append([arm, f"1-{res['years']}", q + "_trend_per_year", d["mean"], d["ci_low"], d["ci_high"],
                         d["p2_5"], d["p97_5"], trend(res["expected_flows"][arm][q]) if arm in res["expected_flows"]
                         else math.nan, f"least-squares slope of each replication's yearly {q}, children per year "
                                        f"per year; rising in {100 * d['share_rising']:.1f} % of {d['n']}"])
    return rows


def write_summary(path, rows):
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["arm", "year", "quantity", "mean", "ci_low", "ci_high", "p2_5", "p97_5", "expected", "source"])
        for r in rows:
            w.writerow(r[:3] + ["" if isinstance(v, float) and math.isnan(v) else f"{v:.2f}".replace("-0.00", "0.00")
                                for v in r[3:9]] + [r[9]])


# ---------------------------------------------------------------------------
# Drawing


colour = style.colour
LINE_STYLES = style.LINE_STYLES


def draw(run, res, path):
    """(a) the stock per arm; (b) yearly inflow (top) and outflow (bottom) per arm."""
    style.apply()
    fig = plt.figure(figsize=(11.5, 5.6), layout="constrained")
    grid = fig.add_gridspec(2, 2)
    ax1 = fig.add_subplot(grid[:, 0])
    ax_in = fig.add_subplot(grid[0, 1])
    ax_out = fig.add_subplot(grid[1, 1], sharex=ax_in, sharey=ax_in)
    k = res["steps_per_year"]
    level = run.level
    arms = res["arms"]
    for i, arm in enumerate(arms):
        steps, rows = res["stock"][arm]
        t = [s / k for s in steps]
        ax1.fill_between(t, [rows[s]["p2_5"] for s in steps], [rows[s]["p97_5"] for s in steps], color=colour(i),
                         alpha=0.08, linewidth=0)
        ax1.plot(t, [rows[s]["mean"] for s in steps], color=colour(i), linewidth=1.6,
                 linestyle=LINE_STYLES[i % 4], zorder=3)
    if res["expected_stock"]:
        e = res["expected_stock"][arms[0]]
        es = sorted(e)
        ax1.plot([s / k for s in es], [e[s]["mean"] for s in es], color="black", linewidth=0.9,
                 linestyle=(0, (1, 1.2)), zorder=4)
    gap, _at = res["max_mean_gap"]
    note = f"the arms' means are within {gap:.1f} children of each other at every month"
    if "max_expected_gap" in res:
        note += f";\nexpected values (aggregate model) within {res['max_expected_gap']:.3f}"
    ax1.set_title(f"(a) Children at the {level} level\n{note}", fontsize=9.5)
    ax1.set_xlabel("Time (years)")
    ax1.set_ylabel(f"Children in {level}")
    ax1.grid(**style.GRID)

    years = res["years"]
    width = 0.5 / max(1, len(arms))
    for ax, q, marker, what in ((ax_in, "inflow", "o", f"Inflow to {level} per year: children joining "
                                                       "(moves in + entries)"),
                                (ax_out, "outflow", "s", f"Outflow from {level} per year: children leaving "
                                                         "(moves out + exits)")):
        for i, arm in enumerate(arms):
            x = [y - 0.5 + (i - (len(arms) - 1) / 2) * width for y in range(1, years + 1)]
            means = res["flows"][arm][q]
            band = res["flow_bands"].get(arm, {}).get(q)
            if band:
                ax.errorbar(x, means, yerr=[[m - b["p2_5"] for m, b in zip(means, band)],
                                            [b["p97_5"] - m for m, b in zip(means, band)]],
                            fmt="none", ecolor=colour(i), elinewidth=0.9, alpha=0.5, zorder=2)
            ax.plot(x, means, color=colour(i), linestyle=LINE_STYLES[i % 4], linewidth=1.5, marker=marker,
                    markersize=3.5, zorder=3)
        ax.set_title(f"(b) {what}", fontsize=9.5)
        ax.set_ylabel("Children per year")
        ax.set_xticks([y - 0.5 for y in range(1, years + 1)], [str(y) for y in range(1, years + 1)])
        ax.set_xticks(range(0, years + 1), minor=True)
        ax.tick_params(axis="x", which="major", length=0)
        ax.grid(**style.GRID, which="minor", axis="x")
        ax.grid(**style.GRID, axis="y")
        ax.set_xlim(0, years)
    ax_in.tick_params(axis="x", labelbottom=False)
    ax_out.set_xlabel("Year")

    handles = [Line2D([], [], color=colour(i), linewidth=1.6, linestyle=LINE_STYLES[i % 4], label=arm)
               for i, arm in enumerate(arms)]
    handles.append(Patch(color="0.55", alpha=0.25, label="(a) 95 % of replications (2.5–97.5 percentiles), "
                                                          "each arm"))
    if res["expected_stock"]:
        handles.append(Line2D([], [], color="black", linewidth=0.9, linestyle=(0, (1, 1.2)),
                              label="(a) expected (aggregate model): one line for all arms"))
    if res["flow_bands"]:
        n = next(iter(next(iter(res["flow_bands"].values())).values()))[0]["n"]
        handles.append(Line2D([], [], color="0.3", linewidth=0.9, alpha=0.6,
                              label=f"(b) mean per year, and 95 % of replications (2.5–97.5 percentiles of "
                                    f"{n} replications' yearly totals)"))
    else:
        handles.append(Line2D([], [], color="0.3", marker="o", markersize=3.5,
                              label="(b) mean per year (sum of monthly means; no band without --replication-flows)"))
    style.finish(fig, run.name, handles=handles, footer=run.footer(), ncol=3, fontsize=8)
    stem, extension = os.path.splitext(path)
    fmt = extension[1:].lower() if extension[1:].lower() in style.FORMATS else "png"
    return style.save(fig, os.path.dirname(stem) or ".", os.path.basename(stem), (fmt,))[0]


# ---------------------------------------------------------------------------
# Command line


def headline(run, res):
    lines = []
    gap, at = res["max_mean_gap"]
    k = res["steps_per_year"]
    lines.append(f"{run.level} stock, agents: the arms' means are within {gap:.2f} children of each other at every "
                 f"step (largest at step {at}, year {at / k:.2f})")
    if "max_expected_gap" in res:
        lines.append(f"{run.level} stock, expected (aggregate model): within {res['max_expected_gap']:.4f} children")
    if "paired_stock" in res:
        d = res["paired_stock"]
        lines.append(f"{run.level} stock, paired differences from {res['arms'][0]} (delta_stock, {d['rows']} rows): "
                     f"largest |mean| {d['max_abs_mean']:.2f} children, largest |mean/MCSE| {d['max_abs_z']:.2f}; "
                     f"95 % CI excludes 0 in {100 * d['share_ci_excluding_0']:.1f} % of rows")
    if "agents_vs_expected_max_z" in res:
        lines.append(f"{run.level} stock, agents' mean vs the aggregate model: largest |difference/MCSE| "
                     f"{res['agents_vs_expected_max_z']:.2f}")
    last = res["years"] * k
    for arm in res["arms"]:
        s = res["stock"][arm][1].get(last)
        f = res["flows"][arm]
        text = (f"{arm:14s} stock at year {res['years']}: {s['mean']:.1f} ({s['p2_5']:.0f}-{s['p97_5']:.0f}); "
                f"year {res['years']}: inflow {f['inflow'][-1]:.1f}")
        band = res["flow_bands"].get(arm)
        if band:
            b = band["inflow"][-1]
            text += f" ({b['p2_5']:.0f}-{b['p97_5']:.0f})"
        text += f", outflow {f['outflow'][-1]:.1f}"
        if band:
            b = band["outflow"][-1]
            text += f" ({b['p2_5']:.0f}-{b['p97_5']:.0f})"
        text += f"; year 1: inflow {f['inflow'][0]:.1f}, outflow {f['outflow'][0]:.1f}"
        lines.append(text)
    for arm, by_q in res.get("trends", {}).items():
        lines.append(f"{arm:14s} trend over the years (children per year, per year; 2.5-97.5 % of replications): "
                     + "; ".join(f"{q} {d['mean']:+.2f} ({d['p2_5']:+.2f} to {d['p97_5']:+.2f}), rising in "
                                 f"{100 * d['share_rising']:.0f} %" for q, d in by_q.items()))
    for arm, by_q in res.get("paired_last_year", {}).items():
        lines.append(f"{arm:14s} minus {res['arms'][0]}, year {res['years']} (paired, same replication): "
                     + "; ".join(f"{q} {d['mean']:+.1f} (CI {d['ci_low']:+.1f} to {d['ci_high']:+.1f}; "
                                 f"{d['p2_5']:+.0f} to {d['p97_5']:+.0f})" for q, d in by_q.items()))
    return lines


def main(argv=None):
    p = argparse.ArgumentParser(prog="flow_patterns.py",
                                description="Same stock, different flows: a level's stock and yearly flows per arm.")
    p.add_argument("run_dir", metavar="RUN_DIR", help="run folder written by `girfec run ... --out RUN_DIR`")
    p.add_argument("--replication-flows", metavar="DIR",
                   help="folder of per-replication CSV files (bands.csv rows of single-replication runs)")
    p.add_argument("--level", default="Intensive", help="the level to show (default Intensive)")
    p.add_argument("--out", metavar="FILE", help="PNG to write (default RUN_DIR/flow_patterns.png)")
    p.add_argument("--summary", metavar="FILE", help="also write the numbers per arm, year and quantity as CSV")
    args = p.parse_args(argv)
    if plt is None:
        print(f"flow_patterns.py: error: {style.MISSING}", file=sys.stderr)
        return 1
    if not os.path.isdir(args.run_dir):
        print(f"flow_patterns.py: error: {args.run_dir}: not a folder", file=sys.stderr)
        return 1
    out = args.out or os.path.join(args.run_dir, "flow_patterns.png")
    try:
        run = Run(args.run_dir, args.level)
        per_rep = None
        if args.replication_flows:
            per_rep, n = read_replication_flows(args.replication_flows, args.level, run.arms, run.step_months)
            # The single-replication runs must be the run's own replications: same yearly means.
            for arm in run.arms:
                for q in FLOWS:
                    reps = per_rep[(arm, q)]
                    means = [math.fsum(r[y] for r in reps) / n for y in range(len(reps[0]))]
                    want = flow_totals(run.bands, arm, run.level, run.step_months)[q]
                    worst = max(abs(a - b) for a, b in zip(means, want))
                    if worst > 0.01:
                        raise OutputError(f"{args.replication_flows}: the mean of {n} replications' yearly {q} of "
                                        f"{arm!r} differs from {args.run_dir}/bands.csv by {worst:.3f}: not the "
                                        "same replications (seed, count or scenario)?")
        res = analyse(run, per_rep)
        if args.summary:
            write_summary(args.summary, summary_rows(run, res))
        out = draw(run, res, out)
    except OutputError as e:
        print(f"flow_patterns.py: error: {e}", file=sys.stderr)
        return 1
    for line in headline(run, res):
        print(line)
    print(out)
    if args.summary:
        print(args.summary)
    return 0


if __name__ == "__main__":
    sys.exit(main())
