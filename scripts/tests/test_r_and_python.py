"""The Python package (girfec_py.frames, .psa, .workbook), its pip install, and the R reader (scripts/girfec.R).

On real run folders written by girfec (docs/r-and-python.md):
  nested   Tests/ReportsTests/Scenarios/uncertainty.yaml, 40 replications, 2 per draw (20 draws)
  two-arm  Tests/ReportsTests/Scenarios/two-arm.yaml, 20 replications, fixed parameters
  one-arm  experiments/examples/minimal.yaml, 3 replications
  hostile  two-arm.yaml with a level and an arm named with a comma, double quotes and non-ASCII, 5 replications
and the golden folder Tests/ReportsTests/Golden/uncertainty (60 draws: importance.csv and EVPPI rows).

Golden values are the CSV cells as Python's csv module reads them: every loaded value must equal
`float(cell)` (or `int`, the text) exactly; the PSA's draw means are checked against math.fsum / n to a
relative 1e-12 (pandas and R sum in another order). The R test (scripts/tests/test_girfec_reader.R) runs
with Rscript from Debian's r-base-core; it skips when Rscript is missing, and fails instead when
GIRFEC_REQUIRE_R=1 (scripts/test.sh sets it).
"""
import csv
import math
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pd = pytest.importorskip("pandas", reason="pandas is missing: bash scripts/install-python-deps.sh")
openpyxl = pytest.importorskip("openpyxl", reason="openpyxl is missing: bash scripts/install-python-deps.sh")

from girfec_build import ROOT, girfec_binary  # noqa: E402
from girfec_py import frames, psa, schema, workbook  # noqa: E402
from girfec_py.runfolder import OutputError  # noqa: E402

RUNS = {
    "nested": (ROOT / "Tests/ReportsTests/Scenarios/uncertainty.yaml", ["--replications", 40,
                                                                        "--replications-per-draw", 2]),
    "two-arm": (ROOT / "Tests/ReportsTests/Scenarios/two-arm.yaml", ["--replications", 20]),
    "one-arm": (ROOT / "experiments/examples/minimal.yaml", ["--replications", 3]),
    "areas": (ROOT / "experiments/examples/areas-and-coverage.yaml", ["--replications", 6]),  # rows by area
    # 4 of the 6 pairs of levels can happen (Dead is absorbing): flow rows and columns for those only
    "markov": (ROOT / "experiments/examples/health-economics-markov.yaml", ["--replications", 4]),
    # two quantity groups written: replications-yearly.csv without the flows and qol columns
    "some-quantities": (ROOT / "Tests/ReportsTests/Scenarios/two-arm.yaml", ["--replications", 5,
                                                                             "--quantities", "stocks,costs"]),
    "hostile": (None, ["--replications", 5]),  # two-arm.yaml with a level and an arm named with , " and non-ASCII
}
HOSTILE_LEVEL, HOSTILE_ARM = 'Lów, "q" 中', 'prác, "tice" 😀'


def quoted(name):
    """A YAML double-quoted string."""
    return '"' + name.replace('"', '\\"') + '"'


def hostile_scenario(path):
    text = (ROOT / "Tests/ReportsTests/Scenarios/two-arm.yaml").read_text(encoding="utf-8")
    text = re.sub(r"\bLow\b", lambda m: quoted(HOSTILE_LEVEL), text)
    text = text.replace("  practice:\n    practice:", f"  {quoted(HOSTILE_ARM)}:\n    practice:")
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    work = tmp_path_factory.mktemp("runs")
    out = {}
    for key, (scenario, options) in RUNS.items():
        scenario = scenario or hostile_scenario(work / "hostile.yaml")
        result = subprocess.run([girfec_binary(), "run", str(scenario), *map(str, options), "--seed", "11",
                                 "--out", str(work / key), "--quiet"], capture_output=True, text=True, timeout=600)
        assert result.returncode == 0, f"girfec run {scenario}:\n{result.stderr}"
        out[key] = work / key
    out["golden-uncertainty"] = ROOT / "Tests/ReportsTests/Golden/uncertainty"  # 60 draws: importance, EVPPI rows
    return out


