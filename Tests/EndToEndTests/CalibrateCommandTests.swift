import Calibration
import Foundation
import Model
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

    /// Chains that do not pass the convergence gate give no estimates, draws, fragment or verdicts: only
    /// the diagnostics, "NOT converged" with what failed and what to do next, and exit status 3. Two
    /// chains of 100 draws cannot reach a bulk ESS of 400. (The synthetic examples, which converge, are
    /// run by scripts/tests/test_calibrate_stocks.py on the release build: NUTS with dual numbers is
    /// too slow in a debug build for them.) maxIterations 100: no extension round.
    @Test func stocksOnlyChainsThatDoNotConvergeGiveDiagnosticsAndStatus3() throws {
        let folder = Fixtures.temporaryFolder("girfec-cal")
        let config = try Self.smallStockConfig(folder, extra: "  chains: 2\n  iterations: 100\n  maxIterations: 100\n  burnIn: 100")
        let out = folder + "/out"
        let r = try CommandLineTests.girfec(["calibrate", config, "--out", out])
        #expect(r.status == 3, "stderr: \(r.stderr)")
        #expect(r.stdout.contains("NOT converged") && r.stdout.contains("what to do next: ") && r.stdout.contains("raise stocks.maxIterations"), "\(r.stdout)")
        #expect(r.stderr.contains("did NOT converge") && r.stderr.contains("Exit status 3"), "\(r.stderr)")
        let files = try FileManager.default.contentsOfDirectory(atPath: out).sorted()
        // The model comparison (maximum likelihood) does not need converged chains; the predictive check does.
        #expect(files == ["convergence.csv", "manifest.json", "model-comparison.csv", "posterior.csv"], "\(files)")
        let checks = try Self.csv(out + "/convergence.csv")
        #expect(checks.contains { $0["check"] == "ess_bulk" && $0["passed"] == "false" })
        #expect(checks.filter { $0["check"] == "divergences" }.count == 2, "NUTS reports divergences per chain")
        // Every failed check is named on the screen.
        for c in checks where c["passed"] == "false" && c["check"] == "ess_bulk" {
            #expect(r.stdout.contains("bulk ESS of \(c["quantity"]!)"), "\(c)")
        }
        let posterior = try Self.csv(out + "/posterior.csv")
        #expect(posterior.count == 3 && posterior.allSatisfy { $0["joint_estimate"] == "" && $0["contraction"] == "" && $0["r_hat"] != "" })
        let manifest = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out + "/manifest.json"))) as! [String: Any]
        #expect(manifest["status"] as? String == "not converged")
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

    /// Run the built girfec with `input` on its standard input.
    static func girfec(_ arguments: [String], input: String) throws -> CommandLineTests.Outcome {
        let process = Process()
        process.executableURL = CommandLineTests.executable
        process.arguments = arguments
        let stdin = Pipe(), out = Pipe(), err = Pipe()
        process.standardInput = stdin
        process.standardOutput = out
        process.standardError = err
        try process.run()
        stdin.fileHandleForWriting.write(Data(input.utf8))
        try stdin.fileHandleForWriting.close()
        let o = out.fileHandleForReading.readDataToEndOfFile(), e = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return .init(status: process.terminationStatus, stdout: String(decoding: o, as: UTF8.self), stderr: String(decoding: e, as: UTF8.self))
    }

    /// A small stock-only configuration: the first three censuses of calibration/synthetic/identified, two free rates.
    static func smallStockConfig(_ folder: String, extra: String = "") throws -> String {
        let stocks = try String(contentsOfFile: example("synthetic/identified/stocks.csv"), encoding: .utf8)
            .split(separator: "\n").prefix(10).joined(separator: "\n") + "\n"
        try stocks.write(toFile: folder + "/stocks.csv", atomically: true, encoding: .utf8)
        let config = folder + "/cal.yaml"
        try """
        scenario: \(example("synthetic/identified/scenario.yaml"))
        data: {stocks: stocks.csv}
        estimator: stocks
        stocks:
          startDate: 2015-07-31
          free:
            transitions.matrix.Universal.Additional: {median: 0.1, sdLog: 1}
            transitions.matrix.Additional.Universal: {median: 0.1, sdLog: 1}
        \(extra)
        """.write(toFile: config, atomically: true, encoding: .utf8)
        return config
    }

    /// `--log-density`: the header names the sampling coordinates; each answer is `problem.logPosterior`
    /// of the same configuration, −∞ outside the bounds; nothing is written.
    @Test func logDensityAnswersEachLineWithTheLogPosterior() throws {
        let folder = Fixtures.temporaryFolder("girfec-cal")
        let config = try Self.smallStockConfig(folder)
        let points = [[log(0.06), log(0.3), log(0.003)], [log(0.1), log(0.1), log(0.01)], [log(30), log(0.3), log(0.003)]]
        let input = points.map { $0.map { "\($0)" }.joined(separator: ",") }.joined(separator: "\n") + "\n"
        let before = try FileManager.default.contentsOfDirectory(atPath: folder).sorted()
        let r = try Self.girfec(["calibrate", config, "--log-density"], input: input)
        #expect(r.status == 0, "stderr: \(r.stderr)")
        let lines = r.stdout.split(separator: "\n").map(String.init)
        #expect(lines.first == "parameters,Universal→Additional,Additional→Universal,relative extra sd", "\(lines)")
        #expect(lines.count == 4, "\(lines)")
        let settings = try CalibrationConfig.load(path: config)
        let scenario = try ScenarioDecoder.load(path: settings.scenarioPath)
        let problem = try Calibrate.stockProblem(settings, scenario: scenario, data: try Calibrate.read(settings, scenario: scenario))
        for (k, φ) in points.prefix(2).enumerated() {
            let expected = problem.logPosterior(φ)
            let got = try #require(Double(lines[k + 1]), "line \(k + 1): \(lines[k + 1])")
            #expect(expected.isFinite && abs(got - expected) <= 1e-12 * abs(expected), "point \(k): \(got) against \(expected)")
        }
        #expect(lines[3] == "-inf", "30 a year is above the bound of 20: \(lines[3])")
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder).sorted() == before)
    }

    /// A malformed line stops with a message naming its line, status 2; bad data stop before the header.
    @Test func logDensityRefusesMalformedLinesAndBadInput() throws {
        let folder = Fixtures.temporaryFolder("girfec-cal")
        let config = try Self.smallStockConfig(folder)
        let r = try Self.girfec(["calibrate", config, "--log-density"], input: "-2,-1,4\n-2,abc,4\n-2,-1,4\n")
        #expect(r.status == 2)
        #expect(r.stdout.split(separator: "\n").count == 2, "header and one answer: \(r.stdout)")
        #expect(r.stderr.contains("standard input line 2: found '-2,abc,4'") && r.stderr.contains("expected 3 finite numbers"), "\(r.stderr)")
        let short = try Self.girfec(["calibrate", config, "--log-density"], input: "-2,-1\n")
        #expect(short.status == 2 && short.stderr.contains("line 1: found '-2,-1' (2 cells)"), "\(short.stderr)")

        try "date,area,level,count\n2015-07-31,all,Universal,-4\n".write(toFile: folder + "/stocks.csv", atomically: true, encoding: .utf8)
        let bad = try Self.girfec(["calibrate", config, "--log-density"], input: "-2,-1,4\n")
        #expect(bad.status == 2)
        #expect(bad.stdout.isEmpty, "\(bad.stdout)")
        #expect(bad.stderr.contains("stocks.csv:2, column 'count'"), "\(bad.stderr)")
    }
}
