import ArgumentParser
import Experiments
import Foundation
import Model
import Reports

struct Sensitivity: ParsableCommand, InterruptibleCommand {
    static let configuration = CommandConfiguration(
        abstract: "One-way, two-way and sweep sensitivity analysis of a scenario, declared in an experiment file.",
        discussion: """
        Writes DIR/sensitivity.csv (one row per point, arm and outcome), manifest.json, \
        experiment.yaml and scenario.yaml (docs/sensitivity.md). Every point runs the same seed \
        and replications, so points differ by their values, not by chance. Draw the tornado, \
        heatmaps and sweeps with `python3 scripts/uncertainty_figures.py DIR`.
        """)

    @Argument(help: "The experiment file (YAML, docs/sensitivity.md).")
    var experiment: String

    @OptionGroup var output: OutputOptions

    @Option(help: "Replications per point; overrides the experiment file's.")
    var replications: Int?

    @OptionGroup var resources: ResourceLimit

    @Option(help: "Worker threads; the default is the number of cores.")
    var threads: Int = ProcessInfo.processInfo.activeProcessorCount

    @OptionGroup var quietOption: QuietOption
    var quiet: Bool { quietOption.quiet }

    func validate() throws {
        if let replications, replications < 1 { throw ValidationError("--replications must be at least 1, but is \(replications).") }
        guard threads >= 1 else { throw ValidationError("--threads must be at least 1, but is \(threads).") }
    }

    func run() throws {
        let started = Date()
        var design: SensitivityDesign
        do { design = try SensitivityDesign.load(path: experiment) } catch {
            printError(error.description + "\nNothing was run or written.")
            throw ExitCode(invalidInputStatus)
        }
        if let replications { design.replications = replications }
        let (scenario, scenarioText) = try loadScenarioOrExit(design.scenarioPath)
        let scenarios: [Scenario]
        do { scenarios = try design.scenarios(scenario) } catch {
            printError(error.description + "\nNothing was run or written.")
            throw ExitCode(invalidInputStatus)
        }
        try resources.check(scenario, file: design.scenarioPath, threads: threads,
                            runs: design.replications.multipliedReportingOverflow(by: scenarios.count).partialValue)
        // sensitivity.csv: a row per point, arm and outcome (a dozen outcomes, about 150 bytes a row); the two YAML texts; the manifest.
        let experimentBytes = (try? FileManager.default.attributesOfItem(atPath: experiment)[.size] as? Int) ?? 0
        let csvRows: Double = Double(scenarios.count) * Double(scenario.arms.count) * 12
        let estimate = Int64(min(csvRows * 150 + Double(scenarioText.utf8.count + experimentBytes + 65_536), 1e18))
        let target = try output.prepare(command: "sensitivity", estimatedBytes: estimate)
        try Interrupt.checkpoint("sensitivity")
        let bar = ProgressBar(label: "girfec sensitivity", quiet: quiet)
        let total = scenarios.count * design.replications
        var rows: [[ReplicationRow]] = []
        var childSteps = 0
        Interrupt.beginPolling()
        defer { Interrupt.endPolling() }
        for (i, s) in scenarios.enumerated() {
            try Interrupt.checkpoint("sensitivity")
            let done = i * design.replications
            do {
                let r = try Runner.run(RunPlan(scenario: s, seed: design.seed, replications: design.replications, threads: threads),
                                       progress: { d, _ in bar.update(done: done + d, total: total) },
                                       isCancelled: { Interrupt.isRequested })
                rows.append(r.rows)
                childSteps += r.childSteps
            } catch {
                bar.finish()
                let p = design.points[i]
                printError("girfec sensitivity: \(p.analysis) '\(p.name)' point \(p.index): \(error.description)")
                if case .cancelled = error { throw ExitCode(130) }
                throw ExitCode(1)
            }
        }
        bar.finish()
        Interrupt.endPolling()
        try Interrupt.checkpoint("sensitivity")
        let csv = SensitivityTable.csv(design: design, arms: scenario.arms.map(\.name),
                                       results: SensitivityResults(design: design, arms: scenario.arms.count, rows: rows))
        let experimentText = (try? String(contentsOfFile: experiment, encoding: .utf8)) ?? ""
        let wall = Date().timeIntervalSince(started)
        let manifest: [String: Any] = [
            "experiment": ["path": experiment, "sha256": SHA256.hex(Array(experimentText.utf8))],
            "scenario": ["path": design.scenarioPath, "sha256": SHA256.hex(Array(scenarioText.utf8)), "name": scenario.name,
                         "arms": scenario.arms.map(\.name)] as [String: Any],
            "seed": String(design.seed), "replicationsPerPoint": design.replications, "points": design.points.count,
            "commonRandomNumbers": "every point and arm share the seed and streams",
            "parameterDistributions": scenario.uncertainty == nil ? "none" : "ignored: points fix values; the base point is the file's values",
            "willingnessToPay": design.willingnessToPay, "threads": threads,
            "startedAt": ISO8601DateFormatter().string(from: started), "wallSeconds": wall, "childSteps": childSteps,
            "generator": RunFolder.generator,
            "files": ["sensitivity.csv", "manifest.json", "experiment.yaml", "scenario.yaml"],
        ]
        let json = Manifest.json(command: CommandLine.arguments, manifest)
        try writeFolderOrExit(target, command: "sensitivity") {
            [("sensitivity.csv", Array(csv.utf8)), ("manifest.json", json),
             ("experiment.yaml", Array(experimentText.utf8)), ("scenario.yaml", Array(scenarioText.utf8))]
        }
        if !quiet {
            print(String(format: "%d points × %d replications in %.1f s; wrote %@", design.points.count, design.replications, wall, output.out))
        }
    }
}
