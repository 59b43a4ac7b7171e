import Analysis
import CGSL
import Foundation
import Model
import Stochastics

/// A prior for one yearly rate θ > 0.
///
/// Sampling is on φ = log θ, so the density used is that of φ, Jacobian included:
///
/// ```
/// logNormal(m, s):  log p(φ) = −(φ − log m)²/(2s²) − log(s·√(2π))
/// gamma(a, b):      log p(φ) = a·log b − log Γ(a) + a·φ − b·e^φ
/// ```
public enum RatePrior: Sendable, Equatable, CustomStringConvertible {
    /// log θ ~ N(log median, sdLog²): median ×/÷ e^{1.96·sdLog} is the 95 % interval.
    case logNormal(median: Double, sdLog: Double)
    /// θ ~ Gamma(shape, rate): mean shape/rate.
    case gamma(shape: Double, rate: Double)

    /// The default prior: log-normal with the given median and sdLog = 1, so
    /// the 95 % prior interval runs from median/7.1 to median·7.1 — an order of
    /// magnitude either way of the analyst's current assumption.
    public static func standard(median: Double) -> RatePrior { .logNormal(median: median, sdLog: 1) }

    /// A typical rate of the prior, per year: the median of a log-normal, the mean shape/rate of a gamma
    /// (the scale of `SoftplusRateDensity`).
    public var typicalRatePerYear: Double {
        switch self {
        case let .logNormal(median, _): median
        case let .gamma(a, b): a / b
        }
    }

    /// log p(φ) for φ = log θ.
    public func logDensity(logRate φ: Double) -> Double {
        switch self {
        case let .logNormal(median, s):
            let z = (φ - Foundation.log(median)) / s
            return -0.5 * z * z - Foundation.log(s * (2 * Double.pi).squareRoot())
        case let .gamma(a, b):
            return a * Foundation.log(b) - lgamma(a) + a * φ - b * exp(φ)
        }
    }

    /// One draw of θ (`gsl_ran_gaussian`, `gsl_ran_gamma`).
    public func draw(_ stream: borrowing RandomStream) -> Double {
        switch self {
        case let .logNormal(median, s):
            return exp(Foundation.log(median) + s * stream.withGenerator { gsl_ran_gaussian($0, 1) })
        case let .gamma(a, b):
            return stream.withGenerator { gsl_ran_gamma($0, a, 1 / b) }
        }
    }

    /// The prior median of θ (gamma: by GSL's inverse CDF).
    public var median: Double {
        switch self {
        case let .logNormal(m, _): return m
        case let .gamma(a, b): return gsl_cdf_gamma_Pinv(0.5, a, 1 / b)
        }
    }

    var problem: String? {
        switch self {
        case let .logNormal(m, s): return m > 0 && m.isFinite && s > 0 && s.isFinite ? nil : "logNormal needs median > 0 and sdLog > 0, got \(m), \(s)"
        case let .gamma(a, b): return a > 0 && a.isFinite && b > 0 && b.isFinite ? nil : "gamma needs shape > 0 and rate > 0, got \(a), \(b)"
        }
    }

    public var description: String {
        switch self {
        case let .logNormal(m, s): return "logNormal(median \(m), sdLog \(s))"
        case let .gamma(a, b): return "gamma(shape \(a), rate \(b))"
        }
    }
}

/// How observed counts vary around the model's expected counts μ.
///
/// ```
/// poisson:           log p(y | μ) = y·log μ − μ − log Γ(y + 1)
/// negative binomial: log p(y | μ, k) = log Γ(y + k) − log Γ(k) − log Γ(y + 1)
///                                      + k·log(k/(k + μ)) + y·log(μ/(k + μ)),   Var y = μ + μ²/k
/// ```
///
/// What is assumed: counts at different dates and levels are independent
/// given μ(θ). They are not. The same children are counted at consecutive
/// census dates, and in a closed population the levels share a fixed total,
/// so successive counts are positively correlated over time and negatively
/// across levels. For a closed cohort the exact law of one count is
/// Poisson-binomial, with variance below the mean: Poisson is conservative
/// about one count's spread but treats each count as new information, so with
/// large counts and slow dynamics posterior widths are too narrow, not too wide.
/// The negative binomial's extra variance μ²/k (relative sd 1/√k on large
/// counts) stands for what the aggregate model leaves out — recording error,
/// heterogeneity between children, a model that is only approximately right —
/// which, for counts in the thousands, dwarfs Poisson noise; with k estimated,
/// the data say how large it is. It does not repair the correlation.
///
/// The multivariate normal does: when the fitted arm is a Markov chain on levels
/// (`MarkovStockModel`), it uses the exact covariance of all counts after time 0
/// jointly, plus an extra relative variance c² for what the model leaves out
/// (docs/calibration.md §9). It is the default there (`markovStandard`); the
/// independent negative binomial stays the default for other arms (`standard`).
public enum StockLikelihood: Sendable, Equatable, CustomStringConvertible {
    case poisson
    /// Negative binomial with a fixed size k.
    case negativeBinomial(size: Double)
    /// Negative binomial with k estimated (sampled on log k) under the given prior.
    case negativeBinomialEstimated(sizePrior: RatePrior)
    /// Multivariate normal over all counts after time 0 jointly, with the exact covariance of a
    /// Markov chain on levels (needs `MarkovStockModel` simulators, alone or pooled) and a fixed
    /// relative extra sd c (`MarkovStockModel.logLikelihood(observed:θ:relativeSD:)`):
    ///
    /// ```
    /// y ~ N(μ(θ), Σ(θ) + diag(c²·μ² + 1/12))
    /// ```
    case multivariateNormal(relativeSD: Double)
    /// The multivariate normal with c estimated (sampled on log c) under the given prior.
    case multivariateNormalEstimated(relativeSDPrior: RatePrior)

    /// The default: negative binomial with k estimated, prior log-normal with
    /// median 100 (10 % extra relative sd) and sdLog 2 (95 %: k from 2 to 5,000).
    public static let standard = StockLikelihood.negativeBinomialEstimated(sizePrior: .logNormal(median: 100, sdLog: 2))

    /// The default when the fitted arm is a Markov chain on levels (`MarkovStockModel`): the
    /// multivariate normal with c estimated, prior log-normal with median 0.003 and sdLog 1.5
    /// (95 %: c from 0.0002 to 0.057, i.e. recording error or misfit from negligible to about
    /// 6 % of a count). Weakly informative: for counts in the thousands the binomial sd of a
    /// level is around 1 % of its count, so the data decide whether c matters.
    public static let markovStandard = StockLikelihood.multivariateNormalEstimated(relativeSDPrior: .logNormal(median: 0.003, sdLog: 1.5))

    /// The prior of the likelihood's estimated parameter (k or c, sampled on its log), if any.
    public var extraPrior: RatePrior? {
        switch self {
        case let .negativeBinomialEstimated(p): return p
        case let .multivariateNormalEstimated(p): return p
        default: return nil
        }
    }

