import CGSL
import Model
import Stochastics

/// What one step's moves, exits, entries, ended stays and changes in children reached add up to,
/// per area and level: one block of `StepCounts` per area.
///
/// One allocation, zeroed at the start of each step and freed with the tally (not copyable, so it
/// has exactly one owner).
struct StepTally: ~Copyable {
    let shape: StepCounts
    let areaCount: Int
    /// `shape.size`: the counts of one area.
    let blockSize: Int
    /// Area a's counts at [a · blockSize ..< (a + 1) · blockSize] (`StepCounts`).
    let counts: UnsafeMutableBufferPointer<Int>

    init(_ shape: StepCounts, areas: Int) {
        self.shape = shape
        areaCount = max(areas, 1)
        blockSize = shape.size
        counts = .allocate(capacity: areaCount * blockSize)
        counts.initialize(repeating: 0)
    }

    deinit { counts.deallocate() }

    func reset() { counts.update(repeating: 0) }
}

/// Transitions, ageing and exits of every child present in one step
/// (steps 1–3 of `Engine`), over raw pointers to the arm's tables.
///
/// Holds no references but the read-only `DependenceTables` of rows with transition-specific
/// dependence (nil without any): `Engine.run` keeps the `ArmTables` it was made from,
/// and so the storage its pointers address, alive for the whole replication.
/// Every unchecked access below is in bounds by construction; each says why.
/// The invariants it relies on:
/// - a child's level is < n: levels are written only from 0 ..< n (initial
///   children and entries) or from `redTargets`/`greenTargets`, whose entries are levels;
/// - a child's coverage mask is < `masks` = 2^practices (one bit per practice);
/// - a child present in step t entered at a step ≤ t − 1 < `cohorts` = steps + 1;
/// - a move's destination has P > 0 or is opened by a dependence, so the move is recorded and its `moveSlot` is < the moves of the block;
/// - `ArmTables` sizes: `absorbing` n, targets, cumulatives and `moveSlot` n·n,
///   `ageBandOfMonth` ageBandTop + 1, `durationBand` n·(durationCap + 1), `baseRed`
///   and `baseGreen` n·ageBands·durationBands, with band entries below their counts;
/// - a child's area is < `areaCount`, the tally's blocks (areas are written only from 0 ..< areas).
/// The index arithmetic uses wrapping operators (`&+`, `&*`): every index is
/// below the size of a table that exists in memory, so no intermediate value
/// comes near `Int.max`.
struct StepKernel {
    let levelCount: Int
    let ageBands: Int
    let durationBands: Int
    let durationCap: Int
    let ageBandTop: Int
    let cohorts: Int
    let areaCount: Int
    let absorbing: UnsafePointer<Bool>
    let redTargets: UnsafePointer<UInt8>, redCumulative: UnsafePointer<Double>
    let greenTargets: UnsafePointer<UInt8>, greenCumulative: UnsafePointer<Double>
    let ageBandOfMonth: UnsafePointer<UInt8>
    let durationBand: UnsafePointer<UInt8>
    let baseRed: UnsafePointer<Double>, baseGreen: UnsafePointer<Double>
    /// The counts' index of each move (`ArmTables.Lookup.moveSlot`).
    let moveSlot: UnsafePointer<Int32>
    /// The recorded moves (`RecordLayout.moves`): every `moveSlot` of a move is below it.
    let moveCount: Int
    let stepMonths: UInt16
    /// Ages and months in level at or above this stop growing (UInt16.max − stepMonths).
    let growthLimit: UInt16
    let ageOutMonths: UInt16
    let hasAgeOut: Bool
    let ageing: Bool
    let emigrationPerStep: Double
    /// The stream (childStep, child id) of this replication: Philox key and counter words 2 and 3.
    let key: (UInt32, UInt32)
    let replication: UInt32
    let purposeWord: UInt32
    /// The general path for rows with transition-specific dependence (nil without any).
    let dependence: DependenceTables?
    let stepYears: Double

    /// A child whose modulated leave probability went above 1.
    struct Violation {
        var level: Int
        var red: Double
        var green: Double
    }

