"""Stock-only calibrations of synthetic data: from a truth to girfec's verdict, and its log posterior.

Used by experiments/calibration-coverage (the coverage study) and by
scripts/tests/test_peer_sampler.py (girfec's posterior against emcee's):

  scenario_text(truth, initial)      a scenario for `girfec calibrate` with the truth's levels,
                                     entries and exits, the first census as initialCounts and
                                     monthly steps (the aggregate model then follows the
                                     continuous-time truth at the census dates)
  config_text(...)                   a stocks-only calibration config with log-normal priors
  write_fit_inputs(...)              both files beside a data set made by
                                     scripts/synthetic_calibration_data.py
  run_calibrate(...)                 one `girfec calibrate`, timed, with a time limit
  read_fit(folder)                   what the run wrote: rates, intervals, verdicts, diagnostics
  LogDensity                         `girfec calibrate CONFIG --log-density`, a long-lived process
                                     answering the log posterior at points (docs/calibration.md)

The truth is the generator's JSON (see scripts/synthetic_calibration_data.py):
one area, `rates_per_year`, one exit rate for every level (the scenario has one
out-migration rate) and `entries_per_year` per level. Standard library only.
"""
from __future__ import annotations

import csv
import json
import math
import os
import subprocess
import tempfile
import time

RATE_PREFIX = "transitions.matrix."


def _number(x):
    """A number as YAML reads it back exactly (repr of a float; integers as integers)."""
    if isinstance(x, int) or (isinstance(x, float) and x.is_integer() and abs(x) < 1e15):
        return str(int(x))
    return repr(float(x))


def _exit_rate(truth):
    """The truth's single exit rate per year (a scenario has one `migration.outRatePerYear`)."""
    mu = truth["exit_rate_per_year"]
    if isinstance(mu, dict):
        values = {float(mu.get(level, 0.0)) for level in truth["levels"]}
        if len(values) != 1:
            raise ValueError(f"exit_rate_per_year: a scenario has one out-migration rate for every level, "
                             f"found {json.dumps(mu)}")
        return values.pop()
    return float(mu)


def scenario_text(truth, initial, start_rates, name="Synthetic stock calibration", step_months=1):
    """A scenario (YAML) for the stocks-only fit of a one-area truth.

    `initial` ({level: count}) is the first census; `start_rates` ({(from, to): rate}) are
    the transitions the scenario states (the free ones are replaced by the fit; moves
    not listed are 0). Entries and exits are the truth's: births.perYear = Σ entries with
    entryLevels their shares, migration.outRatePerYear the exit rate; no ageing.
    Steps of `step_months` (default 1: monthly, close to the continuous-time truth) over the
    truth's `years`.
    """
    (area,) = truth["areas"].values()
    levels = truth["levels"]
    entries = {level: float(area.get("entries_per_year", {}).get(level, 0.0)) for level in levels}
    total_entries = sum(entries.values())
    lines = [f"name: {json.dumps(name)}",
             f"time: {{stepMonths: {step_months}, horizonYears: {truth['years']}}}",
             "levels:"]
    lines += [f"  {level}: {{costPerChildYear: 0, qolWeight: 1}}" for level in levels]
    lines += ["population:",
              "  initialCounts: {" + ", ".join(f"{level}: {int(initial[level])}" for level in levels) + "}",
              "  ageing: false"]
    if total_entries > 0:
        shares = ", ".join(f"{level}: {_number(entries[level] / total_entries)}" for level in levels
                           if entries[level] > 0)
        lines += ["  births:", f"    perYear: {_number(total_entries)}", f"    entryLevels: {{{shares}}}"]
    mu = _exit_rate(truth)
    if mu > 0:
        lines += ["  migration:", f"    outRatePerYear: {_number(mu)}"]
    lines += ["transitions:", "  unit: ratesPerYear", "  matrix:"]
    for a in levels:
        row = {b: r for (f, b), r in start_rates.items() if f == a}
        if row:
            lines.append(f"    {a}: {{" + ", ".join(f"{b}: {_number(r)}" for b, r in row.items()) + "}")
    return "\n".join(lines) + "\n"


