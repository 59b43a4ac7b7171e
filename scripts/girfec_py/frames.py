"""A run folder as typed pandas DataFrames: `load(RUN_DIR)` (docs/r-and-python.md).

Every CSV file of the folder becomes a DataFrame whose columns take their
kinds from `schema` (the one declaration of every output column):

  text    pandas `category` (arms in the scenario's order, levels in the
          scenario's order then `all`, other names in order of appearance);
          the columns holding `;`-separated field paths stay strings
  int     `int64`, or the nullable `Int64` where the column may be empty
  number  `float64`; an empty cell ("not defined") is NaN; `inf`/`-inf`
          only where the schema allows them
  bool    `bool`, or the nullable `boolean` where the column may be empty
  date    `datetime64[ns]`, an empty cell NaT

An empty cell is a missing value in every kind (NaN, <NA>, NaT), as R's
reader (scripts/girfec.R) gives NA. Numbers are parsed by Python's `float`,
which rounds correctly, so every value is the double girfec wrote (girfec
writes the shortest text that reads back to its double).

Checks are those of `runfolder` (the folder's manifest, a header with every
declared column, as many cells in each row as the header, each cell of its
column's kind, arms named in the manifest); every problem of a file is
reported at once in one `runfolder.OutputError`, each naming the file, line
(and data row) and column. A column the schema does not declare (a folder
from a newer girfec) is kept as strings.
"""
from __future__ import annotations

import csv
import math
import os
import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from . import runfolder, schema
from .runfolder import OutputError

# The CSV files of a run folder, in the order `Run.tables` lists them.
RUN_FILES = ("bands.csv", "replications.csv", "bands-yearly.csv", "replications-yearly.csv", "summary.csv", "aggregate.csv",
             "comparison.csv", "parameters.csv", "uncertainty.csv", "importance.csv", "voi.csv", "incremental.csv",
             "acceptability.csv", "per-person.csv")
REQUIRED = ("bands.csv", "replications.csv")  # every run folder has them (one arm or more, any options)

# Text columns naming an arm (categories: the scenario's arms), a level (the scenario's levels, then `all`),
# and holding free text (kept as strings).
ARM_COLUMNS = ("arm", "comparator", "optimal_arm")
LEVEL_COLUMNS = ("level", "from_level", "to_level")
STRING_COLUMNS = ("parameters", "dominated_by")  # field paths / arm names joined by ";"
MAX_PROBLEMS = 20  # problems listed in one OutputError; the count of the rest is given


def _column_for(spec, name):
    """The schema column a header cell belongs to: a fixed column by name, else a repeated one by pattern."""
    for c in spec.columns:
        if not c.repeated and c.name == name:
            return c
    for c in spec.columns:
        if c.repeated and re.fullmatch(c.pattern, name):
            return c
    return None


def _raw_rows(path):
    """(header, rows, start lines) of a CSV file; OutputError for an absent, unreadable or non-UTF-8 file."""
    if not os.path.isfile(path):
        raise OutputError(f"{path}: file not found")
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            reader = csv.reader(f)
            header = next(reader, None)
            if not header:
                raise OutputError(f"{path}: empty file (no header row)")
            rows, lines, end = [], [], reader.line_num
            for record in reader:
                rows.append(record)
                lines.append(end + 1)  # a record starts on the line after the previous one ends
                end = reader.line_num
    except OSError as e:
        raise OutputError(f"{path}: cannot read ({e.strerror or e})") from None
    except UnicodeDecodeError as e:
        raise OutputError(f"{path}: not UTF-8 text ({e})") from None
    except csv.Error as e:
        raise OutputError(f"{path}: unreadable CSV ({e})") from None
    return [h.strip() for h in header], rows, lines


def _raise(path, problems):
    if problems:
        shown = problems[:MAX_PROBLEMS]
        more = len(problems) - len(shown)
        text = "\n".join(shown) + (f"\n... and {more} more problem(s)" if more else "")
        raise OutputError(f"{path}: {len(problems)} problem(s):\n{text}" if len(problems) > 1 else shown[0])


