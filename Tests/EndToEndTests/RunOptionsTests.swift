import ArgumentParser
import Experiments
import Foundation
import Testing
import TestSupport
@testable import girfec

/// `RunOptions` renders every option it declares, and `girfec slurm` carries all of them into each shard's command.
@Suite("Run options: one group, forwarded to every shard")
struct RunOptionsTests {
    /// Every option of `RunOptions` at a value other than its default, with doubles that have no short exact decimal.
    static let nonDefault = [
        "--seed", "18446744073709551615", "--replications-per-draw", "3", "--base-case", "--independent-streams", "--engine", "events",
        "--aggregate-mode", "sd", "--aggregate-dt", "0.020833333333333332", "--aggregate-method", "rk4", "--aggregate-exposure", "stocks",
        "--wtp", "0.1,25000, 1e-7,33333.333333333336", "--ceac-max", "50000.5", "--ceac-step", "2.5",
        "--max-memory-gb", "1.5", "--max-child-steps", "1.5e14", "--quantities", "qol,stocks",
    ]

    /// The long names of the options in a help text: the names and value placeholders that start its option lines
    /// (up to the two spaces before the help text), without --help and --version.
    static func optionNames(inHelp help: String) -> Set<String> {
        var names: Set<String> = []
        for line in help.split(separator: "\n") where line.hasPrefix("  -") {
            let synopsis = line.dropFirst(2).components(separatedBy: "  ")[0]
            for word in synopsis.split(separator: " ") where word.hasPrefix("--") {
                names.insert(word.hasSuffix(",") ? String(word.dropLast()) : String(word))
            }
        }
        return names.subtracting(["--help", "--version"])
    }

    static func optionNames(in arguments: [String]) -> Set<String> {
        Set(arguments.filter { $0.hasPrefix("--") })
    }

    static let declared = optionNames(inHelp: RunOptions.helpMessage(columns: 500))

    @Test func theHelpListsTheOptionsOfTheGroup() {
        // A guard on the name extraction the other tests rely on.
        #expect(Self.declared.isSuperset(of: ["--seed", "--base-case", "--aggregate-mode", "--wtp", "--max-memory-gb"]))
        #expect(!Self.declared.contains("--out") && !Self.declared.contains("--shard") && !Self.declared.contains("--threads"))
    }

    @Test func everyDeclaredOptionIsRendered() throws {
        // Fails when an option is added to the group (or a group nested in it) and not to nonDefault, or not to arguments().
        #expect(Self.optionNames(in: Self.nonDefault) == Self.declared, "set every option of RunOptions in nonDefault")
        let rendered = try RunOptions.parse(Self.nonDefault).arguments()
        #expect(Self.optionNames(in: rendered) == Self.declared, "RunOptions.arguments() leaves out an option: \(rendered)")
    }

    @Test func renderedArgumentsParseBackToTheSameValues() throws {
        for given in [Self.nonDefault, []] {
            let options = try RunOptions.parse(given)
            let back = try RunOptions.parse(options.arguments())
            #expect(back.arguments() == options.arguments())
            #expect(back.seed == options.seed && back.replicationsPerDraw == options.replicationsPerDraw)
            #expect(back.baseCase == options.baseCase && back.independentStreams == options.independentStreams)
            #expect(back.engine == options.engine)
            #expect(back.aggregate.options == options.aggregate.options)
            #expect(back.costEffectiveness.settings == options.costEffectiveness.settings)
            #expect(back.resources.maxMemoryGb == options.resources.maxMemoryGb)
            #expect(back.resources.maxChildSteps == options.resources.maxChildSteps)
        }
        let options = try RunOptions.parse(Self.nonDefault)
        #expect(options.seed == UInt64.max)
        #expect(options.costEffectiveness.settings.willingnessToPay == [0.1, 25_000, 1e-7, 100_000.0 / 3])
        #expect(options.aggregate.options == .init(mode: .sd, dtYears: 1.0 / 48, method: .rk4, exposure: .stocks))
        #expect(options.resources.maxChildSteps == 1.5e14 && options.resources.maxMemoryGb == 1.5)
    }

    @Test(arguments: [0.1, 0.1 + 0.2, 1.0 / 3, 1e-7, Double.leastNonzeroMagnitude, 1e300, 123_456_789.123, 1e15, 1e15 + 1, 2e15, 9e18, 20_000, 0, -0.0, 0.3])
    func numbersAreWrittenSoTheyReadBackExactly(value: Double) {
        let text = ArgumentText.number(value)
        #expect(Double(text)?.bitPattern == value.bitPattern, "\(value) written as \(text)")
        #expect(value.sign == .minus || !text.hasSuffix(".0"), "whole numbers are written without .0: \(text)")
    }

