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
    /// position returns from four successive `nextWord()` calls.
    @inlinable
    public static func block(_ address: StreamAddress, position: UInt32) -> (UInt32, UInt32, UInt32, UInt32) {
        let k = address.key
        let b = girfec_philox4x32(position, address.index, address.replication, address.purposeWord, k.0, k.1)
        return b.v
    }

    /// A uniform in [0, 1) from one 32-bit word, as GSL's `gsl_rng_uniform` makes it: `word / 2^32`.
    @inlinable @inline(__always)
    public static func unit(_ word: UInt32) -> Double { Double(word) * 0x1p-32 }
}
