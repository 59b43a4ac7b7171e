import Analysis
import Experiments
import Foundation
import Microsimulation
import Model
import StockFlow

/// What `state.bin` keeps of a run or shard so that `girfec merge` can
/// combine shards exactly: the scenario text, the plan, every aggregator
/// cell and every replication row. An internal format, versioned; read it
/// with `girfec merge`, not by hand.
public struct RunState: Sendable {
    public static let magic: [UInt8] = Array("GIRFECST".utf8)
    public static let formatVersion: UInt32 = 4

    /// The girfec version that wrote it; shards of different versions do not merge.
    public var toolVersion: String = GirfecVersion.string
    /// M of `--shard K/M` (1 for an unsharded run); shards of different splits do not merge.
    public var shardCount: Int = 1
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

    /// Combine shards of one run. They must come from the same scenario text,
    /// seed, replication count and random-number setting, and not overlap.
    public static func merge(_ parts: [(source: String, state: RunState)]) throws(MergeError) -> RunState {
        guard var result = parts.first?.state else { throw MergeError(description: "nothing to merge: give at least one run folder") }
        let first = parts[0]
        for (source, s) in parts.dropFirst() {
            var problems: [String] = []
            if s.scenarioHash != result.scenarioHash { problems.append("scenario SHA-256 \(s.scenarioHash) differs from \(first.source)'s \(result.scenarioHash)") }
            if s.toolVersion != result.toolVersion { problems.append("girfec version \(s.toolVersion) differs from \(first.source)'s \(result.toolVersion)") }
            if s.shardCount != result.shardCount { problems.append("it is one of \(s.shardCount) shards, \(first.source) one of \(result.shardCount)") }
            if s.seed != result.seed { problems.append("seed \(s.seed) differs from \(first.source)'s \(result.seed)") }
            if s.replications != result.replications { problems.append("--replications \(s.replications) differs from \(first.source)'s \(result.replications)") }
            if s.commonRandomNumbers != result.commonRandomNumbers { problems.append("common random numbers \(s.commonRandomNumbers) differs from \(first.source)'s \(result.commonRandomNumbers)") }
            if s.costEffectiveness != result.costEffectiveness { problems.append("willingness-to-pay settings differ from \(first.source)'s") }
            if s.replicationsPerDraw != result.replicationsPerDraw { problems.append("--replications-per-draw \(s.replicationsPerDraw) differs from \(first.source)'s \(result.replicationsPerDraw)") }
            if s.baseCase != result.baseCase { problems.append("--base-case \(s.baseCase) differs from \(first.source)'s \(result.baseCase)") }
            if s.attachedFiles != result.attachedFiles { problems.append("the included or draws files differ from \(first.source)'s") }
            if s.aggregateOptions != result.aggregateOptions { problems.append("aggregate model \(s.aggregateOptions.label) differs from \(first.source)'s \(result.aggregateOptions.label)") }
            if !problems.isEmpty {
                throw MergeError(description: "\(source) is not a shard of the same run as \(first.source): " + problems.joined(separator: "; "))
            }
            for a in result.covered { for b in s.covered where a.overlaps(b) {
                throw MergeError(description: "\(source) repeats replications \(b.lowerBound)..<\(b.upperBound), already covered by another folder (\(a.lowerBound)..<\(a.upperBound)): each shard may be merged once")
            } }
            result.aggregator.merge(s.aggregator)
            result.rows += s.rows
            result.covered = Self.union(result.covered + s.covered)
            result.childSteps += s.childSteps
            result.wallSeconds += s.wallSeconds
        }
        result.rows.sort { ($0.replication, $0.arm) < ($1.replication, $1.arm) }
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

    public func encoded() -> [UInt8] {
        var w = BinaryWriter()
        w.bytes(Self.magic)
        w.u32(Self.formatVersion)
        w.string(toolVersion)
        w.i64(shardCount)
        w.string(scenarioFileName)
        w.string(scenarioText)
        w.u64(seed)
        w.i64(replications)
        w.u8(commonRandomNumbers ? 1 : 0)
        w.i64(covered.count)
        for r in covered { w.i64(r.lowerBound); w.i64(r.upperBound) }
        w.i64(childSteps)
        w.f64(wallSeconds)
        w.string(aggregateOptions.mode.rawValue); w.f64(aggregateOptions.dtYears ?? .nan)
        w.string(aggregateOptions.method.rawValue); w.string(aggregateOptions.exposure.rawValue)
        w.i64(costEffectiveness.willingnessToPay.count)
        for v in costEffectiveness.willingnessToPay { w.f64(v) }
        w.f64(costEffectiveness.curveMaximum); w.f64(costEffectiveness.curveStep)
        w.i64(replicationsPerDraw); w.u8(baseCase ? 1 : 0)
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
            w.i64(t.childSteps); w.i64(row.breakEvenStep ?? -1); w.i64(t.finalStocks.count)
            for s in t.finalStocks { w.i64(s) }
            w.i64(row.draw); w.i64(row.parameters.count)
            for v in row.parameters { w.f64(v) }
        }
        return w.data
    }

