import Calibration
import CGSL
import Foundation
import Model
import Stochastics
import Testing

@Suite("Identifiability of stock-only fits")
struct IdentifiabilityTests {
    /// A constructed profile likelihood: log L = −(log θ − log 0.2)²/(2·0.1²) on a fine grid, so the
    /// 95 % interval is 0.2·e^{±0.1·√(2·1.92)}.
    static func quadraticProfile(_ name: String, sdLog: Double = 0.1, from low: Double = 0.01, to high: Double = 2) -> ProfileLikelihood {
        let points = (0...400).map { i -> ProfileLikelihood.Point in
            let x = log(low) + (log(high) - log(low)) * Double(i) / 400
            let z = (x - log(0.2)) / sdLog
            return .init(rate: exp(x), logLikelihood: -0.5 * z * z, converged: true)
        }
        return ProfileLikelihood(name: name, points: points, maximum: 0)
    }

    static func flatProfile(_ name: String) -> ProfileLikelihood {
        let points = (0...10).map { i -> ProfileLikelihood.Point in
            let rate: Double = 0.01 * pow(2, Double(i))
            return ProfileLikelihood.Point(rate: rate, logLikelihood: -0.1 * Double(i % 3), converged: true)
        }
        return ProfileLikelihood(name: name, points: points, maximum: 0)
    }

    @Test func profileIntervalIsWhereTheProfileIsWithinDeltaOfItsMaximum() {
        let p = Self.quadraticProfile("A→B")
        let half: Double = 0.1 * (2 * 1.92).squareRoot()
        let centre: Double = log(0.2)
        #expect(p.closedLow && p.closedHigh && !p.flat)
        #expect(abs(log(p.low) - (centre - half)) < 1e-3, "\(p.low)")
        #expect(abs(log(p.high) - (centre + half)) < 1e-3, "\(p.high)")
        // Cut by the prior range above the maximum's interval: open there, the interval runs to the grid's end.
        let open = Self.quadraticProfile("A→B", to: 0.21)
        #expect(open.closedLow && !open.closedHigh && abs(open.high - 0.21) < 1e-12, "\(open.high)")
        #expect(Self.flatProfile("A→B").flat)
    }

    /// Constructed draws and profiles with a known answer: A pinned (posterior sd 5 % of the prior's, a
    /// closed profile), B and C pinned only through their ratio (flat profiles), D left at its prior (flat),
    /// E halved but bounded on one side only.
    @Test func verdictsAndWarningsOnConstructedDraws() {
        let stream = RandomStream(StreamAddress(seed: 77, replication: 0, purpose: .testing, index: 0))
        func z() -> Double { stream.withGenerator { gsl_ran_gaussian($0, 1) } }
        let names = ["A→B", "B→A", "B→C", "C→B", "C→A"]
        let prior = (0..<4000).map { _ in (0..<5).map { _ in exp(z()) } }
        let posterior = (0..<4000).map { _ -> [Double] in
            let common = 0.5.squareRoot() * z()
            return [exp(0.05 * z()), exp(common + 0.02 * z()), exp(common + 0.3 + 0.02 * z()), exp(z()), exp(0.5 * z())]
        }
        let profiles = [Self.quadraticProfile("A→B"), Self.flatProfile("B→A"), Self.flatProfile("B→C"), Self.flatProfile("C→B"),
                        Self.quadraticProfile("C→A", to: 0.21)]
        let report = Identifiability.assess(names: names, priorDraws: prior, posteriorDraws: posterior, profiles: profiles)
        print(report)
        #expect(report.parameters.map(\.verdict) == [.identified, .notIdentified, .notIdentified, .notIdentified, .weaklyIdentified])
        #expect(abs(report.parameters[0].contraction - (1 - 0.05 * 0.05)) < 0.001)
        #expect(abs(report.parameters[1].contraction - 0.5) < 0.05, "\(report.parameters[1].contraction)")
        #expect(abs(report.parameters[3].contraction) < 0.1 && abs(report.parameters[4].contraction - 0.75) < 0.05)
        #expect(report.parameters[1].notSeparatedFrom == ["B→C"] && report.parameters[0].notSeparatedFrom.isEmpty)
        #expect(report.warnings.count == 2, "\(report.warnings)")
        #expect(report.warnings.contains { $0.hasPrefix("stocks alone do not separate B→A from B→C") && $0.contains("their ratio")
            && $0.contains("flat across the prior range") })
        #expect(report.warnings.contains { $0.hasPrefix("the data say nothing about C→B on its own") })
        #expect(!report.warnings.contains { $0.contains("A→B") || $0.contains("C→A") })
        // Two of five combinations are left near the prior (B + C together, and D); three are narrowed.
        #expect(report.informedDirections == 3, "\(report.directions.map(\.contraction))")
        #expect(report.directions[0].contraction < 0.1 && report.directions[1].contraction < 0.1)
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
        // Without profiles no rate is called identified; a third of each prior variance is removed.
        #expect(report.parameters.allSatisfy { $0.verdict == .weaklyIdentified && abs($0.contraction - 1.0 / 3) < 0.05 }, "\(report)")
    }

    /// Two levels at equilibrium: the stocks stay flat whatever the speed, so the data pin
    /// the ratio of the two rates only. The warning fires and names both flows.
    @Test func warningFiresWhenStocksCannotSeparateTwoFlows() throws {
        let fitted = try StockFixtures.equilibrium.get()
        let report = Identifiability.assess(fitted.posterior, problem: fitted.problem)
        print(fitted.posterior)
        print(report)
        #expect(fitted.posterior.worstRHat < 1.05, "R̂ \(fitted.posterior.worstRHat)")
        #expect(report.parameters.allSatisfy { $0.verdict == .notIdentified && $0.profile?.flat == true }, "\(report)")
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
        #expect(report.parameters.allSatisfy { $0.verdict == .identified && $0.contraction > 0.99 }, "\(report)")
        // With this much data the profile likelihood's 95 % interval and the posterior's agree (the prior
        // is wide): each end within a quarter of the posterior interval's width.
        for (k, p) in report.parameters.enumerated() {
            let pl = try #require(p.profile)
            let s = fitted.posterior.summaries[k]
            let tolerance = 0.25 * (s.q975 - s.q025)
            #expect(abs(pl.low - s.q025) < tolerance && abs(pl.high - s.q975) < tolerance,
                    "\(p.name): profile \(pl.low)–\(pl.high), posterior \(s.q025)–\(s.q975)")
        }
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
