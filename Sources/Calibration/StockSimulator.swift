import Foundation
import Model
import StockFlow

/// Expected stock counts as a function of free parameters: what a stock-only
/// calibration fits.
///
/// ```
/// μ(θ) = (μ_1(θ), …, μ_n(θ)),  μ_k(θ) = expected children in level l_k at time t_k
/// ```
///
/// `stocks(_:)` returns one expected count per observation, in the order the
/// simulator documents (for `AggregateStockSimulator`, the order of its
/// `observations`; for `PooledStockSimulator`, part after part). It must be a
/// pure function of θ: estimators call it thousands of times, from several
/// threads at once.
public protocol StockSimulator: Sendable {
    /// Number of free parameters θ (yearly rates, ≥ 0).
    var parameterCount: Int { get }
    /// Number of expected counts `stocks(_:)` returns.
    var observationCount: Int { get }
    /// A name per parameter, for reports (`From→To` for a transition rate).
    var parameterNames: [String] { get }
    /// Expected counts, one per observation.
    ///
    /// - Throws: `StockCalibrationError` when θ gives no valid model (wrong
    ///   length, a negative rate, a stay probability below 0).
    func stocks(_ θ: [Double]) throws -> [Double]
}

/// Why a stock calibration cannot be set up or evaluated, in words.
public struct StockCalibrationError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// One observed stock: children in a level at a time.
public struct StockObservation: Sendable, Equatable {
    /// Years from the scenario's start (time 0 is `population.initialCounts`).
    public var timeYears: Double
    /// Index of the level in the scenario's level order.
    public var level: Int
    /// Children counted.
    public var count: Double

    public init(timeYears: Double, level: Int, count: Double) {
        self.timeYears = timeYears; self.level = level; self.count = count
    }

    /// Observations from stocks.csv rows: one per (date, level), dated in
    /// years since `origin` (365.25 days a year), sorted by time then level.
    ///
    /// - Parameters:
    ///   - counts: the rows; those of other areas are skipped.
    ///   - area: the area to keep; nil sums every area's count per (date, level).
    ///   - origin: the date of the scenario's start.
    ///   - levels: the scenario's level names, in model order.
    /// - Throws: every unknown level, date before `origin` and repeated
    ///   (date, area, level) row, together.
    public static func series(from counts: [StockCount], area: String?, origin: Day,
                              levels: [String]) throws(CalibrationDataError) -> [StockObservation] {
        var issues: [DataIssue] = []
        var sums: [Int: [Int: Double]] = [:]
        var seen = Set<String>()
        for row in counts where area == nil || row.area == area {
            guard let l = levels.firstIndex(of: row.level) else {
                issues.append(DataIssue(file: "stocks.csv", line: row.line, column: "level", found: "'\(row.level)'",
                                        expected: "one of the scenario's levels: \(levels.joined(separator: ", "))"))
                continue
            }
            guard row.date >= origin else {
                issues.append(DataIssue(file: "stocks.csv", line: row.line, column: "date", found: "\(row.date)",
                                        expected: "a date on or after the scenario's start, \(origin)"))
                continue
            }
            let key = "\(row.date)|\(row.area)|\(row.level)"
            if !seen.insert(key).inserted {
                issues.append(DataIssue(file: "stocks.csv", line: row.line, column: nil,
                                        found: "a second count for \(row.area), \(row.level) on \(row.date)",
                                        expected: "one row per date, area and level"))
                continue
            }
            sums[row.date.daysSinceEpoch, default: [:]][l, default: 0] += Double(row.count)
        }
        if !issues.isEmpty { throw CalibrationDataError(issues: issues) }
        var out: [StockObservation] = []
        for day in sums.keys.sorted() {
            for (l, c) in sums[day]!.sorted(by: { $0.key < $1.key }) {
                out.append(StockObservation(timeYears: Day(daysSinceEpoch: day).years(since: origin), level: l, count: c))
            }
        }
        return out
    }
}

