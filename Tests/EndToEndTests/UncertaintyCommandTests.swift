import Foundation
@testable import Reports
import Testing
import TestSupport

/// `girfec run` with parameter uncertainty, as a user runs it.
@Suite("girfec run with parameter uncertainty")
struct UncertaintyCommandTests {
    static let scenario = Fixtures.smallScenario + """

    uncertainty:
      parameters:
        cost: {path: levels.High.costPerChildYear, distribution: gamma, sd: 2500, source: "a test"}
        effect: {path: arms.practice.practice.relational.escalationEffect, distribution: beta, sd: 0.1}
      groups:
        both: [cost, effect]
    """

    static func csv(_ path: String) throws -> [[String: String]] {
        let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
        return lines.dropFirst().map { Dictionary(uniqueKeysWithValues: zip(lines[0], $0)) }
    }

    @Test func aNestedRunWritesParametersVarianceSplitAndValueOfInformation() throws {
        let file = try CommandLineTests.write(Self.scenario, name: "psa.yaml")
        let out = Fixtures.temporaryFolder("girfec-e2e") + "/psa"
        let r = try CommandLineTests.girfec(["run", file, "--replications", "140", "--replications-per-draw", "2", "--seed", "4",
                                             "--out", out, "--threads", "2", "--quiet"])
        #expect(r.status == 0, "stderr: \(r.stderr)")
        let files = try FileManager.default.contentsOfDirectory(atPath: out)
        #expect(Set(["parameters.csv", "uncertainty.csv", "voi.csv"]).isSubset(of: Set(files)))

        let parameters = try Self.csv(out + "/parameters.csv")
        #expect(parameters.count == 140)
        #expect(parameters[0]["levels.High.costPerChildYear"] == parameters[1]["levels.High.costPerChildYear"])
        #expect(parameters[1]["draw"] == "0" && parameters[2]["draw"] == "1")

        let split = try Self.csv(out + "/uncertainty.csv")
        let cost = try #require(split.first { $0["arm"] == "baseline" && $0["outcome"] == "cost_discounted" })
        #expect(cost["draws"] == "70" && cost["replications_per_draw"] == "2")
        // The drawn cost of the High level drives the baseline cost: most of its spread is parameter uncertainty.
        #expect(Double(cost["parameter_share"] ?? "") ?? 0 > 0.5, "\(cost)")

        let voi = try Self.csv(out + "/voi.csv")
        let evpi = voi.filter { $0["measure"] == "evpi" }
        #expect(evpi.contains { $0["willingness_to_pay"] == "20000" })
        #expect(evpi.allSatisfy { (Double($0["value"] ?? "") ?? -1) >= 0 })
        #expect(voi.contains { $0["measure"] == "evppi" && $0["parameter_group"] == "cost" })
        let manifest = try String(contentsOfFile: out + "/manifest.json", encoding: .utf8)
        #expect(manifest.contains("\"distribution\" : \"Gamma(shape 16, scale 625)\""), "\(manifest)")
        // 70 draws are too few for a two-parameter group with interactions: said, not hidden.
        #expect(manifest.contains("EVPPI of 'both'"))

        // A report for a paper: parameters with distributions and sources, results, and how to reproduce.
        let rep = try CommandLineTests.girfec(["report", out])
        #expect(rep.status == 0, "stderr: \(rep.stderr)")
        let md = try String(contentsOfFile: out + "/report.md", encoding: .utf8)
        #expect(md.contains("| cost | `levels.High.costPerChildYear` | 10,000 | Gamma(shape 16, scale 625) |"), "\(md)")
        #expect(md.contains("| a test |"))
        #expect(md.contains("| practice − baseline: Δcost |"))
        #expect(md.contains("girfec run psa.yaml --seed 4 --replications 140 --replications-per-draw 2 --out DIR"))
        let tex = try String(contentsOfFile: out + "/report-tables.tex", encoding: .utf8)
        #expect(tex.contains("\\begin{longtable}") && tex.contains("\\label{tab:results}")
                && tex.contains(ReportDocument.latexText("`levels.High.costPerChildYear`")))

        // One replication alone: the same parameters and row.
        let alone = Fixtures.temporaryFolder("girfec-e2e") + "/alone"
        let a = try CommandLineTests.girfec(["run", file, "--replications", "140", "--replications-per-draw", "2", "--seed", "4",
                                             "--replication", "77", "--out", alone, "--quiet"])
        #expect(a.status == 0, "stderr: \(a.stderr)")
        #expect(try Self.csv(alone + "/parameters.csv") == [parameters[77]])
        let rows = try Self.csv(out + "/replications.csv").filter { $0["replication"] == "77" }
        #expect(try Self.csv(alone + "/replications.csv") == rows)
    }

    @Test func aBadDistributionIsRefusedWithItsPlaceAndNothingIsWritten() throws {
        let file = try CommandLineTests.write(Fixtures.smallScenario + """

        uncertainty:
          parameters:
            qol: {path: levels.High.qolWeight, distribution: beta, sd: 0.6}
        """, name: "bad.yaml")
        let out = Fixtures.temporaryFolder("girfec-e2e") + "/bad"
        let r = try CommandLineTests.girfec(["run", file, "--replications", "2", "--out", out])
        #expect(r.status == 2)
        #expect(r.stderr.contains("bad.yaml:"), "\(r.stderr)")
        #expect(r.stderr.contains("uncertainty.parameters.qol: found mean 0.6 and sd 0.6"), "\(r.stderr)")
        #expect((try? FileManager.default.contentsOfDirectory(atPath: out))?.isEmpty ?? true)
    }
}
