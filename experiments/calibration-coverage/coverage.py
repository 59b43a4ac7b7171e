#!/usr/bin/env python3
"""Convergence and coverage of stock-only `girfec calibrate` over synthetic data sets of several shapes.

Usage (from the repository root; README.md beside this file):
    python3 experiments/calibration-coverage/coverage.py [--out DIR] [--per-shape N] [--first-seed S]
        [--girfec BINARY] [--timeout SECONDS] [--jobs J] [--shapes a,b] [--quick] [--prepare-only]

For each shape (SHAPES below) and each seed, it draws a truth (rates from the
shape's law, random.Random("SHAPE:SEED")), writes it as DIR/data/SHAPE-SEED/truth.json,
runs the project's generator (scripts/synthetic_calibration_data.py --seed SEED)
there, writes scenario.yaml and calibrate.yaml beside the data
(scripts/girfec_py/stockfit.py), runs `girfec calibrate` into DIR/fits/SHAPE-SEED
with a time limit, and reads girfec's verdicts. A data set already generated
with the same truth and seed is reused.

It writes
  DIR/fits.csv     one row per fit      (FITS_COLUMNS)
  DIR/rates.csv    one row per fitted rate (RATES_COLUMNS)
  DIR/summary.md   per shape: fits, converged %, identified rates, coverage % with a
                   Wilson 95 % interval, median seconds per fit
and a progress line per fit on stderr.

Converged: girfec exited 0 and no note says "NOT converged" (girfec exits 3
when the chains did not converge; a fit stopped by the time limit is
"timeout"; any other exit "error"). A rate counts for coverage when its fit
converged and girfec's verdict for it is "identified"; it covers the truth
when rate_low ≤ truth ≤ rate_high (estimates.csv; posterior.csv's q2_5 and
q97_5 where estimates.csv lacks the rate). rates.csv's `inside` says the same for
every rate with an interval, whatever the verdict or convergence.

Seeds: development used seeds below 10000; the reported study uses
20001–20052 (13 per shape, --first-seed 20001), seeds never used while girfec's
stock calibration was developed; shape i (0–3, in SHAPES order) takes seeds
first + i·N to first + i·N + N − 1 with N = --per-shape. --quick: one data set
per shape, seeds 101–104.

Standard library only. Exit status 0 when every fit ran (whatever its
verdict), 1 when the generator failed, 2 on a usage error.
"""
from __future__ import annotations

import argparse
import concurrent.futures
import csv
import json
import math
import os
import random
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "scripts"))
sys.dont_write_bytecode = True

from girfec_py import stockfit  # noqa: E402

GENERATOR = os.path.join(ROOT, "scripts", "synthetic_calibration_data.py")
START_DATE = "2015-07-31"
YEARS = 7                       # 8 yearly censuses
PRIOR = (0.1, 1.5)              # every free rate: log-normal, median 0.1 a year, sdLog 1.5 (95 %: 0.005–1.9)
FITS_COLUMNS = ["shape", "seed", "status", "exit_status", "seconds", "free_rates", "identified_rates",
                "covered_rates", "max_r_hat", "min_ess_bulk", "message"]
RATES_COLUMNS = ["shape", "seed", "status", "from_level", "to_level", "truth", "estimate", "low", "high",
                 "verdict", "inside", "covered", "r_hat", "ess_bulk", "ess_tail"]
FOUR = ["Universal", "Additional", "Intensive", "Compulsory"]
THREE = FOUR[:3]


# ---------------------------------------------------------------------------
# Shapes: how each truth is drawn


def log_uniform(rng, low, high):
    """exp(U(ln low, ln high))."""
    return math.exp(rng.uniform(math.log(low), math.log(high)))


def all_moves_law(rng, levels):
    """Every ordered pair: one level up U(0.05, 0.3), one down U(0.15, 0.6), two or more apart U(0.005, 0.05),
    each log-uniform, a year."""
    rates = {}
    for i, a in enumerate(levels):
        for j, b in enumerate(levels):
            if i == j:
                continue
            low, high = (0.05, 0.3) if j == i + 1 else (0.15, 0.6) if j == i - 1 else (0.005, 0.05)
            rates[(a, b)] = log_uniform(rng, low, high)
    return rates


