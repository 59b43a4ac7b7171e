import CGSL
import Foundation
import Model
import Stochastics

/// What one replication of one arm produced.
public struct ReplicationOutcome: Sendable {
    /// Per-step values of all areas, laid out by `RecordLayout`.
    public var record: [Double]
    public var totals: ReplicationTotals
    /// With two or more areas, each area's per-step values (its children only; no programme cost),
    /// in the same layout; empty with one area.
    public var areaRecords: [[Double]]
}

/// The engine stopped: a modulated stay probability went below zero.
public struct EngineError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(description: String) { self.description = description }
}

/// The agent engine: one replication of one arm.
///
/// Per step t (1...steps), for each child present at its start, in this order:
/// 1. exposure: the practice schedule gives the child's red and green
///    multipliers from its coverage and entry step (see `PracticeSchedule`);
/// 2. transition: one uniform u from the child's own stream decides
///    escalation (u < P(red)), step-down (u < P(red) + P(green)) or staying;
///    the destination within a direction follows the baseline matrix;
/// 3. ageing by the step length, and exits: ageing out, then out-migration;
/// then births and in-migrants join at the end of the step.
///
/// Random numbers: in step t a child uses two words of Philox block
/// ⌊(t − 1)/2⌋ of the stream (childStep, child id): words 0 and 1 in odd
/// steps, 2 and 3 in even steps (the block is computed once for both steps).
/// The first word decides the transition, the second out-migration. So a
/// child meets the same numbers in every arm (common random numbers)
/// whatever happens to other children.
public enum Engine {
    /// - Parameter referenceCostPerYear: the first arm's cost rate at each time point of this
    ///   replication (0 ... steps), for the reinvestment loop; ignored without reinvestment.
    public static func run(tables: ArmTables, seed: UInt64, replication: UInt32, armLane: UInt8 = 0,
                           population: Population = Population(),
                           referenceCostPerYear: [Double]? = nil) throws(EngineError) -> ReplicationOutcome {
        // The step kernel reads the tables' storage through pointers: keep it alive to the end.
        defer { withExtendedLifetime(tables) {} }
        var run = Replication(tables: tables, seed: seed, replication: replication, armLane: armLane,
                              population: population, referenceCostPerYear: referenceCostPerYear)
        run.addInitialChildren()
        for t in stride(from: 1, through: tables.arm.steps, by: 1) {
            run.prepareFeedback(step: t)
            try run.moveAgeAndExit(step: t)
            run.addEntries(step: t)
            run.record(step: t)
        }
        return run.outcome()
    }

    /// Age in months from the age distribution: one uniform for the band, one within it.
    @inline(__always)
    static func drawAge(_ stream: inout WordStream, _ tables: ArmTables) -> Int {
        let u = stream.uniform(), v = stream.uniform()
        let cumulative = tables.ageCumulative
        var b = 0
        while b < cumulative.count - 1 && u >= cumulative[b] { b += 1 }
        return tables.ageFromMonths[b] + Int(v * tables.ageSpanMonths[b])
    }

    /// Coverage mask: bit k set when practice k reaches the child (one uniform per practice, always drawn,
    /// so that the stream stays aligned whatever the coverage).
    /// `shares` are the area's (`ArmTables.coverageShare`), fetched once per area by the caller.
    @inline(__always)
    static func drawCoverage(_ stream: inout WordStream, shares: UnsafeBufferPointer<Double>) -> UInt8 {
        var m: UInt8 = 0
        for k in shares.indices where stream.uniform() < shares[k] { m |= 1 << UInt8(k) }
        return m
    }
}

/// One replication of one arm in progress: its population, random streams,
/// what has been counted so far and the per-step record.
struct Replication: ~Copyable {
    let tables: ArmTables
    let arm: ArmModel
    let layout: RecordLayout
    let levelCount: Int
    let seed: UInt64, replication: UInt32, armLane: UInt8
    let population: Population
    /// Draws for children as they appear and for the number of entries, re-pointed per use.
    let stream: RandomStream
    let kernel: StepKernel
    let tally: StepTally
    let arrivals: Arrivals
    /// The per-step records and stocks, of all areas and of each area.
    var records: Records
    var nextId: UInt32 = 0
    var childSteps = 0
    /// The reinvestment loop, when the arm has one and a reference cost path is given.
    var feedback: Feedback?

