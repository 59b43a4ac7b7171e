import Analysis
import CGSL
import Foundation
import Model
import Stochastics

/// Draws of a stock-only posterior on the sampling scale (log rates, then log k), chain by chain.
public struct StockSamples: Sendable {
    /// The sampling coordinates' names (`Calibrate.samplingNames`): the free rates, then the size when estimated.
    public var names: [String]
    /// How many of the coordinates are free rates (the first ones).
    public var rateCount: Int
    /// The sampler's chains: draws on the sampling scale and the log posterior of each.
    public var chains: [MarkovChain]
    /// Divergent transitions after warm-up per chain, when the sampler reports them (nil: it does not).
    public var divergences: [Int]?
    /// Which sampler, in words (for the notes).
    public var sampler: String
    /// Per coordinate, on the rate scale (e^φ): mean, sd, quantiles, R̂, bulk and tail ESS.
    public var summaries: [PosteriorSummary]
    /// One extension round of NUTS chains: draws per chain before and after, and the failed checks that called for it.
    public struct Round: Sendable, Equatable {
        public var drawsBefore: Int
        public var drawsAfter: Int
        public var reason: String
    }
    /// The extension rounds after the first draws (`StockSampling.sample`), in order; empty when none was needed.
    public var rounds: [Round] = []

    /// Every chain's draws, chain after chain: `draws[i][j]`, coordinate j (sampling scale) of draw i.
    public var draws: [[Double]] { chains.flatMap(\.draws) }
    /// The log posterior of each draw of `draws`.
    public var logPosterior: [Double] { chains.flatMap(\.logDensity) }
    /// The free rates per year of each draw of `draws`.
    public var rateDraws: [[Double]] { draws.map { $0.prefix(rateCount).map { exp($0) } } }
    /// `coordinate(j)[c][i]`: coordinate j of draw i of chain c.
    public func coordinate(_ j: Int) -> [[Double]] { chains.map { $0.draws.map { $0[j] } } }

    /// `count` whole draws (every coordinate of one iteration together), spread evenly over `draws`:
    /// rows ⌊i·S/count⌋ for i = 0, …, count − 1 of the S draws (all of them when count ≥ S).
    public func thinned(to count: Int) -> [[Double]] {
        let all = draws
        guard count < all.count else { return all }
        return (0..<max(count, 1)).map { all[$0 * all.count / max(count, 1)] }
    }
}

/// Whether the chains of a posterior can be used, by the checks Stan's diagnostics make.
///
/// The gate (docs/calibration.md §5): every sampling coordinate has rank-normalised split-R̂ below
/// `rHat` and bulk and tail effective sample sizes (over all chains) of at least `essBulk` and `essTail`
/// (Vehtari, Gelman, Simpson, Carpenter & Bürkner 2021, *Bayesian Analysis* 16(2):667–718); the log
/// posterior itself has R̂ below `rHat`; no chain sits apart (its mean log posterior more than
/// `chainOffset` within-chain standard deviations from the median of the chain means); and no
/// divergent transition after warm-up, when the sampler reports them (Betancourt 2017,
/// "A conceptual introduction to Hamiltonian Monte Carlo", arXiv:1701.02434, §6.2).
public struct ConvergenceThresholds: Sendable, Equatable {
    public var rHat: Double
    public var essBulk: Double
    public var essTail: Double
    public var chainOffset: Double
    public init(rHat: Double = 1.01, essBulk: Double = 400, essTail: Double = 400, chainOffset: Double = 0.5) {
        self.rHat = rHat; self.essBulk = essBulk; self.essTail = essTail; self.chainOffset = chainOffset
    }
}

/// One check of the convergence gate: a row of convergence.csv.
public struct ConvergenceCheck: Sendable, Equatable {
    /// `r_hat`, `ess_bulk`, `ess_tail`, `divergences`, `chain_offset`.
    public var check: String
    /// A sampling coordinate, `log posterior`, or empty for a chain's divergences.
    public var quantity: String
    /// 1-based chain number for per-chain checks.
    public var chain: Int?
    public var value: Double
    public var threshold: Double
    public var passed: Bool
}

