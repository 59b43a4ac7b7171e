import Analysis
import Foundation

/// What the data say about one parameter, by how much they narrow its prior.
public enum IdentificationVerdict: String, Sendable, CaseIterable {
    /// The posterior is less than half as wide as the prior.
    case identified
    /// The posterior is narrower than the prior, but not by half.
    case weaklyIdentified = "weakly identified"
    /// The posterior is about as wide as the prior, or the parameter is only
    /// pinned in combination with another it cannot be told apart from.
    case notIdentified = "not identified"
}

/// Where the verdicts change.
///
/// With r = (posterior sd)/(prior sd) of log θ:
/// r < `identified` → identified; r ≥ `notIdentified` → not identified;
/// between → weakly identified. A pair with |posterior correlation of the
/// log-rates| ≥ `correlation` in which neither is identified on its own is
/// "not separated". The defaults (0.5, 0.85, 0.9) are conventions, not
/// theorems: r = 0.5 means the data carry three times the prior's precision
/// (posterior precision = 4 × prior), r = 0.85 about 0.4 times.
public struct IdentifiabilityThresholds: Sendable, Equatable {
    public var identified: Double
    public var notIdentified: Double
    public var correlation: Double
    public init(identified: Double = 0.5, notIdentified: Double = 0.85, correlation: Double = 0.9) {
        self.identified = identified; self.notIdentified = notIdentified; self.correlation = correlation
    }
}

/// One parameter's identification.
public struct ParameterIdentifiability: Sendable {
    public var name: String
    /// Standard deviations of log θ.
    public var priorSD: Double
    public var posteriorSD: Double
    /// posteriorSD / priorSD: 1 is "the data say nothing", 0 is "the data say everything".
    public var widthRatio: Double
    /// The same ratio for 95 % central intervals of log θ.
    public var intervalRatio: Double
    public var verdict: IdentificationVerdict
    /// Parameters it cannot be told apart from (strongly correlated, neither identified).
    public var notSeparatedFrom: [String]
}

/// A combination of parameters and how much the data narrow it.
public struct PosteriorDirection: Sendable {
    /// Unit vector over the parameters in prior-standardised log units.
    public var loadings: [Double]
    /// Posterior sd / prior sd along this combination.
    public var widthRatio: Double
}

/// Which transition rates the data pin down and which they do not, from prior
/// and posterior draws.
///
/// Per parameter, on the log scale:
///
/// ```
/// r_i = sd_post(log θ_i) / sd_prior(log θ_i)
/// ρ_ij = corr_post(log θ_i, log θ_j)
/// W = D⁻¹ Σ_post D⁻¹,  D = diag(sd_prior):  W_ij = ρ_ij·r_i·r_j
/// ```
///
/// The eigenvectors of W are combinations of log-rates; √(eigenvalue) is the
/// posterior-to-prior width along each. A combination with width ratio near 1
/// is one the data leave at its prior — for two rates with a posterior
/// correlation near +1, their product (both up or both down together), while
/// the ratio is pinned. Comparing widths assumes independent priors (as
/// `StockCalibrationProblem` has).
///
/// References: the width ratio is one minus Schmidt's "posterior contraction"
/// in sd units (Betancourt 2018, "Calibrating model-based inferences and
/// decisions", arXiv:1803.08393); weak identification seen through prior and
/// posterior overlap: Garrett & Zeger (2000), *Biometrics* 56(4):1055–1061.
public struct IdentifiabilityReport: Sendable, CustomStringConvertible {
    public var parameters: [ParameterIdentifiability]
    /// Posterior correlations of the log-rates.
    public var correlations: [[Double]]
    /// Combinations, from the least to the most informed (widest ratio first).
    public var directions: [PosteriorDirection]
    /// Plain-language warnings, one per problem; empty when every rate is identified.
    public var warnings: [String]
    public var thresholds: IdentifiabilityThresholds

    /// Combinations the data narrow to under `thresholds.identified` of the prior width.
    public var informedDirections: Int { directions.filter { $0.widthRatio < thresholds.identified }.count }

    public func parameter(_ name: String) -> ParameterIdentifiability? { parameters.first { $0.name == name } }

    public var description: String {
        var lines = ["identifiability (posterior/prior width of log-rate; \(informedDirections) of \(parameters.count) combinations pinned by the data):"]
        for p in parameters {
            lines.append(String(format: "  %@: %.2f (95%% interval %.2f) — %@", p.name, p.widthRatio, p.intervalRatio, p.verdict.rawValue)
                + (p.notSeparatedFrom.isEmpty ? "" : ", not separated from \(p.notSeparatedFrom.joined(separator: ", "))"))
        }
        lines += warnings.map { "  WARNING: \($0)" }
        return lines.joined(separator: "\n")
    }

