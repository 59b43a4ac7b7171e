import Experiments
import Foundation
import Model
import StockFlow
import Testing
import TestSupport

/// One-off rewards of moves (`transitionRewards`, docs/methods.md §5.3) against a hand recursion of the
/// cohort trace: the aggregate model in cohort mode exactly, both agent engines within 4 MCSE.
@Suite("Transition rewards")
struct TransitionRewardTests {
    static let example = RewardConventionTests.root.appendingPathComponent("experiments/examples/transition-rewards.yaml").path

    /// Expected one-off rewards of a closed Healthy/Sick/Dead cohort of 300 starting Healthy over 10 yearly
    /// cycles, by hand: trace S_t = S_{t−1}·P; step t has S_{t−1}[H]·P[H][S] people falling sick (£1,200,
    /// −0.02 QoL-years each) and S_{t−1}[H]·P[H][D] + S_{t−1}[S]·P[S][D] deaths (£3,000 each), discounted by
    /// 1.035^−t. Returns (cost, cost discounted, QoL-years, QoL-years discounted) for the cohort.
    static func handComputed(healthyToSick: Double) -> (cost: Double, costD: Double, qol: Double, qolD: Double) {
        let p: [[Double]] = [[1 - healthyToSick - 0.01, healthyToSick, 0.01], [0.15, 0.73, 0.12], [0, 0, 1]]
        var s = [300.0, 0, 0]
        var out = (cost: 0.0, costD: 0.0, qol: 0.0, qolD: 0.0)
        for t in 1...10 {
            let sick = s[0] * p[0][1], dead = s[0] * p[0][2] + s[1] * p[1][2]
            let cost = sick * 1200 + dead * 3000, qol = sick * -0.02, d = pow(1.035, -Double(t))
            out.cost += cost; out.costD += cost * d; out.qol += qol; out.qolD += qol * d
            s = (0..<3).map { j in (0..<3).map { s[$0] * p[$0][j] }.reduce(0, +) }
        }
        return out
    }

    @Test func theAggregateModelGivesTheHandComputedRewards() throws {
        let scenario = try ScenarioDecoder.load(path: Self.example)
        for (arm, healthyToSick) in zip(scenario.arms, [0.10, 0.07]) {
            let hand = Self.handComputed(healthyToSick: healthyToSick)
            let with = try AggregateModel.run(arm: arm, options: AggregateOptions(mode: .cohort))
            var bare = arm
            bare.transitionRewards = nil
            let without = try AggregateModel.run(arm: bare, options: AggregateOptions(mode: .cohort))
            #expect(abs(with.totals.transitionCostDiscounted - hand.costD) <= 1e-9 * hand.costD, "\(arm.name)")
            #expect(abs(with.totals.transitionQolYearsDiscounted - hand.qolD) <= 1e-9 * abs(hand.qolD), "\(arm.name)")
            // Inside the totals, and nothing else changes.
            #expect(abs(with.totals.costDiscounted - without.totals.costDiscounted - hand.costD) <= 1e-6, "\(arm.name)")
            #expect(abs(with.totals.cost - without.totals.cost - hand.cost) <= 1e-6, "\(arm.name)")
            #expect(abs(with.totals.qolYearsDiscounted - without.totals.qolYearsDiscounted - hand.qolD) <= 1e-9, "\(arm.name)")
            #expect(abs(with.totals.qolYears - without.totals.qolYears - hand.qol) <= 1e-9, "\(arm.name)")
            #expect(without.totals.transitionCostDiscounted == 0 && without.totals.transitionQolYearsDiscounted == 0)
        }
    }

