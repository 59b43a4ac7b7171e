import ArgumentParser
import Foundation
import Model

struct Slurm: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write (and optionally submit) a Slurm job array of shards plus a merge job.",
        discussion: """
        Writes DIR/slurm/array.sbatch (one array task per shard: SLURM_ARRAY_TASK_ID becomes \
        --shard K/M, output in DIR/shards/shard-K), DIR/slurm/merge.sbatch (girfec merge of all \
        shards into DIR/merged, run only after every shard succeeded: --dependency=afterok) and \
        DIR/slurm/submit.sh, and prints the command that submits both. A failed shard K can be \
        re-run alone with `sbatch --array=K DIR/slurm/array.sbatch`; it overwrites only its own \
        folder. The merged folder is byte-identical to a single-machine run (docs/cluster.md).
        """)

    @Argument(help: "The scenario file (YAML). Use a path the compute nodes can read.")
    var scenario: String

    @Option(help: "Replications in the whole run.")
    var replications: Int

    @Option(help: "Number of shards (array tasks).")
    var shards: Int

    @Option(help: "Master seed.")
    var seed: UInt64 = 1

    @Option(help: "Replications per parameter draw (nested runs), passed to every shard's `girfec run`.")
    var replicationsPerDraw: Int = 1

    @Flag(help: "Ignore the scenario's parameter distributions, in every shard.")
    var baseCase = false

    @Option(help: "Folder for scripts, logs, shard folders and the merged result (on a shared filesystem).")
    var out: String

    @Option(help: "Slurm partition (default: the cluster's default).")
    var partition: String?

    @Option(help: "Time limit per shard, HH:MM:SS.")
    var time: String = "01:00:00"

    @Option(help: "CPUs per shard; each shard runs that many threads.")
    var cpusPerTask: Int = 1

    @Option(help: "Memory per shard, as sbatch --mem takes it (e.g. 2G).")
    var mem: String = "2G"

    @Option(help: "The girfec binary the jobs run (default: this one). Must be reachable from the compute nodes.")
    var girfec: String?

    @Flag(help: "Submit both jobs with sbatch (must be on the PATH).")
    var submit = false

    @Flag(help: "Replace DIR's scripts if they exist.")
    var overwrite = false

    func validate() throws {
        guard replicationsPerDraw >= 1 else { throw ValidationError("--replications-per-draw must be at least 1, but is \(replicationsPerDraw).") }
        guard replications >= 1 else { throw ValidationError("--replications must be at least 1, but is \(replications).") }
        guard shards >= 1, shards <= replications else {
            throw ValidationError("--shards must be between 1 and --replications (\(replications)), but is \(shards).")
        }
        guard cpusPerTask >= 1 else { throw ValidationError("--cpus-per-task must be at least 1, but is \(cpusPerTask).") }
        let parts = time.split(separator: ":")
        guard (1...4).contains(parts.count), parts.allSatisfy({ Int($0) != nil }) else {
            throw ValidationError("--time must be HH:MM:SS (or another sbatch time form), but is '\(time)'.")
        }
    }

    static func absolute(_ path: String) -> String {
        URL(fileURLWithPath: path).standardizedFileURL.path
    }

    static func quoted(_ s: String) -> String { "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'" }

    func run() throws {
        _ = try loadScenarioOrExit(scenario)
        let root = Self.absolute(out)
        let scenarioPath = Self.absolute(scenario)
        let invoked = CommandLine.arguments[0]
        let binary = Self.absolute(girfec ?? (invoked.contains("/") ? invoked : (Self.which("girfec") ?? invoked)))
        let slurmDir = root + "/slurm", logs = root + "/slurm/logs", shardsDir = root + "/shards"
        let fm = FileManager.default
        if fm.fileExists(atPath: slurmDir + "/array.sbatch") && !overwrite {
            printError("girfec slurm: \(slurmDir) already holds job scripts; expected a fresh --out folder, or pass --overwrite")
            throw ExitCode(invalidInputStatus)
        }
        try fm.createDirectory(atPath: logs, withIntermediateDirectories: true)
        try fm.createDirectory(atPath: shardsDir, withIntermediateDirectories: true)
        var header: [String] = ["#!/bin/bash", "#SBATCH --cpus-per-task=\(cpusPerTask)", "#SBATCH --time=\(time)", "#SBATCH --mem=\(mem)"]
        if let partition { header.append("#SBATCH --partition=\(partition)") }
        let q = Self.quoted
        let array: String = (["#!/bin/bash", "# girfec shards: one array task per shard (written by `girfec slurm`).",
                      "#SBATCH --job-name=girfec-shards", "#SBATCH --array=1-\(shards)",
                      "#SBATCH --output=\(logs)/shard-%a.out"] + header.dropFirst() + [
            "set -euo pipefail",
            "k=\"${SLURM_ARRAY_TASK_ID:?run this script with sbatch}\"",
            "exec \(q(binary)) run \(q(scenarioPath)) --replications \(replications) --seed \(seed) --shard \"$k/\(shards)\" \\",
            "  --replications-per-draw \(replicationsPerDraw)\(baseCase ? " --base-case" : "") \\",
            "  --threads \"${SLURM_CPUS_PER_TASK:-1}\" --out \(q(shardsDir))/shard-\"$k\" --overwrite --quiet",
        ] as [String]).joined(separator: "\n") + "\n"
        let shardList = (1...shards).map { "\(q(shardsDir))/shard-\($0)" }.joined(separator: " ")
        let merge: String = (["#!/bin/bash", "# girfec merge: runs after every shard succeeded (written by `girfec slurm`).",
                      "#SBATCH --job-name=girfec-merge", "#SBATCH --output=\(logs)/merge.out"] + header.dropFirst() + [
            "set -euo pipefail",
            "exec \(q(binary)) merge \(shardList) --out \(q(root))/merged --overwrite",
        ] as [String]).joined(separator: "\n") + "\n"
        let submitScript = """
        #!/bin/bash
        # Submit the shard array, then the merge job that waits for all of it (written by `girfec slurm`).
        set -euo pipefail
        array=$(sbatch --parsable \(q(slurmDir))/array.sbatch)
        merge=$(sbatch --parsable --dependency=afterok:"${array%%;*}" \(q(slurmDir))/merge.sbatch)
        echo "shards: job ${array%%;*} (\(shards) tasks); merge: job ${merge%%;*} -> \(root)/merged"

        """
        for (name, text) in [("array.sbatch", array), ("merge.sbatch", merge), ("submit.sh", submitScript)] {
            let path = slurmDir + "/" + name
            try text.write(toFile: path, atomically: true, encoding: .utf8)
            try fm.setAttributes([.posixPermissions: 0o755], ofItemAtPath: path)
        }
        print("wrote \(slurmDir)/array.sbatch (\(shards) shards of \(replications) replications), merge.sbatch and submit.sh")
        print("submit both with:\n  bash \(q(slurmDir + "/submit.sh"))")
        print("re-run a failed shard K alone with:\n  sbatch --array=K \(q(slurmDir + "/array.sbatch"))")
        guard submit else { return }
        guard Self.which("sbatch") != nil else {
            printError("girfec slurm: --submit needs sbatch on the PATH; the scripts are written, submit them on a login node")
            throw ExitCode(1)
        }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/bash")
        p.arguments = [slurmDir + "/submit.sh"]
        try p.run()
        p.waitUntilExit()
        if p.terminationStatus != 0 { throw ExitCode(p.terminationStatus) }
    }

    static func which(_ name: String) -> String? {
        for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":") {
            let path = "\(dir)/\(name)"
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        return nil
    }
}
