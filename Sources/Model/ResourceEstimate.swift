import Foundation

/// Memory and work a run of a validated scenario needs, estimated before anything is allocated.
///
/// Every term is computed in `Double` from the validated values, so the
/// estimate itself cannot overflow or allocate. It is an estimate, not a
/// bound: a term assumes typical sizes where the true size depends on the
/// draws (the histogram bins of a cell, the children alive at once).
public struct ResourceEstimate: Sendable {
    /// One part of the memory a run needs.
    public struct Term: Sendable {
        /// What it is, as a message names it.
        public var name: String
        public var bytes: Double
        /// What makes it smaller.
        public var remedy: String
    }

    /// The default memory limit: three quarters of physical memory, at most 18 GiB.
    public static var defaultLimitGiB: Double {
        let physical = Double(ProcessInfo.processInfo.physicalMemory) / Double(1 << 30)
        return max(1, min(18, (0.75 * physical).rounded(.down)))
    }

    /// Children a run may create in one replication of one arm: ids are 32-bit.
    public static let maximumChildrenEver = 4.0e9
    /// Estimated bytes of one aggregator cell: exact moments, the quantile
    /// sketch, and a typical 256 of its at most 1024 bins.
    static let bytesPerCell = 200.0 + 4 * 256
    /// Bytes per child in the population columns, with room for growth.
    static let bytesPerChild = 32.0

    public var terms: [Term]
    /// Child-steps of one replication, all arms together (agents only).
    public var childStepsPerReplication: Double
    /// Children created in one replication of the largest arm.
    public var childrenEver: Double

    public var bytes: Double { terms.reduce(0) { $0 + $1.bytes } }
    /// The largest term.
    public var dominant: Term? { terms.max { $0.bytes < $1.bytes } }

    /// The estimate for `threads` workers, each holding its own aggregator,
    /// records and populations, plus the merged aggregator; without `agents`,
    /// the aggregate model's part alone (`girfec aggregate`).
    public init(scenario: Scenario, threads: Int = 1, agents: Bool = true, aggregateModel: Bool = true) {
        let arms = scenario.arms
        let first = arms[0]
        let n = Double(first.levels.count)
        let steps = Double(first.steps)
        let workers = Double(max(threads, 1))
        let armCount = Double(arms.count)
        // Record slots per step, as the engine lays them out: the recorded moves and the per-level quantities.
        let slots = Double(RecordLayout.slotCount(arm: first))
        let blocks = armCount + max(armCount - 1, 0)
        var terms: [Term] = []

        terms.append(Term(name: "the practice multiplier tables (16 bytes × steps × 2^practices × (steps + 1), per arm)",
                          bytes: arms.reduce(0) { $0 + 16 * steps * pow(2, Double($1.practices.count)) * (steps + 1) },
                          remedy: "fewer steps (longer stepMonths or a shorter horizonYears) or fewer practice variables"))
        terms.append(Term(name: "the statistics cells (arms and differences × (steps + 1) × \(Int(slots)) quantities per step, for each of \(Int(workers)) threads and the total)",
                          bytes: (workers + 1) * blocks * (steps + 1) * slots * Self.bytesPerCell,
                          remedy: "fewer steps, levels, arms or --threads"))
        terms.append(Term(name: "the per-replication records (arms × (steps + 1) × quantities × 8 bytes, per thread)",
                          bytes: workers * armCount * (steps + 1) * slots * 8 * (aggregateModel ? 2 : 1),
                          remedy: "fewer steps, levels or --threads"))

        if !agents { terms.removeSubrange(1...) }
        var alive = 0.0, ever = 0.0, childSteps = 0.0
        for arm in arms {
            let initial = arm.initialCounts.reduce(0.0) { $0 + $1.reduce(0.0) { $0 + Double($1) } }
            let perYear = arm.birthsPerYear.reduce(0, +) + arm.immigrationPerYear.reduce(0, +)
            let horizon = steps * arm.stepYears
            // With ageing out at A years, at most about A years of entrants are alive at once.
            let span = arm.ageOutMonths.map { min(horizon, Double($0) / 12) } ?? horizon
            alive = max(alive, initial + perYear * span)
            ever = max(ever, initial + perYear * horizon)
            childSteps += (initial + perYear * span / 2) * steps
        }
        if agents { terms.append(Term(name: "the children's columns (\(Self.count(alive)) children alive at most × \(Int(Self.bytesPerChild)) bytes, per arm and thread)",
                          bytes: workers * armCount * alive * Self.bytesPerChild,
                          remedy: "fewer initial children, births or in-migrants, or fewer --threads")) }
        if aggregateModel {
            // Stocks per (area, coverage group) × age class × level, a few arrays of each.
            var state = 0.0
            for arm in arms {
                let groups = Double(arm.areas.count) * pow(2, Double(arm.practices.count))
                // A dependence on age keeps a class per month of age even without ageing; one on months in
                // the level a class per step up to its last key (`TransitionDependence.Combiner`).
                let readsAge = arm.dependence.contains { $0.on == .age }
                let ageClasses = arm.ageing
                    ? Double(arm.ageOutMonths ?? ((arm.ageDistribution.map(\.toMonths).max() ?? 1) + arm.steps * arm.stepMonths + 1))
                    : readsAge ? Double(arm.ageDistribution.map(\.toMonths).max() ?? 1) : Double(arm.ageMultipliers.count)
                let sojournMonths = arm.dependence.filter { $0.on == .sojourn }.map { $0.keys.last ?? 0 }.max() ?? 0
                let sojournSteps = (sojournMonths / Double(max(arm.stepMonths, 1))).rounded(.up)
                let durationClasses = 1 + (arm.initialDurations == .zero ? min(sojournSteps, Double(arm.steps)) : sojournSteps)
                state += 4 * 8 * groups * max(ageClasses, 1) * n * durationClasses
            }
            terms.append(Term(name: "the aggregate model's stocks (areas × coverage groups × age months × levels, per arm)",
                              bytes: state, remedy: "an ageOutYears (fewer age classes), fewer areas or fewer practice variables"))
        }
        self.terms = terms
        childStepsPerReplication = agents ? childSteps : 0
        childrenEver = agents ? ever : 0
    }

