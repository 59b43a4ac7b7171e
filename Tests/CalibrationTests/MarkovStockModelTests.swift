import Calibration
import Foundation
import Model
import StockFlow
import Stochastics
import Testing

/// Scenarios for the Markov stock model's tests.
enum MarkovFixtures {
    static let four = ["Universal", "Additional", "Intensive", "Compulsory"]

    /// Four levels, every one of the 12 moves written, optional entrants and exits.
    static func fourLevels(stepMonths: Int, horizonYears: Int, births: Double = 0, inPerYear: Double = 0,
                           outRate: Double = 0, extra: String = "") -> String {
        """
        name: four levels
        time: {stepMonths: \(stepMonths), horizonYears: \(horizonYears)}
        levels:
          Universal: {costPerChildYear: 0, qolWeight: 1}
          Additional: {costPerChildYear: 0, qolWeight: 1}
          Intensive: {costPerChildYear: 0, qolWeight: 1}
          Compulsory: {costPerChildYear: 0, qolWeight: 1}
        population:
          initialCounts: {Universal: 15000, Additional: 6000, Intensive: 2000, Compulsory: 1000}
          ageing: false
          births: {perYear: \(births), entryLevels: {Universal: 0.9, Additional: 0.1}}
          migration: {inPerYear: \(inPerYear), inLevels: {Universal: 0.5, Additional: 0.3, Intensive: 0.2}, outRatePerYear: \(outRate)}
        transitions:
          unit: ratesPerYear
          matrix:
            Universal: {Additional: 0.06, Intensive: 0.01, Compulsory: 0.002}
            Additional: {Universal: 0.3, Intensive: 0.05, Compulsory: 0.01}
            Intensive: {Universal: 0.05, Additional: 0.2, Compulsory: 0.03}
            Compulsory: {Universal: 0.01, Additional: 0.02, Intensive: 0.1}
        \(extra)
        """
    }

    /// The 12 paths of the four-level scenario, in row order.
    static let twelvePaths: [String] = four.flatMap { from in four.filter { $0 != from }.map { "transitions.matrix.\(from).\($0)" } }

    /// Rates away from the file's, one per path.
    static let twelveRates: [Double] = [0.08, 0.015, 0.003, 0.25, 0.07, 0.012, 0.04, 0.15, 0.05, 0.02, 0.03, 0.12]

    /// Every level at each time.
    static func census(_ times: [Double], levels: Int = 4) -> [StockObservation] {
        times.flatMap { t in (0..<levels).map { StockObservation(timeYears: t, level: $0, count: 0) } }
    }

    /// Yearly censuses on 31 July from a start on 31 July (365.25-day years: off step ends by up to 0.75 days).
    static func dated(years: Int) -> [Double] {
        let origin = Day(iso: "2015-07-31")!
        return (0...years).map { Day(iso: "\(2015 + $0)-07-31")!.years(since: origin) }
    }

    static func package(_ relative: String) -> URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent(relative)
    }
}

@Suite("MarkovStockModel: exact moments of census counts")
struct MarkovStockModelTests {
    func relativeGap(_ a: [Double], _ b: [Double]) -> Double {
        zip(a, b).map { abs($0 - $1) / max(abs($1), 1e-300) }.max() ?? 0
    }

