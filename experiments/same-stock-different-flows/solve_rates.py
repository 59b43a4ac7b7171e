#!/usr/bin/env python3
"""Solve for transition-rate paths that give one Intensive stock path through
four different patterns of inflow and outflow, and write scenario.yaml.

Usage (from the repository root):
    python3 experiments/same-stock-different-flows/solve_rates.py [--check]

Writes, next to this file:
    scenario.yaml   the four-arm scenario girfec runs (generated: edit this
                    script, not the YAML)
    targets.csv     per arm and month: the target Intensive stock, inflow and
                    outflow, and what the scenario as written gives in
                    expectation (the cohort model below)

With --check it writes nothing and exits 1 if scenario.yaml or targets.csv
differ from what it would write. With --verify RUN/aggregate.csv it compares
girfec's own aggregate model for scenario.yaml with targets.csv (exits 1 if
girfec and this script's cohort model differ by more than 0.01 children).

How (README.md, "How the rates were chosen", says the same in words):

1. The scenario format has no time-varying baseline rates; the only thing
   that changes rates over time is a practice variable. Two practice
   variables reach every child with `effectFunction: immediate`, so they are
   plain time-varying multipliers, the same for every child:
   `escalationTrend` (escalationEffect 1) multiplies every escalation
   probability by rho(t) = 1 - x1(t); `stepDownTrend` (stepDownEffect 3)
   multiplies every step-down probability by gamma(t) = 1 + 3*x2(t).
   Both start at x = 0.5, so rates can go up or down from the start.
2. With every child sharing one per-step matrix, the aggregate model in cohort
   mode (S(t) = S(t-1) P(t), ages as a monthly conveyor, exits and entries as
   the engine orders them) is the exact expectation of the agent model
   (docs/methods.md, section 9). This script re-implements that cohort model
   (numpy) so it can solve inside it.
3. The children present at the start are the stationary level totals of the
   model at the starting multipliers (the system was steady before the change).
4. Targets (monthly, step k = 1..120, t_k = k/12 years): the Intensive stock
   S*(t) = S0 + RISE * (t/10)^2, so it rises from S0 by RISE over ten years,
   starting from a steady state (slope 0 at t = 0); with dS_k = S*(t_k) -
   S*(t_{k-1}) and f0 the steady monthly flow:
     more-inflow    outflow f0 (flat),             inflow  f0 + dS_k
     less-outflow   inflow  f0 (flat),             outflow f0 - dS_k
     both-rising    outflow f0 * S*(t_{k-1}) / S0  (same chance of leaving per
                    child: same length of stay),   inflow  outflow + dS_k
     both-falling   inflow  f0 * (1 - FALL * t),   outflow inflow - dS_k
5. In each step, inflow and outflow of Intensive are affine in (rho, gamma):
   evaluate the step at three points and solve the 2x2 system: the per-step
   multipliers that hit both targets exactly.
6. Those 120 values per arm and multiplier are fitted by a piecewise-linear
   trajectory with knots every half year (21 points, what the YAML holds),
   least squares on the step midpoints where the engine reads intensity, then
   the knots are refined by Gauss-Newton on the whole path so the stock and
   both flows stay on target. The residual is reported: it is the "nearly"
   in "nearly the same stock".

Standard library and numpy only.
"""
import argparse
import csv
import io
import math
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))

# --------------------------------------------------------------------------
# The model (the default experiment's numbers, one area, see README.md)

LEVELS = ["Universal", "Additional", "Intensive", "Compulsory"]
COST = {"Universal": 300, "Additional": 2000, "Intensive": 19000, "Compulsory": 63000}
QOL = {"Universal": 0.85, "Additional": 0.80, "Intensive": 0.70, "Compulsory": 0.60}
I = LEVELS.index("Intensive")
STEPS, STEP_MONTHS = 120, 1
DT = STEP_MONTHS / 12
AGE_OUT_MONTHS = 18 * 12
BIRTHS_PER_YEAR = 1330.0
ENTRY_LEVELS = {"Universal": 0.97, "Additional": 0.03}
IN_PER_YEAR = 400.0
IN_LEVELS = {"Universal": 0.80, "Additional": 0.15, "Intensive": 0.03, "Compulsory": 0.02}
OUT_RATE = 0.02

