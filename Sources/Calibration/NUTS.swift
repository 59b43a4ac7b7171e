import Analysis
import CGSL
import Dispatch
import Foundation
import Stochastics
import Synchronization

/// Settings of a No-U-Turn sampler run (`NUTS.sample`).
public struct NUTSSettings: Sendable, Equatable {
    /// The mass matrix M of the kinetic energy ½·pᵀM⁻¹p; warm-up estimates M⁻¹ as the posterior covariance.
    ///
    /// Measured on 12-d ridges (docs/performance.md, "Calibration samplers"): dense is about ten times
    /// faster on a straight (Gaussian) ridge, but on a ridge that bends, as a stocks-only posterior does
    /// in log rates where one rate is small, one global covariance is wrong at both ends; there dense
    /// gave R̂ > 1.01 for 7 of 8 seeds and diagonal for none. Hence diagonal is the default.
    public enum Metric: String, Sendable, Equatable, CaseIterable {
        /// M⁻¹ a full covariance matrix: follows straight ridges (linearly correlated coordinates).
        case dense
        /// M⁻¹ the diagonal of the covariance: rescales coordinates only. The default.
        case diagonal
    }

    /// Independent chains, each on its own random stream (≥ 2 for R̂; 4 is the usual minimum).
    public var chains: Int
    /// Warm-up iterations per chain: step size and metric adapt during these only; none is kept.
    public var warmup: Int
    /// Draws kept per chain after warm-up.
    public var samples: Int
    /// Master seed: chain c draws from `NUTS.streamAddress(seed:chain:purpose:)`.
    public var seed: UInt64
    /// Purpose byte of the chains' stream addresses.
    public var purpose: RandomPurpose
    /// A trajectory has at most 2^maxTreeDepth leapfrog steps.
    public var maxTreeDepth: Int
    /// δ, the mean acceptance statistic the step size is tuned toward during warm-up.
    public var targetAcceptance: Double
    /// Dense or diagonal metric.
    public var metric: Metric
    /// Run the chains on several threads (results do not depend on it).
    public var parallel: Bool

    public init(chains: Int = 4, warmup: Int = 1000, samples: Int = 1000, seed: UInt64,
                purpose: RandomPurpose = .calibration, maxTreeDepth: Int = 10, targetAcceptance: Double = 0.8,
                metric: Metric = .diagonal, parallel: Bool = true) {
        self.chains = chains; self.warmup = warmup; self.samples = samples; self.seed = seed
        self.purpose = purpose; self.maxTreeDepth = maxTreeDepth; self.targetAcceptance = targetAcceptance
        self.metric = metric; self.parallel = parallel
    }

    /// Every problem with these settings, one sentence each (empty when they are usable).
    public var problems: [String] {
        var out: [String] = []
        if chains < 1 { out.append("NUTS settings: chains is \(chains), expected at least 1") }
        if warmup < 0 { out.append("NUTS settings: warmup is \(warmup), expected 0 or more iterations") }
        if samples < 1 { out.append("NUTS settings: samples is \(samples), expected at least 1 draw per chain") }
        if !(1...30).contains(maxTreeDepth) {
            out.append("NUTS settings: maxTreeDepth is \(maxTreeDepth), expected 1 to 30 (Stan's default is 10)")
        }
        if !(targetAcceptance > 0 && targetAcceptance < 1) {
            out.append("NUTS settings: targetAcceptance is \(targetAcceptance), expected a number strictly between 0 and 1 (usually 0.8 to 0.99)")
        }
        return out
    }
}

