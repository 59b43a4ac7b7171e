import Analysis
import Experiments
import Foundation
import Microsimulation
import Model
import StockFlow

/// What `state.bin` keeps of a run or shard so that `girfec merge` can
/// combine shards exactly: the scenario text, the plan, every aggregator
/// cell and every replication row. An internal format, versioned and
/// checksummed (docs/outputs.md); read it with `girfec merge`, not by hand.
public struct RunState: Sendable {
    public static let magic: [UInt8] = Array("GIRFECST".utf8)
    /// 5: a header with the file's length, the scenario's SHA-256, seed, replications,
    /// shard K/M and covered ranges, and a SHA-256 of the whole file at its end. 4 had neither.
    public static let formatVersion: UInt32 = 8
    /// Bytes of the trailing SHA-256.
    static let checksumSize = 32
    /// Magic, format version and length: what every state file begins with.
    static let fixedPrefixSize = 8 + 4 + 8
    /// The most replications a run may have (as `girfec run --replications` allows).
    public static let maximumReplications = Int(UInt32.max)

    /// The girfec version that wrote it; shards of different versions do not merge.
    public var toolVersion: String = GirfecVersion.string
    /// M of `--shard K/M` (1 for an unsharded run); shards of different splits do not merge.
    public var shardCount: Int = 1
    /// The K of every shard of the M this state holds, ascending: one for a run, several after
    /// a partial merge. `covered` must be exactly these shards' replications.
    public var shards: [Int] = [1]
    public var scenarioFileName: String
    public var scenarioText: String
    public var seed: UInt64
    public var replications: Int
    public var commonRandomNumbers: Bool
    /// Replication ranges this state covers, sorted and disjoint.
    public var covered: [Range<Int>]
    public var aggregator: Aggregator
    public var rows: [ReplicationRow]
    public var childSteps: Int
    /// Summed over the merged parts.
    public var wallSeconds: Double
    /// How the aggregate model beside the agents is run.
    public var aggregateOptions: AggregateOptions
    /// Willingness-to-pay values for summary.csv.
    public var costEffectiveness: CostEffectiveness.Settings
    /// Replications per parameter draw (nested runs); 1 otherwise.
    public var replicationsPerDraw: Int = 1
    /// Whether the scenario's parameter distributions were ignored (`--base-case`).
    public var baseCase: Bool = false
    /// The quantity groups the per-step and per-year files hold (`--quantities`; every group by default).
    public var quantities: Set<QuantityGroup> = QuantityGroup.every
    /// The files the scenario read besides itself (include fragments, draws file): name → text,
    /// so a merge or report needs only state files.
    public var attachedFiles: [String: String] = [:]

    public init(scenarioFileName: String, scenarioText: String, seed: UInt64, replications: Int,
                commonRandomNumbers: Bool, covered: [Range<Int>], aggregator: Aggregator, rows: [ReplicationRow],
                childSteps: Int, wallSeconds: Double, aggregateOptions: AggregateOptions = AggregateOptions(),
                costEffectiveness: CostEffectiveness.Settings = CostEffectiveness.Settings()) {
        self.scenarioFileName = scenarioFileName
        self.scenarioText = scenarioText
        self.seed = seed
        self.replications = replications
        self.commonRandomNumbers = commonRandomNumbers
        self.covered = covered
        self.aggregator = aggregator
        self.rows = rows
        self.childSteps = childSteps
        self.wallSeconds = wallSeconds
        self.aggregateOptions = aggregateOptions
        self.costEffectiveness = costEffectiveness
    }

    /// The quantity groups as one byte: bit k for `QuantityGroup.allCases[k]`.
    static func mask(_ groups: Set<QuantityGroup>) -> UInt8 {
        QuantityGroup.allCases.enumerated().reduce(0) { m, e in groups.contains(e.element) ? m | UInt8(1 << e.offset) : m }
    }

    /// The groups of a byte written by `mask`, or nil when it names none or an unknown bit.
    static func groups(_ byte: UInt8) -> Set<QuantityGroup>? {
        guard byte != 0, byte >> QuantityGroup.allCases.count == 0 else { return nil }
        return Set(QuantityGroup.allCases.enumerated().filter { byte & UInt8(1 << $0.offset) != 0 }.map(\.element))
    }

    /// Record that this state is shard `shard` (K/M) of its run; `girfec run --replication I` is shard (I+1)/N.
    public mutating func setShard(_ shard: Shard) {
        shardCount = shard.count
        shards = [shard.index]
    }

    /// The replications shard K of this run's M runs.
    public func replications(ofShard k: Int) -> Range<Int> { Shard(index: k, count: shardCount).replications(of: replications) }

    /// The shards of the M not held, as "K" or "K–L" runs, ascending (for messages).
    public var missingShards: [String] {
        var gaps: [String] = []
        var next = 1
        for k in shards.sorted() + [shardCount + 1] {
            if k > next { gaps.append(k - 1 == next ? "\(next)" : "\(next)–\(k - 1)") }
            next = max(next, k + 1)
        }
        return gaps
    }

