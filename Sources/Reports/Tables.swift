import Analysis
import Experiments
import Foundation
import Microsimulation
import Model

/// bands.csv and replications.csv, the tidy tables of docs/outputs.md.
public enum Tables {
    public static let bandsHeader = ["arm", "step", "time_years", "quantity", "level", "from_level", "to_level",
                                     "replications", "mean", "mcse", "ci_low", "ci_high"] + Statistics.percentiles.map(\.label)

    /// One row per arm, step, quantity and level; then each later arm's
    /// paired difference from the first (`delta_` quantities).
    /// - Parameter quantities: the groups written (`--quantities`); the rows of the others are left out.
    public static func bands(scenario: Scenario, bands: BandTable, quantities: Set<QuantityGroup> = QuantityGroup.every) -> String {
        let arms = scenario.arms
        let layout = RecordLayout(arm: arms[0])
        let names = arms[0].levels.map(\.name)
        var out = CSV.row(bandsHeader)
        out.reserveCapacity(bands.aggregator.cells.count * 160)
        let blocks: [(arm: Int, difference: Bool)] = arms.indices.map { ($0, false) } + arms.indices.dropFirst().map { ($0, true) }
        for (arm, difference) in blocks {
            for step in 0...layout.steps {
                let time = CSV.number(Double(step * arms[0].stepMonths) / 12)
                for (s, slot) in layout.slots.enumerated() where (step > 0 || slot.quantity.atStepZero) && quantities.contains(slot.quantity.group) {
                    let band = bands.band(arm: arm, difference: difference, step: step, slot: s)
                    let quantity = (difference ? "delta_" : "") + slot.quantity.rawValue
                    let level = slot.quantity == .flow ? "" : (slot.level.map { names[$0] } ?? "all")
                    var cells = [CSV.text(arms[arm].name), String(step), time, quantity, CSV.text(level),
                                 slot.from.map { CSV.text(names[$0]) } ?? "", slot.to.map { CSV.text(names[$0]) } ?? "",
                                 String(band.count), CSV.number(band.mean), CSV.number(band.mcse),
                                 CSV.number(band.ciLow), CSV.number(band.ciHigh)]
                    cells += band.percentiles.map(CSV.number)
                    out += CSV.row(cells)
                }
            }
        }
        return out
    }

    public static let summaryHeader = ["arm", "comparator", "measure", "willingness_to_pay", "replications", "mean", "mcse",
                                       "ci_low", "ci_high", "p2_5", "p50", "p97_5"]

    /// summary.csv: cost-effectiveness of every later arm against the first (`RunResults.costEffectiveness`).
    public static func summary(scenario: Scenario, results: RunResults) -> String {
        var out = CSV.row(summaryHeader)
        let comparator = scenario.arms[0].name
        for (a, rows) in results.costEffectiveness {
            for r in rows {
                out += CSV.row([CSV.text(scenario.arms[a].name), CSV.text(comparator), r.measure,
                                r.willingnessToPay.map(CSV.number) ?? "", String(r.replications), CSV.number(r.mean),
                                CSV.number(r.mcse), CSV.number(r.ciLow), CSV.number(r.ciHigh), CSV.number(r.p2_5),
                                CSV.number(r.p50), CSV.number(r.p97_5)])
            }
        }
        return out
    }

    public static let perPersonHeader = ["arm", "comparator", "measure", "replications", "children_ever", "mean", "mcse",
                                         "ci_low", "ci_high"]

    /// per-person.csv: per arm, each total per child (`RunResults.perPerson`), then each later arm's
    /// paired difference from the first per child (`delta_` measures, with the first arm as comparator).
    public static func perPerson(scenario: Scenario, results: RunResults) -> String {
        var out = CSV.row(perPersonHeader)
        let names = scenario.arms.map(\.name)
        for p in results.perPerson {
            for (blocks, comparator, prefix) in [(p.values, "", ""), (p.differences, names[0], "delta_")] {
                for (measure, r) in blocks {
                    out += CSV.row([CSV.text(names[p.arm]), CSV.text(comparator), prefix + measure.rawValue, String(r.count),
                                    CSV.number(p.childrenEver.mean), CSV.number(r.mean), CSV.number(r.mcse),
                                    CSV.number(r.ciLow), CSV.number(r.ciHigh)])
                }
            }
        }
        return out
    }

