import Foundation
import Testing
import TestSupport

/// `girfec merge` and `girfec report` given damaged or mismatched state files:
/// a clear message for every problem of every file, exit 2, nothing written.
@Suite("girfec merge with damaged state")
struct StateIntegrityCommandTests {
    /// The test fixture over one yearly step: small state files, quick runs.
    static let scenarioText = Fixtures.smallScenario.replacingOccurrences(of: "time: {stepMonths: 1, horizonYears: 2}",
                                                                          with: "time: {stepMonths: 12, horizonYears: 1}")

    @Test func damagedAndRepeatedShardsAreRefusedTogether() throws {
        let scenario = try CommandLineTests.write(Self.scenarioText, name: "small.yaml")
        let base = Fixtures.temporaryFolder("girfec-state")
        for k in 1...3 {
            let r = try CommandLineTests.girfec(["run", scenario, "--replications", "6", "--seed", "2", "--out", base + "/s\(k)",
                                                 "--shard", "\(k)/3", "--threads", "1", "--quiet"])
            #expect(r.status == 0, "stderr: \(r.stderr)")
        }
        // One flipped byte in shard 1, shard 2 cut short, shard 3 given twice.
        var one = try [UInt8](Data(contentsOf: URL(fileURLWithPath: base + "/s1/state.bin")))
        one[one.count / 2] ^= 0x01
        try Data(one).write(to: URL(fileURLWithPath: base + "/s1/state.bin"))
        let two = try Data(contentsOf: URL(fileURLWithPath: base + "/s2/state.bin"))
        try two.prefix(two.count - 100).write(to: URL(fileURLWithPath: base + "/s2/state.bin"))
        let m = try CommandLineTests.girfec(["merge", base + "/s3", base + "/s1", base + "/s2", base + "/s3", "--out", base + "/merged"])
        #expect(m.status == 2)
        #expect(m.stderr.contains("girfec merge: 3 problems:"), "\(m.stderr)")
        #expect(m.stderr.contains("\(base)/s1/state.bin: checksum mismatch: the file was changed or damaged after girfec wrote it; re-run that shard"))
        #expect(m.stderr.contains("\(base)/s2/state.bin: checksum mismatch"))
        #expect(m.stderr.contains("where its header says \(two.count): it was cut short or extended"))
        #expect(m.stderr.contains("\(base)/s3 repeats replications 4..<6 (shard 3/3), already covered by \(base)/s3: each shard may be merged once"))
        #expect(m.stderr.contains("Nothing was written."))
        #expect(!FileManager.default.fileExists(atPath: base + "/merged"))
        let report = try CommandLineTests.girfec(["report", base + "/s1"])
        #expect(report.status == 2)
        #expect(report.stderr.contains("checksum mismatch"))
        // Missing shards are named by number too.
        let partial = try CommandLineTests.girfec(["merge", base + "/s3", "--out", base + "/merged"])
        #expect(partial.status == 2)
        #expect(partial.stderr.contains("(missing: shard 1–2 of 3)"), "\(partial.stderr)")
    }
}
