import Analysis
import CGSL
import Stochastics
import Testing

/// `count` normal variates with mean 0 and standard deviation `sd`, from testing stream `index`.
private func gaussians(_ count: Int, sd: Double, index: UInt32, seed: UInt64 = 20_240_611) -> [Double] {
    let stream = RandomStream(StreamAddress(seed: seed, replication: 0, purpose: .testing, index: index))
    return (0..<count).map { _ in stream.withGenerator { gsl_ran_gaussian($0, sd) } }
}

/// Y = θ_d + ε with `draws` draws of `replications` values each.
private func simulate(draws: Int, replications: Int, sdParameter: Double, sdChance: Double, index: UInt32) -> (values: [Double], draw: [Int]) {
    let theta = gaussians(draws, sd: sdParameter, index: 2 * index)
    let epsilon = gaussians(draws * replications, sd: sdChance, index: 2 * index + 1)
    let draw = (0..<(draws * replications)).map { $0 / replications }
    return (zip(draw, epsilon).map { theta[$0] + $1 }, draw)
}

@Suite("Variance decomposition: parameter and chance uncertainty")
struct VarianceDecompositionTests {
    /// Three draws of three: means 2, 6, 10, grand mean 6.
    /// SSW = 2 + 8 + 2 = 12 on 6 df → MSW = 2; SSB = 3·(16 + 0 + 16) = 96 on 2 df → MSB = 48;
    /// σp² = (48 − 2)/3 = 46/3; share = (46/3)/(46/3 + 2) = 23/26; total variance = 108/8 = 13.5;
    /// SE² = 2/9·(48²/2 + 2²/6). F = 24 on (2, 6) df; from tables F(0.975; 2, 6) = 7.259856 and
    /// F(0.025; 2, 6) = 1/F(0.975; 6, 2) = 1/39.33 = 0.0254249.
    @Test func handComputedBalancedTable() throws {
        let v = try VarianceDecomposition(values: [1, 2, 3, 4, 6, 8, 9, 10, 11], draw: [0, 0, 0, 1, 1, 1, 2, 2, 2])
        #expect(v.draws == 3 && v.values == 9 && v.isBalanced)
        #expect(v.replicationsPerDraw == 3)
        #expect(v.effectiveReplicationsPerDraw == 3)
        #expect(v.grandMean == 6)
        #expect(v.totalVariance == 13.5)
        #expect(v.chanceVariance == 2)
        #expect(v.betweenDrawMeanSquare == 48)
        let p = try #require(v.parameterVariance)
        #expect(abs(p - 46.0 / 3) < 1e-12)
        #expect(v.untruncatedParameterVariance == v.parameterVariance)
        #expect(abs(try #require(v.parameterShare) - 23.0 / 26) < 1e-12)
        let se = try #require(v.parameterVarianceStandardError)
        let expectedSE: Double = (2.0 / 9 * (48.0 * 48 / 2 + 4.0 / 6)).squareRoot()
        #expect(abs(se - expectedSE) < 1e-12)
        let ci = try #require(v.parameterShareInterval)
        let lower = 24 / 7.259856, upper = 24 / 0.0254249
        #expect(abs(ci.lowerBound - (lower - 1) / (lower + 2)) < 1e-6)
        #expect(abs(ci.upperBound - (upper - 1) / (upper + 2)) < 1e-6)
    }

    /// Draw sizes 2, 3, 5 with labels 40, −2, 7 in shuffled order: draw means 2, 6, 10, grand mean 7.2,
    /// SSW = 2 + 2 + 10 = 14 on 7 df → MSW = 2; SSB = 2·5.2² + 3·1.2² + 5·2.8² = 97.6 on 2 df → MSB = 48.8;
    /// n0 = (10 − (4 + 9 + 25)/10)/2 = 3.1; σp² = 46.8/3.1; total variance = 111.6/9 = 12.4.
    @Test func handComputedUnbalancedTable() throws {
        let values: [Double] = [9, 1, 5, 12, 6, 8, 3, 10, 7, 11]
        let draw = [7, 40, -2, 7, -2, 7, 40, 7, -2, 7]
        let v = try VarianceDecomposition(values: values, draw: draw)
        #expect(v.draws == 3 && v.values == 10 && !v.isBalanced)
        #expect(abs(v.replicationsPerDraw - 10.0 / 3) < 1e-12)
        #expect(abs(try #require(v.effectiveReplicationsPerDraw) - 3.1) < 1e-12)
        #expect(abs(v.grandMean - 7.2) < 1e-12)
        #expect(abs(v.totalVariance - 12.4) < 1e-12)
        #expect(abs(try #require(v.chanceVariance) - 2) < 1e-12)
        #expect(abs(try #require(v.betweenDrawMeanSquare) - 48.8) < 1e-12)
        #expect(abs(try #require(v.parameterVariance) - 46.8 / 3.1) < 1e-12)
        // The order of values does not matter.
        let order = [3, 0, 9, 1, 5, 2, 8, 4, 7, 6]
        let w = try VarianceDecomposition(values: order.map { values[$0] }, draw: order.map { draw[$0] })
        #expect(abs(try #require(w.parameterVariance) - 46.8 / 3.1) < 1e-12)
    }

