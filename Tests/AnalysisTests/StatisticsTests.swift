import Analysis
import Foundation
import Testing

/// A small deterministic generator for test data (SplitMix64, Steele et al. 2014).
struct SplitMix {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func unit() -> Double { Double(next() >> 11) * 0x1p-53 }
    mutating func normal() -> Double {
        let u = max(unit(), 1e-300), v = unit()
        return (-2 * Foundation.log(u)).squareRoot() * Foundation.cos(2 * .pi * v)
    }
}

@Suite("Streaming statistics")
struct StatisticsTests {
    /// Hyndman & Fan (1996) type 7 written out here, independently of GSL: h = (n − 1)p,
    /// (1 − (h − ⌊h⌋))·x₍⌊h⌋₎ + (h − ⌊h⌋)·x₍⌊h⌋+1₎.
    static func type7(_ sorted: [Double], _ p: Double) -> Double {
        let h = Double(sorted.count - 1) * p
        let lo = Int(h.rounded(.down)), d = h - Double(lo)
        return lo + 1 < sorted.count ? (1 - d) * sorted[lo] + d * sorted[lo + 1] : sorted[lo]
    }

    static func sample(_ n: Int, seed: UInt64, integer: Bool) -> [Double] {
        var g = SplitMix(state: seed)
        return (0..<n).map { _ in integer ? Double(Int(1000 + 30 * g.normal())) : 4.2e8 + 6e6 * g.normal() }
    }

    @Test(arguments: [false, true])
    func quantilesDoNotDependOnOrderOrSplit(integer: Bool) {
        let xs = Self.sample(3000, seed: 1, integer: integer)
        var a = BinnedQuantiles(integerValued: integer)
        for x in xs { a.add(x) }
        var g = SplitMix(state: 9)
        var shuffled = xs
        for i in stride(from: shuffled.count - 1, to: 0, by: -1) { shuffled.swapAt(i, Int(g.next() % UInt64(i + 1))) }
        var b = BinnedQuantiles(integerValued: integer)
        for x in shuffled { b.add(x) }
        #expect(a == b)
        // Split into three uneven parts, merged in another order.
        var parts = [BinnedQuantiles](repeating: BinnedQuantiles(integerValued: integer), count: 3)
        for (i, x) in shuffled.enumerated() { parts[i < 100 ? 0 : (i < 2000 ? 1 : 2)].add(x) }
        var merged = parts[2]
        merged.merge(parts[0])
        merged.merge(parts[1])
        #expect(merged == a)
    }

    @Test func integerQuantilesAreExactWhenTheRangeFits() {
        // 2001 and 40 values: (n − 1)·p whole and fractional, so both kinds of rank are checked.
        for n in [2001, 40] {
            let xs = Self.sample(n, seed: 3, integer: true)
            var q = BinnedQuantiles(integerValued: true)
            for x in xs { q.add(x) }
            let sorted = xs.sorted()
            for p in [0.025, 0.05, 0.25, 0.5, 0.75, 0.95, 0.975] {
                #expect(q.quantile(p) == Statistics.quantile(sorted: sorted, p), "n = \(n), p = \(p)")
                #expect(q.quantile(p) == Self.type7(sorted, p), "n = \(n), p = \(p)")
            }
        }
    }

    @Test func continuousQuantilesAreWithinOneBin() {
        let xs = Self.sample(5000, seed: 4, integer: false)
        var q = BinnedQuantiles(integerValued: false)
        for x in xs { q.add(x) }
        let sorted = xs.sorted()
        let width = Double(sign: .plus, exponent: q.exponent, significand: 1)
        #expect(width <= (sorted.last! - sorted.first!) / Double(BinnedQuantiles.maximumBins / 2))
        for p in [0.025, 0.5, 0.975] {
            let exact = Self.type7(sorted, p)
            #expect(abs(q.quantile(p) - exact) <= width, "p = \(p): \(q.quantile(p)) vs \(exact), bin width \(width)")
        }
        #expect(q.bins.count <= BinnedQuantiles.maximumBins)
    }

    @Test func momentsAreExactAndOrderFree() {
        let xs = Self.sample(1000, seed: 5, integer: false)
        var a = ExactMoments(), b = ExactMoments()
        for x in xs { a.add(x) }
        for x in xs.reversed() { b.add(x) }
        #expect(a == b)
        let mean = xs.reduce(0, +) / Double(xs.count)
        let variance = xs.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(xs.count - 1)
        #expect(abs(a.mean - mean) <= 1e-4)
        #expect(abs(a.variance - variance) / variance < 1e-9)
        #expect(abs(a.standardDeviation - variance.squareRoot()) / a.standardDeviation < 1e-9)
    }

    /// `add(contentsOf:)` widens the range once per call; the state must be bit for bit what adding
    /// the values one by one leaves: chunks from empty, from one value, all NaN, equal values, ranges
    /// widening on either side (coarsening), integer and continuous histograms.
    @Test func addingSeveralValuesAtOnceIsAddingThemOneByOne() {
        var rng = SplitMix(state: 29)
        for integer in [true, false] {
            for trial in 0..<40 {
                var one = BinnedQuantiles(integerValued: integer), many = one
                var scale = 1.0
                for chunk in 0..<12 {
                    let size = Int(rng.next() % 9)  // 0 ... 8 values
                    let values = (0..<size).map { k -> Double in
                        let u = Double(rng.next() >> 11) * 0x1p-53
                        if (trial + chunk + k) % 7 == 0 { return .nan }
                        if trial % 5 == 0 && chunk < 3 { return 42 }  // a run of one value
                        let x = (u - 0.3) * scale
                        return integer ? x.rounded(.down) : x
                    }
                    scale *= trial % 2 == 0 ? 3 : 1.5
                    for x in values where !x.isNaN { one.add(x) }
                    values.withUnsafeBufferPointer { many.add(contentsOf: $0) }
                    #expect(many == one, "trial \(trial), chunk \(chunk): \(values)")
                    #expect(many.inconsistency == nil)
                }
            }
        }
    }

