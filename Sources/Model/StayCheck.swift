/// Finds steps where the modulated leave probabilities of a level exceed 1.
///
/// For level i in step t the engine uses, for a child with coverage mask m,
/// entry step e, age band b and duration band d:
///
/// ```
/// P(red)   = R_i · red(t, m, e)   · escalation_b · leave_{i,d}
/// P(green) = G_i · green(t, m, e) · stepDown_b   · leave_{i,d}
/// P(stay)  = 1 − P(red) − P(green)
/// ```
///
/// with R_i, G_i the baseline sums of escalation and step-down probabilities.
/// This check takes the largest value over every (m, e, b, d) a child could
/// have, so a run that passes can never meet a negative stay probability.
public enum StayCheck {
    public struct Violation: Sendable, CustomStringConvertible {
        public var arm: String
        public var level: String
        public var step: Int
        public var timeYears: Double
        public var escalationMultiplier: Double
        public var stepDownMultiplier: Double
        public var leaveProbability: Double

        public var description: String {
            "in arm '\(arm)', level '\(level)' at step \(step) (year \(String(format: "%.2f", timeYears))): "
                + "escalation multiplier \(fmt(escalationMultiplier)), step-down multiplier \(fmt(stepDownMultiplier)) "
                + "give a leave probability of \(fmt(leaveProbability)), so a stay probability of \(fmt(1 - leaveProbability))"
        }

        private func fmt(_ x: Double) -> String { String(format: "%.6g", x) }
    }

    /// Baseline escalation and step-down sums per level: (R_i, G_i).
    public static func directionSums(_ p: [[Double]]) -> [(red: Double, green: Double)] {
        p.indices.map { i in
            var red = 0.0, green = 0.0
            for j in p[i].indices where j != i {
                if ArmModel.isEscalation(from: i, to: j) { red += p[i][j] } else { green += p[i][j] }
            }
            return (red, green)
        }
    }

    /// The age bands no other band beats in both multipliers: the leave
    /// probability grows with each, so only these can give its largest value.
    static func paretoFront(_ bands: [AgeMultiplier]) -> [AgeMultiplier] {
        let sorted = bands.sorted {
            ($0.escalationMultiplier, $0.stepDownMultiplier) > ($1.escalationMultiplier, $1.stepDownMultiplier)
        }
        var front: [AgeMultiplier] = []
        for band in sorted where front.last.map({ band.stepDownMultiplier > $0.stepDownMultiplier }) ?? true {
            front.append(band)
        }
        return front
    }

    /// The first violating step of each level, if any. A nil `schedule`
    /// means no practice variables: every practice multiplier is 1, and no
    /// table of steps × entry steps is built.
    public static func firstViolations(arm: ArmModel, schedule: PracticeSchedule?) -> [Violation] {
        let sums = directionSums(arm.transitionPerStep)
        let hasEntries = arm.birthsPerYear.contains { $0 > 0 } || arm.immigrationPerYear.contains { $0 > 0 }
        let bands = paretoFront(arm.ageMultipliers)
        var found: [Violation] = []
        for (i, level) in arm.levels.enumerated() where !level.absorbing {
            let leaveMax = arm.durationMultipliers[i].map(\.leaveMultiplier).max() ?? 1
            stepLoop: for t in stride(from: 1, through: arm.steps, by: 1) {
                for mask in 0..<(schedule?.masks ?? 1) {
                    for e in 0..<(hasEntries && schedule != nil ? t : 1) {
                        let m = schedule?.multipliers(step: t, mask: mask, entryStep: e) ?? (red: 1.0, green: 1.0)
                        for band in bands {
                            let esc = m.red * band.escalationMultiplier * leaveMax
                            let down = m.green * band.stepDownMultiplier * leaveMax
                            let leave = sums[i].red * esc + sums[i].green * down
                            if leave > 1 + 1e-12 {
                                found.append(Violation(arm: arm.name, level: level.name, step: t,
                                                       timeYears: Double(t) * arm.stepYears, escalationMultiplier: esc,
                                                       stepDownMultiplier: down, leaveProbability: leave))
                                break stepLoop
                            }
                        }
                    }
                }
            }
        }
        return found
    }

