import Analysis
import Foundation

/// Minimisation of smooth functions of a few parameters, with numerical derivatives.
///
/// Quasi-Newton BFGS with a backtracking (Armijo) line search and central-
/// difference gradients (Nocedal & Wright 2006, *Numerical Optimization*,
/// 2nd ed., Springer: Algorithm 6.1 with the initial scaling of eq. 6.20,
/// Algorithm 3.1 for the line search, section 8.1 for the differences).
/// Meant for likelihoods with up to a few dozen parameters, each evaluation
/// cheap enough that 2n + 1 of them per iteration are affordable. The
/// function may return +∞ or NaN where it is undefined; the line search then
/// shortens the step.
public enum Optimizer {
    /// Stopping rules.
    public struct Options: Sendable, Equatable {
        /// At most this many BFGS iterations.
        public var maxIterations: Int
        /// Converged when every scaled gradient component |gᵢ|·max(|xᵢ|, 1) ≤ tolerance·max(|f|, 1).
        public var gradientTolerance: Double
        /// Converged when two successive iterations each lower f by less than tolerance·max(|f|, 1).
        public var valueTolerance: Double

        public init(maxIterations: Int = 500, gradientTolerance: Double = 1e-7, valueTolerance: Double = 1e-13) {
            self.maxIterations = maxIterations
            self.gradientTolerance = gradientTolerance
            self.valueTolerance = valueTolerance
        }
    }

    /// Where the minimiser stopped and why.
    public struct Result: Sendable, Equatable {
        /// The minimising point found.
        public var x: [Double]
        /// f(x).
        public var value: Double
        /// The numerical gradient at x.
        public var gradient: [Double]
        /// BFGS iterations taken.
        public var iterations: Int
        /// Evaluations of f, including those of the gradients.
        public var evaluations: Int
        /// True if a stopping rule on the gradient or on f was met.
        public var converged: Bool
        /// Which rule stopped the search, in words.
        public var message: String
    }

    /// Minimise f from x0 by BFGS with numerical gradients.
    ///
    /// ```
    /// p = −H·∇f(x);  x ← x + α·p with α = 1, ½, ¼, … until f(x + αp) ≤ f(x) + 10⁻⁴·α·∇f·p
    /// s = αp, y = ∇f(x_new) − ∇f(x);  H ← (I − ρsyᵀ) H (I − ρysᵀ) + ρssᵀ,  ρ = 1/yᵀs  (skipped unless yᵀs > 0)
    /// ```
    ///
    /// H starts as I/max(1, ‖∇f(x0)‖∞), so the first step moves no coordinate by
    /// more than 1, and is rescaled to (yᵀs/yᵀy)·I after the first step. If the
    /// line search fails, H is reset to the scaled identity once before giving up.
    ///
    /// - Parameters:
    ///   - f: the function; +∞ or NaN marks points to avoid. f(x0) must be finite.
    ///   - x0: the starting point.
    /// - Complexity: per iteration, 2n + 1 evaluations for the gradient plus
    ///   those of the line search, and O(n²) arithmetic.
    public static func minimize(_ f: ([Double]) -> Double, from x0: [Double], options: Options = Options()) -> Result {
        var evaluations = 0
        func fc(_ x: [Double]) -> Double {
            evaluations += 1
            let v = f(x)
            return v.isNaN ? .infinity : v
        }
        var result = search(value: fc, gradient: { gradient(fc, at: $0, value: $1) }, from: x0, options: options)
        result.evaluations = evaluations
        return result
    }

    /// Minimise f from x0 by the same BFGS, with the exact gradient: `valueAndGradient(x)` gives
    /// f(x) and ∇f(x) together (e.g. by reverse-mode differentiation), and is called once per point
    /// the line search tries; the gradient of the accepted point is the one computed with its value.
    ///
    /// - Parameters:
    ///   - valueAndGradient: f and ∇f; +∞ or NaN for f marks points to avoid (the gradient is then ignored).
    /// - Complexity: per iteration, one call per line-search trial (usually one), and O(n²) arithmetic.
    public static func minimize(valueAndGradient: ([Double]) -> (value: Double, gradient: [Double]), from x0: [Double],
                                options: Options = Options()) -> Result {
        var evaluations = 0
        var last: (x: [Double], gradient: [Double])? = nil
        func fc(_ x: [Double]) -> Double {
            evaluations += 1
            let (v, g) = valueAndGradient(x)
            last = (x, g)
            return v.isNaN ? .infinity : v
        }
        func gc(_ x: [Double], _ fx: Double) -> [Double] {
            if let last, last.x == x, last.gradient.count == x.count { return last.gradient }
            _ = fc(x)
            return last?.gradient.count == x.count ? last!.gradient : [Double](repeating: .nan, count: x.count)
        }
        var result = search(value: fc, gradient: gc, from: x0, options: options)
        result.evaluations = evaluations
        return result
    }

