/// A level of support. Levels are data: the engine never knows how many
/// there are or what they are called.
public struct Level: Sendable, Equatable {
    public var name: String
    /// A child in an absorbing level stays there: no transitions, no
    /// migration, no ageing out (e.g. "Dead" in a health-economics model).
    public var absorbing: Bool
    /// Cost of one child-year spent in this level, in pounds.
    public var costPerChildYear: Double
    /// An arm's extra cost per child-year in this level (e.g. a treatment), in pounds.
    public var addOnCostPerChildYear: Double
    /// Quality-of-life weight of a year in this level, in [0, 1]: a proxy, not a measured utility.
    public var qolWeight: Double

    public init(name: String, absorbing: Bool = false, costPerChildYear: Double = 0,
                addOnCostPerChildYear: Double = 0, qolWeight: Double = 1) {
        self.name = name
        self.absorbing = absorbing
        self.costPerChildYear = costPerChildYear
        self.addOnCostPerChildYear = addOnCostPerChildYear
        self.qolWeight = qolWeight
    }
}

/// A piecewise-linear function of time in years, constant beyond its first and last points.
public struct Trajectory: Sendable, Equatable {
    public var points: [(timeYears: Double, value: Double)]

    public init(points: [(timeYears: Double, value: Double)]) { self.points = points }
    public init(constant: Double) { points = [(0, constant)] }

    /// Linear interpolation between the points around `timeYears`.
    public func value(at timeYears: Double) -> Double {
        guard let first = points.first else { return 0 }
        if timeYears <= first.timeYears { return first.value }
        for (a, b) in zip(points, points.dropFirst()) where timeYears <= b.timeYears {
            let span = b.timeYears - a.timeYears
            if span <= 0 { return b.value }
            return a.value + (b.value - a.value) * (timeYears - a.timeYears) / span
        }
        return points[points.count - 1].value
    }

    public static func == (l: Trajectory, r: Trajectory) -> Bool {
        l.points.count == r.points.count && zip(l.points, r.points).allSatisfy { $0 == $1 }
    }
}

/// A share of children by age, uniform within the band.
public struct AgeShare: Sendable, Equatable {
    public var fromMonths: Int
    public var toMonths: Int
    public var share: Double
    public init(fromMonths: Int, toMonths: Int, share: Double) {
        self.fromMonths = fromMonths
        self.toMonths = toMonths
        self.share = share
    }
}

/// Transition multipliers for children aged `fromMonths` or more (until the next band).
public struct AgeMultiplier: Sendable, Equatable {
    public var fromMonths: Int
    public var escalationMultiplier: Double
    public var stepDownMultiplier: Double
    public init(fromMonths: Int, escalationMultiplier: Double, stepDownMultiplier: Double) {
        self.fromMonths = fromMonths
        self.escalationMultiplier = escalationMultiplier
        self.stepDownMultiplier = stepDownMultiplier
    }
}

/// Multiplier on the chance of leaving a level once `fromMonths` have been spent in it.
public struct DurationMultiplier: Sendable, Equatable {
    public var fromMonths: Int
    public var leaveMultiplier: Double
    public init(fromMonths: Int, leaveMultiplier: Double) {
        self.fromMonths = fromMonths
        self.leaveMultiplier = leaveMultiplier
    }
}

/// How the reward of a step (cost, QoL) is valued from the states at its ends:
/// weights (w0, w1) on the value rates at the step's start and end,
/// reward_t = dt · [w0 · V(τ_{t−1}) D(τ_{t−1}) + w1 · V(τ_t) D(τ_t)] (`Rewards.weights`).
///
/// Reference: Elbasha & Chhatwal (2016), "Theoretical foundations and practical
/// applications of within-cycle correction methods", Med Decis Making 36(1):115–131.
public enum RewardTiming: Sendable, Hashable, CustomStringConvertible {
    /// State at the start of the step, for the whole step: (1, 0).
    case start
    /// State at the end of the step, for the whole step: (0, 1).
    case end
    /// Mean of start and end (trapezoid, "half-cycle correction"): (½, ½). The default.
    case halfCycle
    /// Simpson's 1/3 rule over pairs of steps: (⅓, ⅔) then (⅔, ⅓), so a pair gives
    /// dt/3 · (V₀ + 4V₁ + V₂); a last odd step uses the trapezoid.
    case simpson
    /// The user's own weights on every step, w0 + w1 = 1 with both in [0, 1], so a
    /// step's child-years stay dt × stock whatever the weights.
    case weights(start: Double, end: Double)

