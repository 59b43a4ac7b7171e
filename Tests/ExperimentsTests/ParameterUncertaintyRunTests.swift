import Experiments
import Foundation
import Model
import Reports
import Testing
import TestSupport

@Suite("Runs with parameter uncertainty")
struct ParameterUncertaintyRunTests {
    static let yaml = Fixtures.smallScenario + """

    uncertainty:
      parameters:
        cost: {path: levels.High.costPerChildYear, distribution: gamma, sd: 2500}
        escalation: {path: transitions.matrix.Mid.High, distribution: gamma, sd: 0.02}
        effect: {path: arms.practice.practice.relational.escalationEffect, distribution: beta, sd: 0.1}
    """

    @Test func aReplicationRunAloneReproducesItsRowAndParameters() throws {
        let scenario = try Fixtures.scenario(Self.yaml)
        var plan = RunPlan(scenario: scenario, seed: 21, replications: 6, threads: 2)
        plan.replicationsPerDraw = 2
        let whole = try Runner.run(plan)
        #expect(whole.rows.map(\.draw) == [0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2])
        // Replications of one draw share its values, arms too; draws differ.
        #expect(whole.rows[0].parameters == whole.rows[3].parameters)
        #expect(whole.rows[0].parameters != whole.rows[4].parameters)
        #expect(whole.rows[0].parameters.count == 3)
        for i in [0, 3, 5] {
            plan.onlyReplication = i
            let alone = try Runner.run(plan)
            #expect(alone.rows == whole.rows.filter { $0.replication == i }, "replication \(i) alone")
        }
    }

    @Test func drawsChangeResultsAndTheBaseCaseIgnoresThem() throws {
        let scenario = try Fixtures.scenario(Self.yaml)
        let plain = try Fixtures.scenario(Fixtures.smallScenario)
        var plan = RunPlan(scenario: scenario, seed: 4, replications: 3, threads: 1)
        let drawn = try Runner.run(plan)
        plan.baseCase = true
        let base = try Runner.run(plan)
        let reference = try Runner.run(RunPlan(scenario: plain, seed: 4, replications: 3, threads: 1))
        #expect(base.rows == reference.rows, "--base-case runs the file's own values")
        #expect(drawn.rows.map(\.totals) != base.rows.map(\.totals))
        // Children's random numbers do not depend on the parameters: the same children are born.
        #expect(drawn.rows.map(\.totals.childrenEver) == base.rows.map(\.totals.childrenEver))
    }

    @Test func parametersCSVReadBackAsADrawsFileGivesTheSameRun() throws {
        let scenario = try Fixtures.scenario(Self.yaml)
        let plan = RunPlan(scenario: scenario, seed: 8, replications: 4, threads: 2)
        let first = try Runner.run(plan)
        let csv = Tables.parameters(columns: scenario.uncertainty!.columns, rows: first.rows)
        let fromFile = try ScenarioDecoder.decode(yaml: Fixtures.smallScenario + "\nuncertainty: {draws: p.csv}\n", file: "f.yaml") { _ in csv }
        let second = try Runner.run(RunPlan(scenario: fromFile, seed: 8, replications: 4, threads: 2))
        #expect(second.rows == first.rows)
    }

    @Test func aDrawThatBreaksTheScenarioStopsTheRunNamingIt() throws {
        // A wide uniform on the escalation effect: the first draw above 1 breaks a ∈ [0, 1].
        let scenario = try Fixtures.scenario(Fixtures.smallScenario + """

        uncertainty:
          parameters:
            effect: {path: arms.practice.practice.relational.escalationEffect, distribution: uniform, min: 0.5, max: 1.4}
        """)
        do {
            _ = try Runner.run(RunPlan(scenario: scenario, seed: 1, replications: 40, threads: 1))
            Issue.record("an invalid draw was run")
        } catch {
            #expect("\(error)".contains("(parameter draw "), "\(error)")
            #expect("\(error)".contains("arms.practice.practice.relational.escalationEffect = 1."), "\(error)")
            #expect("\(error)".contains("expected a number in [0, 1]"), "\(error)")
        }
    }

    @Test func aShortDrawsFileIsRefusedBeforeTheRun() throws {
        let csv = "levels.High.costPerChildYear\n9000\n11000\n"
        let scenario = try ScenarioDecoder.decode(yaml: Fixtures.smallScenario + "\nuncertainty: {draws: p.csv}\n", file: "f.yaml") { _ in csv }
        var plan = RunPlan(scenario: scenario, seed: 8, replications: 5, threads: 1)
        plan.replicationsPerDraw = 2
        #expect(plan.problem == "the draws file p.csv has 2 draws, but 5 replications at 2 per draw need 3")
        #expect(throws: RunError.self) { try Runner.run(plan) }
    }

    @Test func stateFilesKeepDrawsAndParametersThroughAMerge() throws {
        let scenario = try Fixtures.scenario(Self.yaml)
        var parts: [(source: String, state: RunState)] = []
        for k in 1...2 {
            let plan = RunPlan(scenario: scenario, seed: 3, replications: 5, shard: Shard(index: k, count: 2), threads: 1)
            let r = try Runner.run(plan)
            var state = RunState(scenarioFileName: "s.yaml", scenarioText: Self.yaml, seed: 3, replications: 5,
                                 commonRandomNumbers: true, covered: [r.covered], aggregator: r.aggregator, rows: r.rows,
                                 childSteps: r.childSteps, wallSeconds: 0)
            state.setShard(Shard(index: k, count: 2))
            parts.append(("shard \(k)", try RunState.decode(state.encoded(), source: "shard \(k)")))
        }
        let merged = try RunState.merge(parts)
        let whole = try Runner.run(RunPlan(scenario: scenario, seed: 3, replications: 5, threads: 2))
        #expect(merged.rows == whole.rows)
    }
}
