import CGSL
import Foundation
import Stochastics

/// A move from one level to another, by name (`FlowEnd.exit` may be a `to`).
public struct LevelMove: Hashable, Sendable, CustomStringConvertible {
    public var from: String
    public var to: String
    public init(_ from: String, _ to: String) { self.from = from; self.to = to }
    public var description: String { "\(from)→\(to)" }
}

/// Which moves between two different levels an estimator may use; the others are structural zeros.
public enum AllowedMoves: Sendable, Equatable {
    /// Every move between two different levels.
    case all
    /// Only moves between neighbours in the level order (one level up or down).
    case adjacent
    /// Exactly these moves (level names).
    case only(Set<LevelMove>)

    /// Whether the move from level i to level j (indices into `levels`) is allowed; never for i = j.
    public func allows(_ i: Int, _ j: Int, levels: [String]) -> Bool {
        guard i != j else { return false }
        switch self {
        case .all: return true
        case .adjacent: return abs(i - j) == 1
        case .only(let moves): return moves.contains(LevelMove(levels[i], levels[j]))
        }
    }

    /// Issues for moves that name an unknown level or a level to itself.
    func issues(levels: [String]) -> [DataIssue] {
        guard case .only(let moves) = self else { return [] }
        return moves.sorted { $0.description < $1.description }.compactMap { m in
            if !levels.contains(m.from) || !levels.contains(m.to) {
                return DataIssue(file: "allowed moves", line: nil, column: nil, found: "'\(m)', which names an unknown level",
                                 expected: "moves between the levels \(levels.joined(separator: ", "))")
            }
            if m.from == m.to {
                return DataIssue(file: "allowed moves", line: nil, column: nil, found: "'\(m)', a level to itself",
                                 expected: "moves between two different levels (staying is always allowed)")
            }
            return nil
        }
    }
}

/// Whether areas are estimated one by one or together with shared dynamics.
public enum AreaPooling: Sendable, Equatable {
    /// One estimate per area, from that area's data only.
    case perArea
    /// One estimate from the data of all areas together (the areas share one transition matrix).
    case pooled
}

/// Transition probabilities per period from flow counts, by a Dirichlet–multinomial model per row,
/// converted to yearly rates.
///
/// **How flows.csv is read.** A row `(start, end, area, i, j, n)` says that n
/// children who were in level i at `start` were in level j at `end` (j = i:
/// stayers; j = `exit`: left the population before `end`). Each child at
/// risk at the start is one multinomial trial whose outcome is its
/// destination; `entry` rows count children who joined during the period, by
/// their level at the end (`entry → exit` rows, children who came and went
/// within a period, are read but not used).
///
/// **Stayers.** The count of row i is completed by its stayers: the `i → i`
/// row of flows.csv if present; otherwise `stock(start, area, i) − Σ_{j≠i}
/// n_ij − n_i,exit` from stocks.csv (the stock on the period's start date);
/// otherwise the estimate fails and says what is missing.
///
/// **Posterior.** For the row of level i, with destinations the levels and
/// `exit`:
///
/// ```
/// (p_i1, …, p_iK, p_i,exit) ~ Dirichlet(a + n_i1, …, a + n_iK, a + n_i,exit)
/// ```
///
/// with a the prior concentration on every allowed destination (staying is
/// always allowed) and α = 0, p = 0 for structural zeros (Gelman et al. 2013,
/// *Bayesian Data Analysis*, 3rd ed., §3.4). The default a = ½ is the Jeffreys
/// prior, whose Beta marginals give intervals with close to nominal frequentist
/// coverage (Brown, Cai & DasGupta 2001, *Statistical Science* 16(2):101–133).
/// The marginal of p_ij is Beta(α_ij, α_i0 − α_ij), α_i0 = Σ_j α_ij; its
/// equal-tailed credible interval comes from `gsl_cdf_beta_Pinv`.
///
/// **Exits** are a destination of every row (the chance of leaving the
/// population within a period), reported under the name `exit`; the caller
/// maps its yearly rate to out-migration or ageing out. With
/// `exitIsDestination = false` exits are structural zeros and the children
/// who left are dropped from the trials, so each row is the distribution of
/// the destination given that the child stayed in the population. When no
/// child of an estimate left in any period (no `exit` rows, or all 0: a
/// closed population, or exits not recorded), exits are structural zeros
/// too (`FlowEstimate.noExitsObserved`): the data carry no information on
/// leaving, and a Dirichlet prior on an `exit` never seen would only put
/// its pseudo-count there, a small positive exit chance in every row that
/// no child showed.
///
/// **Periods.** Counts are pooled over the periods of an area (over all areas
/// when pooled) only if the periods have one length (within
/// `periodToleranceDays`); Δ is their mean length in years. Periods of
/// different lengths are an error: filter the rows and estimate each length
/// separately. Periods are assumed not to overlap.
///
/// **Yearly rates** from period probabilities by the competing-risks
/// conversion of each row (see `competingRiskRates`).
///
/// **Entries** are not part of the rows: `entriesPerYear[level]` is the
/// entries into a level divided by the years the area's periods cover (pooled:
/// the sum of the areas' yearly entries).
///
/// Limits: if the data count every move (event counts) instead of each child
/// once by its levels at the start and end, a child who moved twice is two
/// trials and the multinomial model is approximate; moves within a period are
/// not seen, and the rate conversion assumes at most one move per period.
public enum FlowEstimator {
    /// The prior, the structure and the pooling of a flow estimate.
    public struct Options: Sendable, Equatable {
        /// Prior concentration a > 0 on each allowed destination (½: Jeffreys; 1: uniform on the simplex).
        public var concentration: Double
        /// Moves between two different levels that may happen; the others get α = 0.
        public var allowed: AllowedMoves
        /// Whether `exit` is a destination of every row (true) or excluded with its children (false).
        public var exitIsDestination: Bool
        /// Per area, or pooled over areas.
        public var pooling: AreaPooling
        /// The probability content of the credible intervals.
        public var credibleLevel: Double
        /// Periods whose lengths differ by at most this many days count as equally long.
        public var periodToleranceDays: Int

