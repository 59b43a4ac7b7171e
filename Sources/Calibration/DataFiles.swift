import Foundation
import Model

/// Readers for the three calibration data files: stocks.csv, flows.csv and panel.csv.
///
/// Every reader checks the whole file in one pass and either returns every
/// row or throws one `CalibrationDataError` listing every problem (the first
/// 50, then how many more), each naming the file, the 1-based line and the
/// column. Readers never write anything.
///
/// Common rules (RFC 4180 CSV, UTF-8):
///
/// - The first non-blank line is a header. Its names are exact (lower case,
///   no spaces); columns may come in any order; no column may be missing,
///   repeated or unknown.
/// - Cells are separated by commas; a cell in double quotes may contain
///   commas, line breaks and doubled quotes (`""`). Unquoted cells are
///   trimmed of spaces, tabs and carriage returns. Line ends may be LF or CRLF
///   (or CR alone, in a file without LF); a stray CR in an LF file is not a
///   line end but a character of its cell, so line numbers are those of an
///   editor (`CSV.records`). A UTF-8 byte-order mark is ignored; blank lines
///   are skipped.
/// - Every row has as many cells as the header.
/// - Dates are `YYYY-MM-DD` (ISO 8601, proleptic Gregorian); a date converts
///   to years with 365.25 days a year (`Day.years(since:)`).
/// - Levels are the scenario's level names, exactly (case-sensitive). When
///   the caller gives area names, an area must be one of them; otherwise any
///   non-empty name is an area.
/// - Counts are whole numbers from 0 to `DataFiles.maximumCount` (10⁹), so
///   that no sum of the counts of a file can overflow, written in decimal:
///   `12`, or any decimal whose value is whole, `12.0` or `1.2e1` (pandas
///   writes an integer column with a missing value as floats); not `12.5`,
///   `nan` or `inf` (`DataCellChecks.count`).
///
/// File by file:
///
/// - **stocks.csv** `date,area,level,count` — children in a level of an area
///   on a census date. One row per (date, area, level).
/// - **flows.csv** `period_start,period_end,area,from_level,to_level,count` —
///   children who were in `from_level` at `period_start` and in `to_level` at
///   `period_end` (see `FlowEstimator` for how the rows are read).
///   `period_end` is after `period_start`. `from_level` is a level or
///   `entry` (a child who joined during the period); `to_level` is a level
///   or `exit` (a child who left). `from_level = to_level` counts stayers;
///   `entry,exit` (came and went within the period) is accepted.
///   One row per (period, area, from, to).
/// - **panel.csv** `child_id,date,level` and optionally `area` — a child seen
///   in a level on a date, at irregular times. A child is seen at most once a
///   date; each child's rows are in date order (children may interleave);
///   with an `area` column, a child stays in one area.
public enum DataFiles {
    /// The header of stocks.csv.
    public static let stocksColumns = ["date", "area", "level", "count"]
    /// The header of flows.csv.
    public static let flowsColumns = ["period_start", "period_end", "area", "from_level", "to_level", "count"]
    /// The required header of panel.csv; `area` may be added.
    public static let panelColumns = ["child_id", "date", "level"]
    /// At most this many issues are listed; one more issue says how many were left out.
    public static let maximumListedIssues = 50
    /// The largest count a cell may hold: far above any authority's children, and small enough
    /// that the sums and differences the estimators take of a file's counts stay far from
    /// `Int.max` (a file would need 9·10⁹ rows to overflow).
    public static let maximumCount = 1_000_000_000

    // MARK: stocks.csv

