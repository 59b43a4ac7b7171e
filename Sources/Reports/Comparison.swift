import Analysis
import Foundation
import Model
import StockFlow

/// aggregate.csv, comparison.csv and summary.json: the agents beside the
/// aggregate stock-flow model (docs/outputs.md). The values are computed in
/// `Comparison.Analysis` (ComparisonAnalysis.swift); these writers serialise them.
public enum Comparison {
    public struct Row: Sendable {
        var arm: Int
        var difference: Bool
        var step: Int
        var slot: Int
    }

    static func rows(_ scenario: Scenario, layout: RecordLayout, quantities: Set<QuantityGroup> = QuantityGroup.every) -> [Row] {
        var rows: [Row] = []
        let blocks = scenario.arms.indices.map { ($0, false) } + scenario.arms.indices.dropFirst().map { ($0, true) }
        for (arm, difference) in blocks {
            for step in 0...layout.steps {
                for (s, slot) in layout.slots.enumerated() where (step > 0 || slot.quantity.atStepZero) && quantities.contains(slot.quantity.group) {
                    rows.append(Row(arm: arm, difference: difference, step: step, slot: s))
                }
            }
        }
        return rows
    }

    static func value(_ records: [[Double]], _ row: Row, _ layout: RecordLayout) -> Double {
        let i = layout.index(step: row.step, slot: row.slot)
        return row.difference ? records[row.arm][i] - records[0][i] : records[row.arm][i]
    }

    /// `names`: the scenario's level names (`Scenario.levels`, made once per file rather than per row).
    static func keys(_ scenario: Scenario, _ row: Row, _ layout: RecordLayout, names: [String]) -> [String] {
        let slot = layout.slots[row.slot]
        let level = slot.quantity == .flow ? "" : (slot.level.map { names[$0] } ?? "all")
        return [CSV.text(scenario.arms[row.arm].name), String(row.step),
                CSV.number(Double(row.step * scenario.arms[0].stepMonths) / 12),
                (row.difference ? "delta_" : "") + slot.quantity.rawValue, CSV.text(level),
                slot.from.map { CSV.text(names[$0]) } ?? "", slot.to.map { CSV.text(names[$0]) } ?? ""]
    }

    public static func aggregateCSV(_ scenario: Scenario, _ aggregates: Aggregates, quantities: Set<QuantityGroup> = QuantityGroup.every) -> String {
        let layout = RecordLayout(arm: scenario.arms[0]), names = scenario.levels
        var out = CSV.row(["arm", "step", "time_years", "quantity", "level", "from_level", "to_level", "value", "mode",
                           "aggregate_parameters"])
        for row in rows(scenario, layout: layout, quantities: quantities) where !row.difference {
            out += CSV.row(keys(scenario, row, layout, names: names) + [CSV.number(value(aggregates.records, row, layout)), aggregates.options.label,
                                                          CSV.text(aggregates.parameters.label)])
        }
        return out
    }

    public static let comparisonHeader = ["arm", "step", "time_years", "quantity", "level", "from_level", "to_level",
                                          "agent_mean", "agent_mcse", "agent_ci_low", "agent_ci_high", "agent_p2_5", "agent_p97_5",
                                          "aggregate", "difference", "relative_difference", "z", "aggregate_in_ci",
                                          "aggregate_parameters"]

    public static func comparisonCSV(_ scenario: Scenario, _ aggregator: BandTable, _ aggregates: Aggregates,
                                     quantities: Set<QuantityGroup> = QuantityGroup.every) -> String {
        let layout = RecordLayout(arm: scenario.arms[0]), names = scenario.levels
        var out = CSV.row(comparisonHeader)
        for row in rows(scenario, layout: layout, quantities: quantities) {
            let band = aggregator.band(arm: row.arm, difference: row.difference, step: row.step, slot: row.slot)
            let a = value(aggregates.records, row, layout)
            let d = a - band.mean
            let inside = band.count > 1 && ((a >= band.ciLow && a <= band.ciHigh) || negligible(d, band))
            out += CSV.row(keys(scenario, row, layout, names: names) + [
                CSV.number(band.mean), CSV.number(band.mcse), CSV.number(band.ciLow), CSV.number(band.ciHigh),
                CSV.number(band.percentiles[0]), CSV.number(band.percentiles[6]), CSV.number(a), CSV.number(d),
                CSV.number(band.mean != 0 ? d / abs(band.mean) : .nan), CSV.number(zScore(d, band)),
                band.count > 1 && !a.isNaN && !band.mean.isNaN ? (inside ? "true" : "false") : "",
                CSV.text(aggregates.parameters.label),
            ])
        }
        return out
    }

    /// Differences this small relative to the values are rounding, not disagreement.
    static func negligible(_ d: Double, _ band: Band) -> Bool {
        abs(d) <= 1e-9 * max(1, abs(band.mean))
    }

    /// Difference in Monte Carlo standard errors; agreement up to rounding is 0,
    /// a real difference where the agents have no spread is ±infinity.
    static func zScore(_ d: Double, _ band: Band) -> Double {
        if d.isNaN || band.mcse.isNaN { return .nan }
        if negligible(d, band) { return 0 }
        if band.mcse == 0 { return d < 0 ? -.infinity : .infinity }
        return d / band.mcse
    }