    /// The name of the likelihood's estimated parameter, for reports.
    public var extraName: String? {
        switch self {
        case .negativeBinomialEstimated: return "negative binomial size"
        case .multivariateNormalEstimated: return "relative extra sd"
        default: return nil
        }
    }

    /// Whether it is a multivariate normal (needs `MarkovStockModel` simulators).
    public var isMultivariateNormal: Bool {
        switch self {
        case .multivariateNormal, .multivariateNormalEstimated: return true
        default: return false
        }
    }

    /// log p(y | μ, k) (Poisson when k is nil). μ below 10⁻¹² counts as 10⁻¹².
    ///
    /// For k > 10⁵, log Γ(y + k) − log Γ(k) is taken from Stirling's series in a
    /// form without cancellation, (k − ½)·log1p(y/k) + y·log(k + y) − y + 1/(12(k + y)) − 1/(12k),
    /// so the negative binomial tends to the Poisson smoothly as k grows.
    public static func logProbability(_ y: Double, mean μ: Double, size k: Double?) -> Double {
        let m = max(μ, 1e-12)
        guard let k else { return y * log(m) - m - lgamma(y + 1) }
        var ratio: Double
        if k > 1e5 {
            let stirling: Double = (k - 0.5) * log1p(y / k) + y * log(k + y) - y
            ratio = stirling + 1 / (12 * (k + y)) - 1 / (12 * k)
        } else {
            ratio = lgamma(y + k) - lgamma(k)
        }
        return ratio - lgamma(y + 1) - k * log1p(m / k) + y * log(m / (k + m))
    }

    public var description: String {
        switch self {
        case .poisson: return "Poisson"
        case let .negativeBinomial(k): return "negative binomial, size \(k)"
        case let .negativeBinomialEstimated(p): return "negative binomial, size estimated with prior \(p)"
        case let .multivariateNormal(c): return "multivariate normal (exact Markov covariance), relative extra sd \(c)"
        case let .multivariateNormalEstimated(p): return "multivariate normal (exact Markov covariance), relative extra sd estimated with prior \(p)"
        }
    }
}

/// A declared constraint on the rates, by parameter name (`From→To`).
public enum RateConstraint: Sendable, Equatable, CustomStringConvertible {
    /// θ = value, not estimated. 0 rules a move out.
    case fixed(String, value: Double)
    /// θ = factor · θ_other, not estimated on its own.
    case tied(String, to: String, factor: Double)

    /// Adjacent-level moves only: every named rate `From→To` whose levels are
    /// more than one apart in `levels` is fixed at 0.
    public static func adjacentOnly(names: [String], levels: [String]) -> [RateConstraint] {
        names.compactMap { name in
            let parts = name.components(separatedBy: "→")
            guard parts.count == 2, let i = levels.firstIndex(of: parts[0]), let j = levels.firstIndex(of: parts[1]),
                  abs(i - j) > 1 else { return nil }
            return .fixed(name, value: 0)
        }
    }

    public var name: String {
        switch self {
        case let .fixed(n, _): return n
        case let .tied(n, _, _): return n
        }
    }

    public var description: String {
        switch self {
        case let .fixed(n, v): return "\(n) fixed at \(v)"
        case let .tied(n, o, f): return "\(n) = \(f) × \(o)"
        }
    }
}

/// A small audit of individual records for one flow: of `atRisk` children in
/// the flow's origin at the start of a period of `years`, `moved` made the move.
///
/// ```
/// log L = moved·log p + (atRisk − moved)·log(1 − p),   p = 1 − exp(−θ·years)
/// ```
///
/// p treats the flow as the only way out of its origin: exact for one exit,
/// close when the other moves out are rare over the period (θ_other·years ≪ 1).
public struct RecordAudit: Sendable, Equatable {
    public var parameter: String
    public var atRisk: Int
    public var moved: Int
    public var years: Double
    public init(parameter: String, atRisk: Int, moved: Int, years: Double) {
        self.parameter = parameter; self.atRisk = atRisk; self.moved = moved; self.years = years
    }
}

/// A stock-only calibration: the simulator, the counts, the priors and what is declared.
public struct StockCalibrationProblem: Sendable {
    public let simulator: any StockSimulator
    /// Observed counts, in the simulator's order.
    public let observed: [Double]
    /// One prior per simulator parameter (those of fixed or tied parameters are unused).
    public let priors: [RatePrior]
    public let likelihood: StockLikelihood
    public let constraints: [RateConstraint]
    public let audits: [RecordAudit]
    /// Allowed rates per year; the priors are truncated to it.
    public let bounds: ClosedRange<Double>
    /// Names of the estimated parameters.
    public let freeNames: [String]
    /// Simulator indices of the estimated parameters.
    public let freeIndices: [Int]

    /// How each simulator parameter is obtained: estimated, fixed, or tied.
    enum Source: Sendable {
        case free(Int)
        case fixed(Double)
        case tied(Int, Double)
    }
    let sources: [Source]
    /// The Markov models of a multivariate-normal likelihood, part after part (nil otherwise).
    let markovParts: [MarkovStockModel]?

    static func markovParts(of s: any StockSimulator) -> [MarkovStockModel]? {
        if let m = s as? MarkovStockModel { return [m] }
        if let p = s as? PooledStockSimulator {
            var out: [MarkovStockModel] = []
            for part in p.parts { guard let m = markovParts(of: part) else { return nil }; out += m }
            return out
        }
        return nil
    }

