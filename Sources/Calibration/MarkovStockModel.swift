import Foundation
import Model
import StockFlow

/// The exact mean and covariance of census counts when every child of the
/// fitted arm moves between levels as an independent Markov chain and entrants
/// arrive as Poisson numbers: what the multivariate-normal stock likelihood needs.
///
/// Per step (length dt years) a child in level i moves to j and is still
/// present with probability
///
/// ```
/// M_ij = P_ij · (1 − e_j),   P = exp(Q(θ)·dt),   e_j = 1 − exp(−emigrationRatePerYear·dt) (0 for an absorbing level)
/// ```
///
/// the aggregate model's cohort step (transitions, then out-migration) with
/// no multipliers. With X(t) the row vector of counts at the end of step t,
/// S0 = X(0) the initial counts (fixed) and λ the expected entrants per step
/// per level (births·dt·entry shares + in-migrants·dt·their shares, summed
/// over areas),
///
/// ```
/// mean:        μ(t) = μ(t−1)·M + λ,   μ(0) = S0
/// covariance:  Cov(X(a)ᵀ, X(b)) = diag(μ(a))·M^(b−a) − (M^a)ᵀ·diag(S0)·M^b,   a ≤ b
/// ```
///
/// The covariance sums two parts: each initial child is one multinomial trial
/// with cell probabilities e_i·M^a (giving diag(π_a)·M^(b−a) − π_aᵀπ_b per
/// child), and entrants are Poisson numbers thinned by independent moves, so
/// their occupancies are Poisson with Cov = diag(m(a))·M^(b−a) (m their mean
/// occupancy); μ = S0·M^a + m. A census between step ends is read as the
/// aggregate model reads it, (1 − w)·X(s) + w·X(s + 1), and its covariance
/// follows linearly. The agent engine draws entrants per area and step as
/// Poisson(perYear·dt) and each one's level from the shares (so per level
/// they are independent Poisson numbers), and moves each child by its own
/// random numbers: this is its exact law (Kalbfleisch & Lawless 1984,
/// "Least-squares estimation of transition probabilities from aggregate data",
/// *Can. J. Statist.* 12(3):169–182, for the moments of aggregate counts of
/// independent Markov chains).
///
/// The free parameters are yearly rates at transition entries; everything is
/// written once for any `RealScalar`, so `Dual` values of θ give the exact
/// derivatives of μ and Σ (and of the likelihood built on them) by forward-mode
/// differentiation through P = exp(Q·dt) (`TransitionConversion.perStep(rates:stepYears:)`,
/// the conversion the scenario itself uses) and the recursion.
///
/// It applies only when that law is the agent model's; `init` refuses, naming
/// every feature that breaks it (see `refusals(scenario:parameterPaths:arm:options:)`).
public struct MarkovStockModel: StockSimulator {
    /// The aggregate model with the same parameters and observations (for names, base values and checks).
    public let aggregate: AggregateStockSimulator
    public var observations: [StockObservation] { aggregate.observations }
    public var parameterNames: [String] { aggregate.parameterNames }
    public var parameterCount: Int { aggregate.parameterCount }
    public var observationCount: Int { aggregate.observationCount }
    /// No entrants and no exits: every full census has the initial total.
    public let closed: Bool
    /// Indices of the observations the likelihood uses: those after time 0, less one
    /// level per full census when `closed` (see `likelihoodObservations`).
    public let likelihoodObservations: [Int]

    let n: Int
    /// Yearly rates as the file writes them (0 where left out), [from · n + to], diagonal unused.
    let baseRates: [Double]
    let freeEntries: [(from: Int, to: Int)]
    let stepYears: Double
    /// 1 − e_j: the chance of not migrating out after a step in level j.
    let staying: [Double]
    let absorbing: [Bool]
    let entrantsPerStep: [Double]
    let initial: [Double]
    let lastStep: Int
    /// Each observation as the steps it reads: (1 − w)·X(low) + w·X(high).
    let reads: [(low: Int, high: Int, weight: Double, level: Int)]
    /// Where M^t is kept for t = 0 … lastStep (−1: not needed), and how many are kept.
    let powerSlot: [Int]
    let storedPowers: Int

