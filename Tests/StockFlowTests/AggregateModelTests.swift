import Analysis
import Experiments
import Foundation
import Microsimulation
import Model
import Reports
import StockFlow
import Testing
import TestSupport

@Suite("Aggregate stock-flow model")
struct AggregateModelTests {
    /// The small fixture without in-migration: areas, births, ageing out,
    /// out-migration and a practice reaching 70 % of one area. With exposure
    /// carried per age stock, cohort mode is the exact expectation of the
    /// agent model, so the agent mean of every stock lies within 4 Monte Carlo
    /// standard errors of it at every step, in both arms.
    @Test func cohortModeIsTheAgentExpectation() throws {
        let yaml = Fixtures.smallScenario.replacingOccurrences(
            of: "migration: {inPerYear: {north: 6, south: 4}, outRatePerYear: 0.02}", with: "migration: {outRatePerYear: 0.02}")
        let scenario = try Fixtures.scenario(yaml)
        let replications = 300
        for arm in scenario.arms {
            let aggregate = try AggregateModel.run(arm: arm, options: AggregateOptions(mode: .cohort, exposure: .stocks))
            #expect(aggregate.approximations.isEmpty, "\(aggregate.approximations)")
            try AgentExpectation.expectStocksWithin4MCSE(arm: arm, aggregate: aggregate.record, seed: 31, replications: replications,
                                                        model: "cohort")
        }
    }

    static let twoState = """
    time: {stepMonths: 12, horizonYears: 1}
    levels:
      A: {costPerChildYear: 0, qolWeight: 1}
      B: {costPerChildYear: 0, qolWeight: 1}
    population:
      initialCounts: {A: 1000}
      ageing: false
    transitions:
      unit: ratesPerYear
      matrix:
        A: {B: 0.7}
        B: {A: 0.3}
    """

    /// SD mode on dS/dt = S·Q with Q = [[−a, a], [b, −b]], whose solution is
    /// S_B(t) = S_A(0)·a/(a+b)·(1 − e^{−(a+b)t}). Halving DT divides the
    /// error by about 2 with Euler (order 1) and 16 with RK4 (order 4).
    @Test(arguments: [(IntegrationMethod.euler, 1.0), (.rk4, 4.0)])
    func sdModeConvergesWithTheExpectedOrder(method: IntegrationMethod, order: Double) throws {
        let arm = try Fixtures.scenario(Self.twoState).arms[0]
        let layout = RecordLayout(arm: arm)
        let exact = 1000 * 0.7 / 1.0 * (1 - exp(-1.0))
        var errors: [Double] = []
        for dt in [1.0 / 4, 1.0 / 8, 1.0 / 16, 1.0 / 32] {
            let r = try AggregateModel.run(arm: arm, options: AggregateOptions(mode: .sd, dtYears: dt, method: method))
            errors.append(abs(r.record[layout.index(step: 1, slot: layout.slot(.stock, level: 1))] - exact))
        }
        let orders = zip(errors, errors.dropFirst()).map { log2($0 / $1) }
        for observed in orders {
            #expect(abs(observed - order) < 0.15 * order, "observed orders \(orders), errors \(errors)")
        }
    }

    /// Cohort mode with rates reproduces exp(Q·dt) exactly; SD with a fine RK4 step agrees.
    @Test func cohortAndSDAgreeOnAClosedChain() throws {
        let arm = try Fixtures.scenario(Self.twoState).arms[0]
        let layout = RecordLayout(arm: arm)
        let cohort = try AggregateModel.run(arm: arm, options: AggregateOptions(mode: .cohort))
        let sd = try AggregateModel.run(arm: arm, options: AggregateOptions(mode: .sd, dtYears: 1.0 / 64, method: .rk4))
        let i = layout.index(step: 1, slot: layout.slot(.stock, level: 1))
        #expect(abs(cohort.record[i] - 700 * (1 - exp(-1.0))) < 1e-9)
        #expect(abs(sd.record[i] - cohort.record[i]) < 1e-6)
        let flow = layout.index(step: 1, slot: layout.flowSlot(from: 0, to: 1)!)
        #expect(sd.record[flow] > cohort.record[flow], "continuous time counts every A→B move, including those that return within the year")
    }

