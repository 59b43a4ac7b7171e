/// The quantities recorded per step: the output contract's `quantity` column.
///
/// Raw values are the names written to CSV; documented in docs/outputs.md.
public enum Quantity: String, Sendable, CaseIterable {
    /// Children in a level at the end of the step (step 0: at the start).
    case stock
    /// Children moving from one level to another during the step.
    case flow
    /// Children entering (births and in-migration) during the step, by entry level.
    case entries
    /// Children leaving (ageing out and out-migration) during the step, by level left.
    case exits
    /// Children arriving in a level during the step: moves in plus entries.
    case inflow
    /// Children leaving a level during the step: moves out plus exits.
    case outflow
    /// Children moving to a later level (escalation) during the step, all levels together.
    case escalations
    /// Children moving to an earlier level (step-down) during the step, all levels together.
    case stepDowns = "step_downs"
    /// Mean length of stay in a level, years. Agents: the completed stays of
    /// the children who left it during the step (moves out and exits; a child
    /// present at the start counts its stay from the start). Aggregate: the
    /// stock at the start of the step divided by the outflow per year.
    case lengthOfStayYears = "length_of_stay_years"
    /// Children covered by at least one practice variable, not in an absorbing level, at the end of the step.
    case childrenReached = "children_reached"
    /// Cost of the time children spent in a level during the step, pounds (level `all`: plus the programme).
    case cost
    case costDiscounted = "cost_discounted"
    /// The programme's delivery cost during the step, pounds.
    case programmeCost = "programme_cost"
    case programmeCostDiscounted = "programme_cost_discounted"
    /// QoL-weighted child-years spent in a level during the step.
    case qolYears = "qol_years"
    case qolYearsDiscounted = "qol_years_discounted"
    /// One-off costs of the moves and arrivals during the step (`TransitionRewards`), pounds; part of `cost` (all).
    case transitionCost = "transition_cost"
    case transitionCostDiscounted = "transition_cost_discounted"
    /// One-off QoL changes of the moves and arrivals during the step, QoL-years; part of `qol_years` (all).
    case transitionQolYears = "transition_qol_years"
    case transitionQolYearsDiscounted = "transition_qol_years_discounted"
    /// Discounted cost (levels and programme) from the start to the end of the step.
    case cumulativeCostDiscounted = "cumulative_cost_discounted"
    case cumulativeQolYearsDiscounted = "cumulative_qol_years_discounted"

    /// Recorded for all levels together only.
    public var isTotalOnly: Bool {
        switch self {
        case .escalations, .stepDowns, .childrenReached, .programmeCost, .programmeCostDiscounted,
             .transitionCost, .transitionCostDiscounted, .transitionQolYears, .transitionQolYearsDiscounted,
             .cumulativeCostDiscounted, .cumulativeQolYearsDiscounted: true
        default: false
        }
    }

    /// Integer-valued (counts of children).
    public var isCount: Bool {
        switch self {
        case .stock, .flow, .entries, .exits, .inflow, .outflow, .escalations, .stepDowns, .childrenReached: true
        default: false
        }
    }

    /// Defined at step 0 (a state, not something that happens during a step).
    public var atStepZero: Bool {
        switch self {
        case .stock, .childrenReached, .cumulativeCostDiscounted, .cumulativeQolYearsDiscounted: true
        default: false
        }
    }

    /// Position in `allCases`, without a search (a switch; `RecordLayout.init` checks it against `allCases`).
    var ordinal: Int {
        switch self {
        case .stock: 0
        case .flow: 1
        case .entries: 2
        case .exits: 3
        case .inflow: 4
        case .outflow: 5
        case .escalations: 6
        case .stepDowns: 7
        case .lengthOfStayYears: 8
        case .childrenReached: 9
        case .cost: 10
        case .costDiscounted: 11
        case .programmeCost: 12
        case .programmeCostDiscounted: 13
        case .qolYears: 14
        case .qolYearsDiscounted: 15
        case .transitionCost: 16
        case .transitionCostDiscounted: 17
        case .transitionQolYears: 18
        case .transitionQolYearsDiscounted: 19
        case .cumulativeCostDiscounted: 20
        case .cumulativeQolYearsDiscounted: 21
        }
    }
}