/// The No-U-Turn sampler (NUTS), multinomial variant, with Stan's warm-up.
///
/// Hamiltonian Monte Carlo on H(q, p) = −log π(q) + ½·pᵀM⁻¹p: each transition
/// draws p ~ N(0, M), then doubles a leapfrog trajectory
///
/// ```
/// p ← p + ε/2·∇log π(q);   q ← q + ε·M⁻¹p;   p ← p + ε/2·∇log π(q)
/// ```
///
/// forward or backward in time at random until the generalised no-U-turn
/// criterion fails, p♯₋·ρ ≤ 0 or p♯₊·ρ ≤ 0 with p♯ = M⁻¹p at the ends and
/// ρ the sum of the momenta (checked for every subtree and across merged
/// subtrees), or the tree reaches 2^maxTreeDepth steps. The next state is
/// drawn from the trajectory with weights exp(−H): progressively, a new
/// subtree's point replaces the old with probability min(1, w_new/w_old)
/// (biased, at the top) or w_final/w_subtree (uniform, inside a subtree).
/// A step whose energy error H − H₀ exceeds 1000 ends the trajectory and is a
/// divergence. The acceptance statistic is the mean of min(1, exp(H₀ − H))
/// over the trajectory's points.
///
/// Warm-up (Stan's defaults): the step size follows dual averaging toward
/// the target acceptance δ,
///
/// ```
/// s̄ₜ = (1 − 1/(t+t₀))·s̄ₜ₋₁ + (δ − αₜ)/(t+t₀);   log εₜ = μ − √t/γ·s̄ₜ
/// log ε̄ₜ = t^(−κ)·log εₜ + (1 − t^(−κ))·log ε̄ₜ₋₁,  μ = log(10·ε₀), γ = 0.05, t₀ = 10, κ = 0.75
/// ```
///
/// and ε̄ is used after warm-up. The metric M⁻¹ is the covariance of the
/// draws in windows: a fast window of 75 iterations (step size only), slow
/// windows of 25, 50, 100, … (the last stretched to the terminal window),
/// and a terminal fast window of 50; for a short warm-up (< 150) the three
/// are 15 %, 75 % and 10 % of it, and below 20 iterations only the step size
/// adapts. Each window's estimate Σ̂ of n draws is regularised toward the
/// identity, (n/(n+5))·Σ̂ + 10⁻³·(5/(n+5))·I; after each window the step
/// size is re-initialised (doubled or halved until one leapfrog step's
/// acceptance crosses 0.8) and dual averaging restarts.
///
/// Each chain draws from its own addressed Philox stream through GSL
/// (`gsl_ran_gaussian`, `gsl_rng_uniform`), so a run is reproducible from its
/// seed and does not depend on threads.
///
/// References: Hoffman & Gelman (2014), "The No-U-Turn sampler", *JMLR*
/// 15:1593–1623 (dual averaging, Algorithm 5/6); Betancourt (2017), "A
/// conceptual introduction to Hamiltonian Monte Carlo", arXiv:1701.02434
/// (multinomial sampling, generalised criterion, divergences); Betancourt
/// (2016), "Diagnosing suboptimal cotangent disintegrations in Hamiltonian
/// Monte Carlo", arXiv:1604.00695 (E-BFMI); Stan Reference Manual,
/// "MCMC sampling" (windowed adaptation, regularisation).
public enum NUTS {
    /// Stream of chain `chain`: replication = chain, index = FNV-1a of "calibration.nuts",
    /// so NUTS never shares numbers with `AdaptiveMetropolis` or other uses.
    public static func streamAddress(seed: UInt64, chain: Int, purpose: RandomPurpose = .calibration) -> StreamAddress {
        StreamAddress(seed: seed, replication: UInt32(chain), purpose: purpose,
                      index: AdaptiveMetropolis.streamIndex("calibration.nuts"))
    }

    /// Run `settings.chains` chains from the given starts.
    ///
    /// - Parameters:
    ///   - density: log π and its gradient; called from several threads at once when `settings.parallel`.
    ///   - starts: one start per chain, each of `density.dimension` coordinates with a finite log density and gradient.
    /// - Returns: one `MarkovChain` per chain: `acceptanceRate` is the mean acceptance statistic
    ///   after warm-up and `proposalCovariance` the adapted inverse metric M⁻¹.
    /// - Complexity: about chains × (warmup + samples) × 2^depth gradient evaluations, depth ≤ maxTreeDepth.
    /// - Throws: `StockCalibrationError` listing every problem with the settings and starts.
    ///   - progress: called after every iteration of any chain with (iterations done, chains × (warm-up + samples)), from any thread.
    public static func sample(_ density: any DifferentiableLogDensity, starts: [[Double]],
                              settings: NUTSSettings,
                              progress: (@Sendable (Int, Int) -> Void)? = nil) throws(StockCalibrationError) -> [MarkovChain] {
        try check(density, starts: starts, settings: settings)
        let run = NUTSRun(density: density, starts: starts, settings: settings)
        run.sample(progress: progress)
        return run.chains
    }

