import CGSL
import Foundation
import Model
import Stochastics

/// Which engine moves the children.
public enum EngineKind: String, Sendable, CaseIterable {
    /// `Engine`: every child, every step.
    case steps
    /// `EventEngine`: the steps at which each child moves or leaves, drawn directly.
    case events
}

/// What the event engine needs per arm beyond `ArmTables`: the thinning bounds and where bands end.
///
/// The event engine simulates the same discrete-time model as `Engine`. A child in a non-absorbing
/// level leaves it in step t with probability p_t = R·m_R(t) + G·m_G(t), where R and G are the
/// baseline escalation and step-down probabilities of its level, age band and duration band (the
/// `ArmTables` base tables) and m_R, m_G the practice multipliers of its coverage mask and entry step.
/// Within a segment of steps where the age and duration bands stay the same, p_t ≤ q with
///
/// ```
/// q = min(1, R · max m_R + G · max m_G)   (maxima over every step and entry step of the mask)
/// ```
///
/// so the steps at which it leaves are found by thinning (Lewis & Shedler 1979, in its discrete
/// form): candidate steps are the successes of independent Bernoulli(q) trials, drawn by
/// geometric jumps, and a candidate at step t is accepted with probability p_t / q. Each step is
/// then a move with probability q · p_t / q = p_t, independently of every other step: the law of
/// the step engine exactly.
///
/// A geometric jump G (P(G > k) = (1 − q)^k) is drawn by inversion from one uniform u in (0, 1]:
/// G is the smallest k ≥ 1 with u > (1 − q)^k, found in a table of (1 − q)^k (one comparison says
/// whether the jump passes the segment's end; otherwise 1 + ⌊log u / log(1 − q)⌋ is the first
/// guess and the table corrects it), or as 1 + ⌊log u / log(1 − q)⌋ where the table would be too large.
public struct EventTables: Sendable {
    public let tables: ArmTables
    /// Why the event engine cannot simulate this arm exactly, or nil when it can.
    public let unsupported: String?
    let storage: Storage

    /// Read-only tables in manually allocated storage, freed in `deinit` (the pattern of `ArmTables.Lookup`).
    final class Storage: @unchecked Sendable {
        /// q at [((level · ageBands + ageBand) · durationBands + durationBand) · masks + mask].
        let bound: UnsafeMutableBufferPointer<Double>
        /// 1 / log(1 − q) for each bound (0 where q = 0, −0 where q = 1).
        let inverseLogStay: UnsafeMutableBufferPointer<Double>
        /// For each age in months a (index min(a, top)): the first age above a in another age band, or Int.max.
        let ageBandEnd: UnsafeMutableBufferPointer<Int>
        /// For each level and months in level m ≤ cap: the first months above m in another duration band, or Int.max.
        let durationBandEnd: UnsafeMutableBufferPointer<Int>
        /// (1 − q)^k = exp(k · log(1 − q)) for each bound and k = 0 ... steps, at [bound · (steps + 1) + k]
        /// (empty when that would exceed `survivalLimit` values: logarithms are used instead).
        let survival: UnsafeMutableBufferPointer<Double>
        /// (1 − ε)^k for the out-migration probability ε and k = 0 ... steps.
        let emigrationSurvival: UnsafeMutableBufferPointer<Double>
        /// The practice multipliers (red, green) of `PracticeSchedule.multipliers`, ordered by child
        /// rather than by step: at 2 · ((mask · (steps + 1) + entryStep) · steps + step − 1), so that
        /// one child's candidates read nearby values.
        let multipliers: UnsafeMutableBufferPointer<Double>
        /// `EventReplication.roughLogTable`.
        let logs: UnsafeMutableBufferPointer<Double>
        /// Per level: whether its bound is one for every age band (`EventTables.mergeAgeBands`), so its
        /// segments do not end where the age band changes.
        let ageMerged: UnsafeMutableBufferPointer<Bool>
        /// Per level: whether one bound serves every step of a stay (age bands merged or only one, and one
        /// duration band), so that a stay is one segment.
        let wholeStay: UnsafeMutableBufferPointer<Bool>

        init(bound: [Double], inverseLogStay: [Double], ageBandEnd: [Int], durationBandEnd: [Int], survival: [Double],
             emigrationSurvival: [Double], multipliers: [Double], ageMerged: [Bool], wholeStay: [Bool]) {
            self.ageMerged = Self.copy(ageMerged)
            self.wholeStay = Self.copy(wholeStay)
            self.bound = Self.copy(bound); self.inverseLogStay = Self.copy(inverseLogStay)
            self.ageBandEnd = Self.copy(ageBandEnd); self.durationBandEnd = Self.copy(durationBandEnd)
            self.survival = Self.copy(survival); self.emigrationSurvival = Self.copy(emigrationSurvival)
            self.multipliers = Self.copy(multipliers)
            logs = Self.copy(EventReplication.roughLogTable)
        }

        deinit {
            bound.deallocate(); inverseLogStay.deallocate(); ageBandEnd.deallocate(); durationBandEnd.deallocate()
            survival.deallocate(); emigrationSurvival.deallocate(); multipliers.deallocate(); logs.deallocate()
            ageMerged.deallocate(); wholeStay.deallocate()
        }

        private static func copy<T>(_ values: [T]) -> UnsafeMutableBufferPointer<T> {
            let buffer = UnsafeMutableBufferPointer<T>.allocate(capacity: max(values.count, 1))
            _ = buffer.initialize(from: values)
            return buffer
        }
    }

