import Calibration
import Foundation
import Model
import StockFlow
import Testing

/// The reverse-mode gradient of the Markov stock likelihood (`MarkovStockModel.logLikelihoodGradient`,
/// `StockCalibrationProblem.logPosteriorAndGradient`) against the forward-mode one by `Dual` numbers
/// (a separate computation: derivatives carried through the Taylor series and squarings of exp and
/// through every recursion) and against central differences.
@Suite("Reverse-mode gradient of the Markov stock likelihood")
struct ReverseGradientTests {
    /// Three levels, the last absorbing, with births and out-migration (which the absorbing level does not have).
    static let absorbingYAML = """
    name: absorbing
    time: {stepMonths: 1, horizonYears: 6}
    levels:
      Well: {costPerChildYear: 0, qolWeight: 1}
      Ill: {costPerChildYear: 0, qolWeight: 1}
      Gone: {costPerChildYear: 0, qolWeight: 0, absorbing: true}
    population:
      initialCounts: {Well: 8000, Ill: 1500, Gone: 0}
      ageing: false
      births: {perYear: 600, entryLevels: {Well: 0.95, Ill: 0.05}}
      migration: {outRatePerYear: 0.04}
    transitions:
      unit: ratesPerYear
      matrix:
        Well: {Ill: 0.1, Gone: 0.01}
        Ill: {Well: 0.3, Gone: 0.05}
    """
    static let absorbingPaths = ["transitions.matrix.Well.Ill", "transitions.matrix.Well.Gone",
                                 "transitions.matrix.Ill.Well", "transitions.matrix.Ill.Gone"]

    /// A Markov model of `yaml` with `paths` free and its counts at `times` (every level), and counts y
    /// near its expected counts at `θ` (a few per cent off, so the residuals are not zero).
    static func model(_ yaml: String, paths: [String], times: [Double], levels: Int, θ: [Double]) throws -> (MarkovStockModel, [Double]) {
        let scenario = try ScenarioDecoder.decode(yaml: yaml, file: "test.yaml")
        let model = try MarkovStockModel(scenario: scenario, parameterPaths: paths,
                                         observations: MarkovFixtures.census(times, levels: levels))
        let μ = try model.stocks(θ)
        return (model, μ.enumerated().map { ($1 * (1 + 0.03 * sin(1.7 * Double($0)))).rounded() })
    }

    /// The cases: (label, model, observed counts, θ, c).
    static func cases() throws -> [(String, MarkovStockModel, [Double], [Double], Double)] {
        let θ12 = MarkovFixtures.twelveRates
        var out: [(String, MarkovStockModel, [Double], [Double], Double)] = []
        let open = try model(MarkovFixtures.fourLevels(stepMonths: 1, horizonYears: 8, births: 1200, inPerYear: 300, outRate: 0.05),
                             paths: MarkovFixtures.twelvePaths, times: MarkovFixtures.dated(years: 7), levels: 4, θ: θ12)
        out.append(("open population, dated censuses", open.0, open.1, θ12.map { $0 * 1.2 }, 0.004))
        let closed = try model(MarkovFixtures.fourLevels(stepMonths: 1, horizonYears: 8),
                               paths: MarkovFixtures.twelvePaths, times: (0...8).map(Double.init), levels: 4, θ: θ12)
        out.append(("closed population, censuses on step ends", closed.0, closed.1, θ12.map { $0 * 0.9 }, 0.01))
        let between = try model(MarkovFixtures.fourLevels(stepMonths: 3, horizonYears: 6, births: 500, outRate: 0.03),
                                paths: MarkovFixtures.twelvePaths, times: [0, 0.4, 1.1, 2.37, 3, 4.9, 5.5], levels: 4, θ: θ12)
        out.append(("censuses between step ends", between.0, between.1, θ12, 0.002))
        let someFree = Array(MarkovFixtures.twelvePaths[0..<2] + MarkovFixtures.twelvePaths[3..<5])
        let few = try model(MarkovFixtures.fourLevels(stepMonths: 12, horizonYears: 5, births: 900, outRate: 0.05),
                            paths: someFree, times: (0...5).map(Double.init), levels: 4, θ: [0.08, 0.015, 0.25, 0.07])
        out.append(("4 of 12 rates free, yearly steps", few.0, few.1, [0.07, 0.02, 0.3, 0.06], 0.0))
        let absorbing = try model(absorbingYAML, paths: absorbingPaths, times: MarkovFixtures.dated(years: 5), levels: 3,
                                  θ: [0.1, 0.01, 0.3, 0.05])
        out.append(("absorbing level", absorbing.0, absorbing.1, [0.12, 0.008, 0.25, 0.06], 0.003))
        return out
    }

