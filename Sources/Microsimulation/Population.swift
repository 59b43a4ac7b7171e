/// Children of one replication, structure of arrays, reused across replications by one worker.
///
/// Each column is one manual allocation of `capacity` elements, freed in
/// `deinit`; elements `0 ..< count` of every column are initialised. The
/// engine reads and writes the columns through `Columns`, a handle lent for
/// one scoped access (`withColumns`), and appends children (which may
/// reallocate the columns) only outside such an access.
public final class Population {
    /// Elements allocated in every column.
    private var capacity = 0
    /// Children present: elements `0 ..< count` of every column are theirs.
    private(set) var count = 0
    private var level: UnsafeMutablePointer<UInt8>
    private var ageMonths: UnsafeMutablePointer<UInt16>
    private var monthsInLevel: UnsafeMutablePointer<UInt16>
    private var entryStep: UnsafeMutablePointer<UInt16>
    private var mask: UnsafeMutablePointer<UInt8>
    private var area: UnsafeMutablePointer<UInt8>
    private var id: UnsafeMutablePointer<UInt32>
    /// Words 2 and 3 of the child's current Philox block, for the next (even) step.
    private var pending: UnsafeMutablePointer<UInt64>

    public init() {
        level = .allocate(capacity: 0); ageMonths = .allocate(capacity: 0)
        monthsInLevel = .allocate(capacity: 0); entryStep = .allocate(capacity: 0)
        mask = .allocate(capacity: 0); area = .allocate(capacity: 0)
        id = .allocate(capacity: 0); pending = .allocate(capacity: 0)
    }

    deinit {
        // Every element type is trivial, so deallocating needs no deinitialisation first.
        level.deallocate(); ageMonths.deallocate(); monthsInLevel.deallocate(); entryStep.deallocate()
        mask.deallocate(); area.deallocate(); id.deallocate(); pending.deallocate()
    }

    /// Forget every child; the columns keep their capacity for the next replication.
    func removeAll() { count = 0 }

    /// Make room for at least `minimumCapacity` children (amortised doubling).
    func reserveCapacity(_ minimumCapacity: Int) {
        guard minimumCapacity > capacity else { return }
        let newCapacity = max(minimumCapacity, 2 * capacity, 1024)
        level = Self.moved(level, count: count, capacity: newCapacity)
        ageMonths = Self.moved(ageMonths, count: count, capacity: newCapacity)
        monthsInLevel = Self.moved(monthsInLevel, count: count, capacity: newCapacity)
        entryStep = Self.moved(entryStep, count: count, capacity: newCapacity)
        mask = Self.moved(mask, count: count, capacity: newCapacity)
        area = Self.moved(area, count: count, capacity: newCapacity)
        id = Self.moved(id, count: count, capacity: newCapacity)
        pending = Self.moved(pending, count: count, capacity: newCapacity)
        capacity = newCapacity
    }

    /// A new allocation of `capacity` elements holding the first `count` of `old`, which is freed.
    private static func moved<T>(_ old: UnsafeMutablePointer<T>, count: Int, capacity: Int) -> UnsafeMutablePointer<T> {
        let new = UnsafeMutablePointer<T>.allocate(capacity: capacity)
        new.moveInitialize(from: old, count: count)
        old.deallocate()
        return new
    }

    /// Add a child at the end of every column.
    ///
    /// - Precondition: `l` and `a` fit a byte and `entry` 16 bits (checked conversions; the
    ///   scenario decoder bounds levels and areas at 250 and steps at 60,000).
    func append(level l: Int, age: Int, entry: Int, mask m: UInt8, area a: Int, id i: UInt32, monthsInLevel months: Int = 0) {
        if count == capacity { reserveCapacity(count + 1) }
        // count < capacity here, so element `count` of each column is allocated and not yet initialised.
        (level + count).initialize(to: UInt8(l))
        (ageMonths + count).initialize(to: UInt16(clamping: age))
        (monthsInLevel + count).initialize(to: UInt16(clamping: months))
        (entryStep + count).initialize(to: UInt16(entry))
        (mask + count).initialize(to: m)
        (area + count).initialize(to: UInt8(a))
        (id + count).initialize(to: i)
        (pending + count).initialize(to: 0)
        count += 1
    }

    /// Lend the columns to `body` for one scoped access; the handle must not escape it.
    /// Children `body` removed (`Columns.removeSwapping`) are gone afterwards.
    func withColumns<R>(_ body: (inout Columns) -> R) -> R {
        var columns = Columns(level: level, ageMonths: ageMonths, monthsInLevel: monthsInLevel, entryStep: entryStep,
                              mask: mask, area: area, id: id, pending: pending, count: count)
        let result = body(&columns)
        precondition(columns.count >= 0 && columns.count <= count, "the population handle can only remove children")
        count = columns.count
        return result
    }

    /// The population's columns as raw pointers, for the engine's hot loop (in the style of
    /// swift-collections' `Heap._UnsafeHandle`): no ownership, no reference counting, no bounds checks.
    ///
    /// Valid only inside the `withColumns` call that made it. Its users index it with
    /// `c < count`; elements `0 ..< count` are initialised, and `count` never grows.
    struct Columns {
        let level: UnsafeMutablePointer<UInt8>
        let ageMonths: UnsafeMutablePointer<UInt16>
        let monthsInLevel: UnsafeMutablePointer<UInt16>
        let entryStep: UnsafeMutablePointer<UInt16>
        let mask: UnsafeMutablePointer<UInt8>
        let area: UnsafeMutablePointer<UInt8>
        let id: UnsafeMutablePointer<UInt32>
        let pending: UnsafeMutablePointer<UInt64>
        /// Children present.
        private(set) var count: Int

        fileprivate init(level: UnsafeMutablePointer<UInt8>, ageMonths: UnsafeMutablePointer<UInt16>,
                         monthsInLevel: UnsafeMutablePointer<UInt16>, entryStep: UnsafeMutablePointer<UInt16>,
                         mask: UnsafeMutablePointer<UInt8>, area: UnsafeMutablePointer<UInt8>,
                         id: UnsafeMutablePointer<UInt32>, pending: UnsafeMutablePointer<UInt64>, count: Int) {
            self.level = level; self.ageMonths = ageMonths; self.monthsInLevel = monthsInLevel
            self.entryStep = entryStep; self.mask = mask; self.area = area; self.id = id; self.pending = pending
            self.count = count
        }

        /// Remove child `c` by moving the last child into its place (order is not kept).
        ///
        /// - Precondition: `0 <= c < count`, which the engine's loop condition guarantees (not checked).
        @inline(__always)
        mutating func removeSwapping(at c: Int) {
            // count ≥ c + 1 ≥ 1, so count − 1 cannot overflow, and both c and count − 1 are
            // initialised elements.
            count &-= 1
            level[c] = level[count]; ageMonths[c] = ageMonths[count]
            monthsInLevel[c] = monthsInLevel[count]; entryStep[c] = entryStep[count]
            mask[c] = mask[count]; area[c] = area[count]; id[c] = id[count]; pending[c] = pending[count]
        }
    }
}
