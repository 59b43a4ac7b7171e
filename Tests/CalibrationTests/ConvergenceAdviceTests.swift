@testable import Calibration
import Testing

/// What a failed stocks fit advises depends on what failed: extension rounds do not run while there
/// are divergent transitions, so the advice must not say the chains were extended.
@Suite("Convergence advice")
struct ConvergenceAdviceTests {
    static func convergence(_ failing: [String]) -> StockConvergence {
        let checks = failing.map { kind in
            ConvergenceCheck(check: kind, quantity: kind == "divergences" ? "" : "Universal→Additional", chain: kind == "divergences" ? 1 : nil,
                             value: kind == "divergences" ? 3 : 1.2, threshold: kind == "divergences" ? 0 : 1.01, passed: false)
        }
        return StockConvergence(checks: checks, thresholds: ConvergenceThresholds())
    }

    @Test func disagreementAloneSaysTheChainsWereExtended() {
        let advice = Self.convergence(["r_hat"]).advice
        #expect(advice.count == 1)
        #expect(advice[0].contains("(the chains were extended up to it)"))
    }

    @Test func withDivergencesItSaysNoRoundsRanAndSuggestsTheTargetAcceptance() {
        let advice = Self.convergence(["r_hat", "ess_bulk", "divergences"]).advice
        #expect(advice.count == 3)
        #expect(!advice.joined().contains("were extended up to"))
        #expect(advice[0].contains("no extension rounds were run, because of the divergent transitions"))
        #expect(advice[1].contains("no extension rounds were run"))
        #expect(advice[2].contains("stocks.targetAcceptance toward 0.95"))
    }
}
