import Foundation
import Testing
@testable import Model
import TestSupport

/// One broken rule: a valid scenario, the edits that break it, and the exact issues expected.
struct RuleCase: Sendable, CustomTestStringConvertible {
    var name: String
    var base: String
    var edits: [(String, String)]
    var issues: [ExpectedIssue]
    /// Whether `issues` is the complete list (false when a mistake legitimately cascades).
    var exhaustive = true

    var testDescription: String { name }
}

private let levelList = "one of the levels: Low, Mid, High"
private let areaList = "one of the areas: north, south"
private let missing = "nothing (the field is missing)"
private let armKeyList = "one of time, levels, areas, population, transitions, practice, programme, reinvestment, discounting, rewardTiming, transitionRewards, exposureTiming"
private let topLevelList = "one of name, description, time, levels, areas, population, transitions, practice, programme, reinvestment, discounting, rewardTiming, transitionRewards, exposureTiming, arms, uncertainty, include"

@Suite("Validation rules, one broken rule at a time")
struct ValidationRuleTests {
    @Test("the base texts are valid", arguments: [ScenarioText.rates, ScenarioText.perStep, Fixtures.smallScenario])
    func baseTextsAreValid(_ text: String) throws {
        _ = try Fixtures.scenario(text)
    }

    // MARK: Matrix values

    static let matrixCases: [RuleCase] = [
        RuleCase(name: "probability row summing to 0.875", base: ScenarioText.perStep,
                 edits: [("Mid: {Low: 0.2, Mid: 0.7, High: 0.1}", "Mid: {Low: 0.25, Mid: 0.5, High: 0.125}")],
                 issues: [.init("transitions.matrix.Mid", found: "a row summing to 0.875",
                                expected: "a row summing to 1 (within 1e-9)", line: .at("Mid: {Low: 0.25"))]),
        RuleCase(name: "probability row without its diagonal whose moves out exceed 1", base: ScenarioText.perStep,
                 edits: [("High: {Mid: 0.3}", "High: {Low: 0.75, Mid: 0.5}")],
                 issues: [.init("transitions.matrix.High", found: "moves out summing to 1.25",
                                expected: "moves out summing to at most 1, leaving a stay probability >= 0",
                                line: .at("High: {Low: 0.75"))]),
        RuleCase(name: "probability above 1", base: ScenarioText.perStep,
                 edits: [("High: {Mid: 0.3}", "High: {Mid: 1.5}")],
                 issues: [.init("transitions.matrix.High.Mid", found: "1.5", expected: "a number in [0, 1]",
                                line: .at("High: {Mid: 1.5}"))]),
        RuleCase(name: "probability below 0", base: ScenarioText.perStep,
                 edits: [("High: {Mid: 0.3}", "High: {Mid: -0.25}")],
                 issues: [.init("transitions.matrix.High.Mid", found: "-0.25", expected: "a number in [0, 1]",
                                line: .at("High: {Mid: -0.25}"))]),
        RuleCase(name: "rate row not summing to 0", base: ScenarioText.rates,
                 edits: [("Low: {Mid: 0.1, High: 0.01}", "Low: {Low: -0.5, Mid: 0.25, High: 0.125}")],
                 issues: [.init("transitions.matrix.Low", found: "a row summing to -0.125",
                                expected: "a row summing to 0 (within 1e-9) for yearly rates",
                                line: .at("Low: {Low: -0.5"))]),
        RuleCase(name: "negative off-diagonal rate", base: ScenarioText.rates,
                 edits: [("Low: {Mid: 0.1, High: 0.01}", "Low: {Mid: -0.1, High: 0.01}")],
                 issues: [.init("transitions.matrix.Low.Mid", found: "-0.1", expected: "a number in [0, 1000]",
                                line: .at("Low: {Mid: -0.1"))]),
        RuleCase(name: "positive diagonal rate", base: ScenarioText.rates,
                 edits: [("Low: {Mid: 0.1, High: 0.01}", "Low: {Low: 0.5, Mid: 0.1, High: 0.01}")],
                 issues: [.init("transitions.matrix.Low.Low", found: "0.5", expected: "a number in [-250000, 0]",
                                line: .at("Low: {Low: 0.5"))]),
        RuleCase(name: "unknown unit", base: ScenarioText.rates,
                 edits: [("unit: ratesPerYear", "unit: ratesPerMonth")],
                 issues: [.init("transitions.unit", found: "'ratesPerMonth'",
                                expected: "one of probabilitiesPerStep, probabilitiesPerYear, ratesPerYear",
                                line: .at("unit: ratesPerMonth"))]),
        RuleCase(name: "moves out of an absorbing level", base: ScenarioText.perStep,
                 edits: [("High: {costPerChildYear: 10000, qolWeight: 0.6}",
                          "High: {costPerChildYear: 10000, qolWeight: 0.6, absorbing: true}")],
                 issues: [.init("transitions.matrix.High", found: "moves out of absorbing level 'High'",
                                expected: "no moves out of an absorbing level", line: .at("High: {Mid: 0.3}"))]),
    ]

