import Experiments
import Foundation
import Reports
import Testing
import TestSupport

/// Every file `girfec run` and `girfec report` write for small scenarios, compared byte for byte
/// with the folders committed under `Golden/` (docs/testing.md).
///
/// The built `girfec` writes the folders, as a user runs it. Only fields that change from run to
/// run are normalised first (`GoldenFolder.normalised`). An intended change of the outputs is
/// committed by `bash scripts/regenerate-golden.sh`, which rewrites `Golden/` and prints the diff.
@Suite("golden output folders")
struct GoldenOutputTests {
    /// One golden folder: a scenario under `Scenarios/`, and the options of `girfec run`.
    struct Case: Sendable, CustomStringConvertible {
        var name: String
        var scenario: String
        var options: [String]
        var description: String { name }
    }

    static let cases = [
        Case(name: "two-arm", scenario: "two-arm.yaml", options: ["--replications", "4", "--seed", "3", "--engine", "steps"]),
        Case(name: "uncertainty", scenario: "uncertainty.yaml",
             options: ["--replications", "120", "--replications-per-draw", "2", "--seed", "4", "--engine", "steps"]),
        Case(name: "two-arm-events", scenario: "two-arm.yaml", options: ["--replications", "4", "--seed", "3", "--engine", "events"]),
    ]

    @Test(arguments: cases)
    func outputFolderMatchesItsGolden(_ c: Case) throws {
        let folder = try GoldenFolder.produce(scenario: c.scenario, runs: [c.options + ["--threads", "2"]])
        let files = try GoldenFolder.normalised(folder)
        let golden = GoldenFolder.goldenRoot.appendingPathComponent(c.name).path
        if GoldenFolder.regenerating {
            try GoldenFolder.write(files, to: golden)
        } else {
            GoldenFolder.expectEqual(files, try GoldenFolder.read(golden), label: "Tests/ReportsTests/Golden/\(c.name)",
                                     hint: "if the change is intended, run `bash scripts/regenerate-golden.sh` and commit Golden/")
        }
    }

    /// Two shards merged with `girfec merge` give the unsharded folder, file for file; only the
    /// record of how it was made differs (manifest `shard`, and the shards state.bin lists).
    @Test func mergedShardsGiveTheUnshardedFolder() throws {
        let c = Self.cases[0]
        let whole = try GoldenFolder.produce(scenario: c.scenario, runs: [c.options + ["--threads", "2"]])
        let merged = try GoldenFolder.produce(scenario: c.scenario, runs: [
            c.options + ["--shard", "1/2", "--threads", "1"], c.options + ["--shard", "2/2", "--threads", "2"],
        ])
        GoldenFolder.expectEqual(try GoldenFolder.normalised(merged, asUnsharded: true),
                                 try GoldenFolder.normalised(whole, asUnsharded: true),
                                 label: "merged shards vs unsharded run", hint: "merging shards must not change any output")
    }

