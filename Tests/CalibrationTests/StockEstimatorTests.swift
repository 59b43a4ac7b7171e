import Calibration
import Foundation
import Model
import StockFlow
import Stochastics
import Testing
import TestSupport

/// Small scenarios and synthetic stock data shared by the stock-calibration tests.
enum StockFixtures {
    static let names = ["Universal→Additional", "Additional→Universal"]
    static let paths = ["transitions.matrix.Universal.Additional", "transitions.matrix.Additional.Universal"]

    /// Two levels, a closed population, yearly steps over 10 years.
    static func twoLevels(universal: Int, additional: Int, up: Double = 0.1, down: Double = 0.3) -> String {
        """
        name: two levels
        time: {stepMonths: 12, horizonYears: 10}
        levels:
          Universal: {costPerChildYear: 0, qolWeight: 1}
          Additional: {costPerChildYear: 0, qolWeight: 1}
        population:
          initialCounts: {Universal: \(universal), Additional: \(additional)}
          ageing: false
        transitions:
          unit: ratesPerYear
          matrix:
            Universal: {Additional: \(up)}
            Additional: {Universal: \(down)}
        """
    }

    /// Both levels at years 1…10.
    static let yearly: [StockObservation] = (1...10).flatMap { t in (0..<2).map { StockObservation(timeYears: Double(t), level: $0, count: 0) } }

    /// A simulator whose observations hold Poisson draws (GSL, `.testing` streams) around
    /// the model's expected counts at `truth`.
    static func synthetic(_ yaml: String, truth: [Double], seed: UInt64,
                          observations: [StockObservation] = yearly) throws -> AggregateStockSimulator {
        let scenario = try ScenarioDecoder.decode(yaml: yaml, file: "synthetic.yaml")
        let clean = try AggregateStockSimulator(scenario: scenario, parameterPaths: paths, observations: observations)
        let μ = try clean.stocks(truth)
        let stream = RandomStream(StreamAddress(seed: seed, replication: 0, purpose: .testing, index: 0))
        let noisy = zip(observations, μ).map { o, m in
            StockObservation(timeYears: o.timeYears, level: o.level, count: Double(stream.poisson(mean: m)))
        }
        return try AggregateStockSimulator(scenario: scenario, parameterPaths: paths, observations: noisy)
    }

    static let truth = [0.1, 0.3]

    /// A problem and its posterior, computed once per test process and shared by tests.
    struct Fitted: Sendable {
        let problem: StockCalibrationProblem
        let posterior: StockPosterior
    }

    /// For identifiability: R̂ and widths, not precise means (4 × 2,050 simulator calls).
    static let mcmc = MCMCSettings(chains: 4, burnIn: 800, samples: 1250, seed: 7)
    /// For recovery: R̂ < 1.02 and ESS > 400 need about 2,000 draws per chain (4 × 3,000 calls).
    static let longMCMC = MCMCSettings(chains: 4, burnIn: 1000, samples: 2000, seed: 7)

    static func fit(_ simulator: any StockSimulator, audits: [RecordAudit] = [], settings: MCMCSettings = mcmc) throws -> Fitted {
        let problem = try StockCalibrationProblem(simulator: simulator, priors: priors, likelihood: .poisson, audits: audits)
        return Fitted(problem: problem, posterior: try StockEstimator.posterior(problem, settings: settings))
    }

    /// 5,000 children all in Universal at the start: a transient over 10 years that identifies both rates.
    static let transientScenario = twoLevels(universal: 5000, additional: 0)
    static let transient = Result { try fit(synthetic(transientScenario, truth: truth, seed: 11), settings: longMCMC) }

    /// 5,000 children at the equilibrium of the true rates (a quarter in Additional): the
    /// stocks stay flat whatever the speed, so only the ratio of the two rates is pinned.
    static let equilibriumScenario = twoLevels(universal: 3750, additional: 1250)
    static let equilibrium = Result { try fit(synthetic(equilibriumScenario, truth: truth, seed: 12)) }

    /// Priors centred away from the truth (0.1, 0.3): median 0.2 for both, sdLog 1.
    static let priors: [RatePrior] = [.logNormal(median: 0.2, sdLog: 1), .logNormal(median: 0.2, sdLog: 1)]

    /// Path of a file in the package, from this file's location.
    static func packagePath(_ relative: String) -> String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent(relative).path
    }
}