    /// Read stocks.csv from its text.
    ///
    /// - Parameters:
    ///   - text: the file's contents.
    ///   - file: the name used in messages.
    ///   - levels: the known level names.
    ///   - areas: the known area names, or nil to accept any non-empty name.
    /// - Returns: the rows in file order.
    /// - Complexity: O(n) in the length of the text.
    public static func stocks(csv text: String, file: String = "stocks.csv", levels: [String],
                              areas: [String]? = nil) throws(CalibrationDataError) -> [StockCount] {
        var log = DataIssueLog(file: file)
        guard let table = CSVTable(text: text, required: stocksColumns, optional: [], log: &log) else { try log.finish(); return [] }
        let check = DataCellChecks(levels: levels, areas: areas)
        var result: [StockCount] = []
        var seen: [String: Int] = [:]
        for row in table.rows {
            guard let cells = table.cells(row, log: &log) else { continue }
            let date = check.day(cells["date"]!, line: row.line, column: "date", log: &log)
            let area = check.area(cells["area"]!, line: row.line, column: "area", log: &log)
            let level = check.level(cells["level"]!, line: row.line, column: "level", log: &log)
            let count = check.count(cells["count"]!, line: row.line, column: "count", log: &log)
            guard let date, let area, let level, let count else { continue }
            let key = "\(date)\u{1F}\(area)\u{1F}\(level)"
            if let first = seen[key] {
                log.add(line: row.line, column: nil,
                        found: "a second row for \(date), area '\(MessageText.excerpt(area))', level '\(level)' (the first is on line \(first))",
                        expected: "one row per date, area and level")
                continue
            }
            seen[key] = row.line
            result.append(StockCount(date: date, area: area, level: level, count: count, line: row.line))
        }
        if table.rows.isEmpty && log.isEmpty { log.add(line: nil, column: nil, found: "a header and no rows", expected: "at least one row of counts") }
        try log.finish()
        return result
    }

    /// Read stocks.csv from a path; the path names the file in messages.
    public static func stocks(atPath path: String, levels: [String], areas: [String]? = nil) throws(CalibrationDataError) -> [StockCount] {
        try stocks(csv: contents(of: path), file: path, levels: levels, areas: areas)
    }

    // MARK: flows.csv

    /// Read flows.csv from its text.
    ///
    /// Beyond the common rules: `period_end` after `period_start`; `exit` is
    /// only a `to_level` and `entry` only a `from_level`; one row per
    /// (period_start, period_end, area, from_level, to_level).
    ///
    /// - Parameters: as for `stocks(csv:file:levels:areas:)`.
    /// - Returns: the rows in file order.
    /// - Complexity: O(n) in the length of the text.
    public static func flows(csv text: String, file: String = "flows.csv", levels: [String],
                             areas: [String]? = nil) throws(CalibrationDataError) -> [FlowCount] {
        var log = DataIssueLog(file: file)
        guard let table = CSVTable(text: text, required: flowsColumns, optional: [], log: &log) else { try log.finish(); return [] }
        let check = DataCellChecks(levels: levels, areas: areas)
        let levelList = levels.map { "'\($0)'" }.joined(separator: ", ")
        var result: [FlowCount] = []
        var seen: [String: Int] = [:]
        for row in table.rows {
            guard let cells = table.cells(row, log: &log) else { continue }
            let start = check.day(cells["period_start"]!, line: row.line, column: "period_start", log: &log)
            let end = check.day(cells["period_end"]!, line: row.line, column: "period_end", log: &log)
            let area = check.area(cells["area"]!, line: row.line, column: "area", log: &log)
            let count = check.count(cells["count"]!, line: row.line, column: "count", log: &log)
            var from: String? = cells["from_level"]!, to: String? = cells["to_level"]!
            if from == FlowEnd.exit {
                log.add(line: row.line, column: "from_level", found: "'\(FlowEnd.exit)'",
                        expected: "a level (\(levelList)) or '\(FlowEnd.entry)'; '\(FlowEnd.exit)' is only a to_level")
                from = nil
            } else if from != FlowEnd.entry {
                from = check.level(from!, line: row.line, column: "from_level", log: &log, extra: FlowEnd.entry)
            }
            if to == FlowEnd.entry {
                log.add(line: row.line, column: "to_level", found: "'\(FlowEnd.entry)'",
                        expected: "a level (\(levelList)) or '\(FlowEnd.exit)'; '\(FlowEnd.entry)' is only a from_level")
                to = nil
            } else if to != FlowEnd.exit {
                to = check.level(to!, line: row.line, column: "to_level", log: &log, extra: FlowEnd.exit)
            }
            if let start, let end, end <= start {
                log.add(line: row.line, column: "period_end", found: "\(end), not after period_start \(start)",
                        expected: "a period_end later than period_start")
                continue
            }
            guard let start, let end, let area, let from, let to, let count else { continue }
            let key = "\(start)\u{1F}\(end)\u{1F}\(area)\u{1F}\(from)\u{1F}\(to)"
            if let first = seen[key] {
                log.add(line: row.line, column: nil,
                        found: "a second row for \(start) to \(end), area '\(MessageText.excerpt(area))', '\(from)' to '\(to)' (the first is on line \(first))",
                        expected: "one row per period, area, from_level and to_level")
                continue
            }
            seen[key] = row.line
            result.append(FlowCount(periodStart: start, periodEnd: end, area: area, from: from, to: to, count: count, line: row.line))
        }
        if table.rows.isEmpty && log.isEmpty { log.add(line: nil, column: nil, found: "a header and no rows", expected: "at least one row of counts") }
        try log.finish()
        return result
    }

