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
}