    /// The features of an arm and of the aggregate settings that make the level process not
    /// an independent Markov chain per child with Poisson entrants (empty: the model applies).
    public static func refusals(scenario: Scenario, parameterPaths: [String], arm: Int = 0,
                                options: AggregateOptions = AggregateOptions()) -> [String] {
        guard scenario.arms.indices.contains(arm) else { return ["arm \(arm) does not exist"] }
        let model = scenario.arms[arm]
        let levels = model.levels.map(\.name)
        var out: [String] = []
        if options.mode != .cohort {
            out.append("aggregate mode \(options.mode.rawValue): the Markov model reproduces cohort mode (S(t) = S(t−1)·P), not the integration of dS/dt = S·Q")
        }
        if !model.practices.isEmpty {
            out.append("practices (\(model.practices.map(\.name).joined(separator: ", "))): their multipliers depend on each child's coverage and exposure")
        }
        if model.reinvestment != nil {
            out.append("reinvestment: the practice intensity depends on the run's own costs")
        }
        if model.ageing, let months = model.ageOutMonths {
            out.append("ageing out at \(months) months: leaving depends on each child's age, not on its level")
        }
        let banded = model.ageMultipliers.filter { $0.escalationMultiplier != 1 || $0.stepDownMultiplier != 1 }
        if !banded.isEmpty {
            out.append("age-band multipliers (from \(banded.map { "\($0.fromMonths) months" }.joined(separator: ", "))): moves depend on each child's age")
        }
        let durationLevels = model.levels.indices.filter { !model.durationMultipliers[$0].isEmpty }
        if !durationLevels.isEmpty {
            out.append("duration dependence in \(durationLevels.map { levels[$0] }.joined(separator: ", ")): leaving depends on time already spent in the level")
        }
        if model.transitionInput.unit != .ratesPerYear {
            out.append("the transition matrix is given as \(model.transitionInput.unit.rawValue): the Markov model differentiates P = exp(Q·dt) from yearly rates (ratesPerYear)")
        }
        if model.transitionInput.written.count != levels.count {
            out.append("the arm keeps no transition matrix as written (needed to put the free rates in place)")
        }
        let (bound, _) = scenario.bindings(parameterPaths)
        for b in bound {
            guard let t = b.targets.first(where: { $0.arm == arm }) else { continue }
            if case let .transitionEntry(i, j) = t.parameter, i != j {
                // A written diagonal fixes the row sum, so the aggregate model refuses any other value of θ.
                if model.transitionInput.written.indices.contains(i), model.transitionInput.written[i][i] != nil {
                    out.append("the row of \(levels[i]) writes its diagonal, which fixes the row's sum while \(b.path) is free: leave the diagonal out (girfec completes it)")
                }
                continue
            }
            out.append("the free parameter \(b.path) is not an off-diagonal transition rate")
        }
        return out
    }

