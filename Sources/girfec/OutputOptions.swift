import ArgumentParser
import Foundation
import Reports

/// `--out` and `--overwrite`, shared by every command that writes a result folder.
struct OutputOptions: ParsableArguments {
    @Option(help: "Output folder: absent or empty (or use --overwrite).")
    var out: String

    @Flag(help: "Replace the output folder if girfec made it (never a folder of yours; docs/guarantees.md).")
    var overwrite = false

    /// Check, before any work, that `--out` may receive about `estimatedBytes`; otherwise exit with status 2.
    func prepare(command: String, estimatedBytes: Int64 = 0) throws -> OutputFolder.Target {
        try checkOutputOrExit(out, overwrite: overwrite, command: command, estimatedBytes: estimatedBytes)
    }
}

/// `--quiet`, shared by every command that shows progress or prints a summary when it ends.
struct QuietOption: ParsableArguments {
    @Flag(help: "Print only warnings and errors: no progress and no summary.")
    var quiet = false
}

/// Checks on a single output file (`girfec export`, `girfec import`).
enum OutputFile {
    /// Whether `path` names the file `other` names (the same device and inode; false when either does
    /// not exist), so a command never replaces the file it reads.
    static func isSameFile(_ path: String, _ other: String) -> Bool {
        var a = stat(), b = stat()
        guard stat(path, &a) == 0, stat(other, &b) == 0 else { return false }
        return a.st_dev == b.st_dev && a.st_ino == b.st_ino
    }
}
