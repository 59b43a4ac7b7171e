/// One broken rule in a scenario file: where, what was found, what was expected.
public struct ValidationIssue: Hashable, Sendable, CustomStringConvertible {
    /// The scenario file, as the user named it.
    public var file: String
    /// 1-based line in the file, when known.
    public var line: Int?
    /// Field path, e.g. `arms.wm2u.practice.relational.escalationEffect`.
    public var path: String
    /// What was there.
    public var found: String
    /// What the rule wants.
    public var expected: String

    public init(file: String, line: Int?, path: String, found: String, expected: String) {
        self.file = file
        self.line = line
        self.path = path
        self.found = found
        self.expected = expected
    }

    public var description: String {
        let place = line.map { "\(file):\($0)" } ?? file
        return "\(place): \(path.isEmpty ? "(top level)" : path): found \(found); expected \(expected)"
    }
}

/// Every problem found in one scenario file. Thrown before any work starts.
public struct ScenarioError: Error, CustomStringConvertible, Sendable {
    public var file: String
    public var issues: [ValidationIssue]

    public init(file: String, issues: [ValidationIssue]) {
        self.file = file
        self.issues = issues
    }

    public var description: String {
        let count = issues.count == 1 ? "1 problem" : "\(issues.count) problems"
        return "\(file): \(count):\n" + issues.map { "  - \($0)" }.joined(separator: "\n")
    }
}
