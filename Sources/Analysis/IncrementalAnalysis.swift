import Foundation
import Stochastics

/// Incremental cost-effectiveness across any number of arms: the efficiency
/// frontier with strict and extended dominance, and ICERs between neighbours
/// on it (Drummond et al. 2015, *Methods for the Economic Evaluation of Health
/// Care Programmes*, 4th ed., ch. 4; Cantor 1994, Med Decis Making
/// 14(3):259–265 on extended dominance).
///
/// The steps, on expected (mean) discounted cost C and QoL-years E per arm:
/// 1. sort by C ascending, then E descending, then arm order;
/// 2. an arm is *dominated* when an arm before it in that order has E at least
///    as large (it costs as much or more and gains no more), so of two arms
///    with equal C and E the later in scenario order is dominated;
/// 3. among the rest (C and E now strictly increasing), an arm is *extendedly
///    dominated* when its ICER against the previous arm is strictly larger
///    than the next arm's ICER against it: a mix of its two neighbours gives
///    more QoL-years for the same cost. The first such arm is removed and the
///    ICERs recomputed until none is left; arms on a straight line (equal
///    ICERs) stay on the frontier;
/// 4. ICER_k = (C_k − C_{k−1}) / (E_k − E_{k−1}) between consecutive frontier arms.
///
/// The same conventions as dampack's `calculate_icers` (statuses ND, D, ED).
public enum IncrementalAnalysis {
    /// Where an arm stands.
    public enum Status: String, Sendable, CaseIterable {
        /// On the efficiency frontier (dampack "ND").
        case frontier
        /// Strictly (or weakly) dominated: another arm costs no more and gains at least as much (dampack "D").
        case dominated
        /// A mix of two frontier arms gains more for the same cost (dampack "ED").
        case extendedlyDominated = "extendedly_dominated"
    }

    /// One arm's row of the incremental analysis.
    public struct Arm: Sendable, Equatable {
        /// Index of the arm in the scenario.
        public var arm: Int
        public var cost: Double
        public var qolYears: Double
        public var status: Status
        /// Dominated: the cheapest arm not itself dominated that dominates it (most QoL-years on a tie in cost);
        /// it may be extendedly dominated.
        /// Extendedly dominated: the two consecutive frontier arms whose costs bracket its cost.
        /// Empty on the frontier.
        public var dominatedBy: [Int]
        /// The previous arm on the frontier, nil for the first frontier arm and for arms off the frontier.
        public var comparator: Int?
        /// C − C_comparator; nil without a comparator.
        public var incrementalCost: Double?
        /// E − E_comparator; nil without a comparator.
        public var incrementalQolYears: Double?
        /// incrementalCost / incrementalQolYears; nil without a comparator.
        public var icer: Double?
    }

    /// A problem with the input: what was found and what was expected.
    public struct InputError: Error, CustomStringConvertible, Sendable, Equatable {
        public var description: String
        public init(description: String) { self.description = description }
    }

    /// Every arm, in the order of step 1 (cost ascending, QoL-years descending, arm order).
    ///
    /// Complexity: O(A²) for A arms.
    /// - Throws: `InputError` if the lists differ in length, are empty, or hold a value that is not finite.
    public static func analyse(cost: [Double], qolYears: [Double]) throws(InputError) -> [Arm] {
        guard cost.count == qolYears.count, !cost.isEmpty else {
            throw InputError(description: "Incremental analysis needs one cost and one QoL-years value per arm, but got \(cost.count) costs and \(qolYears.count) QoL-years values.")
        }
        if let a = cost.indices.first(where: { !cost[$0].isFinite || !qolYears[$0].isFinite }) {
            throw InputError(description: "Arm \(a) has cost \(cost[a]) and QoL-years \(qolYears[a]); both must be finite.")
        }
        let order = cost.indices.sorted { i, j in
            if cost[i] != cost[j] { return cost[i] < cost[j] }
            if qolYears[i] != qolYears[j] { return qolYears[i] > qolYears[j] }
            return i < j
        }
        // Step 2: dominated by an arm earlier in the order with at least as many QoL-years.
        var status = [Status](repeating: .frontier, count: cost.count)
        for (p, i) in order.enumerated() where order[..<p].contains(where: { qolYears[$0] >= qolYears[i] }) {
            status[i] = .dominated
        }
        // Step 3: extended dominance, one arm at a time.
        let undominated = order.filter { status[$0] == .frontier }
        var frontier = undominated
        func icer(_ k: Int) -> Double {
            (cost[frontier[k]] - cost[frontier[k - 1]]) / (qolYears[frontier[k]] - qolYears[frontier[k - 1]])
        }
        while let k = frontier.indices.dropFirst().dropLast().first(where: { icer($0) > icer($0 + 1) }) {
            status[frontier[k]] = .extendedlyDominated
            frontier.remove(at: k)
        }
        var out: [Arm] = []
        for i in order {
            var row = Arm(arm: i, cost: cost[i], qolYears: qolYears[i], status: status[i], dominatedBy: [], comparator: nil,
                          incrementalCost: nil, incrementalQolYears: nil, icer: nil)
            switch status[i] {
            case .frontier:
                if let k = frontier.firstIndex(of: i), k > 0 {
                    let c = frontier[k - 1]
                    row.comparator = c
                    row.incrementalCost = cost[i] - cost[c]
                    row.incrementalQolYears = qolYears[i] - qolYears[c]
                    row.icer = row.incrementalCost! / row.incrementalQolYears!
                }
            case .dominated:
                // Sorted by cost, so the first that dominates is the cheapest; one always exists.
                if let d = undominated.first(where: { cost[$0] <= cost[i] && qolYears[$0] >= qolYears[i] }) { row.dominatedBy = [d] }
            case .extendedlyDominated:
                if let upper = frontier.firstIndex(where: { cost[$0] > cost[i] }), upper > 0 {
                    row.dominatedBy = [frontier[upper - 1], frontier[upper]]
                }
            }
            out.append(row)
        }
        return out
    }
}

