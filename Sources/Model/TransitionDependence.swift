import Foundation

/// What a transition-specific dependence is a function of (`transitions.dependence[k].on`).
public enum DependenceVariable: String, Sendable, CaseIterable {
    /// The child's age in years at the start of the step (frozen at its first value when
    /// `population.ageing` is false).
    case age
    /// Calendar time: years since the start of the run, at the start of the step, (t − 1) · dt.
    case year
    /// Months the child has spent in its current level at the start of the step (semi-Markov).
    case sojourn

    /// The unit of a table's keys, for messages and docs.
    public var keyUnit: String { self == .sojourn ? "months" : "years" }
}

/// What a dependence table's values are (`transitions.dependence[k].unit`).
public enum DependenceUnit: String, Sendable, CaseIterable {
    /// A probability q of the move within a year, in [0, 1): replaces the move's rate by −ln(1 − q) per year.
    case probabilitiesPerYear
    /// A rate per year (≥ 0): replaces the move's rate.
    case ratesPerYear
    /// A hazard ratio (≥ 0): multiplies the move's rate.
    case hazardRatio
}

/// One transition-specific dependence: the rate of the move from each level of `from` to `to`
/// as a step function of age, calendar time or months in the level.
///
/// The table gives v(x) = values[k] for keys[k] ≤ x < keys[k+1] (the first value below the
/// first key, the last beyond the last). Its effect on the move's rate per year is
///
/// ```
/// replacing (probabilitiesPerYear, ratesPerYear): λ_ij ← r(x) · factor,  r = −ln(1 − q) or the rate
/// hazardRatio:                                    λ_ij ← λ_ij · v(x) · factor
/// ```
///
/// and `Combiner` turns a child's row into rates, applies every dependence of the row, and
/// back into per-step probabilities (docs/scenario-format.md §8, "Transition-specific dependence").
public struct TransitionDependence: Sendable, Equatable {
    /// The levels whose moves to `to` depend (never `to` itself, never absorbing).
    public var from: [Int]
    public var to: Int
    public var on: DependenceVariable
    public var unit: DependenceUnit
    /// A constant multiplier of the table's value (e.g. an excess-mortality hazard ratio).
    public var factor: Double
    /// Strictly increasing keys: years for `age` and `year`, months for `sojourn`.
    public var keys: [Double]
    /// The values as written, one per key.
    public var values: [Double]
    /// Where the dependence is written (its field path), for messages.
    public var path: String

    public init(from: [Int], to: Int, on: DependenceVariable, unit: DependenceUnit, factor: Double = 1,
                keys: [Double], values: [Double], path: String = "") {
        self.from = from
        self.to = to
        self.on = on
        self.unit = unit
        self.factor = factor
        self.keys = keys
        self.values = values
        self.path = path
    }

    /// Whether the table replaces the move's rate (rather than multiplying it).
    public var replaces: Bool { unit != .hazardRatio }

    /// Each value as it acts: a rate per year (replacing) or a hazard ratio, times `factor`.
    public var effects: [Double] {
        values.map { v in
            switch unit {
            case .probabilitiesPerYear: return -log1p(-v) * factor
            case .ratesPerYear, .hazardRatio: return v * factor
            }
        }
    }

    /// The most rows a table may have: ages and months are whole months below 65,536.
    public static let maximumRows = 10_000
}

extension TransitionDependence {
    /// A child's row with its transition-specific dependence applied, as competing risks.
    ///
    /// For a row i touched by some dependence, with p_ij its per-step probabilities as formed
    /// without dependence (every multiplier applied) and p_ii = 1 − Σ_{j≠i} p_ij:
    ///
    /// ```
    /// Λ = −ln(p_ii) / dt,   λ_ij = Λ · p_ij / (1 − p_ii)                (constant hazards over the step)
    /// λ_ij ← r_ij(x) · f  (replacing table)  ·  Π HR_ij(x) · f          (each dependence of i → j)
    /// p_ii = exp(−Σ_j λ_ij · dt),   p_ij = (1 − p_ii) · λ_ij / Σ_k λ_ik
    /// ```
    ///
    /// Rates of competing risks add, and a constant-hazard step converts them to probabilities
    /// that sum to 1 (Briggs, Claxton & Sculpher 2006, *Decision Modelling for Health Economic
    /// Evaluation*, ch. 3; Gidwani & Russell 2020, "Estimating transition probabilities from
    /// published evidence: a tutorial for decision modelers", PharmacoEconomics 38:1153–1164).
    /// A row with p_ii = 0 is read as p_ii = 10^−300 (its rates finite, its limit kept to that
    /// precision). A row no dependence touches is never passed here.
    public struct Combiner: Sendable {
        public let levelCount: Int
        public let stepYears: Double
        /// Per level: whether some dependence changes its row.
        public let touched: [Bool]
        /// Per level, its dependencies, those that replace a rate first.
        let rules: [[Rule]]
        /// Whether any dependence reads the child's months in its level.
        public let readsSojourn: Bool
        public let readsAge: Bool
        /// The largest sojourn key of each level's dependencies in months (0 without): from there on
        /// the tables no longer change.
        public let sojournCapMonths: [Int]