    /// The likelihood's gradient in θ and c by duals: θ_k along direction k, c along the next.
    static func dualGradient(_ model: MarkovStockModel, _ y: [Double], _ θ: [Double], _ c: Double) throws -> (Double, [Double], Double) {
        let seeded = θ.enumerated().map { Dual.seed($1, direction: $0, derivative: 1) }
        let l = try model.logLikelihood(observed: y, θ: seeded, relativeSD: Dual.seed(c, direction: θ.count, derivative: 1))
        return (l.value, (0..<θ.count).map { l.partials[$0] }, l.partials[θ.count])
    }

    /// Largest |a − b| over the largest |b|: the gap relative to the gradient's size.
    func gap(_ a: [Double], _ b: [Double]) -> Double {
        let scale = b.map(abs).max() ?? 1
        return zip(a, b).map { abs($0 - $1) }.max()! / max(scale, 1e-300)
    }

    /// Reverse against duals: the value to the last bit, every derivative within 10⁻⁹ of the
    /// gradient's largest component (and each large one within 10⁻⁹ of itself).
    @Test("the reverse gradient equals the dual-number gradient", arguments: 0..<5)
    func reverseEqualsDual(_ index: Int) throws {
        let (label, model, y, θ, c) = try Self.cases()[index]
        let reverse = try model.logLikelihoodGradient(observed: y, θ: θ, relativeSD: c)
        let (value, rates, cSlope) = try Self.dualGradient(model, y, θ, c)
        #expect(reverse.value == value, "\(label): value \(reverse.value) vs \(value)")
        #expect(reverse.value == (try model.logLikelihood(observed: y, θ: θ, relativeSD: c)), "\(label)")
        let all = reverse.rates + [reverse.relativeSD], reference = rates + [cSlope]
        #expect(gap(all, reference) < 1e-9, "\(label): \(all) vs \(reference)")
        let scale = reference.map(abs).max()!
        for (k, (r, f)) in zip(all, reference).enumerated() where abs(f) > 1e-3 * scale {
            #expect(abs(r - f) < 1e-9 * abs(f), "\(label), derivative \(k): \(r) vs \(f)")
        }
        // The rates matter: a gradient of zeros would pass nothing above.
        #expect(rates.allSatisfy { $0 != 0 })
    }

    /// Reverse against central differences of the likelihood in θ and c (step 10⁻⁵ relative):
    /// within 10⁻⁵·(|fd| + 10⁻³·largest).
    @Test("the reverse gradient matches central differences", arguments: 0..<5)
    func reverseMatchesCentralDifferences(_ index: Int) throws {
        let (label, model, y, θ, c) = try Self.cases()[index]
        let reverse = try model.logLikelihoodGradient(observed: y, θ: θ, relativeSD: c)
        var fd: [Double] = []
        for k in θ.indices {
            let h = 1e-5 * θ[k]
            var up = θ, down = θ
            up[k] += h; down[k] -= h
            fd.append((try model.logLikelihood(observed: y, θ: up, relativeSD: c) - model.logLikelihood(observed: y, θ: down, relativeSD: c)) / (2 * h))
        }
        let h = max(1e-5 * c, 1e-8)
        fd.append((try model.logLikelihood(observed: y, θ: θ, relativeSD: c + h) - model.logLikelihood(observed: y, θ: θ, relativeSD: c - h)) / (2 * h))
        let all = reverse.rates + [reverse.relativeSD]
        let scale = fd.map(abs).max()!
        for (k, (r, f)) in zip(all, fd).enumerated() {
            #expect(abs(r - f) < 1e-5 * (abs(f) + 1e-3 * scale), "\(label), derivative \(k): \(r) vs \(f)")
        }
    }