    @Test("matrix rules", arguments: matrixCases)
    func matrixRule(_ rule: RuleCase) {
        check(rule)
    }

    // MARK: Names

    static let nameCases: [RuleCase] = [
        RuleCase(name: "unknown level as a matrix row", base: ScenarioText.rates,
                 edits: [("    High: {Low: 0.05, Mid: 0.3}", "    High: {Low: 0.05, Mid: 0.3}\n    Top: {Low: 0.1}")],
                 issues: [.init("transitions.matrix.Top", found: "unknown level 'Top'", expected: levelList,
                                line: .at("Top: {Low: 0.1}"))]),
        RuleCase(name: "unknown level as a matrix column", base: ScenarioText.rates,
                 edits: [("Low: {Mid: 0.1, High: 0.01}", "Low: {Mid: 0.1, Hgh: 0.01}")],
                 issues: [.init("transitions.matrix.Low.Hgh", found: "unknown level 'Hgh'", expected: levelList,
                                line: .at("Hgh: 0.01"))]),
        RuleCase(name: "unknown level in initialCounts of an area", base: ScenarioText.rates,
                 edits: [("north: {Low: 300, Mid: 60, High: 20}", "north: {Low: 300, Mid: 60, Hi: 20}")],
                 issues: [.init("population.initialCounts.north.Hi", found: "unknown level 'Hi'", expected: levelList,
                                line: .at("Hi: 20"))]),
        RuleCase(name: "unknown level in initialCounts without areas", base: ScenarioText.perStep,
                 edits: [("initialCounts: {Low: 100, Mid: 20, High: 5}", "initialCounts: {Low: 100, Middle: 20, High: 5}")],
                 issues: [.init("population.initialCounts.Middle", found: "unknown level 'Middle'", expected: levelList,
                                line: .at("Middle: 20"))]),
        RuleCase(name: "unknown level in entryLevels", base: ScenarioText.rates,
                 edits: [("entryLevels: {Low: 0.9, Mid: 0.1}", "entryLevels: {Low: 0.9, Middle: 0.1}")],
                 issues: [.init("population.births.entryLevels.Middle", found: "unknown level 'Middle'",
                                expected: levelList, line: .at("Middle: 0.1"))]),
        RuleCase(name: "unknown level in durationDependence", base: ScenarioText.rates,
                 edits: [("    High: [{fromMonths: 0", "    Top: [{fromMonths: 0")],
                 issues: [.init("transitions.durationDependence.Top", found: "unknown level 'Top'", expected: levelList,
                                line: .at("Top: [{fromMonths: 0"))]),
        RuleCase(name: "unknown area in initialCounts", base: ScenarioText.rates,
                 edits: [("south: {Low: 200, Mid: 40, High: 10}", "east: {Low: 200, Mid: 40, High: 10}")],
                 issues: [.init("population.initialCounts.east", found: "unknown area 'east'", expected: areaList,
                                line: .at("east: {Low: 200"))]),
        RuleCase(name: "unknown area in births", base: ScenarioText.rates,
                 edits: [("perYear: {north: 30, south: 20}", "perYear: {north: 30, west: 20}")],
                 issues: [.init("population.births.perYear.west", found: "unknown area 'west'", expected: areaList,
                                line: .at("west: 20"))]),
        RuleCase(name: "unknown area in a practice's coverage", base: ScenarioText.rates,
                 edits: [("coverage: {areas: [north], share: 0.7}", "coverage: {areas: [north, nowhere], share: 0.7}")],
                 // The `baseline` arm removes the base's practice, so only `wm2u` has the problem, and the message says so.
                 issues: [.init("practice.relational.coverage.areas[1]", found: "unknown area 'nowhere' in arm 'wm2u'",
                                expected: areaList, line: .at("nowhere"))]),
        RuleCase(name: "level named 'all'", base: ScenarioText.perStep,
                 edits: [("High: {costPerChildYear", "all: {costPerChildYear"),
                         ("initialCounts: {Low: 100, Mid: 20, High: 5}", "initialCounts: {Low: 100, Mid: 20, all: 5}"),
                         ("Mid: {Low: 0.2, Mid: 0.7, High: 0.1}", "Mid: {Low: 0.2, Mid: 0.7, all: 0.1}"),
                         ("High: {Mid: 0.3}", "all: {Mid: 0.3}")],
                 issues: [.init("levels.all", found: "level name 'all'",
                                expected: "a non-empty name other than 'all' (reserved for totals)",
                                line: .at("all: {costPerChildYear"))]),
        RuleCase(name: "repeated area names", base: ScenarioText.rates,
                 edits: [("areas: [north, south]", "areas: [north, south, north]")],
                 issues: [.init("areas", found: "repeated area names", expected: "distinct area names",
                                line: .at("areas: [north, south, north]"))]),
        RuleCase(name: "area named 'all' among two", base: ScenarioText.rates,
                 edits: [("areas: [north, south]", "areas: [north, all]"), ("south: {Low", "all: {Low"), ("south: 20", "all: 20")],
                 issues: [.init("areas[1]", found: "area name 'all' among 2 areas",
                                expected: "a name other than 'all' (reserved for all areas together in the results by area)",
                                line: .at("areas: [north, all]"))]),
    ]

