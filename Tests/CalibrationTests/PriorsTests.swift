import Calibration
import Foundation
import Model
import Testing
import TestSupport

@Suite struct PriorsTests {
    @Test func weaklyInformativeDefault() {
        #expect(RatePrior.weaklyInformative(scenarioValue: 0.3) == .logNormal(median: 0.3, sdLog: 1.5))
        #expect(RatePrior.weaklyInformative(scenarioValue: 0.001) == .logNormal(median: 0.01, sdLog: 1.5))
        #expect(RatePrior.weaklyInformative(scenarioValue: 0) == .logNormal(median: 0.05, sdLog: 1.5))
        #expect(RatePrior.weaklyInformative(scenarioValue: nil) == .logNormal(median: 0.05, sdLog: 1.5))
    }

    /// `{}` and an empty value take the default at the scenario's value; a median alone gets sdLog 1.5;
    /// an sdLog alone keeps the default centre.
    @Test func configEntriesResolve() throws {
        let config = try CalibrationConfig.decode(yaml: """
            scenario: s.yaml
            data: {stocks: stocks.csv}
            stocks:
              free:
                transitions.matrix.A.B: {}
                transitions.matrix.B.A:
                transitions.matrix.B.C: {median: 0.2}
                transitions.matrix.C.B: {sdLog: 0.7}
                transitions.matrix.A.C: {median: 0.2, sdLog: 0.3}
            """, file: "cal.yaml")
        #expect(config.priors.map(\.median) == [nil, nil, 0.2, nil, 0.2])
        #expect(config.priors.map(\.sdLog) == [nil, nil, nil, 0.7, 0.3])
        let resolved = RatePrior.resolve(config.priors, baseValues: [0.4, 0, 0.1, 0.25, 0])
        #expect(resolved == [.logNormal(median: 0.4, sdLog: 1.5), .logNormal(median: 0.05, sdLog: 1.5), .logNormal(median: 0.2, sdLog: 1.5),
                             .logNormal(median: 0.25, sdLog: 0.7), .logNormal(median: 0.2, sdLog: 0.3)])
    }

    /// `text` written to a new file `name` in the test run's temporary folder (removed when the run ends).
    static func write(_ text: String, _ name: String) throws -> String {
        let path = Fixtures.temporaryFolder("girfec-priors") + "/" + name
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// The shipped national file: each median as its derivation computes it from the published counts.
    @Test func shippedScottishPriors() throws {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("calibration/priors/scotland-national.yaml").path
        let file = try PriorsFile.load(path: path)
        let ceasing = try #require(file.entry("Looked after → Not looked after"))
        #expect(abs(ceasing.median / (3398 / ((12206 + 11844) / 2.0)) - 1) < 0.02)
        let starting = try #require(file.entry("Not looked after → Looked after"))
        #expect(abs(starting.median / (3105 / (1_010_000 - 12025.0)) - 1) < 0.02)
        let registration = try #require(file.entry("Not on the register → On the child protection register"))
        #expect(abs(registration.median / (3167 / (1_010_000 - 2112.0)) - 1) < 0.02)
        let deregistration = try #require(file.entry("On the child protection register → Not on the register"))
        // Between the rate from the stocks (3,117 / 2,112 = 1.48) and the one from durations (48 % under six months: 1.31).
        #expect(deregistration.median > -2 * log(0.52) && deregistration.median < 3117 / 2111.5)
        #expect(file.entries.allSatisfy { $0.sdLog == 0.5 && $0.source.contains("Children's Social Work Statistics Scotland: 2023-24") && !$0.derivation.isEmpty })
    }

    /// `{prior: NAME}` takes the entry's median and sdLog (sdLog overridable) and records its source.
    @Test func configUsesANationalPrior() throws {
        let priors = try Self.write("""
            name: test
            priors:
              Looked after → Not looked after: {median: 0.28, sdLog: 0.5, source: "CSWS 2023-24"}
            """, "national.yaml")
        let config = try CalibrationConfig.decode(yaml: """
            scenario: s.yaml
            data: {stocks: stocks.csv}
            stocks:
              priors: \(priors)
              free:
                transitions.matrix.Compulsory.Intensive: {prior: Looked after → Not looked after}
                transitions.matrix.Intensive.Compulsory: {prior: Looked after → Not looked after, sdLog: 1}
            """, file: "cal.yaml")
        #expect(config.priorsPath == priors)
        #expect(config.priors.map(\.median) == [0.28, 0.28])
        #expect(config.priors.map(\.sdLog) == [0.5, 1])
        #expect(config.priors[0].national == "Looked after → Not looked after" && config.priors[0].source == "CSWS 2023-24")
    }

    /// Every problem at once, each with file, line and field path: an unknown entry, a median with a prior,
    /// and the priors file's own problems (a missing source, a negative sdLog).
    @Test func errorsNameFileLineAndPath() throws {
        let priors = try Self.write("""
            priors:
              A → B: {median: 0.28, sdLog: 0.5}
              B → A: {median: 0.1, sdLog: -1, source: x}
            """, "national.yaml")
        do {
            _ = try CalibrationConfig.decode(yaml: """
                scenario: s.yaml
                data: {stocks: stocks.csv}
                stocks:
                  priors: \(priors)
                  free:
                    transitions.matrix.A.B: {prior: A → B}
                """, file: "cal.yaml")
            Issue.record("expected an error")
        } catch {
            let text = error.description
            #expect(text.contains("cal.yaml:4: stocks.priors: found '\(priors)', which cannot be used (2 problems below)"), "\(text)")
            #expect(text.contains("\(priors):2: priors.A → B.source: found nothing (the field is missing)"), "\(text)")
            #expect(text.contains("\(priors):3: priors.B → A.sdLog: found -1"), "\(text)")
        }
        let good = try Self.write("""
            priors:
              A → B: {median: 0.28, sdLog: 0.5, source: x}
            """, "national.yaml")
        do {
            _ = try CalibrationConfig.decode(yaml: """
                scenario: s.yaml
                data: {stocks: stocks.csv}
                stocks:
                  priors: \(good)
                  free:
                    transitions.matrix.A.B: {prior: A to B}
                    transitions.matrix.B.A: {prior: A → B, median: 0.2}
                """, file: "cal.yaml")
            Issue.record("expected an error")
        } catch {
            let text = error.description
            #expect(text.contains("cal.yaml:6: stocks.free.transitions.matrix.A.B.prior: found 'A to B', not in \(good); expected one of its priors: 'A → B'"), "\(text)")
            #expect(text.contains("cal.yaml:7: stocks.free.transitions.matrix.B.A.median: found both median and prior 'A → B'"), "\(text)")
        }
        do {
            _ = try CalibrationConfig.decode(yaml: """
                scenario: s.yaml
                data: {stocks: stocks.csv}
                stocks:
                  free:
                    transitions.matrix.A.B: {prior: A → B}
                """, file: "cal.yaml")
            Issue.record("expected an error")
        } catch {
            #expect(error.description.contains("cal.yaml:5: stocks.free.transitions.matrix.A.B.prior: found prior 'A → B' without stocks.priors; expected stocks.priors: FILE"), "\(error.description)")
        }
    }
}
