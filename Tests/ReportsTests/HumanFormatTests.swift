import Foundation
import Testing
@testable import Reports

/// Numbers for people in the terminal and the report: each expected string written out by hand.
@Suite struct HumanFormatTests {
    @Test func countsHaveThousandsSeparators() {
        #expect(HumanFormat.count(0) == "0")
        #expect(HumanFormat.count(999) == "999")
        #expect(HumanFormat.count(1234) == "1,234")
        #expect(HumanFormat.count(1_234_567) == "1,234,567")
        #expect(HumanFormat.count(-42_000) == "−42,000")
    }

    @Test func moneyIsInPoundsWithMillionsAndATrueMinus() {
        #expect(HumanFormat.money(431_599_000) == "£431.6 million")
        #expect(HumanFormat.money(-13_090_800) == "−£13.09 million")
        #expect(HumanFormat.money(-128_858) == "−£128,858")
        #expect(HumanFormat.money(20_000) == "£20,000")
        #expect(HumanFormat.money(2_500_000_000) == "£2.5 billion")
        #expect(HumanFormat.money(12.345) == "£12.35")
        #expect(HumanFormat.money(.nan) == "—")
    }

    @Test func numbersKeepFourSignificantDigitsAndWholeNumbersAsTheyAre() {
        #expect(HumanFormat.number(61_234.2) == "61,234")
        #expect(HumanFormat.number(12.345) == "12.35")
        #expect(HumanFormat.number(0.04321) == "0.04321")
        #expect(HumanFormat.number(-0.5) == "−0.5")
        #expect(HumanFormat.number(10) == "10")
        #expect(HumanFormat.number(2_500_000) == "2.5 million")
        #expect(HumanFormat.number(-0.0001, digits: 3) == "−0.0001")
    }

    @Test func anIntervalSetsTheDecimalsSoItsWidthShowsTwoDigits() {
        // Width 2.9 million: one decimal of millions.
        #expect(HumanFormat.together([431_599_000, 430_100_000, 433_000_000], width: 2_900_000, money: true)
                == ["£431.6 million", "£430.1 million", "£433.0 million"])
        // Width 0.06: three decimals.
        #expect(HumanFormat.interval(0.512, 0.482, 0.542, money: false) == "0.512 (0.482 to 0.542)")
        // Width 7.2 QoL-years: one decimal.
        #expect(HumanFormat.interval(103.31, 99.71, 106.92, money: false) == "103.3 (99.7 to 106.9)")
        // Width 392 around 167,000: no decimals, grouped.
        #expect(HumanFormat.interval(167_368.4, 167_172.2, 167_564.6, money: false) == "167,368 (167,172 to 167,565)")
        // A narrow interval keeps its ends apart: width 0.1 million → two decimals.
        #expect(HumanFormat.interval(431_600_000, 431_550_000, 431_650_000, money: true)
                == "£431.60 million (£431.55 million to £431.65 million)")
        // Replications all alike: a width at rounding level counts as none.
        #expect(HumanFormat.interval(4915.095405, 4915.095405 - 1e-12, 4915.095405 + 1e-12, money: true) == "£4,915 (£4,915 to £4,915)")
        // Nothing rounds to "−0".
        #expect(HumanFormat.together([-0.0004, 1], width: 1, money: false) == ["0.0", "1.0"])
    }

    @Test func theICERSaysItsQuadrantInWords() {
        #expect(HumanFormat.icer(deltaCost: 1_234_500, deltaQol: 100) == "£12,345 per QoL-year gained (more QoL-years at a higher cost)")
        #expect(HumanFormat.icer(deltaCost: -13_000_000, deltaQol: 100) == "dominant: more QoL-years at a lower cost")
        #expect(HumanFormat.icer(deltaCost: 0, deltaQol: 100) == "dominant: more QoL-years at the same cost")
        #expect(HumanFormat.icer(deltaCost: 5_000, deltaQol: -1) == "dominated: fewer QoL-years at a higher cost")
        #expect(HumanFormat.icer(deltaCost: -1_234_500, deltaQol: -100) == "£12,345 saved per QoL-year lost (fewer QoL-years at a lower cost)")
        #expect(HumanFormat.icer(deltaCost: 5, deltaQol: 0) == "undefined: no difference in QoL-years")
    }

    @Test func progressLinesComeEveryIntervalAndOnceAtTheEnd() {
        var lines = ProgressLines(intervalSeconds: 10)
        do { let due = lines.due(done: 1, total: 100, elapsed: 0.5); #expect(!due) }
        do { let due = lines.due(done: 30, total: 100, elapsed: 9.9); #expect(!due) }
        do { let due = lines.due(done: 31, total: 100, elapsed: 10.0); #expect(due) }
        do { let due = lines.due(done: 50, total: 100, elapsed: 19.9); #expect(!due) }
        do { let due = lines.due(done: 51, total: 100, elapsed: 20.1); #expect(due) }
        do { let due = lines.due(done: 100, total: 100, elapsed: 21); #expect(due) }
        do { let due = lines.due(done: 100, total: 100, elapsed: 22); #expect(!due, "the last line comes once") }
        #expect(ProgressLines.line(label: "girfec run", done: 250, total: 1000, unit: "replications", elapsed: 5)
                == "girfec run: 250 of 1,000 replications (25 %), 0:05 elapsed, about 0:15 left")
        #expect(ProgressLines.line(label: "girfec run", done: 1000, total: 1000, unit: "replications", elapsed: 3725)
                == "girfec run: 1,000 of 1,000 replications (100 %) in 1:02:05")
    }
}

/// The report's figures carry the captions the figure scripts write beside them.
@Suite struct ReportFigureTests {
    @Test func captionsBesideTheFiguresReachEveryReportFile() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("girfec-figures-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder + "/figures", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try Data([0x89]).write(to: URL(fileURLWithPath: folder + "/figures/b_stocks.png"))
        try Data([0x89]).write(to: URL(fileURLWithPath: folder + "/figures/a_costs.png"))
        try Data([0x89]).write(to: URL(fileURLWithPath: folder + "/figures/c.svg"))
        try "Mean cost, 95 % CI; “base” £1,000 & more\n".write(toFile: folder + "/figures/a_costs.caption.txt", atomically: true, encoding: .utf8)
        let figures = ReportFigure.inFolder(folder)
        #expect(figures == [ReportFigure(path: "figures/a_costs.png", caption: "Mean cost, 95 % CI; “base” £1,000 & more"),
                            ReportFigure(path: "figures/b_stocks.png", caption: nil)])
        var doc = ReportDocument(title: "t")
        doc.paragraph("x")
        let files = Dictionary(uniqueKeysWithValues: doc.files(folder: folder, figures: figures).map { ($0.name, $0.text) })
        #expect(files["report.md"]!.contains("![figures/a_costs.png](figures/a_costs.png)\n\n*Mean cost, 95 % CI; “base” £1,000 & more*"))
        #expect(files["report.tex"]!.contains("\\caption{Mean cost, 95 \\% CI; ``base'' \\pounds{}1,000 \\& more (\\texttt{figures/a\\_\\allowbreak{}costs.png})}"))
        #expect(files["report.tex"]!.contains("\\caption{\\texttt{figures/b\\_\\allowbreak{}stocks.png}}"))
    }
}