    /// BFGS with a backtracking line search on `value`, `gradient(x, value(x))` at each accepted point.
    static func search(value fc: ([Double]) -> Double, gradient: ([Double], Double) -> [Double], from x0: [Double],
                       options: Options) -> Result {
        let n = x0.count
        let evaluations = 0
        var x = x0
        var fx = fc(x)
        guard fx.isFinite else {
            return Result(x: x, value: fx, gradient: [Double](repeating: .nan, count: n), iterations: 0,
                          evaluations: evaluations, converged: false, message: "f is not finite at the starting point")
        }
        var g = gradient(x, fx)
        func identity(_ scale: Double) -> [[Double]] { (0..<n).map { i in (0..<n).map { j in i == j ? scale : 0 } } }
        func initialScale(_ g: [Double]) -> Double { 1 / max(1, g.map(abs).max() ?? 1) }
        var h = identity(initialScale(g))
        var smallChanges = 0
        var resetDone = false
        var firstStep = true
        func gradientSmall(_ g: [Double], _ x: [Double], _ fx: Double) -> Bool {
            let scale = max(abs(fx), 1)
            return zip(g, x).allSatisfy { abs($0) * max(abs($1), 1) <= options.gradientTolerance * scale }
        }
        for iteration in 0..<options.maxIterations {
            if gradientSmall(g, x, fx) {
                return Result(x: x, value: fx, gradient: g, iterations: iteration, evaluations: evaluations,
                              converged: true, message: "gradient below tolerance")
            }
            var p = (0..<n).map { i in -(0..<n).reduce(0) { $0 + h[i][$1] * g[$1] } }
            var slope = zip(p, g).reduce(0) { $0 + $1.0 * $1.1 }
            if !(slope < 0) {  // H lost positive definiteness numerically: steepest descent
                h = identity(initialScale(g))
                p = g.map { -$0 * initialScale(g) }
                slope = zip(p, g).reduce(0) { $0 + $1.0 * $1.1 }
            }
            var alpha = 1.0, xNew = x, fNew = Double.infinity
            var accepted = false
            while alpha > 1e-14 {
                xNew = zip(x, p).map { $0 + alpha * $1 }
                fNew = fc(xNew)
                if fNew.isFinite && fNew <= fx + 1e-4 * alpha * slope { accepted = true; break }
                alpha *= 0.5
            }
            guard accepted else {
                if !resetDone {
                    resetDone = true
                    h = identity(initialScale(g))
                    firstStep = true
                    continue
                }
                return Result(x: x, value: fx, gradient: g, iterations: iteration, evaluations: evaluations,
                              converged: false, message: "the line search found no lower point along the search direction")
            }
            let gNew = gradient(xNew, fNew)
            let s = zip(xNew, x).map { $0 - $1 }
            let y = zip(gNew, g).map { $0 - $1 }
            let ys = zip(y, s).reduce(0) { $0 + $1.0 * $1.1 }
            let yy = y.reduce(0) { $0 + $1 * $1 }
            if ys > 1e-12 * sqrt(yy * s.reduce(0) { $0 + $1 * $1 }) {
                if firstStep { h = identity(ys / yy); firstStep = false }
                let rho = 1 / ys
                let hy = (0..<n).map { i in (0..<n).reduce(0) { $0 + h[i][$1] * y[$1] } }
                let yhy = zip(y, hy).reduce(0) { $0 + $1.0 * $1.1 }
                // H ← H − ρ(Hy sᵀ + s yᵀH) + (ρ² yᵀHy + ρ) s sᵀ  (H symmetric)
                for i in 0..<n {
                    for j in 0..<n {
                        h[i][j] += -rho * (hy[i] * s[j] + s[i] * hy[j]) + (rho * rho * yhy + rho) * s[i] * s[j]
                    }
                }
            }
            let decrease = fx - fNew
            x = xNew; fx = fNew; g = gNew
            if decrease <= options.valueTolerance * max(abs(fx), 1) {
                smallChanges += 1
                if smallChanges >= 2 {
                    return Result(x: x, value: fx, gradient: g, iterations: iteration + 1, evaluations: evaluations,
                                  converged: true, message: "f changed by less than the tolerance in two iterations")
                }
            } else {
                smallChanges = 0
            }
        }
        let done = gradientSmall(g, x, fx)
        return Result(x: x, value: fx, gradient: g, iterations: options.maxIterations, evaluations: evaluations,
                      converged: done, message: done ? "gradient below tolerance" : "the iteration limit was reached")
    }

