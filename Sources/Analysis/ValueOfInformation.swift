/// Expected value of perfect information (EVPI) and of partial perfect
/// information (EVPPI) from the draws of a probabilistic sensitivity analysis.
///
/// Input is net benefit per draw and arm, `NB[i][a] = λ·QALY − cost` at one
/// willingness to pay λ, computed by the caller and already averaged over the
/// replications of draw `i`. Values are per whatever unit the caller's net
/// benefit is in (per child, per cohort); multiply by the population affected
/// for a population value.
public enum ValueOfInformation {
    /// A problem with the input: what was found and what was expected.
    public struct InputError: Error, CustomStringConvertible, Sendable, Equatable {
        public var description: String
        public init(description: String) { self.description = description }
    }

    // MARK: - EVPI

    /// Expected value of perfect information, with the arm that is optimal on expected net benefit.
    public struct PerfectInformation: Sendable, Equatable {
        /// Number of draws, `n`.
        public var draws: Int
        /// Number of arms, `A`.
        public var arms: Int
        /// Mean net benefit per arm over draws, `mean_i NB[i][a]`.
        public var expectedNetBenefit: [Double]
        /// The arm with the largest expected net benefit (the lowest index on a tie).
        public var optimalArm: Int
        /// Mean over draws of the best arm's net benefit, `mean_i max_a NB[i][a]`.
        public var expectedMaximumNetBenefit: Double
        /// `mean_i max_a NB[i][a] − max_a mean_i NB[i][a]`, ≥ 0.
        public var evpi: Double
        /// Monte Carlo standard error of `evpi`, `sd_i(loss_i) / √n`, where
        /// `loss_i = max_a NB[i][a] − NB[i][optimalArm]`. It treats the optimal
        /// arm as known, so it ignores the upward bias from choosing that arm
        /// with the same draws. Nil with one draw.
        public var standardError: Double?
    }

    /// EVPI estimated by sample means over draws.
    ///
    /// ```
    /// EVPI = E_θ[max_a NB(a, θ)] − max_a E_θ[NB(a, θ)]
    ///      ≈ mean_i max_a NB[i][a] − max_a mean_i NB[i][a]
    ///      = mean_i (max_a NB[i][a] − NB[i][a*]),   a* = argmax_a mean_i NB[i][a]
    /// ```
    ///
    /// Computed in the last form, the mean per-draw opportunity loss, so that
    /// an arm optimal in every draw gives exactly 0. The estimator is biased
    /// upwards in small samples (the max of means is taken over noisy means).
    /// Reference: Briggs, Claxton & Sculpher (2006), *Decision Modelling for
    /// Health Economic Evaluation*, Oxford University Press, ch. 7.
    ///
    /// Complexity: O(n·A).
    ///
    /// - Parameter netBenefit: `[draw][arm]`, at least 1 draw and 2 arms, finite, rectangular.
    /// - Throws: `InputError` for an empty, ragged or non-finite table.
    public static func evpi(netBenefit: [[Double]]) throws(InputError) -> PerfectInformation {
        let arms = try validate(netBenefit: netBenefit)
        let n = netBenefit.count
        var means = [Double](repeating: 0, count: arms)
        for row in netBenefit { for a in 0..<arms { means[a] += row[a] } }
        for a in 0..<arms { means[a] /= Double(n) }
        let best = argmax(means)
        let losses = netBenefit.map { row in row.max()! - row[best] }
        let maxima = netBenefit.map { $0.max()! }
        let (lossMean, lossSE) = meanAndStandardError(losses)
        return PerfectInformation(
            draws: n, arms: arms, expectedNetBenefit: means, optimalArm: best,
            expectedMaximumNetBenefit: Statistics.mean(maxima),
            evpi: lossMean, standardError: lossSE)
    }

    // MARK: - EVPPI

