import Analysis
import CGSL
import Dispatch
import Foundation
import Stochastics
import Synchronization

/// Settings of an adaptive Metropolis run.
public struct MCMCSettings: Sendable, Equatable {
    /// Independent chains, each on its own random stream (≥ 2 for R̂; 4 is the usual minimum).
    public var chains: Int
    /// Iterations per chain before any draw is kept; the proposal adapts during these only.
    public var burnIn: Int
    /// Draws kept per chain, after thinning.
    public var samples: Int
    /// Keep every `thin`-th iteration after burn-in.
    public var thin: Int
    /// Master seed: chain c draws from `AdaptiveMetropolis.streamAddress(seed:chain:purpose:)`.
    public var seed: UInt64
    /// Purpose byte of the chains' stream addresses.
    public var purpose: RandomPurpose
    /// Standard deviation of the first proposal, per coordinate (on the sampled scale).
    public var initialProposalSD: Double
    /// Haario's ε: ε·I is added to the empirical covariance so the proposal never collapses.
    public var epsilon: Double
    /// Run the chains on several threads (results do not depend on it).
    public var parallel: Bool

    public init(chains: Int = 4, burnIn: Int = 2000, samples: Int = 2000, thin: Int = 1, seed: UInt64,
                purpose: RandomPurpose = .calibration, initialProposalSD: Double = 0.1, epsilon: Double = 1e-8,
                parallel: Bool = true) {
        self.chains = chains; self.burnIn = burnIn; self.samples = samples; self.thin = thin; self.seed = seed
        self.purpose = purpose; self.initialProposalSD = initialProposalSD; self.epsilon = epsilon; self.parallel = parallel
    }
}

/// One chain's kept draws.
public struct MarkovChain: Sendable {
    /// `draws[i][j]`: coordinate j of kept draw i.
    public var draws: [[Double]]
    /// The log density at each kept draw.
    public var logDensity: [Double]
    /// Accepted proposals / proposals, after burn-in (NUTS: the mean acceptance statistic after warm-up).
    public var acceptanceRate: Double
    /// The frozen proposal covariance used after burn-in (NUTS: the adapted inverse metric M⁻¹).
    public var proposalCovariance: [[Double]]
    /// NUTS: kept transitions that diverged (energy error above 1000); any at all means the
    /// draws may be biased (Betancourt 2017, §6.2). 0 for adaptive Metropolis.
    public var divergences: Int = 0
    /// NUTS: kept transitions whose trajectory stopped at the maximum tree depth, not at a U-turn.
    public var treeDepthSaturations: Int = 0
    /// NUTS: the leapfrog step size after warm-up; NaN for adaptive Metropolis.
    public var stepSize: Double = .nan
    /// NUTS: gradient evaluations of the whole chain, warm-up included (the cost measure); 0 for adaptive Metropolis.
    public var gradientEvaluations: Int = 0
    /// NUTS: energy Bayesian fraction of missing information of the kept draws (below 0.3 is a warning); NaN for adaptive Metropolis.
    public var energyBFMI: Double = .nan
}

/// The adaptive Metropolis sampler of Haario, Saksman & Tamminen (2001),
/// with a global scale tuned toward a target acceptance rate.
///
/// ```
/// y ~ N(x_t, λ·C_t),   C_t = s_d·(Cov(window) + ε·I),   s_d = 2.38²/d
/// accept with probability min(1, π(y)/π(x_t))
/// log λ ← log λ + u^(−0.6)·(α_t − α*)     (α* = 0.44 for d = 1, else 0.234)
/// ```
///
/// Adaptation happens during burn-in only; the covariance is re-estimated
/// in three windows (iterations [0, B/4), [B/4, B/2), [B/2, B)), each from
/// its own draws once it holds max(20, 5d) of them and has accepted half as
/// many moves, so a chain that starts far from the mode forgets its approach;
/// u counts iterations since the window began, so the scale re-tunes quickly
/// to each window's covariance. After burn-in the proposal is frozen:
/// the kept draws come from an ordinary random-walk Metropolis chain, which
/// leaves π invariant, so the usual diagnostics apply.
///
/// Each chain draws from its own addressed Philox stream through GSL
/// (`gsl_ran_gaussian`, `gsl_rng_uniform_pos`), so a run is reproducible from
/// its seed and does not depend on threads.
///
/// References: Haario, Saksman & Tamminen (2001), "An adaptive Metropolis
/// algorithm", *Bernoulli* 7(2):223–242; Andrieu & Thoms (2008), "A tutorial
/// on adaptive MCMC", *Statistics and Computing* 18:343–373 (Algorithm 4);
/// Roberts, Gelman & Gilks (1997), *Ann. Appl. Probab.* 7(1):110–120 (0.234).
public enum AdaptiveMetropolis {
    /// Stream of chain `chain`: replication = chain, index = FNV-1a of "calibration.mcmc"
    /// (as parameter draws use FNV-1a of their path), so chains never share numbers.
    public static func streamAddress(seed: UInt64, chain: Int, purpose: RandomPurpose = .calibration) -> StreamAddress {
        StreamAddress(seed: seed, replication: UInt32(chain), purpose: purpose, index: streamIndex("calibration.mcmc"))
    }

