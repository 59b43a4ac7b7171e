import Model
import Testing

/// Which steps make a year, and a year's values: sums of what happens during steps, end values of states.
@Suite("Yearly results layout")
struct YearlyLayoutTests {
    @Test func monthlyStepsOverAHorizonThatIsNotAWholeNumberOfYears() {
        let layout = YearlyLayout(record: RecordLayout(levelCount: 2, steps: 30), stepMonths: 1)
        #expect(layout.years.map(\.number) == [1, 2, 3])
        #expect(layout.years.map(\.steps) == [1...12, 13...24, 25...30])
        #expect(layout.years.map(\.startYears) == [0, 1, 2])
        #expect(layout.years.map(\.endYears) == [1, 2, 2.5])
        #expect(YearlyLayout.yearCount(steps: 30, stepMonths: 1) == 3)
    }

    @Test func stepsThatDoNotDivideAYearGoToTheYearTheyEndIn() {
        // 5-month steps end at months 5, 10 | 15, 20 | 25, 30, 35 | 40, 45 | 50, 55, 60.
        let layout = YearlyLayout(record: RecordLayout(levelCount: 2, steps: 12), stepMonths: 5)
        #expect(layout.years.map(\.steps) == [1...2, 3...4, 5...7, 8...9, 10...12])
        let ends: [Double] = [10, 20, 35, 45, 60].map { $0 / 12 }
        #expect(layout.years.map(\.startYears) == [0] + ends.dropLast())
        #expect(layout.years.map(\.endYears) == ends)
        #expect(YearlyLayout.yearCount(steps: 12, stepMonths: 5) == 5)
        // Two-year steps: one step per year it ends in; the years between have no row.
        let long = YearlyLayout(record: RecordLayout(levelCount: 2, steps: 3), stepMonths: 24)
        #expect(long.years.map(\.number) == [2, 4, 6])
        #expect(long.years.map(\.startYears) == [0, 2, 4])
        #expect(YearlyLayout.yearCount(steps: 3, stepMonths: 24) == 3)
    }

    @Test func aYearSumsWhatHappensAndKeepsTheStateAtItsEnd() {
        let record = RecordLayout(levelCount: 3, steps: 7)
        let layout = YearlyLayout(record: record, stepMonths: 4)  // years: steps 1–3, 4–6, 7
        var values = [Double](repeating: 0, count: record.recordSize)
        for t in 0...7 { for s in 0..<record.slotCount { values[record.index(step: t, slot: s)] = Double(1000 * t + s) } }
        let yearly = layout.values(of: values)
        #expect(yearly.count == 3 * layout.slotCount)
        #expect(!layout.slots.contains { $0.quantity == .lengthOfStayYears })
        #expect(layout.slotCount == record.slotCount - 4)  // three levels and all
        for (y, steps) in [1...3, 4...6, 7...7].enumerated() {
            for (s, slot) in layout.slots.enumerated() {
                let r = record.slots.firstIndex(of: slot)!
                let expected = [Quantity.stock, .childrenReached, .cumulativeCostDiscounted, .cumulativeQolYearsDiscounted].contains(slot.quantity)
                    ? Double(1000 * steps.upperBound + r)
                    : steps.map { Double(1000 * $0 + r) }.reduce(0, +)
                #expect(yearly[layout.index(year: y, slot: s)] == expected, "year \(y + 1), \(slot.quantity) \(slot.level ?? -1)")
            }
        }
    }

    @Test func escalationsAndStepDownsAreTheMovesUpAndDown() {
        let layout = RecordLayout(levelCount: 3, steps: 1)
        var record = [Double](repeating: 0, count: layout.recordSize)
        let moves = [(0, 1, 5.0), (0, 2, 1.0), (1, 2, 2.0), (1, 0, 7.0), (2, 0, 3.0), (2, 1, 4.0)]
        for (i, j, n) in moves { record[layout.index(step: 1, slot: layout.flowSlot(from: i, to: j)!)] = n }
        layout.fillDerivedFlows(&record)
        #expect(record[layout.index(step: 1, slot: layout.slot(.escalations, level: nil))] == 8)
        #expect(record[layout.index(step: 1, slot: layout.slot(.stepDowns, level: nil))] == 14)
        #expect(record[layout.index(step: 1, slot: layout.slot(.outflow, level: 1))] == 9)
        #expect(record[layout.index(step: 1, slot: layout.slot(.inflow, level: 2))] == 3)
    }
}