    init(tables: ArmTables, seed: UInt64, replication: UInt32, armLane: UInt8, population: Population,
         referenceCostPerYear: [Double]?) {
        self.tables = tables
        arm = tables.arm
        layout = tables.layout
        levelCount = arm.levels.count
        self.seed = seed; self.replication = replication; self.armLane = armLane
        self.population = population
        population.removeAll()
        stream = RandomStream(StreamAddress(seed: seed, replication: replication, purpose: .initialChild, armLane: armLane))
        kernel = StepKernel(tables: tables, childSteps: StreamAddress(seed: seed, replication: replication,
                                                                      purpose: .childStep, armLane: armLane))
        tally = StepTally(StepCounts(layout: tables.layout), areas: arm.areas.count)
        arrivals = Arrivals(tables: [tables], seed: seed, replication: replication, armLane: armLane)
        records = Records(layout: layout, areas: arm.areas.count)
        if let loop = arm.reinvestment, loop.fraction > 0, let referenceCostPerYear {
            feedback = Feedback(loop: loop, arm: arm, referenceCostPerYear: referenceCostPerYear)
        }
    }

    /// Initial children (`Arrivals.initial`), appended to the population.
    mutating func addInitialChildren() {
        population.reserveCapacity(arm.initialCounts.joined().reduce(0, +))
        let absorbing = tables.lookup.absorbing
        let population = population, n = levelCount
        var byArea = [Int](repeating: 0, count: max(arm.areas.count, 1) * n)
        var reachedByArea = [Int](repeating: 0, count: max(arm.areas.count, 1))
        nextId = arrivals.initial { children, _ in
            let c = children[0]
            population.append(level: c.level, age: c.ageMonths, entry: 0, mask: c.mask, area: c.area, id: c.id, monthsInLevel: c.monthsInLevel)
            byArea[c.area * n + c.level] += 1
            if c.mask != 0 && !absorbing[c.level] { reachedByArea[c.area] += 1 }
        }
        records.start(byArea: byArea, reachedByArea: reachedByArea)
    }

    /// The reinvestment loop's intensity, exposure and multipliers for step `t`.
    mutating func prepareFeedback(step t: Int) {
        feedback?.prepare(step: t, arm: arm, schedule: tables.schedule)
    }

    /// Steps 1–3 of `Engine` for every child present at the start of step `t`.
    mutating func moveAgeAndExit(step t: Int) throws(EngineError) {
        tally.reset()
        childSteps += population.count
        let schedule = tables.schedule
        let rowSize = 2 * schedule.masks * (arm.steps + 1)
        let (source, rowStart) = feedback.map { ($0.multipliers, 0) } ?? (schedule.multipliers, (t - 1) * rowSize)
        let kernel = kernel
        let violation = source.withUnsafeBufferPointer { all in
            // Checked once per step: the kernel reads rowSize values from rowStart.
            precondition(rowStart >= 0 && rowStart + rowSize <= all.count, "practice multipliers table too short")
            return population.withColumns { children in
                kernel.advance(&children, step: t, multipliers: all.baseAddress! + rowStart, tally: tally)
            }
        }
        if let worst = violation {
            let leave = worst.red + worst.green
            let red = worst.red / max(tables.redSum[worst.level], .leastNonzeroMagnitude)
            let green = worst.green / max(tables.greenSum[worst.level], .leastNonzeroMagnitude)
            throw EngineError(description: "arm '\(arm.name)', level '\(arm.levels[worst.level].name)', step \(t): escalation multiplier \(red), step-down multiplier \(green) give a leave probability of \(leave) > 1 (stay probability below zero)")
        }
    }

    /// Entries at the end of step `t` (`Arrivals.entering`), appended to the population and counted in its area.
    mutating func addEntries(step t: Int) {
        let absorbing = tables.lookup.absorbing
        let population = population, tally = tally.counts, blockSize = self.tally.blockSize
        let entries = self.tally.shape.entries, reachedChange = self.tally.shape.reachedChange
        arrivals.entering(step: t, stream: stream, nextId: &nextId, willAdd: { population.reserveCapacity(population.count + $0) },
                          add: { children, _ in
                              let c = children[0]
                              population.append(level: c.level, age: c.ageMonths, entry: t, mask: c.mask, area: c.area, id: c.id)
                              tally[c.area * blockSize + entries + c.level] += 1
                              if c.mask != 0 && !absorbing[c.level] { tally[c.area * blockSize + reachedChange] += 1 }
                          })
    }

    /// Stocks, flows, entries, exits and lengths of stay of step `t` into the records;
    /// the reinvestment loop's savings against the reference arm.
    mutating func record(step t: Int) {
        let tally = tally.counts, blockSize = self.tally.blockSize
        records.write(step: t) { a in UnsafeMutableBufferPointer(rebasing: tally[a * blockSize ..< (a + 1) * blockSize]) }
        feedback?.record(step: t, arm: arm, stocks: records.stock, reached: records.reached)
    }

    /// The records completed with inflows, outflows, costs and QoL, and the replication's totals.
    consuming func outcome() -> ReplicationOutcome {
        records.outcome(arm: arm, preventionMoneyPerYear: feedback?.moneyPerYear, childrenEver: Int(nextId), childSteps: childSteps)
    }
}

