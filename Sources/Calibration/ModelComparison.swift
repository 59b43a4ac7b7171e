import Foundation
import Model
import Stochastics

/// The maximum of a stock problem's log likelihood (priors ignored).
public struct StockMaximumLikelihood: Sendable {
    /// Sampling coordinates at the maximum: log free rates, then the likelihood's extra ones.
    public var coordinates: [Double]
    /// The estimated rates per year (`problem.freeNames` order).
    public var rates: [Double]
    public var logLikelihood: Double
    /// The best start's BFGS search met a stopping rule on the gradient or the value.
    public var converged: Bool
}

/// A fit that allows only some moves (adjacent levels, a list, rates fixed or tied)
/// against the same data fitted with every move between levels free, by maximum likelihood.
///
/// ```
/// LR = 2·(ℓ_full − ℓ_restricted),   p = Pr(χ²_df ≥ LR),   df = free rates of the full fit − of the restricted one
/// ```
///
/// (Wilks 1938, *Ann. Math. Statist.* 9:60–62.) The restricted rates sit on the
/// boundary of the full parameter space when they are fixed at 0, where the
/// reference law is a mixture of χ² laws with fewer degrees of freedom (Self &
/// Liang 1987, *JASA* 82:605–610): the χ²_df p-value is then larger than the exact
/// one, so a warning from it is conservative. Each extra move is also tested on its
/// own, against the full fit with only that move fixed at 0, with the boundary law
/// ½χ²₀ + ½χ²₁ (Self & Liang's case 5): p = ½·Pr(χ²₁ ≥ LR). A move with p < 0.05
/// there is one whose maximum-likelihood rate is clearly above 0.
public struct StockModelComparison: Sendable, CustomStringConvertible {
    /// One move free in the full fit and not in the restricted one.
    public struct ExtraMove: Sendable {
        public var name: String
        /// Its maximum-likelihood rate per year in the full fit.
        public var rate: Double
        /// 2·(ℓ_full − ℓ_full with this move fixed at 0).
        public var statistic: Double
        /// ½·Pr(χ²₁ ≥ statistic) (1 when the statistic is 0).
        public var pValue: Double
        public var logLikelihoodWithout: Double
        /// pValue < 0.05.
        public var clearlyAboveZero: Bool { pValue < 0.05 }
    }

    public var restricted: StockMaximumLikelihood
    public var full: StockMaximumLikelihood
    public var restrictedNames: [String]
    public var fullNames: [String]
    public var statistic: Double
    public var degreesOfFreedom: Int
    public var pValue: Double
    public var extra: [ExtraMove]

    /// The data prefer more moves than allowed: p < 0.05.
    public var prefersFull: Bool { pValue < 0.05 }

    /// The warning in words when p < 0.05, nil otherwise.
    public var warning: String? {
        guard prefersFull else { return nil }
        let clear = extra.filter(\.clearlyAboveZero).sorted { $0.pValue < $1.pValue }
        let named = clear.isEmpty
            ? "no single extra move is clearly above 0 on its own; together they are"
            : "the extra moves whose maximum-likelihood rate is clearly above 0: "
                + clear.map { "\($0.name) \(String(format: "%.3g", $0.rate)) per year (p \(Self.pText($0.pValue)))" }.joined(separator: ", ")
        return "the data prefer more moves than allowed: with every move free the log likelihood rises by "
            + String(format: "%.4g", statistic / 2) + " (2Δℓ = \(String(format: "%.4g", statistic)) on \(degreesOfFreedom) degrees of freedom, p \(Self.pText(pValue)), conservative); "
            + named + ". Allow them (allowedMoves, stocks.free) or justify leaving them out"
    }

    /// A rate per year above which a stay is shorter than a month: a restricted maximum this fast
    /// is usually a pass-through standing in for a direct move the fit does not allow.
    public static let passThroughRatePerYear = 12.0

    /// The restricted maximum's rates at or above `passThroughRatePerYear`, with their names.
    public var passThroughs: [(name: String, rate: Double)] {
        zip(restrictedNames, restricted.rates).filter { $0.1 >= Self.passThroughRatePerYear }.map { ($0.0, $0.1) }
    }

    /// The warning when the restricted maximum needs implausibly fast moves, nil otherwise.
    public var passThroughWarning: String? {
        guard !passThroughs.isEmpty else { return nil }
        return "the restricted fit's maximum needs " + passThroughs.map { "\($0.name) at \(String(format: "%.3g", $0.rate)) per year" }.joined(separator: ", ")
            + " (a stay of under a month): a fast pass-through can stand in for a direct move the fit does not allow, which stocks alone "
            + "cannot always tell apart; consider freeing the direct moves (the likelihood ratio cannot show this preference when the pass-through fits as well)"
    }