    /// - Parameters: as `AggregateStockSimulator.init`.
    /// - Throws: `StockCalibrationError` listing every feature that prevents the Markov
    ///   model (`refusals`), or what `AggregateStockSimulator` refuses.
    public init(scenario: Scenario, parameterPaths: [String], observations: [StockObservation], arm: Int = 0,
                options: AggregateOptions = AggregateOptions()) throws(StockCalibrationError) {
        let aggregate = try AggregateStockSimulator(scenario: scenario, parameterPaths: parameterPaths, observations: observations,
                                                    arm: arm, options: options)
        let refused = Self.refusals(scenario: scenario, parameterPaths: parameterPaths, arm: arm, options: options)
        guard refused.isEmpty else {
            throw StockCalibrationError("the fitted arm '\(scenario.arms[arm].name)' is not a Markov chain on levels with Poisson entrants: "
                                        + refused.joined(separator: "; "))
        }
        let model = aggregate.baseArm
        let n = model.levels.count
        var free: [(from: Int, to: Int)] = []
        for t in aggregate.targets {
            if case let .transitionEntry(i, j) = t.parameter { free.append((i, j)) }
        }
        self.aggregate = aggregate
        self.n = n
        freeEntries = free
        var rates = [Double](repeating: 0, count: n * n)
        for i in 0..<n { for j in 0..<n where i != j { rates[i * n + j] = model.transitionInput.written[i][j] ?? 0 } }
        baseRates = rates
        stepYears = model.stepYears
        let leave = 1 - exp(-model.emigrationRatePerYear * model.stepYears)
        staying = model.levels.map { $0.absorbing ? 1 : 1 - leave }
        absorbing = model.levels.map(\.absorbing)
        var λ = [Double](repeating: 0, count: n)
        for a in model.areas.indices {
            let births = model.birthsPerYear[a] * model.stepYears, immigrants = model.immigrationPerYear[a] * model.stepYears
            for l in 0..<n {
                if births > 0 { λ[l] += births * model.entryLevelShares[l] }
                if immigrants > 0 { λ[l] += immigrants * model.immigrationLevelShares[l] }
            }
        }
        entrantsPerStep = λ
        initial = (0..<n).map { l in model.initialCounts.reduce(0.0) { $0 + Double($1[l]) } }
        let dt = model.stepYears
        let reads = observations.map { o -> (low: Int, high: Int, weight: Double, level: Int) in
            let s = o.timeYears / dt
            let nearest = Int(s.rounded())
            if abs(s - Double(nearest)) < 1e-9 {
                let step = min(max(nearest, 0), model.steps)
                return (step, step, 0, o.level)
            }
            let low = min(Int(s.rounded(.down)), model.steps - 1)
            return (low, low + 1, s - Double(low), o.level)
        }
        self.reads = reads
        lastStep = reads.map(\.high).max() ?? 0
        let steps = Set(reads.flatMap { [$0.low, $0.high] })
        var needed = steps
        for a in steps { for b in steps where b >= a { needed.insert(b - a) } }
        var slot = [Int](repeating: -1, count: lastStep + 1)
        for (k, t) in needed.sorted().enumerated() { slot[t] = k }
        powerSlot = slot
        storedPowers = needed.count
        let isClosed = λ.allSatisfy { $0 == 0 } && staying.allSatisfy { $0 == 1 }
        closed = isClosed
        // Time 0 is the initial counts: no variance, no information on θ.
        var used = reads.indices.filter { reads[$0].high > 0 }
        if isClosed {
            // A full census (every level at one time) has a fixed total: drop its last level.
            var byTime: [Double: [Int]] = [:]
            for k in used { byTime[observations[k].timeYears, default: []].append(k) }
            var dropped = Set<Int>()
            for (_, ks) in byTime where Set(ks.map { reads[$0].level }).count == n {
                dropped.insert(ks.max { reads[$0].level < reads[$1].level }!)
            }
            used = used.filter { !dropped.contains($0) }
        }
        likelihoodObservations = used
    }

    public func stocks(_ θ: [Double]) throws -> [Double] {
        try moments(θ, covariance: false).mean
    }

    /// Mean and covariance of the observed counts (all observations, in order).
    public struct Moments<T: RealScalar> {
        public var mean: [T]
        /// Row-major m×m (empty when not asked for).
        public var covariance: [T]
    }

    /// The step matrix M = P·diag(1 − e) at θ, row-major.
    func stepMatrix<T: RealScalar>(_ θ: [T]) throws(StockCalibrationError) -> [T] {
        var q = (0..<n).map { i in (0..<n).map { j in T(baseRates[i * n + j]) } }
        for (k, e) in freeEntries.enumerated() { q[e.from][e.to] = θ[k] }
        for i in 0..<n {
            var off = T(0)
            for j in 0..<n where j != i { off = off + q[i][j] }
            q[i][i] = T(0) - off
        }
        let p: [[T]]
        switch TransitionConversion.perStep(rates: q, stepYears: stepYears) {
        case .success(let m): p = m
        case .failure(let f): throw StockCalibrationError("the rates give no valid step matrix (\(f)) at \(zip(parameterNames, θ).map { "\($0) = \($1.value)" }.joined(separator: ", "))")
        }
        var m = [T](repeating: T(0), count: n * n)
        for i in 0..<n { for j in 0..<n { m[i * n + j] = staying[j] == 1 ? p[i][j] : p[i][j] * T(staying[j]) } }
        return m
    }