    /// Read flows.csv from a path; the path names the file in messages.
    public static func flows(atPath path: String, levels: [String], areas: [String]? = nil) throws(CalibrationDataError) -> [FlowCount] {
        try flows(csv: contents(of: path), file: path, levels: levels, areas: areas)
    }

    // MARK: panel.csv

    /// Read panel.csv from its text.
    ///
    /// Beyond the common rules: a child is seen at most once on a date; each
    /// child's rows are in date order; with an `area` column, one area per
    /// child. `child_id` is any non-empty text.
    ///
    /// - Parameters: as for `stocks(csv:file:levels:areas:)`.
    /// - Returns: the rows in file order, with each child's area if the file has an `area` column.
    /// - Complexity: O(n) in the length of the text.
    public static func panel(csv text: String, file: String = "panel.csv", levels: [String],
                             areas: [String]? = nil) throws(CalibrationDataError) -> PanelData {
        var log = DataIssueLog(file: file)
        guard let table = CSVTable(text: text, required: panelColumns, optional: ["area"], log: &log) else {
            try log.finish(); return PanelData(records: [], areaOfChild: [:])
        }
        let check = DataCellChecks(levels: levels, areas: areas)
        let hasArea = table.columns.contains("area")
        var records: [PanelRecord] = []
        var areaOfChild: [String: (area: String, line: Int)] = [:]
        var datesOfChild: [String: [Day: Int]] = [:]
        var latestOfChild: [String: (day: Day, line: Int)] = [:]
        for row in table.rows {
            guard let cells = table.cells(row, log: &log) else { continue }
            let child = cells["child_id"]!
            if child.isEmpty {
                log.add(line: row.line, column: "child_id", found: "an empty cell", expected: "a child's identifier")
            }
            let date = check.day(cells["date"]!, line: row.line, column: "date", log: &log)
            let level = check.level(cells["level"]!, line: row.line, column: "level", log: &log)
            if hasArea, !child.isEmpty, let area = check.area(cells["area"]!, line: row.line, column: "area", log: &log) {
                if let first = areaOfChild[child], first.area != area {
                    log.add(line: row.line, column: "area",
                            found: "'\(MessageText.excerpt(area))' for child '\(MessageText.excerpt(child))', who is in area '\(MessageText.excerpt(first.area))' on line \(first.line)",
                            expected: "one area per child")
                } else if areaOfChild[child] == nil {
                    areaOfChild[child] = (area, row.line)
                }
            }
            guard !child.isEmpty, let date else { continue }
            if let other = datesOfChild[child, default: [:]][date] {
                log.add(line: row.line, column: "date",
                        found: "child '\(MessageText.excerpt(child))' seen a second time on \(date) (lines \(other) and \(row.line))",
                        expected: "at most one record per child and date")
                continue
            }
            datesOfChild[child, default: [:]][date] = row.line
            if let latest = latestOfChild[child], date < latest.day {
                log.add(line: row.line, column: "date",
                        found: "child '\(MessageText.excerpt(child))' on \(date) at line \(row.line), after line \(latest.line) dated \(latest.day)",
                        expected: "each child's rows in date order")
            } else {
                latestOfChild[child] = (date, row.line)
            }
            guard let level else { continue }
            records.append(PanelRecord(child: child, date: date, level: level, line: row.line))
        }
        if table.rows.isEmpty && log.isEmpty { log.add(line: nil, column: nil, found: "a header and no rows", expected: "at least one record") }
        try log.finish()
        return PanelData(records: records, areaOfChild: areaOfChild.mapValues(\.area))
    }

