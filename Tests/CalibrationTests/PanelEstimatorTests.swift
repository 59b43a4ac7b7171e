import CGSL
import Calibration
import Foundation
import Stochastics
import Testing

private let levels = ["Universal", "Additional", "Intensive"]
private let origin = Day(iso: "2015-01-01")!

/// Children followed exactly through a continuous-time Markov chain with
/// generator `q` (exponential holding times, jumps in proportion to the rates,
/// by GSL on the testing stream of (seed, replication, child)), each seen on
/// 4–6 visits with gaps uniform on 0.3–1.5 years, rounded to whole days.
private func simulatePanel(_ q: [[Double]], children: Int, seed: UInt64, replication: UInt32,
                           start: [Double] = [0.5, 0.3, 0.2], area: String? = nil) -> PanelData {
    let k = q.count
    var records: [PanelRecord] = []
    var areaOfChild: [String: String] = [:]
    let stream = RandomStream(StreamAddress(seed: seed, replication: replication, purpose: .testing))
    for c in 0..<children {
        stream.move(to: StreamAddress(seed: seed, replication: replication, purpose: .testing, index: UInt32(c)))
        let id = "\(area ?? "")c\(c)"
        if let area { areaOfChild[id] = area }
        stream.withGenerator { r in
            var u = gsl_rng_uniform(r), x = 0
            while x < k - 1 && u >= start[x] { u -= start[x]; x += 1 }
            let visits = 4 + Int(gsl_rng_uniform_int(r, 3))
            var day = Int(gsl_rng_uniform_int(r, 365))
            var t = Double(day) / 365.25  // the chain's clock, in years
            var nextJump = t + gsl_ran_exponential(r, 1 / -q[x][x])
            for v in 0..<visits {
                if v > 0 { day += Int((gsl_ran_flat(r, 0.3, 1.5) * 365.25).rounded()) }
                let seen = Double(day) / 365.25
                while nextJump <= seen {
                    t = nextJump
                    var w = gsl_rng_uniform(r) * -q[x][x], y = x
                    for j in 0..<k where j != x && q[x][j] > 0 {
                        y = j
                        if w < q[x][j] { break }
                        w -= q[x][j]
                    }
                    x = y
                    nextJump = t + gsl_ran_exponential(r, 1 / -q[x][x])
                }
                records.append(PanelRecord(child: id, date: Day(daysSinceEpoch: origin.daysSinceEpoch + day),
                                           level: levels[x], line: records.count + 2))
            }
        }
    }
    return PanelData(records: records, areaOfChild: areaOfChild)
}

private func issues(sourceLocation: SourceLocation = #_sourceLocation,
                    _ body: () throws(CalibrationDataError) -> Void) -> [DataIssue] {
    do {
        try body()
        Issue.record("estimation succeeded but should have failed", sourceLocation: sourceLocation)
        return []
    } catch {
        return error.issues
    }
}

