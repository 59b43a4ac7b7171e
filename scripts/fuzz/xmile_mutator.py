"""Damaged XMILE files for `girfec import` (then `girfec validate` on what it wrote).

Seeds: three files `girfec export` writes once per session with the binary under test (a closed
four-level model with a practice, the same without one, and the arrayed file of the same with
ageing, births and out-migration), and a Stella-style file written by hand (spaces in names, a <non_negative/> flag, a rate auxiliary). Each case damages one seed:
numbers replaced by extreme or malformed ones, elements deleted or duplicated, names replaced
by awkward text, entities and character references that are invalid or out of range, deep
nesting, unclosed tags, attributes without quotes, and the bytes themselves (truncation, NUL,
invalid UTF-8). Every choice comes from the `random.Random` given, so a seed gives the same cases.
"""
from __future__ import annotations

import random
import re
import subprocess
import tempfile
from pathlib import Path

from harness import GIRFEC, Case

CLOSED = """name: fuzz seed
time: {stepMonths: 1, horizonYears: 2}
levels:
  Universal: {costPerChildYear: 300, qolWeight: 0.85}
  Additional: {costPerChildYear: 2000, qolWeight: 0.8}
  Intensive: {costPerChildYear: 19000, qolWeight: 0.7}
  Compulsory: {costPerChildYear: 63000, qolWeight: 0.6}
population:
  initialCounts: {Universal: 1924, Additional: 360, Intensive: 72, Compulsory: 44}
  ageing: false
transitions:
  unit: ratesPerYear
  matrix:
    Universal: {Additional: 0.045, Intensive: 0.004}
    Additional: {Universal: 0.25, Intensive: 0.04}
    Intensive: {Additional: 0.30, Compulsory: 0.16}
    Compulsory: {Intensive: 0.18}
exposureTiming: beforeStep
"""
PRACTICE = """practice:
  relational:
    intensity: 0.8
    escalationEffect: 0.3
    stepDownEffect: 0.2
    timeToEffectYears: 1
"""
STELLA = """<?xml version="1.0" encoding="utf-8"?>
<xmile version="1.0" xmlns="http://docs.oasis-open.org/xmile/ns/XMILE/v1.0">
  <header><vendor>isee systems</vendor><product version="3.0">Stella</product></header>
  <sim_specs method="Euler" time_units="Months"><start>0</start><stop>24</stop><dt>1</dt></sim_specs>
  <model>
    <variables>
      <stock name="At Home"><eqn>900</eqn><outflow>entering_care</outflow><inflow>leaving_care</inflow><non_negative/></stock>
      <stock name="In Care"><eqn>100</eqn><inflow>entering_care</inflow><outflow>leaving_care</outflow></stock>
      <flow name="entering care"><eqn>At_Home * entry_rate</eqn></flow>
      <flow name="leaving care"><eqn>In_Care / 20</eqn></flow>
      <aux name="entry rate"><eqn>0.005</eqn></aux>
    </variables>
  </model>
</xmile>
"""
NUMBERS = ["0", "-0", "-1", "1e400", "-1e400", "1e-400", "NaN", "nan", "inf", "-inf", "1e18", "9223372036854775808",
           "0.5", "1e308", "5e-324", "1/0", "0/0", "()", "(1", "1)", "+", "--1", "1e", ".", "", " ", "1,5",
           "1" * 400, "A", "TIME", "DT", "PULSE(1, 2)", "IF 1 THEN 2 ELSE 3", "At_Home * At_Home", "((((((((1))))))))"]
NAMES = ["", " ", "\t", "A\nB", "&amp;", "&lt;x&gt;", "&#0;", "&#x110000;", "&#xD800;", "&bogus;", "&", "<", "]]>",
         "é", "\u202eLow", "\U0001F600", "a" * 10_000, "all", "1", "TIME", "At Home", "In_Care", "\"q\""]
ELEMENTS = ["<stock name=\"X\"><eqn>1</eqn></stock>", "<flow name=\"X\"><eqn>1</eqn></flow>", "<aux name=\"X\"><eqn>1</eqn></aux>",
            "<gf><xpts>0,1</xpts><ypts>1,2</ypts></gf>", "<dimensions><dim name=\"d\" size=\"3\"/></dimensions>",
            "<module name=\"m\"/>", "<conveyor/>", "<![CDATA[ <stock> ]]>", "<!-- comment -->", "<?pi x?>",
            "<!DOCTYPE xmile [<!ENTITY e \"x\">]>", "<stock name=\"A\">", "</model>", "<inflow>nowhere</inflow>"]


# The closed model with step ends: girfec export writes it as arrays over group and birth-month cohort.
STEP_ENDS = CLOSED.replace("  ageing: false\n", """  ageing: true
  ageOutYears: 1
  ageDistribution: [{fromYears: 0, toYears: 1, share: 1}]
  births: {perYear: 100, entryLevels: {Universal: 1}}
  migration: {outRatePerYear: 0.02}
""") + PRACTICE


