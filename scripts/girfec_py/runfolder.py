"""Reading girfec's output folders: the manifest and the CSV files, checked.

Every problem raises `OutputError`, whose message says where (file, line and
data row, column), what was found and what was expected. Column names and
kinds come from `schema`; a reader asks only for the columns it uses (others
are ignored), so a folder from a girfec with more columns still reads.
Standard library only.
"""
from __future__ import annotations

import csv
import datetime
import json
import math
import os

from . import schema

FORMAT = "girfec-output-folder/1"  # manifest.json's "format" in every folder girfec writes (docs/outputs.md)


class OutputError(Exception):
    """A problem with a file of an output folder; the message names the file (and line and column)."""


def where(path, line=None, column=None, row=None):
    """`path, line L (data row R), column 'c'`: a place in a CSV file (the header is line 1).

    R is L − 1 unless given (a quoted cell holding a line feed makes a record span lines).
    """
    text = str(path)
    if line is not None:
        text += ", line 1 (header)" if line == 1 else f", line {line} (data row {line - 1 if row is None else row})"
    return f"{text}, column {column!r}" if column else text


def _whole(value):
    return value == int(value) and value >= 0


_EXPECTED = {"text": "a value", "int": "a whole number ≥ 0", "number": "a finite number", "bool": "true or false",
             "date": "a date YYYY-MM-DD"}


def cell(text, column, path, line, row=None):
    """The typed value of one cell (`schema.Column` kinds); empty: NaN for numbers, "" for text, None otherwise."""
    text = "" if text is None else text.strip()
    place = where(path, line, column.name, row)
    expected = _EXPECTED[column.kind] if column.finite or column.kind != "number" else "a number"
    if text == "":
        if column.empty:
            return "" if column.kind == "text" else (math.nan if column.kind == "number" else None)
        raise OutputError(f"{place}: empty; expected {expected}")
    if column.kind == "text":
        return text
    if column.kind == "bool":
        if text not in ("true", "false"):
            raise OutputError(f"{place}: found {text!r}; expected {expected}")
        return text == "true"
    if column.kind == "date":
        try:
            if len(text) != 10:
                raise ValueError
            return datetime.date.fromisoformat(text)
        except ValueError:
            raise OutputError(f"{place}: found {text!r}; expected {expected}"
                              f"{' (or empty)' if column.empty else ''}") from None
    try:
        value = float(text)
    except ValueError:
        raise OutputError(f"{place}: found {text!r}; expected {'a number' if column.kind == 'number' else expected}") \
            from None
    if math.isnan(value) or (column.finite and math.isinf(value)):
        raise OutputError(f"{place}: found {text!r}; expected {expected}")
    if column.kind == "int":
        if not _whole(value):
            raise OutputError(f"{place}: found {text!r}; expected {expected}")
        return int(value)
    return value


def read_table(path, spec, columns=None, allow_empty=False, keep=None):
    """Rows of an output CSV file as dicts of typed values, with `_row` (data row, from 1) and `_line`.

    `spec` is the file's `schema.OutputFile`; `columns` the fixed columns to
    require and read (default: all of them); other columns are ignored.
    `keep(raw_row)` may drop rows before their cells are read. OutputError
    when the file is absent, not UTF-8 CSV, lacks a column, a row has another
    number of cells than the header, a cell does not fit its column, or
    (unless `allow_empty`) there are no data rows.
    """
    names = spec.fixed(*columns) if columns is not None else [c.name for c in spec.columns if not c.repeated]
    kinds = {n: spec.column(n) for n in names}
    if not os.path.isfile(path):
        raise OutputError(f"{path}: file not found")
    rows = []
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            reader = csv.DictReader(f)
            header = reader.fieldnames
            if not header:
                raise OutputError(f"{path}: empty file (no header row); expected the columns {','.join(names)}")
            header = [h.strip() for h in header]
            reader.fieldnames = header
            missing = [n for n in names if n not in header]
            if missing:
                raise OutputError(f"{where(path, 1)}: missing column(s) {', '.join(missing)} "
                                  f"(found: {', '.join(header)}; expected: {', '.join(names)})")
            end, data_row = reader.line_num, 0  # the header's last line
            for raw in reader:
                line, end, data_row = end + 1, reader.line_num, data_row + 1  # a record starts after the last
                count = len(header) + len(raw[None]) if None in raw else sum(v is not None for v in raw.values())
                if count != len(header):
                    raise OutputError(f"{where(path, line, row=data_row)}: {count} cells; expected {len(header)} "
                                      f"(as the header)")
                if keep is not None and not keep(raw):
                    continue
                row = {n: cell(raw[n], kinds[n], path, line, data_row) for n in names}
                row["_row"], row["_line"] = data_row, line
                rows.append(row)
    except OSError as e:
        raise OutputError(f"{path}: cannot read ({e.strerror or e})") from None
    except UnicodeDecodeError as e:
        raise OutputError(f"{path}: not UTF-8 text ({e})") from None
    except csv.Error as e:
        raise OutputError(f"{path}: unreadable CSV ({e})") from None
    if not rows and not allow_empty and keep is None:
        raise OutputError(f"{path}: no data rows")
    return rows