    @Test func everyOptionOfRunIsForwardedOrSetBySlurmOrCannotBeSharded() {
        // Fails when `girfec run` gains an option that is in none of these: decide where it belongs.
        let setBySlurm: Set = ["--replications", "--shard", "--threads", "--out", "--overwrite", "--quiet"]
        let notShardable: Set = ["--replication", "--target-mcse", "--outcome", "--batch"]
        let run = Self.optionNames(inHelp: Run.helpMessage(columns: 500))
        #expect(run.subtracting(Self.declared).subtracting(setBySlurm).subtracting(notShardable).isEmpty,
                "options of girfec run that girfec slurm neither forwards nor sets: \(run.subtracting(Self.declared).subtracting(setBySlurm).subtracting(notShardable))")
        #expect(run.isSuperset(of: Self.declared) && run.isSuperset(of: setBySlurm) && run.isSuperset(of: notShardable))
        #expect(Self.optionNames(inHelp: Slurm.helpMessage(columns: 500)).isSuperset(of: Self.declared))
    }

    @Test func badValuesSayWhatWasFoundAndWhatIsExpected() {
        let cases: [([String], String)] = [
            (["--wtp", "20000,-5"], "The value '20000,-5' is invalid for '--wtp <wtp>': found '-5' as amount 2 of '20000,-5'; expected comma-separated amounts >= 0 in £ per QoL-year, e.g. 20000,30000"),
            (["--wtp", "20000,,30000"], "found '' as amount 2 of '20000,,30000'; expected comma-separated amounts"),
            (["--aggregate-mode", "stella"], "The value 'stella' is invalid for '--aggregate-mode <aggregate-mode>'. Please provide one of 'cohort' and 'sd'."),
            (["--aggregate-method", "rk45"], "Please provide one of 'euler' and 'rk4'."),
            (["--aggregate-exposure", "mean"], "Please provide one of 'meanField', 'stocks' or 'exact'."),
            (["--aggregate-dt=-0.5"], "--aggregate-dt must be a positive number of years, but is -0.5."),
            (["--replications-per-draw", "0"], "--replications-per-draw must be at least 1, but is 0."),
            (["--max-memory-gb", "0"], "--max-memory-gb must be a positive number of GiB, but is 0.0."),
        ]
        for (arguments, says) in cases {
            do {
                _ = try RunOptions.parse(arguments)
                Issue.record("\(arguments) was accepted")
            } catch {
                #expect(RunOptions.message(for: error).contains(says), "\(arguments): \(RunOptions.message(for: error))")
            }
        }
        for (text, says) in [("0/3", "found '0/3', where K = 0 is below 1"), ("2/0", "found '2/0', where M = 0 is below 1"),
                             ("2-3", "found '2-3'; expected K/M, shard K of M with 1 <= K <= M, e.g. 2/8")] {
            #expect(throws: Shard.ParseError.self) { try Shard(parsing: text) }
            #expect((try? Shard(parsing: text)) == nil)
            do { _ = try Shard(parsing: text) } catch { #expect("\(error)".hasPrefix(says), "\(error)") }
        }
        #expect(Shard(argument: "2/8") == Shard(index: 2, count: 8))
    }

    @Test func slurmRefusesAnAggregateStepEveryShardWouldRefuse() throws {
        let (folder, scenario) = try SlurmScriptTests.workspace()
        let r = try SlurmScriptTests.girfec(["slurm", scenario, "--replications", "4", "--shards", "2", "--out", folder + "/c",
                                             "--aggregate-mode", "sd", "--aggregate-dt", "0.03"], cwd: folder)
        #expect(r.status == 2)
        #expect(r.stderr.contains("the aggregate model cannot run with these options: --dt 0.03 years must be positive and divide the step"), "\(r.stderr)")
        #expect(SlurmScriptTests.contents(folder) == ["small.yaml"], "nothing was written")
    }

    /// `girfec slurm` with every run option at a non-default value: the shard command, run by bash as Slurm would,
    /// hands `girfec run` exactly these options, each value quoted in the script.
    @Test func slurmCarriesEveryRunOptionIntoTheShardCommand() throws {
        let (folder, scenario) = try SlurmScriptTests.workspace()
        let recorder = folder + "/girfec-recorder"
        try "#!/bin/bash\nprintf '%s\\0' \"$@\" > \"$RECORD\"\n".write(toFile: recorder, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: recorder)
        let out = folder + "/cluster"
        let r = try SlurmScriptTests.girfec(["slurm", scenario, "--replications", "10", "--shards", "3", "--out", out, "--girfec", recorder]
                                            + Self.nonDefault, cwd: folder)
        #expect(r.status == 0, "\(r.stderr)")
        let expected = try RunOptions.parse(Self.nonDefault).arguments()
        let script = try String(contentsOfFile: out + "/slurm/array.sbatch", encoding: .utf8)
        for value in expected where !value.hasPrefix("--") {
            #expect(script.contains(" " + ScriptQuoting.quote(value, for: .shellWord) + " "), "\(value) is not quoted in \(script)")
        }
        let record = folder + "/record"
        let shard = try SlurmScriptTests.launch("/bin/bash", [out + "/slurm/array.sbatch"], cwd: folder,
                                                environment: ["SLURM_ARRAY_TASK_ID": "2", "SLURM_CPUS_PER_TASK": "1", "RECORD": record])
        #expect(shard.status == 0, "\(shard.stderr)")
        let argv = try String(contentsOfFile: record, encoding: .utf8).split(separator: "\0", omittingEmptySubsequences: false)
            .dropLast().map(String.init)
        #expect(argv.first == "run")
        #expect(Self.optionNames(in: argv).isSuperset(of: Self.declared), "options missing from the shard command: \(Self.declared.subtracting(argv))")
        let run = try Run.parse(Array(argv.dropFirst()))
        #expect(run.options.arguments() == expected)
        #expect(run.scenario == scenario && run.replications == 10 && run.shard == Shard(index: 2, count: 3))
        #expect(run.output.out == out + "/shards/shard-2" && run.output.overwrite && run.quiet && run.threads == 1)
    }
}
