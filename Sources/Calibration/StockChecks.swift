import Foundation
import Model

extension Calibrate {
    /// The posterior predictive check of a stock-only fit (ppc.csv) with its notes and warning
    /// (docs/calibration.md, "Posterior predictive check and model comparison"). Meant for
    /// converged chains.
    ///
    /// - Parameters:
    ///   - draws: posterior draws in sampling coordinates (`StockPredictiveCheck.coordinates(of:)`).
    ///   - origin: the date of the scenario's time 0, for the dates of ppc.csv.
    /// - Complexity: up to 1,000 model runs.
    static func predictiveCheck(problem: StockCalibrationProblem, draws: [[Double]], levels: [String], origin: Day,
                                seed: UInt64) -> (files: [(name: String, text: String)], notes: [String]) {
        let check = StockPredictiveCheck.run(problem, draws: draws, seed: seed)
        var files: [(name: String, text: String)] = []
        if let observations = (problem.simulator as? AggregateStockSimulator)?.observations ?? (problem.simulator as? MarkovStockModel)?.observations {
            files.append(("ppc.csv", check.csv(observations: observations, levels: levels, origin: origin)))
        }
        return (files, notesOf(check.description))
    }

    /// When a stock-only fit frees only some moves between levels, its comparison with every move
    /// free (model-comparison.csv) with its notes and warnings; nothing when every move is free.
    /// Independent of the sampler (maximum likelihood), so it can explain a fit that did not converge.
    ///
    /// - Parameter start: a good point in sampling coordinates (e.g. the posterior mean), or nil.
    /// - Complexity: 2 + (extra moves) maximum-likelihood searches.
    static func modelComparison(problem: StockCalibrationProblem, start: [Double]?) -> (files: [(name: String, text: String)], notes: [String]) {
        do {
            guard let full = try StockModelComparison.fullProblem(of: problem) else { return ([], []) }
            let comparison = StockModelComparison.compare(restricted: problem, full: full, start: start)
            return ([("model-comparison.csv", comparison.csv)], notesOf(comparison.description))
        } catch {
            return ([], ["stocks: no model comparison: the model with every move free cannot be set up (\(error.description))"])
        }
    }

    /// Lines of a description as notes: warnings as they are, the rest prefixed `stocks: `.
    static func notesOf(_ text: String) -> [String] {
        text.components(separatedBy: "\n").map { $0.hasPrefix("WARNING") ? $0 : "stocks: " + $0 }
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
