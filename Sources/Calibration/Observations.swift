import Foundation

/// A calendar day, as a count of days since 1970-01-01 (proleptic Gregorian).
///
/// Calibration data are dated (`YYYY-MM-DD`); models run in years, so a
/// day converts to years with 365.25 days a year.
public struct Day: Comparable, Hashable, Sendable, CustomStringConvertible {
    public var daysSinceEpoch: Int

    public init(daysSinceEpoch: Int) { self.daysSinceEpoch = daysSinceEpoch }

    /// Parse `YYYY-MM-DD`; nil for anything else or an impossible date.
    public init?(iso text: String) {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
              let y = Int(parts[0]), let m = Int(parts[1]), let d = Int(parts[2]),
              (1...12).contains(m), d >= 1, d <= Day.daysInMonth(year: y, month: m) else { return nil }
        daysSinceEpoch = Day.days(year: y, month: m, day: d)
    }

    /// Days from 1970-01-01 to the date (Howard Hinnant's days_from_civil algorithm).
    static func days(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    static func daysInMonth(year: Int, month: Int) -> Int {
        let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
        return [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1]
    }

    /// The (year, month, day) of this day (Hinnant's civil_from_days).
    public var components: (year: Int, month: Int, day: Int) {
        let z = daysSinceEpoch + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (m <= 2 ? 1 : 0), m, d)
    }

    public var description: String {
        let c = components
        return String(format: "%04d-%02d-%02d", c.year, c.month, c.day)
    }

    /// Years from `origin` to this day: days / 365.25.
    public func years(since origin: Day) -> Double { Double(daysSinceEpoch - origin.daysSinceEpoch) / 365.25 }

    public static func < (a: Day, b: Day) -> Bool { a.daysSinceEpoch < b.daysSinceEpoch }
}

/// Reserved names in flows.csv for moves into and out of the population.
public enum FlowEnd {
    /// `from` of a child entering (birth, moving in, first referral).
    public static let entry = "entry"
    /// `to` of a child leaving (ageing out, moving away, death).
    public static let exit = "exit"
}

/// One row of stocks.csv: children in a level of an area on a census date.
public struct StockCount: Sendable, Equatable {
    public var date: Day
    public var area: String
    public var level: String
    public var count: Int
    /// 1-based line in the file, for messages.
    public var line: Int
    public init(date: Day, area: String, level: String, count: Int, line: Int) {
        self.date = date; self.area = area; self.level = level; self.count = count; self.line = line
    }
}

/// One row of flows.csv: moves from one level to another (or entries/exits) during a period.
public struct FlowCount: Sendable, Equatable {
    public var periodStart: Day
    public var periodEnd: Day
    public var area: String
    /// A level name, or `FlowEnd.entry`.
    public var from: String
    /// A level name, or `FlowEnd.exit`.
    public var to: String
    public var count: Int
    public var line: Int
    public init(periodStart: Day, periodEnd: Day, area: String, from: String, to: String, count: Int, line: Int) {
        self.periodStart = periodStart; self.periodEnd = periodEnd; self.area = area
        self.from = from; self.to = to; self.count = count; self.line = line
    }
}

/// One row of panel.csv: a child seen in a level on a date (irregular observation times).
public struct PanelRecord: Sendable, Equatable {
    public var child: String
    public var date: Day
    public var level: String
    public var line: Int
    public init(child: String, date: Day, level: String, line: Int) {
        self.child = child; self.date = date; self.level = level; self.line = line
    }
}

/// One problem in a calibration data file: where, what was found, what was expected.
public struct DataIssue: Sendable, Equatable, CustomStringConvertible {
    public var file: String
    /// 1-based line; nil for the file as a whole.
    public var line: Int?
    /// The column's header name, when the problem is in one cell.
    public var column: String?
    public var found: String
    public var expected: String

    public init(file: String, line: Int?, column: String?, found: String, expected: String) {
        self.file = file; self.line = line; self.column = column; self.found = found; self.expected = expected
    }

    public var description: String {
        let place = line.map { "\(file):\($0)" } ?? file
        return "\(place)\(column.map { ", column '\($0)'" } ?? ""): found \(found); expected \(expected)"
    }
}

/// Every problem found in calibration data, reported together before any estimation.
public struct CalibrationDataError: Error, Sendable, CustomStringConvertible {
    public var issues: [DataIssue]
    public init(issues: [DataIssue]) { self.issues = issues }
    public var description: String {
        "\(issues.count == 1 ? "1 problem" : "\(issues.count) problems") in the calibration data:\n"
            + issues.map { "  - \($0)" }.joined(separator: "\n")
    }
}
