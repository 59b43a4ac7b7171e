import Foundation
import Testing
@testable import Model

/// A scalar tree at a given path and line.
private func leaf(_ text: String, path: String = "x.y", line: Int? = 4) -> Tree {
    Tree(value: .scalar(text), path: path, line: line)
}

@Suite("IssueLog: reading values and collecting issues")
struct IssueLogTests {
    // MARK: Suggestions

    @Test("edit distance", arguments: [
        ("kitten", "sitting", 3), ("flaw", "lawn", 2), ("same", "same", 0),
        ("", "abc", 3), ("abc", "", 3), ("", "", 0), ("a", "b", 1), ("ab", "ba", 2),
    ])
    func editDistance(_ a: String, _ b: String, _ distance: Int) {
        #expect(IssueLog.editDistance(a, b) == distance)
        #expect(IssueLog.editDistance(b, a) == distance)
    }

    @Test("closest allowed key within distance 3, ignoring case", arguments: [
        ("qolWieght", "qolWeight"), ("QOLWEIGHT", "qolWeight"), ("costperchildyear", "costPerChildYear"),
        ("absorb", "absorbing"), ("transition", nil), ("colour", nil),
    ] as [(String, String?)])
    func closest(_ key: String, _ suggestion: String?) {
        #expect(IssueLog.closest(to: key, among: ["absorbing", "costPerChildYear", "qolWeight"]) == suggestion)
    }

    // MARK: Numbers

    @Test("numbers in messages: whole numbers without a decimal point", arguments: [
        (3.0, "3"), (-2.0, "-2"), (0.5, "0.5"), (1e20, "1e+20"), (-0.25, "-0.25"),
    ])
    func format(_ x: Double, _ text: String) {
        #expect(IssueLog.format(x) == text)
    }

    @Test("number ranges and their phrases")
    func ranges() {
        #expect(NumberRange.unit.phrase == "in [0, 1]")
        #expect(NumberRange.nonNegative.phrase == ">= 0")
        #expect(NumberRange.positive.phrase == "> 0")
        #expect(NumberRange(high: 0).phrase == "<= 0")
        #expect(NumberRange.unit.contains(0) && NumberRange.unit.contains(1))
        #expect(!NumberRange.unit.contains(-1e-300) && !NumberRange.unit.contains(1.0000001))
        #expect(NumberRange.nonNegative.contains(0) && !NumberRange.nonNegative.contains(-0.1))
        #expect(!NumberRange.positive.contains(0) && NumberRange.positive.contains(1e-300))
        #expect(NumberRange(high: 0).contains(0) && !NumberRange(high: 0).contains(0.1))
    }

    @Test("number: accepted texts", arguments: [("0.25", 0.25), ("1_000", 1000), ("-3", -3), ("1e-3", 0.001)])
    func numberAccepted(_ text: String, _ value: Double) {
        let log = IssueLog(file: "f.yaml")
        #expect(log.number(leaf(text)) == value)
        #expect(log.issues.isEmpty)
    }

