import Foundation

/// Progress as single lines, for standard error that is not a terminal (a log file, CI, a
/// notebook): what a line says and when one is due.
///
/// A line is due every `intervalSeconds` of wall time, and once when the work is complete, so
/// a log grows by a few lines a minute however many replications there are; a run shorter
/// than the interval prints only the last line.
public struct ProgressLines: Sendable {
    public let intervalSeconds: Double
    private var lastLine: Double = 0
    private var finished = false

    public init(intervalSeconds: Double = 10) { self.intervalSeconds = intervalSeconds }

    /// Whether a line is due after `done` of `total` units at `elapsed` seconds; records it if so.
    public mutating func due(done: Int, total: Int, elapsed: Double) -> Bool {
        guard total > 0, !finished else { return false }
        if done >= total {
            finished = true
            return true
        }
        guard elapsed - lastLine >= intervalSeconds else { return false }
        lastLine = elapsed
        return true
    }

    /// "girfec run: 250 of 1,000 replications (25 %), 0:05 elapsed, about 0:15 left", or when complete
    /// "girfec run: 1,000 of 1,000 replications (100 %) in 0:21".
    public static func line(label: String, done: Int, total: Int, unit: String, elapsed: Double) -> String {
        let percent = total > 0 ? Int((Double(done) / Double(total) * 100).rounded(.down)) : 0
        let head = "\(label): \(HumanFormat.count(done)) of \(HumanFormat.count(total)) \(unit) (\(percent) %)"
        guard done < total else { return head + " in " + clock(elapsed) }
        let left = done > 0 ? " about \(clock(elapsed / Double(done) * Double(total - done))) left" : ""
        return head + ", \(clock(elapsed)) elapsed" + (left.isEmpty ? "" : "," + left)
    }

    /// Wall time as m:ss, or h:mm:ss from an hour: 75 → "1:15", 3725 → "1:02:05".
    public static func clock(_ seconds: Double) -> String {
        let s = seconds.isFinite ? Int(max(0, seconds).rounded()) : 0
        return s >= 3600 ? String(format: "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60) : String(format: "%d:%02d", s / 60, s % 60)
    }
}
