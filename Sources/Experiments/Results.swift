import Analysis
import Foundation
import Model

/// Every result of a run, computed once from its replication rows and
/// streaming statistics: what bands.csv, summary.csv, uncertainty.csv,
/// importance.csv, voi.csv, report.md and report-tables.tex show. Writers
/// (Reports) only serialise it, so a number that appears in two outputs is
/// the same computed value (docs/methods.md, "Statistics used by all outputs").
public struct RunResults: Sendable {
    /// The statistics of one outcome of one arm across replications.
    public struct OutcomeResult: Sendable {
        public var outcome: Outcome
        public var statistics: SampleStatistics
    }

    /// The variance of one outcome split into parameter uncertainty and chance.
    public struct VarianceSplit: Sendable {
        public var outcome: Outcome
        public var decomposition: VarianceDecomposition
    }

    /// The main-effect share of one parameter (or group) for one outcome.
    public struct Importance: Sendable {
        public var outcome: Outcome
        public var group: String
        /// The group's columns, joined by ";".
        public var paths: String
        public var draws: Int
        public var share: Double
    }

    /// One EVPI or EVPPI estimate.
    public struct InformationValue: Sendable {
        public enum Measure: String, Sendable { case evpi, evppi }
        public var measure: Measure
        /// The parameter group (EVPPI); nil for EVPI.
        public var group: String?
        /// The group's columns, joined by ";" (EVPPI).
        public var paths: String
        public var willingnessToPay: Double
        public var draws: Int
        public var value: Double
        public var optimalArm: Int
    }

    /// EVPI and EVPPI over a grid of willingness to pay, and the groups that could not be estimated.
    public struct ValueOfInformationResult: Sendable {
        public var rows: [InformationValue]
        public var skipped: [String]
    }

    public var replicationsPerDraw: Int
    /// Every arm's levels (`Outcome.all` with no willingness to pay), then later arms' differences and net benefits.
    public var outcomes: [OutcomeResult]
    /// Cost-effectiveness of every later arm against the first (summary.csv).
    public var costEffectiveness: [(arm: Int, rows: [CostEffectiveness.Row])]
    /// The rows of bands.csv.
    public var bands: BandTable
    /// The rows of bands-yearly.csv.
    public var yearlyBands: YearlyBands
    /// With `transitionRewards` in any arm: each arm's discounted one-off costs and QoL-years of moves
    /// over the horizon (replications.csv `transition_cost_discounted`, `transition_qol_years_discounted`).
    public var transitionRewards: [(arm: Int, costDiscounted: SampleStatistics, qolYearsDiscounted: SampleStatistics)]
    /// Per arm, mean costs and QoL-years per child (per-person.csv, the report): each a ratio of means
    /// over the replications (`PerPerson`).
    public var perPerson: [PerPerson]
    /// Every arm on expected discounted cost and QoL-years: frontier, dominance and ICERs between
    /// neighbours on the frontier (incremental.csv); empty with one arm.
    public var incremental: [IncrementalAnalysis.Arm]
    /// Every arm's net monetary benefit, probability of the highest NMB and the acceptability frontier
    /// at each λ of `CostEffectiveness.Settings.acceptabilityGrid` (acceptability.csv); empty with one arm.
    public var acceptability: [Acceptability.Point]
    /// With drawn parameters: the statistics of each parameter column over the draws (the first arm's rows).
    public var parameterDraws: [SampleStatistics]
    /// With drawn parameters: the variance split of each outcome (uncertainty.csv).
    public var varianceSplit: [VarianceSplit]
    /// With drawn parameters: main-effect shares, by outcome, largest first (importance.csv).
    public var importance: [Importance]
    /// With drawn parameters and two or more arms (voi.csv).
    public var valueOfInformation: ValueOfInformationResult?

