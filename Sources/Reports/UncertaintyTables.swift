import Analysis
import Experiments
import Foundation
import Model

/// uncertainty.csv and voi.csv: what a run with parameter draws adds (docs/outputs.md).
public enum UncertaintyTables {
    public static let varianceHeader = ["arm", "outcome", "draws", "replications_per_draw", "mean", "total_variance",
                                        "parameter_variance", "chance_variance", "parameter_share",
                                        "parameter_share_ci_low", "parameter_share_ci_high"]

    /// uncertainty.csv: one row per arm and outcome (`RunResults.varianceSplit`). The split is
    /// empty with one replication per draw, where the two cannot be told apart.
    public static func variance(scenario: Scenario, results: RunResults) -> String {
        var out = CSV.row(varianceHeader)
        for v in results.varianceSplit {
            let d = v.decomposition
            func cell(_ x: Double?) -> String { x.map(CSV.number) ?? "" }
            out += CSV.row([CSV.text(scenario.arms[v.outcome.arm].name), v.outcome.name, String(d.draws),
                            CSV.number(d.replicationsPerDraw), CSV.number(d.grandMean), CSV.number(d.totalVariance),
                            cell(d.parameterVariance), cell(d.chanceVariance), cell(d.parameterShare),
                            cell(d.parameterShareInterval?.lowerBound), cell(d.parameterShareInterval?.upperBound)])
        }
        return out
    }

    public static let voiHeader = ["measure", "parameter_group", "parameters", "willingness_to_pay", "draws", "value", "optimal_arm"]

    /// voi.csv: EVPI and EVPPI at each willingness to pay (`RunResults.valueOfInformation`).
    public static func valueOfInformation(scenario: Scenario, result: RunResults.ValueOfInformationResult) -> String {
        var out = CSV.row(voiHeader)
        for r in result.rows {
            out += CSV.row([r.measure.rawValue, CSV.text(r.group ?? ""), CSV.text(r.paths), CSV.number(r.willingnessToPay),
                            String(r.draws), CSV.number(r.value), CSV.text(scenario.arms[r.optimalArm].name)])
        }
        return out
    }

    public static let importanceHeader = ["arm", "outcome", "parameter_group", "parameters", "draws", "main_effect_share"]

    /// importance.csv: main-effect shares (`RunResults.importance`).
    public static func importance(scenario: Scenario, results: RunResults) -> String {
        var out = CSV.row(importanceHeader)
        for r in results.importance {
            out += CSV.row([CSV.text(scenario.arms[r.outcome.arm].name), r.outcome.name, CSV.text(r.group), CSV.text(r.paths),
                            String(r.draws), CSV.number(r.share)])
        }
        return out
    }
}
