import CGSL
import Stochastics

/// Streaming statistics of one value (one arm, step and slot) across replications.
public struct Cell: Sendable, Equatable {
    public var moments = ExactMoments()
    public var quantiles: BinnedQuantiles

    public init(integerValued: Bool) { quantiles = BinnedQuantiles(integerValued: integerValued) }
    public init(moments: ExactMoments, quantiles: BinnedQuantiles) {
        self.moments = moments
        self.quantiles = quantiles
    }

    /// Add one replication's value; NaN (undefined, e.g. a mean stay with no
    /// one leaving) is skipped, so `count` is the replications that define it.
    public mutating func add(_ x: Double) {
        guard !x.isNaN else { return }
        moments.add(x)
        quantiles.add(x)
    }

    /// Add several replications' values in order: the same cell as adding them one by one.
    public mutating func add(contentsOf values: UnsafeBufferPointer<Double>) {
        for x in values where !x.isNaN { moments.add(x) }
        quantiles.add(contentsOf: values)
    }

    public mutating func merge(_ other: Cell) {
        moments.merge(other.moments)
        quantiles.merge(other.quantiles)
    }
}

/// What bands.csv says about one cell: the shared statistics of a quantity across replications.
public typealias Band = SampleStatistics

extension SampleStatistics {
    /// The statistics of a streaming cell: mean and standard deviation from its
    /// exact sums, MCSE and CI by `Statistics`, percentiles located to its
    /// histogram's bins (`BinnedQuantiles.quantiles`).
    public init(_ cell: Cell) {
        self.init(count: Int(cell.moments.count), mean: cell.moments.mean,
                  standardDeviation: cell.moments.standardDeviation,
                  percentiles: cell.quantiles.quantiles(Statistics.percentiles.map(\.p)), exactPercentiles: false)
    }
}

/// Cells for every arm, step and slot, plus every later arm's paired
/// difference from the first arm. Memory is fixed by the layout, not by the
/// number of replications; merging is exact and order-free.
public struct Aggregator: Sendable, Equatable {
    public let arms: Int
    public let steps: Int
    public let slots: Int
    public let integerSlots: [Bool]
    /// [arm][step][slot] for arms 0..<arms, then [arm − 1][step][slot] for the differences.
    public private(set) var cells: [Cell]

    public init(arms: Int, steps: Int, integerSlots: [Bool]) {
        self.arms = arms
        self.steps = steps
        self.slots = integerSlots.count
        self.integerSlots = integerSlots
        let blocks = arms + max(arms - 1, 0)
        var cells: [Cell] = []
        cells.reserveCapacity(blocks * (steps + 1) * slots)
        for _ in 0..<blocks * (steps + 1) { for s in 0..<slots { cells.append(Cell(integerValued: integerSlots[s])) } }
        self.cells = cells
    }

    public init(arms: Int, steps: Int, integerSlots: [Bool], cells: [Cell]) {
        self.arms = arms
        self.steps = steps
        self.slots = integerSlots.count
        self.integerSlots = integerSlots
        self.cells = cells
    }

    /// Index of a cell; `difference` selects arm `arm`'s difference from arm 0 (arm ≥ 1).
    public func index(arm: Int, difference: Bool, step: Int, slot: Int) -> Int {
        let block = difference ? arms + arm - 1 : arm
        return (block * (steps + 1) + step) * slots + slot
    }

    /// Fold in one replication: one record per arm, each `(steps + 1) × slots` values.
    public mutating func add(records: [[Double]]) {
        precondition(records.count == arms, "expected \(arms) records, one per arm, but got \(records.count).")
        let size = (steps + 1) * slots
        precondition(records.allSatisfy { $0.count == size }, "expected records of \(size) values")
        // One exclusive access to the cells for the whole replication instead of one per value.
        let arms = arms
        cells.withUnsafeMutableBufferPointer { cells in
            for a in 0..<arms {
                let base = a * size
                records[a].withUnsafeBufferPointer { r in for i in 0..<size { cells[base + i].add(r[i]) } }
            }
            for a in 1..<max(arms, 1) {
                let base = (arms + a - 1) * size
                records[a].withUnsafeBufferPointer { r in
                    records[0].withUnsafeBufferPointer { r0 in for i in 0..<size { cells[base + i].add(r[i] - r0[i]) } }
                }
            }
        }
    }