    public var isComplete: Bool { covered == [0..<replications] || (replications == 0 && covered.isEmpty) }

    /// Replications not yet covered.
    public var missing: [Range<Int>] {
        var gaps: [Range<Int>] = []
        var at = 0
        for r in covered {
            if r.lowerBound > at { gaps.append(at..<r.lowerBound) }
            at = max(at, r.upperBound)
        }
        if at < replications { gaps.append(at..<replications) }
        return gaps
    }

    public var scenarioHash: String { SHA256.hex(Array(scenarioText.utf8)) }

    /// The scenario's uncertainty if this run drew it (not `--base-case`).
    public func drawnUncertainty(_ scenario: Scenario) -> Uncertainty? { baseCase ? nil : scenario.uncertainty }

    // MARK: Merging

    public struct MergeError: Error, CustomStringConvertible {
        public var description: String
    }

    /// Folds shards of one run into a running total, one at a time, so that
    /// memory holds the total and one shard. Each shard is checked against
    /// the first one folded in; a shard with problems is left out and its
    /// problems returned, so a caller can report every file's problems at once.
    public struct Merger: Sendable {
        /// The running total and the source of its first shard.
        public private(set) var total: (source: String, state: RunState)? = nil
        /// Which source gave each shard K.
        private var sourceOfShard: [Int: String] = [:]

        public init() {}

        /// Fold in `state`, read from `source`; returns why it cannot be, empty if it was folded in.
        public mutating func add(_ source: String, _ s: RunState) -> [String] {
            guard var result = total?.state, let first = total?.source else {
                total = (source, s)
                for k in s.shards { sourceOfShard[k] = source }
                return []
            }
            var problems: [String] = []
            if s.scenarioHash != result.scenarioHash { problems.append("scenario SHA-256 \(s.scenarioHash) differs from \(first)'s \(result.scenarioHash)") }
            if s.toolVersion != result.toolVersion { problems.append("girfec version \(s.toolVersion) differs from \(first)'s \(result.toolVersion)") }
            if s.shardCount != result.shardCount { problems.append("it is one of \(s.shardCount) shards, \(first) one of \(result.shardCount)") }
            if s.seed != result.seed { problems.append("seed \(s.seed) differs from \(first)'s \(result.seed)") }
            if s.replications != result.replications { problems.append("--replications \(s.replications) differs from \(first)'s \(result.replications)") }
            if s.commonRandomNumbers != result.commonRandomNumbers { problems.append("common random numbers \(s.commonRandomNumbers) differs from \(first)'s \(result.commonRandomNumbers)") }
            if s.costEffectiveness != result.costEffectiveness { problems.append("willingness-to-pay settings differ from \(first)'s") }
            if s.replicationsPerDraw != result.replicationsPerDraw { problems.append("--replications-per-draw \(s.replicationsPerDraw) differs from \(first)'s \(result.replicationsPerDraw)") }
            if s.baseCase != result.baseCase { problems.append("--base-case \(s.baseCase) differs from \(first)'s \(result.baseCase)") }
            if s.quantities != result.quantities {
                problems.append("--quantities \(QuantityGroup.names(s.quantities).joined(separator: ",")) differs from \(first)'s \(QuantityGroup.names(result.quantities).joined(separator: ","))")
            }
            if s.attachedFiles != result.attachedFiles { problems.append("the included or draws files differ from \(first)'s") }
            if s.aggregateOptions != result.aggregateOptions { problems.append("aggregate model \(s.aggregateOptions.label) differs from \(first)'s \(result.aggregateOptions.label)") }
            let a = result.aggregator, b = s.aggregator
            if a.arms != b.arms || a.steps != b.steps || a.integerSlots != b.integerSlots || a.cells.count != b.cells.count {
                problems.append("its statistics have \(b.arms) arms × \(b.steps + 1) steps × \(b.slots) slots, \(first)'s \(a.arms) × \(a.steps + 1) × \(a.slots)")
            }
            if !problems.isEmpty {
                return ["\(source) is not a shard of the same run as \(first): " + problems.joined(separator: "; ")]
            }
            // Shards given twice (the same folder, a copy, or a merged folder and one of its shards).
            for k in s.shards {
                if let other = sourceOfShard[k] {
                    let r = s.replications(ofShard: k)
                    problems.append("\(source) repeats replications \(r.lowerBound)..<\(r.upperBound) (shard \(k)/\(s.shardCount)), already covered by \(other): each shard may be merged once")
                }
            }
            // Consistent states cannot overlap without sharing a shard; kept as a guard for the sums below.
            if problems.isEmpty {
                for x in result.covered { for y in s.covered where x.overlaps(y) {
                    problems.append("\(source) repeats replications \(y.lowerBound)..<\(y.upperBound), already covered by another folder (\(x.lowerBound)..<\(x.upperBound)): each shard may be merged once")
                } }
            }
            if !problems.isEmpty { return problems }
            // The exact sums are 128-bit; refuse rather than trap if they would overflow.
            for i in a.cells.indices {
                let p = a.cells[i].moments, q = b.cells[i].moments
                if p.sum.addingReportingOverflow(q.sum).overflow || p.sumOfSquares.addingReportingOverflow(q.sumOfSquares).overflow {
                    return ["\(source): its sums for statistic \(i) overflow 128 bits when added to the others'; expected values within ±\(ExactMoments.largestMagnitude)"]
                }
            }
            let (steps, stepsOverflow) = result.childSteps.addingReportingOverflow(s.childSteps)
            if stepsOverflow { return ["\(source): its child-step count \(s.childSteps) overflows the total"] }
            result.aggregator.merge(s.aggregator)
            result.rows += s.rows
            result.rows.sort { ($0.replication, $0.arm) < ($1.replication, $1.arm) }
            result.covered = RunState.union(result.covered + s.covered)
            result.shards = (result.shards + s.shards).sorted()
            result.childSteps = steps
            result.wallSeconds += s.wallSeconds
            for k in s.shards { sourceOfShard[k] = source }
            total = (first, result)
            return []
        }
    }

