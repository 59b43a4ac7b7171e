import Foundation
import Testing
import TestSupport

/// The manifest's version and commit are fixed when girfec is built; a run never runs git.
@Suite("Build provenance")
struct ProvenanceTests {
    @Test func aRunNeverRunsGitAndAFakeGitCannotChangeTheCommit() throws {
        let folder = Fixtures.temporaryFolder("girfec-provenance")
        let marker = folder + "/git-was-run"
        let bin = folder + "/bin"
        try FileManager.default.createDirectory(atPath: bin, withIntermediateDirectories: true)
        try "#!/bin/sh\ntouch '\(marker)'\necho 0000000000000000000000000000000000000000\n"
            .write(toFile: bin + "/git", atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: bin + "/git")
        let scenario = try CommandLineTests.write(Fixtures.smallScenario, name: "small.yaml")

        let path = bin + ":" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin")
        let run = try CommandLineTests.girfec(["run", scenario, "--replications", "2", "--out", folder + "/run", "--quiet"],
                                              cwd: folder, environment: ["PATH": path])
        #expect(run.status == 0, "\(run.stderr)")

        #expect(!FileManager.default.fileExists(atPath: marker), "girfec ran the git on PATH")
        let manifest = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: folder + "/run/manifest.json"))) as? [String: Any]
        let commit = try #require(manifest?["gitCommit"] as? String)
        #expect(!commit.hasPrefix("0000000000"))
        #expect(commit == "unknown" || commit.range(of: "^[0-9a-f]{40}(-dirty)?$", options: .regularExpression) != nil,
                "gitCommit is '\(commit)'")
        #expect(manifest?["version"] as? String == (try CommandLineTests.girfec(["--version"])).stdout
            .trimmingCharacters(in: .whitespacesAndNewlines))
    }
}