        struct Rule: Sendable {
            var to: Int
            var on: DependenceVariable
            var replaces: Bool
            var keys: [Double]
            var effects: [Double]

            /// The effect at x: the value of the last key ≤ x (the first below the first key).
            func effect(at x: Double) -> Double {
                var lo = 0, hi = keys.count - 1
                if x < keys[0] { return effects[0] }
                while lo < hi {
                    let mid = (lo + hi + 1) / 2
                    if keys[mid] <= x { lo = mid } else { hi = mid - 1 }
                }
                return effects[lo]
            }
        }

        public init(arm: ArmModel) {
            let n = arm.levels.count
            levelCount = n
            stepYears = arm.stepYears
            var rules = [[Rule]](repeating: [], count: n)
            for d in arm.dependence where !d.keys.isEmpty && d.keys.count == d.values.count {
                let rule = Rule(to: d.to, on: d.on, replaces: d.replaces, keys: d.keys, effects: d.effects)
                for i in d.from where i >= 0 && i < n && i != d.to && !arm.levels[i].absorbing { rules[i].append(rule) }
            }
            self.rules = rules.map { list in list.filter(\.replaces) + list.filter { !$0.replaces } }
            touched = rules.map { !$0.isEmpty }
            readsSojourn = arm.dependence.contains { $0.on == .sojourn }
            readsAge = arm.dependence.contains { $0.on == .age }
            sojournCapMonths = rules.map { list in
                Int(list.filter { $0.on == .sojourn }.map { ($0.keys.last ?? 0).rounded(.up) }.max() ?? 0)
            }
        }

        /// Whether any level's row is touched.
        public var isEmpty: Bool { !touched.contains(true) }

        /// Applies the dependence of level `i` to `row` in place: on entry, row[j] (j ≠ i) are the
        /// per-step probabilities without dependence; on return, row[j] (j ≠ i) the combined ones and
        /// row[i] the stay. The child is `ageYears` old and has spent `sojournMonths` in the level at
        /// the start of the step, which starts `timeYears` after the run's start.
        ///
        /// - Returns: false, leaving `row` unchanged, if the row's leave probability exceeds 1 + 1e−12
        ///   (the stay check's failure, reported by the caller).
        @inline(__always)
        public func combine(level i: Int, row: UnsafeMutableBufferPointer<Double>, ageYears: Double, timeYears: Double,
                            sojournMonths: Double) -> Bool {
            let n = levelCount
            var leave = 0.0
            for j in 0..<n where j != i { leave += row[j] }
            if leave > 1 + 1e-12 { return false }
            let stay = max(1 - leave, 1e-300)
            let dt = stepYears
            // Hazards of the step: λ_ij = Λ · p_ij / (1 − p_ii), Λ = −ln(p_ii)/dt.
            if leave > 0 {
                let scale = -log(stay) / dt / leave
                for j in 0..<n where j != i { row[j] *= scale }
            } else {
                for j in 0..<n where j != i { row[j] = 0 }
            }
            for rule in rules[i] {
                let x: Double
                switch rule.on {
                case .age: x = ageYears
                case .year: x = timeYears
                case .sojourn: x = sojournMonths
                }
                let v = rule.effect(at: x)
                if rule.replaces { row[rule.to] = v } else { row[rule.to] *= v }
            }
            var total = 0.0
            for j in 0..<n where j != i { total += row[j] }
            guard total > 0 else {
                for j in 0..<n { row[j] = j == i ? 1 : 0 }
                return true
            }
            let leaving = -expm1(-total * dt)
            let share = leaving / total
            for j in 0..<n where j != i { row[j] *= share }
            row[i] = 1 - leaving
            return true
        }
    }
}
