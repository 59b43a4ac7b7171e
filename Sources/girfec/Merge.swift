import ArgumentParser
import Foundation
import Model
import Reports

struct Merge: ParsableCommand, InterruptibleCommand {
    static let configuration = CommandConfiguration(
        abstract: "Merge shard folders of one run into one run folder.",
        discussion: """
        Each folder must come from `girfec run` with the same scenario file, --seed and \
        --replications, and a different --shard. Merging all M shards gives bands.csv and \
        replications.csv byte-identical to one unsharded run. Every state.bin is checked first \
        (its SHA-256, then that it is consistent with the shard it names); every problem of every \
        folder is listed, and nothing is written if there is one (docs/outputs.md).
        """)

    @Argument(help: "Shard folders written by `girfec run --shard K/M`.")
    var folders: [String]

    @OptionGroup var output: OutputOptions

    @OptionGroup var quietOption: QuietOption
    var quiet: Bool { quietOption.quiet }

    @Flag(help: "Merge even when shards are missing (the bands then cover fewer replications; the manifest says complete: false).")
    var allowPartial = false

    func run() throws {
        guard !folders.isEmpty else {
            printError("girfec merge: no folders given; expected one or more shard folders")
            throw ExitCode(invalidInputStatus)
        }
        let target = try output.prepare(command: "merge")
        // Fold the shards in one at a time: memory holds the running total and one shard.
        // Every file is read and checked, so every problem of every file is reported at once.
        var merger = RunState.Merger()
        var problems: [String] = []
        for folder in folders {
            try Interrupt.checkpoint("merge")
            let path = PathText.join(folder, "state.bin")
            guard let data = FileManager.default.contents(atPath: path) else {
                problems.append("\(path): cannot be read; expected the state.bin of a `girfec run` folder")
                continue
            }
            do {
                let state = try RunState.decode(Array(data), source: path)
                problems += merger.add(folder, state)
            } catch {
                problems.append(error.description)
            }
        }
        let total = merger.total
        guard problems.isEmpty, let merged = total?.state else {
            printError("girfec merge: \(problems.count) problem\(problems.count == 1 ? "" : "s"):\n" + problems.map { "  - \($0)" }.joined(separator: "\n") + "\nNothing was written.")
            throw ExitCode(invalidInputStatus)
        }
        let scenario: Scenario
        do { scenario = try ScenarioDecoder.decode(yaml: merged.scenarioText, file: merged.scenarioFileName) { merged.attachedFiles[$0] } } catch {
            printError("girfec merge: the scenario stored in the shards no longer validates with this version:\n\(error.description)")
            throw ExitCode(invalidInputStatus)
        }
        do {
            let covered = merged.covered.reduce(0) { $0 + $1.count }
            let parameters = merged.rows.first?.parameters.count ?? 0
            try OutputFolder.checkSpace(near: target.path, given: output.out, estimatedBytes: OutputEstimate.runFolder(
                arms: scenario.arms.count, steps: scenario.arms[0].steps, stepMonths: scenario.arms[0].stepMonths, levels: scenario.levels.count,
                moves: RecordLayout.moveCount(arm: scenario.arms[0]), areas: scenario.arms[0].areas.count, replications: covered,
                parameters: parameters, scenarioBytes: merged.scenarioText.utf8.count))
        } catch {
            printError("girfec merge: \(error.description)")
            throw ExitCode(invalidInputStatus)
        }
        if !merged.isComplete {
            let gaps = merged.missing.map { "\($0.lowerBound)..<\($0.upperBound)" }.joined(separator: ", ")
            guard allowPartial else {
                printError("girfec merge: replications \(gaps) of \(merged.replications) are missing: a shard was not given or did not finish; expected all \(merged.shardCount) shards, or pass --allow-partial (missing: shard \(merged.missingShards.joined(separator: ", ")) of \(merged.shardCount)). Nothing was written.")
                throw ExitCode(invalidInputStatus)
            }
            printError("girfec merge: warning: replications \(gaps) of \(merged.replications) are missing; the bands cover the rest (manifest says complete: false)")
        }
        let context = RunFolder.Context(command: CommandLine.arguments, scenarioPath: merged.scenarioFileName,
                                        shard: "merged from \(folders.count) folders", threads: 0, startedAt: Date())
        let (results, comparison) = try analyseOrExit(merged, scenario: scenario, threads: ProcessInfo.processInfo.activeProcessorCount,
                                                      command: "merge")
        try writeFolderOrExit(target, command: "merge") {
            RunFolder.files(state: merged, scenario: scenario, results: results, comparison: comparison, context: context)
        }
        guard !quiet else { return }
        let covered = merged.covered.reduce(0) { $0 + $1.count }
        print((["merged \(folders.count) folders (\(HumanFormat.count(covered)) of \(HumanFormat.count(merged.replications)) replications) into \(output.out)"]
               + TerminalSummary.lines(state: merged, scenario: scenario, results: results)).joined(separator: "\n"))
    }
}