    /// μ(θ) and, when `covariance`, Σ(θ) at the observations; for `Dual` θ with their derivatives.
    ///
    /// - Throws: `StockCalibrationError` for a wrong count of θ, a negative or non-finite rate,
    ///   or rates whose step matrix fails the conversion.
    @_specialize(where T == Double)
    @_specialize(where T == Dual)
    public func moments<T: RealScalar>(_ θ: [T], covariance: Bool) throws(StockCalibrationError) -> Moments<T> {
        guard θ.count == parameterCount else {
            throw StockCalibrationError("expected \(parameterCount) parameter values (\(parameterNames.joined(separator: ", "))), got \(θ.count)")
        }
        for (k, v) in θ.enumerated() where !(v.value.isFinite && v.value >= 0) {
            throw StockCalibrationError("\(parameterNames[k]) = \(v.value): expected a finite rate >= 0")
        }
        for (k, e) in freeEntries.enumerated() where absorbing[e.from] && θ[k].value > 0 {
            throw StockCalibrationError("\(parameterNames[k]) = \(θ[k].value): a move out of an absorbing level must be 0")
        }
        let m = try stepMatrix(θ)
        let nn = n * n
        let zero = T(0)
        // μ(t) for t = 0 … lastStep, [t · n + l]; M^t likewise, [t · n² + i · n + j] (only with the covariance).
        var μ = [T](repeating: zero, count: (lastStep + 1) * n)
        for l in 0..<n { μ[l] = T(initial[l]) }
        let λ = entrantsPerStep.map { T($0) }
        for t in stride(from: 1, through: lastStep, by: 1) {
            for j in 0..<n {
                var s = λ[j]
                for i in 0..<n { s = s + μ[(t - 1) * n + i] * m[i * n + j] }
                μ[t * n + j] = s
            }
        }
        let mean = reads.map { r -> T in
            r.weight == 0 ? μ[r.low * n + r.level] : T(1 - r.weight) * μ[r.low * n + r.level] + T(r.weight) * μ[r.high * n + r.level]
        }
        guard covariance else { return Moments(mean: mean, covariance: []) }
        // M^t kept only where needed: at the steps read and their differences (slot[t] ≥ 0).
        var power = [T](repeating: zero, count: storedPowers * nn)
        var current = [T](repeating: zero, count: nn), next = current
        for i in 0..<n { current[i * n + i] = T(1) }
        for t in 0...lastStep {
            if t > 0 {
                for i in 0..<n {
                    for j in 0..<n {
                        var s = zero
                        for k in 0..<n where !current[i * n + k].isExactlyZero { s = s + current[i * n + k] * m[k * n + j] }
                        next[i * n + j] = s
                    }
                }
                swap(&current, &next)
            }
            let at = powerSlot[t]
            if at >= 0 { for e in 0..<nn { power[at * nn + e] = current[e] } }
        }
        let s0 = initial.map { T($0) }
        // Cov(X_j(a), X_k(b)) for a ≤ b.
        func cov(_ a: Int, _ j: Int, _ b: Int, _ k: Int) -> T {
            var c = μ[a * n + j] * power[powerSlot[b - a] * nn + j * n + k]
            for i in 0..<n where initial[i] != 0 { c = c - s0[i] * power[powerSlot[a] * nn + i * n + j] * power[powerSlot[b] * nn + i * n + k] }
            return c
        }
        func ordered(_ a: Int, _ j: Int, _ b: Int, _ k: Int) -> T { a <= b ? cov(a, j, b, k) : cov(b, k, a, j) }
        let terms = reads.map { r -> [(step: Int, weight: Double)] in
            r.weight == 0 ? [(r.low, 1)] : [(r.low, 1 - r.weight), (r.high, r.weight)]
        }
        let count = reads.count
        var Σ = [T](repeating: zero, count: count * count)
        for p in 0..<count {
            for q in p..<count {
                var c = zero
                for u in terms[p] {
                    for v in terms[q] {
                        let x = ordered(u.step, reads[p].level, v.step, reads[q].level)
                        c = c + (u.weight == 1 && v.weight == 1 ? x : T(u.weight * v.weight) * x)
                    }
                }
                Σ[p * count + q] = c
                Σ[q * count + p] = c
            }
        }
        return Moments(mean: mean, covariance: Σ)
    }