    /// Run `settings.chains` chains from the given starts.
    ///
    /// - Parameters:
    ///   - logDensity: log π(x) up to a constant; −∞ or NaN outside the support.
    ///   - starts: one start per chain, each with a finite log density.
    /// - Complexity: chains × (burnIn + samples·thin) evaluations of `logDensity`.
    /// - Throws: `StockCalibrationError` for bad settings or a start outside the support.
    public static func sample(logDensity: @escaping @Sendable ([Double]) -> Double, starts: [[Double]],
                              settings: MCMCSettings) throws(StockCalibrationError) -> [MarkovChain] {
        guard settings.chains >= 1, starts.count == settings.chains else {
            throw StockCalibrationError("expected one start per chain (\(settings.chains) chains), got \(starts.count)")
        }
        guard settings.burnIn >= 0, settings.samples >= 1, settings.thin >= 1, settings.initialProposalSD > 0,
              settings.epsilon >= 0 else {
            throw StockCalibrationError("MCMC settings need burnIn >= 0, samples >= 1, thin >= 1, initialProposalSD > 0, epsilon >= 0; got \(settings)")
        }
        let d = starts[0].count
        guard d >= 1, starts.allSatisfy({ $0.count == d }) else {
            throw StockCalibrationError("every start needs the same dimension >= 1; got \(starts.map(\.count))")
        }
        for (c, s) in starts.enumerated() where !logDensity(s).isFinite {
            throw StockCalibrationError("chain \(c + 1) starts at \(s), where the log density is not finite")
        }
        let results = ChainResults(count: settings.chains)
        let work: @Sendable (Int) -> Void = { c in
            let chain = runChain(logDensity: logDensity, start: starts[c], settings: settings, chain: c)
            results.slots.withLock { $0[c] = chain }
        }
        if settings.parallel {
            DispatchQueue.concurrentPerform(iterations: settings.chains, execute: work)
        } else {
            for c in 0..<settings.chains { work(c) }
        }
        return results.slots.withLock { $0.map { $0! } }
    }

    /// One slot per chain, filled by the worker that ran it.
    final class ChainResults: Sendable {
        let slots: Mutex<[MarkovChain?]>
        init(count: Int) { slots = Mutex(Array(repeating: nil, count: count)) }
    }

