import CGSL
import Stochastics

/// The statistics every output uses: one sample quantile, one mean, standard
/// deviation, Monte Carlo standard error and 95 % confidence interval of a
/// mean, and one Cholesky factorisation (docs/methods.md, "Statistics used by
/// all outputs").
///
/// Analysis owns them because it is the module of output statistics that
/// Experiments, Calibration and Reports all depend on; Stochastics keeps the
/// distribution functions (Student's t quantile) they are built from.
public enum Statistics {
    /// The percentiles reported across replications (bands.csv, summary.csv, report), as column label and p.
    public static let percentiles: [(label: String, p: Double)] = [
        ("p2_5", 0.025), ("p5", 0.05), ("p25", 0.25), ("p50", 0.5), ("p75", 0.75), ("p95", 0.95), ("p97_5", 0.975),
    ]

    /// The p-quantile of sorted values, Hyndman & Fan (1996) type 7: with
    /// h = (n − 1)·p, Q(p) = x₍⌊h⌋₎ + (h − ⌊h⌋)·(x₍⌊h⌋+1₎ − x₍⌊h⌋₎), order
    /// statistics counted from 0 (`gsl_stats_quantile_from_sorted_data`).
    /// NaN for no values. - Precondition: 0 ≤ p ≤ 1 and `sorted` ascending.
    public static func quantile(sorted: [Double], _ p: Double) -> Double {
        precondition(p >= 0 && p <= 1, "a quantile needs p in [0, 1], but p is \(p).")
        guard !sorted.isEmpty else { return .nan }
        return sorted.withUnsafeBufferPointer { gsl_stats_quantile_from_sorted_data($0.baseAddress, 1, $0.count, p) }
    }

    /// The type-7 p-quantile of values in any order; NaN for no values.
    public static func quantile(_ xs: [Double], _ p: Double) -> Double { quantile(sorted: xs.sorted(), p) }

    /// The arithmetic mean Σx/n, summed in the order given; NaN for no values.
    public static func mean(_ xs: [Double]) -> Double {
        xs.isEmpty ? .nan : xs.reduce(0, +) / Double(xs.count)
    }

    /// The sample standard deviation s = √(Σ(x − x̄)²/(n − 1)); NaN below 2 values.
    public static func standardDeviation(_ xs: [Double]) -> Double {
        guard xs.count > 1 else { return .nan }
        let m = mean(xs)
        return (xs.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(xs.count - 1)).squareRoot()
    }

    /// The Monte Carlo standard error of a mean of n independent units: s/√n
    /// (Koehler, Brown & Haneuse 2009, Am Stat 63(2):155–162); NaN below 2 units.
    public static func mcse(standardDeviation s: Double, units n: Int) -> Double {
        n > 1 ? s / Double(n).squareRoot() : .nan
    }

    /// The 95 % confidence interval of a mean: mean ± t(0.975, n − 1)·MCSE,
    /// Student's t with n − 1 degrees of freedom for n independent units
    /// (`gsl_cdf_tdist_Pinv`); NaN bounds below 2 units.
    public static func confidenceInterval95(mean: Double, mcse: Double, units n: Int) -> (low: Double, high: Double) {
        guard n > 1 else { return (.nan, .nan) }
        let half = Quantiles.studentT(0.975, degreesOfFreedom: Double(n - 1)) * mcse
        return (mean - half, mean + half)
    }

    /// The lower-triangular Cholesky factor L of a symmetric positive-definite
    /// A = L·Lᵀ, column by column (Golub & Van Loan 2013, *Matrix Computations*,
    /// 4th ed., Algorithm 4.2.1); nil unless every pivot is positive and finite.
    /// - Complexity: O(n³).
    public static func cholesky(_ a: [[Double]]) -> [[Double]]? {
        let n = a.count
        var l = [[Double]](repeating: [Double](repeating: 0, count: n), count: n)
        for j in 0..<n {
            var d = a[j][j]
            for k in 0..<j { d -= l[j][k] * l[j][k] }
            guard d > 0, d.isFinite else { return nil }
            l[j][j] = d.squareRoot()
            for i in (j + 1)..<n {
                var s = a[i][j]
                for k in 0..<j { s -= l[i][k] * l[j][k] }
                l[i][j] = s / l[j][j]
            }
        }
        return l
    }
}

/// What every output says about one quantity across replications: count,
/// mean, standard deviation, MCSE and 95 % CI of the mean, and the percentiles
/// of `Statistics.percentiles`. Computed once and shown everywhere the
/// quantity appears (bands.csv, summary.csv, report.md, report-tables.tex).
public struct SampleStatistics: Sendable, Equatable {
    /// Values behind the statistics (replications).
    public var count: Int
    /// Independent units behind the MCSE: `count`, or the parameter draws of a nested run.
    public var units: Int
    public var mean: Double
    /// Sample standard deviation of the values.
    public var standardDeviation: Double
    /// Monte Carlo standard error of the mean over `units` independent units.
    public var mcse: Double
    /// 95 % confidence interval for the mean: mean ± t(0.975, units − 1)·mcse.
    public var ciLow: Double
    public var ciHigh: Double
    /// Percentiles across the values, in the order of `Statistics.percentiles`.
    public var percentiles: [Double]
    /// Whether `percentiles` are exact type-7 sample quantiles (false: located to a histogram bin).
    public var exactPercentiles: Bool

