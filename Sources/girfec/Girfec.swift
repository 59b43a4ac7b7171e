import ArgumentParser
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
        subcommands: [Run.self, Validate.self, Merge.self, Aggregate.self, Sensitivity.self, CalibrateCommand.self, ReportCommand.self, Slurm.self, Bench.self]
    )

    /// Install GSL's error handler before anything else, then run the command.
    static func main() {
        GSLErrors.install()
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch {
            exit(withError: error)
        }
    }
}

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
func checkOutputOrExit(_ out: String, overwrite: Bool, command: String) throws {
    do { try OutputFolder.checkWritable(out, overwrite: overwrite) } catch {
        printError("girfec \(command): \(error.description)")
        throw ExitCode(invalidInputStatus)
    }
}

/// Write a run folder whole; on failure say so and exit with status 1.
func writeFolderOrExit(_ out: String, command: String, files: () throws -> [(name: String, bytes: [UInt8])]) throws {
    do {
        try OutputFolder.write(try files(), to: out)
    } catch let error as OutputFolder.Failure {
        printError("girfec \(command): \(error.description)")
        throw ExitCode(1)
    } catch {
        printError("girfec \(command): \(error); nothing was written")
        throw ExitCode(1)
    }
}
