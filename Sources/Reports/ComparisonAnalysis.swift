import Analysis
import Dispatch
import Foundation
import Model
import StockFlow
import Synchronization

extension Comparison {
    /// Which parameter values the aggregate model ran on (the `aggregate_parameters` column).
    public enum Parameters: Sendable, Equatable {
        /// The scenario file's own values (no parameter draws, or `--base-case`).
        case baseCase
        /// One run per parameter draw of the agents, averaged with each draw's replications as weights.
        case perDrawMean(draws: Int)

        public var label: String {
            switch self {
            case .baseCase: return "base case"
            case .perDrawMean: return "per-draw mean"
            }
        }

        public var draws: Int {
            switch self {
            case .baseCase: return 1
            case .perDrawMean(let draws): return draws
            }
        }
    }

    /// One parameter draw for the aggregate model: its arms, and how many replications used it.
    public struct Draw: Sendable {
        public var draw: Int
        public var arms: [ArmModel]
        public var replications: Int

        public init(draw: Int, arms: [ArmModel], replications: Int) {
            self.draw = draw
            self.arms = arms
            self.replications = replications
        }
    }

    /// The draws behind a run's rows: one per parameter draw the agents used, with its
    /// replications; the scenario's own arms when nothing was drawn.
    public static func draws(state: RunState, scenario: Scenario) throws(AggregateError) -> (draws: [Draw], parameters: Parameters) {
        guard let u = state.drawnUncertainty(scenario) else {
            return ([Draw(draw: 0, arms: scenario.arms, replications: 1)], .baseCase)
        }
        var byDraw: [Int: (values: [Double], replications: Int)] = [:]
        for row in state.rows where row.arm == 0 {
            byDraw[row.draw, default: (row.parameters, 0)].replications += 1
        }
        guard !byDraw.isEmpty else { return ([Draw(draw: 0, arms: scenario.arms, replications: 1)], .baseCase) }
        var out: [Draw] = []
        for d in byDraw.keys.sorted() {
            let entry = byDraw[d]!
            do {
                out.append(Draw(draw: d, arms: try u.arms(values: entry.values), replications: entry.replications))
            } catch {
                throw AggregateError("parameter draw \(d): its arms do not validate: \(error)")
            }
        }
        return (out, .perDrawMean(draws: out.count))
    }

    /// The aggregate model of every arm: one run per draw, averaged with the draws' replications as weights.
    public struct Aggregates: Sendable {
        public var options: AggregateOptions
        public var parameters: Parameters
        /// Per arm: the record, Σ_d w_d·record_d / Σ_d w_d over draws d with w_d replications.
        public var records: [[Double]]
        /// Per arm: what the model approximates (of the first draw).
        public var approximations: [[String]]

        /// The scenario's own arms, once.
        public static func run(_ scenario: Scenario, options: AggregateOptions) throws(AggregateError) -> Aggregates {
            try run([Draw(draw: 0, arms: scenario.arms, replications: 1)], options: options, parameters: .baseCase)
        }

        /// Every draw, spread over `threads` threads, in chunks of 64 draws (memory holds one
        /// chunk's runs); the sum runs in draw order, so the result does not depend on `threads`.
        public static func run(_ draws: [Draw], options: AggregateOptions, parameters: Parameters,
                               threads: Int = 1) throws(AggregateError) -> Aggregates {
            try run(draws, options: options, parameters: parameters, threads: threads, keeping: 0).aggregates
        }

        /// The same, also returning the runs of the first `keeping` draws.
        static func run(_ draws: [Draw], options: AggregateOptions, parameters: Parameters, threads: Int,
                        keeping: Int) throws(AggregateError) -> (aggregates: Aggregates, kept: [[AggregateResult]]) {
            let total = Double(draws.reduce(0) { $0 + $1.replications })
            var sums: [[Double]] = [], kept: [[AggregateResult]] = [], approximations: [[String]] = []
            for start in stride(from: 0, to: draws.count, by: 64) {
                let chunk = Array(draws[start..<min(start + 64, draws.count)])
                let results = try runEach(chunk, options: options, threads: threads)
                if start == 0 {
                    sums = results[0].map { [Double](repeating: 0, count: $0.record.count) }
                    approximations = results[0].map(\.approximations)
                }
                for (d, draw) in chunk.enumerated() {
                    let w = Double(draw.replications)
                    for a in sums.indices {
                        for i in sums[a].indices { sums[a][i] += w * results[d][a].record[i] }
                    }
                    if start + d < keeping { kept.append(results[d]) }
                }
            }
            let aggregates = Aggregates(options: options, parameters: parameters, records: sums.map { $0.map { $0 / total } },
                                        approximations: approximations)
            return (aggregates, kept)
        }