    @Test("level and area names", arguments: nameCases)
    func nameRule(_ rule: RuleCase) {
        check(rule)
    }

    // MARK: Fields

    static let fieldCases: [RuleCase] = [
        RuleCase(name: "unknown top-level field, reported once", base: ScenarioText.rates,
                 edits: [("programme: {costPerYear: 50000}", "programme: {costPerYear: 50000}\ntransition: {unit: x}")],
                 issues: [.init("transition", found: "unknown field 'transition'",
                                expected: topLevelList + " (did you mean 'transitions'?)", line: .at("transition: {unit"))]),
        RuleCase(name: "unknown field in an arm override's top level, reported once", base: ScenarioText.rates,
                 edits: [("  wm2u:\n", "  wm2u:\n    transition: {unit: x}\n")],
                 issues: [.init("arms.wm2u.transition", found: "unknown field 'transition'",
                                expected: armKeyList + " (did you mean 'transitions'?)", line: .at("transition: {unit"))]),
        RuleCase(name: "unknown field inside a level, with a suggestion", base: ScenarioText.rates,
                 edits: [("Mid: {costPerChildYear: 1000, qolWeight: 0.8}", "Mid: {costPerChildYear: 1000, qolWieght: 0.8}")],
                 issues: [.init("levels.Mid.qolWieght", found: "unknown field 'qolWieght'",
                                expected: "one of absorbing, costPerChildYear, addOnCostPerChildYear, qolWeight (did you mean 'qolWeight'?)",
                                line: .at("qolWieght")),
                          .init("levels.Mid.qolWeight", found: missing,
                                expected: "QoL weight of a year in this level, in [-1, 1]", line: .at("qolWieght"))]),
        RuleCase(name: "unknown field inside a practice inside an arm, with a suggestion", base: ScenarioText.rates,
                 edits: [("        stepDownEffect: 0.5", "        stepDownEfect: 0.5")],
                 issues: [.init("arms.wm2u.practice.relational.stepDownEfect", found: "unknown field 'stepDownEfect'",
                                expected: "one of intensity, coverage, escalationEffect, stepDownEffect, timeToEffectYears, effectFunction (did you mean 'stepDownEffect'?)",
                                line: .at("stepDownEfect"))]),
        RuleCase(name: "unknown field with no close match has no suggestion", base: ScenarioText.rates,
                 edits: [("time: {stepMonths: 1, horizonYears: 2}", "time: {stepMonths: 1, horizonYears: 2, colour: blue}")],
                 issues: [.init("time.colour", found: "unknown field 'colour'", expected: "one of stepMonths, horizonYears",
                                line: .at("colour: blue"))]),
        RuleCase(name: "missing levels", base: ScenarioText.perStep,
                 edits: [("""
                          levels:
                            Low: {costPerChildYear: 100, qolWeight: 0.9}
                            Mid: {costPerChildYear: 1000, qolWeight: 0.8}
                            High: {costPerChildYear: 10000, qolWeight: 0.6}

                          """, "")],
                 issues: [.init("levels", found: missing,
                                expected: "a mapping from level names to their costs and QoL weights",
                                line: .at("name: per-step"))],
                 exhaustive: false),
        RuleCase(name: "missing costPerChildYear of a level", base: ScenarioText.rates,
                 edits: [("Mid: {costPerChildYear: 1000, qolWeight: 0.8}", "Mid: {qolWeight: 0.8}")],
                 issues: [.init("levels.Mid.costPerChildYear", found: missing,
                                expected: "cost of a child-year in this level, pounds >= 0", line: .at("Mid: {qolWeight: 0.8}"))]),
        RuleCase(name: "missing qolWeight of a level", base: ScenarioText.rates,
                 edits: [("Mid: {costPerChildYear: 1000, qolWeight: 0.8}", "Mid: {costPerChildYear: 1000}")],
                 issues: [.init("levels.Mid.qolWeight", found: missing,
                                expected: "QoL weight of a year in this level, in [-1, 1]", line: .at("Mid: {costPerChildYear: 1000}"))]),
        RuleCase(name: "missing transitions.unit", base: ScenarioText.perStep,
                 edits: [("transitions:\n  unit: probabilitiesPerStep\n", "transitions: {matrix: {Low: {Mid: 0.1}, Mid: {Low: 0.1}, High: {Mid: 0.1}}}\n"),
                         ("  matrix:\n    Low: {Low: 0.9, Mid: 0.1}\n    Mid: {Low: 0.2, Mid: 0.7, High: 0.1}\n    High: {Mid: 0.3}", "")],
                 issues: [.init("transitions.unit", found: missing,
                                expected: "one of probabilitiesPerStep, probabilitiesPerYear, ratesPerYear",
                                line: .at("transitions: {matrix"))]),
        RuleCase(name: "missing transitions.matrix", base: ScenarioText.perStep,
                 edits: [("transitions:\n  unit: probabilitiesPerStep\n  matrix:\n    Low: {Low: 0.9, Mid: 0.1}\n    Mid: {Low: 0.2, Mid: 0.7, High: 0.1}\n    High: {Mid: 0.3}",
                          "transitions: {unit: probabilitiesPerStep}")],
                 issues: [.init("transitions.matrix", found: missing,
                                expected: "a mapping from each level to its row {to-level: value}",
                                line: .at("transitions: {unit"))]),
        RuleCase(name: "missing matrix row of a level that is not absorbing", base: ScenarioText.perStep,
                 edits: [("  matrix:\n    Low: {Low: 0.9, Mid: 0.1}\n    Mid: {Low: 0.2, Mid: 0.7, High: 0.1}\n    High: {Mid: 0.3}",
                          "  matrix: {Low: {Low: 0.9, Mid: 0.1}, Mid: {Low: 0.2, Mid: 0.7, High: 0.1}}")],
                 issues: [.init("transitions.matrix.High", found: "nothing (the row is missing)",
                                expected: "a row for every level that is not absorbing", line: .at("matrix: {Low"))]),
        RuleCase(name: "missing escalationEffect of a practice", base: ScenarioText.rates,
                 edits: [("""
                            relational:
                              intensity: [{timeYears: 0, value: 0.2}, {timeYears: 1, value: 0.9}]
                              coverage: {areas: [north], share: 0.7}
                              escalationEffect: 0.3
                              stepDownEffect: 0.4
                              timeToEffectYears: 0.5
                          """, "  relational: {intensity: 0.5, stepDownEffect: 0.4, timeToEffectYears: 0.5}")],
                 issues: [.init("practice.relational.escalationEffect", found: missing + " in arm 'wm2u'",
                                expected: "a in [0, 1]: red probabilities are multiplied by (1 − a·s)",
                                line: .at("relational: {intensity: 0.5"))]),
        RuleCase(name: "negative count", base: ScenarioText.rates,
                 edits: [("Mid: 40", "Mid: -40")],
                 issues: [.init("population.initialCounts.south.Mid", found: "-40", expected: "a whole number >= 0",
                                line: .at("Mid: -40"))]),
        RuleCase(name: "fractional count", base: ScenarioText.rates,
                 edits: [("Mid: 40", "Mid: 40.5")],
                 issues: [.init("population.initialCounts.south.Mid", found: "'40.5'", expected: "a whole number >= 0",
                                line: .at("Mid: 40.5"))]),
        RuleCase(name: "QoL weight above 1", base: ScenarioText.rates,
                 edits: [("qolWeight: 0.8", "qolWeight: 1.5")],
                 issues: [.init("levels.Mid.qolWeight", found: "1.5", expected: "a number in [-1, 1]",
                                line: .at("qolWeight: 1.5"))]),
        RuleCase(name: "QoL weight below -1", base: ScenarioText.rates,
                 edits: [("qolWeight: 0.8", "qolWeight: -1.5")],
                 issues: [.init("levels.Mid.qolWeight", found: "-1.5", expected: "a number in [-1, 1]",
                                line: .at("qolWeight: -1.5"))]),
    ]

