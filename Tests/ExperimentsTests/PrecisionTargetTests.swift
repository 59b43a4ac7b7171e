import Analysis
import Experiments
import Foundation
import Model
import Reports
import Testing
import TestSupport

@Suite("Runs to a target precision")
struct PrecisionTargetTests {
    @Test func stopsBelowTheTargetWithTheBytesOfARunOfThatSize() throws {
        let scenario = try Fixtures.scenario(Fixtures.smallScenario)
        let outcome = try Outcome.parse("delta_cost_discounted", arms: scenario.arms.map(\.name))
        #expect(outcome.arm == 1)
        // The MCSE after 20 replications, halved: about 4 × 20 replications should be needed.
        let pilot = try Runner.run(RunPlan(scenario: scenario, seed: 2, replications: 20, threads: 2))
        let target = PrecisionTarget(outcome: outcome, mcse: 0.5 * SampleStatistics(outcome.values(pilot.rows)).mcse, batch: 20)
        let runs = try [1, 2].map { threads in
            try Runner.runToPrecision(RunPlan(scenario: scenario, seed: 2, replications: 1000, threads: threads), target: target)
        }
        let r = runs[0]
        #expect(r.reached && r.mcse <= target.mcse)
        #expect(r.result.covered.count > 40 && r.result.covered.count < 1000, "\(r.result.covered.count) replications")
        #expect(runs[1].result.rows == r.result.rows, "the count used does not depend on threads")
        let fixed = try Runner.run(RunPlan(scenario: scenario, seed: 2, replications: r.result.covered.count, threads: 2))
        #expect(fixed.rows == r.result.rows)
        func bands(_ result: RunResult) -> String {
            Tables.bands(scenario: scenario, bands: RunResults(scenario: scenario, rows: result.rows, aggregator: result.aggregator, replicationsPerDraw: 1,
                                                               uncertainty: nil, settings: CostEffectiveness.Settings()).bands)
        }
        #expect(bands(fixed) == bands(r.result))
        #expect(abs(SampleStatistics(outcome.values(r.result.rows)).mcse - r.mcse) < 1e-9 * r.mcse)
    }

    @Test func theCapStopsARunThatCannotReachItsTarget() throws {
        let scenario = try Fixtures.scenario(Fixtures.smallScenario)
        let outcome = try Outcome.parse("practice:cost_discounted", arms: scenario.arms.map(\.name))
        let r = try Runner.runToPrecision(RunPlan(scenario: scenario, seed: 2, replications: 30, threads: 2),
                                          target: PrecisionTarget(outcome: outcome, mcse: 1e-9, batch: 10))
        #expect(!r.reached)
        #expect(r.result.covered == 0..<30)
    }

    @Test func outcomeNamesAreCheckedWithTheChoicesInTheMessage() {
        let arms = ["baseline", "wm2u"]
        #expect(throws: OutcomeError.self) { try Outcome.parse("costs", arms: arms) }
        #expect(throws: OutcomeError.self) { try Outcome.parse("nope:cost_discounted", arms: arms) }
        #expect(throws: OutcomeError.self) { try Outcome.parse("baseline:delta_qol_years_discounted", arms: arms) }
        do { _ = try Outcome.parse("costs", arms: arms) } catch {
            #expect(error.description.contains("delta_net_benefit_<£ per QoL-year>"))
        }
        let nb = try? Outcome.parse("delta_net_benefit_20000", arms: arms)
        #expect(nb == Outcome(measure: .deltaNetBenefit(willingnessToPay: 20000), arm: 1))
        #expect(nb?.name == "delta_net_benefit_20000")
    }

    @Test func netBenefitIsLambdaTimesQolGainMinusExtraCost() throws {
        let scenario = try Fixtures.scenario(Fixtures.smallScenario)
        let rows = try Runner.run(RunPlan(scenario: scenario, seed: 6, replications: 4, threads: 1)).rows
        let dc = Outcome(measure: .deltaCostDiscounted, arm: 1).values(rows)
        let dq = Outcome(measure: .deltaQolYearsDiscounted, arm: 1).values(rows)
        let nb = Outcome(measure: .deltaNetBenefit(willingnessToPay: 30000), arm: 1).values(rows)
        #expect(nb == zip(dc, dq).map { 30000 * $1 - $0 })
        let byHand = rows.filter { $0.arm == 1 }.map { r in r.totals.costDiscounted - rows.first { $0.arm == 0 && $0.replication == r.replication }!.totals.costDiscounted }
        #expect(dc == byHand)
    }
}
