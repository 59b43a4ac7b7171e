import Analysis
import Experiments
import Foundation
import Model

/// incremental.csv and acceptability.csv: every arm against every other (docs/outputs.md). The
/// values are `RunResults.incremental` and `RunResults.acceptability`; these writers serialise them.
public enum IncrementalTables {
    public static let incrementalHeader = ["arm", "cost_discounted", "qol_years_discounted", "status", "dominated_by",
                                           "comparator", "inc_cost", "inc_qol_years", "icer"]

    /// incremental.csv: one row per arm, by cost ascending (QoL-years descending, then scenario order on a tie).
    public static func incremental(scenario: Scenario, results: RunResults) -> String {
        var out = CSV.row(incrementalHeader)
        let names = scenario.arms.map(\.name)
        for r in results.incremental {
            out += CSV.row([CSV.text(names[r.arm]), CSV.number(r.cost), CSV.number(r.qolYears), r.status.rawValue,
                            CSV.text(r.dominatedBy.map { names[$0] }.joined(separator: ";")),
                            CSV.text(r.comparator.map { names[$0] } ?? ""), CSV.number(r.incrementalCost),
                            CSV.number(r.incrementalQolYears), CSV.number(r.icer)])
        }
        return out
    }

    public static let acceptabilityHeader = ["willingness_to_pay", "arm", "replications", "expected_nmb", "nmb_mcse",
                                             "nmb_ci_low", "nmb_ci_high", "units", "probability_best", "on_frontier"]

    /// acceptability.csv: one row per willingness to pay and arm (`RunResults.acceptability`).
    public static func acceptability(scenario: Scenario, results: RunResults) -> String {
        var out = CSV.row(acceptabilityHeader)
        for p in results.acceptability {
            let s = p.netBenefit
            out += CSV.row([CSV.number(p.willingnessToPay), CSV.text(scenario.arms[p.arm].name), String(s.count),
                            CSV.number(s.mean), CSV.number(s.mcse), CSV.number(s.ciLow), CSV.number(s.ciHigh),
                            String(p.units), CSV.number(p.probabilityBest), p.onFrontier ? "true" : "false"])
        }
        return out
    }

    /// The files with two or more arms; none with one.
    public static func files(scenario: Scenario, results: RunResults) -> [(name: String, bytes: [UInt8])] {
        guard !results.incremental.isEmpty else { return [] }
        return [("incremental.csv", Array(incremental(scenario: scenario, results: results).utf8)),
                ("acceptability.csv", Array(acceptability(scenario: scenario, results: results).utf8))]
    }

    /// What is said instead of the incremental analysis when a run has one arm.
    public static let singleArmNote = "one arm: no incremental analysis (incremental.csv and acceptability.csv need two or more arms to compare)"
}

extension IncrementalTables {
    /// The folder of `girfec ce`: the cost-effectiveness files of a finished run re-analysed at other
    /// willingness-to-pay values, from the same `RunResults` and the same writers as `girfec run`
    /// (summary.csv, incremental.csv, acceptability.csv, voi.csv when the run drew parameters) and a manifest.
    /// - Parameters:
    ///   - state: the run's state with the new settings in `costEffectiveness`.
    ///   - source: the run folder read.
    public static func reanalysisFiles(state: RunState, scenario: Scenario, results: RunResults, source: String,
                                       command: [String]) -> [(name: String, bytes: [UInt8])] {
        var files: [(name: String, bytes: [UInt8])] = [("summary.csv", Array(Tables.summary(scenario: scenario, results: results).utf8))]
        files += IncrementalTables.files(scenario: scenario, results: results)
        var skipped: [String] = []
        if state.drawnUncertainty(scenario) != nil, let voi = results.valueOfInformation {
            files.append(("voi.csv", Array(UncertaintyTables.valueOfInformation(scenario: scenario, result: voi).utf8)))
            skipped = voi.skipped
        }
        let settings = state.costEffectiveness
        let manifest = Manifest.json(command: command, [
            "source": ["folder": source, "scenarioSha256": state.scenarioHash, "seed": String(state.seed),
                       "replications": state.replications, "complete": state.isComplete] as [String: Any],
            "scenario": ["name": scenario.name, "arms": scenario.arms.map(\.name)] as [String: Any],
            "willingnessToPay": ["values": settings.willingnessToPay, "curveMaximum": settings.curveMaximum,
                                 "curveStep": settings.curveStep] as [String: Any],
            "files": files.map(\.name) + ["manifest.json"],
            "valueOfInformationSkipped": skipped,
        ])
        return files + [("manifest.json", manifest)]
    }
}
