import Foundation
import Interchange
import Model
import StockFlow
import Testing
import TestSupport

@Suite("XMILE export of the sd model")
struct XMILEExportTests {
    static let twoLevels = """
    time: {stepMonths: 12, horizonYears: 2}
    levels:
      A: {costPerChildYear: 100, qolWeight: 0.9}
      B: {costPerChildYear: 1000, qolWeight: 0.5}
    population:
      initialCounts: {A: 1000}
      ageing: false
    transitions:
      unit: ratesPerYear
      matrix:
        A: {B: 0.5}
        B: {A: 0.25}
    practice:
      p: {intensity: 0.8, escalationEffect: 0.3, stepDownEffect: 0.2, timeToEffectYears: 2}
    exposureTiming: beforeStep
    """

    /// Every stock, flow and rate equation of a two-level model, written as the module documents them.
    @Test func twoLevelEquations() throws {
        let arm = try Fixtures.scenario(Self.twoLevels).arms[0]
        let xml = try XMILEExport.document(arm: arm, scenarioName: "two", method: .rk4)
        for expected in [
            #"<sim_specs method="RK4" time_units="years">"#, "<start>0</start>", "<stop>2</stop>", #"<dt reciprocal="true">1</dt>"#,
            "<eqn>A * rate_A_to_B * red_multiplier_p * escalation_age_multiplier * leave_multiplier_A</eqn>",
            "<eqn>B * rate_B_to_A * green_multiplier_p * step_down_age_multiplier * leave_multiplier_B</eqn>",
            "<eqn>intensity_p * (1 - EXP(-exposure_p / time_to_effect_p))</eqn>",
            "<eqn>(1 - escalation_effect_p * strength_p)</eqn>", "<eqn>(1 + step_down_effect_p * strength_p)</eqn>",
            "<eqn>1000</eqn>", "<inflow>exposure_gain_p</inflow>", #"<stock name="A">"#, "<outflow>A_to_B</outflow>",
            "<eqn>A * cost_per_child_year_A + B * cost_per_child_year_B + programme_cost_per_year + programme_cost_per_child_reached_per_year * children_reached</eqn>",
            "<eqn>cost_rate * (1 + cost_discount_rate) ^ (-TIME)</eqn>",
        ] {
            #expect(xml.contains(expected), "missing \(expected)")
        }
        // The rate is the generator girfec integrates (log of exp(Q·1)), to the last digit.
        let q = try AggregateModel.systemDynamicsStructure(arm: arm).generatorPerYear
        #expect(xml.contains("<eqn>\(q[0][1])</eqn>"))
        #expect(abs(q[0][1] - 0.5) < 1e-12)
    }

    /// Everything an XMILE model cannot state as girfec's sd mode runs it, reported at once.
    @Test func refusalsNameEachFeature() throws {
        let arm = try Fixtures.scenario(Fixtures.smallScenario).arms[1]
        let problems = XMILEExport.problems(arm: arm).map(\.field)
        #expect(problems == ["population.ageing", "population.births.perYear", "population.migration.inPerYear",
                             "population.migration.outRatePerYear", "exposureTiming"])
        #expect(throws: XMILEExport.Refusal.self) { try XMILEExport.document(arm: arm, scenarioName: "small") }
        let message = XMILEExport.problems(arm: arm)[4].description
        #expect(message.hasPrefix("exposureTiming: found includingStep (the default)"))
        #expect(message.contains("expected exposureTiming: beforeStep"))
    }
}
