import Foundation

/// Text for CSV cells, the same on every machine.
enum CSV {
    /// A number as the shortest text that reads back to the same Double;
    /// whole numbers without a decimal point; NaN as an empty cell.
    static func number(_ x: Double) -> String {
        if x.isNaN { return "" }
        if x == x.rounded() && abs(x) < 1e15 { return String(Int64(x)) }
        return "\(x)"
    }

    /// A text cell, quoted when it holds a comma, quote or line break.
    static func text(_ s: String) -> String {
        guard s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return s }
        return "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    static func row(_ cells: [String]) -> String { cells.joined(separator: ",") + "\n" }
}
