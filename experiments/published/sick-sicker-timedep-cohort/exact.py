"""Exact expected cost and QALYs per person of the time-dependent Sick-Sicker cohort model of
Alarid-Escudero et al. (2023) under three readings, computed from the model's definition (a cohort
trace; not from girfec):

  girfec        scenario.yaml: death as a competing hazard (life-table rate, x3 in S1, x10 in S2)
                added to the hazards of the matrix row of the other moves; girfec's reward rules
                (rewardTiming simpson, transition rewards once at the end of their step);
  darth-probs   scenario-darth-probabilities.yaml: DARTH's death-first probabilities, girfec's
                reward rules;
  published     DARTH's probabilities and DARTH's gen_wcc("Simpson1/3") weights, applied to state
                and transition rewards alike (cSTM_time_dep_simulation.R): the published table.

Usage: python3 exact.py        (standard library only; reads LifeTable_USA_Mx_2015.csv)
"""
import csv
import math

AGE0, CYCLES, RATE = 25, 75, 0.03
ARMS = ("SoC", "A", "B", "AB")
STATES = ("H", "S1", "S2", "D")


def p(rate):
    return 1 - math.exp(-rate)


with open("LifeTable_USA_Mx_2015.csv", newline="") as f:
    MU = {int(r["Age"]): float(r["Total"]) for r in csv.DictReader(f)}


def strategy(name):
    a, b = "A" in name, "B" in name
    add = 12000 * a + 13000 * b
    cost = {"H": 2000, "S1": 4000 + add, "S2": 15000 + add, "D": 0}
    qol = {"H": 1.0, "S1": 0.95 if a else 0.75, "S2": 0.5, "D": 0.0}
    return b, cost, qol


def rows(mu, treated_b, reading):
    """Per-cycle transition probabilities from each living state."""
    p_hs1, p_s1h, p_s1s2 = p(0.15), p(0.5), p(0.105 * (0.6 if treated_b else 1))
    if reading == "darth":          # death first, the other moves among survivors
        pd = {"H": p(mu), "S1": p(3 * mu), "S2": p(10 * mu)}
        return {"H": {"H": (1 - pd["H"]) * (1 - p_hs1), "S1": (1 - pd["H"]) * p_hs1, "D": pd["H"]},
                "S1": {"H": (1 - pd["S1"]) * p_s1h, "S1": (1 - pd["S1"]) * (1 - p_s1h - p_s1s2),
                       "S2": (1 - pd["S1"]) * p_s1s2, "D": pd["S1"]},
                "S2": {"S2": 1 - pd["S2"], "D": pd["S2"]}}
    # competing risks: the matrix row's own hazards plus the death hazard
    base = {"H": {"S1": p_hs1}, "S1": {"H": p_s1h, "S2": p_s1s2}, "S2": {}}
    hr = {"H": 1, "S1": 3, "S2": 10}
    out = {}
    for i, moves in base.items():
        leave = sum(moves.values())
        big = -math.log(1 - leave)
        haz = {j: big * q / leave for j, q in moves.items()}
        haz["D"] = hr[i] * mu
        total = sum(haz.values())
        stay = math.exp(-total)
        out[i] = {j: (1 - stay) * h / total for j, h in haz.items()}
        out[i][i] = stay
    return out


def girfec_simpson_weights(n):
    """Boundary weights of girfec's rewardTiming simpson over n one-year steps (docs §12)."""
    w = [0.0] * (n + 1)
    t = 1
    while t <= n:
        if t + 1 <= n:
            w[t - 1] += 1 / 3; w[t] += 4 / 3; w[t + 1] += 1 / 3; t += 2
        else:
            w[t - 1] += 0.5; w[t] += 0.5; t += 1
    return w


def darth_gen_wcc(n):
    """gen_wcc(n, "Simpson1/3") as coded in R/Functions.R: 1/3, 2/3, 4/3, 2/3, ..., 4/3, 1/3."""
    w = [2 / 3 if k % 2 == 0 else 4 / 3 for k in range(1, n + 2)]
    w[0] = w[-1] = 1 / 3
    return w


