import Calibration
import Foundation
import Stochastics
import Synchronization
import Testing

/// A Gaussian with independent 2×2 blocks: pair k has standard deviations (a_k, b_k) and correlation ρ_k; mean 0.
struct PairedGaussian: DifferentiableLogDensity {
    let a: [Double], b: [Double], rho: [Double]
    var dimension: Int { 2 * a.count }
    func logDensityAndGradient(_ x: [Double]) -> (value: Double, gradient: [Double]) {
        var value = 0.0
        var gradient = [Double](repeating: 0, count: dimension)
        for k in a.indices {
            let u = x[2 * k] / a[k], v = x[2 * k + 1] / b[k], r = rho[k], s = 1 - r * r
            value -= (u * u - 2 * r * u * v + v * v) / (2 * s)
            gradient[2 * k] = -(u - r * v) / (s * a[k])
            gradient[2 * k + 1] = -(v - r * u) / (s * b[k])
        }
        return (value, gradient)
    }
    func variance(_ i: Int) -> Double { i % 2 == 0 ? a[i / 2] * a[i / 2] : b[i / 2] * b[i / 2] }
}

/// Rosenbrock-type banana: x₀ ~ N(0, 1), x₁ | x₀ ~ N(x₀², σ²). E x₁ = 1, Var x₁ = 2 + σ².
struct Banana: DifferentiableLogDensity {
    let sigma: Double
    var dimension: Int { 2 }
    func logDensityAndGradient(_ x: [Double]) -> (value: Double, gradient: [Double]) {
        let r = (x[1] - x[0] * x[0]) / sigma
        return (-0.5 * x[0] * x[0] - 0.5 * r * r, [-x[0] + 2 * x[0] * r / sigma, -r / sigma])
    }
}

/// Neal's funnel: v ~ N(0, 3²), xᵢ | v ~ N(0, eᵛ), i = 1…9 (Neal 2003, *Ann. Statist.* 31(3):705–767).
struct Funnel: DifferentiableLogDensity {
    var dimension: Int { 10 }
    func logDensityAndGradient(_ x: [Double]) -> (value: Double, gradient: [Double]) {
        let v = x[0], precision = exp(-v)
        var sumSquares = 0.0
        var gradient = [Double](repeating: 0, count: 10)
        for i in 1..<10 { sumSquares += x[i] * x[i]; gradient[i] = -x[i] * precision }
        gradient[0] = -v / 9 - 4.5 + 0.5 * sumSquares * precision
        return (-v * v / 18 - 0.5 * sumSquares * precision - 4.5 * v, gradient)
    }
}

/// Half-normal on x > 0 (outside: −∞).
struct HalfNormal: DifferentiableLogDensity {
    var dimension: Int { 1 }
    func logDensityAndGradient(_ x: [Double]) -> (value: Double, gradient: [Double]) {
        x[0] > 0 ? (-0.5 * x[0] * x[0], [-x[0]]) : (-.infinity, [0])
    }
}

/// Coordinate k of every chain's draws.
func coordinate(_ chains: [MarkovChain], _ k: Int) -> [[Double]] { chains.map { c in c.draws.map { $0[k] } } }

/// Mean and variance of coordinate k are within `z` Monte Carlo standard errors of the truth:
/// MCSE(mean) = sd/√ESS(x), MCSE(variance) = sd((x−μ)²)/√ESS((x−μ)²), ESS the split-chain ESS.
func expectMoments(_ chains: [MarkovChain], _ k: Int, mean mu: Double, variance sigma2: Double, z: Double = 4,
                   sourceLocation: SourceLocation = #_sourceLocation) {
    let x = coordinate(chains, k)
    let all = x.flatMap { $0 }
    let n = Double(all.count)
    let m = all.reduce(0, +) / n
    let sd = (all.reduce(0) { $0 + ($1 - m) * ($1 - m) } / (n - 1)).squareRoot()
    let mcseMean = sd / MCMCDiagnostics.effectiveSampleSize(x).squareRoot()
    let squares = x.map { $0.map { ($0 - mu) * ($0 - mu) } }
    let flatSquares = squares.flatMap { $0 }
    let v = flatSquares.reduce(0, +) / n
    let sdSquares = (flatSquares.reduce(0) { $0 + ($1 - v) * ($1 - v) } / (n - 1)).squareRoot()
    let mcseVariance = sdSquares / MCMCDiagnostics.effectiveSampleSize(squares).squareRoot()
    #expect(abs(m - mu) < z * mcseMean, "coordinate \(k): mean \(m), truth \(mu), MCSE \(mcseMean)",
            sourceLocation: sourceLocation)
    #expect(abs(v - sigma2) < z * mcseVariance, "coordinate \(k): variance \(v), truth \(sigma2), MCSE \(mcseVariance)",
            sourceLocation: sourceLocation)
}

