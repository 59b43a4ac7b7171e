"""One Excel workbook of a run folder's key tables, for an analyst without R or Python (docs/r-and-python.md).

    python3 -m girfec_py.workbook RUN_DIR [--out FILE.xlsx]

Sheets (those a run has): README (what each sheet is; girfec version, seed,
scenario and replications from manifest.json), Cost-effectiveness
(summary.csv), Incremental analysis (incremental.csv), Acceptability
(acceptability.csv), Per child (per-person.csv), Totals per arm and Cumulative by year (the
`cumulative_…_discounted` rows of bands.csv), Stocks by year (bands.csv),
Budget by year, Flows by year and Areas by year (bands-yearly.csv: girfec's yearly totals
with their 95 % CI), Parameters and Parameter draws (manifest.json and
parameters.csv), Variance split (uncertainty.csv), Importance
(importance.csv), Value of information (voi.csv).

Every sheet has its title in row 1, its source in row 2, column headers in
row 3 with the unit of each column in brackets, and the values from row 4:
numbers as numbers (the doubles of the CSV files, displayed rounded), an
undefined value as an empty cell. Nothing is computed here: every number
is a cell of a CSV file girfec wrote (docs/outputs.md), only selected and
laid out. The default FILE is RUN_DIR.xlsx beside the folder, not inside
it (girfec's --overwrite replaces only folders holding its own files).
"""
from __future__ import annotations

import argparse
import contextlib
import math
import os
import sys

import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from . import frames
from .runfolder import OutputError

FIRST_DATA_ROW = 4  # row 1 title, row 2 source, row 3 headers

# display formats by unit (the cell keeps the full double)
FORMATS = {"£": "#,##0.00", "£ per year": "#,##0.00", "children per year": "#,##0.0", "£ per QoL-year": "#,##0",
           "children": "#,##0.0",
           "QoL-years": "#,##0.0000", "years": "0.00", "share": "0.0000", "replications": "0", "draws": "0"}

# summary.csv measures: unit (docs/outputs.md, summary.csv)
MEASURE_UNITS = {"delta_cost_discounted": "£", "delta_qol_years_discounted": "QoL-years", "icer": "£ per QoL-year",
                 "net_monetary_benefit": "£", "probability_win_win": "share", "probability_cost_saving": "share",
                 "probability_breaks_even": "share", "break_even_years": "years",
                 "probability_cost_effective": "share"}

STATISTICS = (("mean", "mean"), ("mcse", "MCSE"), ("ci_low", "95% CI low"), ("ci_high", "95% CI high"),
              ("p2_5", "2.5% of replications"), ("p50", "median of replications"),
              ("p97_5", "97.5% of replications"))


class Sheet:
    """A sheet's content: title, source, and columns as (header, unit, values)."""

    def __init__(self, name, title, source, about):
        self.name, self.title, self.source, self.about = name, title, source, about
        self.columns = []

    def add(self, header, values, unit=""):
        self.columns.append((header, unit, list(values)))

    @property
    def rows(self):
        return len(self.columns[0][2]) if self.columns else 0


