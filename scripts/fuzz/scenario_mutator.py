"""Mutated scenario files for `girfec validate` and `girfec run`.

Works on the YAML text line by line (standard library only): values are
replaced by other types or extreme numbers, lines and blocks are deleted or
duplicated, names are replaced by awkward unicode, aliases and alias bombs
are added, `include:` points at odd paths, and the bytes themselves are
damaged (truncation, NUL, invalid UTF-8, CR line ends). Every choice comes
from the `random.Random` given, so a seed gives the same cases.
"""
from __future__ import annotations

import random
import re
from pathlib import Path

from harness import GIRFEC, Case

ROOT = Path(__file__).resolve().parents[2]
SEEDS_GLOB = ["experiments/examples/*.yaml", "experiments/default/*.yaml", "calibration/scenario.yaml",
              "calibration/synthetic/identified/scenario.yaml"]
RUN_FRACTION = 0.5

NUMBERS = ["0", "-0", "-0.0", "1", "-1", "0.5", "1e-300", "-1e-300", "5e-324", "1e18", "-1e18", "1e19", "1e300",
           "-1e300", "1.7976931348623157e308", "9223372036854775807", "9223372036854775808", "-9223372036854775808",
           "-9223372036854775809", "18446744073709551616", "4294967296", "2147483648", "60000", "60001", "1000000",
           "1e9", ".nan", ".NaN", ".NAN", "nan", ".inf", "-.inf", "+.inf", ".Inf", "inf", "Infinity", "0x7fffffffffffffff",
           "0o777", "1_000", "1e", "--1", "1.", ".5", "+1", "12:30", "2015-07-31", "0.0000001", "0.9999999999999999",
           "1.0000000000000002", "100", "36500", "1e6", "-1e-9"]
SCALARS = ["null", "~", "", "true", "false", "yes", "no", "on", "'1'", '"1"', '""', "x", "[]", "{}", "[1, 2]",
           "{a: 1}", "[[[]]]", "!!binary aGVsbG8=", "!!str 1", "!!float 1", "!!int 1", "!!null", "!!map {}", "|\n  text",
           ">-\n  folded", "*undefined", "&a 1", "? complex\n: key"]
NAMES = ["\"A\\nB\"", "\"A\\rB\"", "\"A\\r\\nB\"", "\"A\\0B\"", "\"\\u202eLow\"", "\"Lo\\u0301w\"", "\"\\U0001F600\"",
         "\"\\t\"", "\" \"", "\"\"", "1", "\"1\"", "1.0", "null", "true", "\"a,b\"", "'\"quoted\"'", "\"é\"", "\"../x\"",
         "\"/etc\"", "\"\\u00a0\"", "\"\\uFEFF\"", "\"\\u0000\"", "\"Low\"", "\"\\x7f\"", "\"%n%s\"", "\"$(id)\""]
INCLUDES = ["nonexistent.yaml", ".", "/", "/proc/self/environ", "/dev/null", "/dev/zero", "/etc/passwd", "SELF", "sub",
            "cycle-a.yaml", "fragment.yaml", "[fragment.yaml, fragment.yaml, fragment.yaml]", "[]", "\"\"", "null", "1",
            "{a: b}", "../../../../../../etc/hostname", "fragment.yaml\\0x", "\"frag\\nment.yaml\""]
KEY_LINE = re.compile(r"^(?P<indent>\s*)(?P<dash>- )?(?P<key>[^#:\s][^:#]*?):(?P<sep>\s+|$)(?P<value>[^#]*?)(?P<comment>\s*#.*)?$")
NUMBER_TOKEN = re.compile(r"(?<![\w.])-?\d+(?:\.\d+)?(?:e-?\d+)?(?![\w.-])")


def seed_files() -> list[Path]:
    found: list[Path] = []
    for pattern in SEEDS_GLOB:
        found.extend(sorted(ROOT.glob(pattern)))
    return [p for p in found if p.stat().st_size < 64_000]


