import Foundation
import Testing
@testable import Model
import TestSupport

private typealias M = MatrixFunctions

@Suite("MatrixFunctions: identities on small matrices")
struct MatrixFunctionsTests {
    static let spd: [[Double]] = [[4, 1], [1, 3]]
    static let general: [[Double]] = [[2, -1, 0.5], [0.25, 3, 1], [1, 0, 1.5]]
    /// A generator (off-diagonal ≥ 0, rows sum to 0).
    static let generator: [[Double]] = [[-0.3, 0.2, 0.1], [0.4, -0.5, 0.1], [0.05, 0.25, -0.3]]

    @Test("identity, multiply, add, scale, norm")
    func basics() {
        #expect(M.identity(2) == [[1, 0], [0, 1]])
        #expect(M.multiply([[1, 2], [3, 4]], [[5, 6], [7, 8]]) == [[19, 22], [43, 50]])
        #expect(M.multiply([[1, 2, 3]], [[1], [2], [3]]) == [[14]])
        #expect(M.add([[1, 2]], [[3, 4]], scale: -1) == [[-2, -2]])
        #expect(M.scale([[1, -2]], 3) == [[3, -6]])
        #expect(M.norm([[1, -2], [3, 0.5]]) == 3.5)
    }

    @Test("inverse: known 2×2, A·A⁻¹ = I, pivoting, singular")
    func inverse() throws {
        let inv = try #require(M.inverse([[4, 7], [2, 6]]))
        #expect(maxDifference(inv, [[0.6, -0.7], [-0.2, 0.4]]) < 1e-15)
        let g = try #require(M.inverse(Self.general))
        #expect(maxDifference(M.multiply(Self.general, g), M.identity(3)) < 1e-14)
        #expect(maxDifference(M.multiply(g, Self.general), M.identity(3)) < 1e-14)
        #expect(M.inverse([[0, 1], [1, 0]]) == [[0, 1], [1, 0]])
        #expect(M.inverse([[1, 2], [2, 4]]) == nil)
        #expect(M.inverse([[0, 0], [0, 0]]) == nil)
    }

    @Test("exp: zero, diagonal, nilpotent, rotation")
    func expClosedForms() {
        #expect(maxDifference(M.exp([[0, 0], [0, 0]]), M.identity(2)) < 1e-15)
        #expect(maxDifference(M.exp([[1, 0], [0, -2]]), [[Foundation.exp(1), 0], [0, Foundation.exp(-2)]]) < 1e-13)
        #expect(maxDifference(M.exp([[0, 1], [0, 0]]), [[1, 1], [0, 1]]) < 1e-15)
        let theta = 0.7
        #expect(maxDifference(M.exp([[0, -theta], [theta, 0]]),
                              [[cos(theta), -sin(theta)], [sin(theta), cos(theta)]]) < 1e-14)
    }

    @Test("exp of a large-norm matrix: diag(10, −10)")
    func expLarge() {
        let e = M.exp([[10, 0], [0, -10]])
        #expect(abs(e[0][0] / Foundation.exp(10) - 1) < 1e-12)
        #expect(abs(e[1][1] / Foundation.exp(-10) - 1) < 1e-9)
        #expect(e[0][1] == 0 && e[1][0] == 0)
    }

    @Test("exp(A)·exp(−A) = I and exp(2A) = exp(A)²")
    func expIdentities() {
        let a = M.scale(Self.general, 0.5)
        #expect(maxDifference(M.multiply(M.exp(a), M.exp(M.scale(a, -1))), M.identity(3)) < 1e-12)
        let e = M.exp(a)
        #expect(maxDifference(M.exp(M.scale(a, 2)), M.multiply(e, e)) < 1e-10 * M.norm(M.multiply(e, e)))
    }

    @Test("squareRoot: known roots and R² = A")
    func squareRoot() throws {
        let d = try #require(M.squareRoot([[4, 0], [0, 9]]))
        #expect(maxDifference(d, [[2, 0], [0, 3]]) < 1e-14)
        let r = try #require(M.squareRoot(Self.spd))
        #expect(maxDifference(M.multiply(r, r), Self.spd) < 1e-13)
        let s = try #require(M.squareRoot(M.identity(3)))
        #expect(maxDifference(s, M.identity(3)) < 1e-15)
    }

    @Test("squareRoot: no real principal root for a negative eigenvalue", arguments: [
        [[-1.0, 0], [0, 1]], [[0.1, 0.9], [0.9, 0.1]], [[0.0, 0], [0, 1]],
    ])
    func squareRootFails(_ a: [[Double]]) {
        #expect(M.squareRoot(a) == nil)
    }

    @Test("logarithm: log I = 0, log diag(e, e²) = diag(1, 2), log(exp Q) = Q, exp(log A) = A")
    func logarithm() throws {
        let zero = try #require(M.logarithm(M.identity(3)))
        #expect(M.norm(zero) < 1e-15)
        let l = try #require(M.logarithm([[Foundation.exp(1), 0], [0, Foundation.exp(2)]]))
        #expect(maxDifference(l, [[1, 0], [0, 2]]) < 1e-12)
        let q = try #require(M.logarithm(M.exp(Self.generator)))
        #expect(maxDifference(q, Self.generator) < 1e-12)
        let a: [[Double]] = [[0.9, 0.08, 0.02], [0.1, 0.85, 0.05], [0.05, 0.15, 0.8]]
        let la = try #require(M.logarithm(a))
        #expect(maxDifference(M.exp(la), a) < 1e-12)
    }

    @Test("logarithm: none for a negative eigenvalue")
    func logarithmFails() {
        #expect(M.logarithm([[0.1, 0.9], [0.9, 0.1]]) == nil)
        #expect(M.logarithm([[-2, 0], [0, 1]]) == nil)
    }

    @Test("power: A¹ = A, (A^½)² = A, (A^(1/12))¹² = A, A² = A·A")
    func power() throws {
        let a: [[Double]] = [[0.9, 0.08, 0.02], [0.1, 0.85, 0.05], [0.05, 0.15, 0.8]]
        #expect(M.power(a, 1) == a)
        let half = try #require(M.power(a, 0.5))
        #expect(maxDifference(M.multiply(half, half), a) < 1e-12)
        let twelfth = try #require(M.power(a, 1.0 / 12))
        #expect(maxDifference(matrixPower(twelfth, 12), a) < 1e-12)
        let two = try #require(M.power(a, 2))
        #expect(maxDifference(two, M.multiply(a, a)) < 1e-12)
        #expect(M.power([[0.1, 0.9], [0.9, 0.1]], 0.5) == nil)
    }
}

