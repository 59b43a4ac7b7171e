import CGSL

/// One GSL generator positioned on an addressed Philox4x32-10 stream.
///
/// Owns its `gsl_rng` and frees it in `deinit`; the raw handle is only lent
/// out (`withGenerator`). Not copyable, so two owners can never draw from one
/// generator by accident. Create it inside the worker that uses it.
public struct RandomStream: ~Copyable {
    @usableFromInline let rng: UnsafeMutablePointer<gsl_rng>

    /// A generator at block `position` of the stream at `address`.
    public init(_ address: StreamAddress, position: UInt32 = 0) {
        GSLErrors.install()
        guard let r = gsl_rng_alloc(girfec_rng_philox()) else {
            fatalError("gsl_rng_alloc failed for philox4x32-10: out of memory")
        }
        rng = r
        move(to: address, position: position)
    }

    deinit { gsl_rng_free(rng) }

    /// Re-point this generator at another stream; cheaper than a new one.
    public func move(to address: StreamAddress, position: UInt32 = 0) {
        let k = address.key
        girfec_philox_address(rng, position, address.index, address.replication, address.purposeWord, k.0, k.1)
    }

    /// The next 32-bit word (GSL's `gsl_rng_get`).
    @inlinable public func nextWord() -> UInt32 { UInt32(truncatingIfNeeded: gsl_rng_get(rng)) }

    /// A uniform in [0, 1) (GSL's `gsl_rng_uniform`).
    @inlinable public func uniform() -> Double { gsl_rng_uniform(rng) }

    /// A uniform in (0, 1), never 0, safe before a logarithm (`gsl_rng_uniform_pos`).
    @inlinable public func uniformPositive() -> Double { gsl_rng_uniform_pos(rng) }

    /// A Poisson variate with the given mean (`gsl_ran_poisson`).
    ///
    /// - Precondition: `mean` is finite and non-negative (checked here, before GSL sees it).
    public func poisson(mean: Double) -> Int {
        precondition(mean.isFinite && mean >= 0, "Poisson mean must be finite and >= 0, but is \(mean).")
        if mean == 0 { return 0 }
        return Int(gsl_ran_poisson(rng, mean))
    }

    /// Lend the raw generator to a GSL call; it must not escape.
    public func withGenerator<R>(_ body: (UnsafeMutablePointer<gsl_rng>) throws -> R) rethrows -> R {
        try body(rng)
    }
}