        public init(concentration: Double = 0.5, allowed: AllowedMoves = .all, exitIsDestination: Bool = true,
                    pooling: AreaPooling = .perArea, credibleLevel: Double = 0.95, periodToleranceDays: Int = 3) {
            self.concentration = concentration
            self.allowed = allowed
            self.exitIsDestination = exitIsDestination
            self.pooling = pooling
            self.credibleLevel = credibleLevel
            self.periodToleranceDays = periodToleranceDays
        }
    }

    /// Estimate the period transition probabilities of each area (or of all areas pooled).
    ///
    /// - Parameters:
    ///   - flows: the rows of flows.csv.
    ///   - stocks: the rows of stocks.csv; needed only for rows whose stayers flows.csv does not give.
    ///   - levels: the level names in order (none may be `entry` or `exit`).
    ///   - options: prior, allowed moves, exits, pooling.
    ///   - flowsFile, stocksFile: the file names used in messages.
    /// - Returns: one estimate per area in sorted order, or one pooled estimate.
    /// - Throws: `CalibrationDataError` listing every problem: missing stayers,
    ///   negative stayers, counts on a move that is not allowed, periods of
    ///   different lengths, bad options.
    /// - Complexity: O(rows + areas·periods·levels²).
    public static func estimate(flows: [FlowCount], stocks: [StockCount] = [], levels: [String], options: Options = Options(),
                                flowsFile: String = "flows.csv", stocksFile: String = "stocks.csv")
        throws(CalibrationDataError) -> [FlowEstimate]
    {
        var log = DataIssueLog(file: flowsFile)
        checkLevelsAndOptions(levels: levels, options: options, log: &log)
        if flows.isEmpty { log.add(line: nil, column: nil, found: "no flow counts", expected: "at least one row") }
        try log.finish()

        let index = Dictionary(uniqueKeysWithValues: levels.enumerated().map { ($1, $0) })
        let k = levels.count, exitColumn = k
        var stockAt: [String: Int] = [:]
        for s in stocks { stockAt["\(s.area)\u{1F}\(s.date)\u{1F}\(s.level)"] = s.count }

        // Rows by (area, period).
        struct PeriodKey: Hashable, Comparable {
            var area: String, start: Day, end: Day
            static func < (a: PeriodKey, b: PeriodKey) -> Bool { (a.area, a.start, a.end) < (b.area, b.start, b.end) }
        }
        var byPeriod: [PeriodKey: [FlowCount]] = [:]
        for f in flows {
            let fromKnown = f.from == FlowEnd.entry || index[f.from] != nil
            let toKnown = f.to == FlowEnd.exit || index[f.to] != nil
            if !fromKnown || !toKnown {
                log.add(line: f.line, column: fromKnown ? "to_level" : "from_level",
                        found: "an unknown level '\(fromKnown ? f.to : f.from)'", expected: "one of \(levels.joined(separator: ", "))")
                continue
            }
            byPeriod[PeriodKey(area: f.area, start: f.periodStart, end: f.periodEnd), default: []].append(f)
        }
        try log.finish()

        let areas = Set(byPeriod.keys.map(\.area)).sorted()
        let groups: [[String]] = options.pooling == .pooled ? [areas] : areas.map { [$0] }
        var estimates: [FlowEstimate] = []
        for group in groups {
            let periods = byPeriod.keys.filter { group.contains($0.area) }.sorted()
            let lengths = periods.map { $0.end.daysSinceEpoch - $0.start.daysSinceEpoch }
            if let lo = lengths.min(), let hi = lengths.max(), hi - lo > options.periodToleranceDays {
                let list = Set(zip(periods, lengths).map { "\($0.start) to \($0.end) (\($1) days)" }).sorted()
                log.add(line: nil, column: nil,
                        found: "periods of different lengths \(group.count == 1 ? "in area '\(group[0])'" : "across the pooled areas"): "
                            + list.prefix(6).joined(separator: "; ") + (list.count > 6 ? "; …" : ""),
                        expected: "periods of one length (within \(options.periodToleranceDays) days) per estimate; "
                            + "estimate each period length separately")
                continue
            }
            var counts = [[Int]](repeating: [Int](repeating: 0, count: k + 1), count: k)
            var sources = [Set<StayerSource>](repeating: [], count: k)
            var entries: [String: Int] = [:]
            var entriesPerYear: [String: Double] = [:]
            var yearsOfArea: [String: Double] = [:]
            var entriesOfArea: [String: [String: Int]] = [:]
            for period in periods {
                let rows = byPeriod[period]!
                let place = "area '\(period.area)', period \(period.start) to \(period.end)"
                yearsOfArea[period.area, default: 0] += period.end.years(since: period.start)
                for i in 0..<k {
                    var row = [Int](repeating: 0, count: k + 1)
                    var explicitStay: Int? = nil
                    for f in rows where f.from == levels[i] {
                        if f.to == FlowEnd.exit {
                            row[exitColumn] += f.count
                        } else if f.to == levels[i] {
                            explicitStay = f.count
                        } else {
                            let j = index[f.to]!
                            if f.count > 0 && !options.allowed.allows(i, j, levels: levels) {
                                log.add(line: f.line, column: "count",
                                        found: "\(f.count) moves \(levels[i])→\(levels[j]), a move that is not allowed",
                                        expected: "0, or the move \(levels[i])→\(levels[j]) among the allowed moves")
                            }
                            row[j] += f.count
                        }
                    }
                    let leaving = row.reduce(0, +)
                    if let stay = explicitStay {
                        row[i] = stay
                        sources[i].insert(.flows)
                    } else if let stock = stockAt["\(period.area)\u{1F}\(period.start)\u{1F}\(levels[i])"] {
                        if stock < leaving {
                            log.add(line: nil, column: nil,
                                    found: "\(stocksFile) gives \(stock) children in \(levels[i]) on \(period.start) in area '\(period.area)', "
                                        + "but \(flowsFile) has \(leaving) leaving \(levels[i]) in \(place)",
                                    expected: "a stock at the period start at least the number of moves out and exits")
                            continue
                        }
                        row[i] = stock - leaving
                        sources[i].insert(.stocks)
                    } else {
                        log.add(line: nil, column: nil,
                                found: "no stayers for \(levels[i]) in \(place): no \(levels[i])→\(levels[i]) row in \(flowsFile) "
                                    + "and no \(stocksFile) count for \(levels[i]) on \(period.start)",
                                expected: "a \(levels[i]),\(levels[i]) row (0 if none stayed) in \(flowsFile) "
                                    + "or the stock of \(levels[i]) on \(period.start) in \(stocksFile)")
                        continue
                    }
                    if !options.exitIsDestination { row[exitColumn] = 0 }
                    for j in 0...k { counts[i][j] += row[j] }
                }
                for f in rows where f.from == FlowEnd.entry && f.to != FlowEnd.exit {
                    entries[f.to, default: 0] += f.count
                    entriesOfArea[period.area, default: [:]][f.to, default: 0] += f.count
                }
            }
            for (area, byLevel) in entriesOfArea {
                for (level, n) in byLevel { entriesPerYear[level, default: 0] += Double(n) / yearsOfArea[area]! }
            }
            for level in levels where entriesPerYear[level] == nil { entriesPerYear[level] = 0; entries[level] = 0 }
            let periodYears = periods.map { $0.end.years(since: $0.start) }.reduce(0, +) / Double(max(periods.count, 1))
            // No child left in any period (a closed population, or exits not recorded): exit is not a
            // destination, rather than one whose rate the prior alone would make small but positive.
            let closed = options.exitIsDestination && counts.allSatisfy { $0[exitColumn] == 0 }
            let exitIsDestination = options.exitIsDestination && !closed
            let rows = (0..<k).map { i -> FlowRow in
                let allowed = (0...k).map { j in
                    j == i || (j == exitColumn ? exitIsDestination : options.allowed.allows(i, j, levels: levels))
                }
                let alpha = (0...k).map { j in allowed[j] ? options.concentration + Double(counts[i][j]) : 0 }
                let source: StayerSource = sources[i].count == 1 ? sources[i].first! : .flowsAndStocks
                return FlowRow(from: levels[i], counts: counts[i], alpha: alpha, credibleLevel: options.credibleLevel,
                               stayersFrom: source)
            }
            estimates.append(FlowEstimate(areas: group, levels: levels, periodYears: periodYears, periodCount: periods.count,
                                          rows: rows, exitIsDestination: exitIsDestination, noExitsObserved: closed,
                                          entries: entries, entriesPerYear: entriesPerYear, credibleLevel: options.credibleLevel))
        }
        try log.finish()
        return estimates
    }

