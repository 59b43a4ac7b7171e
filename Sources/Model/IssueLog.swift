/// The problems of one input, listed up to a limit and counted beyond it: a file with
/// thousands of bad rows gives a message a person can read that still says how many there are.
public struct ProblemListing<Problem> {
    public let limit: Int
    public private(set) var listed: [Problem] = []
    public private(set) var unlisted = 0

    public init(limit: Int) { self.limit = limit }

    public var isEmpty: Bool { listed.isEmpty && unlisted == 0 }

    /// Lists the problem while fewer than `limit` are listed, counts it after.
    public mutating func add(_ problem: Problem) {
        if listed.count < limit { listed.append(problem) } else { unlisted += 1 }
    }

    /// "N more problem(s) not listed", or nil when every problem is listed.
    public var unlistedPhrase: String? { unlisted == 0 ? nil : "\(unlisted) more problem\(unlisted == 1 ? "" : "s") not listed" }
}

/// Collects every broken rule in one pass, so a user sees all problems at once.
final class IssueLog {
    let file: String
    private(set) var issues: [ValidationIssue] = []
    private var seen: Set<ValidationIssue> = []

    init(file: String) { self.file = file }

    func add(path: String, line: Int?, found: String, expected: String) {
        let issue = ValidationIssue(file: file, line: line, path: path, found: found, expected: expected)
        if seen.insert(issue).inserted { issues.append(issue) }
    }

    func add(_ tree: Tree, found: String? = nil, expected: String) {
        add(path: tree.path, line: tree.line, found: found ?? tree.shortDescription, expected: expected)
    }

    // MARK: Mappings

    /// The entries of a mapping, reporting keys outside `allowed` (with the
    /// closest allowed key as a suggestion) and a value that is not a mapping.
    /// - Parameter reportUnknown: false when the keys were checked already.
    func fields(_ tree: Tree, allowed: [String], what: String, reportUnknown: Bool = true) -> Fields? {
        guard case .mapping(let entries) = tree.value else {
            add(tree, expected: "\(what) (a mapping with keys among \(allowed.joined(separator: ", ")))")
            return nil
        }
        for (key, value) in entries where reportUnknown && !allowed.contains(key) {
            let hint = Self.closest(to: key, among: allowed).map { " (did you mean '\($0)'?)" } ?? ""
            add(path: value.path, line: value.line, found: "unknown field '\(key)'",
                expected: "one of \(allowed.joined(separator: ", "))\(hint)")
        }
        return Fields(tree: tree, entries: entries, log: self)
    }

    /// The entries of a mapping whose keys are names the user chose (levels, areas, arms).
    func namedEntries(_ tree: Tree, what: String) -> [(key: String, value: Tree)]? {
        guard case .mapping(let entries) = tree.value else {
            add(tree, expected: what)
            return nil
        }
        return entries
    }

    func list(_ tree: Tree, what: String) -> [Tree]? {
        guard case .sequence(let items) = tree.value else {
            add(tree, expected: what)
            return nil
        }
        return items
    }

    // MARK: Scalars

    func number(_ tree: Tree, _ range: NumberRange = .any) -> Double? {
        guard case .scalar(let text) = tree.value,
              let x = Double(text.replacingOccurrences(of: "_", with: "")), x.isFinite else {
            add(tree, expected: "a number \(range.phrase)")
            return nil
        }
        guard range.contains(x) else {
            add(tree, found: Self.format(x), expected: "a number \(range.phrase)")
            return nil
        }
        return x
    }

    /// The largest whole number a field takes unless it says otherwise: well
    /// inside Int64 and Double's exact integers, so sums and products of a
    /// few such values cannot overflow.
    static let largestWhole = 1_000_000_000_000

    /// A whole number in [minimum, maximum]; `12`, `12.0` and `1.2e1` all read as 12.
    func integer(_ tree: Tree, minimum: Int = 0, maximum: Int = IssueLog.largestWhole) -> Int? {
        var parsed: Double? = nil
        if case .scalar(let text) = tree.value {
            let clean = text.replacingOccurrences(of: "_", with: "")
            if let i = Int(clean) {
                parsed = Double(i)
            } else if let d = Double(clean), d.isFinite, d == d.rounded() {
                parsed = d
            }
        }
        guard let x = parsed else {
            add(tree, expected: "a whole number >= \(minimum)")
            return nil
        }
        guard x >= Double(minimum) else {
            add(tree, found: Self.format(x), expected: "a whole number >= \(minimum)")
            return nil
        }
        guard x <= Double(maximum), let exact = Int(exactly: x) else {
            add(tree, found: abs(x) < 1e15 ? Self.format(x) : nil, expected: "a whole number in [\(minimum), \(maximum)]")
            return nil
        }
        return exact
    }

    func bool(_ tree: Tree) -> Bool? {
        if case .scalar(let text) = tree.value {
            switch text {
            case "true", "True", "TRUE", "yes", "Yes": return true
            case "false", "False", "FALSE", "no", "No": return false
            default: break
            }
        }
        add(tree, expected: "true or false")
        return nil
    }

    /// A master seed: a whole number from 0 to 2^64 − 1.
    func seed(_ tree: Tree) -> UInt64? {
        if case .scalar(let s) = tree.value, let v = UInt64(s) { return v }
        add(tree, expected: "a seed, a whole number from 0 to 2^64 − 1")
        return nil
    }

    func string(_ tree: Tree) -> String? {
        guard case .scalar(let text) = tree.value else {
            add(tree, expected: "a text value")
            return nil
        }
        return text
    }

