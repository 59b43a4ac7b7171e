import CGSL

/// Quantiles of a stream in bounded memory, independent of arrival order and
/// exactly mergeable.
///
/// Values fall into bins of width 2^k aligned on multiples of 2^k, and k is
/// the smallest exponent (at least `minimumExponent`) for which the observed
/// range [min, max] spans at most `maximumBins` bins. When the range grows,
/// pairs of neighbouring bins merge (width doubles), which is exact because
/// the grid is aligned. The state is therefore a function of the multiset of
/// values alone: the same whatever the order or the split into shards.
///
/// Accuracy: a reported quantile lies in the bin of the exact order
/// statistic, so it is within one bin width, at most (max − min)/(B/2) with
/// B = `maximumBins`, of it, and is clamped to [min, max]. For counts
/// (`minimumExponent` 0) with a range under B, quantiles are exact.
///
/// Memory: at most B 32-bit counts, however many values arrive.
public struct BinnedQuantiles: Sendable, Equatable {
    public static let maximumBins = 1024
    public let minimumExponent: Int
    public private(set) var count: Int64 = 0
    public private(set) var minimum: Double = .infinity
    public private(set) var maximum: Double = -.infinity
    /// Bin width is 2^exponent; meaningful once `bins` is non-empty.
    public private(set) var exponent: Int
    /// Grid index of bins[0].
    public private(set) var offset: Int64 = 0
    public private(set) var bins: [UInt32] = []

    /// - Parameter integerValued: counts use bins no narrower than 1, so each holds one integer.
    public init(integerValued: Bool) {
        minimumExponent = integerValued ? 0 : -40
        exponent = minimumExponent
    }

    public init(minimumExponent: Int, count: Int64, minimum: Double, maximum: Double, exponent: Int, offset: Int64, bins: [UInt32]) {
        self.minimumExponent = minimumExponent
        self.count = count
        self.minimum = minimum
        self.maximum = maximum
        self.exponent = exponent
        self.offset = offset
        self.bins = bins
    }

    /// Why this state could not have been left by `add` and `merge`, or nil if it could.
    ///
    /// For a state read from a file: checked before it is merged or queried, so
    /// that no bin index, count or exponent in it can trap or pick a wrong bin.
    public var inconsistency: String? {
        guard minimumExponent == 0 || minimumExponent == -40 else { return "its histogram's finest bin 2^\(minimumExponent) is neither 2^0 nor 2^−40" }
        guard count > 0 else {
            guard count == 0, bins.isEmpty, minimum == .infinity, maximum == -.infinity, exponent == minimumExponent, offset == 0 else {
                return "its histogram counts \(count) values but is not empty"
            }
            return nil
        }
        guard count <= Int64(UInt32.max) else { return "its histogram counts \(count) values, more than 2^32 − 1" }
        guard minimum.isFinite, maximum.isFinite, minimum <= maximum,
              Swift.max(abs(minimum), abs(maximum)) <= ExactMoments.largestMagnitude else {
            return "its histogram's range [\(minimum), \(maximum)] is not ordered finite values within ±\(ExactMoments.largestMagnitude)"
        }
        if bins.isEmpty {
            guard minimum == maximum, exponent == minimumExponent, offset == 0 else { return "its histogram has no bins but more than one value" }
            return nil
        }
        guard minimum < maximum else { return "its histogram has bins but one value" }
        // The exponent first: `index` is safe only from the exponent `exponentNeeded` starts at.
        let magnitude = Swift.max(abs(minimum), abs(maximum))
        guard exponent >= minimumExponent, magnitude == 0 || exponent >= Int(magnitude.exponent) - 61,
              exponent == Self.exponentNeeded(minimum, maximum, from: minimumExponent) else {
            return "its histogram's bin width 2^\(exponent) is not the one its range [\(minimum), \(maximum)] gives"
        }
        guard bins.count <= Self.maximumBins, Self.index(minimum, exponent) == offset,
              Self.index(maximum, exponent) == offset + Int64(bins.count) - 1, bins[0] > 0, bins[bins.count - 1] > 0 else {
            return "its histogram's \(bins.count) bins do not span its range [\(minimum), \(maximum)]"
        }
        guard bins.reduce(Int64(0), { $0 + Int64($1) }) == count else { return "its histogram's bins do not add up to its count \(count)" }
        return nil
    }

    @inline(__always) static func index(_ x: Double, _ k: Int) -> Int64 {
        // 2^−k from its bit pattern where it is a normal number (the same value, without the generic initialiser).
        let scale = k >= -1023 && k <= 1022 ? Double(bitPattern: UInt64(1023 - k) << 52) : Double(sign: .plus, exponent: -k, significand: 1)
        return Int64((x * scale).rounded(.down))
    }

