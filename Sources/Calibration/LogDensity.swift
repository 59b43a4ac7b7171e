/// A log density on ℝᵈ with its gradient: what a gradient-based sampler
/// (Hamiltonian Monte Carlo, NUTS) needs.
///
/// ```
/// x ↦ (log π(x) + const, ∇ log π(x))
/// ```
///
/// Implementations must be pure functions of x (samplers call them from
/// several threads at once). Outside the support the value is −∞ and the
/// gradient is ignored.
public protocol DifferentiableLogDensity: Sendable {
    /// d, the number of coordinates of x.
    var dimension: Int { get }
    /// log π(x) up to a constant, and its gradient (d entries).
    func logDensityAndGradient(_ x: [Double]) -> (value: Double, gradient: [Double])
}
