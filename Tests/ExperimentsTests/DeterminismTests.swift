import Experiments
import Foundation
import Model
import Reports
import Testing
import TestSupport

@Suite("Determinism across threads and shards")
struct DeterminismTests {
    /// bands.csv, replications.csv, bands-yearly.csv and replications-yearly.csv joined (`yearly`), and the state.
    static func outputs(_ plan: RunPlan) throws -> (bands: String, replications: String, yearly: String, state: RunState) {
        let result = try Runner.run(plan)
        var state = RunState(scenarioFileName: "small.yaml", scenarioText: Fixtures.smallScenario, seed: plan.seed,
                             replications: plan.replications, commonRandomNumbers: plan.commonRandomNumbers,
                             covered: [result.covered], aggregator: result.aggregator, rows: result.rows,
                             childSteps: result.childSteps, wallSeconds: result.wallSeconds)
        state.setShard(plan.shard)
        return (Tables.bands(scenario: plan.scenario, bands: RunResults(state: state, scenario: plan.scenario).bands),
                Tables.replications(scenario: plan.scenario, rows: state.rows), yearly(plan.scenario, state), state)
    }

    /// bands-yearly.csv and replications-yearly.csv of a state, joined.
    static func yearly(_ scenario: Scenario, _ state: RunState) -> String {
        Tables.yearlyBands(scenario: scenario, bands: RunResults(state: state, scenario: scenario).yearlyBands)
            + Tables.yearlyReplications(scenario: scenario, rows: state.rows)
    }

    @Test func sameBytesForAnyThreadCount() throws {
        let scenario = try Fixtures.scenario(Fixtures.smallScenario)
        let one = try Self.outputs(RunPlan(scenario: scenario, seed: 5, replications: 24, threads: 1))
        for threads in [2, 3, 8] {
            let other = try Self.outputs(RunPlan(scenario: scenario, seed: 5, replications: 24, threads: threads))
            #expect(other.bands == one.bands, "bands.csv differs with \(threads) threads")
            #expect(other.replications == one.replications, "replications.csv differs with \(threads) threads")
            #expect(other.yearly == one.yearly, "bands-yearly.csv or replications-yearly.csv differs with \(threads) threads")
        }
    }

    @Test func shardsMergeToTheSameBytes() throws {
        let scenario = try Fixtures.scenario(Fixtures.smallScenario)
        let whole = try Self.outputs(RunPlan(scenario: scenario, seed: 9, replications: 25, threads: 2))
        var parts: [(source: String, state: RunState)] = []
        for k in [3, 1, 2] {  // merged out of order on purpose
            let shard = try Self.outputs(RunPlan(scenario: scenario, seed: 9, replications: 25, shard: Shard(index: k, count: 3), threads: 2))
            // Round-trip through the state file, as `girfec merge` does.
            parts.append(("shard \(k)", try RunState.decode(shard.state.encoded(), source: "shard \(k)")))
        }
        let merged = try RunState.merge(parts)
        #expect(merged.isComplete)
        #expect(Tables.bands(scenario: scenario, bands: RunResults(state: merged, scenario: scenario).bands) == whole.bands)
        #expect(Tables.replications(scenario: scenario, rows: merged.rows) == whole.replications)
        #expect(Self.yearly(scenario, merged) == whole.yearly)
    }

    @Test func differentSeedsDiffer() throws {
        let scenario = try Fixtures.scenario(Fixtures.smallScenario)
        let a = try Self.outputs(RunPlan(scenario: scenario, seed: 1, replications: 4, threads: 2))
        let b = try Self.outputs(RunPlan(scenario: scenario, seed: 2, replications: 4, threads: 2))
        #expect(a.replications != b.replications)
    }

    @Test func overlappingShardsAreRefused() throws {
        let scenario = try Fixtures.scenario(Fixtures.smallScenario)
        let s1 = try Self.outputs(RunPlan(scenario: scenario, seed: 9, replications: 4, shard: Shard(index: 1, count: 2), threads: 1))
        #expect {
            try RunState.merge([("a", s1.state), ("b", s1.state)])
        } throws: { error in
            "\(error)".contains("b repeats replications 0..<2")
        }
        let other = try Self.outputs(RunPlan(scenario: scenario, seed: 10, replications: 4, shard: Shard(index: 2, count: 2), threads: 1))
        #expect {
            try RunState.merge([("a", s1.state), ("c", other.state)])
        } throws: { error in
            "\(error)".contains("c is not a shard of the same run as a: seed 10 differs from a's 9")
        }
    }

    /// Common random numbers: the paired difference between two arms has far
    /// smaller variance than with independent streams.
    @Test func commonRandomNumbersReduceThePairedVariance() throws {
        let scenario = try Fixtures.scenario(Fixtures.smallScenario)
        func pairedVariance(_ crn: Bool) throws -> Double {
            let result = try Runner.run(RunPlan(scenario: scenario, seed: 21, replications: 60, threads: 2, commonRandomNumbers: crn))
            let deltas = stride(from: 0, to: result.rows.count, by: 2).map {
                result.rows[$0 + 1].totals.costDiscounted - result.rows[$0].totals.costDiscounted
            }
            let mean = deltas.reduce(0, +) / Double(deltas.count)
            return deltas.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(deltas.count - 1)
        }
        let common = try pairedVariance(true), independent = try pairedVariance(false)
        #expect(common * 2 < independent, "variance of Δcost: common \(common), independent \(independent)")
    }
}
