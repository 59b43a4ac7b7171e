import Calibration
import Foundation
import Testing

/// `Optimizer.minimize(valueAndGradient:)`: BFGS with the caller's exact gradient.
@Suite("BFGS with exact gradients")
struct OptimizerTests {
    /// Rosenbrock's function f = (1 − x)² + 100(y − x²)², minimum 0 at (1, 1) (Nocedal & Wright 2006,
    /// eq. 2.22), from (−1.2, 1): with the exact gradient the minimum is reached to 1e-6, and the
    /// function is called once per point tried, fewer times than with central differences (2n + 1 per gradient).
    @Test func findsRosenbrocksMinimumWithFewerCalls() {
        func value(_ p: [Double]) -> Double { (1 - p[0]) * (1 - p[0]) + 100 * (p[1] - p[0] * p[0]) * (p[1] - p[0] * p[0]) }
        func gradient(_ p: [Double]) -> [Double] {
            [-2 * (1 - p[0]) - 400 * p[0] * (p[1] - p[0] * p[0]), 200 * (p[1] - p[0] * p[0])]
        }
        let exact = Optimizer.minimize(valueAndGradient: { (value($0), gradient($0)) }, from: [-1.2, 1])
        #expect(exact.converged, "\(exact.message)")
        #expect(abs(exact.x[0] - 1) < 1e-6 && abs(exact.x[1] - 1) < 1e-6, "\(exact.x)")
        #expect(exact.gradient == gradient(exact.x), "the gradient returned is the caller's at x")
        let numerical = Optimizer.minimize(value, from: [-1.2, 1])
        #expect(numerical.converged && exact.evaluations < numerical.evaluations, "\(exact.evaluations) vs \(numerical.evaluations)")
    }

    /// Points where f is +∞ or NaN are stepped back from, as with numerical gradients: min (x − 2)² on x > 0
    /// from x = 5 with the wall at 0.
    @Test func avoidsPointsWhereTheFunctionIsNotFinite() {
        let r = Optimizer.minimize(valueAndGradient: { p in p[0] > 0 ? ((p[0] - 2) * (p[0] - 2), [2 * (p[0] - 2)]) : (.infinity, [.nan]) },
                                   from: [5])
        #expect(r.converged && abs(r.x[0] - 2) < 1e-8, "\(r.x) \(r.message)")
    }
}
