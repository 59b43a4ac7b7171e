import ArgumentParser
import Experiments
import Foundation
import Model
import Reports
import Stochastics

@main
struct Girfec: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "girfec",
        abstract: "Agent-based Monte Carlo microsimulation of children moving between GIRFEC levels of support.",
        discussion: """
        A scenario file (YAML, see docs/scenario-format.md) states the levels, the population, \
        the transition dynamics, practice variables and arms. `girfec run` simulates replications \
        in parallel and writes confidence bands and per-replication totals (docs/outputs.md). \
        A result is reproducible from the scenario file, the seed and the tool version.
        """,
        version: GirfecVersion.string,
        subcommands: [Run.self, Validate.self, Merge.self, Aggregate.self, Export.self, Import.self, Sensitivity.self, CalibrateCommand.self, ReportCommand.self, CostEffectivenessCommand.self, Slurm.self, Bench.self, Serve.self]
    )

    /// Install the interrupt handler and GSL's error handler before anything else, then run the command.
    ///
    /// Commands that write a result folder (``InterruptibleCommand``) write
    /// nothing when interrupted (docs/guarantees.md); the others just stop.
    static func main() {
        Interrupt.install()
        GSLErrors.install()
        do {
            var command = try parseAsRoot()
            if !(command is InterruptibleCommand) { Interrupt.forOtherCommands() }
            try command.run()
        } catch {
            exit(withError: error)
        }
    }
}

/// A command that writes a result folder: interrupted, it writes nothing (docs/guarantees.md).
protocol InterruptibleCommand {}

/// Print to standard error.
func printError(_ text: String) {
    FileHandle.standardError.write(Data((text + "\n").utf8))
}

/// Exit status for bad input (scenario or arguments): nothing was run.
let invalidInputStatus: Int32 = 2

/// Read and validate a scenario file; on any problem print them all and exit with status 2.
func loadScenarioOrExit(_ path: String) throws -> (scenario: Scenario, text: String) {
    do {
        let scenario = try ScenarioDecoder.load(path: path)
        return (scenario, try String(contentsOfFile: path, encoding: .utf8))
    } catch let error as ScenarioError {
        printError(error.description + "\nNothing was run or written.")
        throw ExitCode(invalidInputStatus)
    } catch {
        printError("\(path): cannot be read (\(error.localizedDescription)). Nothing was run or written.")
        throw ExitCode(invalidInputStatus)
    }
}

/// Check, before any work, that `out` may receive results; otherwise exit with status 2.
///
/// Refuses destructive paths, folders girfec did not make (even with
/// `--overwrite`), an unwritable parent and too little free space for
/// `estimatedBytes` (docs/guarantees.md); leftovers of killed girfec runs in
/// the parent are cleaned first, and said so.
func checkOutputOrExit(_ out: String, overwrite: Bool, command: String, estimatedBytes: Int64 = 0) throws -> OutputFolder.Target {
    do {
        return try OutputFolder.prepare(out, overwrite: overwrite, estimatedBytes: estimatedBytes) { printError("girfec \(command): note: \($0)") }
    } catch {
        printError("girfec \(command): \(error.description)")
        throw ExitCode(invalidInputStatus)
    }
}

/// A run state's results and the aggregate model beside them, computed once for
/// the folder's writers and the printed summary; if the aggregate model fails,
/// say so and exit with status 1 before anything is written.
func analyseOrExit(_ state: RunState, scenario: Scenario, threads: Int, command: String) throws
    -> (results: RunResults, comparison: Comparison.Analysis) {
    let results = RunResults(state: state, scenario: scenario)
    do {
        return (results, try Comparison.Analysis.make(state: state, scenario: scenario, bands: results.bands, threads: threads))
    } catch {
        printError("girfec \(command): the aggregate model cannot run: \(error)\nNothing was written.")
        throw ExitCode(1)
    }
}

/// Write a result folder whole; on failure say so and exit with status 1 (130 if interrupted).
///
/// If entries appeared in the target during the run, they are kept, the
/// result is written beside it, and the command says so and exits with status 1.
func writeFolderOrExit(_ target: OutputFolder.Target, command: String, files: () throws -> [(name: String, bytes: [UInt8])]) throws {
    let built: [(name: String, bytes: [UInt8])]
    do {
        built = try files()
    } catch {
        printError("girfec \(command): \(error); nothing was written")
        throw ExitCode(1)
    }
    try Interrupt.checkpoint(command)
    let written: OutputFolder.Written
    Interrupt.beginPolling()
    defer { Interrupt.endPolling() }
    do {
        written = try OutputFolder.write(built, to: target, isCancelled: { Interrupt.isRequested },
                                         note: { printError("girfec \(command): note: \($0)") })
    } catch {
        printError("girfec \(command): \(error.description)")
        throw ExitCode(error.kind == .cancelled ? 130 : 1)
    }
    Interrupt.endPolling()
    if Interrupt.isRequested {
        // The signal came while the finished folder was being put in place: it is complete, and kept.
        printError("girfec \(command): interrupted after the result was complete; it was kept")
        throw ExitCode(130)
    }
    if case .beside(let path, let appeared) = written {
        printError("girfec \(command): \(appeared.count) entr\(appeared.count == 1 ? "y" : "ies") (\(appeared.prefix(3).joined(separator: ", "))\(appeared.count > 3 ? ", ..." : "")) appeared in --out \(target.given) during the run; they were left untouched and the result was written to \(path) instead")
        throw ExitCode(1)
    }
}
