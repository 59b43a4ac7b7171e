import ArgumentParser
import Calibration
import Foundation
import Model
import Reports

/// Exit status of `girfec calibrate` when the stock-only chains did not converge: diagnostics written, no estimates.
let notConvergedStatus: Int32 = 3

struct CalibrateCommand: ParsableCommand, InterruptibleCommand {
    static let configuration = CommandConfiguration(
        commandName: "calibrate",
        abstract: "Estimate transition rates from local data: flow counts, panel records or stock counts.",
        discussion: """
        Reads a calibration file (YAML, docs/calibration.md) naming a scenario and the data \
        (stocks.csv, flows.csv, panel.csv), checks every data file first (all problems at once, \
        nothing written), estimates, and writes DIR/estimates.csv, draws.csv (the draws file \
        `girfec run` reads as uncertainty.draws), fitted-transitions.yaml (a fragment a scenario \
        can `include`), diagnostics (stock-only fits: fit.csv, identifiability.csv, profile.csv, posterior.csv, convergence.csv) \
        and manifest.json. Draw the figures with `python3 scripts/calibration_figures.py DIR`.

        --log-density (stock-only configurations) writes nothing: it checks the configuration and \
        data as a run does, prints `parameters,NAME,...` (the sampling coordinates: the log of each \
        free rate, then the log of the likelihood's estimated parameter: c or k), then answers each line of \
        standard input (comma-separated coordinates) with the log posterior density up to a constant \
        (-inf outside the support), for checking the posterior with another sampler.

        Stock-only fits are gated on convergence (every R̂ < 1.01, bulk and tail ESS ≥ 400, no chain \
        apart, no divergences): each chain warms up (stocks.burnIn, default 500) and keeps \
        stocks.iterations draws (default 500); while the gate fails for want of draws, every chain \
        is extended by stocks.iterations more draws, without new warm-up, up to stocks.maxIterations \
        (default 4000). Chains that did not converge give no estimates, draws, fragment or \
        identifiability verdicts, only posterior.csv and convergence.csv, "NOT converged" with what \
        to do next, and exit status 3.

        Exit status: 0 done; 2 bad input (nothing written; a malformed --log-density line); \
        3 the stock-only chains did not converge (diagnostics written).
        """)

    @Argument(help: "The calibration file (YAML, docs/calibration.md).")
    var config: String

    @Option(help: "Output folder: absent or empty (or use --overwrite). Required unless --log-density.")
    var out: String?

    @Flag(help: "Replace the output folder if girfec made it (never a folder of yours; docs/guarantees.md).")
    var overwrite = false

    @Flag(help: "Write nothing; answer lines of log-rates on standard input with the stock-only log posterior (docs/calibration.md §5).")
    var logDensity = false

    @OptionGroup var quietOption: QuietOption
    var quiet: Bool { quietOption.quiet }

    func validate() throws {
        if out == nil && !logDensity { throw ValidationError("Missing expected argument '--out <out>' (required unless --log-density).") }
        if out != nil && logDensity { throw ValidationError("--log-density writes nothing: leave out --out.") }
    }

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
        if logDensity { return try answerLogDensity(settings, scenario: scenario) }
        guard let out else { throw ExitCode(invalidInputStatus) }
        // draws.csv dominates: a row per draw of about 24 bytes per level pair, per area fitted separately; diagnostics and fragments are small.
        let levels = Double(scenario.levels.count)
        let areas: Double = Double(max(scenario.arms[0].areas.count, 1))
        let estimate = Int64(min(Double(settings.draws) * levels * levels * 24 * areas + 1_048_576, 1e18))
        let target = try checkOutputOrExit(out, overwrite: overwrite, command: "calibrate", estimatedBytes: estimate)
        try Interrupt.checkpoint("calibrate")
        let fits: [Calibrate.Fit]
        do throws(CalibrationDataError) {
            let data = try Calibrate.read(settings, scenario: scenario)
            switch settings.estimator {
            case .flows: fits = try Calibrate.fromFlows(settings, scenario: scenario, data: data)
            case .panel: fits = try Calibrate.fromPanel(settings, scenario: scenario, data: data)
            case .stocks:
                let progress = PhasedProgress(command: "girfec calibrate", unit: "iterations of all chains", quiet: quiet)
                defer { progress.finish() }
                fits = try Calibrate.fromStocks(settings, scenario: scenario, data: data,
                                                progress: { progress.update(phase: $0, done: $1, total: $2) })
            }
        } catch {
            printError("girfec calibrate: " + error.description + "\nNothing was written.")
            throw ExitCode(invalidInputStatus)
        }

