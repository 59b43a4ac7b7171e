import CGSL
import Foundation
import Model
import Stochastics

/// Maximum-likelihood yearly rate matrix Q of a continuous-time Markov chain from
/// panel records: children seen in a level at irregular dates.
///
/// **Likelihood.** Each pair of consecutive records of a child, in level r at
/// t₀ and in level s at t₁, contributes the chance of being in s after
/// t₁ − t₀ years given r; what happened in between is not seen:
///
/// ```
/// log L(Q) = Σ_children Σ_k log [exp(Q·(t_k − t_{k−1}))]_{x_{k−1}, x_k}
/// ```
///
/// (Kalbfleisch & Lawless 1985, "The analysis of panel data under a Markov
/// assumption", *JASA* 80(392):863–871; Jackson 2011, "Multi-state models for
/// panel data: the msm package for R", *J Stat Softw* 38(8)). Times are days
/// / 365.25. Records are grouped by gap in days, and exp(Q·d/365.25) for every
/// gap d is built from binary powers of the one-day matrix, so one evaluation
/// costs O(distinct gaps · k³).
///
/// **Parameters.** θ = log q_rs for each allowed move r → s (default: moves
/// between adjacent levels, `AllowedMoves.adjacent`: a GIRFEC level change is
/// usually one step, and a jump of two levels between visits is then two
/// moves; give `.all` or a set to allow direct jumps). Disallowed moves are 0.
///
/// **Optimisation.** BFGS with numerical gradients (`Optimizer.minimize`) on
/// −log L from crude rates, as msm's `crudeinits`: q_rs = (observed r → s
/// changes between consecutive visits) / (years at risk in r, counting each
/// interval to the level at its start), and ½ change where none was seen.
///
/// **Uncertainty.** Cov(θ̂) = H⁻¹, H the central-difference Hessian of −log L
/// at θ̂ (observed information); SE(q̂) = q̂·SE(θ̂) (delta method) and the
/// confidence interval is exp(θ̂ ± z·SE(θ̂)) on the log scale, as in msm.
///
/// **Insufficient data** is an error listing every problem: no child seen
/// twice; a level with allowed moves out that no child was seen in before a
/// later visit, or that no child was seen to leave; a change between visits
/// that the allowed moves cannot produce. A rate whose estimate tends to 0
/// (a boundary) is reported with a note and without a standard error.
public enum PanelEstimator {
    /// Allowed moves, pooling and the optimiser.
    public struct Options: Sendable, Equatable {
        /// The moves with a rate to estimate; the others are 0.
        public var allowed: AllowedMoves
        /// Per area (needs an `area` column; without one, a single estimate; children
        /// without an area are then left out) or pooled.
        public var pooling: AreaPooling
        /// The coverage of the confidence intervals.
        public var confidenceLevel: Double
        /// Stopping rules of the BFGS search.
        public var optimizer: Optimizer.Options

        public init(allowed: AllowedMoves = .adjacent, pooling: AreaPooling = .perArea, confidenceLevel: Double = 0.95,
                    optimizer: Optimizer.Options = Optimizer.Options()) {
            self.allowed = allowed
            self.pooling = pooling
            self.confidenceLevel = confidenceLevel
            self.optimizer = optimizer
        }
    }

    /// The maximum-likelihood Q per area (or pooled over areas).
    ///
    /// - Parameters:
    ///   - panel: the records of panel.csv (`DataFiles.panel`), or `PanelData(records:)`.
    ///   - levels: the level names in order.
    ///   - options: allowed moves, pooling, confidence level, optimiser.
    ///   - file: the file name used in messages.
    /// - Returns: one estimate per area in sorted order, or one (pooled, or without areas).
    /// - Throws: `CalibrationDataError` when the data cannot identify the rates (see the type's notes).
    /// - Complexity: O(records) to prepare; each of the optimiser's evaluations is O(distinct gaps · k³).
    public static func estimate(_ panel: PanelData, levels: [String], options: Options = Options(),
                                file: String = "panel.csv") throws(CalibrationDataError) -> [PanelEstimate] {
        var log = DataIssueLog(file: file)
        if levels.isEmpty || Set(levels).count != levels.count {
            log.add(line: nil, column: nil, found: "levels \(levels)", expected: "distinct level names")
        }
        if !(options.confidenceLevel > 0 && options.confidenceLevel < 1) {
            log.add(line: nil, column: nil, found: "confidence level \(options.confidenceLevel)", expected: "a level in (0, 1), e.g. 0.95")
        }
        for issue in options.allowed.issues(levels: levels) { log.add(line: nil, column: nil, found: issue.found, expected: issue.expected) }
        try log.finish()

        let groups: [(areas: [String], records: [PanelRecord])]
        let areas = panel.areas
        if options.pooling == .pooled || areas.isEmpty {
            groups = [(areas, panel.records)]
        } else {
            let byArea = Dictionary(grouping: panel.records) { panel.areaOfChild[$0.child] ?? "" }
            groups = areas.map { ([$0], byArea[$0] ?? []) }
        }
        var estimates: [PanelEstimate] = []
        for group in groups {
            let label = group.areas.count == 1 ? " in area '\(group.areas[0])'" : ""
            guard let data = PanelTransitions(records: group.records, levels: levels, allowed: options.allowed, label: label, log: &log) else {
                continue
            }
            estimates.append(fit(data, areas: group.areas, levels: levels, options: options))
        }
        try log.finish()
        return estimates
    }

