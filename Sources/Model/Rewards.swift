import Foundation

/// A replication's summary: one small row of replications.csv.
public struct ReplicationTotals: Sendable, Equatable {
    /// Children ever in the model: initial plus every entry.
    public var childrenEver: Int
    public var childYears: Double
    public var cost: Double
    public var costDiscounted: Double
    public var programmeCostDiscounted: Double
    public var qolYears: Double
    public var qolYearsDiscounted: Double
    /// The one-off costs of moves and arrivals, discounted (`TransitionRewards`); part of `costDiscounted`.
    public var transitionCostDiscounted: Double = 0
    /// The one-off QoL changes of moves and arrivals, discounted; part of `qolYearsDiscounted`.
    public var transitionQolYearsDiscounted: Double = 0
    public var finalStocks: [Int]
    public var childSteps: Int

    public init(childrenEver: Int, childYears: Double, cost: Double, costDiscounted: Double,
                programmeCostDiscounted: Double, qolYears: Double, qolYearsDiscounted: Double,
                finalStocks: [Int], childSteps: Int) {
        self.childrenEver = childrenEver
        self.childYears = childYears
        self.cost = cost
        self.costDiscounted = costDiscounted
        self.programmeCostDiscounted = programmeCostDiscounted
        self.qolYears = qolYears
        self.qolYearsDiscounted = qolYearsDiscounted
        self.finalStocks = finalStocks
        self.childSteps = childSteps
    }
}


/// Costs and QoL from the stock path, by the arm's reward timing.
///
/// A step t runs from time τ_{t−1} to τ_t (years). With V(τ) the value rate
/// at a time point (level: stock × cost per child-year or × QoL weight;
/// programme: cost per year + cost per child reached × children reached) and
/// D(τ) = (1 + r)^(−τ), the step's reward is
///
/// ```
/// reward_t = dt · [ w0 · V(τ_{t−1}) · D(τ_{t−1}) + w1 · V(τ_t) · D(τ_t) ]
/// ```
///
/// with (w0, w1) = (1, 0) at start, (0, 1) at end, (½, ½) half-cycle, and for
/// Simpson's 1/3 rule (⅓, ⅔) on the first step of a pair and (⅔, ⅓) on the
/// second, so each pair sums to dt/3 · (V0 + 4 V1 + V2); an unpaired last step
/// uses (½, ½); `.weights(w0, w1)` gives the user's (w0, w1) on every step.
/// Undiscounted values use D = 1. QoL weights may be negative (in [−1, 1]);
/// nothing here assumes a sign. The one-off rewards of the step's moves and
/// arrivals (`TransitionRewards`) are added at τ_t, whatever the timing.
public enum Rewards {
    public static func weights(step t: Int, steps: Int, timing: RewardTiming) -> (Double, Double) {
        switch timing {
        case .start: return (1, 0)
        case .end: return (0, 1)
        case .halfCycle: return (0.5, 0.5)
        case .simpson:
            if t % 2 == 1 { return t == steps ? (0.5, 0.5) : (1.0 / 3, 2.0 / 3) }
            return (2.0 / 3, 1.0 / 3)
        case .weights(let w0, let w1): return (w0, w1)
        }
    }

    /// The cost rate at a time point, £ per year: Σ_l stock_l · (cost_l + addOn_l) + programme cost
    /// per year + cost per child reached × children reached + prevention money. Drives the reinvestment loop.
    public static func costRatePerYear(arm: ArmModel, stocks: [Double], reached: Double, timeYears: Double,
                                       preventionMoneyPerYear: Double) -> Double {
        var rate = programmeRatePerYear(arm: arm, reached: reached, timeYears: timeYears, preventionMoneyPerYear: preventionMoneyPerYear)
        for (l, level) in arm.levels.enumerated() { rate += stocks[l] * (level.costPerChildYear + level.addOnCostPerChildYear) }
        return rate
    }

