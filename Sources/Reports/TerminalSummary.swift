import Analysis
import Experiments
import Foundation
import Model

/// The few lines a command prints when it ends: what was done and the numbers a user wants
/// first, formatted for people (`HumanFormat`), from the same `RunResults` the files hold.
public enum TerminalSummary {
    /// After `girfec run` and `girfec merge`: replications, time and folder; each arm's discounted
    /// cost and QoL-years; for each later arm against the first, Δcost, ΔQoL-years, ΔNMB at each
    /// willingness to pay and the ICER with its quadrant in words.
    public static func run(state: RunState, scenario: Scenario, results: RunResults, out: String) -> String {
        let n = state.covered.reduce(0) { $0 + $1.count }
        let rate = state.wallSeconds > 0 ? Double(state.childSteps) / state.wallSeconds : 0
        let time = state.wallSeconds > 0
            ? String(format: " in %.1f s (%@ child-steps per second)", state.wallSeconds, HumanFormat.number(rate)) : ""
        return (["\(HumanFormat.count(n)) replications × \(scenario.arms.count) arm\(scenario.arms.count == 1 ? "" : "s")\(time); wrote \(out)"]
            + lines(state: state, scenario: scenario, results: results)).joined(separator: "\n")
    }

    /// The numbers of a run, one indented line each (`run(state:scenario:results:out:)` without its first line).
    public static func lines(state: RunState, scenario: Scenario, results: RunResults) -> [String] {
        var lines: [String] = []
        let arm0 = scenario.arms[0].name
        func line(_ label: String, _ measure: Outcome.Measure, arm: Int, money: Bool) {
            guard let s = results.statistics(Outcome(measure: measure, arm: arm)) else { return }
            lines.append("  \(label) \(HumanFormat.estimate(s, money: money))")
        }
        for (a, arm) in scenario.arms.enumerated() {
            line("\(arm.name): discounted cost", .costDiscounted, arm: a, money: true)
            line("\(arm.name): discounted QoL-years", .qolYearsDiscounted, arm: a, money: false)
            if let p = results.perPerson.first(where: { $0.arm == a }),
               let cost = p.values.first(where: { $0.measure == .costDiscounted }),
               let qol = p.values.first(where: { $0.measure == .qolYearsDiscounted }) {
                lines.append("  \(arm.name): per child (\(HumanFormat.number(p.childrenEver.mean)) children ever): discounted cost "
                             + "\(HumanFormat.estimate(cost.estimate, money: true)), discounted QoL-years \(HumanFormat.estimate(qol.estimate, money: false))")
            }
        }
        for (a, arm) in scenario.arms.enumerated().dropFirst() {
            let against = "\(arm.name) − \(arm0)"
            line("\(against): Δcost", .deltaCostDiscounted, arm: a, money: true)
            line("\(against): ΔQoL-years", .deltaQolYearsDiscounted, arm: a, money: false)
            for wtp in state.costEffectiveness.willingnessToPay {
                line("\(against): ΔNMB at \(HumanFormat.money(wtp)) per QoL-year", .deltaNetBenefit(willingnessToPay: wtp), arm: a, money: true)
            }
            if let cost = results.statistics(Outcome(measure: .deltaCostDiscounted, arm: a)),
               let qol = results.statistics(Outcome(measure: .deltaQolYearsDiscounted, arm: a)) {
                lines.append("  \(against): ICER \(HumanFormat.icer(deltaCost: cost.mean, deltaQol: qol.mean))\(unsettled(cost: cost, qol: qol))")
            }
        }
        return lines + incremental(state: state, scenario: scenario, results: results)
    }

