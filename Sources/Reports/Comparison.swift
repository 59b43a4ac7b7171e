import Analysis
import Foundation
import Model
import StockFlow

/// aggregate.csv, comparison.csv and summary.json: the agents beside the
/// aggregate stock-flow model run on the same model value (docs/outputs.md).
public enum Comparison {
    /// The aggregate model of every arm, plus the variant used to attribute causes.
    public struct Aggregates: Sendable {
        public var options: AggregateOptions
        public var results: [AggregateResult]
        /// The same runs with exposure carried per age stock, to tell exposure heterogeneity apart.
        public var exposureStocks: [AggregateResult]

        /// - Parameter attribution: also run the exposure-per-stock variant (for summary.json).
        public static func run(_ scenario: Scenario, options: AggregateOptions, attribution: Bool = true) throws(AggregateError) -> Aggregates {
            var results: [AggregateResult] = [], stocks: [AggregateResult] = []
            let layout = RecordLayout(levelCount: scenario.levels.count, steps: scenario.arms[0].steps)
            for (a, arm) in scenario.arms.enumerated() {
                let reference = a > 0 && arm.reinvestment != nil
                    ? Rewards.costRatePath(record: results[0].record, layout: layout, arm: scenario.arms[0]) : nil
                let referenceStocks = a > 0 && arm.reinvestment != nil
                    ? Rewards.costRatePath(record: stocks[0].record, layout: layout, arm: scenario.arms[0]) : nil
                let main = try AggregateModel.run(arm: arm, options: options, referenceCostPerYear: reference)
                results.append(main)
                var variant = options
                variant.exposure = .stocks
                stocks.append(attribution && options.exposure != .stocks && !arm.practices.isEmpty
                              ? try AggregateModel.run(arm: arm, options: variant, referenceCostPerYear: referenceStocks) : main)
            }
            return Aggregates(options: options, results: results, exposureStocks: stocks)
        }
    }

    struct Row {
        var arm: Int
        var difference: Bool
        var step: Int
        var slot: Int
    }

    static func rows(_ scenario: Scenario, layout: RecordLayout) -> [Row] {
        var rows: [Row] = []
        let blocks = scenario.arms.indices.map { ($0, false) } + scenario.arms.indices.dropFirst().map { ($0, true) }
        for (arm, difference) in blocks {
            for step in 0...layout.steps {
                for (s, slot) in layout.slots.enumerated() where step > 0 || slot.quantity.atStepZero {
                    rows.append(Row(arm: arm, difference: difference, step: step, slot: s))
                }
            }
        }
        return rows
    }

    static func value(_ results: [AggregateResult], _ row: Row, _ layout: RecordLayout) -> Double {
        let i = layout.index(step: row.step, slot: row.slot)
        return row.difference ? results[row.arm].record[i] - results[0].record[i] : results[row.arm].record[i]
    }

    static func keys(_ scenario: Scenario, _ row: Row, _ layout: RecordLayout) -> [String] {
        let slot = layout.slots[row.slot]
        let names = scenario.levels
        let level = slot.quantity == .flow ? "" : (slot.level.map { names[$0] } ?? "all")
        return [CSV.text(scenario.arms[row.arm].name), String(row.step),
                CSV.number(Double(row.step * scenario.arms[0].stepMonths) / 12),
                (row.difference ? "delta_" : "") + slot.quantity.rawValue, CSV.text(level),
                slot.from.map { CSV.text(names[$0]) } ?? "", slot.to.map { CSV.text(names[$0]) } ?? ""]
    }

    public static func aggregateCSV(_ scenario: Scenario, _ aggregates: Aggregates) -> String {
        let layout = RecordLayout(levelCount: scenario.levels.count, steps: scenario.arms[0].steps)
        var out = CSV.row(["arm", "step", "time_years", "quantity", "level", "from_level", "to_level", "value", "mode"])
        for row in rows(scenario, layout: layout) where !row.difference {
            out += CSV.row(keys(scenario, row, layout) + [CSV.number(value(aggregates.results, row, layout)), aggregates.options.label])
        }
        return out
    }

    public static let comparisonHeader = ["arm", "step", "time_years", "quantity", "level", "from_level", "to_level",
                                          "agent_mean", "agent_mcse", "agent_ci_low", "agent_ci_high", "agent_p2_5", "agent_p97_5",
                                          "aggregate", "difference", "relative_difference", "z", "aggregate_in_ci"]