    /// How a declared constraint changed identification: this report (with the
    /// constraint) against `baseline` (without it), parameter by parameter.
    public func effect(of constraint: String, comparedWith baseline: IdentifiabilityReport) -> ConstraintEffect {
        let rows = baseline.parameters.map { b -> ConstraintEffect.Row in
            let a = parameter(b.name)
            return .init(name: b.name, widthRatioBefore: b.widthRatio, widthRatioAfter: a?.widthRatio,
                         verdictBefore: b.verdict, verdictAfter: a?.verdict)
        }
        return ConstraintEffect(constraint: constraint, rows: rows, warningsBefore: baseline.warnings.count,
                                warningsAfter: warnings.count)
    }
}

/// The change a declared constraint makes: width ratios and verdicts before and after.
public struct ConstraintEffect: Sendable, CustomStringConvertible {
    public struct Row: Sendable {
        public var name: String
        public var widthRatioBefore: Double
        /// nil when the constraint fixes or ties the parameter (it is no longer estimated).
        public var widthRatioAfter: Double?
        public var verdictBefore: IdentificationVerdict
        public var verdictAfter: IdentificationVerdict?
    }
    public var constraint: String
    public var rows: [Row]
    public var warningsBefore: Int
    public var warningsAfter: Int

    public var description: String {
        var lines = ["effect of \(constraint) (posterior/prior width of log-rate): warnings \(warningsBefore) → \(warningsAfter)"]
        for r in rows {
            if let after = r.widthRatioAfter, let v = r.verdictAfter {
                lines.append(String(format: "  %@: %.2f → %.2f (%@ → %@)", r.name, r.widthRatioBefore, after, r.verdictBefore.rawValue, v.rawValue))
            } else {
                lines.append(String(format: "  %@: %.2f → set by the constraint", r.name, r.widthRatioBefore))
            }
        }
        return lines.joined(separator: "\n")
    }
}