@Suite("Panel records: maximum-likelihood rate matrix")
struct PanelEstimatorTests {
    /// Every move allowed, 6 rates: recovery within 4 standard errors in each
    /// of 5 replicate data sets of 1,500 children, the likelihood at the MLE at
    /// least that at the truth, and the mean SE within a factor 2.5 of the
    /// spread of the estimates over the replicates (loose: 5 replicates give
    /// an SD within about ×0.4–×1.7 of its value). Measured: largest
    /// |q̂ − q|/SE 2.3 over the 30 estimates; mean SE / spread 0.6–1.7;
    /// 14–16 BFGS iterations.
    @Test func recoversAKnownRateMatrixWithinItsStandardErrors() throws {
        let truth: [[Double]] = [[-0.35, 0.30, 0.05], [0.50, -0.70, 0.20], [0.10, 0.40, -0.50]]
        let replicates = 5
        var estimates: [[Double]] = [], ses: [[Double]] = []
        for rep in 0..<replicates {
            let panel = simulatePanel(truth, children: 1_500, seed: 1985, replication: UInt32(rep))
            let fit = try #require(try PanelEstimator.estimate(panel, levels: levels, options: .init(allowed: .all)).first)
            #expect(fit.converged, "\(fit.notes)")
            #expect(fit.notes.isEmpty, "\(fit.notes)")
            #expect(fit.rates.count == 6 && fit.children == 1_500)
            let atTruth = PanelEstimator.logLikelihood(truth, records: panel.records, levels: levels)
            #expect(fit.logLikelihood >= atTruth - 1e-6, "log L at the MLE \(fit.logLikelihood) below that at the truth \(atTruth)")
            for r in fit.rates {
                let i = levels.firstIndex(of: r.move.from)!, j = levels.firstIndex(of: r.move.to)!
                let se = try #require(r.standardError)
                #expect(abs(r.rate - truth[i][j]) <= 4 * se, "\(r.move): \(r.rate) ± \(se), truth \(truth[i][j])")
                #expect(r.lower! < r.rate && r.rate < r.upper!)
            }
            for row in fit.generator { #expect(abs(row.reduce(0, +)) < 1e-12) }
            estimates.append(fit.rates.map(\.rate))
            ses.append(fit.rates.map { $0.standardError! })
        }
        for m in 0..<6 {
            let x = estimates.map { $0[m] }
            let mean = x.reduce(0, +) / Double(replicates)
            let sd = (x.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(replicates - 1)).squareRoot()
            let meanSE = ses.map { $0[m] }.reduce(0, +) / Double(replicates)
            #expect(meanSE < 2.5 * sd && meanSE > sd / 2.5, "move \(m): mean SE \(meanSE), spread \(sd)")
        }
    }

    @Test func aDisallowedMoveStaysAtZero() throws {
        let truth: [[Double]] = [[-0.3, 0.3, 0], [0.5, -0.7, 0.2], [0, 0.4, -0.4]]
        let panel = simulatePanel(truth, children: 1_000, seed: 2011, replication: 0)
        let fit = try #require(try PanelEstimator.estimate(panel, levels: levels).first)  // default: adjacent moves
        #expect(fit.generator[0][2] == 0 && fit.generator[2][0] == 0)
        #expect(fit.rate("Universal", "Intensive") == 0)
        #expect(fit.rates.map(\.move) == [LevelMove("Universal", "Additional"), LevelMove("Additional", "Universal"),
                                          LevelMove("Additional", "Intensive"), LevelMove("Intensive", "Additional")])
        for r in fit.rates {
            let i = levels.firstIndex(of: r.move.from)!, j = levels.firstIndex(of: r.move.to)!
            #expect(abs(r.rate - truth[i][j]) <= 4 * r.standardError!, "\(r.move): \(r.rate) ± \(r.standardError!)")
        }
        #expect(fit.ratesPerYear["Universal"]?["Intensive"] == nil && fit.ratesPerYear["Universal"]?["Additional"] == fit.generator[0][1])

