import Analysis
import Foundation

/// Numbers for people: counts with thousands separators, money in pounds with
/// "million" and "billion", and a mean shown with its interval on one scale.
///
/// Used by the terminal summaries of every command (`TerminalSummary`) and the
/// report (`Report`), so the same value reads the same way everywhere. Minus
/// signs are U+2212 ("−£13.1 million"), as in print. CSV and JSON files keep
/// full-precision numbers; these strings are only for reading.
public enum HumanFormat {
    /// A whole number with thousands separators: 1234567 → "1,234,567", −42 → "−42".
    public static func count(_ n: Int) -> String {
        let digits = String(n.magnitude)
        return (n < 0 ? "−" : "") + grouped(digits)
    }

    /// `x` with `decimals` decimals and thousands separators in its whole part: (1234.5, 1) → "1,234.5".
    public static func fixed(_ x: Double, decimals: Int) -> String {
        guard x.isFinite else { return "—" }
        let text = String(format: "%.\(max(0, decimals))f", abs(x))
        let parts = text.split(separator: ".", maxSplits: 1)
        let whole = grouped(String(parts[0]))
        let body = parts.count > 1 ? whole + "." + parts[1] : whole
        // No "−0.0": a value that rounds to zero has no sign.
        let isZero = body.allSatisfy { $0 == "0" || $0 == "." || $0 == "," }
        return (x < 0 && !isZero ? "−" : "") + body
    }

    /// One scale for values shown together: billions, millions or units, by the largest magnitude.
    public struct Scale: Sendable, Equatable {
        public var divisor: Double
        public var word: String

        public static let units = Scale(divisor: 1, word: "")
        public static let millions = Scale(divisor: 1e6, word: " million")
        public static let billions = Scale(divisor: 1e9, word: " billion")

        /// The scale of the largest finite magnitude in `values`: ≥ 10⁹ billions, ≥ 10⁶ millions, otherwise units.
        public static func of(_ values: [Double]) -> Scale {
            let m = values.filter(\.isFinite).map(abs).max() ?? 0
            return m >= 1e9 ? .billions : m >= 1e6 ? .millions : .units
        }
    }

    /// Decimals that show `width` (an interval's width) at two significant digits on `scale`;
    /// without a usable width (not positive, or below 10⁻⁹ of `magnitude`), `digits` significant
    /// digits of `magnitude`. Between 0 and 6.
    ///
    /// ```
    /// decimals = 1 − ⌊log10(width / divisor)⌋                  (two significant digits of the width)
    /// decimals = digits − 1 − ⌊log10(magnitude / divisor)⌋     (no width)
    /// ```
    public static func decimals(width: Double, magnitude: Double, scale: Scale, digits: Int = 4) -> Int {
        let w = width / scale.divisor, m = magnitude / scale.divisor
        let d: Double
        if isUsable(width: width, magnitude: magnitude) {
            d = 1 - Foundation.floor(Foundation.log10(w))
        } else if m.isFinite && m > 0 {
            d = Double(digits - 1) - Foundation.floor(Foundation.log10(m))
        } else {
            d = 0
        }
        return Int(min(6, max(0, d)))
    }

    /// Whether an interval's width can set the decimals: finite, positive and not at rounding level
    /// (below 10⁻⁹ of `magnitude`, as when every replication gives the same value).
    static func isUsable(width: Double, magnitude: Double) -> Bool {
        width.isFinite && width > 0 && !(magnitude.isFinite && width < magnitude * 1e-9)
    }

    /// `values` on one scale and with one number of decimals, chosen from `width` (`decimals(width:magnitude:scale:)`),
    /// each as money ("£431.6 million", "−£13.1 million") or a plain number ("61,234"). Without a
    /// usable width (`isUsable`), trailing zeros after the decimal point are dropped.
    public static func together(_ values: [Double], width: Double, money: Bool, digits: Int = 4) -> [String] {
        let scale = Scale.of(values)
        let magnitude = values.filter(\.isFinite).map(abs).max() ?? 0
        let hasWidth = isUsable(width: width, magnitude: magnitude)
        // A whole number below a million without an interval keeps no decimals: 10 years, 1,234 children.
        let whole = !hasWidth && scale == .units && values.allSatisfy { $0 == $0.rounded() }
        let d = whole ? 0 : decimals(width: width, magnitude: magnitude, scale: scale, digits: digits)
        return values.map { v in
            guard v.isFinite else { return "—" }
            var body = fixed(v / scale.divisor, decimals: d)
            // Without an interval the decimals only carry significant digits: "2.5 million", not "2.500 million".
            if !hasWidth && body.contains(".") {
                while body.hasSuffix("0") { body.removeLast() }
                if body.hasSuffix(".") { body.removeLast() }
            }
            guard money else { return body + scale.word }
            return body.hasPrefix("−") ? "−£" + body.dropFirst() + scale.word : "£" + body + scale.word
        }
    }

