import Foundation
@testable import Reports
import Testing
import TestSupport

/// `girfec report` on a `girfec sensitivity` folder: every number of the report is the number of
/// sensitivity.csv, formatted; the tornado is ordered by swing; bad files are refused with where
/// and what, and nothing is written.
@Suite("Sensitivity report")
struct SensitivityReportTests {
    static let experiment = """
    scenario: small.yaml
    seed: 5
    replications: 4
    oneWay:
      costHigh: {path: levels.High.costPerChildYear, low: 5000, high: 20000}
      escalation: {path: arms.practice.practice.relational.escalationEffect, low: 0.1, high: 0.5}
    twoWay:
      effects:
        x: {path: arms.practice.practice.relational.escalationEffect, values: [0.1, 0.3]}
        y: {path: arms.practice.practice.relational.stepDownEffect, values: [0.2, 0.4]}
    sweeps:
      programme: {path: arms.practice.programme.costPerYear, from: 0, to: 100000, count: 3}
    """

    @Test func theReportShowsTheNumbersOfSensitivityCSV() throws {
        let folder = Fixtures.temporaryFolder("girfec-e2e")
        try Fixtures.smallScenario.write(toFile: folder + "/small.yaml", atomically: true, encoding: .utf8)
        try Self.experiment.write(toFile: folder + "/experiment.yaml", atomically: true, encoding: .utf8)
        let out = folder + "/sens"
        let run = try CommandLineTests.girfec(["sensitivity", folder + "/experiment.yaml", "--out", out, "--threads", "2", "--quiet"])
        #expect(run.status == 0, "stderr: \(run.stderr)")
        let report = try CommandLineTests.girfec(["report", out])
        #expect(report.status == 0, "stderr: \(report.stderr)")
        #expect(report.stdout.contains("wrote \(out)/report.tex"))
        let md = try String(contentsOfFile: out + "/report.md", encoding: .utf8)
        let tex = try String(contentsOfFile: out + "/report.tex", encoding: .utf8)
        let tables = try String(contentsOfFile: out + "/report-tables.tex", encoding: .utf8)
        let rows = try SensitivityReport.rows(csv: String(contentsOfFile: out + "/sensitivity.csv", encoding: .utf8), source: "s").get()

        // Every base row, as the report formats it, in all three files.
        for r in rows where r.analysis == "base" {
            let cells = [r.arm, SensitivityReport.label(r.outcome).text, HumanFormat.interval(r.mean, r.ciLow!, r.ciHigh!, money: SensitivityReport.label(r.outcome).money)]
            #expect(md.contains("| " + cells.joined(separator: " | ") + " |"), "report.md lacks \(cells)")
            #expect(tex.contains(ReportDocument.latexRow(cells)) && tables.contains(ReportDocument.latexRow(cells)))
        }
        // The one-way table of Δcost: entries in decreasing order of |high − low| from the CSV.
        let delta = rows.filter { $0.analysis == "oneWay" && $0.arm == "practice" && $0.outcome == "delta_cost_discounted" }
        let swings = Dictionary(grouping: delta, by: \.name).mapValues { e in
            abs(e.first { $0.bound == "high" }!.mean - e.first { $0.bound == "low" }!.mean)
        }
        let expectedOrder = swings.sorted { $0.value > $1.value }.map(\.key)
        let section = try #require(md.components(separatedBy: "## 2. One-way analyses").last)
        let firstTable = section.components(separatedBy: "\n\n").first { $0.hasPrefix("| entry |") } ?? ""
        let shownOrder = firstTable.split(separator: "\n").dropFirst(2).map { $0.split(separator: "|")[0].trimmingCharacters(in: .whitespaces) }
        #expect(shownOrder == expectedOrder.map { "`\($0)`" }, "tornado order \(shownOrder), expected \(expectedOrder)")
        // Sections numbered without gaps, two-way and sweep included; the reproduction names the experiment.
        #expect(md.contains("## 3. Two-way analyses") && md.contains("## 4. Sweeps") && md.contains("## 5. Reproduce"))
        #expect(md.contains("girfec sensitivity \(folder)/experiment.yaml --replications 4 --out DIR"))
        // The sweep's rows: every value of the sweep with the practice arm's Δcost.
        for r in rows where r.analysis == "sweep" && r.outcome == "delta_cost_discounted" {
            #expect(md.contains(HumanFormat.interval(r.mean, r.ciLow!, r.ciHigh!, money: true)))
        }
    }

    @Test func aBrokenSensitivityFolderIsRefusedWithEveryProblem() throws {
        let folder = Fixtures.temporaryFolder("girfec-e2e") + "/broken"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let header = SensitivityTable.header.joined(separator: ",")
        try (header + "\nbase,,0,,,,,,baseline,cost_discounted,4,abc,1,2,3\nsideways,,0,,,,,,a,b,1,2,3,4,5\nbase,,0\n")
            .write(toFile: folder + "/sensitivity.csv", atomically: true, encoding: .utf8)
        let r = try CommandLineTests.girfec(["report", folder])
        #expect(r.status == 2)
        #expect(r.stderr.contains("sensitivity.csv: line 2, column mean: 'abc'; expected a finite number"), "\(r.stderr)")
        #expect(r.stderr.contains("line 3, column analysis: 'sideways'; expected base, oneWay, twoWay or sweep"))
        #expect(r.stderr.contains("line 4: 3 cells; expected 15"))
        #expect(r.stderr.contains("manifest.json: missing or not a JSON object"))
        #expect(r.stderr.contains("Nothing was written."))
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder) == ["sensitivity.csv"])
    }

    @Test func aFolderOfNeitherKindIsRefused() throws {
        let folder = Fixtures.temporaryFolder("girfec-e2e") + "/empty"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let r = try CommandLineTests.girfec(["report", folder])
        #expect(r.status == 2)
        #expect(r.stderr.contains("state.bin cannot be read; expected a folder written by `girfec run` or `girfec merge` (with state.bin) or by `girfec sensitivity` (with sensitivity.csv)"), "\(r.stderr)")
    }
}