    static func runChain(logDensity: @Sendable ([Double]) -> Double, start: [Double], settings: MCMCSettings,
                         chain: Int) -> MarkovChain {
        let d = start.count
        let stream = RandomStream(streamAddress(seed: settings.seed, chain: chain, purpose: settings.purpose))
        let sd = 2.38 * 2.38 / Double(d)
        let target = d == 1 ? 0.44 : 0.234
        let minimumWindow = max(20, 5 * d)
        let windowStarts = [0, settings.burnIn / 4, settings.burnIn / 2]
        var covariance = MCMCLinearAlgebra.identity(d, scale: settings.initialProposalSD * settings.initialProposalSD)
        var logScale = 0.0
        var factor = Statistics.cholesky(covariance)!
        var window = RunningCovariance(dimension: d)
        var windowMoves = 0, windowStart = 0
        var x = start, fx = logDensity(start)
        var kept: [[Double]] = [], keptDensity: [Double] = []
        kept.reserveCapacity(settings.samples)
        var accepted = 0, proposals = 0
        let total = settings.burnIn + settings.samples * settings.thin
        var z = [Double](repeating: 0, count: d)
        for t in 0..<total {
            let adapting = t < settings.burnIn
            if adapting && windowStarts.dropFirst().contains(t) && t > 0 {
                window = RunningCovariance(dimension: d)
                windowMoves = 0
                windowStart = t
            }
            // Proposal y = x + sqrt(λ)·L·z, L the Cholesky factor of C.
            stream.withGenerator { rng in for k in 0..<d { z[k] = gsl_ran_gaussian(rng, 1) } }
            let root = exp(logScale / 2)
            var y = x
            for i in 0..<d {
                var s = 0.0
                for k in 0...i { s += factor[i][k] * z[k] }
                y[i] += root * s
            }
            let fy = logDensity(y)
            let logRatio = fy - fx
            let alpha = fy.isFinite ? min(1, exp(min(logRatio, 0))) : 0
            if fy.isFinite && log(stream.uniformPositive()) < logRatio {
                x = y; fx = fy
                if adapting { windowMoves += 1 } else { accepted += 1 }
            }
            if adapting {
                logScale += pow(Double(t - windowStart + 1), -0.6) * (alpha - target)
                logScale = min(max(logScale, -30), 30)
                window.add(x)
                // A window that has hardly moved says nothing about the target's shape.
                if window.count >= minimumWindow && windowMoves >= minimumWindow / 2 {
                    var c = window.covariance
                    for i in 0..<d { c[i][i] += settings.epsilon }
                    covariance = c.map { $0.map { sd * $0 } }
                    if let l = Statistics.cholesky(covariance) { factor = l }
                }
            } else {
                proposals += 1
                let after = t - settings.burnIn
                if (after + 1) % settings.thin == 0 { kept.append(x); keptDensity.append(fx) }
            }
        }
        let frozen = factor.indices.map { i in factor.indices.map { j in
            exp(logScale) * (0...min(i, j)).reduce(0) { $0 + factor[i][$1] * factor[j][$1] }
        } }
        return MarkovChain(draws: kept, logDensity: keptDensity,
                           acceptanceRate: proposals > 0 ? Double(accepted) / Double(proposals) : 0,
                           proposalCovariance: frozen)
    }

    /// A stream index for a named use of random numbers: 32-bit FNV-1a of its
    /// UTF-8 bytes (as parameter draws use FNV-1a of their path).
    static func streamIndex(_ name: String) -> UInt32 {
        var h: UInt32 = 2_166_136_261
        for b in name.utf8 { h = (h ^ UInt32(b)) &* 16_777_619 }
        return h
    }

    /// Mean and covariance of a stream of points (Welford's update).
    struct RunningCovariance {
        var count = 0
        var mean: [Double]
        var comoment: [[Double]]
        init(dimension d: Int) {
            mean = [Double](repeating: 0, count: d)
            comoment = [[Double]](repeating: [Double](repeating: 0, count: d), count: d)
        }
        mutating func add(_ x: [Double]) {
            count += 1
            let before = zip(x, mean).map { $0 - $1 }
            for i in mean.indices { mean[i] += before[i] / Double(count) }
            for i in mean.indices {
                let after = x[i] - mean[i]
                for j in mean.indices { comoment[i][j] += after * before[j] }
            }
        }
        var covariance: [[Double]] { comoment.map { $0.map { $0 / Double(max(count - 1, 1)) } } }
    }
}


/// Convergence diagnostics for MCMC draws of one scalar quantity.
///
/// Each function takes `chains[c][i]`, draw i of chain c (equal lengths ≥ 4).
///
/// ```
/// split R̂ = sqrt(((N−1)/N·W + B/N) / W)      over 2M half-chains of N draws
/// ESS     = M·N / τ,  τ = −1 + 2·Σ_{t=0}^{2k+1} ρ̂_t   (Geyer's initial monotone sequence)
/// ρ̂_t     = 1 − (W − mean_m γ̂_{m,t}) / var⁺,   var⁺ = (N−1)/N·W + B/N
/// ```
///
/// with W the mean within-chain variance, B/N the variance of the chain
/// means and γ̂_{m,t} the autocovariance of chain m at lag t. The rank-
/// normalised versions replace each draw by Φ⁻¹((r − 3/8)/(S + 1/4)), r its
/// rank among all S draws; the folded ones use |x − median| of the split
/// chains (as ArviZ; `posterior` folds before splitting, which differs only
/// for an odd chain length, by the dropped middle draws). Checked against
/// ArviZ 0.23.4 to 1e-9 (MCMCTests.swift).
///
/// Reference: Vehtari, Gelman, Simpson, Carpenter & Bürkner (2021),
/// "Rank-normalization, folding, and localization: an improved R̂ for
/// assessing convergence of MCMC", *Bayesian Analysis* 16(2):667–718;
/// Geyer (1992), "Practical Markov chain Monte Carlo", *Statistical Science*
/// 7(4):473–483. Follows the `posterior` R package's `rhat_basic`, `ess_basic`.
public enum MCMCDiagnostics {
    /// Split-R̂ of the raw draws (Gelman et al. 2013, BDA3 §11.4).
    public static func splitRHat(_ chains: [[Double]]) -> Double { rHat(split(chains)) }