def make_seeds(binary: str) -> list[str]:
    """The files `girfec export` writes for the three seed scenarios, and the Stella-style file."""
    seeds = [STELLA]
    with tempfile.TemporaryDirectory() as d:
        for k, text in enumerate([CLOSED, CLOSED + PRACTICE, STEP_ENDS]):
            scenario, out = Path(d) / f"s{k}.yaml", Path(d) / f"s{k}.xmile"
            scenario.write_text(text)
            subprocess.run([binary, "export", str(scenario), "--format", "xmile", "--out", str(out), "--quiet"],
                           check=True, capture_output=True, timeout=60)
            seeds.append(out.read_text())
    return seeds


class XMILEMutator:
    def __init__(self, binary: str):
        self.seeds = make_seeds(binary)

    def case(self, rng: random.Random, index: int) -> Case:
        k = rng.randrange(len(self.seeds))
        text, notes = self.seeds[k], [f"seed {k}"]
        for _ in range(rng.choice([1, 1, 2, 3])):
            text, note = mutate(rng, text)
            notes.append(note)
        data = damage_bytes(rng, text, notes) if rng.random() < 0.1 else text.encode("utf-8", "surrogatepass")
        commands = [[GIRFEC, "import", "model.xmile", "--out", "scenario.yaml"], [GIRFEC, "validate", "scenario.yaml"]]
        return Case("xmile", f"x{index:06d}", {"model.xmile": data}, commands, ["scenario.yaml"], True, "; ".join(notes))


def mutate(rng: random.Random, text: str) -> tuple[str, str]:
    choice = rng.randrange(8)
    if choice == 0:  # an equation or number
        spots = list(re.finditer(r"(?:(?<=<eqn>)|(?<=<start>)|(?<=<stop>)|(?<=<dt>))[^<]*", text))
        if spots:
            m, value = rng.choice(spots), rng.choice(NUMBERS)
            return text[:m.start()] + value + text[m.end():], f"value {m.group(0)[:30]!r} -> {value[:30]!r}"
    if choice == 1:  # a name attribute
        spots = list(re.finditer(r'(?<=name=")[^"]*', text))
        if spots:
            m, name = rng.choice(spots), rng.choice(NAMES)
            return text[:m.start()] + name + text[m.end():], f"name {m.group(0)!r} -> {name[:30]!r}"
    if choice == 2:  # delete or duplicate a line
        lines = text.split("\n")
        i = rng.randrange(len(lines))
        if rng.random() < 0.5:
            return "\n".join(lines[:i] + lines[i + 1:]), f"line {i} deleted"
        return "\n".join(lines[:i] + [lines[i]] * rng.choice([2, 3, 100]) + lines[i + 1:]), f"line {i} repeated"
    if choice == 3:  # an element inserted
        lines = text.split("\n")
        i, element = rng.randrange(len(lines) + 1), rng.choice(ELEMENTS)
        return "\n".join(lines[:i] + [element] + lines[i:]), f"inserted {element[:40]!r} at line {i}"
    if choice == 4:  # deep nesting
        depth = rng.choice([200, 257, 5000, 100_000])
        i = text.find("<variables>")
        i = i if i >= 0 else len(text) // 2
        return text[:i] + "<a>" * depth + "</a>" * depth + text[i:], f"{depth} nested elements"
    if choice == 5:  # an attribute damaged
        spots = list(re.finditer(r'="[^"]*"', text))
        if spots:
            m = rng.choice(spots)
            bad = rng.choice(["=", "=x", '="unclosed', "='mixed\"", ""])
            return text[:m.start()] + bad + text[m.end():], f"attribute -> {bad!r}"
    if choice == 6:  # a tag cut
        spots = list(re.finditer(r"</?[A-Za-z_]+", text))
        if spots:
            m = rng.choice(spots)
            return text[:m.start()] + text[m.end():], f"tag {m.group(0)!r} removed"
    k = rng.randrange(len(text) + 1)
    return text[:k], f"truncated at {k} of {len(text)}"


def damage_bytes(rng: random.Random, text: str, notes: list[str]) -> bytes:
    data = bytearray(text.encode("utf-8", "surrogatepass"))
    choice = rng.randrange(3)
    i = rng.randrange(len(data) + 1)
    if choice == 0:
        data[i:i] = b"\x00"
        notes.append(f"NUL at {i}")
    elif choice == 1:
        data[i:i] = b"\xff\xfe\xc3"
        notes.append(f"invalid UTF-8 at {i}")
    else:
        data = bytearray(b"\xef\xbb\xbf") + data
        notes.append("byte-order mark")
    return bytes(data)