public enum Identifiability {
    /// Compare prior and posterior draws of positive rates (`draws[i][k]`, rate k in draw i).
    ///
    /// Warnings, in the spirit of plain speech:
    /// - a pair not separated: "stocks alone do not separate A→B from B→A: …;
    ///   the posterior for both is the prior" (or "close to the prior");
    /// - a single rate at its prior: "the posterior for A→B is its prior: the data say nothing about it";
    /// - combinations of three or more rates left at the prior (eigenvectors of
    ///   W with width ratio ≥ `notIdentified`), when the first two kinds do not
    ///   already name every rate involved.
    ///
    /// - Precondition: at least 4 draws of each, with the same number of columns as `names`.
    public static func assess(names: [String], priorDraws: [[Double]], posteriorDraws: [[Double]],
                              thresholds: IdentifiabilityThresholds = IdentifiabilityThresholds(),
                              source: String = "stocks alone") -> IdentifiabilityReport {
        let d = names.count
        precondition(priorDraws.count >= 4 && posteriorDraws.count >= 4 && priorDraws.allSatisfy { $0.count == d }
                     && posteriorDraws.allSatisfy { $0.count == d },
                     "expected >= 4 prior and posterior draws of \(d) rates, got \(priorDraws.count) and \(posteriorDraws.count)")
        let prior = priorDraws.map { $0.map { log(max($0, 1e-300)) } }
        let post = posteriorDraws.map { $0.map { log(max($0, 1e-300)) } }
        let priorSD = (0..<d).map { k in sd(prior.map { $0[k] }) }
        let postSD = (0..<d).map { k in sd(post.map { $0[k] }) }
        let priorWidth = (0..<d).map { k in width(prior.map { $0[k] }) }
        let postWidth = (0..<d).map { k in width(post.map { $0[k] }) }
        let r = (0..<d).map { postSD[$0] / priorSD[$0] }
        var rho = MCMCLinearAlgebra.identity(d, scale: 1)
        for i in 0..<d {
            for j in (i + 1)..<d {
                let c = correlation(post.map { $0[i] }, post.map { $0[j] })
                rho[i][j] = c; rho[j][i] = c
            }
        }
        func verdict(_ x: Double) -> IdentificationVerdict {
            x < thresholds.identified ? .identified : x >= thresholds.notIdentified ? .notIdentified : .weaklyIdentified
        }
        var params = (0..<d).map { k in
            ParameterIdentifiability(name: names[k], priorSD: priorSD[k], posteriorSD: postSD[k], widthRatio: r[k],
                                     intervalRatio: postWidth[k] / priorWidth[k], verdict: verdict(r[k]), notSeparatedFrom: [])
        }
        var warnings: [String] = []
        var named = Set<Int>()
        for i in 0..<d {
            for j in (i + 1)..<d
            where abs(rho[i][j]) >= thresholds.correlation && r[i] >= thresholds.identified && r[j] >= thresholds.identified {
                params[i].notSeparatedFrom.append(names[j]); params[j].notSeparatedFrom.append(names[i])
                params[i].verdict = .notIdentified; params[j].verdict = .notIdentified
                named.formUnion([i, j])
                let pinned = rho[i][j] > 0 ? "their ratio" : "a combination such as their sum or product"
                let atPrior = min(r[i], r[j]) >= thresholds.notIdentified ? "is the prior" : "is close to the prior"
                warnings.append("\(source) do not separate \(names[i]) from \(names[j]); the posterior for both \(atPrior) "
                    + String(format: "(posterior/prior width %.2f and %.2f): the data pin down %@ (posterior correlation of the log-rates %+.2f), not each",
                             r[i], r[j], pinned, rho[i][j]))
            }
        }
        for k in 0..<d where r[k] >= thresholds.notIdentified && !named.contains(k) {
            named.insert(k)
            warnings.append("the posterior for \(names[k]) is its prior: the data say nothing about it"
                + String(format: " (posterior/prior width %.2f)", r[k]))
        }
        // Combinations left at their prior.
        var w = rho
        for i in 0..<d { for j in 0..<d { w[i][j] = rho[i][j] * r[i] * r[j] } }
        let eigen = MCMCLinearAlgebra.symmetricEigen(w)
        let directions = zip(eigen.values, eigen.vectors).map { PosteriorDirection(loadings: $1, widthRatio: max($0, 0).squareRoot()) }
        // Parameters lying mostly (squared projection ≥ 1/2) in the span of the combinations left
        // at their prior. An identified parameter cannot: its projection² is below
        // r²/notIdentified² < 0.25/0.72.
        let loose = directions.filter { $0.widthRatio >= thresholds.notIdentified }
        let involved = (0..<d).filter { k in loose.reduce(0) { $0 + $1.loadings[k] * $1.loadings[k] } >= 0.5 }
        if involved.count >= 3, !involved.allSatisfy(named.contains) {
            let list = involved.map { names[$0] }
            let what = loose.count == 1 ? "a combination" : "\(loose.count) combinations"
            warnings.append("\(source) leave \(what) of \(list.dropLast().joined(separator: ", ")) and \(list.last!) at the prior "
                + String(format: "(posterior/prior width %.2f or more along %@): these rates can trade off against each other without changing the fit",
                         loose.map(\.widthRatio).min()!, loose.count == 1 ? "it" : "them"))
        }
        return IdentifiabilityReport(parameters: params, correlations: rho, directions: directions, warnings: warnings,
                                     thresholds: thresholds)
    }

    /// Identification of a posterior from a stock calibration, against `priorCount` draws from its priors.
    public static func assess(_ posterior: StockPosterior, problem: StockCalibrationProblem, priorCount: Int = 4000,
                              seed: UInt64 = 1, thresholds: IdentifiabilityThresholds = IdentifiabilityThresholds()) -> IdentifiabilityReport {
        assess(names: posterior.names, priorDraws: StockEstimator.priorDraws(problem, count: priorCount, seed: seed),
               posteriorDraws: posterior.draws, thresholds: thresholds,
               source: problem.audits.isEmpty ? "stocks alone" : "stocks and the audit")
    }

    static func sd(_ x: [Double]) -> Double { Statistics.standardDeviation(x) }

    static func width(_ x: [Double]) -> Double {
        let s = x.sorted()
        return Statistics.quantile(sorted: s, 0.975) - Statistics.quantile(sorted: s, 0.025)
    }

    static func correlation(_ x: [Double], _ y: [Double]) -> Double {
        let mx = Statistics.mean(x), my = Statistics.mean(y)
        var sxy = 0.0, sxx = 0.0, syy = 0.0
        for (a, b) in zip(x, y) { sxy += (a - mx) * (b - my); sxx += (a - mx) * (a - mx); syy += (b - my) * (b - my) }
        return sxx > 0 && syy > 0 ? sxy / (sxx * syy).squareRoot() : 0
    }
}