    /// Yearly rates from one row of period transition probabilities, by competing risks.
    ///
    /// ```
    /// p_i  = Σ_{j≠i} p_ij                       (the chance of leaving level i in the period)
    /// r_ij = −ln(1 − p_i) · (p_ij / p_i) / Δ     for j ≠ i;   r_ii = −Σ_{j≠i} r_ij
    /// ```
    ///
    /// The total rate out of i reproduces the chance of leaving, 1 − e^{−r_i·Δ}
    /// = p_i, and is shared among destinations in proportion to the
    /// probabilities (Fleurence & Hollenbeak 2007, "Rates and probabilities in
    /// economic modelling", *PharmacoEconomics* 25(1):3–6; Jones, Epstein &
    /// García-Mochón 2017, *Med Decis Making* 37(7):779–789). Exact for one move
    /// per period with constant hazards; it ignores moves onward from j within
    /// the period, so with large p_ij the rates of a chain of moves are
    /// understated (exp(R·Δ) ≠ P in general). Rows with p_i = 0 give rates 0; p_i = 1 gives +∞.
    ///
    /// - Parameters:
    ///   - probabilities: one row, destinations in any order, summing to 1.
    ///   - stay: the index of staying in the same level.
    ///   - periodYears: Δ, the period in years (> 0).
    /// - Returns: rates per year aligned with `probabilities`, the diagonal negative.
    public static func competingRiskRates(_ probabilities: [Double], stay: Int, periodYears: Double) -> [Double] {
        precondition(periodYears > 0, "periodYears must be > 0, but is \(periodYears).")
        let leave = probabilities.indices.reduce(0) { $1 == stay ? $0 : $0 + probabilities[$1] }
        guard leave > 0 else { return probabilities.map { _ in 0 } }
        let total = leave >= 1 ? Double.infinity : -log1p(-leave) / periodYears
        var rates = probabilities.enumerated().map { j, p in j == stay || p == 0 ? 0 : total * p / leave }
        rates[stay] = -rates.reduce(0, +)
        return rates
    }

