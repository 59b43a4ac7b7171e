"""girfec's stock-only posterior against a peer sampler (emcee) on the same density.

A small stocks-only data set (3 levels, the 4 moves between neighbours, entries
and exits, a transient; made here by scripts/synthetic_calibration_data.py with
a fixed seed) is fitted by `girfec calibrate`; then emcee (Foreman-Mackey et
al. 2013, PASP 125:306–312, the affine-invariant ensemble sampler of Goodman &
Weare 2010) samples the same posterior through `girfec calibrate CONFIG
--log-density` (one long-lived process, one batch of walkers per step), its
walkers started from girfec's draws.

Compared per parameter on posterior.csv's scale (emcee samples the sampling
coordinates of --log-density, the log of each rate and of any extra
likelihood parameter, so its draws are exponentiated):
  - the posterior means, within 4 combined Monte Carlo standard errors:
    |m_g − m_e| ≤ 4·√(se_g² + se_e²), se_g = sd_g/√ESS_bulk (girfec's
    posterior.csv), se_e = sd_e/√(walkers·steps/τ) with τ emcee's integrated
    autocorrelation time of that parameter;
  - both ends of the 95 % interval, within 4 combined Monte Carlo errors of a
    quantile: se(q_p) = √(p(1−p)/ESS) / f(q_p) (the asymptotic variance of a
    sample quantile, with ESS for the number of draws; Vehtari et al. 2021,
    Bayesian Analysis 16(2):667–718, §4.3), f(q_p) estimated from emcee's
    draws as 0.04 / (q_{p+0.02} − q_{p−0.02}); girfec's ESS is its tail ESS.

Needs numpy and emcee (scripts/install-python-deps.sh); skipped without them.
Runs the binary of scripts/tests/girfec_build.py.
"""
from __future__ import annotations

import csv
import json
import math
import os
import subprocess
import sys

import pytest

np = pytest.importorskip("numpy")
emcee = pytest.importorskip("emcee")

from girfec_build import ROOT, girfec_binary  # noqa: E402
from girfec_py import stockfit  # noqa: E402

GENERATOR = os.path.join(ROOT, "scripts", "synthetic_calibration_data.py")
SEED = 4242                 # the data set's; girfec's seed is the same, emcee's EMCEE_SEED
EMCEE_SEED = 20261206
WALKERS, STEPS, BURN_IN = 32, 2500, 500
TRUTH = {
    "description": "Peer-sampler check: 3 levels, adjacent moves, a transient",
    "levels": ["Universal", "Additional", "Intensive"],
    "start_date": "2015-07-31",
    "years": 7,
    "rates_per_year": {"Universal": {"Additional": 0.06}, "Additional": {"Universal": 0.3, "Intensive": 0.12},
                       "Intensive": {"Additional": 0.35}},
    "exit_rate_per_year": 0.08,
    "areas": {"all": {"initial_counts": {"Universal": 4700, "Additional": 250, "Intensive": 50},
                      "entries_per_year": {"Universal": 380, "Additional": 20}}},
}
PRIORS = {("Universal", "Additional"): (0.1, 1.0), ("Additional", "Universal"): (0.1, 1.0),
          ("Additional", "Intensive"): (0.1, 1.0), ("Intensive", "Additional"): (0.1, 1.0)}


def read_rows(path):
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def quantile_se(draws, p, ess):
    """Monte Carlo standard error of the p-quantile of `draws` with effective sample size `ess`."""
    lo, hi = np.quantile(draws, [max(p - 0.02, 0.001), min(p + 0.02, 0.999)])
    density = (min(p + 0.02, 0.999) - max(p - 0.02, 0.001)) / max(hi - lo, 1e-300)
    return math.sqrt(p * (1 - p) / ess) / density


@pytest.fixture(scope="module")
def fitted(tmp_path_factory):
    folder = tmp_path_factory.mktemp("peer")
    truth_path = folder / "truth-drawn.json"
    truth_path.write_text(json.dumps(TRUTH))
    subprocess.run([sys.executable, GENERATOR, str(truth_path), "--seed", str(SEED), "--out", str(folder)],
                   check=True, capture_output=True)
    config = stockfit.write_fit_inputs(str(folder), TRUTH, PRIORS, SEED, draws=1000, step_months=12,
                                       comment="peer-sampler test: girfec's posterior against emcee's")
    out = folder / "fit"
    status, seconds, stdout, stderr = stockfit.run_calibrate(girfec_binary(), config, str(out), 300)
    return {"folder": folder, "config": config, "out": out, "status": status, "stdout": stdout, "stderr": stderr}


