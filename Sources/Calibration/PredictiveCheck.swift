import Analysis
import CGSL
import Foundation
import Model
import Stochastics

extension StockCalibrationProblem {
    /// The model's expected counts μ(θ) at φ = (log free rates, …); nil where the model fails.
    public func expectedCounts(_ φ: [Double]) -> [Double]? {
        let d = freeIndices.count
        guard φ.count >= d else { return nil }
        return try? simulator.stocks(rates(free: (0..<d).map { exp(φ[$0]) }))
    }

    /// One replicated vector of counts drawn from the likelihood the problem uses, at φ:
    ///
    /// ```
    /// poisson:             y_rep,k ~ Poisson(μ_k)
    /// negative binomial:   y_rep,k ~ NB(μ_k, k) = Poisson(Gamma(k, μ_k/k)),   k fixed or φ's last coordinate
    /// multivariate normal: y_rep = μ + L·z,  L·Lᵀ = Σ(θ) + diag(c²·μ² + 1/12),  z ~ N(0, I)
    /// ```
    ///
    /// the first two independently per count, as those likelihoods assume
    /// (`gsl_ran_poisson`, `gsl_ran_negative_binomial`); the multivariate normal jointly
    /// over every count of each Markov part, with the exact covariance Σ of
    /// `MarkovStockModel.moments` and c fixed or φ's last coordinate (`gsl_ran_ugaussian`;
    /// counts at time 0, which the likelihood leaves out, get only the variance c²μ² + 1/12).
    /// Record audits are not replicated.
    ///
    /// - Returns: one count per observation, in the simulator's order; nil where the model fails at φ.
    public func replicate(_ φ: [Double], stream: borrowing RandomStream) -> [Double]? {
        guard let μ = expectedCounts(φ) else { return nil }
        let d = freeIndices.count
        var size: Double?
        switch likelihood {
        case .poisson: size = nil
        case let .negativeBinomial(k): size = k
        case .negativeBinomialEstimated:
            guard φ.count == d + 1 else { return nil }
            size = exp(φ[d])
        case let .multivariateNormal(c):
            return replicateNormal(φ, relativeSD: c, stream: stream)
        case .multivariateNormalEstimated:
            guard φ.count == d + 1 else { return nil }
            return replicateNormal(φ, relativeSD: exp(φ[d]), stream: stream)
        }
        return μ.map { m in
            let mean = max(m, 0)
            guard mean > 0 else { return 0 }
            guard let k = size, k.isFinite, k < 1e12 else { return Double(stream.poisson(mean: mean)) }
            return stream.withGenerator { Double(gsl_ran_negative_binomial($0, k / (k + mean), k)) }
        }
    }
}

extension StockCalibrationProblem {
    /// μ + L·z per Markov part (see `replicate`); nil where the model fails or the covariance is not positive definite.
    func replicateNormal(_ φ: [Double], relativeSD c: Double, stream: borrowing RandomStream) -> [Double]? {
        guard let parts = markovParts else { return nil }
        let θ = rates(free: (0..<freeIndices.count).map { exp(φ[$0]) })
        var out: [Double] = []
        for part in parts {
            guard let m = try? part.moments(θ, covariance: true) else { return nil }
            let n = m.mean.count
            var v = (0..<n).map { i in (0..<n).map { j in m.covariance[i * n + j] } }
            for i in 0..<n { v[i][i] += c * c * m.mean[i] * m.mean[i] + 1.0 / 12 }
            guard let l = Statistics.cholesky(v) else { return nil }
            let z = (0..<n).map { _ in stream.withGenerator { gsl_ran_ugaussian($0) } }
            out += (0..<n).map { i in m.mean[i] + (0...i).reduce(0) { $0 + l[i][$1] * z[$1] } }
        }
        return out
    }
}

/// A posterior predictive check of the stock counts (Gelman, Meng & Stern 1996,
/// *Statistica Sinica* 6:733–807; Gabry et al. 2019, *JRSS A* 182:389–402).
///
/// For each posterior draw φ_s, one replicated count vector y_rep,s is drawn from
/// the likelihood (`StockCalibrationProblem.replicate`). Per observation, the 95 %
/// predictive interval is the 2.5 % and 97.5 % quantiles of y_rep over the draws.
/// The posterior predictive p-value of the discrepancy
///
/// ```
/// T(y, φ) = Σ_k (y_k − μ_k(φ))² / max(μ_k(φ), 1)      (Pearson's X², as the least-squares fit)
/// p = Pr( T(y_rep, φ) ≥ T(y, φ) | y )  ≈ (1/S) Σ_s 1[T(y_rep,s, φ_s) ≥ T(y, φ_s)]
/// ```
///
/// is near 0 when the observed counts stray further from the model than the
/// likelihood allows, near 1 when they are closer than it expects (usual when
/// counts of the same children are correlated and the likelihood treats them as
/// independent). Coverage of the per-observation intervals far below 95 % says
/// the same count by count.
public struct StockPredictiveCheck: Sendable, CustomStringConvertible {
    /// One observation's predictive distribution.
    public struct Row: Sendable, Equatable {
        public var observed: Double
        /// Mean of the replicated counts.
        public var predictiveMean: Double
        public var q025: Double
        public var q975: Double
        /// q025 ≤ observed ≤ q975.
        public var inside: Bool
        public init(observed: Double, predictiveMean: Double, q025: Double, q975: Double, inside: Bool) {
            self.observed = observed; self.predictiveMean = predictiveMean; self.q025 = q025; self.q975 = q975; self.inside = inside
        }
    }

