import ArgumentParser
import Model

/// The memory limit a command checks a scenario against before it allocates anything.
struct ResourceLimit: ParsableArguments {
    @Option(name: .customLong("max-memory-gb"),
            help: "Refuse a scenario whose estimated memory is above this many GiB (default: 3/4 of physical memory, at most 18).")
    var maxMemoryGb: Double = ResourceEstimate.defaultLimitGiB

    func validate() throws {
        guard maxMemoryGb > 0, maxMemoryGb.isFinite else {
            throw ValidationError("--max-memory-gb must be a positive number of GiB, but is \(maxMemoryGb).")
        }
    }

    /// The problem, if `scenario` needs more than the limit.
    func problem(_ scenario: Scenario, file: String, threads: Int = 1, agents: Bool = true) -> ScenarioError? {
        let estimate = ResourceEstimate(scenario: scenario, threads: threads, agents: agents)
        return estimate.problem(limitGiB: maxMemoryGb, file: file).map { ScenarioError(file: file, issues: [$0]) }
    }

    /// Exit with status 2, nothing written, when `scenario` needs more than the limit.
    func check(_ scenario: Scenario, file: String, threads: Int = 1, agents: Bool = true) throws {
        if let error = problem(scenario, file: file, threads: threads, agents: agents) {
            printError(error.description + "\nNothing was run or written.")
            throw ExitCode(invalidInputStatus)
        }
    }
}