def header(path):
    """The header row of a CSV file, or [] when it cannot be read (read_table then says why)."""
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            return [h.strip() for h in next(csv.reader(f), None) or []]
    except (OSError, UnicodeDecodeError, csv.Error):
        return []


def read_manifest(path, scenario=True):
    """manifest.json as a dict: a JSON object with `"format": "girfec-output-folder/1"` (and a `scenario` object)."""
    if not os.path.isfile(path):
        raise OutputError(f"{path}: file not found")
    try:
        with open(path, encoding="utf-8") as f:
            manifest = json.load(f)
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise OutputError(f"{path}: not valid JSON ({e})") from None
    if not isinstance(manifest, dict):
        raise OutputError(f"{path}: found a JSON {type(manifest).__name__}; expected an object")
    if manifest.get("format") != FORMAT:
        found = f"format {manifest['format']!r}" if "format" in manifest else "no key 'format'"
        raise OutputError(f"{path}: found {found}; expected \"format\": \"{FORMAT}\" (a folder girfec wrote)")
    if scenario and not isinstance(manifest.get("scenario"), dict):
        raise OutputError(f"{path}: missing key 'scenario' (an object); expected the manifest of a run folder")
    return manifest


# ---------------------------------------------------------------------------
# Run folders (`girfec run` / `girfec merge`): bands, aggregate, replications


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


ROW_KEY = schema.BANDS.fixed("arm", "step", "time_years", "quantity", "level", "from_level", "to_level")
BAND_VALUES = schema.BANDS.fixed("mean", "ci_low", "ci_high", "p2_5", "p25", "p50", "p75", "p97_5")
PAIRED = schema.REPLICATIONS.fixed("replication", "arm", "delta_cost_discounted", "delta_qol_years_discounted")


def _key(row):
    return (row["arm"], row["quantity"], row["level"], row["from_level"], row["to_level"])


def _series(rows, key, values):
    series = {}
    for row in rows:
        series.setdefault(key(row), Series()).add(row["step"], row["time_years"], {c: row[c] for c in values})
    for s in series.values():
        s.sort()
    return series


def read_bands(path):
    """bands.csv as series keyed by (arm, quantity, level, from_level, to_level)."""
    return _series(read_table(path, schema.BANDS, ROW_KEY + BAND_VALUES), _key, BAND_VALUES)


def read_aggregate(path):
    """aggregate.csv as series keyed by (mode, arm, quantity, level, from, to); {} if the file is absent."""
    if not os.path.exists(path):
        return {}
    optional = ["mode"] if "mode" in header(path) else []  # folders from before girfec wrote the mode
    rows = read_table(path, schema.AGGREGATE, ROW_KEY + ["value"] + optional)
    return _series(rows, lambda r: ((r.get("mode") or "aggregate"),) + _key(r), ["value"])


def read_replications(path):
    """The paired differences of replications.csv per arm: {arm: {"delta_qol": [...], "delta_cost": [...]}}."""
    by_arm = {}
    for row in read_table(path, schema.REPLICATIONS, PAIRED[1:]):
        d = by_arm.setdefault(row["arm"], {"delta_qol": [], "delta_cost": []})
        d["delta_qol"].append(row["delta_qol_years_discounted"])
        d["delta_cost"].append(row["delta_cost_discounted"])
    return by_arm


SUMMARY_COLUMNS = schema.SUMMARY.fixed("arm", "comparator", "measure", "willingness_to_pay", "replications", "mean",
                                       "ci_low", "ci_high")


def read_summary(path):
    """summary.csv's rows (cost-effectiveness against the first arm, as girfec computed it); None if absent."""
    if not os.path.exists(path):
        return None
    return read_table(path, schema.SUMMARY, SUMMARY_COLUMNS, allow_empty=True)