def run(name, reading, timing):
    """(discounted cost, discounted QALYs) per person."""
    b, cost, qol = strategy(name)
    m = {"H": 1.0, "S1": 0.0, "S2": 0.0, "D": 0.0}
    state_c, state_e = [sum(m[s] * cost[s] for s in STATES)], [sum(m[s] * qol[s] for s in STATES)]
    trans_c, trans_e = [0.0], [0.0]
    for t in range(1, CYCLES + 1):
        r = rows(MU[AGE0 + t - 1], b, reading)       # the age at the start of cycle t
        new = {"H": 0.0, "S1": 0.0, "S2": 0.0, "D": m["D"]}
        for i in ("H", "S1", "S2"):
            for j, q in r[i].items():
                new[j] += m[i] * q
        sick = m["H"] * r["H"]["S1"]
        deaths = sum(m[i] * r[i]["D"] for i in ("H", "S1", "S2"))
        m = new
        state_c.append(sum(m[s] * cost[s] for s in STATES))
        state_e.append(sum(m[s] * qol[s] for s in STATES))
        trans_c.append(1000 * sick + 2000 * deaths)
        trans_e.append(-0.01 * sick)
    disc = [(1 + RATE) ** -k for k in range(CYCLES + 1)]
    if timing == "girfec":
        w = girfec_simpson_weights(CYCLES)
        c = sum(w[k] * state_c[k] * disc[k] + trans_c[k] * disc[k] for k in range(CYCLES + 1))
        e = sum(w[k] * state_e[k] * disc[k] + trans_e[k] * disc[k] for k in range(CYCLES + 1))
    else:
        w = darth_gen_wcc(CYCLES)
        c = sum(w[k] * (state_c[k] + trans_c[k]) * disc[k] for k in range(CYCLES + 1))
        e = sum(w[k] * (state_e[k] + trans_e[k]) * disc[k] for k in range(CYCLES + 1))
    return c, e


def incremental(results):
    """Frontier by cost after strong then extended dominance (as dampack's calculate_icers)."""
    order = sorted(results, key=lambda a: (results[a][0], -results[a][1]))
    status = {}
    frontier = []
    for a in order:                                  # strong dominance
        if frontier and results[a][1] <= results[frontier[-1]][1]:
            status[a] = "D"
        else:
            frontier.append(a)
    changed = True
    while changed:                                   # extended dominance
        changed = False
        for k in range(1, len(frontier) - 1):
            lo, mid, hi = frontier[k - 1], frontier[k], frontier[k + 1]
            icer = lambda x, y: (results[y][0] - results[x][0]) / (results[y][1] - results[x][1])
            if icer(lo, mid) > icer(mid, hi):
                status[mid] = "ED"; frontier.pop(k); changed = True; break
    icers = {}
    for x, y in zip(frontier, frontier[1:]):
        icers[y] = (results[y][0] - results[x][0]) / (results[y][1] - results[x][1])
    return frontier, icers, status


if __name__ == "__main__":
    for label, reading, timing in (("girfec", "competing", "girfec"), ("darth-probs", "darth", "girfec"),
                                   ("published", "darth", "darth")):
        results = {a: run(a, reading, timing) for a in ARMS}
        frontier, icers, status = incremental(results)
        print(f"== {label}")
        print("arm,cost_per_person,qalys_per_person,delta_cost_vs_SoC,delta_qalys_vs_SoC,frontier_icer,status")
        for a in ARMS:
            c, e = results[a]
            c0, e0 = results["SoC"]
            icer = f"{icers[a]:.2f}" if a in icers else ""
            print(f"{a},{c:.8f},{e:.10f},{c - c0:.8f},{e - e0:.10f},{icer},{status.get(a, 'ND')}")
