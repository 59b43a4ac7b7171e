import Foundation
import Testing
import TestSupport

/// `girfec ce`: a finished run's cost-effectiveness at other willingness-to-pay values, and the
/// incremental analysis and acceptability files `girfec run` writes (docs/outputs.md).
@Suite("girfec ce and the incremental analysis of a run")
struct CostEffectivenessCommandTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let example = root.appendingPathComponent("experiments/examples/four-strategies.yaml").path
    static let files = ["summary.csv", "incremental.csv", "acceptability.csv"]

    func run(_ options: [String], name: String) throws -> String {
        let out = Fixtures.temporaryFolder("girfec-ce") + "/" + name
        let r = try CommandLineTests.girfec(["run", Self.example, "--replications", "8", "--seed", "5", "--threads", "2",
                                             "--out", out, "--quiet"] + options)
        #expect(r.status == 0, "stderr: \(r.stderr)")
        return out
    }

    func read(_ folder: String, _ file: String) throws -> String {
        try String(contentsOfFile: folder + "/" + file, encoding: .utf8)
    }

    /// The example's statuses (docs and the scenario's comments say which arm is which), and `girfec ce` at
    /// the run's own values gives the run's files byte for byte; at other values, the files of a run made
    /// with those values.
    @Test func reanalysisEqualsTheRun() throws {
        let first = try run([], name: "default")
        let incremental = try read(first, "incremental.csv")
        #expect(incremental.hasPrefix("arm,cost_discounted,qol_years_discounted,status,dominated_by,comparator,inc_cost,inc_qol_years,icer\n"))
        let statuses = incremental.split(separator: "\n").dropFirst().map { line -> String in
            let cells = line.split(separator: ",", omittingEmptySubsequences: false)
            return "\(cells[0]) \(cells[3]) \(cells[4])"
        }
        #expect(statuses == ["standard frontier ", "drugA extendedly_dominated standard;drugB", "drugB frontier ",
                             "drugBPlusTest dominated drugB"])

        let same = Fixtures.temporaryFolder("girfec-ce") + "/same"
        let r = try CommandLineTests.girfec(["ce", first, "--out", same])
        #expect(r.status == 0, "stderr: \(r.stderr)")
        #expect(r.stdout.contains("efficiency frontier, by cost: standard → drugB"))
        #expect(r.stdout.contains("drugA: extendedly dominated: a mix of standard and drugB gives more QoL-years at the same cost"))
        #expect(r.stdout.contains("drugBPlusTest: dominated by drugB: costs £"))
        for file in Self.files { #expect(try read(same, file) == read(first, file), "\(file)") }
        #expect(try FileManager.default.contentsOfDirectory(atPath: same).sorted()
                == ["acceptability.csv", "incremental.csv", "manifest.json", "summary.csv"])

        let options = ["--wtp", "0,15000,25000", "--ceac-max", "40000", "--ceac-step", "5000"]
        let other = try run(options, name: "other")
        let recomputed = Fixtures.temporaryFolder("girfec-ce") + "/recomputed"
        let r2 = try CommandLineTests.girfec(["ce", first, "--out", recomputed, "--quiet"] + options)
        #expect(r2.status == 0, "stderr: \(r2.stderr)")
        #expect(r2.stdout.isEmpty)
        for file in Self.files { #expect(try read(recomputed, file) == read(other, file), "\(file)") }
        let grid = try read(recomputed, "acceptability.csv").split(separator: "\n").dropFirst()
            .map { String($0.split(separator: ",")[0]) }
        #expect(Array(Set(grid)).sorted { Double($0)! < Double($1)! } == ["0", "5000", "10000", "15000", "20000", "25000", "30000", "35000", "40000"])
    }

    @Test func badWillingnessToPayNamesTheOptionAndValue() throws {
        let out = Fixtures.temporaryFolder("girfec-ce") + "/unused"
        let r = try CommandLineTests.girfec(["ce", out, "--out", out + "-ce", "--wtp", "20000,abc"])
        #expect(r.status != 0)
        #expect(r.stderr.contains("'--wtp <wtp>'") && r.stderr.contains("found 'abc' as amount 2 of '20000,abc'"), "\(r.stderr)")
        let step = try CommandLineTests.girfec(["ce", out, "--out", out + "-ce", "--ceac-step", "0"])
        #expect(step.status != 0)
        #expect(step.stderr.contains("--ceac-step must be a finite amount > 0, but is 0.0."), "\(step.stderr)")
        #expect(!FileManager.default.fileExists(atPath: out + "-ce"))
    }

    @Test func missingRunFolderSaysWhatIsExpected() throws {
        let out = Fixtures.temporaryFolder("girfec-ce") + "/absent"
        let r = try CommandLineTests.girfec(["ce", out, "--out", out + "-ce"])
        #expect(r.status == 2)
        #expect(r.stderr.contains("\(out)/state.bin cannot be read; expected a folder written by `girfec run` or `girfec merge`"), "\(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: out + "-ce"))
    }

    /// One arm: no incremental.csv or acceptability.csv, and the printed summary says why.
    @Test func oneArmHasNoIncrementalAnalysis() throws {
        let yaml = try String(contentsOfFile: Self.example, encoding: .utf8)
        let single = try CommandLineTests.write(String(yaml[..<yaml.range(of: "arms:\n")!.lowerBound]), name: "single.yaml")
        let out = Fixtures.temporaryFolder("girfec-ce") + "/single"
        let r = try CommandLineTests.girfec(["run", single, "--replications", "3", "--out", out])
        #expect(r.status == 0, "stderr: \(r.stderr)")
        #expect(r.stdout.contains("one arm: no incremental analysis (incremental.csv and acceptability.csv need two or more arms to compare)"))
        let files = try FileManager.default.contentsOfDirectory(atPath: out)
        #expect(!files.contains("incremental.csv") && !files.contains("acceptability.csv"))
    }
}
