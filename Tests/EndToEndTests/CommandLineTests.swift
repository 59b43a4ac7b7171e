import Foundation
import Model
import Testing
import TestSupport

/// The `girfec` command as a user runs it.
@Suite("girfec command line")
struct CommandLineTests {
    struct Outcome {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// The built `girfec` next to this test bundle.
    static let executable = Fixtures.girfecExecutable

    /// Run `executable` with `arguments`, in `cwd` if given, with `environment` added to this process's.
    static func launch(_ executable: String, _ arguments: [String], cwd: String? = nil,
                       environment: [String: String] = [:]) throws -> Outcome {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let cwd { process.currentDirectoryURL = URL(fileURLWithPath: cwd) }
        if !environment.isEmpty { process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 } }
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let o = out.fileHandleForReading.readDataToEndOfFile(), e = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Outcome(status: process.terminationStatus, stdout: String(decoding: o, as: UTF8.self),
                       stderr: String(decoding: e, as: UTF8.self))
    }

    /// Run the built girfec, in `cwd` if given, with `environment` added to this process's.
    static func girfec(_ arguments: [String], cwd: String? = nil, environment: [String: String] = [:]) throws -> Outcome {
        try launch(executable.path, arguments, cwd: cwd, environment: environment)
    }

    static func write(_ text: String, name: String) throws -> String {
        let path = Fixtures.temporaryFolder("girfec-e2e") + "/" + name
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func runWritesTheDocumentedFiles() throws {
        let scenario = try Self.write(Fixtures.smallScenario, name: "small.yaml")
        let out = Fixtures.temporaryFolder("girfec-e2e") + "/run"
        let r = try Self.girfec(["run", scenario, "--replications", "6", "--seed", "3", "--out", out, "--threads", "2"])
        #expect(r.status == 0, "stderr: \(r.stderr)")
        #expect(r.stdout.contains("practice − baseline: Δcost"))
        let files = try FileManager.default.contentsOfDirectory(atPath: out).sorted()
        #expect(files == ["acceptability.csv", "aggregate.csv", "bands-yearly.csv", "bands.csv", "comparison.csv", "incremental.csv",
                          "manifest.json", "per-person.csv", "replications-yearly.csv",
                          "replications.csv", "scenario.yaml", "state.bin", "summary.csv", "summary.json"])
        let summary = try String(contentsOfFile: out + "/summary.csv", encoding: .utf8)
        #expect(summary.hasPrefix("arm,comparator,measure,willingness_to_pay,replications,mean,mcse,ci_low,ci_high,p2_5,p50,p97_5\n"))
        #expect(summary.contains("\npractice,baseline,net_monetary_benefit,20000,6,"))
        #expect(summary.contains("\npractice,baseline,probability_cost_effective,100000,6,"))
        let bands = try String(contentsOfFile: out + "/bands.csv", encoding: .utf8)
        #expect(bands.hasPrefix("arm,step,time_years,quantity,level,from_level,to_level,replications,mean,mcse,ci_low,ci_high,p2_5,p5,p25,p50,p75,p95,p97_5\n"))
        #expect(bands.contains("\npractice,24,2,delta_cumulative_cost_discounted,all,,,6,"))
        let replications = try String(contentsOfFile: out + "/replications.csv", encoding: .utf8)
        #expect(replications.split(separator: "\n").count == 1 + 6 * 2)
        let manifest = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out + "/manifest.json"))) as! [String: Any]
        #expect(manifest["seed"] as? String == "3")
        #expect(manifest["replications"] as? Int == 6)
        #expect((manifest["scenario"] as? [String: Any])?["sha256"] as? String != nil)
        #expect((manifest["childStepsPerSecond"] as? Double ?? 0) > 0)
    }

    @Test func shardsRunAndMergeLikeOneRun() throws {
        let scenario = try Self.write(Fixtures.smallScenario, name: "small.yaml")
        let base = Fixtures.temporaryFolder("girfec-e2e")
        #expect(try Self.girfec(["run", scenario, "--replications", "5", "--seed", "8", "--out", base + "/whole", "--threads", "1", "--quiet"]).status == 0)
        for k in 1...2 {
            let r = try Self.girfec(["run", scenario, "--replications", "5", "--seed", "8", "--out", base + "/s\(k)", "--shard", "\(k)/2", "--threads", "2", "--quiet"])
            #expect(r.status == 0, "stderr: \(r.stderr)")
        }
        let m = try Self.girfec(["merge", base + "/s2", base + "/s1", "--out", base + "/merged"])
        #expect(m.status == 0, "stderr: \(m.stderr)")
        for file in ["bands.csv", "replications.csv", "aggregate.csv", "comparison.csv", "summary.json", "summary.csv"] {
            let a = try Data(contentsOf: URL(fileURLWithPath: base + "/whole/" + file))
            let b = try Data(contentsOf: URL(fileURLWithPath: base + "/merged/" + file))
            #expect(a == b, "\(file) differs between one run and merged shards")
        }
        let refused = try Self.girfec(["merge", base + "/s1", "--out", base + "/partial"])
        #expect(refused.status == 2)
        #expect(refused.stderr.contains("replications 2..<5 of 5 are missing: a shard was not given or did not finish; expected all 2 shards, or pass --allow-partial"))
        #expect(!FileManager.default.fileExists(atPath: base + "/partial"))
        let partial = try Self.girfec(["merge", base + "/s1", "--out", base + "/partial", "--allow-partial"])
        #expect(partial.status == 0)
        #expect(partial.stderr.contains("replications 2..<5 of 5 are missing"))
        let mixed = try Self.girfec(["merge", base + "/s1", base + "/whole", "--out", base + "/mixed"])
        #expect(mixed.status == 2)
        #expect(mixed.stderr.contains("is not a shard of the same run"))
    }

    /// `--quantities` leaves the rows and columns of the other groups out and nothing else: every value written is
    /// the full run's; merged shards keep the groups, and shards written with other groups are refused.
    @Test func quantityGroupsChooseWhatIsWritten() throws {
        let scenario = try Self.write(Fixtures.smallScenario, name: "small.yaml")
        let base = Fixtures.temporaryFolder("girfec-quantities")
        let common = ["run", scenario, "--replications", "4", "--seed", "5", "--threads", "1", "--quiet"]
        #expect(try Self.girfec(common + ["--out", base + "/all"]).status == 0)
        let some = try Self.girfec(common + ["--out", base + "/some", "--quantities", "costs, stocks"])
        #expect(some.status == 0, "stderr: \(some.stderr)")
        func lines(_ folder: String, _ file: String) throws -> [Substring] {
            try String(contentsOfFile: base + "/\(folder)/" + file, encoding: .utf8).split(separator: "\n")
        }
        let groups: [String: QuantityGroup] = Dictionary(uniqueKeysWithValues: Quantity.allCases.map { ($0.rawValue, $0.group) })
        for file in ["bands.csv", "bands-yearly.csv", "aggregate.csv", "comparison.csv"] {
            let all = try lines("all", file), kept = try lines("some", file)
            let quantityColumn = all[0].split(separator: ",").firstIndex(of: "quantity")!
            // The kept rows are exactly the full run's rows of those groups, in the same order.
            let expected = [all[0]] + all.dropFirst().filter { row in
                let q = String(row.split(separator: ",", omittingEmptySubsequences: false)[quantityColumn])
                let g = groups[q.hasPrefix("delta_") ? String(q.dropFirst(6)) : q]!
                return g == .costs || g == .stocks
            }
            #expect(kept == expected, "\(file): \(kept.count) rows kept, \(expected.count) expected")
            #expect(kept.count < all.count)
        }
        for file in ["replications.csv", "summary.csv", "per-person.csv"] {
            #expect(try lines("all", file) == lines("some", file), "\(file) depends on --quantities")
        }
        let header = try lines("some", "replications-yearly.csv")[0]
        #expect(header.contains("cost_discounted") && header.contains("stock"))
        #expect(!header.contains("qol_years") && !header.contains("flow_") && !header.contains("entries"))
        let manifest = try String(contentsOfFile: base + "/some/manifest.json", encoding: .utf8)
        #expect(manifest.contains("\"stocks\"") && manifest.contains("\"costs\"") && !manifest.contains("\"qol\""))
        // Shards: the merge keeps the groups; shards with different groups are refused.
        for (k, q) in [(1, "stocks,costs"), (2, "stocks,costs")] {
            #expect(try Self.girfec(common + ["--out", base + "/s\(k)", "--shard", "\(k)/2", "--quantities", q]).status == 0)
        }
        #expect(try Self.girfec(common + ["--out", base + "/other2", "--shard", "2/2"]).status == 0)
        #expect(try Self.girfec(["merge", base + "/s1", base + "/s2", "--out", base + "/merged", "--quiet"]).status == 0)
        #expect(try lines("merged", "bands.csv") == lines("some", "bands.csv"))
        let mixed = try Self.girfec(["merge", base + "/s1", base + "/other2", "--out", base + "/mixed"])
        #expect(mixed.status == 2)
        #expect(mixed.stderr.contains("--quantities stocks,flows,costs,qol differs from"), "stderr: \(mixed.stderr)")
        // A group that does not exist: the message names it and the groups there are; nothing is written.
        let bad = try Self.girfec(common + ["--out", base + "/bad", "--quantities", "stocks,money"])
        #expect(bad.status != 0)
        #expect(bad.stderr.contains("found 'money'; expected a comma-separated list of stocks, flows, costs, qol, or all"), "stderr: \(bad.stderr)")
        #expect(!FileManager.default.fileExists(atPath: base + "/bad"))
    }

    @Test func invalidScenarioReportsEverythingAndWritesNothing() throws {
        let broken = Fixtures.smallScenario
            .replacingOccurrences(of: "Low: {Mid: 0.1, High: 0.01}", with: "Low: {Mid: 0.1, Hgh: 0.01}")
            .replacingOccurrences(of: "escalationEffect: 0.3", with: "escalationEffect: 1.3")
            .replacingOccurrences(of: "horizonYears: 2}", with: "horizonYears: 2, stepMonth: 1}")
        let scenario = try Self.write(broken, name: "broken.yaml")
        let out = Fixtures.temporaryFolder("girfec-e2e") + "/never"
        let r = try Self.girfec(["run", scenario, "--out", out, "--replications", "2"])
        #expect(r.status == 2)
        #expect(r.stderr.contains("3 problems"))
        #expect(r.stderr.contains("transitions.matrix.Low.Hgh: found unknown level 'Hgh'; expected one of the levels: Low, Mid, High"))
        #expect(r.stderr.contains("arms.practice.practice.relational.escalationEffect: found 1.3; expected a number in [0, 1]"))
        #expect(r.stderr.contains("time.stepMonth: found unknown field 'stepMonth'; expected one of stepMonths, horizonYears (did you mean 'stepMonths'?)"))
        #expect(!FileManager.default.fileExists(atPath: out))
        let v = try Self.girfec(["validate", scenario])
        #expect(v.status == 2)
        #expect(v.stderr == r.stderr.replacingOccurrences(of: "\nNothing was run or written.", with: ""))
    }

    /// The reinvestment loop cannot run on the event engine: `--engine events` refuses with the reason
    /// (exit status 2, nothing written); `auto` runs the step engine and says so, on standard error and
    /// in the manifest.
    @Test func engineEventsRefusesWhatItCannotSimulateAndAutoSaysWhy() throws {
        let reinvesting = Fixtures.smallScenario.replacingOccurrences(of: """
                programme: {costPerYear: 50000}
            """, with: """
                programme: {costPerYear: 50000}
                reinvestment: {fraction: 0.5, practice: relational, moneyScalePerYear: 100000}
            """)
        #expect(reinvesting != Fixtures.smallScenario)
        let scenario = try Self.write(reinvesting, name: "reinvesting.yaml")
        let out = Fixtures.temporaryFolder("girfec-e2e") + "/engine"
        let refused = try Self.girfec(["run", scenario, "--replications", "2", "--engine", "events", "--out", out])
        #expect(refused.status == 2)
        #expect(refused.stderr.contains("girfec run: --engine events cannot simulate this scenario exactly: arm 'practice' reinvests its savings (reinvestment)"))
        #expect(refused.stderr.contains("Nothing was run or written."))
        #expect(!FileManager.default.fileExists(atPath: out))
        let auto = try Self.girfec(["run", scenario, "--replications", "2", "--out", out, "--quiet"])
        #expect(auto.status == 0, "\(auto.stderr)")
        #expect(auto.stderr.contains("girfec run: note: engine auto chose the step engine: arm 'practice' reinvests its savings"))
        let manifest = try String(contentsOfFile: out + "/manifest.json", encoding: .utf8)
        #expect(manifest.contains("\"requested\" : \"auto\""))
        #expect(manifest.contains("\"used\" : \"steps\""))
    }

    @Test func validateDescribesAValidScenario() throws {
        let scenario = try Self.write(Fixtures.smallScenario, name: "small.yaml")
        let v = try Self.girfec(["validate", scenario])
        #expect(v.status == 0)
        #expect(v.stdout.contains("arms: baseline, practice"))
        #expect(v.stdout.contains("24 steps of 1 month"))
        // The three levels reach each other within a month (rates): all 6 pairs can happen.
        #expect(v.stdout.contains("moves that can happen: 6 of 6 pairs of levels"), "\(v.stdout)")
        #expect(v.stdout.contains("output: a run folder of at most about "))
    }

    /// User-given within-cycle weights read back as `weights [w0, w1]` in `girfec validate`'s summary and the manifest.
    @Test func userGivenRewardWeightsAreShown() throws {
        let text = Fixtures.smallScenario.replacingOccurrences(of: "arms:\n  baseline: {}",
                                                               with: "rewardTiming: {weights: [0.25, 0.75]}\narms:\n  baseline: {}")
        #expect(text != Fixtures.smallScenario)
        let scenario = try Self.write(text, name: "weights.yaml")
        let v = try Self.girfec(["validate", scenario])
        #expect(v.status == 0, "\(v.stderr)")
        #expect(v.stdout.contains("reward timing weights [0.25, 0.75]"), "\(v.stdout)")
        let out = Fixtures.temporaryFolder("girfec-e2e") + "/weights"
        let r = try Self.girfec(["run", scenario, "--replications", "2", "--out", out, "--quiet"])
        #expect(r.status == 0, "\(r.stderr)")
        let manifest = try String(contentsOfFile: out + "/manifest.json", encoding: .utf8)
        #expect(manifest.contains("\"rewardTiming\" : \"weights [0.25, 0.75]\""), "\(manifest)")
    }

    @Test func refusesToOverwriteResults() throws {
        let scenario = try Self.write(Fixtures.smallScenario, name: "small.yaml")
        let out = Fixtures.temporaryFolder("girfec-e2e")
        try "keep me".write(toFile: out + "/notes.txt", atomically: true, encoding: .utf8)
        let r = try Self.girfec(["run", scenario, "--out", out, "--replications", "2"])
        #expect(r.status == 2)
        #expect(r.stderr.contains("already holds 1 entry (notes.txt); expected an absent or empty folder, it is not a folder girfec made, or not only that (it has no manifest.json), so --overwrite would not replace it either"))
        #expect(try String(contentsOfFile: out + "/notes.txt", encoding: .utf8) == "keep me")
        let bad = try Self.girfec(["run", scenario, "--out", out + "/x", "--shard", "3/2"])
        #expect(bad.status != 0)
        #expect(bad.stderr.contains("The value '3/2' is invalid for '--shard <shard>': found '3/2', where K = 3 is above M = 2; expected K/M, shard K of M with 1 <= K <= M, e.g. 2/8"), "\(bad.stderr)")
    }

    /// Ctrl-C stops a run and writes nothing, without sleeping for the child to get ready:
    /// SIGINT is blocked in this thread before the spawn, so the child inherits the blocked
    /// mask and the signal stays pending until girfec has installed its handler and unblocks it.
    @Test func interruptingARunWritesNothing() throws {
        let scenario = try Self.write(Fixtures.smallScenario, name: "small.yaml")
        let parent = Fixtures.temporaryFolder("girfec-e2e")
        let out = parent + "/interrupted"
        let process = Process()
        process.executableURL = Self.executable
        process.arguments = ["run", scenario, "--replications", "1000000", "--out", out, "--threads", "2"]
        let err = Pipe()
        process.standardError = err
        process.standardOutput = FileHandle.nullDevice
        var blocked = sigset_t(), previous = sigset_t()
        sigemptyset(&blocked)
        sigaddset(&blocked, SIGINT)
        pthread_sigmask(SIG_BLOCK, &blocked, &previous)
        defer { pthread_sigmask(SIG_SETMASK, &previous, nil) }
        try process.run()
        process.interrupt()  // SIGINT, as Ctrl-C: pending in the child until girfec is ready for it
        pthread_sigmask(SIG_SETMASK, &previous, nil)
        let message = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationReason == .exit)
        #expect(process.terminationStatus == 130)
        #expect(message.contains("the run was interrupted; nothing was written"), "\(message)")
        #expect(!FileManager.default.fileExists(atPath: out))
        #expect(try FileManager.default.contentsOfDirectory(atPath: parent).isEmpty)
    }

    @Test func aggregateCommandWritesTheAggregateAlone() throws {
        let scenario = try Self.write(Fixtures.smallScenario, name: "small.yaml")
        let out = Fixtures.temporaryFolder("girfec-e2e") + "/aggregate"
        let r = try Self.girfec(["aggregate", scenario, "--out", out, "--mode", "sd", "--method", "rk4", "--dt", "0.0208333333333333333"])
        #expect(r.status == 0, "stderr: \(r.stderr)")
        #expect(r.stdout.contains("aggregate model (sd-rk4/meanField) of 2 arms"))
        let csv = try String(contentsOfFile: out + "/aggregate.csv", encoding: .utf8)
        #expect(csv.hasPrefix("arm,step,time_years,quantity,level,from_level,to_level,value,mode,aggregate_parameters\n"))
        #expect(csv.contains(",sd-rk4/meanField,base case\n"))
        #expect(csv.contains("\npractice,24,2,stock,High,,,"))
        let bad = try Self.girfec(["aggregate", scenario, "--out", out + "2", "--mode", "sd", "--dt", "0.03"])
        #expect(bad.status == 2)
        #expect(bad.stderr.contains("--dt 0.03 years must be positive and divide the step of 0.08333333333333333 years"))
        #expect(!FileManager.default.fileExists(atPath: out + "2"))
    }

    @Test func slurmWritesAnArrayAndADependentMerge() throws {
        let scenario = try Self.write(Fixtures.smallScenario, name: "small.yaml")
        let out = Fixtures.temporaryFolder("girfec-e2e") + "/cluster"
        let r = try Self.girfec(["slurm", scenario, "--replications", "40", "--shards", "4", "--seed", "7", "--out", out,
                                 "--partition", "short", "--cpus-per-task", "2", "--time", "00:30:00",
                                 "--replications-per-draw", "5"])
        #expect(r.status == 0, "stderr: \(r.stderr)")
        let root = URL(fileURLWithPath: out).standardizedFileURL.path
        #expect(r.stdout.contains("bash '\(root)/slurm/submit.sh'"))
        let array = try String(contentsOfFile: out + "/slurm/array.sbatch", encoding: .utf8)
        #expect(array.contains("#SBATCH --array=1-4\n"))
        #expect(array.contains("#SBATCH --partition=short\n"))
        #expect(array.contains("#SBATCH --cpus-per-task=2\n"))
        #expect(array.contains("--replications 40 --shard \"$k/4\" \\\n  --seed '7' --replications-per-draw '5' --engine 'auto' --quantities 'all' --aggregate-mode"))
        let merge = try String(contentsOfFile: out + "/slurm/merge.sbatch", encoding: .utf8)
        #expect(merge.contains("merge '\(root)/shards'/shard-1 '\(root)/shards'/shard-2 '\(root)/shards'/shard-3 '\(root)/shards'/shard-4 --out '\(root)'/merged"))
        let submit = try String(contentsOfFile: out + "/slurm/submit.sh", encoding: .utf8)
        #expect(submit.contains("--dependency=afterok:"))
        let again = try Self.girfec(["slurm", scenario, "--replications", "40", "--shards", "4", "--out", out])
        #expect(again.status == 2)
        #expect(again.stderr.contains("already holds job scripts"))
        let bad = try Self.girfec(["slurm", scenario, "--replications", "3", "--shards", "4", "--out", out + "2"])
        #expect(bad.status != 0)
        #expect(bad.stderr.contains("--shards must be between 1 and --replications (3), but is 4."))
    }

    @Test func oneReplicationAloneReproducesItsRow() throws {
        let scenario = try Self.write(Fixtures.smallScenario, name: "small.yaml")
        let base = Fixtures.temporaryFolder("girfec-e2e")
        #expect(try Self.girfec(["run", scenario, "--replications", "5", "--seed", "4", "--out", base + "/all", "--quiet"]).status == 0)
        let alone = try Self.girfec(["run", scenario, "--replications", "5", "--seed", "4", "--replication", "3", "--out", base + "/one", "--quiet"])
        #expect(alone.status == 0, "stderr: \(alone.stderr)")
        let all = try String(contentsOfFile: base + "/all/replications.csv", encoding: .utf8).split(separator: "\n")
        let one = try String(contentsOfFile: base + "/one/replications.csv", encoding: .utf8).split(separator: "\n")
        #expect(Array(one.dropFirst()) == all.filter { $0.hasPrefix("3,") }, "replication 3 alone differs from its rows in the full run")
        #expect(one.count == 3)
        let bad = try Self.girfec(["run", scenario, "--replications", "5", "--replication", "5", "--out", base + "/bad"])
        #expect(bad.stderr.contains("--replication must be between 0 and --replications − 1 (4), but is 5."))
    }

    /// `girfec export` and `girfec import` never replace the file they read, and read only regular
    /// files (a device such as /dev/zero would never end); nothing is written.
    @Test func exportAndImportNeverReplaceTheirInput() throws {
        let scenario = try Self.write("name: one\ntime: {stepMonths: 1, horizonYears: 1}\n"
            + "levels: {A: {costPerChildYear: 100, qolWeight: 0.9}, B: {costPerChildYear: 900, qolWeight: 0.7}}\n"
            + "population: {initialCounts: {A: 10}, ageing: false}\n"
            + "transitions: {unit: ratesPerYear, matrix: {A: {B: 0.1}, B: {A: 0.2}}}\n"
            + "exposureTiming: beforeStep\n", name: "export-self.yaml")
        let before = try String(contentsOfFile: scenario, encoding: .utf8)
        let export = try Self.girfec(["export", scenario, "--format", "xmile", "--out", scenario])
        #expect(export.status == 2)
        #expect(export.stderr.contains("--out \(scenario) is the scenario file being read; expected another path"))
        #expect(try String(contentsOfFile: scenario, encoding: .utf8) == before)
        let xmile = scenario + ".xmile"
        let written = try Self.girfec(["export", scenario, "--format", "xmile", "--out", xmile])
        #expect(written.status == 0, "stderr: \(written.stderr)")
        let xml = try String(contentsOfFile: xmile, encoding: .utf8)
        let again = try Self.girfec(["import", xmile, "--out", xmile])
        #expect(again.status == 2)
        #expect(again.stderr.contains("--out \(xmile) is the XMILE file being read; expected another path"))
        #expect(try String(contentsOfFile: xmile, encoding: .utf8) == xml)
        let device = try Self.girfec(["import", "/dev/zero", "--out", xmile + ".yaml"])
        #expect(device.status == 2)
        #expect(device.stderr.contains("/dev/zero: found a device, not a regular file; expected a readable UTF-8 XMILE file of at most 16 MiB"))
        #expect(!FileManager.default.fileExists(atPath: xmile + ".yaml"))
    }
}
