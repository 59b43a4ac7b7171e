import Experiments
import Analysis
import Foundation
import Microsimulation
import Model
@testable import Reports
import StockFlow
import Testing
import TestSupport

/// The small fixture with High's leaving depending on months there (everyone starts at 0 months).
private let withDurations = Fixtures.smallScenario.replacingOccurrences(
    of: "    High: {Low: 0.05, Mid: 0.3}\n",
    with: "    High: {Low: 0.05, Mid: 0.3}\n  durationDependence:\n    High: [{fromMonths: 0, leaveMultiplier: 2.5}, {fromMonths: 3, leaveMultiplier: 0.5}]\n")

@Suite("Aggregate model with approximations removed")
struct ExactAggregateTests {
    /// With exposure by entry step and durations by step spent, cohort mode is the
    /// expectation of the agent model even with births, in-migrants and duration
    /// dependence: every stock's agent mean lies within 4 MCSE of it, in both arms.
    @Test func exactExposureAndDurationsAreTheAgentExpectation() throws {
        #expect(withDurations.contains("durationDependence"))
        let scenario = try Fixtures.scenario(withDurations)
        let replications = 300
        for arm in scenario.arms {
            let aggregate = try AggregateModel.run(arm: arm, options: AggregateOptions(exposure: .exact, durations: .exact))
            #expect(aggregate.approximations.isEmpty, "\(aggregate.approximations)")
            try AgentExpectation.expectStocksWithin4MCSE(arm: arm, aggregate: aggregate.record, seed: 32, replications: replications,
                                                        model: "exact cohort")
        }
    }

    /// Without entrants every covered child has the same exposure, and without duration
    /// multipliers every child the same leave multiplier: the exact modes then give the
    /// default model's values (to rounding, 1e-9 relative).
    @Test func exactModesAgreeWithTheDefaultWhereNothingIsApproximated() throws {
        let yaml = Fixtures.smallScenario
            .replacingOccurrences(of: "  births:\n    perYear: {north: 30, south: 20}\n    entryLevels: {Low: 0.9, Mid: 0.1}\n", with: "")
            .replacingOccurrences(of: "migration: {inPerYear: {north: 6, south: 4}, outRatePerYear: 0.02}", with: "migration: {outRatePerYear: 0.02}")
        let scenario = try Fixtures.scenario(yaml)
        #expect(scenario.arms[1].birthsPerYear.allSatisfy { $0 == 0 })
        for arm in scenario.arms {
            let plain = try AggregateModel.run(arm: arm).record
            let exact = try AggregateModel.run(arm: arm, options: AggregateOptions(exposure: .exact, durations: .exact)).record
            for i in plain.indices where !plain[i].isNaN {
                #expect(abs(plain[i] - exact[i]) <= 1e-9 * max(1, abs(plain[i])), "arm \(arm.name), record index \(i): \(plain[i]) vs \(exact[i])")
            }
        }
    }

    /// Exact durations need one move per step.
    @Test func exactDurationsRefuseSDMode() throws {
        let scenario = try Fixtures.scenario(withDurations)
        #expect(throws: AggregateError.self) { try AggregateModel.run(arm: scenario.arms[0], options: AggregateOptions(mode: .sd, durations: .exact)) }
        do {
            _ = try AggregateModel.run(arm: scenario.arms[0], options: AggregateOptions(mode: .sd, durations: .exact))
        } catch {
            #expect(error.description.contains("needs --aggregate-mode cohort"), "\(error.description)")
        }
    }
}

@Suite("Causes of a gap between agents and aggregate")
struct CauseFinderTests {
    /// One level pair, one area, a practice reaching every child; births three times the
    /// starting population a year, so who joined when matters.
    static let births = """
    time: {stepMonths: 1, horizonYears: 2}
    levels:
      A: {costPerChildYear: 100, qolWeight: 1}
      B: {costPerChildYear: 1000, qolWeight: 0.5}
    population:
      initialCounts: {A: 1000}
      ageing: false
      births: {perYear: 3000, entryLevels: {A: 1}}
      migration: {outRatePerYear: 1.5}
    transitions:
      unit: ratesPerYear
      matrix:
        A: {B: 0.6}
        B: {A: 0.6}
    arms:
      baseline: {}
      practice:
        practice:
          p:
            intensity: 1
            coverage: {share: 1}
            escalationEffect: 0.9
            stepDownEffect: 0
            timeToEffectYears: 0.5
            EFFECT
    """

    static func analysis(_ yaml: String, replications: Int, seed: UInt64 = 5) throws -> (Comparison.Analysis, [[String: Any]]) {
        let scenario = try Fixtures.scenario(yaml)
        let result = try Runner.run(RunPlan(scenario: scenario, seed: seed, replications: replications, threads: 2))
        let analysis = try Comparison.Analysis.make(scenario: scenario, bands: BandTable(aggregator: result.aggregator),
                                                    draws: [Comparison.Draw(draw: 0, arms: scenario.arms, replications: 1)],
                                                    parameters: .baseCase, options: AggregateOptions(), threads: 2)
        let json = try JSONSerialization.jsonObject(with: Data(Comparison.summaryJSON(scenario, analysis))) as! [String: Any]
        return (analysis, json["comparison"] as! [[String: Any]])
    }

