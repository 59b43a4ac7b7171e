import Calibration
import Foundation
import Testing

/// A 12-rate posterior shaped like a stocks-only fit: stocks pin the net flow between the two rates
/// of each pair, e^φ_a − e^φ_b ~ N(c_k, sd²), not the rates themselves, so in log space each pair
/// has a long ridge, straight where the rates are large and bending where one is small;
/// a weakly informative prior φ ~ N(log 0.3, 1.5²) bounds it. With `children` nil the sd is
/// 0.01 per year everywhere (the ridge narrows as 1/rate in log space: a funnel); with `children`
/// n it is √((e^φ_a + e^φ_b)/n), as for counts of n children (narrowing as 1/√rate).
struct StockLikeRidge: DifferentiableLogDensity {
    static let netFlows = [0.1, -0.05, 0.2, 0.02, -0.1, 0.05]
    let sd = 0.01, priorMean = log(0.3), priorSD = 1.5
    var children: Double? = nil
    var dimension: Int { 12 }
    func logDensityAndGradient(_ x: [Double]) -> (value: Double, gradient: [Double]) {
        var value = 0.0
        var gradient = [Double](repeating: 0, count: 12)
        for i in 0..<12 {
            let z = (x[i] - priorMean) / priorSD
            value -= 0.5 * z * z
            gradient[i] = -z / priorSD
        }
        for (k, c) in Self.netFlows.enumerated() {
            let ra = exp(x[2 * k]), rb = exp(x[2 * k + 1])
            if let n = children {
                // −½·n·D²/S − ½·log S, D = ra − rb − c, S = ra + rb.
                let s = ra + rb, dd = ra - rb - c
                value -= 0.5 * n * dd * dd / s + 0.5 * log(s)
                let common = 0.5 * n * dd * dd / (s * s) - 0.5 / s
                gradient[2 * k] += ra * (-n * dd / s + common)
                gradient[2 * k + 1] += rb * (n * dd / s + common)
            } else {
                let r = (ra - rb - c) / sd
                value -= 0.5 * r * r
                gradient[2 * k] -= r * ra / sd
                gradient[2 * k + 1] += r * rb / sd
            }
        }
        return (value, gradient)
    }
    /// A start on the ridge: both rates of a pair near the prior mean, the larger by the net flow.
    func start(_ chain: Int) -> [Double] {
        (0..<12).map { i in
            let c = Self.netFlows[i / 2], base = 0.3 * exp(0.2 * Double(chain - 2))
            return log(i % 2 == 0 ? base + max(c, 0) : base + max(-c, 0))
        }
    }
}

/// Effective samples per second of NUTS and adaptive Metropolis on ridges (docs/performance.md,
/// "Calibration samplers"). Prints figures, asserts nothing about speed; runs only with
/// GIRFEC_BENCH set: `GIRFEC_BENCH=1 swift test -c release --filter SamplerBenchmarkTests`
/// (GIRFEC_BENCH=chains: per-chain figures on the curved ridge; =seeds: dense vs diagonal over six more seeds).
@Suite("Sampler benchmark", .enabled(if: ProcessInfo.processInfo.environment["GIRFEC_BENCH"] != nil))
struct SamplerBenchmarkTests {
    /// Worst coordinate's bulk ESS, worst R̂, over all coordinates.
    func summary(_ chains: [MarkovChain]) -> (ess: Double, rHat: Double) {
        let d = chains[0].draws[0].count
        var ess = Double.infinity, rHat = 0.0
        for k in 0..<d {
            let x = chains.map { c in c.draws.map { $0[k] } }
            ess = min(ess, MCMCDiagnostics.bulkEffectiveSampleSize(x))
            rHat = max(rHat, MCMCDiagnostics.rankNormalizedRHat(x))
        }
        return (ess, rHat)
    }