/// The reinvestment loop within one replication: the practice's intensity, and
/// so the exposure and multipliers, computed step by step from the money the
/// arm saves against the reference arm.
struct Feedback {
    let loop: Reinvestment
    var state: Reinvestment.State
    /// The first arm's cost rate at each time point 0 ... steps.
    let referenceCostPerYear: [Double]
    /// C_k(u): exposure to each practice accumulated to the end of step u = 0 ... steps.
    var cumulative: [[Double]]
    /// This step's (red, green) multipliers, laid out like one step of `PracticeSchedule.multipliers`.
    var multipliers: [Double]
    /// Money for prevention at each time point (0 at 0).
    var moneyPerYear: [Double]

    init(loop: Reinvestment, arm: ArmModel, referenceCostPerYear: [Double]) {
        self.loop = loop
        state = Reinvestment.State(loop, stepYears: arm.stepYears)
        self.referenceCostPerYear = referenceCostPerYear
        cumulative = [[Double]](repeating: [Double](repeating: 0, count: arm.practices.count), count: arm.steps + 1)
        multipliers = [Double](repeating: 1, count: 2 * (1 << arm.practices.count) * (arm.steps + 1))
        moneyPerYear = [Double](repeating: 0, count: arm.steps + 1)
    }

    mutating func prepare(step t: Int, arm: ArmModel, schedule: PracticeSchedule) {
        var x = schedule.intensity[t - 1]
        x[loop.practice] = loop.intensity(planned: x[loop.practice], moneyPerYear: state.moneyPerYear)
        for p in x.indices { cumulative[t][p] = cumulative[t - 1][p] + x[p] * arm.stepYears }
        let cumulative = cumulative
        multipliers.withUnsafeMutableBufferPointer {
            PracticeSchedule.fillStep(t, practices: arm.practices, intensity: x, cumulative: cumulative, cohorts: arm.steps + 1,
                                      timing: arm.exposureTiming, into: $0)
        }
        moneyPerYear[t] = state.moneyPerYear
    }

    mutating func record(step t: Int, arm: ArmModel, stocks: [Int], reached: Int) {
        let own = Rewards.costRatePerYear(arm: arm, stocks: stocks.map(Double.init), reached: Double(reached),
                                          timeYears: Double(t) * arm.stepYears, preventionMoneyPerYear: moneyPerYear[t])
        state.record(savingsPerYear: referenceCostPerYear[t] - own)
    }
}

/// The words of one addressed stream in order, as a `RandomStream` at the same address returns
/// them (word k mod 4 of Philox block ⌊k/4⌋), computed in place: no GSL call per word.
struct WordStream {
    let address: StreamAddress
    var block: (UInt32, UInt32, UInt32, UInt32) = (0, 0, 0, 0)
    var lane = 4
    var position: UInt32 = 0
    /// Block `position`, when already computed (`init(_:first:second:)`).
    var ahead: (UInt32, UInt32, UInt32, UInt32)?

    init(_ address: StreamAddress) { self.address = address }

    /// The same stream with its block 0 already computed (`Philox.block(address, position: 0)`).
    init(_ address: StreamAddress, first: (UInt32, UInt32, UInt32, UInt32)) {
        self.address = address
        block = first
        lane = 0
        position = 1
    }

    /// The same stream with its blocks 0 and 1 already computed.
    init(_ address: StreamAddress, first: (UInt32, UInt32, UInt32, UInt32), second: (UInt32, UInt32, UInt32, UInt32)) {
        self.init(address, first: first)
        ahead = second
    }

    @inline(__always)
    mutating func next() -> UInt32 {
        if lane == 4 {
            if let b = ahead { block = b; ahead = nil } else { block = Philox.block(address, position: position) }
            position &+= 1
            lane = 0
        }
        defer { lane &+= 1 }
        switch lane {
        case 0: return block.0
        case 1: return block.1
        case 2: return block.2
        default: return block.3
        }
    }

    /// Pass over the next `count` words (as `next()` would, without returning them).
    @inline(__always)
    mutating func skip(_ count: Int) { for _ in 0..<count { _ = next() } }

    /// A uniform in [0, 1): word / 2^32, as `RandomStream.uniform` (GSL's `gsl_rng_uniform`).
    @inline(__always)
    mutating func uniform() -> Double { Philox.unit(next()) }

    /// The next non-zero word: `uniformPositive()` is this word / 2^32.
    @inline(__always)
    mutating func positiveWord() -> UInt32 {
        while true { let w = next(); if w != 0 { return w } }
    }

    /// A uniform in (0, 1): the next non-zero `uniform()`, as `RandomStream.uniformPositive`.
    @inline(__always)
    mutating func uniformPositive() -> Double {
        while true { let x = uniform(); if x != 0 { return x } }
    }
}

/// Four words of one Philox block.
typealias EventBlock = (UInt32, UInt32, UInt32, UInt32)

/// A child as it joins a replication: present at the start (entry step 0) or entering at the end of a step.
struct NewChild {
    var level: Int
    var ageMonths: Int
    var mask: UInt8
    var area: Int
    var id: UInt32
    var monthsInLevel: Int
}

