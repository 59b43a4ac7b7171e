/// Count, sum and sum of squares, kept exactly so that the result does not
/// depend on the order values arrive in: the same bytes for any thread
/// count and any split into shards.
///
/// Each value is first rounded to a multiple of 2^−16 (about 1.5e−5), then
/// accumulated in 128-bit integers, where addition is associative. Floating
/// point sums are not (Goldberg 1991, "What every computer scientist should
/// know about floating-point arithmetic"), which is why this is not a
/// Welford accumulator.
public struct ExactMoments: Sendable, Equatable {
    public static let scale: Double = 65536
    public private(set) var count: Int64 = 0
    public private(set) var sum: Int128 = 0
    public private(set) var sumOfSquares: Int128 = 0

    public init() {}

    public init(count: Int64, sum: Int128, sumOfSquares: Int128) {
        self.count = count
        self.sum = sum
        self.sumOfSquares = sumOfSquares
    }

    /// Values beyond this magnitude cannot be accumulated exactly.
    public static let largestMagnitude: Double = 1e14

    /// Add one value. - Precondition: |x| ≤ `largestMagnitude` (checked by the caller).
    public mutating func add(_ x: Double) {
        let v = (x * Self.scale).rounded()
        // Below 2^63 in magnitude (every record value: ≤ 1e14 · 2^16) through Int64, whose conversion is
        // one instruction; the same integer either way.
        let q = abs(v) < 0x1p63 ? Int128(Int64(v)) : Int128(v)
        count += 1
        sum += q
        sumOfSquares += q * q
    }

    public mutating func merge(_ other: ExactMoments) {
        count += other.count
        sum += other.sum
        sumOfSquares += other.sumOfSquares
    }

    /// Arithmetic mean of the (rounded) values.
    public var mean: Double { count == 0 ? .nan : Double(sum) / Self.scale / Double(count) }

    /// Sample variance, s² = (n Σx² − (Σx)²) / (n (n − 1)); the numerator is
    /// exact when it fits in 128 bits.
    public var variance: Double {
        guard count > 1 else { return .nan }
        let n = Int128(count)
        let (a, o1) = n.multipliedReportingOverflow(by: sumOfSquares)
        let (b, o2) = sum.multipliedReportingOverflow(by: sum)
        let numerator: Double
        if !o1 && !o2 {
            numerator = Double(a - b)
        } else {
            numerator = Double(n) * Double(sumOfSquares) - Double(sum) * Double(sum)
        }
        return max(0, numerator) / (Self.scale * Self.scale) / (Double(count) * Double(count - 1))
    }

    /// Sample standard deviation s = √s²; NaN below 2 values.
    public var standardDeviation: Double { variance.squareRoot() }
}
