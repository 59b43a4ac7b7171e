import ArgumentParser
import Model

/// The memory and work limits a command checks a scenario against before it allocates or runs anything.
struct ResourceLimit: ParsableArguments {
    /// Nil: this machine's default (3/4 of physical memory, at most 18 GiB), so a job script does not carry the login node's.
    @Option(name: .customLong("max-memory-gb"),
            help: "Refuse a scenario whose estimated memory is above this many GiB (default: 3/4 of physical memory, at most 18).")
    var maxMemoryGb: Double?

    @Option(name: .customLong("max-child-steps"),
            help: "Refuse a run whose estimated work (child-steps over all replications, arms and points) is above this (1e13 is about a day on 2 cores).")
    var maxChildSteps: Double = ResourceEstimate.defaultChildStepLimit

    /// The memory limit in GiB: `--max-memory-gb`, or this machine's default.
    var limitGiB: Double { maxMemoryGb ?? ResourceEstimate.defaultLimitGiB }

    func validate() throws {
        if let maxMemoryGb {
            guard maxMemoryGb > 0, maxMemoryGb.isFinite else {
                throw ValidationError("--max-memory-gb must be a positive number of GiB, but is \(maxMemoryGb).")
            }
        }
        guard maxChildSteps > 0, maxChildSteps.isFinite else {
            throw ValidationError("--max-child-steps must be a positive number, but is \(maxChildSteps).")
        }
    }

    /// The limits as command-line arguments that parse back to the same values; an unset memory limit is left out.
    func arguments() -> [String] {
        (maxMemoryGb.map { ["--max-memory-gb", ArgumentText.number($0)] } ?? [])
            + ["--max-child-steps", ArgumentText.number(maxChildSteps)]
    }

    /// The problems, if `scenario` needs more memory than the limit, or, run `runs` times
    /// (replications × points), more work.
    func problem(_ scenario: Scenario, file: String, threads: Int = 1, agents: Bool = true, runs: Int = 0) -> ScenarioError? {
        let estimate = ResourceEstimate(scenario: scenario, threads: threads, agents: agents)
        let issues = [estimate.problem(limitGiB: limitGiB, file: file),
                      estimate.workProblem(runs: runs, limit: maxChildSteps, file: file)].compactMap { $0 }
        return issues.isEmpty ? nil : ScenarioError(file: file, issues: issues)
    }

    /// Exit with status 2, nothing written, when `scenario` needs more than a limit.
    func check(_ scenario: Scenario, file: String, threads: Int = 1, agents: Bool = true, runs: Int = 0) throws {
        if let error = problem(scenario, file: file, threads: threads, agents: agents, runs: runs) {
            printError(error.description + "\nNothing was run or written.")
            throw ExitCode(invalidInputStatus)
        }
    }
}
