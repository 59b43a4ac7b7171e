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

    /// An arm with step-end events (ageing, births, migration, includingStep) pins Euler at DT = the step:
    /// another DT or method is refused with the field and the reason, every problem at once.
    @Test func stepEndsPinEulerAtTheModelStep() throws {
        let arm = try Fixtures.scenario(Fixtures.smallScenario).arms[1]
        #expect(XMILEExport.hasStepEnds(arm: arm))
        #expect(XMILEExport.problems(arm: arm).isEmpty)
        let problems = XMILEExport.problems(arm: arm, dtYears: arm.stepYears / 2, method: .rk4)
        #expect(problems.map(\.field) == ["--dt", "--method"])
        let message = problems[0].description
        #expect(message.hasPrefix("--dt: found 0.041666666666666664 years; expected the model step, 0.08333333333333333 years"))
        #expect(message.contains("ageing, births, in-migration, out-migration, exposureTiming: includingStep"))
        #expect(throws: XMILEExport.Refusal.self) { try XMILEExport.document(arm: arm, scenarioName: "small", method: .rk4) }
    }

    /// Reinvestment and one-off move rewards are still refused, with their fields.
    @Test func refusalsNameEachFeature() throws {
        let text = Fixtures.smallScenario.replacingOccurrences(of: "\narms:\n", with: "\ntransitionRewards:\n  moves: {Low: {Mid: {cost: 100}}}\narms:\n")
        let arm = try Fixtures.scenario(text).arms[1]
        #expect(XMILEExport.problems(arm: arm).map(\.field) == ["transitionRewards"])
        #expect(throws: XMILEExport.Refusal.self) { try XMILEExport.document(arm: arm, scenarioName: "small") }
    }

    /// The step-end equations: children by coverage group and birth month, ageing out, out-migration of
    /// the children after the transitions, births into the newborn cohort, in-migrants by age, exposure
    /// diluted by newcomers and acting with the step's own (includingStep), and halfCycle costs.
    @Test func stepEndEquations() throws {
        let text = Fixtures.smallScenario.replacingOccurrences(
            of: "\n  migration:", with: "\n  ageing: true\n  ageOutYears: 2\n  ageDistribution: [{fromYears: 0, toYears: 2, share: 1}]\n  migration:")
            + "\nrewardTiming: halfCycle\n"
        let arm = try Fixtures.scenario(text).arms[1]
        #expect(arm.ageing && arm.ageOutMonths == 24)
        let xml = try XMILEExport.document(arm: arm, scenarioName: "small")
        for expected in [
            #"<sim_specs method="Euler" time_units="years">"#, #"<dt reciprocal="true">12</dt>"#,
            "reproduces girfec's sd mode only with Euler integration and DT = 0.08333333333333333 years",
            #"<dim name="group"><elem name="northNoPractice"/><elem name="northRelational"/><elem name="southNoPractice"/></dim>"#,
            #"<elem name="bornM23"/>"#, #"<elem name="born24"/>"#,
            "<eqn>step_index * step_months - birth_month[cohort]</eqn>",
            "<eqn>Low_by_cohort[group, cohort] + step_years * (0 + Mid_to_Low[group, cohort] + High_to_Low[group, cohort] - Low_to_Mid[group, cohort] - Low_to_High[group, cohort])</eqn>",
            "<eqn>Low_after_transitions[group, cohort] * ages_out[cohort] / step_years</eqn>",
            "<eqn>IF age_months[cohort] + step_months &gt;= age_out_months THEN 1 ELSE 0</eqn>",
            "<eqn>Low_after_transitions[group, cohort] * (1 - ages_out[cohort]) * out_migration_fraction_per_step / step_years</eqn>",
            "<eqn>1 - EXP(-out_migration_rate_per_year * step_years)</eqn>",
            "<eqn>births_per_year[group] * newborn[cohort] * entry_share_Low</eqn>",
            "<eqn>in_migration_per_year[group] * in_migrant_age_share[cohort] * in_migrant_share_Low</eqn>",
            "<eqn>exposure_relational[group] + step_years * covered_relational[group] * intensity_relational</eqn>",
            "<eqn>covered_relational[group] * intensity_relational - (exposure_relational[group] + step_years * covered_relational[group] * intensity_relational) * exposure_dilution[group] / step_years</eqn>",
            "<eqn>Low_by_cohort[group, cohort] * rate_Low_to_Mid * red_multiplier[group] * escalation_age_multiplier[cohort] * leave_multiplier_Low</eqn>",
            "<eqn>initial_children_Low[group] * initial_age_share[cohort]</eqn>",
            "<eqn>SUM(Low_by_group[group!])</eqn>",
            "<eqn>cumulative_cost_discounted_at_step_starts + step_years * reward_weight_at_step_end * discounted_cost_rate_now</eqn>",
            "<eqn>IF step_index = 0 THEN 0.5 ELSE 1</eqn>", "<eqn>discounted_cost_rate_now * reward_weight_at_step_start</eqn>",
            #"<element subscript="northRelational"><eqn>210</eqn></element>"#,
        ] {
            #expect(xml.contains(expected), "missing \(expected)")
        }
        // 24 month classes at the start and one birth month per step: 48 cohorts.
        #expect(xml.components(separatedBy: "<elem name=\"born").count - 1 == 48)
    }

    /// A dimension of one element (one coverage group here) is left out: PySD reads a reference along
    /// it as a number without dimensions.
    @Test func oneGroupHasNoGroupDimension() throws {
        let text = Self.twoLevels.replacingOccurrences(of: "  ageing: false", with: "  ageing: true\n  ageOutYears: 1\n  ageDistribution: [{fromYears: 0, toYears: 1, share: 1}]")
        let arm = try Fixtures.scenario(text).arms[0]
        #expect(XMILEExport.hasStepEnds(arm: arm))
        let xml = try XMILEExport.document(arm: arm, scenarioName: "two")
        #expect(!xml.contains(#"<dim name="group">"#))
        #expect(xml.contains(#"<dim name="cohort">"#))
        #expect(xml.contains("<eqn>SUM(A_by_cohort[cohort!])</eqn>"))
        #expect(xml.contains("<eqn>A_by_cohort[cohort] * rate_A_to_B * red_multiplier * escalation_age_multiplier[cohort] * leave_multiplier_A</eqn>"))
    }
}