def stationary(levels, rates):
    """π with π·Q = 0, Σπ = 1 (a closed population's equilibrium shares), by the generator's solver."""
    gen = _generator_module()
    n = len(levels)
    q = [[rates.get((a, b), 0.0) for b in levels] for a in levels]
    for i in range(n):
        q[i][i] = -sum(q[i])
    m = [row[:-1] + [1.0] for row in q]   # replace the last equation by Σπ = 1
    return gen.solve_left(m, [0.0] * (n - 1) + [1.0])


def open_equilibrium(levels, rates, mu, entries):
    """S = λ·(diag(μ) − Q)⁻¹: the steady state with entries λ and exit rate μ."""
    gen = _generator_module()
    n = len(levels)
    q = [[rates.get((a, b), 0.0) for b in levels] for a in levels]
    m = [[(mu + sum(q[i]) if i == j else -q[i][j]) for j in range(n)] for i in range(n)]
    return gen.solve_left(m, [entries.get(level, 0.0) for level in levels])


def whole_counts(shares, total):
    """Whole numbers summing to `total` in proportion to `shares` (largest remainders)."""
    s = sum(shares)
    exact = [total * x / s for x in shares]
    counts = [math.floor(x) for x in exact]
    for i in sorted(range(len(exact)), key=lambda k: counts[k] - exact[k])[:total - sum(counts)]:
        counts[i] += 1
    return counts


def pushed_down(shares, weights):
    """Shares moved towards the lower levels: normalise(shares ⊙ weights)."""
    w = [x * y for x, y in zip(shares, weights)]
    return [x / sum(w) for x in w]


def closed(rng, at_equilibrium):
    """Shapes (i) and (ii): 4 levels, all 12 moves, 24,000 children, no entries, no exits."""
    rates = all_moves_law(rng, FOUR)
    pi = stationary(FOUR, rates)
    shares = pi if at_equilibrium else pushed_down(pi, [4, 1, 0.5, 0.25])
    initial = dict(zip(FOUR, whole_counts(shares, 24000)))
    return FOUR, rates, 0.0, {}, initial, list(rates)


def open_adjacent(rng):
    """Shape (iii): 3 levels, the 4 moves between neighbours, entries and exits, a transient."""
    rates = {("Universal", "Additional"): log_uniform(rng, 0.03, 0.15),
             ("Additional", "Universal"): log_uniform(rng, 0.15, 0.5),
             ("Additional", "Intensive"): log_uniform(rng, 0.05, 0.2),
             ("Intensive", "Additional"): log_uniform(rng, 0.2, 0.5)}
    mu = log_uniform(rng, 0.05, 0.12)
    entries = {"Universal": 760.0, "Additional": 40.0}
    eq = open_equilibrium(THREE, rates, mu, entries)
    initial = dict(zip(THREE, whole_counts(pushed_down(eq, [4, 1, 0.5]), 10000)))
    return THREE, rates, mu, entries, initial, list(rates)


def mixed(rng):
    """Shape (iv): 4 levels in two blocks that never meet (Universal ↔ Additional, Intensive ↔ Compulsory),
    entries and exits; the first block starts away from its equilibrium (identified), the second at it
    (the stocks pin only the ratio of its two rates)."""
    rates = {("Universal", "Additional"): log_uniform(rng, 0.05, 0.3),
             ("Additional", "Universal"): log_uniform(rng, 0.15, 0.6),
             ("Intensive", "Compulsory"): log_uniform(rng, 0.05, 0.3),
             ("Compulsory", "Intensive"): log_uniform(rng, 0.15, 0.6)}
    mu = log_uniform(rng, 0.05, 0.12)
    entries = {"Universal": 700.0, "Additional": 100.0, "Intensive": 150.0, "Compulsory": 50.0}
    eq = open_equilibrium(FOUR, rates, mu, entries)
    first = whole_counts(pushed_down(eq[:2], [4, 1]), round(eq[0] + eq[1]))
    initial = dict(zip(FOUR, first + [round(eq[2]), round(eq[3])]))
    return FOUR, rates, mu, entries, initial, list(rates)


