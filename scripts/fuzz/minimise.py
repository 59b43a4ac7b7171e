"""Shrink a crashing case by deleting lines of its text inputs (delta debugging, Zeller 2002).

A smaller case is kept when it still crashes with the same quick signature
(command, signal and Swift trap message, without a backtrace). Binary files
(state.bin) are left alone. Budget: a number of girfec runs.
"""
from __future__ import annotations

import dataclasses

from harness import Case, run_case


def ddmin(units: list, still_fails, budget: int) -> tuple[list, int]:
    """Remove chunks of `units` while `still_fails(candidate)`; returns the smallest found and the budget left."""
    n = 2
    while len(units) >= 2 and budget > 0:
        size = -(-len(units) // n)
        for start in range(0, len(units), size):
            if budget <= 0:
                break
            candidate = units[:start] + units[start + size:]
            budget -= 1
            if still_fails(candidate):
                units = candidate
                n = max(n - 1, 2)
                break
        else:
            if n >= len(units):
                break
            n = min(len(units), n * 2)
    return units, budget


def minimise(binary: str, case: Case, budget: int = 120, timeout: float = 10.0) -> Case:
    first = run_case(binary, case, timeout)
    if first.outcome != "crash":
        return case
    target = first.signature
    for rel in sorted(case.files):
        data = case.files[rel]
        if data is None or budget <= 0 or rel.endswith(".bin"):
            continue
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            continue
        lines = text.splitlines(keepends=True)
        if len(lines) < 2:
            continue
        head, body = (lines[:1], lines[1:]) if rel.endswith(".csv") else ([], lines)

        def still_fails(candidate, rel=rel, head=head):
            trial = dataclasses.replace(case, files={**case.files, rel: "".join(head + candidate).encode("utf-8")})
            result = run_case(binary, trial, timeout)
            return result.outcome == "crash" and result.signature == target

        body, budget = ddmin(body, still_fails, budget)
        case = dataclasses.replace(case, files={**case.files, rel: "".join(head + body).encode("utf-8")})
    return case
