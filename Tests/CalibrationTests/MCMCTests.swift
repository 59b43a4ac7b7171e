import Calibration
import CGSL
import Foundation
import Stochastics
import Testing

/// Draws of a known process on `.testing` streams: one stream per chain.
private func testChains(_ count: Int, length: Int, seed: UInt64, _ next: (Double, Double) -> Double) -> [[Double]] {
    (0..<count).map { c in
        let stream = RandomStream(StreamAddress(seed: seed, replication: UInt32(c), purpose: .testing, index: 0))
        var x = 0.0
        return (0..<length).map { _ in
            x = next(x, stream.withGenerator { gsl_ran_gaussian($0, 1) })
            return x
        }
    }
}

@Suite("Adaptive Metropolis and convergence diagnostics")
struct MCMCTests {
    /// A 2-D Gaussian with correlation 0.8, started far away: the draws' mean is within
    /// 4 Monte Carlo standard errors (sd/√ESS) of the truth, the variances within 4 of their
    /// own (√(2/ESS) relative), the correlation within 0.05; R̂ < 1.01; the frozen proposal
    /// has learnt the target's correlation.
    @Test func samplesACorrelatedGaussian() throws {
        let mean = [1.0, -2.0], sd = [1.0, 2.0], rho = 0.8
        let logDensity: @Sendable ([Double]) -> Double = { x in
            let z0 = (x[0] - mean[0]) / sd[0], z1 = (x[1] - mean[1]) / sd[1]
            return -(z0 * z0 - 2 * rho * z0 * z1 + z1 * z1) / (2 * (1 - rho * rho))
        }
        let settings = MCMCSettings(chains: 4, burnIn: 2000, samples: 5000, seed: 2024, purpose: .testing)
        let starts = [[10.0, 10], [-10, 10], [10, -10], [-10, -10]]
        let chains = try AdaptiveMetropolis.sample(logDensity: logDensity, starts: starts, settings: settings)
        var sample: [[Double]] = [[], []]
        for k in 0..<2 {
            let x = chains.map { c in c.draws.map { $0[k] } }
            let all = x.flatMap { $0 }
            let m = all.reduce(0, +) / Double(all.count)
            let v = all.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(all.count - 1)
            let ess = MCMCDiagnostics.bulkEffectiveSampleSize(x)
            let rHat = MCMCDiagnostics.rankNormalizedRHat(x)
            print("coordinate \(k): mean \(m), sd \(v.squareRoot()), ESS bulk \(ess), basic \(MCMCDiagnostics.effectiveSampleSize(x)), R̂ \(rHat), split R̂ \(MCMCDiagnostics.splitRHat(x))")
            #expect(ess > 1000, "ESS \(ess) of 20,000 draws")
            #expect(rHat < 1.01, "R̂ \(rHat)")
            #expect(abs(m - mean[k]) < 4 * sd[k] / ess.squareRoot(), "mean \(m), truth \(mean[k]), MCSE \(sd[k] / ess.squareRoot())")
            #expect(abs(v / (sd[k] * sd[k]) - 1) < 4 * (2 / ess).squareRoot(), "variance \(v), truth \(sd[k] * sd[k])")
            sample[k] = all
        }
        let n = Double(sample[0].count)
        let m0 = sample[0].reduce(0, +) / n, m1 = sample[1].reduce(0, +) / n
        var c01 = 0.0, c00 = 0.0, c11 = 0.0
        for (a, b) in zip(sample[0], sample[1]) { c01 += (a - m0) * (b - m1); c00 += (a - m0) * (a - m0); c11 += (b - m1) * (b - m1) }
        let r = c01 / (c00 * c11).squareRoot()
        #expect(abs(r - rho) < 0.05, "correlation \(r), truth \(rho)")
        for c in chains {
            let p = c.proposalCovariance
            let learnt = p[0][1] / (p[0][0] * p[1][1]).squareRoot()
            #expect(abs(learnt - rho) < 0.1, "proposal correlation \(learnt)")
            #expect((0.15...0.45).contains(c.acceptanceRate), "acceptance \(c.acceptanceRate)")
        }
    }

    /// Chains stuck in different places: R̂ is far above 1.1; so is split-R̂ of one chain that drifts.
    @Test func rHatFlagsChainsThatDoNotMix() {
        let stuck = testChains(4, length: 1000, seed: 1) { _, z in z }.enumerated().map { c, x in x.map { $0 + Double(c) } }
        #expect(MCMCDiagnostics.rankNormalizedRHat(stuck) > 1.1)
        #expect(MCMCDiagnostics.splitRHat(stuck) > 1.1)
        let drifting = testChains(1, length: 1000, seed: 2) { _, z in z }.map { x in x.enumerated().map { i, v in v + Double(i) / 250 } }
        #expect(MCMCDiagnostics.splitRHat(drifting) > 1.1, "\(MCMCDiagnostics.splitRHat(drifting))")
        let mixed = testChains(4, length: 1000, seed: 3) { _, z in z }
        #expect(MCMCDiagnostics.rankNormalizedRHat(mixed) < 1.01)
        #expect(MCMCDiagnostics.splitRHat(mixed) < 1.01)
    }