    func seconds(_ body: () throws -> [MarkovChain]) rethrows -> ([MarkovChain], Double) {
        let start = DispatchTime.now().uptimeNanoseconds
        let chains = try body()
        return (chains, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
    }

    func compare(_ name: String, _ density: any DifferentiableLogDensity, starts: [[Double]],
                 variants: [(NUTSSettings.Metric, Double)] = [(.dense, 0.8), (.diagonal, 0.8), (.dense, 0.95)],
                 seeds: [UInt64] = [1, 2], metropolis: Bool = true) throws {
        for seed in seeds {
            for (metric, delta) in variants {
                let settings = NUTSSettings(chains: 4, warmup: 1000, samples: 1000, seed: seed, targetAcceptance: delta,
                                            metric: metric, parallel: false)
                let (chains, time) = try seconds { try NUTS.sample(density, starts: starts, settings: settings) }
                let (ess, rHat) = summary(chains)
                let gradients = chains.reduce(0) { $0 + $1.gradientEvaluations }
                let divergences = chains.reduce(0) { $0 + $1.divergences }
                print(String(format: "%@ seed %d NUTS %@ δ=%.2f 4x(1000+1000): %.2f s, min bulk ESS %.0f, max R̂ %.3f, ESS/s %.0f, gradients %d, ESS per 1000 gradients %.2f, divergences %d, step %.3g",
                             name, seed, metric.rawValue, delta, time, ess, rHat, ess / time, gradients, 1000 * ess / Double(gradients),
                             divergences, chains[0].stepSize))
                if ProcessInfo.processInfo.environment["GIRFEC_BENCH"] == "chains" {
                    for c in chains {
                        let m = c.proposalCovariance
                        print(String(format: "  chain: step %.3g, accept %.2f, divergences %d, saturations %d, E-BFMI %.2f, metric sd₀ %.3g sd₁ %.3g corr₀₁ %.3f",
                                     c.stepSize, c.acceptanceRate, c.divergences, c.treeDepthSaturations, c.energyBFMI,
                                     m[0][0].squareRoot(), m[1][1].squareRoot(), m[0][1] / (m[0][0] * m[1][1]).squareRoot()))
                    }
                }
            }
            for (burnIn, samples) in [(2000, 2000), (20_000, 20_000)] where metropolis {
                let settings = MCMCSettings(chains: 4, burnIn: burnIn, samples: samples, seed: seed, parallel: false)
                let logDensity: @Sendable ([Double]) -> Double = { density.logDensityAndGradient($0).value }
                let (chains, time) = try seconds {
                    try AdaptiveMetropolis.sample(logDensity: logDensity, starts: starts, settings: settings)
                }
                let (ess, rHat) = summary(chains)
                let evaluations = 4 * (burnIn + samples)
                print(String(format: "%@ seed %d adaptive Metropolis 4x(%d+%d): %.2f s, min bulk ESS %.0f, max R̂ %.3f, ESS/s %.0f, evaluations %d, ESS per 1000 evaluations %.2f",
                             name, seed, burnIn, samples, time, ess, rHat, ess / time, evaluations, 1000 * ess / Double(evaluations)))
            }
        }
    }

    @Test func countRidgeChains() throws {
        guard ProcessInfo.processInfo.environment["GIRFEC_BENCH"] == "chains" else { return }
        let counts = StockLikeRidge(children: 2000)
        try compare("stock-like ridge (counts of 2000)", counts, starts: (0..<4).map(counts.start),
                    variants: [(.dense, 0.8), (.diagonal, 0.8)])
    }

    /// Dense or diagonal: eight seeds of each on the curved (count-scaled) stock-like ridge. GIRFEC_BENCH=seeds.
    @Test func metricChoice() throws {
        guard ProcessInfo.processInfo.environment["GIRFEC_BENCH"] == "seeds" else { return }
        let counts = StockLikeRidge(children: 2000)
        try compare("stock-like ridge (counts of 2000)", counts, starts: (0..<4).map(counts.start),
                    variants: [(.dense, 0.8), (.diagonal, 0.8), (.dense, 0.95), (.diagonal, 0.95)],
                    seeds: Array(3...8), metropolis: false)
    }

    @Test func ridgeGaussian() throws {
        guard ProcessInfo.processInfo.environment["GIRFEC_BENCH"] == "1" else { return }
        let target = TestRidge.gaussian
        let starts = (0..<4).map { c in (0..<12).map { 0.05 * Double(c - 2 + $0 % 2) * target.variance($0).squareRoot() } }
        try compare("ridge Gaussian", target, starts: starts, variants: [(.dense, 0.8), (.diagonal, 0.8)])
    }

    @Test func stockLikeRidge() throws {
        guard ProcessInfo.processInfo.environment["GIRFEC_BENCH"] == "1" else { return }
        let target = StockLikeRidge()
        try compare("stock-like ridge (sd 0.01)", target, starts: (0..<4).map(target.start))
        let counts = StockLikeRidge(children: 2000)
        try compare("stock-like ridge (counts of 2000)", counts, starts: (0..<4).map(counts.start))
    }
}
