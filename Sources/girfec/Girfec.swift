import ArgumentParser
import Foundation
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
        version: "0.1.0",
        subcommands: [Run.self, Validate.self, Merge.self, Aggregate.self, Bench.self]
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