    /// - Parameter sharedBound: q per (level, age band, duration band) for every mask, in place of
    ///   this arm's own (`forArms`); it must be at least the arm's own bound everywhere.
    public init(tables: ArmTables, sharedBound: [Double]? = nil) {
        self.tables = tables
        let arm = tables.arm, lookup = tables.lookup
        let n = tables.levelCount, ageBands = tables.ageBandCount, durationBands = tables.durationBandsMax
        let masks = tables.schedule.masks
        var problems: [String] = []
        if let loop = arm.reinvestment, loop.fraction > 0 {
            problems.append("arm '\(arm.name)' reinvests its savings (reinvestment): its practice multipliers depend on the replication's own cost path, step by step")
        }
        let own = Self.ownBounds(tables)
        if own.negative { problems.append("arm '\(arm.name)': a practice multiplier is negative") }
        var bound = own.bound
        if let sharedBound {
            for l in 0..<n where !lookup.absorbing[l] {
                for base in l * ageBands * durationBands ..< (l + 1) * ageBands * durationBands {
                    for m in 0..<masks { bound[base * masks + m] = sharedBound[base] }
                }
            }
        }
        var inverse = bound.map { q in q > 0 ? 1 / log1p(-q) : 0 }
        let worst = own.worst
        let ageMerged = Self.mergeAgeBands(bound: &bound, inverseLogStay: &inverse, tables: tables)
        if worst > 1 + 1e-12 {
            problems.append("arm '\(arm.name)': the largest practice multipliers could take a leave probability to \(worst) > 1; the step engine checks each child at each step and reports where")
        }
        unsupported = problems.isEmpty ? nil : problems.joined(separator: "; ")

        let ageOfMonth = lookup.ageBandOfMonth
        var ageEnd = [Int](repeating: Int.max, count: ageOfMonth.count)
        if ageOfMonth.count >= 2 {
            for m in stride(from: ageOfMonth.count - 2, through: 0, by: -1) {
                ageEnd[m] = ageOfMonth[m + 1] != ageOfMonth[m] ? m + 1 : ageEnd[m + 1]
            }
        }
        let cap = tables.durationCap
        var durationEnd = [Int](repeating: Int.max, count: n * (cap + 1))
        for l in 0..<n where cap >= 1 {
            for m in stride(from: cap - 1, through: 0, by: -1) {
                let here = lookup.durationBand[l * (cap + 1) + m], next = lookup.durationBand[l * (cap + 1) + m + 1]
                durationEnd[l * (cap + 1) + m] = next != here ? m + 1 : durationEnd[l * (cap + 1) + m + 1]
            }
        }
        let length = arm.steps + 1
        let tabulated = bound.count * length <= Self.survivalLimit
        var survival: [Double] = []
        if tabulated {
            survival.reserveCapacity(bound.count * length)
            for q in bound { let r = log1p(-q); for k in 0..<length { survival.append(k == 0 ? 1 : exp(Double(k) * r)) } }
        }
        let emigration = log1p(-tables.emigrationPerStep)
        let emigrationSurvival = (0..<length).map { $0 == 0 ? 1 : exp(Double($0) * emigration) }
        // PracticeSchedule.multipliers is [step − 1][mask][entry step]; here [mask][entry step][step − 1].
        var byChild = [Double](repeating: 1, count: tables.schedule.multipliers.count)
        let steps = arm.steps, cohorts = steps + 1
        tables.schedule.multipliers.withUnsafeBufferPointer { all in
            for t in 0..<steps {
                for m in 0..<masks {
                    for e in 0..<cohorts {
                        let from = 2 * ((t * masks + m) * cohorts + e), to = 2 * ((m * cohorts + e) * steps + t)
                        byChild[to] = all[from]; byChild[to + 1] = all[from + 1]
                    }
                }
            }
        }
        let wholeStay = (0..<n).map { l in (ageMerged[l] || ageBands == 1) && durationEnd[l * (cap + 1)] == Int.max }
        storage = Storage(bound: bound, inverseLogStay: inverse, ageBandEnd: ageEnd, durationBandEnd: durationEnd,
                          survival: survival, emigrationSurvival: emigrationSurvival, multipliers: byChild, ageMerged: ageMerged,
                          wholeStay: wholeStay)
        survivalTabulated = tabulated
    }

    /// The arm's own bound q for each (level, age band, duration band, mask) at
    /// [base · masks + mask] (0 in absorbing levels; 1 in a row with transition-specific dependence,
    /// which changes its leave chance with age, calendar time and months in the level, step by step,
    /// so every step is a candidate judged by its combined row), the largest unclamped
    /// R · max m_R + G · max m_G over the level's own duration bands, and whether a multiplier is negative.
    static func ownBounds(_ tables: ArmTables) -> (bound: [Double], worst: Double, negative: Bool) {
        let arm = tables.arm, lookup = tables.lookup
        let n = tables.levelCount, ageBands = tables.ageBandCount, durationBands = tables.durationBandsMax
        let masks = tables.schedule.masks
        // The largest multipliers of each mask over every step and entry step (entries not present
        // in a step hold 1, which only loosens the bound).
        var maxRed = [Double](repeating: 0, count: masks), maxGreen = [Double](repeating: 0, count: masks)
        var negative = false
        let cohorts = arm.steps + 1
        tables.schedule.multipliers.withUnsafeBufferPointer { all in
            var i = 0
            for _ in 0..<arm.steps {
                for m in 0..<masks {
                    for _ in 0..<cohorts {
                        let r = all[i], g = all[i + 1]
                        if r < 0 || g < 0 { negative = true }
                        maxRed[m] = max(maxRed[m], r); maxGreen[m] = max(maxGreen[m], g)
                        i += 2
                    }
                }
            }
        }
        var bound = [Double](repeating: 0, count: n * ageBands * durationBands * masks)
        var worst = 0.0
        let touched = tables.dependence.map { d in (0..<n).map { d.touched[$0] } } ?? [Bool](repeating: false, count: n)
        for l in 0..<n where !lookup.absorbing[l] {
            let ownBands = max(1, arm.durationMultipliers[l].count)
            for a in 0..<ageBands {
                for d in 0..<durationBands {
                    let base = (l * ageBands + a) * durationBands + d
                    for m in 0..<masks {
                        let raw = lookup.baseRed[base] * maxRed[m] + lookup.baseGreen[base] * maxGreen[m]
                        if d < ownBands { worst = max(worst, raw) }
                        bound[base * masks + m] = touched[l] ? 1 : min(1, max(0, raw))
                    }
                }
            }
        }
        return (bound, worst, negative)
    }

    /// One bound for every age band of a level where that costs few candidates: the levels merged.
    ///
    /// A segment of the thinning ends where its bound q changes; with a bound per age band, a child who
    /// ages through b bands takes b jumps (a word and a table look-up each) where most pass their
    /// segment's end without a candidate. Any q ≥ p_t keeps the thinning exact (each candidate is
    /// accepted with p_t / q, p_t read in the candidate's own age band), so a level's bounds for every
    /// (duration band, mask) may be replaced by their largest over the age bands, q̄. That adds, for a
    /// child who spends its whole horizon in the level, Σ_a (q̄ − q_a) · w_a expected candidates, with
    /// w_a the steps it can spend in age band a (its width, at most the horizon), and saves up to
    /// A − 1 jumps for A age bands. A level is merged when, for every duration band and mask, the
    /// added candidates are at most A − 1: both choices are exact; this one does less work. Arms that
    /// do not age, or have one age band, are left as they are.
    static func mergeAgeBands(bound: inout [Double], inverseLogStay: inout [Double], tables: ArmTables) -> [Bool] {
        let arm = tables.arm, lookup = tables.lookup, n = tables.levelCount
        let ageBands = tables.ageBandCount, durationBands = tables.durationBandsMax, masks = tables.schedule.masks
        guard arm.ageing, ageBands > 1, arm.steps > 0 else { return [Bool](repeating: false, count: n) }
        // Steps a child can spend in each age band: its months, at most the horizon's, over the step length.
        var monthsIn = [Int](repeating: 0, count: ageBands)
        for band in lookup.ageBandOfMonth { monthsIn[Int(band)] += 1 }
        let horizonMonths = arm.steps * arm.stepMonths
        let width = monthsIn.map { Double((min($0, horizonMonths) + arm.stepMonths - 1) / arm.stepMonths) }
        var merged = [Bool](repeating: false, count: n)
        for l in 0..<n where !lookup.absorbing[l] {
            var cheap = true
            for d in 0..<durationBands where cheap {
                for m in 0..<masks where cheap {
                    let qs = (0..<ageBands).map { a in bound[((l * ageBands + a) * durationBands + d) * masks + m] }
                    let top = qs.max()!
                    let added = zip(qs, width).reduce(0.0) { $0 + (top - $1.0) * $1.1 }
                    if added > Double(ageBands - 1) { cheap = false }
                }
            }
            guard cheap else { continue }
            merged[l] = true
            for d in 0..<durationBands {
                for m in 0..<masks {
                    let at = (0..<ageBands).map { a in ((l * ageBands + a) * durationBands + d) * masks + m }
                    let top = at.map { bound[$0] }.max()!
                    for i in at { bound[i] = top; inverseLogStay[i] = top > 0 ? 1 / log1p(-top) : 0 }
                }
            }
        }
        return merged
    }