    /// Saturating effect, births averaged into one mean exposure: the aggregate overstates
    /// the practice; re-running with births by entry step closes the gap, so it is listed
    /// with the RMS z before and after, for stock and arm-difference rows.
    @Test func averagedExposureOfBirthsIsListedWhenTheRerunClosesTheGap() throws {
        let (analysis, json) = try Self.analysis(Self.births.replacingOccurrences(of: "EFFECT", with: ""), replications: 40)
        let practice = analysis.arms[1]
        #expect(practice.verdict == .explained)
        let cause = try #require(practice.causes.first)
        #expect(cause.cause == "zero exposure of births averaged in")
        let before = try #require(cause.before[.armDifferences]), after = try #require(cause.after[.armDifferences])
        #expect(before.largestAbsZ > 4, "arm-difference gap before \(before.largestAbsZ)")
        #expect(before.rmsZ - after.rmsZ >= Comparison.Analysis.reductionMCSE)
        #expect(after.largestAbsZ < 4, "arm-difference gap after \(after.largestAbsZ)")
        #expect(analysis.arms[0].verdict == .chance, "no practice in the first arm: \(analysis.arms[0].gaps[.stocks]!.largestAbsZ)")
        let entry = json[1]["likelyCauses"] as! [[String: Any]]
        let rows = entry[0]["armDifferenceRows"] as! [String: Any]
        #expect(abs((rows["rmsZBefore"] as! Double) - before.rmsZ) < 1e-9 && abs((rows["rmsZAfter"] as! Double) - after.rmsZ) < 1e-9)
        #expect(json[1]["largestArmDifference"] != nil && json[1]["verdict"] as? String == "explained")
    }