    /// The programme's cost rate at a time point, £ per year: its cost per year + cost per
    /// child reached × children reached + reinvested prevention money.
    static func programmeRatePerYear(arm: ArmModel, reached: Double, timeYears: Double, preventionMoneyPerYear: Double) -> Double {
        arm.programmeCostPerYear.value(at: timeYears) + arm.programmeCostPerChildReachedPerYear * reached + preventionMoneyPerYear
    }

    /// The cost rate at every time point (0 ... steps) of a record: the reference path of the reinvestment loop.
    public static func costRatePath(record: [Double], layout: RecordLayout, arm: ArmModel) -> [Double] {
        (0...layout.steps).map { t in
            let stocks = (0..<layout.levelCount).map { record[layout.index(step: t, slot: layout.slot(.stock, level: $0))] }
            let reached = record[layout.index(step: t, slot: layout.slot(.childrenReached, level: nil))]
            return costRatePerYear(arm: arm, stocks: stocks, reached: reached, timeYears: Double(t) * arm.stepYears,
                                   preventionMoneyPerYear: 0)
        }
    }

    /// The discount factors D(τ_k) = (1 + r)^(−k·dt) of costs and QoL at each time point 0 ... steps
    /// of an arm, computed once and shared by the records of one replication (all areas and each area).
    public struct Discounts: Sendable {
        public let cost: [Double]
        public let qol: [Double]

        public init(arm: ArmModel) {
            let dt = arm.stepYears
            cost = (0...arm.steps).map { pow(1 + arm.costDiscountRatePerYear, -Double($0) * dt) }
            qol = (0...arm.steps).map { pow(1 + arm.qolDiscountRatePerYear, -Double($0) * dt) }
        }
    }