def huge_string(rng: random.Random) -> str:
    return '"' + "A" * rng.choice([1000, 100_000, 1_000_000]) + '"'


def alias_bomb(rng: random.Random) -> str:
    depth = rng.randint(3, 10)
    width = rng.randint(4, 10)
    lines = ["fuzzBomb:", f"  - &b0 [{', '.join(['x'] * width)}]"]
    for d in range(1, depth):
        lines.append(f"  - &b{d} [{', '.join([f'*b{d - 1}'] * width)}]")
    return "\n".join(lines) + "\n"


def block_end(lines: list[str], i: int) -> int:
    """Index after the block that starts at line i (the line and every more-indented line after it)."""
    indent = len(lines[i]) - len(lines[i].lstrip())
    j = i + 1
    while j < len(lines):
        s = lines[j]
        if s.strip() and not s.lstrip().startswith("#") and len(s) - len(s.lstrip()) <= indent:
            break
        j += 1
    return j


def key_lines(lines: list[str]) -> list[int]:
    return [i for i, s in enumerate(lines) if KEY_LINE.match(s) and not s.lstrip().startswith("#")]


def level_names(text: str) -> list[str]:
    names, inside = [], False
    for s in text.splitlines():
        if re.match(r"^levels:\s*(#.*)?$", s):
            inside = True
            continue
        if inside:
            if s.strip() and not s.startswith(" ") and not s.lstrip().startswith("#"):
                break
            m = re.match(r"^  ([A-Za-z][\w-]*):", s)
            if m:
                names.append(m.group(1))
    return names