    /// Combine shards of one run. They must come from the same scenario text,
    /// seed, replication count, shard count and settings, and not overlap;
    /// the error lists every problem of every part.
    public static func merge(_ parts: [(source: String, state: RunState)]) throws(MergeError) -> RunState {
        var merger = Merger()
        var problems: [String] = []
        for (source, state) in parts { problems += merger.add(source, state) }
        guard let result = merger.total?.state else { throw MergeError(description: "nothing to merge: give at least one run folder") }
        guard problems.isEmpty else { throw MergeError(description: problems.joined(separator: "\n")) }
        return result
    }

    static func union(_ ranges: [Range<Int>]) -> [Range<Int>] {
        var out: [Range<Int>] = []
        for r in ranges.sorted(by: { $0.lowerBound < $1.lowerBound }) where !r.isEmpty {
            if let last = out.last, last.upperBound >= r.lowerBound {
                out[out.count - 1] = last.lowerBound..<max(last.upperBound, r.upperBound)
            } else {
                out.append(r)
            }
        }
        return out
    }

    // MARK: Encoding

    /// The bytes of `state.bin` (docs/outputs.md): a header, the body, and a SHA-256 of all before it.
    public func encoded() -> [UInt8] {
        var w = BinaryWriter()
        // Header.
        w.bytes(Self.magic)
        w.u32(Self.formatVersion)
        w.u64(0)  // the file's length, filled in below
        w.bytes(SHA256.digest(Array(scenarioText.utf8)))
        w.u64(seed)
        w.i64(replications)
        w.i64(shardCount)
        w.i64(shards.count)
        for k in shards { w.i64(k) }
        w.i64(covered.count)
        for r in covered { w.i64(r.lowerBound); w.i64(r.upperBound) }
        // Body.
        w.string(toolVersion)
        w.string(scenarioFileName)
        w.string(scenarioText)
        w.u8(commonRandomNumbers ? 1 : 0)
        w.i64(childSteps)
        w.f64(wallSeconds)
        w.string(aggregateOptions.mode.rawValue); w.f64(aggregateOptions.dtYears ?? .nan)
        w.string(aggregateOptions.method.rawValue); w.string(aggregateOptions.exposure.rawValue)
        w.i64(costEffectiveness.willingnessToPay.count)
        for v in costEffectiveness.willingnessToPay { w.f64(v) }
        w.f64(costEffectiveness.curveMaximum); w.f64(costEffectiveness.curveStep)
        w.i64(replicationsPerDraw); w.u8(baseCase ? 1 : 0)
        w.u8(Self.mask(quantities))
        w.i64(attachedFiles.count)
        for name in attachedFiles.keys.sorted() { w.string(name); w.string(attachedFiles[name]!) }
        let agg = aggregator
        w.i64(agg.arms); w.i64(agg.steps); w.i64(agg.slots)
        for b in agg.integerSlots { w.u8(b ? 1 : 0) }
        for cell in agg.cells {
            let m = cell.moments, q = cell.quantiles
            w.i64(Int(m.count)); w.i128(m.sum); w.i128(m.sumOfSquares)
            w.i64(q.minimumExponent); w.i64(Int(q.count)); w.f64(q.minimum); w.f64(q.maximum)
            w.i64(q.exponent); w.i64(Int(q.offset)); w.i64(q.bins.count)
            for c in q.bins { w.u32(c) }
        }
        w.i64(rows.count)
        for row in rows {
            let t = row.totals
            w.i64(row.replication); w.i64(row.arm); w.i64(t.childrenEver); w.f64(t.childYears); w.f64(t.cost)
            w.f64(t.costDiscounted); w.f64(t.programmeCostDiscounted); w.f64(t.qolYears); w.f64(t.qolYearsDiscounted)
            w.f64(t.transitionCostDiscounted); w.f64(t.transitionQolYearsDiscounted)
            w.i64(t.childSteps); w.i64(row.breakEvenStep ?? -1); w.i64(t.finalStocks.count)
            for s in t.finalStocks { w.i64(s) }
            w.i64(row.draw); w.i64(row.parameters.count)
            for v in row.parameters { w.f64(v) }
            w.i64(row.yearly.count)
            for v in row.yearly { w.f64(v) }
        }
        w.setU64(UInt64(w.data.count + Self.checksumSize), at: Self.magic.count + 4)
        w.bytes(SHA256.digest(w.data))
        return w.data
    }

