import Microsimulation
import Model

/// Shard K of M: replications ⌊(K−1)·N/M⌋ ..< ⌊K·N/M⌋ of the N in the run (K counted from 1).
public struct Shard: Sendable, Equatable, CustomStringConvertible {
    public var index: Int
    public var count: Int

    public init(index: Int, count: Int) {
        self.index = index
        self.count = count
    }

    public static let whole = Shard(index: 1, count: 1)

    /// Why a text is not a shard "K/M": what was found and what is expected.
    public struct ParseError: Error, CustomStringConvertible, Sendable {
        public var description: String
    }

    /// Parse "K/M" with 1 <= K <= M, or say what is wrong with `text`.
    public init(parsing text: String) throws(ParseError) {
        let expected = "expected K/M, shard K of M with 1 <= K <= M, e.g. 2/8"
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let k = Int(parts[0]), let m = Int(parts[1]) else {
            throw ParseError(description: "found '\(text)'; \(expected)")
        }
        guard m >= 1, k >= 1, k <= m else {
            let why = m < 1 ? "M = \(m) is below 1" : k < 1 ? "K = \(k) is below 1" : "K = \(k) is above M = \(m)"
            throw ParseError(description: "found '\(text)', where \(why); \(expected)")
        }
        self.init(index: k, count: m)
    }

    /// Replications ⌊(K−1)·N/M⌋ ..< ⌊K·N/M⌋ of `total` = N, computed in 128 bits so that
    /// no K ≤ M and N < 2^32 can overflow (the callers check those bounds).
    public func replications(of total: Int) -> Range<Int> {
        let lo = Int128(index - 1) * Int128(total) / Int128(count), hi = Int128(index) * Int128(total) / Int128(count)
        return Int(lo)..<Int(hi)
    }

    public var description: String { "\(index)/\(count)" }
}

/// The engine a run asks for (`girfec run --engine`).
public enum EngineChoice: String, Sendable, CaseIterable {
    /// The event engine where it is exact for every arm, the step engine otherwise (and why).
    case auto
    case steps
    case events
}

/// The engine a plan runs on, and why when `auto` did not take the event engine.
public struct EngineDecision: Sendable, Equatable {
    public var kind: EngineKind
    /// Why the event engine cannot run this scenario exactly; nil when it runs.
    public var reason: String?
    public init(kind: EngineKind, reason: String?) {
        self.kind = kind
        self.reason = reason
    }
}

/// What to run: the scenario, how many replications, which seed, which part.
public struct RunPlan: Sendable {
    public var scenario: Scenario
    public var seed: UInt64
    /// Replications in the whole run (all shards together).
    public var replications: Int
    public var shard: Shard
    public var threads: Int
    /// Arms share streams (the default). Off only to measure what common random numbers buy.
    public var commonRandomNumbers: Bool
    /// Run this one replication of the N alone (it reproduces that replication's row bit for bit).
    public var onlyReplication: Int? = nil
    /// Replications that share one parameter draw: replication i uses draw ⌊i / K⌋ (nested runs).
    public var replicationsPerDraw: Int = 1
    /// Ignore the scenario's parameter distributions and run its base case.
    public var baseCase: Bool = false
    /// The engine asked for; `Runner.decide` resolves `auto`.
    public var engine: EngineChoice = .steps

    /// The uncertainty that is drawn in this plan, if any.
    public var activeUncertainty: Uncertainty? { baseCase ? nil : scenario.uncertainty }

    /// Parameter draws the whole run uses: ⌈N / K⌉.
    public var drawCount: Int { (replications + replicationsPerDraw - 1) / replicationsPerDraw }

    /// The draw replication `replication` uses.
    public func draw(of replication: Int) -> Int { replication / replicationsPerDraw }

    /// Why this plan cannot run, if it cannot: a draws file shorter than the draws needed.
    public var problem: String? {
        guard let u = activeUncertainty, let available = u.drawsAvailable, available < drawCount else { return nil }
        return "the draws file \(u.drawTable!.file) has \(available) draw\(available == 1 ? "" : "s"), but \(replications) replications at \(replicationsPerDraw) per draw need \(drawCount)"
    }

    /// Run exactly these replications (a batch of a run to a target precision).
    public var batch: Range<Int>? = nil

    /// The replications this plan runs.
    public var range: Range<Int> {
        if let i = onlyReplication { return i..<(i + 1) }
        if let batch { return batch }
        return shard.replications(of: replications)
    }

    public init(scenario: Scenario, seed: UInt64, replications: Int, shard: Shard = .whole, threads: Int,
                commonRandomNumbers: Bool = true) {
        self.scenario = scenario
        self.seed = seed
        self.replications = replications
        self.shard = shard
        self.threads = threads
        self.commonRandomNumbers = commonRandomNumbers
    }
}