    /// The incremental analysis in words: the efficiency frontier with the ICER of each step along it,
    /// each arm off it and why, and the arm with the highest expected NMB at each willingness to pay
    /// with its probability of being best (`RunResults.incremental`, `RunResults.acceptability`).
    public static func incremental(state: RunState, scenario: Scenario, results: RunResults) -> [String] {
        let names = scenario.arms.map(\.name)
        guard !results.incremental.isEmpty else { return ["  \(IncrementalTables.singleArmNote)"] }
        let frontier = results.incremental.filter { $0.status == .frontier }
        var lines = ["  efficiency frontier, by cost: " + frontier.map { names[$0.arm] }.joined(separator: " → ")]
        for r in frontier.dropFirst() {
            lines.append("  \(names[r.arm]) against \(names[r.comparator!]), the previous arm on the frontier: ICER \(HumanFormat.icer(deltaCost: r.incrementalCost!, deltaQol: r.incrementalQolYears!))")
        }
        for r in results.incremental where r.status != .frontier {
            if r.status == .dominated, let d = r.dominatedBy.first {
                let dominator = results.incremental.first { $0.arm == d }!
                lines.append("  \(names[r.arm]): dominated by \(names[d]): \(dominance(deltaCost: r.cost - dominator.cost, deltaQol: r.qolYears - dominator.qolYears, than: names[d]))")
            } else if r.dominatedBy.count == 2 {
                lines.append("  \(names[r.arm]): extendedly dominated: a mix of \(names[r.dominatedBy[0]]) and \(names[r.dominatedBy[1]]) gives more QoL-years at the same cost")
            }
        }
        for wtp in state.costEffectiveness.willingnessToPay {
            guard let best = results.acceptability.first(where: { $0.willingnessToPay == wtp && $0.onFrontier }) else { continue }
            lines.append("  at \(HumanFormat.money(wtp)) per QoL-year: \(names[best.arm]) has the highest expected net monetary benefit, \(HumanFormat.money(best.netBenefit.mean)); probability it is best \(HumanFormat.fixed(best.probabilityBest, decimals: 2))")
        }
        return lines
    }

    /// After `girfec aggregate`: each arm's discounted cost and QoL-years over the horizon (the
    /// last step of `cumulative_cost_discounted` and `cumulative_qol_years_discounted` in
    /// aggregate.csv), then each later arm's differences from the first and the ICER in words.
    public static func aggregate(scenario: Scenario, aggregates: Comparison.Aggregates) -> [String] {
        let layout = RecordLayout(arm: scenario.arms[0])
        func total(_ q: Quantity, arm: Int) -> Double {
            aggregates.records[arm][layout.index(step: layout.steps, slot: layout.slot(q, level: nil))]
        }
        let costs = scenario.arms.indices.map { total(.cumulativeCostDiscounted, arm: $0) }
        let qols = scenario.arms.indices.map { total(.cumulativeQolYearsDiscounted, arm: $0) }
        var lines: [String] = []
        for (a, arm) in scenario.arms.enumerated() {
            lines.append("  \(arm.name): discounted cost \(HumanFormat.money(costs[a])), discounted QoL-years \(HumanFormat.number(qols[a]))")
        }
        for (a, arm) in scenario.arms.enumerated().dropFirst() {
            let dc = costs[a] - costs[0], dq = qols[a] - qols[0]
            lines.append("  \(arm.name) − \(scenario.arms[0].name): Δcost \(HumanFormat.money(dc)), ΔQoL-years \(HumanFormat.number(dq)); ICER \(HumanFormat.icer(deltaCost: dc, deltaQol: dq))")
        }
        return lines
    }

    /// How a dominated arm compares with the arm that dominates it (Δcost ≥ 0, ΔQoL-years ≤ 0, not both 0):
    /// "costs £1,234 more and gains 5.2 fewer QoL-years than B", "costs £1,234 more for the same QoL-years as B".
    static func dominance(deltaCost: Double, deltaQol: Double, than other: String) -> String {
        if deltaCost == 0 && deltaQol == 0 { return "the same cost and QoL-years as \(other); \(other) comes first in the scenario" }
        if deltaQol == 0 { return "costs \(HumanFormat.money(deltaCost)) more for the same QoL-years as \(other)" }
        if deltaCost == 0 { return "gains \(HumanFormat.number(-deltaQol)) fewer QoL-years at the same cost as \(other)" }
        return "costs \(HumanFormat.money(deltaCost)) more and gains \(HumanFormat.number(-deltaQol)) fewer QoL-years than \(other)"
    }

    /// A warning when a 95 % confidence interval of the mean differences includes 0, so the
    /// quadrant of the ICER is not settled by this many replications; "" otherwise.
    static func unsettled(cost: SampleStatistics, qol: SampleStatistics) -> String {
        func spansZero(_ s: SampleStatistics) -> Bool { s.count > 1 && s.ciLow <= 0 && s.ciHigh >= 0 }
        let which = [spansZero(cost) ? "Δcost" : nil, spansZero(qol) ? "ΔQoL-years" : nil].compactMap { $0 }
        guard !which.isEmpty else { return "" }
        return "; the 95 % CI of \(which.joined(separator: " and ")) includes 0, so the quadrant is not settled"
    }
}