    public var rows: [Row]
    /// Share of observations inside their 95 % predictive interval.
    public var coverage: Double
    /// Pr(T(y_rep) ≥ T(y)) over the draws.
    public var pValue: Double
    /// Mean over draws of T(y, φ) and of T(y_rep, φ).
    public var observedDiscrepancy: Double
    public var replicatedDiscrepancy: Double
    /// Draws used (those where the model failed are left out).
    public var draws: Int

    public init(rows: [Row], coverage: Double, pValue: Double, observedDiscrepancy: Double, replicatedDiscrepancy: Double, draws: Int) {
        self.rows = rows; self.coverage = coverage; self.pValue = pValue
        self.observedDiscrepancy = observedDiscrepancy; self.replicatedDiscrepancy = replicatedDiscrepancy; self.draws = draws
    }

    /// The check from posterior draws in sampling coordinates (`φ[s]`: log free rates, then the
    /// likelihood's extra coordinates), at most `maximumDraws` of them, evenly thinned; one stream
    /// for all replications (seed, purpose `.calibration`, index of "calibration.ppc").
    ///
    /// - Complexity: one simulator call per draw used.
    public static func run(_ problem: StockCalibrationProblem, draws φs: [[Double]], seed: UInt64,
                           maximumDraws: Int = 1000) -> StockPredictiveCheck {
        let stream = RandomStream(StreamAddress(seed: seed, replication: 0, purpose: .calibration,
                                                index: AdaptiveMetropolis.streamIndex("calibration.ppc")))
        let step = max(1, φs.count / max(maximumDraws, 1))
        var replicated: [[Double]] = []
        var exceed = 0, tObserved = 0.0, tReplicated = 0.0
        for s in Swift.stride(from: 0, to: φs.count, by: step).prefix(maximumDraws) {
            guard let μ = problem.expectedCounts(φs[s]), let y = problem.replicate(φs[s], stream: stream) else { continue }
            let to = pearson(problem.observed, expected: μ), tr = pearson(y, expected: μ)
            if tr >= to { exceed += 1 }
            tObserved += to; tReplicated += tr
            replicated.append(y)
        }
        let n = replicated.count
        let rows: [Row] = problem.observed.enumerated().map { k, y in
            guard n > 0 else { return Row(observed: y, predictiveMean: .nan, q025: .nan, q975: .nan, inside: false) }
            let xs = replicated.map { $0[k] }.sorted()
            let low = Statistics.quantile(sorted: xs, 0.025), high = Statistics.quantile(sorted: xs, 0.975)
            return Row(observed: y, predictiveMean: Statistics.mean(xs), q025: low, q975: high, inside: y >= low && y <= high)
        }
        let inside = rows.filter(\.inside).count
        return StockPredictiveCheck(rows: rows, coverage: rows.isEmpty || n == 0 ? .nan : Double(inside) / Double(rows.count),
                                    pValue: n == 0 ? .nan : Double(exceed) / Double(n),
                                    observedDiscrepancy: n == 0 ? .nan : tObserved / Double(n),
                                    replicatedDiscrepancy: n == 0 ? .nan : tReplicated / Double(n), draws: n)
    }

    /// Pearson's X² of counts y against expected counts μ: Σ (y − μ)²/max(μ, 1).
    public static func pearson(_ y: [Double], expected μ: [Double]) -> Double {
        zip(y, μ).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) / max($1.1, 1) }
    }

    /// A posterior's draws in sampling coordinates: log of each rate, then log of the
    /// negative binomial size when it was sampled.
    public static func coordinates(of posterior: StockPosterior) -> [[Double]] {
        var out: [[Double]] = []
        for (c, chain) in posterior.chains.enumerated() {
            for (i, rates) in chain.enumerated() {
                var φ = rates.map { log($0) }
                if let size = posterior.size { φ.append(log(size[c][i])) }
                out.append(φ)
            }
        }
        return out
    }

    public static let csvHeader = "date,time_years,level,observed,predictive_mean,predictive_q2_5,predictive_q97_5,inside"

    /// ppc.csv: one row per observation, in the observations' order.
    /// - Parameters:
    ///   - observations: the problem's observations (time and level of each count).
    ///   - origin: the date of the scenario's time 0; dates are origin + timeYears·365.25 days.
    public func csv(observations: [StockObservation], levels: [String], origin: Day) -> String {
        var out = Self.csvHeader + "\n"
        for (o, r) in zip(observations, rows) {
            let date = Day(daysSinceEpoch: origin.daysSinceEpoch + Int((o.timeYears * 365.25).rounded()))
            out += [date.description, CSV.number(o.timeYears), CSV.text(levels.indices.contains(o.level) ? levels[o.level] : String(o.level)),
                    CSV.number(r.observed), Self.cell(r.predictiveMean), Self.cell(r.q025), Self.cell(r.q975),
                    r.inside ? "true" : "false"].joined(separator: ",") + "\n"
        }
        return out
    }

    static func cell(_ x: Double) -> String { x.isFinite ? CSV.number(x) : "" }

    /// Plain-language lines for the run's notes, with a warning when the check fails.
    public var description: String {
        let inside = rows.filter(\.inside).count
        var text = String(format: "posterior predictive check (%d draws): %d of %d counts inside their 95 %% predictive intervals (%.0f %%); "
                          + "p-value of Pearson's X² %.3f (observed X² %.4g on average, replicated %.4g)",
                          draws, inside, rows.count, 100 * coverage, pValue, observedDiscrepancy, replicatedDiscrepancy)
        if pValue < 0.05 || coverage < 0.8 {
            text += "\nWARNING: the counts stray further from the fitted model than its likelihood allows "
                + "(predictive p-value \(String(format: "%.3f", pValue)), coverage \(String(format: "%.0f %%", 100 * coverage))): "
                + "the model (allowed moves, constant rates, entries and exits) or the likelihood does not describe these data; see ppc.csv"
        }
        return text
    }
}