    /// Why a run cannot start under `limitGiB`, or nil if it can, as an
    /// issue of `file`: it names the largest term, what makes it smaller and
    /// the option that raises the limit.
    public func problem(limitGiB: Double, file: String, option: String = "--max-memory-gb") -> ValidationIssue? {
        if childrenEver > Self.maximumChildrenEver {
            return ValidationIssue(file: file, line: nil, path: "population",
                found: "about \(Self.count(childrenEver)) children in one replication of one arm (initial children plus births and in-migrants over the horizon)",
                expected: "at most \(Self.count(Self.maximumChildrenEver)) (children are numbered in 32 bits): fewer births or in-migrants, or a shorter horizon")
        }
        let limit = limitGiB * Double(1 << 30)
        guard bytes > limit, let top = dominant else { return nil }
        return ValidationIssue(file: file, line: nil, path: "(resources)",
            found: "an estimated \(Self.gib(bytes)) GiB of memory, most of it \(top.name) at \(Self.gib(top.bytes)) GiB",
            expected: "at most \(Self.gib(limit)) GiB: \(top.remedy); or raise the limit with \(option) if this machine has the memory")
    }

    /// The default work limit of a run, in child-steps: 10^13, about a day at the
    /// 1.1×10^8 child-steps per second of 2 cores (docs/performance.md).
    public static let defaultChildStepLimit = 1e13
    /// Child-steps per second assumed for the time a message states (2 cores, release build).
    static let childStepsPerSecond = 1.0e8

    /// Why `runs` replications (times sensitivity points) are too much work under
    /// `limit` child-steps, or nil: the total, the time it would take, and how to raise it.
    public func workProblem(runs: Int, limit: Double, file: String, option: String = "--max-child-steps") -> ValidationIssue? {
        let total = childStepsPerReplication * Double(max(runs, 0))
        guard total > limit else { return nil }
        let hours = total / Self.childStepsPerSecond / 3600
        return ValidationIssue(file: file, line: nil, path: "(resources)",
            found: "an estimated \(Self.count(total)) child-steps (\(runs) runs × \(Self.count(childStepsPerReplication)) per replication), about \(Self.count(hours)) hours at 10^8 child-steps per second",
            expected: "at most \(Self.count(limit)): fewer replications, a shorter horizon or fewer children; or raise the limit with \(option) if you mean it")
    }

    /// One line for `girfec validate`: memory, and work per replication.
    public var summary: String {
        "about \(Self.gib(bytes)) GiB of memory with one thread, \(Self.count(childStepsPerReplication)) child-steps per replication"
    }

    static func gib(_ bytes: Double) -> String {
        let g = bytes / Double(1 << 30)
        return g >= 1e6 ? String(format: "%.3g", g) : String(format: "%.1f", g)
    }

    static func count(_ x: Double) -> String {
        x < 1e15 ? String(Int(x.rounded())) : String(format: "%.3g", x)
    }
}