    /// Every problem with the settings and starts, as one error (see `sample`).
    static func check(_ density: any DifferentiableLogDensity, starts: [[Double]], settings: NUTSSettings) throws(StockCalibrationError) {
        var problems = settings.problems
        let d = density.dimension
        if d < 1 { problems.append("the log density has dimension \(d), expected at least 1") }
        if starts.count != settings.chains {
            problems.append("expected one start per chain (\(settings.chains) chains), got \(starts.count) starts")
        }
        for (c, s) in starts.enumerated() {
            guard s.count == d else {
                problems.append("start of chain \(c + 1) has \(s.count) coordinates, expected \(d)")
                continue
            }
            guard s.allSatisfy(\.isFinite) else {
                problems.append("start of chain \(c + 1) is \(s), expected finite coordinates")
                continue
            }
            let (value, gradient) = density.logDensityAndGradient(s)
            if !value.isFinite {
                problems.append("chain \(c + 1) starts at \(s), where the log density is \(value), expected a finite value (a start inside the support)")
            } else if gradient.count != d || !gradient.allSatisfy(\.isFinite) {
                problems.append("chain \(c + 1) starts at \(s), where the gradient is \(gradient), expected \(d) finite numbers")
            }
        }
        guard problems.isEmpty else { throw StockCalibrationError(problems.joined(separator: "\n")) }
    }

    /// Stan's windows of warm-up: (initial fast, first slow, terminal fast) lengths for `warmup` iterations;
    /// nil below 20 iterations (the step size adapts, the metric stays the identity).
    static func windows(warmup: Int) -> (initial: Int, slow: Int, terminal: Int)? {
        guard warmup >= 20 else { return nil }
        if 75 + 25 + 50 > warmup {
            let initial = Int(0.15 * Double(warmup)), terminal = Int(0.1 * Double(warmup))
            return (initial, warmup - initial - terminal, terminal)
        }
        return (75, 25, 50)
    }

    /// The warm-up iterations (0-based) at whose end the metric is re-estimated from the slow
    /// window just finished: windows double in length, and one that would leave less than twice
    /// its own length before the terminal window is stretched to reach it.
    /// 1000 iterations: 99, 149, 249, 449, 949 (windows of 25, 50, 100, 200, 500).
    public static func metricUpdates(warmup: Int) -> [Int] {
        guard let w = windows(warmup: warmup) else { return [] }
        let lastSlow = warmup - w.terminal - 1
        var size = w.slow, end = w.initial + w.slow - 1
        var ends: [Int] = []
        while end <= lastSlow {
            ends.append(end)
            if end == lastSlow { break }
            size *= 2
            let next = end + size
            end = next + 2 * size > lastSlow ? lastSlow : next
        }
        return ends
    }

    /// E-BFMI = Σₙ(Eₙ − Eₙ₋₁)² / Σₙ(Eₙ − Ē)² of the energies of successive draws (Betancourt 2016);
    /// below 0.3 the momentum resampling explores the energy distribution poorly.
    static func energyBFMI(_ energy: [Double]) -> Double {
        guard energy.count >= 2 else { return .nan }
        let mean = energy.reduce(0, +) / Double(energy.count)
        var numerator = 0.0, denominator = 0.0
        for i in energy.indices {
            denominator += (energy[i] - mean) * (energy[i] - mean)
            if i > 0 { numerator += (energy[i] - energy[i - 1]) * (energy[i] - energy[i - 1]) }
        }
        return numerator / denominator
    }
}

/// A NUTS run that can be extended: `sample` warms up every chain and keeps `settings.samples`
/// draws each; `extend(by:)` keeps more draws per chain with the step size and metric adapted in
/// warm-up (no new warm-up), continuing each chain's own stream, so sampling n draws and then
/// extending by m gives exactly the draws of one run of n + m (what Stan users do by running longer).
public final class NUTSRun: @unchecked Sendable {
    // @unchecked: each chain's slot is touched by one worker at a time (`forEachChain`), and the
    // run's methods are called one after another by its owner.
    public let settings: NUTSSettings
    let density: any DifferentiableLogDensity
    let starts: [[Double]]
    final class Slot {
        let stream: RandomStream
        var runner: NUTSChainRunner? = nil
        init(_ address: StreamAddress) { stream = RandomStream(address) }
    }
    let slots: [Slot]