    /// Per level: whether one bound serves all its age bands (`mergeAgeBands`).
    public var ageBandsMerged: [Bool] { Array(storage.ageMerged) }

    /// The most values of the survival table (8 bytes each); beyond, the engine takes logarithms.
    static let survivalLimit = 4_000_000
    /// Whether `Storage.survival` holds the table.
    let survivalTabulated: Bool

    /// The event tables of a scenario's arms, with one bound q per (level, age band, duration band)
    /// shared by every arm and mask (the largest of theirs) when the arms have the same bands.
    ///
    /// Common random numbers: with one bound, a child's candidate steps are the same in every arm
    /// while its level and bands are, and each arm accepts a candidate by comparing the same x with
    /// its own p_t, so the arms' choices stay paired as in the step engine, where each step's one
    /// uniform is compared with each arm's probability.
    public static func forArms(_ arms: [ArmTables]) -> [EventTables] {
        guard let first = arms.first, arms.allSatisfy({ a in
            a.levelCount == first.levelCount && a.ageBandCount == first.ageBandCount
                && a.durationBandsMax == first.durationBandsMax && a.durationCap == first.durationCap
                && Array(a.lookup.ageBandOfMonth) == Array(first.lookup.ageBandOfMonth)
                && Array(a.lookup.durationBand) == Array(first.lookup.durationBand)
        }) else { return arms.map { EventTables(tables: $0) } }
        var shared = [Double](repeating: 0, count: first.levelCount * first.ageBandCount * first.durationBandsMax)
        for a in arms {
            let masks = a.schedule.masks, own = ownBounds(a).bound
            for i in shared.indices { for m in 0..<masks { shared[i] = max(shared[i], own[i * masks + m]) } }
        }
        return arms.map { EventTables(tables: $0, sharedBound: shared) }
    }

    /// Whether `a` has, for every mask, the bound q (and 1 / log(1 − q)) that `reference` has for mask 0
    /// in each (level, age band, duration band): then a child's candidate steps are the same in both
    /// whatever its coverage, while its level and bands are (`EventReplication.simulateInStep`).
    static func sameBoundForEveryMask(_ a: EventTables, _ reference: EventTables) -> Bool {
        let ma = a.tables.schedule.masks, mr = reference.tables.schedule.masks
        let bases = a.tables.levelCount * a.tables.ageBandCount * a.tables.durationBandsMax
        guard bases == reference.tables.levelCount * reference.tables.ageBandCount * reference.tables.durationBandsMax,
              a.storage.ageMerged.elementsEqual(reference.storage.ageMerged) else { return false }
        for base in 0..<bases {
            for m in 0..<ma {
                guard a.storage.bound[base * ma + m] == reference.storage.bound[base * mr],
                      a.storage.inverseLogStay[base * ma + m] == reference.storage.inverseLogStay[base * mr] else { return false }
            }
        }
        return true
    }

    /// Why the event engine cannot simulate these arms exactly together, or nil.
    public static func unsupported(_ arms: [EventTables]) -> String? {
        let reasons = arms.compactMap(\.unsupported)
        return reasons.isEmpty ? nil : reasons.joined(separator: "; ")
    }

    /// Whether a child reached by no practice (mask 0) moves by the same law, drawing the same words
    /// the same way, in both arms: the same levels, bands, base probabilities, destinations,
    /// exits, and bound q (and so jump tables) for mask 0. Practice multipliers do not enter:
    /// mask 0 has multipliers 1 in every arm.
    static func sameUnreachedDynamics(_ a: EventTables, _ b: EventTables) -> Bool {
        let ta = a.tables, tb = b.tables, la = ta.lookup, lb = tb.lookup
        guard ta.levelCount == tb.levelCount, ta.ageBandCount == tb.ageBandCount, ta.durationBandsMax == tb.durationBandsMax,
              ta.durationCap == tb.durationCap, ta.emigrationPerStep == tb.emigrationPerStep, ta.arm.steps == tb.arm.steps,
              ta.arm.stepMonths == tb.arm.stepMonths, ta.arm.ageOutMonths == tb.arm.ageOutMonths, ta.arm.ageing == tb.arm.ageing,
              a.survivalTabulated == b.survivalTabulated, a.storage.ageMerged.elementsEqual(b.storage.ageMerged),
              la.redTargets.elementsEqual(lb.redTargets), la.redCumulative.elementsEqual(lb.redCumulative),
              la.greenTargets.elementsEqual(lb.greenTargets), la.greenCumulative.elementsEqual(lb.greenCumulative),
              la.absorbing.elementsEqual(lb.absorbing), la.ageBandOfMonth.elementsEqual(lb.ageBandOfMonth),
              la.durationBand.elementsEqual(lb.durationBand), la.baseRed.elementsEqual(lb.baseRed),
              la.baseGreen.elementsEqual(lb.baseGreen) else { return false }
        let ma = ta.schedule.masks, mb = tb.schedule.masks
        let bases = ta.levelCount * ta.ageBandCount * ta.durationBandsMax
        for base in 0..<bases {
            guard a.storage.bound[base * ma] == b.storage.bound[base * mb],
                  a.storage.inverseLogStay[base * ma] == b.storage.inverseLogStay[base * mb] else { return false }
        }
        return true
    }
}