def config_text(start_date, priors, seed, draws=1000, stocks_extra=None, comment=""):
    """A stocks-only calibration config (YAML) for scenario.yaml and stocks.csv beside it.

    `priors` ({(from, to): (median, sdLog)}) are the free rates with their log-normal priors;
    `stocks_extra` ({key: YAML text}) adds settings under `stocks:` (e.g. chains).
    """
    lines = [f"# {line}" for line in comment.splitlines()]
    lines += ["scenario: scenario.yaml", "data:", "  stocks: stocks.csv", "estimator: stocks",
              f"draws: {draws}", f"seed: {seed}", "stocks:", f"  startDate: {start_date}", "  free:"]
    for (a, b), (median, sd_log) in priors.items():
        lines.append(f"    {RATE_PREFIX}{a}.{b}: {{median: {_number(median)}, sdLog: {_number(sd_log)}}}")
    for key, value in (stocks_extra or {}).items():
        lines.append(f"  {key}: {value}")
    return "\n".join(lines) + "\n"


def first_census(stocks_path):
    """(date, {level: count}) of the earliest date in a stocks.csv of one area."""
    with open(stocks_path, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    first = min(r["date"] for r in rows)
    return first, {r["level"]: int(float(r["count"])) for r in rows if r["date"] == first}


def write_fit_inputs(folder, truth, priors, seed, draws=1000, stocks_extra=None, comment="", step_months=1):
    """Write scenario.yaml and calibrate.yaml into `folder` (which holds the generator's stocks.csv).

    The scenario's starting rates are the priors' medians. Returns the config's path.
    """
    date, initial = first_census(os.path.join(folder, "stocks.csv"))
    start_rates = {move: median for move, (median, _) in priors.items()}
    with open(os.path.join(folder, "scenario.yaml"), "w", encoding="utf-8") as f:
        f.write(scenario_text(truth, initial, start_rates, name=truth.get("description", "Synthetic")[:80],
                              step_months=step_months))
    path = os.path.join(folder, "calibrate.yaml")
    with open(path, "w", encoding="utf-8") as f:
        f.write(config_text(date, priors, seed, draws=draws, stocks_extra=stocks_extra, comment=comment))
    return path


def run_calibrate(binary, config, out, timeout_seconds):
    """Run `girfec calibrate CONFIG --out OUT --overwrite`; (exit status or None on timeout, seconds, stdout, stderr)."""
    started = time.monotonic()
    try:
        done = subprocess.run([binary, "calibrate", config, "--out", out, "--overwrite"],
                              capture_output=True, text=True, timeout=timeout_seconds)
    except subprocess.TimeoutExpired as e:
        text = lambda b: b.decode("utf-8", "replace") if isinstance(b, bytes) else (b or "")  # noqa: E731
        return None, time.monotonic() - started, text(e.stdout), text(e.stderr)
    return done.returncode, time.monotonic() - started, done.stdout, done.stderr


def _rows(path):
    if not os.path.isfile(path):
        return []
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def _float(text):
    try:
        return float(text)
    except (TypeError, ValueError):
        return math.nan


def read_fit(folder):
    """What a stock-only `girfec calibrate` wrote into `folder`.

    Returns {"rates": {(from, to): {...}}, "notes": [...], "posterior": {name: row}, "status": manifest's
    `status` ("converged", "not converged"; "" when absent)} where each
    rate has `rate`, `low`, `high` (95 % interval on the rate scale: estimates.csv, else
    posterior.csv's q2_5/q97_5), `verdict` (estimates.csv's `identified`, else
    identifiability.csv's `verdict`; "" when neither says) and `r_hat`, `ess_bulk`, `ess_tail`
    (posterior.csv). Missing files give empty fields: a run that stopped early still reads.
    """
    posterior = {r["parameter"]: r for r in _rows(os.path.join(folder, "posterior.csv"))}
    verdicts = {r["parameter"]: r.get("verdict", "") for r in _rows(os.path.join(folder, "identifiability.csv"))}
    rates = {}
    for r in posterior.values():
        if not r.get("path", "").startswith(RATE_PREFIX):
            continue
        a, b = r["path"][len(RATE_PREFIX):].split(".", 1)
        rates[(a, b)] = {"rate": _float(r.get("median")), "low": _float(r.get("q2_5")), "high": _float(r.get("q97_5")),
                         "verdict": verdicts.get(r["parameter"], ""), "r_hat": _float(r.get("r_hat")),
                         "ess_bulk": _float(r.get("ess_bulk")), "ess_tail": _float(r.get("ess_tail")),
                         "mean": _float(r.get("mean"))}
    for r in _rows(os.path.join(folder, "estimates.csv")):
        move = (r["from_level"], r["to_level"])
        entry = rates.setdefault(move, {"r_hat": math.nan, "ess_bulk": math.nan, "ess_tail": math.nan,
                                        "mean": math.nan, "verdict": ""})
        entry.update(rate=_float(r["rate_per_year"]), low=_float(r["rate_low"]), high=_float(r["rate_high"]))
        if r.get("identified"):
            entry["verdict"] = r["identified"]
    notes, status = [], ""
    manifest = os.path.join(folder, "manifest.json")
    if os.path.isfile(manifest):
        with open(manifest, encoding="utf-8") as f:
            data = json.load(f)
        notes = [str(n) for n in data.get("notes", [])] + [str(w) for w in data.get("warnings", [])]
        status = data.get("status", "")
    return {"rates": rates, "notes": notes, "posterior": posterior, "status": status}


class LogDensity:
    """girfec's log posterior at any point, through `girfec calibrate CONFIG --log-density`.

    The process validates the config and data as a normal run, prints
    `parameters,<name1>,...` (the sampling coordinates: the log of each free rate,
    then any extra likelihood parameter on its sampling scale), then answers each
    line of d comma-separated numbers with one line: the log density up to a
    constant, `-inf` outside the support. Use as a context manager.
    """

    BATCH = 256

    def __init__(self, binary, config):
        self.stderr = tempfile.TemporaryFile(mode="w+", encoding="utf-8")  # a file: a chatty stderr never blocks
        self.process = subprocess.Popen([binary, "calibrate", config, "--log-density"], stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, stderr=self.stderr, text=True, bufsize=1)
        header = self.process.stdout.readline().strip()
        if not header.startswith("parameters,"):
            self.process.kill()
            self.process.wait()
            raise RuntimeError(f"girfec calibrate {config} --log-density: expected a line 'parameters,...', "
                               f"found {header!r} (exit status {self.process.returncode}; stderr: {self.errors()})")
        self.names = header.split(",")[1:]
        self.dimension = len(self.names)
        self.evaluations = 0

    def __call__(self, points):
        """The log density at each point of `points` (a sequence of sequences of d numbers), in order.

        All points are written before any answer is read (one round trip per batch)."""
        points = [list(map(float, p)) for p in points]
        for p in points:
            if len(p) != self.dimension:
                raise ValueError(f"a point has {len(p)} coordinates, the density {self.dimension}")
        out = []
        for first in range(0, len(points), self.BATCH):  # bounded batches: neither pipe fills while the other waits
            batch = points[first:first + self.BATCH]
            self.process.stdin.write("".join(",".join(repr(x) for x in p) + "\n" for p in batch))
            self.process.stdin.flush()
            for _ in batch:
                line = self.process.stdout.readline()
                if not line:
                    self.process.wait()
                    raise RuntimeError(f"girfec --log-density stopped with status {self.process.returncode} "
                                       f"(stderr: {self.errors()})")
                out.append(float(line))  # float() reads "-inf" and "inf"
        self.evaluations += len(points)
        return out

    def errors(self):
        """What the process wrote on stderr so far (at most 500 characters)."""
        self.stderr.seek(0)
        return self.stderr.read().strip()[:500]

    def close(self):
        if self.process.poll() is None:
            self.process.stdin.close()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.stderr.close()
        return self.process.returncode

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
