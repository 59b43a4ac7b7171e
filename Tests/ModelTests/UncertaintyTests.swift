import CGSL
import Foundation
import Model
import Stochastics
import Testing
import TestSupport

/// Parameter distributions, their validation and how draws become arms.
@Suite("Parameter uncertainty")
struct UncertaintyTests {
    static func withUncertainty(_ section: String) -> String { Fixtures.smallScenario + "\n" + section }

    /// `n` draws of a distribution, from the streams a parameter at `path` uses.
    static func draws(_ d: ParameterDistribution, n: Int, seed: UInt64 = 11, path: String = "x") -> [[Double]] {
        (0..<n).map { i in
            let stream = RandomStream(StreamAddress(seed: seed, replication: UInt32(i), purpose: .parameters, index: fnv1a32(path)))
            return d.draw(stream)
        }
    }

    /// Pearson's chi-square over 20 equiprobable bins of the declared CDF; the p-value.
    static func goodnessOfFit(_ xs: [Double], inverseCDF: (Double) -> Double) -> Double {
        let bins = 20
        let edges = (1..<bins).map { inverseCDF(Double($0) / Double(bins)) }
        var counts = [Int](repeating: 0, count: bins)
        for x in xs { counts[edges.firstIndex { x < $0 } ?? bins - 1] += 1 }
        let expected = Double(xs.count) / Double(bins)
        let chi2 = counts.reduce(0) { $0 + (Double($1) - expected) * (Double($1) - expected) / expected }
        return Quantiles.chiSquareUpperTail(chi2, degreesOfFreedom: Double(bins - 1))
    }

    /// A distribution with its known mean, variance and inverse CDF.
    struct Case: Sendable, CustomTestStringConvertible {
        var name: String
        var distribution: ParameterDistribution
        var mean: Double
        var variance: Double
        var inverseCDF: @Sendable (Double) -> Double
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(name: "uniform", distribution: .uniform(min: 2, max: 5), mean: 3.5, variance: 0.75) { 2 + 3 * $0 },
        Case(name: "normal", distribution: .normal(mean: 1, sd: 2, min: nil, max: nil), mean: 1, variance: 4) {
            1 + 2 * gsl_cdf_ugaussian_Pinv($0)
        },
        Case(name: "logNormal", distribution: .logNormal(meanLog: 0.5, sdLog: 0.4), mean: exp(0.58),
             variance: (exp(0.16) - 1) * exp(1.16)) { gsl_cdf_lognormal_Pinv($0, 0.5, 0.4) },
        Case(name: "beta", distribution: .beta(alpha: 2, beta: 6), mean: 0.25, variance: 12.0 / 576) { gsl_cdf_beta_Pinv($0, 2, 6) },
        Case(name: "gamma", distribution: .gamma(shape: 3, scale: 2), mean: 6, variance: 12) { gsl_cdf_gamma_Pinv($0, 3, 2) },
    ]

    @Test("Each scalar distribution matches its declared mean, variance and shape", arguments: cases)
    func scalarDistributions(_ c: Case) {
        let n = 20_000
        let xs = Self.draws(c.distribution, n: n).map { $0[0] }
        let m = xs.reduce(0, +) / Double(n)
        let v = xs.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(n - 1)
        #expect(abs(c.distribution.mean[0] - c.mean) < 1e-12 * max(1, c.mean), "declared mean")
        // Within 4 Monte Carlo standard errors of the mean; the variance within 10 % (n = 20,000).
        #expect(abs(m - c.mean) < 4 * (c.variance / Double(n)).squareRoot(), "sample mean \(m), expected \(c.mean)")
        #expect(abs(v / c.variance - 1) < 0.1, "sample variance \(v), expected \(c.variance)")
        let p = Self.goodnessOfFit(xs, inverseCDF: c.inverseCDF)
        #expect(p > 0.001, "chi-square goodness of fit p = \(p)")
    }

    @Test func truncatedNormalStaysInsideItsBoundsWithTheTruncatedMean() {
        let d = ParameterDistribution.normal(mean: 0.1, sd: 0.2, min: 0, max: 1)
        let xs = Self.draws(d, n: 20_000).map { $0[0] }
        #expect(xs.allSatisfy { $0 >= 0 && $0 <= 1 })
        // Mean of N(0.1, 0.2²) truncated to [0, 1]: μ + σ(φ(a) − φ(b))/(Φ(b) − Φ(a)).
        let a = -0.5, b = 4.5
        let expected = 0.1 + 0.2 * (gsl_ran_ugaussian_pdf(a) - gsl_ran_ugaussian_pdf(b)) / (gsl_cdf_ugaussian_P(b) - gsl_cdf_ugaussian_P(a))
        #expect(abs(d.mean[0] - expected) < 1e-12)
        let m = xs.reduce(0, +) / Double(xs.count)
        let sd = (xs.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(xs.count - 1)).squareRoot()
        #expect(abs(m - expected) < 4 * sd / Double(xs.count).squareRoot(), "mean \(m), expected \(expected)")
        let pa = gsl_cdf_ugaussian_P(a), pb = gsl_cdf_ugaussian_P(b)
        #expect(Self.goodnessOfFit(xs) { 0.1 + 0.2 * gsl_cdf_ugaussian_Pinv(pa + $0 * (pb - pa)) } > 0.001)
    }

