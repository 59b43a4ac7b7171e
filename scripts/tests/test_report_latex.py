"""`girfec report`'s report.tex compiles to PDF with Debian's TeX packages and fits its pages.

Compiles the golden reports (Tests/ReportsTests/Golden: fixed parameters, and parameter
uncertainty with every table) and the report of a scenario whose names hold LaTeX's special
characters and characters pdflatex cannot set. Checks: pdflatex exits 0; no overfull box
wider than 1 pt (a table or line running into the margin); every table and section of the
source is in the PDF's text; every page has ink. The pages are written as PNG files to
$GIRFEC_TEST_ARTIFACTS (or the test's temporary folder) to be looked at.

Needs pdflatex (texlive-latex-recommended, lmodern) and pdftoppm/pdftotext (poppler-utils):
scripts/test.sh installs them and sets GIRFEC_REQUIRE_LATEX=1, so there a missing TeX fails;
elsewhere the tests are skipped without it.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from girfec_build import ROOT, girfec_binary

GOLDEN = ROOT / "Tests" / "ReportsTests" / "Golden"
TOOLS = ["pdflatex", "pdftoppm", "pdftotext"]

missing = [t for t in TOOLS if shutil.which(t) is None]
if missing:
    if os.environ.get("GIRFEC_REQUIRE_LATEX") == "1":
        raise RuntimeError(f"GIRFEC_REQUIRE_LATEX=1 but {', '.join(missing)} not found: "
                           "apt-get install texlive-latex-recommended lmodern poppler-utils")
    pytest.skip(f"{', '.join(missing)} not installed", allow_module_level=True)


def compile_report(folder: Path, artifacts: Path) -> tuple[str, str]:
    """pdflatex report.tex twice in `folder`; returns (log, text of the PDF); pages to `artifacts`."""
    for _ in range(2):
        run = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "report.tex"],
                             cwd=folder, capture_output=True, text=True, errors="replace", timeout=120)
        assert run.returncode == 0, f"pdflatex failed in {folder}:\n{run.stdout[-3000:]}"
    log = (folder / "report.log").read_text(errors="replace")
    text = subprocess.run(["pdftotext", "-layout", "report.pdf", "-"], cwd=folder, check=True,
                          capture_output=True, text=True).stdout
    artifacts.mkdir(parents=True, exist_ok=True)
    subprocess.run(["pdftoppm", "-png", "-r", "60", "report.pdf", str(artifacts / "page")], cwd=folder, check=True)
    return log, text


def check_pdf(tex: str, log: str, text: str, pages: Path) -> None:
    overfull = [float(m) for m in re.findall(r"Overfull \\hbox \(([0-9.]+)pt too wide\)", log)]
    assert all(w <= 1.0 for w in overfull), f"overfull boxes (pt): {overfull}"
    assert "Missing character" not in log
    flat = re.sub(r"\s+", " ", text)
    captions = [c for c in re.findall(r"\\caption\{([^}\\$]*)", tex) if c.strip()]
    tables = tex.count("\\begin{longtable}")
    assert tables >= 3
    for k in range(1, tables + 1):
        assert f"Table {k}:" in flat, f"table {k} of {tables} is not in the PDF"
    unquoted = re.sub(r"\s+", " ", re.sub(r"[’‘'`]", " ", flat))
    for caption in captions:
        words = []
        for w in caption.replace("'", " ").split()[:3]:
            if not w.isascii():
                break
            words.append(w)
        assert " ".join(words) in unquoted, f"caption '{caption}' is not in the PDF"
    sections = re.findall(r"\\section\{([^}\\]*)\}", tex)
    for k, title in enumerate(sections, start=1):
        assert re.search(rf"{k} {re.escape(title.split()[0])}", flat), f"section {k} '{title}' is not in the PDF"
    pngs = sorted(pages.glob("page-*.png"))
    assert pngs, "no pages"
    for png in pngs:
        assert png.stat().st_size > 2000, f"{png} looks blank"


def artifact_folder(tmp_path: Path, name: str) -> Path:
    base = os.environ.get("GIRFEC_TEST_ARTIFACTS")
    return (Path(base) / "report-latex" / name) if base else tmp_path / "pages"


@pytest.mark.parametrize("case", ["two-arm", "uncertainty"])
def test_golden_report_compiles_and_fits(tmp_path: Path, case: str) -> None:
    folder = tmp_path / case
    folder.mkdir()
    shutil.copy(GOLDEN / case / "report.tex", folder / "report.tex")
    tex = (folder / "report.tex").read_text()
    log, text = compile_report(folder, artifact_folder(tmp_path, case))
    check_pdf(tex, log, text, artifact_folder(tmp_path, case))
    if case == "uncertainty":
        # Parameter uncertainty: the variance split, the parameters' importance and the value of information.
        for caption in ["Share of variance due to parameter uncertainty", "Main-effect shares of the parameters",
                        "Expected value of perfect and partial perfect information"]:
            assert caption in re.sub(r"\s+", " ", text)


HOSTILE_NAME = r"Ünïcödé 中文 😀 \end{document} % $ & # _ { } ~ ^ \ `tick` ł ß"


def test_report_of_hostile_names_compiles(tmp_path: Path) -> None:
    """Names with LaTeX's special characters, CJK and an emoji: escaped, or shown as code points."""
    scenario = (GOLDEN / "two-arm" / "scenario.yaml").read_text()
    level = "Lów & <1> 中"
    scenario = scenario.replace("name: golden-two-arm", "name: " + '"' + HOSTILE_NAME.replace("\\", "\\\\") + '"')
    scenario = re.sub(r"\bLow\b", f'"{level}"', scenario)
    (tmp_path / "hostile.yaml").write_text(scenario)
    girfec = girfec_binary()
    run = subprocess.run([girfec, "run", "hostile.yaml", "--replications", "4", "--seed", "1", "--out", "run", "--quiet"],
                         cwd=tmp_path, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    report = subprocess.run([girfec, "report", "run", "--quiet"], cwd=tmp_path, capture_output=True, text=True)
    assert report.returncode == 0, report.stderr
    assert report.stdout == "", "--quiet prints nothing"
    folder = tmp_path / "run"
    tex = (folder / "report.tex").read_text()
    assert "[U+4E2D]" in tex and "[U+1F600]" in tex
    log, text = compile_report(folder, artifact_folder(tmp_path, "hostile"))
    check_pdf(tex, log, text, artifact_folder(tmp_path, "hostile"))
    flat = re.sub(r"\s+", " ", text)
    assert r"\end{document} % $ & # _ { }" in flat, "the special characters are printed, not obeyed"
    assert "Lów & <1> [U+4E2D]" in flat


def test_sensitivity_report_compiles_and_fits(tmp_path: Path) -> None:
    """A `girfec sensitivity` folder's report: one-way, two-way and sweep tables fit the page."""
    shutil.copy(GOLDEN / "two-arm" / "scenario.yaml", tmp_path / "two-arm.yaml")
    (tmp_path / "experiment.yaml").write_text("""scenario: two-arm.yaml
seed: 2
replications: 4
oneWay:
  costOfTheHighLevelPerChildYear: {path: levels.High.costPerChildYear, low: 5000, high: 20000}
  escalationEffectOfThePractice: {path: arms.practice.practice.relational.escalationEffect, low: 0.1, high: 0.5}
twoWay:
  effects:
    x: {path: arms.practice.practice.relational.escalationEffect, values: [0.1, 0.3]}
    y: {path: arms.practice.practice.relational.stepDownEffect, values: [0.2, 0.4]}
sweeps:
  programme: {path: arms.practice.programme.costPerYear, from: 0, to: 100000, count: 3}
""")
    girfec = girfec_binary()
    run = subprocess.run([girfec, "sensitivity", "experiment.yaml", "--out", "sens", "--quiet"], cwd=tmp_path,
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    report = subprocess.run([girfec, "report", "sens", "--quiet"], cwd=tmp_path, capture_output=True, text=True)
    assert report.returncode == 0, report.stderr
    folder = tmp_path / "sens"
    tex = (folder / "report.tex").read_text()
    log, text = compile_report(folder, artifact_folder(tmp_path, "sensitivity"))
    check_pdf(tex, log, text, artifact_folder(tmp_path, "sensitivity"))
    for title in ["One-way analyses", "Two-way analyses", "Sweeps"]:
        assert title in text
