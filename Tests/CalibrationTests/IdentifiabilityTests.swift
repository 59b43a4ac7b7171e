import Calibration
import CGSL
import Foundation
import Model
import Stochastics
import Testing

@Suite("Identifiability of stock-only fits")
struct IdentifiabilityTests {
    /// Constructed draws with a known answer: A pinned (posterior sd 5 % of the prior's),
    /// B and C pinned only through their ratio, D left at its prior.
    @Test func verdictsAndWarningsOnConstructedDraws() {
        let stream = RandomStream(StreamAddress(seed: 77, replication: 0, purpose: .testing, index: 0))
        func z() -> Double { stream.withGenerator { gsl_ran_gaussian($0, 1) } }
        let names = ["A→B", "B→A", "B→C", "C→B"]
        let prior = (0..<4000).map { _ in (0..<4).map { _ in exp(z()) } }
        let posterior = (0..<4000).map { _ -> [Double] in
            let common = 0.5.squareRoot() * z()
            return [exp(0.05 * z()), exp(common + 0.02 * z()), exp(common + 0.3 + 0.02 * z()), exp(z())]
        }
        let report = Identifiability.assess(names: names, priorDraws: prior, posteriorDraws: posterior)
        print(report)
        #expect(report.parameters.map(\.verdict) == [.identified, .notIdentified, .notIdentified, .notIdentified])
        #expect(abs(report.parameters[1].widthRatio - 0.5.squareRoot()) < 0.05)
        #expect(report.parameters[1].notSeparatedFrom == ["B→C"] && report.parameters[0].notSeparatedFrom.isEmpty)
        #expect(report.warnings.count == 2, "\(report.warnings)")
        #expect(report.warnings.contains { $0.hasPrefix("stocks alone do not separate B→A from B→C") && $0.contains("their ratio") })
        #expect(report.warnings.contains { $0.hasPrefix("the posterior for C→B is its prior: the data say nothing about it") })
        #expect(!report.warnings.contains { $0.contains("A→B") })
        // Two of four combinations are left at the prior (B + C together, and D); two are pinned (A, B − C).
        #expect(report.informedDirections == 2, "\(report.directions.map(\.widthRatio))")
        #expect(report.directions[0].widthRatio > 0.9 && report.directions[1].widthRatio > 0.9)
    }

    /// Three rates that trade off together, with no pair strongly correlated, are named in one warning.
    @Test func aCombinationOfThreeIsNamed() {
        let stream = RandomStream(StreamAddress(seed: 78, replication: 0, purpose: .testing, index: 0))
        func z() -> Double { stream.withGenerator { gsl_ran_gaussian($0, 1) } }
        let prior = (0..<4000).map { _ in (0..<3).map { _ in exp(z()) } }
        // Only the sum of the three log-rates is pinned: each pair correlates at −0.5.
        let posterior = (0..<4000).map { _ -> [Double] in
            let x = [z(), z(), z()], m = (x[0] + x[1] + x[2]) / 3
            return x.map { exp($0 - m + 0.01 * z()) }
        }
        let report = Identifiability.assess(names: ["X→Y", "Y→Z", "Z→X"], priorDraws: prior, posteriorDraws: posterior)
        print(report)
        #expect(report.warnings.count == 1 && report.warnings[0].contains("2 combinations of X→Y, Y→Z and Z→X"), "\(report.warnings)")
        #expect(report.informedDirections == 1)
        #expect(report.parameters.allSatisfy { $0.verdict == .weaklyIdentified })
    }

