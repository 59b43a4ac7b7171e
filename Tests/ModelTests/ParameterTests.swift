import Foundation
import Model
import Testing
import TestSupport

/// Field paths resolved to typed parameters at validation, and one way of
/// putting values in place (`ArmModel.applying`): the same arms as the
/// file with those values written in it.
@Suite("Parameters: resolution, refusal of structure, application")
struct ParameterTests {
    /// A two-arm scenario whose numbers are placeholders `{name}`, so a test
    /// can write one of them differently and decode the result independently.
    static let template = """
    name: parameters
    time: {stepMonths: 3, horizonYears: 4}
    levels:
      Low: {costPerChildYear: {costLow}, qolWeight: {qolLow}}
      Mid: {costPerChildYear: 1000, qolWeight: 0.8}
      High: {costPerChildYear: {costHigh}, qolWeight: 0.6}
    areas: [north, south]
    population:
      initialCounts:
        north: {Low: 300, Mid: 60, High: 20}
        south: {Low: 200, Mid: 40, High: 10}
      births:
        perYear: {north: {birthsNorth}, south: 20}
        entryLevels: {Low: 0.9, Mid: 0.1}
      migration: {inPerYear: {north: 6, south: 4}, outRatePerYear: {outRate}}
    transitions:
      unit: ratesPerYear
      matrix:
        Low: {Mid: {lowMid}, High: 0.01}
        Mid: {Low: 0.3, High: 0.05}
        High: {Low: 0.05, Mid: 0.3}
      ageMultipliers:
        - {fromYears: 0, escalationMultiplier: {ageEsc}, stepDownMultiplier: 1}
        - {fromYears: 10, escalationMultiplier: 1, stepDownMultiplier: 1}
    discounting: {costRatePerYear: {costRate}, qolRatePerYear: 0.035}
    arms:
      baseline: {}
      practice:
        levels:
          High: {costPerChildYear: {armCostHigh}, qolWeight: 0.6}
        practice:
          relational:
            intensity: [{timeYears: 0, value: 0.2}, {timeYears: 1, value: {intensity1}}]
            coverage: {areas: [north], share: 0.7}
            escalationEffect: 0.3
            stepDownEffect: {stepDown}
            timeToEffectYears: 1
        programme: {costPerYear: {programme}}
    """

    static let defaults: [String: String] = [
        "costLow": "100", "qolLow": "0.9", "costHigh": "10000", "birthsNorth": "30", "outRate": "0.02", "lowMid": "0.1",
        "ageEsc": "1.2", "costRate": "0.035", "armCostHigh": "12000", "intensity1": "0.9", "stepDown": "0.4", "programme": "50000",
    ]

    static func text(_ changes: [String: String] = [:]) -> String {
        var t = template
        for (k, v) in defaults.merging(changes, uniquingKeysWith: { $1 }) { t = t.replacingOccurrences(of: "{\(k)}", with: v) }
        return t
    }

    /// Every value an engine reads, compared exactly.
    static func same(_ a: ArmModel, _ b: ArmModel) -> Bool {
        a.name == b.name && a.levels == b.levels && a.transitionPerStep == b.transitionPerStep
            && a.birthsPerYear == b.birthsPerYear && a.immigrationPerYear == b.immigrationPerYear
            && a.emigrationRatePerYear == b.emigrationRatePerYear && a.ageMultipliers == b.ageMultipliers
            && a.durationMultipliers == b.durationMultipliers && a.programmeCostPerYear == b.programmeCostPerYear
            && a.programmeCostPerChildReachedPerYear == b.programmeCostPerChildReachedPerYear
            && a.costDiscountRatePerYear == b.costDiscountRatePerYear && a.qolDiscountRatePerYear == b.qolDiscountRatePerYear
            && a.reinvestment == b.reinvestment && a.practices.count == b.practices.count
            && zip(a.practices, b.practices).allSatisfy { p, q in
                p.name == q.name && p.intensity == q.intensity && p.areas == q.areas && p.share == q.share
                    && p.escalationEffect == q.escalationEffect && p.stepDownEffect == q.stepDownEffect
                    && p.timeToEffectYears == q.timeToEffectYears
            }
    }

    /// (path, placeholder, value): base fields shared by the arms that do not override them, and one arm's own.
    static let cases: [(path: String, placeholder: String, value: Double)] = [
        ("levels.Low.costPerChildYear", "costLow", 123.5),
        ("levels.Low.qolWeight", "qolLow", 0.75),
        ("levels.High.costPerChildYear", "costHigh", 9000),  // arm 'practice' overrides it: baseline only
        ("arms.practice.levels.High.costPerChildYear", "armCostHigh", 15000),
        ("population.births.perYear.north", "birthsNorth", 44),
        ("population.migration.outRatePerYear", "outRate", 0.031),
        ("transitions.matrix.Low.Mid", "lowMid", 0.137),
        ("transitions.ageMultipliers[0].escalationMultiplier", "ageEsc", 1.05),
        ("discounting.costRatePerYear", "costRate", 0.015),
        ("arms.practice.practice.relational.intensity[1].value", "intensity1", 0.55),
        ("arms.practice.practice.relational.stepDownEffect", "stepDown", 0.7),
        ("arms.practice.programme.costPerYear", "programme", 61000),
    ]

