import Analysis
import Experiments
import Foundation
import Model

extension Report {
    /// The section "Incremental analysis": every arm on the efficiency frontier or why not, with the
    /// ICERs between neighbours (incremental.csv), and the acceptability frontier at the run's
    /// willingness-to-pay values (acceptability.csv); for one arm, a sentence saying there is none.
    static func incrementalSection(_ doc: inout ReportDocument, state: RunState, scenario: Scenario, results: RunResults) {
        let arms = scenario.arms.map(\.name)
        doc.section("Incremental analysis")
        guard !results.incremental.isEmpty else {
            doc.paragraph("The run has one arm, so there is no incremental analysis and no acceptability curve.")
            return
        }
        let units = state.replicationsPerDraw > 1 ? "parameter draws, each the mean of its replications" : "replications"
        doc.paragraph("Every arm on mean discounted cost and QoL-years: sorted by cost, dominated arms (another costs no more and gains at least as much) and extendedly dominated arms (a mix of two others gains more for the same cost) are removed, and each arm left on the efficiency frontier is compared with the previous one (methods, “Incremental analysis across arms”; incremental.csv).")
        var rows: [[String]] = []
        for r in results.incremental {
            let status: String
            switch r.status {
            case .frontier: status = "frontier"
            case .dominated: status = "dominated by " + r.dominatedBy.map { arms[$0] }.joined(separator: ", ")
            case .extendedlyDominated: status = "extendedly dominated by " + r.dominatedBy.map { arms[$0] }.joined(separator: " and ")
            }
            let icer = r.icer == nil ? "—" : HumanFormat.money(r.icer!) + " per QoL-year gained"
            rows.append([arms[r.arm], money(r.cost), fmt(r.qolYears), status, r.comparator.map { arms[$0] } ?? "—",
                         r.incrementalCost.map(money) ?? "—", r.incrementalQolYears.map { fmt($0) } ?? "—", icer])
        }
        doc.table(Table(caption: "Incremental analysis: efficiency frontier and ICERs", label: "tab:incremental",
                        header: ["arm", "cost", "QoL-years", "status", "against", "Δcost", "ΔQoL-years", "ICER"], rows: rows,
                        columns: [.wrap(0.1), .wrap(0.11), .wrap(0.09), .wrap(0.15), .wrap(0.09), .wrap(0.11), .wrap(0.09), .wrap(0.14)]))
        let wtp = state.costEffectiveness.willingnessToPay
        var frontier: [[String]] = []
        for l in wtp {
            let points = results.acceptability.filter { $0.willingnessToPay == l }
            guard let best = points.first(where: \.onFrontier) else { continue }
            let others = points.filter { !$0.onFrontier }.map { "\(arms[$0.arm]) \(HumanFormat.fixed($0.probabilityBest, decimals: 3))" }
            frontier.append([money(l), arms[best.arm],
                             HumanFormat.interval(best.netBenefit.mean, best.netBenefit.ciLow, best.netBenefit.ciHigh, money: true),
                             HumanFormat.fixed(best.probabilityBest, decimals: 3), others.joined(separator: "; ")])
        }
        doc.paragraph("The acceptability frontier: at each willingness to pay, the arm with the highest expected net monetary benefit (λ·QoL-years − cost), with its 95 % CI, and the probability that each arm has the highest net monetary benefit, over \(units). acceptability.csv has every arm from £0 to \(money(state.costEffectiveness.curveMaximum)); `girfec ce` recomputes both at other values without re-running.")
        doc.table(Table(caption: "Cost-effectiveness acceptability frontier", label: "tab:acceptability",
                        header: ["willingness to pay", "arm with highest expected NMB", "expected NMB (95 % CI)", "probability best", "other arms: probability best"],
                        rows: frontier, columns: [.wrap(0.13), .wrap(0.15), .wrap(0.25), .wrap(0.12), .wrap(0.25)]))
    }
}
