import Foundation

/// The optional feedback of docs/methods.md §10: savings reinvested in prevention.
///
/// Savings are the first arm's cost rate minus this arm's, in the same
/// replication (£ per year, all spending, prevention money included). A
/// fraction r of the delayed, smoothed savings becomes prevention money M,
/// which raises one practice variable's intensity with diminishing returns:
///
/// ```
/// Ŝ(t)  = Ŝ(t−1) + (S(t − delay) − Ŝ(t−1)) · min(1, dt / smoothingYears)   (first-order smoothing)
/// M(t)  = r · max(0, Ŝ(t))
/// x(t)  = x₀(t) + (1 − x₀(t)) · (1 − exp(−M(t) / M₀))                 (diminishing returns)
/// ```
///
/// with x₀ the planned intensity and M₀ (`moneyScalePerYear`) the money a
/// year that closes 63 % of the gap to full intensity. M is spent: it is
/// added to the programme's cost. r = 0 (savings reduce overspend) and r > 0
/// (savings fund prevention) are the two policies the seed contrasts.
/// Smoothing and delay are the SD modeller's SMOOTH and DELAY (Sterman 2000,
/// *Business Dynamics*, ch. 11); the saturating response follows ch. 14.
public struct Reinvestment: Sendable, Equatable {
    /// r in [0, 1].
    public var fraction: Double
    /// Steps between a saving and its entering the smoothing (budget cycle).
    public var delaySteps: Int
    /// Smoothing time, years (0: no smoothing).
    public var smoothingYears: Double
    /// Index of the practice variable whose intensity the money raises.
    public var practice: Int
    /// M₀, £ per year.
    public var moneyScalePerYear: Double

    public init(fraction: Double, delaySteps: Int, smoothingYears: Double, practice: Int, moneyScalePerYear: Double) {
        self.fraction = fraction
        self.delaySteps = delaySteps
        self.smoothingYears = smoothingYears
        self.practice = practice
        self.moneyScalePerYear = moneyScalePerYear
    }

    /// x = x₀ + (1 − x₀)(1 − exp(−M/M₀)).
    public func intensity(planned x0: Double, moneyPerYear m: Double) -> Double {
        m <= 0 ? x0 : x0 + (1 - x0) * (1 - exp(-m / moneyScalePerYear))
    }

    /// The loop's state through one replication of one arm.
    public struct State: Sendable {
        let settings: Reinvestment
        let stepYears: Double
        /// Savings rates waiting out the delay, oldest first.
        var pipeline: [Double]
        var smoothed = 0.0
        /// Prevention money in the coming step, £ per year.
        public private(set) var moneyPerYear = 0.0

        public init(_ settings: Reinvestment, stepYears: Double) {
            self.settings = settings
            self.stepYears = stepYears
            pipeline = [Double](repeating: 0, count: settings.delaySteps)
        }

        /// Take the savings rate at the end of a step (reference − own cost rate, £ per year).
        public mutating func record(savingsPerYear s: Double) {
            pipeline.append(s)
            let arriving = pipeline.removeFirst()
            if settings.smoothingYears > 0 {
                smoothed += (arriving - smoothed) * min(1, stepYears / settings.smoothingYears)
            } else {
                smoothed = arriving
            }
            moneyPerYear = settings.fraction * max(0, smoothed)
        }
    }
}
