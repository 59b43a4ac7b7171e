import Foundation
import Testing
import TestSupport

/// Memory and work are estimated before anything runs; above a limit the command refuses and writes nothing.
@Suite("resource limits of the command")
struct ResourceLimitTests {
    @Test func tooMuchWorkIsRefusedBeforeAnythingRunsAndTheLimitCanBeRaised() throws {
        let scenario = try CommandLineTests.write(Fixtures.smallScenario, name: "small.yaml")
        let out = Fixtures.temporaryFolder("girfec-e2e") + "/work"
        // small.yaml: about 650 children over 24 steps in each of 2 arms, some 3×10^4 child-steps per replication.
        let refused = try CommandLineTests.girfec(["run", scenario, "--replications", "10", "--out", out, "--max-child-steps", "1000"])
        #expect(refused.status == 2)
        #expect(refused.stderr.contains("(resources): found an estimated"), "\(refused.stderr)")
        #expect(refused.stderr.contains("child-steps (10 runs ×"), "\(refused.stderr)")
        #expect(refused.stderr.contains("or raise the limit with --max-child-steps"), "\(refused.stderr)")
        #expect(refused.stderr.contains("Nothing was run or written."))
        #expect(!FileManager.default.fileExists(atPath: out))

        // A shard is judged by its own share of the replications.
        let shard = try CommandLineTests.girfec(["run", scenario, "--replications", "10", "--shard", "1/10", "--out", out,
                                                 "--max-child-steps", "100000", "--quiet"])
        #expect(shard.status == 0, "\(shard.stderr)")

        let bad = try CommandLineTests.girfec(["run", scenario, "--out", out + "2", "--max-child-steps", "0"])
        #expect(bad.status != 0 && bad.stderr.contains("--max-child-steps must be a positive number"), "\(bad.stderr)")
    }

    @Test func tooMuchMemoryIsRefusedBeforeAnythingIsAllocated() throws {
        let scenario = try CommandLineTests.write(Fixtures.smallScenario, name: "small.yaml")
        let out = Fixtures.temporaryFolder("girfec-e2e") + "/memory"
        let refused = try CommandLineTests.girfec(["run", scenario, "--replications", "2", "--out", out, "--max-memory-gb", "0.0001"])
        #expect(refused.status == 2)
        #expect(refused.stderr.contains("of memory, most of it"), "\(refused.stderr)")
        #expect(refused.stderr.contains("or raise the limit with --max-memory-gb"), "\(refused.stderr)")
        #expect(!FileManager.default.fileExists(atPath: out))
    }
}
