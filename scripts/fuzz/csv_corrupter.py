"""Corrupted calibration data for `girfec calibrate`.

Starts from `calibration/synthetic/identified` (scenario, stocks.csv,
flows.csv, panel.csv and the three configurations), shrinks the work (50
draws; the stocks fit with one short chain) and damages the CSV files the
chosen configuration reads: cells (huge, negative, NaN, empty, text, odd
dates and levels), rows (deleted, duplicated, ragged, swapped), the header
(duplicated, renamed, missing columns), line ends (CR, CRLF, stray CR),
quotes, giant fields, byte-order marks and binary bytes. Sometimes a
configuration value is damaged too.
"""
from __future__ import annotations

import random
import re
from pathlib import Path

from harness import GIRFEC, Case

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "calibration" / "synthetic" / "identified"
CSVS = {"flows": ["flows.csv", "stocks.csv"], "panel": ["panel.csv"], "stocks": ["stocks.csv"]}
CONFIGS = {"flows": "calibrate-flows.yaml", "panel": "calibrate-panel.yaml", "stocks": "calibrate-stocks.yaml"}
COUNTS = ["0", "1", "-1", "-0", "+1", "007", "1.5", "12.0", "1e3", "1e18", "999999999999", "4294967296",
          "9223372036854775807", "9223372036854775806", "4611686018427387904", "9223372036854775808",
          "-9223372036854775808", "99999999999999999999999", "NaN", "nan", "inf", "-inf", "Infinity", "0x10", "١٢",
          "1_000", "1,000", " 5 ", "", "x", "null"]
DATES = ["2015-07-31", "2015-07-30", "2015-08-01", "2016-07-31", "0000-01-01", "0001-01-01", "9999-12-31",
         "-2015-07-31", "2015-02-29", "2016-02-29", "2015-02-30", "2015-13-01", "2015-00-10", "2015-7-31",
         "20150731", "99999999-01-01", "999999999999999999-01-01", "2015-07-31T00:00", "1900-01-01", "2100-01-01",
         "", "x"]
TEXTS = ["", " ", "x", "all", "Universal", "Additional", "Intensive", "entry", "exit", "universal", "\"quoted\"",
         "a\"b", "é", "\u202eUniversal", "Universal\u0301", "\U0001F600", "\x00", "\t", "Universal ", " Universal"]
CONFIG_VALUES = {"draws": ["0", "1", "-1", "2", "1e9", "9223372036854775807", "x", "null", "1.5"],
                 "seed": ["0", "-1", "9223372036854775807", "18446744073709551615", "x"],
                 "allowedMoves": ["all", "adjacent", "[]", "[\"Universal → Intensive\"]", "x", "null"],
                 "areas": ["pooled", "perArea", "x"],
                 "chains": ["0", "1", "-1", "1000000"], "iterations": ["0", "1", "-1", "2"], "burnIn": ["0", "-1", "1"],
                 "concentration": ["0", "-1", "1e-300", "1e300", ".nan", ".inf"]}


def split_csv(text: str) -> list[list[str]]:
    """The example files have no quoted cells: plain splitting is enough."""
    return [line.split(",") for line in text.splitlines()]


def join_csv(rows: list[list[str]], newline: str = "\n") -> str:
    return newline.join(",".join(r) for r in rows) + newline