    @Test("number: text that is not a finite number", arguments: ["abc", "inf", "nan", "1,5", ""])
    func numberRejected(_ text: String) {
        let log = IssueLog(file: "f.yaml")
        #expect(log.number(leaf(text), .nonNegative) == nil)
        #expect(log.issues == [ValidationIssue(file: "f.yaml", line: 4, path: "x.y", found: "'\(text)'",
                                               expected: "a number >= 0")])
    }

    @Test("number: out of range gives the number found and the range")
    func numberOutOfRange() {
        let log = IssueLog(file: "f.yaml")
        #expect(log.number(leaf("1.5"), .unit) == nil)
        #expect(log.number(leaf("0"), .positive) == nil)
        #expect(log.issues == [
            ValidationIssue(file: "f.yaml", line: 4, path: "x.y", found: "1.5", expected: "a number in [0, 1]"),
            ValidationIssue(file: "f.yaml", line: 4, path: "x.y", found: "0", expected: "a number > 0"),
        ])
    }

    @Test("integer: whole numbers at or above a minimum")
    func integers() {
        let log = IssueLog(file: "f.yaml")
        #expect(log.integer(leaf("12")) == 12)
        #expect(log.integer(leaf("1_200")) == 1200)
        #expect(log.integer(leaf("2.5")) == nil)
        #expect(log.integer(leaf("0"), minimum: 1) == nil)
        #expect(log.issues == [
            ValidationIssue(file: "f.yaml", line: 4, path: "x.y", found: "'2.5'", expected: "a whole number >= 0"),
            ValidationIssue(file: "f.yaml", line: 4, path: "x.y", found: "0", expected: "a whole number >= 1"),
        ])
    }

    @Test("bool: YAML spellings", arguments: [
        ("true", true), ("yes", true), ("True", true), ("false", false), ("no", false), ("FALSE", false),
        ("maybe", nil), ("1", nil),
    ] as [(String, Bool?)])
    func bools(_ text: String, _ value: Bool?) {
        let log = IssueLog(file: "f.yaml")
        #expect(log.bool(leaf(text)) == value)
        #expect(log.issues == (value == nil
            ? [ValidationIssue(file: "f.yaml", line: 4, path: "x.y", found: "'\(text)'", expected: "true or false")] : []))
    }

    @Test("choice lists the options")
    func choice() {
        let log = IssueLog(file: "f.yaml")
        #expect(log.choice(leaf("b"), [("a", 1), ("b", 2)]) == 2)
        #expect(log.choice(leaf("c"), [("a", 1), ("b", 2)]) == nil)
        #expect(log.issues == [ValidationIssue(file: "f.yaml", line: 4, path: "x.y", found: "'c'", expected: "one of a, b")])
    }

    @Test("string and list: the wrong kind of value")
    func wrongKinds() {
        let log = IssueLog(file: "f.yaml")
        let list = Tree(value: .sequence([leaf("a")]), path: "l", line: 2)
        #expect(log.string(list) == nil)
        #expect(log.list(leaf("a"), what: "a list of area names") == nil)
        #expect(log.namedEntries(leaf("a"), what: "a mapping of levels") == nil)
        #expect(log.issues == [
            ValidationIssue(file: "f.yaml", line: 2, path: "l", found: "a list of 1 items", expected: "a text value"),
            ValidationIssue(file: "f.yaml", line: 4, path: "x.y", found: "'a'", expected: "a list of area names"),
            ValidationIssue(file: "f.yaml", line: 4, path: "x.y", found: "'a'", expected: "a mapping of levels"),
        ])
    }

    // MARK: Mappings

    @Test("fields: unknown keys are reported at their own path and line, with a suggestion")
    func unknownFields() throws {
        let tree = try Tree.parse(yaml: "time:\n  stepMonths: 1\n  horizonYear: 2\n  colour: red\n", file: "f.yaml")
        guard case .mapping(let entries) = tree.value else { Issue.record("not a mapping"); return }
        let time = entries[0].value
        let log = IssueLog(file: "f.yaml")
        let fields = try #require(log.fields(time, allowed: ["stepMonths", "horizonYears"], what: "time settings"))
        #expect(fields["stepMonths"]?.path == "time.stepMonths")
        #expect(fields["horizonYears"] == nil)
        #expect(log.issues == [
            ValidationIssue(file: "f.yaml", line: 3, path: "time.horizonYear", found: "unknown field 'horizonYear'",
                            expected: "one of stepMonths, horizonYears (did you mean 'horizonYears'?)"),
            ValidationIssue(file: "f.yaml", line: 4, path: "time.colour", found: "unknown field 'colour'",
                            expected: "one of stepMonths, horizonYears"),
        ])
    }

    @Test("fields: a value that is not a mapping")
    func fieldsOfScalar() {
        let log = IssueLog(file: "f.yaml")
        #expect(log.fields(leaf("3"), allowed: ["a", "b"], what: "time settings") == nil)
        #expect(log.issues == [ValidationIssue(file: "f.yaml", line: 4, path: "x.y", found: "'3'",
                                               expected: "time settings (a mapping with keys among a, b)")])
    }

    @Test("required: a missing key is reported at its would-be path and the mapping's line")
    func requiredField() throws {
        let tree = try Tree.parse(yaml: "top:\n  level: {cost: 1}\n", file: "f.yaml")
        guard case .mapping(let entries) = tree.value, case .mapping(let inner) = entries[0].value.value else {
            Issue.record("not a mapping"); return
        }
        let log = IssueLog(file: "f.yaml")
        let fields = try #require(log.fields(inner[0].value, allowed: ["cost", "qol"], what: "level"))
        #expect(fields.required("cost", expected: "a cost") != nil)
        #expect(fields.required("qol", expected: "a weight") == nil)
        #expect(log.issues == [ValidationIssue(file: "f.yaml", line: 2, path: "top.level.qol",
                                               found: "nothing (the field is missing)", expected: "a weight")])
    }

    @Test("the same issue twice is kept once; different issues keep their order")
    func deduplication() {
        let log = IssueLog(file: "f.yaml")
        log.add(path: "b", line: 2, found: "x", expected: "y")
        log.add(path: "a", line: 1, found: "x", expected: "y")
        log.add(path: "b", line: 2, found: "x", expected: "y")
        log.add(path: "b", line: 3, found: "x", expected: "y")
        #expect(log.issues.map(\.path) == ["b", "a", "b"])
        #expect(log.issues.map(\.line) == [2, 1, 3])
    }
}
