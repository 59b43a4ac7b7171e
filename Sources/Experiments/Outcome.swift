import Analysis
import Model

/// A per-replication outcome of one arm: what `--outcome`, sensitivity
/// analysis and value of information summarise.
///
/// Names are the columns of replications.csv (docs/outputs.md), plus net
/// monetary benefit against the first arm at a willingness to pay λ:
/// `delta_net_benefit_<λ>` = λ·ΔQoL-years − Δcost, both discounted
/// (Stinnett & Mullahy 1998, Med Decis Making 18(2 Suppl):S68–S80).
public struct Outcome: Sendable, Equatable, CustomStringConvertible {
    public enum Measure: Sendable, Equatable {
        case costDiscounted
        case qolYearsDiscounted
        case deltaCostDiscounted
        case deltaQolYearsDiscounted
        /// λ·ΔQoL − Δcost at λ pounds per QoL-year.
        case deltaNetBenefit(willingnessToPay: Double)
    }

    public var measure: Measure
    /// Index of the arm.
    public var arm: Int

    public init(measure: Measure, arm: Int) {
        self.measure = measure
        self.arm = arm
    }

    /// Whether the measure is a paired difference from the first arm.
    public var isDifference: Bool {
        switch measure {
        case .costDiscounted, .qolYearsDiscounted: return false
        default: return true
        }
    }

    public var name: String {
        switch measure {
        case .costDiscounted: return "cost_discounted"
        case .qolYearsDiscounted: return "qol_years_discounted"
        case .deltaCostDiscounted: return "delta_cost_discounted"
        case .deltaQolYearsDiscounted: return "delta_qol_years_discounted"
        case .deltaNetBenefit(let l): return "delta_net_benefit_\(l == l.rounded() ? String(Int(l)) : "\(l)")"
        }
    }

    public var description: String { name }

    /// The measures available for an arm: levels for the first arm, differences too for later ones.
    public static func all(arm: Int, willingnessToPay: [Double]) -> [Outcome] {
        var m: [Measure] = [.costDiscounted, .qolYearsDiscounted]
        if arm > 0 { m += [.deltaCostDiscounted, .deltaQolYearsDiscounted] + willingnessToPay.map { .deltaNetBenefit(willingnessToPay: $0) } }
        return m.map { Outcome(measure: $0, arm: arm) }
    }

    /// Parse `NAME` or `ARM:NAME`. Without an arm, a difference is of the
    /// last arm and a level of the first. Throws a message naming the choices.
    public static func parse(_ text: String, arms: [String]) throws(OutcomeError) -> Outcome {
        let parts = text.split(separator: ":", maxSplits: 1).map(String.init)
        let name = parts.last ?? ""
        let measure: Measure
        switch name {
        case "cost_discounted": measure = .costDiscounted
        case "qol_years_discounted": measure = .qolYearsDiscounted
        case "delta_cost_discounted": measure = .deltaCostDiscounted
        case "delta_qol_years_discounted": measure = .deltaQolYearsDiscounted
        default:
            let prefix = "delta_net_benefit_"
            guard name.hasPrefix(prefix), let l = Double(name.dropFirst(prefix.count)), l >= 0, l.isFinite else {
                throw OutcomeError(description: "unknown outcome '\(name)'; expected cost_discounted, qol_years_discounted, delta_cost_discounted, delta_qol_years_discounted or delta_net_benefit_<£ per QoL-year>, optionally after ARM:")
            }
            measure = .deltaNetBenefit(willingnessToPay: l)
        }
        var outcome = Outcome(measure: measure, arm: 0)
        if parts.count == 2 {
            guard let a = arms.firstIndex(of: parts[0]) else {
                throw OutcomeError(description: "unknown arm '\(parts[0])' in outcome '\(text)'; expected one of \(arms.joined(separator: ", "))")
            }
            outcome.arm = a
        } else if outcome.isDifference {
            outcome.arm = arms.count - 1
        }
        if outcome.isDifference && outcome.arm == 0 {
            throw OutcomeError(description: "outcome '\(text)' is a difference from the first arm '\(arms[0])', so it needs a later arm; the scenario has \(arms.count == 1 ? "only one arm" : "arms \(arms.joined(separator: ", "))")")
        }
        return outcome
    }

    /// The outcome of each replication, in replication order, from rows sorted by (replication, arm).
    public func values(_ rows: [ReplicationRow]) -> [Double] { valuesAndDraws(rows).map(\.value) }

    /// Each replication's outcome with its parameter draw, in replication order.
    func valuesAndDraws(_ rows: [ReplicationRow]) -> [(value: Double, draw: Int)] {
        var first: [Int: ReplicationTotals] = [:]
        if isDifference { for r in rows where r.arm == 0 { first[r.replication] = r.totals } }
        return rows.filter { $0.arm == arm }.compactMap { r -> (value: Double, draw: Int)? in
            let t = r.totals
            switch measure {
            case .costDiscounted: return (t.costDiscounted, r.draw)
            case .qolYearsDiscounted: return (t.qolYearsDiscounted, r.draw)
            default:
                guard let b = first[r.replication] else { return nil }
                let dc = t.costDiscounted - b.costDiscounted, dq = t.qolYearsDiscounted - b.qolYearsDiscounted
                switch measure {
                case .deltaCostDiscounted: return (dc, r.draw)
                case .deltaQolYearsDiscounted: return (dq, r.draw)
                case .deltaNetBenefit(let l): return (l * dq - dc, r.draw)
                default: return nil
                }
            }
        }
    }

    /// The outcome's statistics over `rows` (`SampleStatistics`): in a nested
    /// run (`replicationsPerDraw` > 1) the MCSE and CI are over draw means.
    public func statistics(_ rows: [ReplicationRow], replicationsPerDraw: Int) -> SampleStatistics {
        let v = valuesAndDraws(rows)
        return SampleStatistics(v.map(\.value), groups: replicationsPerDraw > 1 ? v.map(\.draw) : nil)
    }
}

/// An outcome name that cannot be read.
public struct OutcomeError: Error, CustomStringConvertible, Sendable {
    public var description: String
}
