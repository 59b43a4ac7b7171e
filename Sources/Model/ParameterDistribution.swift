import CGSL
import Stochastics

/// The distribution of an uncertain parameter (second-order uncertainty).
///
/// Each is drawn through GSL from the parameter's own stream, so adding or
/// removing a parameter never changes another's draws or the children's
/// random numbers. Parameterisations by mean and standard deviation use the
/// method of moments (Briggs, Claxton & Sculpher 2006, "Decision Modelling
/// for Health Economic Evaluation", ch. 4).
public enum ParameterDistribution: Sendable, Equatable {
    /// Always `value`.
    case fixed(Double)
    /// Uniform on [min, max] (`gsl_ran_flat`).
    case uniform(min: Double, max: Double)
    /// Normal, truncated to [min, max] where given, drawn by inversion:
    /// x = μ + σ·Φ⁻¹(Φ(a) + u·(Φ(b) − Φ(a))), a = (min − μ)/σ, b = (max − μ)/σ.
    case normal(mean: Double, sd: Double, min: Double?, max: Double?)
    /// exp(N(μ, σ²)) (`gsl_ran_lognormal`); from a mean m and sd s:
    /// σ² = ln(1 + s²/m²), μ = ln m − σ²/2.
    case logNormal(meanLog: Double, sdLog: Double)
    /// Beta(α, β) (`gsl_ran_beta`); from a mean m and sd s: α = m·c, β = (1 − m)·c, c = m(1 − m)/s² − 1.
    case beta(alpha: Double, beta: Double)
    /// Gamma with shape k and scale θ (`gsl_ran_gamma`); from a mean m and sd s: k = m²/s², θ = s²/m.
    case gamma(shape: Double, scale: Double)
    /// Dirichlet(α₁, …, α_K) over the components of a transition row (`gsl_ran_dirichlet`).
    case dirichlet(alpha: [Double])

    /// Number of values one draw gives.
    public var dimension: Int {
        if case .dirichlet(let alpha) = self { return alpha.count }
        return 1
    }

    /// The expected value, per component.
    public var mean: [Double] {
        switch self {
        case .fixed(let v): return [v]
        case .uniform(let a, let b): return [(a + b) / 2]
        case .normal(let mu, let sd, let lo, let hi):
            // Truncated normal mean: μ + σ(φ(a) − φ(b))/(Φ(b) − Φ(a)).
            let a = lo.map { ($0 - mu) / sd } ?? -.infinity, b = hi.map { ($0 - mu) / sd } ?? .infinity
            let z = gsl_cdf_ugaussian_P(b) - gsl_cdf_ugaussian_P(a)
            let phi = { (x: Double) in x.isFinite ? gsl_ran_ugaussian_pdf(x) : 0 }
            return [mu + sd * (phi(a) - phi(b)) / z]
        case .logNormal(let m, let s): return [exp(m + s * s / 2)]
        case .beta(let a, let b): return [a / (a + b)]
        case .gamma(let k, let theta): return [k * theta]
        case .dirichlet(let alpha):
            let total = alpha.reduce(0, +)
            return alpha.map { $0 / total }
        }
    }

    /// One draw from the stream `rng` is positioned on.
    public func draw(_ stream: borrowing RandomStream) -> [Double] {
        stream.withGenerator { r in
            switch self {
            case .fixed(let v): return [v]
            case .uniform(let a, let b): return [gsl_ran_flat(r, a, b)]
            case .normal(let mu, let sd, nil, nil): return [mu + gsl_ran_gaussian(r, sd)]
            case .normal(let mu, let sd, let lo, let hi):
                let pa = lo.map { gsl_cdf_ugaussian_P(($0 - mu) / sd) } ?? 0
                let pb = hi.map { gsl_cdf_ugaussian_P(($0 - mu) / sd) } ?? 1
                let p = pa + gsl_rng_uniform_pos(r) * (pb - pa)
                let x = mu + sd * gsl_cdf_ugaussian_Pinv(p)
                return [Swift.min(Swift.max(x, lo ?? -.infinity), hi ?? .infinity)]
            case .logNormal(let m, let s): return [gsl_ran_lognormal(r, m, s)]
            case .beta(let a, let b): return [gsl_ran_beta(r, a, b)]
            case .gamma(let k, let theta): return [gsl_ran_gamma(r, k, theta)]
            case .dirichlet(let alpha):
                var theta = [Double](repeating: 0, count: alpha.count)
                alpha.withUnsafeBufferPointer { a in
                    theta.withUnsafeMutableBufferPointer { t in
                        gsl_ran_dirichlet(r, alpha.count, a.baseAddress, t.baseAddress)
                    }
                }
                return theta
            }
        }
    }

    /// A short statement for tables and reports, e.g. "Gamma(shape 9, scale 2111.1)".
    public var label: String {
        func f(_ x: Double) -> String { x.formatted4 }
        switch self {
        case .fixed(let v): return "fixed at \(f(v))"
        case .uniform(let a, let b): return "Uniform(\(f(a)), \(f(b)))"
        case .normal(let mu, let sd, let lo, let hi):
            let bounds = (lo != nil || hi != nil) ? " truncated to [\(lo.map(f) ?? "−∞"), \(hi.map(f) ?? "∞")]" : ""
            return "Normal(mean \(f(mu)), sd \(f(sd)))\(bounds)"
        case .logNormal(let m, let s): return "LogNormal(meanLog \(f(m)), sdLog \(f(s)))"
        case .beta(let a, let b): return "Beta(\(f(a)), \(f(b)))"
        case .gamma(let k, let theta): return "Gamma(shape \(f(k)), scale \(f(theta)))"
        case .dirichlet(let alpha): return "Dirichlet(\(alpha.map(f).joined(separator: ", ")))"
        }
    }
}

extension Double {
    /// Four significant digits, for labels.
    var formatted4: String {
        if self == rounded() && abs(self) < 1e9 { return String(Int(self)) }
        var s = String(format: "%.4g", self)
        if s.contains("e") { return s }
        if s.contains(".") { while s.hasSuffix("0") { s.removeLast() }; if s.hasSuffix(".") { s.removeLast() } }
        return s
    }
}

/// FNV-1a, 32 bits: the stream index of a parameter, from its field path, so
/// that its draws depend on what it is, not on where it is declared.
public func fnv1a32(_ text: String) -> UInt32 {
    var h: UInt32 = 2_166_136_261
    for b in text.utf8 { h = (h ^ UInt32(b)) &* 16_777_619 }
    return h
}