    /// - Parameters:
    ///   - stocks: children in each level at each time point 0 ... steps, at [t · levels + level].
    ///   - discounts: `Discounts(arm:)`, when the caller already has them.
    ///   - preventionMoneyPerYear: reinvested money at each time point (0 ... steps), part of the programme's cost.
    ///   - programme: whether the record holds the programme's cost: true for all areas; false for one
    ///     area's record, whose costs are its children's only (`Quantity.isAuthorityWide`).
    public static func fill(record: inout [Double], layout: RecordLayout, arm: ArmModel, stocks: [Double], reached: [Double],
                            preventionMoneyPerYear: [Double]? = nil, programme includesProgramme: Bool = true, discounts: Discounts? = nil,
                            childrenEver: Int, childSteps: Int) -> ReplicationTotals {
        let n = arm.levels.count, dt = arm.stepYears
        let unitCost = arm.levels.map { $0.costPerChildYear + $0.addOnCostPerChildYear }
        let qol = arm.levels.map(\.qolWeight)
        let absorbing = arm.levels.map(\.absorbing)
        // D(τ_k) at each time point, computed once per point rather than per level and step.
        let factors = discounts ?? Discounts(arm: arm)
        let costDiscount = factors.cost, qolDiscount = factors.qol
        precondition(stocks.count == (arm.steps + 1) * n, "\(stocks.count) stocks for \(arm.steps + 1) time points × \(n) levels")
        var totals = ReplicationTotals(childrenEver: childrenEver, childYears: 0, cost: 0, costDiscounted: 0,
                                       programmeCostDiscounted: 0, qolYears: 0, qolYearsDiscounted: 0,
                                       finalStocks: (0..<n).map { Int(stocks[arm.steps * n + $0].rounded()) }, childSteps: childSteps)
        func put(_ t: Int, _ q: Quantity, _ level: Int?, _ v: Double) {
            record[layout.index(step: t, slot: layout.slot(q, level: level))] = v
        }
        for t in 0...arm.steps {
            put(t, .childrenReached, nil, reached[t])
            var all = 0.0
            for l in 0..<n { put(t, .stock, l, stocks[t * n + l]); all += stocks[t * n + l] }
            put(t, .stock, nil, all)
        }
        var cumulativeCost = 0.0, cumulativeQol = 0.0
        for t in stride(from: 1, through: arm.steps, by: 1) {
            let (w0, w1) = weights(step: t, steps: arm.steps, timing: arm.rewardTiming)
            let points = [(t - 1, w0), (t, w1)]
            var costAll = 0.0, costAllD = 0.0, qolAll = 0.0, qolAllD = 0.0
            for l in 0..<n {
                var occupancy = 0.0, costD = 0.0, qolD = 0.0
                for (k, w) in points where w > 0 {
                    let s = stocks[k * n + l] * w * dt
                    occupancy += s
                    costD += s * unitCost[l] * costDiscount[k]
                    qolD += s * qol[l] * qolDiscount[k]
                }
                put(t, .cost, l, occupancy * unitCost[l]); put(t, .costDiscounted, l, costD)
                put(t, .qolYears, l, occupancy * qol[l]); put(t, .qolYearsDiscounted, l, qolD)
                costAll += occupancy * unitCost[l]; costAllD += costD
                qolAll += occupancy * qol[l]; qolAllD += qolD
                if !absorbing[l] { totals.childYears += occupancy }  // years lived: not time in Dead
            }
            var programme = 0.0, programmeD = 0.0
            for (k, w) in points where w > 0 && includesProgramme {
                let rate = programmeRatePerYear(arm: arm, reached: reached[k], timeYears: Double(k) * dt,
                                                preventionMoneyPerYear: preventionMoneyPerYear?[k] ?? 0)
                programme += w * dt * rate
                programmeD += w * dt * rate * costDiscount[k]
            }
            put(t, .programmeCost, nil, programme); put(t, .programmeCostDiscounted, nil, programmeD)
            // One-off rewards of the step's moves and arrivals, at its end (`TransitionRewards`).
            var moveCost = 0.0, moveQol = 0.0
            if let r = arm.transitionRewards {
                for i in 0..<n {
                    let arrivals = record[layout.index(step: t, slot: layout.slot(.inflow, level: i))]
                    moveCost += arrivals * r.intoCost[i]
                    moveQol += arrivals * r.intoQolChange[i]
                    for j in 0..<n where j != i && (r.moveCost[i][j] != 0 || r.moveQolChange[i][j] != 0) {
                        guard let flow = layout.flowSlot(from: i, to: j) else { continue }  // a move that cannot happen
                        let moves = record[layout.index(step: t, slot: flow)]
                        moveCost += moves * r.moveCost[i][j]
                        moveQol += moves * r.moveQolChange[i][j]
                    }
                }
            }
            let moveCostD = moveCost * costDiscount[t], moveQolD = moveQol * qolDiscount[t]
            put(t, .transitionCost, nil, moveCost); put(t, .transitionCostDiscounted, nil, moveCostD)
            put(t, .transitionQolYears, nil, moveQol); put(t, .transitionQolYearsDiscounted, nil, moveQolD)
            put(t, .cost, nil, costAll + programme + moveCost); put(t, .costDiscounted, nil, costAllD + programmeD + moveCostD)
            put(t, .qolYears, nil, qolAll + moveQol); put(t, .qolYearsDiscounted, nil, qolAllD + moveQolD)
            cumulativeCost += costAllD + programmeD + moveCostD
            cumulativeQol += qolAllD + moveQolD
            put(t, .cumulativeCostDiscounted, nil, cumulativeCost)
            put(t, .cumulativeQolYearsDiscounted, nil, cumulativeQol)
            totals.cost += costAll + programme + moveCost
            totals.costDiscounted += costAllD + programmeD + moveCostD
            totals.programmeCostDiscounted += programmeD
            totals.transitionCostDiscounted += moveCostD
            totals.qolYears += qolAll + moveQol
            totals.qolYearsDiscounted += qolAllD + moveQolD
            totals.transitionQolYearsDiscounted += moveQolD
        }
        return totals
    }
}