    /// Stocks + cumulative exits = initial + cumulative entries, in every mode.
    @Test(arguments: [AggregateOptions(mode: .cohort, exposure: .meanField), AggregateOptions(mode: .cohort, exposure: .stocks),
                      AggregateOptions(mode: .sd, dtYears: 1.0 / 48, method: .rk4)])
    func childrenAreConserved(options: AggregateOptions) throws {
        let scenario = try Fixtures.scenario(Fixtures.smallScenario)
        for arm in scenario.arms {
            let r = try AggregateModel.run(arm: arm, options: options)
            let layout = RecordLayout(arm: arm)
            func v(_ t: Int, _ q: Quantity) -> Double { r.record[layout.index(step: t, slot: layout.slot(q, level: nil))] }
            var entries = 0.0, exits = 0.0
            for t in 1...arm.steps {
                entries += v(t, .entries)
                exits += v(t, .exits)
                #expect(abs(v(t, .stock) + exits - v(0, .stock) - entries) < 1e-6, "arm \(arm.name), step \(t), \(options.label)")
            }
        }
    }

    /// The stationary leave multiplier: a level whose children leave fast early
    /// and slowly later has a mean multiplier between the two.
    @Test func stationaryLeaveMultiplierLiesBetweenTheBands() throws {
        let yaml = Self.twoState + """

          durationDependence:
            A: [{fromMonths: 0, leaveMultiplier: 2}, {fromMonths: 24, leaveMultiplier: 0.5}]
        """
        let arm = try Fixtures.scenario(yaml).arms[0]
        let m = AggregateModel.stationaryLeaveMultipliers(arm: arm)
        #expect(m[1] == 1)
        #expect(m[0] > 0.5 && m[0] < 2, "\(m)")
        let r = try AggregateModel.run(arm: arm)
        #expect(r.approximations.contains { $0.hasPrefix("duration dependence") })
    }
}

@Suite("Reinvestment in the aggregate model")
struct ReinvestmentTests {
    /// Reinvesting savings raises intensity: more money spent on prevention,
    /// fewer children in the top level, than the same arm with fraction 0.
    @Test func reinvestedSavingsBuyMorePractice() throws {
        let scenario = try Fixtures.scenario(try String(contentsOfFile: "experiments/reinvestment/scenario.yaml", encoding: .utf8))
        let aggregates = try Comparison.Aggregates.run(scenario, options: AggregateOptions())
        let layout = RecordLayout(arm: scenario.arms[0])
        let (without, with) = (aggregates.records[1], aggregates.records[2])
        let top = layout.index(step: layout.steps, slot: layout.slot(.stock, level: scenario.levels.count - 1))
        let programme = layout.index(step: layout.steps, slot: layout.slot(.programmeCost, level: nil))
        #expect(with[programme] > without[programme])
        #expect(with[top] < without[top], "top-level stock with reinvestment \(with[top]), without \(without[top])")
    }
}

@Suite("Agents beside the aggregate")
struct ComparisonTests {
    /// The first arm's entry of summary.json after `replications` agent replications.
    static func firstArmSummary(_ scenario: Scenario, replications: Int) throws -> (arm: [String: Any], csv: String) {
        let result = try Runner.run(RunPlan(scenario: scenario, seed: 2, replications: replications, threads: 2))
        let analysis = try Comparison.Analysis.make(scenario: scenario, bands: BandTable(aggregator: result.aggregator),
                                                    draws: [Comparison.Draw(draw: 0, arms: scenario.arms, replications: 1)],
                                                    parameters: .baseCase, options: AggregateOptions())
        let json = try JSONSerialization.jsonObject(with: Data(Comparison.summaryJSON(scenario, analysis))) as! [String: Any]
        return ((json["comparison"] as! [[String: Any]])[0], Comparison.comparisonCSV(scenario, BandTable(aggregator: result.aggregator), analysis.aggregates))
    }

    /// Everyone starts at 0 months in level A, where leaving is fast in the
    /// first year and slow after: the agents empty A faster early on than the
    /// aggregate's stationary mean hazard, and summary.json says why.
    @Test func durationDependenceIsNamedWhereTheModelsPart() throws {
        let yaml = InitialDurationTests.yaml.replacingOccurrences(of: "horizonYears: 1", with: "horizonYears: 3")
            .replacingOccurrences(of: "MODE", with: "zero").replacingOccurrences(of: "A: 5000", with: "A: 2000")
        let (arm, _) = try Self.firstArmSummary(try Fixtures.scenario(yaml), replications: 40)
        let largest = arm["largestDifference"] as! [String: Any]
        #expect(abs(largest["z"] as! Double) > 4)
        let causes = arm["likelyCauses"] as! [[String: Any]]
        #expect(causes.first?["cause"] as? String == "duration dependence", "\(causes)")
        #expect((causes.first?["explanation"] as? String)?.hasPrefix("leaving A depends on months spent there") == true, "\(causes)")
        // Tracking the months spent closes the gap: RMS z of the stock rows before and after.
        let rows = try #require(causes.first?["stockRows"] as? [String: Any])
        #expect((rows["rmsZBefore"] as! Double) - (rows["rmsZAfter"] as! Double) >= 1, "\(rows)")
        #expect(abs(rows["worstRowZAfter"] as! Double) < 4, "\(rows)")
    }

