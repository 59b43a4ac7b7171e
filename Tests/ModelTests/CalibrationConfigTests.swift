import Foundation
import Model
import Testing

@Suite("Calibration configuration")
struct CalibrationConfigTests {
    @Test func defaultsFollowTheDataGiven() throws {
        let c = try CalibrationConfig.decode(yaml: "scenario: s.yaml\ndata: {panel: p.csv, stocks: st.csv}\n", file: "/cal/c.yaml")
        #expect(c.estimator == .panel, "panel data, no flows: the panel estimator")
        #expect(c.scenarioPath == "/cal/s.yaml" && c.panelPath == "/cal/p.csv" && c.stocksPath == "/cal/st.csv")
        #expect(c.pooled && c.allowedMoves == nil && c.draws == 1000 && c.concentration == 0.5 && c.flowConversion == "matrixLogarithm")
        let moves = try CalibrationConfig.decode(yaml: "scenario: s.yaml\ndata: {flows: f.csv}\nallowedMoves: [\"A -> B\", \"B → A\"]\n", file: "c.yaml")
        #expect(moves.allowedMoves == "only" && moves.explicitMoves.map { "\($0.from)>\($0.to)" } == ["A>B", "B>A"])
        let audit = try CalibrationConfig.decode(yaml: """
        scenario: s.yaml
        data: {stocks: s.csv}
        stocks:
          startDate: 2015-07-31
          free: {transitions.matrix.A.B: {median: 0.1, sdLog: 1}}
          audits: [{move: A → B, atRisk: 400, moved: 31, years: 1}]
        """, file: "c.yaml")
        #expect(audit.estimator == .stocks && audit.priors.map(\.path) == ["transitions.matrix.A.B"])
        #expect(audit.audits.map { "\($0.from)>\($0.to) \($0.moved)/\($0.atRisk) in \($0.years)" } == ["A>B 31/400 in 1.0"])
    }

    @Test func problemsAreReportedTogether() {
        do {
            _ = try CalibrationConfig.decode(yaml: """
            scenario: s.yaml
            data: {stock: s.csv}
            estimator: stocks
            allowedMoves: [A to B]
            seed: -1
            flows: {conversion: exact}
            """, file: "c.yaml")
            Issue.record("a bad configuration was accepted")
        } catch {
            let text = error.description
            #expect(text.contains("unknown field 'stock'") && text.contains("did you mean 'stocks'?"), "\(text)")
            #expect(text.contains("estimator stocks without data.stocks"), "\(text)")
            #expect(text.contains("a move written 'From → To'"), "\(text)")
            #expect(text.contains("c.yaml:5: seed"), "\(text)")
            #expect(text.contains("one of matrixLogarithm, competingRisks"), "\(text)")
            #expect(text.contains("stocks.free"), "\(text)")
        }
    }

