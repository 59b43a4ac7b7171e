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
    /// Age bands of the age multipliers (at least one).
    let ageBandCount: Int
    /// Largest `fromMonths` of any duration band: months in level from which the band no longer changes.
    let durationCap: Int
    /// Duration bands of the level with the most (at least one).
    let durationBandsMax: Int
    /// Out-migration probability per step: 1 − exp(−rate·dt).
    let emigrationPerStep: Double
    /// For each area and practice: the share of children it reaches (−1 if it does not reach the area).
    let coverageShare: [[Double]]
    let ageCumulative: [Double]
    /// Per band of the age distribution: its first month, and its width in months as a Double.
    let ageFromMonths: [Int]
    let ageSpanMonths: [Double]
    /// The tables read per child-step.
    let lookup: Lookup
    /// The tables of the general path, for rows with transition-specific dependence (nil without).
    let dependence: DependenceTables?
    /// Per level, the months already spent there by an initial child, where they are drawn
    /// (`initialDurations: stationary`, a level that is not absorbing); nil elsewhere.
    let stationaryMonths: [StationaryMonths?]

    /// The tables the engine reads per child-step, in storage allocated here
    /// and freed in `deinit`, so that the engine can read them through plain
    /// pointers while it holds the `ArmTables` value. Written only in `init`,
    /// read-only afterwards: safe to share between threads.
    ///
    /// The index bounds the engine relies on hold by construction (see `ArmTables.init`):
    /// every entry of `redTargets` and `greenTargets` is a level (< `levelCount`), every
    /// entry of `ageBandOfMonth` is < `ageBandCount`, every entry of `durationBand` is
    /// < `durationBandsMax`.
    final class Lookup: @unchecked Sendable {
        /// Conditional destinations of an escalation (resp. step-down) from each
        /// level: targets and cumulative conditional probabilities, [level · levelCount + k].
        let redTargets: UnsafeBufferPointer<UInt8>, redCumulative: UnsafeBufferPointer<Double>
        let greenTargets: UnsafeBufferPointer<UInt8>, greenCumulative: UnsafeBufferPointer<Double>
        /// Per level.
        let absorbing: UnsafeBufferPointer<Bool>
        /// Age band of each age in months (ages past the end use the last entry).
        let ageBandOfMonth: UnsafeBufferPointer<UInt8>
        /// Duration band per level and month in level: [level · (durationCap + 1) + months].
        let durationBand: UnsafeBufferPointer<UInt8>
        /// R_i · escalation_b · leave_{i,d} and G_i · stepDown_b · leave_{i,d} at
        /// [(level · ageBands + ageBand) · durationBandsMax + durationBand]: the
        /// leave probabilities before practice multipliers.
        let baseRed: UnsafeBufferPointer<Double>
        let baseGreen: UnsafeBufferPointer<Double>
        /// Where the move i → j is counted in a block of `StepCounts`, at [i · n + j]: its index in
        /// `RecordLayout.moves` (0 for a pair that cannot happen, which no engine counts).
        let moveSlot: UnsafeBufferPointer<Int32>

        init(redTargets: [UInt8], redCumulative: [Double], greenTargets: [UInt8], greenCumulative: [Double],
             absorbing: [Bool], ageBandOfMonth: [UInt8], durationBand: [UInt8], baseRed: [Double], baseGreen: [Double],
             moveSlot: [Int32]) {
            self.redTargets = Self.copy(redTargets); self.redCumulative = Self.copy(redCumulative)
            self.greenTargets = Self.copy(greenTargets); self.greenCumulative = Self.copy(greenCumulative)
            self.absorbing = Self.copy(absorbing); self.ageBandOfMonth = Self.copy(ageBandOfMonth)
            self.durationBand = Self.copy(durationBand)
            self.baseRed = Self.copy(baseRed); self.baseGreen = Self.copy(baseGreen)
            self.moveSlot = Self.copy(moveSlot)
        }

        deinit {
            redTargets.deallocate(); redCumulative.deallocate(); greenTargets.deallocate(); greenCumulative.deallocate()
            absorbing.deallocate(); ageBandOfMonth.deallocate(); durationBand.deallocate()
            baseRed.deallocate(); baseGreen.deallocate(); moveSlot.deallocate()
        }

        private static func copy<T>(_ values: [T]) -> UnsafeBufferPointer<T> {
            let buffer = UnsafeMutableBufferPointer<T>.allocate(capacity: values.count)
            _ = buffer.initialize(from: values)
            return UnsafeBufferPointer(buffer)
        }
    }

    public init(arm: ArmModel) {
        self.arm = arm
        schedule = PracticeSchedule(arm: arm)
        layout = RecordLayout(arm: arm)
        let n = arm.levels.count
        levelCount = n
        // What the engine's unchecked accesses rely on beyond the tables built below. The
        // scenario decoder guarantees all of it; an arm built by hand must too.
        precondition(n >= 1 && n <= 250, "an arm needs 1 to 250 levels, not \(n)")
        precondition(arm.initialCounts.allSatisfy { $0.count == n }, "initial counts need one entry per level")
        precondition(arm.durationMultipliers.count == n, "duration multipliers need one list per level")
        precondition(!arm.ageMultipliers.isEmpty, "age multipliers need at least one band")
        precondition(arm.practices.count <= 8, "coverage masks hold at most 8 practices")
        precondition(arm.steps >= 0 && arm.steps <= 60_000, "entry steps are stored in 16 bits")
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

        let maxAge = (arm.ageOutMonths ?? (arm.ageDistribution.map(\.toMonths).max() ?? 0) + arm.steps * arm.stepMonths) + 1
        let bands = arm.ageMultipliers
        // lastIndex is an index of `bands`, so every entry is < bands.count = ageBandCount.
        let ageBandOfMonth = (0...min(maxAge, Int(UInt16.max))).map { m in
            UInt8(bands.lastIndex { $0.fromMonths <= m } ?? 0)
        }
        ageBandCount = bands.count

        let cap = (arm.durationMultipliers.flatMap { $0.map(\.fromMonths) }.max() ?? 0)
        durationCap = cap
        let bandsMax = max(1, arm.durationMultipliers.map(\.count).max() ?? 1)
        durationBandsMax = bandsMax
        var db = [UInt8](repeating: 0, count: n * (cap + 1))
        var lm = [Double](repeating: 1, count: n * bandsMax)
        for l in 0..<n {
            let list = arm.durationMultipliers[l]
            for (b, band) in list.enumerated() { lm[l * bandsMax + b] = band.leaveMultiplier }
            // An index of `list` (or 0), so < max(1, list.count) <= bandsMax.
            for m in 0...cap { db[l * (cap + 1) + m] = UInt8(list.lastIndex { $0.fromMonths <= m } ?? 0) }
        }
        var br: [Double] = [], bg: [Double] = []
        for l in 0..<n {
            for b in bands.indices {
                for d in 0..<bandsMax {
                    br.append(redSum[l] * bands[b].escalationMultiplier * lm[l * bandsMax + d])
                    bg.append(greenSum[l] * bands[b].stepDownMultiplier * lm[l * bandsMax + d])
                }
            }
        }
        dependence = arm.dependence.isEmpty ? nil : DependenceTables(arm: arm, escalation: bands.map(\.escalationMultiplier),
                                                                     stepDown: bands.map(\.stepDownMultiplier), leave: lm, bandsMax: bandsMax)
        // Every move the engines can make is recorded (`PossibleMoves`: every P > 0 and every move a dependence opens): its slot is its index.
        var slots = [Int32](repeating: 0, count: n * n)
        for (k, m) in layout.moves.enumerated() { slots[m.from * n + m.to] = Int32(k) }
        let opened = arm.dependence.filter(\.replaces).flatMap { d in d.from.map { Move(from: $0, to: d.to) } }
        let positive = (0..<n).flatMap { i in (0..<n).compactMap { j in i != j && arm.transitionPerStep[i][j] > 0 ? Move(from: i, to: j) : nil } }
        for m in positive + opened where layout.moveNumber(from: m.from, to: m.to) == nil {
            preconditionFailure("arm '\(arm.name)': the move \(arm.levels[m.from].name) → \(arm.levels[m.to].name) can happen but is not among the recorded moves (ArmModel.possibleMoves)")
        }
        lookup = Lookup(redTargets: rt, redCumulative: rc, greenTargets: gt, greenCumulative: gc,
                        absorbing: arm.levels.map(\.absorbing), ageBandOfMonth: ageBandOfMonth, durationBand: db,
                        baseRed: br, baseGreen: bg, moveSlot: slots)
        emigrationPerStep = 1 - exp(-arm.emigrationRatePerYear * arm.stepYears)
        coverageShare = arm.areas.indices.map { a in
            arm.practices.map { $0.areas.contains(a) ? $0.share : -1 }
        }
        var acc = 0.0
        ageCumulative = arm.ageDistribution.map { acc += $0.share; return acc }
        ageFromMonths = arm.ageDistribution.map(\.fromMonths)
        ageSpanMonths = arm.ageDistribution.map { Double($0.toMonths - $0.fromMonths) }
        stationaryMonths = arm.levels.indices.map { l in
            arm.initialDurations == .stationary && !arm.levels[l].absorbing ? StationaryMonths(StationaryStay(arm: arm, level: l)) : nil
        }
    }
}