    public static func replicationsHeader(levels: [String]) -> [String] {
        ["replication", "arm", "children_ever", "child_years", "cost", "cost_discounted", "programme_cost_discounted",
         "transition_cost_discounted", "qol_years", "qol_years_discounted", "transition_qol_years_discounted",
         "cost_discounted_per_child", "qol_years_discounted_per_child"]
            + levels.map { "final_stock_\($0)" } + ["delta_cost_discounted", "delta_qol_years_discounted", "break_even_years"]
    }

    /// One row per replication and arm, with totals and the paired difference from the first arm.
    public static func replications(scenario: Scenario, rows: [ReplicationRow]) -> String {
        var out = CSV.row(replicationsHeader(levels: scenario.levels).map(CSV.text))
        var first: ReplicationTotals? = nil
        for row in rows {
            let t = row.totals
            if row.arm == 0 { first = t }
            let ever = Double(max(t.childrenEver, 1))
            var cells = [String(row.replication), CSV.text(scenario.arms[row.arm].name), String(t.childrenEver),
                         CSV.number(t.childYears), CSV.number(t.cost), CSV.number(t.costDiscounted),
                         CSV.number(t.programmeCostDiscounted), CSV.number(t.transitionCostDiscounted), CSV.number(t.qolYears),
                         CSV.number(t.qolYearsDiscounted), CSV.number(t.transitionQolYearsDiscounted),
                         CSV.number(t.costDiscounted / ever), CSV.number(t.qolYearsDiscounted / ever)]
            cells += t.finalStocks.map { String($0) }
            cells += [CSV.number(t.costDiscounted - (first?.costDiscounted ?? .nan)),
                      CSV.number(t.qolYearsDiscounted - (first?.qolYearsDiscounted ?? .nan)),
                      row.breakEvenStep.map { CSV.number(Double($0 * scenario.arms[0].stepMonths) / 12) } ?? ""]
            out += CSV.row(cells)
        }
        return out
    }
}

extension Tables {
    public static let yearlyBandsHeader = ["arm", "area", "year", "start_years", "end_years", "quantity", "level", "from_level", "to_level",
                                           "replications", "mean", "mcse", "ci_low", "ci_high"] + Statistics.percentiles.map(\.label)

    /// bands-yearly.csv: one row per arm, area (`all`, then each area of a scenario with two or more),
    /// year, quantity and level (`RunResults.yearlyBands`); then each later arm's paired difference
    /// from the first (`delta_` quantities), as in bands.csv. An area has no rows of the programme's
    /// cost (`Quantity.isAuthorityWide`).
    public static func yearlyBands(scenario: Scenario, bands: YearlyBands, quantities: Set<QuantityGroup> = QuantityGroup.every) -> String {
        let arms = scenario.arms, layout = bands.layout, names = scenario.levels
        var out = CSV.row(yearlyBandsHeader)
        let blocks: [(arm: Int, difference: Bool)] = arms.indices.map { ($0, false) } + arms.indices.dropFirst().map { ($0, true) }
        let areas: [(name: String, index: Int?, slots: [Int])] = [("all", nil, Array(layout.slots.indices))]
            + layout.areas.enumerated().map { ($1, $0, layout.areaSlots) }
        for (arm, difference) in blocks {
            for area in areas {
                for (y, year) in layout.years.enumerated() {
                    for s in area.slots where quantities.contains(layout.slots[s].quantity.group) {
                        let slot = layout.slots[s]
                        let band = bands.band(arm: arm, difference: difference, area: area.index, year: y, slot: s)
                        let quantity = (difference ? "delta_" : "") + slot.quantity.rawValue
                        let level = slot.quantity == .flow ? "" : (slot.level.map { names[$0] } ?? "all")
                        var cells = [CSV.text(arms[arm].name), CSV.text(area.name), String(year.number), CSV.number(year.startYears),
                                     CSV.number(year.endYears), quantity, CSV.text(level), slot.from.map { CSV.text(names[$0]) } ?? "",
                                     slot.to.map { CSV.text(names[$0]) } ?? "", String(band.count), CSV.number(band.mean),
                                     CSV.number(band.mcse), CSV.number(band.ciLow), CSV.number(band.ciHigh)]
                        cells += band.percentiles.map(CSV.number)
                        out += CSV.row(cells)
                    }
                }
            }
        }
        return out
    }