# Effective yearly rates at the start (the default experiment's matrix).
START_RATES = {
    "Universal": {"Additional": 0.045, "Intensive": 0.004, "Compulsory": 0.0005},
    "Additional": {"Universal": 0.25, "Intensive": 0.04, "Compulsory": 0.005},
    "Intensive": {"Universal": 0.05, "Additional": 0.30, "Compulsory": 0.16},
    "Compulsory": {"Universal": 0.02, "Additional": 0.04, "Intensive": 0.18},
}
X0 = 0.5               # both trend variables start at intensity 0.5
ESCALATION_EFFECT = 1.0  # rho = 1 - 1.0 * x1: from 0 (x1 = 1) to 1 (x1 = 0); 0.5 at the start
STEP_DOWN_EFFECT = 3.0   # gamma = 1 + 3 * x2: from 1 to 4; 2.5 at the start
RHO0 = 1 - ESCALATION_EFFECT * X0
GAMMA0 = 1 + STEP_DOWN_EFFECT * X0

# The targets
RISE = 110.0            # children: the Intensive stock rises by this over ten years
FALL = 0.01             # both-falling: inflow falls by 1 % of f0 a year
KNOT_YEARS = 0.5        # trajectory points every half year

ARMS = ["more-inflow", "less-outflow", "both-rising", "both-falling"]
ARM_TEXT = {
    "more-inflow": "Rising inflow, flat outflow (seed's Figure 6, box C): more children join Intensive; as many leave as before.",
    "less-outflow": "Flat inflow, falling outflow (box A): as many join as before; fewer leave, so stays lengthen.",
    "both-rising": "Rising inflow and rising outflow (box B): each child's chance of leaving is unchanged (same length of stay); more join than leave.",
    "both-falling": "Falling inflow and outflow falling faster (box D): fewer join, and fewer still leave.",
}


# --------------------------------------------------------------------------
# Matrix functions and the base matrix


def expm(a):
    """exp(A) by scaling and squaring with a Taylor series (A small and 4x4 here)."""
    norm = np.abs(a).sum(axis=1).max()
    s = max(0, int(math.ceil(math.log2(norm / 0.1))) if norm > 0.1 else 0)
    b = a / 2 ** s
    term, total = np.eye(len(a)), np.eye(len(a))
    for k in range(1, 25):
        term = term @ b / k
        total = total + term
    for _ in range(s):
        total = total @ total
    return total


def base_rates():
    """The YAML matrix: start rates divided by the start multipliers (red by rho0, green by gamma0)."""
    q = {}
    for i, src in enumerate(LEVELS):
        q[src] = {}
        for dst, r in START_RATES[src].items():
            j = LEVELS.index(dst)
            q[src][dst] = r / (RHO0 if j > i else GAMMA0)
    return q


def generator(rates):
    n = len(LEVELS)
    q = np.zeros((n, n))
    for src, row in rates.items():
        for dst, r in row.items():
            q[LEVELS.index(src), LEVELS.index(dst)] = r
    q[np.diag_indices(n)] = -q.sum(axis=1)
    return q


def round_rate(r):
    return float(f"{r:.6g}")


BASE_RATES = {src: {dst: round_rate(r) for dst, r in row.items()} for src, row in base_rates().items()}
P_BASE = expm(generator(BASE_RATES) * DT)
N = len(LEVELS)
UPPER = np.triu(np.ones((N, N)), 1)  # i -> j with j > i: escalation (red)
LOWER = np.tril(np.ones((N, N)), -1)  # step-down (green)
ENTRY = np.array([ENTRY_LEVELS.get(lvl, 0.0) for lvl in LEVELS])
IN_MIX = np.array([IN_LEVELS.get(lvl, 0.0) for lvl in LEVELS])
P_OUT = 1 - math.exp(-OUT_RATE * DT)


# --------------------------------------------------------------------------
# The cohort model (the engine's order: transitions, ageing, ageing out,
# out-migration, then births and in-migrants)