@Suite("No-U-Turn sampler")
struct NUTSTests {
    /// 12-d standard normal from starts ±3: every mean and variance within 4 MCSE of 0 and 1,
    /// R̂ < 1.01, no divergence, no saturated tree, accept stat near the 0.8 target.
    @Test func samplesAStandardNormal() throws {
        let target = PairedGaussian(a: Array(repeating: 1, count: 6), b: Array(repeating: 1, count: 6),
                                    rho: Array(repeating: 0, count: 6))
        let settings = NUTSSettings(chains: 4, warmup: 300, samples: 500, seed: 11, purpose: .testing)
        let starts = (0..<4).map { c in (0..<12).map { Double(($0 + c) % 3 - 1) * 3 } }
        let chains = try NUTS.sample(target, starts: starts, settings: settings)
        for k in 0..<12 {
            expectMoments(chains, k, mean: 0, variance: 1)
            #expect(MCMCDiagnostics.rankNormalizedRHat(coordinate(chains, k)) < 1.01)
        }
        for c in chains {
            #expect(c.divergences == 0)
            #expect(c.treeDepthSaturations == 0)
            #expect((0.6...0.97).contains(c.acceptanceRate), "accept stat \(c.acceptanceRate)")
            #expect(c.energyBFMI > 0.3, "E-BFMI \(c.energyBFMI)")
        }
    }

    /// Extending a run keeps the warm-up's step size and metric and continues each chain's stream:
    /// 30 draws then 20 more are exactly the 50 draws of one run, bit for bit, serial or parallel;
    /// progress of the extension counts its own iterations only.
    @Test func extendingARunEqualsOneLongerRun() throws {
        let target = TestRidge.gaussian
        let starts = (0..<3).map { c in (0..<12).map { 0.05 * Double(c - 1 + $0 % 2) * target.variance($0).squareRoot() } }
        let long = try NUTS.sample(target, starts: starts, settings: NUTSSettings(chains: 3, warmup: 40, samples: 50, seed: 5, purpose: .testing))
        for parallel in [true, false] {
            let run = try NUTSRun.make(target, starts: starts,
                                       settings: NUTSSettings(chains: 3, warmup: 40, samples: 30, seed: 5, purpose: .testing, parallel: parallel))
            run.sample()
            #expect(run.drawsPerChain == 30)
            let step = run.chains.map(\.stepSize)
            let seen = Mutex<[Int]>([])
            run.extend(by: 20, progress: { done, total in seen.withLock { $0.append(done * 1000 + total) } })
            #expect(seen.withLock { $0.sorted() } == (1...60).map { $0 * 1000 + 60 })
            #expect(run.drawsPerChain == 50)
            #expect(run.chains.map(\.stepSize) == step, "no new warm-up")
            #expect(run.chains.map(\.draws) == long.map(\.draws))
            #expect(run.chains.map(\.logDensity) == long.map(\.logDensity))
            #expect(run.chains.map(\.acceptanceRate) == long.map(\.acceptanceRate))
        }
    }

    /// Progress counts every iteration of every chain, warm-up included, once, up to the total; the
    /// draws are the same with and without it.
    @Test func progressCountsEveryIterationAndChangesNothing() throws {
        let target = TestRidge.gaussian
        let settings = NUTSSettings(chains: 3, warmup: 40, samples: 30, seed: 5, purpose: .testing)
        let starts = (0..<3).map { c in (0..<12).map { 0.05 * Double(c - 1 + $0 % 2) * target.variance($0).squareRoot() } }
        let seen = Mutex<[Int]>([])
        let totals = Mutex<Set<Int>>([])
        let with = try NUTS.sample(target, starts: starts, settings: settings,
                                   progress: { done, total in seen.withLock { $0.append(done) }; totals.withLock { _ = $0.insert(total) } })
        let without = try NUTS.sample(target, starts: starts, settings: settings)
        #expect(seen.withLock { $0.sorted() } == Array(1...3 * 70))
        #expect(totals.withLock { $0 } == [3 * 70])
        #expect(with.map(\.draws) == without.map(\.draws))
    }