/// The convergence gate's verdict on a set of chains, with what failed and what to do next.
public struct StockConvergence: Sendable {
    public var checks: [ConvergenceCheck]
    public var thresholds: ConvergenceThresholds
    /// Every check passed.
    public var converged: Bool { checks.allSatisfy(\.passed) }
    /// The failed checks.
    public var failed: [ConvergenceCheck] { checks.filter { !$0.passed } }

    /// Check `samples` against `thresholds` (see `ConvergenceThresholds`).
    ///
    /// ```
    /// chain offset_c = (mean_c(log π) − median_c' mean_c'(log π)) / √(mean_c var_c(log π))
    /// ```
    public static func assess(_ samples: StockSamples, thresholds: ConvergenceThresholds = ConvergenceThresholds()) -> StockConvergence {
        var checks: [ConvergenceCheck] = []
        let columns = samples.names.indices.map { (samples.names[$0], samples.coordinate($0)) }
            + [("log posterior", samples.chains.map(\.logDensity))]
        for (name, x) in columns {
            let r = MCMCDiagnostics.rankNormalizedRHat(x)
            checks.append(ConvergenceCheck(check: "r_hat", quantity: name, chain: nil, value: r, threshold: thresholds.rHat,
                                           passed: r < thresholds.rHat))
        }
        for (name, x) in columns.dropLast() {
            let bulk = MCMCDiagnostics.bulkEffectiveSampleSize(x), tail = MCMCDiagnostics.tailEffectiveSampleSize(x)
            checks.append(ConvergenceCheck(check: "ess_bulk", quantity: name, chain: nil, value: bulk, threshold: thresholds.essBulk,
                                           passed: bulk >= thresholds.essBulk))
            checks.append(ConvergenceCheck(check: "ess_tail", quantity: name, chain: nil, value: tail, threshold: thresholds.essTail,
                                           passed: tail >= thresholds.essTail))
        }
        let lp = samples.chains.map(\.logDensity)
        let means = lp.map { Statistics.mean($0) }
        let within = lp.map { Statistics.standardDeviation($0) }.map { $0 * $0 }
        let sdWithin = Statistics.mean(within).squareRoot()
        let centre = Statistics.quantile(means, 0.5)
        for (c, m) in means.enumerated() {
            let offset = sdWithin > 0 ? (m - centre) / sdWithin : (m == centre ? 0 : -.infinity)
            checks.append(ConvergenceCheck(check: "chain_offset", quantity: "log posterior", chain: c + 1, value: offset,
                                           threshold: thresholds.chainOffset, passed: abs(offset) <= thresholds.chainOffset))
        }
        if let divergences = samples.divergences {
            for (c, n) in divergences.enumerated() {
                checks.append(ConvergenceCheck(check: "divergences", quantity: "", chain: c + 1, value: Double(n), threshold: 0, passed: n == 0))
            }
        }
        return StockConvergence(checks: checks, thresholds: thresholds)
    }

    /// The failures in words, one line each: "R̂ of Universal→Additional 1.08 (needs < 1.01)".
    public var failures: [String] {
        failed.map { c in
            switch c.check {
            case "r_hat": return String(format: "R̂ of %@ %.3f (needs < %.2f)", c.quantity, c.value, c.threshold)
            case "ess_bulk": return String(format: "bulk ESS of %@ %.0f (needs ≥ %.0f)", c.quantity, c.value, c.threshold)
            case "ess_tail": return String(format: "tail ESS of %@ %.0f (needs ≥ %.0f)", c.quantity, c.value, c.threshold)
            case "divergences": return "chain \(c.chain ?? 0): \(Int(c.value)) divergent transitions after warm-up (needs 0)"
            default:
                return String(format: "chain %d sits apart: its mean log posterior is %+.2f within-chain sd from the others' (needs within ±%.2g)",
                              c.chain ?? 0, c.value, c.threshold)
            }
        }
    }