    /// The rank-normalised split-R̂ of Vehtari et al. (2021): the larger of
    /// the bulk (rank-normalised draws) and tail (rank-normalised folded draws) values.
    /// Their recommendation: use the draws only when it is below 1.01.
    public static func rankNormalizedRHat(_ chains: [[Double]]) -> Double {
        let halves = split(chains)
        return max(rHat(rankNormalize(halves)), rHat(rankNormalize(fold(halves))))
    }

    /// Effective sample size of the raw draws: split chains, Geyer's initial monotone sequence.
    public static func effectiveSampleSize(_ chains: [[Double]]) -> Double { ess(split(chains)) }

    /// Bulk effective sample size (Vehtari et al. 2021): ESS of the rank-normalised split chains.
    public static func bulkEffectiveSampleSize(_ chains: [[Double]]) -> Double { ess(rankNormalize(split(chains))) }

    /// Tail effective sample size (Vehtari et al. 2021): the smaller ESS of the indicators of
    /// the 5 % and 95 % quantiles.
    public static func tailEffectiveSampleSize(_ chains: [[Double]]) -> Double {
        let all = chains.flatMap { $0 }.sorted()
        let low = Statistics.quantile(sorted: all, 0.05), high = Statistics.quantile(sorted: all, 0.95)
        let halves = split(chains)
        let below = halves.map { $0.map { $0 <= low ? 1.0 : 0 } }
        let above = halves.map { $0.map { $0 <= high ? 1.0 : 0 } }
        return min(ess(below), ess(above))
    }

    /// Each chain cut into its first and second half (the middle draw of an odd chain dropped).
    static func split(_ chains: [[Double]]) -> [[Double]] {
        chains.flatMap { c -> [[Double]] in
            let h = c.count / 2
            return [Array(c[0..<h]), Array(c[(c.count - h)...])]
        }
    }

    static func fold(_ chains: [[Double]]) -> [[Double]] {
        let median = Statistics.quantile(sorted: chains.flatMap { $0 }.sorted(), 0.5)
        return chains.map { $0.map { abs($0 - median) } }
    }

    /// Normal scores of the pooled ranks (average ranks for ties; Blom's offset 3/8).
    static func rankNormalize(_ chains: [[Double]]) -> [[Double]] {
        let flat = chains.flatMap { $0 }
        let s = Double(flat.count)
        let order = flat.indices.sorted { flat[$0] < flat[$1] }
        var rank = [Double](repeating: 0, count: flat.count)
        var i = 0
        while i < order.count {
            var j = i
            while j + 1 < order.count && flat[order[j + 1]] == flat[order[i]] { j += 1 }
            let r = Double(i + j) / 2 + 1
            for k in i...j { rank[order[k]] = r }
            i = j + 1
        }
        var out: [[Double]] = [], k = 0
        for c in chains {
            out.append(c.indices.map { _ in
                defer { k += 1 }
                return gsl_cdf_ugaussian_Pinv((rank[k] - 0.375) / (s + 0.25))
            })
        }
        return out
    }

    /// R̂ of the given chains (no further splitting), as `posterior::rhat_basic(split = FALSE)`.
    static func rHat(_ chains: [[Double]]) -> Double {
        let n = Double(chains[0].count)
        guard chains.count >= 2, n >= 2 else { return .nan }
        let means = chains.map { $0.reduce(0, +) / n }
        let variances = zip(chains, means).map { c, m in c.reduce(0) { $0 + ($1 - m) * ($1 - m) } / (n - 1) }
        let w = variances.reduce(0, +) / Double(chains.count)
        let grand = means.reduce(0, +) / Double(chains.count)
        let b = n * means.reduce(0) { $0 + ($1 - grand) * ($1 - grand) } / Double(chains.count - 1)
        guard w > 0 else { return b > 0 ? .infinity : .nan }
        return ((n - 1) / n + b / (n * w)).squareRoot()
    }