    @Test("applying a value gives the arms of the file with that value written in it", arguments: cases.indices)
    func applyingIsDecodingTheEditedFile(k: Int) throws {
        let c = Self.cases[k]
        let scenario = try Fixtures.scenario(Self.text())
        let applied = try scenario.applying([(c.path, c.value)])
        let decoded = try Fixtures.scenario(Self.text([c.placeholder: "\(c.value)"]))
        #expect(applied.arms.count == decoded.arms.count)
        for (a, d) in zip(applied.arms, decoded.arms) {
            #expect(Self.same(a, d), "\(c.path) = \(c.value): arm \(a.name) differs from the edited file's")
        }
        // The value changes something: the test is not comparing two copies of the file.
        #expect(zip(applied.arms, scenario.arms).contains { !Self.same($0, $1) }, "\(c.path)")
    }

    @Test("a base path reaches every arm that does not override it; an arm path that arm alone")
    func reach() throws {
        let scenario = try Fixtures.scenario(Self.text())
        let base = try scenario.applying([("levels.High.costPerChildYear", 9000)])
        #expect(base.arms[0].levels[2].costPerChildYear == 9000)
        #expect(base.arms[1].levels[2].costPerChildYear == 12000, "the arm's own value stays")
        let own = try scenario.applying([("arms.practice.levels.High.costPerChildYear", 15000)])
        #expect(own.arms[0].levels[2].costPerChildYear == 10000)
        #expect(own.arms[1].levels[2].costPerChildYear == 15000)
        let shared = try scenario.applying([("levels.Low.costPerChildYear", 150)])
        #expect(shared.arms.allSatisfy { $0.levels[0].costPerChildYear == 150 })
    }

