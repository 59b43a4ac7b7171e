import CGSL

/// What a random number is for. Part of every stream's address, so that
/// adding a new use of randomness never shifts the numbers of an old one.
///
/// Raw values are frozen: changing one changes every published result.
public enum RandomPurpose: UInt8, Sendable, CaseIterable {
    /// Age and coverage of a child present at the start (its area and level come from `initialCounts`), and its months in level when they are drawn.
    case initialChild = 1
    /// How many children are born in a step, per area.
    case births = 2
    /// How many children move in during a step, per area.
    case immigration = 3
    /// Level, age and coverage of a child entering after the start.
    case enteringChild = 4
    /// A child's transition and out-migration in one step.
    case childStep = 5
    /// Parameter draws (probabilistic sensitivity analysis): replication = draw, index = FNV-1a of the field path.
    case parameters = 6
    /// Calibration: posterior draws and MCMC chains (`girfec calibrate`).
    case calibration = 7
    /// The event engine's words for one child, index = child id: blocks 0, 1, … read word by word
    /// (its out-migration step, then the candidate steps of its moves and their acceptance).
    case childEvent = 8
    /// Free for tests and tools; never used by the engine.
    case testing = 255
}

/// The address of a random stream: (master seed, replication, purpose, arm
/// lane, index). Every random number the engine uses is word `lane` of block
/// `position` of one such stream:
///
/// ```
/// key     = (seed mod 2^32, seed div 2^32)
/// counter = (position, index, replication, purpose + 256 * armLane)
/// word    = Philox4x32-10(counter, key)[lane]
/// ```
///
/// The map from (seed, replication, purpose, armLane, index, position) to
/// (key, counter) is injective, and Philox is a bijection of the counter for a
/// fixed key, so two different addresses never share a block: streams are
/// distinct by construction, not by luck (Salmon et al. 2011, section 2).
///
/// `armLane` is 0 for every arm when arms use common random numbers (the
/// default), and the arm's index otherwise.
public struct StreamAddress: Hashable, Sendable, CustomStringConvertible {
    public var seed: UInt64
    public var replication: UInt32
    public var purpose: RandomPurpose
    public var armLane: UInt8
    /// Which stream of this purpose: a child's id, a step, an area...
    public var index: UInt32

    public init(seed: UInt64, replication: UInt32, purpose: RandomPurpose, armLane: UInt8 = 0, index: UInt32 = 0) {
        self.seed = seed
        self.replication = replication
        self.purpose = purpose
        self.armLane = armLane
        self.index = index
    }

    /// Philox key words.
    @inlinable public var key: (UInt32, UInt32) { (UInt32(truncatingIfNeeded: seed), UInt32(truncatingIfNeeded: seed >> 32)) }
    /// Counter word 3: purpose in the low byte, arm lane in the next.
    @inlinable public var purposeWord: UInt32 { UInt32(purpose.rawValue) | (UInt32(armLane) << 8) }

    public var description: String {
        "stream(seed \(seed), replication \(replication), \(purpose), arm lane \(armLane), index \(index))"
    }
}

/// Philox4x32-10 as a pure function, for the engine's hot path.
public enum Philox {
    /// The four words of block `position` of the stream at `address`.
    ///
    /// Equal, word for word, to what a `RandomStream` at the same address and
    /// position returns from four successive `nextWord()` calls (GSL's generator computes it
    /// with Random123's C code, `girfec_philox4x32`; this is `block(counter:key:)`, in Swift).
    @inlinable
    public static func block(_ address: StreamAddress, position: UInt32) -> (UInt32, UInt32, UInt32, UInt32) {
        block(counter: (position, address.index, address.replication, address.purposeWord), key: address.key)
    }

    /// Philox4x32-10 of (counter, key) in Swift: the same four words as Random123's `philox4x32`
    /// (`girfec_philox4x32`; Salmon et al. 2011): ten rounds of
    /// (c0, c1, c2, c3) ← (hi(M1·c2) ⊕ c1 ⊕ k0, lo(M1·c2), hi(M0·c0) ⊕ c3 ⊕ k1, lo(M0·c0)),
    /// M0 = 0xD2511F53, M1 = 0xCD9E8D57, the key bumped by (0x9E3779B9, 0xBB67AE85) between rounds.
    /// Inlined into its caller, whose independent work can then overlap its chain of multiplications.
    @inlinable @inline(__always)
    public static func block(counter: (UInt32, UInt32, UInt32, UInt32), key: (UInt32, UInt32)) -> (UInt32, UInt32, UInt32, UInt32) {
        var x = counter, k = key
        for r in 0..<10 {
            if r > 0 { bump(&k) }
            round(&x, k)
        }
        return x
    }

    /// One Philox round on `s` with key `k` (see `block(counter:key:)`).
    @inlinable @inline(__always)
    static func round(_ s: inout (UInt32, UInt32, UInt32, UInt32), _ k: (UInt32, UInt32)) {
        let p0 = UInt64(0xD251_1F53) &* UInt64(s.0), p1 = UInt64(0xCD9E_8D57) &* UInt64(s.2)
        s = (UInt32(truncatingIfNeeded: p1 >> 32) ^ s.1 ^ k.0, UInt32(truncatingIfNeeded: p1),
             UInt32(truncatingIfNeeded: p0 >> 32) ^ s.3 ^ k.1, UInt32(truncatingIfNeeded: p0))
    }

