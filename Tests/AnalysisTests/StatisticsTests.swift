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
        let xs = Self.sample(2001, seed: 3, integer: true)
        var q = BinnedQuantiles(integerValued: true)
        for x in xs { q.add(x) }
        let sorted = xs.sorted()
        for p in [0.025, 0.05, 0.25, 0.5, 0.75, 0.95, 0.975] {
            let exact = sorted[Int((p * Double(sorted.count - 1)).rounded())]
            #expect(q.quantile(p) == exact, "p = \(p)")
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
            let exact = sorted[Int((p * Double(sorted.count - 1)).rounded())]
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
        #expect(abs(a.standardError - (variance / 1000).squareRoot()) / a.standardError < 1e-9)
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
}