    /// The multivariate-normal log likelihood of the counts y at θ with relative extra sd c:
    ///
    /// ```
    /// y_U ~ N(μ_U(θ), Σ_UU(θ) + D),   D = diag(c²·μ_k² + 1/12),   U = likelihoodObservations
    /// log L = −½ (y − μ)ᵀ V⁻¹ (y − μ) − ½ log det V − (|U|/2) log 2π,   V = L·Lᵀ (Cholesky)
    /// ```
    ///
    /// 1/12 is the variance of rounding a count to a whole number (Sheppard's correction), so V
    /// stays positive definite where Σ is singular (a level no child can reach).
    ///
    /// The Cholesky factor is taken on the values; for `Dual` inputs the derivatives come from
    /// those of μ and V (both carried as `T`) by
    /// ∂ℓ = αᵀ∂μ + ½ Σ_ab (α_a α_b − (V⁻¹)_ab) ∂V_ab, α = V⁻¹(y − μ)
    /// (Magnus & Neudecker 2019, *Matrix Differential Calculus*, 3rd ed., ch. 9), so no
    /// dual-number Cholesky is needed.
    ///
    /// - Throws: `StockCalibrationError` where the model fails or V is not positive definite.
    @_specialize(where T == Double)
    @_specialize(where T == Dual)
    public func logLikelihood<T: RealScalar>(observed y: [Double], θ: [T], relativeSD c: T) throws(StockCalibrationError) -> T {
        guard y.count == observationCount else {
            throw StockCalibrationError("\(y.count) observed counts for \(observationCount) observations")
        }
        let all = try moments(θ, covariance: true)
        let u = likelihoodObservations
        let d = u.count
        guard d > 0 else { return T(0) }
        let full = observationCount
        // V (lower triangle, row by row) and μ as T, so their derivatives come along.
        var vT: [T] = []
        vT.reserveCapacity(d * (d + 1) / 2)
        let c2 = c * c, rounding = T(1.0 / 12)
        for (a, ka) in u.enumerated() {
            for kb in u[0..<a] { vT.append(all.covariance[ka * full + kb]) }
            vT.append(all.covariance[ka * full + ka] + c2 * all.mean[ka] * all.mean[ka] + rounding)
        }
        let μT = u.map { all.mean[$0] }
        // Cholesky V = L·Lᵀ on the values.
        var l = [Double](repeating: 0, count: d * d)
        for a in 0..<d { for b in 0...a { l[a * d + b] = vT[a * (a + 1) / 2 + b].value } }
        var logDet = 0.0
        for j in 0..<d {
            var s = l[j * d + j]
            for k in 0..<j { s -= l[j * d + k] * l[j * d + k] }
            guard s > 0, s.isFinite else {
                throw StockCalibrationError("the covariance of the counts is not positive definite at \(zip(parameterNames, θ).map { "\($0) = \($1.value)" }.joined(separator: ", "))")
            }
            let root = s.squareRoot()
            l[j * d + j] = root
            logDet += Foundation.log(root)
            for i in (j + 1)..<max(d, j + 1) {
                var t = l[i * d + j]
                for k in 0..<j { t -= l[i * d + k] * l[j * d + k] }
                l[i * d + j] = t / root
            }
        }
        // z = L⁻¹ r, α = V⁻¹ r = L⁻ᵀ z.
        var z = u.indices.map { y[u[$0]] - μT[$0].value }
        var quadratic = 0.0
        for i in 0..<d {
            var t = z[i]
            for k in 0..<i { t -= l[i * d + k] * z[k] }
            z[i] = t / l[i * d + i]
            quadratic += z[i] * z[i]
        }
        let value = -0.5 * quadratic - logDet - 0.5 * Double(d) * Foundation.log(2 * Double.pi)
        guard T.self != Double.self else { return T(value) }
        var α = z
        for i in stride(from: d - 1, through: 0, by: -1) {
            var t = α[i]
            for k in (i + 1)..<max(d, i + 1) { t -= l[k * d + i] * α[k] }
            α[i] = t / l[i * d + i]
        }
        // V⁻¹ = L⁻ᵀ L⁻¹ from the inverse of L.
        var li = [Double](repeating: 0, count: d * d)
        for j in 0..<d {
            li[j * d + j] = 1 / l[j * d + j]
            for i in (j + 1)..<max(d, j + 1) {
                var t = 0.0
                for k in j..<i { t -= l[i * d + k] * li[k * d + j] }
                li[i * d + j] = t / l[i * d + i]
            }
        }
        // ∂ℓ = αᵀ∂μ + ½ Σ_ab (α_a α_b − (V⁻¹)_ab) ∂V_ab (Magnus & Neudecker 2019, ch. 9), V symmetric.
        var weights = α
        var terms = μT
        weights.reserveCapacity(d + vT.count)
        terms.reserveCapacity(d + vT.count)
        for a in 0..<d {
            for b in 0...a {
                var inverse = 0.0
                for k in a..<d { inverse += li[k * d + a] * li[k * d + b] }
                let w = α[a] * α[b] - inverse
                weights.append(a == b ? 0.5 * w : w)
            }
        }
        terms += vT
        return T.chain(value: value, weights: weights, terms: terms)
    }
}

