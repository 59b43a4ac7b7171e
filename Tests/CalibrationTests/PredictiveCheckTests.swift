import Calibration
import Foundation
import Model
import Stochastics
import Testing

@Suite struct PredictiveCheckTests {
    static let truth = [0.05, 0.3, 0.05, 0.3, 0.1, 0]

    /// Replicated counts have the likelihood's mean and variance: Poisson μ, negative binomial
    /// μ + μ²/k (k = 20), checked over 4,000 replications on 30 counts to within 5 standard errors.
    @Test func replicatesHaveTheLikelihoodsMeanAndVariance() throws {
        let poisson = try ThreeLevelFixtures.restricted(truth: Self.truth, seed: 3)
        let nb = try StockCalibrationProblem(simulator: poisson.simulator, priors: poisson.priors, likelihood: .negativeBinomialEstimated(sizePrior: .logNormal(median: 100, sdLog: 2)))
        let φ = [0.1, 0.3, 0.1, 0.3].map { log($0) }
        let μ = try #require(poisson.expectedCounts(φ))
        let stream = RandomStream(StreamAddress(seed: 5, replication: 0, purpose: .testing, index: 0))
        let n = 4000
        for (problem, coordinates, k) in [(poisson, φ, Double.infinity), (nb, φ + [log(20)], 20)] {
            let draws = (0..<n).map { _ in problem.replicate(coordinates, stream: stream)! }
            for j in [0, 4, 13, 29] {
                let xs = draws.map { $0[j] }
                let mean = xs.reduce(0, +) / Double(n)
                let variance = xs.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(n - 1)
                let v = μ[j] + (k.isFinite ? μ[j] * μ[j] / k : 0)
                #expect(abs(mean - μ[j]) < 5 * (v / Double(n)).squareRoot(), "count \(j): mean \(mean) for μ \(μ[j])")
                // sd of a sample variance ≈ v·√(2/n) (normal approximation; generous for the NB's heavier tail).
                #expect(abs(variance / v - 1) < 5 * (2 / Double(n)).squareRoot() * (k.isFinite ? 2 : 1), "count \(j): variance \(variance) for \(v)")
            }
            #expect(draws.allSatisfy { $0.allSatisfy { $0 >= 0 && $0 == $0.rounded() } })
        }
    }

    /// Draws at the truth (the model that made the data): the intervals cover and the p-value is not small.
    /// Draws at the adjacent-only maximum for data with a non-adjacent move: the check fails.
    @Test func checkPassesAtTheTruthAndFailsForAWrongModel() throws {
        let (scenario, observed) = try ThreeLevelFixtures.counts(truth: Self.truth, seed: 3)
        let full = try StockCalibrationProblem(
            simulator: AggregateStockSimulator(scenario: scenario, parameterPaths: ThreeLevelFixtures.allPaths, observations: observed),
            likelihood: .poisson)
        let atTruth = [[Double]](repeating: Self.truth.map { log(max($0, 1e-9)) }, count: 400)
        let good = StockPredictiveCheck.run(full, draws: atTruth, seed: 1)
        #expect(good.draws == 400 && good.rows.count == 30)
        #expect(good.coverage >= 0.85)
        #expect(good.pValue > 0.05)
        #expect(!good.description.contains("WARNING"))

        let restricted = try ThreeLevelFixtures.restricted(truth: Self.truth, seed: 3)
        let mle = StockModelComparison.maximumLikelihood(restricted)
        let bad = StockPredictiveCheck.run(restricted, draws: [[Double]](repeating: mle.coordinates, count: 400), seed: 1)
        #expect(bad.pValue < 0.01)
        #expect(bad.coverage < 0.6)
        #expect(bad.description.contains("WARNING: the counts stray further"))
    }

    /// The discrepancy is Pearson's X² with the least-squares floor: (5 − 2)²/2 + (0 − 0.5)²/1 = 4.75.
    @Test func pearsonDiscrepancy() {
        #expect(abs(StockPredictiveCheck.pearson([5, 0], expected: [2, 0.5]) - 4.75) < 1e-12)
    }