    /// Read panel.csv from a path; the path names the file in messages.
    public static func panel(atPath path: String, levels: [String], areas: [String]? = nil) throws(CalibrationDataError) -> PanelData {
        try panel(csv: contents(of: path), file: path, levels: levels, areas: areas)
    }

    // MARK: Implementation

    /// Largest calibration data file read, in bytes: a panel of 10^6 records fits many times over.
    public static let maximumFileBytes = 512 << 20

    /// The text of a calibration data file: a regular UTF-8 file (not a folder, device, pipe or
    /// `/proc` file) of at most `maximumFileBytes`; any other is one problem naming what was found.
    static func contents(of path: String) throws(CalibrationDataError) -> String {
        switch Tree.readRegularFile(path, maximumBytes: maximumFileBytes) {
        case .success(let text): return text
        case .failure(let problem):
            throw CalibrationDataError(issues: [DataIssue(file: path, line: nil, column: nil, found: problem.found,
                                                          expected: "a readable CSV file of UTF-8 text")])
        }
    }
}

/// The records of panel.csv, with each child's area when the file has an `area` column.
public struct PanelData: Sendable, Equatable {
    /// The records in file order.
    public var records: [PanelRecord]
    /// Child id → area; empty when panel.csv has no `area` column.
    public var areaOfChild: [String: String]

    public init(records: [PanelRecord], areaOfChild: [String: String] = [:]) {
        self.records = records
        self.areaOfChild = areaOfChild
    }

    /// The areas named, sorted; empty without an `area` column.
    public var areas: [String] { Set(areaOfChild.values).sorted() }

    /// The records of the children in `area`.
    public func records(inArea area: String) -> [PanelRecord] {
        records.filter { areaOfChild[$0.child] == area }
    }
}

// MARK: - Issues, CSV records and cell checks

/// Collects the issues of one file, listing at most `DataFiles.maximumListedIssues`.
struct DataIssueLog {
    let file: String
    private var problems = ProblemListing<DataIssue>(limit: DataFiles.maximumListedIssues)

    init(file: String) { self.file = file }

    var isEmpty: Bool { problems.isEmpty }

    mutating func add(line: Int?, column: String?, found: String, expected: String) {
        problems.add(DataIssue(file: file, line: line, column: column, found: found, expected: expected))
    }

    /// Throw every issue recorded, if any.
    func finish() throws(CalibrationDataError) {
        guard !isEmpty else { return }
        var all = problems.listed
        if let more = problems.unlistedPhrase {
            all.append(DataIssue(file: file, line: nil, column: nil, found: more,
                                 expected: "a file without problems (fix the ones above and read it again)"))
        }
        throw CalibrationDataError(issues: all)
    }
}

/// A CSV file with a checked header: the column of each name, and the data rows.
struct CSVTable {
    let columns: [String]
    let index: [String: Int]
    let rows: [CSV.Record]