/// A group of quantities a run folder's per-step and per-year files can leave out (`girfec run
/// --quantities`): what a study does not need need not be written.
public enum QuantityGroup: String, Sendable, CaseIterable {
    /// `stock`, `children_reached`.
    case stocks
    /// `flow`, `entries`, `exits`, `inflow`, `outflow`, `escalations`, `step_downs`, `length_of_stay_years`.
    case flows
    /// `cost`, `programme_cost`, `transition_cost` (each also discounted), `cumulative_cost_discounted`.
    case costs
    /// `qol_years`, `transition_qol_years` (each also discounted), `cumulative_qol_years_discounted`.
    case qol

    /// The groups from a comma-separated list of names (`all` for every group), or what is wrong with it.
    public static func parse(_ text: String) -> Result<Set<QuantityGroup>, QuantityGroupError> {
        let names = text.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        var groups: Set<QuantityGroup> = []
        var unknown: [String] = []
        for name in names {
            if name == "all" { groups.formUnion(allCases) } else if let g = QuantityGroup(rawValue: name) { groups.insert(g) } else { unknown.append(name) }
        }
        guard unknown.isEmpty, !groups.isEmpty else {
            let found = unknown.isEmpty ? "no group" : unknown.map { "'\(MessageText.excerpt($0, limit: 40))'" }.joined(separator: ", ")
            return .failure(QuantityGroupError(description: "found \(found); expected a comma-separated list of stocks, flows, costs, qol, or all"))
        }
        return .success(groups)
    }

    /// Every group: what is written unless `--quantities` says otherwise.
    public static var every: Set<QuantityGroup> { Set(allCases) }

    /// The names of `groups` in their canonical order (for the manifest and shards' commands).
    public static func names(_ groups: Set<QuantityGroup>) -> [String] { allCases.filter(groups.contains).map(\.rawValue) }
}

/// A `--quantities` value that names no group, or an unknown one.
public struct QuantityGroupError: Error, Sendable, CustomStringConvertible {
    public var description: String
}

extension Quantity {
    /// The group it is written with (`QuantityGroup`).
    public var group: QuantityGroup {
        switch self {
        case .stock, .childrenReached: .stocks
        case .flow, .entries, .exits, .inflow, .outflow, .escalations, .stepDowns, .lengthOfStayYears: .flows
        case .cost, .costDiscounted, .programmeCost, .programmeCostDiscounted, .transitionCost, .transitionCostDiscounted,
             .cumulativeCostDiscounted: .costs
        case .qolYears, .qolYearsDiscounted, .transitionQolYears, .transitionQolYearsDiscounted, .cumulativeQolYearsDiscounted: .qol
        }
    }
}

/// Where each quantity sits in a replication's per-step record.
///
/// A record is `(steps + 1) × slotCount` values, step-major. A slot is a
/// quantity and either a level (index), all levels (`level == nil`), or a
/// flow's (from, to) pair. Flows have slots for `moves` only: the moves the
/// run can see (`PossibleMoves`), every pair of levels by default.
public struct RecordLayout: Sendable, Equatable {
    public struct Slot: Sendable, Equatable {
        public var quantity: Quantity
        /// Level index; nil for the total over levels.
        public var level: Int?
        public var from: Int?
        public var to: Int?
    }

    public let levelCount: Int
    public let steps: Int
    /// The moves with a flow slot, by origin then destination; move k's slot is `offset(.flow) + k`.
    public let moves: [Move]
    public let slots: [Slot]
    /// Offsets of the first slot of each quantity, by `Quantity.ordinal`.
    private let firstSlot: [Int]
    /// For each pair (i, j) at [i · n + j], the index of its move in `moves`, or −1.
    private let moveIndex: [Int32]

    /// The layout of a scenario's records: its arms' levels, steps and recorded moves (`ArmModel.possibleMoves`).
    public init(arm: ArmModel) {
        self.init(levelCount: arm.levels.count, steps: arm.steps, moves: arm.possibleMoves)
    }

    /// - Parameter moves: the moves with flow slots (sorted, no repeats, from ≠ to); nil: every pair of levels.
    public init(levelCount n: Int, steps: Int, moves: [Move]? = nil) {
        levelCount = n
        self.steps = steps
        let moves = moves ?? Move.all(levels: n)
        precondition(zip(moves, moves.dropFirst()).allSatisfy { $0 < $1 } && moves.allSatisfy { $0.from != $0.to && $0.from < n && $0.to < n },
                     "moves must be sorted pairs of distinct levels")
        self.moves = moves
        var index = [Int32](repeating: -1, count: n * n)
        for (k, m) in moves.enumerated() { index[m.from * n + m.to] = Int32(k) }
        moveIndex = index
        var slots: [Slot] = []
        var first: [Int] = []
        for (k, q) in Quantity.allCases.enumerated() {
            precondition(q.ordinal == k, "Quantity.ordinal of \(q) is \(q.ordinal), not its position \(k) in allCases")
            first.append(slots.count)
            switch q {
            case .flow:
                for m in moves { slots.append(Slot(quantity: q, level: nil, from: m.from, to: m.to)) }
            case _ where q.isTotalOnly:
                slots.append(Slot(quantity: q, level: nil))
            default:
                for l in 0..<n { slots.append(Slot(quantity: q, level: l)) }
                slots.append(Slot(quantity: q, level: nil))
            }
        }
        self.slots = slots
        firstSlot = first
    }

