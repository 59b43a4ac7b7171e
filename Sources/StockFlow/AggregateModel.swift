import Foundation
import Model

/// How the aggregate model advances time.
public enum AggregateMode: String, Sendable, CaseIterable {
    /// Discrete cohort: S(t) = S(t−1)·P(t), the agents' own step.
    case cohort
    /// System dynamics: dS/dt = S·Q(t) within each step, integrated numerically.
    case sd
}

/// Numerical integration for system-dynamics mode.
public enum IntegrationMethod: String, Sendable, CaseIterable {
    /// Euler's method, the default of Stella and Vensim (order 1).
    case euler
    /// Classical fourth-order Runge–Kutta (order 4).
    case rk4
}

/// How exposure to practice is carried.
public enum ExposureTracking: String, Sendable, CaseIterable {
    /// One mean exposure per (area, coverage) group: the classic aggregate.
    case meanField
    /// One mean exposure per (area, coverage, age) stock: exact for children
    /// present at the start and for births, mean-field only where in-migrants join.
    case stocks
    /// One exposure per (area, coverage, entry step), as the agents carry it:
    /// exact, with a stock per entry step (slower).
    case exact
}

/// How time already spent in a level is carried.
public enum DurationTracking: String, Sendable, CaseIterable {
    /// Each level's stationary mean leave multiplier m̄ (`StationaryStay`): no extra stocks.
    case stationaryMean
    /// A stock per step already spent in the level, up to the last duration band,
    /// as the agents carry it: exact in `cohort` mode.
    case exact
}

/// Kinds of children who join during a run.
public struct Entrants: OptionSet, Sendable, Hashable {
    public let rawValue: Int
    public init(rawValue: Int) { self.rawValue = rawValue }
    public static let births = Entrants(rawValue: 1)
    public static let immigrants = Entrants(rawValue: 2)
}

/// Settings of one aggregate run.
public struct AggregateOptions: Sendable, Equatable {
    public var mode: AggregateMode
    /// Integration step in years for `sd` mode; must divide the model step.
    public var dtYears: Double?
    public var method: IntegrationMethod
    public var exposure: ExposureTracking
    public var durations: DurationTracking
    /// Entrants who keep their own exposure per entry step whatever `exposure` says
    /// (the others are averaged into the stocks they join); used to attribute causes.
    public var separateEntrants: Entrants

    public init(mode: AggregateMode = .cohort, dtYears: Double? = nil, method: IntegrationMethod = .euler,
                exposure: ExposureTracking = .meanField, durations: DurationTracking = .stationaryMean,
                separateEntrants: Entrants = []) {
        self.mode = mode
        self.dtYears = dtYears
        self.method = method
        self.exposure = exposure
        self.durations = durations
        self.separateEntrants = separateEntrants
    }

    /// Entrants whose exposure is carried exactly, by entry step.
    public var entrantsByEntryStep: Entrants { exposure == .exact ? [.births, .immigrants] : separateEntrants }

    /// A short label for the `mode` column of aggregate.csv.
    public var label: String {
        var out: String
        switch mode {
        case .cohort: out = "cohort/\(exposure.rawValue)"
        case .sd: out = "sd-\(method.rawValue)/\(exposure.rawValue)"
        }
        if exposure != .exact {
            if separateEntrants.contains(.births) { out += "+births-by-entry-step" }
            if separateEntrants.contains(.immigrants) { out += "+in-migrants-by-entry-step" }
        }
        if durations == .exact { out += "/durations-exact" }
        return out
    }
}

/// Why an aggregate run cannot be made.
public struct AggregateError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// The aggregate model's trajectory, in the agents' record layout.
public struct AggregateResult: Sendable {
    public var record: [Double]
    public var totals: ReplicationTotals
    /// The approximations this run made, in words, for the comparison report.
    public var approximations: [String]
}
