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
    /// The parameter draw this replication used (0 without uncertainty).
    public var draw: Int
    /// Its parameter values, one per column of `Uncertainty.columns` (empty without uncertainty).
    public var parameters: [Double]
    /// Its yearly values (`YearlyLayout.values(of:)` of its step record): replications-yearly.csv.
    public var yearly: [Double]

    public init(replication: Int, arm: Int, totals: ReplicationTotals, breakEvenStep: Int? = nil,
                draw: Int = 0, parameters: [Double] = [], yearly: [Double] = []) {
        self.replication = replication
        self.arm = arm
        self.totals = totals
        self.breakEvenStep = breakEvenStep
        self.draw = draw
        self.parameters = parameters
        self.yearly = yearly
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
    /// The engine that ran it.
    public var engine: EngineDecision = EngineDecision(kind: .steps, reason: nil)
}

/// Why a run stopped.
public enum RunError: Error, CustomStringConvertible {
    case engine(EngineError)
    case gsl(GSLErrors.Failure)
    case cancelled
    case valueTooLarge(arm: String, quantity: String, value: Double)
    case parameters(replication: Int, draw: Int, columns: [String], values: [Double], problem: String)
    case plan(String)

    public var description: String {
        switch self {
        case .engine(let e): return "the engine stopped: \(e.description)"
        case .gsl(let e): return "GSL reported an error: \(e.description)"
        case .cancelled: return "the run was interrupted; nothing was written"
        case .valueTooLarge(let arm, let q, let v):
            return "arm '\(arm)': \(q) reached \(v), beyond ±\(ExactMoments.largestMagnitude), the largest value the exact accumulators take"
        case .parameters(let r, let d, let columns, let values, let problem):
            let listed = zip(columns, values).map { "\($0) = \($1)" }.joined(separator: ", ")
            return "replication \(r) (parameter draw \(d)): the drawn values \(listed) make the scenario invalid:\n\(problem)\nNarrow the distributions (or truncate them) so every draw is a valid scenario."
        case .plan(let text): return text
        }
    }
}

/// Runs replications in parallel with Dispatch.
///
/// Each worker takes the next replication index, simulates every arm of it
/// (with common random numbers unless switched off), and folds the records,
/// a batch at a time, into the run's one aggregator, whose cells are exact and
/// order-free. No result depends on which worker ran what, or in which order
/// the batches arrived, so any `threads` gives the same bytes.
public enum Runner {
    final class Shared: Sendable {
        let next = Atomic<Int>(0)
        let done = Atomic<Int>(0)
        let childSteps = Atomic<Int>(0)
        let failure = Mutex<RunError?>(nil)
        let rows: Mutex<[ReplicationRow]> = Mutex([])
        /// The run's one aggregator: each worker folds its full batches into it in turn (exact and
        /// order-free, so the same cells whatever the order), rather than each filling its own.
        let aggregator: Mutex<Aggregator>

        init(aggregator: Aggregator) { self.aggregator = Mutex(aggregator) }
    }

    /// The engine `plan` runs on: the event engine when asked for (`events`) or chosen (`auto`) and
    /// exact for every arm of the scenario's base case (`EventTables.unsupported`); else the step engine.
    /// With `events`, a scenario the event engine cannot run is an error: `.plan` with the reason.
    public static func decide(_ plan: RunPlan) throws(RunError) -> EngineDecision {
        if plan.engine == .steps { return EngineDecision(kind: .steps, reason: nil) }
        return try decide(plan, events: EventTables.forArms(plan.scenario.arms.map { ArmTables(arm: $0) }))
    }

    /// The decision for `plan` (not `.steps`) whose arms' event tables are `events`.
    static func decide(_ plan: RunPlan, events: [EventTables]) throws(RunError) -> EngineDecision {
        let reason = EventTables.unsupported(events)
        guard let reason else {
            // Exact either way, but a row with transition-specific dependence is a candidate at every step of the
            // event engine, combined anew each time, while the step engine reuses a combined row within a step.
            if plan.engine == .auto, let arm = plan.scenario.arms.first(where: { !$0.dependence.isEmpty }) {
                return EngineDecision(kind: .steps, reason: "arm '\(arm.name)' has transition-specific dependence (transitions.dependence), which the step engine simulates faster (it reuses each combined row within a step); --engine events simulates it exactly too")
            }
            return EngineDecision(kind: .events, reason: nil)
        }
        if plan.engine == .events { throw .plan("--engine events cannot simulate this scenario exactly: \(reason). Use --engine steps (or auto).") }
        return EngineDecision(kind: .steps, reason: reason)
    }