    /// From parts already computed elsewhere (the streaming cells of bands.csv).
    public init(count: Int, mean: Double, standardDeviation: Double, percentiles: [Double], exactPercentiles: Bool) {
        self.count = count
        self.units = count
        self.mean = mean
        self.standardDeviation = standardDeviation
        self.mcse = Statistics.mcse(standardDeviation: standardDeviation, units: count)
        (ciLow, ciHigh) = Statistics.confidenceInterval95(mean: mean, mcse: mcse, units: count)
        self.percentiles = percentiles
        self.exactPercentiles = exactPercentiles
    }

    /// The statistics of `values`, in the order given (replication order).
    ///
    /// - Parameter groups: the parameter draw of each value in a nested run.
    ///   When a draw holds more than one value, its values are not independent,
    ///   so the MCSE is that of the draw means, s(draw means)/√draws, with
    ///   draws − 1 degrees of freedom; the mean stays the mean of all values.
    public init(_ values: [Double], groups: [Int]? = nil) {
        count = values.count
        mean = Statistics.mean(values)
        standardDeviation = Statistics.standardDeviation(values)
        let sorted = values.sorted()
        percentiles = Statistics.percentiles.map { Statistics.quantile(sorted: sorted, $0.p) }
        exactPercentiles = true
        if let groups, groups.count == values.count, Set(groups).count < values.count {
            var sums: [Int: (sum: Double, count: Int)] = [:]
            for (g, x) in zip(groups, values) { sums[g, default: (0, 0)].sum += x; sums[g, default: (0, 0)].count += 1 }
            let means = sums.keys.sorted().map { sums[$0]!.sum / Double(sums[$0]!.count) }
            units = means.count
            mcse = Statistics.mcse(standardDeviation: Statistics.standardDeviation(means), units: units)
        } else {
            units = count
            mcse = Statistics.mcse(standardDeviation: standardDeviation, units: count)
        }
        (ciLow, ciHigh) = Statistics.confidenceInterval95(mean: mean, mcse: mcse, units: units)
    }

    /// The percentile labelled `label` in `Statistics.percentiles` (e.g. "p2_5").
    public func percentile(_ label: String) -> Double {
        percentiles[Statistics.percentiles.firstIndex { $0.label == label }!]
    }

    public var p2_5: Double { percentiles[0] }
    public var p50: Double { percentiles[3] }
    public var p97_5: Double { percentiles[6] }
}

/// A ratio of two means over replications, R = Ȳ / X̄ (for example the discounted cost per child:
/// total cost over children ever in the model), with its delta-method Monte Carlo standard error.
///
/// Linearised, R̂ − R ≈ mean of z_i with z_i = (y_i − R̂·x_i) / X̄, so
///
/// ```
/// MCSE(R̂) = s(z) / √n
/// ```
///
/// (the variance of the ratio estimator; Cochran 1977, "Sampling Techniques", 3rd ed., §6.3 and
/// §6.4; Stuart & Ord 1994, "Kendall's Advanced Theory of Statistics", vol. 1, §10.5). In a
/// nested run the z_i are grouped by parameter draw, as `SampleStatistics` groups values. With X
/// the same in every replication (a closed cohort), R̂ = Ȳ/X and its MCSE is MCSE(Ȳ)/X exactly.
/// A difference of two arms' ratios from paired replications, R̂_a − R̂_0, has the influence
/// values z_a,i − z_0,i, so pairing reduces its MCSE as it does that of a difference of totals.
public struct RatioOfMeans: Sendable, Equatable {
    /// Replications behind it, and the independent units behind its MCSE (draws of a nested run).
    public var count: Int
    public var units: Int
    public var mean: Double
    public var mcse: Double
    /// 95 % confidence interval: mean ± t(0.975, units − 1)·MCSE.
    public var ciLow: Double
    public var ciHigh: Double

    /// Ȳ / X̄ of paired values y_i, x_i (same count); `groups`: each replication's draw in a nested run.
    public init(numerator y: [Double], denominator x: [Double], groups: [Int]? = nil) {
        let (ratio, z) = Self.influence(y, x)
        self.init(estimate: ratio, influence: z, groups: groups)
    }

    /// Ȳ_a / X̄_a − Ȳ_0 / X̄_0 from paired replications (index i is the same replication in both).
    public init(differenceOf a: (numerator: [Double], denominator: [Double]),
                from b: (numerator: [Double], denominator: [Double]), groups: [Int]? = nil) {
        let (ra, za) = Self.influence(a.numerator, a.denominator)
        let (rb, zb) = Self.influence(b.numerator, b.denominator)
        self.init(estimate: ra - rb, influence: zip(za, zb).map { $0 - $1 }, groups: groups)
    }

    private init(estimate: Double, influence z: [Double], groups: [Int]?) {
        let s = SampleStatistics(z, groups: groups)
        count = s.count
        units = s.units
        mean = estimate
        mcse = s.mcse
        (ciLow, ciHigh) = Statistics.confidenceInterval95(mean: estimate, mcse: mcse, units: units)
    }

    /// R̂ = Ȳ/X̄ and z_i = (y_i − R̂·x_i)/X̄; NaN when X̄ is 0.
    private static func influence(_ y: [Double], _ x: [Double]) -> (Double, [Double]) {
        precondition(y.count == x.count, "\(y.count) numerators for \(x.count) denominators")
        let xBar = Statistics.mean(x)
        let ratio = Statistics.mean(y) / xBar
        return (ratio, zip(y, x).map { ($0 - ratio * $1) / xBar })
    }
}
