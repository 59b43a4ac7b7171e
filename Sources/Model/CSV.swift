import Foundation

/// Text for CSV cells, the same on every machine (RFC 4180 quoting).
///
/// Every text cell girfec writes passes through `text`; numbers through
/// `number`. Rows end in a line feed (RFC 4180 allows readers to accept it,
/// and R, pandas and Excel do).
public enum CSV {
    /// A number as the shortest text that reads back to the same Double;
    /// whole numbers without a decimal point; NaN as an empty cell.
    public static func number(_ x: Double) -> String {
        if x.isNaN { return "" }
        if x == x.rounded() && abs(x) < 1e15 { return String(Int64(x)) }
        return "\(x)"
    }

    /// An optional number; nil as an empty cell.
    public static func number(_ x: Double?) -> String { x.map { number($0) } ?? "" }

    /// A text cell, quoted when it holds a comma, a double quote, a line feed
    /// or a carriage return (RFC 4180 §2.6–2.7: quotes inside are doubled).
    ///
    /// The test is on Unicode scalars, not Characters: "\r\n" is one Swift
    /// Character that equals neither "\r" nor "\n".
    public static func text(_ s: String) -> String {
        guard s.unicodeScalars.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return s }
        return "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    /// One row: cells joined by commas, ended by a line feed. Cells must
    /// already be formatted by `text` or `number`.
    public static func row(_ cells: [String]) -> String { cells.joined(separator: ",") + "\n" }

    // MARK: Reading

    /// One record read from a CSV text: its cells and the line it starts on (from 1).
    public struct Record: Sendable, Equatable {
        public var line: Int
        public var cells: [String]
    }

    /// The records of a CSV text (RFC 4180): quoted cells may hold commas, doubled
    /// quotes and line breaks; LF, CRLF or CR line ends; a leading byte-order mark
    /// and blank lines skipped; unquoted cells trimmed of spaces, tabs and carriage
    /// returns; a CRLF inside a quoted cell read as LF.
    ///
    /// **Line numbers are an editor's** (`grep -n`, `sed -n`, vim, less): in a text
    /// with line feeds, LF and CRLF end a line and a lone CR is not a line end but
    /// a character of its cell (trimmed at an unquoted cell's ends like a space;
    /// elsewhere kept, so a message shows it as `\r`). Only in a text without any
    /// LF (classic Mac files) does a CR end a line. A quoted cell spanning lines
    /// counts them, so the next record's line is right.
    ///
    /// - Returns: the records, and the line of a quoted cell never closed (then
    ///   the records before it only), or nil.
    /// - Complexity: O(n) in the length of the text.
    public static func records(_ text: String) -> (records: [Record], unclosedQuoteAt: Int?) {
        var records: [Record] = []
        var cells: [String] = []
        var cell = String.UnicodeScalarView()
        var quoted = false, wasQuoted = false
        var line = 1, recordLine = 1
        var scalars = text.unicodeScalars[...]
        if scalars.first == "\u{FEFF}" { scalars = scalars.dropFirst() }
        // A lone CR is a line end only in a file with CR line ends: elsewhere editors and `sed -n`
        // do not see it, and counting it (or ending a record there) would shift line numbers.
        let loneCRIsLine = !text.unicodeScalars.contains("\n")
        var trimmed = CharacterSet.whitespaces
        trimmed.insert("\r")

        func endCell() {
            let s = String(cell)
            cells.append(wasQuoted ? s : s.trimmingCharacters(in: trimmed))
            cell = String.UnicodeScalarView()
            wasQuoted = false
        }
        func endRecord() {
            endCell()
            if !(cells.count == 1 && cells[0].isEmpty) { records.append(Record(line: recordLine, cells: cells)) }
            cells = []
        }

        var i = scalars.startIndex
        while i < scalars.endIndex {
            let c = scalars[i]
            let next = scalars.index(after: i)
            if quoted {
                if c == "\"" {
                    if next < scalars.endIndex, scalars[next] == "\"" {
                        cell.append("\"")
                        i = scalars.index(after: next)
                        continue
                    }
                    quoted = false
                } else {
                    if c == "\n" || (c == "\r" && loneCRIsLine) { line += 1 }
                    if c == "\r", next < scalars.endIndex, scalars[next] == "\n" { i = next; continue }
                    cell.append(c)
                }
            } else if c == "\"" {
                // A quote opens a quoted cell only at the start of a cell.
                if String(cell).trimmingCharacters(in: trimmed).isEmpty {
                    cell = String.UnicodeScalarView()
                    quoted = true
                    wasQuoted = true
                } else {
                    cell.append(c)
                }
            } else if c == "," {
                endCell()
            } else if c == "\n" || (c == "\r" && (loneCRIsLine || (next < scalars.endIndex && scalars[next] == "\n"))) {
                if c == "\r", next < scalars.endIndex, scalars[next] == "\n" { i = next }
                endRecord()
                line += 1
                recordLine = line
            } else {
                cell.append(c)
            }
            i = scalars.index(after: i)
        }
        if quoted { return (records, recordLine) }
        if !cells.isEmpty || !String(cell).isEmpty || wasQuoted { endRecord() }
        return (records, nil)
    }
}