    func choice<T>(_ tree: Tree, _ options: [(String, T)]) -> T? {
        if case .scalar(let text) = tree.value, let hit = options.first(where: { $0.0 == text }) {
            return hit.1
        }
        add(tree, expected: "one of \(options.map(\.0).joined(separator: ", "))")
        return nil
    }

    static func format(_ x: Double) -> String {
        x == x.rounded() && abs(x) < 1e15 ? String(Int(x)) : "\(x)"
    }


    /// Control (Cc) and format (Cf) characters, and line or paragraph separators.
    static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.properties.generalCategory {
        case .control, .format, .lineSeparator, .paragraphSeparator: return true
        default: return false
        }
    }

    /// Reports a name the user chose (level, area, arm, practice, parameter)
    /// that is empty or holds control characters; true when it is fine.
    @discardableResult
    func checkName(_ name: String, at tree: Tree, what: String) -> Bool {
        if name.isEmpty {
            add(tree, found: "an empty \(what) name", expected: "a non-empty name")
            return false
        }
        if name.unicodeScalars.contains(where: Self.isControl) {
            add(tree, found: "\(what) name '\(MessageText.excerpt(name))', which holds a control character",
                expected: "a name without control characters (line breaks, tabs, …)")
            return false
        }
        return true
    }

    /// The allowed key within edit distance 3 of `key`, if any.
    static func closest(to key: String, among allowed: [String]) -> String? {
        let scored = allowed.map { ($0, editDistance(key.lowercased(), $0.lowercased())) }
        guard let best = scored.min(by: { $0.1 < $1.1 }), best.1 <= 3 else { return nil }
        return best.0
    }

    static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        var row = Array(0...b.count)
        for i in 1...max(a.count, 1) where !a.isEmpty {
            var previous = row[0]
            row[0] = i
            for j in stride(from: 1, through: b.count, by: 1) {
                let current = row[j]
                row[j] = min(row[j] + 1, row[j - 1] + 1, previous + (a[i - 1] == b[j - 1] ? 0 : 1))
                previous = current
            }
        }
        return a.isEmpty ? b.count : row[b.count]
    }
}

/// The entries of one mapping, looked up by key.
struct Fields {
    let tree: Tree
    let entries: [(key: String, value: Tree)]
    let log: IssueLog

    subscript(key: String) -> Tree? { entries.first { $0.key == key }?.value }

    /// The value at `key`, or an issue saying it is missing.
    func required(_ key: String, expected: String) -> Tree? {
        if let value = self[key] { return value }
        log.add(path: Tree.join(tree.path, key), line: tree.line, found: "nothing (the field is missing)",
                expected: expected)
        return nil
    }
}

/// A rule on a number, with the phrase used in messages.
struct NumberRange {
    var low: Double?
    var high: Double?
    var lowOpen = false

    static let any = NumberRange()
    static let nonNegative = NumberRange(low: 0)
    static let positive = NumberRange(low: 0, lowOpen: true)
    static let unit = NumberRange(low: 0, high: 1)
    /// A QoL weight (utility) of a year: 1 is full health, 0 is as bad as death, below 0
    /// worse than death. −1 bounds the published tariffs: the UK EQ-5D-3L tariff's worst
    /// state is −0.594 (Dolan 1997, Med Care 35(11):1095–1108).
    static let utility = NumberRange(low: -1, high: 1)
    /// Pounds (a cost per year or per child-year): up to a trillion.
    static let money = NumberRange(low: 0, high: 1e12)
    /// A time or duration in years.
    static let years = NumberRange(low: 0, high: 1000)
    /// An age in years.
    static let ageYears = NumberRange(low: 0, high: 100)
    /// A multiplier on a probability or an effect.
    static let multiplier = NumberRange(low: 0, high: 1000)
    /// Children per year (births, in-migrants) per area.
    static let perYear = NumberRange(low: 0, high: 1e8)
    /// A value a parameter distribution gives or bounds.
    static let parameterValue = NumberRange(low: -1e12, high: 1e12)
    /// A standard deviation or scale of a distribution.
    static let spread = NumberRange(low: 0, high: 1e12, lowOpen: true)
    /// A shape parameter of a distribution (beta's α and β, gamma's k), or a Dirichlet's size.
    static let shape = NumberRange(low: 0, high: 1e9, lowOpen: true)
    /// A rate per year (transition, emigration).
    static let ratePerYear = NumberRange(low: 0, high: 1000)

    func contains(_ x: Double) -> Bool {
        if let low, lowOpen ? x <= low : x < low { return false }
        if let high, x > high { return false }
        return true
    }

    var phrase: String {
        switch (low, high) {
        case (nil, nil): return ""
        case (let l?, nil): return lowOpen ? "> \(IssueLog.format(l))" : ">= \(IssueLog.format(l))"
        case (nil, let h?): return "<= \(IssueLog.format(h))"
        case (let l?, let h?): return "in \(lowOpen ? "(" : "[")\(IssueLog.format(l)), \(IssueLog.format(h))]"
        }
    }
}

/// Text from users' files as girfec's messages quote it.
public enum MessageText {
    /// Text from a user's file as a message shows it: control and format
    /// characters escaped (`\n`, `\u{7}`), and at most `limit` characters,
    /// so a message never carries whole lines of a file.
    public static func excerpt(_ text: String, limit: Int = 40) -> String {
        var out = ""
        var count = 0
        for scalar in text.unicodeScalars {
            if count == limit { return out + "…" }
            switch scalar {
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if IssueLog.isControl(scalar) {
                    out += "\\u{\(String(scalar.value, radix: 16))}"
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
            count += 1
        }
        return out
    }
}