        /// One run of every arm per draw; the first failure, by draw order, is thrown.
        static func runEach(_ draws: [Draw], options: AggregateOptions, threads: Int) throws(AggregateError) -> [[AggregateResult]] {
            let slots = Mutex([[AggregateResult]?](repeating: nil, count: draws.count))
            let failures = Mutex([Int: AggregateError]())
            let next = Atomic<Int>(0)
            DispatchQueue.concurrentPerform(iterations: max(1, min(threads, draws.count))) { _ in
                while true {
                    let d = next.wrappingAdd(1, ordering: .relaxed).oldValue
                    guard d < draws.count else { break }
                    do throws(AggregateError) {
                        let result = try runArms(draws[d].arms, options: options)
                        slots.withLock { $0[d] = result }
                    } catch {
                        let described = draws.count > 1 ? AggregateError("parameter draw \(draws[d].draw): \(error.description)") : error
                        failures.withLock { $0[d] = described }
                    }
                }
            }
            if let first = failures.withLock({ all in all.keys.min().map { all[$0]! } }) { throw first }
            return slots.withLock { $0.map { $0! } }
        }

        /// Every arm once; later arms with reinvestment get the first arm's cost path.
        static func runArms(_ arms: [ArmModel], options: AggregateOptions) throws(AggregateError) -> [AggregateResult] {
            var results: [AggregateResult] = []
            let layout = RecordLayout(arm: arms[0])
            for (a, arm) in arms.enumerated() {
                let reference = a > 0 && arm.reinvestment != nil
                    ? Rewards.costRatePath(record: results[0].record, layout: layout, arm: arms[0]) : nil
                results.append(try AggregateModel.run(arm: arm, options: options, referenceCostPerYear: reference))
            }
            return results
        }
    }

    /// The two sets of rows where the models are compared for causes.
    public enum RowSet: String, Sendable, CaseIterable {
        /// Stocks per level at steps 1 ... steps of one arm.
        case stocks = "stockRows"
        /// A later arm minus the first: stocks per level, cumulative discounted cost and QoL-years, steps 1 ... steps.
        case armDifferences = "armDifferenceRows"
    }

    /// One compared row: the agents' band and the aggregate value.
    public struct RowValue: Sendable {
        public var row: Row
        public var agentMean: Double
        public var agentCILow: Double
        public var agentCIHigh: Double
        public var aggregate: Double
        /// (aggregate − agent mean) / MCSE (`zScore`).
        public var z: Double
    }

    /// The gap between the models over a set of rows, in Monte Carlo standard errors.
    public struct Gap: Sendable {
        /// Rows with a z.
        public var rows: Int
        /// Rows whose aggregate value lies within the agents' CI.
        public var insideCI: Int
        /// The row with the largest |z|.
        public var largest: RowValue?
        /// √(Σ z² / m) over the m rows with a finite z.
        public var rmsZ: Double
        /// The same per series (one record slot over steps 1 ... horizon: a quantity and level), by slot.
        public var seriesRMSZ: [Int: Double]

        public var largestAbsZ: Double { largest.map { abs($0.z) } ?? 0 }
    }

    /// A candidate cause: the aggregate re-run with one approximation removed, and the gaps after.
    public struct CauseTest: Sendable {
        public var cause: String
        public var explanation: String
        /// What the re-run changes.
        public var removedBy: String
        public var rerun: AggregateOptions
        public var before: [RowSet: Gap]
        public var after: [RowSet: Gap]
        /// z after, at the row with the largest |z| before.
        public var worstRowZAfter: [RowSet: Double]
        /// Per row set, the series whose RMS z the re-run lowers most: its slot, RMS z before and after.
        public var series: [RowSet: (slot: Int, before: Double, after: Double)]
        /// The re-run lowers the RMS z of a series by at least `Analysis.reductionMCSE`.
        public var listed: Bool

        /// The largest fall in a series' RMS z.
        public var reduction: Double { series.values.map { $0.before - $0.after }.max() ?? 0 }
    }

    /// What the comparison concludes for one arm.
    public enum Verdict: String, Sendable {
        /// Every compared row within `Analysis.chanceZ` Monte Carlo standard errors.
        case chance
        /// A re-run with an approximation removed narrows the gap.
        case explained
        /// The gap is larger than chance and no re-run narrows it.
        case unexplained
    }