    static func checkLevelsAndOptions(levels: [String], options: Options, log: inout DataIssueLog) {
        if levels.isEmpty { log.add(line: nil, column: nil, found: "no levels", expected: "the scenario's level names") }
        if Set(levels).count != levels.count {
            log.add(line: nil, column: nil, found: "repeated level names \(levels)", expected: "distinct level names")
        }
        for reserved in [FlowEnd.entry, FlowEnd.exit] where levels.contains(reserved) {
            log.add(line: nil, column: nil, found: "a level named '\(reserved)'", expected: "level names other than '\(FlowEnd.entry)' and '\(FlowEnd.exit)'")
        }
        if !(options.concentration > 0 && options.concentration.isFinite) {
            log.add(line: nil, column: nil, found: "prior concentration \(options.concentration)", expected: "a prior concentration > 0 (0.5: Jeffreys)")
        }
        if !(options.credibleLevel > 0 && options.credibleLevel < 1) {
            log.add(line: nil, column: nil, found: "credible level \(options.credibleLevel)", expected: "a credible level in (0, 1), e.g. 0.95")
        }
        if options.periodToleranceDays < 0 {
            log.add(line: nil, column: nil, found: "period tolerance \(options.periodToleranceDays) days", expected: "a tolerance ≥ 0 days")
        }
        for issue in options.allowed.issues(levels: levels) {
            log.add(line: nil, column: nil, found: issue.found, expected: issue.expected)
        }
    }
}