    @Test("several values at once, and the implied diagonal of a row, as the edited file")
    func severalValues() throws {
        let scenario = try Fixtures.scenario(Self.text())
        let applied = try scenario.applying([("transitions.matrix.Low.Mid", 0.2), ("transitions.matrix.Low.Low", -0.21),
                                             ("arms.practice.practice.relational.stepDownEffect", 0.2)])
        let edited = Self.text(["lowMid": "0.2", "stepDown": "0.2"]).replacingOccurrences(of: "Low: {Mid: 0.2, High: 0.01}",
                                                                                         with: "Low: {Low: -0.21, Mid: 0.2, High: 0.01}")
        let decoded = try Fixtures.scenario(edited)
        for (a, d) in zip(applied.arms, decoded.arms) { #expect(Self.same(a, d)) }
    }

    @Test("a value out of range is refused with the decoder's words, at the parameter's path")
    func outOfRange() throws {
        let scenario = try Fixtures.scenario(Self.text())
        let decoded = Fixtures.issues(Self.text(["qolLow": "1.5"]))
        #expect(decoded.map(\.found) == ["1.5"] && decoded.map(\.expected) == ["a number in [-1, 1]"])
        // A utility below 0 (worse than death) is a value a parameter may take; below −1 it is refused.
        let negative = try scenario.applying([("levels.Low.qolWeight", -0.5)])
        #expect(negative.arms.allSatisfy { $0.levels[0].qolWeight == -0.5 })
        do {
            _ = try scenario.applying([("levels.Low.qolWeight", -1.5)])
            Issue.record("a QoL weight of -1.5 was accepted")
        } catch {
            #expect(error.issues.map(\.found) == ["-1.5"] && error.issues.map(\.expected) == ["a number in [-1, 1]"])
        }
        do {
            _ = try scenario.applying([("levels.Low.qolWeight", 1.5)])
            Issue.record("a QoL weight of 1.5 was accepted")
        } catch {
            #expect(error.issues.map(\.path) == ["levels.Low.qolWeight"])
            #expect(error.issues.map(\.found) == decoded.map(\.found))
            #expect(error.issues.map(\.expected) == decoded.map(\.expected))
        }
        // A rate that breaks a stay probability is refused by the stay check.
        do {
            _ = try scenario.applying([("arms.practice.practice.relational.stepDownEffect", 900)])
            Issue.record("a step-down effect of 900 was accepted")
        } catch {
            #expect(error.issues.first?.found.hasPrefix("in arm 'practice', level ") == true, "\(error)")
            #expect(error.issues.first?.expected.hasPrefix("multipliers that keep every stay probability >= 0") == true)
        }
    }

    // MARK: Structure is refused

    static let expected = "the field path of a value that leaves the shape of the outputs alone, written in the scenario file (docs/scenario-format.md §19 lists them)"

    @Test("an uncertain horizon, step length or initial count is refused, with the file, path and why, all at once")
    func structuralUncertainParameters() throws {
        let text = Self.text() + """

        uncertainty:
          parameters:
            horizon: {path: time.horizonYears, distribution: uniform, min: 3, max: 6}
            step: {path: time.stepMonths, distribution: fixed}
            start: {path: population.initialCounts.north.Low, distribution: fixed}
            boundary: {path: "transitions.ageMultipliers[1].fromYears", distribution: fixed}
            share: {path: population.births.entryLevels.Low, distribution: fixed}
            fine: {path: levels.Low.costPerChildYear, distribution: gamma, sd: 10}
        """
        let issues = Fixtures.issues(text, file: "s.yaml")
        let lines = text.components(separatedBy: "\n")
        func line(_ p: String) -> Int? { lines.firstIndex { $0.contains("\(p): {path") }.map { $0 + 1 } }
        let want: [(String, String)] = [
            ("horizon", "path 'time.horizonYears', which changes the number of steps, so outputs of different replications (or points) would not line up"),
            ("step", "path 'time.stepMonths', which changes the step length and with it the number of steps and the time of every output row, so outputs would not line up"),
            ("start", "path 'population.initialCounts.north.Low', which is a count of children at the start: it sets the agents a run creates, whole numbers a draw need not give (vary births or migration instead)"),
            ("boundary", "path 'transitions.ageMultipliers[1].fromYears', which is a band boundary or the time of a point, which sets which children or steps share a value: vary the values instead"),
            ("share", "path 'population.births.entryLevels.Low', which is one of shares that must sum to 1, so it cannot change alone"),
        ]
        #expect(issues.count == want.count, "\(issues)")
        for (name, found) in want {
            let hit = issues.first { $0.path == "uncertainty.parameters.\(name).path" }
            #expect(hit?.file == "s.yaml")
            #expect(hit?.line == line(name), "\(name)")
            #expect(hit?.found == found, "\(name)")
            #expect(hit?.expected == Self.expected)
        }
    }

    /// The defect: an uncertain horizon passed validation, and outputs of 24 and 36 steps were mixed.
    @Test("regression: an uncertain time.horizonYears no longer passes validation")
    func horizonRegression() throws {
        let text = Fixtures.smallScenario + """

        uncertainty:
          parameters:
            h: {path: time.horizonYears, distribution: uniform, min: 2, max: 3}
        """
        #expect(throws: ScenarioError.self) { try ScenarioDecoder.decode(yaml: text, file: "test.yaml") }
        let issues = Fixtures.issues(text)
        // The refused parameter, then the section left without any.
        #expect(issues.map(\.path) == ["uncertainty.parameters.h.path", "uncertainty"], "\(issues)")
        #expect(issues.first?.found.contains("changes the number of steps") == true)
    }

    @Test("a draws-file column of structure is refused; value columns become arms as the edited file")
    func drawsFile() throws {
        let draws = """
        draw,levels.Low.costPerChildYear,arms.practice.practice.relational.stepDownEffect,transitions.matrix.Low.Mid
        0,140,0.5,0.12
        1,160,0.6,0.14
        """
        let text = Self.text() + "\nuncertainty: {draws: d.csv}\n"
        let s = try ScenarioDecoder.decode(yaml: text, file: "t.yaml") { _ in draws }
        let u = try #require(s.uncertainty)
        let arms = try u.arms(values: u.values(draw: 1, seed: 5))
        let decoded = try Fixtures.scenario(Self.text(["costLow": "160", "stepDown": "0.6", "lowMid": "0.14"]))
        for (a, d) in zip(arms, decoded.arms) { #expect(Self.same(a, d), "arm \(a.name)") }

        let bad = "time.horizonYears,areas[0],levels.Low.qolWeight\n5,1,0.8\n"
        let issues: [ValidationIssue]
        do { _ = try ScenarioDecoder.decode(yaml: text, file: "t.yaml") { _ in bad }; issues = [] } catch { issues = error.issues }
        #expect(issues.map(\.found) == [
            "column 1 of draws file d.csv (line 1): 'time.horizonYears', which changes the number of steps, so outputs of different replications (or points) would not line up",
            "column 2 of draws file d.csv (line 1): 'areas[0]', which holds 'north', not a number",
        ], "\(issues)")
        #expect(issues.allSatisfy { $0.path == "uncertainty.draws" && $0.expected == Self.expected })
    }

    @Test("a sensitivity point on the horizon is refused at its place in the experiment file")
    func sensitivityHorizon() throws {
        let scenario = try Fixtures.scenario(Self.text(), file: "s.yaml")
        let d = try SensitivityDesign.decode(yaml: """
        scenario: s.yaml
        oneWay:
          cost: {path: levels.Low.costPerChildYear, low: 50, high: 150}
          horizon: {path: time.horizonYears, low: 3, high: 5}
        """, file: "e.yaml")
        do {
            _ = try d.scenarios(scenario)
            Issue.record("a sensitivity point on the horizon was accepted")
        } catch {
            #expect(error.issues.count == 1)
            let i = try #require(error.issues.first)
            #expect(i.file == "e.yaml" && i.line == 4 && i.path == "oneWay.horizon.path")
            #expect(i.found == "path 'time.horizonYears' of scenario s.yaml, which changes the number of steps, so outputs of different replications (or points) would not line up")
        }
    }
}