    public static func comparisonCSV(_ scenario: Scenario, _ aggregator: BandTable, _ aggregates: Aggregates) -> String {
        let layout = RecordLayout(levelCount: scenario.levels.count, steps: scenario.arms[0].steps)
        var out = CSV.row(comparisonHeader)
        for row in rows(scenario, layout: layout) {
            let band = aggregator.band(arm: row.arm, difference: row.difference, step: row.step, slot: row.slot)
            let a = value(aggregates.results, row, layout)
            let d = a - band.mean
            let inside = band.count > 1 && ((a >= band.ciLow && a <= band.ciHigh) || negligible(d, band))
            out += CSV.row(keys(scenario, row, layout) + [
                CSV.number(band.mean), CSV.number(band.mcse), CSV.number(band.ciLow), CSV.number(band.ciHigh),
                CSV.number(band.percentiles[0]), CSV.number(band.percentiles[6]), CSV.number(a), CSV.number(d),
                CSV.number(band.mean != 0 ? d / abs(band.mean) : .nan), CSV.number(zScore(d, band)),
                band.count > 1 && !a.isNaN && !band.mean.isNaN ? (inside ? "true" : "false") : "",
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

    /// Where the models part most, per arm, and the likely cause.
    public static func summaryJSON(_ scenario: Scenario, _ aggregator: BandTable, _ aggregates: Aggregates) -> [UInt8] {
        let layout = RecordLayout(levelCount: scenario.levels.count, steps: scenario.arms[0].steps)
        var arms: [[String: Any]] = []
        for (a, arm) in scenario.arms.enumerated() {
            var worst: (row: Row, z: Double, band: Band, aggregate: Double)? = nil
            var inside = 0, total = 0
            for step in 1...layout.steps {
                for l in 0..<layout.levelCount {
                    let row = Row(arm: a, difference: false, step: step, slot: layout.slot(.stock, level: l))
                    let band = aggregator.band(arm: a, difference: false, step: step, slot: row.slot)
                    let v = value(aggregates.results, row, layout)
                    let z = zScore(v - band.mean, band)
                    guard !z.isNaN else { continue }
                    total += 1
                    if abs(z) <= criticalT(band) { inside += 1 }
                    if worst == nil || abs(z) > abs(worst!.z) { worst = (row, z, band, v) }
                }
            }
            var entry: [String: Any] = ["arm": arm.name, "aggregateMode": aggregates.options.label,
                                        "stockRowsInsideAgentCI": total > 0 ? Double(inside) / Double(total) : 0,
                                        "approximations": aggregates.results[a].approximations]
            if let w = worst {
                let l = layout.slots[w.row.slot].level!
                let stocksVariant = aggregates.exposureStocks[a].record[layout.index(step: w.row.step, slot: w.row.slot)]
                entry["largestDifference"] = [
                    "quantity": "stock", "level": arm.levels[l].name, "step": w.row.step,
                    "timeYears": Double(w.row.step * arm.stepMonths) / 12,
                    "agentMean": w.band.mean, "agentCILow": w.band.ciLow, "agentCIHigh": w.band.ciHigh,
                    "aggregate": w.aggregate, "difference": w.aggregate - w.band.mean,
                    "relativeDifference": w.band.mean != 0 ? (w.aggregate - w.band.mean) / abs(w.band.mean) : 0,
                    "z": w.z.isFinite ? w.z : (w.z > 0 ? 1e308 : -1e308),
                ] as [String: Any]
                entry["likelyCauses"] = causes(arm: arm, level: l, z: w.z, band: w.band, aggregate: w.aggregate,
                                               exposureStocks: stocksVariant, options: aggregates.options)
            }
            arms.append(entry)
        }
        let json: [String: Any] = ["comparison": arms,
                                   "note": "Stocks per level at every step: agent mean (95% CI) against the aggregate model on the same parameters; z is the difference in Monte Carlo standard errors. Details per row in comparison.csv."]
        let data = (try? JSONSerialization.data(withJSONObject: json, options: [.prettyPrinted, .sortedKeys])) ?? Data()
        return Array(data) + [10]
    }

    /// The t critical value the CI uses, for counting rows inside it.
    static func criticalT(_ band: Band) -> Double {
        band.mcse > 0 ? (band.ciHigh - band.mean) / band.mcse : 0
    }

    /// Names the model features that explain a difference, most likely first.
    static func causes(arm: ArmModel, level: Int, z: Double, band: Band, aggregate: Double, exposureStocks: Double,
                       options: AggregateOptions) -> [String] {
        var out: [String] = []
        let gap = abs(aggregate - band.mean)
        if abs(z) < 4 {
            out.append("chance: the largest difference is within 4 Monte Carlo standard errors, so the models agree at this precision")
            return out
        }
        if !arm.durationMultipliers.allSatisfy(\.isEmpty) {
            let levels = arm.levels.indices.filter { !arm.durationMultipliers[$0].isEmpty }.map { arm.levels[$0].name }
            let why = arm.initialDurations == .zero
                ? "children who all start at 0 months leave at the first band's rate, not that mean"
                : "the mix of months spent drifts from the stationary one as inflows change"
            out.append("duration dependence: leaving \(levels.joined(separator: ", ")) depends on months spent there, which the aggregate replaces by a stationary mean multiplier; \(why)")
        }
        if !arm.practices.isEmpty && options.exposure == .meanField && abs(exposureStocks - band.mean) < 0.5 * gap {
            out.append("heterogeneity in exposure: carrying exposure per age stock instead of one mean per group closes most of the gap (aggregate \(String(format: "%.1f", exposureStocks)) vs agents \(String(format: "%.1f", band.mean))); the effect of the mean exposure is not the mean effect (non-linear effect)")
        } else if !arm.practices.isEmpty && arm.immigrationPerYear.contains(where: { $0 > 0 }) {
            out.append("heterogeneity in exposure: in-migrants join with zero exposure, averaged into the stocks they join")
        }
        if options.mode == .sd {
            out.append("discretisation: the agents move once per step; sd mode moves continuously within it (compare with --aggregate-mode cohort)")
        }
        if band.mean < 30 {
            out.append("small numbers: the agent mean is below 30 children, where chance and integer counts matter")
        }
        if out.isEmpty {
            out.append("unexplained by the listed features: check the scenario for structure the aggregate does not carry")
        }
        return out
    }
}