    /// The conventions a scenario names by a word, in the order the messages list them.
    public static let named: [RewardTiming] = [.start, .end, .halfCycle, .simpson]

    /// The word a scenario uses for a named convention; nil for user-given weights.
    public var name: String? {
        switch self {
        case .start: return "start"
        case .end: return "end"
        case .halfCycle: return "halfCycle"
        case .simpson: return "simpson"
        case .weights: return nil
        }
    }

    /// As the manifest and `girfec validate` show it: the word, or `weights [w0, w1]`
    /// (shortest round-trip decimals, as the scenario would write them).
    public var description: String {
        if let name { return name }
        guard case .weights(let w0, let w1) = self else { return "" }
        return "weights [\(Self.decimal(w0)), \(Self.decimal(w1))]"
    }

    static func decimal(_ x: Double) -> String {
        x == x.rounded() && abs(x) < 1e15 ? String(Int(x)) : "\(x)"
    }
}

/// A named practice variable: intensity over time, who it reaches, and its effect.
public struct Practice: Sendable {
    public var name: String
    /// Intensity x(t) in [0, 1].
    public var intensity: Trajectory
    /// Indices of the areas it reaches.
    public var areas: [Int]
    /// Share of children in those areas it reaches, in [0, 1].
    public var share: Double
    /// a_k in [0, 1]: red (escalation) probabilities are multiplied by (1 − a_k·s_k).
    public var escalationEffect: Double
    /// b_k ≥ 0: green (step-down) probabilities are multiplied by (1 + b_k·s_k).
    public var stepDownEffect: Double
    /// τ, years of exposure to most of the effect.
    public var timeToEffectYears: Double
    /// s = f(x, E, τ); the saturating form of docs/methods.md §4 by default.
    public var effect: any PracticeEffectFunction

    public init(name: String, intensity: Trajectory, areas: [Int], share: Double, escalationEffect: Double,
                stepDownEffect: Double, timeToEffectYears: Double,
                effect: any PracticeEffectFunction = SaturatingEffect()) {
        self.name = name
        self.intensity = intensity
        self.areas = areas
        self.share = share
        self.escalationEffect = escalationEffect
        self.stepDownEffect = stepDownEffect
        self.timeToEffectYears = timeToEffectYears
        self.effect = effect
    }
}

/// One arm, validated and resolved: everything an engine needs, as plain values.
///
/// Matrices are indexed [from][to] by level index; per-area arrays by area index.
public struct ArmModel: Sendable {
    public var name: String
    public var levels: [Level]
    public var areas: [String]
    /// Step length, whole months.
    public var stepMonths: Int
    /// Number of steps in the horizon.
    public var steps: Int
    /// Initial children, [area][level].
    public var initialCounts: [[Int]]
    /// Age distribution of initial children and of in-migrants.
    public var ageDistribution: [AgeShare]
    /// Months already spent in their level by children present at the start.
    public var initialDurations: InitialDurations = .zero
    /// Whether children age; without ageing nobody ages out.
    public var ageing: Bool
    /// Age at which children leave, in months (nil: never).
    public var ageOutMonths: Int?
    public var birthsPerYear: [Double]
    /// Level shares of newborns.
    public var entryLevelShares: [Double]
    public var immigrationPerYear: [Double]
    public var immigrationLevelShares: [Double]
    public var emigrationRatePerYear: Double
    /// Per-step transition probabilities, rows sum to 1.
    public var transitionPerStep: [[Double]]
    /// How `transitionPerStep` was obtained, for the manifest and docs.
    public var transitionConversion: String
    /// The baseline matrix as the file states it, from which `transitionPerStep` is derived
    /// (kept so a parameter can change one entry: `applying(_:)`).
    public var transitionInput = TransitionMatrixInput(unit: .probabilitiesPerStep, written: [], absorbing: [])
    public var ageMultipliers: [AgeMultiplier]
    /// Per level; empty means no duration dependence.
    public var durationMultipliers: [[DurationMultiplier]]
    /// Transition-specific dependence on age, calendar time or months in the level
    /// (`transitions.dependence`; none by default): `TransitionDependence.Combiner`.
    public var dependence: [TransitionDependence] = []
    public var practices: [Practice]
    public var programmeCostPerYear: Trajectory
    public var programmeCostPerChildReachedPerYear: Double
    public var costDiscountRatePerYear: Double
    public var qolDiscountRatePerYear: Double
    public var rewardTiming: RewardTiming
    /// Savings reinvested in prevention (nil: no feedback).
    public var reinvestment: Reinvestment? = nil
    /// Whether a step's own exposure to practice acts in that step (`ExposureTiming`; scenario `exposureTiming`).
    public var exposureTiming: ExposureTiming = .includingStep
    /// One-off costs and QoL changes of moves and arrivals (none by default).
    public var transitionRewards: TransitionRewards? = nil
    /// The largest multipliers of the stay check, derived from the practices, age bands,
    /// reinvestment and entries (`StayCheck.Envelope`); nil until validation or `applying(_:)` builds it.
    public internal(set) var stayEnvelope: StayCheck.Envelope? = nil
    /// The moves between levels a run records (`PossibleMoves`), the same in every arm of a scenario;
    /// nil: every pair of levels (an arm made in code rather than by `ScenarioDecoder`).
    public var possibleMoves: [Move]? = nil