    static func pText(_ p: Double) -> String { p < 1e-4 ? "< 0.0001" : String(format: "= %.4f", p) }

    public var description: String {
        var lines = ["model comparison: restricted (\(restrictedNames.count) free rates) ℓ = \(String(format: "%.6g", restricted.logLikelihood)), "
                     + "every move free (\(fullNames.count)) ℓ = \(String(format: "%.6g", full.logLikelihood)); "
                     + "2Δℓ = \(String(format: "%.4g", statistic)) on \(degreesOfFreedom) df, p \(Self.pText(pValue))"
                     + (restricted.converged && full.converged ? "" : " (a maximum-likelihood search did NOT converge)")]
        if let warning { lines.append("WARNING: " + warning) }
        if let passThroughWarning { lines.append("WARNING: " + passThroughWarning) }
        return lines.joined(separator: "\n")
    }

    public static let csvHeader = "moves,df,restricted_log_likelihood,full_log_likelihood,lr_statistic,p_value,full_mle_per_year,clearly_above_zero"

    /// model-comparison.csv: first the joint test of every extra move, then one row per extra move.
    public var csv: String {
        func n(_ x: Double) -> String { x.isFinite ? CSV.number(x) : "" }
        var out = Self.csvHeader + "\n"
        out += [CSV.text(extra.map(\.name).joined(separator: ";")), String(degreesOfFreedom), n(restricted.logLikelihood),
                n(full.logLikelihood), n(statistic), n(pValue), "", ""].joined(separator: ",") + "\n"
        for e in extra {
            out += [CSV.text(e.name), "1", n(e.logLikelihoodWithout), n(full.logLikelihood), n(e.statistic), n(e.pValue),
                    n(e.rate), e.clearlyAboveZero ? "true" : "false"].joined(separator: ",") + "\n"
        }
        return out
    }

    /// The same problem with every move between the scenario's levels free (and the
    /// restricted problem's other free parameters): no constraints, the restricted priors
    /// where it has them and `RatePrior.weaklyInformative` at the scenario's value elsewhere
    /// (priors do not enter a maximum-likelihood fit). The simulator is of the same kind: a
    /// `MarkovStockModel` for one (its likelihood needs it), else an `AggregateStockSimulator`.
    /// Nil when the problem's simulator is neither or the full fit frees nothing more.
    public static func fullProblem(of problem: StockCalibrationProblem) throws(StockCalibrationError) -> StockCalibrationProblem? {
        let markov = problem.simulator as? MarkovStockModel
        guard let simulator = markov?.aggregate ?? problem.simulator as? AggregateStockSimulator else { return nil }
        let levels = simulator.scenario.arms[simulator.arm].levels.map(\.name)
        var paths = simulator.parameterPaths
        for from in levels {
            for to in levels where to != from {
                let p = "transitions.matrix.\(from).\(to)"
                if !paths.contains(p) { paths.append(p) }
            }
        }
        let aggregate = try AggregateStockSimulator(scenario: simulator.scenario, parameterPaths: paths, observations: simulator.observations,
                                                    arm: simulator.arm, options: simulator.options)
        guard aggregate.parameterCount > problem.freeIndices.count else { return nil }
        let full: any StockSimulator = markov == nil ? aggregate
            : try MarkovStockModel(scenario: simulator.scenario, parameterPaths: paths, observations: simulator.observations,
                                   arm: simulator.arm, options: simulator.options)
        let base = aggregate.baseValues ?? []
        let priors: [RatePrior] = aggregate.parameterNames.enumerated().map { k, name in
            if let i = simulator.parameterNames.firstIndex(of: name) { return problem.priors[i] }
            return .weaklyInformative(scenarioValue: base.indices.contains(k) ? base[k] : nil)
        }
        return try StockCalibrationProblem(simulator: full, observed: problem.observed, priors: priors, likelihood: problem.likelihood,
                                           audits: problem.audits, bounds: problem.bounds)
    }

