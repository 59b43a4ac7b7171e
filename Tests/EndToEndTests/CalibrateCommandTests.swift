import Foundation
import Testing
import TestSupport

/// `girfec calibrate` on the synthetic data of calibration/, whose truth is known.
@Suite("girfec calibrate")
struct CalibrateCommandTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
    static func example(_ path: String) -> String { root + "/calibration/" + path }

    static func csv(_ path: String) throws -> [[String: String]] {
        let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n")
            .map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
        return lines.dropFirst().map { Dictionary(uniqueKeysWithValues: zip(lines[0], $0)) }
    }

    /// The truth of calibration/synthetic/identified (truth.json): adjacent moves only.
    static let truth: [String: Double] = ["Universal→Additional": 0.06, "Additional→Universal": 0.3,
                                          "Additional→Intensive": 0.12, "Intensive→Additional": 0.35]

    @Test func flowsRecoverTheTruthAndTheRoundTripCoversTheData() throws {
        let out = Fixtures.temporaryFolder("girfec-cal") + "/flows"
        let r = try CommandLineTests.girfec(["calibrate", Self.example("synthetic/identified/calibrate-flows.yaml"), "--out", out, "--quiet"])
        #expect(r.status == 0, "stderr: \(r.stderr)")
        let rows = try Self.csv(out + "/estimates.csv")
        for (move, value) in Self.truth {
            let parts = move.components(separatedBy: "→")
            let row = try #require(rows.first { $0["from_level"] == parts[0] && $0["to_level"] == parts[1] }, "\(move)")
            let low = Double(row["rate_low"]!)!, high = Double(row["rate_high"]!)!
            #expect(low <= value && value <= high, "\(move): truth \(value) outside \(low)–\(high)")
        }

        // Round trip: a scenario that includes the fitted rates and draws from the posterior covers the observed stocks.
        let scenarioText = try String(contentsOfFile: Self.example("synthetic/identified/scenario.yaml"), encoding: .utf8)
        let start = try #require(scenarioText.range(of: "transitions:"))
        let withoutTransitions = String(scenarioText[..<start.lowerBound])
        let rest = scenarioText[start.upperBound...].split(separator: "\n", omittingEmptySubsequences: false)
            .drop { $0.hasPrefix(" ") || $0.isEmpty }.joined(separator: "\n")
        // Monthly steps: the example's yearly steps let a year's entries and moves happen at once, a
        // coarse approximation of the continuous-time truth that biases Universal upwards by ~3 %.
        let scenario = (withoutTransitions + rest).replacingOccurrences(of: "stepMonths: 12", with: "stepMonths: 1")
            + "\ninclude: fitted-transitions.yaml\nuncertainty: {draws: draws.csv}\n"
        try scenario.write(toFile: out + "/round-trip.yaml", atomically: true, encoding: .utf8)
        let run = out + "/run"
        let rr = try CommandLineTests.girfec(["run", out + "/round-trip.yaml", "--replications", "40", "--seed", "2", "--out", run, "--quiet"])
        #expect(rr.status == 0, "stderr: \(rr.stderr)")
        let bands = try Self.csv(run + "/bands.csv").filter { $0["quantity"] == "stock" && $0["arm"] == "base" }
        let observed = try Self.csv(Self.example("synthetic/identified/stocks.csv"))
        var covered = 0
        for o in observed {
            let year = Int(o["date"]!.prefix(4))! - 2015
            let band = try #require(bands.first { $0["step"] == String(12 * year) && $0["level"] == o["level"] })
            let count = Double(o["count"]!)!
            if Double(band["p2_5"]!)! <= count && count <= Double(band["p97_5"]!)! { covered += 1 }
        }
        // 95 % bands of 40 replications with parameter draws: at least 90 % of the 30 counts inside.
        #expect(Double(covered) >= 0.9 * Double(observed.count), "\(covered) of \(observed.count) observed stocks inside the 95 % band")
    }

    @Test func stocksAloneWarnWhereFlowsCannotBeToldApart() throws {
        for (name, warns) in [("not-identified", true), ("identified", false)] {
            let out = Fixtures.temporaryFolder("girfec-cal") + "/" + name
            let r = try CommandLineTests.girfec(["calibrate", Self.example("synthetic/\(name)/calibrate-stocks.yaml"), "--out", out])
            #expect(r.status == 0, "stderr: \(r.stderr)")
            #expect(r.stdout.contains("WARNING: stocks alone do not separate Universal→Additional from Additional→Universal") == warns, "\(name): \(r.stdout)")
            let verdicts = try Self.csv(out + "/identifiability.csv").map { $0["verdict"]! }
            #expect(verdicts.allSatisfy { $0 == (warns ? "not identified" : "identified") }, "\(name): \(verdicts)")
        }
    }

    @Test func badDataIsReportedWithFileLineAndColumnAndNothingIsWritten() throws {
        let folder = Fixtures.temporaryFolder("girfec-cal")
        try "period_start,period_end,area,from_level,to_level,count\n2020-07-31,2021-07-31,all,Universal,Nowhere,5\n2021-07-31,2020-07-31,all,Universal,Universal,-3\n"
            .write(toFile: folder + "/flows.csv", atomically: true, encoding: .utf8)
        try "scenario: \(Self.example("synthetic/identified/scenario.yaml"))\ndata: {flows: flows.csv}\n"
            .write(toFile: folder + "/cal.yaml", atomically: true, encoding: .utf8)
        let out = folder + "/out"
        let r = try CommandLineTests.girfec(["calibrate", folder + "/cal.yaml", "--out", out])
        #expect(r.status == 2)
        #expect(r.stderr.contains("flows.csv:2, column 'to_level'") && r.stderr.contains("Nowhere"), "\(r.stderr)")
        #expect(r.stderr.contains("flows.csv:3, column 'count'"), "\(r.stderr)")
        #expect(r.stderr.contains("Nothing was written"))
        #expect(!FileManager.default.fileExists(atPath: out))
    }
}