    static let rewardTimingCases: [RuleCase] = {
        func timing(_ value: String) -> [(String, String)] {
            [("programme: {costPerYear: 50000}", "programme: {costPerYear: 50000}\nrewardTiming: \(value)")]
        }
        let form = "one of start, end, halfCycle, simpson, or a mapping {weights: [w0, w1]}"
        let pair = "a list of two numbers [w0, w1]: the weights on a step's start and end, each in [0, 1], summing to 1"
        return [
            RuleCase(name: "unknown convention", base: ScenarioText.rates, edits: timing("midpoint"),
                     issues: [.init("rewardTiming", found: "'midpoint'", expected: form, line: .at("rewardTiming: midpoint"))]),
            RuleCase(name: "a list instead of a mapping", base: ScenarioText.rates, edits: timing("[0.5, 0.5]"),
                     issues: [.init("rewardTiming", found: "a list of 2 items", expected: form, line: .at("rewardTiming: [0.5"))]),
            RuleCase(name: "three weights", base: ScenarioText.rates, edits: timing("{weights: [0.25, 0.25, 0.5]}"),
                     issues: [.init("rewardTiming.weights", found: "a list of 3 items", expected: pair, line: .at("rewardTiming: {weights"))]),
            RuleCase(name: "a weight outside [0, 1]", base: ScenarioText.rates, edits: timing("{weights: [1.5, -0.5]}"),
                     issues: [.init("rewardTiming.weights[0]", found: "1.5", expected: "a number in [0, 1]", line: .at("rewardTiming: {weights")),
                              .init("rewardTiming.weights[1]", found: "-0.5", expected: "a number in [0, 1]", line: .at("rewardTiming: {weights"))]),
            RuleCase(name: "weights summing to 0.9", base: ScenarioText.rates, edits: timing("{weights: [0.3, 0.6]}"),
                     issues: [.init("rewardTiming.weights", found: "[0.3, 0.6], which sum to 0.9",
                                    expected: "weights summing to 1 (within 1e-9), so that a step's child-years stay dt × stock",
                                    line: .at("rewardTiming: {weights"))]),
            RuleCase(name: "a misspelt key", base: ScenarioText.rates, edits: timing("{weight: [0.5, 0.5]}"),
                     issues: [.init("rewardTiming.weight", found: "unknown field 'weight'", expected: "one of weights (did you mean 'weights'?)",
                                    line: .at("rewardTiming: {weight")),
                              .init("rewardTiming.weights", found: missing, expected: pair, line: .at("rewardTiming: {weight"))]),
        ]
    }()

