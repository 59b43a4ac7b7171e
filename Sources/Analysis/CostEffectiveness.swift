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

        /// The willingness-to-pay values of acceptability.csv: the acceptability curve and the values
        /// for net monetary benefit together, ascending, each once (by default £0 to £100,000 in
        /// steps of £1,000).
        public var acceptabilityGrid: [Double] {
            Array(Set(curve + willingnessToPay)).sorted()
        }
    }

    /// One paired replication.
    public struct Pair: Sendable {
        public var deltaCost: Double
        public var deltaQol: Double
        /// Years to break even; nil if the arm never does within the horizon.
        public var breakEvenYears: Double?
        /// The parameter draw of the replication in a nested run, where draws are the units of the MCSE; nil otherwise.
        public var draw: Int?
        public init(deltaCost: Double, deltaQol: Double, breakEvenYears: Double?, draw: Int? = nil) {
            self.deltaCost = deltaCost
            self.deltaQol = deltaQol
            self.breakEvenYears = breakEvenYears
            self.draw = draw
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
        /// The statistics of a measure that is a mean over replications (not of a probability or the ICER):
        /// the one value that every output showing this measure takes.
        public var statistics: SampleStatistics? = nil
        public var p2_5: Double { statistics?.p2_5 ?? .nan }
        public var p50: Double { statistics?.p50 ?? .nan }
        public var p97_5: Double { statistics?.p97_5 ?? .nan }

        init(measure: String, willingnessToPay: Double?, replications: Int, mean: Double, mcse: Double = .nan,
             ciLow: Double = .nan, ciHigh: Double = .nan) {
            self.measure = measure
            self.willingnessToPay = willingnessToPay
            self.replications = replications
            self.mean = mean
            self.mcse = mcse
            self.ciLow = ciLow
            self.ciHigh = ciHigh
        }

        /// A row of a mean over replications: `SampleStatistics` (docs/methods.md, "Statistics used by all outputs").
        init(measure: String, willingnessToPay: Double? = nil, _ s: SampleStatistics) {
            self.init(measure: measure, willingnessToPay: willingnessToPay, replications: s.count, mean: s.mean,
                      mcse: s.mcse, ciLow: s.ciLow, ciHigh: s.ciHigh)
            statistics = s
        }
    }

    /// A proportion with its standard error √(p(1−p)/n) and Wilson's 95 % score interval
    /// (Wilson 1927, JASA 22:209–212), which stays inside [0, 1] and is exactly 0 (1) at its
    /// lower (upper) end when no (every) replication is a hit.
    static func proportion(_ measure: String, _ hits: Int, _ n: Int, wtp: Double? = nil) -> Row {
        guard n > 0 else { return Row(measure: measure, willingnessToPay: wtp, replications: 0, mean: .nan) }
        let p = Double(hits) / Double(n), z = Quantiles.standardNormal(0.975), nn = Double(n)
        let centre = (p + z * z / (2 * nn)) / (1 + z * z / nn)
        let half = z / (1 + z * z / nn) * (p * (1 - p) / nn + z * z / (4 * nn * nn)).squareRoot()
        return Row(measure: measure, willingnessToPay: wtp, replications: n, mean: p, mcse: (p * (1 - p) / nn).squareRoot(),
                   ciLow: hits == 0 ? 0 : max(0, centre - half), ciHigh: hits == n ? 1 : min(1, centre + half))
    }

    /// Where a pair of mean differences lies on the cost-effectiveness plane (Black 1990,
    /// Med Decis Making 10(3):212–214), which decides what the ICER means:
    ///
    /// | ΔQoL | Δcost | quadrant | ICER = Δcost / ΔQoL |
    /// |---|---|---|---|
    /// | > 0 | > 0 | north-east | £ per QoL-year gained |
    /// | > 0 | ≤ 0 | south-east | the arm dominates (cheaper or as cheap, and better) |
    /// | < 0 | ≥ 0 | north-west | the arm is dominated (dearer or as dear, and worse) |
    /// | < 0 | < 0 | south-west | £ saved per QoL-year lost |
    /// | 0 | any | — | undefined |
    public enum Quadrant: String, Sendable, CaseIterable {
        case northEast = "north-east"
        case southEast = "south-east"
        case northWest = "north-west"
        case southWest = "south-west"
        case noQolDifference = "no QoL difference"

        /// The quadrant of mean differences (arm minus comparator).
        public static func of(deltaCost: Double, deltaQol: Double) -> Quadrant {
            if deltaQol > 0 { return deltaCost > 0 ? .northEast : .southEast }
            if deltaQol < 0 { return deltaCost < 0 ? .southWest : .northWest }
            return .noQolDifference
        }
    }

    /// Every summary row for one arm: differences, ICER, NMB at `willingnessToPay`,
    /// the probabilities, break-even, and the acceptability curve over `curve`.
    /// Means over replications are `SampleStatistics` grouped by draw.
    public static func summarise(_ pairs: [Pair], willingnessToPay: [Double], curve: [Double]) -> [Row] {
        let n = pairs.count
        let draws: [Int]? = pairs.allSatisfy { $0.draw != nil } ? pairs.map { $0.draw! } : nil
        var rows = [Row(measure: "delta_cost_discounted", SampleStatistics(pairs.map(\.deltaCost), groups: draws)),
                    Row(measure: "delta_qol_years_discounted", SampleStatistics(pairs.map(\.deltaQol), groups: draws))]
        let meanCost = rows[0].mean, meanQol = rows[1].mean
        rows.append(Row(measure: "icer", willingnessToPay: nil, replications: n, mean: meanQol != 0 ? meanCost / meanQol : .nan))
        for wtp in willingnessToPay {
            rows.append(Row(measure: "net_monetary_benefit", willingnessToPay: wtp,
                            SampleStatistics(pairs.map { wtp * $0.deltaQol - $0.deltaCost }, groups: draws)))
        }
        rows.append(proportion("probability_win_win", pairs.filter { $0.deltaCost < 0 && $0.deltaQol > 0 }.count, n))
        rows.append(proportion("probability_cost_saving", pairs.filter { $0.deltaCost < 0 }.count, n))
        rows.append(proportion("probability_breaks_even", pairs.filter { $0.breakEvenYears != nil }.count, n))
        let breaking = pairs.filter { $0.breakEvenYears != nil }
        rows.append(Row(measure: "break_even_years", SampleStatistics(breaking.map { $0.breakEvenYears! }, groups: draws == nil ? nil : breaking.map { $0.draw! })))
        for wtp in curve {
            rows.append(proportion("probability_cost_effective", pairs.filter { wtp * $0.deltaQol - $0.deltaCost > 0 }.count, n, wtp: wtp))
        }
        return rows
    }
}