    /// - Parameters:
    ///   - observed: the counts; nil takes them from an `AggregateStockSimulator`'s
    ///     observations (or a pool of them).
    ///   - priors: one per parameter; nil gives `RatePrior.standard(median:)` at the
    ///     scenario's value (at least 0.01 per year; 0.1 when it is unknown).
    ///   - bounds: rates per year, default 10⁻⁶ to 20.
    /// - Throws: `StockCalibrationError` naming what does not fit.
    public init(simulator: any StockSimulator, observed: [Double]? = nil, priors: [RatePrior]? = nil,
                likelihood: StockLikelihood = .standard, constraints: [RateConstraint] = [],
                audits: [RecordAudit] = [], bounds: ClosedRange<Double> = 1e-6...20) throws(StockCalibrationError) {
        let names = simulator.parameterNames
        guard let y = observed ?? Self.observedCounts(of: simulator) else {
            throw StockCalibrationError("observed counts are needed: the simulator does not carry them")
        }
        guard y.count == simulator.observationCount else {
            throw StockCalibrationError("\(y.count) observed counts for \(simulator.observationCount) expected counts")
        }
        guard y.allSatisfy({ $0.isFinite && $0 >= 0 }) else { throw StockCalibrationError("observed counts must be finite and >= 0") }
        let base = Self.baseValues(of: simulator)
        let p = priors ?? (0..<names.count).map { RatePrior.standard(median: base?[$0].map { max($0, 0.01) } ?? 0.1) }
        guard p.count == names.count else {
            throw StockCalibrationError("\(p.count) priors for \(names.count) parameters (\(names.joined(separator: ", ")))")
        }
        for (k, prior) in p.enumerated() { if let problem = prior.problem { throw StockCalibrationError("prior of \(names[k]): \(problem)") } }
        if case let .negativeBinomial(k) = likelihood, !(k > 0 && k.isFinite) {
            throw StockCalibrationError("the negative binomial size must be > 0, got \(k)")
        }
        if case let .negativeBinomialEstimated(prior) = likelihood, let problem = prior.problem {
            throw StockCalibrationError("prior of the negative binomial size: \(problem)")
        }
        if case let .multivariateNormal(c) = likelihood, !(c >= 0 && c.isFinite) {
            throw StockCalibrationError("the relative extra sd must be finite and >= 0, got \(c)")
        }
        if case let .multivariateNormalEstimated(prior) = likelihood, let problem = prior.problem {
            throw StockCalibrationError("prior of the relative extra sd: \(problem)")
        }
        let markov = Self.markovParts(of: simulator)
        if likelihood.isMultivariateNormal && markov == nil {
            throw StockCalibrationError("the \(likelihood) likelihood needs MarkovStockModel simulators (alone or pooled); this simulator is \(type(of: simulator)): use a negative binomial likelihood")
        }
        guard bounds.lowerBound > 0 else { throw StockCalibrationError("the lower rate bound must be > 0 (rates are sampled on the log scale), got \(bounds.lowerBound)") }
        var sources = [Source?](repeating: nil, count: names.count)
        for c in constraints {
            guard let i = names.firstIndex(of: c.name) else {
                throw StockCalibrationError("constraint '\(c)': no parameter \(c.name); the parameters are \(names.joined(separator: ", "))")
            }
            guard sources[i] == nil else { throw StockCalibrationError("\(c.name) is constrained twice") }
            switch c {
            case let .fixed(_, v):
                guard v >= 0, v.isFinite else { throw StockCalibrationError("constraint '\(c)': a rate must be finite and >= 0") }
                sources[i] = .fixed(v)
            case let .tied(_, other, f):
                guard let j = names.firstIndex(of: other), j != i, f >= 0, f.isFinite else {
                    throw StockCalibrationError("constraint '\(c)': expected another parameter's name and a factor >= 0")
                }
                sources[i] = .tied(j, f)
            }
        }
        var free: [Int] = []
        for i in names.indices where sources[i] == nil {
            sources[i] = .free(free.count)
            free.append(i)
        }
        for (i, s) in sources.enumerated() {
            guard case let .tied(j, _) = s! else { continue }
            guard case .free = sources[j]! else {
                throw StockCalibrationError("\(names[i]) is tied to \(names[j]), which is not estimated: tie to an estimated parameter")
            }
        }
        guard !free.isEmpty else { throw StockCalibrationError("every parameter is fixed or tied: nothing to estimate") }
        for a in audits {
            guard let i = names.firstIndex(of: a.parameter), case .free = sources[i]! else {
                throw StockCalibrationError("audit of '\(a.parameter)': not an estimated parameter (\(free.map { names[$0] }.joined(separator: ", ")))")
            }
            guard a.atRisk >= 1, (0...a.atRisk).contains(a.moved), a.years > 0 else {
                throw StockCalibrationError("audit of '\(a.parameter)': expected atRisk >= 1, 0 <= moved <= atRisk, years > 0; got \(a.atRisk), \(a.moved), \(a.years)")
            }
        }
        self.simulator = simulator
        self.observed = y
        self.priors = p
        self.likelihood = likelihood
        self.constraints = constraints
        self.audits = audits
        self.bounds = bounds
        self.sources = sources.map { $0! }
        markovParts = likelihood.isMultivariateNormal ? markov : nil
        freeIndices = free
        freeNames = free.map { names[$0] }
    }

    static func observedCounts(of s: any StockSimulator) -> [Double]? {
        if let a = s as? AggregateStockSimulator { return a.observations.map(\.count) }
        if let m = s as? MarkovStockModel { return m.observations.map(\.count) }
        if let p = s as? PooledStockSimulator {
            var out: [Double] = []
            for part in p.parts { guard let y = observedCounts(of: part) else { return nil }; out += y }
            return out
        }
        return nil
    }

    static func baseValues(of s: any StockSimulator) -> [Double?]? {
        if let a = s as? AggregateStockSimulator { return a.baseValues }
        if let m = s as? MarkovStockModel { return m.aggregate.baseValues }
        if let p = s as? PooledStockSimulator, let first = p.parts.first { return baseValues(of: first) }
        return nil
    }

    /// The simulator's θ from the estimated rates: fixed values and ties filled in.
    public func rates(free: [Double]) -> [Double] {
        sources.map { s in
            switch s {
            case let .free(k): return free[k]
            case let .fixed(v): return v
            case let .tied(j, f):
                guard case let .free(k) = sources[j] else { return .nan }
                return f * free[k]
            }
        }
    }

    /// The estimated rates' priors.
    public var freePriors: [RatePrior] { freeIndices.map { priors[$0] } }

    var estimatesSize: Bool { if case .negativeBinomialEstimated = likelihood { return true } else { return false } }

    /// Number of sampling coordinates: the estimated log-rates, then log k or log c when estimated.
    public var dimension: Int { freeIndices.count + (likelihood.extraPrior == nil ? 0 : 1) }

    /// The weighted least-squares objective at the estimated rates (∞ where the model fails):
    /// Σ (y − μ)²/max(μ, 1) over counts, plus Σ (k − n·p)²/max(n·p·(1 − p), 1) over audits.
    public func objective(free: [Double]) -> Double {
        guard free.allSatisfy({ bounds.contains($0) }), let μ = try? simulator.stocks(rates(free: free)) else { return .infinity }
        var s = 0.0
        for (y, m) in zip(observed, μ) { s += (y - m) * (y - m) / max(m, 1) }
        for a in audits {
            let p = -expm1(-free[auditIndex(a)] * a.years), n = Double(a.atRisk)
            s += (Double(a.moved) - n * p) * (Double(a.moved) - n * p) / max(n * p * (1 - p), 1)
        }
        return s.isFinite ? s : .infinity
    }

    func auditIndex(_ a: RecordAudit) -> Int {
        let i = simulator.parameterNames.firstIndex(of: a.parameter)!
        guard case let .free(k) = sources[i] else { return 0 }
        return k
    }

    /// log posterior (up to a constant) at φ = (log free rates, then log k or log c when estimated):
    /// `logPrior(φ) + logLikelihood(φ)`.
    public func logPosterior(_ φ: [Double]) -> Double {
        let prior = logPrior(φ)
        guard prior.isFinite else { return -.infinity }
        let lp = prior + logLikelihood(φ)
        return lp.isNaN ? -.infinity : lp
    }