    @Test("rewardTiming: names and user-given weights", arguments: rewardTimingCases)
    func rewardTimingRule(_ rule: RuleCase) {
        check(rule)
    }

    static let exposureTimingCases: [RuleCase] = [
        RuleCase(name: "unknown exposure timing", base: ScenarioText.rates,
                 edits: [("programme: {costPerYear: 50000}", "programme: {costPerYear: 50000}\nexposureTiming: afterStep")],
                 issues: [.init("exposureTiming", found: "'afterStep'", expected: "one of includingStep, beforeStep",
                                line: .at("exposureTiming: afterStep"))]),
        RuleCase(name: "exposure timing as a number, in an arm", base: ScenarioText.rates,
                 edits: [("        stepDownEffect: 0.5", "        stepDownEffect: 0.5\n    exposureTiming: 1")],
                 issues: [.init("arms.wm2u.exposureTiming", found: "'1'", expected: "one of includingStep, beforeStep",
                                line: .at("exposureTiming: 1"))]),
    ]

    @Test("exposureTiming: includingStep or beforeStep", arguments: exposureTimingCases)
    func exposureTimingRule(_ rule: RuleCase) {
        check(rule)
    }

    @Test("fields: unknown, missing, out of range", arguments: fieldCases)
    func fieldRule(_ rule: RuleCase) {
        check(rule)
    }