    public struct ArmFindings: Sendable {
        public var arm: Int
        public var gaps: [RowSet: Gap]
        public var verdict: Verdict
        /// Every cause examined, listed or not.
        public var tests: [CauseTest]
        public var causes: [CauseTest] { tests.filter(\.listed) }
    }

    /// The aggregate model beside the agents, and why they part: the typed value behind
    /// aggregate.csv, comparison.csv and summary.json.
    public struct Analysis: Sendable {
        /// Below this |z| on every compared row, the models agree at this precision.
        public static let chanceZ = 4.0
        /// A re-run that would carry more stocks than this per arm (2^25 Doubles, 256 MiB,
        /// twice over) is not made; summary.json says so.
        public static let largestRerunStocks = 1 << 25
        /// Re-runs for causes use at most this many draws (the first ones): with more,
        /// a re-run's values are the per-draw mean plus the mean change over those draws.
        public static let rerunDraws = 10
        /// A re-run must lower the RMS z of a series (a quantity and level over the steps) by
        /// this many MCSE for its cause to be listed.
        public static let reductionMCSE = 1.0

        public var aggregates: Aggregates
        public var arms: [ArmFindings]
        /// Aggregate-model runs of all arms made (draws + re-runs × draws re-run).
        public var aggregateRuns: Int
        /// Draws each re-run for causes used (all, or the first `rerunDraws`).
        public var rerunDrawCount: Int
        /// Causes not examined, and why.
        public var notExamined: [String] = []

        /// The analysis of a run state: per-draw aggregate runs when parameters were drawn.
        /// - Parameter bands: the agents' bands of the run (`RunResults.bands`), the same numbers bands.csv shows.
        public static func make(state: RunState, scenario: Scenario, bands: BandTable, threads: Int) throws(AggregateError) -> Analysis {
            let (draws, parameters) = try Comparison.draws(state: state, scenario: scenario)
            return try make(scenario: scenario, bands: bands, draws: draws, parameters: parameters,
                            options: state.aggregateOptions, threads: threads)
        }

        public static func make(scenario: Scenario, bands: BandTable, draws: [Draw], parameters: Parameters,
                                options: AggregateOptions, threads: Int = 1) throws(AggregateError) -> Analysis {
            let subset = min(draws.count, rerunDraws)
            let (main, kept) = try Aggregates.run(draws, options: options, parameters: parameters, threads: threads, keeping: subset)
            let layout = RecordLayout(arm: scenario.arms[0])
            let rowSets = scenario.arms.indices.map { a in
                Dictionary(uniqueKeysWithValues: RowSet.allCases.compactMap { s in
                    let rows = Comparison.rows(s, arm: a, layout: layout)
                    return rows.isEmpty ? nil : (s, rows)
                })
            }
            let gaps = rowSets.map { sets in sets.mapValues { gap($0, main.records, bands, layout) } }
            var findings = scenario.arms.indices.map { a in
                ArmFindings(arm: a, gaps: gaps[a],
                            verdict: gaps[a].values.allSatisfy { $0.largestAbsZ < chanceZ } ? .chance : .unexplained, tests: [])
            }
            var runs = draws.count
            var notExamined: [String] = []
            if findings.contains(where: { $0.verdict != .chance }) {
                for candidate in candidates(scenario, options: options) {
                    if let required = candidate.requires,
                       !findings.contains(where: { $0.tests.contains { $0.cause == required && $0.listed } }) { continue }
                    let largest = try scenario.arms.map { arm throws(AggregateError) in try AggregateModel.stockCount(arm: arm, options: candidate.rerun) }.max() ?? 0
                    guard largest <= largestRerunStocks else {
                        notExamined.append("\(candidate.cause): the re-run (\(candidate.removedBy)) would carry \(largest) stocks per arm, more than \(largestRerunStocks)")
                        continue
                    }
                    let variant = try rerun(draws, subset: subset, kept: kept, main: main, options: candidate.rerun, threads: threads)
                    runs += subset
                    for a in findings.indices where findings[a].verdict != .chance {
                        guard candidate.applies(a) || (a > 0 && candidate.applies(0)) else { continue }
                        var test = CauseTest(cause: candidate.cause, explanation: candidate.explanation(a), removedBy: candidate.removedBy,
                                             rerun: candidate.rerun, before: gaps[a], after: [:], worstRowZAfter: [:], series: [:], listed: false)
                        for (s, rows) in rowSets[a] {
                            let after = gap(rows, variant.records, bands, layout)
                            test.after[s] = after
                            if let worst = gaps[a][s]?.largest {
                                test.worstRowZAfter[s] = zScore(value(variant.records, worst.row, layout) - worst.agentMean,
                                                                bands.band(arm: worst.row.arm, difference: worst.row.difference,
                                                                                step: worst.row.step, slot: worst.row.slot))
                            }
                            if let before = gaps[a][s] {
                                let best = before.seriesRMSZ.keys.sorted().map { (slot: $0, before: before.seriesRMSZ[$0]!, after: after.seriesRMSZ[$0] ?? 0) }
                                    .max { $0.before - $0.after < $1.before - $1.after }
                                if let best {
                                    test.series[s] = best
                                    if best.before - best.after >= reductionMCSE { test.listed = true }
                                }
                            }
                        }
                        findings[a].tests.append(test)
                    }
                }
                for a in findings.indices where findings[a].verdict != .chance {
                    findings[a].verdict = findings[a].tests.contains(where: \.listed) ? .explained : .unexplained
                    // Most reduction first.
                    findings[a].tests.sort { $0.reduction > $1.reduction }
                }
            }
            return Analysis(aggregates: main, arms: findings, aggregateRuns: runs, rerunDrawCount: subset, notExamined: notExamined)
        }

