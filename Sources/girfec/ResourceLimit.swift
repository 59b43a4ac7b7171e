import ArgumentParser
import Model

/// The memory and work limits a command checks a scenario against before it allocates or runs anything.
struct ResourceLimit: ParsableArguments {
    @Option(name: .customLong("max-memory-gb"),
            help: "Refuse a scenario whose estimated memory is above this many GiB (default: 3/4 of physical memory, at most 18).")
    var maxMemoryGb: Double = ResourceEstimate.defaultLimitGiB

    @Option(name: .customLong("max-child-steps"),
            help: "Refuse a run whose estimated work (child-steps over all replications, arms and points) is above this (default 1e13, about a day on 2 cores).")
    var maxChildSteps: Double = ResourceEstimate.defaultChildStepLimit

    func validate() throws {
        guard maxMemoryGb > 0, maxMemoryGb.isFinite else {
            throw ValidationError("--max-memory-gb must be a positive number of GiB, but is \(maxMemoryGb).")
        }
        guard maxChildSteps > 0, maxChildSteps.isFinite else {
            throw ValidationError("--max-child-steps must be a positive number, but is \(maxChildSteps).")
        }
    }

    /// The problems, if `scenario` needs more memory than the limit, or, run `runs` times
    /// (replications × points), more work.
    func problem(_ scenario: Scenario, file: String, threads: Int = 1, agents: Bool = true, runs: Int = 0) -> ScenarioError? {
        let estimate = ResourceEstimate(scenario: scenario, threads: threads, agents: agents)
        let issues = [estimate.problem(limitGiB: maxMemoryGb, file: file),
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