    /// A run of `settings.chains` chains from `starts`; nothing is drawn yet. Check the settings and
    /// starts first (`NUTS.sample` does).
    init(density: any DifferentiableLogDensity, starts: [[Double]], settings: NUTSSettings) {
        self.density = density; self.starts = starts; self.settings = settings
        slots = (0..<settings.chains).map { Slot(NUTS.streamAddress(seed: settings.seed, chain: $0, purpose: settings.purpose)) }
    }

    /// A checked run (the checks of `NUTS.sample`).
    public static func make(_ density: any DifferentiableLogDensity, starts: [[Double]],
                            settings: NUTSSettings) throws(StockCalibrationError) -> NUTSRun {
        try NUTS.check(density, starts: starts, settings: settings)
        return NUTSRun(density: density, starts: starts, settings: settings)
    }

    /// Draws kept per chain so far.
    public var drawsPerChain: Int { slots[0].runner?.kept.draws.count ?? 0 }

    /// `work` on every chain's runner with its generator lent, on several threads when `settings.parallel`;
    /// `progress` after every iteration as (iterations done, `total`).
    func forEachChain(total: Int, progress: (@Sendable (Int, Int) -> Void)?, _ work: @escaping @Sendable (Int, inout NUTSChainRunner) -> Void) {
        let done = Atomic<Int>(0)
        let iterated: (@Sendable () -> Void)?
        if let progress {
            iterated = { progress(done.add(1, ordering: .relaxed).newValue, total) }
        } else {
            iterated = nil
        }
        let one: @Sendable (Int) -> Void = { [self] c in
            let slot = slots[c]
            slot.stream.withGenerator { rng in
                var runner = slot.runner ?? NUTSChainRunner(density: density, settings: settings, rng: rng)
                runner.rng = rng
                runner.iterated = iterated
                work(c, &runner)
                runner.iterated = nil
                slot.runner = runner
            }
        }
        if settings.parallel {
            DispatchQueue.concurrentPerform(iterations: settings.chains, execute: one)
        } else {
            for c in 0..<settings.chains { one(c) }
        }
    }

    /// Warm-up and the first `settings.samples` draws of every chain.
    /// - Parameter progress: after every iteration of any chain, (done, chains × (warm-up + samples)), from any thread.
    public func sample(progress: (@Sendable (Int, Int) -> Void)? = nil) {
        precondition(drawsPerChain == 0, "NUTSRun.sample runs once; extend(by:) adds draws")
        let starts = starts, samples = settings.samples
        forEachChain(total: settings.chains * (settings.warmup + samples), progress: progress) { c, runner in
            runner.warmUp(from: starts[c])
            runner.draw(samples)
        }
    }

    /// `count` more draws per chain, after those kept so far.
    /// - Parameter progress: after every iteration of any chain, (done, chains × count).
    public func extend(by count: Int, progress: (@Sendable (Int, Int) -> Void)? = nil) {
        precondition(drawsPerChain > 0 && count >= 1, "NUTSRun.extend(by:) needs a sampled run and count >= 1")
        forEachChain(total: settings.chains * count, progress: progress) { _, runner in runner.draw(count) }
    }

    /// Every chain's kept draws so far.
    public var chains: [MarkovChain] { slots.map { $0.runner!.chain } }
}

/// A point of phase space with the log density and gradient at q and the velocity p♯ = M⁻¹p.
struct PhasePoint {
    var q: [Double]
    var p: [Double]
    var logDensity: Double
    var gradient: [Double]
    var sharp: [Double]
}

/// The Euclidean metric: M⁻¹ (dense d×d row-major, or its diagonal) and the lower Cholesky factor L of M⁻¹ = LLᵀ.
struct EuclideanMetric {
    let dimension: Int
    let dense: Bool
    /// Dense: d·d entries of M⁻¹; diagonal: d entries.
    let inverse: [Double]
    /// Dense: L row-major; diagonal: √ of the entries.
    let factor: [Double]

    static func unit(_ d: Int, dense: Bool) -> EuclideanMetric {
        let inverse = dense ? (0..<(d * d)).map { $0 % (d + 1) == 0 ? 1.0 : 0 } : [Double](repeating: 1, count: d)
        return EuclideanMetric(dimension: d, dense: dense, inverse: inverse, factor: inverse)
    }