    /// μ(θ) equals the aggregate model's expected counts to 10⁻⁹ relative.
    @Test("expected counts equal the aggregate model's", arguments: [
        ("closed, 12 moves, monthly, dated censuses", MarkovFixtures.fourLevels(stepMonths: 1, horizonYears: 8), MarkovFixtures.dated(years: 7) + [2.37, 5.5]),
        ("closed, 12 moves, yearly", MarkovFixtures.fourLevels(stepMonths: 12, horizonYears: 8), (0...8).map(Double.init) + [0.4, 6.71]),
        ("births and migration, monthly", MarkovFixtures.fourLevels(stepMonths: 1, horizonYears: 8, births: 1200, inPerYear: 300, outRate: 0.05), MarkovFixtures.dated(years: 7) + [3.3]),
        ("births and migration, quarterly", MarkovFixtures.fourLevels(stepMonths: 3, horizonYears: 8, births: 1200, inPerYear: 300, outRate: 0.05), MarkovFixtures.dated(years: 7) + [0.1]),
    ])
    func meanEqualsAggregate(_ label: String, _ yaml: String, _ times: [Double]) throws {
        let scenario = try ScenarioDecoder.decode(yaml: yaml, file: "four.yaml")
        let obs = MarkovFixtures.census(times)
        let markov = try MarkovStockModel(scenario: scenario, parameterPaths: MarkovFixtures.twelvePaths, observations: obs)
        let aggregate = try AggregateStockSimulator(scenario: scenario, parameterPaths: MarkovFixtures.twelvePaths, observations: obs)
        for θ in [MarkovFixtures.twelveRates, MarkovFixtures.twelveRates.map { $0 * 2.5 }, [Double](repeating: 0, count: 12)] {
            let gap = relativeGap(try markov.stocks(θ), try aggregate.stocks(θ))
            #expect(gap < 1e-9, "\(label): largest relative gap \(gap)")
        }
    }

    /// The synthetic calibration scenarios (three levels, births, out-migration, adjacent moves).
    @Test("expected counts equal the aggregate model's on calibration/synthetic", arguments: ["identified", "not-identified"])
    func meanEqualsAggregateSynthetic(_ folder: String) throws {
        let url = MarkovFixtures.package("calibration/synthetic/\(folder)/scenario.yaml")
        let scenario = try ScenarioDecoder.decode(yaml: String(contentsOf: url, encoding: .utf8), file: "scenario.yaml")
        let paths = ["Universal.Additional", "Additional.Universal", "Additional.Intensive", "Intensive.Additional"].map { "transitions.matrix.\($0)" }
        let obs = MarkovFixtures.census(MarkovFixtures.dated(years: 8), levels: 3)
        let markov = try MarkovStockModel(scenario: scenario, parameterPaths: paths, observations: obs)
        let aggregate = try AggregateStockSimulator(scenario: scenario, parameterPaths: paths, observations: obs)
        let θ = [0.07, 0.35, 0.06, 0.2]
        #expect(relativeGap(try markov.stocks(θ), try aggregate.stocks(θ)) < 1e-9)
    }

