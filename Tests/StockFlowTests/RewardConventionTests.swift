import Foundation
import Model
import StockFlow
import Testing
import TestSupport

/// Reward conventions against values computed by hand (docs/methods.md §5.1): the aggregate model in
/// cohort mode is exact for a closed cohort, so its totals equal the hand-computed sums to rounding.
@Suite("Reward conventions")
struct RewardConventionTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let example = root.appendingPathComponent("experiments/examples/reward-conventions.yaml").path

    /// Per person, from the Python computation in docs/methods.md §5.1 (trace S_k = S_0·P^k, V_k = S_k·value,
    /// D_k = 1.035^−k, step t adds w0·V_{t−1}·D_{t−1} + w1·V_t·D_t): discounted QALYs, discounted cost,
    /// undiscounted QALYs, undiscounted cost.
    static let handComputed: [String: (qolD: Double, costD: Double, qol: Double, cost: Double)] = [
        "start": (2.378354316466667, 5716.727440693604, 2.47965, 6105.0),
        "end": (1.8661340383449105, 6943.788509607331, 2.0172600000000003, 7572.09),
        "halfCycle": (2.1222441774057885, 6330.257975150468, 2.2484550000000003, 6838.545),
        "simpson": (2.1035807115520524, 6505.662179335224, 2.231736666666667, 7013.696666666667),
        "lifeTable": (2.1222441774057885, 6330.257975150468, 2.2484550000000003, 6838.545),
        "quarter": (1.99418910787535, 6637.023242378899, 2.1328575000000005, 7205.3175),
    ]

    @Test func everyConventionMatchesTheHandComputation() throws {
        let scenario = try ScenarioDecoder.load(path: Self.example)
        #expect(scenario.arms.map(\.name) == ["start", "end", "halfCycle", "simpson", "lifeTable", "quarter"])
        #expect(scenario.arms[4].rewardTiming == .weights(start: 0.5, end: 0.5))
        #expect(scenario.arms[5].rewardTiming.description == "weights [0.25, 0.75]")
        for arm in scenario.arms {
            let r = try AggregateModel.run(arm: arm, options: AggregateOptions(mode: .cohort))
            let hand = try #require(Self.handComputed[arm.name])
            let perPerson = 300.0
            #expect(abs(r.totals.qolYearsDiscounted / perPerson - hand.qolD) <= 1e-9, "\(arm.name): \(r.totals.qolYearsDiscounted / perPerson)")
            #expect(abs(r.totals.costDiscounted / perPerson - hand.costD) <= 1e-9, "\(arm.name): \(r.totals.costDiscounted / perPerson)")
            #expect(abs(r.totals.qolYears / perPerson - hand.qol) <= 1e-9, "\(arm.name): \(r.totals.qolYears / perPerson)")
            #expect(abs(r.totals.cost / perPerson - hand.cost) <= 1e-9, "\(arm.name): \(r.totals.cost / perPerson)")
        }
    }

    /// Rewards counted at t = 0..N, a full cycle each (dampack's and darthtools' "none"): `start` over N + 1 steps.
    @Test func rewardsAtTimesZeroToN() throws {
        let text = try String(contentsOfFile: Self.example, encoding: .utf8)
            .replacingOccurrences(of: "horizonYears: 4 ", with: "horizonYears: 5 ")
        let arm = try Fixtures.scenario(text).arms[0]
        #expect(arm.steps == 5 && arm.rewardTiming == .start)
        let r = try AggregateModel.run(arm: arm, options: AggregateOptions(mode: .cohort))
        #expect(abs(r.totals.qolYearsDiscounted / 300 - 2.7161340383449106) <= 1e-9)
        #expect(abs(r.totals.costDiscounted / 300 - 7343.788509607331) <= 1e-9)
    }

    /// A level worse than death: its QoL-years are negative at every step it is occupied, and a cohort
    /// that starts there and dies at 50 % a year has −0.5 · (½·1 + 0.5 + ½·0.25) = −0.5625 QoL-years a
    /// person over two years with the trapezoid (no discounting).
    @Test func negativeUtilitiesGiveNegativeQolYears() throws {
        let scenario = try Fixtures.scenario("""
        name: worse than death
        time: {stepMonths: 12, horizonYears: 2}
        levels:
          Severe: {costPerChildYear: 1000, qolWeight: -0.5}
          Dead: {costPerChildYear: 0, qolWeight: 0, absorbing: true}
        population: {initialCounts: {Severe: 1000}, ageing: false}
        transitions: {unit: probabilitiesPerYear, matrix: {Severe: {Dead: 0.5}}}
        discounting: {costRatePerYear: 0, qolRatePerYear: 0}
        """)
        let arm = scenario.arms[0]
        let r = try AggregateModel.run(arm: arm, options: AggregateOptions(mode: .cohort))
        #expect(abs(r.totals.qolYears - -562.5) <= 1e-9)
        #expect(abs(r.totals.qolYearsDiscounted - -562.5) <= 1e-9)
        #expect(abs(r.totals.cost - 1125_000) <= 1e-6)
        let layout = RecordLayout(arm: arm)
        for t in 1...2 {
            #expect(r.record[layout.index(step: t, slot: layout.slot(.qolYears, level: 0))] < 0)
        }
        // The example's Severe level (−0.2) gives negative QoL-years at every step too.
        let example = try ScenarioDecoder.load(path: Self.example).arms[2]
        let e = try AggregateModel.run(arm: example, options: AggregateOptions(mode: .cohort))
        let exampleLayout = RecordLayout(arm: example)
        for t in 1...4 {
            let v = e.record[exampleLayout.index(step: t, slot: exampleLayout.slot(.qolYears, level: 1))]
            #expect(v < 0, "step \(t): \(v)")
        }
    }

    /// The weight each time point gets over a horizon: Σ over steps of w0 at t − 1 and w1 at t.
    static func pointWeights(_ timing: RewardTiming, steps: Int) -> [Double] {
        var w = [Double](repeating: 0, count: steps + 1)
        for t in 1...steps {
            let (w0, w1) = Rewards.weights(step: t, steps: steps, timing: timing)
            #expect(abs(w0 + w1 - 1) <= 1e-15, "step \(t) of \(timing): weights sum to \(w0 + w1)")
            w[t - 1] += w0
            w[t] += w1
        }
        return w
    }

    /// Simpson's 1/3 with true weights: (⅓, ⅔) then (⅔, ⅓) per pair is dt/3 · (V0 + 4V1 + V2), i.e. point
    /// weights ⅓, 4/3, ⅔, 4/3, ⅓; an odd last step uses the trapezoid. User weights (w0, w1) give w0, 1, …, 1, w1.
    @Test func pointWeightsOfEachConvention() {
        func close(_ a: [Double], _ b: [Double]) -> Bool { a.count == b.count && zip(a, b).allSatisfy { abs($0 - $1) <= 1e-15 } }
        let third = 1.0 / 3
        let simpsonEven: [Double] = [third, 4 * third, 2 * third, 4 * third, third]
        let simpsonOdd: [Double] = [third, 4 * third, third + 0.5, 0.5]
        #expect(close(Self.pointWeights(.simpson, steps: 4), simpsonEven))
        #expect(close(Self.pointWeights(.simpson, steps: 3), simpsonOdd))
        #expect(close(Self.pointWeights(.halfCycle, steps: 4), [0.5, 1, 1, 1, 0.5]))
        #expect(close(Self.pointWeights(.start, steps: 3), [1, 1, 1, 0]))
        #expect(close(Self.pointWeights(.end, steps: 3), [0, 1, 1, 1]))
        #expect(close(Self.pointWeights(.weights(start: 0.25, end: 0.75), steps: 3), [0.25, 1, 1, 0.75]))
        #expect(close(Self.pointWeights(.weights(start: 0.5, end: 0.5), steps: 4), Self.pointWeights(.halfCycle, steps: 4)))
        // Simpson integrates a cubic exactly: ∫_0^4 t³ dt = 64.
        var cubic = 0.0
        for (k, w) in Self.pointWeights(.simpson, steps: 4).enumerated() { cubic += w * pow(Double(k), 3) }
        #expect(abs(cubic - 64) <= 1e-12)
    }
}
