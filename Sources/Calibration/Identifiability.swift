import Analysis
import CGSL
import Dispatch
import Foundation
import Synchronization

/// What the data say about one rate, from its posterior contraction and its profile likelihood.
public enum IdentificationVerdict: String, Sendable, CaseIterable {
    /// The data carry at least as much information as the prior (contraction ≥ 0.5) and the
    /// profile likelihood's 95 % interval is closed on both sides within the prior range.
    case identified
    /// Between: the likelihood bounds the rate on one side only, or the data add little to the prior.
    case weaklyIdentified = "weakly identified"
    /// The profile likelihood is flat across the prior range: any value there fits as well.
    case notIdentified = "not identified"
}

/// Where the verdicts change (docs/calibration.md §6).
///
/// identified: contraction ≥ `contraction` and the profile interval closed on both sides;
/// not identified: the profile likelihood stays within `deltaLogLikelihood` of its maximum across the
/// whole prior range (open on both sides); weakly identified otherwise. A pair with |posterior
/// correlation of the log-rates| ≥ `correlation`, neither identified, is named as not separated.
/// Δ log L = 1.92 is half the 95 % point of χ²₁: the likelihood-based 95 % interval (Raue et al. 2009).
/// Contraction 0.5 means the posterior variance is half the prior's: the data carry as much
/// information as the prior (Schad, Betancourt & Vasishth 2021).
public struct IdentifiabilityThresholds: Sendable, Equatable {
    public var contraction: Double
    public var deltaLogLikelihood: Double
    public var correlation: Double
    public init(contraction: Double = 0.5, deltaLogLikelihood: Double = 1.92, correlation: Double = 0.9) {
        self.contraction = contraction; self.deltaLogLikelihood = deltaLogLikelihood; self.correlation = correlation
    }
}

/// The profile likelihood of one rate: the log likelihood maximised over every other sampling
/// coordinate, on a grid of the rate's values across its prior range.
///
/// ```
/// PL(θ_j) = max_{φ_−j} log L(θ_j, φ_−j) + log p(ψ),   95 % interval {θ_j : PL(θ_j) ≥ max PL − 1.92}
/// ```
///
/// with ψ the likelihood's own parameter (the negative binomial size), when it is estimated, kept with
/// its prior (the rates' priors are left out).
///
/// Reference: Raue, Kreutz, Maiwald, Bachmann, Schilling, Klingmüller & Timmer (2009), "Structural and
/// practical identifiability analysis of partially observed dynamical models by exploiting the profile
/// likelihood", *Bioinformatics* 25(15):1923–1929.
public struct ProfileLikelihood: Sendable {
    public struct Point: Sendable {
        /// The rate per year.
        public var rate: Double
        /// The maximised log likelihood.
        public var logLikelihood: Double
        /// The optimiser met its stopping rule at this point.
        public var converged: Bool
        public init(rate: Double, logLikelihood: Double, converged: Bool) {
            self.rate = rate; self.logLikelihood = logLikelihood; self.converged = converged
        }
    }
    public var name: String
    /// Ascending in rate; includes the joint maximum.
    public var points: [Point]
    /// The largest log likelihood found (over the grid and the unconstrained maximum).
    public var maximum: Double
    /// The 95 % likelihood interval (rates per year), linearly interpolated between grid points; where
    /// it is open, the end of the grid (the prior range).
    public var low: Double
    public var high: Double
    /// The profile falls below max − Δ before the grid's end on that side.
    public var closedLow: Bool
    public var closedHigh: Bool
    /// Open on both sides: flat across the prior range.
    public var flat: Bool { !closedLow && !closedHigh }