class ScenarioMutator:
    def __init__(self, seeds: list[Path] | None = None):
        self.seeds = seeds or seed_files()
        self.texts = [(p, p.read_text()) for p in self.seeds]

    def case(self, rng: random.Random, index: int) -> Case:
        path, text = rng.choice(self.texts)
        files: dict[str, bytes | None] = {}
        notes = [path.relative_to(ROOT).as_posix()]
        lines = text.splitlines()
        for _ in range(rng.choice([1, 1, 1, 1, 2, 2, 3])):
            op = rng.choice(OPS)
            lines, note = op(self, rng, lines, files)
            notes.append(note)
        data = ("\n".join(lines) + "\n").encode("utf-8", "surrogatepass")
        if rng.random() < 0.08:
            data, note = bytes_op(rng, data)
            notes.append(note)
        name = f"s{index:06d}"
        files["scenario.yaml"] = data
        commands = [[GIRFEC, "validate", "scenario.yaml"]]
        outs: list[str] = []
        if rng.random() < RUN_FRACTION:
            commands.append([GIRFEC, "run", "scenario.yaml", "--replications", "2", "--seed", str(rng.randint(1, 99)),
                             "--out", "out", "--quiet", "--threads", "1"])
            outs.append("out")
        return Case("scenario", name, files, commands, outs, True, "; ".join(notes))

    # --- mutations: each returns (lines, note) ---

    def set_value(self, rng, lines, files):
        idx = [i for i in key_lines(lines) if KEY_LINE.match(lines[i]).group("value").strip()]
        if not idx:
            return lines, "set_value: none"
        i = rng.choice(idx)
        m = KEY_LINE.match(lines[i])
        pool = rng.choice([NUMBERS, NUMBERS, SCALARS, NAMES])
        value = huge_string(rng) if rng.random() < 0.03 else rng.choice(pool)
        lines = lines[:]
        value_lines = value.split("\n")
        pad = m.group("indent") + ("  " if m.group("dash") else "")
        lines[i] = f"{m.group('indent')}{m.group('dash') or ''}{m.group('key')}: {value_lines[0]}"
        lines[i + 1:i + 1] = [pad + v for v in value_lines[1:]]
        return lines, f"set_value line {i + 1} {m.group('key')!r} = {value[:40]!r}"

    def set_number(self, rng, lines, files):
        idx = [i for i, s in enumerate(lines) if NUMBER_TOKEN.search(s.split("#")[0]) and not s.lstrip().startswith("#")]
        if not idx:
            return lines, "set_number: none"
        i = rng.choice(idx)
        code, _, comment = lines[i].partition("#")
        tokens = list(NUMBER_TOKEN.finditer(code))
        t = rng.choice(tokens)
        value = rng.choice(NUMBERS)
        lines = lines[:]
        lines[i] = code[:t.start()] + value + code[t.end():]
        return lines, f"set_number line {i + 1} {t.group()} -> {value}"

    def replace_block(self, rng, lines, files):
        idx = [i for i in key_lines(lines) if block_end(lines, i) > i + 1]
        if not idx:
            return lines, "replace_block: none"
        i = rng.choice(idx)
        m = KEY_LINE.match(lines[i])
        value = rng.choice(NUMBERS + SCALARS)
        lines = lines[:i] + [f"{m.group('indent')}{m.group('dash') or ''}{m.group('key')}: {value}"] + lines[block_end(lines, i):]
        return lines, f"replace_block {m.group('key')!r} by {value!r}"

    def delete_block(self, rng, lines, files):
        idx = key_lines(lines)
        if not idx:
            return lines, "delete: none"
        i = rng.choice(idx)
        j = block_end(lines, i) if rng.random() < 0.7 else i + 1
        return lines[:i] + lines[j:], f"delete lines {i + 1}-{j}"

    def duplicate_block(self, rng, lines, files):
        idx = key_lines(lines)
        if not idx:
            return lines, "duplicate: none"
        i = rng.choice(idx)
        j = block_end(lines, i)
        times = rng.choice([1, 1, 2, 50])
        return lines[:j] + lines[i:j] * times + lines[j:], f"duplicate lines {i + 1}-{j} x{times}"

    def rename_level(self, rng, lines, files):
        names = level_names("\n".join(lines))
        if not names:
            return self.set_value(rng, lines, files)
        old = rng.choice(names)
        new = rng.choice(NAMES + (names if len(names) > 1 else []))
        pattern = re.compile(rf"(?<![\w\"']){re.escape(old)}(?![\w\"'])")
        everywhere = rng.random() < 0.7
        out = []
        done = False
        for s in lines:
            if s.lstrip().startswith("#") or (done and not everywhere):
                out.append(s)
                continue
            t = pattern.sub(lambda _: new, s, count=0 if everywhere else 1)
            done = done or t != s
            out.append(t)
        return out, f"rename level {old!r} -> {new!r}{' everywhere' if everywhere else ' once'}"

    def rename_key(self, rng, lines, files):
        idx = key_lines(lines)
        if not idx:
            return lines, "rename_key: none"
        i = rng.choice(idx)
        m = KEY_LINE.match(lines[i])
        new = rng.choice(NAMES + ["<<", "include", "arms", "name", "time", "levels", "\"key with space\"", "? x"])
        lines = lines[:]
        lines[i] = f"{m.group('indent')}{m.group('dash') or ''}{new}:{m.group('sep')}{m.group('value')}"
        return lines, f"rename key {m.group('key')!r} -> {new!r}"

    def add_alias(self, rng, lines, files):
        idx = [i for i in key_lines(lines) if block_end(lines, i) > i + 1]
        if len(idx) < 1:
            return lines, "alias: none"
        i = rng.choice(idx)
        m = KEY_LINE.match(lines[i])
        lines = lines[:]
        lines[i] = f"{m.group('indent')}{m.group('dash') or ''}{m.group('key')}: &fz"
        k = rng.choice(key_lines(lines))
        mk = KEY_LINE.match(lines[k])
        if rng.random() < 0.3:
            # merge key, possibly into itself
            lines.insert(k + 1, mk.group("indent") + "  <<: *fz")
            return lines, f"alias &fz on {m.group('key')!r}, merge into {mk.group('key')!r}"
        lines[k:block_end(lines, k)] = [f"{mk.group('indent')}{mk.group('dash') or ''}{mk.group('key')}: *fz"]
        return lines, f"alias &fz on {m.group('key')!r}, used for {mk.group('key')!r}"

    def bomb(self, rng, lines, files):
        text = alias_bomb(rng)
        if rng.random() < 0.5:
            return text.splitlines() + lines, "alias bomb at top"
        out = [s for s in lines if not s.startswith("description:")]
        bomb = text.replace("fuzzBomb:", "description:").splitlines()
        return bomb + out, "alias bomb as description"

    def include(self, rng, lines, files):
        target = rng.choice(INCLUDES)
        if target == "SELF":
            target = "scenario.yaml"
        if target == "sub":
            files["sub"] = None
        if target.startswith("cycle"):
            files["cycle-a.yaml"] = b"include: cycle-b.yaml\n"
            files["cycle-b.yaml"] = b"include: cycle-a.yaml\n"
        if "fragment" in target:
            frag_lines = rng.choice(self.texts)[1].splitlines()
            frag_lines = [s for s in frag_lines if not re.match(r"^(name|description|arms|uncertainty|include):", s)]
            frag_lines, _ = rng.choice([ScenarioMutator.set_number, ScenarioMutator.set_value,
                                        ScenarioMutator.delete_block])(self, rng, frag_lines, files)
            files["fragment.yaml"] = ("\n".join(frag_lines) + "\n").encode()
        lines = [s for s in lines if not s.startswith("include:")]
        return [f"include: {target}"] + lines, f"include {target}"

    def unicode_text(self, rng, lines, files):
        idx = [i for i, s in enumerate(lines) if s.startswith("name:")] or key_lines(lines)
        if not idx:
            return lines, "unicode: none"
        i = rng.choice(idx)
        m = KEY_LINE.match(lines[i])
        value = rng.choice(NAMES) if rng.random() < 0.8 else huge_string(rng)
        lines = lines[:]
        lines[i] = f"{m.group('indent')}{m.group('key')}: {value}"
        return lines, f"unicode {m.group('key')!r} = {value[:30]!r}"

    def indentation(self, rng, lines, files):
        if not lines:
            return lines, "indent: none"
        i = rng.randrange(len(lines))
        lines = lines[:]
        change = rng.choice(["\t", " ", "", "   "])
        lines[i] = change + lines[i].lstrip() if rng.random() < 0.5 else change + lines[i]
        return lines, f"indentation line {i + 1} {change!r}"