/// The event engine: one replication of one arm, exact in distribution to `Engine`.
///
/// The same children join as in `Engine` (`Arrivals`: the same ids, levels, ages, coverage and
/// months in level, from the same streams). Each child is then simulated alone from its entry to
/// the horizon, and its moves, exits and ended stays are counted in the step they happen; the
/// stocks follow from those counts (`Records`), and costs and QoL from the stocks (`Rewards`),
/// exactly as in `Engine`.
///
/// For a child who entered at the end of step e (0 for the initial children):
/// - out-migration: the first step from e + 1 with a success of the Bernoulli(ε) trials, one per
///   step, that `Engine` draws from word 1; a geometric variate e + G, P(G = k) = (1 − ε)^{k−1} ε;
/// - ageing out: the first step whose ageing takes it to `ageOutMonths` (deterministic);
/// - moves: the candidate steps of the thinning (see `EventTables`) in each segment of steps with
///   constant age and duration bands; at an accepted candidate, x = v · q (v uniform) is uniform on
///   [0, p_t), and the direction and destination follow from x exactly as `Engine` does from its u.
/// The child leaves the system at the step of out-migration or ageing out, whichever is first,
/// unless it is then in an absorbing level; a move in that step happens first, as in `Engine`.
///
/// Random numbers: the child's words, in order, are those of Philox blocks 0, 1, … of the stream
/// (childEvent, child id) (`WordStream`): the first gives the out-migration step (when children
/// migrate out), then each candidate takes two, one for its geometric jump and one for its
/// acceptance and destination (a segment's jump that passes its end takes one). So a child
/// meets the same numbers in every arm (common random numbers per child and event), whatever other
/// children do and whichever thread runs it.
public enum EventEngine {
    public static func run(events: EventTables, seed: UInt64, replication: UInt32, armLane: UInt8 = 0) -> ReplicationOutcome {
        run(arms: [events], seed: seed, replication: replication, armLane: armLane)[0]
    }

    /// One replication of every arm in `arms`, all on arm lane `armLane` (common random numbers):
    /// each arm's outcome is the one it has alone.
    ///
    /// Arms with the same arrivals (`Arrivals.shared`) are served together, so each child's shared
    /// draws are made once, and block 0 of each child's event words is computed once for every arm,
    /// with the blocks of its arrival (`Arrivals.eventBlocks`).
    /// A child reached by no practice in any arm, with the same level and age in every arm, moves
    /// the same way in arms with the same dynamics for mask 0 (`EventTables.sameUnreachedDynamics`)
    /// if its months in level are the same too or its level has one duration band (its months then
    /// change only what its first stay adds to the months of ended stays): it is simulated once, its
    /// counts are added to each arm's (integer counts, so the sums do not depend on the order), and
    /// each arm's first-stay months are corrected (`EventReplication.correctFirstStay`). Any other
    /// child with the same level and age in every arm (for example one reached by practice in one
    /// arm only) is stepped through its candidates once for every arm while the arms' copies do the
    /// same, when the arms share one bound for every mask (`EventReplication.simulateInStep`).
    ///
    /// `eightAtOnce`: whether the children's Philox blocks are made eight at a time (`BlockBatch`, in
    /// vector code where the processor has AVX2) or child by child; the outcome is the same, bit for bit.
    public static func run(arms: [EventTables], seed: UInt64, replication: UInt32, armLane: UInt8 = 0,
                           eightAtOnce: Bool = Philox.eightAtOnce) -> [ReplicationOutcome] {
        let tables = arms.map(\.tables)
        guard Arrivals.shared(tables) else {
            return arms.map { run(arms: [$0], seed: seed, replication: replication, armLane: armLane, eightAtOnce: eightAtOnce)[0] }
        }
        return withExtendedLifetime(arms) {
            // The arms' replications, and one for the children simulated once for every arm, reached
            // through pointers (closures capturing them as variables would check exclusive access at run time).
            let runs = UnsafeMutableBufferPointer<EventReplication>.allocate(capacity: arms.count)
            _ = runs.initialize(from: arms.map { EventReplication(events: $0, seed: seed, replication: replication, armLane: armLane) })
            let common = UnsafeMutablePointer<EventReplication>.allocate(capacity: 1)
            common.initialize(to: EventReplication(events: arms[0], seed: seed, replication: replication, armLane: armLane))
            defer {
                common.pointee.release()
                common.deinitialize(count: 1); common.deallocate()
                runs.deinitialize(); runs.deallocate()
            }
            // Copies of a child are simulated once (or together) only without transition-specific dependence,
            // whose rows read each copy's own months in level.
            let sharing = arms.count > 1 && arms.allSatisfy { $0.tables.arm.dependence.isEmpty }
                && arms.dropFirst().allSatisfy { EventTables.sameUnreachedDynamics(arms[0], $0) }
            let monthsFree = (0..<runs[0].n).map { runs[0].monthsFree($0) }
            /// Whether the arms' copies of a child move alike (see above): months in level may differ
            /// where the level's moves do not depend on them (`correctFirstStay`).
            func alike(_ children: UnsafeBufferPointer<NewChild>) -> Bool {
                guard sharing else { return false }
                let c = children[0]
                guard c.mask == 0 else { return false }
                for i in 1..<children.count {
                    let d = children[i]
                    if d.mask != 0 || d.level != c.level || d.ageMonths != c.ageMonths { return false }
                    if d.monthsInLevel != c.monthsInLevel && !monthsFree[c.level] { return false }
                }
                return true
            }
            let inStep = sharing && arms.dropFirst().allSatisfy { EventTables.sameBoundForEveryMask($0, arms[0]) }
                && EventTables.sameBoundForEveryMask(arms[0], arms[0])
            /// Whether the arms' copies of a child can be stepped together (`EventReplication.simulateInStep`).
            func together(_ children: UnsafeBufferPointer<NewChild>) -> Bool {
                guard inStep else { return false }
                let c = children[0]
                for i in 1..<children.count {
                    let d = children[i]
                    if d.level != c.level || d.ageMonths != c.ageMonths { return false }
                    if d.monthsInLevel != c.monthsInLevel && !monthsFree[c.level] { return false }
                }
                return true
            }
            /// Simulate each arm's copy of a child: once for every arm when alike (its first stay's
            /// months corrected per arm), else arm by arm with block 0 of its event words computed once.
            func simulate(_ children: UnsafeBufferPointer<NewChild>, entry: Int, first: EventBlock) {
                if alike(children) {
                    let end = common.pointee.simulate(children[0], entry: entry, first: first)
                    for i in 1..<runs.count { runs[i].correctFirstStay(children[i], shared: children[0], end: end) }
                    return
                }
                if runs.count > 1 && together(children) {
                    EventReplication.simulateInStep(runs, children, entry: entry, first: first)
                    return
                }
                for i in 0..<runs.count { runs[i].simulate(children[i], entry: entry, first: first) }
            }
            let stream = RandomStream(StreamAddress(seed: seed, replication: replication, purpose: .initialChild, armLane: armLane))
            // Each child's block 0 of its event words comes with its arrival (`Arrivals.eventBlocks`).
            let arrivals = Arrivals(tables: tables, seed: seed, replication: replication, armLane: armLane, eventBlocks: true,
                                    eightAtOnce: eightAtOnce)
            defer { arrivals.release() }
            var nextId = arrivals.initial { children, first in
                for i in 0..<runs.count { runs[i].start(children[i]) }
                simulate(children, entry: 0, first: first)
            }
            for t in stride(from: 1, through: tables[0].arm.steps, by: 1) {
                arrivals.entering(step: t, stream: stream, nextId: &nextId) { children, first in
                    for i in 0..<runs.count { runs[i].enter(children[i], step: t) }
                    simulate(children, entry: t, first: first)
                }
            }
            return (0..<runs.count).map { i in
                runs[i].add(common.pointee)
                return runs[i].outcome(childrenEver: Int(nextId))
            }
        }
    }
}

