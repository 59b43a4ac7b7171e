"""The output schema (scripts/girfec_py/schema.py) against the docs and against what girfec writes.

(a) Every column the schema declares is documented, and every documented
    column is declared: docs/outputs.md and docs/sensitivity.md describe a
    file in a section `## \\`NAME.csv\\``, with tables whose first header cell
    is `column` and whose rows name columns in backticks in the first cell;
    docs/calibration.md lists each file's columns in the `columns` cell of
    its outputs table.
(b) girfec's real outputs (small scenarios covering every optional file:
    two arms with parameter uncertainty, `sensitivity`, `calibrate` from
    stocks, flows and panel data, `aggregate`, `report`) have exactly the
    declared headers, and every cell reads as its declared kind.
"""
import csv
import json
import os
import re
import subprocess
from pathlib import Path

import pytest

from girfec_build import ROOT, girfec_binary
from girfec_py import runfolder, schema

SECTION = re.compile(r"^## `([^`]+\.(?:csv|json))`")
SPAN = re.compile(r"`([^`]+)`")


def cells(line):
    return [c.strip() for c in line.strip().strip("|").split("|")]


def documented_columns(doc):
    """{file name: [column names]} as a doc's tables give them (see the module docstring)."""
    lines = (ROOT / doc).read_text(encoding="utf-8").splitlines()
    found = {}
    if doc == "docs/calibration.md":
        start = lines.index("## 7. Outputs")
        header = next(i for i in range(start, len(lines)) if lines[i].startswith("| file | columns |"))
        for line in lines[header + 2:]:
            if not line.startswith("|"):
                break
            name_cell, columns_cell = cells(line)[:2]
            name = SPAN.findall(name_cell)[0]
            if name.endswith(".csv"):
                found[name] = [c.strip() for span in SPAN.findall(columns_cell) for c in span.split(",")]
        return found
    current, in_table = None, False
    for line in lines:
        m = SECTION.match(line)
        if m:
            current = m.group(1)
            found.setdefault(current, [])
            continue
        if line.startswith("## "):
            current = None
        if current is None or not line.startswith("|"):
            in_table = False
            continue
        first = cells(line)[0]
        if first in ("column", "key"):
            in_table = True
        elif in_table and not set(first) <= set("-: "):
            names = SPAN.findall(first)
            # `scenario.name`, `arms`: a name without a dot is a member of the same parent as the first
            parent = names[0].rsplit(".", 1)[0] + "." if "." in names[0] else ""
            found[current] += [names[0]] + [n if "." in n else parent + n for n in names[1:]]
    return found


DOCS = sorted({f.doc for f in schema.FILES.values()})


@pytest.mark.parametrize("doc", DOCS)
def test_schema_matches_docs(doc):
    documented = documented_columns(doc)
    declared = {f.name: f.names for f in schema.FILES.values() if f.doc == doc}
    declared.update({f.name: list(f.keys) for f in schema.JSON_FILES.values() if f.doc == doc})
    assert sorted(documented) == sorted(declared), f"{doc}: files documented vs declared"
    problems = []
    for name, columns in declared.items():
        missing = [c for c in columns if c not in documented[name]]
        extra = [c for c in documented[name] if c not in columns]
        if missing:
            problems.append(f"{name}: declared in schema.py but not in {doc}: {', '.join(missing)}")
        if extra:
            problems.append(f"{name}: documented in {doc} but not declared in schema.py: {', '.join(extra)}")
    assert not problems, "\n".join(problems)


def test_header_matching():
    """Repeated columns match one or more header cells; a missing, extra or moved column is named."""
    rep = schema.REPLICATIONS
    header = [c.name for c in rep.columns if not c.repeated]
    at = header.index("delta_cost_discounted")
    with_levels = header[:at] + ["final_stock_A", "final_stock_B, with a comma"] + header[at:]
    assert rep.header_problem(with_levels) is None
    assert "final_stock_LEVEL" in rep.header_problem(header)  # no level at all: the declared order is quoted
    assert "missing cost" in rep.header_problem([c for c in with_levels if c != "cost"])
    assert "undeclared extra" in rep.header_problem(with_levels + ["extra"])
    assert "another order" in rep.header_problem([with_levels[1], with_levels[0]] + with_levels[2:])
    assert schema.for_file("draws-Dundee.csv") is schema.DRAWS
    with pytest.raises(KeyError, match="not an output file"):
        schema.for_file("bands.tsv")


# ---------------------------------------------------------------------------
# (b) what girfec writes

UNCERTAIN_ARMS = """
uncertainty:
  parameters:
    costSick:
      path: levels.Sick.costPerChildYear
      distribution: gamma
      sd: 800
      source: "Test: assumed."
    qolSick:
      path: levels.Sick.qolWeight
      distribution: beta
      sd: 0.05
      source: "Test: assumed."
"""

EXPERIMENT = """
scenario: scenario.yaml
seed: 5
replications: 3
willingnessToPay: [20000]
oneWay:
  costSick: {path: levels.Sick.costPerChildYear, low: 3000, high: 5000}
twoWay:
  grid:
    x: {path: levels.Sick.costPerChildYear, values: [3000, 5000]}
    y: {path: levels.Sick.qolWeight, values: [0.5, 0.7]}
sweeps:
  qol:
    path: levels.Sick.qolWeight
    from: 0.5
    to: 0.7
    count: 3
"""


def girfec(*args, cwd=None):
    result = subprocess.run([girfec_binary(), *map(str, args)], capture_output=True, text=True, timeout=600,
                            cwd=cwd)
    assert result.returncode == 0, f"girfec {' '.join(map(str, args))}:\n{result.stderr}"
    return result


