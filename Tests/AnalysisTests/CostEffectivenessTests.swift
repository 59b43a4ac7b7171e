import Analysis
import Testing

@Suite("Cost-effectiveness from paired replications")
struct CostEffectivenessTests {
    static let pairs: [CostEffectiveness.Pair] = [
        .init(deltaCost: -100, deltaQol: 2, breakEvenYears: 1),
        .init(deltaCost: 50, deltaQol: 1, breakEvenYears: nil),
        .init(deltaCost: -20, deltaQol: -1, breakEvenYears: 3),
        .init(deltaCost: 10, deltaQol: 3, breakEvenYears: nil),
    ]

    func row(_ rows: [CostEffectiveness.Row], _ measure: String, wtp: Double? = nil) -> CostEffectiveness.Row? {
        rows.first { $0.measure == measure && $0.willingnessToPay == wtp }
    }

    /// Hand-computed: mean Δcost = −15, mean ΔQoL = 1.25, ICER = −12;
    /// NMB at 40 = (180, −10, −20, 110), mean 65; one win-win, two cost-saving,
    /// two break even (mean 2 years); at λ = 0 P(NMB > 0) = 2/4, at λ = 40 it is 2/4, at λ = 100 3/4.
    @Test func handComputedCase() throws {
        let rows = CostEffectiveness.summarise(Self.pairs, willingnessToPay: [40], curve: [0, 40, 100])
        #expect(row(rows, "delta_cost_discounted")?.mean == -15)
        #expect(row(rows, "delta_qol_years_discounted")?.mean == 1.25)
        #expect(row(rows, "icer")?.mean == -12)
        #expect(row(rows, "net_monetary_benefit", wtp: 40)?.mean == 65)
        #expect(row(rows, "probability_win_win")?.mean == 0.25)
        #expect(row(rows, "probability_cost_saving")?.mean == 0.5)
        #expect(row(rows, "probability_breaks_even")?.mean == 0.5)
        #expect(row(rows, "break_even_years")?.mean == 2)
        #expect(row(rows, "break_even_years")?.replications == 2)
        #expect(row(rows, "probability_cost_effective", wtp: 0)?.mean == 0.5)
        #expect(row(rows, "probability_cost_effective", wtp: 40)?.mean == 0.5)
        #expect(row(rows, "probability_cost_effective", wtp: 100)?.mean == 0.75)
        let p = try #require(row(rows, "probability_win_win"))
        #expect(p.ciLow >= 0 && p.ciLow < 0.25 && p.ciHigh > 0.25 && p.ciHigh <= 1)
    }

    @Test func curveGrid() {
        let s = CostEffectiveness.Settings(willingnessToPay: [1], curveMaximum: 2500, curveStep: 1000)
        #expect(s.curve == [0, 1000, 2000])
    }

    @Test func theQuadrantFollowsTheSignsOfTheMeanDifferences() {
        #expect(CostEffectiveness.Quadrant.of(deltaCost: 1, deltaQol: 1) == .northEast)
        #expect(CostEffectiveness.Quadrant.of(deltaCost: -1, deltaQol: 1) == .southEast)
        #expect(CostEffectiveness.Quadrant.of(deltaCost: 0, deltaQol: 1) == .southEast, "as cheap and better dominates")
        #expect(CostEffectiveness.Quadrant.of(deltaCost: 1, deltaQol: -1) == .northWest)
        #expect(CostEffectiveness.Quadrant.of(deltaCost: 0, deltaQol: -1) == .northWest, "as dear and worse is dominated")
        #expect(CostEffectiveness.Quadrant.of(deltaCost: -1, deltaQol: -1) == .southWest)
        #expect(CostEffectiveness.Quadrant.of(deltaCost: -1, deltaQol: 0) == .noQolDifference)
    }
}