/// Where the stayers of a row came from.
public enum StayerSource: String, Sendable, Equatable {
    /// From `i → i` rows of flows.csv.
    case flows
    /// From stocks at the period start, less moves out and exits.
    case stocks
    /// From flows.csv in some periods or areas and from stocks.csv in others.
    case flowsAndStocks
}

/// The posterior of one row: the destinations of children who were in `from` at a period's start.
public struct FlowRow: Sendable, Equatable {
    /// The level of the row.
    public var from: String
    /// Children per destination (the levels, then `exit`), stayers included.
    public var counts: [Int]
    /// Posterior Dirichlet parameters per destination: prior + count, 0 for structural zeros.
    public var alpha: [Double]
    /// Posterior means α_ij / α_i0.
    public var mean: [Double]
    /// Lower ends of the equal-tailed credible intervals of the Beta marginals.
    public var lower: [Double]
    /// Upper ends of the equal-tailed credible intervals of the Beta marginals.
    public var upper: [Double]
    /// Where the stayers came from.
    public var stayersFrom: StayerSource

    /// Children at risk: the sum of the counts.
    public var atRisk: Int { counts.reduce(0, +) }

    init(from: String, counts: [Int], alpha: [Double], credibleLevel: Double, stayersFrom: StayerSource) {
        GSLErrors.install()
        self.from = from
        self.counts = counts
        self.alpha = alpha
        self.stayersFrom = stayersFrom
        let total = alpha.reduce(0, +)
        mean = alpha.map { $0 / total }
        let tail = (1 - credibleLevel) / 2
        func quantile(_ q: Double, _ a: Double) -> Double {
            let b = total - a
            if a <= 0 { return 0 }
            if b <= 1e-12 * total { return 1 }
            return FlowRow.betaQuantile(q, a, b)
        }
        lower = alpha.map { quantile(tail, $0) }
        upper = alpha.map { quantile(1 - tail, $0) }
    }
}

extension FlowRow {
    /// Beyond this a + b, GSL's Beta quantile can take minutes (fuzz class calibration/large-count-hang:
    /// counts of 10⁶ in flows.csv ran for ever), so the quantile is approximated instead.
    public static let exactBetaLimit = 100_000.0

    /// The q-quantile of Beta(a, b): exact (GSL) up to a + b = `exactBetaLimit`; above it, the
    /// normal approximation when both a and b are at least 10⁴ (skewness below 0.02), and otherwise
    /// the gamma limit of the smaller parameter, X ≈ G/(G + b) with G ~ Gamma(a, 1) (or its mirror).
    public static func betaQuantile(_ q: Double, _ a: Double, _ b: Double) -> Double {
        if a + b <= exactBetaLimit { return Quantiles.beta(q, a, b) }
        let n = a + b
        func normal() -> Double {
            let mean = a / n, sd = (a * b / (n * n * (n + 1))).squareRoot()
            return min(1, max(0, mean + gsl_cdf_ugaussian_Pinv(q) * sd))
        }
        if min(a, b) >= 10_000 { return normal() }
        if a < b {
            let g = gsl_cdf_gamma_Pinv(q, a, 1)
            return g.isFinite ? g / (g + b) : normal()
        }
        let g = gsl_cdf_gamma_Pinv(1 - q, b, 1)
        return g.isFinite ? 1 - g / (g + a) : normal()
    }
}

