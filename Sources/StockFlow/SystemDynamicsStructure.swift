import Foundation
import Model

/// The aggregate model's `sd` mode as a stock-flow structure: the stocks, their initial values and
/// the constants of the rate equations, built by the same `Runner` that runs the model, so a writer
/// (the XMILE export, docs/xmile.md) states the equations girfec integrates and computes nothing.
///
/// Per (coverage group g, age class c, level i) a stock S; per move i → j with q_ij > 0 a flow
///
/// ```
/// flow_gcij = S_gci · q_ij · (j > i ? red_g · escalation_c : green_g · stepDown_c) · leave_i
/// ```
///
/// with red_g, green_g the practice multipliers of the group's coverage mask (`PracticeSchedule`).
public struct SystemDynamicsStructure: Sendable {
    /// An (area, coverage mask) group and its expected share of the area's children.
    public struct Group: Sendable, Equatable {
        public var area: Int
        public var mask: Int
        public var weight: Double
    }

    /// An age class of the transition multipliers (children do not change class in `sd` mode without ageing).
    public struct AgeClass: Sendable, Equatable {
        public var fromMonths: Int
        public var escalationMultiplier: Double
        public var stepDownMultiplier: Double
    }

    public var groups: [Group]
    public var classes: [AgeClass]
    /// Q = log(P)/dt, rates per year, [from][to]; off-diagonal entries ≥ 0.
    public var generatorPerYear: [[Double]]
    /// Each level's leave multiplier: the stationary mean under duration dependence, 1 without.
    public var leaveMultipliers: [Double]
    /// Initial stocks, [group][class][level].
    public var initialStocks: [[[Double]]]
    /// Intensity of each practice in each step, [step − 1][practice] (`PracticeSchedule.intensity`).
    public var intensityPerStep: [[Double]]
    /// What the `sd` mode approximates relative to the agents, in words.
    public var approximations: [String]
}

extension AggregateModel {
    /// The `sd`-mode structure of an arm whose children do not age (without ageing the age classes
    /// are the bands of the transition multipliers, fixed for each child).
    public static func systemDynamicsStructure(arm: ArmModel) throws(AggregateError) -> SystemDynamicsStructure {
        guard !arm.ageing else {
            throw AggregateError("the sd structure is stated for children who do not age; this arm's children age by month classes at step ends")
        }
        let r = try Runner(arm: arm, options: AggregateOptions(mode: .sd))
        let flat = r.initialStocks()
        let initial = r.groups.indices.map { g in
            (0..<r.classes).map { c in (0..<r.n).map { l in flat[r.index(g, 0, c, l, 0)] } }
        }
        let classes = r.classBand.map { b in
            let band = arm.ageMultipliers[b]
            return SystemDynamicsStructure.AgeClass(fromMonths: band.fromMonths, escalationMultiplier: band.escalationMultiplier,
                                                    stepDownMultiplier: band.stepDownMultiplier)
        }
        return SystemDynamicsStructure(
            groups: r.groups.map { .init(area: $0.area, mask: $0.mask, weight: $0.weight) }, classes: classes,
            generatorPerYear: r.generator ?? [], leaveMultipliers: r.leaveMultiplier, initialStocks: initial,
            intensityPerStep: r.schedule.intensity, approximations: r.approximations)
    }
}
