import Foundation
import Model

/// Months already spent in a level, drawn exactly as `StationaryStay.months(u:v:)` draws them, with
/// the geometric tail's ⌊log v / L⌋ (L = log(1 − p) < 0, p the tail's leave probability) read from a
/// table of thresholds instead of taking a logarithm per child.
///
/// The engines' v is w / 2^32 for a word w in 1 ... 2^32 − 1, and E(w) = ⌊log(w / 2^32) / L⌋ (glibc's
/// `log`, IEEE division) never increases with w: neighbouring v differ by at least 2^−32 relative,
/// far more than the logarithm's error (under one unit in the last place, 2^−52 relative), so the
/// computed log v increases strictly with w, and division by L < 0 and ⌊·⌋ keep the order. Hence
/// E(w) ≥ k exactly when w ≤ U_k, with U_k the largest word for which E(w) ≥ k (found here with the
/// same `log`), and min(E(w), 65,535) = #{k ≤ 65,535 : w ≤ U_k}. That count is found from w's
/// floating-point exponent and leading mantissa bits (a bucket of words, for which the count's
/// range is tabulated) and comparisons with the thresholds within that range: no logarithm, and
/// the count is the table's.
public struct StationaryMonths: Sendable {
    /// `StationaryStay`'s step length, S_j before the tail, and Σ S_j.
    let stepMonths: Int
    let head: [Double]
    let total: Double
    /// U_k for k = 1 ... K at [k − 1], non-increasing; K = min(E(1), 65,535), or 0 without a tail.
    let thresholds: [UInt32]
    /// Per bucket of words b = (exponent of w, its leading `bucketBits` mantissa bits), the range of the
    /// count over the bucket's words: lowest (its largest word's) | highest (its smallest word's) << 16.
    let buckets: [UInt32]
    /// Mantissa bits per bucket, and Double(w).bitPattern >> (52 − bucketBits) − bias = b.
    let bucketBits: Int
    let bias: Int
    /// Whether the tail is drawn (0 < p < 1).
    let hasTail: Bool
    /// The thresholds U_1, U_2, … (for tests: the words at which the tail's count changes).
    public var thresholdWords: [UInt32] { thresholds }

    /// The most tail steps `StationaryStay.months` counts.
    static let tailCap = 65_535

    /// For a level whose months are not drawn (never read).
    static let none = StationaryMonths()

    private init() { stepMonths = 1; head = []; total = 0; thresholds = []; buckets = []; bucketBits = 0; bias = 0; hasTail = false }

    public init(_ stay: StationaryStay) {
        stepMonths = stay.stepMonths; head = stay.head; total = stay.total
        hasTail = stay.tailLeave > 0 && stay.tailLeave < 1
        guard hasTail else { thresholds = []; buckets = []; bucketBits = 0; bias = 0; return }
        let logStay = log(1 - stay.tailLeave)  // as `StationaryStay` takes it
        /// E(w), computed as `StationaryStay.months` computes it from v = w / 2^32.
        func tail(_ w: Int) -> Double { floor(log(Double(w) * 0x1p-32) / logStay) }
        let top = Int(UInt32.max)
        let most = Int(min(tail(1), Double(Self.tailCap)))
        var thresholds: [UInt32] = []
        thresholds.reserveCapacity(max(most, 0))
        var w = top
        for k in stride(from: 1, through: most, by: 1) {
            // Start at exp(k · L) · 2^32 (within a few words of U_k) or the previous U_(k−1) ≥ U_k.
            let guess = exp(Double(k) * logStay) * 0x1p32
            w = min(w, max(1, min(top, Int(guess))))
            if tail(w) >= Double(k) {
                while w < top && tail(w + 1) >= Double(k) { w += 1 }
            } else {
                while w >= 1 && tail(w) < Double(k) { w -= 1 }
            }
            thresholds.append(UInt32(w))  // w ≥ 1 here: tail(1) ≥ most ≥ k
        }
        self.thresholds = thresholds
        // A bucket of words with exponent e spans log v over less than 2^−bits / (1/2) (e = 31), so
        // about 2^(1 − bits) / |L| thresholds: bits = ⌈log2(1/|L|)⌉ + 1 leaves at most about one
        // (at most 2^10 buckets per exponent; a wider range is searched by bisection).
        let bits = min(10, max(0, Int((-log2(-logStay)).rounded(.up)) + 1))
        bucketBits = bits
        bias = 1023 << bits
        /// #{k : w ≤ U_k}, by bisection of the non-increasing thresholds.
        func count(_ w: Int) -> Int {
            var lo = 0, hi = thresholds.count
            while lo < hi { let mid = (lo + hi) / 2; if w <= Int(thresholds[mid]) { lo = mid + 1 } else { hi = mid } }
            return lo
        }
        var buckets: [UInt32] = []
        buckets.reserveCapacity(32 << bits)
        for e in 0..<32 {
            for sub in 0..<(1 << bits) {
                // Words in [2^e (1 + sub / 2^bits), 2^e (1 + (sub + 1) / 2^bits)).
                let lower = (Double(1 << bits) + Double(sub)) * Double(sign: .plus, exponent: e - bits, significand: 1)
                let upper = (Double(1 << bits) + Double(sub + 1)) * Double(sign: .plus, exponent: e - bits, significand: 1)
                let smallest = max(1, Int(lower.rounded(.up))), largest = min(top, Int(upper.rounded(.up)) - 1)
                buckets.append(smallest > largest ? 0 : UInt32(count(largest)) | UInt32(count(smallest)) << 16)
            }
        }
        self.buckets = buckets
    }

    /// `StationaryStay.months(u: u, v: w / 2^32)` of the stay it was made from, for a word w ≥ 1.
    @inline(__always)
    public func months(u: Double, word w: UInt32) -> Int {
        guard total > 0 else { return 0 }
        var target = u * total
        let step = stepMonths
        for (j, s) in head.enumerated() {
            if target < s { return j * step }
            target -= s
        }
        guard hasTail else { return head.count * step }
        let b = Int(truncatingIfNeeded: Double(w).bitPattern >> UInt64(52 - bucketBits)) - bias
        let range = buckets[b]
        let k = thresholds.withUnsafeBufferPointer { t -> Int in
            // The count is in lo ... hi: t[k − 1] = U_k.
            var lo = Int(range & 0xffff), hi = Int(range >> 16)
            while hi - lo > 8 { let mid = (lo + hi + 1) / 2; if w <= t[mid - 1] { lo = mid } else { hi = mid - 1 } }
            while lo < hi && w <= t[lo] { lo += 1 }
            return lo
        }
        return min(65_535, head.count * step + k * step)
    }
}