    /// The normalisation changes only what it names.
    @Test func normalisingAManifestReplacesOnlyTheVolatileFields() throws {
        let manifest = """
        {
          "childStepsPerSecond" : 37211.3,
          "command" : [
            "run",
            "a.yaml"
          ],
          "complete" : true,
          "gitCommit" : "f42c2da",
          "seed" : "3",
          "shard" : "1/1",
          "startedAt" : "2026-12-06T01:32:48Z",
          "threads" : 2,
          "wallSeconds" : 0.02
        }

        """
        let (text, missing) = GoldenFolder.normalisedManifest(manifest, keys: GoldenFolder.volatileManifestKeys + ["absent"])
        #expect(missing == ["absent"])
        #expect(text == """
        {
          "childStepsPerSecond" : "<normalised>",
          "command" : "<normalised>",
          "complete" : true,
          "gitCommit" : "<normalised>",
          "seed" : "3",
          "shard" : "1/1",
          "startedAt" : "<normalised>",
          "threads" : "<normalised>",
          "wallSeconds" : "<normalised>"
        }

        """)
    }

    @Test func aDifferenceNamesTheFileAndItsFirstDifferingLine() {
        #expect(GoldenFolder.firstDifference(Array("a,b\n1,2\n3,4\n".utf8), Array("a,b\n1,2\n3,5\n".utf8), file: "x.csv")
                == "x.csv: line 3 differs\n  expected: 3,4\n  found:    3,5")
        #expect(GoldenFolder.firstDifference(Array("a\n".utf8), Array("a\nb\n".utf8), file: "y.csv")
                == "y.csv: line 2 differs\n  expected: (end of file)\n  found:    b")
        #expect(GoldenFolder.firstDifference([0, 1, 2], [0, 1, 3], file: "state.bin")
                == "state.bin: byte 2 differs (expected 0x02, found 0x03; sizes 3 and 3 bytes)")
        #expect(GoldenFolder.firstDifference([0, 1], [0, 1], file: "state.bin") == nil)
    }
}

/// Producing, normalising, reading, writing and comparing golden output folders.
enum GoldenFolder {
    /// `Tests/ReportsTests`.
    static let testFolder = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    static let goldenRoot = testFolder.appendingPathComponent("Golden")
    static let scenarioRoot = testFolder.appendingPathComponent("Scenarios")

    /// Set by scripts/regenerate-golden.sh: write the folders instead of comparing.
    static let regenerating = ProcessInfo.processInfo.environment["GIRFEC_REGENERATE_GOLDEN"] == "1"

    /// Manifest fields that differ between two runs of the same command: when and how fast it ran,
    /// how it was typed, with how many threads, and from which commit girfec was built.
    static let volatileManifestKeys = ["childStepsPerSecond", "command", "gitCommit", "startedAt", "threads", "wallSeconds"]

    struct CommandFailed: Error, CustomStringConvertible {
        var description: String
    }

    /// Run `girfec arguments` in `cwd`; a failure carries its status and standard error.
    static func girfec(_ arguments: [String], cwd: String) throws {
        let process = Process()
        process.executableURL = Fixtures.girfecExecutable
        process.arguments = arguments
        process.currentDirectoryURL = URL(fileURLWithPath: cwd)
        let err = Pipe()
        process.standardOutput = FileHandle.nullDevice
        process.standardError = err
        try process.run()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw CommandFailed(description: "girfec \(arguments.joined(separator: " ")) exited with status "
                                + "\(process.terminationStatus): \(String(decoding: stderr, as: UTF8.self))")
        }
    }

    /// The folder `run` in a fresh working folder holding `scenario`: `girfec run` once per entry
    /// of `runs` (several: shards, then `girfec merge` of them), then `girfec report`. Paths are
    /// relative to the working folder, so none of the outputs names a temporary folder.
    static func produce(scenario: String, runs: [[String]]) throws -> String {
        let work = Fixtures.temporaryFolder("girfec-golden")
        try FileManager.default.copyItem(atPath: scenarioRoot.appendingPathComponent(scenario).path, toPath: work + "/" + scenario)
        if runs.count == 1 {
            try girfec(["run", scenario] + runs[0] + ["--out", "run", "--quiet"], cwd: work)
        } else {
            for (k, options) in runs.enumerated() {
                try girfec(["run", scenario] + options + ["--out", "shard-\(k + 1)", "--quiet"], cwd: work)
            }
            try girfec(["merge"] + runs.indices.map { "shard-\($0 + 1)" } + ["--out", "run"], cwd: work)
        }
        try girfec(["report", "run"], cwd: work)
        return work + "/run"
    }

    /// Every file of `folder` by name, with what changes between runs replaced:
    /// - manifest.json: the `volatileManifestKeys` values become `"<normalised>"`;
    /// - report.md, report-tables.tex and report.tex: the git commit copied from the manifest;
    /// - state.bin: its wall time is set to 0 and the file re-encoded (the SHA-256 trailer with it).
    /// With `asUnsharded`, the manifest's `shard` and `engine` (a merge does not know which engine
    /// the shards ran: their own manifests say) and the state's list of shards are normalised too.
    static func normalised(_ folder: String, asUnsharded: Bool = false) throws -> [String: [UInt8]] {
        var files: [String: [UInt8]] = [:]
        for name in try FileManager.default.contentsOfDirectory(atPath: folder) {
            files[name] = Array(try Data(contentsOf: URL(fileURLWithPath: folder + "/" + name)))
        }
        if let bytes = files["manifest.json"] {
            let keys = volatileManifestKeys + (asUnsharded ? ["shard", "engine"] : [])
            let (text, missing) = normalisedManifest(String(decoding: bytes, as: UTF8.self), keys: keys)
            #expect(missing.isEmpty, "manifest.json has no field \(missing) to normalise: update GoldenFolder.volatileManifestKeys")
            files["manifest.json"] = Array(text.utf8)
        }
        // The git commit the report copies from the manifest: a table row in both report files.
        for (name, prefix, suffix) in [("report.md", "| git commit | ", " (from manifest.json) |"),
                                       ("report-tables.tex", "git commit & ", " (from manifest.json) \\\\"),
                                       ("report.tex", "git commit & ", " (from manifest.json) \\\\")] {
            guard let bytes = files[name] else { continue }
            let lines = String(decoding: bytes, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).map { line in
                line.hasPrefix(prefix) && line.hasSuffix(suffix) ? prefix + "<normalised>" + suffix : String(line)
            }
            files[name] = Array(lines.joined(separator: "\n").utf8)
        }
        if let bytes = files["state.bin"] {
            var state = try RunState.decode(bytes, source: folder + "/state.bin")
            #expect(state.encoded() == bytes, "\(folder)/state.bin: decoding and encoding it again changes its bytes")
            state.wallSeconds = 0
            if asUnsharded { state.setShard(.whole) }
            files["state.bin"] = state.encoded()
        }
        return files
    }

    /// `text` (a pretty-printed JSON object) with the values of the top-level `keys` replaced by
    /// `"<normalised>"`, and the keys that were not found.
    static func normalisedManifest(_ text: String, keys: [String]) -> (text: String, missing: [String]) {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        var out: [String] = []
        var found: Set<String> = []
        var i = 0
        while i < lines.count {
            let line = lines[i]
            guard let key = topLevelKey(line), keys.contains(key) else {
                out.append(line)
                i += 1
                continue
            }
            found.insert(key)
            var last = line
            // A value over several lines ends at the next line indented as its key.
            if line.hasSuffix("[") || line.hasSuffix("{") {
                while i + 1 < lines.count {
                    i += 1
                    last = lines[i]
                    if last.hasPrefix("  "), !last.hasPrefix("   ") { break }
                }
            }
            out.append("  \"\(key)\" : \"<normalised>\"" + (last.hasSuffix(",") ? "," : ""))
            i += 1
        }
        return (out.joined(separator: "\n"), keys.filter { !found.contains($0) })
    }

    /// The key of a line `  "key" : value` of a pretty-printed JSON object at its top level.
    static func topLevelKey(_ line: String) -> String? {
        guard line.hasPrefix("  \""), !line.hasPrefix("   ") else { return nil }
        let rest = line.dropFirst(3)
        guard let end = rest.firstIndex(of: "\""), rest[end...].hasPrefix("\" : ") else { return nil }
        return String(rest[..<end])
    }

    static func read(_ folder: String) throws -> [String: [UInt8]] {
        guard FileManager.default.fileExists(atPath: folder) else { return [:] }
        var files: [String: [UInt8]] = [:]
        for name in try FileManager.default.contentsOfDirectory(atPath: folder) {
            files[name] = Array(try Data(contentsOf: URL(fileURLWithPath: folder + "/" + name)))
        }
        return files
    }

    /// Replace `folder`'s files with `files`.
    static func write(_ files: [String: [UInt8]], to folder: String) throws {
        try? FileManager.default.removeItem(atPath: folder)
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        for (name, bytes) in files {
            try Data(bytes).write(to: URL(fileURLWithPath: folder + "/" + name))
        }
    }

    /// Record one issue per file that is missing, extra or different, naming its first difference.
    static func expectEqual(_ found: [String: [UInt8]], _ expected: [String: [UInt8]], label: String, hint: String,
                            sourceLocation: SourceLocation = #_sourceLocation) {
        if expected.isEmpty {
            Issue.record("\(label): no golden files; run `bash scripts/regenerate-golden.sh`", sourceLocation: sourceLocation)
            return
        }
        for name in Set(found.keys).union(expected.keys).sorted() {
            let problem: String?
            switch (expected[name], found[name]) {
            case let (e?, f?): problem = firstDifference(e, f, file: name)
            case (nil, _): problem = "\(name) is written but has no golden file"
            case (_, nil): problem = "\(name) has a golden file but is no longer written"
            }
            if let problem { Issue.record("\(label)/\(problem)\n(\(hint))", sourceLocation: sourceLocation) }
        }
    }

    /// Where `found` first differs from `expected`: the line for text, the byte offset for state.bin; nil if equal.
    static func firstDifference(_ expected: [UInt8], _ found: [UInt8], file: String) -> String? {
        guard expected != found else { return nil }
        if file.hasSuffix(".bin") {
            let k = zip(expected, found).prefix { $0 == $1 }.count
            func byte(_ b: [UInt8]) -> String { k < b.count ? String(format: "0x%02x", b[k]) : "end of file" }
            return "\(file): byte \(k) differs (expected \(byte(expected)), found \(byte(found)); sizes \(expected.count) and \(found.count) bytes)"
        }
        let e = String(decoding: expected, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
        let f = String(decoding: found, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
        let k = zip(e, f).prefix { $0 == $1 }.count
        func line(_ lines: [Substring]) -> String {
            guard k < lines.count, !(k == lines.count - 1 && lines[k].isEmpty) else { return "(end of file)" }
            return lines[k].count > 400 ? lines[k].prefix(400) + "…" : String(lines[k])
        }
        return "\(file): line \(k + 1) differs\n  expected: \(line(e))\n  found:    \(line(f))"
    }
}