    /// Where the models part most, per arm, and the causes re-runs confirm: `analysis` serialised.
    public static func summaryJSON(_ scenario: Scenario, _ analysis: Analysis) -> [UInt8] {
        let layout = RecordLayout(arm: scenario.arms[0])
        let aggregates = analysis.aggregates
        func finite(_ z: Double) -> Double { z.isFinite ? z : (z > 0 ? 1e308 : -1e308) }
        func rowJSON(_ r: RowValue) -> [String: Any] {
            let slot = layout.slots[r.row.slot]
            return [
                "quantity": (r.row.difference ? "delta_" : "") + slot.quantity.rawValue,
                "level": slot.level.map { scenario.levels[$0] } ?? "all", "step": r.row.step,
                "timeYears": Double(r.row.step * scenario.arms[0].stepMonths) / 12,
                "agentMean": r.agentMean, "agentCILow": r.agentCILow, "agentCIHigh": r.agentCIHigh,
                "aggregate": r.aggregate, "difference": r.aggregate - r.agentMean,
                "relativeDifference": r.agentMean != 0 ? (r.aggregate - r.agentMean) / abs(r.agentMean) : 0,
                "z": finite(r.z),
            ]
        }
        func testJSON(_ t: CauseTest) -> [String: Any] {
            var out: [String: Any] = ["cause": t.cause, "explanation": t.explanation, "removedBy": t.removedBy,
                                      "rerunMode": t.rerun.label]
            for (s, before) in t.before {
                guard let after = t.after[s] else { continue }
                var gap: [String: Any] = ["rmsZBefore": before.rmsZ, "rmsZAfter": after.rmsZ,
                                          "largestAbsZBefore": finite(before.largestAbsZ), "largestAbsZAfter": finite(after.largestAbsZ)]
                if let worst = before.largest, let z = t.worstRowZAfter[s] {
                    gap["worstRow"] = rowJSON(worst)
                    gap["worstRowZAfter"] = finite(z)
                }
                if let series = t.series[s] {
                    let slot = layout.slots[series.slot]
                    gap["series"] = ["quantity": (s == .armDifferences ? "delta_" : "") + slot.quantity.rawValue,
                                     "level": slot.level.map { scenario.levels[$0] } ?? "all",
                                     "rmsZBefore": series.before, "rmsZAfter": series.after] as [String: Any]
                }
                out[s.rawValue] = gap
            }
            return out
        }
        var arms: [[String: Any]] = []
        for finding in analysis.arms {
            let a = finding.arm
            var entry: [String: Any] = ["arm": scenario.arms[a].name, "aggregateMode": aggregates.options.label,
                                        "aggregateParameters": aggregates.parameters.label,
                                        "aggregateDraws": aggregates.parameters.draws,
                                        "approximations": aggregates.approximations[a],
                                        "verdict": finding.verdict.rawValue]
            if let stocks = finding.gaps[.stocks] {
                entry["stockRowsInsideAgentCI"] = stocks.rows > 0 ? Double(stocks.insideCI) / Double(stocks.rows) : 0
                if let w = stocks.largest { entry["largestDifference"] = rowJSON(w) }
            }
            if let differences = finding.gaps[.armDifferences], let w = differences.largest {
                entry["largestArmDifference"] = rowJSON(w)
            }
            entry["gap"] = Dictionary(uniqueKeysWithValues: finding.gaps.map { s, g in
                (s.rawValue, ["rows": g.rows, "rmsZ": g.rmsZ, "largestAbsZ": finite(g.largestAbsZ)] as [String: Any])
            })
            entry["likelyCauses"] = finding.causes.map(testJSON)
            entry["causesExaminedNotListed"] = finding.tests.filter { !$0.listed }.map(testJSON)
            arms.append(entry)
        }
        let json: [String: Any] = [
            "comparison": arms,
            "aggregateParameters": aggregates.parameters.label,
            "aggregateRuns": analysis.aggregateRuns,
            "rerunDraws": analysis.rerunDrawCount,
            "causesNotExamined": analysis.notExamined,
            "note": "Stock rows (every level and step) and arm-difference rows (stocks, cumulative discounted cost and QoL-years of each later arm minus the first): agent mean (95% CI) against the aggregate model run on the \(aggregates.parameters == .baseCase ? "scenario's base-case values" : "parameters of every agent draw, averaged over draws (per-draw mean)"); z is the difference in Monte Carlo standard errors. A cause is listed only when re-running the aggregate with that approximation removed lowers the RMS z of a series (a quantity and level over the steps, among the stock or arm-difference rows) by at least \(Analysis.reductionMCSE) MCSE; verdict 'chance' when every |z| < \(Analysis.chanceZ). Details per row in comparison.csv.",
        ]
        let data = (try? JSONSerialization.data(withJSONObject: json, options: [.prettyPrinted, .sortedKeys])) ?? Data()
        return Array(data) + [10]
    }

    /// The t critical value the CI uses, for counting rows inside it.
    static func criticalT(_ band: Band) -> Double {
        band.mcse > 0 ? (band.ciHigh - band.mean) / band.mcse : 0
    }
}
