import Foundation
import Testing
import TestSupport

/// `girfec slurm` quotes every value it writes into a job script and refuses what sbatch cannot carry (no Slurm needed).
@Suite("girfec slurm: quoting and refusals")
struct SlurmScriptTests {
    /// A folder name with everything a shell or sbatch could misread.
    static let awkward = "r x'q\"$(touch PWNED)`touch PWNED`;#%a%%j é子"

    typealias Outcome = CommandLineTests.Outcome

    /// Run `executable` with `arguments` in `cwd`, with `environment` added to this process's.
    static func launch(_ executable: String, _ arguments: [String], cwd: String, environment: [String: String] = [:]) throws -> Outcome {
        try CommandLineTests.launch(executable, arguments, cwd: cwd, environment: environment)
    }

    static func girfec(_ arguments: [String], cwd: String, environment: [String: String] = [:]) throws -> Outcome {
        try launch(CommandLineTests.executable.path, arguments, cwd: cwd, environment: environment)
    }

    /// A fresh folder holding the small scenario as `small.yaml`.
    static func workspace() throws -> (folder: String, scenario: String) {
        let folder = URL(fileURLWithPath: Fixtures.temporaryFolder("girfec-slurm")).standardizedFileURL.path
        let scenario = folder + "/small.yaml"
        try Fixtures.smallScenario.write(toFile: scenario, atomically: true, encoding: .utf8)
        return (folder, scenario)
    }