    /// - Parameters:
    ///   - uncertainty: the scenario's uncertainty if the run drew it (not `--base-case`).
    public init(scenario: Scenario, rows: [ReplicationRow], aggregator: Aggregator, replicationsPerDraw: Int,
                uncertainty: Uncertainty?, settings: CostEffectiveness.Settings) {
        let arms = scenario.arms.count
        self.replicationsPerDraw = replicationsPerDraw
        costEffectiveness = Self.costEffectiveness(scenario: scenario, rows: rows, replicationsPerDraw: replicationsPerDraw,
                                                   settings: settings)
        // Levels from the rows; differences and net benefits are the cost-effectiveness rows' statistics.
        var outcomes: [OutcomeResult] = []
        for a in 0..<arms {
            for o in Outcome.all(arm: a, willingnessToPay: settings.willingnessToPay) {
                let ce = costEffectiveness.first { $0.arm == a }?.rows
                let statistics: SampleStatistics?
                switch o.measure {
                case .costDiscounted, .qolYearsDiscounted:
                    statistics = o.statistics(rows, replicationsPerDraw: replicationsPerDraw)
                case .deltaCostDiscounted: statistics = ce?.first { $0.measure == "delta_cost_discounted" }?.statistics
                case .deltaQolYearsDiscounted: statistics = ce?.first { $0.measure == "delta_qol_years_discounted" }?.statistics
                case .deltaNetBenefit(let l):
                    statistics = ce?.first { $0.measure == "net_monetary_benefit" && $0.willingnessToPay == l }?.statistics
                }
                if let statistics { outcomes.append(OutcomeResult(outcome: o, statistics: statistics)) }
            }
        }
        self.outcomes = outcomes
        (incremental, acceptability) = Self.incremental(arms: arms, rows: rows, outcomes: outcomes,
                                                        replicationsPerDraw: replicationsPerDraw, settings: settings)
        perPerson = PerPerson.all(arms: arms, rows: rows, replicationsPerDraw: replicationsPerDraw)
        bands = Self.bands(scenario: scenario, aggregator: aggregator, outcomes: outcomes)
        yearlyBands = YearlyBands(scenario: scenario, rows: rows, replicationsPerDraw: replicationsPerDraw, bands: bands)
        transitionRewards = !scenario.arms.contains { $0.transitionRewards != nil } ? [] : scenario.arms.indices.map { a in
            let armRows = rows.filter { $0.arm == a }
            let groups = replicationsPerDraw > 1 ? armRows.map(\.draw) : nil
            return (a, SampleStatistics(armRows.map(\.totals.transitionCostDiscounted), groups: groups),
                    SampleStatistics(armRows.map(\.totals.transitionQolYearsDiscounted), groups: groups))
        }
        guard let uncertainty else {
            parameterDraws = []
            varianceSplit = []
            importance = []
            valueOfInformation = nil
            return
        }
        let firstArm = rows.filter { $0.arm == 0 }
        parameterDraws = uncertainty.columns.indices.map { c in SampleStatistics(firstArm.map { $0.parameters[c] }) }
        varianceSplit = Self.varianceSplit(arms: arms, rows: rows, willingnessToPay: settings.willingnessToPay)
        importance = Self.importance(arms: arms, uncertainty: uncertainty, rows: rows)
        valueOfInformation = Self.valueOfInformation(arms: arms, uncertainty: uncertainty, rows: rows, settings: settings)
    }

    /// The statistics of `outcome`; nil if the run has none (a difference with one arm).
    public func statistics(_ outcome: Outcome) -> SampleStatistics? {
        outcomes.first { $0.outcome == outcome }?.statistics
    }

