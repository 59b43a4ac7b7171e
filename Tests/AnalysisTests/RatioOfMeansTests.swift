import Analysis
import CGSL
import Stochastics
import Testing

@Suite("Ratio of means: per-child results and their MCSE")
struct RatioOfMeansTests {
    /// With the same denominator in every replication (a closed cohort of N children), the ratio
    /// is the numerator's mean over N and its MCSE the numerator's MCSE over N.
    @Test func aClosedCohortDividesByItsSize() {
        let y = [1200.0, 1350, 990, 1410, 1105, 1288]
        let r = RatioOfMeans(numerator: y, denominator: [Double](repeating: 300, count: y.count))
        let s = SampleStatistics(y)
        #expect(abs(r.mean - s.mean / 300) <= 1e-15 * s.mean)
        #expect(abs(r.mcse - s.mcse / 300) <= 1e-12 * s.mcse)
        #expect(r.count == 6 && r.units == 6)
        // The difference of an arm from itself, paired: exactly 0, with no spread.
        let d = RatioOfMeans(differenceOf: (y, [Double](repeating: 300, count: 6)), from: (y, [Double](repeating: 300, count: 6)))
        #expect(d.mean == 0 && d.mcse == 0)
    }

    /// A hand-worked case: y = (2, 4, 9), x = (1, 2, 3). R = 5/2; z = (y − R x)/x̄ = (−0.25, −0.5, 0.75),
    /// s(z) = √((0.0625 + 0.25 + 0.5625)/2) = √0.4375, MCSE = s(z)/√3.
    @Test func aHandWorkedRatio() {
        let r = RatioOfMeans(numerator: [2, 4, 9], denominator: [1, 2, 3])
        #expect(r.mean == 2.5)
        #expect(abs(r.mcse - (0.4375).squareRoot() / 3.0.squareRoot()) <= 1e-15)
    }

    /// Coverage: children ever vary (Poisson, mean 200) and the cost per child has its own noise;
    /// over 400 experiments of 40 replications the 95 % CI covers the true ratio E[Y]/E[X] = 1,500
    /// in 95 % of them, within 4 binomial standard errors (±4.4 points). Fixed seed.
    @Test func theIntervalCoversTheTrueRatio() {
        let stream = RandomStream(StreamAddress(seed: 20_261_206, replication: 0, purpose: .testing, index: 7))
        var covered = 0
        let experiments = 400
        for _ in 0..<experiments {
            var x: [Double] = [], y: [Double] = []
            for _ in 0..<40 {
                let children = Double(stream.poisson(mean: 200))
                x.append(children)
                y.append(children * 1500 + stream.withGenerator { gsl_ran_gaussian($0, 20_000) })
            }
            let r = RatioOfMeans(numerator: y, denominator: x)
            if r.ciLow <= 1500 && 1500 <= r.ciHigh { covered += 1 }
        }
        let share = Double(covered) / Double(experiments)
        let se = (0.95 * 0.05 / Double(experiments)).squareRoot()
        #expect(abs(share - 0.95) <= 4 * se, "covered \(covered) of \(experiments)")
    }

    /// In a nested run the MCSE is that of the draws' means of the influence values, as for a total.
    @Test func aNestedRunGroupsByDraw() {
        let y = [10.0, 12, 30, 33, 20, 19], x = [1.0, 1, 1, 1, 1, 1]
        let draws = [0, 0, 1, 1, 2, 2]
        let r = RatioOfMeans(numerator: y, denominator: x, groups: draws)
        let s = SampleStatistics(y, groups: draws)
        #expect(r.units == 3 && abs(r.mcse - s.mcse) <= 1e-12 && abs(r.mean - s.mean) <= 1e-12)
    }
}