    init(tables: ArmTables, childSteps address: StreamAddress) {
        let arm = tables.arm
        let lookup = tables.lookup
        levelCount = tables.levelCount
        ageBands = tables.ageBandCount
        durationBands = tables.durationBandsMax
        durationCap = tables.durationCap
        ageBandTop = lookup.ageBandOfMonth.count - 1
        cohorts = arm.steps + 1
        areaCount = max(arm.areas.count, 1)
        // Every table has at least one element (n ≥ 1, at least one age and one duration band), so
        // each base address exists.
        absorbing = lookup.absorbing.baseAddress!
        redTargets = lookup.redTargets.baseAddress!; redCumulative = lookup.redCumulative.baseAddress!
        greenTargets = lookup.greenTargets.baseAddress!; greenCumulative = lookup.greenCumulative.baseAddress!
        ageBandOfMonth = lookup.ageBandOfMonth.baseAddress!
        durationBand = lookup.durationBand.baseAddress!
        baseRed = lookup.baseRed.baseAddress!; baseGreen = lookup.baseGreen.baseAddress!
        moveSlot = lookup.moveSlot.baseAddress!
        moveCount = tables.layout.moves.count
        precondition(lookup.baseRed.count == levelCount * ageBands * durationBands
                     && lookup.durationBand.count == levelCount * (durationCap + 1)
                     && lookup.redTargets.count == levelCount * levelCount
                     && lookup.moveSlot.count == levelCount * levelCount, "engine tables of inconsistent sizes")
        stepMonths = UInt16(arm.stepMonths)
        growthLimit = UInt16.max - stepMonths
        ageOutMonths = arm.ageOutMonths.map { UInt16(clamping: $0) } ?? UInt16.max
        hasAgeOut = arm.ageOutMonths != nil
        ageing = arm.ageing
        emigrationPerStep = tables.emigrationPerStep
        key = address.key
        replication = address.replication
        purposeWord = address.purposeWord
        dependence = tables.dependence
        stepYears = arm.stepYears
        if let d = tables.dependence {
            precondition(d.touched.count == levelCount && d.perStep.count == levelCount * levelCount
                         && d.escalation.count == ageBands && d.leave.count == levelCount * durationBands,
                         "dependence tables of inconsistent sizes")
        }
    }

    /// Moves, ages and removes the children of step `t`; children who leave the
    /// system are removed from `children`, their place taken by the last child.
    ///
    /// - Parameters:
    ///   - multipliers: step t's (red, green) practice multipliers, at
    ///     `2 · (mask · cohorts + entryStep)` and the next; 2 · masks · cohorts values.
    /// What each child does is counted in its area's block of `tally`, with the children reached by
    /// practice who left it (exit, or an absorbing level) as a negative change in children reached.
    /// - Returns: nil, or the first child whose leave probability exceeds 1 (the step is then abandoned).
    func advance(_ children: inout Population.Columns, step t: Int, multipliers: UnsafePointer<Double>,
                 tally: borrowing StepTally) -> Violation? {
        // Checked once per step: the tally's blocks are this arm's size.
        precondition(tally.shape.levels == levelCount && tally.shape.moves == moveCount && tally.areaCount == areaCount,
                     "step tally of another arm")
        // One copy of the loop per parity of t, so the choice of Philox words is not re-tested per child.
        return t % 2 == 1 ? sweep(&children, step: t, odd: true, multipliers: multipliers, tally: tally)
                          : sweep(&children, step: t, odd: false, multipliers: multipliers, tally: tally)
    }