    /// Expected value of partial perfect information about one group of
    /// parameters, with the regression fit it rests on.
    public struct PartialPerfectInformation: Sendable, Equatable {
        /// Number of draws, `n`.
        public var draws: Int
        /// Number of arms, `A`.
        public var arms: Int
        /// Number of parameters in the group.
        public var parameters: Int
        /// `mean_i max_a g_a(θ_i) − max_a mean_i g_a(θ_i)`, ≥ 0.
        public var evppi: Double
        /// The arm with the largest expected net benefit on the fitted values
        /// (the lowest index on a tie).
        public var optimalArm: Int
        /// Interior knots per parameter of the restricted cubic spline.
        public var interiorKnots: Int
        /// Columns of the design matrix, intercept included (constant
        /// parameters contribute none).
        public var basisColumns: Int
        /// Numerical rank of the design, ≤ `basisColumns`; smaller when
        /// columns are collinear and were left out by the pivoted QR.
        public var basisRank: Int
        /// Whether pairwise products of the standardised parameters were included.
        public var includesInteractions: Bool
        /// R² of the regression of each arm's incremental net benefit on the
        /// basis, indexed by arm. Nil for arm 0 (the reference) and for an arm
        /// whose incremental net benefit does not vary.
        public var rSquared: [Double?]
    }