def read_incremental(path):
    """incremental.csv's rows (efficiency frontier, dominance, ICERs of every arm, as girfec computed them); None if
    absent (one arm, or a folder from before the file existed)."""
    if not os.path.exists(path):
        return None
    return read_table(path, schema.INCREMENTAL)


def read_acceptability(path):
    """acceptability.csv's rows (expected NMB, probability best and the acceptability frontier of every arm at each
    willingness to pay, as girfec computed them); None if absent."""
    if not os.path.exists(path):
        return None
    return read_table(path, schema.ACCEPTABILITY)


class RunFolder:
    """A run folder: its manifest, bands, aggregate model (if present), paired replications and summary.csv (if
    present; 2+ arms)."""

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
            raise OutputError(f"{bands_path}: found arm(s) {', '.join(unknown)}; expected those of manifest.json's "
                              f"scenario.arms ({', '.join(self.arms)})")
        self.arms = [a for a in self.arms if a in band_arms]
        band_levels = list(dict.fromkeys(k[2] for k in self.bands if k[1] == "stock" and k[2] not in ("", "all")))
        self.levels = [lvl for lvl in (scenario.get("levels") or band_levels) if lvl in band_levels] or band_levels
        self.name = scenario.get("name") or os.path.basename(os.path.normpath(folder))
        self.step_months = scenario.get("stepMonths")
        self.replications_by_arm = None
        self.summary = None
        self.incremental = None
        self.acceptability = None
        if len(self.arms) > 1:
            self.summary = read_summary(os.path.join(folder, "summary.csv"))
            self.incremental = read_incremental(os.path.join(folder, "incremental.csv"))
            self.acceptability = read_acceptability(os.path.join(folder, "acceptability.csv"))
            path = os.path.join(folder, "replications.csv")
            self.replications_by_arm = read_replications(path)
            for arm in self.arms[1:]:
                if arm not in self.replications_by_arm:
                    raise OutputError(f"{path}: no rows for arm {arm!r}; expected one per replication")

    def measure(self, arm, measure):
        """summary.csv's rows of one arm and measure, by willingness to pay ([] when absent)."""
        rows = [r for r in self.summary or [] if r["arm"] == arm and r["measure"] == measure]
        return sorted(rows, key=lambda r: (math.isnan(r["willingness_to_pay"]), r["willingness_to_pay"]))

    def series(self, arm, quantity, level="", from_level="", to_level=""):
        return self.bands.get((arm, quantity, level, from_level, to_level))

    def has(self, quantity):
        return any(k[1] == quantity for k in self.bands)

    def aggregate_series(self, mode, arm, quantity, level="", from_level="", to_level=""):
        return self.aggregate.get((mode, arm, quantity, level, from_level, to_level))

    def aggregate_has(self, quantity):
        return any(k[2] == quantity for k in self.aggregate)

    def footer(self):
        """`girfec VERSION, seed S, N replications` (and the replications covered, for an incomplete folder)."""
        return footer(self.manifest)


def footer(manifest):
    """The provenance line under a figure: version, seed and replications from manifest.json."""
    text = (f"girfec {manifest.get('version', '?')}, seed {manifest.get('seed', '?')}, "
            f"{manifest.get('replications', '?')} replications")
    if manifest.get("complete") is False:
        text += f" (incomplete folder: replications {manifest.get('replicationsCovered')} only)"
    return text


# ---------------------------------------------------------------------------
# Uncertainty files: sensitivity.csv (`girfec sensitivity`), voi.csv and uncertainty.csv (runs with parameter
# uncertainty). Each is read whole and checked before anything is drawn.

ANALYSES = ("base", "oneWay", "twoWay", "sweep")
BOUNDS = ("low", "high")
MEASURES = ("evpi", "evppi")
SENSITIVITY_COLUMNS = schema.SENSITIVITY.fixed(
    "analysis", "name", "point", "parameter_1", "value_1", "parameter_2", "value_2", "bound", "arm", "outcome",
    "replications", "mean", "mcse", "ci_low", "ci_high")
VOI_COLUMNS = schema.VOI.fixed("measure", "parameter_group", "parameters", "willingness_to_pay", "draws", "value",
                               "optimal_arm")
UNCERTAINTY_COLUMNS = schema.UNCERTAINTY.fixed(
    "arm", "outcome", "draws", "replications_per_draw", "mean", "total_variance", "parameter_variance",
    "chance_variance", "parameter_share")


def _at(path, row, column=None):
    return where(path, row["_line"], column, row["_row"])


