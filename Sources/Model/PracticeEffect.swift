import Foundation

/// How exposure to a practice turns into its effect on one child.
///
/// The engine only calls `strength`; a model states another effect function
/// by conforming a type and registering it in `PracticeEffects.named`,
/// without touching the engine.
public protocol PracticeEffectFunction: Sendable {
    /// The name used in scenario files (`effectFunction:`).
    var name: String { get }
    /// Effect strength s in [0, 1] for intensity `x` in [0, 1] and cumulative
    /// exposure `exposureYears` (the integral of x over covered time).
    ///
    /// Must be non-decreasing in `exposureYears` and at most `x`: the validator
    /// relies on both to find the largest multipliers a run can reach.
    func strength(intensity x: Double, exposureYears: Double, timeToEffectYears tau: Double) -> Double
}

/// The cumulative, saturating effect (docs/methods.md §4):
///
/// ```
/// s = x · (1 − exp(−E / τ))
/// ```
///
/// After E = τ years of full-intensity exposure, 63 % of the effect is there;
/// after 3τ, 95 %.
public struct SaturatingEffect: PracticeEffectFunction {
    public init() {}
    public var name: String { "saturating" }
    public func strength(intensity x: Double, exposureYears: Double, timeToEffectYears tau: Double) -> Double {
        tau <= 0 ? x : x * (1 - exp(-exposureYears / tau))
    }
}

/// Effect that grows linearly with exposure and is complete at E = τ: s = x · min(E/τ, 1).
public struct LinearEffect: PracticeEffectFunction {
    public init() {}
    public var name: String { "linear" }
    public func strength(intensity x: Double, exposureYears: Double, timeToEffectYears tau: Double) -> Double {
        tau <= 0 ? x : x * min(exposureYears / tau, 1)
    }
}

/// Effect that is complete as soon as a child is covered: s = x (no learning time).
public struct ImmediateEffect: PracticeEffectFunction {
    public init() {}
    public var name: String { "immediate" }
    public func strength(intensity x: Double, exposureYears: Double, timeToEffectYears tau: Double) -> Double { x }
}

/// The effect functions a scenario can name.
public enum PracticeEffects {
    public static let named: [String: any PracticeEffectFunction] = [
        "saturating": SaturatingEffect(), "linear": LinearEffect(), "immediate": ImmediateEffect(),
    ]
}

/// When the exposure a step adds starts to act (docs/methods.md §4, "When exposure acts").
///
/// With C_k(t) = Σ_{u ≤ t} x_k(u)·dt the exposure accumulated to the end of step t, the
/// effect in step t uses
///
/// ```
/// includingStep:  E = C_k(t)     − C_k(e)     (the step's own exposure acts at once)
/// beforeStep:     E = C_k(t − 1) − C_k(e)     (only exposure accumulated before the step)
/// ```
///
/// `beforeStep` is how a system-dynamics tool computes it: exposure is a stock, and an
/// auxiliary read during a DT sees the stock's value at the start of that DT (Sterman 2000,
/// *Business Dynamics*, §6.2 and appendix on numerical integration: stocks change only
/// through flows, integrated from the state at the start of each DT). In `sd` mode of the
/// aggregate model, `beforeStep` also lets exposure grow within the step, so each integrator
/// stage sees the exposure at its own time (`AggregateModel`).
public enum ExposureTiming: String, Sendable, CaseIterable {
    /// The effect in step t includes the step's own exposure x(t)·dt (the default).
    case includingStep
    /// The effect in step t uses only the exposure accumulated before the step.
    case beforeStep

    /// The last step whose exposure acts in step t: t, or t − 1 with `beforeStep`.
    @inlinable public func lastActingStep(_ t: Int) -> Int { self == .includingStep ? t : t - 1 }

    /// The exposure acting in a step: `before` (accumulated since entry to the start of the
    /// step) plus, with `includingStep`, `thisStep` = x(t)·dt.
    @inlinable public func actingExposureYears(before: Double, thisStep: Double) -> Double {
        self == .includingStep ? before + thisStep : before
    }
}