    // MARK: Decoding

    /// Why `data` is not an intact state file of this format, checked before anything
    /// else is read: its length and its trailing SHA-256; nil if intact.
    static func integrityProblem(_ data: [UInt8]) -> String? {
        let smallest = fixedPrefixSize + checksumSize
        var r = BinaryReader(data: data)
        let startsRight = r.bytes(magic.count) == magic
        let version = r.u32(), promised = r.u64()
        if data.count >= smallest {
            let end = data.count - checksumSize
            if SHA256.digest(Array(data[..<end])) == Array(data[end...]) { return nil }
        }
        // Older formats carried no checksum: name both versions rather than call the file damaged.
        if startsRight, let version, version >= 1, version < formatVersion {
            // Format 4 went on with the girfec version that wrote it.
            var old = BinaryReader(data: data)
            old.at = magic.count + 4
            var writer = ""
            if let name = old.string(maximumLength: 200) { writer = " by girfec \(name)" }
            return "written in state format \(version)\(writer), but this girfec reads only format \(formatVersion): re-run that shard with this girfec (or merge it with the girfec that wrote it)"
        }
        if data.count < smallest {
            return "it is \(data.count) bytes, shorter than any state file (at least \(smallest)): it was cut short or is not a girfec state file; re-run that shard"
        }
        var text = "checksum mismatch: the file was changed or damaged after girfec wrote it; re-run that shard"
        if !startsRight {
            text += " (it does not begin with GIRFECST, so it may not be a girfec state file at all)"
        } else if let promised, promised != UInt64(data.count) {
            text += " (it has \(data.count) bytes where its header says \(promised): it was cut short or extended)"
        }
        return text
    }

