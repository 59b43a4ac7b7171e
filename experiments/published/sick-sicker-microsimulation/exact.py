"""Exact expected cost and QALYs per person of the Sick-Sicker microsimulation of Krijkamp et al.
(2018), Appendix B, computed from the model's definition (not from girfec): a cohort over
(state, dur), where dur counts consecutive cycles sick as in the paper's MicroSim function.

Usage: python3 exact.py        (standard library only)

Per cycle t = 1 ... 30 a person in (state, dur) moves with the paper's probabilities Probs(state,
dur); the arrival state is valued with Costs(state, Trt) and Effs(state, dur, Trt, X) using the
counter before its update; then dur <- dur + 1 if the new state is S1 or S2, else 0. Boundary 0
holds everyone in H. Totals are sum_{t=0}^{30} value_t / 1.03^t (full weight on each boundary).
X ~ U(0.95, 1.05) enters the treated S1 utility linearly and independently of the path, so the
expectation uses E[X] = 1.
"""
import math

P_HD, P_HS1, P_S1H, P_S1S2 = 0.005, 0.15, 0.5, 0.105
R_HD = -math.log(1 - P_HD)
R_S1D, R_S2D = 3 * R_HD, 10 * R_HD
CYCLES, RATE = 30, 0.03


def probs(state, dur):
    if state == "H":
        return {"H": 1 - P_HS1 - P_HD, "S1": P_HS1, "D": P_HD}
    if state == "S1":
        p_d = 1 - math.exp(-R_S1D * (1 + 0.2 * dur))
        return {"H": P_S1H, "S1": 1 - P_S1H - P_S1S2 - p_d, "S2": P_S1S2, "D": p_d}
    if state == "S2":
        p_d = 1 - math.exp(-R_S2D * (1 + 0.2 * dur))
        return {"S2": 1 - p_d, "D": p_d}
    return {"D": 1.0}


def cost(state, trt):
    return {"H": 2000, "S1": 4000 + 12000 * trt, "S2": 15000 + 12000 * trt, "D": 0}[state]


def utility(state, dur, trt, x=1.0):
    if state == "S1":
        return x * trt * (0.95 - 0.03 * dur) + (1 - trt) * 0.75
    return {"H": 1.0, "S2": 0.5, "D": 0.0}[state]


def run(trt):
    """(discounted cost, discounted QALYs) per person."""
    dist = {("H", 0): 1.0}
    total_c, total_e = cost("H", trt), utility("H", 0, trt)
    for t in range(1, CYCLES + 1):
        new, c, e = {}, 0.0, 0.0
        for (state, dur), mass in dist.items():
            for nxt, p in probs(state, dur).items():
                if p == 0:
                    continue
                c += mass * p * cost(nxt, trt)
                e += mass * p * utility(nxt, dur, trt)
                key = (nxt, dur + 1 if nxt in ("S1", "S2") else 0)
                new[key] = new.get(key, 0.0) + mass * p
        dist = new
        d = (1 + RATE) ** -t
        total_c += c * d
        total_e += e * d
    return total_c, total_e


if __name__ == "__main__":
    (c0, e0), (c1, e1) = run(0), run(1)
    print("arm,cost_per_person,qalys_per_person")
    print(f"no_treatment,{c0:.8f},{e0:.10f}")
    print(f"treatment,{c1:.8f},{e1:.10f}")
    print(f"difference,{c1 - c0:.8f},{e1 - e0:.10f}")
    print(f"ICER,{(c1 - c0) / (e1 - e0):.4f},")