    /// The key of round r + 1 from that of round r.
    @inlinable @inline(__always)
    static func bump(_ k: inout (UInt32, UInt32)) { k.0 &+= 0x9E37_79B9; k.1 &+= 0xBB67_AE85 }

    /// One Philox round on the block s = (c0, c1, c2, c3) held in one vector, k = (k0, 0, k1, 0):
    /// the two 32 × 32 → 64-bit products in one vector multiplication (the low words of each
    /// 64-bit lane), then (hi1, lo1, hi0, lo0) ⊕ (c1, 0, c3, 0) ⊕ k, as `round`.
    @inlinable @inline(__always)
    static func round(_ s: SIMD4<UInt32>, _ k: SIMD4<UInt32>) -> SIMD4<UInt32> {
        let wide = unsafeBitCast(s, to: SIMD2<UInt64>.self)  // (c0 | c1 << 32, c2 | c3 << 32)
        let p = unsafeBitCast((wide & SIMD2(repeating: 0xffff_ffff)) &* SIMD2<UInt64>(0xD251_1F53, 0xCD9E_8D57),
                              to: SIMD4<UInt32>.self)  // (lo0, hi0, lo1, hi1)
        let odd = unsafeBitCast(wide &>> 32, to: SIMD4<UInt32>.self)  // (c1, 0, c3, 0)
        return SIMD4(p[3], p[2], p[1], p[0]) ^ odd ^ k
    }

    /// The block's counter and key as vectors for `round(_:_:)`.
    @inlinable @inline(__always)
    static func vectors(_ a: StreamAddress, _ position: UInt32) -> (SIMD4<UInt32>, SIMD4<UInt32>) {
        let k = a.key
        return (SIMD4(position, a.index, a.replication, a.purposeWord), SIMD4(k.0, 0, k.1, 0))
    }

    /// The key increment between rounds, as a vector.
    @inlinable @inline(__always)
    static var bumpVector: SIMD4<UInt32> { SIMD4(0x9E37_79B9, 0, 0xBB67_AE85, 0) }

    /// Blocks of two streams at once (`block(_:position:)` of each): each block's rounds in vector
    /// operations (`round(_:_:)`), the two blocks' interleaved so that their chains overlap.
    @inlinable @inline(__always)
    public static func blocks(_ a: StreamAddress, position pa: UInt32, _ b: StreamAddress, position pb: UInt32)
        -> ((UInt32, UInt32, UInt32, UInt32), (UInt32, UInt32, UInt32, UInt32)) {
        var (x, ka) = vectors(a, pa), (y, kb) = vectors(b, pb)
        let bump = bumpVector
        for r in 0..<10 {
            if r > 0 { ka &+= bump; kb &+= bump }
            x = round(x, ka); y = round(y, kb)
        }
        return ((x[0], x[1], x[2], x[3]), (y[0], y[1], y[2], y[3]))
    }

    /// Blocks of three streams at once, as `blocks(_:position:_:position:)`.
    @inlinable @inline(__always)
    public static func blocks(_ a: StreamAddress, position pa: UInt32, _ b: StreamAddress, position pb: UInt32,
                              _ c: StreamAddress, position pc: UInt32)
        -> ((UInt32, UInt32, UInt32, UInt32), (UInt32, UInt32, UInt32, UInt32), (UInt32, UInt32, UInt32, UInt32)) {
        var (x, ka) = vectors(a, pa), (y, kb) = vectors(b, pb), (z, kc) = vectors(c, pc)
        let bump = bumpVector
        for r in 0..<10 {
            if r > 0 { ka &+= bump; kb &+= bump; kc &+= bump }
            x = round(x, ka); y = round(y, kb); z = round(z, kc)
        }
        return ((x[0], x[1], x[2], x[3]), (y[0], y[1], y[2], y[3]), (z[0], z[1], z[2], z[3]))
    }

    /// Whether this processor runs `blocks8` as vector code (AVX2; `girfec_has_avx2`), read once.
    /// Without it `blocks8` computes the blocks one by one: the same words, more slowly.
    public static let eightAtOnce: Bool = girfec_has_avx2() != 0

    /// Block `position` of the eight streams (index[i], replication, purposeWord) under `key`, word w
    /// of stream i at out[w · 8 + i]: the words of `block(counter:key:)` for each, computed as eight
    /// lanes of vectors when `eightAtOnce` and the processor runs them (`Philox.eightAtOnce`,
    /// `girfec_philox4x32_x8_avx2`), one by one otherwise: the argument can only turn the vector path off,
    /// so no caller can run AVX2 code on a processor without it.
    @inlinable
    public static func blocks8(position: UInt32, index: UnsafePointer<UInt32>, replication: UInt32, purposeWord: UInt32,
                               key: (UInt32, UInt32), eightAtOnce: Bool, into out: UnsafeMutablePointer<UInt32>) {
        if eightAtOnce && Self.eightAtOnce {
            girfec_philox4x32_x8_avx2(position, index, replication, purposeWord, key.0, key.1, out)
            return
        }
        for i in 0..<8 {
            let b = block(counter: (position, index[i], replication, purposeWord), key: key)
            out[i] = b.0; out[8 + i] = b.1; out[16 + i] = b.2; out[24 + i] = b.3
        }
    }

    /// A uniform in [0, 1) from one 32-bit word, as GSL's `gsl_rng_uniform` makes it: `word / 2^32`.
    @inlinable @inline(__always)
    public static func unit(_ word: UInt32) -> Double { Double(word) * 0x1p-32 }
}
