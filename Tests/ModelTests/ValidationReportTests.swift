import Foundation
import Testing
@testable import Model
import TestSupport

private let missing = "nothing (the field is missing)"
private let stayExpected = "multipliers that keep every stay probability >= 0: lower the step-down effects, intensities or multipliers"

@Suite("Validation reports: all at once, paths, lines")
struct ValidationReportTests {
    // MARK: All problems at once

    @Test("five distinct mistakes give five issues, each with its path and line")
    func everyProblemAtOnce() {
        let text = edited(ScenarioText.rates, [
            ("programme: {costPerYear: 50000}", "programme: {costPerYear: 50000}\ndiscounting: {costRatePerYr: 0.03}"),
            ("Mid: 40", "Mid: -40"),
            ("High: {Low: 0.05, Mid: 0.3}", "High: {Low: 0.05, Mid: -0.3}"),
            ("perYear: {north: 30, south: 20}", "perYear: {north: 30, west: 20}"),
            ("High: {costPerChildYear: 10000, qolWeight: 0.6}", "High: {costPerChildYear: 10000}"),
        ])
        let issues = Fixtures.issues(text)
        expectIssues(issues, [
            .init("discounting.costRatePerYr", found: "unknown field 'costRatePerYr'",
                  expected: "one of costRatePerYear, qolRatePerYear (did you mean 'costRatePerYear'?)",
                  line: .at("costRatePerYr")),
            .init("population.initialCounts.south.Mid", found: "-40", expected: "a whole number >= 0", line: .at("Mid: -40")),
            .init("transitions.matrix.High.Mid", found: "-0.3", expected: "a number in [0, 1000]", line: .at("Mid: -0.3")),
            .init("population.births.perYear.west", found: "unknown area 'west'",
                  expected: "one of the areas: north, south", line: .at("west: 20")),
            .init("levels.High.qolWeight", found: missing, expected: "QoL weight of a year in this level, in [-1, 1]",
                  line: .at("High: {costPerChildYear: 10000}")),
        ], in: text)
        #expect(Set(issues.map(\.path)).count == 5, "each issue has its own field path")
    }

    @Test("the error thrown lists every issue, counted, one per line")
    func errorDescriptionListsAll() {
        let text = edited(ScenarioText.rates, [("Mid: 40", "Mid: -40"), ("Mid: 60", "Mid: -60")])
        do {
            _ = try ScenarioDecoder.decode(yaml: text, file: "two.yaml")
            Issue.record("expected two problems")
        } catch {
            #expect(error.file == "two.yaml")
            #expect(error.issues.count == 2)
            let south = lineNumber(of: "Mid: -40", in: text) ?? 0
            let north = lineNumber(of: "Mid: -60", in: text) ?? 0
            let lines = error.description.components(separatedBy: "\n")
            #expect(lines.first == "two.yaml: 2 problems:")
            #expect(lines.contains("  - two.yaml:\(north): population.initialCounts.north.Mid: found -60; expected a whole number >= 0"))
            #expect(lines.contains("  - two.yaml:\(south): population.initialCounts.south.Mid: found -40; expected a whole number >= 0"))
            #expect(lines.count == 3)
        }
    }

    @Test("a mistake in the base is reported once, not once per arm")
    func baseMistakeReportedOnce() {
        // ScenarioText.rates has two arms; both read the base.
        let text = edited(ScenarioText.rates, [("Mid: 40", "Mid: -40")])
        let issues = Fixtures.issues(text)
        #expect(issues.count == 1)
        #expect(issues.first?.path == "population.initialCounts.south.Mid")
    }

    // MARK: Arm overrides