def _plain(value):
    """A cell value openpyxl writes as a number, text or nothing (NaN, NA: an empty cell)."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if hasattr(value, "item"):  # numpy scalars
        value = value.item()
        if isinstance(value, float) and math.isnan(value):
            return None
    if isinstance(value, float) and math.isinf(value):
        return "inf" if value > 0 else "-inf"  # Excel has no infinity; as the CSV file writes it
    return value


def _text(series):
    return [None if pd.isna(v) else str(v) for v in series]


def _all_areas(bands):
    # bands.csv rows for the whole population (a folder with an area column: its all-areas rows)
    if "area" in bands.columns:
        area = bands["area"].astype(object)
        return bands[area.isna() | (area == "all")]
    return bands


def _statistics(sheet, rows, unit, prefix=""):
    for column, label in STATISTICS:
        sheet.add(f"{prefix}{label}", rows[column], unit)


def cost_effectiveness(run):
    s = run.summary
    if s is None or s.empty:
        return None
    sheet = Sheet("Cost-effectiveness", f"Cost-effectiveness of each arm against {s['comparator'].iloc[0]}",
                  "summary.csv", "each later arm against the first: Δcost, ΔQoL-years, ICER, net monetary benefit, "
                  "probabilities (acceptability curve), break-even; the unit of each row's numbers is in the Unit "
                  "column")
    sheet.add("Arm", _text(s["arm"]))
    sheet.add("Comparator", _text(s["comparator"]))
    sheet.add("Measure", _text(s["measure"]))
    sheet.add("Unit", [MEASURE_UNITS.get(str(m), "") for m in s["measure"]])
    sheet.add("Willingness to pay", s["willingness_to_pay"], "£ per QoL-year")
    sheet.add("Replications", s["replications"], "replications")
    for column, label in STATISTICS:
        if column in s.columns:
            sheet.add(label, s[column], "see Unit")
    return sheet


def _horizon(run, quantity):
    b = _all_areas(run.bands)
    rows = b[b["quantity"] == quantity]
    return rows[rows["step"] == rows["step"].max()] if len(rows) else rows


def totals(run):
    cost, qol = _horizon(run, "cumulative_cost_discounted"), _horizon(run, "cumulative_qol_years_discounted")
    dcost = _horizon(run, "delta_cumulative_cost_discounted")
    dqol = _horizon(run, "delta_cumulative_qol_years_discounted")
    if cost.empty or qol.empty:
        return None
    first = run.arms[0]
    labels = _text(cost["arm"]) + [f"{a} − {first}" for a in _text(dcost["arm"])]
    sheet = Sheet("Totals per arm", "Totals over the horizon per arm, discounted (and each later arm minus "
                  f"{first})", "bands.csv, last step, cumulative_cost_discounted and cumulative_qol_years_discounted "
                  "(and their delta_ rows)",
                  "discounted cost and QoL-years of each arm over the horizon: mean over replications, its 95% CI, "
                  "and where single replications fall; the same numbers as summary.csv and the report")
    sheet.add("Arm", labels)
    sheet.add("Replications", list(cost["replications"]) + list(dcost["replications"]), "replications")
    both_cost = pd.concat([cost, dcost])
    both_qol = pd.concat([qol, dqol])
    _statistics(sheet, both_cost, "£", "Discounted cost: ")
    _statistics(sheet, both_qol, "QoL-years", "Discounted QoL-years: ")
    return sheet


PER_CHILD = (("cost_discounted_per_child", "Discounted cost per child", "£ per child"),
             ("qol_years_discounted_per_child", "Discounted QoL-years per child", "QoL-years per child"),
             ("cost_per_child", "Cost per child (undiscounted)", "£ per child"),
             ("qol_years_per_child", "QoL-years per child (undiscounted)", "QoL-years per child"),
             ("child_years_per_child", "Years in the model per child", "years per child"))


def per_child(run):
    """per-person.csv as one row per arm (and per later arm minus the first); None when the folder has no such file."""
    p = run.tables.get("per-person.csv")
    if p is None or p.empty:
        return None
    first = run.arms[0]
    blocks = [(str(a), str(a), "") for a in run.arms] + [(f"{a} − {first}", str(a), "delta_") for a in run.arms[1:]]
    rows = {(str(r["arm"]), str(r["measure"])): r for r in p.to_dict("records")}
    table = [(label, {m: rows.get((arm, prefix + m)) for m, _, _ in PER_CHILD}) for label, arm, prefix in blocks]
    table = [t for t in table if t[1]["cost_discounted_per_child"] is not None]
    sheet = Sheet("Per child", "Costs and QoL-years per child (per person), per arm (and each later arm minus "
                  f"{first})", "per-person.csv",
                  "each total over the horizon divided by the mean number of children ever in the model (a ratio of "
                  "means), with its Monte Carlo standard error (delta method) and 95% CI; the same numbers as the "
                  "report's per-child table")
    sheet.add("Arm", [t[0] for t in table])
    sheet.add("Replications", [t[1]["cost_discounted_per_child"]["replications"] for t in table], "replications")
    sheet.add("Children ever: mean", [t[1]["cost_discounted_per_child"]["children_ever"] for t in table], "children")
    for measure, name, unit in PER_CHILD:
        for column, label in STATISTICS[:4]:
            sheet.add(f"{name}: {label}", [(t[1][measure] or {}).get(column) for t in table], unit)
    return sheet


def _year_ends(rows, step_months):
    # rows at the end of a whole year (and the start, step 0)
    if not step_months:
        return rows
    months = rows["step"] * step_months
    return rows[months % 12 == 0]


def stocks_by_year(run):
    b = _all_areas(run.bands)
    rows = _year_ends(b[b["quantity"] == "stock"], run.manifest["scenario"].get("stepMonths"))
    if rows.empty:
        return None
    sheet = Sheet("Stocks by year", "Children in each level at the start and at the end of each year",
                  "bands.csv, quantity stock, steps at whole years",
                  "children in each level (and all levels) per arm at the start (year 0) and the end of each year: "
                  "mean over replications, its 95% CI, and where single replications fall")
    sheet.add("Arm", _text(rows["arm"]))
    sheet.add("Year", rows["time_years"], "years")
    sheet.add("Level", _text(rows["level"]))
    sheet.add("Replications", rows["replications"], "replications")
    _statistics(sheet, rows, "children", "Children: ")
    return sheet


def cumulative_by_year(run):
    b = _all_areas(run.bands)
    step_months = run.manifest["scenario"].get("stepMonths")
    cost = _year_ends(b[b["quantity"] == "cumulative_cost_discounted"], step_months)
    qol = _year_ends(b[b["quantity"] == "cumulative_qol_years_discounted"], step_months)
    if cost.empty or len(cost) != len(qol):
        return None
    sheet = Sheet("Cumulative by year", "Discounted cost and QoL-years from the start to the end of each year",
                  "bands.csv, quantities cumulative_cost_discounted and cumulative_qol_years_discounted, steps at "
                  "whole years",
                  "discounted cost (levels and programme) and QoL-years accumulated to the end of each year, per "
                  "arm: mean, 95% CI for the mean")
    sheet.add("Arm", _text(cost["arm"]))
    sheet.add("Year", cost["time_years"], "years")
    for rows, name, unit in ((cost, "Discounted cost to date", "£"), (qol, "Discounted QoL-years to date",
                                                                         "QoL-years")):
        for column, label in STATISTICS[:4]:
            sheet.add(f"{name}: {label}", rows[column], unit)
    return sheet


def _yearly_rows(run):
    """bands-yearly.csv's rows by (arm, quantity, level, year, area); None when the folder has no such file."""
    y = run.tables.get("bands-yearly.csv")
    if y is None or y.empty:
        return None
    rows = {}
    for r in y.to_dict("records"):
        level = None if pd.isna(r["level"]) else str(r["level"])
        rows[(str(r["arm"]), str(r["quantity"]), level, int(r["year"]), str(r["area"]))] = r
    return rows