def test_girfec_converges_on_the_small_data_set(fitted):
    assert fitted["status"] == 0, f"girfec calibrate exit {fitted['status']}:\n{fitted['stdout']}\n{fitted['stderr']}"
    posterior = read_rows(fitted["out"] / "posterior.csv")
    for row in posterior:
        assert float(row["r_hat"]) < 1.01, row
        assert float(row["ess_bulk"]) >= 400, row


def test_emcee_agrees_with_girfec(fitted):
    assert fitted["status"] == 0, f"girfec calibrate exit {fitted['status']}:\n{fitted['stdout']}\n{fitted['stderr']}"
    posterior = {r["parameter"]: r for r in read_rows(fitted["out"] / "posterior.csv")}
    draws = read_rows(fitted["out"] / "draws.csv")
    with stockfit.LogDensity(girfec_binary(), fitted["config"]) as density:
        names = density.names
        assert set(names) <= set(posterior), f"--log-density parameters {names}; posterior.csv has {list(posterior)}"
        by_path = {r["path"]: r["parameter"] for r in posterior.values() if r["path"]}
        # Walkers start at girfec's draws (log scale); a parameter draws.csv lacks (an extra likelihood
        # parameter) from a normal on its log with girfec's median and the sd its 95 % interval implies.
        rng = np.random.default_rng(EMCEE_SEED)
        picks = rng.choice(len(draws), size=WALKERS, replace=False)
        start = np.empty((WALKERS, len(names)))
        for k, name in enumerate(names):
            path = next((p for p, n in by_path.items() if n == name), None)
            g = posterior[name]
            sd_log = (math.log(float(g["q97_5"])) - math.log(float(g["q2_5"]))) / 3.92
            for w, i in enumerate(picks):
                start[w, k] = (math.log(float(draws[i][path])) if path
                               else math.log(float(g["median"])) + sd_log * rng.normal())
        assert all(math.isfinite(v) for v in density(start)), "a starting walker is outside girfec's support"

        np.random.seed(EMCEE_SEED)
        sampler = emcee.EnsembleSampler(WALKERS, len(names), lambda xs: np.array(density(xs)), vectorize=True)
        sampler.run_mcmc(start, STEPS, progress=False)
    chain = np.exp(sampler.get_chain(discard=BURN_IN))          # (steps, walkers, d), girfec's scale
    tau = emcee.autocorr.integrated_time(chain, tol=0, quiet=True)
    flat = chain.reshape(-1, len(names))
    assert np.mean(sampler.acceptance_fraction) > 0.1, sampler.acceptance_fraction

    failures, table = [], [f"{'parameter':24} {'girfec mean':>12} {'emcee mean':>12} {'4 MCSE':>9} "
                           f"{'girfec 2.5%':>12} {'emcee 2.5%':>12} {'girfec 97.5%':>12} {'emcee 97.5%':>12} {'emcee τ':>8}"]
    for k, name in enumerate(names):
        g = posterior[name]
        xs = flat[:, k]
        ess_e = flat.shape[0] / tau[k]
        mean_e, sd_e = float(np.mean(xs)), float(np.std(xs, ddof=1))
        se_mean = math.hypot(float(g["sd"]) / math.sqrt(float(g["ess_bulk"])), sd_e / math.sqrt(ess_e))
        if abs(float(g["mean"]) - mean_e) > 4 * se_mean:
            failures.append(f"{name}: mean girfec {g['mean']} against emcee {mean_e:.6g} (4 MCSE = {4 * se_mean:.3g})")
        table.append(f"{name:24} {float(g['mean']):12.5g} {mean_e:12.5g} {4 * se_mean:9.2g} {float(g['q2_5']):12.5g} "
                     f"{np.quantile(xs, 0.025):12.5g} {float(g['q97_5']):12.5g} {np.quantile(xs, 0.975):12.5g} {tau[k]:8.1f}")
        for column, p in (("q2_5", 0.025), ("q97_5", 0.975)):
            q_e = float(np.quantile(xs, p))
            se_q = math.hypot(quantile_se(xs, p, float(g["ess_tail"])), quantile_se(xs, p, ess_e))
            if abs(float(g[column]) - q_e) > 4 * se_q:
                failures.append(f"{name}: {column} girfec {g[column]} against emcee {q_e:.6g} (4 MCSE = {4 * se_q:.3g})")
    print("\n" + "\n".join(table))  # shown by pytest -s: the comparison behind the verdict
    assert not failures, "\n".join(failures + table) + f"\n({flat.shape[0]} emcee draws)"