    /// What to do next, by what failed.
    public var advice: [String] {
        let kinds = Set(failed.map(\.check))
        // Extension rounds do not run while there are divergent transitions (more draws only add to them).
        let extended = kinds.contains("divergences") ? "no extension rounds were run, because of the divergent transitions" : "the chains were extended up to it"
        var out: [String] = []
        if kinds.contains("r_hat") || kinds.contains("chain_offset") {
            out.append("chains disagree: raise stocks.burnIn (warm-up) and stocks.maxIterations (\(extended)); if they still disagree the posterior has separate modes or a long ridge — narrow the priors (a smaller sdLog in stocks.free), estimate fewer rates (allowedMoves: adjacent, or fix rates), pool areas, add an audit (stocks.audits), or use flow counts (estimator: flows) or panel records (estimator: panel)")
        }
        if kinds.contains("ess_bulk") || kinds.contains("ess_tail") {
            out.append("too few effective draws: raise stocks.maxIterations, the most draws per chain the extension rounds may reach (ESS grows about in proportion; \(extended))")
        }
        if kinds.contains("divergences") {
            out.append("divergent transitions: the posterior curves too sharply for the step size — raise stocks.targetAcceptance toward 0.95 (smaller steps, Stan's first answer), raise stocks.burnIn, narrow the priors or estimate fewer rates")
        }
        return out
    }

    public static let csvHeader = "check,quantity,chain,value,threshold,passed"

    /// convergence.csv: one row per check.
    public var csv: String {
        var out = Self.csvHeader + "\n"
        for c in checks {
            out += [c.check, CSV.text(c.quantity), c.chain.map(String.init) ?? "", c.value.isNaN ? "" : c.value.isFinite ? CSV.number(c.value) : (c.value > 0 ? "inf" : "-inf"),
                    CSV.number(c.threshold), c.passed ? "true" : "false"].joined(separator: ",") + "\n"
        }
        return out
    }
}

/// The joint point estimate of a stock-only fit: the posterior mode on the sampling scale.
///
/// ```
/// φ̂ = argmax_φ log π(φ | y),   φ = (log θ, log k)
/// ```
///
/// found by BFGS with the exact gradient (`Optimizer.minimize(valueAndGradient:)`, `logPosteriorAndGradient`) from the draw with the highest log posterior. One point whose
/// rates go together (unlike per-rate medians), the penalised maximum-likelihood estimate; started
/// from the best draw of converged chains it climbs the mode those chains explored (docs/calibration.md §5).
public struct StockJointEstimate: Sendable {
    /// Sampling coordinates at the mode.
    public var coordinates: [Double]
    /// Free rates per year at the mode.
    public var rates: [Double]
    /// log posterior (up to a constant) at the mode.
    public var logPosterior: Double
    /// log likelihood at the mode.
    public var logLikelihood: Double
    /// Pearson's X² of the counts (and audits) at the mode, as `StockLeastSquaresFit.objective`.
    public var pearsonX2: Double
    /// The optimiser met its stopping rule.
    public var converged: Bool
    /// The log posterior of the draw it started from.
    public var startLogPosterior: Double

    /// The mode, climbed from the best of `draws` (sampling scale) whose log posteriors are `logPosterior`.
    public static func find(_ problem: StockCalibrationProblem, draws: [[Double]], logPosterior: [Double]) -> StockJointEstimate {
        let best = logPosterior.indices.max { logPosterior[$0] < logPosterior[$1] }!
        let start = draws[best]
        let result = Optimizer.minimize(valueAndGradient: { φ in
            let (value, gradient) = problem.logPosteriorAndGradient(φ)
            return (-value, gradient.map { -$0 })
        }, from: start,
                                        options: Optimizer.Options(maxIterations: 500, gradientTolerance: 1e-8, valueTolerance: 1e-12))
        let φ = result.value.isFinite && -result.value >= logPosterior[best] ? result.x : start
        let rates = φ.prefix(problem.freeIndices.count).map { exp($0) }
        return StockJointEstimate(coordinates: φ, rates: rates, logPosterior: problem.logPosterior(φ), logLikelihood: problem.logLikelihood(φ),
                                  pearsonX2: problem.objective(free: rates), converged: result.converged, startLogPosterior: logPosterior[best])
    }
}