    /// Read a state file, refusing anything girfec could not have written:
    /// first its SHA-256 (any damage), then every length, count and index is
    /// bounded before it is used, and the content must be consistent — the
    /// shards and ranges, the replication rows, the statistics, and the layout
    /// of the scenario it holds. Never traps; every problem found is named.
    public static func decode(_ data: [UInt8], source: String) throws(MergeError) -> RunState {
        if let problem = integrityProblem(data) { throw MergeError(description: "\(source): \(problem)") }
        var r = BinaryReader(data: data, end: data.count - checksumSize)
        func fail(_ what: String) -> MergeError {
            MergeError(description: "\(source): \(what); expected a state.bin written by girfec (format \(formatVersion)). Re-run that shard")
        }
        // Header. The checksum is right, so a problem from here on is a girfec bug or a deliberate edit.
        guard r.bytes(magic.count) == magic else { throw fail("it does not begin with GIRFECST") }
        guard let version = r.u32() else { throw fail("it ends inside the header") }
        guard version == formatVersion else {
            throw fail("written in state format \(version), but this girfec reads only format \(formatVersion)")
        }
        guard let length = r.u64(), length == UInt64(data.count) else { throw fail("its header gives a length other than its \(data.count) bytes") }
        guard let scenarioDigest = r.bytes(32), let seed = r.u64(), let n = r.i64(), let m = r.i64(),
              let shardListCount = r.count(each: 8) else { throw fail("it ends inside the header") }
        var shardList: [Int] = []
        for _ in 0..<shardListCount { guard let k = r.i64() else { throw fail("it ends inside the shard list") }; shardList.append(k) }
        guard let rangeCount = r.count(each: 16) else { throw fail("it ends inside the header") }
        var rawCovered: [(Int, Int)] = []
        for _ in 0..<rangeCount {
            guard let lo = r.i64(), let hi = r.i64() else { throw fail("it ends inside the replication ranges") }
            rawCovered.append((lo, hi))
        }
        // Body.
        guard let toolVersion = r.string(maximumLength: 1000), let fileName = r.string(maximumLength: 4096) else {
            throw fail("its girfec version or scenario file name is cut short or not UTF-8")
        }
        guard let text = r.string() else { throw fail("its scenario text is cut short or not UTF-8") }
        guard let crn = r.u8(), let childSteps = r.i64(), let wall = r.f64(), let modeText = r.string(maximumLength: 100), let dt = r.f64(),
              let methodText = r.string(maximumLength: 100), let exposureText = r.string(maximumLength: 100) else {
            throw fail("it ends inside the run's settings")
        }
        guard let mode = AggregateMode(rawValue: modeText), let method = IntegrationMethod(rawValue: methodText),
              let exposure = ExposureTracking(rawValue: exposureText) else {
            throw fail("its aggregate-model setting '\(modeText)', '\(methodText)', '\(exposureText)' is not one girfec knows")
        }
        guard let wtpCount = r.count(each: 8) else { throw fail("it ends inside the willingness-to-pay values") }
        var wtp: [Double] = []
        for _ in 0..<wtpCount { guard let v = r.f64() else { throw fail("it ends inside the willingness-to-pay values") }; wtp.append(v) }
        guard let curveMaximum = r.f64(), let curveStep = r.f64(), let perDraw = r.i64(), let baseCaseByte = r.u8(),
              let quantitiesByte = r.u8(), let attachedCount = r.count(each: 16) else { throw fail("it ends inside the run's settings") }
        var attached: [String: String] = [:]
        for _ in 0..<attachedCount {
            guard let name = r.string(maximumLength: 4096), let content = r.string() else { throw fail("an attached file is cut short or not UTF-8") }
            guard attached[name] == nil else { throw fail("the attached file '\(name)' appears twice") }
            attached[name] = content
        }
        guard let arms = r.i64(), let steps = r.i64(), let slots = r.i64(),
              (1..<256).contains(arms), (0..<(1 << 20)).contains(steps), (1..<(1 << 20)).contains(slots) else {
            throw fail("its statistics' layout (arms, steps, slots) is cut short or out of range")
        }
        var integerSlots: [Bool] = []
        for _ in 0..<slots {
            guard let b = r.u8(), b <= 1 else { throw fail("its slot kinds are cut short or not 0 or 1") }
            integerSlots.append(b == 1)
        }
        let cellCount = (2 * arms - 1) * (steps + 1) * slots
        let cellSize = 96
        guard cellCount <= r.remaining / cellSize else { throw fail("it holds fewer statistics than its layout needs (\(cellCount))") }
        var cells: [Cell] = []
        cells.reserveCapacity(cellCount)
        for _ in 0..<cellCount {
            guard let count = r.i64(), let sum = r.i128(), let sq = r.i128(), let minExp = r.i64(), let qCount = r.i64(),
                  let lo = r.f64(), let hi = r.f64(), let exp = r.i64(), let offset = r.i64(), let binCount = r.i64() else {
                throw fail("it ends inside the statistics")
            }
            guard (0...BinnedQuantiles.maximumBins).contains(binCount) else {
                throw fail("a histogram has \(binCount) bins, more than \(BinnedQuantiles.maximumBins)")
            }
            var bins = [UInt32](repeating: 0, count: binCount)
            for i in 0..<binCount { guard let c = r.u32() else { throw fail("it ends inside a histogram") }; bins[i] = c }
            cells.append(Cell(moments: ExactMoments(count: Int64(count), sum: sum, sumOfSquares: sq),
                              quantiles: BinnedQuantiles(minimumExponent: minExp, count: Int64(qCount), minimum: lo,
                                                         maximum: hi, exponent: exp, offset: Int64(offset), bins: bins)))
        }
        let smallestRow = 17 * 8
        guard let rowCount = r.count(each: smallestRow) else { throw fail("it ends before the replication rows") }
        var rows: [ReplicationRow] = []
        rows.reserveCapacity(rowCount)
        for _ in 0..<rowCount {
            guard let rep = r.i64(), let arm = r.i64(), let ever = r.i64(), let years = r.f64(), let cost = r.f64(),
                  let costD = r.f64(), let prog = r.f64(), let qol = r.f64(), let qolD = r.f64(),
                  let moveCostD = r.f64(), let moveQolD = r.f64(), let cs = r.i64(),
                  let breakEven = r.i64(), let levels = r.count(each: 8) else { throw fail("it ends inside a replication row") }
            var finals: [Int] = []
            for _ in 0..<levels { guard let s = r.i64() else { throw fail("it ends inside a replication row") }; finals.append(s) }
            guard let draw = r.i64(), let valueCount = r.count(each: 8) else { throw fail("it ends inside a replication row") }
            var values: [Double] = []
            for _ in 0..<valueCount { guard let v = r.f64() else { throw fail("it ends inside a replication row") }; values.append(v) }
            guard let yearlyCount = r.count(each: 8) else { throw fail("it ends inside a replication row") }
            var yearly: [Double] = []
            yearly.reserveCapacity(yearlyCount)
            for _ in 0..<yearlyCount { guard let v = r.f64() else { throw fail("it ends inside a replication row") }; yearly.append(v) }
            var totals = ReplicationTotals(childrenEver: ever, childYears: years, cost: cost, costDiscounted: costD,
                                           programmeCostDiscounted: prog, qolYears: qol, qolYearsDiscounted: qolD,
                                           finalStocks: finals, childSteps: cs)
            totals.transitionCostDiscounted = moveCostD
            totals.transitionQolYearsDiscounted = moveQolD
            rows.append(ReplicationRow(replication: rep, arm: arm, totals: totals, breakEvenStep: breakEven >= 0 ? breakEven : nil,
                                       draw: draw, parameters: values, yearly: yearly))
            if breakEven < -1 { throw fail("replication \(rep) arm \(arm) has break-even step \(breakEven)") }
        }
        guard r.atEnd else { throw fail("\(r.remaining) bytes follow the replication rows") }

        // Consistency: everything a correct girfec writes satisfies these.
        var problems: [String] = []
        let sane = (1...maximumReplications).contains(n) && (1...n).contains(m)
        if !(1...maximumReplications).contains(n) { problems.append("its replication count \(n) is outside 1 ... \(maximumReplications)") }
        if (1...maximumReplications).contains(n) && !(1...n).contains(m) { problems.append("its shard count M = \(m) is outside 1 ... \(n) (the replications)") }
        var covered: [Range<Int>] = []
        var rangesValid = true
        var previousEnd = Int.min
        for (lo, hi) in rawCovered {
            guard lo < hi, lo >= 0, hi <= (sane ? n : Int.max), previousEnd == Int.min || lo > previousEnd else {
                problems.append("its replication ranges \(rawCovered.map { "\($0.0)..<\($0.1)" }.joined(separator: ", ")) are not ascending, disjoint, non-empty ranges within 0..<\(n)")
                rangesValid = false
                break
            }
            covered.append(lo..<hi)
            previousEnd = hi
        }
        if rawCovered.isEmpty { problems.append("it covers no replications") }
        if sane {
            let shardsValid = !shardList.isEmpty && shardList.allSatisfy { (1...m).contains($0) } && zip(shardList, shardList.dropFirst()).allSatisfy { $0 < $1 }
            if !shardsValid {
                problems.append("its shard list \(shardList.map(String.init).joined(separator: ", ")) is not ascending shard numbers within 1 ... \(m)")
            } else if rangesValid {
                let expected = union(shardList.map { Shard(index: $0, count: m).replications(of: n) })
                if covered != expected {
                    let names = shardList.map { "\($0)/\(m)" }.joined(separator: ", ")
                    problems.append("it covers replications \(describe(covered)), but shard\(shardList.count == 1 ? "" : "s") \(names) of \(n) replications cover\(shardList.count == 1 ? "s" : "") \(describe(expected))")
                }
            }
        }
        func hasControl(_ s: String) -> Bool { s.unicodeScalars.contains { $0.properties.generalCategory == .control } }
        if toolVersion.isEmpty || hasControl(toolVersion) || fileName.isEmpty || hasControl(fileName) || attached.keys.contains(where: hasControl) {
            problems.append("its girfec version, scenario file name or an attached file's name is empty or holds control characters")
        }
        if SHA256.digest(Array(text.utf8)) != scenarioDigest { problems.append("its scenario text does not match the scenario SHA-256 in its header") }
        if !(0...(1 << 56)).contains(childSteps) { problems.append("its child-step count \(childSteps) is negative or implausibly large") }
        if !(wall == 0 || (1e-9...1e12).contains(wall)) { problems.append("its wall time \(wall) s is neither 0 nor between 1 ns and 10^12 s") }
        if !(dt.isNaN || (dt.isFinite && dt > 0)) { problems.append("its aggregate step \(dt) years is not a positive number") }
        if wtp.isEmpty || !wtp.allSatisfy({ $0.isFinite && $0 >= 0 }) { problems.append("its willingness-to-pay values are not finite amounts >= 0") }
        if !(curveMaximum.isFinite && curveMaximum >= 0 && curveStep.isFinite && curveStep > 0 && curveMaximum / curveStep <= 100_000) {
            problems.append("its acceptability curve (to \(curveMaximum) in steps of \(curveStep)) is outside what `girfec run` accepts")
        }
        if !(1...(1 << 53)).contains(perDraw) { problems.append("its replications per draw \(perDraw) is below 1 or implausibly large") }
        if crn > 1 || baseCaseByte > 1 { problems.append("a yes/no setting holds a byte other than 0 or 1") }
        if Self.groups(quantitiesByte) == nil { problems.append("the quantity groups written hold the byte \(quantitiesByte), which names no group or an unknown one") }

        // Statistics: each cell as `add` and `merge` leave it, counting at most the covered replications.
        let coveredCount = covered.reduce(0) { $0 + $1.count }
        let largest = Int128((ExactMoments.largestMagnitude * ExactMoments.scale).rounded())
        var cellProblems: [String] = []
        var mostCounted: Int64 = 0
        for (i, cell) in cells.enumerated() {
            let mo = cell.moments, q = cell.quantiles
            func note(_ what: String) { cellProblems.append("statistic \(i) (arm block \(i / ((steps + 1) * slots)), step \(i / slots % (steps + 1)), slot \(i % slots)): \(what)") }
            if mo.count < 0 || mo.count > Int64(coveredCount) { note("counts \(mo.count) values, but the file covers \(coveredCount) replications"); continue }
            if q.count != mo.count { note("its histogram counts \(q.count) values, its sums \(mo.count)"); continue }
            if q.minimumExponent != (integerSlots[i % slots] ? 0 : -40) { note("its histogram's finest bin does not match the slot's kind"); continue }
            if mo.sum.magnitude > UInt128(largest) * UInt128(mo.count) || mo.sumOfSquares < 0 || (mo.count == 0 && (mo.sum != 0 || mo.sumOfSquares != 0)) {
                note("its sums are out of range for \(mo.count) values"); continue
            }
            if let problem = q.inconsistency { note(problem); continue }
            mostCounted = max(mostCounted, mo.count)
        }
        if cellProblems.isEmpty, !cells.isEmpty, mostCounted != Int64(coveredCount) {
            cellProblems.append("no statistic counts all \(coveredCount) covered replications (at most \(mostCounted)): the statistics are not those of the covered replications")
        }
        if !cellProblems.isEmpty {
            problems.append(cellProblems.count <= 3 ? cellProblems.joined(separator: "; ")
                            : cellProblems.prefix(3).joined(separator: "; ") + "; and \(cellProblems.count - 3) more statistics")
        }

        // Rows: exactly one per covered replication and arm, ascending.
        let (rowsNeeded, tooMany) = coveredCount.multipliedReportingOverflow(by: arms)
        if tooMany || rows.count != rowsNeeded {
            problems.append("it holds \(rows.count) replication rows, but \(coveredCount) covered replications × \(arms) arms need \(tooMany ? "more" : "\(rowsNeeded)")")
        } else if rangesValid {
            var expected = covered.lazy.flatMap { r in r.lazy.flatMap { rep in (0..<arms).lazy.map { (rep, $0) } } }.makeIterator()
            for row in rows {
                guard let (rep, arm) = expected.next(), row.replication == rep, row.arm == arm else {
                    problems.append("its replication rows are not one per covered replication and arm in order: found replication \(row.replication) arm \(row.arm) where another was due")
                    break
                }
                if arm == 0 ? row.breakEvenStep != nil : !(row.breakEvenStep.map { $0 >= 1 && $0 <= steps } ?? true) {
                    problems.append("replication \(rep) arm \(arm) has a break-even step outside 1 ... \(steps)")
                    break
                }
            }
        }
        if !problems.isEmpty {
            throw MergeError(description: "\(source): \(problems.count == 1 ? "" : "\(problems.count) problems: ")" + problems.joined(separator: "; ")
                             + ". It was not written like this by girfec; re-run that shard")
        }

        var state = RunState(scenarioFileName: fileName, scenarioText: text, seed: seed, replications: n,
                             commonRandomNumbers: crn == 1, covered: covered,
                             aggregator: Aggregator(arms: arms, steps: steps, integerSlots: integerSlots, cells: cells),
                             rows: rows, childSteps: childSteps, wallSeconds: wall,
                             aggregateOptions: AggregateOptions(mode: mode, dtYears: dt.isNaN ? nil : dt, method: method, exposure: exposure),
                             costEffectiveness: CostEffectiveness.Settings(willingnessToPay: wtp, curveMaximum: curveMaximum, curveStep: curveStep))
        state.toolVersion = toolVersion
        state.shardCount = m
        state.shards = shardList
        state.replicationsPerDraw = perDraw
        state.baseCase = baseCaseByte == 1
        state.quantities = Self.groups(quantitiesByte) ?? state.quantities
        state.attachedFiles = attached

        // The layout of the scenario it holds.
        let scenario: Scenario
        do { scenario = try ScenarioDecoder.decode(yaml: text, file: fileName) { attached[$0] } } catch {
            throw MergeError(description: "\(source): the scenario stored in it does not validate with this girfec version:\n\(error.description)")
        }
        let layoutProblems = state.layoutProblems(scenario)
        if !layoutProblems.isEmpty {
            throw MergeError(description: "\(source): \(layoutProblems.joined(separator: "; ")). It was not written like this by girfec; re-run that shard")
        }
        return state
    }

