import Foundation
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