/// The aggregate stock-flow model (docs/methods.md §9) as a `StockSimulator`:
/// the free parameters are numbers of the scenario at given field paths.
///
/// ```
/// μ_k(θ) = (1 − w_k)·S_{l_k}(s_k) + w_k·S_{l_k}(s_k + 1),
/// s_k = ⌊t_k / dt⌋,  w_k = t_k/dt − s_k
/// ```
///
/// with S_l(s) the aggregate model's stock of level l at the end of step s
/// (all areas together) for the scenario with θ substituted. A census time
/// on a step end (within 10⁻⁹ steps) is read exactly; one between step ends
/// is linearly interpolated. With yearly steps (`stepMonths: 12`) and census
/// dates on 31 July, the k-th census is k years after the first to within a
/// day (dates count 365.25 days a year), so interpolation moves a value by
/// under 0.3 % of a year's change.
///
/// **Fast path.** When every path is a transition rate,
/// `transitions.matrix.<From>.<To>` of a `ratesPerYear` scenario, each call
/// builds the per-step matrix directly,
///
/// ```
/// Q = log(P₀)/dt with the free entries set to θ and the diagonal the
///     negative row sums,   P = exp(Q·dt)
/// ```
///
/// (P₀ the scenario's per-step matrix; Higham 2008, *Functions of
/// Matrices*, ch. 10–11), checks the stay probabilities against the largest
/// multipliers a child can meet (as validation does, `StayCheck`) and runs
/// the aggregate model; it skips re-reading the scenario. At construction the
/// fast path is compared with `Scenario.setting(_:)` at one point; if the
/// two per-step matrices differ by more than 10⁻⁹ (for example an arm that
/// overrides the matrix, or another unit) every call goes through
/// `setting(_:)` instead, which re-validates the whole scenario (slower,
/// always right). `usesFastPath` says which.
///
/// For per-area fits give one scenario per area (the stocks are summed over
/// the scenario's areas); for areas sharing dynamics, pool them with
/// `PooledStockSimulator`.
///
/// - Complexity: one aggregate-model run per call. Measured on the default
///   experiment (4 levels, 12 free rates, 2 areas, ageing by month; release
///   build, one core): 1.4 ms per call with yearly steps, 18 ms with monthly
///   steps — all but a few per cent of it the aggregate model itself;
///   `setting(_:)` alone would add 0.4 ms and 3.4 ms
///   (`StockEstimatorTests.fastPathIsTheScenarioOnTheDefaultExperiment`,
///   `swift test -c release`).
public struct AggregateStockSimulator: StockSimulator {
    public let scenario: Scenario
    public let parameterPaths: [String]
    public let observations: [StockObservation]
    /// The arm whose dynamics are fitted (0: the comparator, usual practice).
    public let arm: Int
    public let options: AggregateOptions
    /// `From→To` for a transition path, the path otherwise.
    public let parameterNames: [String]
    /// The scenario's own value of each parameter (nil where the fast path is not used).
    public let baseValues: [Double]?
    /// True when calls build the matrix directly rather than through `Scenario.setting(_:)`.
    public let usesFastPath: Bool

    private let fast: FastRates?

    public var parameterCount: Int { parameterPaths.count }
    public var observationCount: Int { observations.count }

    /// - Parameters:
    ///   - scenario: the base scenario; give it the time step the data need
    ///     (yearly steps are fastest for yearly census data).
    ///   - parameterPaths: field paths of the free parameters, e.g.
    ///     `transitions.matrix.Universal.Additional` (a yearly rate).
    ///   - observations: what `stocks(_:)` returns, in this order.
    ///   - arm: the arm to run.
    ///   - options: aggregate-model settings (default: cohort mode).
    /// - Throws: `StockCalibrationError` naming an observation outside the
    ///   horizon, an unknown level, a repeated path, or the scenario's own
    ///   message for a path that is not a number of the file.
    public init(scenario: Scenario, parameterPaths: [String], observations: [StockObservation], arm: Int = 0,
                options: AggregateOptions = AggregateOptions()) throws(StockCalibrationError) {
        guard scenario.arms.indices.contains(arm) else {
            throw StockCalibrationError("arm \(arm) does not exist: the scenario has \(scenario.arms.count) arm(s)")
        }
        guard !parameterPaths.isEmpty else { throw StockCalibrationError("no free parameter paths were given") }
        guard Set(parameterPaths).count == parameterPaths.count else {
            throw StockCalibrationError("a parameter path is repeated in \(parameterPaths)")
        }
        let model = scenario.arms[arm]
        let levels = model.levels.map(\.name)
        for (k, o) in observations.enumerated() {
            guard levels.indices.contains(o.level) else {
                throw StockCalibrationError("observation \(k + 1) has level index \(o.level); the scenario has \(levels.count) levels")
            }
            guard o.timeYears >= -1e-9, o.timeYears <= model.horizonYears + 1e-9, o.count.isFinite, o.count >= 0 else {
                throw StockCalibrationError("observation \(k + 1) at \(o.timeYears) years with count \(o.count): expected a time in [0, \(model.horizonYears)] years (the horizon) and a count >= 0")
            }
        }
        self.scenario = scenario
        self.parameterPaths = parameterPaths
        self.observations = observations
        self.arm = arm
        self.options = options
        let entries = parameterPaths.map { Self.transitionEntry($0, levels: levels) }
        parameterNames = zip(parameterPaths, entries).map { path, e in e.map { "\(levels[$0.from])→\(levels[$0.to])" } ?? path }

        // Try the fast path and check it against setting(_:) at one point.
        var fast: FastRates?
        if entries.allSatisfy({ $0 != nil }), let candidate = FastRates(arm: model, entries: entries.map { $0! }) {
            let probe = candidate.base.enumerated().map { k, v in v * 1.1 + 0.001 * Double(k + 1) }
            do {
                let reference = try scenario.setting(Array(zip(parameterPaths, probe))).arms[arm].transitionPerStep
                if let mine = try? candidate.perStep(probe), Self.maxDifference(mine, reference) <= 1e-9 { fast = candidate }
            } catch {
                throw StockCalibrationError("the free parameters cannot be set: \(error.description)")
            }
        } else {
            do { _ = try scenario.setting(parameterPaths.map { ($0, 0.0) }) } catch {
                // Zero may be invalid for some numbers; only an unknown path is an error here.
                if error.issues.contains(where: { $0.expected.hasPrefix("the field path of a number") }) {
                    throw StockCalibrationError("the free parameters cannot be set: \(error.description)")
                }
            }
        }
        self.fast = fast
        usesFastPath = fast != nil
        baseValues = fast?.base
    }