/// Philox blocks of eight consecutive children made at once (`Philox.blocks8`, vector code on a
/// processor with AVX2), for `Arrivals` in the event engine: for the ids first ..< first + 8, block 0
/// (and block 1) of each child's arrival stream and block 0 of its event stream. The words are those
/// each child's own `Philox.block` gives; only how many are made in one go changes.
struct BlockBatch {
    let replication: UInt32, key: (UInt32, UInt32)
    let arrivalPurpose: UInt32, eventPurpose: UInt32
    let twoBlocks: Bool
    /// Arrival block 0, arrival block 1, event block 0 (32 words each, word w of lane i at [w · 8 + i]),
    /// then the eight ids, then the first id and whether the blocks are made (1) or not yet (0).
    /// Manually allocated (no reference counting per child): freed by `release`.
    private let words: UnsafeMutablePointer<UInt32>

    /// - Parameters: `arrival`, `event`: the children's arrival and event streams (their index is ignored).
    init(arrival: StreamAddress, event: StreamAddress, twoBlocks: Bool) {
        replication = arrival.replication; key = arrival.key
        arrivalPurpose = arrival.purposeWord; eventPurpose = event.purposeWord
        self.twoBlocks = twoBlocks
        words = .allocate(capacity: 3 * 32 + 8 + 2)
        words.initialize(repeating: 0, count: 3 * 32 + 8 + 2)
    }

    func release() { words.deallocate() }

    /// Child `id`'s arrival blocks 0 and 1 (zeros unless `twoBlocks`) and event block 0.
    @inline(__always)
    func blocks(_ id: UInt32) -> (EventBlock, EventBlock, EventBlock) {
        if words[105] == 0 || id &- words[104] >= 8 { fill(from: id) }
        let i = Int(id &- words[104]), w = words
        return ((w[i], w[8 + i], w[16 + i], w[24 + i]), (w[32 + i], w[40 + i], w[48 + i], w[56 + i]),
                (w[64 + i], w[72 + i], w[80 + i], w[88 + i]))
    }

    private func fill(from id: UInt32) {
        let ids = words + 96
        for i in 0..<8 { ids[i] = id &+ UInt32(i) }
        let at = Philox.eightAtOnce
        Philox.blocks8(position: 0, index: ids, replication: replication, purposeWord: arrivalPurpose, key: key, eightAtOnce: at, into: words)
        if twoBlocks {
            Philox.blocks8(position: 1, index: ids, replication: replication, purposeWord: arrivalPurpose, key: key, eightAtOnce: at, into: words + 32)
        }
        Philox.blocks8(position: 0, index: ids, replication: replication, purposeWord: eventPurpose, key: key, eightAtOnce: at, into: words + 64)
        words[104] = id
        words[105] = 1
    }
}

/// Who joins a replication and when, with the draws both engines share: the
/// same children, with the same ids, levels, ages, coverage and months in level,
/// whichever engine then moves them.
///
/// Arms whose arrivals agree (`Arrivals.shared`) are served together: each child's age, level and
/// the number of children entering are drawn once and each arm gets its own copy of the child, with
/// its own coverage and months in level drawn from the words that follow (with common random
/// numbers every arm reads the same stream, so its child is word for word what serving it alone gives).
/// Made once per replication: what it looks up per child is laid out here, read in place.
struct Arrivals {
    static func address(_ purpose: RandomPurpose, _ index: UInt32, seed: UInt64, replication: UInt32, armLane: UInt8) -> StreamAddress {
        StreamAddress(seed: seed, replication: replication, purpose: purpose, armLane: armLane, index: index)
    }

    /// Whether every arm of `tables` makes the same children from the same words: the same levels,
    /// areas, steps, initial counts, age distribution, births, in-migrants and their entry levels.
    /// Coverage and months in level may differ (they are drawn per arm).
    static func shared(_ tables: [ArmTables]) -> Bool {
        guard let first = tables.first else { return false }
        let a0 = first.arm
        return tables.allSatisfy { t in
            let a = t.arm
            return a.levels.count == a0.levels.count && a.areas.count == a0.areas.count && a.steps == a0.steps
                && a.stepMonths == a0.stepMonths && a.initialCounts == a0.initialCounts
                && a.birthsPerYear == a0.birthsPerYear && a.immigrationPerYear == a0.immigrationPerYear
                && a.entryLevelShares == a0.entryLevelShares && a.immigrationLevelShares == a0.immigrationLevelShares
                && t.ageCumulative == first.ageCumulative && t.ageFromMonths == first.ageFromMonths
                && t.ageSpanMonths == first.ageSpanMonths
        }
    }