    /// A metric from a covariance estimate; nil when it is not positive definite.
    static func from(covariance c: [[Double]], dense: Bool) -> EuclideanMetric? {
        let d = c.count
        if dense {
            guard let l = Statistics.cholesky(c) else { return nil }
            return EuclideanMetric(dimension: d, dense: true, inverse: c.flatMap { $0 }, factor: l.flatMap { $0 })
        }
        let diagonal = (0..<d).map { c[$0][$0] }
        guard diagonal.allSatisfy({ $0 > 0 && $0.isFinite }) else { return nil }
        return EuclideanMetric(dimension: d, dense: false, inverse: diagonal, factor: diagonal.map { $0.squareRoot() })
    }

    /// p♯ = M⁻¹p, the velocity dq/dt.
    func velocity(_ p: [Double]) -> [Double] {
        let d = dimension
        return [Double](unsafeUninitializedCapacity: d) { v, count in
            inverse.withUnsafeBufferPointer { m in
                p.withUnsafeBufferPointer { p in
                    if dense {
                        for i in 0..<d {
                            var s = 0.0
                            for j in 0..<d { s += m[i * d + j] * p[j] }
                            v[i] = s
                        }
                    } else {
                        for i in 0..<d { v[i] = m[i] * p[i] }
                    }
                }
            }
            count = d
        }
    }

    /// p ~ N(0, M): p = L⁻ᵀz with z standard normal (Lᵀp = z by back substitution).
    func momentum(_ rng: UnsafeMutablePointer<gsl_rng>) -> [Double] {
        let d = dimension
        let z = (0..<d).map { _ in gsl_ran_gaussian(rng, 1) }
        guard dense else { return (0..<d).map { z[$0] / factor[$0] } }
        var p = [Double](repeating: 0, count: d)
        for i in stride(from: d - 1, through: 0, by: -1) {
            var s = z[i]
            for k in (i + 1)..<d { s -= factor[k * d + i] * p[k] }
            p[i] = s / factor[i * d + i]
        }
        return p
    }

    /// M⁻¹ as a d×d matrix.
    var inverseMatrix: [[Double]] {
        (0..<dimension).map { i in (0..<dimension).map { j in
            dense ? inverse[i * dimension + j] : (i == j ? inverse[i] : 0)
        } }
    }
}

/// Dual averaging of log ε toward an acceptance target (Hoffman & Gelman 2014, §3.2.1).
struct StepSizeAdaptation {
    var mu = log(10.0)
    let target: Double
    let gamma = 0.05, t0 = 10.0, kappa = 0.75
    var counter = 0.0, sBar = 0.0, xBar = 0.0

    init(target: Double) { self.target = target }

    mutating func restart(stepSize: Double) {
        mu = log(10 * stepSize)
        counter = 0; sBar = 0; xBar = 0
    }

    /// The next step size after a transition with acceptance statistic `accept`.
    mutating func learn(_ accept: Double) -> Double {
        counter += 1
        let eta = 1 / (counter + t0)
        sBar = (1 - eta) * sBar + eta * (target - min(1, accept))
        let x = mu - sBar * counter.squareRoot() / gamma
        let weight = pow(counter, -kappa)
        xBar = (1 - weight) * xBar + weight * x
        return exp(x)
    }

    var finalStepSize: Double { exp(xBar) }
}

/// One chain: its state, metric, step size and counters; draws from `rng`.
struct NUTSChainRunner {
    let density: any DifferentiableLogDensity
    let settings: NUTSSettings
    /// The chain's generator, lent anew (`RandomStream.withGenerator`) for each stretch of work.
    var rng: UnsafeMutablePointer<gsl_rng>
    let d: Int
    var metric: EuclideanMetric
    var stepSize = 1.0
    var gradientEvaluations = 0
    var divergent = false
    /// Called after every iteration, warm-up included (progress).
    var iterated: (@Sendable () -> Void)? = nil
    /// The chain's state after warm-up and after each kept draw (nil before `warmUp`).
    var current: PhasePoint? = nil
    /// What the kept draws add up to.
    struct Kept {
        var draws: [[Double]] = [], logDensity: [Double] = [], energy: [Double] = []
        var acceptSum = 0.0, divergences = 0, saturations = 0
    }
    var kept = Kept()
    static let maximumEnergyError = 1000.0

    init(density: any DifferentiableLogDensity, settings: NUTSSettings, rng: UnsafeMutablePointer<gsl_rng>) {
        self.density = density; self.settings = settings; self.rng = rng
        d = density.dimension
        metric = .unit(d, dense: settings.metric == .dense)
    }

