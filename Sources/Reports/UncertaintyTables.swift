import Analysis
import Experiments
import Foundation
import Model

/// uncertainty.csv and voi.csv: what a run with parameter draws adds (docs/outputs.md).
public enum UncertaintyTables {
    public static let varianceHeader = ["arm", "outcome", "draws", "replications_per_draw", "mean", "total_variance",
                                        "parameter_variance", "chance_variance", "parameter_share",
                                        "parameter_share_ci_low", "parameter_share_ci_high"]

    /// The outcomes reported for each arm: levels, and differences from the first arm with net benefit at each λ.
    static func outcomes(arms: Int, willingnessToPay: [Double]) -> [Outcome] {
        (0..<arms).flatMap { Outcome.all(arm: $0, willingnessToPay: willingnessToPay) }
    }

    /// One row per arm and outcome: the variance of the replication totals
    /// split into parameter uncertainty and chance by one-way random-effects
    /// ANOVA over draws (`VarianceDecomposition`). The split is empty with one
    /// replication per draw, where the two cannot be told apart.
    public static func variance(scenario: Scenario, rows: [ReplicationRow], willingnessToPay: [Double]) -> String {
        var out = CSV.row(varianceHeader)
        for outcome in outcomes(arms: scenario.arms.count, willingnessToPay: willingnessToPay) {
            let armRows = rows.filter { $0.arm == outcome.arm }
            let values = outcome.values(rows)
            guard values.count == armRows.count, values.count >= 2,
                  let d = try? VarianceDecomposition(values: values, draw: armRows.map(\.draw)) else { continue }
            func cell(_ x: Double?) -> String { x.map(CSV.number) ?? "" }
            out += CSV.row([CSV.text(scenario.arms[outcome.arm].name), outcome.name, String(d.draws),
                            CSV.number(d.replicationsPerDraw), CSV.number(d.grandMean), CSV.number(d.totalVariance),
                            cell(d.parameterVariance), cell(d.chanceVariance), cell(d.parameterShare),
                            cell(d.parameterShareInterval?.lowerBound), cell(d.parameterShareInterval?.upperBound)])
        }
        return out
    }

    public static let voiHeader = ["measure", "parameter_group", "parameters", "willingness_to_pay", "draws", "value", "optimal_arm"]

    /// What voi.csv holds, and the EVPPI groups that could not be estimated, with why.
    public struct ValueOfInformationTable: Sendable {
        public var csv: String
        public var skipped: [String]
    }

    /// The willingness-to-pay values of voi.csv: those of summary.csv and at
    /// most 21 evenly spaced points from 0 to the acceptability curve's maximum.
    static func grid(_ settings: CostEffectiveness.Settings) -> [Double] {
        let step = max(settings.curveStep, settings.curveMaximum / 20)
        var values = Set(settings.willingnessToPay)
        var x = 0.0
        while x <= settings.curveMaximum + 1e-9 { values.insert(x); x += step }
        return values.sorted()
    }

    /// EVPI at each willingness to pay, and EVPPI for each parameter and each
    /// declared group, from per-draw net benefits (means over a draw's
    /// replications). NB of arm a = λ·QoL-years − cost, discounted, for the
    /// simulated population over the horizon (Briggs, Claxton & Sculpher 2006, ch. 7).
    public static func valueOfInformation(scenario: Scenario, uncertainty: Uncertainty, rows: [ReplicationRow],
                                          settings: CostEffectiveness.Settings) -> ValueOfInformationTable? {
        let arms = scenario.arms.count
        guard arms >= 2 else { return nil }
        // Per draw: mean cost and QoL per arm, and the parameter values.
        var cost: [Int: [Double]] = [:], qol: [Int: [Double]] = [:], count: [Int: [Int]] = [:], params: [Int: [Double]] = [:]
        for r in rows {
            cost[r.draw, default: [Double](repeating: 0, count: arms)][r.arm] += r.totals.costDiscounted
            qol[r.draw, default: [Double](repeating: 0, count: arms)][r.arm] += r.totals.qolYearsDiscounted
            count[r.draw, default: [Int](repeating: 0, count: arms)][r.arm] += 1
            if r.arm == 0 { params[r.draw] = r.parameters }
        }
        let draws = cost.keys.sorted().filter { d in count[d]!.allSatisfy { $0 > 0 } }
        guard draws.count >= 2 else { return nil }
        let meanCost = draws.map { d in (0..<arms).map { cost[d]![$0] / Double(count[d]![$0]) } }
        let meanQol = draws.map { d in (0..<arms).map { qol[d]![$0] / Double(count[d]![$0]) } }
        let values = draws.map { params[$0] ?? [] }

        let groups = uncertainty.reportedGroups

        var out = CSV.row(voiHeader)
        var skipped: [String] = []
        for lambda in grid(settings) {
            let nb = zip(meanCost, meanQol).map { c, q in zip(c, q).map { lambda * $1 - $0 } }
            guard let evpi = try? ValueOfInformation.evpi(netBenefit: nb) else { continue }
            out += CSV.row(["evpi", "", "", CSV.number(lambda), String(draws.count), CSV.number(evpi.evpi),
                            CSV.text(scenario.arms[evpi.optimalArm].name)])
            for g in groups {
                let columns = uncertainty.columnIndices(ofGroup: g.members)
                let paths = columns.map { uncertainty.columns[$0] }.joined(separator: ";")
                do {
                    let x = values.map { v in columns.map { v[$0] } }
                    let e = try ValueOfInformation.evppi(netBenefit: nb, parameters: x)
                    out += CSV.row(["evppi", CSV.text(g.name), CSV.text(paths), CSV.number(lambda), String(draws.count),
                                    CSV.number(e.evppi), CSV.text(scenario.arms[e.optimalArm].name)])
                } catch {
                    let why = "EVPPI of '\(g.name)': \(error.description)"
                    if !skipped.contains(why) { skipped.append(why) }
                }
            }
        }
        return ValueOfInformationTable(csv: out, skipped: skipped)
    }