    /// ESS of independent draws is about the number of draws; of an AR(1) chain
    /// x_t = φ·x_{t−1} + z_t it is about N·(1 − φ)/(1 + φ), the integrated autocorrelation time.
    @Test func effectiveSampleSizeMatchesKnownProcesses() {
        let iid = testChains(4, length: 2000, seed: 4) { _, z in z }
        let essIID = MCMCDiagnostics.effectiveSampleSize(iid)
        #expect(abs(essIID / 8000 - 1) < 0.15, "ESS of 8,000 independent draws: \(essIID)")
        let phi = 0.9
        let ar = testChains(4, length: 10_000, seed: 5) { x, z in phi * x + z }
        let expected = 40_000 * (1 - phi) / (1 + phi)
        for ess in [MCMCDiagnostics.effectiveSampleSize(ar), MCMCDiagnostics.bulkEffectiveSampleSize(ar)] {
            #expect(abs(ess / expected - 1) < 0.2, "ESS \(ess), expected about \(expected)")
        }
        // Tail ESS (of the 5 % and 95 % quantile indicators): about the number of
        // independent draws; below it, but above the mean's ESS, for the AR(1) chain
        // (indicators forget faster than the values).
        let tailIID = MCMCDiagnostics.tailEffectiveSampleSize(iid)
        #expect(abs(tailIID / 8000 - 1) < 0.25, "tail ESS of 8,000 independent draws: \(tailIID)")
        let tail = MCMCDiagnostics.tailEffectiveSampleSize(ar)
        #expect(tail > 0.8 * expected && tail < 40_000 / 3, "tail ESS \(tail), ESS of the values about \(expected)")
    }

    /// The same seed gives the same chains in parallel or in sequence; another seed does not.
    @Test func chainsAreReproducible() throws {
        let logDensity: @Sendable ([Double]) -> Double = { -0.5 * $0[0] * $0[0] }
        let settings = MCMCSettings(chains: 3, burnIn: 50, samples: 100, seed: 9, purpose: .testing)
        var serial = settings
        serial.parallel = false
        var other = settings
        other.seed = 10
        let starts = [[0.0], [1], [2]]
        let a = try AdaptiveMetropolis.sample(logDensity: logDensity, starts: starts, settings: settings).map(\.draws)
        let b = try AdaptiveMetropolis.sample(logDensity: logDensity, starts: starts, settings: serial).map(\.draws)
        let c = try AdaptiveMetropolis.sample(logDensity: logDensity, starts: starts, settings: other).map(\.draws)
        #expect(a == b)
        #expect(a != c)
        #expect(a[0] != a[1])
        #expect(throws: StockCalibrationError.self) {
            try AdaptiveMetropolis.sample(logDensity: { _ in -.infinity }, starts: starts, settings: settings)
        }
    }
}

@Suite("Convergence diagnostics against ArviZ")
struct MCMCDiagnosticsReferenceTests {
    /// Four deterministic chains of 101 draws (odd, so the middle draw is dropped when splitting),
    /// x[c][i] = sin(0.3·i + c) + 0.3·sin(2.1·i·(c+1)) + 0.1·c: smooth, autocorrelated, with shifted means.
    static let chains: [[Double]] = (0..<4).map { c in
        (0..<101).map { i in
            let x = Double(i), k = Double(c)
            return sin(0.3 * x + k) + 0.3 * sin(2.1 * x * (k + 1)) + 0.1 * k
        }
    }

    /// Reference values from ArviZ 0.23.4 (numpy 2.4.6), an implementation independent of this one,
    /// computed in a scratch virtual environment with
    ///
    ///     python -m venv /tmp/v && /tmp/v/bin/pip install arviz
    ///     /tmp/v/bin/python -c 'import numpy as np, arviz as az
    ///     from arviz.stats.diagnostics import _ess, _split_chains
    ///     x = np.array([[np.sin(0.3*i + c) + 0.3*np.sin(2.1*i*(c+1)) + 0.1*c for i in range(101)] for c in range(4)])
    ///     print(az.rhat(x, method="rank"), az.ess(x, method="bulk"), az.ess(x, method="tail"),
    ///           az.rhat(x, method="split"), _ess(_split_chains(x)))'
    ///
    /// Agreement to 1e-9 relative (the inputs' sines may differ in the last bit between libms).
    @Test func agreesWithArviZ() {
        let x = Self.chains
        let cases: [(String, Double, Double)] = [
            ("rank-normalised R̂", MCMCDiagnostics.rankNormalizedRHat(x), 1.0314395155402276),
            ("bulk ESS", MCMCDiagnostics.bulkEffectiveSampleSize(x), 68.88237206274015),
            ("tail ESS", MCMCDiagnostics.tailEffectiveSampleSize(x), 160.16335385891588),
            ("split R̂", MCMCDiagnostics.splitRHat(x), 1.0194321616526514),
            ("ESS", MCMCDiagnostics.effectiveSampleSize(x), 65.53912857126255),
        ]
        for (name, ours, reference) in cases {
            #expect(abs(ours / reference - 1) < 1e-9, "\(name): \(ours), ArviZ \(reference)")
        }
    }
}