    /// The NUTS settings of a stock-only fit: read when given, defaults otherwise, and bad values named
    /// with line, field path and the range expected, all together.
    @Test func samplerSettingsAreReadAndCheckedTogether() throws {
        let head = "scenario: s.yaml\ndata: {stocks: st.csv}\nestimator: stocks\nstocks:\n  free: {transitions.matrix.A.B: {}}\n"
        let plain = try CalibrationConfig.decode(yaml: head, file: "c.yaml")
        #expect(plain.metric == "diagonal" && plain.targetAcceptance == 0.8 && plain.maxTreeDepth == 10 && plain.coordinates == "softplus")
        let set = try CalibrationConfig.decode(yaml: head + "  metric: dense\n  targetAcceptance: 0.99\n  maxTreeDepth: 12\n  coordinates: log\n",
                                               file: "c.yaml")
        #expect(set.metric == "dense" && set.targetAcceptance == 0.99 && set.maxTreeDepth == 12 && set.coordinates == "log")
        let error = #expect(throws: ScenarioError.self) {
            _ = try CalibrationConfig.decode(yaml: head + "  metric: euclidean\n  targetAcceptance: 1\n  maxTreeDepth: 40\n  coordinates: logit\n",
                                             file: "c.yaml")
        }
        let text = error?.description ?? ""
        #expect(text.contains("c.yaml:6: stocks.metric") && text.contains("one of diagonal, dense"), "\(text)")
        #expect(text.contains("c.yaml:7: stocks.targetAcceptance"), "\(text)")
        #expect(text.contains("c.yaml:8: stocks.maxTreeDepth"), "\(text)")
        #expect(text.contains("c.yaml:9: stocks.coordinates") && text.contains("one of softplus, log"), "\(text)")
    }

    /// Draws of a stock-only fit: 500 warm-up and 500 draws per chain at first, extended up to 4000 by
    /// default; a larger `iterations` raises the default ceiling to itself; a ceiling below the first
    /// draws is refused at stocks.maxIterations, with its line and what was expected.
    @Test func drawsStartSmallAndMayBeExtendedUpToMaxIterations() throws {
        let head = "scenario: s.yaml\ndata: {stocks: st.csv}\nestimator: stocks\nstocks:\n  free: {transitions.matrix.A.B: {}}\n"
        let plain = try CalibrationConfig.decode(yaml: head, file: "c.yaml")
        #expect(plain.chains == 4 && plain.burnIn == 500 && plain.iterations == 500 && plain.maxIterations == 4000)
        let long = try CalibrationConfig.decode(yaml: head + "  iterations: 6000\n", file: "c.yaml")
        #expect(long.iterations == 6000 && long.maxIterations == 6000, "no extension beyond the draws asked for")
        let set = try CalibrationConfig.decode(yaml: head + "  iterations: 800\n  maxIterations: 800\n", file: "c.yaml")
        #expect(set.iterations == 800 && set.maxIterations == 800)
        let error = #expect(throws: ScenarioError.self) {
            _ = try CalibrationConfig.decode(yaml: head + "  iterations: 1000\n  maxIterations: 900\n", file: "c.yaml")
        }
        let text = error?.description ?? ""
        #expect(text.contains("c.yaml:7: stocks.maxIterations") && text.contains("900, fewer than the 1000 draws per chain of stocks.iterations")
                && text.contains("at least stocks.iterations"), "\(text)")
        let byDefault = #expect(throws: ScenarioError.self) {
            _ = try CalibrationConfig.decode(yaml: head + "  maxIterations: 300\n", file: "c.yaml")
        }
        #expect(byDefault?.description.contains("c.yaml:6: stocks.maxIterations") == true
                && byDefault?.description.contains("300, fewer than the 500 draws per chain of stocks.iterations (its default)") == true,
                "\(byDefault?.description ?? "")")
    }

    /// Fuzz class calibration/huge-draws: `draws` near Int.max was accepted and the draws grew until
    /// the allocation aborted. Counts of the configuration have upper limits, named with line and field.
    @Test func hugeCountsAreRefusedWithTheirLimits() {
        do {
            _ = try CalibrationConfig.decode(yaml: """
            scenario: s.yaml
            data: {stocks: st.csv}
            draws: 9223372036854775807
            stocks: {startDate: 2015-07-31, free: {transitions.matrix.A.B: {median: 0.1, sdLog: 1}}, chains: 1000000, iterations: 10000000}
            """, file: "c.yaml")
            Issue.record("huge settings were accepted")
        } catch {
            let text = error.description
            #expect(text.contains("c.yaml:3: draws") && text.contains("9223372036854775807"), "\(text)")
            #expect(text.contains("c.yaml:4: stocks.chains") && text.contains("1000000"), "\(text)")
            #expect(text.contains("c.yaml:4: stocks.iterations"), "\(text)")
        }
    }
    /// Issue 13: a missing data file was reported as text that "cannot be read as UTF-8". Every file the
    /// configuration names (the scenario too) is checked when it is loaded: missing, a folder, or not
    /// readable, each said so at its field and line, with the path as written and as resolved against
    /// the configuration file's folder; all at once.
    @Test func everyNamedFileThatCannotBeReadIsSaidToBeMissingAFolderOrUnreadable() throws {
        let folder = NSTemporaryDirectory() + "girfec-config-files-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: folder + "/data.csv", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try "x\n".write(toFile: folder + "/stocks.csv", atomically: true, encoding: .utf8)
        let config = folder + "/cal.yaml"
        try "scenario: nowhere/s.yaml\ndata:\n  flows: data.csv\n  panel: \(folder)/absent.csv\n  stocks: stocks.csv\n"
            .write(toFile: config, atomically: true, encoding: .utf8)
        do {
            _ = try CalibrationConfig.load(path: config)
            Issue.record("missing files were accepted")
        } catch {
            #expect(error.issues.map(\.path) == ["scenario", "data.flows", "data.panel"], "\(error)")
            #expect(error.issues.map(\.line) == [1, 3, 4], "\(error)")
            #expect(error.issues.map(\.found) == [
                "'nowhere/s.yaml', relative to the configuration file's folder: \(folder)/nowhere/s.yaml: no such file",
                "'data.csv', relative to the configuration file's folder: \(folder)/data.csv: a folder, not a regular file",
                "'\(folder)/absent.csv': no such file",
            ], "\(error)")
            #expect(error.issues.allSatisfy { $0.file == config && $0.expected.contains("exists and this user may read") }, "\(error)")
        }
        // A file this user may not read (not testable as root, who may read every file).
        guard getuid() != 0 else { return }
        try "scenario: stocks.csv\ndata: {stocks: stocks.csv}\n".write(toFile: config, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0], ofItemAtPath: folder + "/stocks.csv")
        do {
            _ = try CalibrationConfig.load(path: config)
            Issue.record("an unreadable file was accepted")
        } catch {
            #expect(error.issues.map(\.found).allSatisfy { $0.hasSuffix("a file this user may not read (permission denied)") }, "\(error)")
        }
    }
    /// Issue 13: line numbers are an editor's everywhere, YAML files too: a lone CR in a file with LF
    /// line ends is a line break to YAML but not to an editor or `grep -n`, so it must not shift the
    /// line reported; CRLF files and CR-only files count their lines.
    @Test func yamlLineNumbersAreAnEditorsWithAStrayCarriageReturn() {
        let texts = [
            "scenario: s.yaml\ndata: {flows: f.csv}\nestimator: flows\rseed: 1\ndraws: -5\n",
            "scenario: s.yaml\r\ndata: {flows: f.csv}\r\n\r\nseed: 1\r\ndraws: -5\r\n",
            "scenario: s.yaml\rdata: {flows: f.csv}\r\rseed: 1\rdraws: -5\r",
        ]
        for (k, text) in texts.enumerated() {
            do {
                _ = try CalibrationConfig.decode(yaml: text, file: "c.yaml")
                Issue.record("draws: -5 was accepted")
            } catch {
                #expect(error.issues.map(\.line) == [k == 0 ? 4 : 5] && error.issues.first?.path == "draws", "text \(k): \(error)")
            }
        }
        // A YAML syntax error after a stray CR: "comment" becomes a line of its own, and the parser
        // finds no ':' on the line after it, which is the editor's line 2 (YAML's line 3).
        do {
            _ = try CalibrationConfig.decode(yaml: "scenario: s.yaml # a\rcomment\ndata: {flows: f.csv}\n", file: "c.yaml")
            Issue.record("bad YAML was accepted")
        } catch {
            #expect(error.issues.first?.line == 2 && error.description.contains("not valid YAML"), "\(error)")
        }
    }
}