    /// ESS of the given chains (no further splitting), as `posterior::ess_rfun`.
    static func ess(_ chains: [[Double]]) -> Double {
        let m = chains.count
        let n = chains[0].count
        guard n >= 4, chains.allSatisfy({ $0.count == n }) else { return .nan }
        let nd = Double(n)
        let means = chains.map { $0.reduce(0, +) / nd }
        let centred = zip(chains, means).map { c, mu in c.map { $0 - mu } }
        // Biased autocovariance (divided by n) of each chain at lag t, averaged over chains.
        func meanAutocovariance(_ t: Int) -> Double {
            var total = 0.0
            for c in centred {
                var s = 0.0
                for i in 0..<(n - t) { s += c[i] * c[i + t] }
                total += s / nd
            }
            return total / Double(m)
        }
        let gamma0 = meanAutocovariance(0)
        let meanVar = gamma0 * nd / (nd - 1)
        var varPlus = meanVar * (nd - 1) / nd
        if m > 1 {
            let grand = means.reduce(0, +) / Double(m)
            varPlus += means.reduce(0) { $0 + ($1 - grand) * ($1 - grand) } / Double(m - 1)
        }
        guard varPlus > 0 else { return .nan }
        func rho(_ t: Int) -> Double { 1 - (meanVar - meanAutocovariance(t)) / varPlus }
        var rhoHat = [Double](repeating: 0, count: n)
        rhoHat[0] = 1
        var even = 1.0, odd = rho(1)
        rhoHat[1] = odd
        var t = 0
        while t < n - 5 && !(even + odd).isNaN && even + odd > 0 {
            t += 2
            even = rho(t)
            odd = rho(t + 1)
            if even + odd >= 0 { rhoHat[t] = even; rhoHat[t + 1] = odd }
        }
        let maxT = t
        if even > 0 { rhoHat[maxT] = even }
        // Geyer's initial monotone sequence.
        t = 0
        while t <= maxT - 4 {
            t += 2
            if rhoHat[t] + rhoHat[t + 1] > rhoHat[t - 2] + rhoHat[t - 1] {
                rhoHat[t] = (rhoHat[t - 2] + rhoHat[t - 1]) / 2
                rhoHat[t + 1] = rhoHat[t]
            }
        }
        let total = Double(m) * nd
        var tau = -1.0
        for k in 0..<maxT { tau += 2 * rhoHat[k] }
        tau += rhoHat[maxT]
        tau = max(tau, 1 / log10(total))
        return total / tau
    }
}

/// Small dense linear algebra for the calibration code: row-major [[Double]].
enum MCMCLinearAlgebra {
    static func identity(_ d: Int, scale: Double) -> [[Double]] {
        (0..<d).map { i in (0..<d).map { $0 == i ? scale : 0 } }
    }

    /// Eigenvalues (descending) and unit eigenvectors (`vectors[k]` for value k) of a symmetric
    /// matrix by cyclic Jacobi rotations (Golub & Van Loan 2013, *Matrix Computations*, §8.5).
    static func symmetricEigen(_ a: [[Double]]) -> (values: [Double], vectors: [[Double]]) {
        let d = a.count
        var m = a
        var v = identity(d, scale: 1)
        for _ in 0..<100 {
            var off = 0.0
            for i in 0..<d { for j in 0..<d where j != i { off += m[i][j] * m[i][j] } }
            if off < 1e-22 { break }
            for p in 0..<d {
                for q in (p + 1)..<d where abs(m[p][q]) > 1e-300 {
                    let theta = (m[q][q] - m[p][p]) / (2 * m[p][q])
                    let t = (theta >= 0 ? 1 : -1) / (abs(theta) + (theta * theta + 1).squareRoot())
                    let c = 1 / (t * t + 1).squareRoot(), s = t * c
                    for k in 0..<d {
                        let mkp = m[k][p], mkq = m[k][q]
                        m[k][p] = c * mkp - s * mkq
                        m[k][q] = s * mkp + c * mkq
                    }
                    for k in 0..<d {
                        let mpk = m[p][k], mqk = m[q][k]
                        m[p][k] = c * mpk - s * mqk
                        m[q][k] = s * mpk + c * mqk
                    }
                    for k in 0..<d {
                        let vkp = v[k][p], vkq = v[k][q]
                        v[k][p] = c * vkp - s * vkq
                        v[k][q] = s * vkp + c * vkq
                    }
                }
            }
        }
        let order = (0..<d).sorted { m[$0][$0] > m[$1][$1] }
        return (order.map { m[$0][$0] }, order.map { k in (0..<d).map { v[$0][k] } })
    }
}