    /// EVPPI by the nonparametric regression method of Strong, Oakley & Brennan (2014).
    ///
    /// For each arm `a ≥ 1`, the incremental net benefit `INB_a = NB_a − NB_0`
    /// is regressed on a basis in the group's parameters φ; the fitted values
    /// estimate `g_a(φ_i) = E[INB_a | φ_i]`, with `g_0 = 0`:
    ///
    /// ```
    /// EVPPI = mean_i max_a g_a(φ_i) − max_a mean_i g_a(φ_i)
    /// ```
    ///
    /// computed, like `evpi`, as a mean per-draw opportunity loss. Reference:
    /// Strong, Oakley & Brennan (2014), "Estimating multiparameter partial
    /// expected value of perfect information from a probabilistic sensitivity
    /// analysis sample: a nonparametric regression approach", *Med Decis
    /// Making* 34(3):311–326.
    ///
    /// The regression (an unpenalised stand-in for their GAM):
    /// - each parameter is standardised, `z = (x − mean) / sd`; a parameter
    ///   constant over the draws contributes nothing;
    /// - an additive natural cubic regression spline in each `z`: cubic
    ///   between knots, second derivative 0 at the outer knots, in Harrell's
    ///   restricted cubic spline basis (Harrell 2015, *Regression Modeling
    ///   Strategies*, 2nd ed., Springer, §2.4.5), `m + 1` columns per
    ///   parameter for `m` interior knots;
    /// - `m + 2` knots at the sample quantiles `l/(m + 1)`, `l = 0 … m + 1`
    ///   (Hyndman & Fan 1996 type 7), so the outer knots are the smallest and
    ///   largest draw and each interval holds the same number of draws, as
    ///   mgcv places the knots of its cubic regression spline (`place.knots`;
    ///   Wood 2006, *Generalized Additive Models*, §4.1.2). Tied knots (a
    ///   discrete parameter) are merged; with fewer than 3 distinct knots
    ///   only the linear term is kept;
    /// - `m` = 4 for n < 2,500 draws, 5 for n < 10,000 and 6 from 10,000,
    ///   unless given: more draws afford a more flexible fit;
    /// - for a group of 2–4 parameters, the products `z_j·z_k`, `j < k`, the
    ///   simplest interactions; larger groups are additive only;
    /// - every column centred and scaled, with an intercept, fitted by least
    ///   squares through Householder QR with column pivoting (Golub & Van
    ///   Loan 2013, *Matrix Computations*, 4th ed., §5.4.1); a column whose
    ///   remaining norm falls below 1e−10 of the first pivot's is left out as
    ///   collinear (`basisRank`). This is Swift, not GSL: the CGSL shim does
    ///   not include `gsl_multifit.h`.
    ///
    /// Limits:
    /// - biased upwards in small samples: the fitted values carry residual
    ///   noise (mean square ≈ σ²·columns/n for residual variance σ²), and the
    ///   maximum turns noise into apparent value, so a parameter unrelated to
    ///   net benefit gets a small positive EVPPI (at most about
    ///   sd(INB)·√(columns/n)/2 per arm); a parameter constant over the draws
    ///   gets exactly 0;
    /// - biased, usually downwards, when `E[INB | φ]` is far from the span of
    ///   the basis: interactions beyond pairwise products, any interaction in
    ///   groups of more than 4 parameters, curvature at the extremes (the
    ///   natural boundary condition), or a conditional mean dominated by a few
    ///   extreme draws. For example INB = exp(θ) − 1.6 with θ ~ N(0.2, 1) and
    ///   2,000 draws fits with R² 0.96–0.985 and gives EVPPI 2–5 % below
    ///   EVPI, although θ determines INB;
    /// - `rSquared` is the share of INB's variance the group explains, not a
    ///   check of the fit: it is low whenever other parameters matter;
    /// - no standard error is reported;
    /// - `EVPPI ≤ EVPI` holds in expectation, not necessarily in every sample.
    ///
    /// Complexity: O(n·p·(p + A)) time for p basis columns, plus
    /// O(n log n) per parameter for the knots; O(n·(p + A)) space.
    ///
    /// - Parameters:
    ///   - netBenefit: `[draw][arm]`, at least 2 arms, finite, rectangular.
    ///   - parameters: the group's values, `[draw][parameter]`, same number
    ///     of draws, at least one parameter, finite, rectangular.
    ///   - interiorKnots: overrides the default rule; 1 … 8.
    /// - Throws: `InputError` for mismatched or ragged shapes, a non-finite
    ///   value, a knot count outside 1 … 8, or fewer than 10 draws per basis
    ///   column (Harrell 2015, §4.4: at least 10 observations per parameter
    ///   estimated).
    public static func evppi(
        netBenefit: [[Double]], parameters: [[Double]], interiorKnots: Int? = nil
    ) throws(InputError) -> PartialPerfectInformation {
        let arms = try validate(netBenefit: netBenefit)
        let n = netBenefit.count
        guard parameters.count == n else {
            throw InputError(description: "Number of parameter rows (\(parameters.count)) doesn't match number of draws of net benefit (\(n)).")
        }
        let k = parameters[0].count
        guard k >= 1 else {
            throw InputError(description: "Parameter group has 0 parameters; expected at least 1.")
        }
        for (i, row) in parameters.enumerated() {
            guard row.count == k else {
                throw InputError(description: "Parameter row \(i) has \(row.count) values; expected \(k), as in row 0.")
            }
            if let j = row.firstIndex(where: { !$0.isFinite }) {
                throw InputError(description: "Parameter \(j) in draw \(i) is \(row[j]); every value must be finite.")
            }
        }
        let m = interiorKnots ?? defaultInteriorKnots(draws: n)
        guard (1...8).contains(m) else {
            throw InputError(description: "Interior knots must be in 1 ... 8, but is \(m).")
        }

        let design = Basis.build(parameters: parameters, interiorKnots: m)
        let columns = design.columns.count + 1
        guard n >= 10 * columns else {
            throw InputError(description:
                "EVPPI regression has \(columns) basis columns (intercept included) for \(k) parameter(s) with \(m) interior knots, "
                + "so it needs at least \(10 * columns) draws (10 per column), but got \(n).")
        }

        // Incremental net benefit of each arm against arm 0, centred.
        var responses: [[Double]] = []
        var responseMeans: [Double] = []
        for a in 1..<arms {
            let y = netBenefit.map { $0[a] - $0[0] }
            let mean = Statistics.mean(y)
            responses.append(y.map { $0 - mean })
            responseMeans.append(mean)
        }
        let fit = PivotedQR.project(columns: design.columns, rows: n, responses: responses, relativeTolerance: 1e-10)

        // g_0 = 0; g_a = mean + projection.
        var rSquared: [Double?] = [nil]
        var fittedMeans = [Double](repeating: 0, count: arms)
        for a in 1..<arms {
            let total = responses[a - 1].reduce(0) { $0 + $1 * $1 }
            rSquared.append(total > 0 ? max(0, 1 - fit.residualSumOfSquares[a - 1] / total) : nil)
            fittedMeans[a] = responseMeans[a - 1] + Statistics.mean(fit.fitted[a - 1])
        }
        let best = argmax(fittedMeans)
        var lossSum = 0.0
        for i in 0..<n {
            func g(_ a: Int) -> Double { a == 0 ? 0 : responseMeans[a - 1] + fit.fitted[a - 1][i] }
            var top = 0.0
            for a in 1..<arms { top = max(top, g(a)) }
            lossSum += top - g(best)
        }
        return PartialPerfectInformation(
            draws: n, arms: arms, parameters: k, evppi: lossSum / Double(n), optimalArm: best,
            interiorKnots: m, basisColumns: columns, basisRank: fit.rank + 1,
            includesInteractions: design.includesInteractions, rSquared: rSquared)
    }