    // MARK: Shares and time

    static let shareAndTimeCases: [RuleCase] = [
        RuleCase(name: "entry level shares summing to 0.75", base: ScenarioText.rates,
                 edits: [("entryLevels: {Low: 0.9, Mid: 0.1}", "entryLevels: {Low: 0.5, Mid: 0.25}")],
                 issues: [.init("population.births.entryLevels", found: "shares summing to 0.75",
                                expected: "shares summing to 1 (within 1e-9)", line: .at("entryLevels:"))]),
        RuleCase(name: "age distribution shares summing to 0.75", base: ScenarioText.perStep,
                 edits: [("  initialCounts: {Low: 100, Mid: 20, High: 5}",
                          "  initialCounts: {Low: 100, Mid: 20, High: 5}\n  ageDistribution: [{fromYears: 0, toYears: 10, share: 0.5}, {fromYears: 10, toYears: 18, share: 0.25}]")],
                 issues: [.init("population.ageDistribution", found: "shares summing to 0.75",
                                expected: "shares summing to 1 (within 1e-9)", line: .at("ageDistribution:"))]),
        RuleCase(name: "horizon of 2.4 steps", base: ScenarioText.rates,
                 edits: [("time: {stepMonths: 1, horizonYears: 2}", "time: {stepMonths: 5, horizonYears: 1}")],
                 issues: [.init("time.horizonYears", found: "1.0 years, which is 2.4 steps of 5 months",
                                expected: "a horizon that is a whole number (at least 1) of steps", line: .at("time:"))]),
        RuleCase(name: "horizon shorter than one step", base: ScenarioText.perStep,
                 edits: [("time: {stepMonths: 1, horizonYears: 2}", "time: {stepMonths: 12, horizonYears: 0.5}")],
                 issues: [.init("time.horizonYears", found: "0.5 years, which is 0.5 steps of 12 months",
                                expected: "a horizon that is a whole number (at least 1) of steps", line: .at("time:"))]),
    ]

    @Test("shares and time", arguments: shareAndTimeCases)
    func shareAndTimeRule(_ rule: RuleCase) {
        check(rule)
    }

    // MARK: The 1e-9 tolerance on row sums

    /// A probability row whose sum is 1 + delta: within 1e-9 it passes, beyond it fails.
    @Test("probability rows must sum to 1 within 1e-9", arguments: [1e-10, -1e-10, 5e-10, 2e-9, -2e-9, 1e-8])
    func rowSumTolerance(delta: Double) throws {
        let stay = 0.9 + delta
        let text = edited(ScenarioText.perStep, [("Low: {Low: 0.9, Mid: 0.1}", "Low: {Low: \(stay), Mid: 0.1}")])
        if abs(delta) <= 1e-9 {
            let scenario = try Fixtures.scenario(text)
            // Per-step probabilities are used as given.
            #expect(scenario.arms[0].transitionPerStep[0] == [stay, 0.1, 0])
        } else {
            // Same order of summation as the row: Low, Mid, High.
            let sum = [stay, 0.1, 0.0].reduce(0, +)
            expectIssues(Fixtures.issues(text), [
                .init("transitions.matrix.Low", found: "a row summing to \(sum)",
                      expected: "a row summing to 1 (within 1e-9)", line: .at("Low: {Low: \(stay)")),
            ], in: text)
        }
    }

    private func check(_ rule: RuleCase, sourceLocation: SourceLocation = #_sourceLocation) {
        let text = edited(rule.base, rule.edits, sourceLocation: sourceLocation)
        let issues = Fixtures.issues(text, sourceLocation: sourceLocation)
        expectIssues(issues, rule.issues, in: text, exhaustive: rule.exhaustive, sourceLocation: sourceLocation)
    }
}
