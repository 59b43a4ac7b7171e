import Foundation
import Testing
@testable import Model
import TestSupport

/// Scenario texts for the Model tests. They live here, not in TestSupport, so
/// the line numbers the tests check do not move when shared fixtures change.
enum ScenarioText {
    /// Yearly rates, two areas, births, duration dependence, a practice in the
    /// base that the `baseline` arm removes and the `wm2u` arm modifies.
    static let rates = """
    name: rules
    time: {stepMonths: 1, horizonYears: 2}
    levels:
      Low: {costPerChildYear: 100, qolWeight: 0.9}
      Mid: {costPerChildYear: 1000, qolWeight: 0.8}
      High: {costPerChildYear: 10000, qolWeight: 0.6}
    areas: [north, south]
    population:
      initialCounts:
        north: {Low: 300, Mid: 60, High: 20}
        south: {Low: 200, Mid: 40, High: 10}
      births:
        perYear: {north: 30, south: 20}
        entryLevels: {Low: 0.9, Mid: 0.1}
    transitions:
      unit: ratesPerYear
      matrix:
        Low: {Mid: 0.1, High: 0.01}
        Mid: {Low: 0.3, High: 0.05}
        High: {Low: 0.05, Mid: 0.3}
      durationDependence:
        High: [{fromMonths: 0, leaveMultiplier: 1.2}, {fromMonths: 6, leaveMultiplier: 0.8}]
    practice:
      relational:
        intensity: [{timeYears: 0, value: 0.2}, {timeYears: 1, value: 0.9}]
        coverage: {areas: [north], share: 0.7}
        escalationEffect: 0.3
        stepDownEffect: 0.4
        timeToEffectYears: 0.5
    programme: {costPerYear: 50000}
    arms:
      baseline:
        practice: null
        programme: null
      wm2u:
        practice:
          relational:
            stepDownEffect: 0.5
    """

    /// Per-step probabilities, no areas, no births, no arms.
    /// Baseline leave sums: Low red 0.1; Mid red 0.1, green 0.2; High green 0.3.
    static let perStep = """
    name: per-step
    time: {stepMonths: 1, horizonYears: 2}
    levels:
      Low: {costPerChildYear: 100, qolWeight: 0.9}
      Mid: {costPerChildYear: 1000, qolWeight: 0.8}
      High: {costPerChildYear: 10000, qolWeight: 0.6}
    population:
      initialCounts: {Low: 100, Mid: 20, High: 5}
    transitions:
      unit: probabilitiesPerStep
      matrix:
        Low: {Low: 0.9, Mid: 0.1}
        Mid: {Low: 0.2, Mid: 0.7, High: 0.1}
        High: {Mid: 0.3}
    """

    /// A two-level scenario with the given unit and matrix rows (flow mappings).
    static func twoLevels(unit: String, a: String, b: String, time: String = "{stepMonths: 1, horizonYears: 1}") -> String {
        """
        time: \(time)
        levels:
          A: {costPerChildYear: 1, qolWeight: 1}
          B: {costPerChildYear: 1, qolWeight: 1}
        population: {initialCounts: {A: 10, B: 10}}
        transitions:
          unit: \(unit)
          matrix: {A: \(a), B: \(b)}
        """
    }
}

/// `text` with each `(old, new)` applied in turn; records an issue unless
/// `old` occurs exactly once, so a stale edit cannot silently test nothing.
func edited(_ text: String, _ edits: [(String, String)],
            sourceLocation: SourceLocation = #_sourceLocation) -> String {
    var result = text
    for (old, new) in edits {
        let count = result.components(separatedBy: old).count - 1
        if count != 1 {
            Issue.record("edit target occurs \(count) times, expected once: \(old.debugDescription)",
                         sourceLocation: sourceLocation)
        }
        result = result.replacingOccurrences(of: old, with: new)
    }
    return result
}

/// The 1-based line of the only line of `text` containing `marker`.
func lineNumber(of marker: String, in text: String, sourceLocation: SourceLocation = #_sourceLocation) -> Int? {
    let hits = text.components(separatedBy: "\n").enumerated().filter { $0.element.contains(marker) }
    guard hits.count == 1 else {
        Issue.record("line marker occurs on \(hits.count) lines, expected one: \(marker.debugDescription)",
                     sourceLocation: sourceLocation)
        return nil
    }
    return hits[0].offset + 1
}

/// An issue a test expects: its field path, what was found, what was expected, and where.
struct ExpectedIssue: Sendable, CustomStringConvertible {
    enum Line: Sendable {
        /// The line of the text containing this marker.
        case at(String)
        /// No line (the issue is about the whole file or a whole arm).
        case none
    }

    var path: String
    var found: String
    var expected: String
    var line: Line

    init(_ path: String, found: String, expected: String, line: Line) {
        self.path = path
        self.found = found
        self.expected = expected
        self.line = line
    }

    var description: String { "\(path): found \(found); expected \(expected)" }

    func resolved(in text: String, file: String = "test.yaml",
                  sourceLocation: SourceLocation = #_sourceLocation) -> ValidationIssue {
        let number: Int?
        switch line {
        case .at(let marker): number = lineNumber(of: marker, in: text, sourceLocation: sourceLocation)
        case .none: number = nil
        }
        return ValidationIssue(file: file, line: number, path: path, found: found, expected: expected)
    }
}

/// Checks that every wanted issue was reported exactly (file, line, path,
/// found, expected), and, when `exhaustive`, that nothing else was.
func expectIssues(_ actual: [ValidationIssue], _ wanted: [ExpectedIssue], in text: String, exhaustive: Bool = true,
                  sourceLocation: SourceLocation = #_sourceLocation) {
    let listing = actual.map { "  \($0)" }.joined(separator: "\n")
    for w in wanted {
        let issue = w.resolved(in: text, sourceLocation: sourceLocation)
        #expect(actual.contains(issue), "missing issue:\n  \(issue)\nreported:\n\(listing)",
                sourceLocation: sourceLocation)
    }
    if exhaustive {
        #expect(actual.count == wanted.count, "expected \(wanted.count) issues, got \(actual.count):\n\(listing)",
                sourceLocation: sourceLocation)
    }
}

/// Element-wise closeness of two matrices.
func maxDifference(_ a: [[Double]], _ b: [[Double]]) -> Double {
    guard a.count == b.count, zip(a, b).allSatisfy({ $0.count == $1.count }) else { return .infinity }
    return zip(a, b).flatMap { zip($0, $1).map { abs($0 - $1) } }.max() ?? 0
}

/// A^k by repeated multiplication.
func matrixPower(_ a: [[Double]], _ k: Int) -> [[Double]] {
    var result = MatrixFunctions.identity(a.count)
    for _ in 0..<k { result = MatrixFunctions.multiply(result, a) }
    return result
}