    /// Where the statistics and rows do not fit the scenario's layout: arms × steps × slots, the
    /// levels of each row's final stocks, its yearly values, and each row's parameter draw and values.
    func layoutProblems(_ scenario: Scenario) -> [String] {
        var problems: [String] = []
        let arm0 = scenario.arms[0]
        let layout = RecordLayout(arm: arm0)
        let a = aggregator
        if a.arms != scenario.arms.count || a.steps != layout.steps || a.integerSlots != layout.slots.map(\.quantity.isCount) {
            problems.append("its statistics have \(a.arms) arms × \(a.steps + 1) steps × \(a.slots) slots, but its scenario needs \(scenario.arms.count) × \(layout.steps + 1) × \(layout.slotCount)")
        }
        let drawn = drawnUncertainty(scenario)
        let columns = drawn?.columns.count ?? 0
        let yearly = YearlyLayout(arm: arm0)
        for row in rows {
            var what: String? = nil
            if row.totals.finalStocks.count != scenario.levels.count {
                what = "has \(row.totals.finalStocks.count) final stocks for the scenario's \(scenario.levels.count) levels"
            } else if row.yearly.count != yearly.size {
                what = "has \(row.yearly.count) yearly values where the scenario has \(yearly.size) (\(yearly.years.count) years × \(yearly.slotCount) quantities\(yearly.areas.isEmpty ? "" : ", and × \(yearly.areaSlots.count) for each of \(yearly.areas.count) areas"))"
            } else if row.parameters.count != columns {
                what = "has \(row.parameters.count) parameter values where the scenario draws \(columns)"
            } else if row.draw != (drawn == nil ? 0 : row.replication / replicationsPerDraw) {
                what = "says parameter draw \(row.draw), but replication \(row.replication) uses draw \(drawn == nil ? 0 : row.replication / replicationsPerDraw)"
            }
            if let what {
                problems.append("replication \(row.replication) arm \(row.arm) \(what)")
                break
            }
        }
        return problems
    }