    /// Interior knots per parameter by the number of draws: 4 below 2,500, 5 below 10,000, else 6.
    public static func defaultInteriorKnots(draws: Int) -> Int {
        draws < 2_500 ? 4 : draws < 10_000 ? 5 : 6
    }

    // MARK: - Implementation

    /// Checks shape and values; returns the number of arms.
    static func validate(netBenefit: [[Double]]) throws(InputError) -> Int {
        guard let first = netBenefit.first else {
            throw InputError(description: "Net benefit has 0 draws; expected at least 1.")
        }
        let arms = first.count
        guard arms >= 2 else {
            throw InputError(description: "Net benefit has \(arms) arm(s) in draw 0; expected at least 2 to compare.")
        }
        for (i, row) in netBenefit.enumerated() {
            guard row.count == arms else {
                throw InputError(description: "Net benefit in draw \(i) has \(row.count) arms; expected \(arms), as in draw 0.")
            }
            if let a = row.firstIndex(where: { !$0.isFinite }) {
                throw InputError(description: "Net benefit of arm \(a) in draw \(i) is \(row[a]); every value must be finite.")
            }
        }
        return arms
    }

    /// Index of the largest value, the lowest on a tie.
    static func argmax(_ xs: [Double]) -> Int {
        var best = 0
        for i in xs.indices where xs[i] > xs[best] { best = i }
        return best
    }

    /// Mean and MCSE of the losses over draws (`SampleStatistics`); no MCSE below 2 draws.
    static func meanAndStandardError(_ xs: [Double]) -> (Double, Double?) {
        let s = SampleStatistics(xs)
        return (s.mean, xs.count > 1 ? s.mcse : nil)
    }

    /// The regression basis: centred columns, without the intercept.
    struct Basis {
        var columns: [[Double]]
        var includesInteractions: Bool

        static func build(parameters: [[Double]], interiorKnots m: Int) -> Basis {
            let n = parameters.count, k = parameters[0].count
            var columns: [[Double]] = []
            var linear: [[Double]] = []
            for j in 0..<k {
                let x = parameters.map { $0[j] }
                guard let low = x.min(), let high = x.max(), low < high else { continue }  // constant: no information
                let mean = Statistics.mean(x), sd = Statistics.standardDeviation(x)
                let z = x.map { ($0 - mean) / sd }
                linear.append(z)
                columns.append(z)
                let sorted = z.sorted()
                var knots: [Double] = []
                for l in 0...(m + 1) {
                    let t = Statistics.quantile(sorted: sorted, Double(l) / Double(m + 1))
                    if knots.last.map({ t > $0 }) ?? true { knots.append(t) }
                }
                if knots.count >= 3 {
                    for c in 0..<(knots.count - 2) {
                        columns.append(z.map { restrictedCubic($0, knots: knots, term: c) })
                    }
                }
            }
            let interactions = (2...4).contains(k) && linear.count >= 2
            if interactions {
                for p in 0..<linear.count {
                    for q in (p + 1)..<linear.count {
                        columns.append(zip(linear[p], linear[q]).map { $0 * $1 })
                    }
                }
            }
            // Centre and scale to unit root mean square; drop columns that do not vary.
            var kept: [[Double]] = []
            for column in columns {
                let mean = Statistics.mean(column)
                let centred = column.map { $0 - mean }
                let rms = (centred.reduce(0) { $0 + $1 * $1 } / Double(n)).squareRoot()
                if rms > 0 { kept.append(centred.map { $0 / rms }) }
            }
            return Basis(columns: kept, includesInteractions: interactions)
        }