    let tables: [ArmTables]
    let seed: UInt64, replication: UInt32, armLane: UInt8
    /// Whether each child's block 0 of its event words (`RandomPurpose.childEvent`) is computed
    /// with its arrival's blocks (their Philox rounds interleaved) and given to `body`.
    let eventBlocks: Bool
    /// Whether an initial child's draws can reach word 4 (block 1 of its stream): then blocks 0
    /// and 1 are computed together.
    let initialTwoBlocks: Bool
    /// Whether an entering child's draws can reach word 4: then, with `eventBlocks`, its blocks 0
    /// and 1 are computed together with block 0 of its event words.
    let enteringTwoBlocks: Bool
    /// With `eventBlocks` on a processor that makes eight Philox blocks at once (`Philox.eightAtOnce`):
    /// the blocks of the initial and of the entering children, eight children at a time.
    let initialBlocks: BlockBatch?, enteringBlocks: BlockBatch?
    /// Coverage shares (`ArmTables.coverageShare`) per area and arm, end to end: area a, arm i at
    /// `coverageOffsets[a · (arms + 1) + i] ..< coverageOffsets[a · (arms + 1) + i + 1]`.
    let coverage: [Double]
    let coverageOffsets: [Int]
    /// Per arm and level at [arm · levels + level]: whether months in level are drawn, and from what.
    let drawn: [Bool]
    let stays: [StationaryMonths]
    /// Per area, the groups entering in each step with a positive rate: births, then in-migrants.
    let groups: [[(purpose: RandomPurpose, perYear: Double)]]

    /// - Precondition: `Arrivals.shared(tables)`.
    init(tables: [ArmTables], seed: UInt64, replication: UInt32, armLane: UInt8, eventBlocks: Bool = false,
         eightAtOnce: Bool = Philox.eightAtOnce) {
        self.tables = tables
        self.seed = seed; self.replication = replication; self.armLane = armLane
        self.eventBlocks = eventBlocks
        // Words: age (two), coverage (one per practice), months in level (two, when drawn).
        initialTwoBlocks = tables.contains { t in 2 + t.arm.practices.count + (t.stationaryMonths.contains { $0 != nil } ? 2 : 0) > 4 }
        // Words: level (one), age (two), coverage (one per practice).
        enteringTwoBlocks = tables.contains { t in 3 + t.arm.practices.count > 4 }
        if eventBlocks && eightAtOnce {
            let event = Self.address(.childEvent, 0, seed: seed, replication: replication, armLane: armLane)
            initialBlocks = BlockBatch(arrival: Self.address(.initialChild, 0, seed: seed, replication: replication, armLane: armLane),
                                       event: event, twoBlocks: initialTwoBlocks)
            enteringBlocks = BlockBatch(arrival: Self.address(.enteringChild, 0, seed: seed, replication: replication, armLane: armLane),
                                        event: event, twoBlocks: enteringTwoBlocks)
        } else {
            initialBlocks = nil; enteringBlocks = nil
        }
        let arm = tables[0].arm
        var coverage: [Double] = [], offsets: [Int] = []
        for a in arm.areas.indices {
            for t in tables { offsets.append(coverage.count); coverage += t.coverageShare[a] }
            offsets.append(coverage.count)
        }
        self.coverage = coverage
        coverageOffsets = offsets
        drawn = tables.flatMap { t in t.stationaryMonths.map { $0 != nil } }
        stays = tables.flatMap { t in t.stationaryMonths.map { $0 ?? .none } }
        groups = arm.areas.indices.map { a in
            [(RandomPurpose.births, arm.birthsPerYear[a]), (.immigration, arm.immigrationPerYear[a])].filter { $0.1 > 0 }
        }
    }

    /// Child `id`'s arrival words (its stream at `address`), with its first blocks already made and block 0
    /// of its event words when `eventBlocks` (zeros otherwise): from `batch` when blocks are made eight
    /// at a time, else child by child.
    @inline(__always)
    func firstWords(_ address: StreamAddress, id: UInt32, batch: BlockBatch?, twoBlocks: Bool) -> (words: WordStream, event: EventBlock) {
        if let batch {
            let (b0, b1, e0) = batch.blocks(id)
            return (twoBlocks ? WordStream(address, first: b0, second: b1) : WordStream(address, first: b0), e0)
        }
        guard eventBlocks else { return (WordStream(address), (0, 0, 0, 0)) }
        return Self.blocks(address, event: Self.address(.childEvent, id, seed: seed, replication: replication, armLane: armLane),
                           twoBlocks: twoBlocks)
    }

    /// A child's arrival words with blocks 0 (and 1, when `twoBlocks`) of its arrival stream already
    /// made, and block 0 of its event stream, their Philox rounds interleaved: the event engine's
    /// blocks where eight are not made at once (`BlockBatch`). Out of line, to keep the loops that
    /// make children small where `BlockBatch` serves them.
    @inline(never)
    static func blocks(_ address: StreamAddress, event: StreamAddress, twoBlocks: Bool) -> (WordStream, EventBlock) {
        if twoBlocks {
            let (b0, b1, e0) = Philox.blocks(address, position: 0, address, position: 1, event, position: 0)
            return (WordStream(address, first: b0, second: b1), e0)
        }
        let (b0, e0) = Philox.blocks(address, position: 0, event, position: 0)
        return (WordStream(address, first: b0), e0)
    }

