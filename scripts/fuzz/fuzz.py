#!/usr/bin/env python3
"""Fuzz girfec with malformed scenarios, corrupted state.bin files and damaged calibration CSVs.

    python3 scripts/fuzz/fuzz.py --binary .build/release/girfec --seed 1 --cases 200 [--kind all]
    python3 scripts/fuzz/fuzz.py --binary .build/release/girfec --seed 1 --seconds 60 --kind scenario

Case i of a kind is made from random.Random(f"{seed}:{kind}:{i}") alone, so
a seed gives the same cases (with --seconds, the same first cases). Cases
run on --jobs processes (default 2), each in a fresh temporary folder; see
harness.py for the oracle. Prints a table of cases, accepted, rejected,
crashes, hangs and other findings per kind, then one line per class of
finding; saves each finding's input under --save-crashes (one folder per
case, case.json plus the files, replayable by
scripts/tests/test_fuzz_regressions.py); exits 1 on any finding.
Standard library only.
"""
from __future__ import annotations

import argparse
import json
import random
import re
import sys
import time
from collections import Counter, defaultdict
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import Case, Result, run_case, save_case  # noqa: E402

KINDS = ["scenario", "state", "calibration", "xmile"]
COLUMNS = ["cases", "accepted", "rejected", "crash", "hang", "other"]


def make_generator(kind: str, binary: str):
    if kind == "scenario":
        from scenario_mutator import ScenarioMutator
        return ScenarioMutator()
    if kind == "state":
        from state_corrupter import StateCorrupter
        return StateCorrupter(binary)
    if kind == "xmile":
        from xmile_mutator import XMILEMutator
        return XMILEMutator(binary)
    from csv_corrupter import CSVCorrupter
    return CSVCorrupter()


def generate(generator, seed: int, kind: str, index: int) -> Case:
    return generator.case(random.Random(f"{seed}:{kind}:{index}"), index)


def fuzz_kind(kind: str, binary: str, seed: int, cases: int | None, seconds: float | None, jobs: int,
              timeout: float, save: Path | None, classify_crashes: bool, log,
              minimise_budget: int = 0) -> tuple[Counter, dict]:
    generator = make_generator(kind, binary)
    counts: Counter = Counter()
    findings: dict[str, list[tuple[Case, Result]]] = defaultdict(list)
    deadline = time.monotonic() + seconds if seconds else None
    index = 0

    def more() -> bool:
        if cases is not None and index >= cases:
            return False
        return deadline is None or time.monotonic() < deadline

    with ThreadPoolExecutor(max_workers=jobs) as pool:
        running = {}
        while running or more():
            while more() and len(running) < jobs * 2:
                case = generate(generator, seed, kind, index)
                running[pool.submit(run_case, binary, case, timeout)] = case
                index += 1
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in done:
                case = running.pop(future)
                result = future.result()
                counts["cases"] += 1
                if result.outcome in ("accepted", "rejected", "crash", "hang"):
                    counts[result.outcome] += 1
                else:
                    counts["other"] += 1
                if result.bad:
                    if result.outcome == "crash" and classify_crashes:
                        # run again with Swift's backtracer on: the first frame in girfec's code names the class
                        again = run_case(binary, case, timeout * 3, backtrace=True)
                        if again.outcome == "crash":
                            result = again
                    first_of_class = result.signature not in findings
                    findings[result.signature].append((case, result))
                    log(f"  {kind} case {case.name}: {result.outcome}: {result.signature}  ({case.note[:160]})")
                    if save is not None:
                        if minimise_budget and first_of_class and result.outcome == "crash":
                            from minimise import minimise
                            case = minimise(binary, case, minimise_budget, timeout)
                            case.note += " (minimised)"
                        save_case(case, save, result, result.signature)
    return counts, findings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--binary", required=True, help="the girfec executable (a release build)")
    parser.add_argument("--seed", type=int, default=1)
    budget = parser.add_mutually_exclusive_group(required=True)
    budget.add_argument("--cases", type=int, help="cases per kind")
    budget.add_argument("--seconds", type=float, help="seconds per kind")
    parser.add_argument("--kind", choices=KINDS + ["all"], default="all")
    parser.add_argument("--save-crashes", type=Path, help="folder for the inputs of findings (KIND/CASE/)")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds per command (run commands get twice)")
    parser.add_argument("--no-backtrace", action="store_true", help="do not re-run crashes for a backtrace")
    parser.add_argument("--known", type=Path, metavar="INDEX_JSON",
                        help="regressions/index.json: findings matching a 'signatures' pattern of a class that is not "
                             "'fixed' are listed as known and do not make the exit code non-zero")
    parser.add_argument("--minimise", type=int, default=0, metavar="RUNS",
                        help="shrink the first saved crash of each class by deleting lines, within RUNS runs")
    args = parser.parse_args(argv)
    binary = str(Path(args.binary).resolve())
    kinds = KINDS if args.kind == "all" else [args.kind]
    table = {}
    all_findings: dict[str, dict] = {}
    for kind in kinds:
        counts, findings = fuzz_kind(kind, binary, args.seed, args.cases, args.seconds, args.jobs, args.timeout,
                                     args.save_crashes, not args.no_backtrace, lambda s: print(s, flush=True),
                                     args.minimise)
        table[kind] = counts
        all_findings[kind] = findings
    print()
    print(f"{'kind':<12}" + "".join(f"{c:>10}" for c in COLUMNS))
    for kind in kinds:
        print(f"{kind:<12}" + "".join(f"{table[kind][c]:>10}" for c in COLUMNS))
    known = known_patterns(args.known) if args.known else []
    bad = 0
    for kind in kinds:
        for sig, items in sorted(all_findings[kind].items(), key=lambda kv: -len(kv[1])):
            klass = next((k for k, pattern in known if pattern.search(f"{kind}: {sig}")), None)
            tag = f"known, open: {klass}" if klass else "NEW"
            if not klass:
                bad += len(items)
            print(f"{kind}: {len(items):4d} x {sig}   [{tag}]   e.g. {items[0][0].name}: {items[0][0].note[:200]}")
    saved = f"; inputs saved under {args.save_crashes}" if args.save_crashes else ""
    if bad:
        print(f"{bad} finding(s) of no open class{saved}")
        return 1
    if any(all_findings[k] for k in kinds):
        print(f"only findings of classes still open in {args.known}{saved}")
        return 0
    print("no crashes, hangs or stray files")
    return 0


def known_patterns(index: Path) -> list[tuple[str, re.Pattern]]:
    """(class, pattern) for the classes of index.json whose fix is not in yet; patterns match 'KIND: SIGNATURE'."""
    classes = json.loads(index.read_text())["classes"]
    return [(name, re.compile(p)) for name, c in classes.items() if c.get("status") != "fixed"
            for p in c.get("signatures", [])]

if __name__ == "__main__":
    sys.exit(main())