/// One replication of one arm in the event engine: per-step counts and the child simulation.
///
/// It owns `counts` (freed by `outcome` or `release`), so it is not copied once in use.
struct EventReplication {
    let tables: ArmTables
    let layout: RecordLayout
    let n: Int
    let steps: Int
    /// Counts per area a and step t = 0 ... steps at [(a · (steps + 1) + t) · width + …] (`StepCounts`):
    /// the recorded moves, exits, entries, stay months, ended stays (n each), then the change in children reached.
    let width: Int
    /// Where the parts of a block are (`StepCounts`): exits at `exitsAt`, entries, stay months and ended
    /// stays n apart after it, the change in children reached at `reachedAt`.
    let exitsAt: Int, entriesAt: Int, stayMonthsAt: Int, staysAt: Int, reachedAt: Int
    /// `ArmTables.Lookup.moveSlot`.
    let moveSlot: UnsafePointer<Int32>
    let areaCount: Int
    let counts: UnsafeMutableBufferPointer<Int>
    /// Children present at the start per area and level, at [area · n + level], and reached per area (`start`).
    var initialByArea: [Int]
    var initialReachedByArea: [Int]
    var childSteps = 0

    // The tables, as pointers (kept alive by `EventEngine.run`).
    let absorbing: UnsafePointer<Bool>
    let redTargets: UnsafePointer<UInt8>, redCumulative: UnsafePointer<Double>
    let greenTargets: UnsafePointer<UInt8>, greenCumulative: UnsafePointer<Double>
    let ageBandOfMonth: UnsafePointer<UInt8>, ageBandTop: Int
    let durationBand: UnsafePointer<UInt8>, durationCap: Int
    let baseRed: UnsafePointer<Double>, baseGreen: UnsafePointer<Double>
    let bound: UnsafePointer<Double>, inverseLogStay: UnsafePointer<Double>
    let ageBandEnd: UnsafePointer<Int>, durationBandEnd: UnsafePointer<Int>
    let survival: UnsafePointer<Double>, emigrationSurvival: UnsafePointer<Double>, tabulated: Bool
    let multipliers: UnsafePointer<Double>
    let logs: UnsafePointer<Double>
    let ageMerged: UnsafePointer<Bool>
    /// Per level: whether one bound serves a whole stay (its age bands merged or one, one duration band).
    let wholeStay: UnsafePointer<Bool>
    /// Transition-specific dependence (nil without): the rows it touches, and a row to combine into.
    let dependence: DependenceTables?
    let touched: UnsafePointer<Bool>?
    let row: UnsafeMutableBufferPointer<Double>
    let stepYears: Double
    let ageBands: Int, durationBands: Int, masks: Int, cohorts: Int
    let stepMonths: Int, growthLimit: Int, ageOutMonths: Int, hasAgeOut: Bool, ageing: Bool
    let emigrates: Bool, emigrationInverseLog: Double
    let seed: UInt64, replication: UInt32, armLane: UInt8

    /// The tables are read through pointers: `events` must outlive the replication.
    init(events: borrowing EventTables, seed: UInt64, replication: UInt32, armLane: UInt8) {
        let tables = events.tables, arm = tables.arm, lookup = tables.lookup
        self.tables = tables
        layout = tables.layout
        n = tables.levelCount
        steps = arm.steps
        let shape = StepCounts(layout: layout)
        width = shape.size
        exitsAt = shape.exits; entriesAt = shape.entries; stayMonthsAt = shape.stayMonths; staysAt = shape.stays
        reachedAt = shape.reachedChange
        moveSlot = lookup.moveSlot.baseAddress!
        areaCount = max(arm.areas.count, 1)
        counts = .allocate(capacity: areaCount * (steps + 1) * width)
        counts.initialize(repeating: 0)
        // Every initial child is counted here by its area and level: the arm's initial counts.
        initialByArea = arm.initialCounts.flatMap { $0 }
        initialReachedByArea = [Int](repeating: 0, count: areaCount)
        absorbing = UnsafePointer(lookup.absorbing.baseAddress!)
        redTargets = lookup.redTargets.baseAddress!; redCumulative = lookup.redCumulative.baseAddress!
        greenTargets = lookup.greenTargets.baseAddress!; greenCumulative = lookup.greenCumulative.baseAddress!
        ageBandOfMonth = lookup.ageBandOfMonth.baseAddress!; ageBandTop = lookup.ageBandOfMonth.count - 1
        durationBand = lookup.durationBand.baseAddress!; durationCap = tables.durationCap
        baseRed = lookup.baseRed.baseAddress!; baseGreen = lookup.baseGreen.baseAddress!
        let s = events.storage
        bound = UnsafePointer(s.bound.baseAddress!); inverseLogStay = UnsafePointer(s.inverseLogStay.baseAddress!)
        ageBandEnd = UnsafePointer(s.ageBandEnd.baseAddress!); durationBandEnd = UnsafePointer(s.durationBandEnd.baseAddress!)
        survival = UnsafePointer(s.survival.baseAddress!); emigrationSurvival = UnsafePointer(s.emigrationSurvival.baseAddress!)
        tabulated = events.survivalTabulated
        multipliers = UnsafePointer(s.multipliers.baseAddress!)
        logs = UnsafePointer(s.logs.baseAddress!)
        ageMerged = UnsafePointer(s.ageMerged.baseAddress!)
        wholeStay = UnsafePointer(s.wholeStay.baseAddress!)
        dependence = tables.dependence
        touched = tables.dependence?.touched.baseAddress
        row = .allocate(capacity: n)
        row.initialize(repeating: 0)
        stepYears = arm.stepYears
        ageBands = tables.ageBandCount; durationBands = tables.durationBandsMax
        masks = tables.schedule.masks; cohorts = steps + 1
        stepMonths = arm.stepMonths
        growthLimit = Int(UInt16.max) - arm.stepMonths
        ageOutMonths = Int(arm.ageOutMonths.map { UInt16(clamping: $0) } ?? UInt16.max)
        hasAgeOut = arm.ageOutMonths != nil
        ageing = arm.ageing
        emigrates = tables.emigrationPerStep > 0
        emigrationInverseLog = emigrates ? 1 / log1p(-tables.emigrationPerStep) : 0
        self.seed = seed
        self.replication = replication
        self.armLane = armLane
    }

    /// Free the counts and the scratch row (for a replication whose outcome is not taken).
    func release() { counts.deallocate(); row.deallocate() }

    /// Add the counts and child-steps of `other` (same arm shape), simulated for this arm too.
    mutating func add(_ other: borrowing EventReplication) {
        for i in 0..<counts.count { counts[i] += other.counts[i] }
        childSteps &+= other.childSteps
    }

    /// An initial child: in the stock at time 0 (counted by `initialByArea` from the arm's initial counts),
    /// and reached by practice or not.
    mutating func start(_ c: NewChild) {
        if c.mask != 0 && !absorbing[c.level] { initialReachedByArea[c.area] += 1 }
    }