def step_matrix(rho, gamma):
    off = P_BASE * (UPPER * rho + LOWER * gamma)
    np.fill_diagonal(off, 0.0)
    p = off.copy()
    np.fill_diagonal(p, 1 - off.sum(axis=1))
    return p


def initial_stock(counts):
    """Stocks by (age month, level): ages uniform over whole months 0..215."""
    return np.outer(np.full(AGE_OUT_MONTHS, 1 / AGE_OUT_MONTHS), np.asarray(counts, float))


def cohort_step(stock, rho, gamma):
    """One step. Returns the new stock, the flow matrix, entries and exits per level."""
    p = step_matrix(rho, gamma)
    after = stock @ p
    off = p.copy()
    np.fill_diagonal(off, 0.0)
    flows = stock.sum(axis=0)[:, None] * off  # flows i -> j (same P in every age class)
    aged = np.zeros_like(after)
    aged[1:] = after[:-1]  # everybody one month older; the oldest class reaches 18
    exits = after[-1].copy()
    leaving = aged * P_OUT
    exits += leaving.sum(axis=0)
    aged -= leaving
    births = BIRTHS_PER_YEAR * DT
    immigrants = IN_PER_YEAR * DT
    aged[0] += births * ENTRY
    aged += (immigrants / AGE_OUT_MONTHS) * IN_MIX[None, :]
    entries = births * ENTRY + immigrants * IN_MIX
    return aged, flows, entries, exits


def in_out(flows, entries, exits, level=I):
    inflow = flows[:, level].sum() - flows[level, level] + entries[level]
    outflow = flows[level, :].sum() - flows[level, level] + exits[level]
    return inflow, outflow


def run(counts, rhos, gammas):
    """Intensive (and all) stocks, inflow and outflow per step for per-step multipliers."""
    stock = initial_stock(counts)
    stocks = [stock.sum(axis=0)]
    ins, outs = [], []
    for rho, gamma in zip(rhos, gammas):
        stock, flows, entries, exits = cohort_step(stock, rho, gamma)
        a, b = in_out(flows, entries, exits)
        stocks.append(stock.sum(axis=0))
        ins.append(a)
        outs.append(b)
    return np.array(stocks), np.array(ins), np.array(outs)


def stationary_counts(years=200):
    stock = initial_stock([20000, 3000, 600, 400])
    for _ in range(int(years * 12)):
        stock, *_ = cohort_step(stock, RHO0, GAMMA0)
    return stock.sum(axis=0)


# --------------------------------------------------------------------------
# Targets and the per-step solve


def targets(arm, s0, f0):
    t = np.arange(STEPS + 1) * DT
    s = s0 + RISE * (t / (STEPS * DT)) ** 2
    ds = np.diff(s)
    mid = (np.arange(1, STEPS + 1) - 0.5) * DT
    if arm == "more-inflow":
        out = np.full(STEPS, f0)
        inn = out + ds
    elif arm == "less-outflow":
        inn = np.full(STEPS, f0)
        out = inn - ds
    elif arm == "both-rising":
        out = f0 * s[:-1] / s0
        inn = out + ds
    elif arm == "both-falling":
        inn = f0 * (1 - FALL * mid)
        out = inn - ds
    else:
        raise ValueError(arm)
    return s, inn, out


def solve_steps(counts, inn, out):
    """Per-step (rho, gamma) that give exactly the target inflow and outflow of Intensive."""
    stock = initial_stock(counts)
    rhos, gammas = [], []
    for k in range(STEPS):
        def f(r, g):
            _, flows, entries, exits = cohort_step(stock, r, g)
            return np.array(in_out(flows, entries, exits))
        c = f(0.0, 0.0)
        m = np.column_stack([f(1.0, 0.0) - c, f(0.0, 1.0) - c])
        r, g = np.linalg.solve(m, np.array([inn[k], out[k]]) - c)
        rhos.append(r)
        gammas.append(g)
        stock, *_ = cohort_step(stock, r, g)
    return np.array(rhos), np.array(gammas)


# --------------------------------------------------------------------------
# Trajectories: knots, interpolation as the engine does it, fitting


KNOTS = np.arange(0, STEPS * DT + 1e-9, KNOT_YEARS)
MIDPOINTS = (np.arange(1, STEPS + 1) - 0.5) * DT  # where the engine reads intensity


