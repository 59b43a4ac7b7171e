import Calibration
import Foundation
import Model
import Testing

/// Calibration from flows or a panel estimates one constant matrix of rates, so a scenario with
/// transition-specific dependence is refused there with the reason; the Markov stock model steps
/// aside for the aggregate model, which carries the dependence.
@Suite("Calibration and transition-specific dependence")
struct DependenceRefusalTests {
    static let scenario = """
        name: dependence
        time: {stepMonths: 12, horizonYears: 5}
        levels:
          Well: {costPerChildYear: 0, qolWeight: 1}
          Sick: {costPerChildYear: 0, qolWeight: 0.5}
          Dead: {costPerChildYear: 0, qolWeight: 0, absorbing: true}
        population:
          initialCounts: {Well: 10}
          ageing: false
        transitions:
          unit: ratesPerYear
          matrix:
            Well: {Sick: 0.1}
            Sick: {Well: 0.2}
          dependence:
            - {from: any, to: Dead, on: year, unit: ratesPerYear, points: [{at: 0, value: 0.01}, {at: 2, value: 0.02}]}
        """

    @Test func flowsAndPanelAreRefusedWithTheReason() throws {
        let scenario = try ScenarioDecoder.decode(yaml: Self.scenario, file: "s.yaml")
        let config = try CalibrationConfig.decode(yaml: "scenario: s.yaml\ndata: {flows: f.csv}\n", file: "c.yaml")
        for source in ["flows", "panel"] {
            do {
                _ = source == "flows" ? try Calibrate.fromFlows(config, scenario: scenario, data: .init())
                                      : try Calibrate.fromPanel(config, scenario: scenario, data: .init())
                Issue.record("\(source): no refusal")
            } catch {
                #expect(error.issues.count == 1)
                #expect(error.description.contains("s.yaml: found transitions.dependence in arm 'base': the rates of some moves depend on age, calendar time or months in the level; expected a scenario without transitions.dependence for calibration from \(source)"),
                        "\(error.description)")
            }
        }
    }

    @Test func theMarkovStockModelStepsAside() throws {
        let scenario = try ScenarioDecoder.decode(yaml: Self.scenario, file: "s.yaml")
        let reasons = MarkovStockModel.refusals(scenario: scenario, parameterPaths: ["transitions.matrix.Well.Sick"])
        #expect(reasons == ["transition-specific dependence (transitions.dependence): moves depend on each child's age, the calendar time or its months in the level"])
    }
}