        /// A re-run's values: its per-draw mean when it runs every draw; otherwise the main
        /// per-draw mean plus Σ_d w_d·(re-run_d − main_d) / Σ_d w_d over the first `subset` draws.
        static func rerun(_ draws: [Draw], subset: Int, kept: [[AggregateResult]], main: Aggregates,
                          options: AggregateOptions, threads: Int) throws(AggregateError) -> Aggregates {
            if subset == draws.count {
                return try Aggregates.run(draws, options: options, parameters: main.parameters, threads: threads)
            }
            let runs = try Aggregates.runEach(Array(draws.prefix(subset)), options: options, threads: threads)
            let total = Double(draws.prefix(subset).reduce(0) { $0 + $1.replications })
            var out = main
            for a in out.records.indices {
                var change = [Double](repeating: 0, count: out.records[a].count)
                for d in 0..<subset {
                    let w = Double(draws[d].replications)
                    for i in change.indices { change[i] += w * (runs[d][a].record[i] - kept[d][a].record[i]) }
                }
                for i in change.indices { out.records[a][i] += change[i] / total }
            }
            out.options = options
            return out
        }

        static func gap(_ rows: [Row], _ records: [[Double]], _ bands: BandTable, _ layout: RecordLayout) -> Gap {
            var out = Gap(rows: 0, insideCI: 0, largest: nil, rmsZ: 0, seriesRMSZ: [:])
            var squares = 0.0, finite = 0
            var series: [Int: (squares: Double, count: Int)] = [:]
            for row in rows {
                let band = bands.band(arm: row.arm, difference: row.difference, step: row.step, slot: row.slot)
                let v = value(records, row, layout)
                let z = zScore(v - band.mean, band)
                guard !z.isNaN else { continue }
                out.rows += 1
                if abs(z) <= criticalT(band) { out.insideCI += 1 }
                if z.isFinite {
                    squares += z * z
                    finite += 1
                    series[row.slot, default: (0, 0)].squares += z * z
                    series[row.slot, default: (0, 0)].count += 1
                }
                if out.largest == nil || abs(z) > abs(out.largest!.z) {
                    out.largest = RowValue(row: row, agentMean: band.mean, agentCILow: band.ciLow, agentCIHigh: band.ciHigh, aggregate: v, z: z)
                }
            }
            out.rmsZ = finite > 0 ? (squares / Double(finite)).squareRoot() : 0
            out.seriesRMSZ = series.mapValues { ($0.squares / Double($0.count)).squareRoot() }
            return out
        }

        /// An approximation the aggregate model can drop, and the re-run that drops it.
        struct Candidate {
            var cause: String
            var removedBy: String
            var rerun: AggregateOptions
            var applies: (Int) -> Bool
            /// Re-run only if this cause was listed for some arm (births and in-migrants apart,
            /// only when all exposure by entry step narrows the gap).
            var requires: String? = nil
            var explanation: (Int) -> String
        }

