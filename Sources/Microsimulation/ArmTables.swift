import Foundation
import Model

/// Everything the engine looks up per child-step, precomputed once per arm
/// and shared read-only by every worker.
public struct ArmTables: Sendable {
    public let arm: ArmModel
    public let schedule: PracticeSchedule
    public let layout: RecordLayout
    let levelCount: Int
    /// Baseline escalation and step-down probability per step, per level.
    let redSum: [Double]
    let greenSum: [Double]
    /// Conditional destinations of an escalation (resp. step-down) from each
    /// level: targets and cumulative conditional probabilities, `levelCount` wide.
    let redTargets: [UInt8], redCumulative: [Double]
    let greenTargets: [UInt8], greenCumulative: [Double]
    let absorbing: [Bool]
    /// Age band of each age in months (ages past the end use the last entry).
    let ageBandOfMonth: [UInt8]
    let escalationByAgeBand: [Double]
    let stepDownByAgeBand: [Double]
    /// Duration band per level and month in level: [level * (durationCap + 1) + months].
    let durationBand: [UInt8]
    let durationCap: Int
    /// Leave multiplier per level and band: [level * durationBandsMax + band].
    let leaveMultiplier: [Double]
    let durationBandsMax: Int
    /// R_i · escalation_b · leave_{i,d} and G_i · stepDown_b · leave_{i,d} at
    /// [(level · ageBands + ageBand) · durationBandsMax + durationBand]: the
    /// leave probabilities before practice multipliers.
    let baseRed: [Double]
    let baseGreen: [Double]
    /// Out-migration probability per step: 1 − exp(−rate·dt).
    let emigrationPerStep: Double
    /// For each area and practice: the share of children it reaches (−1 if it does not reach the area).
    let coverageShare: [[Double]]
    let ageCumulative: [Double]

    public init(arm: ArmModel) {
        self.arm = arm
        schedule = PracticeSchedule(arm: arm)
        layout = RecordLayout(levelCount: arm.levels.count, steps: arm.steps)
        let n = arm.levels.count
        levelCount = n
        let sums = StayCheck.directionSums(arm.transitionPerStep)
        redSum = sums.map(\.red)
        greenSum = sums.map(\.green)
        var rt = [UInt8](repeating: 0, count: n * n), rc = [Double](repeating: 1, count: n * n)
        var gt = [UInt8](repeating: 0, count: n * n), gc = [Double](repeating: 1, count: n * n)
        for i in 0..<n {
            var r = 0, g = 0, rAcc = 0.0, gAcc = 0.0
            for j in 0..<n where j != i {
                let p = arm.transitionPerStep[i][j]
                guard p > 0 else { continue }
                if ArmModel.isEscalation(from: i, to: j) {
                    rAcc += p / redSum[i]; rt[i * n + r] = UInt8(j); rc[i * n + r] = rAcc; r += 1
                } else {
                    gAcc += p / greenSum[i]; gt[i * n + g] = UInt8(j); gc[i * n + g] = gAcc; g += 1
                }
            }
            // The last destination takes whatever rounding left.
            if r > 0 { rc[i * n + r - 1] = 1; for k in r..<n { rt[i * n + k] = rt[i * n + r - 1] } }
            if g > 0 { gc[i * n + g - 1] = 1; for k in g..<n { gt[i * n + k] = gt[i * n + g - 1] } }
        }
        redTargets = rt; redCumulative = rc; greenTargets = gt; greenCumulative = gc
        absorbing = arm.levels.map(\.absorbing)

        let maxAge = (arm.ageOutMonths ?? (arm.ageDistribution.map(\.toMonths).max() ?? 0) + arm.steps * arm.stepMonths) + 1
        let bands = arm.ageMultipliers
        ageBandOfMonth = (0...min(maxAge, Int(UInt16.max))).map { m in
            UInt8(bands.lastIndex { $0.fromMonths <= m } ?? 0)
        }
        escalationByAgeBand = bands.map(\.escalationMultiplier)
        stepDownByAgeBand = bands.map(\.stepDownMultiplier)

        let cap = (arm.durationMultipliers.flatMap { $0.map(\.fromMonths) }.max() ?? 0)
        durationCap = cap
        let bandsMax = max(1, arm.durationMultipliers.map(\.count).max() ?? 1)
        durationBandsMax = bandsMax
        var db = [UInt8](repeating: 0, count: n * (cap + 1))
        var lm = [Double](repeating: 1, count: n * bandsMax)
        for l in 0..<n {
            let list = arm.durationMultipliers[l]
            for (b, band) in list.enumerated() { lm[l * bandsMax + b] = band.leaveMultiplier }
            for m in 0...cap { db[l * (cap + 1) + m] = UInt8(list.lastIndex { $0.fromMonths <= m } ?? 0) }
        }
        durationBand = db
        leaveMultiplier = lm
        var br: [Double] = [], bg: [Double] = []
        for l in 0..<n {
            for b in bands.indices {
                for d in 0..<bandsMax {
                    br.append(redSum[l] * bands[b].escalationMultiplier * lm[l * bandsMax + d])
                    bg.append(greenSum[l] * bands[b].stepDownMultiplier * lm[l * bandsMax + d])
                }
            }
        }
        baseRed = br
        baseGreen = bg
        emigrationPerStep = 1 - exp(-arm.emigrationRatePerYear * arm.stepYears)
        coverageShare = arm.areas.indices.map { a in
            arm.practices.map { $0.areas.contains(a) ? $0.share : -1 }
        }
        var acc = 0.0
        ageCumulative = arm.ageDistribution.map { acc += $0.share; return acc }
    }
}