    /// log π(q) and its gradient (−∞ and zeros outside the support or for a malformed gradient).
    mutating func evaluate(_ q: [Double]) -> (value: Double, gradient: [Double]) {
        gradientEvaluations += 1
        let (value, gradient) = density.logDensityAndGradient(q)
        guard value.isFinite && gradient.count == d else { return (-.infinity, [Double](repeating: 0, count: d)) }
        return (value, gradient)
    }

    /// The point at q with momentum p.
    mutating func point(_ q: [Double], momentum p: [Double]) -> PhasePoint {
        let (value, gradient) = evaluate(q)
        return PhasePoint(q: q, p: p, logDensity: value, gradient: gradient, sharp: metric.velocity(p))
    }

    /// A fresh momentum p ~ N(0, M) at z.
    func resampleMomentum(_ z: inout PhasePoint) {
        z.p = metric.momentum(rng)
        z.sharp = metric.velocity(z.p)
    }

    /// H = −log π(q) + ½·p·p♯; +∞ for NaN.
    func hamiltonian(_ z: PhasePoint) -> Double {
        var kinetic = 0.0
        for i in 0..<d { kinetic += z.p[i] * z.sharp[i] }
        let h = -z.logDensity + 0.5 * kinetic
        return h.isNaN ? .infinity : h
    }

    /// One leapfrog step of size ε (negative: backward in time).
    mutating func leapfrog(_ z: inout PhasePoint, _ epsilon: Double) {
        var p = z.p, q = z.q
        let half = 0.5 * epsilon
        p.withUnsafeMutableBufferPointer { p in
            z.gradient.withUnsafeBufferPointer { g in for i in 0..<d { p[i] += half * g[i] } }
        }
        let v = metric.velocity(p)
        q.withUnsafeMutableBufferPointer { q in
            v.withUnsafeBufferPointer { v in for i in 0..<d { q[i] += epsilon * v[i] } }
        }
        let (value, gradient) = evaluate(q)
        if value.isFinite {
            gradient.withUnsafeBufferPointer { g in
                p.withUnsafeMutableBufferPointer { p in for i in 0..<d { p[i] += half * g[i] } }
            }
        }
        z = PhasePoint(q: q, p: p, logDensity: value, gradient: gradient, sharp: metric.velocity(p))
    }

    /// Stan's heuristic: double or halve ε until one leapfrog step's acceptance exp(H₀ − H) crosses 0.8.
    mutating func initialiseStepSize(at start: PhasePoint) {
        var direction = 0.0
        for _ in 0..<100 {
            var z = start
            resampleMomentum(&z)
            let h0 = hamiltonian(z)
            leapfrog(&z, stepSize)
            let deltaH = h0 - hamiltonian(z)
            if direction == 0 { direction = deltaH > log(0.8) ? 1 : -1; continue }
            if direction == 1 && !(deltaH > log(0.8)) { break }
            if direction == -1 && !(deltaH < log(0.8)) { break }
            stepSize = direction == 1 ? 2 * stepSize : 0.5 * stepSize
            if stepSize > 1e7 || stepSize < 1e-300 { break }
        }
    }

    static func logAddExp(_ a: Double, _ b: Double) -> Double {
        if a == -.infinity { return b }
        if b == -.infinity { return a }
        return max(a, b) + log1p(exp(-abs(a - b)))
    }

    /// The generalised no-U-turn criterion: both ends still move along ρ.
    func keepsGoing(_ sharpMinus: [Double], _ sharpPlus: [Double], _ rho: [Double]) -> Bool {
        var a = 0.0, b = 0.0
        for i in 0..<d { a += sharpMinus[i] * rho[i]; b += sharpPlus[i] * rho[i] }
        return a > 0 && b > 0
    }

    static func sum(_ a: [Double], _ b: [Double]) -> [Double] {
        [Double](unsafeUninitializedCapacity: a.count) { s, count in
            for i in a.indices { s[i] = a[i] + b[i] }
            count = a.count
        }
    }