/// What both engines read for a row with transition-specific dependence
/// (`TransitionDependence.Combiner`): the baseline per-step row, the age and duration multipliers
/// that form a child's row before dependence, and which rows are touched; `formRow` and
/// `destination` are the one way a touched row is formed and read. Written only in `init`,
/// read-only afterwards: safe to share between threads.
final class DependenceTables: @unchecked Sendable {
    let combiner: TransitionDependence.Combiner
    /// Per level: whether its row is touched.
    let touched: UnsafeBufferPointer<Bool>
    /// The baseline per-step probabilities, [from · n + to].
    let perStep: UnsafeBufferPointer<Double>
    /// Escalation and step-down multipliers per age band.
    let escalation: UnsafeBufferPointer<Double>
    let stepDown: UnsafeBufferPointer<Double>
    /// Leave multiplier per level and duration band, [level · bandsMax + band].
    let leave: UnsafeBufferPointer<Double>
    let levelCount: Int
    let bandsMax: Int

    init(arm: ArmModel, escalation: [Double], stepDown: [Double], leave: [Double], bandsMax: Int) {
        combiner = TransitionDependence.Combiner(arm: arm)
        levelCount = arm.levels.count
        self.bandsMax = bandsMax
        touched = Self.copy(combiner.touched)
        perStep = Self.copy(arm.transitionPerStep.flatMap { $0 })
        self.escalation = Self.copy(escalation)
        self.stepDown = Self.copy(stepDown)
        self.leave = Self.copy(leave)
    }