public enum StockSampling {
    /// Posterior draws of `problem` by the No-U-Turn sampler (`NUTSRun`) in `coordinates`
    /// (`SoftplusRateDensity`, or `problem` itself on log rates), `settings.chains` chains from
    /// independent prior draws (over-dispersed relative to any posterior the data narrow), each on its
    /// own stream. The chains returned are on the log scale whatever the coordinates (draws φ, log
    /// densities log p(φ)), so every diagnostic and summary reads the same numbers.
    ///
    /// Each chain warms up for `settings.warmup` iterations and keeps `settings.samples` draws; then,
    /// while the convergence gate (`StockConvergence.assess` with `thresholds`) fails for a reason more
    /// draws can cure (R̂, ESS or a chain apart; not divergences, which only accumulate) and fewer than
    /// `maxSamples` draws per chain are kept, every chain is extended by `settings.samples` more draws
    /// (the last round by what is left), with the step size and metric of its warm-up (`NUTSRun.extend`).
    /// The diagnostics are always those of all kept draws of all chains. `rounds` of the result records
    /// the extension rounds. Deterministic given the seed: the same draws whatever the threads.
    ///
    /// - Parameters:
    ///   - maxSamples: the most draws kept per chain; nil or ≤ `settings.samples`: no extension.
    ///   - progress: (what: "" for warm-up and the first draws, "extension round r: …" after, iterations
    ///     done, iterations of the round), from any thread.
    public static func sample(_ problem: StockCalibrationProblem, settings: NUTSSettings,
                              coordinates: StockCoordinates = .softplus, maxSamples: Int? = nil,
                              thresholds: ConvergenceThresholds = ConvergenceThresholds(),
                              progress: (@Sendable (String, Int, Int) -> Void)? = nil) throws(StockCalibrationError) -> StockSamples {
        let starts = try starts(problem, chains: settings.chains, seed: settings.seed, purpose: settings.purpose)
        let run: NUTSRun
        let onLogScale: ([MarkovChain]) -> [MarkovChain]
        switch coordinates {
        case .log:
            run = try NUTSRun.make(problem, starts: starts, settings: settings)
            onLogScale = { $0 }
        case .softplus:
            let density = SoftplusRateDensity(problem: problem)
            run = try NUTSRun.make(density, starts: starts.map { density.coordinates($0) }, settings: settings)
            onLogScale = { $0.map { density.onLogScale($0) } }
        }
        func labelled(_ label: String) -> (@Sendable (Int, Int) -> Void)? {
            guard let progress else { return nil }
            return { done, total in progress(label, done, total) }
        }
        run.sample(progress: labelled(""))
        let limit = max(maxSamples ?? settings.samples, settings.samples)
        var rounds: [StockSamples.Round] = []
        var samples = describe(problem, chains: onLogScale(run.chains), settings: settings, coordinates: coordinates, rounds: rounds)
        while true {
            let gate = StockConvergence.assess(samples, thresholds: thresholds)
            let curable = gate.failed.allSatisfy { $0.check != "divergences" }
            guard !gate.converged, curable, run.drawsPerChain < limit else { break }
            let before = run.drawsPerChain
            let more = min(settings.samples, limit - before)
            let why = gate.failures.prefix(2).joined(separator: "; ") + (gate.failures.count > 2 ? "; …" : "")
            rounds.append(StockSamples.Round(drawsBefore: before, drawsAfter: before + more, reason: why))
            run.extend(by: more, progress: labelled("extension round \(rounds.count): \(before) → \(before + more) draws per chain"))
            samples = describe(problem, chains: onLogScale(run.chains), settings: settings, coordinates: coordinates, rounds: rounds)
        }
        return samples
    }