    static let armCases: [RuleCase] = [
        RuleCase(name: "practice effect out of range in an arm", base: ScenarioText.rates,
                 edits: [("        stepDownEffect: 0.5", "        escalationEffect: 1.5")],
                 issues: [.init("arms.wm2u.practice.relational.escalationEffect", found: "1.5",
                                expected: "a number in [0, 1]", line: .at("escalationEffect: 1.5"))]),
        RuleCase(name: "negative level cost in an arm", base: ScenarioText.rates,
                 edits: [("  wm2u:\n", "  wm2u:\n    levels: {Mid: {costPerChildYear: -5}}\n")],
                 issues: [.init("arms.wm2u.levels.Mid.costPerChildYear", found: "-5", expected: "a number in [0, 1000000000000]",
                                line: .at("costPerChildYear: -5"))]),
        RuleCase(name: "unknown level in an arm's matrix", base: ScenarioText.rates,
                 edits: [("  wm2u:\n", "  wm2u:\n    transitions: {matrix: {Low: {Hgh: 0.01}}}\n")],
                 issues: [.init("arms.wm2u.transitions.matrix.Low.Hgh", found: "unknown level 'Hgh'",
                                expected: "one of the levels: Low, Mid, High", line: .at("Hgh: 0.01"))]),
        RuleCase(name: "practice added by an arm misses escalationEffect",
                 base: ScenarioText.perStep + "\narms:\n  base: {}\n  wm2u:\n    practice: {relational: {intensity: 0.5, stepDownEffect: 0.1}}",
                 edits: [],
                 issues: [.init("arms.wm2u.practice.relational.escalationEffect", found: missing,
                                expected: "a in [0, 1]: red probabilities are multiplied by (1 − a·s)",
                                line: .at("relational: {intensity: 0.5"))]),
        RuleCase(name: "unknown area in an arm's coverage", base: ScenarioText.rates,
                 edits: [("        stepDownEffect: 0.5", "        coverage: {areas: [east]}")],
                 issues: [.init("arms.wm2u.practice.relational.coverage.areas[0]", found: "unknown area 'east'",
                                expected: "one of the areas: north, south", line: .at("areas: [east]"))]),
    ]

    @Test("paths of values from an arm override start with arms.NAME.", arguments: armCases)
    func armOverridePaths(_ rule: RuleCase) {
        let text = edited(rule.base, rule.edits)
        let issues = Fixtures.issues(text)
        expectIssues(issues, rule.issues, in: text)
        for issue in issues { #expect(issue.path.hasPrefix("arms.wm2u."), "\(issue)") }
    }

    // MARK: Stay probabilities

    /// High's baseline step-down probability is 0.3 per step. With full
    /// intensity, τ = 1 year and b = 4, a child covered from step 0 has
    /// s(t) = 1 − exp(−t/12) and leave = 0.3·(1 + 4·s): above 1 first at
    /// t = 11 (t > 12·ln(12/5) = 10.5). Mid (0.1 red + 0.2 green) would need
    /// s > 0.875, after the 24-step horizon.
    @Test("a step-down effect that pushes a stay probability below zero names the arm, level and step")
    func stayProbabilityBelowZero() {
        let text = ScenarioText.perStep + """

        arms:
          base: {}
          wm2u:
            practice: {relational: {intensity: 1, escalationEffect: 0, stepDownEffect: 4, timeToEffectYears: 1}}
        """
        let s = 1 - Foundation.exp(-11.0 / 12)
        let green = 1 + 4 * s
        let leave = 0.3 * green
        #expect(leave > 1 && 0.3 * (1 + 4 * (1 - Foundation.exp(-10.0 / 12))) < 1, "hand calculation: step 11 is the first")
        func g(_ x: Double) -> String { String(format: "%.6g", x) }
        let found = "in arm 'wm2u', level 'High' at step 11 (year 0.92): escalation multiplier 1, "
            + "step-down multiplier \(g(green)) give a leave probability of \(g(leave)), so a stay probability of \(g(1 - leave))"
        let issues = Fixtures.issues(text)
        expectIssues(issues, [
            .init("arms.wm2u.practice", found: found, expected: stayExpected, line: .at("practice: {relational")),
        ], in: text)
        #expect(found.contains("-0.0201"), "the stay probability is negative")
    }

    @Test("age multipliers alone can break a stay probability; the message gives the multipliers")
    func stayProbabilityFromAgeMultipliers() {
        let text = edited(ScenarioText.perStep, [
            ("  unit: probabilitiesPerStep",
             "  unit: probabilitiesPerStep\n  ageMultipliers: [{fromYears: 0, escalationMultiplier: 1, stepDownMultiplier: 4}]"),
        ])
        let issues = Fixtures.issues(text)
        #expect(issues.count == 1)
        #expect(issues.first?.found == "in arm 'base', level 'High' at step 1 (year 0.08): escalation multiplier 1, "
            + "step-down multiplier 4 give a leave probability of 1.2, so a stay probability of -0.2")
        #expect(issues.first?.expected == stayExpected)
    }

