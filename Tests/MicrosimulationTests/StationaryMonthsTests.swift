import Foundation
import Microsimulation
import Model
import Testing
import TestSupport

@Suite("Stationary months from a threshold table")
struct StationaryMonthsTests {
    /// Levels with slow and fast tails (a tail of thousands of steps, one capped at 65,535), with and
    /// without duration bands, in monthly and quarterly steps.
    static func arms() throws -> [ArmModel] {
        try [(1, "0.05", "0.3"), (3, "0.00000001", "0.9"), (1, "0.5", "2.0")].map { step, slow, fast in
            try Fixtures.scenario("""
            time: {stepMonths: \(step), horizonYears: 1}
            levels:
              A: {costPerChildYear: 0, qolWeight: 1}
              B: {costPerChildYear: 0, qolWeight: 1}
              C: {costPerChildYear: 0, qolWeight: 1}
            population:
              initialCounts: {A: 10, B: 10, C: 10}
              initialMonthsInLevel: stationary
              ageing: false
            transitions:
              unit: ratesPerYear
              matrix:
                A: {B: \(slow)}
                B: {A: \(fast), C: 0.1}
                C: {B: \(fast)}
              durationDependence:
                B:
                  - {fromMonths: 0, leaveMultiplier: 1.5}
                  - {fromMonths: 6, leaveMultiplier: 1}
            """).arms[0]
        }
    }

    /// Every month count equals `StationaryStay.months` with v = word / 2^32, bit for bit: at
    /// 200,000 random (u, word) pairs per level, and at each threshold word and its neighbours
    /// (where ⌊log v / log(1 − p)⌋ changes), with u sending the draw to the tail.
    @Test func monthsAreStationaryStayMonths() throws {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func nextWord() -> UInt32 {  // splitmix64, fixed seed
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return UInt32(truncatingIfNeeded: z ^ (z >> 31))
        }
        var tails = 0, capped = false, mismatches = 0
        for arm in try Self.arms() {
            for l in arm.levels.indices {
                let stay = StationaryStay(arm: arm, level: l), table = StationaryMonths(stay)
                func check(_ u: Double, _ w: UInt32) {
                    let expected = stay.months(u: u, v: Double(w) * 0x1p-32)
                    let got = table.months(u: u, word: w)
                    if got != expected {
                        if mismatches < 5 { Issue.record("level \(l), u \(u), word \(w): \(got) months, expected \(expected)") }
                        mismatches += 1
                    }
                }
                for _ in 0..<50_000 {
                    let w = max(nextWord(), 1)
                    check(Double(nextWord()) * 0x1p-32, w)
                }
                let tailU = 1 - 0x1p-53
                for w: UInt32 in [1, 2, 3, UInt32.max - 1, UInt32.max] { check(tailU, w) }
                for t in table.thresholdWords {
                    for w in [Int(t) - 1, Int(t), Int(t) + 1] where w >= 1 && w <= Int(UInt32.max) { check(tailU, UInt32(w)) }
                }
                tails += table.thresholdWords.count
                if stay.months(u: tailU, v: 0x1p-32) == 65_535 { capped = true }
            }
        }
        #expect(mismatches == 0)
        #expect(tails > 10_000, "the levels should exercise long tails, but have \(tails) thresholds")
        #expect(capped, "one level should reach the cap of 65,535 months")
    }
}