FOLDERS = sorted(RUNS) + ["golden-uncertainty"]


def csv_rows(path):
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    return rows[0], rows[1:]


def same(value, text, kind):
    """A loaded value equals the CSV cell's text exactly (an empty cell: a missing value)."""
    if text == "":
        return value is None or value is pd.NA or value is pd.NaT or (isinstance(value, float) and math.isnan(value))
    if kind == "number":
        return float(value) == float(text) or (math.isinf(float(text)) and value == float(text))
    if kind == "int":
        return int(value) == int(text) and not isinstance(value, float)
    if kind == "bool":
        return bool(value) == (text == "true")
    return str(value) == text


# ---------------------------------------------------------------------------
# The loader


@pytest.mark.parametrize("key", FOLDERS)
def test_load_round_trips_every_cell(folders, key):
    run = frames.load(folders[key])
    present = sorted(n for n in os.listdir(folders[key]) if n.endswith(".csv"))
    assert sorted(run.tables) == present
    for name, frame in run.tables.items():
        header, rows = csv_rows(folders[key] / name)
        assert list(frame.columns) == header, name
        assert len(frame) == len(rows), name
        spec = schema.for_file(name)
        for j, column in enumerate(header):
            kind = frames._column_for(spec, column).kind
            values = frame[column].tolist()
            bad = [(i + 2, row[j], values[i]) for i, row in enumerate(rows) if not same(values[i], row[j], kind)]
            assert not bad, f"{name}, column {column}: (line, cell, loaded) {bad[:5]}"


def test_kinds_from_the_schema(folders):
    run = frames.load(folders["nested"])
    assert run.arms == ["baseline", "practice"] and run.levels == ["Low", "High"]
    bands = run.bands
    for column in ("arm", "quantity", "level", "from_level", "to_level"):
        assert isinstance(bands[column].dtype, pd.CategoricalDtype), column
    assert list(bands["arm"].cat.categories) == run.arms
    assert list(bands["level"].cat.categories) == ["Low", "High", "all"]
    assert str(bands["step"].dtype) == "int64" and str(bands["replications"].dtype) == "int64"
    assert str(bands["mean"].dtype) == "float64"
    assert bands.loc[bands["quantity"] == "flow", "level"].isna().all()  # empty cells are missing values
    reps = run.replications
    assert str(reps["final_stock_High"].dtype) == "int64"  # a repeated column takes its kind too
    assert str(reps["break_even_years"].dtype) == "float64" and reps["break_even_years"].isna().any()
    assert str(run.comparison["aggregate_in_ci"].dtype) == "boolean"
    assert run.voi["parameters"].dtype == object  # field paths joined by ";": strings, not categories
    assert run.manifest["seed"] == "11" and run.replications_per_draw == 2 and run.draws == 20
    assert list(run.parameters.columns) == ["replication", "draw", "levels.High.costPerChildYear",
                                            "arms.practice.practice.relational.escalationEffect"]
    two = frames.load(folders["two-arm"])
    assert two.parameters is None and two.voi is None and two.replications_per_draw == 1


def test_names_with_commas_quotes_and_non_ascii(folders):
    run = frames.load(folders["hostile"])
    assert run.arms == ["baseline", HOSTILE_ARM] and run.levels == [HOSTILE_LEVEL, "High"]
    assert f"final_stock_{HOSTILE_LEVEL}" in run.replications.columns
    assert list(psa.make_psa(run).cost.columns) == run.arms


def damaged_copy(folder, tmp_path, file_name, edit):
    copy = tmp_path / "damaged"
    shutil.copytree(folder, copy)
    path = copy / file_name
    lines = path.read_text(encoding="utf-8").split("\n")
    edit(lines)
    path.write_text("\n".join(lines), encoding="utf-8")
    return copy