    public static func decode(_ data: [UInt8], source: String) throws(MergeError) -> RunState {
        var r = BinaryReader(data: data)
        func fail(_ what: String) -> MergeError {
            MergeError(description: "\(source): \(what); expected a state.bin written by girfec (format \(formatVersion))")
        }
        guard let magic = r.bytes(magic.count), magic == Self.magic else { throw fail("not a girfec state file") }
        guard let version = r.u32(), version == formatVersion else { throw fail("unsupported format version") }
        guard let toolVersion = r.string(), let shardCount = r.i64(), let fileName = r.string(), let text = r.string(), let seed = r.u64(), let n = r.i64(),
              let crn = r.u8(), let coveredCount = r.i64(), coveredCount >= 0, coveredCount < 1 << 30 else { throw fail("truncated header") }
        var covered: [Range<Int>] = []
        for _ in 0..<coveredCount {
            guard let lo = r.i64(), let hi = r.i64(), lo <= hi else { throw fail("bad replication range") }
            covered.append(lo..<hi)
        }
        guard let childSteps = r.i64(), let wall = r.f64(), let modeText = r.string(), let dt = r.f64(),
              let methodText = r.string(), let exposureText = r.string(),
              let mode = AggregateMode(rawValue: modeText), let method = IntegrationMethod(rawValue: methodText),
              let exposure = ExposureTracking(rawValue: exposureText) else { throw fail("truncated header") }
        let aggregateOptions = AggregateOptions(mode: mode, dtYears: dt.isNaN ? nil : dt, method: method, exposure: exposure)
        guard let wtpCount = r.i64(), wtpCount >= 0, wtpCount < 1 << 16 else { throw fail("truncated header") }
        var wtp: [Double] = []
        for _ in 0..<wtpCount { guard let v = r.f64() else { throw fail("truncated header") }; wtp.append(v) }
        guard let curveMaximum = r.f64(), let curveStep = r.f64() else { throw fail("truncated header") }
        let ce = CostEffectiveness.Settings(willingnessToPay: wtp, curveMaximum: curveMaximum, curveStep: curveStep)
        guard let perDraw = r.i64(), perDraw >= 1, let baseCase = r.u8(), let attachedCount = r.i64(), attachedCount >= 0, attachedCount < 1 << 16 else {
            throw fail("truncated header")
        }
        var attached: [String: String] = [:]
        for _ in 0..<attachedCount {
            guard let name = r.string(), let text = r.string() else { throw fail("truncated header") }
            attached[name] = text
        }
        guard let arms = r.i64(), let steps = r.i64(), let slots = r.i64(),
              arms > 0, steps >= 0, slots > 0, arms < 256, steps < 1 << 20, slots < 1 << 20 else { throw fail("truncated shape") }
        var integerSlots: [Bool] = []
        for _ in 0..<slots { guard let b = r.u8() else { throw fail("truncated slots") }; integerSlots.append(b == 1) }
        let cellCount = (arms + arms - 1) * (steps + 1) * slots
        var cells: [Cell] = []
        cells.reserveCapacity(cellCount)
        for _ in 0..<cellCount {
            guard let count = r.i64(), let sum = r.i128(), let sq = r.i128(), let minExp = r.i64(), let qCount = r.i64(),
                  let lo = r.f64(), let hi = r.f64(), let exp = r.i64(), let offset = r.i64(), let binCount = r.i64(),
                  binCount >= 0, binCount <= BinnedQuantiles.maximumBins else { throw fail("truncated cell") }
            var bins = [UInt32](repeating: 0, count: binCount)
            for i in 0..<binCount { guard let c = r.u32() else { throw fail("truncated bins") }; bins[i] = c }
            cells.append(Cell(moments: ExactMoments(count: Int64(count), sum: sum, sumOfSquares: sq),
                              quantiles: BinnedQuantiles(minimumExponent: minExp, count: Int64(qCount), minimum: lo,
                                                         maximum: hi, exponent: exp, offset: Int64(offset), bins: bins)))
        }
        guard let rowCount = r.i64(), rowCount >= 0 else { throw fail("truncated rows") }
        var rows: [ReplicationRow] = []
        for _ in 0..<rowCount {
            guard let rep = r.i64(), let arm = r.i64(), let ever = r.i64(), let years = r.f64(), let cost = r.f64(),
                  let costD = r.f64(), let prog = r.f64(), let qol = r.f64(), let qolD = r.f64(), let cs = r.i64(),
                  let breakEven = r.i64(), let levels = r.i64(), levels >= 0, levels < 1 << 16 else { throw fail("truncated row") }
            var finals: [Int] = []
            for _ in 0..<levels { guard let s = r.i64() else { throw fail("truncated row") }; finals.append(s) }
            guard let draw = r.i64(), let valueCount = r.i64(), valueCount >= 0, valueCount < 1 << 20 else { throw fail("truncated row") }
            var values: [Double] = []
            for _ in 0..<valueCount { guard let v = r.f64() else { throw fail("truncated row") }; values.append(v) }
            rows.append(ReplicationRow(replication: rep, arm: arm, totals: ReplicationTotals(
                childrenEver: ever, childYears: years, cost: cost, costDiscounted: costD, programmeCostDiscounted: prog,
                qolYears: qol, qolYearsDiscounted: qolD, finalStocks: finals, childSteps: cs),
                breakEvenStep: breakEven >= 0 ? breakEven : nil, draw: draw, parameters: values))
        }
        guard r.atEnd else { throw fail("trailing bytes") }
        var state = RunState(scenarioFileName: fileName, scenarioText: text, seed: seed, replications: n,
                        commonRandomNumbers: crn == 1, covered: covered,
                        aggregator: Aggregator(arms: arms, steps: steps, integerSlots: integerSlots, cells: cells),
                        rows: rows, childSteps: childSteps, wallSeconds: wall, aggregateOptions: aggregateOptions,
                        costEffectiveness: ce)
        state.toolVersion = toolVersion
        state.shardCount = shardCount
        state.replicationsPerDraw = perDraw
        state.baseCase = baseCase == 1
        state.attachedFiles = attached
        return state
    }
}