def _arm_blocks(run):
    """(label, arm, quantity prefix) of each arm, then of each later arm's paired difference from the first."""
    first = run.arms[0]
    return [(a, a, "") for a in run.arms] + [(f"{a} − {first}", a, "delta_") for a in run.arms[1:]]


def _years(rows, quantity):
    return sorted({k[3] for k in rows if k[1] == quantity})


def budget_by_year(run):
    rows = _yearly_rows(run)
    if rows is None or not _years(rows, "cost"):
        return None
    parts = [(str(lvl), "cost", str(lvl)) for lvl in run.levels] + [("programme", "programme_cost", "all"),
                                                                    ("all (levels and programme)", "cost", "all")]
    table = []  # (arm label, year row, level label, undiscounted row, discounted row)
    for label, arm, prefix in _arm_blocks(run):
        for year in _years(rows, "cost"):
            for name, quantity, level in parts:
                cost = rows.get((arm, prefix + quantity, level, year, "all"))
                discounted = rows.get((arm, prefix + quantity + "_discounted", level, year, "all"))
                if cost is not None:
                    table.append((label, name, cost, discounted or {}))
    sheet = Sheet("Budget by year", "Cost of each level and of the programme per year (the yearly budget), "
                  "undiscounted and discounted", "bands-yearly.csv, quantities cost, programme_cost, cost_discounted "
                  "and programme_cost_discounted (and their delta_ rows)",
                  "the cost of each level, of the programme and in all (levels plus programme) in each year, per "
                  "arm and for each later arm minus the first (paired): mean over replications, its MCSE and 95% CI; "
                  "undiscounted (the budget) and discounted to time 0")
    sheet.add("Arm", [t[0] for t in table])
    sheet.add("Year", [t[2]["year"] for t in table])
    sheet.add("Start", [t[2]["start_years"] for t in table], "years")
    sheet.add("End", [t[2]["end_years"] for t in table], "years")
    sheet.add("Level", [t[1] for t in table])
    sheet.add("Replications", [t[2]["replications"] for t in table], "replications")
    for index, name in ((2, "Cost"), (3, "Discounted cost")):
        for column, label in STATISTICS[:4]:
            sheet.add(f"{name}: {label}", [t[index].get(column) for t in table], "£ per year")
    return sheet


FLOWS = (("escalations", "Escalations"), ("step_downs", "Step-downs"), ("entries", "Entries"), ("exits", "Exits"))