    /// Where area `area`'s counts of step 0 begin.
    @inline(__always)
    func areaRow(_ area: Int) -> Int { area * (steps + 1) * width }

    /// A child entering at the end of step t.
    mutating func enter(_ c: NewChild, step t: Int) {
        let row = areaRow(c.area) + t * width
        counts[row + entriesAt + c.level] += 1
        if c.mask != 0 && !absorbing[c.level] { counts[row + reachedAt] += 1 }
    }

    /// `x` after k steps of the engine's saturating growth by `stepMonths` (stops once ≥ growthLimit).
    @inline(__always)
    func grown(_ x: Int, _ k: Int) -> Int {
        if x >= growthLimit || k <= 0 { return x }
        let direct = x + k * stepMonths  // k ≤ steps ≤ 60,000: no overflow
        if direct <= growthLimit { return direct }  // every earlier value was below the limit
        let most = (growthLimit - x + stepMonths - 1) / stepMonths
        return x + min(k, most) * stepMonths
    }

    /// Steps from a value x (growing by `stepMonths` per step) until it reaches `target` > x:
    /// ⌈(target − x)/stepMonths⌉, or Int.max when `target` is Int.max.
    @inline(__always)
    func stepsUntil(_ target: Int, from x: Int) -> Int {
        target == Int.max ? Int.max : stepMonths == 1 ? target - x : (target - x + stepMonths - 1) / stepMonths
    }

    /// A uniform in (0, 1] from one word: (word + 1) / 2^32.
    @inline(__always)
    static func unitPositive(_ w: UInt32) -> Double { (Double(w) + 1) * 0x1p-32 }

    /// ln x for a normal x > 0, within about 8 · 10⁻⁶: a first guess for `jump`, whose table decides.
    ///
    /// With x = 2^e · m, m in [1, 2), c = 1 + i/256 for the leading 8 bits i of m's fraction and
    /// δ = (m − c)/c in [0, 2⁻⁸): ln x = e · ln 2 + ln c + ln(1 + δ) ≈ e · ln 2 + ln c + δ (the rest
    /// is under δ²/2 < 7.7 · 10⁻⁶). `logs` holds (ln c, 1/c) for each i (`EventTables.Storage.logs`):
    /// no division, and a shorter chain of dependent operations than a series.
    @inline(__always)
    static func roughLog(_ x: Double, logs: UnsafePointer<Double>) -> Double {
        let bits = x.bitPattern
        let e = Double(Int((bits >> 52) & 0x7ff) - 1023)
        let i = Int((bits >> 44) & 0xff)
        let m = Double(bitPattern: (bits & 0x000f_ffff_ffff_ffff) | 0x3ff0_0000_0000_0000)
        let c = Double(bitPattern: (bits & 0x000f_f000_0000_0000) | 0x3ff0_0000_0000_0000)
        return e * 0.693_147_180_559_945_3 + logs[2 * i] + (m - c) * logs[2 * i + 1]
    }

    /// (ln c, 1/c) for c = 1 + i/256, i = 0 ... 255, end to end (for `roughLog`).
    static let roughLogTable: [Double] = (0..<256).flatMap { i -> [Double] in
        let c = 1 + Double(i) / 256
        return [log(c), 1 / c]
    }

    /// The geometric jump G ≥ 1 (P(G > k) = (1 − q)^k) from u in (0, 1], if G ≤ `within`; nil otherwise.
    /// `table` points at (1 − q)^0 ... (1 − q)^steps, `within` ≤ steps; `inverseLog` = 1 / log(1 − q).
    ///
    /// G is the smallest k ≥ 1 with table[k] < u. The logarithm gives a first guess
    /// (1 + ⌊log u / log(1 − q)⌋ with `roughLog`, right but for rounding and its small error); the
    /// table decides, so G follows the table exactly whatever the guess.
    @inline(__always)
    static func jump(_ u: Double, within: Int, table: UnsafePointer<Double>, inverseLog: Double, logs: UnsafePointer<Double>) -> Int? {
        if u <= table[within] { return nil }
        // table[0] = 1 ≥ u > table[within] and the table decreases, so G is in 1 ... within.
        var k = 1 + Int(min(Double(within - 1), max(0, roughLog(u, logs: logs) * inverseLog)))
        while k > 1 && table[k - 1] < u { k -= 1 }
        while table[k] >= u { k += 1 }
        return k
    }

    /// Where the months of a child's first stay were counted: `counts[index]` got
    /// `grown(months in level at entry, steps)` plus a constant; `index` is −1 if that stay did not end.
    struct FirstStayEnd {
        var index = -1
        var steps = 0
    }

    /// Where a child's simulation stands: its level, its months in level when its stay began, the
    /// step its stay began, the next step to look at, its words, and when it leaves the system.
    /// (`begin`, `nextCandidate` and `destination` change nothing but are `mutating`: called through a
    /// pointer, a non-mutating method would be given a copy of the replication.)
    struct ChildState {
        var level: Int
        var months0: Int
        var stayStart: Int
        var t: Int
        var words: WordStream
        /// Where its area's counts of step 0 begin (`areaRow`).
        let areaRow: Int
        /// The step at which it leaves the system if then in a non-absorbing level (Int.max: never).
        let exitStep: Int
        /// The last step in which it can move: min(steps, exitStep).
        let last: Int
    }

    /// Child `c`, entered at the end of step `e` < steps in a non-absorbing level, before its first
    /// step: its out-migration step drawn (the first word), its ageing-out step found.
    @inline(__always)
    mutating func begin(_ c: NewChild, entry e: Int, first: (UInt32, UInt32, UInt32, UInt32)?) -> ChildState {
        let age0 = Int(UInt16(clamping: c.ageMonths))
        let address = StreamAddress(seed: seed, replication: replication, purpose: .childEvent, armLane: armLane, index: c.id)
        var words = first.map { WordStream(address, first: $0) } ?? WordStream(address)
        var exitStep = Int.max
        if emigrates {
            if let g = Self.jump(Self.unitPositive(words.next()), within: steps - e, table: emigrationSurvival,
                                 inverseLog: emigrationInverseLog, logs: logs) { exitStep = e + g }
        }
        if hasAgeOut {
            // The age after ageing in step e + k is grown(age0, k) (age0 without ageing).
            var k = Int.max
            if age0 >= ageOutMonths { k = 1 } else if ageing && age0 < growthLimit {
                let need = stepsUntil(ageOutMonths, from: age0)
                if need <= stepsUntil(growthLimit, from: age0) { k = need }
            }
            if k != Int.max && k <= steps - e { exitStep = min(exitStep, e + k) }
        }
        return ChildState(level: c.level, months0: Int(UInt16(clamping: c.monthsInLevel)), stayStart: e + 1, t: e + 1,
                          words: words, areaRow: areaRow(c.area), exitStep: exitStep, last: min(steps, exitStep))
    }