    /// `advance` for a step of the given parity (`odd` = t is odd).
    @inline(__always)
    private func sweep(_ children: inout Population.Columns, step t: Int, odd: Bool, multipliers: UnsafePointer<Double>,
                       tally: borrowing StepTally) -> Violation? {
        // Everything the loop reads but never changes, in locals, so nothing is reloaded per child.
        let n = levelCount, lastTarget = levelCount &- 1
        let ageBands = ageBands, durationBands = durationBands, durationCap = durationCap
        let ageBandTop = ageBandTop, cohorts = cohorts
        let absorbing = absorbing, ageBandOfMonth = ageBandOfMonth, durationBand = durationBand
        let redTargets = redTargets, redCumulative = redCumulative
        let greenTargets = greenTargets, greenCumulative = greenCumulative
        let baseRed = baseRed, baseGreen = baseGreen
        let stepMonths = stepMonths, growthLimit = growthLimit, ageOutMonths = ageOutMonths
        let hasAgeOut = hasAgeOut, ageing = ageing, emigrationPerStep = emigrationPerStep
        let (k0, k1) = key
        let replication = replication, purposeWord = purposeWord
        let counts = tally.counts.baseAddress!, blockSize = tally.blockSize
        let exitsAt = tally.shape.exits, stayMonthsAt = tally.shape.stayMonths
        let staysAt = tally.shape.stays, reachedAt = tally.shape.reachedChange
        let moveSlot = moveSlot
        var columns = children
        defer { children = columns }
        let level = columns.level, age = columns.ageMonths, months = columns.monthsInLevel
        let entry = columns.entryStep, mask = columns.mask, id = columns.id, pending = columns.pending
        let area = columns.area
        // Rows with transition-specific dependence take the general path (`generalMove`), with a scratch row.
        let hasDependence = dependence != nil, touched = dependence?.touched.baseAddress
        let row = UnsafeMutableBufferPointer<Double>.allocate(capacity: hasDependence ? n : 0)
        defer { row.deallocate() }
        var lastRow = GeneralRowKey()
        let stepStartYears = Double(t - 1) * stepYears

        let position = UInt32(truncatingIfNeeded: (t - 1) / 2)  // t ≤ 60,000
        let lastStep = UInt16(truncatingIfNeeded: t - 1)
        var c = 0
        // c < columns.count ≤ capacity throughout: element c of every column is initialised.
        while c < columns.count {
            let from = Int(level[c])  // < n (invariant), so in bounds of `absorbing` and below
            if absorbing[from] { c &+= 1; continue }  // c < count, so c + 1 does not overflow
            // Two words for this step: computed in odd steps (and for children
            // who were not here in the previous step), kept otherwise.
            let w0: UInt32, w1: UInt32
            if odd {
                let b = girfec_philox4x32(position, id[c], replication, purposeWord, k0, k1).v
                w0 = b.0; w1 = b.1
                pending[c] = UInt64(b.2) | UInt64(b.3) << 32
            } else if entry[c] < lastStep {
                w0 = UInt32(truncatingIfNeeded: pending[c]); w1 = UInt32(truncatingIfNeeded: pending[c] >> 32)
            } else {
                let b = girfec_philox4x32(position, id[c], replication, purposeWord, k0, k1).v
                w0 = b.2; w1 = b.3
            }
            let u = Philox.unit(w0)
            // mask < masks and entry ≤ t − 1 < cohorts, so mi + 1 < 2 · masks · cohorts.
            let mi = 2 &* (Int(mask[c]) &* cohorts &+ Int(entry[c]))
            // min(…, ageBandTop) keeps the age in the table; its entry is < ageBands.
            let ageBand = Int(ageBandOfMonth[min(Int(age[c]), ageBandTop)])
            // from < n and min(…, durationCap) ≤ durationCap: within n · (durationCap + 1); the band < durationBands.
            let durBand = Int(durationBand[from &* (durationCap &+ 1) &+ min(Int(months[c]), durationCap)])
            // < n · ageBands · durationBands, the size of baseRed and baseGreen.
            let base = (from &* ageBands &+ ageBand) &* durationBands &+ durBand
            let pRed = baseRed[base] * multipliers[mi]
            let pGreen = baseGreen[base] * multipliers[mi &+ 1]
            if pRed + pGreen > 1 + 1e-12 { return Violation(level: from, red: pRed, green: pGreen) }
            var to = from
            if hasDependence && touched![from] {
                to = generalMove(from: from, u: u, red: multipliers[mi], green: multipliers[mi &+ 1], ageBand: ageBand,
                                 durationBand: durBand, ageMonths: age[c], monthsInLevel: months[c],
                                 stepStartYears: stepStartYears, row: row, last: &lastRow)
            } else if u < pRed {
                to = Self.destination(u / pRed, row: from &* n, last: lastTarget, cumulative: redCumulative, targets: redTargets)
            } else if u < pRed + pGreen {
                to = Self.destination((u - pRed) / pGreen, row: from &* n, last: lastTarget,
                                      cumulative: greenCumulative, targets: greenTargets)
            }
            // `to` is a level (< n) either way. The counters below grow by at most one, or one
            // stay of at most 65,535 + stepMonths months, per child-step: far from Int.max.
            // The child's area is < areaCount (invariant): its block is within the tally. Read only
            // when something is counted (most child-steps count nothing).
            if to != from {
                let block = counts + Int(area[c]) &* blockSize
                // A child entering an absorbing level is no longer reached by practice.
                if absorbing[to] && mask[c] != 0 { block[reachedAt] &-= 1 }
                block[stayMonthsAt &+ from] &+= Int(months[c]) &+ Int(stepMonths)
                block[staysAt &+ from] &+= 1
                block[Int(moveSlot[from &* n &+ to])] &+= 1  // a move that can happen: recorded (`ArmTables`)
                level[c] = UInt8(truncatingIfNeeded: to)  // to < n ≤ 250
                months[c] = 0
            } else {
                // Saturating: stops below UInt16.max, so the wrapping add never wraps.
                months[c] = months[c] &+ (months[c] < growthLimit ? stepMonths : 0)
            }
            if ageing { age[c] = age[c] &+ (age[c] < growthLimit ? stepMonths : 0) }
            let leaves = !absorbing[to] && ((hasAgeOut && age[c] >= ageOutMonths) || Philox.unit(w1) < emigrationPerStep)
            if leaves {
                let block = counts + Int(area[c]) &* blockSize
                block[exitsAt &+ to] &+= 1
                block[stayMonthsAt &+ to] &+= Int(months[c])
                block[staysAt &+ to] &+= 1
                if mask[c] != 0 { block[reachedAt] &-= 1 }
                columns.removeSwapping(at: c)  // c < count
            } else {
                c &+= 1
            }
        }
        return nil
    }