    /// Nil (with issues logged) when the file is empty or the header is wrong.
    init?(text: String, required: [String], optional: [String], log: inout DataIssueLog) {
        let (records, unclosedQuote) = CSV.records(text)
        if let line = unclosedQuote {
            log.add(line: line, column: nil, found: "a quoted cell that is never closed", expected: "a closing double quote")
        }
        guard let header = records.first else {
            log.add(line: nil, column: nil, found: "an empty file", expected: "a header: \(required.joined(separator: ","))")
            return nil
        }
        let known = required + optional
        let knownText = required.joined(separator: ", ") + (optional.isEmpty ? "" : " (and optionally \(optional.joined(separator: ", ")))")
        var index: [String: Int] = [:]
        var ok = true
        for (i, raw) in header.cells.enumerated() {
            let name = raw
            if !known.contains(name) {
                log.add(line: header.line, column: name.isEmpty ? "(column \(i + 1))" : MessageText.excerpt(name),
                        found: "an unknown column '\(MessageText.excerpt(name))' in the header", expected: "the columns \(knownText)")
                ok = false
            } else if index[name] != nil {
                log.add(line: header.line, column: name, found: "the column '\(MessageText.excerpt(name))' twice in the header",
                        expected: "each column once")
                ok = false
            } else {
                index[name] = i
            }
        }
        // Missing columns in one problem; the header's own cells were named above if unknown.
        let missing = required.filter { index[$0] == nil }
        if !missing.isEmpty {
            let names = missing.map { "'\($0)'" }.joined(separator: ", ")
            log.add(line: header.line, column: missing.count == 1 ? missing[0] : nil,
                    found: "no column\(missing.count == 1 ? "" : "s") \(names) in the header", expected: "the columns \(knownText)")
            ok = false
        }
        guard ok else { return nil }
        columns = header.cells
        self.index = index
        rows = Array(records.dropFirst())
    }

    /// The cells of a row by column name; nil (with an issue) if the row has the wrong number of cells.
    func cells(_ row: CSV.Record, log: inout DataIssueLog) -> [String: String]? {
        guard row.cells.count == columns.count else {
            log.add(line: row.line, column: nil, found: "\(row.cells.count) cell\(row.cells.count == 1 ? "" : "s")",
                    expected: "\(columns.count) cells, as in the header (\(columns.joined(separator: ",")))")
            return nil
        }
        return index.mapValues { row.cells[$0] }
    }
}

/// Checks of single cells against the known levels and areas.
struct DataCellChecks {
    let levels: Set<String>
    let levelList: String
    let areas: Set<String>?
    let areaList: String

    init(levels: [String], areas: [String]?) {
        self.levels = Set(levels)
        levelList = levels.map { "'\($0)'" }.joined(separator: ", ")
        self.areas = areas.map(Set.init)
        areaList = (areas ?? []).map { "'\($0)'" }.joined(separator: ", ")
    }

    func day(_ text: String, line: Int, column: String, log: inout DataIssueLog) -> Day? {
        if let d = Day(iso: text) { return d }
        log.add(line: line, column: column, found: text.isEmpty ? "an empty cell" : "'\(MessageText.excerpt(text))'",
                expected: "a date as YYYY-MM-DD (e.g. 2024-03-31)")
        return nil
    }

    func level(_ text: String, line: Int, column: String, log: inout DataIssueLog, extra: String? = nil) -> String? {
        if levels.contains(text) || text == extra { return text }
        let also = extra.map { " or '\($0)'" } ?? ""
        log.add(line: line, column: column, found: text.isEmpty ? "an empty cell" : "an unknown level '\(MessageText.excerpt(text))'",
                expected: "one of the levels \(levelList)\(also)")
        return nil
    }

    func area(_ text: String, line: Int, column: String, log: inout DataIssueLog) -> String? {
        if text.isEmpty {
            log.add(line: line, column: column, found: "an empty cell",
                    expected: areas == nil ? "an area name" : "one of the areas \(areaList)")
            return nil
        }
        if let areas, !areas.contains(text) {
            log.add(line: line, column: column, found: "an unknown area '\(MessageText.excerpt(text))'", expected: "one of the areas \(areaList)")
            return nil
        }
        return text
    }

    /// A count cell: a decimal number whose value is a whole number from 0 to `DataFiles.maximumCount`.
    ///
    /// `1822`, `+1822`, `1822.0`, `1822.000` and `1.822e3` are 1822; `1822.5`, `-1`, `nan`,
    /// `inf` and hexadecimal are refused. The value is read from the digits exactly
    /// (not through a Double, which would round `1822.0000000000000001` to a whole number).
    func count(_ text: String, line: Int, column: String, log: inout DataIssueLog) -> Int? {
        let maximum = DataFiles.maximumCount
        let found: String
        switch DataCellChecks.wholeNumber(text) {
        case .whole(let n, negative: false) where n <= maximum: return n
        case .whole(_, negative: false), .tooLarge(negative: false):
            found = "a count of \(MessageText.excerpt(text)), more than \(maximum)"
        case .whole(0, negative: true): return 0
        case .whole, .tooLarge: found = "a negative count \(MessageText.excerpt(text))"
        case .fraction: found = "'\(MessageText.excerpt(text))', not a whole number"
        case .notANumber:
            let lower = text.lowercased().trimmingCharacters(in: CharacterSet(charactersIn: "+-"))
            if text.isEmpty { found = "an empty cell" }
            else if ["nan", "inf", "infinity"].contains(lower) { found = "'\(MessageText.excerpt(text))', not a finite number" }
            else { found = "'\(MessageText.excerpt(text))'" }
        }
        log.add(line: line, column: column, found: found, expected: "a whole number from 0 to \(maximum)")
        return nil
    }

