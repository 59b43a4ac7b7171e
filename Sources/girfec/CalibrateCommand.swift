import ArgumentParser
import Calibration
import Foundation
import Model
import Reports

struct CalibrateCommand: ParsableCommand, InterruptibleCommand {
    static let configuration = CommandConfiguration(
        commandName: "calibrate",
        abstract: "Estimate transition rates from local data: flow counts, panel records or stock counts.",
        discussion: """
        Reads a calibration file (YAML, docs/calibration.md) naming a scenario and the data \
        (stocks.csv, flows.csv, panel.csv), checks every data file first (all problems at once, \
        nothing written), estimates, and writes DIR/estimates.csv, draws.csv (the draws file \
        `girfec run` reads as uncertainty.draws), fitted-transitions.yaml (a fragment a scenario \
        can `include`), diagnostics (stock-only fits: fit.csv, identifiability.csv, posterior.csv) \
        and manifest.json. Draw the figures with `python3 scripts/calibration_figures.py DIR`.
        """)

    @Argument(help: "The calibration file (YAML, docs/calibration.md).")
    var config: String

    @OptionGroup var output: OutputOptions

    @Flag(help: "Print only problems.")
    var quiet = false

    func run() throws {
        let started = Date()
        let settings: CalibrationConfig
        do { settings = try CalibrationConfig.load(path: config) } catch {
            printError(error.description + "\nNothing was run or written.")
            throw ExitCode(invalidInputStatus)
        }
        let (scenario, scenarioText) = try loadScenarioOrExit(settings.scenarioPath)
        if let problems = settings.freeParameterProblems(scenario) {
            printError(problems.description + "\nNothing was run or written.")
            throw ExitCode(invalidInputStatus)
        }
        // draws.csv dominates: a row per draw of about 24 bytes per level pair, per area fitted separately; diagnostics and fragments are small.
        let levels = Double(scenario.levels.count)
        let areas: Double = Double(max(scenario.arms[0].areas.count, 1))
        let estimate = Int64(min(Double(settings.draws) * levels * levels * 24 * areas + 1_048_576, 1e18))
        let target = try output.prepare(command: "calibrate", estimatedBytes: estimate)
        try Interrupt.checkpoint("calibrate")
        let fits: [Calibrate.Fit]
        do throws(CalibrationDataError) {
            let data = try Calibrate.read(settings, scenario: scenario)
            switch settings.estimator {
            case .flows: fits = try Calibrate.fromFlows(settings, scenario: scenario, data: data)
            case .panel: fits = try Calibrate.fromPanel(settings, scenario: scenario, data: data)
            case .stocks: fits = try Calibrate.fromStocks(settings, scenario: scenario, data: data)
            }
        } catch {
            printError("girfec calibrate: " + error.description + "\nNothing was written.")
            throw ExitCode(invalidInputStatus)
        }

        try Interrupt.checkpoint("calibrate")
        var files: [(name: String, bytes: [UInt8])] = [("estimates.csv", Array(Calibrate.estimatesCSV(fits).utf8))]
        for fit in fits {
            let suffix = fits.count == 1 ? "" : "-" + fit.areas.joined(separator: "+")
            files.append(("draws\(suffix).csv", Array(Calibrate.drawsCSV(fit).utf8)))
            files.append(("fitted-transitions\(suffix).yaml", Array(Calibrate.fragment(fit, levels: scenario.levels,
                source: "\(settings.estimator.rawValue), areas \(fit.areas.joined(separator: ", ")), \(config)").utf8)))
            for f in fit.files { files.append((f.name.replacingOccurrences(of: ".csv", with: "\(suffix).csv"), Array(f.text.utf8))) }
        }
        let notes = fits.flatMap { fit in fit.notes.map { fits.count == 1 ? $0 : "[\(fit.areas.joined(separator: ", "))] \($0)" } }
        var inputs: [String: String] = [:]
        for p in [config, settings.scenarioPath, settings.stocksPath, settings.flowsPath, settings.panelPath].compactMap({ $0 }) {
            if let d = FileManager.default.contents(atPath: p) { inputs[p] = SHA256.hex(Array(d)) }
        }
        let manifest: [String: Any] = [
            "estimator": settings.estimator.rawValue,
            "areas": settings.pooled ? "pooled" : "perArea", "allowedMoves": settings.allowedMoves ?? "default",
            "seed": String(settings.seed), "draws": settings.draws, "inputsSHA256": inputs,
            "scenario": ["path": settings.scenarioPath, "name": scenario.name, "sha256": SHA256.hex(Array(scenarioText.utf8))] as [String: Any],
            "notes": notes, "startedAt": ISO8601DateFormatter().string(from: started),
            "wallSeconds": Date().timeIntervalSince(started), "files": files.map(\.name) + ["manifest.json"],
        ]
        files.append(("manifest.json", Manifest.json(command: CommandLine.arguments, manifest)))
        try writeFolderOrExit(target, command: "calibrate") { files }
        if !quiet {
            print("girfec calibrate: \(settings.estimator.rawValue) estimate of \(fits.count == 1 ? "pooled areas" : "\(fits.count) areas"); wrote \(output.out)")
            for n in notes where !n.hasPrefix("flows: stayers") { print("  " + n) }
        }
    }
}
