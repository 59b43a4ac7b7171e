import ArgumentParser
import Experiments
import Foundation
import Model
import Reports

struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Write a Markdown report and LaTeX tables of a run folder, for a paper's supplement.",
        discussion: """
        Reads DIR/state.bin (from `girfec run` or `girfec merge`) and writes DIR/report.md, \
        DIR/report.tex (the same report as a LaTeX document: pdflatex report.tex) and \
        DIR/report-tables.tex (its tables alone): parameters with distributions and sources, results with intervals, \
        cost-effectiveness, parameter uncertainty (variance split, EVPI/EVPPI) and how to reproduce \
        the run. Figures already in DIR/figures (scripts/figures.py, scripts/uncertainty_figures.py) \
        are linked.
        """)

    @Argument(help: "A run folder.")
    var folder: String

    @OptionGroup var quietOption: QuietOption
    var quiet: Bool { quietOption.quiet }

    func run() throws {
        let path = PathText.join(folder, "state.bin")
        guard let data = FileManager.default.contents(atPath: path) else {
            printError("girfec report: \(path) cannot be read; expected a folder written by `girfec run` or `girfec merge`.")
            throw ExitCode(invalidInputStatus)
        }
        let state: RunState
        let scenario: Scenario
        do {
            state = try RunState.decode(Array(data), source: path)
            scenario = try ScenarioDecoder.decode(yaml: state.scenarioText, file: state.scenarioFileName) { state.attachedFiles[$0] }
        } catch let error as RunState.MergeError {
            printError("girfec report: \(error.description)")
            throw ExitCode(invalidInputStatus)
        } catch {
            printError("girfec report: the scenario stored in \(path) does not validate with this version: \(error)")
            throw ExitCode(invalidInputStatus)
        }
        let figureFolder = PathText.join(folder, "figures")
        let figures = ((try? FileManager.default.contentsOfDirectory(atPath: figureFolder)) ?? [])
            .filter { $0.hasSuffix(".png") }.sorted().map { "figures/\($0)" }
        let manifestPath = PathText.join(folder, "manifest.json")
        let commit = FileManager.default.contents(atPath: manifestPath)
            .flatMap { try? JSONSerialization.jsonObject(with: $0) as? [String: Any] }?["gitCommit"] as? String
        for (name, text) in Report.files(state: state, scenario: scenario, results: RunResults(state: state, scenario: scenario),
                                          folder: folder, figures: figures, runCommit: commit) {
            let target = PathText.join(folder, name)
            do { try text.write(toFile: target, atomically: true, encoding: .utf8) } catch {
                printError("girfec report: cannot write \(target): \(error.localizedDescription)")
                throw ExitCode(1)
            }
            if !quiet { print("wrote \(target)") }
        }
    }
}
