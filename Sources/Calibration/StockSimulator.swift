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
/// (all areas together) for the scenario with θ in place. A census time
/// on a step end (within 10⁻⁹ steps) is read exactly; one between step ends
/// is linearly interpolated. With yearly steps (`stepMonths: 12`) and census
/// dates on 31 July, the k-th census is k years after the first to within a
/// day (dates count 365.25 days a year), so interpolation moves a value by
/// under 0.3 % of a year's change.
///
/// The paths are resolved once, at construction, by the scenario's
/// `ParameterIndex` (structure such as `time.horizonYears` is refused,
/// saying why); each call puts θ in place with `ArmModel.applying(_:)`, the
/// mechanism parameter draws and sensitivity points use: the matrix as the
/// file states it with θ at the free entries, completed and converted to a
/// step (`TransitionMatrixInput`), and the stay check against the largest
/// multipliers a child can meet (`StayCheck.violations`, whose envelope
/// rates do not change).
///
/// For per-area fits give one scenario per area (the stocks are summed over
/// the scenario's areas); for areas sharing dynamics, pool them with
/// `PooledStockSimulator`.
///
/// - Complexity: one aggregate-model run per call, which is nearly all of its cost.
public struct AggregateStockSimulator: StockSimulator {
    public let scenario: Scenario
    public let parameterPaths: [String]
    public let observations: [StockObservation]
    /// The arm whose dynamics are fitted (0: the comparator, usual practice).
    public let arm: Int
    public let options: AggregateOptions
    /// `From→To` for a transition path, the path otherwise.
    public let parameterNames: [String]
    /// The scenario's own value of each parameter (0 for a move the file leaves out).
    public let baseValues: [Double]?
    /// What each parameter sets in the fitted arm.
    let targets: [ParameterValue]
    /// The fitted arm with the file's values.
    let baseArm: ArmModel

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
    ///   horizon, an unknown level, a repeated path, or a path that cannot
    ///   be a parameter (with why) or does not reach the arm.
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
        let (bound, refused) = scenario.bindings(parameterPaths)
        if !refused.isEmpty {
            throw StockCalibrationError("the free parameters cannot be set: " + refused.map {
                "\(scenario.file): \($0.path): found path \($0.refusal.found); expected \($0.refusal.expected)"
            }.joined(separator: "; "))
        }
        var targets: [ParameterValue] = []
        for b in bound {
            guard let t = b.targets.first(where: { $0.arm == arm }) else {
                throw StockCalibrationError("the free parameter \(b.path) does not reach arm '\(model.name)': the arm overrides it")
            }
            targets.append(ParameterValue(parameter: t.parameter, value: 0, path: b.path, line: b.line))
        }
        // The moves a free rate can make possible are recorded too (`PossibleMoves`).
        var widened = scenario
        widened.allowMoves(varying: bound)
        self.scenario = widened
        self.parameterPaths = parameterPaths
        self.observations = observations
        self.arm = arm
        self.options = options
        self.targets = targets
        baseArm = widened.arms[arm]
        parameterNames = zip(parameterPaths, targets).map { path, t in
            if case .transitionEntry(let i, let j) = t.parameter { return "\(levels[i])→\(levels[j])" }
            return path
        }
        baseValues = parameterPaths.map { scenario.parameterIndex.fileValue($0) ?? 0 }
    }

    public func stocks(_ θ: [Double]) throws -> [Double] {
        guard θ.count == parameterCount else {
            throw StockCalibrationError("expected \(parameterCount) parameter values (\(parameterNames.joined(separator: ", "))), got \(θ.count)")
        }
        for (k, v) in θ.enumerated() where !(v.isFinite && v >= 0) {
            throw StockCalibrationError("\(parameterNames[k]) = \(v): expected a finite rate >= 0")
        }
        var values = targets
        for k in values.indices { values[k].value = θ[k] }
        let model: ArmModel
        do { model = try baseArm.applying(values, file: scenario.file) } catch {
            throw StockCalibrationError("the scenario rejects \(zip(parameterNames, θ).map { "\($0) = \($1)" }.joined(separator: ", ")): \(error.description)")
        }
        let result: AggregateResult
        do { result = try AggregateModel.run(arm: model, options: options) } catch {
            throw StockCalibrationError("the aggregate model cannot run: \(error.description)")
        }
        let layout = RecordLayout(arm: model)
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
