"""Tests for scripts/girfec_py/runfolder.py: typed cells and the errors that name the place."""
import json
import math

import pytest

from girfec_py import runfolder, schema
from girfec_py.runfolder import OutputError


def write(path, text):
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_manifest_format_is_checked(tmp_path):
    good = {"format": runfolder.FORMAT, "scenario": {"name": "x"}}
    assert runfolder.read_manifest(write(tmp_path / "m.json", json.dumps(good)))["scenario"] == {"name": "x"}
    with pytest.raises(OutputError, match=r"m\.json: found no key 'format'; expected \"format\": "
                                          r"\"girfec-output-folder/1\""):
        runfolder.read_manifest(write(tmp_path / "m.json", json.dumps({"scenario": {}})))
    with pytest.raises(OutputError, match=r"found format 'other/2'"):
        runfolder.read_manifest(write(tmp_path / "m.json", json.dumps({"format": "other/2", "scenario": {}})))
    with pytest.raises(OutputError, match="missing key 'scenario'"):
        runfolder.read_manifest(write(tmp_path / "m.json", json.dumps({"format": runfolder.FORMAT})))
    # folders of `girfec sensitivity` and `calibrate` have no scenario object
    assert runfolder.read_manifest(write(tmp_path / "m.json", json.dumps({"format": runfolder.FORMAT})),
                                   scenario=False)
    with pytest.raises(OutputError, match="found a JSON list; expected an object"):
        runfolder.read_manifest(write(tmp_path / "m.json", "[]"))
    with pytest.raises(OutputError, match="not valid JSON"):
        runfolder.read_manifest(write(tmp_path / "m.json", "{"))
    with pytest.raises(OutputError, match="file not found"):
        runfolder.read_manifest(str(tmp_path / "absent.json"))


def test_cells_are_read_as_their_kind(tmp_path):
    header = ",".join(schema.COMPARISON.names)
    row = "a,3,0.25,stock,L,,,10,1,9,11,8,12,11,1,0.1,inf,true,base case"
    rows = runfolder.read_table(write(tmp_path / "comparison.csv", f"{header}\n{row}\n"), schema.COMPARISON)
    r = rows[0]
    assert (r["arm"], r["step"], r["time_years"], r["level"], r["from_level"]) == ("a", 3, 0.25, "L", "")
    assert math.isinf(r["z"]) and r["aggregate_in_ci"] is True and (r["_row"], r["_line"]) == (1, 2)


@pytest.mark.parametrize("column, text, words", [
    ("step", "2.5", "column 'step': found '2.5'; expected a whole number ≥ 0"),
    ("step", "-1", "column 'step': found '-1'; expected a whole number ≥ 0"),
    ("arm", "", "column 'arm': empty; expected a value"),
    ("agent_mcse", "lots", "column 'agent_mcse': found 'lots'; expected a number"),
    ("aggregate", "inf", "column 'aggregate': found 'inf'; expected a finite number"),
    ("aggregate_in_ci", "yes", "column 'aggregate_in_ci': found 'yes'; expected true or false"),
])
def test_a_bad_cell_is_named(tmp_path, column, text, words):
    names = schema.COMPARISON.names
    cells = "a,3,0.25,stock,L,,,10,1,9,11,8,12,11,1,0.1,1,true,base case".split(",")
    cells[names.index(column)] = text
    path = write(tmp_path / "comparison.csv", ",".join(names) + "\n" + "a,1,0,stock,L,,,1,1,1,1,1,1,1,0,0,0,true,base case\n"
                 + ",".join(cells) + "\n")
    with pytest.raises(OutputError) as e:
        runfolder.read_table(path, schema.COMPARISON)
    assert str(e.value) == f"{path}, line 3 (data row 2), {words}"


def test_table_problems_are_named(tmp_path):
    with pytest.raises(OutputError, match=r"fit\.csv, line 1 \(header\): missing column\(s\) observed, fitted_high"):
        runfolder.read_table(write(tmp_path / "fit.csv", "date,time_years,area,level,fitted,fitted_low\n"),
                             schema.FIT)
    header = ",".join(schema.VOI.names)
    with pytest.raises(OutputError, match=r"voi\.csv, line 2 \(data row 1\): 8 cells; expected 7"):
        runfolder.read_table(write(tmp_path / "voi.csv", f"{header}\nevpi,,,0,10,0,a,extra\n"), schema.VOI)
    with pytest.raises(OutputError, match=r"voi\.csv: no data rows"):
        runfolder.read_table(write(tmp_path / "voi.csv", f"{header}\n"), schema.VOI)
    assert runfolder.read_table(str(tmp_path / "voi.csv"), schema.VOI, allow_empty=True) == []
    with pytest.raises(OutputError, match=r"empty file \(no header row\)"):
        runfolder.read_table(write(tmp_path / "voi.csv", ""), schema.VOI)
    with pytest.raises(KeyError, match="voi.csv has no column 'valeu'"):
        runfolder.read_table(str(tmp_path / "voi.csv"), schema.VOI, ["valeu"])
    # a date column
    fit_header = ",".join(schema.FIT.names)
    rows = runfolder.read_table(write(tmp_path / "fit.csv", f"{fit_header}\n2017-07-31,2,all,L,1,1,,\n,3,all,L,,2,,\n"),
                                schema.FIT)
    assert str(rows[0]["date"]) == "2017-07-31" and rows[1]["date"] is None and math.isnan(rows[1]["observed"])


def test_a_quoted_line_feed_keeps_lines_and_rows_apart(tmp_path):
    """A cell holding a line feed (quoted, docs/outputs.md) makes a record span two lines: rows and lines differ."""
    header = ",".join(schema.VOI.names)
    path = write(tmp_path / "voi.csv", f'{header}\nevppi,"two\nlines",a,0,10,0,x\nevpi,,,0,10,lots,x\n')
    with pytest.raises(OutputError) as e:
        runfolder.read_table(path, schema.VOI)
    assert str(e.value) == f"{path}, line 4 (data row 2), column 'value': found 'lots'; expected a number"