    /// "a..<b, c..<d" (or "none").
    static func describe(_ ranges: [Range<Int>]) -> String {
        ranges.isEmpty ? "none" : ranges.map { "\($0.lowerBound)..<\($0.upperBound)" }.joined(separator: ", ")
    }
}

/// Little-endian binary writing.
struct BinaryWriter {
    var data: [UInt8] = []
    mutating func bytes(_ b: [UInt8]) { data += b }
    mutating func u8(_ x: UInt8) { data.append(x) }
    mutating func u32(_ x: UInt32) { for i in 0..<4 { data.append(UInt8(truncatingIfNeeded: x >> (8 * UInt32(i)))) } }
    mutating func u64(_ x: UInt64) { for i in 0..<8 { data.append(UInt8(truncatingIfNeeded: x >> (8 * UInt64(i)))) } }
    /// Overwrite 8 bytes at `offset` (which must already be written).
    mutating func setU64(_ x: UInt64, at offset: Int) {
        for i in 0..<8 { data[offset + i] = UInt8(truncatingIfNeeded: x >> (8 * UInt64(i))) }
    }
    mutating func i64(_ x: Int) { u64(UInt64(bitPattern: Int64(x))) }
    mutating func i128(_ x: Int128) {
        let u = UInt128(bitPattern: x)
        u64(UInt64(truncatingIfNeeded: u)); u64(UInt64(truncatingIfNeeded: u >> 64))
    }
    mutating func f64(_ x: Double) { u64(x.bitPattern) }
    mutating func string(_ s: String) { let b = Array(s.utf8); i64(b.count); bytes(b) }
}