def test_every_problem_of_a_file_named_at_once(folders, tmp_path):
    def edit(lines):
        cells = lines[2].split(",")
        cells[4], cells[2] = "lots", "-1"  # cost, children_ever of data row 2
        lines[2] = ",".join(cells)
        lines[4] = lines[4].replace("practice", "nonesuch", 1)

    copy = damaged_copy(folders["two-arm"], tmp_path, "replications.csv", edit)
    with pytest.raises(OutputError) as error:
        frames.load(copy)
    message = str(error.value)
    path = copy / "replications.csv"
    assert message.startswith(f"{path}: 3 problem(s):\n")
    assert f"{path}, line 3 (data row 2), column 'cost': found 'lots'; expected a number" in message
    assert f"{path}, line 3 (data row 2), column 'children_ever': found '-1'; expected a whole number ≥ 0" in message
    assert (f"{path}, line 5 (data row 4), column 'arm': found arm 'nonesuch'; expected one of manifest.json's "
            f"scenario.arms (baseline, practice)") in message


@pytest.mark.parametrize("edit, expected", [
    (lambda lines: lines.__setitem__(3, lines[3] + ",9"),
     "replications.csv, line 4 (data row 3): 19 cells; expected 18 (as the header)"),
    (lambda lines: lines.__setitem__(0, lines[0].replace("cost_discounted,", "", 1)),
     "replications.csv, line 1 (header): replications.csv: header"),
])
def test_malformed_files_refused(folders, tmp_path, edit, expected):
    copy = damaged_copy(folders["two-arm"], tmp_path, "replications.csv", edit)
    with pytest.raises(OutputError) as error:
        frames.load(copy)
    assert expected in str(error.value)
    if "(header)" in expected:
        assert "missing cost_discounted" in str(error.value)


