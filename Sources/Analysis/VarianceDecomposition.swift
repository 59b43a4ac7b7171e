import CGSL
import Stochastics

/// Splits the spread of Monte Carlo output into parameter uncertainty and
/// chance (stochastic, first-order) uncertainty, by the one-way random-effects
/// (nested) analysis of variance.
///
/// A probabilistic sensitivity analysis draws parameters `d = 1 … a` and runs
/// `n_d` replications of each draw, so each value is
///
/// ```
/// Y_dr = μ + θ_d + ε_dr,   θ_d ~ (0, σp²)  parameter,   ε_dr ~ (0, σc²)  chance
/// ```
///
/// With `N = Σ n_d` values, draw means `Ȳ_d` and grand mean `Ȳ`:
///
/// ```
/// MSW = Σ_d Σ_r (Y_dr − Ȳ_d)² / (N − a)          within-draw mean square
/// MSB = Σ_d n_d (Ȳ_d − Ȳ)² / (a − 1)             between-draw mean square
/// n0  = (N − Σ_d n_d² / N) / (a − 1)              (= K when every n_d = K)
/// σc² = MSW,   σp² = max(0, (MSB − MSW) / n0)     ANOVA (method of moments)
/// share = σp² / (σp² + σc²)
/// ```
///
/// `E[MSW] = σc²` and `E[MSB] = σc² + n0·σp²`, so the untruncated estimators are
/// unbiased for any distribution of θ and ε (Searle, Casella & McCulloch 1992,
/// *Variance Components*, Wiley, ch. 3, the 1-way classification). The
/// estimate of σp² can be negative; it is truncated at 0, which makes it
/// biased upwards: `untruncatedParameterVariance` keeps the raw value. The same
/// decomposition is used by O'Hagan, Stevenson & Madan (2007), "Monte Carlo
/// probabilistic sensitivity analysis for patient level simulation models:
/// efficient estimation of mean and variance using ANOVA", *Health Economics*
/// 16:1009–1023, to separate parameter from patient-level (chance) variance.
///
/// Not identified, so `nil` rather than a made-up number:
/// - every draw has one replication (`N = a`): no within-draw degrees of
///   freedom, so chance and parameter variance cannot be told apart;
/// - a single draw (`a = 1`): no between-draw degrees of freedom.
///
/// The standard error and the confidence interval assume θ and ε normal; the
/// point estimates do not.
public struct VarianceDecomposition: Sendable, Equatable {
    /// A problem with the input: what was found and what was expected.
    public struct InputError: Error, CustomStringConvertible, Sendable, Equatable {
        public var description: String
        public init(description: String) { self.description = description }
    }

    /// Number of parameter draws (distinct labels in `draw`), `a`.
    public var draws: Int
    /// Number of values, `N`.
    public var values: Int
    /// Mean replications per draw, `N / a`.
    public var replicationsPerDraw: Double
    /// True when every draw has the same number of replications.
    public var isBalanced: Bool
    /// The unbalanced-design multiplier `n0 = (N − Σ n_d² / N) / (a − 1)`;
    /// equals the replications per draw when balanced. Nil when `a = 1`.
    public var effectiveReplicationsPerDraw: Double?
    /// Mean of all values, `Ȳ = Σ Y_dr / N` (each value weighted equally).
    public var grandMean: Double
    /// Sample variance of all values, `Σ (Y_dr − Ȳ)² / (N − 1)`; estimates
    /// σp² + σc² only approximately when the design is unbalanced.
    public var totalVariance: Double
    /// Between-draw mean square `MSB`; nil when `a = 1`.
    public var betweenDrawMeanSquare: Double?
    /// Chance variance σc², the pooled within-draw mean square `MSW`;
    /// nil when every draw has one replication.
    public var chanceVariance: Double?
    /// `(MSB − MSW) / n0` before truncation; negative when the draws differ
    /// less than chance alone would make them. Nil when not identified.
    public var untruncatedParameterVariance: Double?
    /// Parameter variance σp² = max(0, `untruncatedParameterVariance`).
    /// Nil when not identified.
    public var parameterVariance: Double?
    /// Share of parameter uncertainty, σp² / (σp² + σc²) (the intraclass
    /// correlation). Nil when not identified or when both components are 0.
    public var parameterShare: Double?
    /// Standard error of σp² under normality, plug-in:
    ///
    /// ```
    /// SE² = 2/n0² · (MSB² / (a − 1) + MSW² / (N − a))
    /// ```
    ///
    /// exact in form for balanced data (Searle et al. 1992, ch. 3), with n0
    /// for K when unbalanced (an approximation). Nil when not identified.
    public var parameterVarianceStandardError: Double?
    /// Confidence level of `parameterShareInterval`, e.g. 0.95.
    public var confidenceLevel: Double
    /// Confidence interval for `parameterShare` from the F distribution of
    /// `F = MSB / MSW`, which under normality satisfies
    /// `F / (1 + n0·σp²/σc²) ~ F(a − 1, N − a)`:
    ///
    /// ```
    /// L = F / F(1 − α/2; a − 1, N − a),   U = F / F(α/2; a − 1, N − a)
    /// share in [ (L − 1) / (L + n0 − 1),  (U − 1) / (U + n0 − 1) ]  clamped to [0, 1]
    /// ```
    ///
    /// Exact for balanced data under normality (Searle et al. 1992, ch. 3);
    /// approximate for unbalanced data (n0 in place of K). Nil when not
    /// identified or when `MSW = 0`.
    public var parameterShareInterval: ClosedRange<Double>?