def flows_by_year(run):
    rows = _yearly_rows(run)
    if rows is None or not _years(rows, "escalations"):
        return None
    table = []  # (arm label, {quantity: row})
    for label, arm, prefix in _arm_blocks(run):
        for year in _years(rows, "escalations"):
            found = {q: rows.get((arm, prefix + q, "all", year, "all")) for q, _ in FLOWS}
            if found["escalations"] is not None:
                table.append((label, found))
    sheet = Sheet("Flows by year", "Escalations, step-downs, entries and exits per year",
                  "bands-yearly.csv, quantities escalations, step_downs, entries and exits, level all (and their "
                  "delta_ rows)",
                  "children moving to a later level (escalations) or an earlier one (step-downs), entering and "
                  "leaving, all levels together, in each year, per arm and for each later arm minus the first "
                  "(paired): mean over replications and its 95% CI")
    sheet.add("Arm", [t[0] for t in table])
    sheet.add("Year", [t[1]["escalations"]["year"] for t in table])
    sheet.add("Start", [t[1]["escalations"]["start_years"] for t in table], "years")
    sheet.add("End", [t[1]["escalations"]["end_years"] for t in table], "years")
    sheet.add("Replications", [t[1]["escalations"]["replications"] for t in table], "replications")
    for quantity, name in FLOWS:
        for column, label in STATISTICS[:1] + STATISTICS[2:4]:
            sheet.add(f"{name}: {label}", [(t[1][quantity] or {}).get(column) for t in table], "children per year")
    return sheet


AREA_QUANTITIES = (("stock", "Children at the year's end", "children"), ("escalations", "Escalations", "children per year"),
                   ("step_downs", "Step-downs", "children per year"), ("cost", "Cost", "£ per year"),
                   ("cost_discounted", "Discounted cost", "£ per year"))


def areas_by_year(run):
    """Each area's children, escalations, step-downs and cost per year (bands-yearly.csv's area rows); None with one area."""
    rows = _yearly_rows(run)
    if rows is None:
        return None
    areas = []
    for k in rows:
        if k[4] != "all" and k[4] not in areas:
            areas.append(k[4])
    if not areas:
        return None
    table = []  # (area, arm label, {quantity: row})
    for area in areas:
        for label, arm, prefix in _arm_blocks(run):
            for year in _years(rows, "cost"):
                found = {q: rows.get((arm, prefix + q, "all", year, area)) for q, _, _ in AREA_QUANTITIES}
                if found["cost"] is not None:
                    table.append((area, label, found))
    sheet = Sheet("Areas by year", "Each area's children, escalations, step-downs and cost per year",
                  "bands-yearly.csv, rows of each area: quantities stock, escalations, step_downs, cost and "
                  "cost_discounted, level all (and their delta_ rows)",
                  "per area, arm and year (and each later arm minus the first, paired): children in the area at the "
                  "year's end, its moves to a later and an earlier level, and the cost of its children's levels and "
                  "one-off transition costs, undiscounted and discounted; mean over replications and its 95% CI. The "
                  "programme's cost is authority-wide: it is in Budget by year, in no area")
    sheet.add("Area", [t[0] for t in table])
    sheet.add("Arm", [t[1] for t in table])
    sheet.add("Year", [t[2]["cost"]["year"] for t in table])
    sheet.add("Replications", [t[2]["cost"]["replications"] for t in table], "replications")
    for quantity, name, unit in AREA_QUANTITIES:
        for column, label in STATISTICS[:1] + STATISTICS[2:4]:
            sheet.add(f"{name}: {label}", [(t[2][quantity] or {}).get(column) for t in table], unit)
    return sheet


def parameters(run):
    uncertainty = run.manifest.get("parameterUncertainty")
    if not uncertainty:
        sheet = Sheet("Parameters", "Parameters: the scenario's own values (no parameter uncertainty)",
                      "manifest.json, scenario.yaml",
                      "fixed parameters: every replication ran the values of scenario.yaml (in the run folder); "
                      "the spread between replications is chance alone")
        sheet.add("Scenario file", [run.manifest["scenario"].get("fileName")])
        sheet.add("Levels", [", ".join(run.levels)])
        sheet.add("Arms", [", ".join(run.arms)])
        return sheet
    declared = uncertainty.get("parameters") or []
    sheet = Sheet("Parameters", "Uncertain parameters: distributions and sources",
                  "manifest.json, parameterUncertainty",
                  "each uncertain parameter: field path, distribution, source, and its columns in Parameter draws" +
                  ("" if uncertainty.get("drawn", True) else "; NOT drawn in this run (--base-case)"))
    sheet.add("Name", [p.get("name") for p in declared])
    sheet.add("Field path", [p.get("path") for p in declared])
    sheet.add("Distribution", [p.get("distribution") for p in declared])
    sheet.add("Source", [p.get("source") for p in declared])
    sheet.add("Columns in Parameter draws", [", ".join(p.get("columns") or []) for p in declared])
    return sheet