    /// Build a subtree of 2^depth steps from z in direction `sign`; multinomial proposal in `propose`.
    /// `sharpBegin`/`pBegin` are at the end nearest the start, `sharpEnd`/`pEnd` at the far end.
    /// Returns false when the subtree diverged or turned back on itself.
    mutating func buildTree(depth: Int, _ z: inout PhasePoint, propose: inout PhasePoint,
                            sharpBegin: inout [Double], sharpEnd: inout [Double], rho: inout [Double],
                            pBegin: inout [Double], pEnd: inout [Double], h0: Double, sign: Double,
                            leapfrogs: inout Int, logSumWeight: inout Double, sumAccept: inout Double) -> Bool {
        if depth == 0 {
            leapfrog(&z, sign * stepSize)
            leapfrogs += 1
            let h = hamiltonian(z)
            if h - h0 > Self.maximumEnergyError { divergent = true }
            logSumWeight = Self.logAddExp(logSumWeight, h0 - h)
            sumAccept += h0 - h > 0 ? 1 : exp(h0 - h)
            propose = z
            sharpBegin = z.sharp
            sharpEnd = z.sharp
            for i in 0..<d { rho[i] += z.p[i] }
            pBegin = z.p
            pEnd = z.p
            return !divergent
        }
        let zero = [Double](repeating: 0, count: d)
        var logWeightInit = -Double.infinity
        var pInitEnd = zero, sharpInitEnd = zero, rhoInit = zero
        guard buildTree(depth: depth - 1, &z, propose: &propose, sharpBegin: &sharpBegin, sharpEnd: &sharpInitEnd,
                        rho: &rhoInit, pBegin: &pBegin, pEnd: &pInitEnd, h0: h0, sign: sign,
                        leapfrogs: &leapfrogs, logSumWeight: &logWeightInit, sumAccept: &sumAccept) else { return false }
        var proposeFinal = z
        var logWeightFinal = -Double.infinity
        var pFinalBegin = zero, sharpFinalBegin = zero, rhoFinal = zero
        guard buildTree(depth: depth - 1, &z, propose: &proposeFinal, sharpBegin: &sharpFinalBegin, sharpEnd: &sharpEnd,
                        rho: &rhoFinal, pBegin: &pFinalBegin, pEnd: &pEnd, h0: h0, sign: sign,
                        leapfrogs: &leapfrogs, logSumWeight: &logWeightFinal, sumAccept: &sumAccept) else { return false }
        let logWeightSubtree = Self.logAddExp(logWeightInit, logWeightFinal)
        logSumWeight = Self.logAddExp(logSumWeight, logWeightSubtree)
        // Uniform progressive sampling inside the subtree.
        if gsl_rng_uniform(rng) < exp(logWeightFinal - logWeightSubtree) { propose = proposeFinal }
        let rhoSubtree = Self.sum(rhoInit, rhoFinal)
        for i in 0..<d { rho[i] += rhoSubtree[i] }
        return keepsGoing(sharpBegin, sharpEnd, rhoSubtree)
            && keepsGoing(sharpBegin, sharpFinalBegin, Self.sum(rhoInit, pFinalBegin))
            && keepsGoing(sharpInitEnd, sharpEnd, Self.sum(rhoFinal, pInitEnd))
    }

    struct Transition {
        var sample: PhasePoint
        var acceptStat: Double
        var depth: Int
        var divergent: Bool
        var energy: Double
    }

