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
}