    @Test func dirichletComponentsHaveTheirMeansAndVariances() {
        let alpha = [6.0, 3, 1]
        let d = ParameterDistribution.dirichlet(alpha: alpha)
        let n = 20_000
        let xs = Self.draws(d, n: n)
        #expect(xs.allSatisfy { abs($0.reduce(0, +) - 1) < 1e-12 })
        let a0 = alpha.reduce(0, +)
        for j in alpha.indices {
            let mean = alpha[j] / a0
            let variance = alpha[j] * (a0 - alpha[j]) / (a0 * a0 * (a0 + 1))
            let col = xs.map { $0[j] }
            let m = col.reduce(0, +) / Double(n)
            let v = col.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(n - 1)
            #expect(abs(m - mean) < 4 * (variance / Double(n)).squareRoot(), "component \(j): mean \(m), expected \(mean)")
            #expect(abs(v / variance - 1) < 0.1, "component \(j): variance \(v), expected \(variance)")
            // Each component is Beta(α_j, α0 − α_j).
            #expect(Self.goodnessOfFit(col) { gsl_cdf_beta_Pinv($0, alpha[j], a0 - alpha[j]) } > 0.001, "component \(j)")
        }
    }

    @Test func meanAndSdBecomeTheMethodOfMomentsParameters() throws {
        let s = try Fixtures.scenario(Self.withUncertainty("""
        uncertainty:
          parameters:
            cost: {path: levels.High.costPerChildYear, distribution: gamma, sd: 2000}
            qol: {path: levels.High.qolWeight, distribution: beta, mean: 0.6, sd: 0.1}
            effect: {path: arms.practice.practice.relational.escalationEffect, distribution: logNormal, sd: 0.05}
        """))
        let p = try #require(s.uncertainty).parameters
        // The file's 10000 is the mean when none is given: k = m²/s², θ = s²/m.
        #expect(p[0].distribution == .gamma(shape: 25, scale: 400))
        // c = m(1 − m)/s² − 1 = 23.
        guard case .beta(let a, let b) = p[1].distribution else { Issue.record("not beta"); return }
        #expect(abs(a - 0.6 * 23) < 1e-9 && abs(b - 0.4 * 23) < 1e-9)
        #expect(abs(p[2].distribution.mean[0] - 0.3) < 1e-12)
    }

    @Test func aBaseParameterIsSharedByEveryArmAndAnArmParameterIsThatArmsAlone() throws {
        let s = try Fixtures.scenario(Self.withUncertainty("""
        uncertainty:
          parameters:
            cost: {path: levels.High.costPerChildYear, distribution: uniform, min: 5000, max: 15000}
            effect: {path: arms.practice.practice.relational.escalationEffect, distribution: uniform, min: 0.1, max: 0.5}
        """))
        let u = try #require(s.uncertainty)
        #expect(u.columns == ["levels.High.costPerChildYear", "arms.practice.practice.relational.escalationEffect"])
        let values = u.values(draw: 3, seed: 7)
        let arms = try u.arms(values: values)
        #expect(arms.map { $0.levels[2].costPerChildYear } == [values[0], values[0]])
        #expect(arms[1].practices[0].escalationEffect == values[1])
        #expect(s.arms[1].practices[0].escalationEffect == 0.3, "the scenario's own arms keep the file's values")
    }

    @Test func aParametersDrawsDoNotDependOnTheOtherParameters() throws {
        let one = try Fixtures.scenario(Self.withUncertainty("""
        uncertainty:
          parameters:
            cost: {path: levels.High.costPerChildYear, distribution: gamma, sd: 2000}
        """))
        let two = try Fixtures.scenario(Self.withUncertainty("""
        uncertainty:
          parameters:
            qol: {path: levels.Mid.qolWeight, distribution: beta, sd: 0.05}
            renamed: {path: levels.High.costPerChildYear, distribution: gamma, sd: 2000}
        """))
        for d in 0..<5 {
            #expect(one.uncertainty!.values(draw: d, seed: 3)[0] == two.uncertainty!.values(draw: d, seed: 3)[1])
        }
        #expect(one.uncertainty!.values(draw: 0, seed: 3) != one.uncertainty!.values(draw: 0, seed: 4))
    }

