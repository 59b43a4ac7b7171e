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

        init(bound: [Double], inverseLogStay: [Double], ageBandEnd: [Int], durationBandEnd: [Int], survival: [Double],
             emigrationSurvival: [Double]) {
            self.bound = Self.copy(bound); self.inverseLogStay = Self.copy(inverseLogStay)
            self.ageBandEnd = Self.copy(ageBandEnd); self.durationBandEnd = Self.copy(durationBandEnd)
            self.survival = Self.copy(survival); self.emigrationSurvival = Self.copy(emigrationSurvival)
        }

        deinit {
            bound.deallocate(); inverseLogStay.deallocate(); ageBandEnd.deallocate(); durationBandEnd.deallocate()
            survival.deallocate(); emigrationSurvival.deallocate()
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
        if negative { problems.append("arm '\(arm.name)': a practice multiplier is negative") }
        var bound = [Double](repeating: 0, count: n * ageBands * durationBands * masks)
        var inverse = bound
        var worst = 0.0
        for l in 0..<n where !lookup.absorbing[l] {
            let ownBands = max(1, arm.durationMultipliers[l].count)
            for a in 0..<ageBands {
                for d in 0..<durationBands {
                    let base = (l * ageBands + a) * durationBands + d
                    for m in 0..<masks {
                        let raw = lookup.baseRed[base] * maxRed[m] + lookup.baseGreen[base] * maxGreen[m]
                        if d < ownBands { worst = max(worst, raw) }
                        let q = sharedBound.map { $0[base] } ?? min(1, max(0, raw))
                        bound[base * masks + m] = q
                        inverse[base * masks + m] = q > 0 ? 1 / log1p(-q) : 0
                    }
                }
            }
        }
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
        storage = Storage(bound: bound, inverseLogStay: inverse, ageBandEnd: ageEnd, durationBandEnd: durationEnd,
                          survival: survival, emigrationSurvival: emigrationSurvival)
        survivalTabulated = tabulated
    }

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
        let own = arms.map { EventTables(tables: $0) }
        guard let first = arms.first, arms.allSatisfy({ a in
            a.levelCount == first.levelCount && a.ageBandCount == first.ageBandCount
                && a.durationBandsMax == first.durationBandsMax && a.durationCap == first.durationCap
                && Array(a.lookup.ageBandOfMonth) == Array(first.lookup.ageBandOfMonth)
                && Array(a.lookup.durationBand) == Array(first.lookup.durationBand)
        }) else { return own }
        var shared = [Double](repeating: 0, count: first.levelCount * first.ageBandCount * first.durationBandsMax)
        for e in own {
            let masks = e.tables.schedule.masks
            for i in shared.indices { for m in 0..<masks { shared[i] = max(shared[i], e.storage.bound[i * masks + m]) } }
        }
        return arms.map { EventTables(tables: $0, sharedBound: shared) }
    }

    /// Why the event engine cannot simulate these arms exactly together, or nil.
    public static func unsupported(_ arms: [EventTables]) -> String? {
        let reasons = arms.compactMap(\.unsupported)
        return reasons.isEmpty ? nil : reasons.joined(separator: "; ")
    }
}

/// The event engine: one replication of one arm, exact in distribution to `Engine`.
///
/// The same children join as in `Engine` (`Arrivals`: the same ids, levels, ages, coverage and
/// months in level, from the same streams). Each child is then simulated alone from its entry to
/// the horizon, and its moves, exits and ended stays are counted in the step they happen; the
/// stocks follow from those counts (`StepRecord`), and costs and QoL from the stocks (`Rewards`),
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
        let tables = events.tables
        return withExtendedLifetime(events) { tables.schedule.multipliers.withUnsafeBufferPointer { multipliers in
            var run = EventReplication(events: events, multipliers: multipliers.baseAddress!, seed: seed, replication: replication,
                                       armLane: armLane)
            let stream = RandomStream(StreamAddress(seed: seed, replication: replication, purpose: .initialChild, armLane: armLane))
            var nextId = Arrivals.initial(tables: tables, stream: stream, seed: seed, replication: replication, armLane: armLane) { c in
                run.start(c)
                run.simulate(c, entry: 0)
            }
            for t in stride(from: 1, through: tables.arm.steps, by: 1) {
                Arrivals.entering(step: t, tables: tables, stream: stream, seed: seed, replication: replication, armLane: armLane,
                                  nextId: &nextId) { c in
                    run.enter(c, step: t)
                    run.simulate(c, entry: t)
                }
            }
            return run.outcome(childrenEver: Int(nextId))
        } }
    }
}

/// One replication of one arm in the event engine: per-step counts and the child simulation.
struct EventReplication: ~Copyable {
    let tables: ArmTables
    let layout: RecordLayout
    let n: Int
    let steps: Int
    /// Counts per step t = 0 ... steps at [t · width + …]: flows (n·n), exits, entries, stay months,
    /// ended stays (n each), then the change in children reached.
    let width: Int
    let counts: UnsafeMutableBufferPointer<Int>
    var initialStock: [Int]
    var initialReached = 0
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
    let ageBands: Int, durationBands: Int, masks: Int, cohorts: Int
    let stepMonths: Int, growthLimit: Int, ageOutMonths: Int, hasAgeOut: Bool, ageing: Bool
    let emigrates: Bool, emigrationInverseLog: Double
    let seed: UInt64, replication: UInt32, armLane: UInt8