    /// The posterior's gradient in φ, reverse against forward, through ties, fixed rates, audits,
    /// pooled parts and c estimated or fixed: within 10⁻⁹ of the largest component.
    @Test("logPosteriorAndGradient: reverse equals forward", arguments: ["tied and fixed, c estimated", "c fixed", "two areas pooled", "21 coordinates (two dual passes)"])
    func posteriorReverseEqualsForward(_ label: String) throws {
        let θ = MarkovFixtures.twelveRates
        let scenario = try ScenarioDecoder.decode(yaml: MarkovFixtures.fourLevels(stepMonths: 1, horizonYears: 7, births: 1200, outRate: 0.05), file: "four.yaml")
        let obs = MarkovFixtures.census(MarkovFixtures.dated(years: 6))
        let one = try MarkovStockModel(scenario: scenario, parameterPaths: MarkovFixtures.twelvePaths, observations: obs)
        let y = try one.stocks(θ).enumerated().map { ($1 * (1 + 0.02 * cos(Double($0)))).rounded() }
        let names = one.parameterNames
        let problem: StockCalibrationProblem
        var φ = θ.map { Foundation.log($0 * 1.1) }
        switch label {
        case "tied and fixed, c estimated":
            problem = try StockCalibrationProblem(simulator: one, observed: y, likelihood: .markovStandard,
                                                  constraints: [.tied(names[11], to: names[10], factor: 4), .fixed(names[2], value: 0.004)],
                                                  audits: [RecordAudit(parameter: names[0], atRisk: 500, moved: 40, years: 1)])
            φ = Array(φ[0..<2] + φ[3..<11]) + [Foundation.log(0.005)]
        case "c fixed":
            problem = try StockCalibrationProblem(simulator: one, observed: y, likelihood: .multivariateNormal(relativeSD: 0.01))
        case "two areas pooled":
            let other = try ScenarioDecoder.decode(yaml: MarkovFixtures.fourLevels(stepMonths: 3, horizonYears: 6), file: "b.yaml")
            let two = try MarkovStockModel(scenario: other, parameterPaths: MarkovFixtures.twelvePaths, observations: MarkovFixtures.census([0, 1, 2.5, 4, 6]))
            let y2 = try two.stocks(θ).enumerated().map { ($1 * (1 + 0.02 * sin(Double($0)))).rounded() }
            problem = try StockCalibrationProblem(simulator: try PooledStockSimulator([one, two]), observed: y + y2, likelihood: .markovStandard,
                                                  constraints: [.tied(names[5], to: names[4], factor: 0.5)])
            φ = Array(φ[0..<5] + φ[6..<12]) + [Foundation.log(0.002)]
        default:
            // 20 rates and c: more coordinates than one dual pass carries.
            let five = ["Universal", "Additional", "Intensive", "Compulsory", "Secure"]
            let paths = five.flatMap { from in five.filter { $0 != from }.prefix(4).map { "transitions.matrix.\(from).\($0)" } }
            let fiveYAML = MarkovFixtures.fourLevels(stepMonths: 1, horizonYears: 7, births: 1000, outRate: 0.05)
                .replacingOccurrences(of: "  Compulsory: {costPerChildYear: 0, qolWeight: 1}\n", with: "  Compulsory: {costPerChildYear: 0, qolWeight: 1}\n  Secure: {costPerChildYear: 0, qolWeight: 1}\n")
                .replacingOccurrences(of: "Compulsory: 1000}", with: "Compulsory: 1000, Secure: 300}")
                .replacingOccurrences(of: "    Compulsory: {Universal: 0.01, Additional: 0.02, Intensive: 0.1}",
                                      with: "    Compulsory: {Universal: 0.01, Additional: 0.02, Intensive: 0.1, Secure: 0.02}\n    Secure: {Universal: 0.01, Additional: 0.02, Intensive: 0.1, Compulsory: 0.3}")
            let fiveScenario = try ScenarioDecoder.decode(yaml: fiveYAML, file: "five.yaml")
            let model = try MarkovStockModel(scenario: fiveScenario, parameterPaths: paths, observations: MarkovFixtures.census(MarkovFixtures.dated(years: 6), levels: 5))
            let rates = (0..<paths.count).map { 0.02 + 0.03 * Double($0 % 7) }
            let y5 = try model.stocks(rates).enumerated().map { ($1 * (1 + 0.02 * cos(Double($0)))).rounded() }
            problem = try StockCalibrationProblem(simulator: model, observed: y5, likelihood: .markovStandard)
            φ = rates.map { Foundation.log($0 * 0.9) } + [Foundation.log(0.003)]
        }
        #expect(problem.dimension == φ.count)
        let reverse = problem.logPosteriorAndGradient(φ)
        let forward = problem.logPosteriorAndGradient(φ, differentiation: .forward)
        #expect(reverse.value.isFinite)
        #expect(reverse.value == forward.value, "\(label): \(reverse.value) vs \(forward.value)")
        #expect(abs(reverse.value - problem.logPosterior(φ)) <= 1e-12 * abs(reverse.value))
        #expect(gap(reverse.gradient, forward.gradient) < 1e-9, "\(label): \(reverse.gradient) vs \(forward.gradient)")
        // The default is reverse, and NUTS sees it (through the softplus coordinates too).
        #expect(problem.logDensityAndGradient(φ).gradient == reverse.gradient)
        let softplus = SoftplusRateDensity(problem: problem)
        let u = softplus.coordinates(φ)
        #expect(softplus.logDensityAndGradient(u).value.isFinite)
    }