def interp_matrix():
    """W with W @ knot_values = values at the step midpoints (linear interpolation)."""
    w = np.zeros((STEPS, len(KNOTS)))
    for k, t in enumerate(MIDPOINTS):
        j = min(int(t // KNOT_YEARS), len(KNOTS) - 2)
        u = (t - KNOTS[j]) / (KNOTS[j + 1] - KNOTS[j])
        w[k, j], w[k, j + 1] = 1 - u, u
    return w


W = interp_matrix()


def rho_gamma(x1_knots, x2_knots):
    x1, x2 = W @ x1_knots, W @ x2_knots
    return 1 - ESCALATION_EFFECT * x1, 1 + STEP_DOWN_EFFECT * x2


def round_x(v):
    return np.array([float(f"{min(max(x, 0.0), 1.0):.5f}") for x in v])


def fit_knots(counts, s, inn, out, rhos, gammas, iterations=8):
    """Least-squares knots for the per-step multipliers, refined on the stock and flow paths."""
    x1 = (1 - rhos) / ESCALATION_EFFECT
    x2 = (gammas - 1) / STEP_DOWN_EFFECT
    k1 = np.linalg.lstsq(W, x1, rcond=None)[0]
    k2 = np.linalg.lstsq(W, x2, rcond=None)[0]
    theta = np.concatenate([k1, k2])
    nk = len(KNOTS)

    def residual(th):
        r, g = rho_gamma(th[:nk], th[nk:])
        st, a, b = run(counts, r, g)
        # stock error dominates (weight 1 per child), flows keep their shape
        return np.concatenate([st[1:, I] - s[1:], 0.3 * (a - inn), 0.3 * (b - out)])

    for _ in range(iterations):
        res = residual(theta)
        jac = np.zeros((len(res), len(theta)))
        for j in range(len(theta)):
            d = np.zeros_like(theta)
            d[j] = 1e-6
            jac[:, j] = (residual(theta + d) - res) / 1e-6
        step = np.linalg.lstsq(jac, -res, rcond=None)[0]
        theta = theta + step
        if np.abs(step).max() < 1e-10:
            break
    return round_x(theta[:nk]), round_x(theta[nk:])


# --------------------------------------------------------------------------
# Writing the scenario


def fmt(v):
    return f"{v:.6g}" if isinstance(v, float) else str(v)


def trajectory_yaml(knots, indent):
    pad = " " * indent
    return "\n".join(f"{pad}- {{timeYears: {fmt(float(t))}, value: {fmt(float(v))}}}" for t, v in zip(KNOTS, knots))


def scenario_text(counts, fits):
    counts = {lvl: int(c) for lvl, c in zip(LEVELS, counts)}
    lines = []
    w = lines.append
    w("# GENERATED by solve_rates.py (same folder): edit that script, not this file.")
    w("#")
    w("# Same stock, different flows (the seed's Figure 6). Four arms whose")
    w("# Intensive stock follows one rising path (from the starting stock to +"
      f"{RISE:g} children")
    w("# over ten years) through four different patterns of inflow and outflow.")
    w("# The rest is the default experiment (../default/scenario.yaml) made")
    w("# simpler: one area, no age multipliers, no duration dependence, so that")
    w("# every child in a level shares one transition matrix and the aggregate")
    w("# model (cohort mode) is the exact expectation of the agents. See README.md.")
    w("name: Same stock, different flows (seed Figure 6)")
    w("description: >")
    w("  Four patterns of inflow to and outflow from Intensive that give the same")
    w("  rising Intensive stock. Rates change over time through two practice")
    w("  variables used as time-varying multipliers (escalationTrend, stepDownTrend).")
    w("")
    w("time: {stepMonths: 1, horizonYears: 10}")
    w("")
    w("levels:                     # costs and QoL weights as in ../default (not used here)")
    for lvl in LEVELS:
        w(f"  {lvl}: {{costPerChildYear: {COST[lvl]}, qolWeight: {QOL[lvl]}}}")
    w("")
    w("population:")
    w("  # The stationary level totals at the starting rates (solve_rates.py),")
    w("  # about the default experiment's 24,000 children: steady before the change.")
    w("  initialCounts: {" + ", ".join(f"{lvl}: {c}" for lvl, c in counts.items()) + "}")
    w("  ageDistribution:")
    w("    - {fromYears: 0, toYears: 18, share: 1}")
    w("  ageing: true")
    w("  ageOutYears: 18")
    w("  births:")
    w(f"    perYear: {BIRTHS_PER_YEAR:g}")
    w("    entryLevels: {" + ", ".join(f"{k}: {v:g}" for k, v in ENTRY_LEVELS.items()) + "}")
    w("  migration:")
    w(f"    inPerYear: {IN_PER_YEAR:g}")
    w("    inLevels: {" + ", ".join(f"{k}: {v:g}" for k, v in IN_LEVELS.items()) + "}")
    w(f"    outRatePerYear: {OUT_RATE:g}")
    w("")
    w("transitions:")
    w("  # Rates at multiplier 1. At the start the trend variables below hold every")
    w(f"  # escalation probability at {RHO0:g} x and every step-down at {GAMMA0:g} x these, which")
    w("  # gives the default experiment's matrix (../default/scenario.yaml) to second order")
    w(f"  # in the monthly rates: escalations here are the default's / {RHO0:g}, step-downs the")
    w(f"  # default's / {GAMMA0:g}.")
    w("  unit: ratesPerYear")
    w("  matrix:")
    for src in LEVELS:
        w(f"    {src}: {{" + ", ".join(f"{dst}: {fmt(r)}" for dst, r in BASE_RATES[src].items()) + "}")
    w("")
    w("# Time-varying rates. The format has no time-varying baseline matrix, so two")
    w("# practice variables reaching every child with an immediate effect serve as")
    w("# multipliers, the same for every child (docs/scenario-format.md, section 9):")
    w("#   every escalation probability x (1 - x1(t)),  every step-down x (1 + 3 x2(t)).")
    w("# x = 0.5 at the start. Each arm gives its own x1, x2 paths (fitted by solve_rates.py).")
    w("practice:")
    w("  escalationTrend:")
    w(f"    intensity: {X0:g}")
    w(f"    escalationEffect: {ESCALATION_EFFECT:g}")
    w("    stepDownEffect: 0")
    w("    effectFunction: immediate")
    w("  stepDownTrend:")
    w(f"    intensity: {X0:g}")
    w("    escalationEffect: 0")
    w(f"    stepDownEffect: {STEP_DOWN_EFFECT:g}")
    w("    effectFunction: immediate")
    w("")
    w("arms:")
    for arm in ARMS:
        x1, x2 = fits[arm]
        w(f"  # {ARM_TEXT[arm]}")
        w(f"  {arm}:")
        w("    practice:")
        w("      escalationTrend:")
        w("        intensity:")
        w(trajectory_yaml(x1, 10))
        w("      stepDownTrend:")
        w("        intensity:")
        w(trajectory_yaml(x2, 10))
    return "\n".join(lines) + "\n"


def targets_csv(rows):
    buf = io.StringIO()
    wr = csv.writer(buf, lineterminator="\n")
    wr.writerow(["arm", "step", "time_years", "target_stock", "expected_stock", "target_inflow",
                 "expected_inflow", "target_outflow", "expected_outflow", "rho", "gamma"])
    for r in rows:
        wr.writerow([r[0], r[1], fmt(r[2])] + [f"{v:.4f}" for v in r[3:]])
    return buf.getvalue()


def build():
    counts = np.round(stationary_counts()).astype(int)
    stock0 = initial_stock(counts)
    _, flows, entries, exits = cohort_step(stock0, RHO0, GAMMA0)
    f0 = float(np.mean(in_out(flows, entries, exits)))
    s0 = float(counts[I])
    fits, rows, report = {}, [], []
    for arm in ARMS:
        s, inn, out = targets(arm, s0, f0)
        rhos, gammas = solve_steps(counts, inn, out)
        x1, x2 = fit_knots(counts, s, inn, out, rhos, gammas)
        fits[arm] = (x1, x2)
        r, g = rho_gamma(x1, x2)
        st, a, b = run(counts, r, g)
        for k in range(STEPS + 1):
            if k == 0:
                rows.append([arm, 0, 0.0, s[0], st[0, I], math.nan, math.nan, math.nan, math.nan, math.nan, math.nan])
            else:
                rows.append([arm, k, k * DT, s[k], st[k, I], inn[k - 1], a[k - 1], out[k - 1], b[k - 1],
                             r[k - 1], g[k - 1]])
        report.append((arm, np.abs(st[:, I] - s).max(), rhos.min(), rhos.max(), gammas.min(), gammas.max(),
                       inn[-12:].sum(), out[-12:].sum()))
    return counts, f0, s0, scenario_text(counts, fits), targets_csv(rows), report


def verify(aggregate_csv, tolerance=0.01):
    """Compare girfec's aggregate model (aggregate.csv of a run of scenario.yaml) with targets.csv."""
    want = {}
    with open(os.path.join(HERE, "targets.csv"), newline="", encoding="utf-8") as f:
        for r in csv.DictReader(f):
            want[(r["arm"], int(r["step"]), "stock")] = (float(r["target_stock"]), float(r["expected_stock"]))
            if r["step"] != "0":
                for q in ("inflow", "outflow"):
                    want[(r["arm"], int(r["step"]), q)] = (float(r["target_" + q]), float(r["expected_" + q]))
    got = {}
    with open(aggregate_csv, newline="", encoding="utf-8") as f:
        for r in csv.DictReader(f):
            if r["level"] == "Intensive" and r["quantity"] in ("stock", "inflow", "outflow"):
                got[(r["arm"], int(r["step"]), r["quantity"])] = float(r["value"])
    missing = [k for k in want if k not in got]
    if missing:
        print(f"verify: {aggregate_csv} lacks {len(missing)} rows, e.g. {missing[0]}", file=sys.stderr)
        return 1
    worst = {}
    for key, (target, expected) in want.items():
        q = key[2]
        d_model = abs(got[key] - expected)
        d_target = abs(got[key] - target)
        a, b = worst.get(q, (0.0, 0.0))
        worst[q] = (max(a, d_model), max(b, d_target))
    for q, (d_model, d_target) in worst.items():
        unit = "children" if q == "stock" else "children per month"
        print(f"verify: Intensive {q}: girfec aggregate vs this script's cohort model: max |difference| "
              f"{d_model:.5f}; vs the target: {d_target:.4f} {unit}")
    bad = [q for q, (d, _) in worst.items() if d > tolerance]
    if bad:
        print(f"verify: girfec's aggregate model and this script disagree on {', '.join(bad)} by more than "
              f"{tolerance}", file=sys.stderr)
        return 1
    return 0


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--check", action="store_true", help="write nothing; exit 1 if the files are out of date")
    p.add_argument("--verify", metavar="AGGREGATE_CSV",
                   help="only compare girfec's aggregate.csv for scenario.yaml with targets.csv, and exit")
    args = p.parse_args(argv)
    if args.verify:
        return verify(args.verify)
    counts, f0, s0, yaml_text, csv_text, report = build()
    print(f"initial counts {dict(zip(LEVELS, counts.tolist()))}; Intensive S0 = {s0:g}, "
          f"steady flow f0 = {f0:.3f} children per month ({12 * f0:.1f} a year)")
    for arm, err, rlo, rhi, glo, ghi, yin, yout in report:
        print(f"{arm:13s} max |stock - target| {err:.3f}; per-step rho {rlo:.3f}..{rhi:.3f}, "
              f"gamma {glo:.3f}..{ghi:.3f}; year-10 target inflow {yin:.1f}, outflow {yout:.1f}")
    outputs = {os.path.join(HERE, "scenario.yaml"): yaml_text, os.path.join(HERE, "targets.csv"): csv_text}
    if args.check:
        stale = [p for p, text in outputs.items() if not os.path.isfile(p) or open(p, encoding="utf-8").read() != text]
        for path in stale:
            print(f"out of date: {path}", file=sys.stderr)
        return 1 if stale else 0
    for path, text in outputs.items():
        with open(path, "w", encoding="utf-8", newline="\n") as f:
            f.write(text)
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