    // MARK: The embedding problem

    @Test("a yearly matrix with a negative eigenvalue has no monthly root", arguments: [1, 3])
    func negativeEigenvalue(stepMonths: Int) {
        let text = ScenarioText.twoLevels(unit: "probabilitiesPerYear", a: "{A: 0.1, B: 0.9}", b: "{A: 0.9, B: 0.1}",
                                          time: "{stepMonths: \(stepMonths), horizonYears: 1}")
        expectIssues(Fixtures.issues(text), [
            .init("transitions.matrix", found: "a yearly matrix with no real principal \(stepMonths)-month root",
                  expected: "a yearly probability matrix that is embeddable (has a valid per-step root); give ratesPerYear or probabilitiesPerStep instead",
                  line: .at("matrix: {A")),
        ], in: text)
    }

    /// A → B → C in a year without A → C has a root that needs a negative A → C entry.
    @Test("a yearly matrix whose root has a negative entry is reported as the embedding problem")
    func negativeRootEntry() throws {
        let text = """
        levels:
          A: {costPerChildYear: 1, qolWeight: 1}
          B: {costPerChildYear: 1, qolWeight: 1}
          C: {costPerChildYear: 1, qolWeight: 1, absorbing: true}
        population: {initialCounts: {A: 1, B: 1}}
        transitions:
          unit: probabilitiesPerYear
          matrix: {A: {A: 0.5, B: 0.5}, B: {B: 0.5, C: 0.5}}
        """
        let yearly: [[Double]] = [[0.5, 0.5, 0], [0, 0.5, 0.5], [0, 0, 1]]
        let result = TransitionConversion.perStep(yearly, unit: .probabilitiesPerYear, stepYears: 1.0 / 12)
        guard case .failure(.negativeEntry(from: 0, to: 2, let value)) = result else {
            Issue.record("expected a negative A → C entry, got \(result)")
            return
        }
        #expect(value < -1e-12)
        expectIssues(Fixtures.issues(text), [
            .init("transitions.matrix",
                  found: "a yearly matrix whose 1-month root has a negative entry A → C = \(value) (the embedding problem)",
                  expected: "a yearly probability matrix with a valid per-step root; give ratesPerYear or probabilitiesPerStep instead",
                  line: .at("matrix: {A")),
        ], in: text)
    }

    // MARK: Arms that cannot be compared

    static let differingArms: [(name: String, override: String)] = [
        ("levels", "    levels: {Top: {costPerChildYear: 5, qolWeight: 0.5}}\n    transitions: {matrix: {Top: {Low: 0.1}}}"),
        ("areas", "    areas: [north, south, east]"),
        ("time", "    time: {horizonYears: 3}"),
        ("step", "    time: {stepMonths: 2}"),
    ]

    @Test("arms must share levels, areas and time", arguments: differingArms)
    func armsDiffer(_ arm: (name: String, override: String)) {
        let text = edited(ScenarioText.rates, [("        stepDownEffect: 0.5", "        stepDownEffect: 0.5\n  other:\n\(arm.override)")])
        let issues = Fixtures.issues(text)
        #expect(issues.count == 1)
        #expect(issues.first?.path == "arms.other")
        #expect(issues.first?.found == "levels, areas or time that differ from arm 'baseline'")
        #expect(issues.first?.expected == "every arm to share levels (names and order), areas and time, so arms can be compared")
    }

