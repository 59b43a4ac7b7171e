import Foundation

/// A real number type that matrix code can be written once for: `Double`,
/// or `Dual` to carry derivatives along (forward-mode automatic differentiation).
///
/// Only the operations the transition conversion and the stock likelihood
/// need: field arithmetic, square root, natural logarithm, and the value
/// (which decides branches such as the number of squarings, so derivatives
/// are those of the branch taken).
public protocol RealScalar: Sendable {
    init(_ value: Double)
    /// x as an independent variable along `direction` with dx/du = `derivative`
    /// (a `Double` is x; a `Dual` outside its directions is the constant x).
    static func seed(_ x: Double, direction: Int, derivative: Double) -> Self
    /// The number itself (a `Dual` without its derivatives).
    var value: Double { get }
    /// True when the number and all its derivatives are 0 (a term that can be skipped).
    var isExactlyZero: Bool { get }
    static func + (a: Self, b: Self) -> Self
    static func - (a: Self, b: Self) -> Self
    static func * (a: Self, b: Self) -> Self
    static func / (a: Self, b: Self) -> Self
    static prefix func - (a: Self) -> Self
    /// A number with this value whose derivatives are Σ_i weights[i]·(derivatives of terms[i]):
    /// the chain rule for f(terms) with ∂f/∂terms[i] = weights[i] known (a `Double` is the value).
    static func chain(value: Double, weights: [Double], terms: [Self]) -> Self
    /// √x.
    func squareRoot() -> Self
    /// log x.
    func naturalLogarithm() -> Self
}

extension Double: RealScalar {
    @inlinable public var value: Double { self }
    @inlinable public var isExactlyZero: Bool { self == 0 }
    @inlinable public static func seed(_ x: Double, direction: Int, derivative: Double) -> Double { x }
    @inlinable public static func chain(value: Double, weights: [Double], terms: [Double]) -> Double { value }
    @inlinable public func naturalLogarithm() -> Double { naturalLog(self) }
}

@usableFromInline func naturalLog(_ x: Double) -> Double { Foundation.log(x) }

/// A number with its partial derivatives along up to `Dual.width` directions:
/// x + Σ_k ∂x/∂u_k ε_k with ε_k ε_l = 0 (forward-mode automatic differentiation;
/// Griewank & Walther 2008, *Evaluating Derivatives*, 2nd ed., SIAM, ch. 3).
///
/// ```
/// (a, ȧ) ± (b, ḃ) = (a ± b, ȧ ± ḃ)      (a, ȧ)·(b, ḃ) = (ab, ȧb + aḃ)
/// (a, ȧ)/(b, ḃ) = (a/b, (ȧ − (a/b)ḃ)/b)   √(a, ȧ) = (√a, ȧ/(2√a))   log(a, ȧ) = (log a, ȧ/a)
/// ```
///
/// The partials are a `SIMD16<Double>`, a value type without heap storage;
/// more than 16 directions take several passes (`seed(_:direction:)`).
public struct Dual: RealScalar, Equatable {
    /// How many directions one pass carries.
    public static let width = 16
    public var value: Double
    public var partials: SIMD16<Double>

    @inlinable public init(_ value: Double) { self.value = value; partials = SIMD16(repeating: 0) }
    @inlinable public init(value: Double, partials: SIMD16<Double>) { self.value = value; self.partials = partials }

    /// x with ∂x/∂u_direction = `derivative` (the other partials 0); a direction outside 0..<16 gives a constant.
    @inlinable public static func seed(_ x: Double, direction: Int, derivative: Double) -> Dual {
        var d = Dual(x)
        if (0..<width).contains(direction) { d.partials[direction] = derivative }
        return d
    }

    @inlinable public var isExactlyZero: Bool { value == 0 && partials == SIMD16(repeating: 0) }

    @inlinable public static func chain(value: Double, weights: [Double], terms: [Dual]) -> Dual {
        var p = SIMD16<Double>(repeating: 0)
        for (w, t) in zip(weights, terms) where w != 0 { p += w * t.partials }
        return Dual(value: value, partials: p)
    }

    @inlinable @inline(__always) public static func + (a: Dual, b: Dual) -> Dual { Dual(value: a.value + b.value, partials: a.partials + b.partials) }
    @inlinable @inline(__always) public static func - (a: Dual, b: Dual) -> Dual { Dual(value: a.value - b.value, partials: a.partials - b.partials) }
    @inlinable @inline(__always) public static func * (a: Dual, b: Dual) -> Dual {
        Dual(value: a.value * b.value, partials: a.partials * b.value + b.partials * a.value)
    }
    @inlinable @inline(__always) public static func / (a: Dual, b: Dual) -> Dual {
        let q = a.value / b.value
        return Dual(value: q, partials: (a.partials - b.partials * q) / b.value)
    }
    @inlinable @inline(__always) public static prefix func - (a: Dual) -> Dual { Dual(value: -a.value, partials: -a.partials) }
    @inlinable public func squareRoot() -> Dual {
        let r = value.squareRoot()
        return Dual(value: r, partials: partials / (2 * r))
    }
    @inlinable public func naturalLogarithm() -> Dual { Dual(value: naturalLog(value), partials: partials / value) }
}
