import Analysis
import Microsimulation
import Model
import Testing

/// The agents' mean stocks against an aggregate model that claims to be their expectation.
enum AgentExpectation {
    /// Runs `replications` agent replications of `arm` and records an issue for every
    /// (step, level) whose agent mean is 4 Monte Carlo standard errors or more from
    /// `aggregate` (a record laid out as the engine's), with the mean and MCSE of the
    /// one statistics vocabulary (`SampleStatistics`, docs/methods.md §13).
    static func expectStocksWithin4MCSE(arm: ArmModel, aggregate: [Double], seed: UInt64, replications: Int, model: String,
                                        sourceLocation: SourceLocation = #_sourceLocation) throws {
        let tables = ArmTables(arm: arm)
        let layout = tables.layout
        let population = Population()
        let records = try (0..<replications).map { r in
            try Engine.run(tables: tables, seed: seed, replication: UInt32(r), population: population).record
        }
        for t in 1...arm.steps {
            for l in 0..<arm.levels.count {
                let i = layout.index(step: t, slot: layout.slot(.stock, level: l))
                let agents = SampleStatistics(records.map { $0[i] })
                #expect(abs(agents.mean - aggregate[i]) < 4 * agents.mcse,
                        "arm \(arm.name), step \(t), \(arm.levels[l].name): agents \(agents.mean) ± \(agents.mcse), \(model) \(aggregate[i])",
                        sourceLocation: sourceLocation)
            }
        }
    }
}