    /// log prior density of φ (log-scale densities, Jacobian included); −∞ outside the bounds.
    public func logPrior(_ φ: [Double]) -> Double {
        let d = freeIndices.count
        var lp = 0.0
        for k in 0..<d {
            guard bounds.contains(exp(φ[k])) else { return -.infinity }
            lp += priors[freeIndices[k]].logDensity(logRate: φ[k])
        }
        if let prior = likelihood.extraPrior {
            guard φ.count == d + 1, φ[d] < 30, φ[d] > -30 else { return -.infinity }
            lp += prior.logDensity(logRate: φ[d])
        }
        return lp
    }

    /// log likelihood of the counts (and audits) at φ, constants included; −∞ where the model fails.
    ///
    /// With a multivariate normal, the counts at time 0 are left out: they are the initial
    /// counts, have no variance under the model and carry no information on θ; in a closed
    /// population (no entrants, no exits) each full census also loses its last level, whose
    /// count the others and the fixed total determine (`MarkovStockModel.likelihoodObservations`).
    public func logLikelihood(_ φ: [Double]) -> Double {
        let d = freeIndices.count
        let free = (0..<d).map { exp(φ[$0]) }
        if markovParts != nil {
            guard φ.count == dimension, let value = try? markovLogLikelihood(φ, as: Double.self, seedOffset: 0) else { return -.infinity }
            let lp = value + auditLogLikelihood(free: free)
            return lp.isNaN ? -.infinity : lp
        }
        var size: Double?
        switch likelihood {
        case .poisson: size = nil
        case let .negativeBinomial(k): size = k
        case .negativeBinomialEstimated:
            guard φ.count == d + 1 else { return -.infinity }
            size = exp(φ[d])
        case .multivariateNormal, .multivariateNormalEstimated:
            return -.infinity  // unreachable: init requires Markov parts
        }
        guard let μ = try? simulator.stocks(rates(free: free)) else { return -.infinity }
        var lp = 0.0
        for (y, m) in zip(observed, μ) { lp += StockLikelihood.logProbability(y, mean: m, size: size) }
        lp += auditLogLikelihood(free: free)
        return lp.isNaN ? -.infinity : lp
    }

    /// Σ over audits of moved·log p + (atRisk − moved)·log(1 − p), p = 1 − exp(−θ·years).
    func auditLogLikelihood(free: [Double]) -> Double {
        var lp = 0.0
        for a in audits {
            let p = -expm1(-free[auditIndex(a)] * a.years)
            lp += Double(a.moved) * log(max(p, 1e-300)) + Double(a.atRisk - a.moved) * log(max(1 - p, 1e-300))
        }
        return lp
    }

    /// The multivariate-normal log likelihood of the counts (no audits) at φ, summed over the
    /// Markov parts, for any scalar. For `Dual`, coordinate `seedOffset + k` of φ is seeded as
    /// direction k, so its partials are ∂/∂φ over `Dual.width` coordinates from `seedOffset`.
    func markovLogLikelihood<T: RealScalar>(_ φ: [Double], as: T.Type, seedOffset: Int) throws(StockCalibrationError) -> T {
        guard let parts = markovParts else { throw StockCalibrationError("not a multivariate-normal likelihood") }
        let d = freeIndices.count
        // φ = log x, so dx/dφ = x.
        func seeded(_ coordinate: Int, _ x: Double) -> T { T.seed(x, direction: coordinate - seedOffset, derivative: x) }
        let θ: [T] = sources.map { s in
            switch s {
            case let .free(k): return seeded(k, exp(φ[k]))
            case let .fixed(v): return T(v)
            case let .tied(j, f):
                guard case let .free(k) = sources[j] else { return T(.nan) }
                return T(f) * seeded(k, exp(φ[k]))
            }
        }
        let c: T
        switch likelihood {
        case let .multivariateNormal(fixed): c = T(fixed)
        default: c = seeded(d, exp(φ[d]))
        }
        var total = T(0), start = 0
        for part in parts {
            let y = Array(observed[start..<start + part.observationCount])
            total = total + (try part.logLikelihood(observed: y, θ: θ, relativeSD: c))
            start += part.observationCount
        }
        return total
    }

    /// The multivariate-normal log likelihood (no audits) at φ, summed over the Markov parts, and its
    /// gradient in φ (`dimension` coordinates) by reverse mode (`MarkovStockModel.logLikelihoodGradient`):
    ///
    /// ```
    /// ∂ℓ/∂φ_k = Σ_parts Σ_p ∂ℓ/∂θ_p · ∂θ_p/∂φ_k,   θ_p = e^φ_k (free) or f·e^φ_k (tied to k)
    /// ∂ℓ/∂φ_c = Σ_parts ∂ℓ/∂c · c                  (c = e^φ_c, when estimated)
    /// ```
    func markovLogLikelihoodGradient(_ φ: [Double]) throws(StockCalibrationError) -> (value: Double, gradient: [Double]) {
        guard let parts = markovParts else { throw StockCalibrationError("not a multivariate-normal likelihood") }
        let d = freeIndices.count
        let θ = rates(free: (0..<d).map { exp(φ[$0]) })
        let c: Double
        switch likelihood {
        case let .multivariateNormal(fixed): c = fixed
        default: c = exp(φ[d])
        }
        var total = 0.0, start = 0
        var gradient = [Double](repeating: 0, count: dimension)
        for part in parts {
            let y = Array(observed[start..<start + part.observationCount])
            let g = try part.logLikelihoodGradient(observed: y, θ: θ, relativeSD: c)
            total = total + g.value
            for (p, s) in sources.enumerated() {
                switch s {
                case let .free(k): gradient[k] += g.rates[p] * θ[p]
                case let .tied(j, _):
                    // θ_p = f·e^φ_k, so ∂θ_p/∂φ_k = θ_p.
                    if case let .free(k) = sources[j] { gradient[k] += g.rates[p] * θ[p] }
                case .fixed: break
                }
            }
            if gradient.count > d { gradient[d] += g.relativeSD * c }
            start += part.observationCount
        }
        return (total, gradient)
    }

    /// How `logPosteriorAndGradient` differentiates a multivariate-normal likelihood.
    public enum LikelihoodDifferentiation: Sendable {
        /// Reverse mode (`MarkovStockModel.logLikelihoodGradient`): the default.
        case reverse
        /// Forward mode with `Dual` numbers, `Dual.width` coordinates per pass: the reference.
        case forward
    }