    public var stepYears: Double { Double(stepMonths) / 12 }
    public var horizonYears: Double { Double(steps * stepMonths) / 12 }

    /// Escalation: a move to a higher level (red flow in the seed's diagrams).
    @inlinable public static func isEscalation(from i: Int, to j: Int) -> Bool { j > i }
}

/// A validated scenario: its arms, the first being the comparator.
public struct Scenario: Sendable {
    public var name: String
    public var description: String
    public var arms: [ArmModel]
    /// Uncertain parameters (probabilistic sensitivity analysis); nil: every value is fixed.
    /// `arms` holds the file's own values: the base case.
    public var uncertainty: Uncertainty? = nil
    /// Files the scenario read besides itself (`include` fragments, the draws file): name → text.
    public var attachedFiles: [String: String] = [:]
    /// Every field path of the file resolved to what it sets, or why it cannot be a parameter.
    public var parameterIndex = ParameterIndex()
    /// The scenario file's name, for messages.
    public var file = ""
    public var levels: [String] { arms[0].levels.map(\.name) }

    public init(name: String, description: String, arms: [ArmModel]) {
        self.name = name
        self.description = description
        self.arms = arms
    }
}

/// One-off rewards of moving: a cost and a QoL change per child on a move from one level to another,
/// and on arriving in a level (a move in from any other level, or an entry: birth or in-migration).
///
/// A move or an arrival during step t is counted once, at the end of the step, when the child is
/// first recorded in its new level, and discounted from that time:
///
/// ```
/// transition_cost_t = [Σ_{i≠j} flow_t(i→j) · c_ij + Σ_l inflow_t(l) · c_l] · D(t · dt)
/// ```
///
/// with the same formula for QoL-years (q_ij, q_l) and the QoL discount rate (docs/methods.md §5.3).
/// This is how state-transition models value a one-off event in the cycle it happens, e.g.
/// heemod's transition costs via `dispatch_strategy` and the "transition rewards" of TreeAge
/// (Briggs, Claxton & Sculpher 2006, "Decision Modelling for Health Economic Evaluation", §3.3).
public struct TransitionRewards: Sendable, Equatable {
    /// Pounds per child making the move, [from][to]; 0 on the diagonal.
    public var moveCost: [[Double]]
    /// QoL-years per child making the move (negative: a loss), [from][to]; 0 on the diagonal.
    public var moveQolChange: [[Double]]
    /// Pounds per child arriving in the level (moves in and entries), [level].
    public var intoCost: [Double]
    /// QoL-years per child arriving in the level, [level].
    public var intoQolChange: [Double]

    public init(levels n: Int) {
        moveCost = [[Double]](repeating: [Double](repeating: 0, count: n), count: n)
        moveQolChange = moveCost
        intoCost = [Double](repeating: 0, count: n)
        intoQolChange = intoCost
    }
}