    @Test func aDirichletRowIsDrawnOverTheMovesTheFileAllows() throws {
        // Per-step probabilities (a yearly matrix this large is not embeddable in monthly steps).
        let yaml = Fixtures.smallScenario.replacingOccurrences(of: "unit: ratesPerYear", with: "unit: probabilitiesPerStep")
        let s = try Fixtures.scenario(yaml + """

        uncertainty:
          parameters:
            lowRow: {path: transitions.matrix.Low, distribution: dirichlet, counts: {Low: 890, Mid: 100, High: 10}}
            midRow: {path: transitions.matrix.Mid, distribution: dirichlet, effectiveSampleSize: 200}
        """)
        let u = try #require(s.uncertainty)
        #expect(u.parameters[0].columns == ["transitions.matrix.Low.Low", "transitions.matrix.Low.Mid", "transitions.matrix.Low.High"])
        // The mean row defaults to the file's, with its implied diagonal 0.65.
        guard case .dirichlet(let alpha) = u.parameters[1].distribution else { Issue.record("not dirichlet"); return }
        #expect(zip(alpha, [60.0, 130, 10]).allSatisfy { abs($0 - $1) < 1e-9 })
        let values = u.values(draw: 0, seed: 1)
        let arms = try u.arms(values: values)
        #expect(abs(values[0...2].reduce(0, +) - 1) < 1e-12)
        #expect(arms[0].transitionPerStep[0][0] != s.arms[0].transitionPerStep[0][0])
    }

    @Test func problemsAreReportedTogetherWithTheirPlaces() {
        let issues = Fixtures.issues(Self.withUncertainty("""
        uncertainty:
          parameters:
            a: {path: levels.Huge.costPerChildYear, distribution: gamma, sd: 1}
            b: {path: levels.High.qolWeight, distribution: beta, sd: 0.5}
            c: {path: levels.High.costPerChildYear, distribution: gama, sd: 1}
            d: {path: transitions.matrix.Low, distribution: dirichlet, effectiveSampleSize: 10}
            e: {path: levels.Mid.qolWeight, distribution: uniform, min: 0.5, max: 0.9, sd: 3}
            f: {path: name, distribution: fixed}
          groups:
            g: [a, zzz]
        """))
        let text = issues.map(\.description).joined(separator: "\n")
        #expect(text.contains("uncertainty.parameters.a.path") && text.contains("levels.Huge.costPerChildYear"), "\(text)")
        #expect(text.contains("sd below √(mean·(1 − mean))"), "\(text)")
        #expect(text.contains("uncertainty.parameters.c.distribution") && text.contains("one of fixed, uniform"), "\(text)")
        #expect(text.contains("unit probabilitiesPerYear or probabilitiesPerStep"), "\(text)")
        #expect(text.contains("'sd', which a uniform distribution does not take"), "\(text)")
        #expect(text.contains("the path of a model value"), "\(text)")
        #expect(text.contains("unknown parameter 'zzz'"), "\(text)")
        #expect(issues.allSatisfy { $0.file == "test.yaml" })
    }

