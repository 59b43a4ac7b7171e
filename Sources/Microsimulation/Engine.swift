import CGSL
import Foundation
import Model
import Stochastics

/// What one replication of one arm produced.
public struct ReplicationOutcome: Sendable {
    /// Per-step values, laid out by `RecordLayout`.
    public var record: [Double]
    public var totals: ReplicationTotals
}

/// The engine stopped: a modulated stay probability went below zero.
public struct EngineError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(description: String) { self.description = description }
}

/// Children of one replication, structure of arrays, reused across replications by one worker.
public final class Population {
    var level: [UInt8] = []
    var ageMonths: [UInt16] = []
    var monthsInLevel: [UInt16] = []
    var entryStep: [UInt16] = []
    var mask: [UInt8] = []
    var area: [UInt8] = []
    var id: [UInt32] = []
    /// Words 2 and 3 of the child's current Philox block, for the next (even) step.
    var pending: [UInt64] = []

    public init() {}

    var count: Int { level.count }

    func removeAll() {
        level.removeAll(keepingCapacity: true); ageMonths.removeAll(keepingCapacity: true)
        monthsInLevel.removeAll(keepingCapacity: true); entryStep.removeAll(keepingCapacity: true)
        mask.removeAll(keepingCapacity: true); area.removeAll(keepingCapacity: true); id.removeAll(keepingCapacity: true)
        pending.removeAll(keepingCapacity: true)
    }

    func append(level l: Int, age: Int, entry: Int, mask m: UInt8, area a: Int, id i: UInt32, monthsInLevel months: Int = 0) {
        level.append(UInt8(l)); ageMonths.append(UInt16(clamping: age)); monthsInLevel.append(UInt16(clamping: months))
        entryStep.append(UInt16(entry)); mask.append(m); area.append(UInt8(a)); id.append(i); pending.append(0)
    }
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
        let arm = tables.arm
        let layout = tables.layout
        let n = arm.levels.count
        let steps = arm.steps
        var record = [Double](repeating: 0, count: layout.recordSize)
        let pop = population
        pop.removeAll()

        let address = { (purpose: RandomPurpose, index: UInt32) in
            StreamAddress(seed: seed, replication: replication, purpose: purpose, armLane: armLane, index: index)
        }
        let stream = RandomStream(address(.initialChild, 0))
        var stock = [Int](repeating: 0, count: n)
        var reachedNow = 0
        var nextId: UInt32 = 0

        // Initial children: ids in order area by area, level by level. Draws, in
        // order: age (two), coverage (one per practice), then time already in the level (two).
        let stays = arm.initialDurations == .stationary ? arm.levels.indices.map { StationaryStay(arm: arm, level: $0) } : []
        for (a, counts) in arm.initialCounts.enumerated() {
            for (l, count) in counts.enumerated() {
                for _ in 0..<count {
                    stream.move(to: address(.initialChild, nextId))
                    let age = drawAge(stream, tables)
                    let m = drawCoverage(stream, tables, area: a)
                    var months = 0
                    if !stays.isEmpty && !arm.levels[l].absorbing {
                        let u = stream.uniform(), v = stream.uniformPositive()
                        months = stays[l].months(u: u, v: v)
                    }
                    pop.append(level: l, age: age, entry: 0, mask: m, area: a, id: nextId, monthsInLevel: months)
                    nextId &+= 1
                    stock[l] += 1
                    if m != 0 && !tables.absorbing[l] { reachedNow += 1 }
                }
            }
        }
        var stockPath = [[Int]](repeating: [], count: steps + 1)
        var reachedPath = [Int](repeating: 0, count: steps + 1)
        stockPath[0] = stock
        reachedPath[0] = reachedNow
        var childSteps = 0