    /// The smallest allowed exponent whose grid spans [lo, hi] in at most B bins.
    ///
    /// The search starts no lower than the exponents at which grid indices
    /// would overflow or the range could not fit; both grow with the range,
    /// so the result still depends only on [lo, hi] and `k0`.
    static func exponentNeeded(_ lo: Double, _ hi: Double, from k0: Int) -> Int {
        let magnitude = Swift.max(abs(lo), abs(hi))
        var k = k0
        if magnitude > 0 { k = Swift.max(k, Int(magnitude.exponent) - 61) }
        if hi > lo { k = Swift.max(k, Int((hi - lo).exponent) - 11) }
        while index(hi, k) - index(lo, k) + 1 > Int64(maximumBins) { k += 1 }
        return k
    }

    public mutating func add(_ x: Double) {
        add(x, times: 1)
    }

    /// Add each value of `values` that is not NaN, in order: the same state as `add` one by one.
    /// Runs of values within the range seen so far go straight to their bins, with one access to them.
    ///
    /// The state depends only on the multiset of values (see above), so the range is first widened
    /// once to take every value of `values` (one coarsening and one extension of the bins, rather
    /// than one per value that falls outside the range so far), and the values are then counted.
    public mutating func add(contentsOf values: UnsafeBufferPointer<Double>) {
        var lo = Double.infinity, hi = -Double.infinity
        for x in values where !x.isNaN { lo = Swift.min(lo, x); hi = Swift.max(hi, x) }
        guard lo <= hi else { return }  // nothing but NaN
        var i = 0
        let n = values.count
        while i < n {
            if !bins.isEmpty {
                widen(to: lo, hi)  // every value left is now within the range (or NaN)
                let low = minimum, high = maximum, k = exponent, first = offset
                var added = 0
                bins.withUnsafeMutableBufferPointer { bins in
                    while i < n {
                        let x = values[i]
                        i += 1
                        guard x >= low && x <= high else { continue }  // NaN
                        bins[Int(Self.index(x, k) - first)] += 1
                        added += 1
                    }
                }
                count += Int64(added)
                return
            }
            // No bins yet (no value, or one value so far): one by one until a second value makes them.
            let x = values[i]
            i += 1
            if !x.isNaN { add(x, times: 1) }
        }
    }

    /// Ask the cache for the bins that `add(contentsOf: values)` will count in for the histogram at
    /// `q` (and their array's header), so that folding several cells in turn waits on memory once, not
    /// per value. `binsOffset` is `MemoryLayout<BinnedQuantiles>.offset(of: \.bins)`.
    ///
    /// A hint only: it reads the bins' address without retaining the array, taking the elements to
    /// follow a 32-byte header (Swift's native array layout); were that wrong, a prefetch of a wrong
    /// address neither faults nor changes any count.
    @inline(__always)
    public static func prefetch(_ q: UnsafePointer<BinnedQuantiles>, binsOffset: Int, _ values: UnsafeBufferPointer<Double>) {
        let low = q.pointee.minimum, high = q.pointee.maximum
        guard low < high else { return }  // no bins yet
        let first = q.pointee.offset, k = q.pointee.exponent
        let storage = UnsafeRawPointer(q).load(fromByteOffset: binsOffset, as: UnsafeRawPointer.self)
        girfec_prefetch(storage)
        for x in values where x >= low && x <= high { girfec_prefetch(storage + 32 + 4 * Int(index(x, k) - first)) }
    }

    mutating func add(_ x: Double, times: UInt32) {
        // Within the range seen so far the bin width and the bins stay as they are (the exponent is
        // already the one [minimum, maximum] needs, and the bins cover it): only a count changes.
        if !bins.isEmpty && x >= minimum && x <= maximum {
            count += Int64(times)
            bins[Int(Self.index(x, exponent) - offset)] += times
            return
        }
        if count == 0 || (bins.isEmpty && x == minimum) {
            count += Int64(times)
            minimum = x
            maximum = x
            return
        }
        if bins.isEmpty {
            // Leaving the single-value state: the earlier values all equal `minimum`.
            let old = minimum, oldCount = UInt32(count)
            let lo = Swift.min(old, x), hi = Swift.max(old, x)
            exponent = Self.exponentNeeded(lo, hi, from: minimumExponent)
            offset = Self.index(lo, exponent)
            bins = [UInt32](repeating: 0, count: Int(Self.index(hi, exponent) - offset) + 1)
            bins[Int(Self.index(old, exponent) - offset)] += oldCount
        }
        minimum = Swift.min(minimum, x)
        maximum = Swift.max(maximum, x)
        count += Int64(times)
        coarsen(to: Self.exponentNeeded(minimum, maximum, from: exponent))
        cover(minimum, maximum)
        bins[Int(Self.index(x, exponent) - offset)] += times
    }