/// Little-endian binary reading of `data[..<end]`; nil past the end, never a trap:
/// every length is checked against the bytes left before it is used.
struct BinaryReader {
    let data: [UInt8]
    let end: Int
    var at = 0

    init(data: [UInt8], end: Int? = nil) {
        self.data = data
        self.end = min(max(end ?? data.count, 0), data.count)
    }

    var atEnd: Bool { at == end }
    var remaining: Int { end - at }
    mutating func bytes(_ n: Int) -> [UInt8]? {
        guard n >= 0, n <= remaining else { return nil }
        defer { at += n }
        return Array(data[at..<at + n])
    }
    mutating func u8() -> UInt8? {
        guard remaining >= 1 else { return nil }
        defer { at += 1 }
        return data[at]
    }
    mutating func u32() -> UInt32? {
        guard remaining >= 4 else { return nil }
        defer { at += 4 }
        return UInt32(data[at]) | UInt32(data[at + 1]) << 8 | UInt32(data[at + 2]) << 16 | UInt32(data[at + 3]) << 24
    }
    mutating func u64() -> UInt64? {
        guard remaining >= 8 else { return nil }
        defer { at += 8 }
        let lo = UInt64(data[at]) | UInt64(data[at + 1]) << 8 | UInt64(data[at + 2]) << 16 | UInt64(data[at + 3]) << 24
        let hi = UInt64(data[at + 4]) | UInt64(data[at + 5]) << 8 | UInt64(data[at + 6]) << 16 | UInt64(data[at + 7]) << 24
        return lo | hi << 32
    }
    mutating func i64() -> Int? { u64().map { Int(Int64(bitPattern: $0)) } }
    mutating func i128() -> Int128? {
        guard let lo = u64(), let hi = u64() else { return nil }
        return Int128(bitPattern: UInt128(hi) << 64 | UInt128(lo))
    }
    mutating func f64() -> Double? { u64().map(Double.init(bitPattern:)) }
    /// A count of items of at least `each` bytes: nil if negative or more than the bytes left could hold.
    mutating func count(each: Int) -> Int? {
        guard let n = i64(), n >= 0, n <= remaining / max(each, 1) else { return nil }
        return n
    }
    /// A length-prefixed string; nil if cut short, longer than `maximumLength` bytes, or not valid UTF-8.
    mutating func string(maximumLength: Int = Int.max) -> String? {
        guard let n = i64(), n >= 0, n <= maximumLength, let b = bytes(n) else { return nil }
        return String(validating: b, as: UTF8.self)
    }
}
