import Analysis
import CGSL
import Foundation
import Stochastics
import Testing

/// `count` normal variates with mean `mean` and standard deviation `sd`, from testing stream `index`.
private func normals(_ count: Int, mean: Double = 0, sd: Double = 1, index: UInt32, seed: UInt64 = 77_031) -> [Double] {
    let stream = RandomStream(StreamAddress(seed: seed, replication: 1, purpose: .testing, index: index))
    return (0..<count).map { _ in mean + stream.withGenerator { gsl_ran_gaussian($0, sd) } }
}

/// Unit normal loss integral L(z) = φ(z) − z·Φ(−z) = E[max(0, Z − z)] for Z ~ N(0, 1).
private func unitNormalLoss(_ z: Double) -> Double {
    gsl_ran_ugaussian_pdf(z) - z * gsl_cdf_ugaussian_Q(z)
}

private func standardDeviation(_ xs: [Double]) -> Double {
    let m = xs.reduce(0, +) / Double(xs.count)
    return (xs.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(xs.count - 1)).squareRoot()
}

@Suite("Value of information: EVPI and EVPPI")
struct ValueOfInformationTests {
    // MARK: EVPI

    /// Arm 1 beats arms 0 and 2 in every draw, so perfect information never changes the decision.
    @Test func evpiIsZeroWhenOneArmDominates() throws {
        let base = normals(500, mean: 100, sd: 30, index: 1)
        let gain = normals(500, sd: 5, index: 2)
        let nb = zip(base, gain).map { [$0, $0 + 0.01 + abs($1), $0 - abs($1)] }
        let r = try ValueOfInformation.evpi(netBenefit: nb)
        #expect(r.evpi == 0)
        #expect(r.optimalArm == 1)
        #expect(r.standardError == 0)
    }

    /// Four equally likely draws, three arms. Means 10, 11, 10.75 → arm 1; per-draw maxima
    /// 12, 14, 15, 12 → mean 13.25; EVPI = 13.25 − 11 = 2.25. Losses against arm 1 are 0, 8, 0, 1:
    /// SE = √(44.75/3 / 4).
    @Test func evpiMatchesHandComputedCase() throws {
        let nb: [[Double]] = [[10, 12, 8], [10, 6, 14], [10, 15, 9], [10, 11, 12]]
        let r = try ValueOfInformation.evpi(netBenefit: nb)
        #expect(r.expectedNetBenefit == [10, 11, 10.75])
        #expect(r.optimalArm == 1)
        #expect(r.expectedMaximumNetBenefit == 13.25)
        #expect(r.evpi == 2.25)
        #expect(abs(try #require(r.standardError) - (44.75 / 3 / 4).squareRoot()) < 1e-12)
    }

    // MARK: EVPPI

    /// A noisy three-arm model with nonlinear terms and an interaction: for every parameter
    /// group, 0 ≤ EVPPI ≤ EVPI (up to rounding, 1e−9 relative).
    @Test func evppiDoesNotExceedEVPI() throws {
        let n = 3000
        let t1 = normals(n, index: 10), t2 = normals(n, index: 11), t3 = normals(n, index: 12)
        let e1 = normals(n, index: 13), e2 = normals(n, index: 14), c = normals(n, mean: 50, sd: 10, index: 15)
        var nb: [[Double]] = [], theta: [[Double]] = []
        for i in 0..<n {
            let arm1: Double = t1[i] + 0.5 * t2[i] * t2[i] - 0.4 + e1[i]
            let arm2: Double = 0.8 * t3[i] - 0.3 * t1[i] * t2[i] + e2[i]
            nb.append([c[i], c[i] + arm1, c[i] + arm2])
            theta.append([t1[i], t2[i], t3[i]])
        }
        let evpi = try ValueOfInformation.evpi(netBenefit: nb).evpi
        for group in [[0], [1], [2], [0, 1], [0, 2], [0, 1, 2]] {
            let subset: [[Double]] = theta.map { row in group.map { row[$0] } }
            let r = try ValueOfInformation.evppi(netBenefit: nb, parameters: subset)
            #expect(r.evppi >= 0)
            #expect(r.evppi <= evpi * (1 + 1e-9), "group \(group): EVPPI \(r.evppi) > EVPI \(evpi)")
        }
    }

    struct Determined: CustomTestStringConvertible, Sendable {
        var testDescription: String
        var parameters: Int
        /// Incremental net benefit of arms 1, 2, ... as exact functions of the parameters.
        var incremental: @Sendable ([Double]) -> [Double]
        /// True when the functions lie in the span of the basis, so the fit is exact.
        var exact: Bool
    }