    public func stocks(_ θ: [Double]) throws -> [Double] {
        guard θ.count == parameterCount else {
            throw StockCalibrationError("expected \(parameterCount) parameter values (\(parameterNames.joined(separator: ", "))), got \(θ.count)")
        }
        for (k, v) in θ.enumerated() where !(v.isFinite && v >= 0) {
            throw StockCalibrationError("\(parameterNames[k]) = \(v): expected a finite rate >= 0")
        }
        var model: ArmModel
        if let fast {
            model = scenario.arms[arm]
            model.transitionPerStep = try fast.perStep(θ)
        } else {
            do {
                model = try scenario.setting(Array(zip(parameterPaths, θ))).arms[arm]
            } catch {
                throw StockCalibrationError("the scenario rejects \(zip(parameterNames, θ).map { "\($0) = \($1)" }.joined(separator: ", ")): \(error.description)")
            }
        }
        let result: AggregateResult
        do { result = try AggregateModel.run(arm: model, options: options) } catch {
            throw StockCalibrationError("the aggregate model cannot run: \(error.description)")
        }
        let layout = RecordLayout(levelCount: model.levels.count, steps: model.steps)
        let dt = model.stepYears
        return observations.map { o in
            let s = o.timeYears / dt
            let slot = layout.slot(.stock, level: o.level)
            let nearest = Int(s.rounded())
            if abs(s - Double(nearest)) < 1e-9 {
                return result.record[layout.index(step: min(max(nearest, 0), model.steps), slot: slot)]
            }
            let low = min(Int(s.rounded(.down)), model.steps - 1), w = s - Double(low)
            return (1 - w) * result.record[layout.index(step: low, slot: slot)] + w * result.record[layout.index(step: low + 1, slot: slot)]
        }
    }

    /// (from, to) of `transitions.matrix.<From>.<To>`, nil for any other path.
    static func transitionEntry(_ path: String, levels: [String]) -> (from: Int, to: Int)? {
        let prefix = "transitions.matrix."
        guard path.hasPrefix(prefix) else { return nil }
        let rest = path.dropFirst(prefix.count)
        // Level names may contain dots: try every split.
        for (k, c) in rest.enumerated() where c == "." {
            let i = rest.index(rest.startIndex, offsetBy: k)
            if let from = levels.firstIndex(of: String(rest[..<i])), let to = levels.firstIndex(of: String(rest[rest.index(after: i)...])),
               from != to {
                return (from, to)
            }
        }
        return nil
    }

    static func maxDifference(_ a: [[Double]], _ b: [[Double]]) -> Double {
        guard a.count == b.count else { return .infinity }
        var m = 0.0
        for (ra, rb) in zip(a, b) {
            guard ra.count == rb.count else { return .infinity }
            for (x, y) in zip(ra, rb) { m = max(m, abs(x - y)) }
        }
        return m
    }

    /// The direct construction of the per-step matrix from yearly rates.
    struct FastRates: Sendable {
        let generator: [[Double]]
        let entries: [(from: Int, to: Int)]
        let base: [Double]
        let dt: Double
        let absorbing: [Bool]
        /// Per level: the Pareto-largest (escalation, step-down) multipliers a child can meet.
        let worstMultipliers: [[(red: Double, green: Double)]]