    /// The interval and its closure from points (ascending in rate) and the maximum.
    public init(name: String, points: [Point], maximum: Double, delta: Double = 1.92) {
        self.name = name
        self.points = points
        self.maximum = maximum
        let cut = maximum - delta
        let top = points.indices.max { points[$0].logLikelihood < points[$1].logLikelihood } ?? 0
        func crossing(_ range: [Int]) -> (Double, Bool) {
            var previous = top
            for i in range {
                if points[i].logLikelihood < cut {
                    let a = points[previous], b = points[i]
                    let t = (a.logLikelihood - cut) / (a.logLikelihood - b.logLikelihood)
                    return (exp(log(a.rate) + t * (log(b.rate) - log(a.rate))), true)
                }
                previous = i
            }
            return (points[range.last ?? top].rate, false)
        }
        (low, closedLow) = points.isEmpty ? (.nan, false) : crossing(Array((0..<top).reversed()))
        (high, closedHigh) = points.isEmpty ? (.nan, false) : crossing(Array((top + 1)..<points.count))
    }
}

/// One rate's identification.
public struct ParameterIdentifiability: Sendable {
    public var name: String
    /// Standard deviations of log θ under the prior and the posterior.
    public var priorSD: Double
    public var posteriorSD: Double
    /// 1 − Var_post(log θ)/Var_prior(log θ): 0 the data say nothing, 1 they say everything.
    public var contraction: Double
    public var profile: ProfileLikelihood?
    public var verdict: IdentificationVerdict
    /// Rates it cannot be told apart from (strongly correlated, neither identified).
    public var notSeparatedFrom: [String]
}

/// A combination of log-rates and how much the data narrow it.
public struct PosteriorDirection: Sendable {
    /// Unit vector over the rates in prior-standardised log units.
    public var loadings: [Double]
    /// 1 − posterior variance / prior variance along it.
    public var contraction: Double
}

/// Which transition rates the data pin down and which they do not, from converged posterior draws
/// and profile likelihoods.
///
/// Per rate, on the log scale:
///
/// ```
/// contraction_i = 1 − Var_post(log θ_i) / Var_prior(log θ_i)
/// ρ_ij = corr_post(log θ_i, log θ_j)
/// W = D⁻¹ Σ_post D⁻¹,  D = diag(sd_prior):  the eigenvalues λ of W give the contraction 1 − λ of
///     each combination of log-rates
/// ```
///
/// References: posterior contraction — Schad, Betancourt & Vasishth (2021), "Toward a principled
/// Bayesian workflow in cognitive science", *Psychological Methods* 26(1):103–126, and Betancourt,
/// "Towards a principled Bayesian workflow" (2020 case study); profile likelihoods — Raue et al. (2009),
/// *Bioinformatics* 25(15):1923–1929.
public struct IdentifiabilityReport: Sendable, CustomStringConvertible {
    public var parameters: [ParameterIdentifiability]
    /// Posterior correlations of the log-rates.
    public var correlations: [[Double]]
    /// Combinations, from the least to the most informed.
    public var directions: [PosteriorDirection]
    /// Plain-language warnings, one per problem; empty when every rate is identified.
    public var warnings: [String]
    public var thresholds: IdentifiabilityThresholds

    /// Combinations the data narrow to a contraction of at least `thresholds.contraction`.
    public var informedDirections: Int { directions.filter { $0.contraction >= thresholds.contraction }.count }

    public func parameter(_ name: String) -> ParameterIdentifiability? { parameters.first { $0.name == name } }

    public var description: String {
        var lines = ["identifiability (posterior contraction of the log-rate; profile-likelihood 95 % interval):"]
        for p in parameters {
            var profile = ""
            if let pl = p.profile {
                profile = String(format: "; profile %@%.4g–%.4g%@", pl.closedLow ? "" : "≤", pl.low, pl.high, pl.closedHigh ? "" : "+")
                    + (pl.flat ? " (flat across the prior range)" : pl.closedLow && pl.closedHigh ? "" : " (open on one side)")
            }
            lines.append(String(format: "  %@: contraction %.2f", p.name, p.contraction) + profile + " — " + p.verdict.rawValue
                + (p.notSeparatedFrom.isEmpty ? "" : ", not separated from \(p.notSeparatedFrom.joined(separator: ", "))"))
        }
        lines += warnings.map { "  WARNING: \($0)" }
        return lines.joined(separator: "\n")
    }

