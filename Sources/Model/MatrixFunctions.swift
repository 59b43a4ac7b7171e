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
        var flat: [T] = []
        flat.reserveCapacity(n * n)
        for row in a { flat += row }
        let result = exp(flat: flat, n: n)
        return (0..<n).map { i in Array(result[i * n..<(i + 1) * n]) }
    }

    /// `exp(generic:)` on a row-major n×n matrix: the same operations in the same order (so the same
    /// bits), in flat storage without an array per row and step.
    @inlinable public static func exp<T: RealScalar>(flat a: [T], n: Int) -> [T] {
        let nn = n * n
        /// The largest absolute row sum of the values (`Sequence.max()`'s comparisons).
        func valueNorm(_ m: [T]) -> Double {
            var largest = 0.0
            for i in 0..<n {
                var sum = 0.0
                for j in 0..<n { sum = sum + Swift.abs(m[i * n + j].value) }
                if i == 0 || largest < sum { largest = sum }
            }
            return largest
        }
        let squarings = max(0, Int(Foundation.ceil(Foundation.log2(max(valueNorm(a), 1e-300)))) + 4)
        let s = T(Foundation.pow(2, -Double(squarings)))
        let scaled = a.map { $0 * s }
        let one = T(1), zero = T(0)
        var result = [T](repeating: zero, count: nn)
        for i in 0..<n { result[i * n + i] = one }
        var term = result, next = result
        /// next = x·y, skipping zero entries of x (as `multiply(generic:_:)`).
        func product(_ x: [T], _ y: [T], into c: inout [T]) {
            for e in 0..<nn { c[e] = zero }
            for i in 0..<n {
                for k in 0..<n where !x[i * n + k].isExactlyZero {
                    for j in 0..<n { c[i * n + j] = c[i * n + j] + x[i * n + k] * y[k * n + j] }
                }
            }
        }
        for k in 1...30 {
            let r = T(1 / Double(k))
            product(term, scaled, into: &next)
            for e in 0..<nn { term[e] = next[e] * r }
            for e in 0..<nn { result[e] = result[e] + term[e] }
            if valueNorm(term) < 1e-18 { break }
        }
        for _ in 0..<squarings {
            product(result, result, into: &next)
            swap(&result, &next)
        }
        return result
    }

    /// The reverse-mode derivative of exp: for a scalar f of P = exp(A) with ∂f/∂P = E (row-major
    /// like P), ∂f/∂A = L(Aᵀ, E), the Fréchet derivative of exp at Aᵀ in the direction E, read as
    /// the upper-right block of a 2n×2n exponential:
    ///
    /// ```
    /// exp([[Aᵀ, E], [0, Aᵀ]]) = [[exp(Aᵀ), L(Aᵀ, E)], [0, exp(Aᵀ)]],   L(X, E) = ∫₀¹ e^{sX} E e^{(1−s)X} ds
    /// ```
    ///
    /// (Najfeld & Havel 1995, "Derivatives of the matrix exponential and their computation",
    /// *Adv. Appl. Math.* 16:321–375; Higham 2008, *Functions of Matrices*, §10.6). L is linear in
    /// E, so E is scaled to the ∞-norm of A before the exponential (the block's norm, hence the
    /// number of squarings, stays that of A) and the result scaled back.
    public static func expAdjoint(_ a: Matrix, _ e: Matrix) -> Matrix {
        let n = a.count
        let eNorm = norm(e)
        guard eNorm > 0 else { return Matrix(repeating: [Double](repeating: 0, count: n), count: n) }
        let aNorm = norm(a)
        let scale = aNorm > 0 ? aNorm / eNorm : 1 / eNorm
        let m = 2 * n
        var block = [Double](repeating: 0, count: m * m)
        for i in 0..<n {
            for j in 0..<n {
                block[i * m + j] = a[j][i]
                block[(n + i) * m + n + j] = a[j][i]
                block[i * m + n + j] = e[i][j] * scale
            }
        }
        let big = exp(flat: block, n: m)
        return (0..<n).map { i in (0..<n).map { j in big[i * m + n + j] / scale } }
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