    /// log posterior and its gradient with respect to φ (`dimension` coordinates).
    ///
    /// With a multivariate-normal likelihood the gradient is exact: the likelihood by reverse-mode
    /// differentiation (`markovLogLikelihoodGradient`; `.forward`: by `Dual` numbers, the same
    /// derivatives to rounding at several times the cost), the priors and audits analytically:
    ///
    /// ```
    /// logNormal(m, s): ∂/∂φ = −(φ − log m)/s²      gamma(a, b): ∂/∂φ = a − b·e^φ
    /// audit:  ∂/∂φ = moved·θt(1 − p)/p − (atRisk − moved)·θt,   p = 1 − e^{−θt}
    /// ```
    ///
    /// Otherwise (a simulator without derivatives: the aggregate model) each coordinate by
    /// a central difference of `logPosterior` with step h = 10⁻⁵ (error O(h²)), one-sided
    /// where a neighbour is outside the support. Outside the support: (−∞, zeros).
    public func logPosteriorAndGradient(_ φ: [Double], differentiation: LikelihoodDifferentiation = .reverse) -> (value: Double, gradient: [Double]) {
        let dim = dimension
        let zeros = [Double](repeating: 0, count: dim)
        guard φ.count == dim else { return (-.infinity, zeros) }
        let prior = logPrior(φ)
        guard prior.isFinite else { return (-.infinity, zeros) }
        guard markovParts != nil else { return finiteDifferenceGradient(φ) }
        let d = freeIndices.count
        var gradient = zeros
        for k in 0..<d { gradient[k] = Self.priorSlope(priors[freeIndices[k]], φ[k]) }
        if let extra = likelihood.extraPrior { gradient[d] = Self.priorSlope(extra, φ[d]) }
        let free = (0..<d).map { exp(φ[$0]) }
        for a in audits {
            let k = auditIndex(a), θt = free[k] * a.years
            let p = -expm1(-θt)
            gradient[k] += Double(a.moved) * θt * (1 - p) / max(p, 1e-300) - Double(a.atRisk - a.moved) * θt
        }
        var likelihoodValue = 0.0
        switch differentiation {
        case .reverse:
            guard let l = try? markovLogLikelihoodGradient(φ), l.value.isFinite else { return (-.infinity, zeros) }
            likelihoodValue = l.value
            for k in 0..<dim { gradient[k] += l.gradient[k] }
        case .forward:
            for offset in stride(from: 0, to: dim, by: Dual.width) {
                guard let l = try? markovLogLikelihood(φ, as: Dual.self, seedOffset: offset), l.value.isFinite else {
                    return (-.infinity, zeros)
                }
                likelihoodValue = l.value
                for k in offset..<min(offset + Dual.width, dim) { gradient[k] += l.partials[k - offset] }
            }
        }
        let value = prior + likelihoodValue + auditLogLikelihood(free: free)
        guard value.isFinite, gradient.allSatisfy(\.isFinite) else { return (-.infinity, zeros) }
        return (value, gradient)
    }

    /// d log p(φ)/dφ of a log-scale prior density.
    static func priorSlope(_ prior: RatePrior, _ φ: Double) -> Double {
        switch prior {
        case let .logNormal(m, s): return -(φ - log(m)) / (s * s)
        case let .gamma(a, b): return a - b * exp(φ)
        }
    }

    /// The documented fallback: central differences of `logPosterior`, step 10⁻⁵.
    func finiteDifferenceGradient(_ φ: [Double]) -> (value: Double, gradient: [Double]) {
        let h = 1e-5
        let value = logPosterior(φ)
        guard value.isFinite else { return (-.infinity, [Double](repeating: 0, count: φ.count)) }
        var gradient = [Double](repeating: 0, count: φ.count)
        for k in φ.indices {
            var up = φ, down = φ
            up[k] += h; down[k] -= h
            let fUp = logPosterior(up), fDown = logPosterior(down)
            switch (fUp.isFinite, fDown.isFinite) {
            case (true, true): gradient[k] = (fUp - fDown) / (2 * h)
            case (true, false): gradient[k] = (fUp - value) / h
            case (false, true): gradient[k] = (value - fDown) / h
            case (false, false): gradient[k] = 0
            }
        }
        return (value, gradient)
    }
}

/// Settings of the least-squares fit.
public struct StockLeastSquaresSettings: Sendable, Equatable {
    /// Starts: the first at the prior medians, the others drawn from the priors.
    public var starts: Int
    /// Objective evaluations allowed per start.
    public var maxEvaluations: Int
    /// Converged when the simplex's objective values agree within tolerance·(|f| + tolerance)
    /// and its vertices within 10⁻⁶ on the log scale, twice in a row (a restart from the best).
    public var tolerance: Double
    /// Starts within this much of the best objective count as near-optimal (1: a Δχ² of 1).
    public var nearOptimalMargin: Double
    public var seed: UInt64
    public init(starts: Int = 8, maxEvaluations: Int = 4000, tolerance: Double = 1e-10, nearOptimalMargin: Double = 1,
                seed: UInt64 = 1) {
        self.starts = starts; self.maxEvaluations = maxEvaluations; self.tolerance = tolerance
        self.nearOptimalMargin = nearOptimalMargin; self.seed = seed
    }
}

/// One start of the least-squares fit.
public struct StockLeastSquaresStart: Sendable {
    public var start: [Double]
    public var rates: [Double]
    public var objective: Double
    public var converged: Bool
    public var evaluations: Int
}

/// The least-squares point estimate and what it leaves.
public struct StockLeastSquaresFit: Sendable, CustomStringConvertible {
    /// Estimated parameters' names and values (per year).
    public var names: [String]
    public var rates: [Double]
    /// Every simulator parameter, fixed and tied ones filled in.
    public var allRates: [Double]
    /// Σ (y − μ)²/max(μ, 1) (+ audit terms) at the estimate: Pearson's X².
    public var objective: Double
    public var observed: [Double]
    public var fitted: [Double]
    /// y − μ.
    public var residuals: [Double]
    /// (y − μ)/√max(μ, 1).
    public var pearsonResiduals: [Double]
    /// The best start converged.
    public var converged: Bool
    public var evaluations: Int
    /// Every start, best first.
    public var starts: [StockLeastSquaresStart]
    /// Per parameter, the range of the estimates of the starts that reached within
    /// `nearOptimalMargin` of the best objective: a wide range is a ridge — the
    /// stocks fit equally well with very different rates.
    public var nearOptimalRange: [ClosedRange<Double>]
    /// Per parameter: the estimate sits on a bound (within 10⁻⁶ on the log scale).
    public var atBound: [Bool]
    /// Approximate standard errors of the log-rates, from the information at the
    /// estimate (∞ where the information is singular: the stocks do not pin it near here).
    public var logStandardErrors: [Double]
    /// Combinations of log-rates with their approximate standard errors, least pinned first.
    public var directions: [FitDirection]