    /// The samples of NUTS chains (log scale), with the sampler described in words.
    static func describe(_ problem: StockCalibrationProblem, chains: [MarkovChain], settings: NUTSSettings,
                         coordinates: StockCoordinates, rounds: [StockSamples.Round]) -> StockSamples {
        let steps = chains.map { String(format: "%.3g", $0.stepSize) }.joined(separator: ", ")
        let bfmi = chains.map { String(format: "%.2f", $0.energyBFMI) }.joined(separator: ", ")
        let saturated = chains.reduce(0) { $0 + $1.treeDepthSaturations }
        let kept = chains.first?.draws.count ?? 0
        let extended = rounds.isEmpty ? ""
            : " (\(settings.samples) at first, then \(rounds.count) extension round\(rounds.count == 1 ? "" : "s") without new warm-up)"
        var out = samples(problem, chains: chains, divergences: chains.map(\.divergences),
                          sampler: "NUTS (\(settings.metric.rawValue) metric, \(coordinates.rawValue) coordinates), \(settings.chains) chains × \(kept) draws\(extended) after \(settings.warmup) of warm-up; "
                              + "step sizes \(steps); E-BFMI \(bfmi)"
                              + (saturated > 0 ? "; \(saturated) transitions stopped at the maximum tree depth \(settings.maxTreeDepth)" : ""))
        out.rounds = rounds
        return out
    }

    /// Posterior draws of `problem` by adaptive Metropolis (`AdaptiveMetropolis.sample`), from the same starts.
    public static func sample(_ problem: StockCalibrationProblem, settings: MCMCSettings) throws(StockCalibrationError) -> StockSamples {
        let starts = try starts(problem, chains: settings.chains, seed: settings.seed, purpose: settings.purpose)
        let chains = try AdaptiveMetropolis.sample(logDensity: { problem.logPosterior($0) }, starts: starts, settings: settings)
        return samples(problem, chains: chains, divergences: nil,
                       sampler: "adaptive Metropolis, \(settings.chains) chains × \(settings.samples) draws after \(settings.burnIn) of burn-in")
    }

    /// Summaries of the chains, on the rate scale.
    static func samples(_ problem: StockCalibrationProblem, chains: [MarkovChain], divergences: [Int]?, sampler: String) -> StockSamples {
        let names = Calibrate.samplingNames(problem)
        let summaries = names.indices.map { j in
            StockEstimator.summarise(name: names[j], chains: chains.map { $0.draws.map { exp($0[j]) } })
        }
        return StockSamples(names: names, rateCount: problem.freeIndices.count, chains: chains, divergences: divergences,
                            sampler: sampler, summaries: summaries)
    }

    /// One start per chain: log rates (then log k or log c) drawn from the priors on the stream
    /// (seed, chain, purpose, FNV-1a of "calibration.starts"), retried until the posterior is finite.
    public static func starts(_ problem: StockCalibrationProblem, chains: Int, seed: UInt64,
                              purpose: RandomPurpose = .calibration) throws(StockCalibrationError) -> [[Double]] {
        let sizePrior = problem.likelihood.extraPrior
        var initial: [[Double]] = []
        for c in 0..<chains {
            let stream = RandomStream(StreamAddress(seed: seed, replication: UInt32(c), purpose: purpose,
                                                    index: AdaptiveMetropolis.streamIndex("calibration.starts")))
            var found: [Double]?
            for _ in 0..<200 where found == nil {
                var φ = problem.freePriors.map { log($0.draw(stream)) }
                if let sizePrior { φ.append(log(sizePrior.draw(stream))) }
                if problem.logPosterior(φ).isFinite { found = φ }
            }
            guard let found else {
                throw StockCalibrationError("chain \(c + 1): no start with a finite posterior density in 200 draws (check the bounds \(problem.bounds) and the priors)")
            }
            initial.append(found)
        }
        return initial
    }
}

/// The coordinates NUTS moves in for a stock-only fit (`stocks.coordinates`, docs/calibration.md §5).
public enum StockCoordinates: String, Sendable, CaseIterable {
    /// Each free rate q = s·softplus(u), s its prior's median (`SoftplusRateDensity`).
    case softplus
    /// Each free rate as log q.
    case log
}