def parameter_draws(run):
    p = run.parameters
    if p is None or p.empty:
        return None
    sheet = Sheet("Parameter draws", "The parameter values each replication ran with",
                  "parameters.csv", "one row per replication: its draw and the drawn value of each field path "
                  "(in the unit the field's name states, docs/scenario-format.md)")
    for name in p.columns:
        if name in ("replication", "draw"):
            sheet.add(name.capitalize(), p[name])
        else:
            sheet.add(name, p[name], "as named")
    return sheet


def _generic(run, file_name, name, title, about, labels):
    table = run.tables.get(file_name)
    if table is None or table.empty:
        return None
    spec = frames.schema.for_file(file_name)
    sheet = Sheet(name, title, file_name, about)
    for column in table.columns:
        unit = labels.get(column, (None, None))[1]
        if unit is None:
            declared = frames._column_for(spec, column)
            unit = declared.unit if declared is not None else ""
        header = labels.get(column, (column, None))[0]
        values = table[column]
        sheet.add(header, _text(values) if isinstance(values.dtype, pd.CategoricalDtype) or values.dtype == object
                  else values, unit)
    return sheet


def incremental(run):
    return _generic(run, "incremental.csv", "Incremental analysis", "Efficiency frontier, dominance and ICERs of all arms",
                    "every arm by cost: on the efficiency frontier, dominated or extendedly dominated (by which arms), "
                    "and the ICER of each frontier arm against the previous one (dampack's calculate_icers)", {})


def acceptability(run):
    return _generic(run, "acceptability.csv", "Acceptability", "Net monetary benefit and probability best of all arms",
                    "per willingness to pay and arm: expected net monetary benefit, probability of the highest net "
                    "monetary benefit (acceptability curves of all arms) and the acceptability frontier (on_frontier)",
                    {"probability_best": ("probability_best", "share")})


def variance_split(run):
    return _generic(run, "uncertainty.csv", "Variance split", "Share of the spread due to parameter uncertainty",
                    "per arm and outcome: total variance of replication totals split into parameter and chance "
                    "variance (one-way ANOVA over draws; empty with one replication per draw); the variance's unit "
                    "is the outcome's unit squared",
                    {"mean": ("mean", "outcome's unit"), "total_variance": ("total_variance", "unit²"),
                     "parameter_variance": ("parameter_variance", "unit²"),
                     "chance_variance": ("chance_variance", "unit²"),
                     "parameter_share": ("parameter_share", "share"),
                     "parameter_share_ci_low": ("parameter_share_ci_low", "share"),
                     "parameter_share_ci_high": ("parameter_share_ci_high", "share")})


def importance(run):
    return _generic(run, "importance.csv", "Importance", "Which parameters drive each outcome",
                    "main-effect share of each outcome's variance per parameter and group",
                    {"main_effect_share": ("main_effect_share", "share")})


def value_of_information(run):
    return _generic(run, "voi.csv", "Value of information", "Expected value of perfect information (EVPI, EVPPI)",
                    "EVPI and EVPPI per parameter group at each willingness to pay, £ for the simulated population",
                    {})


BUILDERS = (cost_effectiveness, incremental, acceptability, totals, per_child, stocks_by_year, cumulative_by_year, budget_by_year,
            flows_by_year, areas_by_year, parameters, parameter_draws, variance_split, importance, value_of_information)


def sheets(run):
    """The sheets of a loaded run (`frames.load`), README excluded, in workbook order."""
    return [s for s in (build(run) for build in BUILDERS) if s is not None]