    /// ppc.csv: the documented header, dates from the origin, `inside` as true/false.
    @Test func csvRows() throws {
        let check = StockPredictiveCheck(
            rows: [.init(observed: 10, predictiveMean: 9.5, q025: 4, q975: 16, inside: true),
                   .init(observed: 30, predictiveMean: 12, q025: 6, q975: 19, inside: false)],
            coverage: 0.5, pValue: 0.02, observedDiscrepancy: 30, replicatedDiscrepancy: 2, draws: 100)
        let origin = try #require(Day(iso: "2015-07-31"))
        let text = check.csv(observations: [StockObservation(timeYears: 1, level: 0, count: 10), StockObservation(timeYears: 1, level: 1, count: 30)],
                             levels: ["Universal", "Additional"], origin: origin)
        #expect(text == """
            date,time_years,level,observed,predictive_mean,predictive_q2_5,predictive_q97_5,inside
            2016-07-30,1,Universal,10,9.5,4,16,true
            2016-07-30,1,Additional,30,12,6,19,false

            """)
    }
}

@Suite struct MarkovPredictiveCheckTests {
    /// The three-level fixture as a Markov chain on levels, multivariate normal with relative sd 0.01.
    static func problem() throws -> StockCalibrationProblem {
        let (scenario, observed) = try ThreeLevelFixtures.counts(truth: PredictiveCheckTests.truth, seed: 3)
        let markov = try MarkovStockModel(scenario: scenario, parameterPaths: ThreeLevelFixtures.adjacentPaths, observations: observed)
        return try StockCalibrationProblem(simulator: markov, priors: [RatePrior](repeating: .logNormal(median: 0.1, sdLog: 1), count: 4),
                                           likelihood: .multivariateNormal(relativeSD: 0.01))
    }

    /// Replicates of the multivariate normal have its mean and covariance Σ + diag(c²μ² + 1/12):
    /// checked on Universal and Additional at year 1 and Universal at years 1 and 2 over 4,000
    /// replications, within 5 standard errors (se of a sample covariance √((VᵢᵢVⱼⱼ + Vᵢⱼ²)/n)).
    @Test func replicatesHaveTheMultivariateNormalsMoments() throws {
        let problem = try Self.problem()
        let markov = try #require(problem.simulator as? MarkovStockModel)
        let θ = [0.1, 0.3, 0.1, 0.3]
        let moments = try markov.moments(θ, covariance: true)
        let m = moments.mean.count
        func v(_ i: Int, _ j: Int) -> Double {
            moments.covariance[i * m + j] + (i == j ? 1e-4 * moments.mean[i] * moments.mean[i] + 1.0 / 12 : 0)
        }
        let stream = RandomStream(StreamAddress(seed: 9, replication: 0, purpose: .testing, index: 0))
        let n = 4000
        let draws = (0..<n).map { _ in problem.replicate(θ.map { log($0) }, stream: stream)! }
        for (i, j) in [(0, 0), (0, 1), (0, 3), (1, 1)] {
            let xi = draws.map { $0[i] }, xj = draws.map { $0[j] }
            let mi = xi.reduce(0, +) / Double(n), mj = xj.reduce(0, +) / Double(n)
            #expect(abs(mi - moments.mean[i]) < 5 * (v(i, i) / Double(n)).squareRoot())
            let c = zip(xi, xj).map { ($0 - mi) * ($1 - mj) }.reduce(0, +) / Double(n - 1)
            let se = ((v(i, i) * v(j, j) + v(i, j) * v(i, j)) / Double(n)).squareRoot()
            #expect(abs(c - v(i, j)) < 5 * se, "covariance of counts \(i), \(j): \(c) against \(v(i, j))")
        }
        // Universal and Additional at year 1 share a closed population: negatively correlated.
        #expect(v(0, 1) < 0)
    }

    /// The comparison on a Markov problem fits the full model as a Markov model too, and warns on
    /// data with a direct Universal→Intensive move (levels Universal, Additional, Intensive; seed 3).
    @Test func comparisonOfMarkovModels() throws {
        let problem = try Self.problem()
        let full = try #require(try StockModelComparison.fullProblem(of: problem))
        #expect(full.simulator is MarkovStockModel && full.dimension == 6)
        let c = StockModelComparison.compare(restricted: problem, full: full)
        #expect(c.degreesOfFreedom == 2 && c.prefersFull)
        #expect(c.extra.first { $0.name == "Universal→Intensive" }?.clearlyAboveZero == true)
    }
}