    /// The combined row of a child in level `from` into `row` (n values, 0 at `from`): p_ij = P_ij ·
    /// (practice · age · duration multiplier of the move's direction), combined as competing risks at
    /// its age, the step's start time and its months in the level.
    ///
    /// - Precondition: from < n, ageBand and durationBand within the tables, the row's leave probability ≤ 1 + 1e-12
    ///   (checked by the caller: the step engine per child, the event engine's bounds per arm).
    func formRow(from: Int, red: Double, green: Double, ageBand: Int, durationBand: Int, ageYears: Double, timeYears: Double,
                 sojournMonths: Double, into row: UnsafeMutableBufferPointer<Double>) {
        let n = levelCount
        let durationFactor = leave[from &* bandsMax &+ durationBand]
        let up = red * escalation[ageBand] * durationFactor
        let down = green * stepDown[ageBand] * durationFactor
        let perStep = perStep.baseAddress.unsafelyUnwrapped
        for j in 0..<n { row[j] = j == from ? 0 : perStep[from &* n &+ j] * (j > from ? up : down) }
        _ = combiner.combine(level: from, row: row, ageYears: ageYears, timeYears: timeYears, sojournMonths: sojournMonths)
    }

    /// Where u (uniform on [0, 1)) sends a child by its combined `row`: the first j ≠ from (in level
    /// order) with u < row_0 + … + row_j, or nil (it stays).
    @inline(__always)
    func destination(_ u: Double, from: Int, row: UnsafeMutableBufferPointer<Double>) -> Int? {
        var acc = 0.0
        for j in 0..<levelCount where j != from {
            acc += row[j]
            if u < acc { return j }
        }
        return nil
    }

    deinit {
        touched.deallocate(); perStep.deallocate(); escalation.deallocate(); stepDown.deallocate(); leave.deallocate()
    }

    private static func copy<T>(_ values: [T]) -> UnsafeBufferPointer<T> {
        let buffer = UnsafeMutableBufferPointer<T>.allocate(capacity: max(values.count, 1))
        _ = buffer.initialize(from: values)
        return UnsafeBufferPointer(buffer)
    }
}
