import Calibration
import Foundation
import Model
import Synchronization
import Testing

/// `SoftplusRateDensity`: the coordinates NUTS moves in by default for stock-only fits.
@Suite("softplus coordinates of stock-only fits")
struct SoftplusCoordinatesTests {
    /// The four-level fixture with 12 free rates and an estimated extra sd: 13 coordinates.
    static func problem() throws -> StockCalibrationProblem {
        let scenario = try ScenarioDecoder.decode(yaml: MarkovFixtures.fourLevels(stepMonths: 12, horizonYears: 6, births: 1200, outRate: 0.05),
                                                  file: "four.yaml")
        let obs = MarkovFixtures.census((0...6).map(Double.init))
        let made = try StockModels.make(scenario: scenario, parameterPaths: MarkovFixtures.twelvePaths, observations: obs)
        let μ = try made.simulator.stocks(MarkovFixtures.twelveRates)
        let y = μ.enumerated().map { $1 * (1 + 0.01 * sin(Double($0))) }
        let priors = MarkovFixtures.twelveRates.indices.map { RatePrior.logNormal(median: [0.1, 0.02, 0.5][$0 % 3], sdLog: 1.5) }
        return try StockCalibrationProblem(simulator: made.simulator, observed: y, priors: priors, likelihood: made.likelihood)
    }