@Suite("Stock simulator and stock-only estimation")
struct StockEstimatorTests {
    /// The simulator gives the aggregate model of the scenario with θ applied
    /// (`Scenario.applying(_:)`), on the default experiment, and its cost per call.
    #if DEBUG
    static let stepLengths = [12]  // a monthly run takes about a second in a debug build
    #else
    static let stepLengths = [1, 12]
    #endif

    @Test(arguments: stepLengths)
    func simulatorIsTheAppliedScenarioOnTheDefaultExperiment(stepMonths: Int) throws {
        var text = try String(contentsOfFile: StockFixtures.packagePath("experiments/default/scenario.yaml"), encoding: .utf8)
        text = text.replacingOccurrences(of: "stepMonths: 1 ", with: "stepMonths: \(stepMonths) ")
        let scenario = try Fixtures.scenario(text, file: "default.yaml")
        #expect(scenario.arms[0].stepMonths == stepMonths)
        let levels = scenario.levels
        var paths: [String] = []
        for from in levels { for to in levels where to != from { paths.append("transitions.matrix.\(from).\(to)") } }
        let observations = (1...10).flatMap { t in levels.indices.map { StockObservation(timeYears: Double(t), level: $0, count: 0) } }
        let simulator = try AggregateStockSimulator(scenario: scenario, parameterPaths: paths, observations: observations)
        #expect(simulator.parameterNames[0] == "Universal→Additional")
        let base = try #require(simulator.baseValues)
        #expect(abs(base[0] - 0.045) < 1e-9, "Universal→Additional is 0.045 in the file; the simulator read \(base[0])")
        // A point away from the file's values.
        let θ = base.enumerated().map { k, v in v * (k.isMultiple(of: 2) ? 1.3 : 0.8) }
        let mine = try simulator.stocks(θ)
        let arm = try scenario.applying(Array(zip(paths, θ))).arms[0]
        let record = try AggregateModel.run(arm: arm).record
        let layout = RecordLayout(arm: arm)
        for (o, m) in zip(observations, mine) {
            let reference = record[layout.index(step: Int(o.timeYears * 12) / stepMonths, slot: layout.slot(.stock, level: o.level))]
            #expect(abs(m - reference) <= 1e-9 * max(reference, 1), "year \(o.timeYears), \(levels[o.level]): simulator \(m), applied \(reference)")
        }
        // Time per call (printed; run `swift test -c release` for the figures in docs).
        #if DEBUG
        let calls = 2
        #else
        let calls = stepMonths == 12 ? 400 : 40
        #endif
        let clock = ContinuousClock()
        let call = clock.measure { for _ in 0..<calls { _ = try? simulator.stocks(θ) } } / calls
        let model = clock.measure { for _ in 0..<calls { _ = try? AggregateModel.run(arm: arm) } } / calls
        print("default experiment, stepMonths \(stepMonths): \(call) per simulator call; the aggregate model alone \(model)")
    }