    /// Cost-effectiveness of each later arm against the first, from paired replications.
    static func costEffectiveness(scenario: Scenario, rows: [ReplicationRow], replicationsPerDraw: Int,
                                  settings: CostEffectiveness.Settings) -> [(arm: Int, rows: [CostEffectiveness.Row])] {
        var first: [Int: ReplicationTotals] = [:]
        for row in rows where row.arm == 0 { first[row.replication] = row.totals }
        return scenario.arms.indices.dropFirst().map { a in
            let pairs = rows.filter { $0.arm == a }.compactMap { row -> CostEffectiveness.Pair? in
                guard let base = first[row.replication] else { return nil }
                return CostEffectiveness.Pair(
                    deltaCost: row.totals.costDiscounted - base.costDiscounted,
                    deltaQol: row.totals.qolYearsDiscounted - base.qolYearsDiscounted,
                    breakEvenYears: row.breakEvenStep.map { Double($0 * scenario.arms[0].stepMonths) / 12 },
                    draw: replicationsPerDraw > 1 ? row.draw : nil)
            }
            return (a, CostEffectiveness.summarise(pairs, willingnessToPay: settings.willingnessToPay, curve: settings.curve))
        }
    }

    /// The incremental analysis on the arms' mean discounted cost and QoL-years (the statistics of
    /// `outcomes`), and the acceptability of every arm from the replications in which every arm ran,
    /// grouped by draw in a nested run as summary.csv is. Both empty with fewer than two arms.
    static func incremental(arms: Int, rows: [ReplicationRow], outcomes: [OutcomeResult], replicationsPerDraw: Int,
                            settings: CostEffectiveness.Settings) -> ([IncrementalAnalysis.Arm], [Acceptability.Point]) {
        guard arms >= 2 else { return ([], []) }
        func mean(_ measure: Outcome.Measure, _ a: Int) -> Double {
            outcomes.first { $0.outcome == Outcome(measure: measure, arm: a) }?.statistics.mean ?? .nan
        }
        let frontier = (try? IncrementalAnalysis.analyse(cost: (0..<arms).map { mean(.costDiscounted, $0) },
                                                         qolYears: (0..<arms).map { mean(.qolYearsDiscounted, $0) })) ?? []
        var byReplication: [Int: (cost: [Double], qol: [Double], seen: Int, draw: Int)] = [:]
        for r in rows where r.arm < arms {
            var entry = byReplication[r.replication]
                ?? ([Double](repeating: .nan, count: arms), [Double](repeating: .nan, count: arms), 0, r.draw)
            entry.cost[r.arm] = r.totals.costDiscounted
            entry.qol[r.arm] = r.totals.qolYearsDiscounted
            entry.seen += 1
            byReplication[r.replication] = entry
        }
        let replications = byReplication.keys.sorted().compactMap { k -> Acceptability.Replication? in
            let e = byReplication[k]!
            return e.seen == arms ? Acceptability.Replication(cost: e.cost, qolYears: e.qol, draw: replicationsPerDraw > 1 ? e.draw : nil) : nil
        }
        return (frontier, Acceptability.compute(replications, willingnessToPay: settings.acceptabilityGrid))
    }

    /// The bands: streaming statistics, except where a row is a replication
    /// total (the last step's cumulative discounted cost and QoL-years, and
    /// their differences), which takes the outcome's statistics, so bands.csv
    /// and the summary and report show the same numbers.
    static func bands(scenario: Scenario, aggregator: Aggregator, outcomes: [OutcomeResult]) -> BandTable {
        let layout = RecordLayout(arm: scenario.arms[0])
        var exact: [Int: SampleStatistics] = [:]
        for r in outcomes {
            let slot: Int
            switch r.outcome.measure {
            case .costDiscounted, .deltaCostDiscounted: slot = layout.slot(.cumulativeCostDiscounted, level: nil)
            case .qolYearsDiscounted, .deltaQolYearsDiscounted: slot = layout.slot(.cumulativeQolYearsDiscounted, level: nil)
            case .deltaNetBenefit: continue
            }
            exact[aggregator.index(arm: r.outcome.arm, difference: r.outcome.isDifference, step: layout.steps, slot: slot)] = r.statistics
        }
        return BandTable(aggregator: aggregator, exact: exact)
    }

    /// The outcomes of uncertainty.csv and importance.csv: levels, and differences with net benefit at each λ.
    static func outcomes(arms: Int, willingnessToPay: [Double]) -> [Outcome] {
        (0..<arms).flatMap { Outcome.all(arm: $0, willingnessToPay: willingnessToPay) }
    }

