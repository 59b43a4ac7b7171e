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
///
/// With two or more areas, each area has its own yearly values after those of all areas, from the
/// area's own step record (its children only), for every yearly slot but the programme's cost: the
/// programme is costed for the authority as a whole (`Quantity.isAuthorityWide`), so an area's
/// `cost` (all levels) is its levels' cost plus its one-off transition costs, and the authority's
/// cost is the sum of its areas' plus the programme's.
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
    /// Areas with values of their own: the scenario's areas when there are two or more, else none
    /// (one area's values would be those of all areas).
    public let areas: [String]
    /// The yearly slots an area has a value of (positions in `slots`): all but the authority-wide ones.
    public let areaSlots: [Int]
    /// For each yearly slot, its position in `areaSlots`; nil for an authority-wide one.
    public let areaSlotOf: [Int?]

    public init(record: RecordLayout, stepMonths: Int, areas: [String] = []) {
        self.record = record
        self.areas = areas.count >= 2 ? areas : []
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
        let slots = kept.map { record.slots[$0] }
        self.slots = slots
        let areaSlots = slots.indices.filter { !slots[$0].quantity.isAuthorityWide }
        self.areaSlots = areaSlots
        var areaSlotOf = [Int?](repeating: nil, count: slots.count)
        for (k, s) in areaSlots.enumerated() { areaSlotOf[s] = k }
        self.areaSlotOf = areaSlotOf
    }

    /// The years of an arm's horizon (every arm of a scenario has the same levels and steps).
    public init(arm: ArmModel) {
        self.init(record: RecordLayout(arm: arm), stepMonths: arm.stepMonths, areas: arm.areas)
    }

    public var slotCount: Int { slots.count }

    /// The number of years with at least one step ending in them, without building the layout:
    /// ⌈T·m/12⌉ when m ≤ 12, else at most T (one per step).
    public static func yearCount(steps: Int, stepMonths: Int) -> Int {
        guard steps > 0, stepMonths > 0 else { return 0 }
        return stepMonths <= 12 ? (steps * stepMonths + 11) / 12 : steps
    }
    /// Values of all areas of one replication and arm: `years.count × slotCount`, year-major.
    public var allAreasSize: Int { years.count * slots.count }
    /// Values of one area: `years.count × areaSlots.count`, year-major.
    public var areaSize: Int { years.count * areaSlots.count }
    /// Values of one replication and arm: all areas', then each area's.
    public var size: Int { allAreasSize + areas.count * areaSize }

    /// Index of (year position, yearly slot) of all areas in a yearly record.
    public func index(year y: Int, slot s: Int) -> Int { y * slots.count + s }

    /// Index of (area, year position, position in `areaSlots`) in a yearly record.
    public func index(area a: Int, year y: Int, areaSlot k: Int) -> Int { allAreasSize + a * areaSize + y * areaSlots.count + k }

    /// The yearly values of a step record (all areas) and of each area's (`areaRecords`, one per
    /// area of `areas`): per year, the sum over its steps (or, for a state, the value at its last
    /// step) of each slot. Sums run over the steps in order, so the same records give the same bytes.
    public func values(of stepRecord: [Double], areaRecords: [[Double]] = []) -> [Double] {
        precondition(areaRecords.count == areas.count, "\(areaRecords.count) area records for \(areas.count) areas")
        for r in [stepRecord] + areaRecords {
            precondition(r.count == record.recordSize, "a step record of \(r.count) values, not \(record.recordSize)")
        }
        var out = [Double](repeating: 0, count: size)
        func value(_ r: [Double], year: Year, slot s: Int) -> Double {
            let slot = recordSlots[s]
            if slots[s].quantity.atStepZero { return r[record.index(step: year.steps.upperBound, slot: slot)] }
            var sum = 0.0
            for t in year.steps { sum += r[record.index(step: t, slot: slot)] }
            return sum
        }
        for (y, year) in years.enumerated() {
            for s in slots.indices { out[index(year: y, slot: s)] = value(stepRecord, year: year, slot: s) }
            for (a, areaRecord) in areaRecords.enumerated() {
                for (k, s) in areaSlots.enumerated() { out[index(area: a, year: y, areaSlot: k)] = value(areaRecord, year: year, slot: s) }
            }
        }
        return out
    }
}

extension Quantity {
    /// Whether a year has a value of it (`YearlyLayout`): every quantity but the mean length of stay.
    public var hasYearlyValue: Bool { self != .lengthOfStayYears }

    /// Costed for the authority as a whole, not by area: the programme's delivery cost (its cost per
    /// year, per child reached and reinvested money), which no area's record holds (`Rewards.fill`).
    public var isAuthorityWide: Bool { self == .programmeCost || self == .programmeCostDiscounted }
}