    /// A census date between step ends is interpolated linearly; on a step end it is exact.
    @Test func censusDatesBetweenStepsAreInterpolated() throws {
        let scenario = try Fixtures.scenario(StockFixtures.twoLevels(universal: 1000, additional: 0))
        let origin = try #require(Day(iso: "2014-07-31"))
        let rows = ["2015-07-31", "2016-07-31"].enumerated().flatMap { k, date in
            [StockCount(date: Day(iso: date)!, area: "all", level: "Additional", count: 100 + k, line: 2 * k + 2),
             StockCount(date: Day(iso: date)!, area: "all", level: "Universal", count: 900 - k, line: 2 * k + 3)]
        }
        let obs = try StockObservation.series(from: rows, area: "all", origin: origin, levels: scenario.levels)
        #expect(obs.map(\.level) == [0, 1, 0, 1] && obs.map(\.count) == [900, 100, 899, 101])
        #expect(abs(obs[0].timeYears - 365 / 365.25) < 1e-12)
        let onSteps = try AggregateStockSimulator(scenario: scenario, parameterPaths: StockFixtures.paths,
                                                  observations: [0.0, 1, 2, 3].map { StockObservation(timeYears: $0, level: 1, count: 0) })
        let between = try AggregateStockSimulator(scenario: scenario, parameterPaths: StockFixtures.paths, observations: obs)
        let exact = try onSteps.stocks([0.1, 0.3]), interpolated = try between.stocks([0.1, 0.3])
        #expect(exact[0] == 0)
        // 2015-07-31 is 365/365.25 years after the origin (just before year 1); 2016-07-31,
        // a leap year later, 731/365.25 (just after year 2).
        for (k, o) in obs.enumerated() where o.level == 1 {
            let s = Int(o.timeYears.rounded(.down)), f = o.timeYears - Double(s)
            let expected = (1 - f) * exact[s] + f * exact[s + 1]
            #expect(abs(interpolated[k] - expected) < 1e-9, "Additional at \(o.timeYears) years: \(interpolated[k]), expected \(expected)")
        }
        #expect(obs[0].timeYears < 1 && obs[2].timeYears > 2)
        // A closed form: Additional(t) = N·a/(a + b)·(1 − e^{−(a+b)t}) from an empty start.
        #expect(abs(exact[1] - 1000 * 0.25 * (1 - exp(-0.4))) < 1e-9 * 1000)
        // Bad rows are reported together.
        let bad = [StockCount(date: Day(iso: "2010-07-31")!, area: "all", level: "Universal", count: 1, line: 2),
                   StockCount(date: Day(iso: "2015-07-31")!, area: "all", level: "Nowhere", count: 1, line: 3)]
        #expect(throws: CalibrationDataError.self) { try StockObservation.series(from: bad, area: nil, origin: origin, levels: scenario.levels) }
        do { _ = try StockObservation.series(from: bad, area: nil, origin: origin, levels: scenario.levels) } catch {
            #expect(error.issues.count == 2, "\(error)")
        }
    }

    /// Synthetic stocks from a non-equilibrium start identify both rates: the speed of
    /// adjustment pins a + b, the level it settles at pins a/(a + b). The least-squares
    /// estimate and the posterior mean are within 3 posterior sd of the truth; the chains
    /// converge (R̂ < 1.02, bulk and tail ESS > 400 of 8,000 draws). The least-squares
    /// standard errors (Poisson information) agree with the posterior sd of the log-rates within 25 %.
    @Test func recoversIdentifiedRatesFromATransient() throws {
        let truth = StockFixtures.truth
        let (problem, posterior) = try StockFixtures.transient.map { ($0.problem, $0.posterior) }.get()
        let fit = try StockEstimator.leastSquares(problem, settings: StockLeastSquaresSettings(starts: 4, seed: 3))
        print(fit)
        print(posterior)
        #expect(fit.converged)
        #expect(fit.objective < 40, "X² \(fit.objective) on 20 Poisson counts (expected about 20)")
        for k in 0..<2 {
            let s = posterior.summaries[k]
            #expect(abs(s.mean - truth[k]) < 3 * s.sd, "\(s.name): posterior mean \(s.mean) ± \(s.sd), truth \(truth[k])")
            #expect(abs(fit.rates[k] - truth[k]) < 3 * s.sd, "\(s.name): least squares \(fit.rates[k]), truth \(truth[k]), posterior sd \(s.sd)")
            #expect(s.sd < 0.1 * truth[k], "\(s.name): posterior sd \(s.sd) should be well under 10 % of \(truth[k])")
            #expect(s.rHat < 1.02 && s.essBulk > 400 && s.essTail > 400, "\(s.name): R̂ \(s.rHat), ESS \(s.essBulk), \(s.essTail)")
            let logs = posterior.draws.map { log($0[k]) }
            let m = logs.reduce(0, +) / Double(logs.count)
            let logSD = (logs.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(logs.count - 1)).squareRoot()
            #expect(abs(fit.logStandardErrors[k] / logSD - 1) < 0.25, "\(s.name): se(log) \(fit.logStandardErrors[k]), posterior sd(log) \(logSD)")
        }
        #expect(posterior.acceptanceRates.allSatisfy { (0.1...0.6).contains($0) }, "\(posterior.acceptanceRates)")
        // Fitted values and residuals are consistent.
        #expect(zip(zip(fit.observed, fit.fitted), fit.residuals).allSatisfy { abs($0.0 - $0.1 - $1) < 1e-9 })
    }