SHAPES = {
    "closed-transient": ("4 levels, all 12 moves, closed (24,000 children), started away from equilibrium",
                         lambda rng: closed(rng, at_equilibrium=False)),
    "closed-equilibrium": ("4 levels, all 12 moves, closed (24,000 children), at equilibrium",
                           lambda rng: closed(rng, at_equilibrium=True)),
    "open-adjacent": ("3 levels, 4 moves between neighbours, entries and exits, a transient", open_adjacent),
    "mixed": ("4 levels in two blocks: one in a transient, one at equilibrium; entries and exits", mixed),
}


def draw_truth(shape, seed):
    """(truth dict for the generator, free moves) of one data set."""
    description, law = SHAPES[shape]
    rng = random.Random(f"{shape}:{seed}")
    levels, rates, mu, entries, initial, free = law(rng)
    rows = {}
    for (a, b), r in rates.items():
        rows.setdefault(a, {})[b] = round(r, 6)
    truth = {"description": f"{shape}: {description}",
             "notes": [f"drawn by experiments/calibration-coverage/coverage.py from random.Random('{shape}:{seed}')"],
             "levels": levels, "start_date": START_DATE, "years": YEARS, "rates_per_year": rows,
             "exit_rate_per_year": round(mu, 6),
             "areas": {"all": {"initial_counts": initial,
                               "entries_per_year": {k: v for k, v in entries.items() if v > 0}}}}
    return truth, free


_GEN = None


def _generator_module():
    global _GEN
    if _GEN is None:
        import importlib.util
        spec = importlib.util.spec_from_file_location("synthetic_calibration_data", GENERATOR)
        _GEN = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(_GEN)
    return _GEN


# ---------------------------------------------------------------------------
# One data set: generate, fit, read


def prepare(shape, seed, data_dir):
    """Generate the data set (unless the same truth and seed are already there) and its fit inputs."""
    truth, free = draw_truth(shape, seed)
    folder = os.path.join(data_dir, f"{shape}-{seed}")
    os.makedirs(folder, exist_ok=True)
    truth_path = os.path.join(folder, "truth-drawn.json")
    text = json.dumps(truth, indent=2) + "\n"
    fresh = not (os.path.isfile(truth_path) and open(truth_path, encoding="utf-8").read() == text
                 and os.path.isfile(os.path.join(folder, "stocks.csv")))
    if fresh:
        with open(truth_path, "w", encoding="utf-8") as f:
            f.write(text)
        done = subprocess.run([sys.executable, GENERATOR, truth_path, "--seed", str(seed), "--out", folder],
                              capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"{GENERATOR} {truth_path} --seed {seed}: exit {done.returncode}: {done.stderr.strip()}")
    priors = {move: PRIOR for move in free}
    config = stockfit.write_fit_inputs(folder, truth, priors, seed,
                                       comment=f"{shape}, seed {seed}: written by experiments/calibration-coverage/coverage.py")
    return truth, free, config


def status_of(exit_status, result):
    """converged, not converged (exit 3, or manifest/notes say so), timeout, or error (any other exit)."""
    if exit_status is None:
        return "timeout"
    if exit_status == 3:
        return "not converged"
    if exit_status != 0:
        return "error"
    # girfec's gate note is "stocks: NOT converged (…)"; the least-squares note may say its optimiser
    # did not converge ("stocks: least squares: …, NOT converged"), which is not the sampler's verdict.
    said = result.get("status") == "not converged" or any("stocks: NOT converged" in n for n in result["notes"])
    return "not converged" if said else "converged"