def readme(run, content):
    m, scenario = run.manifest, run.manifest["scenario"]
    uncertainty = m.get("parameterUncertainty")
    facts = [("Scenario", scenario.get("name")), ("Scenario file", scenario.get("fileName")),
             ("Scenario SHA-256", scenario.get("sha256")), ("girfec version", m.get("version")),
             ("girfec commit", m.get("gitCommit")), ("Seed", m.get("seed")),
             ("Replications", m.get("replications")),
             ("Complete", "yes" if m.get("complete", True) else f"no: replications {m.get('replicationsCovered')}"),
             ("Arms", ", ".join(run.arms)), ("Levels", ", ".join(run.levels)),
             ("Step", f"{scenario.get('stepMonths')} months, {scenario.get('steps')} steps"),
             ("Parameter uncertainty", "none (the scenario's own values)" if not uncertainty else
              f"{uncertainty.get('draws')} draws, {uncertainty.get('replicationsPerDraw')} replication(s) per draw"),
             ("Command", m.get("command")), ("Run started", m.get("startedAt")),
             ("Run folder", os.path.basename(os.path.normpath(run.folder)))]
    sheet = Sheet("README", f"girfec results: {scenario.get('name')}",
                  "manifest.json; every number in this workbook is a cell of a CSV file of the run folder "
                  "(docs/outputs.md in the girfec repository explains each column)", "")
    sheet.add("Item", [k for k, _ in facts] + [None, "Sheet"] + [s.name for s in content])
    sheet.add("Value", [None if v is None else str(v) for _, v in facts] + [None, "What it shows (from)"] +
              [f"{s.about} (from {s.source})" for s in content])
    return sheet


@contextlib.contextmanager
def _exact_numbers():
    """While saving, numbers are written as the shortest text that reads back to the same double.

    openpyxl writes a number with 16 significant digits (`%.16g`), which can
    change its last bit; a double may need 17. Its cell writer is given
    `repr` for floats instead (Excel reads any digits and itself writes 17).
    """
    from openpyxl.cell import _writer
    original = getattr(_writer, "safe_string", None)
    if original is None:  # another openpyxl: its own text (scripts/tests/test_r_and_python.py would say so)
        yield
        return

    def exact(value):
        if isinstance(value, float) and math.isfinite(value):
            return repr(value)
        return original(value)

    _writer.safe_string = exact
    try:
        yield
    finally:
        _writer.safe_string = original


def write(run, path):
    """Write the workbook of a loaded run (`frames.load`) or run folder path to `path`; returns its sheets' names."""
    if not isinstance(run, frames.Run):
        run = frames.load(run)
    content = sheets(run)
    content.insert(0, readme(run, content))
    book = Workbook()
    book.remove(book.active)
    for sheet in content:
        ws = book.create_sheet(sheet.name)
        ws.cell(row=1, column=1, value=sheet.title).font = Font(bold=True, size=13)
        ws.cell(row=2, column=1, value=f"From {sheet.source}").font = Font(italic=True)
        for j, (header, unit, values) in enumerate(sheet.columns, start=1):
            label = f"{header} ({unit})" if unit else header
            c = ws.cell(row=3, column=j, value=label)
            c.font = Font(bold=True)
            c.alignment = Alignment(wrap_text=True, vertical="top")
            fmt = FORMATS.get(unit)
            for i, v in enumerate(values):
                cell = ws.cell(row=FIRST_DATA_ROW + i, column=j, value=_plain(v))
                if fmt and isinstance(cell.value, (int, float)):
                    cell.number_format = fmt
            width = max([len(label) * 0.6] + [len(str(_plain(v))) for v in values[:200]])
            ws.column_dimensions[get_column_letter(j)].width = min(max(10, width + 2), 60 if j > 1 else 40)
        ws.freeze_panes = ws.cell(row=FIRST_DATA_ROW, column=1)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with _exact_numbers():
        book.save(path)
    return [s.name for s in content]


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python3 -m girfec_py.workbook",
                                     description="Write one Excel workbook of a run folder's key tables "
                                                 "(docs/r-and-python.md).")
    parser.add_argument("run_dir", help="a folder written by girfec run or girfec merge")
    parser.add_argument("--out", help="the .xlsx file to write (default: RUN_DIR.xlsx beside the folder)")
    args = parser.parse_args(argv)
    run_dir = os.path.realpath(args.run_dir)
    out = args.out or os.path.normpath(args.run_dir) + ".xlsx"
    if os.path.realpath(out).startswith(run_dir + os.sep):
        parser.error(f"--out {out}: inside the run folder; expected a file elsewhere (girfec's --overwrite "
                     f"replaces only folders holding its own files, docs/guarantees.md)")
    if not out.endswith(".xlsx"):
        parser.error(f"--out {out}: expected a file name ending in .xlsx")
    try:
        names = write(args.run_dir, out)
    except OutputError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    print(f"workbook: {out} ({len(names)} sheets: {', '.join(names)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