    public var slotCount: Int { slots.count }

    /// The slots per step of a layout of `n` levels and `moves` recorded moves, without making it:
    /// moves + (n + 1) per per-level quantity + 1 per total-only quantity.
    public static func slotCount(levels n: Int, moves: Int) -> Int {
        Quantity.allCases.reduce(0) { sum, q in sum + (q == .flow ? moves : q.isTotalOnly ? 1 : n + 1) }
    }

    /// The moves with flow slots in an arm's records (`init(arm:)`), without making the layout.
    public static func moveCount(arm: ArmModel) -> Int {
        arm.possibleMoves?.count ?? arm.levels.count * (arm.levels.count - 1)
    }

    /// The slots per step of an arm's records (`init(arm:)`), without making the layout.
    public static func slotCount(arm: ArmModel) -> Int {
        slotCount(levels: arm.levels.count, moves: moveCount(arm: arm))
    }
    public var recordSize: Int { (steps + 1) * slots.count }

    /// Slot of a per-level quantity (level nil: the total).
    public func slot(_ q: Quantity, level: Int?) -> Int {
        q.isTotalOnly ? offset(q) : offset(q) + (level ?? levelCount)
    }

    /// Slot of the flow from `i` to `j`, or nil when that move is not recorded (it cannot happen).
    public func flowSlot(from i: Int, to j: Int) -> Int? {
        guard i != j, i >= 0, j >= 0, i < levelCount, j < levelCount else { return nil }
        let k = moveIndex[i * levelCount + j]
        return k < 0 ? nil : offset(.flow) + Int(k)
    }

    /// The index of the move from `i` to `j` in `moves`, or nil.
    public func moveNumber(from i: Int, to j: Int) -> Int? {
        guard i >= 0, j >= 0, i < levelCount, j < levelCount else { return nil }
        let k = moveIndex[i * levelCount + j]
        return k < 0 ? nil : Int(k)
    }

    public func offset(_ q: Quantity) -> Int { firstSlot[q.ordinal] }

    /// The flows derived from the moves, entries and exits already in `record`, at every step:
    /// each level's inflow (moves in + entries) and outflow (moves out + exits), their totals over
    /// levels, and the escalations (moves i → j with j > i, to a later level in the scenario's
    /// order) and step-downs (j < i) over all levels (docs/methods.md §1).
    public func fillDerivedFlows(_ record: inout [Double]) {
        let n = levelCount, flows = offset(.flow)
        var inflow = [Double](repeating: 0, count: n), outflow = inflow
        for t in stride(from: 1, through: steps, by: 1) {
            var up = 0.0, down = 0.0
            for l in 0..<n {
                inflow[l] = record[index(step: t, slot: slot(.entries, level: l))]
                outflow[l] = record[index(step: t, slot: slot(.exits, level: l))]
            }
            for (k, m) in moves.enumerated() {
                let x = record[index(step: t, slot: flows + k)]
                inflow[m.to] += x
                outflow[m.from] += x
                if m.to > m.from { up += x } else { down += x }
            }
            var inAll = 0.0, outAll = 0.0
            for l in 0..<n {
                record[index(step: t, slot: slot(.inflow, level: l))] = inflow[l]
                record[index(step: t, slot: slot(.outflow, level: l))] = outflow[l]
                inAll += inflow[l]
                outAll += outflow[l]
            }
            record[index(step: t, slot: slot(.inflow, level: nil))] = inAll
            record[index(step: t, slot: slot(.outflow, level: nil))] = outAll
            record[index(step: t, slot: slot(.escalations, level: nil))] = up
            record[index(step: t, slot: slot(.stepDowns, level: nil))] = down
        }
    }

    /// Index in the record of `slot` at `step`.
    public func index(step: Int, slot: Int) -> Int { step * slots.count + slot }
}
