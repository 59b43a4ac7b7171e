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
}

/// Settings of one aggregate run.
public struct AggregateOptions: Sendable, Equatable {
    public var mode: AggregateMode
    /// Integration step in years for `sd` mode; must divide the model step.
    public var dtYears: Double?
    public var method: IntegrationMethod
    public var exposure: ExposureTracking

    public init(mode: AggregateMode = .cohort, dtYears: Double? = nil, method: IntegrationMethod = .euler,
                exposure: ExposureTracking = .meanField) {
        self.mode = mode
        self.dtYears = dtYears
        self.method = method
        self.exposure = exposure
    }

    /// A short label for the `mode` column of aggregate.csv.
    public var label: String {
        switch mode {
        case .cohort: return "cohort/\(exposure.rawValue)"
        case .sd: return "sd-\(method.rawValue)/\(exposure.rawValue)"
        }
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