/// The transition multipliers practice produces at every step, for every
/// coverage pattern and entry step, computed once per arm.
///
/// A child covered by the practices in `mask` who entered at step `e` has, in
/// step t, exposure E_k = C_k(t) − C_k(e) to each practice k in the mask, with
/// C_k(t) = Σ_{u ≤ t} x_k(u)·dt and x_k(u) the intensity at the middle of
/// step u. Then
///
/// ```
/// s_k   = f_k(x_k(t), E_k, τ_k)
/// red   = Π_k (1 − a_k·s_k)      green = Π_k (1 + b_k·s_k)
/// ```
///
/// Children of one (mask, entry step) share their exposure, so the table is
/// exact, and the engine pays one lookup per child-step instead of an `exp`.
public struct PracticeSchedule: Sendable {
    public let steps: Int
    public let masks: Int
    /// (red, green) at [(step − 1) · masks · (steps + 1) + mask · (steps + 1) + entryStep].
    public let multipliers: [Double]
    /// Intensity of each practice at the middle of each step, [step - 1][practice].
    public let intensity: [[Double]]

    public init(arm: ArmModel) {
        let k = arm.practices.count
        steps = arm.steps
        masks = 1 << k
        let dt = arm.stepYears
        var x = [[Double]](repeating: [Double](repeating: 0, count: k), count: steps)
        var cumulative = [[Double]](repeating: [Double](repeating: 0, count: k), count: steps + 1)
        for t in stride(from: 1, through: steps, by: 1) {
            let mid = (Double(t) - 0.5) * dt
            for p in 0..<k {
                x[t - 1][p] = arm.practices[p].intensity.value(at: mid)
                cumulative[t][p] = cumulative[t - 1][p] + x[t - 1][p] * dt
            }
        }
        intensity = x
        let cohorts = steps + 1
        let (stepCount, maskCount) = (steps, masks)
        var table = [Double](repeating: 1, count: 2 * stepCount * maskCount * cohorts)
        table.withUnsafeMutableBufferPointer { buffer in
            for t in stride(from: 1, through: stepCount, by: 1) {
                let row = UnsafeMutableBufferPointer(rebasing: buffer[2 * (t - 1) * maskCount * cohorts ..< 2 * t * maskCount * cohorts])
                Self.fillStep(t, practices: arm.practices, intensity: x[t - 1], cumulative: cumulative, cohorts: cohorts,
                              timing: arm.exposureTiming, into: row)
            }
        }
        multipliers = table
    }

    /// One step's (red, green) multipliers for every mask and entry step:
    /// `row[2 · (mask · cohorts + e)]` and the next. Entry steps from t on are
    /// not filled (no such child is present in step t).
    ///
    /// - Parameters:
    ///   - intensity: x_k in this step.
    ///   - cumulative: C_k(u) for u = 0 ... t, exposure accumulated to the end of step u.
    ///   - timing: whether step t's own exposure acts in step t (`ExposureTiming`).
    public static func fillStep(_ t: Int, practices: [Practice], intensity x: [Double], cumulative: [[Double]],
                                cohorts: Int, timing: ExposureTiming, into row: UnsafeMutableBufferPointer<Double>) {
        let k = practices.count
        let masks = 1 << k
        var strength = [Double](repeating: 0, count: k)
        for e in 0..<t {  // entry steps that can be present in step t
            for p in 0..<k {
                let practice = practices[p]
                let exposure = cumulative[timing.lastActingStep(t)][p] - cumulative[e][p]
                strength[p] = practice.effect.strength(
                    intensity: x[p], exposureYears: exposure,
                    timeToEffectYears: practice.timeToEffectYears)
            }
            for mask in 0..<masks {
                var red = 1.0, green = 1.0
                for p in 0..<k where mask & (1 << p) != 0 {
                    red *= 1 - practices[p].escalationEffect * strength[p]
                    green *= 1 + practices[p].stepDownEffect * strength[p]
                }
                let i = 2 * (mask * cohorts + e)
                row[i] = red
                row[i + 1] = green
            }
        }
    }

    /// (red, green) multipliers in `step` (1-based) for coverage `mask` and entry step `entryStep`.
    public func multipliers(step: Int, mask: Int, entryStep: Int) -> (red: Double, green: Double) {
        let i = 2 * (((step - 1) * masks + mask) * (steps + 1) + entryStep)
        return (multipliers[i], multipliers[i + 1])
    }
}