def fit_one(shape, seed, truth, free, config, fits_dir, binary, timeout, reuse=False):
    out = os.path.join(fits_dir, f"{shape}-{seed}")
    manifest_path = os.path.join(out, "manifest.json")
    if reuse and os.path.isfile(manifest_path):
        # --reuse-fits: a finished fit is read, not run again (its status and time from its manifest).
        with open(manifest_path, encoding="utf-8") as f:
            manifest = json.load(f)
        exit_status = {"converged": 0, "not converged": 3}.get(manifest.get("status"), 1)
        seconds, stderr = float(manifest.get("wallSeconds", math.nan)), ""
    else:
        exit_status, seconds, _, stderr = stockfit.run_calibrate(binary, config, out, timeout)
    result = stockfit.read_fit(out) if os.path.isdir(out) else {"rates": {}, "notes": [], "status": ""}
    status = status_of(exit_status, result)
    said = sorted((n for n in result["notes"] if "stocks: NOT converged" in n), key=lambda n: "R̂" not in n)  # the sampler's first
    message = "" if status == "converged" else (said[0] if said else " ".join(stderr.strip().splitlines()[-1:]))[:300]
    truth_rates = {(a, b): r for a, row in truth["rates_per_year"].items() for b, r in row.items()}
    rate_rows = []
    for move in free:
        got = result["rates"].get(move, {})
        verdict = got.get("verdict", "")
        low, high = got.get("low", math.nan), got.get("high", math.nan)
        counted = status == "converged" and verdict == "identified" and math.isfinite(low) and math.isfinite(high)
        rate_rows.append({"shape": shape, "seed": seed, "status": status, "from_level": move[0], "to_level": move[1],
                          "truth": truth_rates[move], "estimate": got.get("rate", math.nan), "low": low, "high": high,
                          "verdict": verdict,
                          "inside": (1 if low <= truth_rates[move] <= high else 0) if math.isfinite(low) and math.isfinite(high) else "",
                          "covered": (1 if low <= truth_rates[move] <= high else 0) if counted else "",
                          "r_hat": got.get("r_hat", math.nan), "ess_bulk": got.get("ess_bulk", math.nan),
                          "ess_tail": got.get("ess_tail", math.nan)})
    finite = lambda xs: [x for x in xs if isinstance(x, float) and math.isfinite(x)]  # noqa: E731
    r_hats, ess = finite([r["r_hat"] for r in rate_rows]), finite([r["ess_bulk"] for r in rate_rows])
    fit_row = {"shape": shape, "seed": seed, "status": status, "exit_status": "" if exit_status is None else exit_status,
               "seconds": round(seconds, 2), "free_rates": len(free),
               "identified_rates": sum(r["covered"] != "" for r in rate_rows),
               "covered_rates": sum(r["covered"] == 1 for r in rate_rows),
               "max_r_hat": max(r_hats) if r_hats else math.nan, "min_ess_bulk": min(ess) if ess else math.nan,
               "message": message}
    return fit_row, rate_rows


# ---------------------------------------------------------------------------
# Summary


def wilson(k, n, z=1.959963984540054):
    """Wilson score 95 % interval for a binomial proportion k/n (Wilson 1927, JASA 22:209–212)."""
    if n == 0:
        return math.nan, math.nan
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return max(0.0, centre - half), min(1.0, centre + half)


def percent(k, n):
    return "–" if n == 0 else f"{100 * k / n:.0f} %"


def summary_rows(fits, rates):
    """Per shape and over all: fits, converged, identified rates, covered, coverage interval, median seconds."""
    out = []
    for shape in [s for s in SHAPES if any(f["shape"] == s for f in fits)] + ["all"]:
        fs = [f for f in fits if shape in ("all", f["shape"])]
        rs = [r for r in rates if shape in ("all", r["shape"]) and r["covered"] != ""]
        conv = sum(f["status"] == "converged" for f in fs)
        covered = sum(r["covered"] == 1 for r in rs)
        low, high = wilson(covered, len(rs))
        out.append({"shape": shape, "fits": len(fs), "converged": conv, "identified": len(rs), "covered": covered,
                    "coverage_low": low, "coverage_high": high,
                    "median_seconds": statistics.median(f["seconds"] for f in fs) if fs else math.nan,
                    "timeouts": sum(f["status"] == "timeout" for f in fs),
                    "errors": sum(f["status"] == "error" for f in fs)})
    return out