    @Test func distributionsWhoseMeanBreaksTheScenarioAreRefused() {
        // A mean escalation effect above 1 breaks the practice rule a ∈ [0, 1].
        let issues = Fixtures.issues(Self.withUncertainty("""
        uncertainty:
          parameters:
            effect: {path: arms.practice.practice.relational.escalationEffect, distribution: gamma, mean: 1.5, sd: 0.1}
        """))
        #expect(issues.contains { $0.path == "arms.practice.practice.relational.escalationEffect"
                && $0.found.contains("with every parameter at the mean of its distribution") }, "\(issues)")
    }

    @Test func aDrawsFileIsReadByPathWithItsProblemsNamed() throws {
        let good = """
        replication,draw,levels.High.costPerChildYear,levels.Mid.qolWeight
        0,0,9000,0.8
        1,1,11000,0.7
        2,1,11000,0.7
        """
        let s = try ScenarioDecoder.decode(yaml: Self.withUncertainty("uncertainty: {draws: d.csv}"), file: "t.yaml") { _ in good }
        let t = try #require(s.uncertainty?.drawTable)
        #expect(t.rows == [[9000, 0.8], [11000, 0.7]], "rows of one draw are read once")
        #expect(s.uncertainty!.values(draw: 1, seed: 99) == [11000, 0.7])

        let bad = """
        levels.High.costPerChildYear,levels.Nope.qolWeight
        9000,0.8
        abc,0.7
        """
        do {
            _ = try ScenarioDecoder.decode(yaml: Self.withUncertainty("uncertainty: {draws: d.csv}"), file: "t.yaml") { _ in bad }
            Issue.record("a bad draws file was accepted")
        } catch {
            let text = error.description
            #expect(text.contains("column 2 of draws file d.csv (line 1): 'levels.Nope.qolWeight', which is not a value in the file; expected the field path of a value that leaves the shape of the outputs alone"), "\(text)")
            #expect(text.contains("'abc' on line 3, column 'levels.High.costPerChildYear' of draws file d.csv"), "\(text)")
        }
        // Read by the one CSV reader: quoted header cells, CRLF line ends, a blank line (counted), a quoted cell never closed.
        let awkward = "\"levels.High.costPerChildYear\",levels.Mid.qolWeight\r\n9000,0.8\r\n\r\nabc,0.7\r\n\"9000,0.8\r\n"
        do {
            _ = try ScenarioDecoder.decode(yaml: Self.withUncertainty("uncertainty: {draws: d.csv}"), file: "t.yaml") { _ in awkward }
            Issue.record("a draws file with a bad cell was accepted")
        } catch {
            let text = error.description
            #expect(text.contains("'abc' on line 4, column 'levels.High.costPerChildYear' of draws file d.csv"), "\(text)")
            #expect(text.contains("a quoted cell that is never closed on line 5 of draws file d.csv"), "\(text)")
        }
        // Thirteen bad cells: ten listed, the rest counted.
        let many = "levels.High.costPerChildYear\n" + (1...13).map { "x\($0)\n" }.joined()
        do {
            _ = try ScenarioDecoder.decode(yaml: Self.withUncertainty("uncertainty: {draws: d.csv}"), file: "t.yaml") { _ in many }
            Issue.record("a draws file of bad cells was accepted")
        } catch {
            let found = error.issues.map(\.found)
            #expect(found.filter { $0.hasPrefix("'x") }.count == 10, "\(found)")
            #expect(found.contains("'x10' on line 11, column 'levels.High.costPerChildYear' of draws file d.csv"), "\(found)")
            #expect(found.contains("3 more problems not listed in draws file d.csv"), "\(found)")
        }
        do {
            _ = try ScenarioDecoder.decode(yaml: Self.withUncertainty("uncertainty: {draws: missing.csv}"), file: "t.yaml")
            Issue.record("a missing draws file was accepted")
        } catch {
            #expect("\(error)".contains("'missing.csv', a file that cannot be read"))
        }
    }
}

@Suite("Included fragments")
struct IncludeTests {
    static let withoutTransitions = Fixtures.smallScenario.replacingOccurrences(of: """
    transitions:
      unit: ratesPerYear
      matrix:
        Low: {Mid: 0.1, High: 0.01}
        Mid: {Low: 0.3, High: 0.05}
        High: {Low: 0.05, Mid: 0.3}
    """, with: "include: fitted.yaml\n")

    static let fragment = """
    transitions:
      unit: ratesPerYear
      matrix:
        Low: {Mid: 0.2, High: 0.01}
        Mid: {Low: 0.3, High: 0.05}
        High: {Low: 0.05, Mid: 0.3}
    discounting: {costRatePerYear: 0.05}
    """

    @Test func aFragmentGivesWhatTheFileLeavesOutAndTheFileWins() throws {
        #expect(Self.withoutTransitions.contains("include: fitted.yaml"))
        let text = Self.withoutTransitions + "\ndiscounting: {costRatePerYear: 0.015}\n"
        let s = try ScenarioDecoder.decode(yaml: text, file: "s.yaml") { $0 == "fitted.yaml" ? Self.fragment : nil }
        #expect(s.arms[0].transitionConversion.contains("yearly rates"))
        #expect(s.arms[0].costDiscountRatePerYear == 0.015, "the file's own value overrides the fragment's")
        #expect(s.attachedFiles == ["fitted.yaml": Self.fragment])
        let plain = try Fixtures.scenario(Fixtures.smallScenario)
        #expect(s.arms[0].transitionPerStep[0][1] > plain.arms[0].transitionPerStep[0][1], "Low → Mid from the fragment (0.2, not 0.1)")
    }

    @Test func badIncludesAreReported() {
        func issues(_ fragment: String?) -> String {
            do {
                _ = try ScenarioDecoder.decode(yaml: Self.withoutTransitions, file: "s.yaml") { _ in fragment }
                return ""
            } catch { return error.description }
        }
        #expect(issues(nil).contains("'fitted.yaml', a file that cannot be read"))
        #expect(issues("arms: {a: {}}\n" + Self.fragment).contains("field 'arms' in 'fitted.yaml'"))
        #expect(issues("- a\n- b").contains("'fitted.yaml', which is not a YAML mapping"))
    }
}