        let stepMonths = UInt16(arm.stepMonths)
        let ageOut = arm.ageOutMonths.map { UInt16(clamping: $0) } ?? UInt16.max
        let hasAgeOut = arm.ageOutMonths != nil
        let ageing = arm.ageing
        let pOut = tables.emigrationPerStep
        let masks = tables.schedule.masks
        let cohorts = steps + 1
        let k = address(.childStep, 0).key
        let purposeWord = address(.childStep, 0).purposeWord
        let ageBandTop = tables.ageBandOfMonth.count - 1
        let durCap = tables.durationCap
        let durBands = tables.durationBandsMax
        let ageBands = tables.escalationByAgeBand.count
        var flows = [Int](repeating: 0, count: n * n)
        var exits = [Int](repeating: 0, count: n)
        var entries = [Int](repeating: 0, count: n)
        var staySum = [Int](repeating: 0, count: n), stayCount = [Int](repeating: 0, count: n)
        var worst: (level: Int, leave: Double, red: Double, green: Double)? = nil

        // The reinvestment loop: intensity, exposure and multipliers computed step by step.
        let loop = arm.reinvestment.flatMap { r in r.fraction > 0 ? r : nil }
        let dynamic = loop != nil && referenceCostPerYear != nil
        var loopState = loop.map { Reinvestment.State($0, stepYears: arm.stepYears) }
        var cumulative = [[Double]](repeating: [Double](repeating: 0, count: arm.practices.count), count: dynamic ? steps + 1 : 0)
        var stepMultipliers = [Double](repeating: 1, count: dynamic ? 2 * masks * cohorts : 0)
        var money = [Double](repeating: 0, count: steps + 1)