        /// The approximations this scenario's aggregate run makes that a re-run can remove.
        static func candidates(_ scenario: Scenario, options: AggregateOptions) -> [Candidate] {
            let arms = scenario.arms
            var out: [Candidate] = []
            let dependent = { (a: Int) in arms[a].durationMultipliers.contains { !$0.isEmpty } }
            if options.durations == .stationaryMean && options.mode == .cohort && arms.indices.contains(where: dependent) {
                var rerun = options
                rerun.durations = .exact
                out.append(Candidate(
                    cause: "duration dependence", removedBy: "a stock per step already spent in the level (durations exact)", rerun: rerun,
                    applies: dependent,
                    explanation: { a in
                        let arm = arms[a]
                        let levels = arm.levels.indices.filter { !arm.durationMultipliers[$0].isEmpty }.map { arm.levels[$0].name }
                        let why = arm.initialDurations == .zero
                            ? "children who all start at 0 months leave at the first band's rate, not that mean"
                            : "the mix of months spent drifts from the stationary one as inflows change"
                        return "leaving \(levels.joined(separator: ", ")) depends on months spent there, which the aggregate replaces by a stationary mean multiplier; \(why)"
                    }))
            }
            let practices = { (a: Int) in !arms[a].practices.isEmpty }
            let births = { (a: Int) in practices(a) && arms[a].birthsPerYear.contains { $0 > 0 } }
            let immigrants = { (a: Int) in practices(a) && arms[a].immigrationPerYear.contains { $0 > 0 } }
            let separate = options.entrantsByEntryStep
            let cell = options.exposure == .stocks ? "age stock" : "area and coverage group"
            let birthsAveraged = options.exposure == .meanField && !separate.contains(.births) && arms.indices.contains(where: births)
            let immigrantsAveraged = options.exposure != .exact && !separate.contains(.immigrants) && arms.indices.contains(where: immigrants)
            let jensen = "the effect of the mean exposure is not the mean effect (Jensen's inequality)"
            if birthsAveraged && immigrantsAveraged {
                var rerun = options
                rerun.exposure = .exact
                out.append(Candidate(
                    cause: "group-mean exposure", removedBy: "every child's exposure by entry step, as the agents carry it (exposure exact)", rerun: rerun,
                    applies: { births($0) || immigrants($0) },
                    explanation: { _ in "children who joined at different times have been exposed for different times, and the aggregate carries one mean per \(cell); \(jensen)" }))
            }
            if birthsAveraged {
                var rerun = options
                rerun.separateEntrants.insert(.births)
                out.append(Candidate(
                    cause: "zero exposure of births averaged in", removedBy: "births carried by entry step, each with its own exposure", rerun: rerun,
                    applies: births, requires: birthsAveraged && immigrantsAveraged ? "group-mean exposure" : nil,
                    explanation: { _ in "newborns join with zero exposure and the aggregate averages them into one mean exposure per \(cell); \(jensen)" }))
            }
            if immigrantsAveraged {
                var rerun = options
                rerun.separateEntrants.insert(.immigrants)
                out.append(Candidate(
                    cause: "zero exposure of in-migrants averaged in", removedBy: "in-migrants carried by entry step, each with its own exposure", rerun: rerun,
                    applies: immigrants, requires: birthsAveraged && immigrantsAveraged ? "group-mean exposure" : nil,
                    explanation: { _ in "in-migrants join with zero exposure and the aggregate averages them into one mean exposure per \(cell); \(jensen)" }))
            }
            if options.mode == .sd {
                var rerun = options
                rerun.mode = .cohort
                rerun.dtYears = nil
                out.append(Candidate(
                    cause: "discretisation", removedBy: "cohort mode: one move per step, as the agents", rerun: rerun,
                    applies: { _ in true },
                    explanation: { _ in "the agents move once per step; sd mode moves continuously within it" }))
            }
            return out
        }
    }

    /// The rows of one set for arm `arm` (none for arm differences of the first arm).
    static func rows(_ set: RowSet, arm: Int, layout: RecordLayout) -> [Row] {
        var out: [Row] = []
        switch set {
        case .stocks:
            for step in 1...max(layout.steps, 1) where step <= layout.steps {
                for l in 0..<layout.levelCount { out.append(Row(arm: arm, difference: false, step: step, slot: layout.slot(.stock, level: l))) }
            }
        case .armDifferences:
            guard arm > 0 else { return [] }
            for step in 1...max(layout.steps, 1) where step <= layout.steps {
                for l in 0..<layout.levelCount { out.append(Row(arm: arm, difference: true, step: step, slot: layout.slot(.stock, level: l))) }
                for q in [Quantity.cumulativeCostDiscounted, .cumulativeQolYearsDiscounted] {
                    out.append(Row(arm: arm, difference: true, step: step, slot: layout.slot(q, level: nil)))
                }
            }
        }
        return out
    }
}