/// The stock simulator and likelihood a stock calibration should use for a scenario.
public enum StockModels {
    /// `MarkovStockModel` with `StockLikelihood.markovStandard` when the fitted arm is a Markov
    /// chain on levels with Poisson entrants; otherwise `AggregateStockSimulator` with
    /// `StockLikelihood.standard` (independent negative binomials), the reasons in `note`.
    ///
    /// - Throws: `StockCalibrationError` for what `AggregateStockSimulator` refuses (an unknown
    ///   path, an observation outside the horizon, …).
    public static func make(scenario: Scenario, parameterPaths: [String], observations: [StockObservation], arm: Int = 0,
                            options: AggregateOptions = AggregateOptions()) throws(StockCalibrationError)
        -> (simulator: any StockSimulator, likelihood: StockLikelihood, note: String) {
        let aggregate = try AggregateStockSimulator(scenario: scenario, parameterPaths: parameterPaths, observations: observations,
                                                    arm: arm, options: options)
        let refused = MarkovStockModel.refusals(scenario: scenario, parameterPaths: parameterPaths, arm: arm, options: options)
        if refused.isEmpty {
            let markov = try MarkovStockModel(scenario: scenario, parameterPaths: parameterPaths, observations: observations,
                                              arm: arm, options: options)
            let likelihood = StockLikelihood.markovStandard
            var note = "stock model: Markov chain on levels (exact mean and covariance of the counts); likelihood: \(likelihood)"
            if markov.closed { note += "; closed population: the last level of each full census is left out (fixed total)" }
            return (markov, likelihood, note)
        }
        return (aggregate, .standard,
                "stock model: aggregate model with independent counts (likelihood: \(StockLikelihood.standard)), because the fitted arm is not a Markov chain on levels with Poisson entrants: \(refused.joined(separator: "; "))")
    }
}