    public var description: String {
        var lines = ["least squares: X² = \(String(format: "%.4g", objective)) on \(observed.count) counts, \(converged ? "converged" : "NOT converged") (\(evaluations) evaluations, \(starts.count) starts)"]
        for (k, n) in names.enumerated() {
            let r = nearOptimalRange[k]
            lines.append("  \(n) = \(String(format: "%.5g", rates[k])) per year, se(log) \(String(format: "%.3g", logStandardErrors[k]))"
                + (atBound[k] ? " AT A BOUND" : "")
                + " (near-optimal starts: \(String(format: "%.4g", r.lowerBound))–\(String(format: "%.4g", r.upperBound)))")
        }
        if let weakest = directions.first, weakest.logSD > 1 {
            let combination = zip(names, weakest.loadings).filter { abs($1) >= 0.1 }
                .map { String(format: "%+.2f·log %@", $1, $0) }.joined(separator: " ")
            lines.append("  poorly pinned near the estimate: \(combination), se \(String(format: "%.3g", weakest.logSD))")
        }
        return lines.joined(separator: "\n")
    }
}

/// A combination of log-rates and how precisely a fit pins it.
public struct FitDirection: Sendable {
    /// Unit vector over the estimated parameters' log-rates.
    public var loadings: [Double]
    /// Approximate standard error along it (∞: not pinned at all).
    public var logSD: Double
}

/// Where MCMC chains start.
public enum ChainStarts: Sendable, Equatable {
    /// Independent draws from the priors (over-dispersed relative to the posterior
    /// whenever the data say anything).
    case prior
    /// log θ = log rates + N(0, sdLog²) per chain and parameter.
    case around(rates: [Double], sdLog: Double)
}

/// A posterior summary of one sampled quantity.
public struct PosteriorSummary: Sendable {
    public var name: String
    public var mean: Double
    public var sd: Double
    public var q025: Double
    public var median: Double
    public var q975: Double
    /// Rank-normalised split-R̂ (Vehtari et al. 2021).
    public var rHat: Double
    public var essBulk: Double
    public var essTail: Double
}

/// Posterior draws of a stock-only calibration, with their diagnostics.
public struct StockPosterior: Sendable, CustomStringConvertible {
    /// Estimated rates' names.
    public var names: [String]
    /// `chains[c][i][k]`: rate k (per year) in draw i of chain c.
    public var chains: [[[Double]]]
    /// Negative binomial size per chain and draw, when estimated.
    public var size: [[Double]]?
    /// Per rate (then the size, when estimated): mean, sd, quantiles, R̂, ESS.
    public var summaries: [PosteriorSummary]
    public var acceptanceRates: [Double]
    public var settings: MCMCSettings

    /// Every chain's draws together: `draws[i][k]`.
    public var draws: [[Double]] { chains.flatMap { $0 } }

    /// Largest R̂ and smallest bulk ESS over the summaries.
    public var worstRHat: Double { summaries.map(\.rHat).max() ?? .nan }

    /// R̂ < 1.01 and bulk and tail ESS ≥ 100 per chain, as Vehtari et al. (2021) recommend.
    public var converged: Bool {
        summaries.allSatisfy { $0.rHat < 1.01 && $0.essBulk >= 100 * Double(chains.count) && $0.essTail >= 100 * Double(chains.count) }
    }

    public var description: String {
        var lines = ["posterior: \(chains.count) chains × \(chains.first?.count ?? 0) draws, acceptance \(acceptanceRates.map { String(format: "%.2f", $0) }.joined(separator: ", ")); \(converged ? "converged" : "NOT converged (R̂ ≥ 1.01 or ESS < 100 per chain)")"]
        for s in summaries {
            lines.append(String(format: "  %@: mean %.5g, sd %.3g, 95%% %.4g–%.4g, R̂ %.3f, ESS bulk %.0f, tail %.0f",
                                s.name, s.mean, s.sd, s.q025, s.q975, s.rHat, s.essBulk, s.essTail))
        }
        return lines.joined(separator: "\n")
    }
}

/// Stock-only calibration of the aggregate model: a least-squares point
/// estimate and a Bayesian posterior.
///
/// **Why adaptive MCMC and not ABC-SMC.** The aggregate model is
/// deterministic: it gives the expected counts μ(θ) exactly, and with a
/// Poisson or negative-binomial observation model the likelihood is explicit
/// and costs one model run. Approximate Bayesian computation exists for
/// simulators whose likelihood cannot be written down (the agent model, say):
/// here it would only add error — a tolerance and summary statistics — and
/// spend most simulations on rejected proposals (ABC-SMC typically needs
/// 10⁴–10⁵ runs per generation for a handful of parameters). The posterior
/// has few dimensions (at most the n(n−1) rates) but, when stocks do not
/// identify the flows, long narrow ridges along the unidentified directions;
/// an adaptive random-walk Metropolis sampler learns that covariance and
/// proposes along the ridge, needs no gradients (the model is code, not a
/// formula), and its draws come with the standard MCMC diagnostics (R̂ and
/// effective sample size; Vehtari et al. 2021). Its weakness — slow mixing
/// on strongly curved ridges and between separated modes — shows in those
/// diagnostics and in the spread of the least-squares starts.
///
/// Rates are estimated on the log scale (θ ≥ 0 by construction, multiplicative
/// uncertainty symmetric).
public enum StockEstimator {
    /// Weighted least squares on the log-rates, bounded, from several starts.
    ///
    /// ```
    /// minimise X²(θ) = Σ_k (y_k − μ_k(θ))² / max(μ_k(θ), 1)    over log θ, θ ∈ bounds
    /// ```
    ///
    /// Pearson (Poisson-type) weights: each squared residual is divided by
    /// the variance a Poisson count with mean μ would have, floored at 1 so
    /// empty levels do not dominate (the minimum chi-square estimator; Neyman
    /// 1949, Berkson 1980, *Ann. Statist.* 8(3):457–487). Audit records add
    /// their binomial Pearson terms. Minimised by Nelder–Mead (Nelder & Mead
    /// 1965, *Comput. J.* 7:308–313; the adaptive coefficients of Gao & Han
    /// 2012, *Comput. Optim. Appl.* 51:259–277), restarted once from the best
    /// vertex, from `settings.starts` starts.
    ///
    /// - Complexity: at most starts × 2 × maxEvaluations simulator calls.
    public static func leastSquares(_ problem: StockCalibrationProblem,
                                    settings: StockLeastSquaresSettings = StockLeastSquaresSettings()) throws(StockCalibrationError) -> StockLeastSquaresFit {
        guard settings.starts >= 1, settings.maxEvaluations >= 10 else {
            throw StockCalibrationError("least squares needs starts >= 1 and maxEvaluations >= 10, got \(settings.starts), \(settings.maxEvaluations)")
        }
        let priors = problem.freePriors
        let d = priors.count
        let lower = log(problem.bounds.lowerBound), upper = log(problem.bounds.upperBound)
        let f: ([Double]) -> Double = { φ in
            guard φ.allSatisfy({ $0 >= lower && $0 <= upper }) else { return .infinity }
            return problem.objective(free: φ.map { exp($0) })
        }
        var results: [StockLeastSquaresStart] = []
        for s in 0..<settings.starts {
            var start = priors.map(\.median)
            if s > 0 {
                let stream = RandomStream(StreamAddress(seed: settings.seed, replication: UInt32(s), purpose: .calibration,
                                                        index: AdaptiveMetropolis.streamIndex("calibration.leastSquares")))
                start = priors.map { $0.draw(stream) }
            }
            start = start.map { min(max($0, problem.bounds.lowerBound), problem.bounds.upperBound) }
            var search = StockSimplexSearch(dimension: d, tolerance: settings.tolerance, maxEvaluations: settings.maxEvaluations)
            let first = search.minimize(f, from: start.map { log($0) })
            // Restart from the best vertex: Nelder–Mead can stall on a false minimum.
            var second = StockSimplexSearch(dimension: d, tolerance: settings.tolerance, maxEvaluations: settings.maxEvaluations)
            let again = second.minimize(f, from: first.x)
            let best = again.value <= first.value ? again : first
            let converged = first.converged && again.converged && first.value - again.value <= settings.tolerance * (abs(first.value) + 1) * 10
            results.append(StockLeastSquaresStart(start: start, rates: best.x.map { exp($0) }, objective: best.value,
                                                  converged: converged, evaluations: search.evaluations + second.evaluations))
        }
        results.sort { $0.objective < $1.objective }
        let best = results[0]
        guard best.objective.isFinite else {
            throw StockCalibrationError("the model failed at every start: no finite least-squares objective (check the bounds \(problem.bounds) and the priors)")
        }
        let near = results.filter { $0.objective <= best.objective + settings.nearOptimalMargin }
        let ranges = (0..<d).map { k in (near.map { $0.rates[k] }.min()!)...(near.map { $0.rates[k] }.max()!) }
        let all = problem.rates(free: best.rates)
        let μ: [Double]
        do { μ = try problem.simulator.stocks(all) } catch {
            throw StockCalibrationError("the model fails at the estimate: \(error)")
        }
        let φ = best.rates.map { log($0) }
        let atBound = φ.map { $0 <= lower + 1e-6 || $0 >= upper - 1e-6 }
        let (errors, directions) = information(problem, at: φ, fitted: μ)
        return StockLeastSquaresFit(
            names: problem.freeNames, rates: best.rates, allRates: all, objective: best.objective, observed: problem.observed,
            fitted: μ, residuals: zip(problem.observed, μ).map { $0 - $1 },
            pearsonResiduals: zip(problem.observed, μ).map { ($0 - $1) / max($1, 1).squareRoot() },
            converged: best.converged, evaluations: results.reduce(0) { $0 + $1.evaluations }, starts: results,
            nearOptimalRange: ranges, atBound: atBound, logStandardErrors: errors, directions: directions)
    }

