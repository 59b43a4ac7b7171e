import Foundation
import Model

extension Calibrate {
    /// The checks of a stock-only fit that go beyond its posterior: the posterior predictive
    /// check (ppc.csv) and, when the fit frees only some moves between levels, the comparison
    /// with every move free (model-comparison.csv), with their notes and warnings
    /// (docs/calibration.md, "Posterior predictive check and model comparison").
    ///
    /// - Parameters:
    ///   - draws: posterior draws in sampling coordinates (`StockPredictiveCheck.coordinates(of:)`).
    ///   - origin: the date of the scenario's time 0, for the dates of ppc.csv.
    /// - Complexity: up to 1,000 model runs for the check; 2 + (extra moves) maximum-likelihood searches.
    static func stockChecks(problem: StockCalibrationProblem, draws: [[Double]], levels: [String], origin: Day,
                            seed: UInt64) -> (files: [(name: String, text: String)], notes: [String]) {
        var files: [(name: String, text: String)] = []
        var notes: [String] = []
        let check = StockPredictiveCheck.run(problem, draws: draws, seed: seed)
        if let simulator = problem.simulator as? AggregateStockSimulator {
            files.append(("ppc.csv", check.csv(observations: simulator.observations, levels: levels, origin: origin)))
        }
        for line in check.description.components(separatedBy: "\n") { notes.append(line.hasPrefix("WARNING") ? line : "stocks: " + line) }
        do {
            if let full = try StockModelComparison.fullProblem(of: problem) {
                let start = draws.isEmpty ? nil : (0..<draws[0].count).map { k in draws.map { $0[k] }.reduce(0, +) / Double(draws.count) }
                let comparison = StockModelComparison.compare(restricted: problem, full: full, start: start)
                files.append(("model-comparison.csv", comparison.csv))
                for line in comparison.description.components(separatedBy: "\n") { notes.append(line.hasPrefix("WARNING") ? line : "stocks: " + line) }
            }
        } catch {
            notes.append("stocks: no model comparison: the model with every move free cannot be set up (\(error.description))")
        }
        return (files, notes)
    }

    /// One note per free rate whose prior was not stated in full: the weakly informative default,
    /// or the national priors file's entry and its source.
    static func priorNotes(_ config: CalibrationConfig, priors: [RatePrior]) -> [String] {
        zip(config.priors, priors).compactMap { given, prior in
            if let national = given.national {
                return "stocks: prior of \(given.path): \(prior), from '\(national)' in \(config.priorsPath ?? "the priors file") (\(given.source ?? ""))"
            }
            guard given.median == nil || given.sdLog == nil else { return nil }
            return "stocks: prior of \(given.path): \(prior), the weakly informative default (centred on the scenario's value)"
        }
    }
}