def test_a_listed_file_must_be_there(folders, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(folders["nested"], copy)
    (copy / "voi.csv").unlink()
    with pytest.raises(OutputError, match=r"voi\.csv: file not found; expected it \(manifest.json's files list it\)"):
        frames.load(copy)


# ---------------------------------------------------------------------------
# The PSA


def replication_values(folder):
    """{(replication, arm): (cost_discounted, qol_years_discounted)} as floats of the CSV cells."""
    header, rows = csv_rows(folder / "replications.csv")
    at = {c: header.index(c) for c in ("replication", "arm", "cost_discounted", "qol_years_discounted")}
    return {(int(r[at["replication"]]), r[at["arm"]]): (float(r[at["cost_discounted"]]),
                                                          float(r[at["qol_years_discounted"]])) for r in rows}


def test_psa_by_replication_is_replications_csv(folders):
    p = psa.make_psa(folders["two-arm"])
    values = replication_values(folders["two-arm"])
    assert p.sample == "replication" and p.parameters is None and p.currency == "£"
    assert p.strategies == ["baseline", "practice"]
    assert list(p.cost.columns) == p.strategies and list(p.effectiveness.columns) == p.strategies
    assert list(p.cost.index) == list(range(20)) and p.cost.index.name == "replication"
    for (r, arm), (cost, qol) in values.items():
        assert p.cost.loc[r, arm] == cost and p.effectiveness.loc[r, arm] == qol, (r, arm)
    one = psa.make_psa(folders["one-arm"])
    assert one.strategies == frames.load(folders["one-arm"]).arms and one.cost.shape == (3, 1)


def test_psa_of_a_nested_run_is_by_draw(folders):
    folder = folders["nested"]
    p = psa.make_psa(folder)
    values = replication_values(folder)
    header, rows = csv_rows(folder / "parameters.csv")
    draws = {}
    for row in rows:
        draws.setdefault(int(row[1]), []).append(row)
    assert p.sample == "draw" and list(p.cost.index) == sorted(draws) and p.cost.index.name == "draw"
    assert p.cost.shape == (20, 2) and p.parameters.shape == (20, 2)
    assert list(p.parameters.columns) == header[2:]
    assert (p.replications == 2).all()
    for d, members in draws.items():
        for arm in p.strategies:
            for frame, k in ((p.cost, 0), (p.effectiveness, 1)):
                expected = math.fsum(values[(int(m[0]), arm)][k] for m in members) / len(members)
                assert frame.loc[d, arm] == pytest.approx(expected, rel=1e-12, abs=0), (d, arm, k)
        for j, column in enumerate(header[2:], start=2):
            assert p.parameters.loc[d, column] == float(members[0][j])
    by_replication = psa.make_psa(folder, by="replication")
    assert by_replication.cost.shape == (40, 2) and by_replication.parameters.shape == (40, 2)
    with pytest.raises(OutputError, match="a PSA by draw needs the parameter draws"):
        psa.make_psa(folders["two-arm"], by="draw")


def test_psa_refuses_a_replication_without_every_arm(folders, tmp_path):
    copy = damaged_copy(folders["two-arm"], tmp_path, "replications.csv", lambda lines: lines.pop(4))
    with pytest.raises(OutputError, match=r"replication 1 has no row for arm\(s\) practice; expected one row per "
                                          r"arm \(1 replication\(s\) incomplete\)"):
        psa.make_psa(copy)


def test_psa_files_read_back_exactly(folders, tmp_path):
    p = psa.make_psa(folders["nested"])
    out = tmp_path / "psa"
    written = psa.main([str(folders["nested"]), "--out", str(out)])
    assert written == 0
    assert sorted(os.listdir(out)) == ["cost.csv", "currency.txt", "effectiveness.csv", "parameters.csv",
                                       "samples.csv", "strategies.csv"]
    for name, frame in (("cost.csv", p.cost), ("effectiveness.csv", p.effectiveness),
                        ("parameters.csv", p.parameters)):
        header, rows = csv_rows(out / name)
        assert header == list(frame.columns), name  # no sample column: dampack takes every column as a strategy
        assert [[float(c) for c in r] for r in rows] == frame.to_numpy().tolist(), name
    assert csv_rows(out / "strategies.csv") == (["strategy"], [["baseline"], ["practice"]])
    assert (out / "currency.txt").read_text(encoding="utf-8") == "£\n"
    assert csv_rows(out / "samples.csv")[0] == ["draw", "replications"]
    with pytest.raises(SystemExit):
        psa.main([str(folders["nested"]), "--out", str(folders["nested"] / "psa")])


# ---------------------------------------------------------------------------
# The workbook


def sheet_rows(ws):
    rows = list(ws.iter_rows(values_only=True))
    return rows[0][0], rows[1][0], list(rows[2]), [list(r) for r in rows[3:]]


def test_workbook_sheets_titles_units_and_values(folders, tmp_path):
    folder = folders["nested"]
    out = tmp_path / "book.xlsx"
    assert workbook.main([str(folder), "--out", str(out)]) == 0
    book = openpyxl.load_workbook(out)
    assert book.sheetnames == ["README", "Cost-effectiveness", "Incremental analysis", "Acceptability",
                               "Totals per arm", "Per child", "Stocks by year", "Cumulative by year", "Budget by year",
                               "Flows by year", "Parameters", "Parameter draws",
                               "Variance split", "Value of information"]
    for ws in book:
        title, source, header, rows = sheet_rows(ws)
        assert title and source.startswith("From "), ws.title
        assert all(h for h in header), ws.title
    manifest = frames.load(folder).manifest
    _, _, _, readme = sheet_rows(book["README"])
    facts = {r[0]: r[1] for r in readme}
    assert facts["girfec version"] == manifest["version"] and facts["Seed"] == "11"
    assert facts["Scenario"] == "golden-uncertainty" and facts["Replications"] == "40"
    assert set(book.sheetnames[1:]) <= set(facts)  # every sheet described

    # Cost-effectiveness: summary.csv cell for cell, numbers as numbers
    _, _, header, rows = sheet_rows(book["Cost-effectiveness"])
    assert header[:6] == ["Arm", "Comparator", "Measure", "Unit", "Willingness to pay (£ per QoL-year)",
                          "Replications (replications)"]
    csv_header, csv_body = csv_rows(folder / "summary.csv")
    sheet_columns = {"arm": 0, "comparator": 1, "measure": 2, "willingness_to_pay": 4, "replications": 5, "mean": 6,
                     "mcse": 7, "ci_low": 8, "ci_high": 9, "p2_5": 10, "p50": 11, "p97_5": 12}
    assert len(rows) == len(csv_body)
    for row, cells in zip(rows, csv_body):
        for column, j in sheet_columns.items():
            text = cells[csv_header.index(column)]
            kind = schema.SUMMARY.column(column).kind
            assert (row[j] is None) if text == "" else same(row[j], text, kind), (column, text, row[j])
            if kind != "text" and text:
                assert isinstance(row[j], (int, float)), (column, row[j])
    assert {r[3] for r in rows} >= {"£", "QoL-years", "£ per QoL-year", "share"}

    # Parameter draws: parameters.csv
    _, _, header, rows = sheet_rows(book["Parameter draws"])
    csv_header, csv_body = csv_rows(folder / "parameters.csv")
    assert header == ["Replication", "Draw"] + [f"{c} (as named)" for c in csv_header[2:]]
    assert rows == [[int(c[0]), int(c[1])] + [float(x) for x in c[2:]] for c in csv_body]

    # Totals per arm, Stocks by year: the rows of bands.csv
    bands_header, bands = csv_rows(folder / "bands.csv")
    col = {c: i for i, c in enumerate(bands_header)}
    last = max(int(r[col["step"]]) for r in bands)

    def band(arm, quantity, step, level=""):
        return next(r for r in bands if r[col["arm"]] == arm and r[col["quantity"]] == quantity
                    and int(r[col["step"]]) == step and r[col["level"]] == level)

    _, _, header, rows = sheet_rows(book["Totals per arm"])
    assert header[2] == "Discounted cost: mean (£)" and header[9] == "Discounted QoL-years: mean (QoL-years)"
    assert [r[0] for r in rows] == ["baseline", "practice", "practice − baseline"]
    for row, (arm, prefix) in zip(rows, [("baseline", ""), ("practice", ""), ("practice", "delta_")]):
        cost = band(arm, prefix + "cumulative_cost_discounted", last, "all")
        qol = band(arm, prefix + "cumulative_qol_years_discounted", last, "all")
        stats = ["mean", "mcse", "ci_low", "ci_high", "p2_5", "p50", "p97_5"]
        assert row[2:9] == [float(cost[col[s]]) for s in stats]
        assert row[9:16] == [float(qol[col[s]]) for s in stats]

    _, _, header, rows = sheet_rows(book["Stocks by year"])
    assert header[:5] == ["Arm", "Year (years)", "Level", "Replications (replications)", "Children: mean (children)"]
    assert len(rows) == 2 * 2 * 3  # arms × years 0 and 1 × (Low, High, all)
    for row in rows:
        step = int(round(row[1] * 12 / 6))
        cells = band(row[0], "stock", step, row[2])
        assert row[4] == float(cells[col["mean"]]) and row[6] == float(cells[col["ci_low"]])


def yearly_cells(folder, area="all"):
    """bands-yearly.csv's rows of all areas (or of `area`) as {(arm, quantity, level, year): {column: text}}."""
    header, body = csv_rows(folder / "bands-yearly.csv")
    return {(r[0], r[header.index("quantity")], r[header.index("level")], int(r[header.index("year")])): dict(zip(header, r))
            for r in body if r[header.index("area")] == area}


def number(text):
    return None if text == "" else float(text)


@pytest.mark.parametrize("key", ["nested", "two-arm"])
def test_workbook_yearly_sheets_are_bands_yearly_csv(folders, tmp_path, key):
    """Budget by year and Flows by year: the cells of bands-yearly.csv, each row once, for each arm, each later arm
    minus the first, each year and level (the programme's own row, and all: levels plus programme)."""
    folder = folders[key]
    out = tmp_path / "book.xlsx"
    assert workbook.main([str(folder), "--out", str(out)]) == 0
    book = openpyxl.load_workbook(out)
    cells = yearly_cells(folder)
    run = frames.load(folder)
    arms, levels = [str(a) for a in run.arms], [str(lvl) for lvl in run.levels]
    years = sorted({k[3] for k in cells})

    title, source, header, rows = sheet_rows(book["Budget by year"])
    assert title.startswith("Cost of each level and of the programme per year") and "bands-yearly.csv" in source
    assert header == ["Arm", "Year", "Start (years)", "End (years)", "Level", "Replications (replications)"] + [
        f"{name}: {label} (£ per year)" for name in ("Cost", "Discounted cost")
        for label in ("mean", "MCSE", "95% CI low", "95% CI high")]
    blocks = [(a, a, "") for a in arms] + [(f"{a} − {arms[0]}", a, "delta_") for a in arms[1:]]
    parts = [(lvl, "cost", lvl) for lvl in levels] + [("programme", "programme_cost", "all"),
                                                     ("all (levels and programme)", "cost", "all")]
    want = []
    for label, arm, prefix in blocks:
        for year in years:
            for name, quantity, level in parts:
                c, d = cells[arm, prefix + quantity, level, year], cells[arm, prefix + quantity + "_discounted",
                                                                         level, year]
                want.append([label, year, float(c["start_years"]), float(c["end_years"]), name,
                             int(c["replications"])] + [number(x[s]) for x in (c, d)
                                                        for s in ("mean", "mcse", "ci_low", "ci_high")])
    assert rows == want
    # the discounted total of a year summed over the years is the horizon total girfec wrote (to rounding)
    last = cells[arms[0], "cumulative_cost_discounted", "all", years[-1]]
    total = math.fsum(r[10] for r in rows if r[0] == arms[0] and r[4] == "all (levels and programme)")
    assert total == pytest.approx(float(last["mean"]), rel=1e-9)

    title, source, header, rows = sheet_rows(book["Flows by year"])
    assert title == "Escalations, step-downs, entries and exits per year" and "bands-yearly.csv" in source
    names = (("escalations", "Escalations"), ("step_downs", "Step-downs"), ("entries", "Entries"), ("exits", "Exits"))
    assert header == ["Arm", "Year", "Start (years)", "End (years)", "Replications (replications)"] + [
        f"{name}: {label} (children per year)" for _, name in names for label in ("mean", "95% CI low", "95% CI high")]
    want = []
    for label, arm, prefix in blocks:
        for year in years:
            c = cells[arm, prefix + "escalations", "all", year]
            want.append([label, year, float(c["start_years"]), float(c["end_years"]), int(c["replications"])]
                        + [number(cells[arm, prefix + q, "all", year][s]) for q, _ in names
                           for s in ("mean", "ci_low", "ci_high")])
    assert rows == want


def test_workbook_per_child_sheet_is_per_person_csv(folders, tmp_path):
    """Per child: per-person.csv's cells, each arm, then each later arm minus the first."""
    folder = folders["two-arm"]
    out = tmp_path / "book.xlsx"
    assert workbook.main([str(folder), "--out", str(out)]) == 0
    title, source, header, rows = sheet_rows(openpyxl.load_workbook(out)["Per child"])
    assert title.startswith("Costs and QoL-years per child") and source == "From per-person.csv"
    assert header[:3] == ["Arm", "Replications (replications)", "Children ever: mean (children)"]
    assert header[3:7] == [f"Discounted cost per child: {s} (£ per child)" for s in ("mean", "MCSE", "95% CI low",
                                                                                     "95% CI high")]
    csv_header, body = csv_rows(folder / "per-person.csv")
    cell = {(r[0], r[2]): dict(zip(csv_header, r)) for r in body}
    arms = [str(a) for a in frames.load(folder).arms]
    blocks = [(a, a, "") for a in arms] + [(f"{a} − {arms[0]}", a, "delta_") for a in arms[1:]]
    want = []
    for label, arm, prefix in blocks:
        c = cell[arm, prefix + "cost_discounted_per_child"]
        want.append([label, int(c["replications"]), float(c["children_ever"])]
                    + [number(cell[arm, prefix + m][s]) for m in ("cost_discounted_per_child",
                                                                   "qol_years_discounted_per_child", "cost_per_child",
                                                                   "qol_years_per_child", "child_years_per_child")
                       for s in ("mean", "mcse", "ci_low", "ci_high")])
    assert rows == want


def test_workbook_areas_sheet_is_bands_yearly_csv(folders, tmp_path):
    """Areas by year: each area's rows of bands-yearly.csv, cell for cell; no such sheet with one area."""
    out = tmp_path / "book.xlsx"
    assert workbook.main([str(folders["areas"]), "--out", str(out)]) == 0
    book = openpyxl.load_workbook(out)
    title, source, header, rows = sheet_rows(book["Areas by year"])
    assert title == "Each area's children, escalations, step-downs and cost per year" and "bands-yearly.csv" in source
    names = (("stock", "Children at the year's end", "children"), ("escalations", "Escalations", "children per year"),
             ("step_downs", "Step-downs", "children per year"), ("cost", "Cost", "£ per year"),
             ("cost_discounted", "Discounted cost", "£ per year"))
    assert header == ["Area", "Arm", "Year", "Replications (replications)"] + [
        f"{name}: {label} ({unit})" for _, name, unit in names for label in ("mean", "95% CI low", "95% CI high")]
    arms = [str(a) for a in frames.load(folders["areas"]).arms]
    blocks = [(a, a, "") for a in arms] + [(f"{a} − {arms[0]}", a, "delta_") for a in arms[1:]]
    want = []
    for area in ("north", "south"):
        cells = yearly_cells(folders["areas"], area)
        assert not any(k[1].endswith("programme_cost") for k in cells)  # authority-wide: no area rows
        for label, arm, prefix in blocks:
            for year in sorted({k[3] for k in cells}):
                c = cells[arm, prefix + "cost", "all", year]
                want.append([area, label, year, int(c["replications"])]
                            + [number(cells[arm, prefix + q, "all", year][s]) for q, _, _ in names
                               for s in ("mean", "ci_low", "ci_high")])
    assert rows == want
    assert workbook.main([str(folders["two-arm"]), "--out", str(tmp_path / "one.xlsx")]) == 0
    assert "Areas by year" not in openpyxl.load_workbook(tmp_path / "one.xlsx").sheetnames


def test_workbook_of_a_fixed_parameter_run_and_its_default_place(folders):
    folder = folders["two-arm"]
    target = Path(str(folder) + ".xlsx")
    result = subprocess.run([sys.executable, "-m", "girfec_py.workbook", str(folder)], capture_output=True, text=True,
                            cwd=ROOT / "scripts", timeout=300)
    assert result.returncode == 0, result.stderr
    assert target.is_file() and not any(n.endswith(".xlsx") for n in os.listdir(folder))
    book = openpyxl.load_workbook(target)
    assert "Parameter draws" not in book.sheetnames and "Value of information" not in book.sheetnames
    title, _, _, rows = sheet_rows(book["Parameters"])
    assert "no parameter uncertainty" in title and rows[0][0] == "two-arm.yaml"
    refused = subprocess.run([sys.executable, "-m", "girfec_py.workbook", str(folder), "--out",
                              str(folder / "book.xlsx")], capture_output=True, text=True, cwd=ROOT / "scripts")
    assert refused.returncode == 2 and "inside the run folder" in refused.stderr


# ---------------------------------------------------------------------------
# pip install


def test_pip_installs_the_package(tmp_path):
    """`pip install ./scripts` (here a copy of its pyproject.toml and package, so the repository stays clean)."""
    if subprocess.run([sys.executable, "-m", "pip", "--version"], capture_output=True).returncode != 0:
        pytest.skip(f"{sys.executable} has no pip")
    source = tmp_path / "scripts"
    source.mkdir()
    shutil.copy(ROOT / "scripts/pyproject.toml", source)
    shutil.copytree(ROOT / "scripts/girfec_py", source / "girfec_py",
                    ignore=shutil.ignore_patterns("__pycache__"))
    target = tmp_path / "site"
    result = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(target),
                             str(source)], capture_output=True, text=True, timeout=600)
    if result.returncode != 0 and "No matching distribution found for setuptools" in result.stderr:
        pytest.skip("pip cannot fetch setuptools to build the package (no network to PyPI)")
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in (target / "girfec_py").glob("*.py")) == sorted(
        p.name for p in (ROOT / "scripts/girfec_py").glob("*.py"))
    probe = ("import girfec_py, girfec_py.frames, girfec_py.psa, girfec_py.workbook; "
             "print(girfec_py.__file__); print(girfec_py.load is girfec_py.frames.load)")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["PYTHONPATH"] = str(target)
    imported = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=tmp_path, env=env)
    assert imported.returncode == 0, imported.stderr
    assert imported.stdout.split() == [str(target / "girfec_py/__init__.py"), "True"]