    /// exp's adjoint against duals: ⟨E, dexp(A)[D]⟩ = ⟨L(Aᵀ, E), D⟩ for a direction D, to 10⁻¹².
    @Test("the adjoint of exp is the transpose of its directional derivative")
    func expAdjointIsTranspose() {
        let a = [[-0.9, 0.6, 0.3], [0.2, -0.5, 0.3], [0.05, 0.15, -0.2]].map { $0.map { $0 * 2.3 } }
        let e = [[1.0, -2, 0.5], [0, 3, -1], [0.25, 0, 4]]
        let directions = [[[0.0, 1, 0], [0, 0, 0], [0, -0.5, 0.5]], [[1.0, 0, 0], [0, 0, 2], [0, 0, 0]]]
        let adjoint = MatrixFunctions.expAdjoint(a, e)
        for d in directions {
            let dual = a.indices.map { i in a[i].indices.map { j in Dual.seed(a[i][j], direction: 0, derivative: d[i][j]) } }
            let p = MatrixFunctions.exp(generic: dual)
            var left = 0.0, right = 0.0
            for i in 0..<3 { for j in 0..<3 { left += e[i][j] * p[i][j].partials[0]; right += adjoint[i][j] * d[i][j] } }
            #expect(abs(left - right) < 1e-12 * abs(left), "\(left) vs \(right)")
        }
        // And against the upper-right block of the full 2n×2n exponential of [[Aᵀ, E], [0, Aᵀ]].
        var block = [[Double]](repeating: [Double](repeating: 0, count: 6), count: 6)
        for i in 0..<3 { for j in 0..<3 { block[i][j] = a[j][i]; block[3 + i][3 + j] = a[j][i]; block[i][3 + j] = e[i][j] } }
        let big = MatrixFunctions.exp(block)
        for i in 0..<3 { for j in 0..<3 { #expect(abs(adjoint[i][j] - big[i][3 + j]) < 1e-11, "L[\(i)][\(j)]: \(adjoint[i][j]) vs \(big[i][3 + j])") } }
        #expect(MatrixFunctions.expAdjoint(a, a.map { $0.map { _ in 0 } }).allSatisfy { $0.allSatisfy { $0 == 0 } })
    }
}