        // An explicit set: only escalation out of Universal and step-down out of Intensive, plus Additional → Intensive.
        let only = AllowedMoves.only([LevelMove("Universal", "Additional"), LevelMove("Additional", "Intensive"),
                                      LevelMove("Intensive", "Additional"), LevelMove("Additional", "Universal")])
        let same = try #require(try PanelEstimator.estimate(panel, levels: levels, options: .init(allowed: only)).first)
        #expect(zip(same.rates, fit.rates).allSatisfy { abs($0.rate - $1.rate) < 1e-9 * $1.rate })
    }

    @Test func insufficientDataIsAnErrorThatSaysWhy() {
        func rec(_ child: String, _ date: String, _ level: String, _ line: Int) -> PanelRecord {
            PanelRecord(child: child, date: Day(iso: date)!, level: level, line: line)
        }
        // Nobody seen twice.
        let once = PanelData(records: [rec("a", "2020-01-01", "Universal", 2), rec("b", "2020-01-01", "Additional", 3)])
        let none = issues { () throws(CalibrationDataError) in _ = try PanelEstimator.estimate(once, levels: levels) }
        #expect(none.count == 1 && none[0].found.contains("no child seen on two dates"))

        // Nobody leaves Intensive; nobody is seen in it before a later visit either for another level set.
        let stuck = PanelData(records: [
            rec("a", "2020-01-01", "Universal", 2), rec("a", "2021-01-01", "Additional", 3), rec("a", "2022-01-01", "Universal", 4),
            rec("b", "2020-01-01", "Intensive", 5), rec("b", "2021-01-01", "Intensive", 6),
        ])
        let noExit = issues { () throws(CalibrationDataError) in _ = try PanelEstimator.estimate(stuck, levels: levels) }
        #expect(noExit.count == 1 && noExit[0].file == "panel.csv")
        #expect(noExit.first?.found.contains("no change out of Intensive seen (1 pairs stay in Intensive)") == true)
        let four = levels + ["Compulsory"]
        let unseen = issues { () throws(CalibrationDataError) in _ = try PanelEstimator.estimate(stuck, levels: four) }
        #expect(unseen.contains { $0.found.contains("no child seen in Compulsory before a later record") })

        // A jump the allowed moves cannot make, named by child and line.
        let jump = PanelData(records: [rec("a", "2020-01-01", "Universal", 2), rec("a", "2021-01-01", "Intensive", 3)])
        let upOnly = AllowedMoves.only([LevelMove("Additional", "Intensive")])
        let cannot = issues { () throws(CalibrationDataError) in
            _ = try PanelEstimator.estimate(jump, levels: levels, options: .init(allowed: upOnly))
        }
        #expect(cannot.first?.line == 3 && cannot.first?.found.contains("child 'a' in Universal on 2020-01-01 (line 2)") == true)
    }

    @Test func estimatesPerAreaOrPooled() throws {
        let slow: [[Double]] = [[-0.2, 0.2, 0], [0.4, -0.5, 0.1], [0, 0.3, -0.3]]
        let fast: [[Double]] = [[-0.6, 0.6, 0], [0.8, -1.2, 0.4], [0, 0.9, -0.9]]
        let a = simulatePanel(slow, children: 800, seed: 5, replication: 0, area: "north")
        let b = simulatePanel(fast, children: 800, seed: 5, replication: 1, area: "south")
        let both = PanelData(records: a.records + b.records, areaOfChild: a.areaOfChild.merging(b.areaOfChild) { x, _ in x })
        let perArea = try PanelEstimator.estimate(both, levels: levels)
        #expect(perArea.map(\.areas) == [["north"], ["south"]] && perArea.map(\.children) == [800, 800])
        for (fit, truth) in zip(perArea, [slow, fast]) {
            for r in fit.rates {
                let i = levels.firstIndex(of: r.move.from)!, j = levels.firstIndex(of: r.move.to)!
                #expect(abs(r.rate - truth[i][j]) <= 4 * r.standardError!, "\(fit.areas) \(r.move): \(r.rate) ± \(r.standardError!)")
            }
        }
        let pooled = try PanelEstimator.estimate(both, levels: levels, options: .init(pooling: .pooled))
        #expect(pooled.count == 1 && pooled[0].areas == ["north", "south"] && pooled[0].children == 1_600)
        let q01 = pooled[0].rate("Universal", "Additional")
        #expect(q01 > perArea[0].rate("Universal", "Additional") && q01 < perArea[1].rate("Universal", "Additional"))
    }

    /// The likelihood against the closed form of a two-level chain:
    /// P₀₀(t) = b/(a+b) + a/(a+b)·e^{−(a+b)t}, P₀₁ = 1 − P₀₀, P₁₀(t) = b/(a+b)·(1 − e^{−(a+b)t}).
    @Test func logLikelihoodMatchesTheTwoStateClosedForm() {
        let a = 0.7, b = 0.3
        let two = ["Low", "High"]
        let d0 = Day(iso: "2020-01-01")!
        func day(_ n: Int) -> Day { Day(daysSinceEpoch: d0.daysSinceEpoch + n) }
        let records = [
            PanelRecord(child: "x", date: day(0), level: "Low", line: 2), PanelRecord(child: "x", date: day(200), level: "Low", line: 3),
            PanelRecord(child: "x", date: day(900), level: "High", line: 4), PanelRecord(child: "y", date: day(10), level: "High", line: 5),
            PanelRecord(child: "y", date: day(1_377), level: "Low", line: 6),
        ]
        func p00(_ t: Double) -> Double { b / (a + b) + a / (a + b) * exp(-(a + b) * t) }
        func p10(_ t: Double) -> Double { b / (a + b) * (1 - exp(-(a + b) * t)) }
        let expected = log(p00(200 / 365.25)) + log(1 - p00(700 / 365.25)) + log(p10(1_367 / 365.25))
        let found = PanelEstimator.logLikelihood([[-a, a], [b, -b]], records: records.reversed(), levels: two)
        #expect(abs(found - expected) < 1e-11, "\(found) vs \(expected)")
    }

    @Test func theOptimizerFindsTheMinimumOfRosenbrocksFunction() {
        let f: ([Double]) -> Double = { x in 100 * pow(x[1] - x[0] * x[0], 2) + pow(1 - x[0], 2) }
        let result = Optimizer.minimize(f, from: [-1.2, 1])
        #expect(result.converged, "\(result.message)")
        #expect(abs(result.x[0] - 1) < 1e-4 && abs(result.x[1] - 1) < 1e-4, "\(result.x)")
        // The Hessian at (1, 1) is [[802, −400], [−400, 200]]; its inverse through Cholesky.
        let h = Optimizer.hessian(f, at: [1, 1])
        #expect(abs(h[0][0] - 802) < 1e-3 && abs(h[0][1] + 400) < 1e-3 && abs(h[1][1] - 200) < 1e-3)
        let inv = Optimizer.inversePositiveDefinite([[802, -400], [-400, 200]])!
        #expect(abs(inv[0][0] - 0.5) < 1e-12 && abs(inv[0][1] - 1) < 1e-12 && abs(inv[1][1] - 2.005) < 1e-12)
        #expect(Optimizer.inversePositiveDefinite([[1, 2], [2, 1]]) == nil)
    }
}