def summary_markdown(fits, rates, command, girfec, commit):
    lines = ["# Stock-only calibration: convergence and coverage", "",
             f"Command: `{command}`  ", f"girfec: `{girfec}` ({commit})  ",
             f"Written {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}", "",
             "| shape | fits | converged | identified rates | covered | coverage (95 % CI) | median s per fit |",
             "|---|---:|---:|---:|---:|---|---:|"]
    for s in summary_rows(fits, rates):
        ci = "–" if s["identified"] == 0 else f"{percent(s['covered'], s['identified'])} ({100 * s['coverage_low']:.0f}–{100 * s['coverage_high']:.0f} %)"
        extra = []
        if s["timeouts"]:
            extra.append(f"{s['timeouts']} timed out")
        if s["errors"]:
            extra.append(f"{s['errors']} errors")
        lines.append(f"| {s['shape']} | {s['fits']} | {s['converged']} ({percent(s['converged'], s['fits'])})"
                     f"{'; ' + ', '.join(extra) if extra else ''} | {s['identified']} | {s['covered']} | {ci} | "
                     f"{s['median_seconds']:.1f} |")
    lines += ["", "Converged: girfec exited 0 and said so (exit 3: not converged). Identified rates: those girfec "
              "called identified in converged fits; covered: the truth inside its 95 % interval. Coverage interval: "
              "Wilson score.", ""]
    for shape, (description, _) in SHAPES.items():
        lines.append(f"- `{shape}`: {description}")
    return "\n".join(lines) + "\n"


def write_csv(path, columns, rows):
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=columns, lineterminator="\n")
        w.writeheader()
        for r in rows:
            w.writerow({k: (f"{v:.6g}" if isinstance(v, float) else v) for k, v in r.items()})


# ---------------------------------------------------------------------------
# Command line


def parse_args(argv):
    p = argparse.ArgumentParser(prog="coverage.py", description=__doc__.split("\n")[0])
    p.add_argument("--out", default=os.path.join(ROOT, "runs", "calibration-coverage"),
                   help="folder for data, fits, fits.csv, rates.csv, summary.md (default runs/calibration-coverage)")
    p.add_argument("--per-shape", type=int, default=13, help="data sets per shape (default 13: 52 in all)")
    p.add_argument("--first-seed", type=int, default=20001, help="first seed (default 20001; development used < 10000)")
    p.add_argument("--shapes", default=",".join(SHAPES), help=f"comma-separated shapes (default all: {','.join(SHAPES)})")
    p.add_argument("--girfec", default=os.path.join(ROOT, ".build", "release", "girfec"),
                   help="the girfec binary (default .build/release/girfec)")
    p.add_argument("--timeout", type=float, default=300, help="seconds per fit before it is stopped (default 300)")
    p.add_argument("--jobs", type=int, default=1, help="fits run at once (default 1; times per fit grow with more)")
    p.add_argument("--prepare-only", action="store_true", help="generate the data sets and fit inputs, fit nothing")
    p.add_argument("--reuse-fits", action="store_true",
                   help="read a data set's fit when its folder has a manifest.json (a study resumed), instead of fitting it again")
    p.add_argument("--quick", action="store_true", help="one data set per shape from seed 101 (a check, not a study)")
    args = p.parse_args(argv)
    if args.quick:
        args.per_shape, args.first_seed = 1, 101
    shapes = [s for s in args.shapes.split(",") if s]
    unknown = [s for s in shapes if s not in SHAPES]
    if unknown:
        p.error(f"--shapes: unknown shape(s) {', '.join(unknown)}; known: {', '.join(SHAPES)}")
    if args.per_shape < 1 or args.jobs < 1 or args.timeout <= 0 or args.first_seed < 0:
        p.error("--per-shape and --jobs must be ≥ 1, --timeout > 0, --first-seed ≥ 0")
    if not os.access(args.girfec, os.X_OK):
        p.error(f"--girfec: {args.girfec} is not an executable file (build it: swift build -c release --product girfec)")
    args.shapes = shapes
    return args