def _unique(path, rows, key, what):
    seen = {}
    for r in rows:
        k = key(r)
        if k in seen:
            raise OutputError(f"{_at(path, r)}: duplicate {what} (same as line {seen[k]['_line']})")
        seen[k] = r


def read_sensitivity(path):
    """Rows of sensitivity.csv, checked: analysis kinds, filled cells per kind, low/high pairs, grids, base rows."""
    rows = read_table(path, schema.SENSITIVITY, SENSITIVITY_COLUMNS)
    need = {"oneWay": ("name", "parameter_1", "value_1", "bound"),
            "twoWay": ("name", "parameter_1", "value_1", "parameter_2", "value_2"),
            "sweep": ("name", "parameter_1", "value_1")}
    for r in rows:
        a = r["analysis"]
        if a not in ANALYSES:
            raise OutputError(f"{_at(path, r, 'analysis')}: found {a!r}; expected one of {', '.join(ANALYSES)}")
        for c in need.get(a, ()):
            v = r[c]
            if v == "" or (isinstance(v, float) and math.isnan(v)):
                raise OutputError(f"{_at(path, r, c)}: empty; expected a value in {a} rows")
        if a == "oneWay" and r["bound"] not in BOUNDS:
            raise OutputError(f"{_at(path, r, 'bound')}: found {r['bound']!r}; expected low or high")
    _unique(path, rows, lambda r: (r["analysis"], r["name"] if r["analysis"] != "base" else "", r["point"],
                                   r["bound"], r["arm"], r["outcome"]),
            "row (analysis, name, point, bound, arm, outcome)")
    # every analysis keeps its parameter(s) across its rows
    first = {}
    for r in rows:
        if r["analysis"] == "base":
            continue
        f = first.setdefault((r["analysis"], r["name"]), r)
        for c in ("parameter_1", "parameter_2"):
            if r[c] != f[c]:
                raise OutputError(f"{_at(path, r, c)}: found {r[c]!r}; expected {f[c]!r} as on line {f['_line']} "
                                  f"({r['analysis']} {r['name']!r})")
    # a grid or sweep point appears once per arm and outcome
    _unique(path, [r for r in rows if r["analysis"] in ("twoWay", "sweep")],
            lambda r: (r["analysis"], r["name"], r["arm"], r["outcome"], r["value_1"],
                       r["value_2"] if r["analysis"] == "twoWay" else None),
            "parameter value(s) for this analysis, arm and outcome")
    # one-way entries come in low/high pairs; one base row per arm and outcome that has any analysis
    ends = {}
    for r in rows:
        if r["analysis"] == "oneWay":
            ends.setdefault((r["name"], r["arm"], r["outcome"]), {})[r["bound"]] = r
    for (name, arm, outcome), e in ends.items():
        if len(e) != 2:
            (only, r), = e.items()
            other = "high" if only == "low" else "low"
            raise OutputError(f"{_at(path, r)}: oneWay {name!r} (arm {arm!r}, outcome {outcome!r}) has a "
                              f"{only} row but no {other} row")
    bases = {(r["arm"], r["outcome"]) for r in rows if r["analysis"] == "base"}
    for r in rows:
        if r["analysis"] == "oneWay" and (r["arm"], r["outcome"]) not in bases:
            raise OutputError(f"{_at(path, r)}: no base row for arm {r['arm']!r} and outcome "
                              f"{r['outcome']!r} (the tornado is centred on it)")
    return rows


def read_voi(path):
    """Rows of voi.csv, checked: measures, a group for each EVPPI row, one row per measure, group and λ."""
    rows = read_table(path, schema.VOI, VOI_COLUMNS)
    for r in rows:
        if r["measure"] not in MEASURES:
            raise OutputError(f"{_at(path, r, 'measure')}: found {r['measure']!r}; expected evpi or evppi")
        if r["measure"] == "evppi" and not r["parameter_group"]:
            raise OutputError(f"{_at(path, r, 'parameter_group')}: empty; expected a group name in evppi rows")
        if r["measure"] == "evpi":
            r["parameter_group"] = ""
    _unique(path, rows, lambda r: (r["measure"], r["parameter_group"], r["willingness_to_pay"]),
            "row (measure, parameter_group, willingness_to_pay)")
    return rows


def read_uncertainty(path):
    """Rows of uncertainty.csv, checked: at least one draw and replication, one row per arm and outcome."""
    rows = read_table(path, schema.UNCERTAINTY, UNCERTAINTY_COLUMNS)
    for r in rows:
        for c in ("draws", "replications_per_draw"):
            if r[c] < 1:
                raise OutputError(f"{_at(path, r, c)}: found {r[c]:g}; expected at least 1")
    _unique(path, rows, lambda r: (r["arm"], r["outcome"]), "row (arm, outcome)")
    return rows