/// The stock posterior on softplus coordinates of its rates: where NUTS samples by default.
///
/// Each free rate q_k = s_k·softplus(u_k) = s_k·log(1 + e^(u_k)), s_k the median of its prior
/// (the mean shape/rate of a gamma prior); the likelihood's own parameter (log c or log k) is
/// sampled as it is. For q ≫ s the map is linear (u ≈ q/s), for q ≪ s logarithmic
/// (u ≈ log(q/s)). Stock counts pin linear combinations of rates (flows are rates × stocks), so
/// the directions the data pin are close to straight lines of constant width on the rate scale;
/// on the log scale they bend and narrow as 1/rate where rates are large (a funnel, where one
/// NUTS step size is too large at the narrow end). The logarithmic end keeps rates positive.
/// The density carries the Jacobian:
///
/// ```
/// log p(u) = log p(φ(u)) + Σ_k log |dφ_k/du_k|,   φ_k = log q_k,   dφ_k/du_k = σ(u_k) / softplus(u_k)
/// ```
///
/// (σ the logistic function; the change of variables Stan uses for a lower-bounded parameter,
/// Stan Reference Manual, "Constraint transforms", with softplus in place of exp; measured
/// effect in docs/calibration.md §5. The chains' adapted metric and step size stay in u;
/// draws and log densities are mapped back by `onLogScale`.)
public struct SoftplusRateDensity: DifferentiableLogDensity {
    public let problem: StockCalibrationProblem
    /// s_k per free rate, per year: where the map turns from logarithmic to linear.
    public let scalesPerYear: [Double]
    public var dimension: Int { problem.dimension }

    public init(problem: StockCalibrationProblem) {
        self.problem = problem
        scalesPerYear = problem.freePriors.map(\.typicalRatePerYear)
    }

    /// softplus(u) = log(1 + e^u), without overflow.
    static func softplus(_ u: Double) -> Double { max(u, 0) + log1p(exp(-abs(u))) }

    /// φ(u): log rates, then the likelihood's own parameter unchanged.
    public func logRates(_ u: [Double]) -> [Double] {
        u.indices.map { k in k < scalesPerYear.count ? log(scalesPerYear[k] * Self.softplus(u[k])) : u[k] }
    }

    /// u(φ), the inverse: u = log(e^(q/s) − 1), as q/s + log(1 − e^(−q/s)) where e^(q/s) would overflow.
    public func coordinates(_ φ: [Double]) -> [Double] {
        φ.indices.map { k in
            guard k < scalesPerYear.count else { return φ[k] }
            let x = exp(φ[k]) / scalesPerYear[k]
            return x > 30 ? x + log(-expm1(-x)) : log(expm1(x))
        }
    }

    /// Σ_k log |dφ_k/du_k| = Σ_k (log σ(u_k) − log softplus(u_k)), log σ(u) = −softplus(−u).
    public func logJacobian(_ u: [Double]) -> Double {
        var total = 0.0
        for k in scalesPerYear.indices { total += -Self.softplus(-u[k]) - log(Self.softplus(u[k])) }
        return total
    }

    /// A chain sampled on these coordinates, with its draws and log densities on the log scale.
    public func onLogScale(_ chain: MarkovChain) -> MarkovChain {
        var out = chain
        for i in chain.draws.indices {
            out.logDensity[i] = chain.logDensity[i] - logJacobian(chain.draws[i])
            out.draws[i] = logRates(chain.draws[i])
        }
        return out
    }

    /// log p(u) and its gradient: ∂/∂u_k = ∂log p/∂φ_k · dφ_k/du_k + (1 − σ(u_k)) − dφ_k/du_k.
    public func logDensityAndGradient(_ u: [Double]) -> (value: Double, gradient: [Double]) {
        let (value, g) = problem.logPosteriorAndGradient(logRates(u))
        guard value.isFinite else { return (-.infinity, [Double](repeating: 0, count: u.count)) }
        var gradient = g
        var jacobian = 0.0
        for k in scalesPerYear.indices {
            let sp = Self.softplus(u[k])
            let logSigma = -Self.softplus(-u[k])
            let dφ = exp(logSigma) / sp
            gradient[k] = g[k] * dφ + (1 - exp(logSigma)) - dφ
            jacobian += logSigma - log(sp)
        }
        return (value + jacobian, gradient)
    }
}