    /// Fold in the replications of a batch: cell by cell, each cell taking its values from
    /// every replication in the batch in order, so the cells end exactly as after one `add(records:)`
    /// per replication (cells are independent; each sees the same values in the same order).
    ///
    /// Visiting a cell once per batch rather than once per replication touches its histogram's
    /// bins (a separate allocation per cell, mostly out of cache) once for several values.
    /// The batch holds replication after replication; a cell's values are gathered from them
    /// (one value from each; consecutive cells read consecutive values of each replication, so
    /// each cache line read serves eight cells).
    public mutating func add(_ batch: inout AggregatorBatch) {
        let count = batch.cellCount
        precondition(count == cells.count, "a batch of \(count) cells cannot fold into \(cells.count)")
        let k = batch.count
        guard k > 0 else { return }
        // Where a cell's histogram and its bins' reference are (stored properties: known offsets).
        let prefetchAt = MemoryLayout<Cell>.offset(of: \Cell.quantiles).flatMap { quantiles in
            MemoryLayout<BinnedQuantiles>.offset(of: \BinnedQuantiles.bins).map { (quantiles: quantiles, bins: $0) }
        }
        // Two columns: cell i's values being added while cell i + 1's bins are fetched.
        let columns = UnsafeMutableBufferPointer<Double>.allocate(capacity: 2 * k)
        defer { columns.deallocate() }
        cells.withUnsafeMutableBufferPointer { cells in
            batch.values.withUnsafeBufferPointer { values in
                let v = values.baseAddress!, c = columns.baseAddress!
                func gather(_ i: Int, into column: UnsafeMutablePointer<Double>) {
                    // Each replication's cache line of eight cells, two lines ahead (a hint: no effect on the values).
                    if i & 7 == 0 && i + 16 < count { for r in 0..<k { girfec_prefetch(v + r * count + i + 16) } }
                    for r in 0..<k { column[r] = v[r * count + i] }
                }
                gather(0, into: c)
                for i in 0..<count {
                    let here = c + (i & 1) * k, next = c + (1 - (i & 1)) * k
                    if i + 1 < count {
                        gather(i + 1, into: next)
                        if let prefetchAt {
                            let q = UnsafeRawPointer(cells.baseAddress! + i + 1) + prefetchAt.quantiles
                            BinnedQuantiles.prefetch(q.assumingMemoryBound(to: BinnedQuantiles.self), binsOffset: prefetchAt.bins,
                                                     UnsafeBufferPointer(start: next, count: k))
                        }
                    }
                    cells[i].add(contentsOf: UnsafeBufferPointer(start: here, count: k))
                }
            }
        }
        batch.count = 0
    }

    public mutating func merge(_ other: Aggregator) {
        precondition(other.cells.count == cells.count, "aggregators of different shapes cannot merge")
        for i in cells.indices { cells[i].merge(other.cells[i]) }
    }

    public func band(arm: Int, difference: Bool, step: Int, slot: Int) -> Band {
        Band(cells[index(arm: arm, difference: difference, step: step, slot: slot)])
    }
}

/// Replications' values waiting to be folded into an `Aggregator` together (`Aggregator.add(_:)`):
/// each replication's values for every cell, one replication after another, at
/// [replication · cells + cell] (written in order, so a replication is one sequential copy).
///
/// Memory: capacity × the aggregator's cells values (e.g. 32 × 24,000 × 8 bytes = 6 MB).
public struct AggregatorBatch: Sendable {
    public let arms: Int
    /// Values per arm: (steps + 1) × slots.
    public let recordSize: Int
    public let capacity: Int
    /// Cells of the aggregator it folds into: arms and differences, `recordSize` each.
    public var cellCount: Int { (arms + max(arms - 1, 0)) * recordSize }
    /// Replications held.
    public internal(set) var count = 0
    var values: [Double]

    public init(shapeOf aggregator: Aggregator, capacity: Int = 16) {
        self.init(arms: aggregator.arms, steps: aggregator.steps, slots: aggregator.slots, capacity: capacity)
    }

    /// A batch for an aggregator of `arms` arms, `steps` steps and `slots` slots.
    public init(arms: Int, steps: Int, slots: Int, capacity: Int = 16) {
        precondition(capacity >= 1, "a batch holds at least one replication")
        self.arms = arms
        recordSize = (steps + 1) * slots
        self.capacity = capacity
        values = [Double](repeating: 0, count: (arms + max(arms - 1, 0)) * recordSize * capacity)
    }

    public var isFull: Bool { count == capacity }

    /// Hold one replication: one record per arm, and every later arm's difference from the first,
    /// value for value as `Aggregator.add(records:)` takes them. - Precondition: not full.
    public mutating func add(records: [[Double]]) {
        precondition(count < capacity, "the batch is full: fold it into its aggregator first")
        precondition(records.count == arms, "expected \(arms) records, one per arm, but got \(records.count).")
        let size = recordSize
        precondition(records.allSatisfy { $0.count == size }, "expected records of \(size) values")
        let arms = arms, row = count * cellCount
        values.withUnsafeMutableBufferPointer { v in
            let out = v.baseAddress! + row
            for a in 0..<arms {
                records[a].withUnsafeBufferPointer { r in (out + a * size).update(from: r.baseAddress!, count: size) }
            }
            for a in 1..<max(arms, 1) {
                let base = out + (arms + a - 1) * size
                records[a].withUnsafeBufferPointer { r in
                    records[0].withUnsafeBufferPointer { r0 in
                        for i in 0..<size { base[i] = r[i] - r0[i] }
                    }
                }
            }
        }
        count += 1
    }
}

/// The statistics of every row of bands.csv: a cell's streaming statistics,
/// or, for a cell whose values are also a run's per-replication outcomes (see
/// `RunResults`), those outcomes' exact statistics, so that one computed value
/// is shown wherever the quantity appears.
public struct BandTable: Sendable {
    public let aggregator: Aggregator
    /// Exact statistics by cell index (`Aggregator.index`).
    public let exact: [Int: SampleStatistics]

    public init(aggregator: Aggregator, exact: [Int: SampleStatistics] = [:]) {
        self.aggregator = aggregator
        self.exact = exact
    }

    public func band(arm: Int, difference: Bool, step: Int, slot: Int) -> SampleStatistics {
        let i = aggregator.index(arm: arm, difference: difference, step: step, slot: slot)
        return exact[i] ?? SampleStatistics(aggregator.cells[i])
    }
}