    /// The variance of the replication totals split into parameter uncertainty
    /// and chance by one-way random-effects ANOVA over draws (`VarianceDecomposition`).
    static func varianceSplit(arms: Int, rows: [ReplicationRow], willingnessToPay: [Double]) -> [VarianceSplit] {
        outcomes(arms: arms, willingnessToPay: willingnessToPay).compactMap { outcome in
            let armRows = rows.filter { $0.arm == outcome.arm }
            let values = outcome.values(rows)
            guard values.count == armRows.count, values.count >= 2,
                  let d = try? VarianceDecomposition(values: values, draw: armRows.map(\.draw)) else { return nil }
            return VarianceSplit(outcome: outcome, decomposition: d)
        }
    }

    /// Which parameters drive each outcome: the main-effect (first-order)
    /// variance share Var(E[Y | θ_g]) / Var(Y) of each parameter and group,
    /// estimated as the R² of the same spline regression EVPPI uses (Strong &
    /// Oakley 2013, Med Decis Making 33(6):755–766; Saltelli et al. 2008,
    /// "Global Sensitivity Analysis", ch. 1). Y is the mean over a draw's
    /// replications. The estimate is biased upward by about columns/draws.
    /// Sorted by outcome, then share, largest first.
    static func importance(arms: Int, uncertainty: Uncertainty, rows: [ReplicationRow]) -> [Importance] {
        var byDraw: [Int: [Double]] = [:]
        for r in rows where r.arm == 0 { byDraw[r.draw] = r.parameters }
        let draws = byDraw.keys.sorted()
        guard draws.count >= 2 else { return [] }
        var out: [Importance] = []
        for outcome in outcomes(arms: arms, willingnessToPay: []) {
            let armRows = rows.filter { $0.arm == outcome.arm }
            let values = outcome.values(rows)
            guard values.count == armRows.count else { continue }
            var sum: [Int: (Double, Int)] = [:]
            for (r, v) in zip(armRows, values) { sum[r.draw, default: (0, 0)].0 += v; sum[r.draw, default: (0, 0)].1 += 1 }
            let y = draws.map { sum[$0].map { $0.0 / Double($0.1) } ?? .nan }
            guard y.allSatisfy(\.isFinite) else { continue }
            var found: [Importance] = []
            for g in uncertainty.reportedGroups {
                let columns = uncertainty.columnIndices(ofGroup: g.members)
                let x = draws.map { d in columns.map { byDraw[d]![$0] } }
                guard let fit = try? ValueOfInformation.evppi(netBenefit: y.map { [0, $0] }, parameters: x),
                      let r2 = fit.rSquared[1] ?? nil else { continue }
                found.append(Importance(outcome: outcome, group: g.name, paths: columns.map { uncertainty.columns[$0] }.joined(separator: ";"),
                                        draws: draws.count, share: r2))
            }
            out += found.sorted { $0.share > $1.share }
        }
        return out
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
    static func valueOfInformation(arms: Int, uncertainty: Uncertainty, rows: [ReplicationRow],
                                   settings: CostEffectiveness.Settings) -> ValueOfInformationResult? {
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

        var out: [InformationValue] = []
        var skipped: [String] = []
        for lambda in grid(settings) {
            let nb = zip(meanCost, meanQol).map { c, q in zip(c, q).map { lambda * $1 - $0 } }
            guard let evpi = try? ValueOfInformation.evpi(netBenefit: nb) else { continue }
            out.append(InformationValue(measure: .evpi, group: nil, paths: "", willingnessToPay: lambda, draws: draws.count,
                                        value: evpi.evpi, optimalArm: evpi.optimalArm))
            for g in uncertainty.reportedGroups {
                let columns = uncertainty.columnIndices(ofGroup: g.members)
                let paths = columns.map { uncertainty.columns[$0] }.joined(separator: ";")
                do {
                    let x = values.map { v in columns.map { v[$0] } }
                    let e = try ValueOfInformation.evppi(netBenefit: nb, parameters: x)
                    out.append(InformationValue(measure: .evppi, group: g.name, paths: paths, willingnessToPay: lambda,
                                                draws: draws.count, value: e.evppi, optimalArm: e.optimalArm))
                } catch {
                    let why = "EVPPI of '\(g.name)': \(error.description)"
                    if !skipped.contains(why) { skipped.append(why) }
                }
            }
        }
        return ValueOfInformationResult(rows: out, skipped: skipped)
    }
}

/// An arm's results per child (per person), as papers report them: the mean over replications of
/// its total (discounted cost, QoL-years, …) divided by the mean number of children ever in the
/// model (initial children and every entry), with the delta-method MCSE of that ratio
/// (`RatioOfMeans`); for a later arm also its paired difference from the first arm per child.
/// In a closed cohort (no entries) this is the total's mean divided by the cohort's size.
public struct PerPerson: Sendable {
    public enum Measure: String, Sendable, CaseIterable {
        case costDiscounted = "cost_discounted_per_child"
        case qolYearsDiscounted = "qol_years_discounted_per_child"
        case cost = "cost_per_child"
        case qolYears = "qol_years_per_child"
        case childYears = "child_years_per_child"