    /// One amount of money, to `digits` significant digits:
    /// 431_599_000 → "£431.6 million", −128_858 → "−£128,858", 1234.5 → "£1,235".
    public static func money(_ x: Double, digits: Int = 4) -> String { together([x], width: .nan, money: true, digits: digits)[0] }

    /// One number, to `digits` significant digits (whole numbers below a million as they are):
    /// 61234.2 → "61,234", 12.345 → "12.35", 0.04321 → "0.04321", 2_500_000 → "2.5 million", 10 → "10".
    public static func number(_ x: Double, digits: Int = 4) -> String {
        guard x.isFinite else { return "—" }
        if x != 0 && abs(x) < 1 {
            return (x < 0 ? "−" : "") + String(format: "%.\(max(1, digits))g", abs(x))
        }
        return together([x], width: .nan, money: false, digits: digits)[0]
    }

    /// A mean and its interval on one scale, with the decimals that show the interval's width at
    /// two significant digits: "£13.09 million (£12.41 million to £13.77 million)", "0.512 (0.482 to 0.542)".
    public static func interval(_ mean: Double, _ low: Double, _ high: Double, money: Bool) -> String {
        let t = together([mean, low, high], width: high - low, money: money)
        return "\(t[0]) (\(t[1]) to \(t[2]))"
    }

    /// A mean with its 95 % confidence interval and the 2.5–97.5 % range of replications:
    /// "£431.6 million (95 % CI £430.1 million to £433.0 million; 2.5–97.5 % of replications £420.3 million to £441.0 million)".
    ///
    /// The mean and its interval share the decimals that show the interval's width at two
    /// significant digits; the range of replications has its own.
    public static func estimate(_ s: SampleStatistics, money: Bool) -> String {
        let ci = together([s.mean, s.ciLow, s.ciHigh], width: s.ciHigh - s.ciLow, money: money)
        let range = together([s.p2_5, s.p97_5], width: s.p97_5 - s.p2_5, money: money)
        if s.count < 2 || !(s.ciHigh - s.ciLow).isFinite {
            return "\(ci[0]) (one replication: no interval)"
        }
        return "\(ci[0]) (95 % CI \(ci[1]) to \(ci[2]); 2.5–97.5 % of replications \(range[0]) to \(range[1]))"
    }

    /// A ratio of means (`RatioOfMeans`, e.g. a cost per child) with its 95 % CI, on one scale:
    /// "£14,775 (95 % CI £14,614 to £14,937)".
    public static func estimate(_ r: RatioOfMeans, money: Bool) -> String {
        let ci = together([r.mean, r.ciLow, r.ciHigh], width: r.ciHigh - r.ciLow, money: money)
        if r.units < 2 || !(r.ciHigh - r.ciLow).isFinite { return "\(ci[0]) (one replication: no interval)" }
        return "\(ci[0]) (95 % CI \(ci[1]) to \(ci[2]))"
    }

    /// The ICER of mean differences with its quadrant in words (`CostEffectiveness.Quadrant`):
    /// "£12,345 per QoL-year gained (more QoL-years at a higher cost)",
    /// "dominant: more QoL-years at a lower cost", "dominated: fewer QoL-years at a higher cost",
    /// "£12,345 saved per QoL-year lost (fewer QoL-years at a lower cost)".
    public static func icer(deltaCost: Double, deltaQol: Double) -> String {
        guard deltaCost.isFinite, deltaQol.isFinite else { return "—" }
        let ratio = abs(deltaCost / deltaQol)
        switch CostEffectiveness.Quadrant.of(deltaCost: deltaCost, deltaQol: deltaQol) {
        case .northEast: return "\(money(ratio)) per QoL-year gained (more QoL-years at a higher cost)"
        case .southEast: return deltaCost == 0 ? "dominant: more QoL-years at the same cost" : "dominant: more QoL-years at a lower cost"
        case .northWest: return deltaCost == 0 ? "dominated: fewer QoL-years at the same cost" : "dominated: fewer QoL-years at a higher cost"
        case .southWest: return "\(money(ratio)) saved per QoL-year lost (fewer QoL-years at a lower cost)"
        case .noQolDifference: return "undefined: no difference in QoL-years"
        }
    }

    /// Digits grouped by threes from the right: "1234567" → "1,234,567".
    static func grouped(_ digits: String) -> String {
        var out: [Character] = []
        for (i, c) in digits.reversed().enumerated() {
            if i > 0 && i % 3 == 0 { out.append(",") }
            out.append(c)
        }
        return String(out.reversed())
    }
}