    /// The next candidate step of the thinning from `s.t` on (see `EventTables`), with the index of
    /// its (level, age band, duration band) and its bound q for `mask`; nil when none is left up to
    /// `s.last` (each segment's jump takes one word).
    @inline(__always)
    mutating func nextCandidate(_ s: inout ChildState, age0: Int, entry e: Int, mask: Int) -> (candidate: Int, base: Int, q: Double)? {
        while s.t <= s.last {
            let t = s.t
            // A level whose bound is the same in every age band (`EventTables.mergeAgeBands`) reads it at band 0.
            let merged = ageMerged[s.level]
            // The last step of this segment: before the bound's age or duration band changes, at most `last`.
            var segmentEnd = s.last
            let base: Int, durBand: Int
            if wholeStay[s.level] {
                // One bound for the whole stay: no band to read, one segment to `last`.
                base = s.level * ageBands * durationBands
                durBand = 0
            } else {
                let age = ageing ? grown(age0, t - e - 1) : age0
                let months = grown(s.months0, t - s.stayStart)
                let ageIndex = min(age, ageBandTop), monthIndex = s.level * (durationCap + 1) + min(months, durationCap)
                let ageBand = merged ? 0 : Int(ageBandOfMonth[ageIndex])
                durBand = Int(durationBand[monthIndex])
                if ageing && !merged {
                    let k = stepsUntil(ageBandEnd[ageIndex], from: age); if k != Int.max { segmentEnd = min(segmentEnd, t + k - 1) }
                }
                let k = stepsUntil(durationBandEnd[monthIndex], from: months)
                if months < durationCap && k != Int.max { segmentEnd = min(segmentEnd, t + k - 1) }
                base = (s.level * ageBands + ageBand) * durationBands + durBand
            }
            let q = bound[base * masks + mask]
            if q <= 0 { s.t = segmentEnd + 1; continue }
            let u = Self.unitPositive(s.words.next()), within = segmentEnd - t + 1
            let g: Int
            if tabulated {
                guard let j = Self.jump(u, within: within, table: survival + (base * masks + mask) * (steps + 1),
                                        inverseLog: inverseLogStay[base * masks + mask], logs: logs) else { s.t = segmentEnd + 1; continue }
                g = j
            } else {
                let jump = log(u) * inverseLogStay[base * masks + mask]  // 1 + ⌊jump⌋ ~ Geometric(q)
                guard jump < Double(within) else { s.t = segmentEnd + 1; continue }
                g = 1 + Int(jump)
            }
            let candidate = t + g - 1
            guard merged else { return (candidate, base, q) }
            // p_t is read in the candidate's own age band.
            let ageThen = min(grown(age0, candidate - e - 1), ageBandTop)
            return (candidate, (s.level * ageBands + Int(ageBandOfMonth[ageThen])) * durationBands + durBand, q)
        }
        return nil
    }

    /// Where x (uniform on [0, q)) sends a child of `level` at `candidate`: its destination, or −1
    /// when x ≥ p_t = R·m_R + G·m_G (no move); direction and destination as `Engine` finds them.
    @inline(__always)
    mutating func destination(_ x: Double, level: Int, base: Int, mask: Int, entry e: Int, candidate: Int) -> Int {
        var pRed = baseRed[base], pGreen = baseGreen[base]
        if mask != 0 {  // mask 0 (no practice) has multipliers 1: skip the table (a cache miss)
            let mi = 2 * ((mask * cohorts + e) * steps + candidate - 1)
            pRed *= multipliers[mi]; pGreen *= multipliers[mi + 1]
        }
        guard x < pRed + pGreen else { return -1 }
        return x < pRed
            ? StepKernel.destination(x / pRed, row: level * n, last: n - 1, cumulative: redCumulative, targets: redTargets)
            : StepKernel.destination((x - pRed) / pGreen, row: level * n, last: n - 1, cumulative: greenCumulative, targets: greenTargets)
    }

    /// `destination` for a row with transition-specific dependence (q = 1, so x is uniform on [0, 1)): the
    /// child's combined row at its age and months in level at the start of `candidate`, formed and read as the
    /// step engine does (`DependenceTables.formRow`, `destination`); −1 when it stays. Out of line, so that
    /// the loop of `finish` stays small where no row has dependence (about 2 % faster on the default experiment).
    @inline(never)
    mutating func generalDestination(_ x: Double, level: Int, base: Int, mask: Int, entry e: Int, candidate: Int,
                                     age: Int, months: Int) -> Int {
        let d = dependence.unsafelyUnwrapped
        var red = 1.0, green = 1.0
        if mask != 0 {
            let mi = 2 * ((mask * cohorts + e) * steps + candidate - 1)
            red = multipliers[mi]; green = multipliers[mi + 1]
        }
        // EventTables refuses an arm whose leave probability can exceed 1, so the combination succeeds.
        d.formRow(from: level, red: red, green: green, ageBand: (base / durationBands) % ageBands, durationBand: base % durationBands,
                  ageYears: Double(age) / 12, timeYears: Double(candidate - 1) * stepYears, sojournMonths: Double(months), into: row)
        return d.destination(x, from: level, row: row) ?? -1
    }

    /// Count the move of the child (coverage `mask`, entered at the end of step `e`) to `to` at
    /// step `candidate`; `s` follows it. True when the child is then gone (absorbed, or leaving the
    /// system in that step).
    @inline(__always)
    mutating func move(_ s: inout ChildState, to: Int, at candidate: Int, mask: Int, entry e: Int,
                       firstStay: inout FirstStayEnd) -> Bool {
        let row = s.areaRow + candidate * width, level = s.level
        counts[row + Int(moveSlot[level * n + to])] += 1
        counts[row + stayMonthsAt + level] += grown(s.months0, candidate - s.stayStart) + stepMonths
        if s.stayStart == e + 1 { firstStay = FirstStayEnd(index: row + stayMonthsAt + level, steps: candidate - s.stayStart) }
        counts[row + staysAt + level] += 1
        if absorbing[to] {
            if mask != 0 { counts[row + reachedAt] -= 1 }
            childSteps &+= steps - e
            return true
        }
        s.level = to
        if candidate == s.exitStep {
            counts[row + exitsAt + to] += 1
            counts[row + staysAt + to] += 1
            if mask != 0 { counts[row + reachedAt] -= 1 }
            childSteps &+= s.exitStep - e
            return true
        }
        s.months0 = 0
        s.stayStart = candidate + 1
        s.t = candidate + 1
        return false
    }