        for t in stride(from: 1, through: steps, by: 1) {
            for i in flows.indices { flows[i] = 0 }
            for i in 0..<n { exits[i] = 0; entries[i] = 0; staySum[i] = 0; stayCount[i] = 0 }
            let tableBase = 2 * (t - 1) * masks * cohorts
            var reachedExits = 0
            var count = pop.count
            childSteps += count
            if dynamic, let loop, let state = loopState {
                var x = tables.schedule.intensity[t - 1]
                x[loop.practice] = loop.intensity(planned: x[loop.practice], moneyPerYear: state.moneyPerYear)
                for p in x.indices { cumulative[t][p] = cumulative[t - 1][p] + x[p] * arm.stepYears }
                stepMultipliers.withUnsafeMutableBufferPointer {
                    PracticeSchedule.fillStep(t, practices: arm.practices, intensity: x, cumulative: cumulative, cohorts: cohorts, into: $0)
                }
                money[t] = state.moneyPerYear
            }
            let multiplierSource = dynamic ? stepMultipliers : tables.schedule.multipliers
            let multiplierBase = dynamic ? 0 : tableBase
            let odd = t % 2 == 1
            let position = UInt32((t - 1) / 2)
            let lastStep = UInt16(t - 1)
            multiplierSource.withUnsafeBufferPointer { mult in
            tables.baseRed.withUnsafeBufferPointer { baseRed in
            tables.baseGreen.withUnsafeBufferPointer { baseGreen in
            tables.redCumulative.withUnsafeBufferPointer { redCum in
            tables.greenCumulative.withUnsafeBufferPointer { greenCum in
            tables.redTargets.withUnsafeBufferPointer { redTo in
            tables.greenTargets.withUnsafeBufferPointer { greenTo in
            tables.absorbing.withUnsafeBufferPointer { absorbing in
            tables.ageBandOfMonth.withUnsafeBufferPointer { ageBand in
            tables.durationBand.withUnsafeBufferPointer { durBand in
            pop.level.withUnsafeMutableBufferPointer { level in
            pop.ageMonths.withUnsafeMutableBufferPointer { age in
            pop.monthsInLevel.withUnsafeMutableBufferPointer { dur in
            pop.entryStep.withUnsafeMutableBufferPointer { entry in
            pop.mask.withUnsafeMutableBufferPointer { mask in
            pop.area.withUnsafeMutableBufferPointer { area in
            pop.id.withUnsafeMutableBufferPointer { ids in
            pop.pending.withUnsafeMutableBufferPointer { pending in
            flows.withUnsafeMutableBufferPointer { flow in
            staySum.withUnsafeMutableBufferPointer { staySum in
            stayCount.withUnsafeMutableBufferPointer { stayCount in
            exits.withUnsafeMutableBufferPointer { exit in
                var c = 0
                while c < count {
                    let from = Int(level[c])
                    if absorbing[from] { c += 1; continue }
                    // Two words for this step: computed in odd steps (and for
                    // children who were not here in the previous step), kept otherwise.
                    let w0: UInt32, w1: UInt32
                    if odd {
                        let b = girfec_philox4x32(position, ids[c], replication, purposeWord, k.0, k.1).v
                        w0 = b.0; w1 = b.1
                        pending[c] = UInt64(b.2) | UInt64(b.3) << 32
                    } else if entry[c] < lastStep {
                        w0 = UInt32(truncatingIfNeeded: pending[c]); w1 = UInt32(truncatingIfNeeded: pending[c] >> 32)
                    } else {
                        let b = girfec_philox4x32(position, ids[c], replication, purposeWord, k.0, k.1).v
                        w0 = b.2; w1 = b.3
                    }
                    let u = Philox.unit(w0)
                    let mi = multiplierBase + 2 * (Int(mask[c]) * cohorts + Int(entry[c]))
                    let band = Int(ageBand[min(Int(age[c]), ageBandTop)])
                    let base = (from * ageBands + band) * durBands + Int(durBand[from * (durCap + 1) + min(Int(dur[c]), durCap)])
                    let pRed = baseRed[base] * mult[mi]
                    let pGreen = baseGreen[base] * mult[mi + 1]
                    var to = from
                    if u < pRed {
                        let v = u / pRed
                        var j = 0
                        while j < n - 1 && v >= redCum[from * n + j] { j += 1 }
                        to = Int(redTo[from * n + j])
                    } else if u < pRed + pGreen {
                        let v = (u - pRed) / pGreen
                        var j = 0
                        while j < n - 1 && v >= greenCum[from * n + j] { j += 1 }
                        to = Int(greenTo[from * n + j])
                    }
                    if pRed + pGreen > 1 + 1e-12, worst == nil {
                        worst = (from, pRed + pGreen, pRed / max(tables.redSum[from], .leastNonzeroMagnitude),
                                 pGreen / max(tables.greenSum[from], .leastNonzeroMagnitude))
                    }
                    if to != from {
                        // A child entering an absorbing level is no longer reached by practice.
                        if absorbing[to] && mask[c] != 0 { reachedExits &+= 1 }
                        staySum[from] &+= Int(dur[c]) &+ Int(stepMonths)
                        stayCount[from] &+= 1
                        flow[from * n + to] += 1
                        level[c] = UInt8(to)
                        dur[c] = 0
                    } else {
                        dur[c] = dur[c] &+ (dur[c] < UInt16.max - stepMonths ? stepMonths : 0)
                    }
                    if ageing { age[c] = age[c] &+ (age[c] < UInt16.max - stepMonths ? stepMonths : 0) }
                    let leaves = !absorbing[to] && ((hasAgeOut && age[c] >= ageOut) || Philox.unit(w1) < pOut)
                    if leaves {
                        exit[to] += 1
                        staySum[to] &+= Int(dur[c])
                        stayCount[to] &+= 1
                        if mask[c] != 0 { reachedExits += 1 }
                        count -= 1
                        level[c] = level[count]; age[c] = age[count]; dur[c] = dur[count]; entry[c] = entry[count]
                        mask[c] = mask[count]; area[c] = area[count]; ids[c] = ids[count]; pending[c] = pending[count]
                    } else {
                        c += 1
                    }
                }
            }}}}}}}}}}}}}}}}}}}}}}
            if let worst {
                throw EngineError(description: "arm '\(arm.name)', level '\(arm.levels[worst.level].name)', step \(t): escalation multiplier \(worst.red), step-down multiplier \(worst.green) give a leave probability of \(worst.leave) > 1 (stay probability below zero)")
            }
            pop.level.removeLast(pop.count - count); pop.ageMonths.removeLast(pop.ageMonths.count - count)
            pop.monthsInLevel.removeLast(pop.monthsInLevel.count - count); pop.entryStep.removeLast(pop.entryStep.count - count)
            pop.mask.removeLast(pop.mask.count - count); pop.area.removeLast(pop.area.count - count); pop.id.removeLast(pop.id.count - count)
            pop.pending.removeLast(pop.pending.count - count)
            reachedNow -= reachedExits

            // Entries at the end of the step: births then in-migrants, area by area.
            for a in arm.areas.indices {
                for (purpose, perYear) in [(RandomPurpose.births, arm.birthsPerYear[a]), (.immigration, arm.immigrationPerYear[a])] where perYear > 0 {
                    stream.move(to: address(purpose, UInt32(t) << 8 | UInt32(a)))
                    let number = stream.poisson(mean: perYear * arm.stepYears)
                    let shares = purpose == .births ? arm.entryLevelShares : arm.immigrationLevelShares
                    for _ in 0..<number {
                        stream.move(to: address(.enteringChild, nextId))
                        let u = stream.uniform()
                        var l = 0, acc = shares[0]
                        while l < n - 1 && u >= acc { l += 1; acc += shares[l] }
                        let age = drawAge(stream, tables)
                        let m = drawCoverage(stream, tables, area: a)
                        pop.append(level: l, age: purpose == .births ? 0 : age, entry: t, mask: m, area: a, id: nextId)
                        nextId &+= 1
                        entries[l] += 1
                        if m != 0 && !tables.absorbing[l] { reachedNow += 1 }
                    }
                }
            }

            // Record the step.
            for i in 0..<n {
                for j in 0..<n where i != j {
                    stock[i] -= flows[i * n + j]
                    stock[j] += flows[i * n + j]
                    record[layout.index(step: t, slot: layout.flowSlot(from: i, to: j))] = Double(flows[i * n + j])
                }
            }
            for l in 0..<n { stock[l] += entries[l] - exits[l] }
            stockPath[t] = stock
            reachedPath[t] = reachedNow
            if dynamic, let reference = referenceCostPerYear {
                let own = Rewards.costRatePerYear(arm: arm, stocks: stock.map(Double.init), reached: Double(reachedNow),
                                                  timeYears: Double(t) * arm.stepYears, preventionMoneyPerYear: money[t])
                loopState?.record(savingsPerYear: reference[t] - own)
            }
            let entriesAll = entries.reduce(0, +), exitsAll = exits.reduce(0, +)
            let stayAll = staySum.reduce(0, +), leaversAll = stayCount.reduce(0, +)
            for l in 0...n {
                let level: Int? = l < n ? l : nil
                record[layout.index(step: t, slot: layout.slot(.entries, level: level))] = Double(l < n ? entries[l] : entriesAll)
                record[layout.index(step: t, slot: layout.slot(.exits, level: level))] = Double(l < n ? exits[l] : exitsAll)
                let (months, leavers) = l < n ? (staySum[l], stayCount[l]) : (stayAll, leaversAll)
                record[layout.index(step: t, slot: layout.slot(.lengthOfStayYears, level: level))] =
                    leavers > 0 ? Double(months) / Double(leavers) / 12 : .nan
            }
        }
        layout.fillInflowOutflow(&record)
        let totals = Rewards.fill(record: &record, layout: layout, arm: arm,
                                  stocks: stockPath.map { $0.map(Double.init) }, reached: reachedPath.map(Double.init),
                                  preventionMoneyPerYear: dynamic ? money : nil,
                                  childrenEver: Int(nextId), childSteps: childSteps)
        return ReplicationOutcome(record: record, totals: totals)
    }

    /// Age in months from the age distribution: one uniform for the band, one within it.
    static func drawAge(_ stream: borrowing RandomStream, _ tables: ArmTables) -> Int {
        let u = stream.uniform(), v = stream.uniform()
        let bands = tables.arm.ageDistribution
        var b = 0
        while b < bands.count - 1 && u >= tables.ageCumulative[b] { b += 1 }
        let band = bands[b]
        return band.fromMonths + Int(v * Double(band.toMonths - band.fromMonths))
    }

    /// Coverage mask: bit k set when practice k reaches the child (one uniform per practice, always drawn,
    /// so that the stream stays aligned whatever the coverage).
    static func drawCoverage(_ stream: borrowing RandomStream, _ tables: ArmTables, area: Int) -> UInt8 {
        var m: UInt8 = 0
        let shares = tables.coverageShare[area]
        for k in shares.indices where stream.uniform() < shares[k] { m |= 1 << UInt8(k) }
        return m
    }
}