    /// The central-difference gradient of f at x.
    ///
    /// ```
    /// ∂f/∂xᵢ ≈ (f(x + hᵢeᵢ) − f(x − hᵢeᵢ)) / 2hᵢ,   hᵢ = ε^(1/3)·max(|xᵢ|, 1)
    /// ```
    ///
    /// With ε the double-precision unit roundoff; if one side is not finite,
    /// the one-sided difference with `value` = f(x) is used (Nocedal & Wright 2006, §8.1).
    /// - Complexity: 2n evaluations of f.
    public static func gradient(_ f: ([Double]) -> Double, at x: [Double], value: Double? = nil) -> [Double] {
        let fx = value ?? f(x)
        return x.indices.map { i in
            let h = cbrt(Double.ulpOfOne) * max(abs(x[i]), 1)
            var xp = x, xm = x
            xp[i] += h; xm[i] -= h
            let fp = f(xp), fm = f(xm)
            if fp.isFinite && fm.isFinite { return (fp - fm) / (xp[i] - xm[i]) }
            if fp.isFinite { return (fp - fx) / (xp[i] - x[i]) }
            if fm.isFinite { return (fx - fm) / (x[i] - xm[i]) }
            return .nan
        }
    }

    /// The central-difference Hessian of f at x (symmetric).
    ///
    /// ```
    /// ∂²f/∂xᵢ²    ≈ (f(x + hᵢeᵢ) − 2f(x) + f(x − hᵢeᵢ)) / hᵢ²
    /// ∂²f/∂xᵢ∂xⱼ ≈ (f(x + hᵢeᵢ + hⱼeⱼ) − f(x + hᵢeᵢ − hⱼeⱼ) − f(x − hᵢeᵢ + hⱼeⱼ) + f(x − hᵢeᵢ − hⱼeⱼ)) / 4hᵢhⱼ
    /// hᵢ = ε^(1/4)·max(|xᵢ|, 1)
    /// ```
    ///
    /// (Nocedal & Wright 2006, §8.1, eqs. 8.7 and 8.9 in central form.)
    /// - Complexity: 2n² + 1 evaluations of f.
    public static func hessian(_ f: ([Double]) -> Double, at x: [Double]) -> [[Double]] {
        let n = x.count
        let h = x.map { pow(Double.ulpOfOne, 0.25) * max(abs($0), 1) }
        let f0 = f(x)
        func at(_ steps: [(Int, Double)]) -> Double {
            var y = x
            for (i, s) in steps { y[i] += s * h[i] }
            return f(y)
        }
        var result = [[Double]](repeating: [Double](repeating: 0, count: n), count: n)
        for i in 0..<n {
            result[i][i] = (at([(i, 1)]) - 2 * f0 + at([(i, -1)])) / (h[i] * h[i])
            for j in 0..<i {
                let v = (at([(i, 1), (j, 1)]) - at([(i, 1), (j, -1)]) - at([(i, -1), (j, 1)]) + at([(i, -1), (j, -1)]))
                    / (4 * h[i] * h[j])
                result[i][j] = v
                result[j][i] = v
            }
        }
        return result
    }

    /// The inverse of a symmetric positive-definite matrix through its Cholesky
    /// factor; nil if it is not positive definite. Used for covariances, A⁻¹ of a Hessian.
    /// - Complexity: O(n³).
    public static func inversePositiveDefinite(_ a: [[Double]]) -> [[Double]]? {
        guard let l = Statistics.cholesky(a) else { return nil }
        let n = a.count
        // L⁻¹ by forward substitution, then A⁻¹ = L⁻ᵀ L⁻¹.
        var li = [[Double]](repeating: [Double](repeating: 0, count: n), count: n)
        for j in 0..<n {
            li[j][j] = 1 / l[j][j]
            for i in (j + 1)..<n {
                var s = 0.0
                for k in j..<i { s -= l[i][k] * li[k][j] }
                li[i][j] = s / l[i][i]
            }
        }
        var inv = [[Double]](repeating: [Double](repeating: 0, count: n), count: n)
        for i in 0..<n {
            for j in 0...i {
                var s = 0.0
                for k in i..<n { s += li[k][i] * li[k][j] }
                inv[i][j] = s
                inv[j][i] = s
            }
        }
        return inv
    }
}
