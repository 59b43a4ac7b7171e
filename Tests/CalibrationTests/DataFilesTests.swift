import Calibration
import Foundation
import Testing

/// The issues a reading throws; records a test failure if it does not throw.
private func issues(sourceLocation: SourceLocation = #_sourceLocation,
                    _ read: () throws(CalibrationDataError) -> Void) -> [DataIssue] {
    do {
        try read()
        Issue.record("the file was read but should have been refused", sourceLocation: sourceLocation)
        return []
    } catch {
        return error.issues
    }
}

private let levels = ["Universal", "Additional", "Intensive", "Compulsory"]

/// One bad file and the single issue it must produce.
struct BadFile: CustomTestStringConvertible, Sendable {
    enum Kind: Sendable { case stocks, flows, panel }
    var name: String
    var kind: Kind
    var text: String
    var line: Int?
    var column: String?
    /// Text that must appear in the issue's `found` or `expected`.
    var says: [String]
    var testDescription: String { name }
}

@Suite("Calibration data files")
struct DataFilesTests {
    @Test func readsStocksWithQuotesCRLFByteOrderMarkAndColumnsInAnyOrder() throws {
        let text = "\u{FEFF}area,date,level,count\r\n\"North, upper\",2024-03-31,Universal,1200\r\n\r\n"
            + "south,2024-03-31,\"Additional\",  35 \r\n\"say \"\"hi\"\"\",2024-03-31,Intensive,0"
        let rows = try DataFiles.stocks(csv: text, levels: levels)
        #expect(rows == [
            StockCount(date: Day(iso: "2024-03-31")!, area: "North, upper", level: "Universal", count: 1200, line: 2),
            StockCount(date: Day(iso: "2024-03-31")!, area: "south", level: "Additional", count: 35, line: 4),
            StockCount(date: Day(iso: "2024-03-31")!, area: "say \"hi\"", level: "Intensive", count: 0, line: 5),
        ])
    }

    @Test func aQuotedCellMaySpanLinesAndLaterLineNumbersStayRight() throws {
        let text = "date,area,level,count\n2024-03-31,\"two\nlines\",Universal,5\n2024-03-31,x,Universal,-1\n"
        let found = issues { () throws(CalibrationDataError) in _ = try DataFiles.stocks(csv: text, levels: levels) }
        #expect(found.count == 1)
        #expect(found.first?.line == 4 && found.first?.column == "count")
    }

    /// Issue 13: a stray CR shifted later line numbers. Line numbers are an editor's: in a file with
    /// LF (or CRLF) line ends a lone CR is neither a line end nor a record end, but a character of
    /// its cell, trimmed at an unquoted cell's ends like a space and shown as \r elsewhere.
    @Test func aStrayCarriageReturnDoesNotShiftLaterLineNumbers() throws {
        let text = "date,area,level,count\n2024-03-31,x,Universal,5\r\n2024-03-31,y\r,Universal,5\n2024-03-31,z,Universal,-1\n"
        let found = issues { () throws(CalibrationDataError) in _ = try DataFiles.stocks(csv: text, levels: levels) }
        #expect(found.map(\.line) == [4] && found.first?.column == "count", "\(found)")
        // Inside a cell, the CR is shown where it is, on its editor line.
        let inside = "date,area,level,count\n2024-03-31,x,Univ\rersal,5\n2024-03-31,z,Universal,-1\n"
        let shown = issues { () throws(CalibrationDataError) in _ = try DataFiles.stocks(csv: inside, levels: levels) }
        #expect(shown.map(\.line) == [2, 3] && shown.first?.found == "an unknown level 'Univ\\rersal'", "\(shown)")
        // CR line ends throughout still number the lines.
        let mac = "date,area,level,count\r2024-03-31,x,Universal,5\r2024-03-31,z,Universal,-1\r"
        let crOnly = issues { () throws(CalibrationDataError) in _ = try DataFiles.stocks(csv: mac, levels: levels) }
        #expect(crOnly.map(\.line) == [3])
    }

    /// CRLF files, blank lines and quoted cells over several lines (LF or CRLF inside): every line
    /// number is the editor's, in every file kind, and a CRLF inside quotes reads as LF.
    @Test func lineNumbersAreAnEditorsWithCRLFAndQuotedLineBreaks() throws {
        let stocks = "date,area,level,count\r\n\r\n2024-03-31,\"a\r\nb\r\nc\",Universal,5\r\n2024-03-31,x,Universal,-2\r\n"
        let s = issues { () throws(CalibrationDataError) in _ = try DataFiles.stocks(csv: stocks, levels: levels) }
        #expect(s.map(\.line) == [6], "\(s)")
        let flows = "period_start,period_end,area,from_level,to_level,count\r\n2023-01-01,2024-01-01,\"n\nr\",Universal,Additional,1\r\n"
            + "2023-01-01,2024-01-01,north,Universal,Nowhere,1\r\n"
        let f = issues { () throws(CalibrationDataError) in _ = try DataFiles.flows(csv: flows, levels: levels) }
        #expect(f.map(\.line) == [4] && f.first?.column == "to_level", "\(f)")
        let panel = "child_id,date,level\r\n\"c\r\n1\",2020-01-01,Universal\r\nc2,2020-13-01,Universal\r\n"
        let p = issues { () throws(CalibrationDataError) in _ = try DataFiles.panel(csv: panel, levels: levels) }
        #expect(p.map(\.line) == [4] && p.first?.column == "date", "\(p)")
        let read = try DataFiles.panel(csv: "child_id,date,level\r\n\"c\r\n1\",2020-01-01,Universal\r\n", levels: levels)
        #expect(read.records.map(\.child) == ["c\n1"] && read.records.map(\.line) == [2])
    }

    /// Issue 13: `1822.0` (pandas writes an integer column with a missing value as floats) was refused
    /// as "not a whole number". A decimal whose value is whole is a count, in every count column.
    @Test(arguments: ["1822", "1822.0", "1822.000", "1.822e3", "1.822E+3", "18220e-1", "+1822", "001822.0"])
    func aWholeNumberWrittenAsADecimalIsACount(_ cell: String) throws {
        let stocks = try DataFiles.stocks(csv: "date,area,level,count\n2024-03-31,x,Universal,\(cell)\n", levels: levels)
        #expect(stocks.map(\.count) == [1822])
        let flows = try DataFiles.flows(csv: "period_start,period_end,area,from_level,to_level,count\n"
                                        + "2023-01-01,2024-01-01,x,Universal,Additional,\(cell)\n", levels: levels)
        #expect(flows.map(\.count) == [1822])
    }

    @Test func countsThatAreNotWholeNumbersAreRefusedSayingWhy() {
        let cases: [(String, String)] = [
            ("1822.5", "'1822.5', not a whole number"), ("1822.0000000000000001", "'1822.0000000000000001', not a whole number"),
            ("1e-3", "'1e-3', not a whole number"), ("-1", "a negative count -1"), ("-1.0", "a negative count -1.0"),
            ("nan", "'nan', not a finite number"), ("NaN", "'NaN', not a finite number"), ("inf", "'inf', not a finite number"),
            ("-Infinity", "'-Infinity', not a finite number"), ("0x10", "'0x10'"), ("1.0e", "'1.0e'"), (".", "'.'"),
            ("1e10", "a count of 1e10, more than 1000000000"), ("1e400", "a count of 1e400, more than 1000000000"),
            ("", "an empty cell"),
        ]
        for (cell, says) in cases {
            for kind in ["stocks", "flows"] {
                let found = issues { () throws(CalibrationDataError) in
                    if kind == "stocks" {
                        _ = try DataFiles.stocks(csv: "date,area,level,count\n2024-03-31,x,Universal,\(cell)\n", levels: levels)
                    } else {
                        _ = try DataFiles.flows(csv: "period_start,period_end,area,from_level,to_level,count\n"
                                                + "2023-01-01,2024-01-01,x,Universal,Additional,\(cell)\n", levels: levels)
                    }
                }
                #expect(found.map(\.found) == [says] && found.first?.expected == "a whole number from 0 to 1000000000"
                        && found.first?.line == 2 && found.first?.column == "count", "\(kind) '\(cell)': \(found)")
            }
        }
        // -0 and 0.0 are 0.
        #expect((try? DataFiles.stocks(csv: "date,area,level,count\n2024-03-31,x,Universal,-0.0\n", levels: levels))?.map(\.count) == [0])
    }

    /// Issue 13: a missing file was reported as "cannot be read as UTF-8".
    @Test func aMissingFileOrAFolderIsSaidToBeSo() throws {
        let missing = issues { () throws(CalibrationDataError) in
            _ = try DataFiles.stocks(atPath: "/nonexistent/girfec/stocks.csv", levels: levels)
        }
        #expect(missing.map(\.found) == ["no such file"])
        #expect(missing.first?.file == "/nonexistent/girfec/stocks.csv")
        let folder = issues { () throws(CalibrationDataError) in
            _ = try DataFiles.flows(atPath: NSTemporaryDirectory(), levels: levels)
        }
        #expect(folder.map(\.found) == ["a folder, not a regular file"])
        let binary = FileManager.default.temporaryDirectory.appendingPathComponent("girfec-not-utf8-\(UUID().uuidString).csv")
        try Data([0x64, 0x61, 0xFF, 0xFE, 0xC3]).write(to: binary)
        defer { try? FileManager.default.removeItem(at: binary) }
        let notText = issues { () throws(CalibrationDataError) in _ = try DataFiles.panel(atPath: binary.path, levels: levels) }
        #expect(notText.map(\.found) == ["a file that is not UTF-8 text (save it as UTF-8)"])
    }

    @Test func readsFlowsWithEntriesAndExits() throws {
        let text = """
        period_start,period_end,area,from_level,to_level,count
        2023-04-01,2024-04-01,north,Universal,Additional,40
        2023-04-01,2024-04-01,north,entry,Universal,12
        2023-04-01,2024-04-01,north,Intensive,exit,3
        """
        let rows = try DataFiles.flows(csv: text, levels: levels, areas: ["north", "south"])
        #expect(rows.map(\.from) == ["Universal", "entry", "Intensive"])
        #expect(rows.map(\.to) == ["Additional", "Universal", "exit"])
        #expect(rows.map(\.count) == [40, 12, 3])
        #expect(rows[0].periodEnd.years(since: rows[0].periodStart) == 366 / 365.25)
    }

    @Test func readsPanelWithAndWithoutAreas() throws {
        let plain = "child_id,date,level\nc1,2020-01-10,Universal\nc2,2020-02-01,Additional\nc1,2021-01-10,Additional\n"
        let p = try DataFiles.panel(csv: plain, levels: levels)
        #expect(p.records.map(\.child) == ["c1", "c2", "c1"] && p.areaOfChild.isEmpty && p.areas.isEmpty)
        let withArea = "child_id,date,level,area\nc1,2020-01-10,Universal,north\nc2,2020-02-01,Additional,south\nc1,2021-01-10,Additional,north\n"
        let q = try DataFiles.panel(csv: withArea, levels: levels)
        #expect(q.areas == ["north", "south"])
        #expect(q.records(inArea: "north").map(\.line) == [2, 4])
    }

    static let badFiles: [BadFile] = [
        BadFile(name: "missing column", kind: .stocks, text: "date,area,level\n2024-01-01,a,Universal\n",
                line: 1, column: "count", says: ["no column 'count'"]),
        BadFile(name: "unknown column", kind: .stocks, text: "date,area,level,count,notes\n2024-01-01,a,Universal,1,x\n",
                line: 1, column: "notes", says: ["unknown column 'notes'"]),
        BadFile(name: "repeated column", kind: .panel, text: "child_id,date,level,date\nc,2024-01-01,Universal,2024-01-01\n",
                line: 1, column: "date", says: ["twice"]),
        BadFile(name: "wrong cell count", kind: .stocks, text: "date,area,level,count\n2024-01-01,a,Universal\n",
                line: 2, column: nil, says: ["3 cells", "4 cells"]),
        BadFile(name: "bad date", kind: .stocks, text: "date,area,level,count\n31/01/2024,north,Universal,4\n",
                line: 2, column: "date", says: ["'31/01/2024'", "YYYY-MM-DD"]),
        BadFile(name: "impossible date", kind: .panel, text: "child_id,date,level\nc,2023-02-29,Universal\n",
                line: 2, column: "date", says: ["'2023-02-29'"]),
        BadFile(name: "unknown level lists the known ones", kind: .stocks, text: "date,area,level,count\n2024-01-01,north,Univrsal,4\n",
                line: 2, column: "level", says: ["'Univrsal'", "'Universal', 'Additional', 'Intensive', 'Compulsory'"]),
        BadFile(name: "unknown area", kind: .stocks, text: "date,area,level,count\n2024-01-01,east,Universal,4\n",
                line: 2, column: "area", says: ["'east'", "'north', 'south'"]),
        BadFile(name: "negative count", kind: .stocks, text: "date,area,level,count\n2024-01-01,north,Universal,-4\n",
                line: 2, column: "count", says: ["negative count -4", "whole number from 0 to 1000000000"]),
        // Fuzz class calibration/count-overflow: counts near Int.max passed the reader and trapped on
        // summing in FlowEstimator; a count above 10⁹ is now refused as a cell.
        BadFile(name: "count of Int.max", kind: .flows,
                text: "period_start,period_end,area,from_level,to_level,count\n2023-01-01,2024-01-01,north,Universal,Additional,9223372036854775807\n",
                line: 2, column: "count", says: ["a count of 9223372036854775807, more than 1000000000", "from 0 to 1000000000"]),
        BadFile(name: "count one above the maximum", kind: .stocks, text: "date,area,level,count\n2024-01-01,north,Universal,1000000001\n",
                line: 2, column: "count", says: ["a count of 1000000001, more than 1000000000"]),
        BadFile(name: "count with more digits than Int holds", kind: .stocks,
                text: "date,area,level,count\n2024-01-01,north,Universal,99999999999999999999999\n",
                line: 2, column: "count", says: ["a count of 99999999999999999999999, more than 1000000000"]),
        BadFile(name: "non-integer count", kind: .flows,
                text: "period_start,period_end,area,from_level,to_level,count\n2023-01-01,2024-01-01,north,Universal,Additional,2.5\n",
                line: 2, column: "count", says: ["'2.5', not a whole number"]),
        BadFile(name: "repeated stock", kind: .stocks,
                text: "date,area,level,count\n2024-01-01,north,Universal,4\n2024-01-01,south,Universal,4\n2024-01-01,north,Universal,5\n",
                line: 4, column: nil, says: ["first is on line 2"]),
        BadFile(name: "period end not after start", kind: .flows,
                text: "period_start,period_end,area,from_level,to_level,count\n2024-01-01,2024-01-01,north,Universal,Additional,2\n",
                line: 2, column: "period_end", says: ["not after period_start 2024-01-01"]),
        BadFile(name: "exit as from_level", kind: .flows,
                text: "period_start,period_end,area,from_level,to_level,count\n2023-01-01,2024-01-01,north,exit,Additional,2\n",
                line: 2, column: "from_level", says: ["'exit' is only a to_level"]),
        BadFile(name: "entry as to_level", kind: .flows,
                text: "period_start,period_end,area,from_level,to_level,count\n2023-01-01,2024-01-01,north,Universal,entry,2\n",
                line: 2, column: "to_level", says: ["'entry' is only a from_level"]),
        BadFile(name: "repeated flow", kind: .flows,
                text: "period_start,period_end,area,from_level,to_level,count\n2023-01-01,2024-01-01,north,Universal,exit,2\n"
                    + "2023-01-01,2024-01-01,north,Universal,exit,3\n",
                line: 3, column: nil, says: ["first is on line 2", "one row per period, area, from_level and to_level"]),
        BadFile(name: "child twice on one date", kind: .panel,
                text: "child_id,date,level\nc1,2020-01-01,Universal\nc2,2020-01-01,Universal\nc1,2020-01-01,Additional\n",
                line: 4, column: "date", says: ["'c1' seen a second time on 2020-01-01 (lines 2 and 4)"]),
        BadFile(name: "child out of date order", kind: .panel,
                text: "child_id,date,level\nc1,2021-01-01,Universal\nc2,2020-01-01,Universal\nc1,2020-06-01,Additional\n",
                line: 4, column: "date", says: ["at line 4, after line 2 dated 2021-01-01", "date order"]),
        BadFile(name: "child in two areas", kind: .panel,
                text: "child_id,date,level,area\nc1,2020-01-01,Universal,north\nc1,2021-01-01,Universal,south\n",
                line: 3, column: "area", says: ["in area 'north' on line 2"]),
        BadFile(name: "unclosed quote", kind: .stocks, text: "date,area,level,count\n2024-01-01,\"north,Universal,4\n",
                line: 2, column: nil, says: ["never closed"]),
        BadFile(name: "empty file", kind: .flows, text: "\n\n", line: nil, column: nil, says: ["an empty file"]),
        BadFile(name: "header only", kind: .panel, text: "child_id,date,level\n", line: nil, column: nil, says: ["no rows"]),
    ]

    @Test(arguments: badFiles)
    func refusesABadFileNamingFileLineAndColumn(_ bad: BadFile) {
        let areas = ["north", "south"]
        let found: [DataIssue]
        switch bad.kind {
        case .stocks: found = issues { () throws(CalibrationDataError) in _ = try DataFiles.stocks(csv: bad.text, file: "s.csv", levels: levels, areas: areas) }
        case .flows: found = issues { () throws(CalibrationDataError) in _ = try DataFiles.flows(csv: bad.text, file: "s.csv", levels: levels, areas: areas) }
        case .panel: found = issues { () throws(CalibrationDataError) in _ = try DataFiles.panel(csv: bad.text, file: "s.csv", levels: levels, areas: areas) }
        }
        #expect(found.count == 1, "\(found)")
        guard let issue = found.first else { return }
        #expect(issue.file == "s.csv")
        #expect(issue.line == bad.line)
        #expect(issue.column == bad.column)
        for text in bad.says {
            #expect(issue.description.contains(text), "'\(text)' not in: \(issue.description)")
        }
    }

    /// A file that is not the data at all (a system file named by mistake): its header's cells
    /// are quoted at most 40 characters each, the missing columns are one problem, and a file
    /// of the kernel is refused before it is read.
    @Test func aStrangersFileIsNeverEchoedInFull() {
        let secret = "root:x:0:0:root:/root:/bin/bash and a long secret line that must not be echoed in full"
        let found = issues { () throws(CalibrationDataError) in
            _ = try DataFiles.flows(csv: secret + "\nx\n", file: "f.csv", levels: levels, areas: nil)
        }
        #expect(found.map(\.description).allSatisfy { !$0.contains("secret line") }, "\(found)")
        #expect(found.contains { $0.column == nil && $0.found == "no columns 'period_start', 'period_end', 'area', 'from_level', 'to_level', 'count' in the header" },
                "\(found)")
        #expect(found.contains { $0.found.hasPrefix("an unknown column 'root:x:0:0:root:/root:/bin/bash and a lo…'") }, "\(found)")
        let kernel = issues { () throws(CalibrationDataError) in
            _ = try DataFiles.flows(atPath: "/proc/self/environ", levels: levels, areas: nil)
        }
        #expect(kernel.map(\.found) == ["a file of the kernel (/proc or /sys), not a regular file"])
    }

    @Test func reportsEveryProblemOfAFileAtOnce() {
        let text = """
        period_start,period_end,area,from_level,to_level,count
        2023-01-01,2024-01-01,north,Universal,Additional,-1
        2023-01-01,2022-01-01,north,Universal,Intensive,2
        2023-01-01,2024-01-01,north,Universal,Extra,2
        2023-01-01,2024-01-01,north,Universal,exit
        """
        let found = issues { () throws(CalibrationDataError) in _ = try DataFiles.flows(csv: text, levels: levels) }
        #expect(found.map(\.line) == [2, 3, 4, 5])
        #expect(found.map(\.column) == ["count", "period_end", "to_level", nil])
    }

    @Test func listsFiftyIssuesAndCountsTheRest() {
        let rows = (1...120).map { "2024-01-01,a\($0),Nowhere,1" }.joined(separator: "\n")
        let found = issues { () throws(CalibrationDataError) in _ = try DataFiles.stocks(csv: "date,area,level,count\n" + rows, levels: levels) }
        #expect(found.count == DataFiles.maximumListedIssues + 1)
        #expect(found.last?.found == "70 more problems not listed")
        #expect(found.dropLast().allSatisfy { $0.column == "level" })
    }

    @Test func readsFromAPathAndNamesAnUnreadableOne() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("girfec-datafiles-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("panel.csv").path
        try "child_id,date,level\nc1,2020-01-10,Universal\n".write(toFile: path, atomically: true, encoding: .utf8)
        #expect(try DataFiles.panel(atPath: path, levels: levels).records.count == 1)
        let missing = dir.appendingPathComponent("stocks.csv").path
        let found = issues { () throws(CalibrationDataError) in _ = try DataFiles.stocks(atPath: missing, levels: levels) }
        #expect(found.first?.file == missing && found.first?.line == nil)
    }
}