    /// How a declared constraint changed identification: this report (with the constraint) against
    /// `baseline` (without it), rate by rate.
    public func effect(of constraint: String, comparedWith baseline: IdentifiabilityReport) -> ConstraintEffect {
        let rows = baseline.parameters.map { b -> ConstraintEffect.Row in
            let a = parameter(b.name)
            return .init(name: b.name, contractionBefore: b.contraction, contractionAfter: a?.contraction,
                         verdictBefore: b.verdict, verdictAfter: a?.verdict)
        }
        return ConstraintEffect(constraint: constraint, rows: rows, warningsBefore: baseline.warnings.count, warningsAfter: warnings.count)
    }
}

/// The change a declared constraint makes: contractions and verdicts before and after.
public struct ConstraintEffect: Sendable, CustomStringConvertible {
    public struct Row: Sendable {
        public var name: String
        public var contractionBefore: Double
        /// nil when the constraint fixes or ties the rate (it is no longer estimated).
        public var contractionAfter: Double?
        public var verdictBefore: IdentificationVerdict
        public var verdictAfter: IdentificationVerdict?
    }
    public var constraint: String
    public var rows: [Row]
    public var warningsBefore: Int
    public var warningsAfter: Int

    public var description: String {
        var lines = ["effect of \(constraint) (posterior contraction of the log-rate): warnings \(warningsBefore) → \(warningsAfter)"]
        for r in rows {
            if let after = r.contractionAfter, let v = r.verdictAfter {
                lines.append(String(format: "  %@: %.2f → %.2f (%@ → %@)", r.name, r.contractionBefore, after, r.verdictBefore.rawValue, v.rawValue))
            } else {
                lines.append(String(format: "  %@: %.2f → set by the constraint", r.name, r.contractionBefore))
            }
        }
        return lines.joined(separator: "\n")
    }
}