    /// An effect that does not depend on exposure, with in-migrants as well as births and a
    /// duration dependence the aggregate averages: the exposure re-run changes nothing, so
    /// its cause is examined but not listed (nor are births and in-migrants apart, not re-run);
    /// duration dependence is listed.
    @Test func aCauseIsNotListedWhenItsRerunDoesNotNarrowTheGap() throws {
        let yaml = Self.births.replacingOccurrences(of: "EFFECT", with: "effectFunction: immediate")
            .replacingOccurrences(of: "migration: {outRatePerYear: 1.5}", with: "migration: {inPerYear: 300, outRatePerYear: 1.5}")
            .replacingOccurrences(of: "    B: {A: 0.6}\n", with: "    B: {A: 0.6}\n  durationDependence:\n    B: [{fromMonths: 0, leaveMultiplier: 3}, {fromMonths: 2, leaveMultiplier: 0.3}]\n")
        #expect(yaml.contains("durationDependence") && yaml.contains("inPerYear"))
        let (analysis, json) = try Self.analysis(yaml, replications: 40)
        for finding in analysis.arms {
            #expect(finding.verdict == .explained, "arm \(finding.arm)")
            #expect(finding.causes.map(\.cause) == ["duration dependence"], "arm \(finding.arm): \(finding.causes.map(\.cause))")
        }
        let practice = analysis.arms[1]
        let examined = Set(practice.tests.filter { !$0.listed }.map(\.cause))
        // Births and in-migrants apart are re-run only when all exposure by entry step narrows the gap.
        #expect(examined == ["group-mean exposure"])
        for test in practice.tests where test.cause != "duration dependence" {
            for (s, before) in test.before { #expect(abs(before.rmsZ - test.after[s]!.rmsZ) < 1e-6, "\(test.cause), \(s)") }
        }
        let notListed = json[1]["causesExaminedNotListed"] as! [[String: Any]]
        #expect(notListed.count == 1 && notListed[0]["cause"] as? String == "group-mean exposure")
    }
}

@Suite("Aggregate model under parameter draws")
struct PerDrawAggregateTests {
    /// With parameter draws the aggregate runs once per draw; aggregate.csv holds the mean over
    /// draws weighted by replications, computed here from `Uncertainty.values(draw:seed:)`,
    /// and every file says `per-draw mean`. The threads do not change the bytes.
    @Test func drawnRunsCompareThePerDrawMean() throws {
        let yaml = Fixtures.smallScenario + """

        uncertainty:
          parameters:
            escalation: {path: transitions.matrix.Mid.High, distribution: gamma, sd: 0.02}
            effect: {path: arms.practice.practice.relational.escalationEffect, distribution: beta, sd: 0.1}
        """
        let scenario = try Fixtures.scenario(yaml)
        var plan = RunPlan(scenario: scenario, seed: 8, replications: 5, threads: 2)
        plan.replicationsPerDraw = 2
        let r = try Runner.run(plan)
        var state = RunState(scenarioFileName: "s.yaml", scenarioText: yaml, seed: 8, replications: 5, commonRandomNumbers: true,
                             covered: [r.covered], aggregator: r.aggregator, rows: r.rows, childSteps: r.childSteps, wallSeconds: 0)
        state.replicationsPerDraw = 2
        let one = try Comparison.Analysis.make(state: state, scenario: scenario, bands: RunResults(state: state, scenario: scenario).bands, threads: 1)
        let two = try Comparison.Analysis.make(state: state, scenario: scenario, bands: RunResults(state: state, scenario: scenario).bands, threads: 2)
        #expect(one.aggregates.parameters == .perDrawMean(draws: 3))
        #expect(Comparison.aggregateCSV(scenario, one.aggregates) == Comparison.aggregateCSV(scenario, two.aggregates))
        #expect(Comparison.comparisonCSV(scenario, BandTable(aggregator: r.aggregator), one.aggregates) == Comparison.comparisonCSV(scenario, BandTable(aggregator: r.aggregator), two.aggregates))
        // Draws 0, 1 and 2 with 2, 2 and 1 replications.
        let u = try #require(scenario.uncertainty)
        let perDraw = try (0..<3).map { d in try u.arms(values: u.values(draw: d, seed: 8)).map { try AggregateModel.run(arm: $0).record } }
        let weights = [2.0, 2.0, 1.0]
        for a in scenario.arms.indices {
            for i in stride(from: 0, to: perDraw[0][a].count, by: 7) where !perDraw[0][a][i].isNaN {
                let expected = (0..<3).reduce(0.0) { $0 + weights[$1] * perDraw[$1][a][i] } / 5
                #expect(abs(one.aggregates.records[a][i] - expected) <= 1e-9 * max(1, abs(expected)), "arm \(a), index \(i)")
            }
        }
        #expect(perDraw[0][1] != perDraw[1][1], "the draws differ")
        let csv = Comparison.aggregateCSV(scenario, one.aggregates).split(separator: "\n")
        #expect(csv[0].hasSuffix(",mode,aggregate_parameters") && csv[1].hasSuffix(",per-draw mean"))
        let comparison = Comparison.comparisonCSV(scenario, BandTable(aggregator: r.aggregator), one.aggregates).split(separator: "\n")
        #expect(comparison[0].hasSuffix(",aggregate_parameters") && comparison.dropFirst().allSatisfy { $0.hasSuffix(",per-draw mean") })
        let summary = try JSONSerialization.jsonObject(with: Data(Comparison.summaryJSON(scenario, one))) as! [String: Any]
        #expect(summary["aggregateParameters"] as? String == "per-draw mean")
        #expect((summary["comparison"] as! [[String: Any]]).allSatisfy { $0["aggregateParameters"] as? String == "per-draw mean" && $0["aggregateDraws"] as? Int == 3 })

        // A re-run over the first 2 of the 3 draws: the per-draw mean plus the mean change over those
        // two (weights 2 and 2), here with exposure per age stock.
        let stocks = AggregateOptions(exposure: .stocks)
        let draws = try Comparison.draws(state: state, scenario: scenario).draws
        let kept = try Comparison.Aggregates.runEach(Array(draws.prefix(2)), options: AggregateOptions(), threads: 1)
        let rerun = try Comparison.Analysis.rerun(draws, subset: 2, kept: kept, main: one.aggregates, options: stocks, threads: 2)
        let variant = try (0..<2).map { d in try u.arms(values: u.values(draw: d, seed: 8)).map { try AggregateModel.run(arm: $0, options: stocks).record } }
        for i in stride(from: 0, to: perDraw[0][1].count, by: 5) where !perDraw[0][1][i].isNaN {
            let change = (2 * (variant[0][1][i] - perDraw[0][1][i]) + 2 * (variant[1][1][i] - perDraw[1][1][i])) / 4
            let expected = one.aggregates.records[1][i] + change
            #expect(abs(rerun.records[1][i] - expected) <= 1e-9 * max(1, abs(expected)), "index \(i)")
        }
        #expect(rerun.records[1] != one.aggregates.records[1], "exposure per stock changes the practice arm")

        // --base-case: the file's own values, said so.
        state.baseCase = true
        let base = try Comparison.Analysis.make(state: state, scenario: scenario, bands: RunResults(state: state, scenario: scenario).bands, threads: 1)
        #expect(base.aggregates.parameters == .baseCase)
        #expect(base.aggregates.records == (try Comparison.Aggregates.run(scenario, options: AggregateOptions()).records))
        #expect(Comparison.aggregateCSV(scenario, base.aggregates).split(separator: "\n")[1].hasSuffix(",base case"))
    }
}