    /// log L of a yearly rate matrix Q for the records (see the type's formula); −∞ if a change seen has probability 0.
    ///
    /// - Parameters:
    ///   - q: a k×k generator (off-diagonal ≥ 0, rows summing to 0), in level order.
    ///   - records: panel records of any children, in any order (each child's by date).
    ///   - levels: the level names in order; records with other levels are skipped.
    public static func logLikelihood(_ q: [[Double]], records: [PanelRecord], levels: [String]) -> Double {
        let index = Dictionary(uniqueKeysWithValues: levels.enumerated().map { ($1, $0) })
        var counts: [Int: [[Int]]] = [:]
        let k = levels.count
        for (_, rows) in Dictionary(grouping: records, by: \.child) {
            let sorted = rows.sorted { $0.date < $1.date }
            for (a, b) in zip(sorted, sorted.dropFirst()) {
                guard let r = index[a.level], let s = index[b.level] else { continue }
                let d = b.date.daysSinceEpoch - a.date.daysSinceEpoch
                guard d > 0 else { continue }
                counts[d, default: [[Int]](repeating: [Int](repeating: 0, count: k), count: k)][r][s] += 1
            }
        }
        return PanelTransitions.logLikelihood(q, counts: counts.sorted { $0.key < $1.key })
    }

    // MARK: Fitting

    static func fit(_ data: PanelTransitions, areas: [String], levels: [String], options: Options) -> PanelEstimate {
        let k = levels.count
        let moves = data.moves
        func generator(_ theta: [Double]) -> [[Double]] {
            var q = [[Double]](repeating: [Double](repeating: 0, count: k), count: k)
            for (m, (r, s)) in moves.enumerated() {
                q[r][s] = Foundation.exp(theta[m])
                q[r][r] -= q[r][s]
            }
            return q
        }
        let objective: ([Double]) -> Double = { theta in
            if theta.contains(where: { !($0 < 30) }) { return .infinity }  // e^30 changes a year: no meaning
            return -PanelTransitions.logLikelihood(generator(theta), counts: data.byGap)
        }
        let start = data.crudeRates().map { Foundation.log($0) }
        let result = Optimizer.minimize(objective, from: start, options: options.optimizer)
        let theta = result.x
        let q = generator(theta)
        var notes: [String] = []
        if !result.converged { notes.append("the optimiser did not converge: \(result.message)") }
        let hessian = Optimizer.hessian(objective, at: theta)
        let covariance = Optimizer.inversePositiveDefinite(hessian)
        if covariance == nil {
            notes.append("the Hessian of −log L is not positive definite at the estimate: no standard errors "
                         + "(a rate may be at 0 or not identifiable from these data)")
        }
        GSLErrors.install()
        let z = gsl_cdf_ugaussian_Pinv(0.5 + options.confidenceLevel / 2)
        var rates: [RateEstimate] = []
        for (m, (r, s)) in moves.enumerated() {
            var se: Double? = covariance.map { $0[m][m].squareRoot() }
            if let v = se, !(v.isFinite && v < 10) {
                notes.append("\(levels[r])→\(levels[s]): the log-rate's standard error is \(v), the rate is at or near 0; no interval given")
                se = nil
            }
            let rate = q[r][s]
            rates.append(RateEstimate(move: LevelMove(levels[r], levels[s]), rate: rate,
                                      standardError: se.map { rate * $0 }, logStandardError: se,
                                      lower: se.map { Foundation.exp(theta[m] - z * $0) },
                                      upper: se.map { Foundation.exp(theta[m] + z * $0) },
                                      observedChanges: data.changes[r][s]))
        }
        return PanelEstimate(areas: areas, levels: levels, generator: q, rates: rates, covarianceOfLogRates: covariance,
                             logLikelihood: -result.value, converged: result.converged, iterations: result.iterations,
                             evaluations: result.evaluations, children: data.children, pairs: data.pairs,
                             confidenceLevel: options.confidenceLevel, notes: notes)
    }
}