/// Little-endian binary writing.
struct BinaryWriter {
    var data: [UInt8] = []
    mutating func bytes(_ b: [UInt8]) { data += b }
    mutating func u8(_ x: UInt8) { data.append(x) }
    mutating func u32(_ x: UInt32) { for i in 0..<4 { data.append(UInt8(truncatingIfNeeded: x >> (8 * UInt32(i)))) } }
    mutating func u64(_ x: UInt64) { for i in 0..<8 { data.append(UInt8(truncatingIfNeeded: x >> (8 * UInt64(i)))) } }
    mutating func i64(_ x: Int) { u64(UInt64(bitPattern: Int64(x))) }
    mutating func i128(_ x: Int128) {
        let u = UInt128(bitPattern: x)
        u64(UInt64(truncatingIfNeeded: u)); u64(UInt64(truncatingIfNeeded: u >> 64))
    }
    mutating func f64(_ x: Double) { u64(x.bitPattern) }
    mutating func string(_ s: String) { let b = Array(s.utf8); i64(b.count); bytes(b) }
}

/// Little-endian binary reading; nil past the end.
struct BinaryReader {
    let data: [UInt8]
    var at = 0
    var atEnd: Bool { at == data.count }
    mutating func bytes(_ n: Int) -> [UInt8]? {
        guard n >= 0, at + n <= data.count else { return nil }
        defer { at += n }
        return Array(data[at..<at + n])
    }
    mutating func u8() -> UInt8? { bytes(1)?[0] }
    mutating func u32() -> UInt32? { bytes(4).map { b in (0..<4).reduce(0) { $0 | UInt32(b[$1]) << (8 * UInt32($1)) } } }
    mutating func u64() -> UInt64? { bytes(8).map { b in (0..<8).reduce(0) { $0 | UInt64(b[$1]) << (8 * UInt64($1)) } } }
    mutating func i64() -> Int? { u64().map { Int(Int64(bitPattern: $0)) } }
    mutating func i128() -> Int128? {
        guard let lo = u64(), let hi = u64() else { return nil }
        return Int128(bitPattern: UInt128(hi) << 64 | UInt128(lo))
    }
    mutating func f64() -> Double? { u64().map(Double.init(bitPattern:)) }
    mutating func string() -> String? {
        guard let n = i64(), let b = bytes(n) else { return nil }
        return String(decoding: b, as: UTF8.self)
    }
}