    /// The maximum of `problem.logLikelihood` over the sampling coordinates, by BFGS
    /// (`Optimizer.minimize`) from each start and once more from the best, rates kept
    /// below the problem's upper bound (towards 0 they may go as low as the search takes them).
    /// - Parameter starts: points in sampling coordinates; the prior medians are always tried too.
    public static func maximumLikelihood(_ problem: StockCalibrationProblem, starts: [[Double]] = []) -> StockMaximumLikelihood {
        let d = problem.freeIndices.count
        let dimension = problem.dimension
        let upper = log(problem.bounds.upperBound)
        let f: ([Double]) -> Double = { φ in
            for k in 0..<d where φ[k] > upper { return .infinity }
            if dimension > d && abs(φ[d]) > 30 { return .infinity }
            let ℓ = problem.logLikelihood(φ)
            return ℓ.isFinite ? -ℓ : .infinity
        }
        var medians = problem.freePriors.map { log($0.median) }
        if let prior = problem.likelihood.extraPrior { medians.append(log(prior.median)) }
        var best: Optimizer.Result?
        for start in [medians] + starts where start.count == dimension && f(start).isFinite {
            let r = Optimizer.minimize(f, from: start)
            if best == nil || r.value < best!.value { best = r }
        }
        guard var result = best else {
            return StockMaximumLikelihood(coordinates: medians, rates: medians.prefix(d).map { exp($0) }, logLikelihood: -.infinity, converged: false)
        }
        let again = Optimizer.minimize(f, from: result.x)
        if again.value <= result.value { result = again }
        return StockMaximumLikelihood(coordinates: result.x, rates: result.x.prefix(d).map { exp($0) }, logLikelihood: -result.value,
                                      converged: result.converged && again.converged)
    }

    /// Fits both by maximum likelihood and compares them (see the type).
    ///
    /// - Parameters:
    ///   - restricted: the fit as the analyst declared it.
    ///   - full: `fullProblem(of: restricted)`.
    ///   - start: a good point of the restricted problem in sampling coordinates (e.g. the
    ///     posterior mean of the log-rates), tried besides the prior medians.
    /// - Complexity: 2 + (extra moves) maximum-likelihood searches.
    public static func compare(restricted: StockCalibrationProblem, full: StockCalibrationProblem,
                               start: [Double]? = nil) -> StockModelComparison {
        let r = maximumLikelihood(restricted, starts: start.map { [$0] } ?? [])
        // Full starts: the restricted maximum with the extra moves at 10⁻⁸ (ℓ as the restricted one)
        // and at 0.01 per year (away from the flat region near 0, where the gradient vanishes).
        let dr = restricted.freeIndices.count, df = full.freeIndices.count
        let restrictedAll = restricted.rates(free: r.rates)
        func embed(_ extra: Double) -> [Double] {
            var φ = full.freeNames.map { name -> Double in
                if let k = restricted.freeNames.firstIndex(of: name) { return r.coordinates[k] }
                if let i = restricted.simulator.parameterNames.firstIndex(of: name), restrictedAll[i] > 0 { return log(restrictedAll[i]) }
                return log(extra)
            }
            if full.dimension > df { φ.append(r.coordinates.count > dr ? r.coordinates[dr] : log(full.likelihood.extraPrior?.median ?? 1)) }
            return φ
        }
        var fullFit = maximumLikelihood(full, starts: [embed(1e-8), embed(0.01)])
        if fullFit.logLikelihood < r.logLikelihood {
            // The full model contains the restricted one: never report less than its maximum.
            let floor = embed(1e-12)
            let ℓ = full.logLikelihood(floor)
            if ℓ > fullFit.logLikelihood {
                fullFit = StockMaximumLikelihood(coordinates: floor, rates: floor.prefix(df).map { exp($0) }, logLikelihood: ℓ, converged: fullFit.converged)
            }
        }
        let statistic = max(0, 2 * (fullFit.logLikelihood - r.logLikelihood))
        let dof = df - dr
        let p = dof > 0 ? Quantiles.chiSquareUpperTail(statistic, degreesOfFreedom: Double(dof)) : .nan
        var extra: [ExtraMove] = []
        for (k, name) in full.freeNames.enumerated() where !restricted.freeNames.contains(name) {
            var ℓWithout = -Double.infinity
            if let without = try? StockCalibrationProblem(simulator: full.simulator, observed: full.observed, priors: full.priors,
                                                          likelihood: full.likelihood, constraints: full.constraints + [.fixed(name, value: 0)],
                                                          audits: full.audits, bounds: full.bounds) {
                var start = fullFit.coordinates
                start.remove(at: k)
                ℓWithout = maximumLikelihood(without, starts: [start]).logLikelihood
            }
            let lr = max(0, 2 * (fullFit.logLikelihood - ℓWithout))
            let pm = lr > 0 ? 0.5 * Quantiles.chiSquareUpperTail(lr, degreesOfFreedom: 1) : 1
            extra.append(ExtraMove(name: name, rate: fullFit.rates[k], statistic: lr, pValue: pm, logLikelihoodWithout: ℓWithout))
        }
        return StockModelComparison(restricted: r, full: fullFit, restrictedNames: restricted.freeNames, fullNames: full.freeNames,
                                    statistic: statistic, degreesOfFreedom: dof, pValue: p, extra: extra)
    }
}