    /// A 12-d Gaussian of six ridges (correlation 0.999 within each pair, standard deviations from 0.1 to 30):
    /// moments within 4 MCSE, R̂ < 1.01 with the dense metric, which learns the ridge (its correlation above 0.99; Stan's
    /// regularisation toward 10⁻³·I lowers it from 0.999 for the smallest pair).
    @Test func samplesARidge() throws {
        let target = TestRidge.gaussian
        let settings = NUTSSettings(chains: 4, warmup: 500, samples: 500, seed: 12, purpose: .testing, metric: .dense)
        let starts = (0..<4).map { c in (0..<12).map { 0.05 * Double(c - 2 + $0 % 2) * target.variance($0).squareRoot() } }
        let chains = try NUTS.sample(target, starts: starts, settings: settings)
        for k in 0..<12 {
            expectMoments(chains, k, mean: 0, variance: target.variance(k))
            #expect(MCMCDiagnostics.rankNormalizedRHat(coordinate(chains, k)) < 1.01)
        }
        for c in chains {
            #expect(c.divergences == 0)
            let m = c.proposalCovariance
            #expect(m[0][1] / (m[0][0] * m[1][1]).squareRoot() > 0.99, "metric \(m[0][0]), \(m[0][1]), \(m[1][1])")
        }
    }

    /// The same ridge with the (default) diagonal metric: moments within 4 MCSE, R̂ < 1.01. The slowest
    /// test here (about 10 s in a debug build): a diagonal metric needs about 2⁷ steps per draw on a 0.999 ridge.
    @Test func samplesARidgeWithADiagonalMetric() throws {
        let target = TestRidge.gaussian
        let settings = NUTSSettings(chains: 4, warmup: 500, samples: 500, seed: 17, purpose: .testing)
        #expect(settings.metric == .diagonal)
        let starts = (0..<4).map { c in (0..<12).map { 0.05 * Double(c - 2 + $0 % 2) * target.variance($0).squareRoot() } }
        let chains = try NUTS.sample(target, starts: starts, settings: settings)
        for k in 0..<12 {
            expectMoments(chains, k, mean: 0, variance: target.variance(k))
            #expect(MCMCDiagnostics.rankNormalizedRHat(coordinate(chains, k)) < 1.01)
        }
    }