        init?(arm: ArmModel, entries: [(from: Int, to: Int)]) {
            guard let log = MatrixFunctions.logarithm(arm.transitionPerStep) else { return nil }
            let n = arm.levels.count
            var q = MatrixFunctions.scale(log, 1 / arm.stepYears)
            for i in 0..<n {
                for j in 0..<n where j != i { q[i][j] = max(q[i][j], 0) }
            }
            generator = q
            self.entries = entries
            base = entries.map { q[$0.from][$0.to] }
            dt = arm.stepYears
            absorbing = arm.levels.map(\.absorbing)
            // The multipliers validation checks (StayCheck.firstViolations), reduced to their Pareto front.
            var worstCase = arm
            if let r = arm.reinvestment, r.fraction > 0 { worstCase.practices[r.practice].intensity = Trajectory(constant: 1) }
            let schedule = PracticeSchedule(arm: worstCase)
            let hasEntries = arm.birthsPerYear.contains { $0 > 0 } || arm.immigrationPerYear.contains { $0 > 0 }
            var pairs: [(red: Double, green: Double)] = []
            for t in stride(from: 1, through: arm.steps, by: 1) {
                for mask in 0..<schedule.masks {
                    for e in 0..<(hasEntries ? t : 1) {
                        let m = schedule.multipliers(step: t, mask: mask, entryStep: e)
                        for band in arm.ageMultipliers {
                            pairs.append((m.red * band.escalationMultiplier, m.green * band.stepDownMultiplier))
                        }
                    }
                }
                pairs = Self.paretoFront(pairs)
            }
            worstMultipliers = arm.levels.indices.map { i in
                let leaveMax = arm.durationMultipliers[i].map(\.leaveMultiplier).max() ?? 1
                return pairs.map { ($0.red * leaveMax, $0.green * leaveMax) }
            }
        }

        static func paretoFront(_ pairs: [(red: Double, green: Double)]) -> [(red: Double, green: Double)] {
            var front: [(red: Double, green: Double)] = []
            var bestGreen = -Double.infinity
            for p in pairs.sorted(by: { $0.red != $1.red ? $0.red > $1.red : $0.green > $1.green }) where p.green > bestGreen {
                front.append(p)
                bestGreen = p.green
            }
            return front
        }

        func perStep(_ θ: [Double]) throws(StockCalibrationError) -> [[Double]] {
            var q = generator
            for (k, e) in entries.enumerated() { q[e.from][e.to] = θ[k] }
            for i in q.indices {
                q[i][i] = 0
                if absorbing[i] { for j in q.indices { q[i][j] = 0 } }
                q[i][i] = -q[i].reduce(0, +)
            }
            let p: [[Double]]
            switch TransitionConversion.perStep(q, unit: .ratesPerYear, stepYears: dt) {
            case .success(let m): p = m
            case .failure: throw StockCalibrationError("the rates \(θ) give no valid per-step matrix")
            }
            let sums = StayCheck.directionSums(p)
            for i in p.indices where !absorbing[i] {
                for m in worstMultipliers[i] where sums[i].red * m.red + sums[i].green * m.green > 1 + 1e-12 {
                    throw StockCalibrationError("with rates \(θ), level \(i + 1) has a leave probability of \(sums[i].red * m.red + sums[i].green * m.green) under its largest multipliers: a stay probability below 0")
                }
            }
            return p
        }
    }
}

/// Several areas (or data sets) that share the same dynamics θ: their
/// expected counts, part after part.
///
/// ```
/// μ(θ) = (μ⁽¹⁾(θ), …, μ⁽ᴬ⁾(θ))
/// ```
///
/// Pooling is a declared constraint: areas whose stocks each leave a flow
/// unidentified (one at equilibrium, say) can identify it together (one
/// area in a transient pins the speed of adjustment, the ratio everywhere).
public struct PooledStockSimulator: StockSimulator {
    public let parts: [any StockSimulator]
    public let parameterNames: [String]
    public let observationCount: Int

    /// - Throws: `StockCalibrationError` when the parts disagree on the parameters.
    public init(_ parts: [any StockSimulator]) throws(StockCalibrationError) {
        guard let first = parts.first else { throw StockCalibrationError("pooling needs at least one part") }
        for (k, p) in parts.enumerated() where p.parameterNames != first.parameterNames {
            throw StockCalibrationError("part \(k + 1) has parameters \(p.parameterNames); part 1 has \(first.parameterNames): pooled parts must share θ")
        }
        self.parts = parts
        parameterNames = first.parameterNames
        observationCount = parts.reduce(0) { $0 + $1.observationCount }
    }

    public var parameterCount: Int { parameterNames.count }

    public func stocks(_ θ: [Double]) throws -> [Double] {
        var out: [Double] = []
        out.reserveCapacity(observationCount)
        for p in parts { out += try p.stocks(θ) }
        return out
    }
}
