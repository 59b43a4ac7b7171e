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

/// Where each quantity sits in a replication's per-step record.
///
/// A record is `(steps + 1) × slotCount` values, step-major. A slot is a
/// quantity and either a level (index), all levels (`level == nil`), or a
/// flow's (from, to) pair.
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
    public let slots: [Slot]
    /// Offsets of the first slot of each quantity, by `Quantity.ordinal`.
    private let firstSlot: [Int]

    public init(levelCount n: Int, steps: Int) {
        levelCount = n
        self.steps = steps
        var slots: [Slot] = []
        var first: [Int] = []
        for (k, q) in Quantity.allCases.enumerated() {
            precondition(q.ordinal == k, "Quantity.ordinal of \(q) is \(q.ordinal), not its position \(k) in allCases")
            first.append(slots.count)
            switch q {
            case .flow:
                for i in 0..<n { for j in 0..<n where i != j { slots.append(Slot(quantity: q, level: nil, from: i, to: j)) } }
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
    public var recordSize: Int { (steps + 1) * slots.count }

    /// Slot of a per-level quantity (level nil: the total).
    public func slot(_ q: Quantity, level: Int?) -> Int {
        q.isTotalOnly ? offset(q) : offset(q) + (level ?? levelCount)
    }

    /// Slot of the flow from `i` to `j` (i ≠ j).
    public func flowSlot(from i: Int, to j: Int) -> Int {
        offset(.flow) + i * (levelCount - 1) + (j < i ? j : j - 1)
    }

    public func offset(_ q: Quantity) -> Int { firstSlot[q.ordinal] }

    /// The flows derived from the moves, entries and exits already in `record`, at every step:
    /// each level's inflow (moves in + entries) and outflow (moves out + exits), their totals over
    /// levels, and the escalations (moves i → j with j > i, to a later level in the scenario's
    /// order) and step-downs (j < i) over all levels (docs/methods.md §1).
    public func fillDerivedFlows(_ record: inout [Double]) {
        let n = levelCount
        for t in stride(from: 1, through: steps, by: 1) {
            var inAll = 0.0, outAll = 0.0, up = 0.0, down = 0.0
            for l in 0..<n {
                var inflow = record[index(step: t, slot: slot(.entries, level: l))]
                var outflow = record[index(step: t, slot: slot(.exits, level: l))]
                for other in 0..<n where other != l {
                    inflow += record[index(step: t, slot: flowSlot(from: other, to: l))]
                    let out = record[index(step: t, slot: flowSlot(from: l, to: other))]
                    outflow += out
                    if other > l { up += out } else { down += out }
                }
                record[index(step: t, slot: slot(.inflow, level: l))] = inflow
                record[index(step: t, slot: slot(.outflow, level: l))] = outflow
                inAll += inflow
                outAll += outflow
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