# ---------------------------------------------------------------------------
# Calibration files (`girfec calibrate`): fit.csv, estimates.csv, identifiability.csv

# `identified` in estimates.csv and `verdict` in identifiability.csv, as read ("weakly identified" is weak)
IDENTIFIED = {"identified": "identified", "weak": "weak", "weakly identified": "weak",
              "not identified": "not identified", "": "not assessed"}


def _within(value, path, row, column, low=None, high=None):
    if low is not None and value < low:
        raise OutputError(f"{_at(path, row, column)}: found {value:g}; expected a number ≥ {low:g}")
    if high is not None and value > high:
        raise OutputError(f"{_at(path, row, column)}: found {value:g}; expected a number ≤ {high:g}")
    return value


def _interval(low, high, path, row, low_name, high_name):
    if not math.isnan(low) and not math.isnan(high) and low > high:
        raise OutputError(f"{_at(path, row, low_name)}: {low:g} is above {high_name} {high:g}; "
                          f"expected {low_name} ≤ {high_name}")


def read_fit(path):
    """fit.csv: date (or None), time, area, level, observed, fitted and its band (NaN where empty)."""
    out = []
    for row in read_table(path, schema.FIT, allow_empty=True):
        r = {"date": row["date"], "time": row["time_years"], "area": row["area"], "level": row["level"]}
        for c in ("observed", "fitted", "fitted_low", "fitted_high"):
            r[c] = row[c]
        _interval(r["fitted_low"], r["fitted_high"], path, row, "fitted_low", "fitted_high")
        out.append(r)
    return out


def read_estimates(path):
    """estimates.csv: per rate its area, levels, rate and interval (≥ 0), SE of the log-rate (panel), method and verdict."""
    out = []
    for row in read_table(path, schema.ESTIMATES, allow_empty=True):
        if row["identified"] not in IDENTIFIED:
            raise OutputError(f"{_at(path, row, 'identified')}: found {row['identified']!r}; expected "
                              f"identified, weak, not identified or empty")
        r = {"area": row["area"], "from": row["from_level"], "to": row["to_level"],
             "rate": _within(row["rate_per_year"], path, row, "rate_per_year", low=0),
             "low": _within(row["rate_low"], path, row, "rate_low", low=0),
             "high": _within(row["rate_high"], path, row, "rate_high", low=0),
             "se_log_rate": _within(row["se_log_rate"], path, row, "se_log_rate", low=0),
             "method": row["method"], "identified": IDENTIFIED[row["identified"]]}
        _interval(r["low"], r["high"], path, row, "rate_low", "rate_high")
        out.append(r)
    return out


def read_identifiability(path):
    """identifiability.csv: per parameter its prior and posterior sd of the log-rate (≥ 0), contraction (≤ 1),
    profile interval, verdict and strongest correlation."""
    out = []
    for row in read_table(path, schema.IDENTIFIABILITY, allow_empty=True):
        verdict = row["verdict"]
        out.append({"parameter": row["parameter"],
                    "prior_sd": _within(row["prior_sd_log"], path, row, "prior_sd_log", low=0),
                    "posterior_sd": _within(row["posterior_sd_log"], path, row, "posterior_sd_log", low=0),
                    "contraction": _within(row["contraction"], path, row, "contraction", high=1),
                    "profile_low": row["profile_low"], "profile_high": row["profile_high"],
                    "closed_low": row["profile_closed_low"], "closed_high": row["profile_closed_high"],
                    "verdict": IDENTIFIED.get(verdict, verdict) if verdict else "not assessed",
                    "correlation": _within(row["max_abs_correlation"], path, row, "max_abs_correlation", low=0,
                                           high=1),
                    "partner": row["most_correlated_with"]})
    return out


def read_ppc(path):
    """ppc.csv: per observation its date, time, level, observed count, predictive mean and 95 % interval, inside."""
    out = []
    for row in read_table(path, schema.PPC, allow_empty=True):
        r = {"date": row["date"], "time": row["time_years"], "level": row["level"],
             "observed": _within(row["observed"], path, row, "observed", low=0),
             "mean": row["predictive_mean"], "low": row["predictive_q2_5"], "high": row["predictive_q97_5"],
             "inside": row["inside"]}
        _interval(r["low"], r["high"], path, row, "predictive_q2_5", "predictive_q97_5")
        out.append(r)
    return out