public enum Identifiability {
    /// Verdicts and warnings from prior and posterior draws of positive rates (`draws[i][k]`, rate k of
    /// draw i) and, per rate, its profile likelihood (`profiles[k]`; nil: no profile, and then no rate is
    /// "identified" or "not identified" by the profile rule — the verdict is "weakly identified" unless
    /// the contraction is below 0.1, "not identified").
    ///
    /// Warnings, in plain words:
    /// - a pair not separated: "stocks alone do not separate A→B from B→A: …, not each";
    /// - a single rate not identified: "the data say nothing about A→B: …";
    /// - combinations of three or more rates left near their prior (contraction below 0.25 along an
    ///   eigenvector of W), when the first two kinds do not already name every rate involved.
    ///
    /// - Precondition: at least 4 draws of each, with the same number of columns as `names`.
    public static func assess(names: [String], priorDraws: [[Double]], posteriorDraws: [[Double]], profiles: [ProfileLikelihood?]? = nil,
                              thresholds: IdentifiabilityThresholds = IdentifiabilityThresholds(),
                              source: String = "stocks alone") -> IdentifiabilityReport {
        let d = names.count
        precondition(priorDraws.count >= 4 && posteriorDraws.count >= 4 && priorDraws.allSatisfy { $0.count == d }
                     && posteriorDraws.allSatisfy { $0.count == d },
                     "expected >= 4 prior and posterior draws of \(d) rates, got \(priorDraws.count) and \(posteriorDraws.count)")
        let prior = priorDraws.map { $0.map { log(max($0, 1e-300)) } }
        let post = posteriorDraws.map { $0.map { log(max($0, 1e-300)) } }
        let priorSD = (0..<d).map { k in Statistics.standardDeviation(prior.map { $0[k] }) }
        let postSD = (0..<d).map { k in Statistics.standardDeviation(post.map { $0[k] }) }
        let contraction = (0..<d).map { 1 - (postSD[$0] * postSD[$0]) / (priorSD[$0] * priorSD[$0]) }
        var rho = MCMCLinearAlgebra.identity(d, scale: 1)
        for i in 0..<d {
            for j in (i + 1)..<d {
                let c = correlation(post.map { $0[i] }, post.map { $0[j] })
                rho[i][j] = c; rho[j][i] = c
            }
        }
        func verdict(_ k: Int) -> IdentificationVerdict {
            guard let p = profiles?[k] ?? nil else { return contraction[k] < 0.1 ? .notIdentified : .weaklyIdentified }
            if p.flat { return .notIdentified }
            return p.closedLow && p.closedHigh && contraction[k] >= thresholds.contraction ? .identified : .weaklyIdentified
        }
        var params = (0..<d).map { k in
            ParameterIdentifiability(name: names[k], priorSD: priorSD[k], posteriorSD: postSD[k], contraction: contraction[k],
                                     profile: profiles?[k] ?? nil, verdict: verdict(k), notSeparatedFrom: [])
        }
        func why(_ k: Int) -> String {
            guard let p = params[k].profile else { return String(format: "contraction %.2f", contraction[k]) }
            return String(format: "contraction %.2f, profile likelihood ", contraction[k])
                + (p.flat ? "flat across the prior range" : p.closedLow && p.closedHigh ? String(format: "95 %% %.3g–%.3g", p.low, p.high)
                   : p.closedLow ? String(format: "open above %.3g", p.low) : String(format: "open below %.3g", p.high))
        }
        var warnings: [String] = []
        var named = Set<Int>()
        for i in 0..<d {
            for j in (i + 1)..<d
            where abs(rho[i][j]) >= thresholds.correlation && params[i].verdict != .identified && params[j].verdict != .identified {
                params[i].notSeparatedFrom.append(names[j]); params[j].notSeparatedFrom.append(names[i])
                named.formUnion([i, j])
                let pinned = rho[i][j] > 0 ? "their ratio" : "a combination such as their sum or product"
                warnings.append("\(source) do not separate \(names[i]) from \(names[j]) (\(why(i)); \(why(j))): the data pin down "
                    + String(format: "%@ (posterior correlation of the log-rates %+.2f), not each", pinned, rho[i][j]))
            }
        }
        for k in 0..<d where params[k].verdict == .notIdentified && !named.contains(k) {
            named.insert(k)
            warnings.append("the data say nothing about \(names[k]) on its own (\(why(k))): its posterior is close to its prior")
        }
        // Combinations left near their prior.
        var w = rho
        for i in 0..<d { for j in 0..<d { w[i][j] = rho[i][j] * postSD[i] * postSD[j] / (priorSD[i] * priorSD[j]) } }
        let eigen = MCMCLinearAlgebra.symmetricEigen(w)
        let directions = zip(eigen.values, eigen.vectors).map { PosteriorDirection(loadings: $1, contraction: 1 - max($0, 0)) }
        let loose = directions.filter { $0.contraction < 0.25 }
        let involved = (0..<d).filter { k in loose.reduce(0) { $0 + $1.loadings[k] * $1.loadings[k] } >= 0.5 }
        if involved.count >= 3, !involved.allSatisfy(named.contains) {
            let list = involved.map { names[$0] }
            let what = loose.count == 1 ? "a combination" : "\(loose.count) combinations"
            warnings.append("\(source) leave \(what) of \(list.dropLast().joined(separator: ", ")) and \(list.last!) near the prior "
                + String(format: "(contraction %.2f or less along %@): these rates can trade off against each other without changing the fit",
                         loose.map(\.contraction).max()!, loose.count == 1 ? "it" : "them"))
        }
        return IdentifiabilityReport(parameters: params, correlations: rho, directions: directions, warnings: warnings, thresholds: thresholds)
    }

    /// Identification of a stock-only posterior: contraction from `draws` (sampling coordinates: the log
    /// free rates, then any likelihood parameter) against `priorCount` prior draws, and a profile
    /// likelihood of every free rate started from `centre` (sampling coordinates, e.g. the joint
    /// posterior mode), with the draws as further starts where the profile drops.
    public static func assess(_ problem: StockCalibrationProblem, draws: [[Double]], centre: [Double], priorCount: Int = 20000,
                              seed: UInt64 = 1, gridPoints: Int = 15,
                              thresholds: IdentifiabilityThresholds = IdentifiabilityThresholds()) -> IdentifiabilityReport {
        let d = problem.freeIndices.count
        let profiles = profiles(problem, centre: centre, draws: draws, gridPoints: gridPoints, delta: thresholds.deltaLogLikelihood)
        return assess(names: problem.freeNames, priorDraws: StockEstimator.priorDraws(problem, count: priorCount, seed: seed),
                      posteriorDraws: draws.map { $0.prefix(d).map { exp($0) } }, profiles: profiles, thresholds: thresholds,
                      source: problem.audits.isEmpty ? "stocks alone" : "stocks and the audit")
    }