    /// What a cell's text is as a decimal number.
    enum Decimal: Equatable {
        /// A whole value (its magnitude, up to 10¹⁸) and its sign.
        case whole(Int, negative: Bool)
        /// A whole value of more than 18 digits.
        case tooLarge(negative: Bool)
        /// A decimal whose value is not whole.
        case fraction
        /// Not a decimal number: empty, `nan`, `inf`, hexadecimal, other text.
        case notANumber
    }

    /// Read `[+-]digits[.digits][(e|E)[+-]digits]` exactly: the value is whole when every
    /// significant digit right of the decimal point, after the exponent shifts it, is 0.
    static func wholeNumber(_ text: String) -> Decimal {
        var bytes = Array(text.utf8)[...]
        var negative = false
        if let sign = bytes.first, sign == UInt8(ascii: "+") || sign == UInt8(ascii: "-") {
            negative = sign == UInt8(ascii: "-")
            bytes = bytes.dropFirst()
        }
        func isDigit(_ b: UInt8) -> Bool { b >= 48 && b <= 57 }
        var mantissa = bytes, exponentText: ArraySlice<UInt8> = []
        if let e = bytes.firstIndex(where: { $0 == UInt8(ascii: "e") || $0 == UInt8(ascii: "E") }) {
            mantissa = bytes[..<e]
            exponentText = bytes[(e + 1)...]
            if exponentText.isEmpty { return .notANumber }
        }
        var integerDigits = mantissa, fractionDigits: ArraySlice<UInt8> = []
        if let point = mantissa.firstIndex(of: UInt8(ascii: ".")) {
            integerDigits = mantissa[..<point]
            fractionDigits = mantissa[(point + 1)...]
        }
        guard !(integerDigits.isEmpty && fractionDigits.isEmpty), integerDigits.allSatisfy(isDigit),
              fractionDigits.allSatisfy(isDigit) else { return .notANumber }
        var exponent = 0
        if !exponentText.isEmpty {
            var e = exponentText, exponentNegative = false
            if let sign = e.first, sign == UInt8(ascii: "+") || sign == UInt8(ascii: "-") {
                exponentNegative = sign == UInt8(ascii: "-")
                e = e.dropFirst()
            }
            guard !e.isEmpty, e.allSatisfy(isDigit) else { return .notANumber }
            // Beyond 10⁶ the digits of any cell are far past a count's, or all to the right of the point.
            let magnitude = e.drop { $0 == 48 }.count > 7 ? 10_000_000 : e.reduce(0) { $0 * 10 + Int($1 - 48) }
            exponent = exponentNegative ? -magnitude : magnitude
        }
        // The digits without leading zeros; the decimal point sits `point` digits from their left.
        let all = Array(integerDigits) + Array(fractionDigits)
        let leading = all.prefix { $0 == 48 }.count
        let digits = all.dropFirst(leading)
        guard !digits.isEmpty else { return .whole(0, negative: negative) }
        let point = integerDigits.count - leading + exponent
        if point < digits.count && digits.dropFirst(max(point, 0)).contains(where: { $0 != 48 }) { return .fraction }
        if point > 18 { return .tooLarge(negative: negative) }
        var value = 0
        for k in 0..<point { value = value * 10 + (k < digits.count ? Int(digits[digits.startIndex + k] - 48) : 0) }
        return .whole(value, negative: negative)
    }
}