    /// Σ(θ) against a Monte Carlo of individual children: R = 20,000 replications of a small
    /// population (each initial child and each Poisson entrant moved by its own uniforms through
    /// M = P·diag(1 − e)); every entry within 5 standard errors of a sample covariance,
    /// se(s_jk) ≈ √((σ_jj σ_kk + σ_jk²)/R) (normal theory), plus 0.02 for rounding of tiny entries.
    @Test("covariance matches a Monte Carlo of individual children")
    func covarianceMatchesMonteCarlo() throws {
        let yaml = """
        name: small
        time: {stepMonths: 12, horizonYears: 4}
        levels:
          A: {costPerChildYear: 0, qolWeight: 1}
          B: {costPerChildYear: 0, qolWeight: 1}
          C: {costPerChildYear: 0, qolWeight: 1, absorbing: true}
        population:
          initialCounts: {A: 30, B: 10, C: 0}
          ageing: false
          births: {perYear: 6, entryLevels: {A: 0.7, B: 0.3}}
          migration: {outRatePerYear: 0.1}
        transitions:
          unit: ratesPerYear
          matrix:
            A: {B: 0.3, C: 0.05}
            B: {A: 0.4, C: 0.1}
        """
        let scenario = try ScenarioDecoder.decode(yaml: yaml, file: "small.yaml")
        let paths = ["A.B", "A.C", "B.A", "B.C"].map { "transitions.matrix.\($0)" }
        let θ = [0.3, 0.05, 0.4, 0.1]
        let obs = [StockObservation(timeYears: 1, level: 0, count: 0), StockObservation(timeYears: 1, level: 1, count: 0),
                   StockObservation(timeYears: 2.5, level: 0, count: 0), StockObservation(timeYears: 2.5, level: 2, count: 0),
                   StockObservation(timeYears: 4, level: 0, count: 0), StockObservation(timeYears: 4, level: 1, count: 0),
                   StockObservation(timeYears: 4, level: 2, count: 0)]
        let model = try MarkovStockModel(scenario: scenario, parameterPaths: paths, observations: obs)
        let exact = try model.moments(θ, covariance: true)
        // The individual-level simulation, written independently of the model.
        let q = [[-0.35, 0.3, 0.05], [0.4, -0.5, 0.1], [0, 0, 0]]
        let p = MatrixFunctions.exp(q)
        let stay = 1 - (1 - Foundation.exp(-0.1))
        let stream = RandomStream(StreamAddress(seed: 2024, replication: 0, purpose: .testing, index: 0))
        let R = 20_000
        let m = obs.count
        var sum = [Double](repeating: 0, count: m), cross = [Double](repeating: 0, count: m * m)
        for _ in 0..<R {
            var children: [Int] = Array(repeating: 0, count: 30) + Array(repeating: 1, count: 10)
            var stocks: [[Double]] = []
            func count() -> [Double] { (0..<3).map { l in Double(children.filter { $0 == l }.count) } }
            stocks.append(count())
            for _ in 1...4 {
                var next: [Int] = []
                for c in children {
                    let u = stream.uniform()
                    var to = 0, acc = p[c][0]
                    while to < 2 && u >= acc { to += 1; acc += p[c][to] }
                    if to == 2 || stream.uniform() < stay { next.append(to) }
                }
                for _ in 0..<stream.poisson(mean: 6) { next.append(stream.uniform() < 0.7 ? 0 : 1) }
                children = next
                stocks.append(count())
            }
            let y = obs.map { o -> Double in
                let s = Int(o.timeYears.rounded(.down)), w = o.timeYears - Double(s)
                return w == 0 ? stocks[s][o.level] : (1 - w) * stocks[s][o.level] + w * stocks[s + 1][o.level]
            }
            for a in 0..<m { sum[a] += y[a]; for b in 0..<m { cross[a * m + b] += y[a] * y[b] } }
        }
        let mean = sum.map { $0 / Double(R) }
        for a in 0..<m {
            let seMean = (exact.covariance[a * m + a] / Double(R)).squareRoot()
            #expect(abs(mean[a] - exact.mean[a]) < 5 * seMean + 1e-9, "mean \(a): MC \(mean[a]) exact \(exact.mean[a])")
            for b in 0..<m {
                let s = (cross[a * m + b] - Double(R) * mean[a] * mean[b]) / Double(R - 1)
                let σ = exact.covariance[a * m + b]
                let se = ((exact.covariance[a * m + a] * exact.covariance[b * m + b] + σ * σ) / Double(R)).squareRoot()
                #expect(abs(s - σ) < 5 * se + 0.02, "cov(\(a), \(b)): MC \(s) exact \(σ) se \(se)")
            }
        }
    }

    /// exp by duals against the block-matrix identity exp([[A, E], [0, A]]) = [[e^A, L(A, E)], [0, e^A]]
    /// (Higham 2008, Functions of Matrices, eq. 10.15), L the Fréchet derivative: to 10⁻¹².
    @Test("the derivative of exp(A) by duals equals the block-matrix exponential's")
    func expDerivativeMatchesBlockExponential() {
        let a = [[-0.4, 0.3, 0.1], [0.2, -0.5, 0.3], [0.05, 0.15, -0.2]].map { $0.map { $0 * 1.7 } }
        let e = [[0.0, 1, 0], [0, 0, 0], [0, -0.5, 0.5]]
        let dual = a.indices.map { i in a[i].indices.map { j in Dual.seed(a[i][j], direction: 0, derivative: e[i][j]) } }
        let result = MatrixFunctions.exp(generic: dual)
        let n = 3
        var block = [[Double]](repeating: [Double](repeating: 0, count: 2 * n), count: 2 * n)
        for i in 0..<n { for j in 0..<n { block[i][j] = a[i][j]; block[n + i][n + j] = a[i][j]; block[i][n + j] = e[i][j] } }
        let big = MatrixFunctions.exp(block)
        for i in 0..<n {
            for j in 0..<n {
                #expect(abs(result[i][j].value - big[i][j]) < 1e-12)
                #expect(abs(result[i][j].partials[0] - big[i][n + j]) < 1e-12, "L[\(i)][\(j)]: \(result[i][j].partials[0]) vs \(big[i][n + j])")
            }
        }
        // Double goes through the same implementation as MatrixFunctions.exp: identical bits.
        #expect(MatrixFunctions.exp(generic: a) == MatrixFunctions.exp(a))
    }