        /// The replication total it divides by children ever.
        func total(_ t: ReplicationTotals) -> Double {
            switch self {
            case .costDiscounted: t.costDiscounted
            case .qolYearsDiscounted: t.qolYearsDiscounted
            case .cost: t.cost
            case .qolYears: t.qolYears
            case .childYears: t.childYears
            }
        }
    }

    public var arm: Int
    /// Children ever in the model per replication (the denominator).
    public var childrenEver: SampleStatistics
    /// Each measure per child, in `Measure.allCases` order.
    public var values: [(measure: Measure, estimate: RatioOfMeans)]
    /// For a later arm: each measure's difference from the first arm per child (paired), in the same order.
    public var differences: [(measure: Measure, estimate: RatioOfMeans)]

    static func all(arms: Int, rows: [ReplicationRow], replicationsPerDraw: Int) -> [PerPerson] {
        var first: [Int: ReplicationTotals] = [:]
        for row in rows where row.arm == 0 { first[row.replication] = row.totals }
        return (0..<arms).map { a in
            let own = rows.filter { $0.arm == a }
            let groups = replicationsPerDraw > 1 ? own.map(\.draw) : nil
            let ever = own.map { Double($0.totals.childrenEver) }
            let values = Measure.allCases.map { m in
                (m, RatioOfMeans(numerator: own.map { m.total($0.totals) }, denominator: ever, groups: groups))
            }
            var differences: [(measure: Measure, estimate: RatioOfMeans)] = []
            if a > 0 {
                let paired = own.compactMap { row in first[row.replication].map { (row, $0) } }
                let pairedGroups = replicationsPerDraw > 1 ? paired.map(\.0.draw) : nil
                differences = Measure.allCases.map { m in
                    (m, RatioOfMeans(differenceOf: (paired.map { m.total($0.0.totals) }, paired.map { Double($0.0.totals.childrenEver) }),
                                     from: (paired.map { m.total($0.1) }, paired.map { Double($0.1.childrenEver) }),
                                     groups: pairedGroups))
                }
            }
            return PerPerson(arm: a, childrenEver: SampleStatistics(ever, groups: groups), values: values, differences: differences)
        }
    }
}

/// What sensitivity.csv shows: the statistics of every outcome of every arm
/// at each point of a sensitivity design, computed once (`SampleStatistics`).
public struct SensitivityResults: Sendable {
    /// Per point, in the design's order: every arm's outcomes (`Outcome.all` at the design's willingness to pay).
    public var points: [[RunResults.OutcomeResult]]