        try Interrupt.checkpoint("calibrate")
        // Not converged: only the diagnostics, no estimates, draws or fragment (docs/calibration.md §5).
        let converged = fits.allSatisfy(\.converged)
        var files: [(name: String, bytes: [UInt8])] = converged ? [("estimates.csv", Array(Calibrate.estimatesCSV(fits).utf8))] : []
        for fit in fits {
            let suffix = fits.count == 1 ? "" : "-" + fit.areas.joined(separator: "+")
            if converged {
                files.append(("draws\(suffix).csv", Array(Calibrate.drawsCSV(fit).utf8)))
                files.append(("fitted-transitions\(suffix).yaml", Array(Calibrate.fragment(fit, levels: scenario.levels,
                    source: "\(settings.estimator.rawValue), areas \(fit.areas.joined(separator: ", ")), \(config)").utf8)))
            }
            for f in fit.files { files.append((f.name.replacingOccurrences(of: ".csv", with: "\(suffix).csv"), Array(f.text.utf8))) }
        }
        let notes = fits.flatMap { fit in fit.notes.map { fits.count == 1 ? $0 : "[\(fit.areas.joined(separator: ", "))] \($0)" } }
        var inputs: [String: String] = [:]
        for p in [config, settings.scenarioPath, settings.stocksPath, settings.flowsPath, settings.panelPath].compactMap({ $0 }) {
            if let d = FileManager.default.contents(atPath: p) { inputs[p] = SHA256.hex(Array(d)) }
        }
        let manifest: [String: Any] = [
            "estimator": settings.estimator.rawValue, "status": converged ? "converged" : "not converged",
            "areas": settings.pooled ? "pooled" : "perArea", "allowedMoves": settings.allowedMoves ?? "default",
            "seed": String(settings.seed), "draws": settings.draws, "inputsSHA256": inputs,
            "scenario": ["path": settings.scenarioPath, "name": scenario.name, "sha256": SHA256.hex(Array(scenarioText.utf8))] as [String: Any],
            "notes": notes, "startedAt": ISO8601DateFormatter().string(from: started),
            "wallSeconds": Date().timeIntervalSince(started), "files": files.map(\.name) + ["manifest.json"],
        ]
        files.append(("manifest.json", Manifest.json(command: CommandLine.arguments, manifest)))
        try writeFolderOrExit(target, command: "calibrate") { files }
        if !quiet {
            print("girfec calibrate: \(settings.estimator.rawValue) estimate of \(fits.count == 1 ? "pooled areas" : "\(fits.count) areas"); wrote \(out)")
            for n in notes where !n.hasPrefix("flows: stayers") { print("  " + n) }
        }
        if !converged {
            printError("girfec calibrate: the chains did NOT converge (\(out)/convergence.csv); only the diagnostics were written. Exit status \(notConvergedStatus).")
            throw ExitCode(notConvergedStatus)
        }
    }

    /// `--log-density`: check the configuration and data as a run does (problems: exit 2), print the header
    /// `parameters,NAME,...`, then answer each line of standard input, d comma-separated numbers, with
    /// `problem.logPosterior` (`-inf` outside the support), flushing after each answer. A malformed
    /// line: a message naming its line number on standard error, exit 2. End of input: exit 0.
    func answerLogDensity(_ settings: CalibrationConfig, scenario: Scenario) throws {
        guard settings.estimator == .stocks else {
            printError("girfec calibrate --log-density: \(config): estimator \(settings.estimator.rawValue); expected estimator: stocks (the log density is that of the stock-only posterior). Nothing was run.")
            throw ExitCode(invalidInputStatus)
        }
        let problem: StockCalibrationProblem
        do throws(CalibrationDataError) {
            problem = try Calibrate.stockProblem(settings, scenario: scenario, data: try Calibrate.read(settings, scenario: scenario))
        } catch {
            printError("girfec calibrate: " + error.description + "\nNothing was run.")
            throw ExitCode(invalidInputStatus)
        }
        Interrupt.forOtherCommands()
        let names = Calibrate.samplingNames(problem)
        // Written unbuffered: each answer reaches a peer sampler at once.
        func answer(_ line: String) { FileHandle.standardOutput.write(Data((line + "\n").utf8)) }
        answer((["parameters"] + names.map(CSV.text)).joined(separator: ","))
        var lineNumber = 0
        while let line = readLine(strippingNewline: true) {
            lineNumber += 1
            let cells = line.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: ",", omittingEmptySubsequences: false)
            let values = cells.map { Double($0.trimmingCharacters(in: .whitespaces)) }
            guard cells.count == names.count, values.allSatisfy({ $0?.isFinite == true }) else {
                let shown = line.count > 80 ? String(line.prefix(80)) + "…" : line
                printError("girfec calibrate --log-density: standard input line \(lineNumber): found '\(shown)' (\(cells.count) cell\(cells.count == 1 ? "" : "s")); expected \(names.count) finite numbers separated by commas (\(names.joined(separator: ", ")), on the sampling scale: the log of each rate and of c or k).")
                throw ExitCode(invalidInputStatus)
            }
            let value = problem.logPosterior(values.map { $0! })
            answer(value.isFinite ? "\(value)" : value == .infinity ? "inf" : "-inf")
        }
    }
}