    /// Simulate the child from `s` to the horizon: its remaining candidates, then leaving the system.
    @inline(__always)
    mutating func finish(_ s: inout ChildState, age0: Int, mask: Int, entry e: Int, firstStay: inout FirstStayEnd) {
        while let (candidate, base, q) = nextCandidate(&s, age0: age0, entry: e, mask: mask) {
            let x = Philox.unit(s.words.next()) * q
            let to = touched?[s.level] == true
                ? generalDestination(x, level: s.level, base: base, mask: mask, entry: e, candidate: candidate,
                                     age: ageing ? grown(age0, candidate - e - 1) : age0, months: grown(s.months0, candidate - s.stayStart))
                : destination(x, level: s.level, base: base, mask: mask, entry: e, candidate: candidate)
            if to < 0 { s.t = candidate + 1; continue }
            if move(&s, to: to, at: candidate, mask: mask, entry: e, firstStay: &firstStay) { return }
        }
        if s.exitStep <= steps {
            let row = s.areaRow + s.exitStep * width, level = s.level
            counts[row + exitsAt + level] += 1
            counts[row + stayMonthsAt + level] += grown(s.months0, s.exitStep - s.stayStart + 1)
            if s.stayStart == e + 1 { firstStay = FirstStayEnd(index: row + stayMonthsAt + level, steps: s.exitStep - s.stayStart + 1) }
            counts[row + staysAt + level] += 1
            if mask != 0 { counts[row + reachedAt] -= 1 }
            childSteps &+= s.exitStep - e
        } else {
            childSteps &+= steps - e
        }
    }

    /// Simulate child `c`, who entered at the end of step `e`, to the horizon; count what it does.
    /// `first`: block 0 of its event words when already computed.
    @discardableResult
    mutating func simulate(_ c: NewChild, entry e: Int, first: (UInt32, UInt32, UInt32, UInt32)? = nil) -> FirstStayEnd {
        var firstStay = FirstStayEnd()
        guard e < steps else { return firstStay }
        if absorbing[c.level] { childSteps &+= steps - e; return firstStay }
        var s = begin(c, entry: e, first: first)
        finish(&s, age0: Int(UInt16(clamping: c.ageMonths)), mask: Int(c.mask), entry: e, firstStay: &firstStay)
        return firstStay
    }

    /// Simulate the copies of one child, `children[i]` in `runs[i]`, stepping them together while
    /// they do the same: the arms have one bound q for every mask and the same dynamics otherwise
    /// (`EventTables.sameBoundForEveryMask`, `sameUnreachedDynamics`), and the copies the same
    /// level and age, and the same months in level or a level whose moves do not depend on them.
    ///
    /// Alone, each copy would draw the same words for its out-migration and for each candidate's
    /// jump and x, so the candidates coincide until one copy's x makes a move (or a destination)
    /// the other's does not. Until then each candidate is drawn once and judged per arm, and what
    /// the copies do is counted in each arm (its own months in level and coverage); from there each
    /// copy goes on alone from the same words. Every arm's counts are those of its copy alone.
    static func simulateInStep(_ runs: UnsafeMutableBufferPointer<EventReplication>, _ children: UnsafeBufferPointer<NewChild>,
                               entry e: Int, first: (UInt32, UInt32, UInt32, UInt32)) {
        // Through the base pointer: the buffer's subscript would copy the replication for each read.
        let p = runs.baseAddress!, c = children[0]
        guard e < p.pointee.steps, !p.pointee.absorbing[c.level] else {
            for i in 0..<runs.count { (p + i).pointee.simulate(children[i], entry: e, first: first) }
            return
        }
        let age0 = Int(UInt16(clamping: c.ageMonths))
        var s = p.pointee.begin(c, entry: e, first: first)
        var unused = FirstStayEnd()
        /// Arm i's copy at `s` (its own months in level while in its first stay).
        func own(_ s: ChildState, _ i: Int) -> ChildState {
            var o = s
            if s.stayStart == e + 1 { o.months0 = Int(UInt16(clamping: children[i].monthsInLevel)) }
            return o
        }
        while let (candidate, base, q) = p.pointee.nextCandidate(&s, age0: age0, entry: e, mask: 0) {
            let x = Philox.unit(s.words.next()) * q
            let to = p.pointee.destination(x, level: s.level, base: base, mask: Int(c.mask), entry: e, candidate: candidate)
            var agree = true
            for i in 1..<runs.count where (p + i).pointee.destination(x, level: s.level, base: base, mask: Int(children[i].mask),
                                                               entry: e, candidate: candidate) != to { agree = false; break }
            if agree {
                if to < 0 { s.t = candidate + 1; continue }
                var next = s, gone = false
                for i in 0..<runs.count {
                    next = own(s, i)
                    gone = (p + i).pointee.move(&next, to: to, at: candidate, mask: Int(children[i].mask), entry: e, firstStay: &unused)
                }
                if gone { return }
                s = next  // the same for every copy now (months in level 0)
                continue
            }
            // The copies part here: each goes on alone from the same words.
            for i in 0..<runs.count {
                let mask = Int(children[i].mask)
                var o = own(s, i)
                let toHere = (p + i).pointee.destination(x, level: s.level, base: base, mask: mask, entry: e, candidate: candidate)
                if toHere < 0 {
                    o.t = candidate + 1
                } else if (p + i).pointee.move(&o, to: toHere, at: candidate, mask: mask, entry: e, firstStay: &unused) {
                    continue
                }
                (p + i).pointee.finish(&o, age0: age0, mask: mask, entry: e, firstStay: &unused)
            }
            return
        }
        // No candidate left: each copy leaves the system (or stays) as it would alone.
        for i in 0..<runs.count {
            var o = own(s, i)
            (p + i).pointee.finish(&o, age0: age0, mask: Int(children[i].mask), entry: e, firstStay: &unused)
        }
    }

    /// Count child `c` as if it had done what `shared`'s copy of it did (`end`: where that copy's
    /// first stay ended), when the two differ only in months in level at entry and the level's
    /// duration band does not depend on them: the same events, the first stay's months differing by
    /// grown(months here, k) − grown(months there, k).
    @inline(__always)
    mutating func correctFirstStay(_ c: NewChild, shared: NewChild, end: FirstStayEnd) {
        guard end.index >= 0, c.monthsInLevel != shared.monthsInLevel else { return }
        counts[end.index] += grown(Int(UInt16(clamping: c.monthsInLevel)), end.steps)
            - grown(Int(UInt16(clamping: shared.monthsInLevel)), end.steps)
    }

    /// Whether a child's moves in `level` do not depend on its months in level (one duration band).
    func monthsFree(_ level: Int) -> Bool { durationBandEnd[level * (durationCap + 1)] == Int.max }

    /// The records from the counts, with stocks, costs and QoL exactly as `Engine` makes them; frees the counts.
    func outcome(childrenEver: Int) -> ReplicationOutcome {
        defer { release() }
        var records = Records(layout: layout, areas: tables.arm.areas.count)
        records.start(byArea: initialByArea, reachedByArea: initialReachedByArea)
        let counts = counts, width = width, areaRows = (0..<areaCount).map(areaRow)
        for t in stride(from: 1, through: steps, by: 1) {
            records.write(step: t) { a in UnsafeMutableBufferPointer(rebasing: counts[areaRows[a] + t * width ..< areaRows[a] + (t + 1) * width]) }
        }
        return records.outcome(arm: tables.arm, preventionMoneyPerYear: nil, childrenEver: childrenEver, childSteps: childSteps)
    }
}