    /// The practice multipliers validation checks: with reinvestment, the
    /// practice it funds at full intensity (the most money can raise it);
    /// nil without practice variables.
    public static func worstCaseSchedule(_ arm: ArmModel) -> PracticeSchedule? {
        guard !arm.practices.isEmpty else { return nil }
        var worstCase = arm
        if let r = arm.reinvestment, r.fraction > 0 { worstCase.practices[r.practice].intensity = Trajectory(constant: 1) }
        return PracticeSchedule(arm: worstCase)
    }

    /// The largest (escalation, step-down) multiplier pairs a child can meet
    /// before the duration multiplier: the Pareto front, over every step,
    /// coverage mask, entry step and age band `firstViolations` visits, of
    /// (practice red × age escalation, practice green × age step-down).
    ///
    /// It depends on the practices, age bands, reinvestment, steps and on
    /// whether children enter, not on the transition matrix: an arm whose
    /// rates change keeps its envelope. The leave probability grows with
    /// both multipliers (R_i, G_i ≥ 0), so some pair of every step exceeds
    /// 1 exactly when a pair of the front does, in floating point too.
    public struct Envelope: Sendable {
        public var pairs: [(red: Double, green: Double)]

        public init(arm: ArmModel) {
            let schedule = StayCheck.worstCaseSchedule(arm)
            let hasEntries = arm.birthsPerYear.contains { $0 > 0 } || arm.immigrationPerYear.contains { $0 > 0 }
            let bands = StayCheck.paretoFront(arm.ageMultipliers)
            guard let schedule else {
                pairs = Self.front(bands.map { (1.0 * $0.escalationMultiplier, 1.0 * $0.stepDownMultiplier) })
                return
            }
            var found: [(red: Double, green: Double)] = []
            for t in stride(from: 1, through: arm.steps, by: 1) {
                for mask in 0..<schedule.masks {
                    for e in 0..<(hasEntries ? t : 1) {
                        let m = schedule.multipliers(step: t, mask: mask, entryStep: e)
                        for band in bands { found.append((m.red * band.escalationMultiplier, m.green * band.stepDownMultiplier)) }
                    }
                }
                found = Self.front(found)
            }
            pairs = found
        }

        /// The pairs no other pair beats in both components.
        static func front(_ pairs: [(red: Double, green: Double)]) -> [(red: Double, green: Double)] {
            var out: [(red: Double, green: Double)] = []
            var bestGreen = -Double.infinity
            for p in pairs.sorted(by: { $0.red != $1.red ? $0.red > $1.red : $0.green > $1.green }) where p.green > bestGreen {
                out.append(p)
                bestGreen = p.green
            }
            return out
        }
    }

    /// The stay probability check of validation (docs/scenario-format.md §9),
    /// for the decoder and for values set by parameters alike: the envelope
    /// decides whether any child can meet a stay probability below 0; only
    /// then are the first violating steps found, by `firstViolations`.
    public static func violations(arm: ArmModel, envelope: Envelope) -> [Violation] {
        let sums = directionSums(arm.transitionPerStep)
        var any = false
        for i in arm.levels.indices where !arm.levels[i].absorbing && !any {
            let bands = arm.durationMultipliers[i]
            let leaveMax = bands.isEmpty ? 1 : bands.reduce(-Double.infinity) { max($0, $1.leaveMultiplier) }
            for p in envelope.pairs where sums[i].red * (p.red * leaveMax) + sums[i].green * (p.green * leaveMax) > 1 + 1e-12 {
                any = true
                break
            }
        }
        guard any else { return [] }
        return firstViolations(arm: arm, schedule: worstCaseSchedule(arm))
    }
}