    /// The same seed gives the same draws, whether chains run in parallel or one after another.
    @Test func posteriorIsReproducibleFromItsSeed() throws {
        let simulator = try StockFixtures.synthetic(StockFixtures.twoLevels(universal: 2000, additional: 0), truth: [0.1, 0.3], seed: 5)
        let problem = try StockCalibrationProblem(simulator: simulator, priors: StockFixtures.priors)
        let settings = MCMCSettings(chains: 2, burnIn: 100, samples: 50, seed: 42)
        var serial = settings
        serial.parallel = false
        let a = try StockEstimator.posterior(problem, settings: settings)
        let b = try StockEstimator.posterior(problem, settings: serial)
        let c = try StockEstimator.posterior(problem, settings: MCMCSettings(chains: 2, burnIn: 100, samples: 50, seed: 43))
        #expect(a.chains == b.chains && a.size == b.size)
        #expect(a.chains != c.chains)
        #expect(a.summaries.count == 3 && a.summaries[2].name == "negative binomial size")
    }

    /// The observation model and the priors are proper densities: the negative binomial sums
    /// to 1 over counts and tends to the Poisson as k grows; each prior integrates to 1 over log θ
    /// and has the stated median.
    @Test func likelihoodAndPriorsAreNormalised() {
        for (μ, k) in [(3.0, 0.5), (40, 5), (40, 1e9)] {
            let total = (0..<2000).reduce(0.0) { $0 + exp(StockLikelihood.logProbability(Double($1), mean: μ, size: k)) }
            #expect(abs(total - 1) < 1e-9, "negative binomial μ \(μ), k \(k): total \(total)")
        }
        for y in [0.0, 7, 40, 90] {
            let poisson = StockLikelihood.logProbability(y, mean: 40, size: nil)
            #expect(abs(StockLikelihood.logProbability(y, mean: 40, size: 1e9) - poisson) < 1e-5)
        }
        for prior in [RatePrior.logNormal(median: 0.2, sdLog: 0.7), .gamma(shape: 2, rate: 10), .gamma(shape: 0.5, rate: 1)] {
            let h = 1e-3
            var total = 0.0, belowMedian = 0.0
            for i in 0..<80_000 {
                let φ = -60 + (Double(i) + 0.5) * h
                let p = exp(prior.logDensity(logRate: φ)) * h
                total += p
                if φ < log(prior.median) { belowMedian += p }
            }
            #expect(abs(total - 1) < 1e-6 && abs(belowMedian - 0.5) < 1e-3, "\(prior): total \(total), below the median \(belowMedian)")
        }
    }

    /// Declared constraints: a fixed rate is not estimated and a tie sets one rate from another;
    /// adjacent-only moves fix the non-adjacent rates at 0; bad declarations say what is wrong.
    @Test func constraintsFixAndTie() throws {
        let simulator = try StockFixtures.synthetic(StockFixtures.transientScenario, truth: StockFixtures.truth, seed: 11)
        let fixed = try StockCalibrationProblem(simulator: simulator, priors: StockFixtures.priors, likelihood: .poisson,
                                                constraints: [.fixed("Additional→Universal", value: 0.3)])
        #expect(fixed.freeNames == ["Universal→Additional"])
        #expect(fixed.rates(free: [0.12]) == [0.12, 0.3])
        let fit = try StockEstimator.leastSquares(fixed, settings: StockLeastSquaresSettings(starts: 2))
        #expect(abs(fit.rates[0] - 0.1) < 0.01 && fit.allRates[1] == 0.3, "\(fit)")
        let tied = try StockCalibrationProblem(simulator: simulator, priors: StockFixtures.priors,
                                               constraints: [.tied("Additional→Universal", to: "Universal→Additional", factor: 3)])
        #expect(tied.rates(free: [0.2]) == [0.2, 3 * 0.2])
        #expect(RateConstraint.adjacentOnly(names: ["A→B", "A→C", "C→A", "B→C"], levels: ["A", "B", "C"])
                == [.fixed("A→C", value: 0), .fixed("C→A", value: 0)])
        #expect(throws: StockCalibrationError.self) {
            try StockCalibrationProblem(simulator: simulator, constraints: [.fixed("Universal→Nowhere", value: 0)])
        }
        #expect(throws: StockCalibrationError.self) {
            try StockCalibrationProblem(simulator: simulator, constraints: StockFixtures.names.map { .fixed($0, value: 0.1) })
        }
        #expect(throws: StockCalibrationError.self) { try simulator.stocks([0.1]) }
        #expect(throws: StockCalibrationError.self) { try simulator.stocks([0.1, -1]) }
    }
}