    /// Two levels at equilibrium: the stocks stay flat whatever the speed, so the data pin
    /// the ratio of the two rates only. The warning fires and names both flows.
    @Test func warningFiresWhenStocksCannotSeparateTwoFlows() throws {
        let fitted = try StockFixtures.equilibrium.get()
        let report = Identifiability.assess(fitted.posterior, problem: fitted.problem)
        print(fitted.posterior)
        print(report)
        #expect(fitted.posterior.worstRHat < 1.05, "R̂ \(fitted.posterior.worstRHat)")
        #expect(report.parameters.allSatisfy { $0.verdict == .notIdentified })
        let warning = try #require(report.warnings.first { $0.contains("do not separate") }, "\(report.warnings)")
        #expect(warning.hasPrefix("stocks alone do not separate Universal→Additional from Additional→Universal"))
        #expect(warning.contains("their ratio"))
        #expect(report.correlations[0][1] > 0.9)
        // The ratio is pinned: its posterior is narrow, around the truth's 1/3.
        let ratios = fitted.posterior.draws.map { log($0[0] / $0[1]) }
        let m = ratios.reduce(0, +) / Double(ratios.count)
        #expect(abs(exp(m) - 1.0 / 3) < 0.02, "posterior ratio \(exp(m)), truth 1/3")
        // The point estimate is no better: near it, the stocks leave a combination of the
        // log-rates essentially free (standard error above 1, a factor of e, or infinite).
        let fit = try StockEstimator.leastSquares(fitted.problem, settings: StockLeastSquaresSettings(starts: 2, seed: 5))
        print(fit)
        #expect(fit.directions[0].logSD > 1, "\(fit.directions.map(\.logSD))")
        #expect(fit.description.contains("poorly pinned near the estimate"))
    }

    /// A transient identifies both rates: no warning, both verdicts "identified".
    @Test func noWarningWhenStocksIdentifyTheFlows() throws {
        let fitted = try StockFixtures.transient.get()
        let report = Identifiability.assess(fitted.posterior, problem: fitted.problem)
        print(report)
        #expect(report.warnings.isEmpty, "\(report.warnings)")
        #expect(report.parameters.allSatisfy { $0.verdict == .identified && $0.widthRatio < 0.1 }, "\(report)")
        #expect(report.informedDirections == 2)
    }

    /// Declared constraints restore identification at equilibrium, and their effect is shown:
    /// an audit of 400 Universal records over a year (posterior), or pooling with a second
    /// area in a transient (least squares). Fixing a rate is in `StockEstimatorTests`.
    @Test func declaredConstraintsRestoreIdentification() throws {
        let baseline = try StockFixtures.equilibrium.get()
        let before = Identifiability.assess(baseline.posterior, problem: baseline.problem)
        // Audit: of 400 children in Universal, 38 moved to Additional within a year (1 − e^{−0.1} ≈ 0.095).
        let audit = RecordAudit(parameter: "Universal→Additional", atRisk: 400, moved: 38, years: 1)
        let audited = try StockFixtures.fit(baseline.problem.simulator, audits: [audit])
        let afterAudit = Identifiability.assess(audited.posterior, problem: audited.problem)
        let effect = afterAudit.effect(of: "an audit of 400 Universal records", comparedWith: before)
        print(effect)
        #expect(effect.warningsBefore >= 1 && effect.warningsAfter == 0)
        #expect(effect.rows.allSatisfy { $0.verdictBefore == .notIdentified && $0.verdictAfter == .identified }, "\(effect)")
        for (k, s) in audited.posterior.summaries.prefix(2).enumerated() {
            #expect(abs(s.mean - StockFixtures.truth[k]) < 3 * s.sd, "\(s.name): \(s.mean) ± \(s.sd), truth \(StockFixtures.truth[k])")
        }
        // Pooling: the same dynamics in a second area that starts out of equilibrium. Shown
        // with the least-squares standard errors (cheaper than a posterior): from a free
        // combination to every log-rate within ±0.1.
        let other = try StockFixtures.synthetic(StockFixtures.twoLevels(universal: 1000, additional: 0), truth: StockFixtures.truth, seed: 13)
        let pooled = try StockCalibrationProblem(simulator: PooledStockSimulator([baseline.problem.simulator, other]),
                                                 priors: StockFixtures.priors, likelihood: .poisson)
        #expect(pooled.observed.count == 40)
        let alone = try StockEstimator.leastSquares(baseline.problem, settings: StockLeastSquaresSettings(starts: 2, seed: 5))
        let together = try StockEstimator.leastSquares(pooled, settings: StockLeastSquaresSettings(starts: 2, seed: 5))
        print("pooling: se(log) \(alone.logStandardErrors) → \(together.logStandardErrors)")
        #expect(alone.directions[0].logSD > 1 && together.logStandardErrors.allSatisfy { $0 < 0.1 })
        for k in 0..<2 {
            #expect(abs(log(together.rates[k] / StockFixtures.truth[k])) < 3 * together.logStandardErrors[k],
                    "pooled \(together.names[k]) = \(together.rates[k]), truth \(StockFixtures.truth[k])")
        }
    }
}
