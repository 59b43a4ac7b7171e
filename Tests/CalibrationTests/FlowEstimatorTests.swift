import CGSL
import Calibration
import Foundation
import Stochastics
import Testing

private let levels = ["Universal", "Additional", "Intensive"]
private let start = Day(iso: "2023-04-01")!
private let end = Day(iso: "2024-04-01")!  // 366 days

private func flow(_ from: String, _ to: String, _ n: Int, area: String = "north",
                  start: Day = start, end: Day = end, line: Int = 0) -> FlowCount {
    FlowCount(periodStart: start, periodEnd: end, area: area, from: from, to: to, count: n, line: line)
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

@Suite("Flow counts: Dirichlet–multinomial posterior and yearly rates")
struct FlowEstimatorTests {
    /// Fuzz class calibration/count-overflow: every count at the reader's maximum, pooled over
    /// many areas, sums without overflow (counts near Int.max used to trap in the row sums).
    /// Fuzz class calibration/large-count-hang: the approximate Beta quantiles used above
    /// `FlowRow.exactBetaLimit` agree with GSL's exact ones where GSL still answers, within 15 % of
    /// a posterior sd (the gamma limit's error is about √(a/b) sd; the normal's far less).
    @Test(arguments: [(30_000.0, 100_000.0), (5.0, 1_000_000.0), (0.5, 1_000_000.0), (1_000_000.0, 0.5),
                      (100_000.0, 500_000.0), (2_000.0, 200_000.0)])
    func approximateBetaQuantilesAgreeWithTheExactOnes(a: Double, b: Double) {
        for q in [0.025, 0.5, 0.975] {
            let exact = Quantiles.beta(q, a, b)
            let approximate = FlowRow.betaQuantile(q, a, b)
            let sd = (a * b / ((a + b) * (a + b) * (a + b + 1))).squareRoot()
            #expect(abs(approximate - exact) <= 0.15 * sd + 1e-12, "q \(q), a \(a), b \(b): \(approximate) vs \(exact)")
        }
    }

    @Test func countsAtTheReadersMaximumPooledOverManyAreasDoNotOverflow() throws {
        let big = DataFiles.maximumCount
        let flows = (0..<200).flatMap { a in
            [flow("Universal", "Additional", big, area: "a\(a)"), flow("Universal", "exit", big, area: "a\(a)"),
             flow("Universal", "Universal", big, area: "a\(a)"), flow("Additional", "Universal", big, area: "a\(a)"),
             flow("Additional", "Additional", big, area: "a\(a)"), flow("Intensive", "Intensive", big, area: "a\(a)")]
        }
        let e = try #require(try FlowEstimator.estimate(flows: flows, levels: levels,
                                                        options: .init(pooling: .pooled)).first)
        #expect(e.areas.count == 200)
    }

    /// Coverage of the 95 % credible intervals over 400 synthetic data sets.
    ///
    /// Truth: 3 levels plus exit, every move allowed; 300, 200 and 150
    /// children at risk in the three rows, destinations multinomial
    /// (`gsl_ran_multinomial`) on the testing stream of each seed. 400 seeds
    /// × 12 probabilities = 4,800 intervals. Pass: the overall coverage is
    /// within 0.95 ± 4·√(0.95·0.05/4800) = 0.95 ± 0.0126, and every single
    /// probability's coverage within 0.95 ± 4·√(0.95·0.05/400) = ± 0.044.
    /// Measured: 0.950 overall (4,560 of 4,800); single probabilities 0.935–0.975.
    @Test func credibleIntervalsCoverTheTruthAboutNinetyFivePercentOfTheTime() throws {
        let truth: [[Double]] = [  // destinations: Universal, Additional, Intensive, exit
            [0.80, 0.12, 0.03, 0.05],
            [0.25, 0.60, 0.10, 0.05],
            [0.05, 0.30, 0.60, 0.05],
        ]
        let atRisk: [UInt32] = [300, 200, 150]
        let destinations = levels + [FlowEnd.exit]
        let seeds = 400
        var covered = [[Int]](repeating: [Int](repeating: 0, count: 4), count: 3)
        let stream = RandomStream(StreamAddress(seed: 20_240_401, replication: 0, purpose: .testing))
        for seed in 0..<seeds {
            stream.move(to: StreamAddress(seed: 20_240_401, replication: UInt32(seed), purpose: .testing))
            var flows: [FlowCount] = []
            for i in 0..<3 {
                var n = [UInt32](repeating: 0, count: 4)
                stream.withGenerator { r in
                    truth[i].withUnsafeBufferPointer { p in
                        n.withUnsafeMutableBufferPointer { gsl_ran_multinomial(r, 4, atRisk[i], p.baseAddress, $0.baseAddress) }
                    }
                }
                for j in 0..<4 { flows.append(flow(levels[i], destinations[j], Int(n[j]))) }
            }
            let estimate = try #require(try FlowEstimator.estimate(flows: flows, levels: levels).first)
            for i in 0..<3 {
                for j in 0..<4 where estimate.rows[i].lower[j] <= truth[i][j] && truth[i][j] <= estimate.rows[i].upper[j] {
                    covered[i][j] += 1
                }
            }
        }
        let total = Double(covered.joined().reduce(0, +)) / Double(seeds * 12)
        let tolerance = 4 * (0.95 * 0.05 / Double(seeds * 12)).squareRoot()
        #expect(abs(total - 0.95) <= tolerance, "overall coverage \(total), expected 0.95 ± \(tolerance)")
        let cellTolerance = 4 * (0.95 * 0.05 / Double(seeds)).squareRoot()
        for i in 0..<3 {
            for j in 0..<4 {
                let c = Double(covered[i][j]) / Double(seeds)
                #expect(abs(c - 0.95) <= cellTolerance, "coverage of \(levels[i])→\(destinations[j]) is \(c)")
            }
        }
    }

    @Test func posteriorIsPriorPlusCountsWithBetaIntervals() throws {
        let flows = [flow("Universal", "Universal", 90), flow("Universal", "Additional", 8), flow("Universal", "exit", 2),
                     flow("Additional", "Additional", 10), flow("Additional", "Universal", 5),
                     flow("Intensive", "Intensive", 4)]
        let e = try #require(try FlowEstimator.estimate(flows: flows, levels: levels,
                                                       options: .init(concentration: 1)).first)
        let u = e.rows[0]
        #expect(u.counts == [90, 8, 0, 2] && u.atRisk == 100 && u.stayersFrom == .flows)
        #expect(u.alpha == [91, 9, 1, 3])
        #expect(abs(u.mean[1] - 9.0 / 104) < 1e-15)
        // Beta(9, 95) marginal: check the interval's tail masses with the CDF.
        #expect(abs(gsl_cdf_beta_P(u.lower[1], 9, 95) - 0.025) < 1e-9)
        #expect(abs(gsl_cdf_beta_Q(u.upper[1], 9, 95) - 0.025) < 1e-9)
        #expect(e.periodYears == 366 / 365.25 && e.periodCount == 1 && e.areas == ["north"])
    }

    @Test func stayersComeFromStocksAtThePeriodStartWhenFlowsDoNotGiveThem() throws {
        let moves = [flow("Universal", "Additional", 30, line: 2), flow("Universal", "exit", 10, line: 3),
                     flow("Additional", "Universal", 12, line: 4), flow("Intensive", "Intensive", 20, line: 5)]
        let stocks = [StockCount(date: start, area: "north", level: "Universal", count: 500, line: 2),
                      StockCount(date: start, area: "north", level: "Additional", count: 80, line: 3),
                      StockCount(date: end, area: "north", level: "Additional", count: 9_999, line: 4)]
        let fromStocks = try #require(try FlowEstimator.estimate(flows: moves, stocks: stocks, levels: levels).first)
        #expect(fromStocks.rows[0].counts == [460, 30, 0, 10] && fromStocks.rows[0].stayersFrom == .stocks)
        #expect(fromStocks.rows[1].counts == [12, 68, 0, 0])
        #expect(fromStocks.rows[2].stayersFrom == .flows)
        let explicit = moves + [flow("Universal", "Universal", 460), flow("Additional", "Additional", 68)]
        let fromFlows = try #require(try FlowEstimator.estimate(flows: explicit, levels: levels).first)
        #expect(fromFlows.rows.map(\.alpha) == fromStocks.rows.map(\.alpha))

        // Without stocks: the error says which row, which period, and what would do.
        let missing = issues { () throws(CalibrationDataError) in _ = try FlowEstimator.estimate(flows: moves, levels: levels) }
        #expect(missing.count == 2)
        #expect(missing.first?.found.contains("no stayers for Universal in area 'north', period 2023-04-01 to 2024-04-01") == true)
        #expect(missing.first?.expected.contains("the stock of Universal on 2023-04-01 in stocks.csv") == true)
        // A stock smaller than the moves out.
        let small = [StockCount(date: start, area: "north", level: "Universal", count: 35, line: 2),
                     StockCount(date: start, area: "north", level: "Additional", count: 80, line: 3)]
        let negative = issues { () throws(CalibrationDataError) in _ = try FlowEstimator.estimate(flows: moves, stocks: small, levels: levels) }
        #expect(negative.count == 1 && negative[0].found.contains("35 children in Universal") && negative[0].found.contains("40 leaving"))
    }

    @Test func structuralZerosHaveNoMassAndCountsOnThemAreRefused() throws {
        let flows = [flow("Universal", "Universal", 50), flow("Universal", "Additional", 5),
                     flow("Additional", "Additional", 20), flow("Additional", "Intensive", 2), flow("Additional", "Universal", 3),
                     flow("Intensive", "Intensive", 10), flow("Intensive", "Additional", 1)]
        let options = FlowEstimator.Options(allowed: .adjacent)
        let e = try #require(try FlowEstimator.estimate(flows: flows, levels: levels, options: options).first)
        let u = e.rows[0]
        #expect(u.alpha[2] == 0 && u.mean[2] == 0 && u.lower[2] == 0 && u.upper[2] == 0)
        #expect(abs(u.mean.reduce(0, +) - 1) < 1e-15)
        #expect(e.meanProbabilities["Universal"]?["Intensive"] == nil)
        #expect(e.meanRatesPerYear["Intensive"]?["Universal"] == nil && e.meanRatesPerYear["Intensive"]?["Additional"] != nil)
        let stream = RandomStream(StreamAddress(seed: 7, replication: 0, purpose: .testing))
        for draw in e.draws(50, from: stream) {
            #expect(draw.probabilities["Universal"]?["Intensive"] == nil && draw.ratesPerYear["Intensive"]?["Universal"] == nil)
        }
        let refused = issues { () throws(CalibrationDataError) in
            _ = try FlowEstimator.estimate(flows: flows + [flow("Universal", "Intensive", 1, line: 9)], levels: levels, options: options)
        }
        #expect(refused.count == 1 && refused[0].line == 9 && refused[0].found.contains("Universal→Intensive, a move that is not allowed"))
    }

    /// The competing-risks conversion against a hand computation.
    ///
    /// Row (0.7, 0.2, 0.1), staying first, over half a year: p = 0.3, the total
    /// rate −ln(0.7)/0.5 = 0.71334988787746…, split 2 : 1.
    @Test func ratesByCompetingRisksMatchAHandComputation() throws {
        let r = FlowEstimator.competingRiskRates([0.7, 0.2, 0.1], stay: 0, periodYears: 0.5)
        #expect(abs(r[1] - 0.47556659191830994) < 1e-14)
        #expect(abs(r[2] - 0.23778329595915497) < 1e-14)
        #expect(abs(r[0] + 0.71334988787746490) < 1e-14)
        #expect(FlowEstimator.competingRiskRates([0, 1, 0], stay: 1, periodYears: 1) == [0, 0, 0])
        // The total rate reproduces the chance of leaving over the period.
        #expect(abs(1 - exp(r[0] * 0.5) - 0.3) < 1e-15)

        // Through the estimator: posterior means of a year of counts (prior 1).
        let flows = [flow("Universal", "Universal", 69), flow("Universal", "Additional", 19), flow("Universal", "exit", 9),
                     flow("Additional", "Additional", 10), flow("Intensive", "Intensive", 10)]
        let e = try #require(try FlowEstimator.estimate(flows: flows, levels: levels, options: .init(concentration: 1)).first)
        // Means (70, 20, 1, 10)/101; leaving 31/101 over 366/365.25 years.
        let total = -log(70.0 / 101) / (366 / 365.25)
        let rates = try #require(e.meanRatesPerYear["Universal"])
        #expect(abs(rates["Additional"]! - total * 20 / 31) < 1e-13)
        #expect(abs(rates["Intensive"]! - total * 1 / 31) < 1e-13)
        #expect(abs(rates["exit"]! - total * 10 / 31) < 1e-13)
        #expect(rates["Universal"] == nil)
    }

    @Test func drawsAreReproducibleRowsSumToOneAndAverageToThePosteriorMean() throws {
        let flows = [flow("Universal", "Universal", 160), flow("Universal", "Additional", 30), flow("Universal", "exit", 10),
                     flow("Additional", "Additional", 40), flow("Additional", "Universal", 15), flow("Additional", "Intensive", 5),
                     flow("Intensive", "Intensive", 20), flow("Intensive", "Additional", 8)]
        let e = try #require(try FlowEstimator.estimate(flows: flows, levels: levels).first)
        let address = StreamAddress(seed: 99, replication: 3, purpose: .testing)
        let a = e.draws(2_000, from: RandomStream(address))
        let b = e.draws(2_000, from: RandomStream(address))
        #expect(a == b)
        for d in a.prefix(100) {
            for (_, row) in d.probabilities { #expect(abs(row.values.reduce(0, +) - 1) < 1e-12) }
        }
        // Mean of 2,000 draws of p(Universal→Additional) within 4 Monte Carlo SEs of the posterior mean.
        let row = e.rows[0]
        let x = a.map { $0.probabilities["Universal"]!["Additional"]! }
        let mean = x.reduce(0, +) / Double(x.count)
        let total = row.alpha.reduce(0, +)
        let sd = (row.mean[1] * (1 - row.mean[1]) / (total + 1)).squareRoot()
        #expect(abs(mean - row.mean[1]) < 4 * sd / Double(x.count).squareRoot())
        // Each draw's rates are the competing-risks conversion of its probabilities.
        let d = a[0], p = d.probabilities["Universal"]!
        let r = FlowEstimator.competingRiskRates([p["Universal"]!, p["Additional"]!, p["Intensive"]!, p["exit"]!],
                                                 stay: 0, periodYears: e.periodYears)
        #expect(abs(d.ratesPerYear["Universal"]!["Additional"]! - r[1]) < 1e-15)
    }

    @Test func poolsAreasAndPeriodsOfOneLengthAndCountsEntriesPerYear() throws {
        let next = Day(iso: "2025-04-01")!  // 365 days after `end`
        var flows: [FlowCount] = []
        for (area, k) in [("north", 1), ("south", 2)] {
            for (s, e) in [(start, end), (end, next)] {
                flows += [flow("Universal", "Universal", 50 * k, area: area, start: s, end: e),
                          flow("Universal", "Additional", 5 * k, area: area, start: s, end: e),
                          flow("Additional", "Additional", 10, area: area, start: s, end: e),
                          flow("Intensive", "Intensive", 3, area: area, start: s, end: e),
                          flow(FlowEnd.entry, "Universal", 7 * k, area: area, start: s, end: e)]
            }
        }
        let perArea = try FlowEstimator.estimate(flows: flows, levels: levels)
        #expect(perArea.map(\.areas) == [["north"], ["south"]])
        #expect(perArea[0].rows[0].counts == [100, 10, 0, 0] && perArea[1].rows[0].counts == [200, 20, 0, 0])
        #expect(perArea[0].periodCount == 2 && abs(perArea[0].periodYears - 365.5 / 365.25) < 1e-15)
        #expect(perArea[0].entries["Universal"] == 14 && abs(perArea[0].entriesPerYear["Universal"]! - 14 / (731 / 365.25)) < 1e-12)
        #expect(perArea[0].entriesPerYear["Intensive"] == 0)
        let pooled = try FlowEstimator.estimate(flows: flows, levels: levels, options: .init(pooling: .pooled))
        #expect(pooled.count == 1 && pooled[0].areas == ["north", "south"] && pooled[0].periodCount == 4)
        #expect(pooled[0].rows[0].counts == [300, 30, 0, 0])
        #expect(abs(pooled[0].entriesPerYear["Universal"]! - 42 / (731 / 365.25)) < 1e-12)

        // A quarter next to years is refused, naming the lengths.
        let quarter = flows + [flow("Universal", "Universal", 5, area: "south", start: next, end: Day(iso: "2025-07-01")!)]
        let refused = issues { () throws(CalibrationDataError) in _ = try FlowEstimator.estimate(flows: quarter, levels: levels) }
        #expect(refused.count == 1 && refused[0].found.contains("area 'south'") && refused[0].found.contains("(91 days)"))
    }

    @Test func exitsCanBeExcludedSoRowsAreConditionalOnStaying() throws {
        let flows = [flow("Universal", "Universal", 80), flow("Universal", "Additional", 10), flow("Universal", "exit", 10),
                     flow("Additional", "Additional", 10), flow("Intensive", "Intensive", 10)]
        let e = try #require(try FlowEstimator.estimate(flows: flows, levels: levels,
                                                       options: .init(concentration: 1, exitIsDestination: false)).first)
        #expect(e.rows[0].counts == [80, 10, 0, 0] && e.rows[0].alpha == [81, 11, 1, 0])
        #expect(e.meanRatesPerYear["Universal"]?["exit"] == nil)
    }

    @Test func badOptionsAreRefused() {
        let found = issues { () throws(CalibrationDataError) in
            _ = try FlowEstimator.estimate(flows: [flow("Universal", "Universal", 1)], levels: levels,
                                           options: .init(concentration: 0, allowed: .only([LevelMove("Universal", "Nowhere")])))
        }
        #expect(found.count == 2)
    }
}
