import Foundation

/// How long children present at the start have already been in their level.
public enum InitialDurations: String, Sendable, CaseIterable {
    /// Everyone starts at 0 months (a freshly assembled cohort). The default.
    case zero
    /// Drawn from the level's stationary distribution of time already spent
    /// there (`StationaryStay`): a population that has been running a while.
    case stationary
}

/// The distribution of time already spent in a level by the children in it,
/// at equilibrium under the baseline leave probability and the level's
/// duration multipliers.
///
/// With q the baseline chance of leaving per step and m(d) the multiplier
/// after d months, the chance of still being there after j steps is
/// S_j = Π_{i<j} (1 − q·m(i·dt)), and at equilibrium the share of children
/// with elapsed time j steps is S_j / Σ_k S_k — the backward recurrence time
/// of a renewal process (Cox 1962, *Renewal Theory*, ch. 5). Beyond the last
/// duration band the leave chance is constant, so the tail is geometric.
public struct StationaryStay: Sendable {
    public let stepMonths: Int
    /// S_j for the steps before the last band starts.
    public let head: [Double]
    /// Chance of leaving per step from the last band on.
    public let tailLeave: Double
    /// log(1 − tailLeave), taken once rather than per draw (0 where the tail is not drawn).
    @usableFromInline let logTailStay: Double
    /// Survival to the start of the tail, S_J.
    public let tailSurvival: Double
    /// Σ S_j over head and tail.
    public let total: Double
    /// m̄ = Σ_j S_j m(j·dt) / Σ_j S_j: the constant multiplier with the same mean stay.
    public let meanLeaveMultiplier: Double

    public init(arm: ArmModel, level l: Int) {
        stepMonths = arm.stepMonths
        let bands = arm.durationMultipliers[l]
        let q = 1 - arm.transitionPerStep[l][l]
        func m(_ months: Int) -> Double { bands.last { $0.fromMonths <= months }?.leaveMultiplier ?? 1 }
        let cap = bands.map(\.fromMonths).max() ?? 0
        var survival = 1.0, months = 0, weighted = 0.0
        var head: [Double] = []
        while months < cap {
            head.append(survival)
            weighted += survival * m(months)
            survival *= max(0, 1 - q * m(months))
            months += arm.stepMonths
        }
        self.head = head
        tailSurvival = survival
        tailLeave = min(1, q * m(cap))
        logTailStay = tailLeave > 0 && tailLeave < 1 ? log(1 - tailLeave) : 0
        let tail = tailLeave > 0 ? survival / tailLeave : 0
        total = head.reduce(0, +) + tail
        meanLeaveMultiplier = total > 0 ? (weighted + tail * m(cap)) / total : 1
    }

    /// Months already spent, by inversion of one uniform `u` in [0, 1), and `v`
    /// in (0, 1) for the geometric tail. Capped at 65,535 months.
    /// Inlinable, so that a caller reading it in place need not copy it first.
    @inlinable
    public func months(u: Double, v: Double) -> Int {
        guard total > 0 else { return 0 }
        var target = u * total
        for (j, s) in head.enumerated() {
            if target < s { return j * stepMonths }
            target -= s
        }
        guard tailLeave > 0, tailLeave < 1 else { return head.count * stepMonths }
        let extra = floor(log(v) / logTailStay)
        return min(65_535, head.count * stepMonths + Int(min(extra, 65_535)) * stepMonths)
    }
}