    /// Identification of a `StockPosterior` (adaptive Metropolis draws of the rates), its profiles
    /// started from the mode climbed from the posterior medians.
    public static func assess(_ posterior: StockPosterior, problem: StockCalibrationProblem, priorCount: Int = 20000, seed: UInt64 = 1,
                              thresholds: IdentifiabilityThresholds = IdentifiabilityThresholds()) -> IdentifiabilityReport {
        let size = posterior.size?.flatMap { $0 }
        let draws = posterior.draws.enumerated().map { i, d in d.map { log($0) } + (size.map { [log($0[i])] } ?? []) }
        let start = posterior.summaries.map { log($0.median) }
        let mode = Optimizer.minimize({ -problem.logPosterior($0) }, from: start).x
        return assess(problem, draws: draws, centre: mode, priorCount: priorCount, seed: seed, thresholds: thresholds)
    }

    /// The central 99 % of a rate's prior (rates per year), within `bounds`.
    static func priorRange(_ prior: RatePrior, bounds: ClosedRange<Double>) -> ClosedRange<Double> {
        let z = 2.5758293035489004
        var low: Double, high: Double
        switch prior {
        case let .logNormal(m, s): (low, high) = (m * exp(-z * s), m * exp(z * s))
        case let .gamma(a, b): (low, high) = (gsl_cdf_gamma_Pinv(0.005, a, 1 / b), gsl_cdf_gamma_Pinv(0.995, a, 1 / b))
        }
        low = min(max(low, bounds.lowerBound), bounds.upperBound)
        high = min(max(high, low), bounds.upperBound)
        return low...high
    }

