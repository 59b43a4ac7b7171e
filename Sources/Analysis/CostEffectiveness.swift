import Foundation
import Stochastics

/// Cost-effectiveness of one arm against the comparator, from paired replications.
///
/// Each replication gives Δcost and ΔQoL-years (arm minus comparator, same
/// random numbers) and a break-even time. Net monetary benefit at a
/// willingness to pay λ per QoL-year is NMB = λ·ΔQoL − Δcost; the
/// cost-effectiveness acceptability curve is P(NMB(λ) > 0) over a range of λ
/// (Fenwick, Claxton & Sculpher 2001, Health Econ 10(8):779–787). The ICER is
/// the ratio of mean differences, E[Δcost] / E[ΔQoL] (Drummond et al. 2015,
/// *Methods for the Economic Evaluation of Health Care Programmes*, 4th ed.).
public enum CostEffectiveness {
    /// Willingness-to-pay values, £ per QoL-year.
    public struct Settings: Sendable, Equatable {
        /// Values for net monetary benefit. Default £20,000 and £30,000, the range NICE
        /// uses per QALY (NICE 2022, *NICE health technology evaluations: the manual*, PMG36).
        public var willingnessToPay: [Double]
        /// The acceptability curve runs from 0 to `curveMaximum` in steps of `curveStep`.
        public var curveMaximum: Double
        public var curveStep: Double

        public init(willingnessToPay: [Double] = [20_000, 30_000], curveMaximum: Double = 100_000, curveStep: Double = 1_000) {
            self.willingnessToPay = willingnessToPay
            self.curveMaximum = curveMaximum
            self.curveStep = curveStep
        }

        public var curve: [Double] {
            // At most 100000 points (what `run` allows), whatever settings a state file holds.
            guard curveStep > 0, curveMaximum >= 0, curveMaximum.isFinite else { return [0] }
            let last = Int(min((curveMaximum / curveStep).rounded(.down), 100_000))
            return (0...last).map { Double($0) * curveStep }
        }
    }

    /// One paired replication.
    public struct Pair: Sendable {
        public var deltaCost: Double
        public var deltaQol: Double
        /// Years to break even; nil if the arm never does within the horizon.
        public var breakEvenYears: Double?
        public init(deltaCost: Double, deltaQol: Double, breakEvenYears: Double?) {
            self.deltaCost = deltaCost
            self.deltaQol = deltaQol
            self.breakEvenYears = breakEvenYears
        }
    }

    /// One row of summary.csv.
    public struct Row: Sendable, Equatable {
        public var measure: String
        public var willingnessToPay: Double?
        public var replications: Int
        public var mean: Double
        public var mcse: Double = .nan
        public var ciLow: Double = .nan
        public var ciHigh: Double = .nan
        public var p2_5: Double = .nan
        public var p50: Double = .nan
        public var p97_5: Double = .nan
    }

    /// Mean, MCSE, t-based 95 % CI for the mean, and exact nearest-rank percentiles.
    static func describe(_ measure: String, _ xs: [Double], wtp: Double? = nil) -> Row {
        var m = ExactMoments()
        for x in xs { m.add(x) }
        var row = Row(measure: measure, willingnessToPay: wtp, replications: xs.count, mean: m.mean)
        guard !xs.isEmpty else { return row }
        let sorted = xs.sorted()
        func q(_ p: Double) -> Double { sorted[Int((p * Double(sorted.count - 1)).rounded())] }
        row.p2_5 = q(0.025); row.p50 = q(0.5); row.p97_5 = q(0.975)
        if xs.count > 1 {
            let t = Quantiles.studentT(0.975, degreesOfFreedom: Double(xs.count - 1))
            row.mcse = m.standardError
            row.ciLow = row.mean - t * row.mcse
            row.ciHigh = row.mean + t * row.mcse
        }
        return row
    }

    /// A proportion with its standard error √(p(1−p)/n) and Wilson's 95 % score interval
    /// (Wilson 1927, JASA 22:209–212), which stays inside [0, 1].
    static func proportion(_ measure: String, _ hits: Int, _ n: Int, wtp: Double? = nil) -> Row {
        guard n > 0 else { return Row(measure: measure, willingnessToPay: wtp, replications: 0, mean: .nan) }
        let p = Double(hits) / Double(n), z = 1.959963984540054, nn = Double(n)
        let centre = (p + z * z / (2 * nn)) / (1 + z * z / nn)
        let half = z / (1 + z * z / nn) * (p * (1 - p) / nn + z * z / (4 * nn * nn)).squareRoot()
        return Row(measure: measure, willingnessToPay: wtp, replications: n, mean: p, mcse: (p * (1 - p) / nn).squareRoot(),
                   ciLow: max(0, centre - half), ciHigh: min(1, centre + half))
    }

    /// Every summary row for one arm: differences, ICER, NMB at `willingnessToPay`,
    /// the probabilities, break-even, and the acceptability curve over `curve`.
    public static func summarise(_ pairs: [Pair], willingnessToPay: [Double], curve: [Double]) -> [Row] {
        let n = pairs.count
        var rows = [describe("delta_cost_discounted", pairs.map(\.deltaCost)),
                    describe("delta_qol_years_discounted", pairs.map(\.deltaQol))]
        let meanCost = rows[0].mean, meanQol = rows[1].mean
        rows.append(Row(measure: "icer", willingnessToPay: nil, replications: n, mean: meanQol != 0 ? meanCost / meanQol : .nan))
        for wtp in willingnessToPay {
            rows.append(describe("net_monetary_benefit", pairs.map { wtp * $0.deltaQol - $0.deltaCost }, wtp: wtp))
        }
        rows.append(proportion("probability_win_win", pairs.filter { $0.deltaCost < 0 && $0.deltaQol > 0 }.count, n))
        rows.append(proportion("probability_cost_saving", pairs.filter { $0.deltaCost < 0 }.count, n))
        rows.append(proportion("probability_breaks_even", pairs.filter { $0.breakEvenYears != nil }.count, n))
        rows.append(describe("break_even_years", pairs.compactMap(\.breakEvenYears)))
        for wtp in curve {
            rows.append(proportion("probability_cost_effective", pairs.filter { wtp * $0.deltaQol - $0.deltaCost > 0 }.count, n, wtp: wtp))
        }
        return rows
    }
}