    static let determined: [Determined] = [
        .init(testDescription: "linear θ1 + θ2", parameters: 2, incremental: { [$0[0] + $0[1] - 0.2] }, exact: true),
        .init(testDescription: "product θ1·θ2", parameters: 2, incremental: { [$0[0] * $0[1] + 0.1, 0.5 - $0[1]] }, exact: true),
        .init(testDescription: "saturating 1.5·tanh(1.5·θ1) − 0.3, 0.8 − θ1²", parameters: 1,
              incremental: { [1.5 * tanh(1.5 * $0[0]) - 0.3, 0.8 - $0[0] * $0[0]] }, exact: false),
    ]

    /// When the group alone determines net benefit (no other uncertainty), EVPPI = EVPI.
    /// With g the fitted and f the true incremental net benefit, and equal means (the fit has
    /// an intercept), |EVPPI − EVPI| ≤ mean_i max_a |g_a − f_a| ≤ Σ_a RMS(g_a − f_a)
    /// = Σ_a sd(f_a)·√(1 − R²_a) (population sd): the tolerance, plus 1e−9 for rounding.
    /// Exact cases must also fit with R² = 1 − 1e−12; the smooth one with R² ≥ 0.99.
    @Test(arguments: determined)
    func groupThatDeterminesNetBenefitRecoversEVPI(_ c: Determined) throws {
        let n = 2000
        let theta = (0..<c.parameters).map { normals(n, mean: 0.2, sd: 1, index: 20 + UInt32($0)) }
        let rows = (0..<n).map { i in theta.map { $0[i] } }
        let base = normals(n, mean: 5, sd: 2, index: 30)
        let nb = (0..<n).map { i in [base[i]] + c.incremental(rows[i]).map { base[i] + $0 } }
        let evpi = try ValueOfInformation.evpi(netBenefit: nb).evpi
        let r = try ValueOfInformation.evppi(netBenefit: nb, parameters: rows)
        #expect(evpi > 0.05, "the case must carry decision uncertainty")
        var tolerance = 1e-9 * evpi
        for a in 1..<r.arms {
            let r2 = try #require(r.rSquared[a])
            #expect(r2 >= (c.exact ? 1 - 1e-12 : 0.99), "arm \(a): R² = \(r2)")
            let f = nb.map { $0[a] - $0[0] }
            let sd = standardDeviation(f) * (Double(n - 1) / Double(n)).squareRoot()
            tolerance += sd * max(0, 1 - r2).squareRoot()
        }
        #expect(abs(r.evppi - evpi) <= tolerance, "EVPPI \(r.evppi), EVPI \(evpi), tolerance \(tolerance)")
        #expect(r.includesInteractions == (c.parameters >= 2))
    }

    /// A parameter unrelated to net benefit. The fit is then noise e with RMS ≈ sd(INB)·√(p/n)
    /// for p basis columns, and E[max(0, μ + e)] − max(0, μ) ≤ E[e⁺] ≤ RMS(e)/2; the tolerance
    /// sd(INB)·√(p/n) doubles that bound to cover the χ²_p spread of the realised RMS.
    @Test func evppiOfPureNoiseParameterIsNearZero() throws {
        let n = 2000
        let inb = normals(n, index: 40), noise = normals(n, mean: 3, sd: 0.1, index: 41)
        let nb = inb.map { [0, $0] }
        let r = try ValueOfInformation.evppi(netBenefit: nb, parameters: noise.map { [$0] })
        let bound = standardDeviation(inb) * (Double(r.basisColumns) / Double(n)).squareRoot()
        #expect(r.evppi >= 0)
        let evpi = try ValueOfInformation.evpi(netBenefit: nb).evpi
        #expect(r.evppi <= bound, "EVPPI \(r.evppi) above \(bound); EVPI \(evpi)")
    }

    /// A parameter that never varies carries no information: EVPPI is exactly 0.
    @Test func evppiOfConstantParameterIsZero() throws {
        let n = 500
        let nb = normals(n, index: 50).map { [1, $0] }
        let r = try ValueOfInformation.evppi(netBenefit: nb, parameters: Array(repeating: [0.7], count: n))
        #expect(r.evppi == 0)
        #expect(r.basisColumns == 1)
    }