/// Net monetary benefit of every arm over a grid of willingness to pay: the
/// expected NMB, the probability that each arm has the highest NMB (the
/// cost-effectiveness acceptability curves of all arms) and the
/// cost-effectiveness acceptability frontier, the arm with the highest
/// expected NMB (Fenwick, Claxton & Sculpher 2001, Health Econ 10(8):779–787;
/// Barton, Briggs & Fenwick 2008, Value Health 11(5):886–897).
///
/// NMB of arm a at λ is λ·E_a − C_a (discounted QoL-years and cost).
public enum Acceptability {
    /// One replication: discounted cost and QoL-years of every arm, and its parameter draw in a nested run.
    public struct Replication: Sendable {
        public var cost: [Double]
        public var qolYears: [Double]
        /// The parameter draw in a nested run (several replications per draw); nil otherwise.
        public var draw: Int?
        public init(cost: [Double], qolYears: [Double], draw: Int? = nil) {
            self.cost = cost
            self.qolYears = qolYears
            self.draw = draw
        }
    }

    /// One arm at one willingness to pay.
    public struct Point: Sendable, Equatable {
        public var willingnessToPay: Double
        public var arm: Int
        /// NMB over replications: its mean is the expected NMB; its MCSE that of the draw means in a nested run.
        public var netBenefit: SampleStatistics
        /// Share of units (draw means in a nested run, replications otherwise) in which the arm's NMB is the
        /// highest; an arm tied with k − 1 others for the highest gets 1/k of the unit. Sums to 1 over arms.
        public var probabilityBest: Double
        /// The arm has the highest expected NMB (the lowest arm index on a tie): the acceptability frontier.
        public var onFrontier: Bool
        /// Units behind `probabilityBest`.
        public var units: Int
    }

    /// Every arm at every λ of `willingnessToPay`, λ by λ, arms in scenario order.
    ///
    /// Complexity: O(L·n·A) for L values of λ, n replications and A arms.
    public static func compute(_ replications: [Replication], willingnessToPay: [Double]) -> [Point] {
        guard let arms = replications.first?.cost.count, arms > 0 else { return [] }
        let groups: [Int]? = replications.allSatisfy({ $0.draw != nil }) ? replications.map { $0.draw! } : nil
        // Units for the probability: draw means in a nested run, replications otherwise.
        var unitCost: [[Double]] = [], unitQol: [[Double]] = []
        if let groups {
            var index: [Int: Int] = [:], counts: [Int] = []
            for (r, g) in zip(replications, groups) {
                let u = index[g] ?? { index[g] = unitCost.count; unitCost.append(.init(repeating: 0, count: arms))
                                      unitQol.append(.init(repeating: 0, count: arms)); counts.append(0); return unitCost.count - 1 }()
                for a in 0..<arms { unitCost[u][a] += r.cost[a]; unitQol[u][a] += r.qolYears[a] }
                counts[u] += 1
            }
            for u in counts.indices {
                for a in 0..<arms { unitCost[u][a] /= Double(counts[u]); unitQol[u][a] /= Double(counts[u]) }
            }
        } else {
            unitCost = replications.map(\.cost)
            unitQol = replications.map(\.qolYears)
        }
        var out: [Point] = []
        for lambda in willingnessToPay {
            let stats = (0..<arms).map { a in
                SampleStatistics(replications.map { lambda * $0.qolYears[a] - $0.cost[a] }, groups: groups)
            }
            var shares = [Double](repeating: 0, count: arms)
            for u in unitCost.indices {
                let nb = (0..<arms).map { lambda * unitQol[u][$0] - unitCost[u][$0] }
                let top = nb.max()!
                let tied = nb.indices.filter { nb[$0] == top }
                for a in tied { shares[a] += 1 / Double(tied.count) }
            }
            let best = ValueOfInformation.argmax(stats.map(\.mean))
            for a in 0..<arms {
                out.append(Point(willingnessToPay: lambda, arm: a, netBenefit: stats[a],
                                 probabilityBest: shares[a] / Double(unitCost.count), onFrontier: a == best, units: unitCost.count))
            }
        }
        return out
    }
}