    /// The profile likelihood of every free rate of `problem` (see `ProfileLikelihood`).
    ///
    /// The unconstrained maximum of log L is climbed first from `centre`; each rate's grid is
    /// `gridPoints` values evenly spaced in log θ across the central 99 % of its prior (within the
    /// bounds), plus the maximum's own value. From the maximum the profile walks outwards along the
    /// grid, each point's optimisation (BFGS with the exact gradient, `Optimizer.minimize(valueAndGradient:)`
    /// over every other sampling coordinate, the gradient from `logPosteriorAndGradient`) started from
    /// the previous point's optimum (and, where that drops by more than `delta`, also from three other
    /// starts — every other log-rate moved by the same step, the maximum's other coordinates, the
    /// straight line through the last two optima, and the three posterior draws (of `draws`, sampling
    /// coordinates) nearest on this rate — keeping the best), and stops on a side once the profile is
    /// `stopBelow` (default 10) under the maximum: the interval is closed there. Where the profile
    /// crosses max − `delta` between two grid points, the crossing is found by regula falsi (to 0.005
    /// in log L), so the interval does not depend on the grid's spacing.
    ///
    /// The rates' profiles are independent of each other given the maximum: they run concurrently
    /// (`DispatchQueue.concurrentPerform`), each exactly as alone, so the result does not depend on
    /// the number of cores.
    ///
    /// - Complexity: about (gridPoints + 1) × d optimisations of log L over d − 1 (or d) coordinates.
    public static func profiles(_ problem: StockCalibrationProblem, centre: [Double], draws: [[Double]] = [], gridPoints: Int = 15,
                                delta: Double = 1.92, stopBelow: Double = 10) -> [ProfileLikelihood] {
        let d = problem.freeIndices.count
        let lower = log(problem.bounds.lowerBound), upper = log(problem.bounds.upperBound)
        let priors = problem.freePriors
        // The rates are held inside their bounds by clamping: f(φ) = F(clamp(φ)), whose gradient is 0 along a
        // clamped coordinate, so the search slides along a bound instead of stepping into a wall of +∞ (where
        // its line search would shrink every step to nothing). The maximum over the box is unchanged.
        let low = lower + 1e-9, high = upper - 1e-9
        @Sendable func clamped(_ φ: [Double]) -> [Double] {
            var c = φ
            for k in 0..<d { c[k] = min(max(c[k], low), high) }
            return c
        }
        // log L, plus the prior of the likelihood's own parameter (the negative binomial size): without it the
        // size runs to its bound wherever the counts are less dispersed than it allows, and the optimiser stalls there.
        @Sendable func negLogL(_ φ: [Double]) -> Double {
            let φ = clamped(φ)
            var extraPrior = 0.0
            if φ.count > d {
                extraPrior = problem.logPrior(φ)
                for k in 0..<d { extraPrior -= priors[k].logDensity(logRate: φ[k]) }
            }
            let v = problem.logLikelihood(φ) + extraPrior
            return v.isFinite ? -v : .infinity
        }
        // The same and its gradient: the log posterior's (`logPosteriorAndGradient`, reverse mode for a
        // Markov model) less the rates' log priors.
        @Sendable func negLogLAndGradient(_ x: [Double]) -> (value: Double, gradient: [Double]) {
            let φ = clamped(x)
            let (value, gradient) = problem.logPosteriorAndGradient(φ)
            guard value.isFinite else { return (.infinity, [Double](repeating: 0, count: φ.count)) }
            var v = value, g = gradient
            for k in 0..<d {
                v -= priors[k].logDensity(logRate: φ[k])
                g[k] = φ[k] == x[k] ? g[k] - StockCalibrationProblem.priorSlope(priors[k], φ[k]) : 0
            }
            return v.isFinite ? (-v, g.map { -$0 }) : (.infinity, g)
        }
        let options = Optimizer.Options(maxIterations: 300, gradientTolerance: 1e-6, valueTolerance: 1e-10)
        let joint = Optimizer.minimize(valueAndGradient: negLogLAndGradient, from: centre, options: options)
        let top = clamped(joint.value.isFinite ? joint.x : centre)
        let topValue = -negLogL(top)
        @Sendable func profile(_ j: Int) -> ProfileLikelihood {
            let range = priorRange(problem.freePriors[j], bounds: problem.bounds)
            let a = log(range.lowerBound), b = log(range.upperBound)
            var grid = (0..<gridPoints).map { a + (b - a) * Double($0) / Double(max(gridPoints - 1, 1)) }
            grid.removeAll { abs($0 - top[j]) < 1e-9 }
            typealias Step = (point: ProfileLikelihood.Point, φ: [Double])
            func optimiseOnce(at x: Double, from start: [Double]) -> Step {
                var others = start
                others.remove(at: j)
                func full(_ o: [Double]) -> [Double] { var φ = o; φ.insert(x, at: j); return φ }
                let r = Optimizer.minimize(valueAndGradient: { o in
                    var (v, g) = negLogLAndGradient(full(o))
                    g.remove(at: j)
                    return (v, g)
                }, from: others, options: options)
                let value = r.value.isFinite ? -r.value : -negLogL(full(others))
                return (ProfileLikelihood.Point(rate: exp(x), logLikelihood: value, converged: r.converged), clamped(full(r.value.isFinite ? r.x : others)))
            }
            // From the previous optimum; when that drops by more than Δ, also from it with every other
            // log-rate moved by the same step (which follows a ridge along which a ratio is pinned) and
            // from the straight-line extrapolation of the last two optima; the best of them.
            func optimise(at x: Double, from previous: Step, before: Step?) -> Step {
                var best = optimiseOnce(at: x, from: previous.φ)
                guard best.point.logLikelihood < previous.point.logLikelihood - delta else { return best }
                let step = x - log(previous.point.rate)
                var shifted = previous.φ
                for k in 0..<d where k != j { shifted[k] = min(max(shifted[k] + step, lower), upper) }
                // The maximum itself with this rate at x: every other coordinate where the data put it jointly.
                var candidates = [shifted, top]
                // The three posterior draws nearest x on this rate, of all draws: the chains explored the ridges,
                // within the priors; several of them, so that the result hardly depends on which draws there are.
                candidates += draws.indices.sorted { (abs(draws[$0][j] - x), $0) < (abs(draws[$1][j] - x), $1) }.prefix(3).map { draws[$0] }
                if let before {
                    let t = step / (log(previous.point.rate) - log(before.point.rate))
                    if t.isFinite { candidates.append(zip(previous.φ, before.φ).map { $0 + t * ($0 - $1) }) }
                }
                for c in candidates {
                    let r = optimiseOnce(at: x, from: c)
                    if r.point.logLikelihood > best.point.logLikelihood { best = r }
                }
                return best
            }
            let centrePoint: Step = (ProfileLikelihood.Point(rate: exp(top[j]), logLikelihood: topValue, converged: joint.converged), top)
            // Outwards from the maximum along the grid, each optimisation warm-started from the previous optimum.
            func walk(_ xs: [Double]) -> [Step] {
                var steps: [Step] = []
                for x in xs {
                    let r = optimise(at: x, from: steps.last ?? centrePoint, before: steps.count >= 2 ? steps[steps.count - 2] : steps.isEmpty ? nil : centrePoint)
                    steps.append(r)
                    if r.point.logLikelihood < topValue - stopBelow { break }
                }
                return steps
            }
            let up = walk(grid.filter { $0 > top[j] }.sorted()), down = walk(grid.filter { $0 < top[j] }.sorted(by: >))
            let maximum = max(topValue, (up + down).map(\.point.logLikelihood).max() ?? topValue)
            let cut = maximum - delta
            // Where a side crosses the cut between grid points, find the crossing by the Illinois variant of
            // regula falsi on PL(log θ) − cut (Dowell & Jarratt 1971, BIT 11:168–174), to 0.005 in log L.
            func refine(_ side: [Step]) -> [Step] {
                let path = [centrePoint] + side
                guard let i = path.indices.first(where: { path[$0].point.logLikelihood < cut }), i > 0 else { return [] }
                var (a, fa, above) = (log(path[i - 1].point.rate), path[i - 1].point.logLikelihood - cut, path[i - 1])
                var (b, fb) = (log(path[i].point.rate), path[i].point.logLikelihood - cut)
                var found: [Step] = [], lastSide = 0
                for _ in 0..<12 {
                    let x = b - fb * (b - a) / (fb - fa)
                    let r = optimise(at: x, from: above, before: nil)
                    found.append(r)
                    let fx = r.point.logLikelihood - cut
                    if abs(fx) < 0.005 || abs(b - a) < 1e-6 { break }
                    if fx > 0 {
                        (a, fa, above) = (x, fx, r)
                        if lastSide == 1 { fb /= 2 }
                        lastSide = 1
                    } else {
                        (b, fb) = (x, fx)
                        if lastSide == -1 { fa /= 2 }
                        lastSide = -1
                    }
                }
                return found
            }
            var points = ([centrePoint] + up + down + refine(up) + refine(down)).map(\.point)
            points.sort { $0.rate < $1.rate }
            return ProfileLikelihood(name: problem.freeNames[j], points: points, maximum: maximum, delta: delta)
        }
        let results = ProfileResults(count: d)
        DispatchQueue.concurrentPerform(iterations: d) { j in
            let result = profile(j)
            results.slots.withLock { $0[j] = result }
        }
        return results.slots.withLock { $0.map { $0! } }
    }

    /// The profiles of `profiles`, one slot per rate, filled by concurrent workers.
    final class ProfileResults: Sendable {
        let slots: Mutex<[ProfileLikelihood?]>
        init(count: Int) { slots = Mutex(Array(repeating: nil, count: count)) }
    }

    static func correlation(_ x: [Double], _ y: [Double]) -> Double {
        let mx = Statistics.mean(x), my = Statistics.mean(y)
        var sxy = 0.0, sxx = 0.0, syy = 0.0
        for (a, b) in zip(x, y) { sxy += (a - mx) * (b - my); sxx += (a - mx) * (a - mx); syy += (b - my) * (b - my) }
        return sxx > 0 && syy > 0 ? sxy / (sxx * syy).squareRoot() : 0
    }
}