/// One joint posterior draw of every row: probabilities per period and rates per year.
public struct FlowDraw: Sendable, Equatable {
    /// from → destination → probability in one period (stay and `exit` included; allowed destinations only).
    public var probabilities: [String: [String: Double]]
    /// from → destination → yearly rate, for allowed destinations other than staying (`exit` included).
    public var ratesPerYear: [String: [String: Double]]
}

/// The Dirichlet–multinomial posterior of the transitions of one area (or of pooled areas).
public struct FlowEstimate: Sendable, Equatable {
    /// The area, or the areas pooled.
    public var areas: [String]
    /// The levels, in order; the rows follow it.
    public var levels: [String]
    /// Δ: the mean length of the pooled periods, in years.
    public var periodYears: Double
    /// How many (area, period) tables were pooled.
    public var periodCount: Int
    /// One row per level, in level order.
    public var rows: [FlowRow]
    /// Whether `exit` is a destination of the rows (see `FlowEstimator`).
    public var exitIsDestination: Bool
    /// Whether exits were asked for but no child left in any period, so that `exit` is not a
    /// destination (a closed population, or exits not recorded): no exit rate is estimated.
    public var noExitsObserved: Bool
    /// Children who entered during the periods, by level at the period end.
    public var entries: [String: Int]
    /// Entries per year by level (pooled: summed over areas).
    public var entriesPerYear: [String: Double]
    /// The probability content of the rows' intervals.
    public var credibleLevel: Double

    /// The destinations of every row: the levels, then `FlowEnd.exit`.
    public var destinations: [String] { levels + [FlowEnd.exit] }

    /// from → destination → posterior mean probability per period (allowed destinations).
    public var meanProbabilities: [String: [String: Double]] { keyed { $0.mean } }

    /// from → destination (≠ from) → yearly rate, the competing-risks conversion of the posterior means.
    ///
    /// Not the posterior mean of the rates (the conversion is not linear); use `draws` for that.
    public var meanRatesPerYear: [String: [String: Double]] {
        var out = keyed { row in
            FlowEstimator.competingRiskRates(row.mean, stay: levels.firstIndex(of: row.from)!, periodYears: periodYears)
        }
        for from in Array(out.keys) { out[from]![from] = nil }
        return out
    }

    /// `count` joint draws from the posterior, each row by `gsl_ran_dirichlet`, converted to yearly rates.
    ///
    /// Draws are taken in order (draw by draw, row by row) from the stream's
    /// current position, so a stream address and position give the same draws.
    /// Structural zeros stay 0 and are left out of the dictionaries.
    ///
    /// - Complexity: O(count · levels²).
    public func draws(_ count: Int, from stream: borrowing RandomStream) -> [FlowDraw] {
        precondition(count >= 0, "count must be >= 0, but is \(count).")
        let dest = destinations
        var result: [FlowDraw] = []
        result.reserveCapacity(count)
        for _ in 0..<count {
            var probabilities: [String: [String: Double]] = [:]
            var rates: [String: [String: Double]] = [:]
            for (i, row) in rows.enumerated() {
                let positive = row.alpha.indices.filter { row.alpha[$0] > 0 }
                let alpha = positive.map { row.alpha[$0] }
                var theta = [Double](repeating: 0, count: alpha.count)
                stream.withGenerator { r in
                    alpha.withUnsafeBufferPointer { a in
                        theta.withUnsafeMutableBufferPointer { t in gsl_ran_dirichlet(r, a.count, a.baseAddress, t.baseAddress) }
                    }
                }
                var p = [Double](repeating: 0, count: dest.count)
                for (m, j) in positive.enumerated() { p[j] = theta[m] }
                let r = FlowEstimator.competingRiskRates(p, stay: i, periodYears: periodYears)
                probabilities[row.from] = Dictionary(uniqueKeysWithValues: positive.map { (dest[$0], p[$0]) })
                rates[row.from] = Dictionary(uniqueKeysWithValues: positive.filter { $0 != i }.map { (dest[$0], r[$0]) })
            }
            result.append(FlowDraw(probabilities: probabilities, ratesPerYear: rates))
        }
        return result
    }

    private func keyed(_ values: (FlowRow) -> [Double]) -> [String: [String: Double]] {
        let dest = destinations
        var out: [String: [String: Double]] = [:]
        for row in rows {
            let v = values(row)
            out[row.from] = Dictionary(uniqueKeysWithValues: row.alpha.indices.filter { row.alpha[$0] > 0 }.map { (dest[$0], v[$0]) })
        }
        return out
    }
}