    /// The banana x₁ | x₀ ~ N(x₀², 1): E x₀ = 0, Var x₀ = 1, E x₁ = 1, Var x₁ = 3 within 4 MCSE; R̂ < 1.01.
    /// (With σ = 0.5 the curvature in the tails needs a smaller step than the bulk: Stan's defaults
    /// give dozens of divergences and R̂ 1.07 there, which is the divergence diagnostic doing its job.)
    @Test func samplesABanana() throws {
        let settings = NUTSSettings(chains: 4, warmup: 500, samples: 1000, seed: 13, purpose: .testing)
        let starts = [[1.0, 1], [-1, 1], [0, 0], [0.5, 0.5]]
        let chains = try NUTS.sample(Banana(sigma: 1), starts: starts, settings: settings)
        expectMoments(chains, 0, mean: 0, variance: 1)
        expectMoments(chains, 1, mean: 1, variance: 3)
        for k in 0..<2 { #expect(MCMCDiagnostics.rankNormalizedRHat(coordinate(chains, k)) < 1.01) }
    }

    /// Neal's funnel defeats a single step size: the sampler must report divergences.
    @Test func reportsDivergencesInAFunnel() throws {
        let settings = NUTSSettings(chains: 2, warmup: 200, samples: 300, seed: 14, purpose: .testing)
        let starts = [[Double](repeating: 0.5, count: 10), [Double](repeating: -0.5, count: 10)]
        let chains = try NUTS.sample(Funnel(), starts: starts, settings: settings)
        let divergences = chains.reduce(0) { $0 + $1.divergences }
        #expect(divergences > 0, "divergences \(divergences)")
    }

    /// The same seed gives identical draws in parallel or in sequence; another seed does not; chains differ.
    @Test func chainsAreReproducible() throws {
        let target = Banana(sigma: 1)
        let settings = NUTSSettings(chains: 3, warmup: 50, samples: 50, seed: 15, purpose: .testing)
        var serial = settings
        serial.parallel = false
        var other = settings
        other.seed = 16
        let starts = [[0.0, 0], [0.1, 0], [0, 0.1]]
        let a = try NUTS.sample(target, starts: starts, settings: settings)
        let b = try NUTS.sample(target, starts: starts, settings: serial)
        let c = try NUTS.sample(target, starts: starts, settings: other)
        #expect(a.map(\.draws) == b.map(\.draws))
        #expect(a.map(\.stepSize) == b.map(\.stepSize))
        #expect(a.map(\.draws) != c.map(\.draws))
        #expect(a[0].draws != a[1].draws)
        #expect(NUTS.streamAddress(seed: 1, chain: 0) != AdaptiveMetropolis.streamAddress(seed: 1, chain: 0))
    }

    /// Stan's windows: 1000 iterations re-estimate the metric after iterations 100, 150, 250, 450, 950
    /// (1-based); 100 iterations once, after 90 (15 + 75); under 20, never.
    @Test func warmUpWindowsAreStans() {
        #expect(NUTS.metricUpdates(warmup: 1000) == [99, 149, 249, 449, 949])
        #expect(NUTS.metricUpdates(warmup: 100) == [89])
        #expect(NUTS.metricUpdates(warmup: 150) == [99])
        #expect(NUTS.metricUpdates(warmup: 19) == [])
    }

    /// The test densities' gradients agree with central differences (h = 1e-6) to 1e-5 relative.
    @Test func testGradientsAreRight() {
        let cases: [(any DifferentiableLogDensity, [Double])] = [
            (TestRidge.gaussian, (0..<12).map { 0.1 * Double($0 % 5) - 0.2 }),
            (Banana(sigma: 0.7), [0.8, -0.3]),
            (Funnel(), (0..<10).map { 0.3 * Double($0 % 4) - 0.4 }),
            (StockLikeRidge(), (0..<12).map { -1.5 + 0.1 * Double($0) }),
            (StockLikeRidge(children: 2000), (0..<12).map { -1.5 + 0.1 * Double($0) }),
        ]
        for (density, x) in cases {
            let g = density.logDensityAndGradient(x).gradient
            for i in x.indices {
                var up = x, down = x
                up[i] += 1e-6; down[i] -= 1e-6
                let numeric = (density.logDensityAndGradient(up).value - density.logDensityAndGradient(down).value) / 2e-6
                #expect(abs(numeric - g[i]) <= 1e-5 * max(1, abs(g[i])), "\(type(of: density)) coordinate \(i): \(g[i]) vs \(numeric)")
            }
        }
    }

    /// Bad settings are all listed in one error; a start outside the support names the chain and the value.
    @Test func badSettingsAndStartsAreExplained() {
        let bad = NUTSSettings(chains: 0, warmup: -1, samples: 0, seed: 1, maxTreeDepth: 0, targetAcceptance: 1.5)
        #expect(bad.problems.count == 5)
        do {
            _ = try NUTS.sample(HalfNormal(), starts: [], settings: bad)
            Issue.record("expected an error")
        } catch {
            for phrase in ["chains is 0", "warmup is -1", "samples is 0", "maxTreeDepth is 0", "targetAcceptance is 1.5"] {
                #expect(error.description.contains(phrase), "\(error.description)")
            }
        }
        let settings = NUTSSettings(chains: 3, warmup: 10, samples: 10, seed: 1, purpose: .testing)
        do {
            _ = try NUTS.sample(HalfNormal(), starts: [[1], [-1], [1, 2]], settings: settings)
            Issue.record("expected an error")
        } catch {
            #expect(error.description.contains("chain 2 starts at [-1.0], where the log density is -inf"), "\(error.description)")
            #expect(error.description.contains("start of chain 3 has 2 coordinates, expected 1"), "\(error.description)")
        }
    }
}

/// The test ridge: six pairs with correlation 0.999 and standard deviations from 0.1 to 30.
enum TestRidge {
    static let gaussian = PairedGaussian(a: [0.1, 1, 10, 0.5, 5, 2], b: [0.1, 3, 3, 0.5, 10, 30],
                                         rho: Array(repeating: 0.999, count: 6))
}