    /// One NUTS transition from `current` (Betancourt 2017, Appendix A; Stan's base_nuts).
    mutating func transition(from current: PhasePoint) -> Transition {
        var z = current
        resampleMomentum(&z)
        divergent = false
        let h0 = hamiltonian(z)
        var forward = z, backward = z, chosen = z
        var pFF = z.p, pFB = z.p, pBF = z.p, pBB = z.p
        let sharp0 = z.sharp
        var sFF = sharp0, sFB = sharp0, sBF = sharp0, sBB = sharp0
        var rho = z.p
        var logSumWeight = 0.0, sumAccept = 0.0
        var depth = 0, leapfrogs = 0
        let zero = [Double](repeating: 0, count: d)
        while depth < settings.maxTreeDepth {
            var rhoF = zero, rhoB = zero
            var logWeightSubtree = -Double.infinity
            var propose = z
            let valid: Bool
            if gsl_rng_uniform(rng) > 0.5 {
                rhoB = rho; pBF = pFF; sBF = sFF
                valid = buildTree(depth: depth, &forward, propose: &propose, sharpBegin: &sFB, sharpEnd: &sFF,
                                  rho: &rhoF, pBegin: &pFB, pEnd: &pFF, h0: h0, sign: 1, leapfrogs: &leapfrogs,
                                  logSumWeight: &logWeightSubtree, sumAccept: &sumAccept)
            } else {
                rhoF = rho; pFB = pBB; sFB = sBB
                valid = buildTree(depth: depth, &backward, propose: &propose, sharpBegin: &sBF, sharpEnd: &sBB,
                                  rho: &rhoB, pBegin: &pBF, pEnd: &pBB, h0: h0, sign: -1, leapfrogs: &leapfrogs,
                                  logSumWeight: &logWeightSubtree, sumAccept: &sumAccept)
            }
            if !valid { break }
            depth += 1
            // Biased progressive sampling: favour the new subtree.
            if logWeightSubtree > logSumWeight || gsl_rng_uniform(rng) < exp(logWeightSubtree - logSumWeight) {
                chosen = propose
            }
            logSumWeight = Self.logAddExp(logSumWeight, logWeightSubtree)
            rho = Self.sum(rhoB, rhoF)
            let persist = keepsGoing(sBB, sFF, rho)
                && keepsGoing(sBB, sFB, Self.sum(rhoB, pFB))
                && keepsGoing(sBF, sFF, Self.sum(rhoF, pBF))
            if !persist { break }
        }
        return Transition(sample: chosen, acceptStat: sumAccept / Double(max(leapfrogs, 1)), depth: depth,
                          divergent: divergent, energy: hamiltonian(chosen))
    }

    /// Warm-up from `start`: adapts the step size and metric, and leaves the chain at its last
    /// warm-up state `current`, ready for `draw(_:)`.
    mutating func warmUp(from start: [Double]) {
        var z = point(start, momentum: [Double](repeating: 0, count: d))
        initialiseStepSize(at: z)
        var adaptation = StepSizeAdaptation(target: settings.targetAcceptance)
        adaptation.restart(stepSize: stepSize)
        let warmup = settings.warmup
        let updates = NUTS.metricUpdates(warmup: warmup)
        let firstSlow = NUTS.windows(warmup: warmup)?.initial ?? warmup
        var nextUpdate = 0
        var window = AdaptiveMetropolis.RunningCovariance(dimension: d)
        for t in 0..<warmup {
            let step = transition(from: z)
            z = step.sample
            iterated?()
            stepSize = adaptation.learn(step.acceptStat)
            guard nextUpdate < updates.count, t >= firstSlow else { continue }
            window.add(z.q)
            guard t == updates[nextUpdate] else { continue }
            nextUpdate += 1
            let n = Double(window.count)
            var c = window.covariance
            for i in 0..<d {
                for j in 0..<d { c[i][j] *= n / (n + 5) }
                c[i][i] += 1e-3 * 5 / (n + 5)
            }
            if let m = EuclideanMetric.from(covariance: c, dense: settings.metric == .dense) { metric = m }
            window = AdaptiveMetropolis.RunningCovariance(dimension: d)
            initialiseStepSize(at: z)
            adaptation.restart(stepSize: stepSize)
        }
        if warmup > 0 { stepSize = adaptation.finalStepSize }
        current = z
    }

    /// `count` more kept draws from `current`, with the adapted step size and metric (nothing adapts):
    /// appended to `kept`. Drawing n then m equals drawing n + m at once.
    mutating func draw(_ count: Int) {
        guard var z = current else { preconditionFailure("NUTSChainRunner.draw before warmUp") }
        kept.draws.reserveCapacity(kept.draws.count + count)
        for _ in 0..<count {
            let step = transition(from: z)
            z = step.sample
            iterated?()
            kept.draws.append(z.q); kept.logDensity.append(z.logDensity); kept.energy.append(step.energy)
            kept.acceptSum += step.acceptStat
            if step.divergent { kept.divergences += 1 }
            if step.depth >= settings.maxTreeDepth { kept.saturations += 1 }
        }
        current = z
    }

    /// The chain so far: every kept draw, with its statistics.
    var chain: MarkovChain {
        MarkovChain(draws: kept.draws, logDensity: kept.logDensity, acceptanceRate: kept.acceptSum / Double(max(kept.draws.count, 1)),
                    proposalCovariance: metric.inverseMatrix, divergences: kept.divergences,
                    treeDepthSaturations: kept.saturations, stepSize: stepSize,
                    gradientEvaluations: gradientEvaluations, energyBFMI: NUTS.energyBFMI(kept.energy))
    }
}