OPS = [ScenarioMutator.set_value, ScenarioMutator.set_value, ScenarioMutator.set_number, ScenarioMutator.set_number,
       ScenarioMutator.set_number, ScenarioMutator.replace_block, ScenarioMutator.delete_block,
       ScenarioMutator.duplicate_block, ScenarioMutator.rename_level, ScenarioMutator.rename_level,
       ScenarioMutator.rename_key, ScenarioMutator.add_alias, ScenarioMutator.bomb, ScenarioMutator.include,
       ScenarioMutator.include, ScenarioMutator.unicode_text, ScenarioMutator.indentation]


def bytes_op(rng: random.Random, data: bytes) -> tuple[bytes, str]:
    choice = rng.randrange(7)
    if choice == 0:
        n = rng.randrange(len(data) + 1)
        return data[:n], f"truncate at {n}"
    if choice == 1:
        n = rng.randrange(len(data) + 1)
        return data[:n] + b"\x00" + data[n:], f"NUL at {n}"
    if choice == 2:
        n = rng.randrange(len(data) + 1)
        return data[:n] + b"\xff\xfe\xc3" + data[n:], f"invalid UTF-8 at {n}"
    if choice == 3:
        return data.replace(b"\n", b"\r"), "CR line ends"
    if choice == 4:
        return b"\xef\xbb\xbf" + data.replace(b"\n", b"\r\n"), "BOM and CRLF"
    if choice == 5:
        return b"", "empty file"
    return data + b"\n---\n" + data, "two documents"
