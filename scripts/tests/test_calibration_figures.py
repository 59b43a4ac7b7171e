"""Tests for scripts/calibration_figures.py: run it on small synthetic calibration output folders.

Run from the repository root: python3 -m pytest scripts/tests -q
Needs matplotlib (scripts/install-python-deps.sh) and pytest.
"""
import csv
import importlib.util
import math
import os
import struct
import subprocess
import sys

import pytest

SCRIPT = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "calibration_figures.py")

sys.dont_write_bytecode = True  # no scripts/__pycache__ from importing the script
_spec = importlib.util.spec_from_file_location("calibration_figures", SCRIPT)
cf = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(cf)

pytest.importorskip("matplotlib")

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
FIT_HEADER = ["date", "time_years", "area", "level", "observed", "fitted", "fitted_low", "fitted_high"]
ESTIMATES_HEADER = ["area", "from_level", "to_level", "rate_per_year", "rate_low", "rate_high", "se_log_rate", "method",
                    "identified"]
IDENTIFIABILITY_HEADER = ["parameter", "prior_sd_log", "posterior_sd_log", "contraction", "profile_low", "profile_high",
                          "profile_closed_low", "profile_closed_high", "verdict", "max_abs_correlation",
                          "most_correlated_with"]
LEVELS = ["Universal", "Additional", "Intensive", "Compulsory"]


# ---------------------------------------------------------------------------
# Synthetic calibration folders