class CSVCorrupter:
    def __init__(self):
        self.texts = {name: (DATA / name).read_text() for name in ["flows.csv", "stocks.csv", "panel.csv"]}
        self.scenario = (DATA / "scenario.yaml").read_bytes()
        self.configs = {k: (DATA / v).read_text() for k, v in CONFIGS.items()}

    def config(self, rng: random.Random, estimator: str, notes: list[str]) -> str:
        text = self.configs[estimator]
        text = re.sub(r"(?m)^draws: .*$", "draws: 50", text)
        if estimator == "stocks":
            text = re.sub(r"(?m)^  chains: .*$", "  chains: 2", text)
            text = re.sub(r"(?m)^  iterations: .*$", "  iterations: 100", text)
            text = re.sub(r"(?m)^  burnIn: .*$", "  burnIn: 10", text)
            # At most 63 leapfrog steps per draw and 200 draws per chain (one extension round when the gate
            # fails): the fit ends in seconds whatever the data (NUTS at depth 10, or extension rounds up to the
            # default 4000 draws, on corrupted counts can take minutes, which is work, not a hang).
            text += "  maxTreeDepth: 6\n  maxIterations: 200\n"
        if estimator == "flows" and rng.random() < 0.2:
            text += "flows:\n  conversion: competingRisks\n" if rng.random() < 0.5 else "flows:\n  concentration: 0.5\n"
        if rng.random() < 0.5:
            text += "areas: perArea\n" if estimator != "stocks" else ""
        if rng.random() < 0.12:
            key = rng.choice(sorted(CONFIG_VALUES))
            value = rng.choice(CONFIG_VALUES[key])
            pattern = re.compile(rf"(?m)^(\s*){key}: .*$")
            if pattern.search(text):
                text = pattern.sub(lambda m: f"{m.group(1)}{key}: {value}", text)
            elif key not in ("chains", "iterations", "burnIn", "concentration"):
                text += f"{key}: {value}\n"
            notes.append(f"config {key}: {value}")
        return text

    def case(self, rng: random.Random, index: int) -> Case:
        estimator = rng.choices(["flows", "panel", "stocks"], weights=[5, 4, 1])[0]
        notes = [estimator]
        files: dict[str, bytes | None] = {"scenario.yaml": self.scenario}
        config = self.config(rng, estimator, notes)
        files["config.yaml"] = config.encode()
        names = CSVS[estimator]
        texts = {n: self.texts[n] for n in names}
        for _ in range(rng.choice([1, 1, 1, 2, 3])):
            target = rng.choice(names)
            texts[target], note = corrupt(rng, target, texts[target])
            notes.append(f"{target}: {note}")
        for n, t in texts.items():
            if isinstance(t, bytes):
                files[n] = t
            elif t is None:
                files[n] = None            # a folder where the file should be
            elif t == "\x00MISSING":
                continue
            else:
                files[n] = t.encode("utf-8", "surrogatepass")
        command = [GIRFEC, "calibrate", "config.yaml", "--out", "out"]
        return Case("calibration", f"c{index:06d}", files, [command], ["out"], True, "; ".join(notes))


def cell_value(rng: random.Random, column: str) -> str:
    if column == "count":
        return rng.choice(COUNTS)
    if column in ("date", "period_start", "period_end"):
        return rng.choice(DATES)
    if rng.random() < 0.05:
        return "A" * rng.choice([1000, 1_000_000])
    return rng.choice(TEXTS)


def corrupt(rng: random.Random, name: str, text):
    """One damage to a CSV's text; returns (text | bytes | None for a folder | "\\x00MISSING", note)."""
    try:
        return _corrupt(rng, name, text)
    except (IndexError, ValueError):
        # an earlier damage left rows this one cannot handle: cut the file instead
        k = rng.randrange(len(text) + 1) if isinstance(text, (str, bytes)) else 0
        return (text[:k] if isinstance(text, (str, bytes)) else text), f"truncated at {k}"