    /// Free the blocks made ahead (`BlockBatch`); the arrivals are not used after.
    func release() { initialBlocks?.release(); enteringBlocks?.release() }

    /// Initial children: ids from 0 in order area by area, level by level. Draws, in
    /// order: age (two), coverage (one per practice), then time already in the level (two).
    /// `body` gets the child once per arm (in arm order), and block 0 of its event words when
    /// `eventBlocks` (zeros otherwise); returns the next free id.
    ///
    /// Each child is drawn before `body` gets the one before it (children in id order all the same):
    /// the draws depend on nothing `body` does, so the processor can overlap the draws' chains of
    /// dependent operations (Philox rounds, table look-ups) with `body`'s work.
    func initial(_ body: (UnsafeBufferPointer<NewChild>, EventBlock) -> Void) -> UInt32 {
        let arms = tables.count, first = tables[0], arm = first.arm, n = arm.levels.count
        let seed = seed, replication = replication, armLane = armLane, drawn = drawn
        let batch = initialBlocks
        var nextId: UInt32 = 0
        // Two slots of `arms` children: the one just drawn, and the one waiting for `body`.
        var children = [NewChild](repeating: NewChild(level: 0, ageMonths: 0, mask: 0, area: 0, id: 0, monthsInLevel: 0), count: 2 * arms)
        var slot = 0, waiting = false, waitingEvent: EventBlock = (0, 0, 0, 0)
        coverage.withUnsafeBufferPointer { coverage in coverageOffsets.withUnsafeBufferPointer { offsets in
        stays.withUnsafeBufferPointer { stays in children.withUnsafeMutableBufferPointer { children in
            /// The child waiting in slot `s`, to `body`.
            func pass(_ s: Int) {
                body(UnsafeBufferPointer(rebasing: children[s * arms ..< (s + 1) * arms]), waitingEvent)
            }
            for (a, counts) in arm.initialCounts.enumerated() {
                let o = a * (arms + 1)
                for (l, count) in counts.enumerated() {
                    for _ in 0..<count {
                        let address = Self.address(.initialChild, nextId, seed: seed, replication: replication, armLane: armLane)
                        let made = firstWords(address, id: nextId, batch: batch, twoBlocks: initialTwoBlocks)
                        var words = made.words
                        let event = made.event
                        let age = Engine.drawAge(&words, first)
                        for i in 0..<arms {
                            var own = words
                            let m = Engine.drawCoverage(&own, shares: UnsafeBufferPointer(rebasing: coverage[offsets[o + i] ..< offsets[o + i + 1]]))
                            var months = 0
                            if drawn[i * n + l] {
                                let u = own.uniform(), w = own.positiveWord()
                                months = stays[i * n + l].months(u: u, word: w)
                            }
                            children[slot * arms + i] = NewChild(level: l, ageMonths: age, mask: m, area: a, id: nextId, monthsInLevel: months)
                        }
                        if waiting { pass(1 - slot) }
                        waiting = true
                        waitingEvent = event
                        slot = 1 - slot
                        nextId &+= 1
                    }
                }
            }
            if waiting { pass(1 - slot) }
        } } } }
        return nextId
    }

    /// Entries at the end of step `t`: births then in-migrants, area by area; `willAdd` learns each
    /// group's size before its children are made. `body` gets each child once per arm, and block 0
    /// of its event words when `eventBlocks` (zeros otherwise).
    func entering(step t: Int, stream: borrowing RandomStream, nextId: inout UInt32, willAdd: (Int) -> Void = { _ in },
                  add body: (UnsafeBufferPointer<NewChild>, EventBlock) -> Void) {
        let arms = tables.count, first = tables[0], arm = first.arm
        let n = arm.levels.count, stepYears = arm.stepYears
        let seed = seed, replication = replication, armLane = armLane
        let batch = enteringBlocks
        var children = [NewChild](repeating: NewChild(level: 0, ageMonths: 0, mask: 0, area: 0, id: 0, monthsInLevel: 0), count: arms)
        var id = nextId
        coverage.withUnsafeBufferPointer { coverage in coverageOffsets.withUnsafeBufferPointer { offsets in
        children.withUnsafeMutableBufferPointer { children in
            for (a, groups) in groups.enumerated() {
                let o = a * (arms + 1)
                for (purpose, perYear) in groups {
                    stream.move(to: Self.address(purpose, UInt32(t) << 8 | UInt32(a), seed: seed, replication: replication, armLane: armLane))
                    let number = stream.poisson(mean: perYear * stepYears)
                    let shares = purpose == .births ? arm.entryLevelShares : arm.immigrationLevelShares
                    willAdd(number)
                    for _ in 0..<number {
                        let address = Self.address(.enteringChild, id, seed: seed, replication: replication, armLane: armLane)
                        let made = firstWords(address, id: id, batch: batch, twoBlocks: enteringTwoBlocks)
                        var words = made.words
                        let event = made.event
                        let u = words.uniform()
                        var l = 0, acc = shares[0]
                        while l < n - 1 && u >= acc { l += 1; acc += shares[l] }
                        // A newborn's age is 0: its two age words are passed over, not used.
                        let age: Int
                        if purpose == .births { words.skip(2); age = 0 } else { age = Engine.drawAge(&words, first) }
                        for i in 0..<arms {
                            var own = words
                            let m = Engine.drawCoverage(&own, shares: UnsafeBufferPointer(rebasing: coverage[offsets[o + i] ..< offsets[o + i + 1]]))
                            children[i] = NewChild(level: l, ageMonths: age, mask: m, area: a, id: id, monthsInLevel: 0)
                        }
                        body(UnsafeBufferPointer(children), event)
                        id &+= 1
                    }
                }
            }
        } } }
        nextId = id
    }
}