@pytest.fixture(scope="module")
def outputs(tmp_path_factory):
    """Output folders of every girfec command that writes CSV files, with their CSV file names."""
    work = tmp_path_factory.mktemp("outputs")
    markov = (ROOT / "experiments/examples/health-economics-markov.yaml").read_text(encoding="utf-8")
    (work / "scenario.yaml").write_text(markov + UNCERTAIN_ARMS, encoding="utf-8")
    (work / "experiment.yaml").write_text(EXPERIMENT, encoding="utf-8")
    folders = {}
    # 80 draws of 2 replications: enough for EVPPI and main-effect shares of single parameters
    girfec("run", work / "scenario.yaml", "--replications", 160, "--replications-per-draw", 2, "--seed", 3,
           "--out", work / "run")
    folders["run"] = work / "run"
    girfec("report", work / "run")
    girfec("run", ROOT / "experiments/examples/minimal.yaml", "--replications", 3, "--seed", 3,
           "--out", work / "one-arm")
    folders["one-arm"] = work / "one-arm"
    girfec("aggregate", work / "scenario.yaml", "--out", work / "aggregate")
    folders["aggregate"] = work / "aggregate"
    girfec("sensitivity", work / "experiment.yaml", "--out", work / "sensitivity")
    folders["sensitivity"] = work / "sensitivity"
    for estimator in ("stocks", "flows", "panel"):
        config = ROOT / f"calibration/synthetic/identified/calibrate-{estimator}.yaml"
        girfec("calibrate", config, "--out", work / f"calibrate-{estimator}")
        folders[f"calibrate-{estimator}"] = work / f"calibrate-{estimator}"
    return folders


EXPECTED_FILES = {
    "run": {"bands.csv", "replications.csv", "bands-yearly.csv", "replications-yearly.csv", "aggregate.csv", "comparison.csv",
            "summary.csv", "parameters.csv", "uncertainty.csv", "voi.csv", "importance.csv", "incremental.csv",
            "acceptability.csv", "per-person.csv"},
    "one-arm": {"bands.csv", "replications.csv", "bands-yearly.csv", "replications-yearly.csv", "aggregate.csv",
                "comparison.csv", "summary.csv", "per-person.csv"},
    "aggregate": {"aggregate.csv"},
    "sensitivity": {"sensitivity.csv"},
    "calibrate-stocks": {"estimates.csv", "draws.csv", "fit.csv", "identifiability.csv", "profile.csv", "posterior.csv",
                         "convergence.csv", "ppc.csv", "model-comparison.csv"},
    "calibrate-flows": {"estimates.csv", "draws.csv"},
    "calibrate-panel": {"estimates.csv", "draws.csv"},
}


def test_every_declared_file_is_written(outputs):
    written = {name for folder in outputs.values() for name in os.listdir(folder) if name.endswith(".csv")}
    assert written == set(schema.FILES), "files written vs declared"
    for key, folder in outputs.items():
        assert {n for n in os.listdir(folder) if n.endswith(".csv")} == EXPECTED_FILES[key], key


@pytest.mark.parametrize("key", sorted(EXPECTED_FILES))
def test_headers_and_cells_match_schema(outputs, key):
    problems = []
    for name in sorted(EXPECTED_FILES[key]):
        path = outputs[key] / name
        spec = schema.for_file(name)
        with open(path, newline="", encoding="utf-8") as f:
            header = next(csv.reader(f))
        problem = spec.header_problem(header)
        if problem:
            problems.append(f"{path}: {problem}")
            continue
        rows = runfolder.read_table(str(path), spec, allow_empty=True)  # every cell as its declared kind
        if not (key == "one-arm" and name == "summary.csv"):  # one arm: no cost-effectiveness, header only
            assert rows, f"{path}: no rows"
        repeated = [c for c in spec.columns if c.repeated]
        for c in repeated:  # repeated columns are read as their kind too
            kinds = [h for h in header if re.fullmatch(c.pattern, h) and h not in spec.names]
            with open(path, newline="", encoding="utf-8") as f:
                for line, raw in enumerate(csv.DictReader(f), start=2):
                    for h in kinds:
                        runfolder.cell(raw[h], c, str(path), line)
    assert not problems, "\n".join(problems)


def test_report_writes_no_csv(outputs):
    """`girfec report` adds report.md, report.tex and report-tables.tex, no CSV file the schema would have to declare."""
    names = set(os.listdir(outputs["run"]))
    assert {"report.md", "report.tex", "report-tables.tex"} <= names
    assert {n for n in names if n.endswith(".csv")} == EXPECTED_FILES["run"]


@pytest.mark.parametrize("key", ["run", "one-arm"])
def test_json_keys_match_schema(outputs, key):
    """manifest.json and summary.json of a run folder have exactly the declared keys."""
    for spec in schema.JSON_FILES.values():
        path = outputs[key] / spec.name
        value = json.loads(path.read_text(encoding="utf-8"))
        found = schema.json_keys(value, spec.parents())
        required = set(spec.keys) - set(spec.optional)
        assert required <= found <= set(spec.keys), (f"{path}: undeclared {sorted(found - set(spec.keys))}, "
                                                     f"absent {sorted(required - found)}")
    if key == "run":  # two arms: the arm-difference keys are there too
        value = json.loads((outputs[key] / "summary.json").read_text(encoding="utf-8"))
        assert set(schema.SUMMARY_JSON.optional) <= schema.json_keys(value, schema.SUMMARY_JSON.parents())


def test_manifests_have_the_format(outputs):
    for key, folder in outputs.items():
        runfolder.read_manifest(str(Path(folder) / "manifest.json"), scenario=key in ("run", "one-arm"))