    // MARK: Line numbers

    @Test("line numbers count from 1 and include comments and blank lines")
    func lineNumbersIncludeComments() {
        let text = "# A scenario\n\n# with comments\n" + edited(ScenarioText.rates, [("Mid: 60", "Mid: -60")])
        let issues = Fixtures.issues(text)
        #expect(issues.map(\.line) == [13])
        #expect(lineNumber(of: "Mid: -60", in: text) == 13)
    }

    @Test("in block layout, an issue about a field points at the field's key line")
    func blockLayoutLines() {
        let text = """
        name: block
        levels:
          Low: {costPerChildYear: 100, qolWeight: 0.9}
          Mid:   # the Mid level
            costPerChildYear: 1000
            colour:
              shade: red
        population:
          initialCounts: {Low: 10, Mid: 10}
        transitions:   # the transitions
          matrix:
            Low: {Mid: 0.1}
            Mid: {Low: 0.2}
          durationDependence:
            Top:
              - {fromMonths: 0, leaveMultiplier: 1}
        """
        expectIssues(Fixtures.issues(text), [
            .init("levels.Mid.colour", found: "unknown field 'colour'",
                  expected: "one of absorbing, costPerChildYear, addOnCostPerChildYear, qolWeight", line: .at("colour:")),
            .init("levels.Mid.qolWeight", found: missing, expected: "QoL weight of a year in this level, in [-1, 1]",
                  line: .at("# the Mid level")),
            .init("transitions.unit", found: missing,
                  expected: "one of probabilitiesPerStep, probabilitiesPerYear, ratesPerYear", line: .at("# the transitions")),
            .init("transitions.durationDependence.Top", found: "unknown level 'Top'", expected: "one of the levels: Low, Mid",
                  line: .at("Top:")),
        ], in: text)
    }

    @Test("each issue carries the file name it was given")
    func fileNameInIssues() throws {
        let text = edited(ScenarioText.rates, [("Mid: 60", "Mid: -60")])
        let issues = Fixtures.issues(text, file: "scenarios/local.yaml")
        #expect(issues.map(\.file) == ["scenarios/local.yaml"])
        #expect(issues.first?.description == "scenarios/local.yaml:10: population.initialCounts.north.Mid: found -60; expected a whole number >= 0")
    }

    // MARK: Text that is not a scenario

    @Test("text that is not YAML is one issue at the parser's line")
    func invalidYAML() {
        let issues = Fixtures.issues("name: x\nlevels: [1, 2\nareas: 3")
        #expect(issues.count == 1)
        #expect(issues.first?.path == "")
        #expect(issues.first?.line == 3)
        #expect(issues.first?.found.hasPrefix("text that is not valid YAML (") == true)
        #expect(issues.first?.expected == "a YAML mapping (see docs/scenario-format.md)")
    }