/// Where one step's counts of one area sit in a block of `size` integers, as both engines count
/// them: the recorded moves (`RecordLayout.moves`; move k at [k], `ArmTables.Lookup.moveSlot`),
/// then per level the exits (ageing out, out-migration), the entries (births, in-migrants), the
/// months of the stays that ended and their number, then the change in children reached by practice.
/// A block grows with the moves that can happen, not with the square of the levels.
struct StepCounts: Sendable {
    let levels: Int
    let moves: Int

    init(layout: RecordLayout) {
        levels = layout.levelCount
        moves = layout.moves.count
    }

    var size: Int { moves + 4 * levels + 1 }
    var exits: Int { moves }
    var entries: Int { moves + levels }
    var stayMonths: Int { moves + 2 * levels }
    var stays: Int { moves + 3 * levels }
    var reachedChange: Int { moves + 4 * levels }
}

/// A replication's per-step records, of all areas and (with two or more areas) of each area,
/// built step by step from the counts of each area (`StepCounts`), and the stocks they change.
///
/// Both engines count by area; the record of all areas is written from the sum of the areas'
/// counts, so each area's children are counted once and the areas add up to all areas exactly
/// (integer counts). Each record is then completed by `RecordLayout.fillDerivedFlows` and
/// `Rewards.fill`, an area's without the programme's cost (`Quantity.isAuthorityWide`).
struct Records {
    let layout: RecordLayout
    let n: Int
    /// Areas with records of their own: the arm's areas when two or more, else 0.
    let areaCount: Int
    var record: [Double]
    var areaRecords: [[Double]]
    /// Children per level now, and at each time point 0 ... steps at [t · n + level] (as `Rewards.fill`
    /// reads them): all areas, and per area.
    var stock: [Int]
    var stockPath: [Double]
    var areaStock: [[Int]]
    var areaStockPath: [[Double]]
    /// Children reached by practice and not in an absorbing level, now and at each time point.
    var reached = 0
    var reachedPath: [Double]
    var areaReached: [Int]
    var areaReachedPath: [[Double]]
    /// Where the counts of a block are (`StepCounts`).
    let shape: StepCounts
    /// The sum of the areas' counts of the step being written.
    private var sum: [Int]

    init(layout: RecordLayout, areas: Int) {
        self.layout = layout
        n = layout.levelCount
        areaCount = areas >= 2 ? areas : 0
        record = [Double](repeating: 0, count: layout.recordSize)
        areaRecords = [[Double]](repeating: record, count: areaCount)
        stock = [Int](repeating: 0, count: n)
        stockPath = [Double](repeating: 0, count: (layout.steps + 1) * n)
        areaStock = [[Int]](repeating: stock, count: areaCount)
        areaStockPath = [[Double]](repeating: stockPath, count: areaCount)
        reachedPath = [Double](repeating: 0, count: layout.steps + 1)
        areaReached = [Int](repeating: 0, count: areaCount)
        areaReachedPath = [[Double]](repeating: reachedPath, count: areaCount)
        shape = StepCounts(layout: layout)
        sum = [Int](repeating: 0, count: shape.size)
    }

    /// The children present at the start: `byArea[a · n + l]` in level l of area a, `reachedByArea[a]`
    /// of them reached by practice (not in an absorbing level), for every area of the arm (one: a = 0).
    mutating func start(byArea: [Int], reachedByArea: [Int]) {
        precondition(byArea.count == max(areaCount, 1) * n && reachedByArea.count == max(areaCount, 1), "initial counts of another arm")
        for a in 0..<max(areaCount, 1) {
            for l in 0..<n { stock[l] += byArea[a * n + l] }
            reached += reachedByArea[a]
            if areaCount > 0 {
                areaStock[a] = Array(byArea[a * n ..< (a + 1) * n])
                areaReached[a] = reachedByArea[a]
                Self.put(areaStock[a], step: 0, into: &areaStockPath[a])
                areaReachedPath[a][0] = Double(areaReached[a])
            }
        }
        Self.put(stock, step: 0, into: &stockPath)
        reachedPath[0] = Double(reached)
    }

