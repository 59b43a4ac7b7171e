import Calibration
import Foundation
import Model
import Stochastics
import Testing

/// Three levels, a closed population starting all in Universal (a transient over 10 yearly
/// censuses), fitted with adjacent moves only; the data come from the aggregate model at a
/// truth with or without the non-adjacent move Universal→Intensive, with Poisson noise.
enum ThreeLevelFixtures {
    static let levels = ["Universal", "Additional", "Intensive"]
    static let adjacentPaths = ["transitions.matrix.Universal.Additional", "transitions.matrix.Additional.Universal",
                                "transitions.matrix.Additional.Intensive", "transitions.matrix.Intensive.Additional"]
    static let allPaths = adjacentPaths + ["transitions.matrix.Universal.Intensive", "transitions.matrix.Intensive.Universal"]

    /// The scenario the analyst fits: adjacent moves only, each at 0.1 a year.
    static let yaml = """
        name: three levels
        time: {stepMonths: 12, horizonYears: 10}
        levels:
          Universal: {costPerChildYear: 0, qolWeight: 1}
          Additional: {costPerChildYear: 0, qolWeight: 1}
          Intensive: {costPerChildYear: 0, qolWeight: 1}
        population:
          initialCounts: {Universal: 20000, Additional: 0, Intensive: 0}
          ageing: false
        transitions:
          unit: ratesPerYear
          matrix:
            Universal: {Additional: 0.1}
            Additional: {Universal: 0.1, Intensive: 0.1}
            Intensive: {Additional: 0.1}
        """

    static let observations: [StockObservation] = (1...10).flatMap { t in (0..<3).map { StockObservation(timeYears: Double(t), level: $0, count: 0) } }

    /// Counts: Poisson draws (`.testing` stream of `seed`) around μ(truth), truth in `allPaths` order.
    static func counts(truth: [Double], seed: UInt64) throws -> (scenario: Scenario, observations: [StockObservation]) {
        let scenario = try ScenarioDecoder.decode(yaml: yaml, file: "three-levels.yaml")
        let full = try AggregateStockSimulator(scenario: scenario, parameterPaths: allPaths, observations: observations)
        let μ = try full.stocks(truth)
        let stream = RandomStream(StreamAddress(seed: seed, replication: 0, purpose: .testing, index: 0))
        return (scenario, zip(observations, μ).map { StockObservation(timeYears: $0.timeYears, level: $0.level, count: Double(stream.poisson(mean: $1))) })
    }

    /// The adjacent-only problem (Poisson likelihood, priors median 0.1, sdLog 1).
    static func restricted(truth: [Double], seed: UInt64) throws -> StockCalibrationProblem {
        let (scenario, observed) = try counts(truth: truth, seed: seed)
        let simulator = try AggregateStockSimulator(scenario: scenario, parameterPaths: adjacentPaths, observations: observed)
        return try StockCalibrationProblem(simulator: simulator, priors: [RatePrior](repeating: .logNormal(median: 0.1, sdLog: 1), count: 4),
                                           likelihood: .poisson)
    }
}

@Suite struct ModelComparisonTests {
    @Test func fullProblemFreesEveryMoveAndKeepsTheRestrictedPriors() throws {
        let restricted = try ThreeLevelFixtures.restricted(truth: [0.1, 0.3, 0.1, 0.3, 0, 0], seed: 3)
        let full = try #require(try StockModelComparison.fullProblem(of: restricted))
        #expect(full.freeNames == ["Universal→Additional", "Additional→Universal", "Additional→Intensive", "Intensive→Additional",
                                   "Universal→Intensive", "Intensive→Universal"])
        #expect(full.priors[0] == .logNormal(median: 0.1, sdLog: 1))
        // Moves the scenario leaves out: the weakly informative default for an unknown move.
        #expect(full.priors[4] == .logNormal(median: 0.05, sdLog: 1.5))
        #expect(full.observed == restricted.observed)
    }

    /// Truth with a non-adjacent move Universal→Intensive at 0.1 a year, twice Universal→Additional
    /// (levels Universal, Additional, Intensive; seed 3): the adjacent-only fit is rejected and that
    /// move is named. (With Universal→Intensive at 0.05 and Universal→Additional at 0.1, the adjacent
    /// fit mimics it by passing children through Additional at 10–20 a year: 2Δℓ 1.5, no warning —
    /// stocks alone cannot always tell a direct move from a fast pass-through.)
    @Test func nonAdjacentTruthIsWarnedAndTheMoveNamed() throws {
        let restricted = try ThreeLevelFixtures.restricted(truth: [0.05, 0.3, 0.05, 0.3, 0.1, 0], seed: 3)
        let full = try #require(try StockModelComparison.fullProblem(of: restricted))
        let c = StockModelComparison.compare(restricted: restricted, full: full)
        #expect(c.degreesOfFreedom == 2)
        #expect(c.full.logLikelihood >= c.restricted.logLikelihood)
        #expect(c.pValue < 1e-6)
        let warning = try #require(c.warning)
        #expect(warning.hasPrefix("the data prefer more moves than allowed"))
        #expect(warning.contains("Universal→Intensive"))
        #expect(!warning.contains("Intensive→Universal"))
        let ui = try #require(c.extra.first { $0.name == "Universal→Intensive" })
        #expect(ui.clearlyAboveZero)
        // The MLE near the truth: 20,000 children, 10 censuses pin it to a few per cent.
        #expect(abs(ui.rate - 0.1) < 0.01)
        #expect(c.csv.hasPrefix(StockModelComparison.csvHeader + "\n\"Universal→Intensive;Intensive→Universal\",2,") ||
                c.csv.hasPrefix(StockModelComparison.csvHeader + "\nUniversal→Intensive;Intensive→Universal,2,"))
        #expect(c.csv.split(separator: "\n").count == 4)
        // The adjacent maximum passes children through Additional faster than once a month.
        #expect(!c.passThroughs.isEmpty)
        #expect(c.description.contains("WARNING: the restricted fit's maximum needs "))
    }

    /// Truth with adjacent moves only (same levels, seed 3): no warning, the extra moves' MLEs near 0.
    @Test func adjacentTruthIsNotWarned() throws {
        let restricted = try ThreeLevelFixtures.restricted(truth: [0.1, 0.3, 0.1, 0.3, 0, 0], seed: 3)
        let full = try #require(try StockModelComparison.fullProblem(of: restricted))
        let c = StockModelComparison.compare(restricted: restricted, full: full)
        #expect(c.pValue > 0.05)
        #expect(c.warning == nil && c.passThroughWarning == nil)
        #expect(c.statistic >= 0 && c.statistic < 6)
        for e in c.extra { #expect(!e.clearlyAboveZero, "\(e.name): \(e.rate), p \(e.pValue)") }
    }

    /// A fit that frees every move has nothing to compare against.
    @Test func everyMoveFreeGivesNoComparison() throws {
        let (scenario, observed) = try ThreeLevelFixtures.counts(truth: [0.1, 0.3, 0.1, 0.3, 0, 0], seed: 3)
        let simulator = try AggregateStockSimulator(scenario: scenario, parameterPaths: ThreeLevelFixtures.allPaths, observations: observed)
        let problem = try StockCalibrationProblem(simulator: simulator, likelihood: .poisson)
        #expect(try StockModelComparison.fullProblem(of: problem) == nil)
    }
}
