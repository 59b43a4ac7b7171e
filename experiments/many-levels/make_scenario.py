"""Write an age-indexed cohort scenario with many levels (docs/performance.md, "Many levels").

One level per year of age (`Age0`, `Age1`, ...) and an absorbing `Dead`, yearly steps: each year a
person either dies (probability q_a) or moves to the next age level. This is how a cohort
state-transition model with age-dependent mortality is written when every age is its own state:
there are about 2 possible moves per level, against n(n - 1) pairs of levels.

Mortality follows a Gompertz law, q_a = min(1/2, 1 - exp(-A e^(B a))) per year, with A = 5e-5 and
B = 0.09 (illustrative values of the order of adult mortality in the UK; Gompertz 1825), capped at
1/2 so that every age but the last keeps both of its moves (497 moves in all for 250 levels).
Costs per year rise and QoL weights fall with age (illustrative).

Usage: python3 experiments/many-levels/make_scenario.py [LEVELS] > scenario.yaml
(LEVELS counts the levels with Dead; default 250.)
"""
import math
import sys


def scenario(levels: int) -> str:
    ages = levels - 1
    out = [
        f"name: Age-indexed cohort, {levels} levels",
        "description: >",
        f"  One level per year of age (0 to {ages - 1}) and Dead; yearly steps; Gompertz mortality.",
        "  Written by experiments/many-levels/make_scenario.py.",
        "time: {stepMonths: 12, horizonYears: 100}",
        "levels:",
    ]
    for a in range(ages):
        cost = round(500 + 40 * a, 2)
        qol = round(max(0.2, 0.95 - 0.005 * a), 4)
        out.append(f"  Age{a}: {{costPerChildYear: {cost}, qolWeight: {qol}}}")
    out.append("  Dead: {costPerChildYear: 0, qolWeight: 0, absorbing: true}")
    out += [
        "population:",
        "  initialCounts: {Age0: 200}",
        "  ageing: false",
        "transitions:",
        "  unit: probabilitiesPerStep",
        "  matrix:",
    ]
    for a in range(ages):
        q = min(0.5, 1 - math.exp(-5e-5 * math.exp(0.09 * a)))
        row = {"Dead": round(q, 8)}
        if a + 1 < ages:
            row = {f"Age{a + 1}": round(1 - q, 8), **row}
        else:
            row = {"Dead": 1.0}
        cells = ", ".join(f"{k}: {v}" for k, v in row.items())
        out.append(f"    Age{a}: {{{cells}}}")
    out += ["arms:", "  cohort: {}"]
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    sys.stdout.write(scenario(int(sys.argv[1]) if len(sys.argv) > 1 else 250))