    public static let importanceHeader = ["arm", "outcome", "parameter_group", "parameters", "draws", "main_effect_share"]

    /// Which parameters drive each outcome: the main-effect (first-order)
    /// variance share Var(E[Y | θ_g]) / Var(Y) of each parameter and group,
    /// estimated as the R² of the same spline regression EVPPI uses (Strong &
    /// Oakley 2013, Med Decis Making 33(6):755–766; Saltelli et al. 2008,
    /// "Global Sensitivity Analysis", ch. 1). Y is the mean over a draw's
    /// replications. The estimate is biased upward by about columns/draws.
    /// Rows sorted by outcome, then share, largest first.
    public static func importance(scenario: Scenario, uncertainty: Uncertainty, rows: [ReplicationRow]) -> [(outcome: Outcome, group: String, paths: String, draws: Int, share: Double)] {
        var byDraw: [Int: [Double]] = [:]
        for r in rows where r.arm == 0 { byDraw[r.draw] = r.parameters }
        let draws = byDraw.keys.sorted()
        guard draws.count >= 2 else { return [] }
        let groups = uncertainty.reportedGroups
        var out: [(outcome: Outcome, group: String, paths: String, draws: Int, share: Double)] = []
        for outcome in outcomes(arms: scenario.arms.count, willingnessToPay: []) {
            let armRows = rows.filter { $0.arm == outcome.arm }
            let values = outcome.values(rows)
            guard values.count == armRows.count else { continue }
            var sum: [Int: (Double, Int)] = [:]
            for (r, v) in zip(armRows, values) { sum[r.draw, default: (0, 0)].0 += v; sum[r.draw, default: (0, 0)].1 += 1 }
            let y = draws.map { sum[$0].map { $0.0 / Double($0.1) } ?? .nan }
            guard y.allSatisfy(\.isFinite) else { continue }
            var found: [(outcome: Outcome, group: String, paths: String, draws: Int, share: Double)] = []
            for g in groups {
                let columns = uncertainty.columnIndices(ofGroup: g.members)
                let x = draws.map { d in columns.map { byDraw[d]![$0] } }
                guard let fit = try? ValueOfInformation.evppi(netBenefit: y.map { [0, $0] }, parameters: x),
                      let r2 = fit.rSquared[1] ?? nil else { continue }
                found.append((outcome, g.name, columns.map { uncertainty.columns[$0] }.joined(separator: ";"), draws.count, r2))
            }
            out += found.sorted { $0.share > $1.share }
        }
        return out
    }

    public static func importanceCSV(scenario: Scenario, uncertainty: Uncertainty, rows: [ReplicationRow]) -> String {
        var out = CSV.row(importanceHeader)
        for r in importance(scenario: scenario, uncertainty: uncertainty, rows: rows) {
            out += CSV.row([CSV.text(scenario.arms[r.outcome.arm].name), r.outcome.name, CSV.text(r.group), CSV.text(r.paths),
                            String(r.draws), CSV.number(r.share)])
        }
        return out
    }
}
