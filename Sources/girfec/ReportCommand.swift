import ArgumentParser
import Experiments
import Foundation
import Model
import Reports

struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Write a report (Markdown and LaTeX) of a run or sensitivity folder, for a paper's supplement.",
        discussion: """
        Reads DIR/state.bin (from `girfec run` or `girfec merge`) and writes DIR/report.md, \
        DIR/report.tex (the same report as a LaTeX document: pdflatex report.tex) and \
        DIR/report-tables.tex (its tables alone): parameters with distributions and sources, results with intervals, \
        cost-effectiveness, parameter uncertainty (variance split, EVPI/EVPPI) and how to reproduce \
        the run. A folder of `girfec sensitivity` (DIR/sensitivity.csv, no state.bin) gets the \
        same three files: the base point, one-way (tornado) tables, two-way grids and sweeps. \
        Figures already in DIR/figures (scripts/figures.py, scripts/uncertainty_figures.py) are \
        included.
        """)

    @Argument(help: "A folder of `girfec run`, `girfec merge` or `girfec sensitivity`.")
    var folder: String

    @OptionGroup var quietOption: QuietOption
    var quiet: Bool { quietOption.quiet }

    func run() throws {
        let path = PathText.join(folder, "state.bin")
        let sensitivityPath = PathText.join(folder, "sensitivity.csv")
        if !FileManager.default.fileExists(atPath: path) && FileManager.default.fileExists(atPath: sensitivityPath) {
            return try sensitivityReport(sensitivityPath)
        }
        let (state, scenario) = try RunFolderInput.read(
            folder: folder, command: "report",
            expected: "a folder written by `girfec run` or `girfec merge` (with state.bin) or by `girfec sensitivity` (with sensitivity.csv).")
        let manifestPath = PathText.join(folder, "manifest.json")
        let commit = FileManager.default.contents(atPath: manifestPath)
            .flatMap { try? JSONSerialization.jsonObject(with: $0) as? [String: Any] }?["gitCommit"] as? String
        try write(Report.files(state: state, scenario: scenario, results: RunResults(state: state, scenario: scenario),
                               folder: folder, figures: figures, runCommit: commit))
    }

    /// The figures already in DIR/figures, with their captions.
    var figures: [ReportFigure] { ReportFigure.inFolder(folder) }

    /// The report of a `girfec sensitivity` folder, from its sensitivity.csv and manifest.json
    /// (every problem of either: exit status 2, nothing written).
    func sensitivityReport(_ csvPath: String) throws {
        let manifestPath = PathText.join(folder, "manifest.json")
        var problems: [String] = []
        var rows: [SensitivityReport.Row] = []
        if let data = FileManager.default.contents(atPath: csvPath), let text = String(data: data, encoding: .utf8) {
            switch SensitivityReport.rows(csv: text, source: csvPath) {
            case .success(let r): rows = r
            case .failure(let e): problems += e.problems
            }
        } else {
            problems.append("\(csvPath): cannot be read as UTF-8 text; expected the sensitivity.csv of `girfec sensitivity`")
        }
        var manifest: [String: Any] = [:]
        if let data = FileManager.default.contents(atPath: manifestPath),
           let m = try? JSONSerialization.jsonObject(with: data) as? [String: Any] {
            manifest = m
        } else {
            problems.append("\(manifestPath): missing or not a JSON object; expected the manifest.json `girfec sensitivity` wrote beside sensitivity.csv")
        }
        guard problems.isEmpty else {
            printError("girfec report: " + problems.joined(separator: "\ngirfec report: ") + "\nNothing was written.")
            throw ExitCode(invalidInputStatus)
        }
        try write(SensitivityReport.files(rows: rows, provenance: .init(manifest: manifest), folder: folder, figures: figures))
    }

    /// Write the report files into DIR, each atomically.
    func write(_ files: [(name: String, text: String)]) throws {
        for (name, text) in files {
            let target = PathText.join(folder, name)
            do { try text.write(toFile: target, atomically: true, encoding: .utf8) } catch {
                printError("girfec report: cannot write \(target): \(error.localizedDescription)")
                throw ExitCode(1)
            }
            if !quiet { print("wrote \(target)") }
        }
    }
}