def write_csv(path, header, rows):
    with open(path, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(header)
        w.writerows(rows)


def fit_rows(areas=("target", "rest"), years=8, band=True, dates=True):
    rows = []
    for a, area in enumerate(areas):
        for i, level in enumerate(LEVELS):
            base = 10000 / (i + 1) ** 2 / (a + 1)
            for t in range(years):
                fitted = base * (1 + 0.03 * t * (1 if i else -1))
                observed = fitted * (1 + 0.02 * math.sin(3 * t + i))
                low, high = (fitted * 0.95, fitted * 1.05) if band else ("", "")
                date = f"{2017 + t}-07-31" if dates else ""
                rows.append([date, t, area, level, round(observed), fitted, low, high])
    return rows


def estimates_rows():
    return [
        ["target", "Universal", "Additional", 0.042, 0.038, 0.047, "", "flows", "identified"],
        ["target", "Additional", "Universal", 0.28, 0.2, 0.35, "", "flows", "weak"],
        ["target", "Additional", "Intensive", 0.05, 0.01, 0.4, "", "stocks", "not identified"],
        ["target", "Intensive", "Universal", 0.0, 0.0, 0.02, 0.5, "panel", ""],  # a zero rate: drawn at the edge
        ["rest", "Universal", "Additional", 0.05, "", "", "", "panel", "weakly identified"],  # no interval
        ["rest", "Compulsory", "exit", 0.075, 0.07, 0.08, "", "flows", "identified"],
    ]


def identifiability_rows():
    return [
        ["Universal→Additional", 1.0, 0.1, 0.99, 0.05, 0.07, "true", "true", "identified", 0.3, "Additional→Universal"],
        ["Additional→Universal", 1.0, 0.7, 0.51, 0.2, 0.9, "true", "false", "weakly identified", 0.95,
         "Universal→Additional"],
        ["Additional→Intensive", 1.0, 0.95, 0.1, 0.01, 0.7, "false", "false", "not identified", "", ""],
        ["Intensive→Additional", 1.0, 1.2, -0.44, 0.01, 0.7, "false", "false", "not identified", 0.97,
         "Additional→Intensive"],
    ]


PPC_HEADER = ["date", "time_years", "level", "observed", "predictive_mean", "predictive_q2_5", "predictive_q97_5",
              "inside"]


def ppc_rows():
    rows = []
    for t in range(4):
        date = f"{2017 + t}-07-31"
        rows.append([date, t, "Universal", 9000 - 100 * t, 9010 - 95 * t, 8700 - 95 * t, 9300 - 95 * t, "true"])
        observed = 640 if t == 3 else 500 + 20 * t  # the last one above its interval (510–620)
        rows.append([date, t, "Additional", observed, 505 + 20 * t, 450 + 20 * t, 560 + 20 * t,
                     "false" if t == 3 else "true"])
    return rows


def make_folder(folder, fit=True, estimates=True, identifiability=True, ppc=True, **fit_options):
    os.makedirs(folder, exist_ok=True)
    if fit:
        write_csv(os.path.join(folder, "fit.csv"), FIT_HEADER, fit_rows(**fit_options))
    if estimates:
        write_csv(os.path.join(folder, "estimates.csv"), ESTIMATES_HEADER, estimates_rows())
    if identifiability:
        write_csv(os.path.join(folder, "identifiability.csv"), IDENTIFIABILITY_HEADER, identifiability_rows())
    if ppc:
        write_csv(os.path.join(folder, "ppc.csv"), PPC_HEADER, ppc_rows())
    return folder


def run_script(*args):
    return subprocess.run([sys.executable, SCRIPT, *map(str, args)], capture_output=True, text=True, timeout=300)


def check_png(path):
    with open(path, "rb") as f:
        data = f.read()
    assert data[:8] == PNG_MAGIC, f"{path}: not a PNG"
    assert data[12:16] == b"IHDR", f"{path}: no IHDR chunk"
    width, height = struct.unpack(">II", data[16:24])
    assert width > 200 and height > 200, f"{path}: {width}x{height}"
    assert b"IEND" in data[-12:], f"{path}: truncated (no IEND)"


# ---------------------------------------------------------------------------
# Whole folders


def test_all_four_figures(tmp_path):
    folder = make_folder(tmp_path / "cal")
    result = run_script(folder)
    assert result.returncode == 0, result.stderr
    for name in ("fit", "estimates", "identifiability", "ppc"):
        check_png(folder / "figures" / f"{name}.png")
    printed = result.stdout.split()
    assert len(printed) == 4 and all(os.path.isfile(p) for p in printed)
    assert "note" not in result.stderr


def test_out_and_formats(tmp_path):
    folder = make_folder(tmp_path / "cal")
    out = tmp_path / "figs"
    result = run_script(folder, "--out", out, "--format", "png,pdf")
    assert result.returncode == 0, result.stderr
    for name in ("fit", "estimates", "identifiability"):
        check_png(out / f"{name}.png")
        assert (out / f"{name}.pdf").read_bytes()[:5] == b"%PDF-"
    assert not (folder / "figures").exists()


def test_missing_files_are_skipped(tmp_path):
    folder = make_folder(tmp_path / "cal", fit=False, identifiability=False)
    result = run_script(folder)
    assert result.returncode == 0, result.stderr
    check_png(folder / "figures" / "estimates.png")
    assert not (folder / "figures" / "fit.png").exists()
    assert not (folder / "figures" / "identifiability.png").exists()
    assert "fit.csv not found" in result.stderr and "identifiability.csv not found" in result.stderr


def test_fit_without_band_or_dates_one_area(tmp_path):
    """A fit without 95 % band and without dates (x axis: time_years), one area, one level per panel."""
    folder = make_folder(tmp_path / "cal", estimates=False, identifiability=False, areas=("all",), band=False,
                         dates=False)
    result = run_script(folder)
    assert result.returncode == 0, result.stderr
    check_png(folder / "figures" / "fit.png")


def test_fit_rows_without_observed(tmp_path):
    """Fitted values on a fine grid with observations only on census dates: empty observed cells are fine."""
    folder = tmp_path / "cal"
    os.makedirs(folder)
    rows = [[f"2017-{m:02d}-01", m / 12, "all", "Universal", 100 if m == 1 else "", 100 + m, 95 + m, 105 + m]
            for m in range(1, 13)]
    write_csv(folder / "fit.csv", FIT_HEADER, rows)
    result = run_script(folder)
    assert result.returncode == 0, result.stderr
    check_png(folder / "figures" / "fit.png")


def test_extra_columns_are_ignored_and_header_only_is_skipped(tmp_path):
    folder = tmp_path / "cal"
    os.makedirs(folder)
    write_csv(folder / "estimates.csv", ESTIMATES_HEADER + ["draws"], [r + [1000] for r in estimates_rows()])
    write_csv(folder / "identifiability.csv", IDENTIFIABILITY_HEADER, [])
    result = run_script(folder)
    assert result.returncode == 0, result.stderr
    check_png(folder / "figures" / "estimates.png")
    assert "has a header and no rows" in result.stderr


def test_none_present_exits_2(tmp_path):
    folder = tmp_path / "empty"
    os.makedirs(folder)
    (folder / "draws.csv").write_text("draw\n0\n")
    result = run_script(folder)
    assert result.returncode == 2
    assert "fit.csv" in result.stderr and "nothing to draw" in result.stderr
    assert not (folder / "figures").exists()


def test_not_a_folder_and_bad_format(tmp_path):
    assert run_script(tmp_path / "nowhere").returncode == 2
    folder = make_folder(tmp_path / "cal")
    result = run_script(folder, "--format", "png,gif")
    assert result.returncode == 2 and "gif" in result.stderr


# ---------------------------------------------------------------------------
# Malformed files name the file, the line (row) and the column


def corrupt(path, line, column, value):
    """Replace one cell (line 2 is the first data row) of a CSV file."""
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    rows[line - 1][rows[0].index(column)] = value
    with open(path, "w", newline="") as f:
        csv.writer(f, lineterminator="\n").writerows(rows)


@pytest.mark.parametrize("name, line, column, value, words", [
    ("fit.csv", 4, "observed", "many", ["'many'", "expected a number"]),
    ("fit.csv", 2, "time_years", "", ["empty"]),
    ("fit.csv", 3, "date", "31/07/2018", ["YYYY-MM-DD"]),
    ("fit.csv", 5, "fitted_low", "1e9", ["above fitted_high"]),
    ("estimates.csv", 3, "rate_per_year", "-0.1", ["≥ 0"]),
    ("estimates.csv", 2, "rate_high", "x", ["number"]),
    ("estimates.csv", 6, "identified", "maybe", ["'maybe'", "not identified"]),
    ("estimates.csv", 7, "from_level", "", ["empty"]),
    ("identifiability.csv", 3, "contraction", "wide", ["number"]),
    ("identifiability.csv", 2, "contraction", "1.5", ["≤ 1"]),
    ("identifiability.csv", 4, "max_abs_correlation", "1.5", ["≤ 1"]),
    ("ppc.csv", 3, "inside", "yes", ["'yes'", "true or false"]),
    ("ppc.csv", 4, "predictive_q2_5", "1e9", ["above predictive_q97_5"]),
])
def test_malformed_cell(tmp_path, name, line, column, value, words):
    folder = make_folder(tmp_path / "cal")
    corrupt(folder / name, line, column, value)
    result = run_script(folder)
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    message = [m for m in result.stderr.splitlines() if "error" in m]
    assert len(message) == 1, result.stderr
    assert name in message[0] and f"line {line} (data row {line - 1})" in message[0] and repr(column) in message[0]
    for w in words:
        assert w in message[0], (w, message[0])
    # the other three files are still drawn
    drawn = sorted(os.listdir(folder / "figures"))
    assert len(drawn) == 3 and f"{name.replace('.csv', '')}.png" not in drawn


def test_missing_column(tmp_path):
    folder = make_folder(tmp_path / "cal")
    with open(folder / "identifiability.csv", "w") as f:
        f.write("parameter,contraction,verdict\nU→A,0.5,identified\n")
    result = run_script(folder)
    assert result.returncode == 1
    assert "identifiability.csv" in result.stderr and "line 1" in result.stderr
    for column in ("prior_sd_log", "posterior_sd_log", "max_abs_correlation", "most_correlated_with"):
        assert column in result.stderr
    assert "Traceback" not in result.stderr


def test_wrong_number_of_cells(tmp_path):
    folder = make_folder(tmp_path / "cal", fit=False, identifiability=False)
    with open(folder / "estimates.csv", "a") as f:
        f.write("rest,Universal,Additional,0.1\n")
    result = run_script(folder)
    assert result.returncode == 1
    assert "estimates.csv, line 8 (data row 7)" in result.stderr and "expected 9" in result.stderr


# ---------------------------------------------------------------------------
# Readers and helpers


def test_readers_parse_values(tmp_path):
    folder = make_folder(tmp_path / "cal")
    est = cf.read_estimates(str(folder / "estimates.csv"))
    assert [r["identified"] for r in est] == ["identified", "weak", "not identified", "not assessed", "weak",
                                              "identified"]
    assert est[4]["rate"] == 0.05 and math.isnan(est[4]["low"]) and math.isnan(est[4]["high"])
    ident = cf.read_identifiability(str(folder / "identifiability.csv"))
    assert [r["verdict"] for r in ident] == ["identified", "weak", "not identified", "not identified"]
    assert math.isnan(ident[2]["correlation"])
    ppc = cf.read_ppc(str(folder / "ppc.csv"))
    assert [r["inside"] for r in ppc].count(False) == 1 and ppc[7]["observed"] == 640.0
    assert ppc[0]["date"].isoformat() == "2017-07-31" and ppc[1]["low"] == 450.0
    fit = cf.read_fit(str(folder / "fit.csv"))
    assert fit[0]["date"].isoformat() == "2017-07-31" and fit[0]["time"] == 0.0


def test_log_limits():
    low, high = cf.log_limits([0.05, 0.2, math.nan, 0.0])
    assert low < 0.05 and high > 0.2 and high / low >= 10  # at least a decade, zero and NaN ignored
    assert cf.log_limits([0.0, math.nan]) == (0.01, 1.0)
    low, high = cf.log_limits([0.001, 10])
    assert math.isclose(low, 0.001 / 1.6) and math.isclose(high, 16)


def test_correlation_note_and_colours():
    assert cf.correlation_note({"correlation": 0.954, "partner": "A→U"}) == "|ρ| 0.95 with A→U"
    assert cf.correlation_note({"correlation": math.nan, "partner": ""}) == ""
    others = {}
    assert cf.verdict_colour("identified", others) == "#009E73"
    first = cf.verdict_colour("something else", others)
    assert cf.verdict_colour("something else", others) == first and first not in cf.VERDICT_COLOURS.values()


def test_journal_width_and_dpi(tmp_path):
    """--width single: every PNG at most 85 mm wide at the dpi asked for (docs/outputs.md, "figures/")."""
    import math
    import struct

    folder = make_folder(tmp_path)
    out = tmp_path / "journal"
    result = run_script(folder, "--out", out, "--width", "single", "--dpi", "150", "--font-size", "7")
    assert result.returncode == 0, result.stderr
    limit = math.ceil(85 / 25.4 * 150) + 1
    pngs = sorted(p for p in os.listdir(out) if p.endswith(".png"))
    assert pngs
    for name in pngs:
        with open(out / name, "rb") as f:
            width = struct.unpack(">II", f.read(24)[16:24])[0]
        assert 0.9 * limit <= width <= limit, (name, width, limit)
    bad = run_script(folder, "--width", "narrow", "--out", tmp_path / "bad")
    assert bad.returncode == 2 and "--width: found 'narrow'" in bad.stderr