def _typed(strings, column, path, lines):
    """A column's cells as a pandas Series of its kind, and the problems found (each naming line and column)."""
    kind, problems = column.kind, []
    stripped = [s.strip() for s in strings]
    empty = np.array([s == "" for s in stripped], dtype=bool)

    def check_each():
        # the exact message of each bad cell, as runfolder words it
        for i, text in enumerate(stripped):
            try:
                runfolder.cell(text, column, path, lines[i], i + 1)
            except OutputError as e:
                problems.append(str(e))

    if kind == "text":
        if empty.any() and not column.empty:
            check_each()
        return pd.Series([None if e else s for s, e in zip(stripped, empty)], dtype=object), problems
    if kind in ("int", "number"):
        values = np.full(len(stripped), math.nan)
        try:
            for i, text in enumerate(stripped):
                if text:
                    values[i] = float(text)
        except ValueError:
            check_each()
            return None, problems
        bad = np.isnan(values) & ~empty
        if column.finite or kind == "int":
            bad |= np.isinf(values)
        if kind == "int":
            with np.errstate(invalid="ignore"):
                bad |= ~empty & ~np.isnan(values) & ((values != np.floor(values)) | (values < 0))
        if (empty.any() and not column.empty) or bad.any():
            check_each()
            return None, problems
        if kind == "number":
            return pd.Series(values, dtype="float64"), problems
        if column.empty:
            return pd.Series([None if e else int(v) for v, e in zip(values, empty)], dtype="Int64"), problems
        # a whole number above 2^53 would not survive the double: read those cells exactly
        return pd.Series([int(s) if abs(v) >= 2**53 else int(v) for s, v in zip(stripped, values)],
                         dtype="int64"), problems
    if kind == "bool":
        if any(s not in ("true", "false") for s in stripped if s) or (empty.any() and not column.empty):
            check_each()
            return None, problems
        values = [None if s == "" else s == "true" for s in stripped]
        return pd.Series(values, dtype="boolean" if column.empty else "bool"), problems
    # date
    values = []
    for i, text in enumerate(stripped):
        try:
            values.append(runfolder.cell(text, column, path, lines[i], i + 1))
        except OutputError as e:
            problems.append(str(e))
    return pd.Series(pd.to_datetime(values), dtype="datetime64[ns]"), problems


def read_csv(path, spec=None, arms=None, levels=None, allow_empty=True, quantities=None):
    """One output CSV file as a typed DataFrame (kinds in the module docstring); OutputError listing every problem.

    `spec`: the file's `schema.OutputFile` (default: by the file's name);
    `arms`, `levels`: the scenario's, ordering those categories (and every
    arm must be one of `arms`). A file with a header and no rows is an
    empty DataFrame with the declared columns, unless not `allow_empty`.
    `quantities`: the quantity groups written (`manifest.json` `quantities`;
    None: every group); columns of the other groups are not expected.
    """
    path = str(path)
    spec = spec or schema.for_file(os.path.basename(path))
    if quantities is not None:
        kept = tuple(c for c in spec.columns if schema.column_group(spec.name, c.name) in ("", *quantities))
        spec = schema.OutputFile(spec.name, spec.doc, spec.written_by, kept)
    header, rows, lines = _raw_rows(path)
    problems = []
    problem = spec.header_problem(header)
    missing = [c.name for c in spec.columns if not c.repeated and c.name not in header]
    if missing or (problem and "another order" in problem):
        raise OutputError(f"{runfolder.where(path, 1)}: {problem}")
    duplicated = sorted({h for h in header if header.count(h) > 1})
    if duplicated:
        raise OutputError(f"{runfolder.where(path, 1)}: column(s) named twice: {', '.join(duplicated)}")
    for i, record in enumerate(rows):
        if len(record) != len(header):
            problems.append(f"{runfolder.where(path, lines[i], row=i + 1)}: {len(record)} cells; expected "
                            f"{len(header)} (as the header)")
    _raise(path, problems)
    if not rows and not allow_empty:
        raise OutputError(f"{path}: no data rows")
    data = {}
    for j, name in enumerate(header):
        column = _column_for(spec, name) or schema.Column(name, "text", empty=True)
        series, found = _typed([r[j] for r in rows], column, path, lines)
        problems += found
        if series is None:
            continue
        if column.kind == "text" and name not in STRING_COLUMNS and _column_for(spec, name) is not None:
            series, found = _categorical(series, name, path, lines, arms, levels)
            problems += found
        data[name] = series
    problems.sort(key=_problem_order)
    _raise(path, problems)
    return pd.DataFrame(data, columns=header)


def _problem_order(message):
    # problems of a file in line order (the message names "line L")
    m = re.search(r", line (\d+)", message)
    return int(m.group(1)) if m else 0


