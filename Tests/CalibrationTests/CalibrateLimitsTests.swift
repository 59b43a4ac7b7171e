import Calibration
import Model
import Testing

/// Fuzz class calibration/huge-settings: a configuration with `draws` near Int.max (or an MCMC
/// of billions of steps) passed the configuration checks and then grew the draws until the
/// allocation aborted. `Calibrate.read` now refuses such values before any file is read.
@Suite("Calibration settings limits")
struct CalibrateLimitsTests {
    private func refusal(_ yaml: String) throws -> [DataIssue] {
        let config = try CalibrationConfig.decode(yaml: yaml, file: "c.yaml")
        do {
            try Calibrate.checkLimits(config, file: "c.yaml")
            Issue.record("the settings were accepted but should have been refused")
            return []
        } catch {
            return error.issues
        }
    }

    @Test func drawsNearIntMaxAreRefusedWithTheLimit() throws {
        let found = try refusal("scenario: s.yaml\ndata: {panel: p.csv}\ndraws: 9223372036854775807\n")
        #expect(found.count == 1)
        #expect(found.first?.file == "c.yaml")
        #expect(found.first?.found == "draws: 9223372036854775807, more than 100000")
        #expect(found.first?.expected.contains("draws at most 100000") == true)
    }

    @Test func anMCMCOfTooManyStepsIsRefused() throws {
        let found = try refusal("""
            scenario: s.yaml
            data: {stocks: st.csv}
            estimator: stocks
            stocks: {startDate: 2015-07-31, free: {transitions.matrix.A.B: {median: 0.1, sdLog: 1}}, chains: 64, iterations: 10000000, burnIn: 0}
            """)
        #expect(found.map(\.found) == ["64 chains × (0 + 10000000) MCMC steps"])
        let chains = try refusal("""
            scenario: s.yaml
            data: {stocks: st.csv}
            estimator: stocks
            stocks: {startDate: 2015-07-31, free: {transitions.matrix.A.B: {median: 0.1, sdLog: 1}}, chains: 1000000}
            """)
        #expect(chains.map(\.found) == ["stocks.chains: 1000000, more than 64"])
    }

    @Test func theDefaultsAndTheLimitsThemselvesPass() throws {
        let config = try CalibrationConfig.decode(yaml: "scenario: s.yaml\ndata: {flows: f.csv}\ndraws: 100000\n", file: "c.yaml")
        try Calibrate.checkLimits(config, file: "c.yaml")
        let defaults = try CalibrationConfig.decode(yaml: "scenario: s.yaml\ndata: {stocks: s.csv}\nstocks: {startDate: 2015-07-31, free: {transitions.matrix.A.B: {median: 0.1, sdLog: 1}}}\n", file: "c.yaml")
        try Calibrate.checkLimits(defaults, file: "c.yaml")
    }
}