    /// The column of each yearly slot in replications-yearly.csv: the quantity, then `_LEVEL` for one
    /// level (none for all levels), or `_FROM_to_TO` for a move.
    public static func yearlyColumn(_ slot: RecordLayout.Slot, levels: [String]) -> String {
        if slot.quantity == .flow, let from = slot.from, let to = slot.to { return "flow_\(levels[from])_to_\(levels[to])" }
        return slot.quantity.rawValue + (slot.level.map { "_" + levels[$0] } ?? "")
    }

    public static func yearlyReplicationsHeader(layout: YearlyLayout, levels: [String], quantities: Set<QuantityGroup> = QuantityGroup.every) -> [String] {
        ["replication", "arm", "area", "year", "start_years", "end_years"]
            + layout.slots.filter { quantities.contains($0.quantity.group) }.map { yearlyColumn($0, levels: levels) }
    }

    /// replications-yearly.csv: one row per replication, arm, area (`all`, then each area of a
    /// scenario with two or more) and year, with the year's value of every quantity
    /// (`ReplicationRow.yearly`); an area's programme cost cells are empty (`Quantity.isAuthorityWide`).
    public static func yearlyReplications(scenario: Scenario, rows: [ReplicationRow], quantities: Set<QuantityGroup> = QuantityGroup.every) -> String {
        let layout = YearlyLayout(arm: scenario.arms[0])
        let written = layout.slots.indices.filter { quantities.contains(layout.slots[$0].quantity.group) }
        var out = CSV.row(yearlyReplicationsHeader(layout: layout, levels: scenario.levels, quantities: quantities).map(CSV.text))
        out.reserveCapacity(rows.count * layout.size * 12)
        for row in rows where row.yearly.count == layout.size {
            let arm = CSV.text(scenario.arms[row.arm].name)
            for area in [nil] + layout.areas.indices.map(Optional.some) {
                let name = CSV.text(area.map { layout.areas[$0] } ?? "all")
                for (y, year) in layout.years.enumerated() {
                    var cells = [String(row.replication), arm, name, String(year.number), CSV.number(year.startYears), CSV.number(year.endYears)]
                    for s in written {
                        if let a = area {
                            cells.append(layout.areaSlotOf[s].map { CSV.number(row.yearly[layout.index(area: a, year: y, areaSlot: $0)]) } ?? "")
                        } else {
                            cells.append(CSV.number(row.yearly[layout.index(year: y, slot: s)]))
                        }
                    }
                    out += CSV.row(cells)
                }
            }
        }
        return out
    }

    /// parameters.csv: one row per replication, its draw and the value of every uncertain field.
    ///
    /// Its header is the draws-file format (`uncertainty.draws`), so a run's
    /// parameters can be fed back to another scenario.
    public static func parameters(columns: [String], rows: [ReplicationRow]) -> String {
        var out = CSV.row((["replication", "draw"] + columns).map(CSV.text))
        for row in rows where row.arm == 0 {
            out += CSV.row([String(row.replication), String(row.draw)] + row.parameters.map(CSV.number))
        }
        return out
    }
}
