import Foundation

/// Small dense matrix functions for converting transition matrices between
/// time scales. Matrices are row-major `[[Double]]`, n×n with small n.
///
/// References: Higham (2008), *Functions of Matrices*, SIAM: the exponential
/// by scaling and squaring (ch. 10), the square root by the Denman–Beavers
/// iteration (ch. 6.3), the logarithm by inverse scaling and squaring (ch. 11).
public enum MatrixFunctions {
    public typealias Matrix = [[Double]]

    public static func identity(_ n: Int) -> Matrix {
        (0..<n).map { i in (0..<n).map { j in i == j ? 1 : 0 } }
    }

    public static func multiply(_ a: Matrix, _ b: Matrix) -> Matrix {
        let n = a.count, m = b[0].count, inner = b.count
        var c = Matrix(repeating: [Double](repeating: 0, count: m), count: n)
        for i in 0..<n { for k in 0..<inner where a[i][k] != 0 { for j in 0..<m { c[i][j] += a[i][k] * b[k][j] } } }
        return c
    }

    public static func add(_ a: Matrix, _ b: Matrix, scale: Double = 1) -> Matrix {
        zip(a, b).map { ra, rb in zip(ra, rb).map { $0 + scale * $1 } }
    }

    public static func scale(_ a: Matrix, _ s: Double) -> Matrix { a.map { $0.map { $0 * s } } }

    /// Maximum absolute row sum (the ∞-norm).
    public static func norm(_ a: Matrix) -> Double { a.map { $0.reduce(0) { $0 + abs($1) } }.max() ?? 0 }

    /// The inverse by Gauss–Jordan elimination with partial pivoting; nil if singular.
    public static func inverse(_ a: Matrix) -> Matrix? {
        let n = a.count
        var m = a, inv = identity(n)
        for col in 0..<n {
            guard let pivot = (col..<n).max(by: { abs(m[$0][col]) < abs(m[$1][col]) }),
                  abs(m[pivot][col]) > 1e-300 else { return nil }
            m.swapAt(col, pivot)
            inv.swapAt(col, pivot)
            let d = m[col][col]
            for j in 0..<n { m[col][j] /= d; inv[col][j] /= d }
            for r in 0..<n where r != col && m[r][col] != 0 {
                let f = m[r][col]
                for j in 0..<n { m[r][j] -= f * m[col][j]; inv[r][j] -= f * inv[col][j] }
            }
        }
        return inv
    }

    /// exp(A) by scaling and squaring with a Taylor series of the scaled matrix.
    public static func exp(_ a: Matrix) -> Matrix { exp(generic: a) }

    /// exp(A) for any `RealScalar` (a `Dual` carries dexp(A)/du along): the one
    /// implementation `exp(_:)` uses. The number of squarings and the end of the
    /// series are decided on the values, so the derivatives are those of the
    /// formula evaluated (exact up to rounding for the series' truncation).
    @inlinable public static func exp<T: RealScalar>(generic a: [[T]]) -> [[T]] {
        let n = a.count
        let valueNorm = a.map { $0.reduce(0) { $0 + Swift.abs($1.value) } }.max() ?? 0
        let squarings = max(0, Int(Foundation.ceil(Foundation.log2(max(valueNorm, 1e-300)))) + 4)
        let s = T(Foundation.pow(2, -Double(squarings)))
        let scaled = a.map { $0.map { $0 * s } }
        let one = T(1), zero = T(0)
        var result = (0..<n).map { i in (0..<n).map { j in i == j ? one : zero } }
        var term = result
        for k in 1...30 {
            let r = T(1 / Double(k))
            term = multiply(generic: term, scaled).map { $0.map { $0 * r } }
            for i in 0..<n { for j in 0..<n { result[i][j] = result[i][j] + term[i][j] } }
            let termNorm = term.map { $0.reduce(0) { $0 + Swift.abs($1.value) } }.max() ?? 0
            if termNorm < 1e-18 { break }
        }
        for _ in 0..<squarings { result = multiply(generic: result, result) }
        return result
    }

    /// A·B for any `RealScalar`, skipping zero entries of A (as `multiply(_:_:)`).
    @inlinable public static func multiply<T: RealScalar>(generic a: [[T]], _ b: [[T]]) -> [[T]] {
        let n = a.count, m = b[0].count, inner = b.count
        var c = [[T]](repeating: [T](repeating: T(0), count: m), count: n)
        for i in 0..<n { for k in 0..<inner where !a[i][k].isExactlyZero { for j in 0..<m { c[i][j] = c[i][j] + a[i][k] * b[k][j] } } }
        return c
    }

    /// The principal square root by the Denman–Beavers iteration; nil if it
    /// does not converge (e.g. eigenvalues on the closed negative real axis).
    public static func squareRoot(_ a: Matrix) -> Matrix? {
        var y = a, z = identity(a.count)
        for _ in 0..<100 {
            guard let yi = inverse(y), let zi = inverse(z) else { return nil }
            let yNext = scale(add(y, zi), 0.5)
            let zNext = scale(add(z, yi), 0.5)
            let change = norm(add(yNext, y, scale: -1))
            y = yNext
            z = zNext
            if change <= 1e-15 * max(norm(y), 1) { return y.allSatisfy({ $0.allSatisfy(\.isFinite) }) ? y : nil }
        }
        return nil
    }

    /// The principal logarithm by inverse scaling and squaring: take square
    /// roots until ‖A − I‖ < 1/4, sum the series of log(I + X), scale back.
    public static func logarithm(_ a: Matrix) -> Matrix? {
        let n = a.count
        var x = a, roots = 0
        while norm(add(x, identity(n), scale: -1)) >= 0.25 {
            guard roots < 60, let r = squareRoot(x) else { return nil }
            x = r
            roots += 1
        }
        let d = add(x, identity(n), scale: -1)
        var result = Matrix(repeating: [Double](repeating: 0, count: n), count: n)
        var power = identity(n)
        for k in 1...200 {
            power = multiply(power, d)
            result = add(result, power, scale: (k % 2 == 1 ? 1 : -1) / Double(k))
            if norm(power) / Double(k) < 1e-18 { break }
        }
        return scale(result, Foundation.pow(2, Double(roots)))
    }

    /// A^t = exp(t · log A) for the principal logarithm; nil if it has none.
    public static func power(_ a: Matrix, _ t: Double) -> Matrix? {
        if t == 1 { return a }
        guard let l = logarithm(a) else { return nil }
        return exp(scale(l, t))
    }
}