    /// Approximate standard errors of the log-rates at φ from the Poisson (Pearson) information
    ///
    /// ```
    /// I = Jᵀ·diag(1/max(μ, 1))·J + audits' binomial information,  J_kj = ∂μ_k/∂φ_j
    /// se(φ_j) = √((I⁺)_jj),  I⁺ the pseudo-inverse (∞ along eigenvalues below 10⁻¹⁰·max)
    /// ```
    ///
    /// J by central differences (step 10⁻⁴ in φ; one-sided at a bound). It is the
    /// local, linearised view of identifiability (Jacquez & Greif 1985, *Math. Biosci.*
    /// 77:201–227): a near-zero eigenvalue of I is a combination of rates the
    /// stocks do not pin near the estimate. Valid for Poisson-like noise; with
    /// overdispersion the errors are too small by about √(X²/(n − p)).
    static func information(_ problem: StockCalibrationProblem, at φ: [Double], fitted μ: [Double]) -> ([Double], [FitDirection]) {
        let d = φ.count
        let h = 1e-4
        let lower = log(problem.bounds.lowerBound), upper = log(problem.bounds.upperBound)
        var jacobian = [[Double]](repeating: [Double](repeating: 0, count: d), count: μ.count)
        for j in 0..<d {
            var plus = φ, minus = φ
            plus[j] = min(φ[j] + h, upper); minus[j] = max(φ[j] - h, lower)
            guard plus[j] > minus[j],
                  let up = try? problem.simulator.stocks(problem.rates(free: plus.map { exp($0) })),
                  let down = try? problem.simulator.stocks(problem.rates(free: minus.map { exp($0) })) else { continue }
            for k in μ.indices { jacobian[k][j] = (up[k] - down[k]) / (plus[j] - minus[j]) }
        }
        var info = MCMCLinearAlgebra.identity(d, scale: 0)
        for (k, row) in jacobian.enumerated() {
            let w = 1 / max(μ[k], 1)
            for i in 0..<d { for j in 0..<d { info[i][j] += w * row[i] * row[j] } }
        }
        for a in problem.audits {
            let j = problem.auditIndex(a)
            let θ = exp(φ[j]), p = -expm1(-θ * a.years)
            let dp = θ * a.years * exp(-θ * a.years)
            if p > 0 && p < 1 { info[j][j] += Double(a.atRisk) * dp * dp / (p * (1 - p)) }
        }
        let eigen = MCMCLinearAlgebra.symmetricEigen(info)
        let floor = max(eigen.values.first ?? 0, 0) * 1e-10
        var variance = [Double](repeating: 0, count: d)
        for (λ, v) in zip(eigen.values, eigen.vectors) {
            for j in 0..<d where v[j] * v[j] > 1e-12 { variance[j] += λ > floor && λ > 0 ? v[j] * v[j] / λ : .infinity }
        }
        let directions = zip(eigen.values, eigen.vectors).reversed().map { λ, v in
            FitDirection(loadings: v, logSD: λ > floor && λ > 0 ? 1 / λ.squareRoot() : .infinity)
        }
        return (variance.map { $0.squareRoot() }, Array(directions))
    }