    /// The move of a child in a row with transition-specific dependence (`TransitionDependence.Combiner`):
    /// its row as formed without dependence, p_ij = P_ij · (practice · age · duration multiplier of the
    /// move's direction), combined as competing risks; then the first j ≠ from (in level order) with
    /// u < p_from,0 + … + p_from,j, or `from` (stay). Kept out of the loop so the other rows' path stays small.
    ///
    /// - Precondition: `dependence` is set, from < n, ageBand < ageBands, durationBand < durationBands and
    ///   `row` has n elements, so every index read is < n, n · n, ageBands or n · durationBands.
    /// `row` holds the combined row of `last` from the previous call in this step: a child with the same
    /// key (level, practice multipliers, bands, and the age and months in level the tables read) reuses it.
    @inline(never)
    func generalMove(from: Int, u: Double, red: Double, green: Double, ageBand: Int, durationBand: Int, ageMonths: UInt16,
                     monthsInLevel: UInt16, stepStartYears: Double, row: UnsafeMutableBufferPointer<Double>,
                     last: inout GeneralRowKey) -> Int {
        let d = dependence.unsafelyUnwrapped
        let key = GeneralRowKey(level: from, red: red, green: green, ageBand: ageBand, durationBand: durationBand,
                                ageMonths: d.combiner.readsAge ? ageMonths : 0,
                                sojournMonths: d.combiner.readsSojourn ? min(Int(monthsInLevel), d.combiner.sojournCapMonths[from]) : 0)
        if key != last {
            last = key
            // The caller checked the leave probability (≤ 1 + 1e-12), so the combination succeeds.
            d.formRow(from: from, red: red, green: green, ageBand: ageBand, durationBand: durationBand,
                      ageYears: Double(key.ageMonths) / 12, timeYears: stepStartYears, sojournMonths: Double(monthsInLevel), into: row)
        }
        return d.destination(u, from: from, row: row) ?? from
    }

    /// The destination of a move in one direction: the first k with v < cumulative[row + k]
    /// (the last, k = `last`, if none), as a level.
    ///
    /// - Precondition: `row` = from · n and `last` = n − 1, so every index read is < n · n.
    @inline(__always)
    static func destination(_ v: Double, row: Int, last: Int, cumulative: UnsafePointer<Double>,
                            targets: UnsafePointer<UInt8>) -> Int {
        var k = 0
        while k < last && v >= cumulative[row &+ k] { k &+= 1 }
        return Int(targets[row &+ k])
    }
}

/// What a combined row with transition-specific dependence depends on within one step (`StepKernel.generalMove`):
/// the level, the practice multipliers, the age and duration bands, the age in months if a table reads it, and the
/// months in the level (capped where the tables stop changing) if a table reads them. Level −1: no row yet.
struct GeneralRowKey: Equatable {
    var level = -1
    var red = 0.0, green = 0.0
    var ageBand = 0, durationBand = 0
    var ageMonths: UInt16 = 0
    var sojournMonths = 0
}