    /// Both engines' mean discounted one-off rewards lie within 4 Monte Carlo standard errors of the
    /// exact expectation (400 replications, seed 17; a false alarm has probability about 6e-5 per check).
    @Test(arguments: [EngineChoice.steps, .events])
    func agentsMatchTheExpectationWithin4MCSE(_ engine: EngineChoice) throws {
        let scenario = try ScenarioDecoder.load(path: Self.example)
        var plan = RunPlan(scenario: scenario, seed: 17, replications: 400, threads: 2)
        plan.engine = engine
        let result = try Runner.run(plan)
        for (a, healthyToSick) in [0.10, 0.07].enumerated() {
            let hand = Self.handComputed(healthyToSick: healthyToSick)
            let rows = result.rows.filter { $0.arm == a }
            for (values, expected, what) in [(rows.map(\.totals.transitionCostDiscounted), hand.costD, "cost"),
                                             (rows.map(\.totals.transitionQolYearsDiscounted), hand.qolD, "QoL-years")] {
                let mean = values.reduce(0, +) / Double(values.count)
                let sd = (values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(values.count - 1)).squareRoot()
                let mcse = sd / Double(values.count).squareRoot()
                #expect(mcse > 0 && abs(mean - expected) <= 4 * mcse,
                        "\(engine) arm \(a) \(what): mean \(mean), expected \(expected), MCSE \(mcse)")
            }
        }
    }

    @Test func everyBrokenRuleIsReportedWithItsPath() {
        let text = try! String(contentsOfFile: Self.example, encoding: .utf8)
        let broken = text.replacingOccurrences(of: """
            moves:
                Healthy: {Sick: {cost: 1200, qolChange: -0.02}}   # per person falling sick
              into:
                Dead: {cost: 3000}                               # per death, from either level
            """, with: """
            moves:
                Healthy: {Healthy: {cost: 5}, Sick: {cost: -1200, qolChange: -2}, Nowhere: {cost: 1}, Dead: {}}
                Dead: {Sick: {cost: 1}}
              into:
                Dead: {price: 3000}
            """)
        #expect(broken != text)
        let issues = Fixtures.issues(broken).map { "\($0.path): found \($0.found); expected \($0.expected)" }
        let expected = [
            "transitionRewards.moves.Healthy.Healthy: found a move from 'Healthy' to itself",
            "transitionRewards.moves.Healthy.Sick.cost: found -1200; expected a number in [0, 1000000000000]",
            "transitionRewards.moves.Healthy.Sick.qolChange: found -2; expected a number in [-1, 1]",
            "transitionRewards.moves.Healthy.Nowhere: found unknown level 'Nowhere'",
            "transitionRewards.moves.Healthy.Dead: found neither",
            "transitionRewards.moves.Dead: found moves out of 'Dead', an absorbing level",
            "transitionRewards.into.Dead.price: found unknown field 'price'",
        ]
        for e in expected {
            #expect(issues.contains { $0.hasPrefix(e) }, "no issue starting \(e) in:\n\(issues.joined(separator: "\n"))")
        }
    }

    @Test func aRewardIsAParameterOfEveryArmItReaches() throws {
        // The treatment arm overrides the cost of death's QoL change (a deep merge keeps the rest).
        let text = try String(contentsOfFile: Self.example, encoding: .utf8).replacingOccurrences(of: """
              treatment:
                levels:
            """, with: """
              treatment:
                transitionRewards: {into: {Dead: {qolChange: -0.1}}}
                levels:
            """)
        let scenario = try Fixtures.scenario(text)
        #expect(scenario.arms.map { $0.transitionRewards?.intoQolChange[2] } == [0, -0.1])
        #expect(scenario.arms.map { $0.transitionRewards?.intoCost[2] } == [3000, 3000])
        let changed = try scenario.applying([("transitionRewards.moves.Healthy.Sick.cost", 900),
                                             ("arms.treatment.transitionRewards.into.Dead.qolChange", -0.5)])
        #expect(changed.arms.map { $0.transitionRewards?.moveCost[0][1] } == [900, 900])
        #expect(changed.arms.map { $0.transitionRewards?.intoQolChange[2] } == [0, -0.5])
        #expect(throws: ScenarioError.self) { try scenario.applying([("transitionRewards.into.Dead.cost", -1)]) }
        let refused = scenario.bindings(["transitionRewards.moves.Healthy.Healthy.cost"]).refused
        #expect(refused.count == 1)
    }
}
