import Foundation
import Microsimulation
import Model
import StockFlow
import Testing
import TestSupport

/// An age-indexed cohort of 250 levels (one per year of age and Dead, as
/// `experiments/many-levels/make_scenario.py` writes it): memory grows with its moves, not with the
/// square of its levels.
@Suite("Many levels: an age-indexed cohort of 250 levels")
struct ManyLevelsTests {
    static func scenario(levels: Int) -> String {
        let ages = levels - 1
        var yaml = "name: ages\ntime: {stepMonths: 12, horizonYears: 100}\nlevels:\n"
        for a in 0..<ages { yaml += "  Age\(a): {costPerChildYear: \(500 + 40 * a), qolWeight: 0.8}\n" }
        yaml += "  Dead: {costPerChildYear: 0, qolWeight: 0, absorbing: true}\n"
        yaml += "population: {initialCounts: {Age0: 200}, ageing: false}\ntransitions:\n  unit: probabilitiesPerStep\n  matrix:\n"
        for a in 0..<ages {
            let q = min(0.5, 1 - exp(-5e-5 * exp(0.09 * Double(a))))
            yaml += a + 1 < ages ? "    Age\(a): {Age\(a + 1): \(1 - q), Dead: \(q)}\n" : "    Age\(a): {Dead: 1}\n"
        }
        return yaml + "arms:\n  cohort: {}\n"
    }

    @Test func recordsAndMemoryFollowTheMoves() throws {
        let s = try Fixtures.scenario(Self.scenario(levels: 250))
        let layout = RecordLayout(arm: s.arms[0])
        // Ages 0–247 lead to the next age and to Dead, age 248 to Dead only.
        #expect(layout.moves.count == 2 * 248 + 1)
        #expect(layout.slotCount == 497 + 10 * 251 + 11)
        let dense = RecordLayout.slotCount(levels: 250, moves: 250 * 249)
        #expect(dense > 20 * layout.slotCount)
        let estimate = ResourceEstimate(scenario: s, threads: 2)
        #expect(estimate.bytes < 2 * Double(1 << 30), "estimated \(estimate.bytes / Double(1 << 30)) GiB")
        // The aggregate model's stocks keep the cohort: 200 people at every step.
        let r = try AggregateModel.run(arm: s.arms[0])
        for t in [0, 1, 50, 100] {
            let total = (0..<250).reduce(0.0) { $0 + r.record[layout.index(step: t, slot: layout.slot(.stock, level: $1))] }
            #expect(abs(total - 200) < 1e-9, "step \(t): \(total)")
        }
    }
}

/// A move the matrix leaves at 0 but a dependence table opens is recorded, and counted by the engines.
@Suite("Possible moves opened by a transition-specific dependence")
struct DependenceMovesTests {
    @Test func aLifeTableOpensDeathFromEveryLevel() throws {
        let s = try Fixtures.scenario("""
        name: opened
        time: {stepMonths: 12, horizonYears: 5}
        levels:
          A: {costPerChildYear: 100, qolWeight: 0.9}
          B: {costPerChildYear: 200, qolWeight: 0.8}
          Dead: {costPerChildYear: 0, qolWeight: 0, absorbing: true}
        population: {initialCounts: {A: 500}, ageing: false}
        transitions:
          unit: probabilitiesPerStep
          matrix:
            A: {B: 0.1}
            B: {A: 0.2}
          dependence:
            - {from: any, to: Dead, on: year, unit: ratesPerYear, points: [{at: 0, value: 0.05}, {at: 2, value: 0.2}]}
        arms:
          one: {}
        """)
        let layout = RecordLayout(arm: s.arms[0])
        #expect(layout.moves == [Move(from: 0, to: 1), Move(from: 0, to: 2), Move(from: 1, to: 0), Move(from: 1, to: 2)])
        let record = try Engine.run(tables: ArmTables(arm: s.arms[0]), seed: 4, replication: 0).record
        var deaths = 0.0
        for t in 1...5 {
            deaths += [0, 1].reduce(0.0) { $0 + record[layout.index(step: t, slot: layout.flowSlot(from: $1, to: 2)!)] }
            #expect(record[layout.index(step: t, slot: layout.slot(.stock, level: 2))] == deaths, "step \(t)")
        }
        #expect(deaths > 0)
    }
}