    /// Make the range [min(minimum, lo), max(maximum, hi)]: the bin width that range needs and bins
    /// covering it, exactly as adding values at lo and hi one by one would leave them.
    /// - Precondition: the bins exist (more than one value seen).
    private mutating func widen(to lo: Double, _ hi: Double) {
        guard lo < minimum || hi > maximum else { return }
        let newMinimum = Swift.min(minimum, lo), newMaximum = Swift.max(maximum, hi)
        coarsen(to: Self.exponentNeeded(newMinimum, newMaximum, from: exponent))
        cover(newMinimum, newMaximum)
        minimum = newMinimum
        maximum = newMaximum
    }

    /// Widen bins to 2^k, merging aligned pairs.
    private mutating func coarsen(to k: Int) {
        while exponent < k {
            let newOffset = offset >> 1
            let last = (offset + Int64(bins.count) - 1) >> 1
            var merged = [UInt32](repeating: 0, count: Int(last - newOffset) + 1)
            for (i, c) in bins.enumerated() where c != 0 { merged[Int(((offset + Int64(i)) >> 1) - newOffset)] += c }
            bins = merged
            offset = newOffset
            exponent += 1
        }
    }

    /// Extend the bin array to cover [lo, hi] at the current exponent.
    private mutating func cover(_ lo: Double, _ hi: Double) {
        let first = Self.index(lo, exponent), last = Self.index(hi, exponent)
        if first < offset {
            bins.insert(contentsOf: [UInt32](repeating: 0, count: Int(offset - first)), at: 0)
            offset = first
        }
        let end = offset + Int64(bins.count) - 1
        if last > end { bins.append(contentsOf: [UInt32](repeating: 0, count: Int(last - end))) }
    }

    public mutating func merge(_ other: BinnedQuantiles) {
        guard other.count > 0 else { return }
        guard count > 0 else { self = other; return }
        if other.bins.isEmpty {
            add(other.minimum, times: UInt32(other.count))
            return
        }
        if bins.isEmpty {
            let mine = self
            self = other
            add(mine.minimum, times: UInt32(mine.count))
            return
        }
        minimum = Swift.min(minimum, other.minimum)
        maximum = Swift.max(maximum, other.maximum)
        count += other.count
        var theirs = other
        let k = Self.exponentNeeded(minimum, maximum, from: Swift.max(exponent, other.exponent))
        coarsen(to: k)
        theirs.coarsen(to: k)
        cover(minimum, maximum)
        for (i, c) in theirs.bins.enumerated() where c != 0 { bins[Int(theirs.offset + Int64(i) - offset)] += c }
    }

    /// The q-quantile (0 ≤ q ≤ 1) by the same definition as exact sample
    /// quantiles (`Statistics.quantile`, Hyndman & Fan type 7): with
    /// h = q·(n − 1), x₍⌊h⌋₎ + (h − ⌊h⌋)·(x₍⌊h⌋+1₎ − x₍⌊h⌋₎), where each order
    /// statistic x₍ᵣ₎ (r counted from 0) is located to its bin: the bin's
    /// middle (for counts, the middle integer), clamped to [min, max]; r = 0
    /// and r = n − 1 are min and max exactly. For counts in bins of width 1
    /// every order statistic is exact, so the quantile is too.
    public func quantile(_ q: Double) -> Double { quantiles([q])[0] }

    /// Several quantiles in one pass over the bins; `qs` in any order.
    public func quantiles(_ qs: [Double]) -> [Double] {
        guard count > 0 else { return qs.map { _ in .nan } }
        if bins.isEmpty { return qs.map { _ in minimum } }
        let width = Double(sign: .plus, exponent: exponent, significand: 1)
        // Ranks ⌊h⌋ and ⌊h⌋ + 1 of every q, located in one pass in increasing order.
        let positions = qs.map { $0 * Double(count - 1) }
        let ranks = Set(positions.flatMap { h -> [Int64] in let r = Int64(h.rounded(.down)); return [r, r + 1] }).sorted()
        var located: [Int64: Double] = [:]
        var cumulative: Int64 = 0
        var bin = 0
        for r in ranks {
            if r <= 0 { located[r] = minimum; continue }
            if r >= count - 1 { located[r] = maximum; continue }
            while bin < bins.count && cumulative + Int64(bins[bin]) <= r { cumulative += Int64(bins[bin]); bin += 1 }
            guard bin < bins.count else { located[r] = maximum; continue }
            let low = Double(offset + Int64(bin)) * width
            let middle = minimumExponent >= 0 ? (low + ((width - 1) / 2).rounded(.down)) : low + width / 2
            located[r] = Swift.min(Swift.max(middle, minimum), maximum)
        }
        // The interpolation of `gsl_stats_quantile_from_sorted_data`, so exact bins give the exact quantile bit for bit.
        return positions.map { h in
            let r = Int64(h.rounded(.down)), delta = h - Double(r)
            if r >= count - 1 { return located[r]! }
            return (1 - delta) * located[r]! + delta * located[r + 1]!
        }
    }
}