# ---------------------------------------------------------------------------
# The R reader


def test_r_reader_declares_the_schemas_columns():
    text = (ROOT / "scripts/girfec.R").read_text(encoding="utf-8")
    begin = text.index('girfec_columns <- utils::read.csv(text = r"(') + len('girfec_columns <- utils::read.csv(text = r"(')
    end = text.index(')", colClasses', begin)
    assert text[begin:end] == frames.schema_csv(), \
        "scripts/girfec.R's girfec_columns differs from schema.py: paste girfec_py.frames.schema_csv() between the markers"


def rscript():
    found = shutil.which("Rscript")
    if found is None:
        message = "Rscript not found (Debian: apt-get install r-base-core)"
        if os.environ.get("GIRFEC_REQUIRE_R") == "1":
            pytest.fail(message + "; GIRFEC_REQUIRE_R=1 requires it")
        pytest.skip(message)
    return found


def r_value(text):
    return math.nan if text == "NA" else text


@pytest.mark.parametrize("key", FOLDERS)
def test_r_reader(folders, key, tmp_path):
    dump = tmp_path / "dump"
    result = subprocess.run([rscript(), str(ROOT / "scripts/tests/test_girfec_reader.R"), str(folders[key]),
                             str(dump)], capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, f"{result.stdout}\n{result.stderr}"
    assert "every check passed" in result.stdout
    # R's values, every digit, against the CSV cells as Python reads them
    run = frames.load(folders[key])
    for name in run.tables:
        header, rows = csv_rows(folders[key] / name)
        r_header, r_rows = csv_rows(dump / name)
        assert r_header == header and len(r_rows) == len(rows), name
        spec = schema.for_file(name)
        for j, column in enumerate(header):
            kind = frames._column_for(spec, column).kind
            for i, (row, r_row) in enumerate(zip(rows, r_rows)):
                text, got = row[j].strip(), r_row[j]
                if text == "":
                    assert got == "NA", (name, column, i)
                elif kind == "number":
                    assert float(got) == float(text), (name, column, i + 2, text, got)
                elif kind == "int":
                    assert int(got) == int(text), (name, column, i + 2)
                elif kind == "bool":
                    assert got == ("TRUE" if text == "true" else "FALSE"), (name, column, i + 2)
                else:
                    assert got == text, (name, column, i + 2)
    # R's PSA against Python's: the same strategies, samples and values (draw means to a relative 1e-12)
    p = psa.make_psa(run)
    lines = (dump / "psa-strategies.txt").read_text(encoding="utf-8").split("\n")
    assert lines[0] == p.sample and lines[1:1 + len(p.strategies)] == p.strategies
    parts = [("psa-cost.csv", p.cost), ("psa-effectiveness.csv", p.effectiveness)]
    if p.parameters is not None:
        parts.append(("psa-parameters.csv", p.parameters))
    else:
        assert not (dump / "psa-parameters.csv").exists()
    for name, frame in parts:
        header, rows = csv_rows(dump / name)
        assert header == list(frame.columns), name
        got = [[float(c) for c in r] for r in rows]
        expected = frame.to_numpy().tolist()
        assert len(got) == len(expected), name
        for g, e in zip(got, expected):
            assert g == pytest.approx(e, rel=1e-12, abs=0), name