    @Test func aggregatorDifferencesArePaired() {
        var agg = Aggregator(arms: 2, steps: 0, integerSlots: [true])
        for r in 0..<10 { agg.add(records: [[Double(100 + r)], [Double(103 + r)]]) }
        let d = agg.band(arm: 1, difference: true, step: 0, slot: 0)
        #expect(d.mean == 3 && d.mcse == 0 && d.percentiles.allSatisfy { $0 == 3 })
        let level = agg.band(arm: 0, difference: false, step: 0, slot: 0)
        #expect(level.mean == 104.5)
        #expect(level.ciLow < 104.5 && level.ciHigh > 104.5)
    }

    /// Folding replications in batches (of 3, so the last of 10 is partial) leaves every cell exactly as
    /// one `add(records:)` per replication does: values with NaN, widening ranges and integer slots.
    @Test func batchesFoldExactlyAsSingleReplications() {
        var rng = SplitMix(state: 11)
        var single = Aggregator(arms: 3, steps: 2, integerSlots: [true, false])
        var batched = single
        var batch = AggregatorBatch(shapeOf: batched, capacity: 3)
        for r in 0..<10 {
            let records = (0..<3).map { a in
                (0..<6).map { i -> Double in
                    if i == 5 && r % 4 == a { return .nan }
                    let u = Double(rng.next() >> 11) * 0x1p-53
                    return i % 2 == 0 ? Double(Int(u * Double(10 * (r + 1)))) : u * Double(1 << r) - 3
                }
            }
            single.add(records: records)
            batch.add(records: records)
            if batch.isFull { batched.add(&batch) }
        }
        #expect(batch.count == 1)
        batched.add(&batch)
        #expect(batch.count == 0)
        #expect(batched == single)
    }
}

@Suite("Statistics shared by all outputs")
struct SharedStatisticsTests {
    /// x = 1, 2, 4, 7, 10 (given unsorted): mean 4.8; Σ(x − x̄)² = 14.44 + 7.84 + 0.64 + 4.84 + 27.04 = 54.8,
    /// s² = 13.7; MCSE = √(13.7/5); t(0.975, 4) = 2.7764451051977934 (R: qt(0.975, 4));
    /// type 7: p = 0.25 → h = 1 → 2; p = 0.1 → h = 0.4 → 1 + 0.4·1 = 1.4; p = 0.975 → h = 3.9 → 7 + 0.9·3 = 9.7.
    @Test func handComputedSample() {
        let s = SampleStatistics([7, 1, 10, 2, 4])
        #expect(s.count == 5 && s.units == 5)
        #expect(s.mean == 4.8)
        #expect(abs(s.standardDeviation - 13.7.squareRoot()) < 1e-14)
        #expect(abs(s.mcse - (13.7 / 5).squareRoot()) < 1e-14)
        #expect(abs(s.ciHigh - (4.8 + 2.7764451051977934 * (13.7 / 5).squareRoot())) < 1e-12)
        #expect(abs(s.ciLow - (4.8 - 2.7764451051977934 * (13.7 / 5).squareRoot())) < 1e-12)
        #expect(s.percentile("p25") == 2 && s.p50 == 4)
        #expect(abs(Statistics.quantile([7, 1, 10, 2, 4], 0.1) - 1.4) < 1e-15)
        #expect(abs(s.p97_5 - 9.7) < 1e-14)
        #expect(s.p2_5 == Statistics.quantile(sorted: [1, 2, 4, 7, 10], 0.025))
    }

    /// Draws 0, 0, 1, 1, 2, 2 with values 1, 3, 5, 7, 9, 11: draw means 2, 6, 10, s = 4, MCSE = 4/√3 on 2 degrees of freedom.
    @Test func nestedMCSEIsOverDrawMeans() {
        let s = SampleStatistics([1, 3, 5, 7, 9, 11], groups: [0, 0, 1, 1, 2, 2])
        #expect(s.count == 6 && s.units == 3 && s.mean == 6)
        #expect(abs(s.mcse - 4 / 3.0.squareRoot()) < 1e-14)
        // t(0.975, 2) = 0.95·√(2/(4·0.975·0.025)) = 4.302652729749461 (closed form for 2 degrees of freedom).
        #expect(abs(s.ciHigh - (6 + 4.302652729749461 * 4 / 3.0.squareRoot())) < 1e-12)
        // One value per draw: plain replications.
        #expect(SampleStatistics([1, 3, 5], groups: [0, 1, 2]) == SampleStatistics([1, 3, 5]))
    }

    @Test func fewValues() {
        let one = SampleStatistics([3])
        #expect(one.mean == 3 && one.mcse.isNaN && one.ciLow.isNaN && one.percentiles.allSatisfy { $0 == 3 })
        let none = SampleStatistics([])
        #expect(none.count == 0 && none.mean.isNaN && none.percentiles.allSatisfy(\.isNaN))
    }

    /// A = [[4, 2], [2, 3]] = L·Lᵀ with L = [[2, 0], [1, √2]]; not positive definite: nil.
    @Test func cholesky() throws {
        let l = try #require(Statistics.cholesky([[4, 2], [2, 3]]))
        #expect(l[0] == [2, 0] && l[1][0] == 1 && abs(l[1][1] - 2.0.squareRoot()) < 1e-15)
        #expect(Statistics.cholesky([[1, 2], [2, 1]]) == nil)
    }
}