    /// - Parameter multipliers: the arm's `PracticeSchedule.multipliers`, valid for the whole replication.
    init(events: borrowing EventTables, multipliers: UnsafePointer<Double>, seed: UInt64, replication: UInt32, armLane: UInt8) {
        let tables = events.tables, arm = tables.arm, lookup = tables.lookup
        self.tables = tables
        layout = tables.layout
        n = tables.levelCount
        steps = arm.steps
        width = n * n + 4 * n + 1
        counts = .allocate(capacity: (steps + 1) * width)
        counts.initialize(repeating: 0)
        initialStock = [Int](repeating: 0, count: n)
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
        self.multipliers = multipliers
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

    deinit { counts.deallocate() }

    /// An initial child: in the stock at time 0.
    mutating func start(_ c: NewChild) {
        initialStock[c.level] += 1
        if c.mask != 0 && !absorbing[c.level] { initialReached += 1 }
    }

    /// A child entering at the end of step t.
    mutating func enter(_ c: NewChild, step t: Int) {
        counts[t * width + n * n + n + c.level] += 1
        if c.mask != 0 && !absorbing[c.level] { counts[t * width + n * n + 4 * n] += 1 }
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

    /// ln x for a normal x > 0, within about 1.3 · 10⁻⁵: a first guess for `jump`, whose table decides.
    ///
    /// With x = 2^e · m, m in [1, 2) and r = (m − 1)/(m + 1) (|r| < 1/3):
    /// ln x = e · ln 2 + 2 (r + r³/3 + r⁵/5 + r⁷/7 + …), cut after r⁷ (the rest is under 2 r⁹/8).
    @inline(__always)
    static func roughLog(_ x: Double) -> Double {
        let bits = x.bitPattern
        let e = Double(Int((bits >> 52) & 0x7ff) - 1023)
        let m = Double(bitPattern: (bits & 0x000f_ffff_ffff_ffff) | 0x3ff0_0000_0000_0000)
        let r = (m - 1) / (m + 1), r2 = r * r
        return e * 0.693_147_180_559_945_3 + 2 * r * (1 + r2 * (1.0 / 3 + r2 * (1.0 / 5 + r2 * (1.0 / 7))))
    }

    /// The geometric jump G ≥ 1 (P(G > k) = (1 − q)^k) from u in (0, 1], if G ≤ `within`; nil otherwise.
    /// `table` points at (1 − q)^0 ... (1 − q)^steps, `within` ≤ steps; `inverseLog` = 1 / log(1 − q).
    ///
    /// G is the smallest k ≥ 1 with table[k] < u. The logarithm gives a first guess
    /// (1 + ⌊log u / log(1 − q)⌋ with `roughLog`, right but for rounding and its small error); the
    /// table decides, so G follows the table exactly whatever the guess.
    @inline(__always)
    static func jump(_ u: Double, within: Int, table: UnsafePointer<Double>, inverseLog: Double) -> Int? {
        if u <= table[within] { return nil }
        // table[0] = 1 ≥ u > table[within] and the table decreases, so G is in 1 ... within.
        var k = 1 + Int(min(Double(within - 1), max(0, roughLog(u) * inverseLog)))
        while k > 1 && table[k - 1] < u { k -= 1 }
        while table[k] >= u { k += 1 }
        return k
    }

    /// Simulate child `c`, who entered at the end of step `e`, to the horizon; count what it does.
    mutating func simulate(_ c: NewChild, entry e: Int) {
        guard e < steps else { return }
        var level = c.level
        if absorbing[level] { childSteps &+= steps - e; return }
        let id = c.id, mask = Int(c.mask)
        let age0 = Int(UInt16(clamping: c.ageMonths))
        var months0 = Int(UInt16(clamping: c.monthsInLevel))
        var words = WordStream(StreamAddress(seed: seed, replication: replication, purpose: .childEvent, armLane: armLane, index: id))
        // The step at which it leaves the system if then in a non-absorbing level.
        var exitStep = Int.max
        if emigrates {
            if let g = Self.jump(Self.unitPositive(words.next()), within: steps - e, table: emigrationSurvival,
                                 inverseLog: emigrationInverseLog) { exitStep = e + g }
        }
        if hasAgeOut {
            // The age after ageing in step e + k is grown(age0, k) (age0 without ageing).
            var k = Int.max
            if age0 >= ageOutMonths { k = 1 } else if ageing && age0 < growthLimit {
                let need = (ageOutMonths - age0 + stepMonths - 1) / stepMonths
                if need <= (growthLimit - age0 + stepMonths - 1) / stepMonths { k = need }
            }
            if k != Int.max && k <= steps - e { exitStep = min(exitStep, e + k) }
        }
        let last = min(steps, exitStep)  // the last step in which it can move
        let counts = counts, width = width, n = n
        var stayStart = e + 1
        var t = e + 1
        while t <= last {
            let age = ageing ? grown(age0, t - e - 1) : age0
            let months = grown(months0, t - stayStart)
            let ageIndex = min(age, ageBandTop), monthIndex = level * (durationCap + 1) + min(months, durationCap)
            let ageBand = Int(ageBandOfMonth[ageIndex]), durBand = Int(durationBand[monthIndex])
            // The last step of this segment: before either band changes, at most `last`.
            var segmentEnd = last
            if ageing { let k = stepsUntil(ageBandEnd[ageIndex], from: age); if k != Int.max { segmentEnd = min(segmentEnd, t + k - 1) } }
            let k = stepsUntil(durationBandEnd[monthIndex], from: months)
            if months < durationCap && k != Int.max { segmentEnd = min(segmentEnd, t + k - 1) }
            let base = (level * ageBands + ageBand) * durationBands + durBand
            let q = bound[base * masks + mask]
            if q <= 0 { t = segmentEnd + 1; continue }
            let u = Self.unitPositive(words.next()), within = segmentEnd - t + 1
            let g: Int
            if tabulated {
                guard let j = Self.jump(u, within: within, table: survival + (base * masks + mask) * (steps + 1),
                                        inverseLog: inverseLogStay[base * masks + mask]) else { t = segmentEnd + 1; continue }
                g = j
            } else {
                let jump = log(u) * inverseLogStay[base * masks + mask]  // 1 + ⌊jump⌋ ~ Geometric(q)
                guard jump < Double(within) else { t = segmentEnd + 1; continue }
                g = 1 + Int(jump)
            }
            let candidate = t + g - 1
            var pRed = baseRed[base], pGreen = baseGreen[base]
            if mask != 0 {  // mask 0 (no practice) has multipliers 1: skip the table (a cache miss)
                let mi = 2 * (((candidate - 1) * masks + mask) * cohorts + e)
                pRed *= multipliers[mi]; pGreen *= multipliers[mi + 1]
            }
            let x = Philox.unit(words.next()) * q
            guard x < pRed + pGreen else { t = candidate + 1; continue }
            let to = x < pRed
                ? StepKernel.destination(x / pRed, row: level * n, last: n - 1, cumulative: redCumulative, targets: redTargets)
                : StepKernel.destination((x - pRed) / pGreen, row: level * n, last: n - 1, cumulative: greenCumulative, targets: greenTargets)
            let row = candidate * width
            counts[row + level * n + to] += 1
            counts[row + n * n + 2 * n + level] += grown(months0, candidate - stayStart) + stepMonths
            counts[row + n * n + 3 * n + level] += 1
            if absorbing[to] {
                if mask != 0 { counts[row + n * n + 4 * n] -= 1 }
                childSteps &+= steps - e
                return
            }
            level = to
            if candidate == exitStep {
                counts[row + n * n + level] += 1
                counts[row + n * n + 3 * n + level] += 1
                if mask != 0 { counts[row + n * n + 4 * n] -= 1 }
                childSteps &+= exitStep - e
                return
            }
            months0 = 0
            stayStart = candidate + 1
            t = candidate + 1
        }
        if exitStep <= steps {
            let row = exitStep * width
            counts[row + n * n + level] += 1
            counts[row + n * n + 2 * n + level] += grown(months0, exitStep - stayStart + 1)
            counts[row + n * n + 3 * n + level] += 1
            if mask != 0 { counts[row + n * n + 4 * n] -= 1 }
            childSteps &+= exitStep - e
        } else {
            childSteps &+= steps - e
        }
    }

    /// The record from the counts, with stocks, costs and QoL exactly as `Engine` makes them.
    consuming func outcome(childrenEver: Int) -> ReplicationOutcome {
        var record = [Double](repeating: 0, count: layout.recordSize)
        var stock = initialStock
        var stockPath = [[Int]](repeating: [], count: steps + 1)
        var reachedPath = [Int](repeating: 0, count: steps + 1)
        stockPath[0] = stock
        var reached = initialReached
        reachedPath[0] = reached
        let n = n, width = width
        for t in stride(from: 1, through: steps, by: 1) {
            let row = t * width
            func part(_ from: Int, _ count: Int) -> UnsafeMutableBufferPointer<Int> {
                UnsafeMutableBufferPointer(rebasing: counts[row + from ..< row + from + count])
            }
            StepRecord.write(step: t, flows: part(0, n * n), entries: part(n * n + n, n), exits: part(n * n, n),
                             stayMonths: part(n * n + 2 * n, n), stays: part(n * n + 3 * n, n),
                             layout: layout, stock: &stock, record: &record)
            reached += counts[row + n * n + 4 * n]
            stockPath[t] = stock
            reachedPath[t] = reached
        }
        layout.fillInflowOutflow(&record)
        let totals = Rewards.fill(record: &record, layout: layout, arm: tables.arm,
                                  stocks: stockPath.map { $0.map(Double.init) }, reached: reachedPath.map(Double.init),
                                  preventionMoneyPerYear: nil, childrenEver: childrenEver, childSteps: childSteps)
        return ReplicationOutcome(record: record, totals: totals)
    }
}
