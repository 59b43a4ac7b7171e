/// A run's results by year: which steps make each year, and the yearly value of each quantity.
///
/// A step belongs to the year in which it ends: step t (covering months (t − 1)·m to t·m, with
/// m = `stepMonths`) is in year ⌈t·m / 12⌉. A year's value of a quantity that happens during steps
/// (flows, entries, exits, escalations, costs, QoL-years, …) is the sum over its steps; of a state
/// (stock, children reached, cumulative discounted totals) the value at its last step. The mean
/// length of stay is a mean, not a total, and has no yearly value (docs/outputs.md,
/// "Yearly results"). With monthly steps a year is 12 steps; with steps that do not divide
/// a year, or a horizon that is not a whole number of years, each year says the time it covers
/// (`startYears`, `endYears`), and a year in which no step ends has no row.
public struct YearlyLayout: Sendable, Equatable {
    /// One year of the horizon.
    public struct Year: Sendable, Equatable {
        /// 1 for the first year.
        public var number: Int
        /// The steps it covers, first ... last (1-based step numbers).
        public var steps: ClosedRange<Int>
        /// Time at the start of its first step and the end of its last, years.
        public var startYears: Double
        public var endYears: Double
    }

    public let record: RecordLayout
    public let years: [Year]
    /// The record's slots that have a yearly value (all but the mean length of stay), in record order.
    public let slots: [RecordLayout.Slot]
    /// For each yearly slot, its index in the record's slots.
    public let recordSlots: [Int]

    public init(record: RecordLayout, stepMonths: Int) {
        self.record = record
        var years: [Year] = []
        for t in stride(from: 1, through: record.steps, by: 1) {
            let number = (t * stepMonths + 11) / 12
            if let last = years.last, last.number == number {
                years[years.count - 1].steps = last.steps.lowerBound...t
                years[years.count - 1].endYears = Double(t * stepMonths) / 12
            } else {
                years.append(Year(number: number, steps: t...t, startYears: Double((t - 1) * stepMonths) / 12,
                                  endYears: Double(t * stepMonths) / 12))
            }
        }
        self.years = years
        let kept = record.slots.indices.filter { record.slots[$0].quantity.hasYearlyValue }
        recordSlots = kept
        slots = kept.map { record.slots[$0] }
    }

    /// The years of an arm's horizon (every arm of a scenario has the same levels and steps).
    public init(arm: ArmModel) {
        self.init(record: RecordLayout(levelCount: arm.levels.count, steps: arm.steps), stepMonths: arm.stepMonths)
    }

    public var slotCount: Int { slots.count }

    /// The number of years with at least one step ending in them, without building the layout:
    /// ⌈T·m/12⌉ when m ≤ 12, else at most T (one per step).
    public static func yearCount(steps: Int, stepMonths: Int) -> Int {
        guard steps > 0, stepMonths > 0 else { return 0 }
        return stepMonths <= 12 ? (steps * stepMonths + 11) / 12 : steps
    }
    /// Values of one replication and arm: `years.count × slotCount`, year-major.
    public var size: Int { years.count * slots.count }

    /// Index of (year position, yearly slot) in a yearly record.
    public func index(year y: Int, slot s: Int) -> Int { y * slots.count + s }

    /// The yearly values of a step record: per year, the sum over its steps (or, for a state, the
    /// value at its last step) of each slot. Sums run over the steps in order, so the same record
    /// gives the same bytes.
    public func values(of stepRecord: [Double]) -> [Double] {
        precondition(stepRecord.count == record.recordSize, "a step record of \(stepRecord.count) values, not \(record.recordSize)")
        var out = [Double](repeating: 0, count: size)
        for (y, year) in years.enumerated() {
            for (s, r) in recordSlots.enumerated() {
                if slots[s].quantity.atStepZero {
                    out[index(year: y, slot: s)] = stepRecord[record.index(step: year.steps.upperBound, slot: r)]
                } else {
                    var sum = 0.0
                    for t in year.steps { sum += stepRecord[record.index(step: t, slot: r)] }
                    out[index(year: y, slot: s)] = sum
                }
            }
        }
        return out
    }
}

extension Quantity {
    /// Whether a year has a value of it (`YearlyLayout`): every quantity but the mean length of stay.
    public var hasYearlyValue: Bool { self != .lengthOfStayYears }
}
