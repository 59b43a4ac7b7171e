import Analysis
import Dispatch
import Foundation
import Microsimulation
import Model
import Stochastics
import Synchronization

/// One replication's totals for one arm: a row of replications.csv.
public struct ReplicationRow: Sendable, Equatable {
    public var replication: Int
    public var arm: Int
    public var totals: ReplicationTotals
    /// For a later arm: the first step from which its cumulative discounted
    /// cost stays below the first arm's to the horizon; nil if it never does
    /// (and for the first arm).
    public var breakEvenStep: Int?

    public init(replication: Int, arm: Int, totals: ReplicationTotals, breakEvenStep: Int? = nil) {
        self.replication = replication
        self.arm = arm
        self.totals = totals
        self.breakEvenStep = breakEvenStep
    }

    /// The break-even step of `record` against the first arm's `reference`:
    /// the first step s with cumulative discounted cost below the reference's at every step from s on.
    public static func breakEvenStep(_ record: [Double], reference: [Double], layout: RecordLayout) -> Int? {
        let slot = layout.slot(.cumulativeCostDiscounted, level: nil)
        var first: Int? = nil
        for t in stride(from: layout.steps, through: 1, by: -1) {
            let i = layout.index(step: t, slot: slot)
            guard record[i] < reference[i] else { break }
            first = t
        }
        return first
    }
}

/// Everything a run (or a shard of one) produced, before it is written.
public struct RunResult: Sendable {
    public var aggregator: Aggregator
    /// Sorted by replication, then arm.
    public var rows: [ReplicationRow]
    /// Replications of the whole run this result covers.
    public var covered: Range<Int>
    public var childSteps: Int
    public var wallSeconds: Double
}

/// Why a run stopped.
public enum RunError: Error, CustomStringConvertible {
    case engine(EngineError)
    case gsl(GSLErrors.Failure)
    case cancelled
    case valueTooLarge(arm: String, quantity: String, value: Double)

    public var description: String {
        switch self {
        case .engine(let e): return "the engine stopped: \(e.description)"
        case .gsl(let e): return "GSL reported an error: \(e.description)"
        case .cancelled: return "the run was interrupted; nothing was written"
        case .valueTooLarge(let arm, let q, let v):
            return "arm '\(arm)': \(q) reached \(v), beyond ±\(ExactMoments.largestMagnitude), the largest value the exact accumulators take"
        }
    }
}

/// Runs replications in parallel with Dispatch.
///
/// Each worker takes the next replication index, simulates every arm of it
/// (with common random numbers unless switched off), and folds the records
/// into its own aggregator; the aggregators merge exactly at the end. No
/// result depends on which worker ran what, so any `threads` gives the same
/// bytes (ARCHITECTURE.md, principle 2).
public enum Runner {
    final class Shared: Sendable {
        let next = Atomic<Int>(0)
        let done = Atomic<Int>(0)
        let childSteps = Atomic<Int>(0)
        let failure = Mutex<RunError?>(nil)
        let rows: Mutex<[ReplicationRow]> = Mutex([])
        let aggregators: Mutex<[Aggregator]> = Mutex([])
    }

    /// - Parameters:
    ///   - progress: called after each replication with (done, total), from any thread.
    ///   - isCancelled: polled before each replication; true stops the run with `.cancelled`.
    public static func run(_ plan: RunPlan, progress: @escaping @Sendable (Int, Int) -> Void = { _, _ in },
                           isCancelled: @escaping @Sendable () -> Bool = { false }) throws(RunError) -> RunResult {
        let start = Date()
        let tables = plan.scenario.arms.map { ArmTables(arm: $0) }
        let layout = tables[0].layout
        let integerSlots = layout.slots.map(\.quantity.isCount)
        let range = plan.range
        let shared = Shared()
        let threads = max(1, min(plan.threads, max(range.count, 1)))
        let armCount = tables.count

        DispatchQueue.concurrentPerform(iterations: threads) { _ in
            var aggregator = Aggregator(arms: armCount, steps: layout.steps, integerSlots: integerSlots)
            let populations = tables.map { _ in Population() }
            var rows: [ReplicationRow] = []
            var steps = 0
            while true {
                let i = shared.next.wrappingAdd(1, ordering: .relaxed).oldValue
                guard i < range.count else { break }
                if isCancelled() { shared.failure.withLock { if $0 == nil { $0 = .cancelled } }; break }
                if shared.failure.withLock({ $0 != nil }) { break }
                let replication = range.lowerBound + i
                do {
                    var records: [[Double]] = []
                    var reference: [Double]? = nil
                    for (a, t) in tables.enumerated() {
                        if a > 0, t.arm.reinvestment != nil, reference == nil {
                            reference = Rewards.costRatePath(record: records[0], layout: layout, arm: tables[0].arm)
                        }
                        let outcome = try Engine.run(tables: t, seed: plan.seed, replication: UInt32(replication),
                                                     armLane: plan.commonRandomNumbers ? 0 : UInt8(a),
                                                     population: populations[a], referenceCostPerYear: reference)
                        if let bad = outcome.record.firstIndex(where: { abs($0) > ExactMoments.largestMagnitude }) {
                            throw RunError.valueTooLarge(arm: t.arm.name,
                                                         quantity: layout.slots[bad % layout.slotCount].quantity.rawValue,
                                                         value: outcome.record[bad])
                        }
                        records.append(outcome.record)
                        let breakEven = a > 0 ? ReplicationRow.breakEvenStep(outcome.record, reference: records[0], layout: layout) : nil
                        rows.append(ReplicationRow(replication: replication, arm: a, totals: outcome.totals, breakEvenStep: breakEven))
                        steps += outcome.totals.childSteps
                    }
                    aggregator.add(records: records)
                    try GSLErrors.check()
                } catch let error as EngineError {
                    shared.failure.withLock { if $0 == nil { $0 = .engine(error) } }
                    break
                } catch let error as RunError {
                    shared.failure.withLock { if $0 == nil { $0 = error } }
                    break
                } catch let error as GSLErrors.Failure {
                    shared.failure.withLock { if $0 == nil { $0 = .gsl(error) } }
                    break
                } catch {
                    shared.failure.withLock { if $0 == nil { $0 = .engine(EngineError(description: "\(error)")) } }
                    break
                }
                let done = shared.done.wrappingAdd(1, ordering: .relaxed).newValue
                progress(done, range.count)
            }
            shared.childSteps.wrappingAdd(steps, ordering: .relaxed)
            shared.rows.withLock { $0.append(contentsOf: rows) }
            shared.aggregators.withLock { $0.append(aggregator) }
        }
        if let failure = shared.failure.withLock({ $0 }) { throw failure }

        var total = Aggregator(arms: armCount, steps: layout.steps, integerSlots: integerSlots)
        for a in shared.aggregators.withLock({ $0 }) { total.merge(a) }
        let rows = shared.rows.withLock { $0 }.sorted { ($0.replication, $0.arm) < ($1.replication, $1.arm) }
        return RunResult(aggregator: total, rows: rows, covered: range,
                         childSteps: shared.childSteps.load(ordering: .relaxed),
                         wallSeconds: Date().timeIntervalSince(start))
    }
}