    /// Without structure the aggregate lacks, the models agree within chance.
    @Test func agreementIsCalledChance() throws {
        let yaml = AggregateModelTests.twoState.replacingOccurrences(of: "stepMonths: 12, horizonYears: 1", with: "stepMonths: 1, horizonYears: 2")
        let (arm, csv) = try Self.firstArmSummary(try Fixtures.scenario(yaml), replications: 60)
        #expect(arm["verdict"] as? String == "chance")
        #expect((arm["likelyCauses"] as! [Any]).isEmpty && (arm["causesExaminedNotListed"] as! [Any]).isEmpty)
        #expect(csv.hasPrefix(Comparison.comparisonHeader.joined(separator: ",") + "\n"))
    }
}

@Suite("Time already spent in a level at the start")
struct InitialDurationTests {
    static let yaml = """
    time: {stepMonths: 1, horizonYears: 1}
    levels:
      A: {costPerChildYear: 0, qolWeight: 1}
      B: {costPerChildYear: 0, qolWeight: 1}
    population:
      initialCounts: {A: 5000}
      initialMonthsInLevel: MODE
      ageing: false
    transitions:
      unit: ratesPerYear
      matrix:
        A: {B: 0.5}
        B: {A: 0.5}
      durationDependence:
        A: [{fromMonths: 0, leaveMultiplier: 3}, {fromMonths: 12, leaveMultiplier: 0.3}]
    """

    /// The agents' outflow from A in the first step against the aggregate's
    /// (which uses the stationary mean multiplier m̄): they agree when the
    /// starting children's time in A is drawn from the stationary distribution,
    /// and part when everyone starts at 0 months (multiplier 3 > m̄).
    @Test(arguments: [("stationary", true), ("zero", false)])
    func firstStepOutflow(mode: String, agrees: Bool) throws {
        let scenario = try Fixtures.scenario(Self.yaml.replacingOccurrences(of: "MODE", with: mode))
        let result = try Runner.run(RunPlan(scenario: scenario, seed: 4, replications: 60, threads: 2))
        let aggregate = try AggregateModel.run(arm: scenario.arms[0])
        let layout = RecordLayout(arm: scenario.arms[0])
        let slot = layout.flowSlot(from: 0, to: 1)!
        let band = result.aggregator.band(arm: 0, difference: false, step: 1, slot: slot)
        let z = (aggregate.record[layout.index(step: 1, slot: slot)] - band.mean) / band.mcse
        #expect((abs(z) < 4) == agrees, "mode \(mode): agents \(band.mean) ± \(band.mcse), aggregate \(aggregate.record[layout.index(step: 1, slot: slot)]), z = \(z)")
    }

    /// Draws from the stationary distribution have its mean, within 4 standard errors.
    @Test func drawsFollowTheStationaryDistribution() throws {
        let arm = try Fixtures.scenario(Self.yaml.replacingOccurrences(of: "MODE", with: "stationary")).arms[0]
        let stay = StationaryStay(arm: arm, level: 0)
        // Exact mean: head terms plus the geometric tail Σ_{k≥0} S_J (1−λ)^k (J + k) months.
        let j = Double(stay.head.count), lambda = stay.tailLeave
        let tailMass = stay.tailSurvival / lambda
        let tailMean = stay.tailSurvival * (j / lambda + (1 - lambda) / (lambda * lambda))
        let exact = (stay.head.enumerated().reduce(0.0) { $0 + Double($1.offset) * $1.element } + tailMean) / (stay.head.reduce(0, +) + tailMass)
        var sum = 0.0, squares = 0.0
        let n = 40_000
        var u = SplitMix64(state: 1)
        for _ in 0..<n {
            let m = Double(stay.months(u: u.unit(), v: max(u.unit(), 1e-300)))
            sum += m
            squares += m * m
        }
        let mean = sum / Double(n), se = ((squares / Double(n) - mean * mean) / Double(n)).squareRoot()
        #expect(abs(mean - exact) < 4 * se, "mean months \(mean) ± \(se), exact \(exact)")
    }
}

/// A small deterministic generator for test inputs (Steele, Lea & Flood 2014).
struct SplitMix64 {
    var state: UInt64
    mutating func unit() -> Double {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return Double((z ^ (z >> 31)) >> 11) * 0x1p-53
    }
}