def _corrupt(rng: random.Random, name: str, text):
    if not isinstance(text, str) or text == "\x00MISSING":
        return text, "unchanged (already binary)"
    rows = split_csv(text)
    if not rows:
        return "a,b\n", "header only"
    header, body = rows[0], rows[1:]
    op = rng.randrange(18)
    if op <= 5 and body:
        # cells: one, or one column everywhere, or a level's rows
        column = rng.randrange(len(header))
        value = cell_value(rng, header[column])
        scope = rng.choice(["one", "one", "column", "some"])
        if len(value) > 100:
            scope = "one"          # one giant cell, not a gigabyte file
        picked = [rng.randrange(len(body))] if scope == "one" else \
            range(len(body)) if scope == "column" else rng.sample(range(len(body)), max(1, len(body) // 3))
        for r in picked:
            if column < len(body[r]):
                body[r][column] = value
        return join_csv([header] + body), f"{header[column]} = {value[:30]!r} ({scope})"
    if op == 6 and body:
        # counts scaled: every count of rows matching one value of a text column
        if "count" in header:
            c = header.index("count")
            factor = rng.choice([0, 1000, 10**6, 10**12, 10**17, 10**18])
            cap = rng.choice([2**63 - 1, 10**9])        # Int.max, or the readers' largest count
            key = rng.randrange(len(header))
            match = rng.choice(body)[key] if rng.random() < 0.7 else None      # None: every row
            for r in body:
                if len(r) > max(c, key) and (match is None or r[key] == match) and r[c].isdigit():
                    r[c] = str(min(int(r[c]) * factor, cap))
            return join_csv([header] + body), f"counts x{factor} (at most {cap}) where {header[key]} = {match!r}"
    if op == 7 and body:
        k = rng.randrange(len(body))
        how = rng.choice(["delete", "duplicate", "swap", "extra cell", "missing cell", "reverse", "keep one", "shuffle"])
        if how == "delete":
            del body[k]
        elif how == "duplicate":
            body.insert(k, list(body[k]))
        elif how == "swap":
            j = rng.randrange(len(body))
            body[k], body[j] = body[j], body[k]
        elif how == "extra cell":
            body[k] = body[k] + [rng.choice(TEXTS)]
        elif how == "missing cell":
            body[k] = body[k][:-1]
        elif how == "reverse":
            body.reverse()
        elif how == "keep one":
            body = [body[k]]
        else:
            rng.shuffle(body)
        return join_csv([header] + body), f"row {how} at {k + 2}"
    if op == 8:
        how = rng.choice(["duplicate column", "rename column", "drop column", "extra column", "no header", "upper case",
                          "spaces"])
        if how == "duplicate column":
            c = rng.randrange(len(header))
            rows = [r + [r[c]] if len(r) > c else r for r in [header] + body]
        elif how == "rename column":
            header[rng.randrange(len(header))] = rng.choice(TEXTS)
            rows = [header] + body
        elif how == "drop column":
            c = rng.randrange(len(header))
            rows = [r[:c] + r[c + 1:] for r in [header] + body]
        elif how == "extra column":
            rows = [header + ["extra"]] + [r + ["1"] for r in body]
        elif how == "no header":
            rows = body
        elif how == "upper case":
            rows = [[h.upper() for h in header]] + body
        else:
            rows = [[f" {h} " for h in header]] + body
        return join_csv(rows), f"header {how}"
    if op == 9:
        newline = rng.choice(["\r", "\r\n", "\n\n", "\r\r\n", "\n\r"])
        return join_csv(rows, newline), f"line ends {newline!r}"
    if op == 10:
        lines = text.split("\n")
        k = rng.randrange(len(lines))
        where = rng.randrange(len(lines[k]) + 1)
        lines[k] = lines[k][:where] + rng.choice(["\r", "\"", "\"\"", "\r\r", "\u2028", "\x85", "\x0b", "\x0c"]) + lines[k][where:]
        return "\n".join(lines), f"stray character in line {k + 1} at {where}"
    if op == 11:
        k = rng.randrange(len(text) + 1)
        blob = rng.choice([b"\x00", b"\xff\xfe", b"\xc3", bytes(rng.randrange(256) for _ in range(64))])
        data = text.encode()
        return data[:k] + blob + data[k:], f"binary bytes at {k}"
    if op == 12:
        bom = rng.choice(["\ufeff", "\ufeff\ufeff", "\ufeff\r\n"])
        return bom + text, f"BOM {bom!r}"
    if op == 13:
        k = rng.randrange(len(text) + 1)
        return text[:k], f"truncated at {k}"
    if op == 14:
        what = rng.choice(["empty", "blank lines", "missing", "folder", "header only", "utf16"])
        if what == "empty":
            return "", "empty file"
        if what == "blank lines":
            return "\n\n  \n", "blank lines only"
        if what == "missing":
            return "\x00MISSING", "missing file"
        if what == "folder":
            return None, "a folder instead of the file"
        if what == "utf16":
            return text.encode("utf-16"), "UTF-16"
        return join_csv([header]), "header only"
    if op == 15 and body:
        k = rng.randrange(len(body))
        c = rng.randrange(len(body[k])) if body[k] else 0
        if not body[k]:
            body[k] = [""]
        quoted = rng.choice(['"a,b"', '"a""b"', '"line\nbreak"', '"unterminated', '""', 'a"b', '" Universal "',
                             '"' + body[k][c] + '"', '"' + body[k][c] + '"x'])
        if c < len(body[k]):
            body[k][c] = quoted
        return join_csv([header] + body), f"quoted cell {quoted[:20]!r} in row {k + 2}"
    if op == 16 and body:
        k = rng.randrange(len(body))
        size = rng.choice([10_000, 1_000_000, 5_000_000])
        c = rng.randrange(len(header))
        if c < len(body[k]):
            body[k][c] = rng.choice(["9", "A", ","]) * size
        return join_csv([header] + body), f"giant field of {size} in row {k + 2}"
    # consistent dates: move one date everywhere (periods of different lengths, far dates)
    dates = sorted({cell for r in body for cell in r if re.fullmatch(r"\d{4}-\d\d-\d\d", cell)})
    if not dates:
        return text, "no dates"
    old = rng.choice(dates)
    new = rng.choice(DATES)
    return text.replace(old, new), f"date {old} -> {new} everywhere"