/// The estimate of one allowed move's yearly rate.
public struct RateEstimate: Sendable, Equatable {
    /// The move, by level names.
    public var move: LevelMove
    /// q̂, the maximum-likelihood rate per year.
    public var rate: Double
    /// SE(q̂) = q̂·SE(log q̂) (delta method); nil when the Hessian gives none.
    public var standardError: Double?
    /// SE(log q̂) from the inverse Hessian.
    public var logStandardError: Double?
    /// exp(log q̂ − z·SE(log q̂)).
    public var lower: Double?
    /// exp(log q̂ + z·SE(log q̂)).
    public var upper: Double?
    /// Pairs of consecutive records in `from` then `to` (a crude count of direct changes).
    public var observedChanges: Int
}

/// The maximum-likelihood rate matrix of one area (or of pooled areas) and how it was found.
public struct PanelEstimate: Sendable, Equatable {
    /// The area, the areas pooled, or none when panel.csv has no `area` column.
    public var areas: [String]
    /// The levels, in order; rows and columns of `generator` follow it.
    public var levels: [String]
    /// Q̂ per year: off-diagonal the estimated rates (0 where not allowed), rows summing to 0.
    public var generator: [[Double]]
    /// One estimate per allowed move, by level order of (from, to).
    public var rates: [RateEstimate]
    /// Cov(log q̂) in the order of `rates`; nil when the Hessian is not positive definite.
    public var covarianceOfLogRates: [[Double]]?
    /// log L at the estimate.
    public var logLikelihood: Double
    /// Whether the optimiser met its stopping rule.
    public var converged: Bool
    /// BFGS iterations.
    public var iterations: Int
    /// Evaluations of log L, including numerical gradients (not the Hessian).
    public var evaluations: Int
    /// Children with at least one record.
    public var children: Int
    /// Pairs of consecutive records (the likelihood's terms).
    public var pairs: Int
    /// The coverage of the intervals.
    public var confidenceLevel: Double
    /// Warnings: no convergence, rates at the boundary, missing standard errors.
    public var notes: [String]

    /// q̂ from → to per year (0 if not allowed).
    public func rate(_ from: String, _ to: String) -> Double {
        guard let i = levels.firstIndex(of: from), let j = levels.firstIndex(of: to) else { return 0 }
        return generator[i][j]
    }

    /// from → to → q̂ per year for the allowed moves: the shape of a scenario's
    /// `transitions.matrix` with `unit: ratesPerYear`.
    public var ratesPerYear: [String: [String: Double]] {
        rates.reduce(into: [:]) { $0[$1.move.from, default: [:]][$1.move.to] = $1.rate }
    }
}

// MARK: - Pairs of consecutive records

/// Consecutive-record pairs counted by gap in days, with what the checks and starting values need.
struct PanelTransitions {
    /// (from, to) level indices of the allowed moves, in row-major order.
    let moves: [(Int, Int)]
    /// gap in days → counts[r][s], sorted by gap.
    let byGap: [(key: Int, value: [[Int]])]
    /// Pairs r → s over all gaps.
    let changes: [[Int]]
    /// Days at risk in r: Σ gaps of pairs starting in r.
    let daysAtRisk: [Int]
    let children: Int
    let pairs: Int