    /// ∂μ/∂θ and ∂Σ/∂θ by duals against central differences (step 10⁻⁶·θ): within
    /// 10⁻⁵·(|derivative| + scale), scale the largest |derivative| of that quantity.
    @Test("derivatives of mean and covariance match central differences")
    func derivativesMatchFiniteDifferences() throws {
        let scenario = try ScenarioDecoder.decode(yaml: MarkovFixtures.fourLevels(stepMonths: 1, horizonYears: 8, births: 1200, inPerYear: 300, outRate: 0.05), file: "four.yaml")
        let obs = MarkovFixtures.census(MarkovFixtures.dated(years: 7))
        let model = try MarkovStockModel(scenario: scenario, parameterPaths: MarkovFixtures.twelvePaths, observations: obs)
        let θ = MarkovFixtures.twelveRates
        let seeded = θ.enumerated().map { Dual.seed($1, direction: $0, derivative: 1) }
        let dual = try model.moments(seeded, covariance: true)
        for k in θ.indices {
            let h = 1e-6 * θ[k]
            var up = θ, down = θ
            up[k] += h; down[k] -= h
            let a = try model.moments(up, covariance: true), b = try model.moments(down, covariance: true)
            let dμ = zip(a.mean, b.mean).map { ($0 - $1) / (2 * h) }
            let dΣ = zip(a.covariance, b.covariance).map { ($0 - $1) / (2 * h) }
            let μScale = dμ.map(abs).max()!, ΣScale = dΣ.map(abs).max()!
            for (x, fd) in zip(dual.mean.map { $0.partials[k] }, dμ) { #expect(abs(x - fd) < 1e-5 * (abs(fd) + μScale), "∂μ/∂θ\(k): \(x) vs \(fd)") }
            for (x, fd) in zip(dual.covariance.map { $0.partials[k] }, dΣ) { #expect(abs(x - fd) < 1e-5 * (abs(fd) + ΣScale), "∂Σ/∂θ\(k): \(x) vs \(fd)") }
        }
    }

    /// The log likelihood of a tiny case against a direct computation: two levels, births,
    /// two yearly censuses; μ and Σ written out per child and per entrant cohort, the
    /// normal density from the inverse and determinant of V by Gauss–Jordan.
    @Test("log likelihood equals a direct computation on a tiny case")
    func likelihoodMatchesDirectComputation() throws {
        let yaml = """
        name: tiny
        time: {stepMonths: 12, horizonYears: 2}
        levels:
          A: {costPerChildYear: 0, qolWeight: 1}
          B: {costPerChildYear: 0, qolWeight: 1}
        population:
          initialCounts: {A: 100, B: 20}
          ageing: false
          births: {perYear: 10, entryLevels: {A: 1}}
        transitions:
          unit: ratesPerYear
          matrix:
            A: {B: 0.2}
            B: {A: 0.5}
        """
        let scenario = try ScenarioDecoder.decode(yaml: yaml, file: "tiny.yaml")
        let obs = [(0.0, 0, 100.0), (0, 1, 20), (1, 0, 103), (1, 1, 24), (2, 0, 110), (2, 1, 22)].map {
            StockObservation(timeYears: $0.0, level: $0.1, count: $0.2)
        }
        let model = try MarkovStockModel(scenario: scenario, parameterPaths: ["transitions.matrix.A.B", "transitions.matrix.B.A"], observations: obs)
        #expect(model.likelihoodObservations == [2, 3, 4, 5])
        let (a, b, c) = (0.2, 0.5, 0.04)
        // Two-state closed form: P = I + (1 − e^{−(a+b)})/(a+b)·Q.
        let f = (1 - Foundation.exp(-(a + b))) / (a + b)
        let P = [[1 - f * a, f * a], [f * b, 1 - f * b]]
        let P2 = MatrixFunctions.multiply(P, P)
        let s0 = [100.0, 20], λ = [10.0, 0]
        // Entrants of step 1 at time 1: Poisson λ; at time 2: λ·P + λ (two cohorts).
        let m1 = λ, m2 = [λ[0] * P[0][0] + λ[1] * P[1][0] + λ[0], λ[0] * P[0][1] + λ[1] * P[1][1] + λ[1]]
        let μ1 = (0..<2).map { j in s0[0] * P[0][j] + s0[1] * P[1][j] + m1[j] }
        let μ2 = (0..<2).map { k in s0[0] * P2[0][k] + s0[1] * P2[1][k] + m2[k] }
        func childCov(_ x: [Double], _ y: [Double], _ joint: (Int, Int) -> Double) -> [[Double]] {
            (0..<2).map { j in (0..<2).map { k in joint(j, k) - x[j] * y[k] } }
        }
        var V = [[Double]](repeating: [Double](repeating: 0, count: 4), count: 4)
        for i in 0..<2 {
            let π1 = P[i], π2 = P2[i]
            let c11 = childCov(π1, π1) { $0 == $1 ? π1[$0] : 0 }
            let c22 = childCov(π2, π2) { $0 == $1 ? π2[$0] : 0 }
            let c12 = childCov(π1, π2) { π1[$0] * P[$0][$1] }
            for j in 0..<2 { for k in 0..<2 {
                V[j][k] += s0[i] * c11[j][k]; V[2 + j][2 + k] += s0[i] * c22[j][k]
                V[j][2 + k] += s0[i] * c12[j][k]; V[2 + k][j] += s0[i] * c12[j][k]
            } }
        }
        for j in 0..<2 {
            V[j][j] += m1[j]; V[2 + j][2 + j] += m2[j]
            for k in 0..<2 { V[j][2 + k] += m1[j] * P[j][k]; V[2 + k][j] += m1[j] * P[j][k] }
        }
        let μ = μ1 + μ2, y = [103.0, 24, 110, 22]
        for k in 0..<4 { V[k][k] += c * c * μ[k] * μ[k] + 1.0 / 12 }
        let inverse = MatrixFunctions.inverse(V)!
        var det = 1.0, work = V
        for col in 0..<4 {
            for r in (col + 1)..<4 {
                let factor = work[r][col] / work[col][col]
                for j in 0..<4 { work[r][j] -= factor * work[col][j] }
            }
            det *= work[col][col]
        }
        let r = zip(y, μ).map { $0 - $1 }
        var quadratic = 0.0
        for i in 0..<4 { for j in 0..<4 { quadratic += r[i] * inverse[i][j] * r[j] } }
        let direct = -0.5 * quadratic - 0.5 * Foundation.log(det) - 2 * Foundation.log(2 * Double.pi)
        let value = try model.logLikelihood(observed: obs.map(\.count), θ: [a, b], relativeSD: c)
        #expect(abs(value - direct) < 1e-9 * abs(direct), "\(value) vs \(direct)")
    }

    /// A closed population leaves out time 0 and the last level of every full census.
    @Test("closed population: the redundant count of each full census is left out")
    func closedPopulationDropsOneLevel() throws {
        let scenario = try ScenarioDecoder.decode(yaml: MarkovFixtures.fourLevels(stepMonths: 12, horizonYears: 3), file: "four.yaml")
        let obs = MarkovFixtures.census([0, 1, 2]) + [StockObservation(timeYears: 3, level: 1, count: 0)]
        let model = try MarkovStockModel(scenario: scenario, parameterPaths: MarkovFixtures.twelvePaths, observations: obs)
        #expect(model.closed)
        #expect(model.likelihoodObservations == [4, 5, 6, 8, 9, 10, 12])
        // The full census's total has zero variance: Σ is singular along it.
        let m = try model.moments(MarkovFixtures.twelveRates, covariance: true)
        let total = (4..<8).reduce(0.0) { s, a in (4..<8).reduce(s) { $0 + m.covariance[a * obs.count + $1] } }
        #expect(abs(total) < 1e-6)
    }

    /// The posterior's gradient: exact (duals) against central differences of logPosterior
    /// (step 10⁻⁵ in φ), within 10⁻⁴·(|g| + 1); with an audit and a tied rate.
    @Test("logPosteriorAndGradient matches central differences")
    func posteriorGradient() throws {
        let scenario = try ScenarioDecoder.decode(yaml: MarkovFixtures.fourLevels(stepMonths: 12, horizonYears: 6, births: 1200, outRate: 0.05), file: "four.yaml")
        let obs = MarkovFixtures.census((0...6).map(Double.init))
        let made = try StockModels.make(scenario: scenario, parameterPaths: MarkovFixtures.twelvePaths, observations: obs)
        #expect(made.simulator is MarkovStockModel)
        #expect(made.note.contains("Markov chain on levels"))
        let μ = try made.simulator.stocks(MarkovFixtures.twelveRates)
        let y = μ.enumerated().map { $1 * (1 + 0.01 * sin(Double($0))) }
        let names = made.simulator.parameterNames
        let problem = try StockCalibrationProblem(simulator: made.simulator, observed: y, likelihood: made.likelihood,
                                                  constraints: [.tied(names[11], to: names[10], factor: 4)],
                                                  audits: [RecordAudit(parameter: names[0], atRisk: 500, moved: 40, years: 1)])
        #expect(problem.dimension == 12)
        let φ = (0..<11).map { Foundation.log(MarkovFixtures.twelveRates[$0] * 1.1) } + [Foundation.log(0.01)]
        let (value, gradient) = problem.logPosteriorAndGradient(φ)
        #expect(abs(value - problem.logPosterior(φ)) < 1e-9 * abs(value))
        let h = 1e-5
        for k in φ.indices {
            var up = φ, down = φ
            up[k] += h; down[k] -= h
            let fd = (problem.logPosterior(up) - problem.logPosterior(down)) / (2 * h)
            #expect(abs(gradient[k] - fd) < 1e-4 * (abs(fd) + 1), "∂/∂φ\(k): \(gradient[k]) vs \(fd)")
        }
        // The aggregate fallback's gradient is the documented central difference.
        let aggregate = try AggregateStockSimulator(scenario: scenario, parameterPaths: MarkovFixtures.twelvePaths, observations: obs)
        let fallback = try StockCalibrationProblem(simulator: aggregate, observed: y, likelihood: .negativeBinomial(size: 200))
        let ψ = Array(φ.prefix(11)) + [Foundation.log(0.12 * 1.1)]
        let g = fallback.logDensityAndGradient(ψ)
        let fd0 = (fallback.logPosterior([ψ[0] + h] + ψ.dropFirst()) - fallback.logPosterior([ψ[0] - h] + ψ.dropFirst())) / (2 * h)
        #expect(abs(g.gradient[0] - fd0) < 1e-9 * (abs(fd0) + 1))
    }

    /// Pooled Markov parts (areas sharing θ) are independent: the likelihood is the sum of the parts'.
    @Test("pooled Markov parts: the likelihood is the sum of the parts'")
    func pooledParts() throws {
        let a = try ScenarioDecoder.decode(yaml: MarkovFixtures.fourLevels(stepMonths: 12, horizonYears: 4, births: 500, outRate: 0.05), file: "a.yaml")
        let b = try ScenarioDecoder.decode(yaml: MarkovFixtures.fourLevels(stepMonths: 3, horizonYears: 4), file: "b.yaml")
        let obs = MarkovFixtures.census([0, 1, 2, 3.5])
        let parts = try [a, b].map { try MarkovStockModel(scenario: $0, parameterPaths: MarkovFixtures.twelvePaths, observations: obs) }
        let θ = MarkovFixtures.twelveRates
        let ys = try parts.map { try $0.stocks(θ).enumerated().map { $1 * (1 + 0.02 * cos(Double($0))) } }
        let pooled = try PooledStockSimulator(parts)
        let problem = try StockCalibrationProblem(simulator: pooled, observed: ys[0] + ys[1], likelihood: .multivariateNormal(relativeSD: 0.01))
        let sum = try zip(parts, ys).reduce(0.0) { $0 + (try $1.0.logLikelihood(observed: $1.1, θ: θ, relativeSD: 0.01)) }
        #expect(abs(problem.logLikelihood(θ.map { Foundation.log($0) }) - sum) < 1e-9 * abs(sum))
    }

    /// Every feature that breaks the Markov property is named, together; the factory falls back.
    @Test("refusals name every feature, and the factory falls back to the aggregate model")
    func refusals() throws {
        let extra = """
          ageMultipliers:
            - {fromYears: 0, escalationMultiplier: 1.2}
          durationDependence:
            Intensive:
              - {fromMonths: 0, leaveMultiplier: 1.5}
              - {fromMonths: 6, leaveMultiplier: 0.8}
        practice:
          relational: {intensity: 0.6, escalationEffect: 0.3, stepDownEffect: 0.4, timeToEffectYears: 0.5}
        """
        var yaml = MarkovFixtures.fourLevels(stepMonths: 12, horizonYears: 4, extra: extra)
        yaml = yaml.replacingOccurrences(of: "ageing: false", with: "ageing: true\n  ageOutYears: 18")
        let scenario = try ScenarioDecoder.decode(yaml: yaml, file: "four.yaml")
        let paths = MarkovFixtures.twelvePaths + ["population.migration.outRatePerYear"]
        let obs = MarkovFixtures.census([1, 2])
        let options = AggregateOptions(mode: .sd)
        let error = #expect(throws: StockCalibrationError.self) {
            _ = try MarkovStockModel(scenario: scenario, parameterPaths: paths, observations: obs, options: options)
        }
        for phrase in ["aggregate mode sd", "practices (relational)", "ageing out at 216 months", "age-band multipliers (from 0 months)",
                       "duration dependence in Intensive", "population.migration.outRatePerYear is not an off-diagonal transition rate"] {
            #expect(error?.description.contains(phrase) == true, "missing '\(phrase)' in \(error?.description ?? "no error")")
        }
        let made = try StockModels.make(scenario: scenario, parameterPaths: paths, observations: obs)
        #expect(made.simulator is AggregateStockSimulator)
        #expect(made.likelihood == .standard)
        #expect(made.note.contains("practices (relational)"))
        // A multivariate normal needs the Markov model.
        let mvn = #expect(throws: StockCalibrationError.self) {
            _ = try StockCalibrationProblem(simulator: made.simulator, observed: [Double](repeating: 1, count: 8), likelihood: .markovStandard)
        }
        #expect(mvn?.description.contains("needs MarkovStockModel simulators") == true)
    }

    /// A row that writes its diagonal fixes its sum, so the aggregate model refuses every other value
    /// of a free rate in it; the Markov model (which completes the diagonal itself) must refuse too.
    @Test("a written diagonal in a row with a free rate is refused, naming the row")
    func writtenDiagonal() throws {
        let yaml = MarkovFixtures.fourLevels(stepMonths: 12, horizonYears: 4)
            .replacingOccurrences(of: "Universal: {Additional: 0.06,", with: "Universal: {Universal: -0.072, Additional: 0.06,")
        let scenario = try ScenarioDecoder.decode(yaml: yaml, file: "four.yaml")
        let error = #expect(throws: StockCalibrationError.self) {
            _ = try MarkovStockModel(scenario: scenario, parameterPaths: MarkovFixtures.twelvePaths, observations: MarkovFixtures.census([1, 2]))
        }
        #expect(error?.description.contains("the row of Universal writes its diagonal") == true, "\(error?.description ?? "no error")")
        // Rows without a free rate may keep their written diagonal.
        _ = try MarkovStockModel(scenario: scenario, parameterPaths: ["transitions.matrix.Additional.Universal"], observations: MarkovFixtures.census([1, 2]))
    }
}