/// One two-state generator Q = [[−a, a], [b, −b]] over a step of dt years.
struct TwoStateCase: Sendable, CustomTestStringConvertible {
    var a: Double
    var b: Double
    var dt: Double
    var testDescription: String { "a = \(a), b = \(b), dt = \(dt)" }

    /// P(dt) in closed form: P01 = a/(a+b)·(1 − e^{−(a+b)dt}), P10 = b/(a+b)·(1 − e^{−(a+b)dt}).
    var closedForm: [[Double]] {
        let decay = 1 - Foundation.exp(-(a + b) * dt)
        let p01 = a / (a + b) * decay, p10 = b / (a + b) * decay
        return [[1 - p01, p01], [p10, 1 - p10]]
    }
}

@Suite("TransitionConversion: baseline matrices to per-step probabilities")
struct TransitionConversionTests {
    static let twoState: [TwoStateCase] = [
        .init(a: 0.3, b: 0.1, dt: 1.0 / 12), .init(a: 0.3, b: 0.1, dt: 1), .init(a: 5, b: 3, dt: 1.0 / 12),
        .init(a: 5, b: 3, dt: 1), .init(a: 0.001, b: 2, dt: 0.25), .init(a: 20, b: 40, dt: 1),
    ]

    @Test("rates: P = exp(Q·dt) equals the two-state closed form", arguments: twoState)
    func ratesClosedForm(_ c: TwoStateCase) throws {
        let q = [[-c.a, c.a], [c.b, -c.b]]
        let p = try TransitionConversion.perStep(q, unit: .ratesPerYear, stepYears: c.dt).get()
        #expect(maxDifference(p, c.closedForm) < 1e-13, "\(p) vs \(c.closedForm)")
        for row in p { #expect(abs(row.reduce(0, +) - 1) < 1e-15) }
    }

    @Test("rates in a scenario: monthly and quarterly steps", arguments: [1, 3])
    func ratesInScenario(stepMonths: Int) throws {
        let text = ScenarioText.twoLevels(unit: "ratesPerYear", a: "{B: 0.3}", b: "{A: 0.1}",
                                          time: "{stepMonths: \(stepMonths), horizonYears: 1}")
        let arm = try Fixtures.scenario(text).arms[0]
        let expected = TwoStateCase(a: 0.3, b: 0.1, dt: Double(stepMonths) / 12).closedForm
        #expect(maxDifference(arm.transitionPerStep, expected) < 1e-13)
        #expect(arm.transitionConversion == "P = exp(Q · \(stepMonths)/12) from yearly rates Q")
    }

    static let yearly: [[[Double]]] = [
        [[0.9, 0.08, 0.02], [0.1, 0.85, 0.05], [0.05, 0.15, 0.8]],
        M.exp(MatrixFunctionsTests.generator),
        [[0.7, 0.3], [0.2, 0.8]],
        M.identity(3),
    ]

    @Test("yearly probabilities: the monthly root's 12th power is the yearly matrix", arguments: yearly)
    func monthlyRoot(_ a: [[Double]]) throws {
        let r = try TransitionConversion.perStep(a, unit: .probabilitiesPerYear, stepYears: 1.0 / 12).get()
        #expect(maxDifference(matrixPower(r, 12), a) < 1e-10)
        for row in r {
            #expect(abs(row.reduce(0, +) - 1) < 1e-14)
            #expect(row.allSatisfy { $0 >= 0 })
        }
    }

    @Test("yearly probabilities from a generator: the root is exp(Q/12)")
    func rootOfEmbeddable() throws {
        let q = MatrixFunctionsTests.generator
        let r = try TransitionConversion.perStep(M.exp(q), unit: .probabilitiesPerYear, stepYears: 1.0 / 12).get()
        #expect(maxDifference(r, M.exp(M.scale(q, 1.0 / 12))) < 1e-12)
    }

    @Test("yearly probabilities with yearly steps are used as given")
    func yearlySteps() throws {
        let a: [[Double]] = [[0.7, 0.3], [0.2, 0.8]]
        #expect(try TransitionConversion.perStep(a, unit: .probabilitiesPerYear, stepYears: 1).get() == a)
    }

    @Test("yearly probabilities in a scenario: quarterly root, described")
    func yearlyInScenario() throws {
        let text = ScenarioText.twoLevels(unit: "probabilitiesPerYear", a: "{B: 0.3}", b: "{A: 0.2}",
                                          time: "{stepMonths: 3, horizonYears: 1}")
        let arm = try Fixtures.scenario(text).arms[0]
        #expect(maxDifference(matrixPower(arm.transitionPerStep, 4), [[0.7, 0.3], [0.2, 0.8]]) < 1e-10)
        #expect(arm.transitionConversion == "P = A^(3/12), principal root of the yearly matrix A")
    }

    @Test("per-step probabilities are used as given")
    func perStepAsGiven() throws {
        let p: [[Double]] = [[0.9, 0.1], [0.25, 0.75]]
        #expect(try TransitionConversion.perStep(p, unit: .probabilitiesPerStep, stepYears: 1.0 / 12).get() == p)
        let arm = try Fixtures.scenario(ScenarioText.perStep).arms[0]
        #expect(arm.transitionConversion == "probabilities per step, used as given")
    }

    @Test("failures: no real root, and a root with a negative entry")
    func failures() {
        #expect(TransitionConversion.perStep([[0.1, 0.9], [0.9, 0.1]], unit: .probabilitiesPerYear, stepYears: 1.0 / 12)
            == .failure(.noRealRoot))
        let result = TransitionConversion.perStep([[0.5, 0.5, 0], [0, 0.5, 0.5], [0, 0, 1]],
                                                  unit: .probabilitiesPerYear, stepYears: 1.0 / 12)
        guard case .failure(.negativeEntry(from: 0, to: 2, let value)) = result else {
            Issue.record("expected a negative entry at (0, 2), got \(result)")
            return
        }
        #expect(value < -1e-12 && value > -0.1)
    }

    @Test("absorbing rows stay absorbing after conversion", arguments: TransitionUnit.allCases)
    func absorbingRow(_ unit: TransitionUnit) throws {
        let m: [[Double]] = unit == .ratesPerYear
            ? [[-0.2, 0.1, 0.1], [0.3, -0.4, 0.1], [0, 0, 0]]
            : [[0.8, 0.15, 0.05], [0.25, 0.7, 0.05], [0, 0, 1]]
        let p = try TransitionConversion.perStep(m, unit: unit, stepYears: 1.0 / 12).get()
        #expect(maxDifference([p[2]], [[0, 0, 1]]) < 1e-14)
        for row in p { #expect(abs(row.reduce(0, +) - 1) < 1e-14) }
    }
}