def main(argv=None):
    args = parse_args(argv)
    command = "python3 experiments/calibration-coverage/coverage.py " + " ".join(sys.argv[1:] if argv is None else argv)
    data_dir, fits_dir = os.path.join(args.out, "data"), os.path.join(args.out, "fits")
    os.makedirs(data_dir, exist_ok=True)
    os.makedirs(fits_dir, exist_ok=True)
    jobs = []
    for shape in args.shapes:
        for k in range(args.per_shape):
            # a shape's seeds do not depend on which other shapes run: shape i of SHAPES, data set k
            seed = args.first_seed + list(SHAPES).index(shape) * args.per_shape + k
            try:
                truth, free, config = prepare(shape, seed, data_dir)
            except RuntimeError as e:
                print(f"coverage.py: error: {e}", file=sys.stderr)
                return 1
            jobs.append((shape, seed, truth, free, config))
    if args.prepare_only:
        print(f"coverage.py: {len(jobs)} data sets in {data_dir}; nothing fitted (--prepare-only)", file=sys.stderr)
        return 0
    print(f"coverage.py: {len(jobs)} data sets in {data_dir}; fitting with {args.girfec}, "
          f"{args.jobs} at a time, at most {args.timeout:g} s each", file=sys.stderr)
    fits, rates = [], []
    started = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as pool:
        # Round robin over the shapes (each shape's first data set, then each one's second, …), so a study
        # stopped early still has every shape; the results are written in the order of `jobs`.
        queue = sorted(jobs, key=lambda j: (j[1] - args.first_seed) % args.per_shape)
        futures = [pool.submit(fit_one, shape, s, truth, free, config, fits_dir, args.girfec, args.timeout, args.reuse_fits)
                   for shape, s, truth, free, config in queue]
        for done, future in enumerate(concurrent.futures.as_completed(futures), 1):
            fit_row, rate_rows = future.result()
            fits.append(fit_row)
            rates += rate_rows
            print(f"[{done}/{len(jobs)}] {fit_row['shape']} seed {fit_row['seed']}: {fit_row['status']}, "
                  f"{fit_row['seconds']:.1f} s, {fit_row['identified_rates']} of {fit_row['free_rates']} rates identified, "
                  f"{fit_row['covered_rates']} covered ({time.monotonic() - started:.0f} s so far)"
                  + (f"; {fit_row['message']}" if fit_row["message"] else ""), file=sys.stderr, flush=True)
            write_results(args, jobs, fits, rates, command)  # after every fit: an interrupted study still reports
    print(open(os.path.join(args.out, "summary.md"), encoding="utf-8").read(), file=sys.stderr)
    return 0


def write_results(args, jobs, fits, rates, command):
    """fits.csv, rates.csv and summary.md of the fits done so far, in the order of `jobs`."""
    order = {(shape, s): k for k, (shape, s, *_) in enumerate(jobs)}
    fits.sort(key=lambda f: order[(f["shape"], f["seed"])])
    rates.sort(key=lambda r: order[(r["shape"], r["seed"])])
    write_csv(os.path.join(args.out, "fits.csv"), FITS_COLUMNS, fits)
    write_csv(os.path.join(args.out, "rates.csv"), RATES_COLUMNS, rates)
    commit = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    with open(os.path.join(args.out, "summary.md"), "w", encoding="utf-8") as f:
        f.write(summary_markdown(fits, rates, command, args.girfec, f"commit {commit}" if commit else "commit unknown"))


if __name__ == "__main__":
    sys.exit(main())