    /// INB = θ1 + θ2 with θ1 ~ N(0.3, 1²), θ2 ~ N(0.2, 0.5²) independent, μ = 0.5.
    /// E[INB | θ_j] = θ_j + μ_other ~ N(μ, σ_j²), so with X ~ N(μ, s²)
    ///
    ///     EVPPI(θ_j) = E[max(0, X)] − max(0, μ) = μΦ(μ/s) + sφ(μ/s) − max(0, μ) = s·L(|μ|/s),
    ///
    /// L(z) = φ(z) − zΦ(−z), s = σ_j; EVPI the same with s = √(σ1² + σ2²).
    /// Tolerance for EVPPI: 4 standard errors of mean_i max(0, −X_i) (the per-draw loss with the
    /// true conditional mean; arm 1 is optimal as μ > 0), combined with the shift of all fitted
    /// values by the sample mean of the other parameter, Φ(−|μ|/s)·σ_other/√n, plus the
    /// second-order bias of the fit noise, at most RMS² = σ_other²·p/n. EVPI: 4 × its reported SE.
    @Test(arguments: [0, 1])
    func evppiMatchesLinearGaussianClosedForm(parameter j: Int) throws {
        let n = 10_000
        let mu = [0.3, 0.2], sigma = [1.0, 0.5]
        let theta = [normals(n, mean: mu[0], sd: sigma[0], index: 60), normals(n, mean: mu[1], sd: sigma[1], index: 61)]
        let cost = normals(n, mean: -20, sd: 4, index: 62)
        let nb = (0..<n).map { i in [cost[i], cost[i] + theta[0][i] + theta[1][i]] }
        let other = 1 - j
        let m = mu[0] + mu[1]

        let r = try ValueOfInformation.evppi(netBenefit: nb, parameters: theta[j].map { [$0] })
        let s = sigma[j]
        let expected = s * unitNormalLoss(abs(m) / s)
        let losses = theta[j].map { max(0, -($0 + mu[other])) }
        let seLoss = standardDeviation(losses) / Double(n).squareRoot()
        let seShift = gsl_cdf_ugaussian_Q(abs(m) / s) * sigma[other] / Double(n).squareRoot()
        let bias = sigma[other] * sigma[other] * Double(r.basisColumns) / Double(n)
        let tolerance = 4 * (seLoss * seLoss + seShift * seShift).squareRoot() + bias
        #expect(r.optimalArm == 1)
        #expect(abs(r.evppi - expected) <= tolerance, "EVPPI(θ\(j + 1)) = \(r.evppi), closed form \(expected) ± \(tolerance)")

        let e = try ValueOfInformation.evpi(netBenefit: nb)
        let total = (sigma[0] * sigma[0] + sigma[1] * sigma[1]).squareRoot()
        let expectedEVPI = total * unitNormalLoss(abs(m) / total)
        #expect(abs(e.evpi - expectedEVPI) <= 4 * (try #require(e.standardError)), "EVPI \(e.evpi), closed form \(expectedEVPI)")
    }

    // MARK: Validation

    @Test func invalidInputIsRejected() {
        typealias E = ValueOfInformation.InputError
        let nb = normals(100, index: 70).map { [0, $0] }
        let theta = normals(100, index: 71).map { [$0] }
        #expect(throws: E(description: "Net benefit has 1 arm(s) in draw 0; expected at least 2 to compare.")) {
            try ValueOfInformation.evpi(netBenefit: [[1], [2]])
        }
        #expect(throws: E(description: "Net benefit in draw 1 has 3 arms; expected 2, as in draw 0.")) {
            try ValueOfInformation.evpi(netBenefit: [[1, 2], [1, 2, 3]])
        }
        #expect(throws: E(description: "Net benefit of arm 1 in draw 2 is nan; every value must be finite.")) {
            try ValueOfInformation.evpi(netBenefit: [[1, 2], [1, 2], [1, .nan]])
        }
        #expect(throws: E(description: "Number of parameter rows (99) doesn't match number of draws of net benefit (100).")) {
            try ValueOfInformation.evppi(netBenefit: nb, parameters: Array(theta.dropLast()))
        }
        #expect(throws: E(description: "Parameter 0 in draw 3 is inf; every value must be finite.")) {
            var bad = theta
            bad[3] = [.infinity]
            return try ValueOfInformation.evppi(netBenefit: nb, parameters: bad)
        }
        #expect(throws: E(description: "Interior knots must be in 1 ... 8, but is 0.")) {
            try ValueOfInformation.evppi(netBenefit: nb, parameters: theta, interiorKnots: 0)
        }
        // 1 parameter, 4 interior knots: intercept + 5 spline columns = 6, so 60 draws needed.
        #expect(throws: E(description: "EVPPI regression has 6 basis columns (intercept included) for 1 parameter(s) with 4 interior knots, "
                          + "so it needs at least 60 draws (10 per column), but got 50.")) {
            try ValueOfInformation.evppi(netBenefit: Array(nb.prefix(50)), parameters: Array(theta.prefix(50)))
        }
    }
}
