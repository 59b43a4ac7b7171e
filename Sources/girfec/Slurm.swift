import ArgumentParser
import Foundation
import Model
import Reports
import StockFlow

struct Slurm: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write (and optionally submit) a Slurm job array of shards plus a merge job.",
        discussion: """
        Writes DIR/slurm/array.sbatch (one array task per shard: SLURM_ARRAY_TASK_ID becomes \
        --shard K/M, output in DIR/shards/shard-K, and every run option below is passed on: \
        docs/cluster.md, section 2), DIR/slurm/merge.sbatch (girfec merge of all \
        shards into DIR/merged, run only after every shard succeeded: --dependency=afterok) and \
        DIR/slurm/submit.sh, and prints the command that submits both. A failed shard K can be \
        re-run alone with `sbatch --array=K DIR/slurm/array.sbatch`; it overwrites only its own \
        folder. The merged folder is byte-identical to a single-machine run (docs/cluster.md). \
        Every value is quoted for the shell and for sbatch's #SBATCH parser; values they cannot carry \
        (control characters, a backslash in --out, --time/--mem/--partition outside sbatch's syntax) and \
        an empty, root, current, home or ancestor --out are refused before anything is written \
        (docs/cluster.md, section 8).
        """)

    @Argument(help: "The scenario file (YAML). Use a path the compute nodes can read.")
    var scenario: String

    @Option(help: "Replications in the whole run.")
    var replications: Int

    @Option(help: "Number of shards (array tasks).")
    var shards: Int

    /// The options of `girfec run` that its results depend on, written into every shard's command (``RunOptions/arguments()``).
    @OptionGroup(title: "Passed to every shard's `girfec run`")
    var options: RunOptions

    @Option(help: "Folder for scripts, logs, shard folders and the merged result (on a shared filesystem); no control characters or backslash (docs/cluster.md, section 8).")
    var out: String

    @Option(help: "Slurm partition, or several separated by commas (default: the cluster's default).")
    var partition: String?

    @Option(help: "Time limit per shard: MM, MM:SS, HH:MM:SS, D-HH, D-HH:MM, D-HH:MM:SS or UNLIMITED.")
    var time: String = "01:00:00"

    @Option(help: "CPUs per shard; each shard runs that many threads.")
    var cpusPerTask: Int = 1

    @Option(help: "Memory per shard: digits with an optional K, M, G or T (megabytes without one), e.g. 2G.")
    var mem: String = "2G"

    @Option(help: "The girfec binary the jobs run (default: this one). Must be reachable from the compute nodes.")
    var girfec: String?

    @Flag(help: "Submit both jobs with sbatch (must be on the PATH).")
    var submit = false

    @Flag(help: "Replace DIR's scripts if they exist, and let the jobs replace DIR/shards and DIR/merged.")
    var overwrite = false

    /// Every problem with the options, each as "option: found …; expected …"; empty when the scripts can be written.
    func problems(root: String, scenarioPath: String, binary: String) -> [String] {
        var found: [String] = []
        if replications < 1 { found.append("--replications must be at least 1, but is \(replications).") }
        else if replications > Int(UInt32.max) { found.append("--replications must be below 2^32, but is \(replications).") }
        if shards < 1 || (replications >= 1 && shards > replications) {
            found.append("--shards must be between 1 and --replications (\(replications)), but is \(shards).")
        }
        if cpusPerTask < 1 { found.append("--cpus-per-task must be at least 1, but is \(cpusPerTask).") }
        let texts: [(option: String, value: String?, context: ScriptQuoting.Context)] = [
            ("the scenario path", scenario, .shellWord), ("--out", out, .outputPath), ("--girfec", girfec, .shellWord),
            ("--time", time, .directive), ("--mem", mem, .directive), ("--partition", partition, .directive),
        ]
        var clean: Set<String> = []
        for (option, value, context) in texts {
            guard let value else { continue }
            if let refusal = ScriptQuoting.refusal(of: value, in: context) { found.append("\(option): \(refusal)") }
            else { clean.insert(option) }
        }
        if clean.contains("--girfec"), let girfec, girfec.isEmpty {
            found.append("--girfec: found an empty path; expected the girfec binary the compute nodes run")
        }
        if clean.contains("--out") { found += Self.outProblems(out, root: root) }
        // Made absolute against the current folder, a clean value can still carry what the folder's name holds.
        if clean.contains("--out"), let refusal = ScriptQuoting.refusal(of: root, in: .outputPath) {
            found.append("--out, made absolute: \(refusal)")
        }
        if clean.contains("--girfec") || girfec == nil, let refusal = ScriptQuoting.refusal(of: binary, in: .shellWord) {
            found.append("--girfec (the binary the jobs run, made absolute): \(refusal)")
        }
        if clean.contains("the scenario path"), let refusal = ScriptQuoting.refusal(of: scenarioPath, in: .shellWord) {
            found.append("the scenario path, made absolute: \(refusal)")
        }
        if clean.contains("--time"), let problem = Self.timeProblem(time) { found.append("--time: " + problem) }
        if clean.contains("--mem"), let problem = Self.memProblem(mem) { found.append("--mem: " + problem) }
        if clean.contains("--partition"), let partition, let problem = Self.partitionProblem(partition) {
            found.append("--partition: " + problem)
        }
        return found
    }

    /// Why sbatch would refuse or misread `time` as `--time`, or nil: the forms of sbatch's man page, fields in range.
    static func timeProblem(_ time: String) -> String? {
        let expected = "expected minutes, MM:SS, HH:MM:SS, D-HH, D-HH:MM, D-HH:MM:SS (digits only) or UNLIMITED, e.g. 01:00:00 or 2-00:00:00"
        if ["UNLIMITED", "INFINITE"].contains(time.uppercased()) { return nil }
        let dayParts = time.split(separator: "-", omittingEmptySubsequences: false)
        let fields = (dayParts.last ?? "").split(separator: ":", omittingEmptySubsequences: false)
        let allFields = dayParts.count == 2 ? [dayParts[0]] + fields : fields
        guard dayParts.count <= 2, (1...3).contains(fields.count),
              allFields.allSatisfy({ !$0.isEmpty && $0.count <= 8 && $0.allSatisfy { ("0"..."9").contains($0) } }) else {
            return "found \(ScriptQuoting.visible(time)); \(expected)"
        }
        let numbers = allFields.map { Int($0)! }
        // The names of the fields, in order, and which of them follow a larger unit (so have an upper bound).
        let names: [String] = dayParts.count == 2 ? ["days", "hours", "minutes", "seconds"].prefix(1 + fields.count).map { $0 }
            : (fields.count == 1 ? ["minutes"] : fields.count == 2 ? ["minutes", "seconds"] : ["hours", "minutes", "seconds"])
        for (index, (name, number)) in zip(names, numbers).enumerated() where index > 0 {
            let limit = name == "hours" ? 23 : 59
            if number > limit {
                return "found \(ScriptQuoting.visible(time)), whose \(name) are \(number); expected \(name) from 0 to \(limit) after the \(names[index - 1]), e.g. 01:30:00 or 1-12:00:00"
            }
        }
        return nil
    }

    /// Why sbatch would refuse `mem` as `--mem`, or nil: digits, with an optional K, M, G or T (megabytes without one).
    static func memProblem(_ mem: String) -> String? {
        var digits = Substring(mem)
        if let last = digits.last, "KMGTkmgt".contains(last) { digits = digits.dropLast() }
        guard !digits.isEmpty, digits.count <= 15, digits.allSatisfy({ ("0"..."9").contains($0) }) else {
            return "found \(ScriptQuoting.visible(mem)); expected digits with an optional K, M, G or T suffix (megabytes without one; 0 means all of a node's memory), e.g. 2G or 500M"
        }
        return nil
    }

    /// Why `partition` is not a Slurm partition name or comma-separated list of them, or nil.
    static func partitionProblem(_ partition: String) -> String? {
        let names = partition.split(separator: ",", omittingEmptySubsequences: false)
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-")
        guard names.allSatisfy({ !$0.isEmpty && $0.allSatisfy { allowed.contains($0) } }) else {
            return "found \(ScriptQuoting.visible(partition)); expected a partition name of ASCII letters, digits, '_', '.' and '-', or several separated by commas (no spaces), e.g. standard or short,long"
        }
        return nil
    }

    /// Why `out` may not be the folder `girfec slurm` writes into, or an empty list: the refusals every
    /// writing command shares (``OutputFolder/refuseDestructive(_:option:)``: empty, `/`, the current folder,
    /// the home folder, a folder above either, after resolving links), or a file.
    static func outProblems(_ out: String, root: String) -> [String] {
        do { _ = try OutputFolder.refuseDestructive(out, option: "--out") } catch {
            return [error.problem]
        }
        var isFolder: ObjCBool = false
        if FileManager.default.fileExists(atPath: root, isDirectory: &isFolder), !isFolder.boolValue {
            return ["--out: found \(ScriptQuoting.visible(out)), which is a file; expected a folder"]
        }
        return []
    }

    static func absolute(_ path: String) -> String {
        URL(fileURLWithPath: path).standardizedFileURL.path
    }

    func run() throws {
        let root = out.isEmpty ? "" : Self.absolute(out)
        let scenarioPath = Self.absolute(scenario)
        let invoked = CommandLine.arguments[0]
        let binary = Self.absolute(girfec ?? (invoked.contains("/") ? invoked : (Self.which("girfec") ?? invoked)))
        let problems = problems(root: root, scenarioPath: scenarioPath, binary: binary)
        if !problems.isEmpty {
            printError("girfec slurm: \(problems.count) problem\(problems.count == 1 ? "" : "s"):\n"
                + problems.map { "  - \($0)" }.joined(separator: "\n") + "\nNothing was written.")
        }
        let model = ScriptQuoting.refusal(of: scenario, in: .shellWord) == nil ? try loadScenarioOrExit(scenario).scenario : nil
        if !problems.isEmpty { throw ExitCode(invalidInputStatus) }
        // What every shard would refuse before running (an integration step that does not divide the model's) is refused here.
        if let model {
            do { for arm in model.arms { try AggregateModel.check(arm: arm, options: options.aggregate.options) } } catch {
                printError("girfec slurm: the aggregate model cannot run with these options: \(error)\nNothing was written.")
                throw ExitCode(invalidInputStatus)
            }
        }
        let slurmDir = root + "/slurm", logs = root + "/slurm/logs", shardsDir = root + "/shards"
        let fm = FileManager.default
        if !overwrite {
            let existing = [slurmDir + "/array.sbatch", root + "/merged", shardsDir].filter { fm.fileExists(atPath: $0) }
            if existing.first == slurmDir + "/array.sbatch" {
                printError("girfec slurm: \(slurmDir) already holds job scripts; expected a fresh --out folder, or pass --overwrite. Nothing was written.")
                throw ExitCode(invalidInputStatus)
            }
            if let first = existing.first {
                printError("girfec slurm: \(first) already exists and the jobs would replace it; expected a fresh --out folder, or pass --overwrite. Nothing was written.")
                throw ExitCode(invalidInputStatus)
            }
        }
        let q = { (word: String) in ScriptQuoting.quote(word, for: .shellWord) }
        let d = { (value: String) in ScriptQuoting.quote(value, for: .directive) }
        var header: [String] = ["#SBATCH --cpus-per-task=\(cpusPerTask)", "#SBATCH --time=\(d(time))", "#SBATCH --mem=\(d(mem))"]
        if let partition { header.append("#SBATCH --partition=\(d(partition))") }
        let array: String = (["#!/bin/bash", "# girfec shards: one array task per shard (written by `girfec slurm`).",
                      "#SBATCH --job-name=girfec-shards", "#SBATCH --array=1-\(shards)",
                      "#SBATCH --output=\(ScriptQuoting.outputPattern(folder: logs, pattern: "/shard-%a.out"))"] + header + [
            "set -euo pipefail",
            "k=\"${SLURM_ARRAY_TASK_ID:?run this script with sbatch}\"",
            "exec \(q(binary)) run \(q(scenarioPath)) --replications \(replications) --shard \"$k/\(shards)\" \\",
            "  \(Self.shellWords(options.arguments())) \\",
            "  --threads \"${SLURM_CPUS_PER_TASK:-1}\" --out \(q(shardsDir))/shard-\"$k\" --overwrite --quiet",
        ] as [String]).joined(separator: "\n") + "\n"
        let shardList = (1...shards).map { "\(q(shardsDir))/shard-\($0)" }.joined(separator: " ")
        let merge: String = (["#!/bin/bash", "# girfec merge: runs after every shard succeeded (written by `girfec slurm`).",
                      "#SBATCH --job-name=girfec-merge",
                      "#SBATCH --output=\(ScriptQuoting.outputPattern(folder: logs, pattern: "/merge.out"))"] + header + [
            "set -euo pipefail",
            "exec \(q(binary)) merge \(shardList) --out \(q(root))/merged --overwrite",
        ] as [String]).joined(separator: "\n") + "\n"
        let submitScript = """
        #!/bin/bash
        # Submit the shard array, then the merge job that waits for all of it (written by `girfec slurm`).
        set -euo pipefail
        array=$(sbatch --parsable \(q(slurmDir))/array.sbatch)
        merge=$(sbatch --parsable --dependency=afterok:"${array%%;*}" \(q(slurmDir))/merge.sbatch)
        echo "shards: job ${array%%;*} (\(shards) tasks); merge: job ${merge%%;*} -> "\(q(root))/merged

        """
        do {
            try fm.createDirectory(atPath: logs, withIntermediateDirectories: true)
            try fm.createDirectory(atPath: shardsDir, withIntermediateDirectories: true)
            for (name, text) in [("array.sbatch", array), ("merge.sbatch", merge), ("submit.sh", submitScript)] {
                let path = slurmDir + "/" + name
                try text.write(toFile: path, atomically: true, encoding: .utf8)
                try fm.setAttributes([.posixPermissions: 0o755], ofItemAtPath: path)
            }
        } catch {
            printError("girfec slurm: cannot write the job scripts into \(slurmDir): \(error.localizedDescription)")
            throw ExitCode(1)
        }
        print("wrote \(slurmDir)/array.sbatch (\(shards) shards of \(replications) replications), merge.sbatch and submit.sh")
        print("submit both with:\n  bash \(q(slurmDir + "/submit.sh"))")
        print("re-run a failed shard K alone with:\n  sbatch --array=K \(q(slurmDir + "/array.sbatch"))")
        guard submit else { return }
        guard Self.which("sbatch") != nil else {
            printError("girfec slurm: --submit needs sbatch on the PATH; the scripts are written, submit them on a login node")
            throw ExitCode(1)
        }
        fflush(nil)  // what was printed comes before the output of submit.sh
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/bash")
        p.arguments = [slurmDir + "/submit.sh"]
        try p.run()
        p.waitUntilExit()
        if p.terminationStatus != 0 { throw ExitCode(p.terminationStatus) }
    }

    /// `arguments` as shell words: option names (`--` and lower-case letters, digits and `-`) bare, every value quoted.
    static func shellWords(_ arguments: [String]) -> String {
        let nameScalars = Set("abcdefghijklmnopqrstuvwxyz0123456789-".unicodeScalars)
        return arguments.map { word in
            word.hasPrefix("--") && word.unicodeScalars.allSatisfy { nameScalars.contains($0) }
                ? word : ScriptQuoting.quote(word, for: .shellWord)
        }.joined(separator: " ")
    }

    static func which(_ name: String) -> String? {
        for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":") {
            let path = "\(dir)/\(name)"
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        return nil
    }
}
