import Foundation
import Testing
import TestSupport
#if canImport(Glibc)
import Glibc
#endif

/// What `--out` may and may not do to the user's files (docs/guarantees.md).
@Suite("output folders that cannot destroy")
struct OutputFolderTests {
    typealias Outcome = CommandLineTests.Outcome

    /// Run girfec in `cwd` with `environment` added to this process's.
    static func girfec(_ arguments: [String], in cwd: String, environment: [String: String] = [:]) throws -> Outcome {
        try CommandLineTests.girfec(arguments, cwd: cwd, environment: environment)
    }

    /// A working folder holding the small scenario (`s.yaml`) and a sentinel file.
    static func workspace() throws -> String {
        let dir = URL(fileURLWithPath: Fixtures.temporaryFolder("girfec-out")).resolvingSymlinksInPath().standardizedFileURL.path
        try Fixtures.smallScenario.write(toFile: dir + "/s.yaml", atomically: true, encoding: .utf8)
        try "keep me".write(toFile: dir + "/sentinel.txt", atomically: true, encoding: .utf8)
        return dir
    }

    static func entries(_ path: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).sorted()
    }

    static func manifest(_ folder: String) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: folder + "/manifest.json"))) as! [String: Any]
    }

    /// A process id that no longer exists: the id of a finished child.
    static func deadPID() throws -> Int32 {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/true")
        try p.run()
        p.waitUntilExit()
        return p.processIdentifier
    }

    @Test func destructiveOutsAreRefusedByEveryWritingCommand() throws {
        let cwd = try Self.workspace()
        let home = Fixtures.temporaryFolder("girfec-home") + "/deep/home"
        try FileManager.default.createDirectory(atPath: home, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: cwd + "/home-link", withDestinationPath: home)
        let before = Self.entries(cwd)
        let cases: [(out: String, says: String)] = [
            ("", "--out is empty; expected the name of a new folder for the results"),
            ("/", "--out '/' is the root folder /"),
            (".", "--out '.' is the current folder ("),
            ("./", "--out './' is the current folder ("),
            ("x/..", "--out 'x/..' is the current folder ("),
            (cwd, "is the current folder ("),
            (cwd + "/", "is the current folder ("),
            ("..", "a folder above the current folder"),
            ("../..", "a folder above the current folder"),
            (home, "is the home folder ("),
            ("home-link", "is the home folder ("),
            ("home-link/..", "a folder above the home folder"),
        ]
        for c in cases {
            let r = try Self.girfec(["run", "s.yaml", "--replications", "2", "--out", c.out, "--overwrite"], in: cwd, environment: ["HOME": home])
            #expect(r.status == 2, "--out '\(c.out)': \(r.stderr)")
            #expect(r.stderr.contains(c.says), "--out '\(c.out)': \(r.stderr)")
            #expect(r.stderr.contains("Nothing was run or written."))
            #expect(Self.entries(cwd) == before, "--out '\(c.out)' changed the current folder")
            #expect(try String(contentsOfFile: cwd + "/sentinel.txt", encoding: .utf8) == "keep me")
        }
        for command in [["aggregate", "s.yaml"], ["merge", "s.yaml"]] {
            for out in ["", ".", "/"] {
                let r = try Self.girfec(command + ["--out", out, "--overwrite"], in: cwd, environment: ["HOME": home])
                #expect(r.status == 2, "\(command[0]) --out '\(out)': \(r.stderr)")
                #expect(r.stderr.contains("girfec replaces the whole --out folder, so it refuses /, the current folder, the home folder and any folder above them"))
            }
        }
        #expect(Self.entries(cwd) == before)
        #expect(Self.entries(home).isEmpty)
    }

    @Test func oneCharacterAndTrailingSlashOutsWork() throws {
        let cwd = try Self.workspace()
        try FileManager.default.copyItem(atPath: cwd + "/s.yaml", toPath: cwd + "/m")
        for out in ["o", "a/", "é", "d/e//"] {
            let r = try Self.girfec(["run", "m", "--replications", "2", "--out", out, "--quiet"], in: cwd)
            #expect(r.status == 0, "--out '\(out)': \(r.stderr)")
            let folder = cwd + "/" + out
            #expect(Self.entries(folder).contains("bands.csv"), "--out '\(out)'")
            #expect(try Self.manifest(folder)["format"] as? String == "girfec-output-folder/1")
        }
        let v = try Self.girfec(["validate", "m"], in: cwd)
        #expect(v.status == 0, "\(v.stderr)")
        #expect(!Self.entries(cwd).contains { $0.hasPrefix(".") }, "no partial or probe folder left: \(Self.entries(cwd))")
    }

    @Test func overwriteReplacesOnlyAFolderGirfecMade() throws {
        let cwd = try Self.workspace()
        // A folder girfec did not make, even with --overwrite.
        try FileManager.default.createDirectory(atPath: cwd + "/mine", withIntermediateDirectories: false)
        try "data".write(toFile: cwd + "/mine/data.csv", atomically: true, encoding: .utf8)
        let stranger = try Self.girfec(["run", "s.yaml", "--replications", "2", "--out", "mine", "--overwrite"], in: cwd)
        #expect(stranger.status == 2)
        #expect(stranger.stderr.contains("--out 'mine' holds 1 entry (data.csv) and is not a folder girfec made, or not only that (it has no manifest.json); --overwrite replaces only a folder girfec wrote"))
        #expect(Self.entries(cwd + "/mine") == ["data.csv"])

        // A run folder, with the figures and report girfec's tools add: replaced.
        #expect(try Self.girfec(["run", "s.yaml", "--replications", "2", "--out", "run", "--quiet"], in: cwd).status == 0)
        try FileManager.default.createDirectory(atPath: cwd + "/run/figures", withIntermediateDirectories: false)
        try Data().write(to: URL(fileURLWithPath: cwd + "/run/figures/bands.png"))
        try "caption".write(toFile: cwd + "/run/figures/bands.caption.txt", atomically: true, encoding: .utf8)
        for name in ["report.md", "report.tex", "report-tables.tex"] {
            try "report".write(toFile: cwd + "/run/" + name, atomically: true, encoding: .utf8)
        }
        let refused = try Self.girfec(["run", "s.yaml", "--replications", "3", "--out", "run"], in: cwd)
        #expect(refused.status == 2)
        #expect(refused.stderr.contains("expected an absent or empty folder, or pass --overwrite to replace it"))
        let replaced = try Self.girfec(["run", "s.yaml", "--replications", "3", "--out", "run", "--quiet", "--overwrite"], in: cwd)
        #expect(replaced.status == 0, "\(replaced.stderr)")
        #expect(try Self.manifest(cwd + "/run")["replications"] as? Int == 3)
        #expect(!Self.entries(cwd + "/run").contains("report.md"))

        // The same run folder with a stranger's file in it: refused, the file kept.
        try "notes".write(toFile: cwd + "/run/notes.txt", atomically: true, encoding: .utf8)
        try Data().write(to: URL(fileURLWithPath: cwd + "/run/figures.txt"))
        try FileManager.default.createDirectory(atPath: cwd + "/run/figures", withIntermediateDirectories: true)
        try "mine".write(toFile: cwd + "/run/figures/notes.txt", atomically: true, encoding: .utf8)
        let withStranger = try Self.girfec(["run", "s.yaml", "--replications", "2", "--out", "run", "--overwrite"], in: cwd)
        #expect(withStranger.status == 2)
        #expect(withStranger.stderr.contains("(it holds entries girfec did not write: figures.txt, notes.txt, figures/notes.txt); --overwrite replaces only a folder girfec wrote. Choose another --out, or move its entries away yourself."))
        #expect(try String(contentsOfFile: cwd + "/run/notes.txt", encoding: .utf8) == "notes")
        #expect(try Self.manifest(cwd + "/run")["replications"] as? Int == 3)

        // A manifest without girfec's format identifier (hand-made, or an older girfec).
        try FileManager.default.createDirectory(atPath: cwd + "/old", withIntermediateDirectories: false)
        try #"{"tool": "girfec", "files": ["manifest.json"]}"#.write(toFile: cwd + "/old/manifest.json", atomically: true, encoding: .utf8)
        let old = try Self.girfec(["aggregate", "s.yaml", "--out", "old", "--overwrite"], in: cwd)
        #expect(old.status == 2)
        #expect(old.stderr.contains(#"its manifest.json has no "format": "girfec-output-folder/1""#))
        #expect(Self.entries(cwd + "/old") == ["manifest.json"])
    }

    /// This computer's name, as girfec writes it into its markers.
    static func hostName() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        gethostname(&buffer, buffer.count - 1)
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    @Test func leftoversOfKilledRunsAreCleanedOrRestored() throws {
        let cwd = try Self.workspace()
        #expect(try Self.girfec(["run", "s.yaml", "--replications", "2", "--out", "done", "--quiet"], in: cwd).status == 0)
        let dead = try Self.deadPID()
        let fm = FileManager.default
        let here = "girfec-output-folder/1\nprocess \(dead)\nhost \(Self.hostName())\n"
        // Killed while writing: a partial folder with girfec's marker, made on this computer.
        try fm.copyItem(atPath: cwd + "/done", toPath: cwd + "/.a.partial-\(dead)")
        try here.write(toFile: cwd + "/.a.partial-\(dead)/.girfec-partial", atomically: true, encoding: .utf8)
        // The same, made on another computer sharing the folder: its process may be alive there.
        try fm.copyItem(atPath: cwd + "/done", toPath: cwd + "/.c.partial-\(dead)")
        try "girfec-output-folder/1\nprocess \(dead)\nhost another-computer\n"
            .write(toFile: cwd + "/.c.partial-\(dead)/.girfec-partial", atomically: true, encoding: .utf8)
        // Killed inside the swap (the fallback without an exchange): the old folder set aside, the target missing.
        try here.write(toFile: cwd + "/done/.girfec-replaced", atomically: true, encoding: .utf8)
        try fm.moveItem(atPath: cwd + "/done", toPath: cwd + "/.done.replaced-\(dead)")
        // Named like a leftover of the folder being written, but not recognisably girfec's: named, left alone.
        try fm.createDirectory(atPath: cwd + "/.next.partial-\(dead)", withIntermediateDirectories: false)
        try "x".write(toFile: cwd + "/.next.partial-\(dead)/x", atomically: true, encoding: .utf8)

        let r = try Self.girfec(["run", "s.yaml", "--replications", "2", "--out", "next", "--quiet"], in: cwd)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stderr.contains("note: removed \(cwd)/.a.partial-\(dead): an unfinished output folder of girfec process \(dead)"))
        #expect(r.stderr.contains("note: restored \(cwd)/done from \(cwd)/.done.replaced-\(dead): girfec process \(dead) was stopped while replacing it"))
        #expect(r.stderr.contains("\(cwd)/.next.partial-\(dead) looks like a leftover of girfec process \(dead), which has ended, but is not recognisably girfec's; it was left untouched"))
        #expect(!r.stderr.contains(".c.partial-"))
        #expect(Self.entries(cwd) == [".c.partial-\(dead)", ".next.partial-\(dead)", "done", "next", "s.yaml", "sentinel.txt"])
        #expect(Self.entries(cwd + "/done").contains("state.bin"))
        #expect(!Self.entries(cwd + "/done").contains(".girfec-replaced"), "the restored folder is as it was")
    }

    @Test func anUnwritableOrFullPlaceIsReportedBeforeAnyWork() throws {
        let cwd = try Self.workspace()
        // Tests run as root, where permission bits do not stop writes: use places no one can write.
        let started = Date()
        let proc = try Self.girfec(["run", "s.yaml", "--replications", "100000000", "--out", "/proc/girfec-test/run"], in: cwd)
        #expect(proc.status == 2)
        #expect(proc.stderr.contains("--out '/proc/girfec-test/run': cannot write in /proc ("))
        #expect(proc.stderr.contains("expected a folder you can write to. Nothing was run or written."))
        let underFile = try Self.girfec(["run", "s.yaml", "--replications", "100000000", "--out", "sentinel.txt/run"], in: cwd)
        #expect(underFile.status == 2)
        #expect(underFile.stderr.contains("\(cwd)/sentinel.txt is a file, not a folder; expected --out inside a folder"))
        // --max-child-steps: 4·10^9 replications are more work than the default limit, which is checked first.
        let full = try Self.girfec(["run", "s.yaml", "--replications", "4000000000", "--max-child-steps", "1e20", "--out", "huge"], in: cwd)
        #expect(full.status == 2)
        #expect(full.stderr.contains("--out 'huge': the results need about"))
        #expect(full.stderr.contains("free; expected enough free space"))
        let long = String(repeating: "a", count: 240)
        let tooLong = try Self.girfec(["run", "s.yaml", "--replications", "100000000", "--out", long], in: cwd)
        #expect(tooLong.status == 2)
        #expect(tooLong.stderr.contains("its last component is 240 bytes long; expected at most 223 bytes"))
        #expect(Date().timeIntervalSince(started) < 60, "the checks ran before the simulation")
        #expect(Self.entries(cwd) == ["s.yaml", "sentinel.txt"])
    }

    /// Run girfec with a commit gate: `act` runs once girfec has written the
    /// partial folder and waits to put it in place; then girfec goes on.
    static func gated(_ arguments: [String], in cwd: String, act: (Int32) throws -> Void) throws -> Outcome {
        let fifo = Fixtures.temporaryFolder("girfec-gate") + "/gate"
        #expect(mkfifo(fifo, 0o600) == 0)
        let process = Process()
        process.executableURL = CommandLineTests.executable
        process.arguments = arguments
        process.currentDirectoryURL = URL(fileURLWithPath: cwd)
        process.environment = ProcessInfo.processInfo.environment.merging(["GIRFEC_TEST_COMMIT_GATE": fifo]) { $1 }
        let err = Pipe()
        process.standardError = err
        process.standardOutput = FileHandle.nullDevice
        // If girfec ends before the gate, open the FIFO for reading so that the writer below is not left waiting.
        process.terminationHandler = { _ in
            let fd = open(fifo, O_RDONLY | O_NONBLOCK)
            if fd >= 0 { close(fd) }
        }
        try process.run()
        let fd = open(fifo, O_WRONLY)  // returns when girfec opens the gate: the partial folder is complete
        if process.isRunning { try act(process.processIdentifier) }
        if fd >= 0 {
            var byte: UInt8 = 1
            _ = write(fd, &byte, 1)
            close(fd)
        }
        let e = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Outcome(status: process.terminationStatus, stdout: "", stderr: String(decoding: e, as: UTF8.self))
    }

    @Test func entriesThatAppearDuringARunAreKept() throws {
        let cwd = try Self.workspace()
        let r = try Self.gated(["run", "s.yaml", "--replications", "2", "--out", "res", "--quiet"], in: cwd) { _ in
            try FileManager.default.createDirectory(atPath: cwd + "/res", withIntermediateDirectories: false)
            try "mine".write(toFile: cwd + "/res/mine.txt", atomically: true, encoding: .utf8)
        }
        #expect(r.status == 1)
        let pattern = "1 entry (mine.txt) appeared in --out res during the run; they were left untouched and the result was written to \(cwd)/res.new-"
        #expect(r.stderr.contains(pattern), "\(r.stderr)")
        #expect(Self.entries(cwd + "/res") == ["mine.txt"])
        let beside = Self.entries(cwd).filter { $0.hasPrefix("res.new-") }
        #expect(beside.count == 1)
        #expect(Self.entries(cwd + "/" + (beside.first ?? "")).contains("state.bin"))
    }

    @Test func interruptingWhileWritingRemovesThePartialFolder() throws {
        let cwd = try Self.workspace()
        let r = try Self.gated(["run", "s.yaml", "--replications", "2", "--out", "res", "--quiet"], in: cwd) { pid in
            #expect(Self.entries(cwd).contains { $0.hasPrefix(".res.partial-") }, "the partial folder exists at the gate")
            kill(pid, SIGINT)
        }
        #expect(r.status == 130)
        #expect(r.stderr.contains("girfec run: the run was interrupted; nothing was written"), "\(r.stderr)")
        #expect(Self.entries(cwd) == ["s.yaml", "sentinel.txt"])
    }

    @Test func overwritingSwapsAtOnceAndLeavesNoOldFolder() throws {
        let cwd = try Self.workspace()
        #expect(try Self.girfec(["run", "s.yaml", "--replications", "2", "--out", "res", "--quiet"], in: cwd).status == 0)
        let r = try Self.gated(["run", "s.yaml", "--replications", "3", "--out", "res", "--quiet", "--overwrite"], in: cwd) { _ in
            // At the gate the old result is still whole in place.
            #expect((try? Self.manifest(cwd + "/res"))?["replications"] as? Int == 2)
        }
        #expect(r.status == 0, "\(r.stderr)")
        #expect(try Self.manifest(cwd + "/res")["replications"] as? Int == 3)
        #expect(Self.entries(cwd) == ["res", "s.yaml", "sentinel.txt"])
        // Where folders cannot be exchanged (other systems, NFS): set aside, rename, delete the old.
        let fallback = try Self.girfec(["run", "s.yaml", "--replications", "4", "--out", "res", "--quiet", "--overwrite"], in: cwd,
                                       environment: ["GIRFEC_TEST_NO_EXCHANGE": "1"])
        #expect(fallback.status == 0, "\(fallback.stderr)")
        #expect(try Self.manifest(cwd + "/res")["replications"] as? Int == 4)
        #expect(Self.entries(cwd) == ["res", "s.yaml", "sentinel.txt"])
        #expect(!Self.entries(cwd + "/res").contains(".girfec-replaced"))
    }
}