    /// - Parameters:
    ///   - progress: called after each replication with (done, total), from any thread.
    ///   - isCancelled: polled before each replication; true stops the run with `.cancelled`.
    public static func run(_ plan: RunPlan, progress: @escaping @Sendable (Int, Int) -> Void = { _, _ in },
                           isCancelled: @escaping @Sendable () -> Bool = { false }) throws(RunError) -> RunResult {
        let start = Date()
        if let problem = plan.problem { throw .plan(problem) }
        // The tables are built once: the decision reads the event tables the run then uses.
        let baseTables = plan.scenario.arms.map { ArmTables(arm: $0) }
        let checked = plan.engine == .steps ? [] : EventTables.forArms(baseTables)
        let decision = plan.engine == .steps ? EngineDecision(kind: .steps, reason: nil) : try decide(plan, events: checked)
        let useEvents = decision.kind == .events
        let baseEvents = useEvents ? checked : []
        let uncertainty = plan.activeUncertainty
        let layout = baseTables[0].layout
        let yearlyLayout = YearlyLayout(arm: plan.scenario.arms[0])
        let integerSlots = layout.slots.map(\.quantity.isCount)
        let range = plan.range
        let shared = Shared(aggregator: Aggregator(arms: baseTables.count, steps: layout.steps, integerSlots: integerSlots))
        let threads = max(1, min(plan.threads, max(range.count, 1)))
        let armCount = baseTables.count

        DispatchQueue.concurrentPerform(iterations: threads) { _ in
            // Replications fold into the aggregator in batches: the same cells, fewer cache misses.
            var batch = AggregatorBatch(arms: armCount, steps: layout.steps, slots: integerSlots.count,
                                        capacity: min(32, max(range.count, 1)))
            let populations = baseTables.map { _ in Population() }
            var rows: [ReplicationRow] = []
            var steps = 0
            // This worker's last parameter draw and its tables: consecutive replications often share one.
            var tables = baseTables
            var events = baseEvents
            var cachedDraw = -1
            var values: [Double] = []
            while true {
                let i = shared.next.wrappingAdd(1, ordering: .relaxed).oldValue
                guard i < range.count else { break }
                if isCancelled() { shared.failure.withLock { if $0 == nil { $0 = .cancelled } }; break }
                if shared.failure.withLock({ $0 != nil }) { break }
                let replication = range.lowerBound + i
                let draw = uncertainty == nil ? 0 : plan.draw(of: replication)
                GSLErrors.reset()  // an error left on this thread by unrelated earlier work is not this replication's
                do {
                    if let uncertainty, draw != cachedDraw {
                        values = uncertainty.values(draw: draw, seed: plan.seed)
                        do {
                            tables = try uncertainty.arms(values: values).map { ArmTables(arm: $0) }
                            events = useEvents ? EventTables.forArms(tables) : []
                        } catch {
                            throw RunError.parameters(replication: replication, draw: draw, columns: uncertainty.columns,
                                                      values: values, problem: "\(error)")
                        }
                        cachedDraw = draw
                    }
                    var records: [[Double]] = []
                    var reference: [Double]? = nil
                    // A parameter draw the event engine cannot run exactly runs on the step engine.
                    let eventsHere = useEvents && EventTables.unsupported(events) == nil
                    // With common random numbers the event engine runs the arms together (shared draws, once).
                    let together = eventsHere && plan.commonRandomNumbers
                        ? EventEngine.run(arms: events, seed: plan.seed, replication: UInt32(replication), armLane: 0) : nil
                    for (a, t) in tables.enumerated() {
                        if a > 0, t.arm.reinvestment != nil, reference == nil {
                            reference = Rewards.costRatePath(record: records[0], layout: layout, arm: tables[0].arm)
                        }
                        let lane: UInt8 = plan.commonRandomNumbers ? 0 : UInt8(a)
                        let outcome = if let together { together[a] } else if eventsHere {
                            EventEngine.run(events: events[a], seed: plan.seed, replication: UInt32(replication), armLane: lane)
                        } else {
                            try Engine.run(tables: t, seed: plan.seed, replication: UInt32(replication), armLane: lane,
                                           population: populations[a], referenceCostPerYear: reference)
                        }
                        if let bad = outcome.record.firstIndex(where: { abs($0) > ExactMoments.largestMagnitude }) {
                            throw RunError.valueTooLarge(arm: t.arm.name,
                                                         quantity: layout.slots[bad % layout.slotCount].quantity.rawValue,
                                                         value: outcome.record[bad])
                        }
                        records.append(outcome.record)
                        let breakEven = a > 0 ? ReplicationRow.breakEvenStep(outcome.record, reference: records[0], layout: layout) : nil
                        rows.append(ReplicationRow(replication: replication, arm: a, totals: outcome.totals, breakEvenStep: breakEven,
                                                   draw: draw, parameters: values, yearly: yearlyLayout.values(of: outcome.record, areaRecords: outcome.areaRecords)))
                        steps += outcome.totals.childSteps
                    }
                    batch.add(records: records)
                    if batch.isFull { shared.aggregator.withLock { $0.add(&batch) } }
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
            shared.aggregator.withLock { $0.add(&batch) }
            shared.childSteps.wrappingAdd(steps, ordering: .relaxed)
            shared.rows.withLock { $0.append(contentsOf: rows) }
        }
        if let failure = shared.failure.withLock({ $0 }) { throw failure }

        let total = shared.aggregator.withLock { $0 }
        let rows = shared.rows.withLock { $0 }.sorted { ($0.replication, $0.arm) < ($1.replication, $1.arm) }
        return RunResult(aggregator: total, rows: rows, covered: range,
                         childSteps: shared.childSteps.load(ordering: .relaxed),
                         wallSeconds: Date().timeIntervalSince(start), engine: decision)
    }
}

/// A run that stops once an outcome's Monte Carlo standard error is small enough.
public struct PrecisionTarget: Sendable {
    public var outcome: Outcome
    /// Stop when the MCSE of the outcome's mean is at most this (in the outcome's unit).
    public var mcse: Double
    /// The first batch, and the smallest later one.
    public var batch: Int

    public init(outcome: Outcome, mcse: Double, batch: Int = 100) {
        self.outcome = outcome
        self.mcse = mcse
        self.batch = batch
    }

    /// The MCSE of the outcome's mean over `rows`. In a nested run the
    /// replications of one draw are not independent, so the MCSE is taken
    /// over draw means: sd(draw means)/√draws.
    public func currentMCSE(_ rows: [ReplicationRow], replicationsPerDraw: Int) -> Double {
        outcome.statistics(rows, replicationsPerDraw: replicationsPerDraw).mcse
    }
}

extension Runner {
    /// Run batches of replications 0, 1, 2, … until the MCSE of `target`'s
    /// outcome is at most `target.mcse` or `plan.replications` (the cap) are run.
    ///
    /// After a batch of n replications with MCSE s, the next stops at
    /// max(n + batch, ⌈1.1 · n · (s/target)²⌉) (MCSE falls as 1/√n), capped.
    /// Batches depend only on results, never on threads or timing, so the
    /// count used is reproducible and the result is byte-identical to a run
    /// of that many replications.
    public static func runToPrecision(_ plan: RunPlan, target: PrecisionTarget,
                                      progress: @escaping @Sendable (Int, Int) -> Void = { _, _ in },
                                      isCancelled: @escaping @Sendable () -> Bool = { false })
        throws(RunError) -> (result: RunResult, mcse: Double, reached: Bool) {
        let cap = plan.replications
        var total: RunResult? = nil
        var n = 0
        var end = min(cap, max(target.batch, 2))
        var mcse = Double.infinity
        while true {
            var part = plan
            part.batch = n..<end
            let done = n
            let r = try run(part, progress: { d, _ in progress(done + d, cap) }, isCancelled: isCancelled)
            if var t = total {
                t.aggregator.merge(r.aggregator)
                t.rows += r.rows
                t.covered = 0..<end
                t.childSteps += r.childSteps
                t.wallSeconds += r.wallSeconds
                total = t
            } else {
                total = r
            }
            n = end
            mcse = target.currentMCSE(total!.rows, replicationsPerDraw: plan.replicationsPerDraw)
            if mcse <= target.mcse || n >= cap { break }
            let ratio = mcse / target.mcse
            let projected = mcse.isFinite ? Int(min(Double(cap), (1.1 * Double(n) * ratio * ratio).rounded(.up))) : n + target.batch
            end = min(cap, max(n + target.batch, projected))
        }
        return (total!, mcse, mcse <= target.mcse)
    }
}