def _categorical(series, name, path, lines, arms, levels):
    """A text column as a pandas category, its categories ordered as the scenario orders arms and levels."""
    seen = list(dict.fromkeys(v for v in series if v is not None))
    order, problems = seen, []
    if name in ARM_COLUMNS and arms is not None:
        unknown = [a for a in seen if a not in arms]
        for a in unknown:
            i = next(k for k, v in enumerate(series) if v == a)
            problems.append(f"{runfolder.where(path, lines[i], name, i + 1)}: found arm {a!r}; expected one of "
                            f"manifest.json's scenario.arms ({', '.join(arms)})")
        order = list(arms) + unknown  # (an unknown arm is an error: reported with the file's other problems)
    elif name in LEVEL_COLUMNS and levels is not None:
        order = list(levels) + [v for v in seen if v not in levels]
    return pd.Series(pd.Categorical(series, categories=order)), problems


@dataclass
class Run:
    """A run folder read whole: its manifest (a dict) and one typed DataFrame per CSV file it holds.

    `bands`, `replications`, `summary`, `aggregate`, `comparison`,
    `parameters`, `uncertainty`, `importance`, `voi`: None when the folder
    has no such file (parameters, uncertainty, importance and voi come
    with parameter uncertainty; summary, aggregate and comparison may be
    switched off). `tables` maps each file name read to its DataFrame.
    """

    folder: str
    manifest: dict
    arms: list
    levels: list
    tables: dict = field(default_factory=dict)

    def __getattr__(self, name):
        file_name = name + ".csv"
        if file_name in RUN_FILES:
            return self.tables.get(file_name)
        raise AttributeError(f"{type(self).__name__} has no attribute {name!r}")

    @property
    def name(self):
        return self.manifest["scenario"].get("name") or os.path.basename(os.path.normpath(self.folder))

    @property
    def draws(self):
        """The manifest's parameter draws (None without parameter uncertainty)."""
        uncertainty = self.manifest.get("parameterUncertainty") or {}
        return uncertainty.get("draws")

    @property
    def replications_per_draw(self):
        """`--replications-per-draw` (1 without parameter uncertainty)."""
        uncertainty = self.manifest.get("parameterUncertainty") or {}
        return int(uncertainty.get("replicationsPerDraw") or 1)


def load(folder):
    """A run folder (`girfec run` or `girfec merge`) as a `Run`: manifest and typed DataFrames of every CSV file.

    OutputError when the manifest is not a run folder's, bands.csv or
    replications.csv is absent, a file the manifest lists is absent, or a
    file does not read (every problem of that file in one message).
    """
    folder = str(folder)
    manifest = runfolder.read_manifest(os.path.join(folder, "manifest.json"))
    scenario = manifest["scenario"]
    arms = list(scenario.get("arms") or [])
    levels = list(scenario.get("levels") or [])
    listed = set(manifest.get("files") or [])
    run = Run(folder, manifest, arms, levels)
    for name in RUN_FILES:
        path = os.path.join(folder, name)
        if not os.path.exists(path):
            if name in REQUIRED or name in listed:
                why = "every run folder has it" if name in REQUIRED else "manifest.json's files list it"
                raise OutputError(f"{path}: file not found; expected it ({why})")
            continue
        run.tables[name] = read_csv(path, schema.for_file(name), arms or None, (levels + ["all"]) if levels else None,
                                    allow_empty=name not in REQUIRED, quantities=manifest.get("quantities"))
    if not arms:  # a manifest without scenario.arms: the arms in bands.csv's order
        run.arms = [a for a in run.bands["arm"].cat.categories]
    if not levels:
        run.levels = [lvl for lvl in run.bands["level"].cat.categories if lvl != "all"]
    return run


def schema_csv(files=RUN_FILES):
    """The run files' columns as CSV text (file, column, kind, empty, finite, pattern), as scripts/girfec.R embeds it.

    scripts/tests/test_r_and_python.py checks that girfec.R holds exactly this text, so the R reader's kinds are
    those of `schema` (declared once, there).
    """
    lines = ["file,column,kind,empty,finite,pattern,group"]
    for name in files:
        for c in schema.FILES[name].columns:
            lines.append(",".join([name, c.name, c.kind, "TRUE" if c.empty else "FALSE",
                                   "TRUE" if c.finite else "FALSE", c.pattern or "", schema.column_group(name, c.name)]))
    return "\n".join(lines) + "\n"
