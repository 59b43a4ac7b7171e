import Experiments
import Foundation
import Model

/// sensitivity.csv: one row per point, arm and outcome (docs/outputs.md).
public enum SensitivityTable {
    public static let header = ["analysis", "name", "point", "parameter_1", "value_1", "parameter_2", "value_2", "bound",
                                "arm", "outcome", "replications", "mean", "mcse", "ci_low", "ci_high"]

    /// - Parameter results: `SensitivityResults` of the design's points.
    public static func csv(design: SensitivityDesign, arms: [String], results: SensitivityResults) -> String {
        var out = CSV.row(header)
        for (point, outcomes) in zip(design.points, results.points) {
            let v = point.values
            let cells = [point.analysis, CSV.text(point.name), String(point.index),
                         v.count > 0 ? CSV.text(v[0].path) : "", v.count > 0 ? CSV.number(v[0].value) : "",
                         v.count > 1 ? CSV.text(v[1].path) : "", v.count > 1 ? CSV.number(v[1].value) : "", point.bound]
            for r in outcomes {
                let s = r.statistics
                out += CSV.row(cells + [CSV.text(arms[r.outcome.arm]), r.outcome.name, String(s.count), CSV.number(s.mean),
                                        CSV.number(s.mcse), CSV.number(s.ciLow), CSV.number(s.ciHigh)])
            }
        }
        return out
    }
}