    /// The stocks of step `t` into a path laid out [t · n + level].
    private static func put(_ stock: [Int], step t: Int, into path: inout [Double]) {
        for (l, s) in stock.enumerated() { path[t * stock.count + l] = Double(s) }
    }

    /// Step `t`'s counts into the records: `counts(a)` is area a's block (`StepCounts`; with one
    /// area, the only block). The stocks become those at the end of step t:
    /// stock_l += Σ_i flow_{i→l} − Σ_j flow_{l→j} + entries_l − exits_l.
    mutating func write(step t: Int, counts: (Int) -> UnsafeMutableBufferPointer<Int>) {
        if areaCount == 0 {
            let block = counts(0)
            Self.write(step: t, counts: block, layout: layout, shape: shape, stock: &stock, record: &record)
            reached += block[shape.reachedChange]
        } else {
            for k in sum.indices { sum[k] = 0 }
            for a in 0..<areaCount {
                let block = counts(a)
                for k in sum.indices { sum[k] += block[k] }
                Self.write(step: t, counts: block, layout: layout, shape: shape, stock: &areaStock[a], record: &areaRecords[a])
                areaReached[a] += block[shape.reachedChange]
                Self.put(areaStock[a], step: t, into: &areaStockPath[a])
                areaReachedPath[a][t] = Double(areaReached[a])
            }
            sum.withUnsafeMutableBufferPointer { Self.write(step: t, counts: $0, layout: layout, shape: shape, stock: &stock, record: &record) }
            reached += sum[shape.reachedChange]
        }
        Self.put(stock, step: t, into: &stockPath)
        reachedPath[t] = Double(reached)
    }

    /// Flows, entries, exits and lengths of stay of one block of counts into `record` at step `t`.
    private static func write(step t: Int, counts: UnsafeMutableBufferPointer<Int>, layout: RecordLayout, shape: StepCounts,
                              stock: inout [Int], record: inout [Double]) {
        let n = layout.levelCount
        let exits = shape.exits, entries = shape.entries
        let stayMonths = shape.stayMonths, stays = shape.stays
        let flows = layout.offset(.flow)
        for (k, m) in layout.moves.enumerated() {
            stock[m.from] -= counts[k]
            stock[m.to] += counts[k]
            record[layout.index(step: t, slot: flows + k)] = Double(counts[k])
        }
        var entriesAll = 0, exitsAll = 0, monthsAll = 0, leaversAll = 0
        for l in 0..<n {
            stock[l] += counts[entries + l] - counts[exits + l]
            entriesAll += counts[entries + l]; exitsAll += counts[exits + l]
            monthsAll += counts[stayMonths + l]; leaversAll += counts[stays + l]
        }
        for l in 0...n {
            let level: Int? = l < n ? l : nil
            record[layout.index(step: t, slot: layout.slot(.entries, level: level))] = Double(l < n ? counts[entries + l] : entriesAll)
            record[layout.index(step: t, slot: layout.slot(.exits, level: level))] = Double(l < n ? counts[exits + l] : exitsAll)
            let (months, leavers) = l < n ? (counts[stayMonths + l], counts[stays + l]) : (monthsAll, leaversAll)
            record[layout.index(step: t, slot: layout.slot(.lengthOfStayYears, level: level))] =
                leavers > 0 ? Double(months) / Double(leavers) / 12 : .nan
        }
    }

    /// The records completed with inflows, outflows, costs and QoL, and the replication's totals.
    consuming func outcome(arm: ArmModel, preventionMoneyPerYear: [Double]?, childrenEver: Int, childSteps: Int) -> ReplicationOutcome {
        layout.fillDerivedFlows(&record)
        let discounts = Rewards.Discounts(arm: arm)
        let totals = Rewards.fill(record: &record, layout: layout, arm: arm,
                                  stocks: stockPath, reached: reachedPath,
                                  preventionMoneyPerYear: preventionMoneyPerYear, discounts: discounts,
                                  childrenEver: childrenEver, childSteps: childSteps)
        for a in 0..<areaCount {
            layout.fillDerivedFlows(&areaRecords[a])
            _ = Rewards.fill(record: &areaRecords[a], layout: layout, arm: arm,
                             stocks: areaStockPath[a], reached: areaReachedPath[a],
                             programme: false, discounts: discounts, childrenEver: 0, childSteps: 0)
        }
        return ReplicationOutcome(record: record, totals: totals, areaRecords: areaRecords)
    }
}