    /// Draw means equal (2 and 2) but values spread: MSB = 0 < MSW, so σp² = −MSW/2 is truncated to 0.
    @Test func negativeEstimateIsTruncated() throws {
        let v = try VarianceDecomposition(values: [1, 3, 0, 4], draw: [0, 0, 1, 1])
        #expect(v.chanceVariance == 5)
        #expect(v.untruncatedParameterVariance == -2.5)
        #expect(v.parameterVariance == 0)
        #expect(v.parameterShare == 0)
    }

    /// One replication per draw: the split is not identified.
    @Test func oneReplicationPerDrawGivesNoSplit() throws {
        let values: [Double] = [3, 1, 4, 1, 5, 9]
        let v = try VarianceDecomposition(values: values, draw: Array(0..<6))
        #expect(v.chanceVariance == nil)
        #expect(v.parameterVariance == nil && v.untruncatedParameterVariance == nil)
        #expect(v.parameterShare == nil && v.parameterShareInterval == nil && v.parameterVarianceStandardError == nil)
        // Mean 23/6; Σ(y − ȳ)² = 133 − 23²/6 = 269/6; variance 269/30.
        #expect(abs(v.totalVariance - 269.0 / 30) < 1e-12)
    }

    /// One draw: no between-draw degrees of freedom.
    @Test func oneDrawGivesNoSplit() throws {
        let v = try VarianceDecomposition(values: [1, 2, 3, 6], draw: [5, 5, 5, 5])
        #expect(v.betweenDrawMeanSquare == nil && v.parameterVariance == nil && v.parameterShare == nil)
        #expect(v.chanceVariance == v.totalVariance)
    }

    /// Y = θ_d + ε, θ ~ N(0, 2²), ε ~ N(0, 3²), 400 draws × 10 replications. Normal-theory
    /// standard errors with the true values (Searle et al. 1992, ch. 3):
    /// SE(σc²) = σc²·√(2/(N − a)) ≈ 0.21, SE(σp²) = √(2/K²·((σc² + Kσp²)²/(a − 1) + σc⁴/(N − a))) ≈ 0.35.
    /// Each estimate must lie within 4 standard errors, and the reported SE within 20 % of the true one.
    @Test func recoversKnownComponents() throws {
        let a = 400, k = 10
        let sp2 = 4.0, sc2 = 9.0
        let (values, draw) = simulate(draws: a, replications: k, sdParameter: sp2.squareRoot(), sdChance: sc2.squareRoot(), index: 1)
        let v = try VarianceDecomposition(values: values, draw: draw)
        let n = Double(a * k), kk = Double(k)
        let seChance = sc2 * (2 / (n - Double(a))).squareRoot()
        let seParameter = (2 / (kk * kk) * ((sc2 + kk * sp2) * (sc2 + kk * sp2) / Double(a - 1) + sc2 * sc2 / (n - Double(a)))).squareRoot()
        let chance = try #require(v.chanceVariance), parameter = try #require(v.parameterVariance)
        #expect(abs(chance - sc2) < 4 * seChance, "σc² = \(chance), expected \(sc2) ± \(4 * seChance)")
        #expect(abs(parameter - sp2) < 4 * seParameter, "σp² = \(parameter), expected \(sp2) ± \(4 * seParameter)")
        let reported = try #require(v.parameterVarianceStandardError)
        #expect(abs(reported / seParameter - 1) < 0.2, "SE(σp²) = \(reported), true \(seParameter)")
        #expect(abs(v.totalVariance - (sp2 + sc2)) < 4 * (seParameter + seChance))
    }

    /// The 95 % interval for the share covers the true share 0.2 in 95 % of 1,000 simulated
    /// balanced data sets (10 draws × 4), within 4 binomial standard errors √(0.95·0.05/1000) ≈ 0.0069.
    @Test func shareIntervalHasNominalCoverage() throws {
        let sets = 1000
        var covered = 0
        for s in 0..<sets {
            let (values, draw) = simulate(draws: 10, replications: 4, sdParameter: 1, sdChance: 2, index: 100 + UInt32(s))
            let v = try VarianceDecomposition(values: values, draw: draw)
            if try #require(v.parameterShareInterval).contains(0.2) { covered += 1 }
        }
        let coverage = Double(covered) / Double(sets)
        #expect(abs(coverage - 0.95) < 4 * (0.95 * 0.05 / Double(sets)).squareRoot(), "coverage \(coverage)")
    }

    @Test func invalidInputIsRejected() {
        #expect(throws: VarianceDecomposition.InputError(description: "Number of draw labels (2) doesn't match number of values (3).")) {
            try VarianceDecomposition(values: [1, 2, 3], draw: [0, 1])
        }
        #expect(throws: VarianceDecomposition.InputError(description: "Value 1 (draw 0) is nan; every value must be finite.")) {
            try VarianceDecomposition(values: [1, .nan, 3], draw: [0, 0, 1])
        }
        #expect(throws: VarianceDecomposition.InputError(description: "Variance decomposition needs at least 2 values, but got 1.")) {
            try VarianceDecomposition(values: [1], draw: [0])
        }
    }
}