    /// u(φ(u)) = u and φ(u(φ)) = φ to 1e-12, across rates far below, near and far above the scale
    /// (q/s from 1e-6 to 200, where e^(q/s) overflows a direct formula).
    @Test("the map and its inverse round-trip from q/s = 1e-6 to 200")
    func roundTrip() throws {
        let density = SoftplusRateDensity(problem: try Self.problem())
        #expect(density.scalesPerYear.count == 12)
        #expect(density.scalesPerYear[0] == 0.1 && density.scalesPerYear[1] == 0.02 && density.scalesPerYear[2] == 0.5)
        let ratios = [1e-6, 1e-3, 0.3, 1, 3, 29, 31, 200, 2, 0.01, 0.5, 7]
        let φ = ratios.indices.map { Foundation.log(ratios[$0] * density.scalesPerYear[$0]) } + [Foundation.log(0.004)]
        let u = density.coordinates(φ)
        #expect(!u.contains { !$0.isFinite })
        #expect(u[12] == φ[12], "the likelihood's own parameter is not transformed")
        let back = density.logRates(u)
        for k in φ.indices { #expect(abs(back[k] - φ[k]) < 1e-12 * max(1, abs(φ[k])), "coordinate \(k): \(back[k]) vs \(φ[k])") }
        // Far above the scale the map is linear (u ≈ q/s), far below logarithmic (u ≈ log(q/s)).
        #expect(abs(u[7] - 200) < 1e-9)
        #expect(abs(u[0] - Foundation.log(1e-6)) < 1e-5)
    }

    /// The log-Jacobian equals Σ log(dφ_k/du_k) from central differences of φ(u), and the density
    /// is the posterior at φ(u) plus it.
    @Test("the log-Jacobian matches central differences of the map")
    func jacobian() throws {
        let problem = try Self.problem()
        let density = SoftplusRateDensity(problem: problem)
        let u = [-4.0, -1, 0, 0.5, 2, 8, 25, -0.3, 1.5, 3, -2, 0.1, Foundation.log(0.004)]
        let h = 1e-6
        var expected = 0.0
        for k in 0..<12 {
            var up = u, down = u
            up[k] += h; down[k] -= h
            expected += Foundation.log((density.logRates(up)[k] - density.logRates(down)[k]) / (2 * h))
        }
        #expect(abs(density.logJacobian(u) - expected) < 1e-7 * max(1, abs(expected)))
        let value = density.logDensityAndGradient(u).value
        #expect(abs(value - (problem.logPosterior(density.logRates(u)) + density.logJacobian(u))) < 1e-9 * abs(value))
    }

    /// The gradient in u (chain rule through the exact dual-number gradient in φ, plus the
    /// Jacobian's) matches central differences of the value, within 1e-5·(|g| + 1).
    @Test("the gradient matches central differences")
    func gradient() throws {
        let density = SoftplusRateDensity(problem: try Self.problem())
        let φ = MarkovFixtures.twelveRates.map { Foundation.log($0 * 1.2) } + [Foundation.log(0.01)]
        let u = density.coordinates(φ)
        let (value, gradient) = density.logDensityAndGradient(u)
        #expect(value.isFinite && gradient.count == 13)
        let h = 1e-5
        for k in u.indices {
            var up = u, down = u
            up[k] += h; down[k] -= h
            let fd = (density.logDensityAndGradient(up).value - density.logDensityAndGradient(down).value) / (2 * h)
            #expect(abs(gradient[k] - fd) < 1e-5 * (abs(fd) + 1), "∂/∂u\(k): \(gradient[k]) vs \(fd)")
        }
    }

    /// Sampling in softplus coordinates returns chains on the log scale: every draw's stored log
    /// density is the posterior's at that draw, and the sampler line names the coordinates.
    @Test("chains come back on the log scale, with the posterior's own log density")
    func chainsOnTheLogScale() throws {
        let problem = try Self.problem()
        let settings = NUTSSettings(chains: 2, warmup: 10, samples: 5, seed: 11, maxTreeDepth: 3)
        let samples = try StockSampling.sample(problem, settings: settings, coordinates: .softplus)
        #expect(samples.sampler.contains("softplus coordinates"))
        for chain in samples.chains {
            for (draw, logDensity) in zip(chain.draws, chain.logDensity) {
                #expect(abs(logDensity - problem.logPosterior(draw)) < 1e-8 * max(1, abs(logDensity)))
            }
        }
        let onLog = try StockSampling.sample(problem, settings: settings, coordinates: .log)
        #expect(onLog.sampler.contains("log coordinates"))
    }

    /// While the gate fails for want of draws, every chain is extended by `samples` draws (the last
    /// round by what is left) up to `maxSamples`, without new warm-up: the draws are those of one run
    /// of as many draws, the diagnostics are on all of them, and progress names each round.
    @Test("extension rounds until the gate is met or maxSamples is reached")
    func extensionRounds() throws {
        let problem = try Self.problem()
        let settings = NUTSSettings(chains: 2, warmup: 100, samples: 20, seed: 11, maxTreeDepth: 5)
        let labels = Mutex<Set<String>>([])
        let extended = try StockSampling.sample(problem, settings: settings, coordinates: .softplus, maxSamples: 50,
                                                progress: { label, _, _ in labels.withLock { _ = $0.insert(label) } })
        #expect(extended.rounds.map { "\($0.drawsBefore)→\($0.drawsAfter)" } == ["20→40", "40→50"], "\(extended.rounds)")
        #expect(extended.rounds.allSatisfy { $0.reason.contains("ESS") || $0.reason.contains("R̂") }, "\(extended.rounds.map(\.reason))")
        #expect(labels.withLock { $0 } == ["", "extension round 1: 20 → 40 draws per chain", "extension round 2: 40 → 50 draws per chain"])
        #expect(extended.sampler.contains("2 chains × 50 draws (20 at first, then 2 extension rounds without new warm-up) after 100 of warm-up"),
                "\(extended.sampler)")
        var once = settings
        once.samples = 50
        let single = try StockSampling.sample(problem, settings: once, coordinates: .softplus)
        #expect(single.rounds.isEmpty)
        #expect(extended.chains.map(\.draws) == single.chains.map(\.draws))
        #expect(extended.summaries.map(\.essBulk) == single.summaries.map(\.essBulk))
        #expect(StockConvergence.assess(extended).csv == StockConvergence.assess(single).csv)
    }
}