    /// Posterior draws by adaptive Metropolis on the log-rates (and log k when
    /// the negative binomial size is estimated).
    ///
    /// ```
    /// log π(φ | y) = Σ_k log p(y_k | μ_k(e^φ)) + Σ_j log p_j(φ_j) + Σ audits log L + const
    /// ```
    ///
    /// with `RatePrior` densities on the log scale and the priors truncated to
    /// `problem.bounds`. Chains start from `starts` (default: prior draws, on
    /// their own streams), adapt during burn-in, and are summarised on the rate
    /// scale with rank-normalised R̂ and bulk and tail ESS (`MCMCDiagnostics`).
    ///
    /// - Complexity: chains × (burnIn + samples·thin) simulator calls.
    public static func posterior(_ problem: StockCalibrationProblem, settings: MCMCSettings,
                                 starts: ChainStarts = .prior) throws(StockCalibrationError) -> StockPosterior {
        let d = problem.freeIndices.count
        let priors = problem.freePriors
        let sizePrior = problem.likelihood.extraPrior
        // Starts: a stream separate from the chains', one replication per chain.
        var initial: [[Double]] = []
        for c in 0..<settings.chains {
            let stream = RandomStream(StreamAddress(seed: settings.seed, replication: UInt32(c), purpose: settings.purpose,
                                                    index: AdaptiveMetropolis.streamIndex("calibration.starts")))
            var found: [Double]?
            for _ in 0..<200 where found == nil {
                var φ: [Double]
                switch starts {
                case .prior:
                    φ = priors.map { log($0.draw(stream)) }
                case let .around(rates, sdLog):
                    guard rates.count == d else {
                        throw StockCalibrationError("chain starts around \(rates.count) rates, but \(d) are estimated (\(problem.freeNames.joined(separator: ", ")))")
                    }
                    φ = rates.map { log(max($0, problem.bounds.lowerBound)) + sdLog * stream.withGenerator { gsl_ran_gaussian($0, 1) } }
                }
                if let sizePrior { φ.append(log(sizePrior.draw(stream))) }
                if problem.logPosterior(φ).isFinite { found = φ }
            }
            guard let found else {
                throw StockCalibrationError("chain \(c + 1): no start with a finite posterior density in 200 draws (check the bounds \(problem.bounds) and the priors)")
            }
            initial.append(found)
        }
        let chains = try AdaptiveMetropolis.sample(logDensity: { problem.logPosterior($0) }, starts: initial, settings: settings)
        let rateChains = chains.map { c in c.draws.map { Array($0.prefix(d)).map { exp($0) } } }
        let sizeChains = sizePrior == nil ? nil : chains.map { c in c.draws.map { exp($0[d]) } }
        var names = problem.freeNames
        var columns: [[[Double]]] = (0..<d).map { k in rateChains.map { $0.map { $0[k] } } }
        if let sizeChains { names.append(problem.likelihood.extraName ?? "negative binomial size"); columns.append(sizeChains) }
        let summaries = zip(names, columns).map { name, x in summarise(name: name, chains: x) }
        return StockPosterior(names: problem.freeNames, chains: rateChains, size: sizeChains, summaries: summaries,
                              acceptanceRates: chains.map(\.acceptanceRate), settings: settings)
    }

    /// Independent draws of the estimated rates from their priors, truncated to the
    /// bounds (`draws[i][k]`), for `Identifiability.assess`.
    public static func priorDraws(_ problem: StockCalibrationProblem, count: Int, seed: UInt64) -> [[Double]] {
        let stream = RandomStream(StreamAddress(seed: seed, replication: 0, purpose: .calibration,
                                                index: AdaptiveMetropolis.streamIndex("calibration.prior")))
        let priors = problem.freePriors
        return (0..<count).map { _ in
            priors.map { p in
                var x = p.draw(stream)
                for _ in 0..<1000 where !problem.bounds.contains(x) { x = p.draw(stream) }
                return x
            }
        }
    }

    /// Mean, sd, quantiles, rank-normalised R̂ and ESS of one quantity's chains.
    public static func summarise(name: String, chains: [[Double]]) -> PosteriorSummary {
        let all = chains.flatMap { $0 }
        let sorted = all.sorted()
        return PosteriorSummary(
            name: name, mean: Statistics.mean(all), sd: Statistics.standardDeviation(all), q025: Statistics.quantile(sorted: sorted, 0.025),
            median: Statistics.quantile(sorted: sorted, 0.5), q975: Statistics.quantile(sorted: sorted, 0.975),
            rHat: MCMCDiagnostics.rankNormalizedRHat(chains), essBulk: MCMCDiagnostics.bulkEffectiveSampleSize(chains),
            essTail: MCMCDiagnostics.tailEffectiveSampleSize(chains))
    }
}

/// Nelder–Mead simplex search with Gao & Han's (2012) dimension-dependent
/// coefficients: reflection 1, expansion 1 + 2/d, contraction 0.75 − 1/(2d),
/// shrink 1 − 1/d. Private to stock calibration.
struct StockSimplexSearch {
    let dimension: Int
    let tolerance: Double
    let maxEvaluations: Int
    var evaluations = 0

    init(dimension: Int, tolerance: Double, maxEvaluations: Int) {
        self.dimension = dimension; self.tolerance = tolerance; self.maxEvaluations = maxEvaluations
    }

    mutating func minimize(_ f: ([Double]) -> Double, from x0: [Double]) -> (x: [Double], value: Double, converged: Bool) {
        let d = dimension
        let dd = Double(d)
        let (alpha, gamma) = (1.0, d <= 2 ? 2 : 1 + 2 / dd)
        let (rho, sigma) = (max(0.75 - 1 / (2 * dd), 0.5), max(1 - 1 / dd, 0.5))
        func eval(_ x: [Double]) -> Double { evaluations += 1; let v = f(x); return v.isNaN ? .infinity : v }
        var simplex = [x0]
        for i in 0..<d {
            var x = x0
            x[i] += 0.5
            simplex.append(x)
        }
        var values = simplex.map { eval($0) }
        var converged = false
        while evaluations < maxEvaluations {
            let order = values.indices.sorted { values[$0] < values[$1] }
            simplex = order.map { simplex[$0] }
            values = order.map { values[$0] }
            let spread = values[d] - values[0]
            var size = 0.0
            for v in simplex.dropFirst() { for k in 0..<d { size = max(size, abs(v[k] - simplex[0][k])) } }
            if values[0].isFinite && spread <= tolerance * (abs(values[0]) + tolerance) && size <= 1e-6 { converged = true; break }
            var centroid = [Double](repeating: 0, count: d)
            for v in simplex.dropLast() { for k in 0..<d { centroid[k] += v[k] / dd } }
            let worst = simplex[d]
            let xr = (0..<d).map { centroid[$0] + alpha * (centroid[$0] - worst[$0]) }
            let fr = eval(xr)
            if fr < values[0] {
                let xe = (0..<d).map { centroid[$0] + gamma * (xr[$0] - centroid[$0]) }
                let fe = eval(xe)
                if fe < fr { simplex[d] = xe; values[d] = fe } else { simplex[d] = xr; values[d] = fr }
            } else if fr < values[d - 1] {
                simplex[d] = xr; values[d] = fr
            } else {
                let outside = fr < values[d]
                let xc = (0..<d).map { outside ? centroid[$0] + rho * (xr[$0] - centroid[$0]) : centroid[$0] + rho * (worst[$0] - centroid[$0]) }
                let fc = eval(xc)
                if fc < (outside ? fr : values[d]) {
                    simplex[d] = xc; values[d] = fc
                } else {
                    for i in 1...d {
                        simplex[i] = (0..<d).map { simplex[0][$0] + sigma * (simplex[i][$0] - simplex[0][$0]) }
                        values[i] = eval(simplex[i])
                    }
                }
            }
        }
        let best = values.indices.min { values[$0] < values[$1] }!
        return (simplex[best], values[best], converged)
    }
}


extension StockCalibrationProblem: DifferentiableLogDensity {
    /// `logPosteriorAndGradient(_:differentiation:)` in reverse mode.
    public func logDensityAndGradient(_ x: [Double]) -> (value: Double, gradient: [Double]) { logPosteriorAndGradient(x) }
}