    /// Nil, with issues logged, when the records cannot identify the allowed rates.
    init?(records: [PanelRecord], levels: [String], allowed: AllowedMoves, label: String, log: inout DataIssueLog) {
        let k = levels.count
        let index = Dictionary(uniqueKeysWithValues: levels.enumerated().map { ($1, $0) })
        moves = (0..<k).flatMap { r in (0..<k).filter { allowed.allows(r, $0, levels: levels) }.map { (r, $0) } }
        var reach = (0..<k).map { r in (0..<k).map { s in r == s || allowed.allows(r, s, levels: levels) } }
        for m in 0..<k { for r in 0..<k where reach[r][m] { for s in 0..<k where reach[m][s] { reach[r][s] = true } } }

        var counts: [Int: [[Int]]] = [:]
        var changes = [[Int]](repeating: [Int](repeating: 0, count: k), count: k)
        var days = [Int](repeating: 0, count: k)
        var pairs = 0
        var ok = true
        let byChild = Dictionary(grouping: records, by: \.child)
        for child in byChild.keys.sorted() {
            let rows = byChild[child]!.sorted { ($0.date, $0.line) < ($1.date, $1.line) }
            for row in rows where index[row.level] == nil {
                log.add(line: row.line, column: "level", found: "an unknown level '\(row.level)'",
                        expected: "one of the levels \(levels.joined(separator: ", "))")
                ok = false
            }
            for (a, b) in zip(rows, rows.dropFirst()) {
                guard let r = index[a.level], let s = index[b.level] else { continue }
                let d = b.date.daysSinceEpoch - a.date.daysSinceEpoch
                if d == 0 {
                    log.add(line: b.line, column: "date", found: "child '\(child)' seen twice on \(b.date) (lines \(a.line) and \(b.line))",
                            expected: "at most one record per child and date")
                    ok = false
                    continue
                }
                if !reach[r][s] {
                    log.add(line: b.line, column: "level",
                            found: "child '\(child)' in \(levels[r]) on \(a.date) (line \(a.line)) and in \(levels[s]) on \(b.date), "
                                + "a change the allowed moves cannot make",
                            expected: "changes that the allowed moves can make, or more allowed moves")
                    ok = false
                    continue
                }
                counts[d, default: [[Int]](repeating: [Int](repeating: 0, count: k), count: k)][r][s] += 1
                changes[r][s] += 1
                days[r] += d
                pairs += 1
            }
        }
        if pairs == 0 && ok {
            log.add(line: nil, column: nil, found: "no child seen on two dates\(label) (\(byChild.count) children, \(records.count) records)",
                    expected: "children with at least two records each, to estimate rates")
            ok = false
        }
        if ok {
            for r in 0..<k where moves.contains(where: { $0.0 == r }) {
                let left = (0..<k).reduce(0) { $1 == r ? $0 : $0 + changes[r][$1] }
                if days[r] == 0 {
                    log.add(line: nil, column: nil, found: "no child seen in \(levels[r]) before a later record\(label)",
                            expected: "children followed from \(levels[r]), or no allowed moves out of \(levels[r])")
                    ok = false
                } else if left == 0 {
                    log.add(line: nil, column: nil,
                            found: "no change out of \(levels[r]) seen\(label) (\(changes[r][r]) pairs stay in \(levels[r])), so every rate out of it would be 0",
                            expected: "at least one child seen to leave \(levels[r]), or no allowed moves out of \(levels[r])")
                    ok = false
                }
            }
        }
        guard ok else { return nil }
        byGap = counts.sorted { $0.key < $1.key }
        self.changes = changes
        daysAtRisk = days
        children = byChild.count
        self.pairs = pairs
    }

    /// msm's crude initial rates: changes r → s / years at risk in r; ½ a change where none was seen.
    func crudeRates() -> [Double] {
        moves.map { r, s in max(Double(changes[r][s]), 0.5) / (Double(daysAtRisk[r]) / 365.25) }
    }

    /// Σ_gaps Σ_rs n_rs log [exp(Q·d/365.25)]_rs, with exp(Q·d/365.25) from binary powers of the one-day matrix.
    static func logLikelihood(_ q: [[Double]], counts: [(key: Int, value: [[Int]])]) -> Double {
        guard let maxGap = counts.last?.key else { return 0 }
        let k = q.count
        var powers = [MatrixFunctions.exp(MatrixFunctions.scale(q, 1 / 365.25))]  // exp(Q·2^b days)
        while (1 << powers.count) <= maxGap { powers.append(MatrixFunctions.multiply(powers.last!, powers.last!)) }
        var p = MatrixFunctions.identity(k)
        var at = 0
        var total = 0.0
        for (gap, n) in counts {
            var delta = gap - at
            var b = 0
            while delta > 0 {
                if delta & 1 == 1 { p = MatrixFunctions.multiply(p, powers[b]) }
                delta >>= 1
                b += 1
            }
            at = gap
            for r in 0..<k {
                for s in 0..<k where n[r][s] > 0 {
                    guard p[r][s] > 0 else { return -.infinity }
                    total += Double(n[r][s]) * Foundation.log(p[r][s])
                }
            }
        }
        return total
    }
}