        /// Harrell's restricted cubic spline term `c` (0-based) for knots t_1 < … < t_K:
        ///
        /// ```
        /// C_c(x) = [ (x − t_c)₊³ − (x − t_{K−1})₊³ (t_K − t_c)/(t_K − t_{K−1})
        ///                        + (x − t_K)₊³ (t_{K−1} − t_c)/(t_K − t_{K−1}) ] / (t_K − t_1)²
        /// ```
        ///
        /// cubic between knots, linear beyond t_1 and t_K.
        static func restrictedCubic(_ x: Double, knots t: [Double], term c: Int) -> Double {
            func cube(_ u: Double) -> Double { u > 0 ? u * u * u : 0 }
            let last = t.count - 1
            let span = t[last] - t[last - 1]
            let value = cube(x - t[c])
                - cube(x - t[last - 1]) * (t[last] - t[c]) / span
                + cube(x - t[last]) * (t[last - 1] - t[c]) / span
            return value / ((t[last] - t[0]) * (t[last] - t[0]))
        }
    }

    /// Least-squares projection by Householder QR with column pivoting.
    ///
    /// For a design X (n × p, given by columns) and responses y, returns the
    /// fitted values `Q₁Q₁ᵀy`, where Q₁ spans the first r pivoted columns and r is
    /// the numerical rank: elimination stops when the largest remaining column
    /// norm falls to `relativeTolerance` times the first pivot (Businger & Golub
    /// 1965; Golub & Van Loan 2013, *Matrix Computations*, 4th ed., §5.4.1).
    /// The fitted values do not need R⁻¹, so near-collinear columns cannot blow
    /// them up. Complexity: O(n·p·(p + m)) for m responses.
    enum PivotedQR {
        struct Projection {
            var fitted: [[Double]]
            var residualSumOfSquares: [Double]
            var rank: Int
        }

        static func project(columns: [[Double]], rows n: Int, responses: [[Double]], relativeTolerance: Double) -> Projection {
            var a = columns
            var y = responses
            let p = a.count
            var reflectors: [(v: [Double], beta: Double)] = []
            var firstNorm = 0.0
            for k in 0..<min(n, p) {
                // Pivot: the remaining column with the largest norm below row k.
                var pivot = k, pivotNorm2 = -1.0
                for j in k..<p {
                    var s = 0.0
                    for i in k..<n { s += a[j][i] * a[j][i] }
                    if s > pivotNorm2 { pivotNorm2 = s; pivot = j }
                }
                let norm = pivotNorm2.squareRoot()
                if k == 0 { firstNorm = norm }
                guard norm > 0 && norm > relativeTolerance * firstNorm else { break }
                a.swapAt(k, pivot)

                // Householder vector v with (I − β v vᵀ) x = α e₁, α = −sign(x₀)‖x‖.
                var v = Array(a[k][k..<n])
                let alpha = v[0] >= 0 ? -norm : norm
                v[0] -= alpha
                let vv = v.reduce(0) { $0 + $1 * $1 }
                let beta = 2 / vv
                func reflect(_ x: inout [Double]) {
                    var w = 0.0
                    for i in 0..<v.count { w += v[i] * x[k + i] }
                    w *= beta
                    for i in 0..<v.count { x[k + i] -= w * v[i] }
                }
                for j in (k + 1)..<p { reflect(&a[j]) }
                for r in y.indices { reflect(&y[r]) }
                reflectors.append((v, beta))
            }
            let rank = reflectors.count
            var rss: [Double] = []
            for r in y.indices {
                rss.append(y[r][rank...].reduce(0) { $0 + $1 * $1 })
                for i in rank..<n { y[r][i] = 0 }
                for k in stride(from: rank - 1, through: 0, by: -1) {
                    let (v, beta) = reflectors[k]
                    var w = 0.0
                    for i in 0..<v.count { w += v[i] * y[r][k + i] }
                    w *= beta
                    for i in 0..<v.count { y[r][k + i] -= w * v[i] }
                }
            }
            return Projection(fitted: y, residualSumOfSquares: rss, rank: rank)
        }
    }
}