    /// - Parameter rows: each point's replication rows, in the design's point order.
    public init(design: SensitivityDesign, arms: Int, rows: [[ReplicationRow]]) {
        points = rows.map { pointRows in
            (0..<arms).flatMap { a in
                Outcome.all(arm: a, willingnessToPay: design.willingnessToPay).map {
                    RunResults.OutcomeResult(outcome: $0, statistics: $0.statistics(pointRows, replicationsPerDraw: 1))
                }
            }
        }
    }
}

/// The statistics of every yearly value across replications (bands-yearly.csv): for each arm, and
/// each later arm's paired difference from the first, of all areas and of each area, year and slot.
///
/// A total over the year's steps (flows, costs, QoL-years, …) has the exact statistics
/// (`SampleStatistics`, exact percentiles; in a nested run the MCSE of draw means) of the rows'
/// yearly values, which replications-yearly.csv shows. A state of all areas at the end of the year
/// (stock, children reached, cumulative totals) is a row of bands.csv already, the year's last
/// step: it takes that row's statistics (`BandTable`), so the two files show one number. An area's
/// state has the exact statistics of the rows' values, as a total does (bands.csv is of all areas).
public struct YearlyBands: Sendable {
    public let layout: YearlyLayout
    public let arms: Int
    /// [block][yearly value]; blocks as in `Aggregator`: arms 0..<arms, then arms 1..<arms' differences;
    /// the values of a block as in a replication's yearly values (`YearlyLayout.size`).
    let statistics: [SampleStatistics]

    public init(scenario: Scenario, rows: [ReplicationRow], replicationsPerDraw: Int, bands: BandTable) {
        let layout = YearlyLayout(arm: scenario.arms[0])
        self.layout = layout
        arms = scenario.arms.count
        let byArm = (0..<arms).map { a in rows.filter { $0.arm == a && $0.yearly.count == layout.size } }
        var firstByReplication: [Int: [Double]] = [:]
        for row in byArm[0] { firstByReplication[row.replication] = row.yearly }
        // Each block's replications: the arm's own values, or its differences from the first arm's.
        var blocks: [(values: [[Double]], draws: [Int])] = byArm.map { ($0.map(\.yearly), $0.map(\.draw)) }
        for a in 1..<max(arms, 1) {
            let paired = byArm[a].compactMap { row in firstByReplication[row.replication].map { (row, $0) } }
            blocks.append((paired.map { row, first in zip(row.yearly, first).map { $0 - $1 } }, paired.map(\.0.draw)))
        }
        var statistics: [SampleStatistics] = []
        statistics.reserveCapacity(blocks.count * layout.size)
        for (b, block) in blocks.enumerated() {
            let groups = replicationsPerDraw > 1 ? block.draws : nil
            let (arm, difference) = b < arms ? (b, false) : (b - arms + 1, true)
            func exact(_ i: Int) -> SampleStatistics { SampleStatistics(block.values.map { $0[i] }, groups: groups) }
            for (y, year) in layout.years.enumerated() {
                for (s, slot) in layout.slots.enumerated() {
                    statistics.append(slot.quantity.atStepZero
                        ? bands.band(arm: arm, difference: difference, step: year.steps.upperBound, slot: layout.recordSlots[s])
                        : exact(layout.index(year: y, slot: s)))
                }
            }
            for i in layout.allAreasSize..<layout.size { statistics.append(exact(i)) }
        }
        self.statistics = statistics
    }

    /// The statistics of yearly slot `slot` (a position in `layout.slots`; for an area, one of
    /// `layout.areaSlots`) in the year at position `year` of `layout.years`, of all areas (`area`
    /// nil) or area `area`, for arm `arm` or (`difference`) its difference from the first arm.
    public func band(arm: Int, difference: Bool, area: Int? = nil, year: Int, slot: Int) -> SampleStatistics {
        let block = difference ? arms + arm - 1 : arm
        guard let area else { return statistics[block * layout.size + layout.index(year: year, slot: slot)] }
        guard let k = layout.areaSlotOf[slot] else {
            preconditionFailure("yearly slot \(slot) (\(layout.slots[slot].quantity.rawValue)) has no value by area")
        }
        return statistics[block * layout.size + layout.index(area: area, year: year, areaSlot: k)]
    }
}