    @Test("an empty document")
    func emptyDocument() {
        #expect(Fixtures.issues("") == [ValidationIssue(file: "test.yaml", line: nil, path: "",
                                                         found: "an empty document", expected: "a YAML mapping")])
    }

    @Test("a document that is a list, not a mapping")
    func listDocument() {
        #expect(Fixtures.issues("- a\n- b") == [ValidationIssue(
            file: "test.yaml", line: 1, path: "", found: "a list of 2 items",
            expected: "a scenario (a mapping with keys among name, description, time, levels, areas, population, transitions, practice, programme, reinvestment, discounting, rewardTiming, transitionRewards, exposureTiming, arms, uncertainty, include)")])
    }

    @Test("a repeated key is an error naming the key")
    func duplicateKey() {
        let text = edited(ScenarioText.perStep, [("  High: {costPerChildYear: 10000, qolWeight: 0.6}",
                                                  "  High: {costPerChildYear: 10000, qolWeight: 0.6}\n  High: {costPerChildYear: 1, qolWeight: 0.6}")])
        let issues = Fixtures.issues(text)
        #expect(issues.count == 1)
        #expect(issues.first?.found == "text that is not valid YAML (the key 'High' repeated in one mapping)")
        #expect(issues.first?.line != nil)
    }

    @Test("load reads a file and names it in issues; an unreadable file is one issue")
    func loadFromFile() throws {
        let folder = Fixtures.temporaryFolder("girfec-model-tests")
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let good = folder + "/good.yaml", bad = folder + "/bad.yaml", absent = folder + "/absent.yaml"
        try ScenarioText.perStep.write(toFile: good, atomically: true, encoding: .utf8)
        try edited(ScenarioText.perStep, [("High: {Mid: 0.3}", "High: {Mid: 1.5}")]).write(toFile: bad, atomically: true, encoding: .utf8)

        let scenario = try ScenarioDecoder.load(path: good)
        #expect(scenario.name == "per-step")
        #expect(scenario.arms.map(\.name) == ["base"])

        do {
            _ = try ScenarioDecoder.load(path: bad)
            Issue.record("expected a problem")
        } catch {
            #expect(error.issues == [ValidationIssue(file: bad, line: 14, path: "transitions.matrix.High.Mid",
                                                     found: "1.5", expected: "a number in [0, 1]")])
        }

        do {
            _ = try ScenarioDecoder.load(path: absent)
            Issue.record("expected a problem")
        } catch {
            #expect(error.issues.count == 1)
            #expect(error.issues.first?.file == absent)
            #expect(error.issues.first?.found == "no such file")
            #expect(error.issues.first?.expected == "a readable UTF-8 YAML scenario file of at most 16 MiB")
        }
    }

    @Test("a scenario without a name is named after its file")
    func defaultName() throws {
        let text = edited(ScenarioText.perStep, [("name: per-step\n", "")])
        let scenario = try Fixtures.scenario(text, file: "some/folder/mine.yaml")
        #expect(scenario.name == "mine.yaml")
        #expect(scenario.description == "")
    }

    // MARK: Descriptions

    @Test("issue descriptions: file:line, path, found, expected")
    func issueDescriptions() {
        #expect(ValidationIssue(file: "f.yaml", line: 7, path: "levels.Mid", found: "x", expected: "y").description
            == "f.yaml:7: levels.Mid: found x; expected y")
        #expect(ValidationIssue(file: "f.yaml", line: nil, path: "", found: "x", expected: "y").description
            == "f.yaml: (top level): found x; expected y")
        let one = ScenarioError(file: "f.yaml", issues: [ValidationIssue(file: "f.yaml", line: 1, path: "a", found: "b", expected: "c")])
        #expect(one.description == "f.yaml: 1 problem:\n  - f.yaml:1: a: found b; expected c")
    }

    @Test("a problem only one arm has names that arm, at the base's path")
    func armSpecificProblemNamesTheArm() {
        let text = """
        time: {stepMonths: 1, horizonYears: 1}
        levels:
          A: {costPerChildYear: 0, qolWeight: 1}
          B: {costPerChildYear: 0, qolWeight: 1}
        population: {initialCounts: {A: 10}}
        transitions:
          unit: probabilitiesPerStep
          matrix:
            A: {A: 0.9, B: 0.1}
            B: {A: 0.2, B: 0.8}
        arms:
          base: {}
          other:
            transitions: {matrix: {A: {B: 0.2}}}
            levels: {A: {costPerChildYear: null}}
        """
        #expect(Fixtures.issues(text) == [
            ValidationIssue(file: "test.yaml", line: 3, path: "levels.A.costPerChildYear",
                            found: "nothing (the field is missing) in arm 'other'",
                            expected: "cost of a child-year in this level, pounds >= 0"),
            ValidationIssue(file: "test.yaml", line: 9, path: "transitions.matrix.A",
                            found: "a row summing to 1.1 in arm 'other'",
                            expected: "a row summing to 1 (within 1e-9)"),
        ])
    }
}
