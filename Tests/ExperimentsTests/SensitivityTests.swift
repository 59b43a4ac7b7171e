import Experiments
import Foundation
import Model
import Reports
import Testing
import TestSupport

@Suite("Sensitivity analysis")
struct SensitivityTests {
    static let experiment = """
    scenario: small.yaml
    seed: 3
    replications: 4
    willingnessToPay: [20000]
    oneWay:
      cost: {path: levels.High.costPerChildYear, low: 10000, high: 15000}
    twoWay:
      effects:
        x: {path: arms.practice.practice.relational.escalationEffect, values: [0, 0.3]}
        y: {path: arms.practice.practice.relational.stepDownEffect, from: 0, to: 0.8, count: 3}
    sweeps:
      share: {path: arms.practice.practice.relational.coverage.share, values: [0.7, 0.5]}
    """

    @Test func pointsAreExpandedInOrderWithTheirValues() throws {
        let d = try SensitivityDesign.decode(yaml: Self.experiment, file: "/x/exp.yaml")
        #expect(d.scenarioPath == "/x/small.yaml")
        #expect(d.points.map(\.analysis) == ["base", "oneWay", "oneWay"] + Array(repeating: "twoWay", count: 6) + ["sweep", "sweep"])
        #expect(d.points[2].bound == "high" && d.points[2].values.map(\.value) == [15000])
        #expect(d.points[4].values.map(\.value) == [0, 0.4])
        #expect(d.points[9].values.map(\.value) == [0.5], "sweep values sorted")
    }

    @Test func everyPointRunsWithCommonRandomNumbers() throws {
        let scenario = try Fixtures.scenario(Fixtures.smallScenario)
        let d = try SensitivityDesign.decode(yaml: Self.experiment, file: "exp.yaml")
        let scenarios = try d.scenarios(scenario)
        let rows = try scenarios.map { try Runner.run(RunPlan(scenario: $0, seed: d.seed, replications: d.replications, threads: 2)).rows }
        // The base point is the file's scenario; the one-way low value equals the file's 10000, so its rows are the base's.
        #expect(rows[0] == (try Runner.run(RunPlan(scenario: scenario, seed: 3, replications: 4, threads: 1))).rows)
        #expect(rows[1] == rows[0])
        #expect(rows[2] != rows[0])
        // The sweep's share 0.7 point is the file's value too.
        #expect(rows[10] == rows[0])
        let csv = SensitivityTable.csv(design: d, arms: scenario.arms.map(\.name),
                                      results: SensitivityResults(design: d, arms: scenario.arms.count, rows: rows))
        let lines = csv.split(separator: "\n")
        #expect(lines[0] == "analysis,name,point,parameter_1,value_1,parameter_2,value_2,bound,arm,outcome,replications,mean,mcse,ci_low,ci_high")
        // Per point: 2 outcomes of the first arm, 5 of the second (with one λ).
        #expect(lines.count == 1 + d.points.count * 7)
        #expect(lines.contains { $0.hasPrefix("oneWay,cost,1,levels.High.costPerChildYear,15000,,,high,baseline,cost_discounted,4,") })
        #expect(lines.contains { $0.hasPrefix("twoWay,effects,5,arms.practice.practice.relational.escalationEffect,0.3,arms.practice.practice.relational.stepDownEffect,0.8,,practice,delta_net_benefit_20000,4,") })
    }

    @Test func badExperimentsAndBadPointsAreReportedAllAtOnce() throws {
        do {
            _ = try SensitivityDesign.decode(yaml: """
            scenario: s.yaml
            replications: 0
            oneWay:
              a: {path: levels.High.costPerChildYear, low: 1}
            sweep: {}
            """, file: "e.yaml")
            Issue.record("a bad experiment was accepted")
        } catch {
            let text = error.description
            #expect(text.contains("e.yaml:2: replications"), "\(text)")
            #expect(text.contains("oneWay.a.high: found nothing (the field is missing)"), "\(text)")
            #expect(text.contains("unknown field 'sweep'") && text.contains("did you mean 'sweeps'?"), "\(text)")
        }
        let scenario = try Fixtures.scenario(Fixtures.smallScenario)
        let d = try SensitivityDesign.decode(yaml: """
        scenario: s.yaml
        oneWay:
          qol: {path: levels.High.qolWeight, low: 0.5, high: 1.5}
          nope: {path: levels.High.costPerYear, low: 1, high: 2}
        """, file: "e.yaml")
        do {
            _ = try d.scenarios(scenario)
            Issue.record("bad points were accepted")
        } catch {
            let text = error.description
            #expect(text.contains("levels.High.qolWeight: found 1.5 at oneWay 'qol' point 1 (levels.High.qolWeight = 1.5)"), "\(text)")
            #expect(text.contains("e.yaml:4: oneWay.nope.path: found path 'levels.High.costPerYear' of scenario test.yaml, which is not a value in the file"), "\(text)")
        }
    }
}