    static func contents(_ folder: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).sorted()
    }

    /// Every PWNED file under `folder`.
    static func pwned(under folder: String) -> [String] {
        (FileManager.default.enumerator(atPath: folder)?.allObjects as? [String] ?? [])
            .filter { ($0 as NSString).lastPathComponent == "PWNED" }
    }

    /// The value of an `#SBATCH --option=VALUE` line as sbatch 22.05 reads it: whitespace ends it unless quoted,
    /// `'…'` and `"…"` quote alike, a backslash escapes the next character, an unquoted `#` starts a comment.
    static func sbatchDirectiveValue(_ line: String, option: String) -> String? {
        let prefix = "#SBATCH " + option + "="
        guard line.hasPrefix(prefix) else { return nil }
        var value = "", quote: Character? = nil, escaped = false
        for ch in line.dropFirst(prefix.count) {
            if escaped { value.append(ch); escaped = false; continue }
            if ch == "\\" { escaped = true; continue }
            if let q = quote {
                if ch == q { quote = nil } else { value.append(ch) }
                continue
            }
            if ch == "'" || ch == "\"" { quote = ch; continue }
            if ch == "#" || ch.isWhitespace { break }
            value.append(ch)
        }
        return value
    }

    // MARK: - Refusals

    @Test func controlCharactersInAnyValueAreRefusedAllAtOnceAndNothingIsWritten() throws {
        let (folder, scenario) = try Self.workspace()
        let r = try Self.girfec(["slurm", scenario, "--replications", "4", "--shards", "2",
                                 "--out", folder + "/cluster\n#SBATCH --wrap=id", "--mem", "2G\ntouch PWNED",
                                 "--partition", "short\r", "--time", "01:00:00\t", "--girfec", "/bin/girfec\u{7}"],
                                cwd: folder)
        #expect(r.status == 2, "stderr: \(r.stderr)")
        #expect(r.stderr.contains("girfec slurm: 5 problems:"), "\(r.stderr)")
        #expect(r.stderr.contains("--out: found a newline at position"))
        #expect(r.stderr.contains("'\(folder)/cluster\\n#SBATCH --wrap=id'; expected no control characters"))
        #expect(r.stderr.contains("--mem: found a newline at position 3 of '2G\\ntouch PWNED'"))
        #expect(r.stderr.contains("--partition: found a carriage return at position 6 of 'short\\r'"))
        #expect(r.stderr.contains("--time: found a tab at position 9"))
        #expect(r.stderr.contains("--girfec: found the control character U+0007 at position 12 of '/bin/girfec\\u{7}'"))
        #expect(r.stderr.hasSuffix("Nothing was written.\n"))
        #expect(Self.contents(folder) == ["small.yaml"], "nothing was written")
    }

    @Test func aScenarioPathWithANewlineIsRefused() throws {
        let (folder, _) = try Self.workspace()
        let scenario = folder + "/a\nb.yaml"
        try Fixtures.smallScenario.write(toFile: scenario, atomically: true, encoding: .utf8)
        let r = try Self.girfec(["slurm", scenario, "--replications", "4", "--shards", "2", "--out", folder + "/c"], cwd: folder)
        #expect(r.status == 2)
        #expect(r.stderr.contains("the scenario path: found a newline at position"), "\(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: folder + "/c"))
    }

    @Test func badMemPartitionAndTimeSayWhatWasFoundAndWhatIsExpected() throws {
        let (folder, scenario) = try Self.workspace()
        let r = try Self.girfec(["slurm", scenario, "--replications", "4", "--shards", "2", "--out", folder + "/c",
                                 "--mem", "2GiB", "--partition", "short long", "--time", "1:2:3:4"], cwd: folder)
        #expect(r.status == 2)
        #expect(r.stderr.contains("girfec slurm: 3 problems:"))
        #expect(r.stderr.contains("--mem: found '2GiB'; expected digits with an optional K, M, G or T suffix"))
        #expect(r.stderr.contains("--partition: found 'short long'; expected a partition name of ASCII letters, digits, '_', '.' and '-'"))
        #expect(r.stderr.contains("--time: found '1:2:3:4'; expected minutes, MM:SS, HH:MM:SS, D-HH, D-HH:MM, D-HH:MM:SS"))
        #expect(Self.contents(folder) == ["small.yaml"])
    }

    @Test(arguments: ["1.5G", "G", "-1", "+5", "2 G", "2P", "0x10", "1234567890123456"])
    func memoryOutsideSbatchSyntaxIsRefused(mem: String) throws {
        let (folder, scenario) = try Self.workspace()
        let r = try Self.girfec(["slurm", scenario, "--replications", "4", "--shards", "2", "--out", folder + "/c", "--mem=" + mem], cwd: folder)
        #expect(r.status == 2, "--mem \(mem)")
        #expect(r.stderr.contains("--mem: found '\(mem)'; expected digits"), "\(r.stderr)")
    }

    @Test(arguments: ["1:2:3:4", "1-", "-1", "1--2", "1-1-1", ":1", "1:", "1.5", " 10", "10m", "00:75", "1:60:00", "1-24", "1-2:60",
                      "1-2:30:60", "123456789"])
    func timeOutsideSbatchFormsIsRefused(time: String) throws {
        let (folder, scenario) = try Self.workspace()
        let r = try Self.girfec(["slurm", scenario, "--replications", "4", "--shards", "2", "--out", folder + "/c", "--time=" + time], cwd: folder)
        #expect(r.status == 2, "--time \(time)")
        #expect(r.stderr.contains("--time: found '\(time)'"), "\(r.stderr)")
    }

    @Test(arguments: ["a b", "a,", ",a", "a,,b", "a;b", "é", "a'b", "a#b"])
    func partitionsThatAreNotSlurmNamesAreRefused(partition: String) throws {
        let (folder, scenario) = try Self.workspace()
        let r = try Self.girfec(["slurm", scenario, "--replications", "4", "--shards", "2", "--out", folder + "/c",
                                 "--partition", partition], cwd: folder)
        #expect(r.status == 2, "--partition \(partition)")
        #expect(r.stderr.contains("--partition: found '\(partition)'; expected a partition name"), "\(r.stderr)")
    }

    @Test func everySbatchFormOfTimeMemAndPartitionIsAccepted() throws {
        let (folder, scenario) = try Self.workspace()
        let forms: [(time: String, mem: String, partition: String)] = [
            ("30", "500", "standard"), ("30:15", "500M", "short,long"), ("01:00:00", "2G", "gpu-a100.x_2"),
            ("2-0", "2g", "a"), ("1-12:30", "1T", "A1,b-2,c.3"), ("10-23:59:59", "100K", "p"), ("0", "0", "q"),
            ("UNLIMITED", "64m", "r"), ("72:00:00", "16t", "s"),
        ]
        for (index, form) in forms.enumerated() {
            let r = try Self.girfec(["slurm", scenario, "--replications", "4", "--shards", "2", "--out", folder + "/c\(index)",
                                     "--time", form.time, "--mem", form.mem, "--partition", form.partition], cwd: folder)
            #expect(r.status == 0, "\(form): \(r.stderr)")
            let array = try String(contentsOfFile: folder + "/c\(index)/slurm/array.sbatch", encoding: .utf8)
            #expect(array.contains("#SBATCH --time=\(form.time)\n#SBATCH --mem=\(form.mem)\n#SBATCH --partition=\(form.partition)\n"))
        }
    }

    @Test func destructiveOutputFoldersAreRefused() throws {
        let (folder, scenario) = try Self.workspace()
        let work = folder + "/work/inner"
        let home = folder + "/home"
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: home, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: folder + "/link-to-work", withDestinationPath: work)
        let cases: [(out: String, says: String)] = [
            ("", "--out is empty; expected the name of a new folder"),
            (".", "is the current folder"), ("./", "is the current folder"), (work, "is the current folder"),
            (folder + "/link-to-work", "is the current folder"),
            ("..", "a folder above the current folder"), (folder, "a folder above the current folder"),
            ("/", "is the root folder"), (home, "is the home folder"), (home + "/../home/.", "is the home folder"),
            (scenario, "which is a file; expected a folder"),
        ]
        for (out, says) in cases {
            let r = try Self.girfec(["slurm", scenario, "--replications", "4", "--shards", "2", "--out", out], cwd: work,
                                    environment: ["HOME": home])
            #expect(r.status == 2, "--out '\(out)': \(r.stderr)")
            #expect(r.stderr.contains(says), "--out '\(out)': \(r.stderr)")
            #expect(r.stderr.contains("Nothing was written."))
        }
        #expect(Self.contents(work).isEmpty && Self.contents(home).isEmpty)
        #expect(Self.contents(folder) == ["home", "link-to-work", "small.yaml", "work"])
    }

    @Test func aRelativeOutInACurrentFolderWithATabIsRefused() throws {
        let (folder, scenario) = try Self.workspace()
        let work = folder + "/a\tb"
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        let r = try Self.girfec(["slurm", scenario, "--replications", "4", "--shards", "2", "--out", "c"], cwd: work)
        #expect(r.status == 2)
        #expect(r.stderr.contains("--out, made absolute: found a tab at position \(folder.count + 3) of '\(folder)/a\\tb/c'"), "\(r.stderr)")
        #expect(Self.contents(work).isEmpty)
    }

    @Test func aBackslashInTheOutputFolderIsRefused() throws {
        let (folder, scenario) = try Self.workspace()
        let r = try Self.girfec(["slurm", scenario, "--replications", "4", "--shards", "2", "--out", folder + "/a\\b"], cwd: folder)
        #expect(r.status == 2)
        #expect(r.stderr.contains("--out: found a backslash in '\(folder)/a\\b'; expected a path without '\\'"), "\(r.stderr)")
        #expect(Self.contents(folder) == ["small.yaml"])
    }

    @Test func foldersTheJobsWouldReplaceAreRefusedWithoutOverwrite() throws {
        let (folder, scenario) = try Self.workspace()
        try FileManager.default.createDirectory(atPath: folder + "/c/merged", withIntermediateDirectories: true)
        let r = try Self.girfec(["slurm", scenario, "--replications", "4", "--shards", "2", "--out", folder + "/c"], cwd: folder)
        #expect(r.status == 2)
        #expect(r.stderr.contains("\(folder)/c/merged already exists and the jobs would replace it"), "\(r.stderr)")
        #expect(Self.contents(folder + "/c") == ["merged"])
    }

    // MARK: - Quoting

    @Test func awkwardPathsReachEveryCommandLiterallyAndNothingRuns() throws {
        let (folder, _) = try Self.workspace()
        let base = folder + "/" + Self.awkward
        let fm = FileManager.default
        try fm.createDirectory(atPath: base + "/bin;`touch PWNED`", withIntermediateDirectories: true)
        let scenario = base + "/scénario #1 $(touch PWNED).yaml"
        try Fixtures.smallScenario.write(toFile: scenario, atomically: true, encoding: .utf8)
        // A stand-in for girfec and one for sbatch: each records its arguments, one per NUL-terminated field.
        let recorder = base + "/bin;`touch PWNED`/girfec"
        try "#!/bin/bash\nprintf '%s\\0' \"$@\" >> \"$RECORD\"\n".write(toFile: recorder, atomically: true, encoding: .utf8)
        try fm.createDirectory(atPath: folder + "/path", withIntermediateDirectories: true)
        try "#!/bin/bash\nprintf '%s\\0' \"$@\" >> \"$RECORD\"\nprintf '\\n' >> \"$RECORD\"\necho $((40 + $(wc -l < \"$RECORD\")))\n"
            .write(toFile: folder + "/path/sbatch", atomically: true, encoding: .utf8)
        for path in [recorder, folder + "/path/sbatch"] { try fm.setAttributes([.posixPermissions: 0o755], ofItemAtPath: path) }
        let out = base + "/" + Self.awkward
        let work = folder + "/work"
        try fm.createDirectory(atPath: work, withIntermediateDirectories: true)
        let record = folder + "/record"
        let environment = ["RECORD": record, "PATH": folder + "/path:" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin")]

        let r = try Self.girfec(["slurm", scenario, "--replications", "4", "--shards", "2", "--seed", "3", "--out", out,
                                 "--girfec", recorder, "--partition", "local", "--time", "0-00:10", "--mem", "500M", "--submit"],
                                cwd: work, environment: environment)
        #expect(r.status == 0, "stderr: \(r.stderr)")
        #expect(r.stdout.contains("submit both with:\n  bash '" + (out + "/slurm/submit.sh").replacingOccurrences(of: "'", with: "'\\''") + "'\n"))
        // --submit ran submit.sh: two sbatch calls, the second depending on the first, and a summary naming the folder.
        let calls = try String(contentsOfFile: record, encoding: .utf8).split(separator: "\n").map {
            $0.split(separator: "\0", omittingEmptySubsequences: false).dropLast().map(String.init)
        }
        #expect(calls == [["--parsable", out + "/slurm/array.sbatch"],
                          ["--parsable", "--dependency=afterok:41", out + "/slurm/merge.sbatch"]])
        #expect(r.stdout.hasSuffix("shards: job 41 (2 tasks); merge: job 42 -> \(out)/merged\n"), "\(r.stdout)")

        for script in ["array.sbatch", "merge.sbatch", "submit.sh"] {
            let parsed = try Self.launch("/bin/bash", ["-n", out + "/slurm/" + script], cwd: work)
            #expect(parsed.status == 0, "\(script): \(parsed.stderr)")
        }
        // The directives, read as sbatch reads them, name the logs folder exactly (with % doubled for the pattern).
        let logs = (out + "/slurm/logs").replacingOccurrences(of: "%", with: "%%")
        for (script, log) in [("array.sbatch", "/shard-%a.out"), ("merge.sbatch", "/merge.out")] {
            let lines = try String(contentsOfFile: out + "/slurm/" + script, encoding: .utf8).split(separator: "\n").map(String.init)
            #expect(lines.compactMap { Self.sbatchDirectiveValue($0, option: "--output") } == [logs + log])
            #expect(lines.compactMap { Self.sbatchDirectiveValue($0, option: "--time") } == ["0-00:10"])
            #expect(lines.compactMap { Self.sbatchDirectiveValue($0, option: "--mem") } == ["500M"])
            #expect(lines.compactMap { Self.sbatchDirectiveValue($0, option: "--partition") } == ["local"])
        }

        // The job scripts, run by bash as Slurm would, pass every path to girfec literally.
        try? fm.removeItem(atPath: record)
        let shard = try Self.launch("/bin/bash", [out + "/slurm/array.sbatch"], cwd: work,
                                    environment: environment.merging(["SLURM_ARRAY_TASK_ID": "2", "SLURM_CPUS_PER_TASK": "3"]) { $1 })
        #expect(shard.status == 0, "\(shard.stderr)")
        #expect(try String(contentsOfFile: record, encoding: .utf8).split(separator: "\0").map(String.init) == [
            "run", scenario, "--replications", "4", "--shard", "2/2", "--seed", "3", "--replications-per-draw", "1",
            "--engine", "auto", "--quantities", "all", "--aggregate-mode", "cohort", "--aggregate-method", "euler", "--aggregate-exposure", "meanField",
            "--wtp", "20000,30000", "--ceac-max", "100000", "--ceac-step", "1000", "--max-child-steps", "10000000000000",
            "--threads", "3", "--out", out + "/shards/shard-2", "--overwrite", "--quiet"])
        try? fm.removeItem(atPath: record)
        let merge = try Self.launch("/bin/bash", [out + "/slurm/merge.sbatch"], cwd: work, environment: environment)
        #expect(merge.status == 0, "\(merge.stderr)")
        #expect(try String(contentsOfFile: record, encoding: .utf8).split(separator: "\0").map(String.init) == [
            "merge", out + "/shards/shard-1", out + "/shards/shard-2", "--out", out + "/merged", "--overwrite"])

        #expect(Self.pwned(under: folder).isEmpty, "a command inside a path was executed")
    }

    @Test func directiveQuotingFollowsSbatchRules() throws {
        // Values that are plain stay bare; others are double-quoted with \ and " escaped.
        let (folder, scenario) = try Self.workspace()
        let out = folder + "/plain-folder_1.2"
        let r = try Self.girfec(["slurm", scenario, "--replications", "4", "--shards", "2", "--out", out], cwd: folder)
        #expect(r.status == 0, "\(r.stderr)")
        let array = try String(contentsOfFile: out + "/slurm/array.sbatch", encoding: .utf8)
        if folder.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "_./:,=+@%-".contains($0)) }) {
            #expect(array.contains("#SBATCH --output=\(out.replacingOccurrences(of: "%", with: "%%"))/slurm/logs/shard-%a.out\n"))
        }
        #expect(array.contains("#SBATCH --time=01:00:00\n#SBATCH --mem=2G\n"))
    }
}