    /// Decompose `values`, where `draw[i]` labels the parameter draw of `values[i]`.
    ///
    /// Labels are arbitrary integers and need not be contiguous or sorted.
    /// Complexity: O(N) time, O(a) extra space.
    ///
    /// - Parameters:
    ///   - values: one output per replication, finite.
    ///   - draw: the parameter draw of each value; same length as `values`.
    ///   - confidenceLevel: of `parameterShareInterval`, in (0, 1).
    /// - Throws: `InputError` for mismatched lengths, fewer than 2 values,
    ///   a non-finite value or a confidence level outside (0, 1).
    public init(values: [Double], draw: [Int], confidenceLevel: Double = 0.95) throws(InputError) {
        guard values.count == draw.count else {
            throw InputError(description: "Number of draw labels (\(draw.count)) doesn't match number of values (\(values.count)).")
        }
        guard values.count >= 2 else {
            throw InputError(description: "Variance decomposition needs at least 2 values, but got \(values.count).")
        }
        if let i = values.firstIndex(where: { !$0.isFinite }) {
            throw InputError(description: "Value \(i) (draw \(draw[i])) is \(values[i]); every value must be finite.")
        }
        guard confidenceLevel > 0 && confidenceLevel < 1 else {
            throw InputError(description: "Confidence level must be in (0, 1), but is \(confidenceLevel).")
        }

        // Group slots in order of first appearance.
        var slot: [Int: Int] = [:]
        var groupOf = [Int](repeating: 0, count: values.count)
        var counts: [Int] = []
        var sums: [Double] = []
        for (i, label) in draw.enumerated() {
            let g: Int
            if let s = slot[label] {
                g = s
            } else {
                g = counts.count
                slot[label] = g
                counts.append(0)
                sums.append(0)
            }
            groupOf[i] = g
            counts[g] += 1
            sums[g] += values[i]
        }
        let a = counts.count
        let n = values.count
        let means = zip(sums, counts).map { $0 / Double($1) }
        let grand = Statistics.mean(values)

        var ssTotal = 0.0, ssWithin = 0.0
        for (i, y) in values.enumerated() {
            ssTotal += (y - grand) * (y - grand)
            let e = y - means[groupOf[i]]
            ssWithin += e * e
        }
        var ssBetween = 0.0
        for g in 0..<a { ssBetween += Double(counts[g]) * (means[g] - grand) * (means[g] - grand) }

        self.draws = a
        self.values = n
        self.replicationsPerDraw = Double(n) / Double(a)
        self.isBalanced = counts.allSatisfy { $0 == counts[0] }
        self.grandMean = grand
        self.totalVariance = ssTotal / Double(n - 1)
        self.confidenceLevel = confidenceLevel

        let withinDF = n - a, betweenDF = a - 1
        let n0: Double? = betweenDF > 0
            ? (Double(n) - Double(counts.reduce(0) { $0 + $1 * $1 }) / Double(n)) / Double(betweenDF)
            : nil
        self.effectiveReplicationsPerDraw = n0
        self.betweenDrawMeanSquare = betweenDF > 0 ? ssBetween / Double(betweenDF) : nil
        self.chanceVariance = withinDF > 0 ? ssWithin / Double(withinDF) : nil

        guard let n0, let msb = betweenDrawMeanSquare, let msw = chanceVariance else {
            self.untruncatedParameterVariance = nil
            self.parameterVariance = nil
            self.parameterShare = nil
            self.parameterVarianceStandardError = nil
            self.parameterShareInterval = nil
            return
        }
        let raw = (msb - msw) / n0
        let sigmaP = max(0, raw)
        self.untruncatedParameterVariance = raw
        self.parameterVariance = sigmaP
        self.parameterShare = sigmaP + msw > 0 ? sigmaP / (sigmaP + msw) : nil
        self.parameterVarianceStandardError =
            (2 / (n0 * n0) * (msb * msb / Double(betweenDF) + msw * msw / Double(withinDF))).squareRoot()

        if msw > 0 {
            GSLErrors.install()
            let alpha = 1 - confidenceLevel
            let fUpper = gsl_cdf_fdist_Pinv(1 - alpha / 2, Double(betweenDF), Double(withinDF))
            let fLower = gsl_cdf_fdist_Pinv(alpha / 2, Double(betweenDF), Double(withinDF))
            let f = msb / msw
            func share(_ ratio: Double) -> Double {
                guard ratio.isFinite else { return 1 }
                return min(1, max(0, (ratio - 1) / (ratio + n0 - 1)))
            }
            let low = share(f / fUpper), high = share(f / fLower)
            self.parameterShareInterval = low <= high && !low.isNaN && !high.isNaN ? low...high : nil
        } else {
            self.parameterShareInterval = nil
        }
    }
}
