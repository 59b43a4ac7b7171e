import Foundation
import Testing
@testable import Model
import TestSupport

/// The scalar at a dotted path of a tree, e.g. "levels.Mid.cost"; nil if absent or not a scalar.
private func scalar(_ tree: Tree, _ path: String) -> String? {
    var node = tree
    for key in path.split(separator: ".") {
        guard case .mapping(let entries) = node.value, let next = entries.first(where: { $0.key == key })?.value else {
            return nil
        }
        node = next
    }
    if case .scalar(let s) = node.value { return s }
    return nil
}

private func node(_ tree: Tree, _ path: String) -> Tree? {
    var node = tree
    for key in path.split(separator: ".") {
        guard case .mapping(let entries) = node.value, let next = entries.first(where: { $0.key == key })?.value else {
            return nil
        }
        node = next
    }
    return node
}

private func keys(_ tree: Tree?) -> [String] {
    guard let tree, case .mapping(let entries) = tree.value else { return [] }
    return entries.map(\.key)
}

@Suite("Tree: parsing with paths and lines")
struct TreeTests {
    @Test("values remember their field path and 1-based line")
    func pathsAndLines() throws {
        let tree = try Tree.parse(yaml: "a:\n  b: 1\n  c: [x, {d: 2}]\ne: ~\n", file: "t.yaml")
        #expect(node(tree, "a.b")?.path == "a.b")
        #expect(node(tree, "a.b")?.line == 2)
        let c = try #require(node(tree, "a.c"))
        #expect(c.path == "a.c")
        #expect(c.line == 3)
        guard case .sequence(let items) = c.value else { Issue.record("a.c is not a list"); return }
        #expect(items.map(\.path) == ["a.c[0]", "a.c[1]"])
        #expect(node(items[1], "d")?.path == "a.c[1].d")
        #expect(node(items[1], "d")?.line == 3)
        #expect(node(tree, "e")?.line == 4)
    }

    @Test("plain null spellings are null; quoted ones are text", arguments: [
        ("~", true), ("null", true), ("Null", true), ("NULL", true), ("", true),
        ("'null'", false), ("\"~\"", false), ("nil", false), ("0", false),
    ])
    func nulls(_ spelling: String, _ isNull: Bool) throws {
        let tree = try Tree.parse(yaml: "k: \(spelling)\n", file: "t.yaml")
        let value = try #require(node(tree, "k"))
        if case .null = value.value { #expect(isNull) } else { #expect(!isNull) }
    }

    @Test("short descriptions used in messages")
    func shortDescriptions() throws {
        let tree = try Tree.parse(yaml: "s: hi\nn: ~\nm: {a: 1, b: 2}\nl: [1, 2, 3]\n", file: "t.yaml")
        #expect(node(tree, "s")?.shortDescription == "'hi'")
        #expect(node(tree, "n")?.shortDescription == "nothing (null)")
        #expect(node(tree, "m")?.shortDescription == "a mapping with keys a, b")
        #expect(node(tree, "l")?.shortDescription == "a list of 3 items")
    }

    @Test("an empty document and invalid YAML are errors, not trees")
    func parseErrors() {
        #expect(throws: ScenarioError.self) { try Tree.parse(yaml: "", file: "t.yaml") }
        do {
            _ = try Tree.parse(yaml: "a: {b: 1\n", file: "t.yaml")
            Issue.record("expected a parse error")
        } catch {
            #expect(error.issues.count == 1)
            #expect(error.issues.first?.file == "t.yaml")
            #expect(error.issues.first?.found.hasPrefix("text that is not valid YAML") == true)
        }
    }
}

@Suite("Tree.merging: arm overrides over the base")
struct TreeMergingTests {
    static let base = """
    levels:
      Low: {cost: 100, qol: 0.9}
      Mid: {cost: 1000, qol: 0.8}
    list: [1, 2, 3]
    keep: yes
    """

    private func merged(_ override: String) throws -> (base: Tree, override: Tree, result: Tree) {
        let b = try Tree.parse(yaml: Self.base, file: "t.yaml")
        let o = try Tree.parse(yaml: override, file: "t.yaml")
        return (b, o, b.merging(o))
    }

    @Test("overriding one nested value keeps its siblings and the other branches")
    func nestedOverride() throws {
        let m = try merged("levels: {Mid: {cost: 2000}}").result
        #expect(scalar(m, "levels.Mid.cost") == "2000")
        #expect(scalar(m, "levels.Mid.qol") == "0.8")
        #expect(scalar(m, "levels.Low.cost") == "100")
        #expect(scalar(m, "keep") == "yes")
        #expect(keys(m) == ["levels", "list", "keep"])
        #expect(keys(node(m, "levels")) == ["Low", "Mid"])
    }

    @Test("null removes a key, at any depth; null for an absent key is ignored")
    func nullRemoves() throws {
        let m = try merged("levels: {Low: null, Mid: {qol: ~}}\nkeep: null\nabsent: null").result
        #expect(keys(m) == ["levels", "list"])
        #expect(keys(node(m, "levels")) == ["Mid"])
        #expect(keys(node(m, "levels.Mid")) == ["cost"])
    }

    @Test("an empty override is the base")
    func emptyOverride() throws {
        let (b, _, m) = try merged("{}")
        #expect(keys(m) == keys(b))
        #expect(scalar(m, "levels.Low.cost") == "100")
        #expect(scalar(m, "levels.Mid.qol") == "0.8")
        #expect(m.path == b.path && m.line == b.line)
    }

    @Test("lists and scalars are replaced whole; new keys are appended")
    func replaceAndAppend() throws {
        let m = try merged("list: [9]\nkeep: no\nlevels: {High: {cost: 5, qol: 0.5}}\nextra: 1").result
        guard case .sequence(let items) = node(m, "list")?.value else { Issue.record("list is not a list"); return }
        #expect(items.count == 1)
        #expect(scalar(m, "keep") == "no")
        #expect(keys(node(m, "levels")) == ["Low", "Mid", "High"])
        #expect(keys(m) == ["levels", "list", "keep", "extra"])
    }

    @Test("a non-mapping override replaces a mapping, and a mapping replaces a scalar")
    func typeChanges() throws {
        let m = try merged("levels: 3\nkeep: {a: 1}").result
        #expect(scalar(m, "levels") == "3")
        #expect(scalar(m, "keep.a") == "1")
    }

    @Test("overriding values keep their own path and line; merged mappings keep the base's")
    func pathsOfOverrides() throws {
        let b = try Tree.parse(yaml: Self.base, file: "t.yaml")
        let root = try Tree.parse(yaml: "arms:\n  wm2u:\n    levels:\n      Mid: {cost: 2000}\n", file: "t.yaml")
        let override = try #require(node(root, "arms.wm2u"))
        let m = b.merging(override)
        #expect(node(m, "levels.Mid.cost")?.path == "arms.wm2u.levels.Mid.cost")
        #expect(node(m, "levels.Mid.cost")?.line == 4)
        #expect(node(m, "levels.Mid.qol")?.path == "levels.Mid.qol")
        #expect(node(m, "levels.Mid.qol")?.line == 3)
        #expect(node(m, "levels.Mid")?.path == "levels.Mid")
        #expect(node(m, "levels.Low")?.path == "levels.Low")
    }
}

@Suite("Arms in a scenario: the base with each arm's overrides")
struct ScenarioArmTests {
    @Test("an arm overriding one level's cost keeps the other levels and fields from the base")
    func levelCostOverride() throws {
        let text = edited(ScenarioText.rates, [("  wm2u:\n", "  wm2u:\n    levels: {Mid: {costPerChildYear: 2000}}\n")])
        let scenario = try Fixtures.scenario(text)
        #expect(scenario.arms.map(\.name) == ["baseline", "wm2u"])
        let base = scenario.arms[0].levels, arm = scenario.arms[1].levels
        #expect(base == [Level(name: "Low", costPerChildYear: 100, qolWeight: 0.9),
                         Level(name: "Mid", costPerChildYear: 1000, qolWeight: 0.8),
                         Level(name: "High", costPerChildYear: 10000, qolWeight: 0.6)])
        #expect(arm == [Level(name: "Low", costPerChildYear: 100, qolWeight: 0.9),
                        Level(name: "Mid", costPerChildYear: 2000, qolWeight: 0.8),
                        Level(name: "High", costPerChildYear: 10000, qolWeight: 0.6)])
    }

    @Test("null removes a key: the baseline arm drops the practice and the programme cost")
    func nullRemovesPractice() throws {
        let scenario = try Fixtures.scenario(ScenarioText.rates)
        let baseline = scenario.arms[0], wm2u = scenario.arms[1]
        #expect(baseline.practices.isEmpty)
        #expect(baseline.programmeCostPerYear == Trajectory(constant: 0))
        #expect(wm2u.programmeCostPerYear == Trajectory(constant: 50000))
        #expect(wm2u.practices.map(\.name) == ["relational"])
        // wm2u overrides only stepDownEffect; the rest comes from the base.
        let p = try #require(wm2u.practices.first)
        #expect(p.stepDownEffect == 0.5)
        #expect(p.escalationEffect == 0.3)
        #expect(p.timeToEffectYears == 0.5)
        #expect(p.areas == [0])
        #expect(p.share == 0.7)
        #expect(p.intensity == Trajectory(points: [(0, 0.2), (1, 0.9)]))
    }

    @Test("null on a nested key falls back to its default: coverage removed reaches every area")
    func nullRemovesCoverage() throws {
        let text = edited(ScenarioText.rates, [("        stepDownEffect: 0.5", "        coverage: null")])
        let p = try #require(try Fixtures.scenario(text).arms[1].practices.first)
        #expect(p.areas == [0, 1])
        #expect(p.share == 1)
        #expect(p.stepDownEffect == 0.4)
    }

    @Test("a list in an arm replaces the base's list")
    func listReplaced() throws {
        let text = edited(ScenarioText.rates, [("        stepDownEffect: 0.5", "        intensity: [{timeYears: 0, value: 0.5}]")])
        let p = try #require(try Fixtures.scenario(text).arms[1].practices.first)
        #expect(p.intensity == Trajectory(points: [(0, 0.5)]))
    }

    @Test("arms written as {} or ~ equal the base", arguments: ["{}", "~"])
    func emptyArmsEqualBase(_ empty: String) throws {
        let text = edited(ScenarioText.rates, [("""
        arms:
          baseline:
            practice: null
            programme: null
          wm2u:
            practice:
              relational:
                stepDownEffect: 0.5
        """, "arms: {one: \(empty), two: \(empty)}")])
        let withArms = try Fixtures.scenario(text)
        let withoutArms = try Fixtures.scenario(edited(text, [("arms: {one: \(empty), two: \(empty)}", "")]))
        #expect(withArms.arms.map(\.name) == ["one", "two"])
        #expect(withoutArms.arms.map(\.name) == ["base"])
        expectSameArm(withArms.arms[0], withoutArms.arms[0])
        expectSameArm(withArms.arms[1], withoutArms.arms[0])
    }

    @Test("an arm overriding the matrix changes only the rows it names")
    func matrixOverride() throws {
        let text = edited(ScenarioText.perStep, [("    High: {Mid: 0.3}", "    High: {Mid: 0.3}\narms:\n  a: {}\n  b: {transitions: {matrix: {High: {Mid: 0.5}}}}")])
        let arms = try Fixtures.scenario(text).arms
        #expect(maxDifference(arms[0].transitionPerStep, [[0.9, 0.1, 0], [0.2, 0.7, 0.1], [0, 0.3, 0.7]]) < 1e-15)
        #expect(maxDifference(arms[1].transitionPerStep, [[0.9, 0.1, 0], [0.2, 0.7, 0.1], [0, 0.5, 0.5]]) < 1e-15)
    }

    private func expectSameArm(_ a: ArmModel, _ b: ArmModel, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(a.levels == b.levels, sourceLocation: sourceLocation)
        #expect(a.areas == b.areas, sourceLocation: sourceLocation)
        #expect(a.stepMonths == b.stepMonths && a.steps == b.steps, sourceLocation: sourceLocation)
        #expect(a.initialCounts == b.initialCounts, sourceLocation: sourceLocation)
        #expect(a.ageDistribution == b.ageDistribution, sourceLocation: sourceLocation)
        #expect(a.ageing == b.ageing && a.ageOutMonths == b.ageOutMonths, sourceLocation: sourceLocation)
        #expect(a.birthsPerYear == b.birthsPerYear, sourceLocation: sourceLocation)
        #expect(a.entryLevelShares == b.entryLevelShares, sourceLocation: sourceLocation)
        #expect(a.immigrationPerYear == b.immigrationPerYear, sourceLocation: sourceLocation)
        #expect(a.immigrationLevelShares == b.immigrationLevelShares, sourceLocation: sourceLocation)
        #expect(a.emigrationRatePerYear == b.emigrationRatePerYear, sourceLocation: sourceLocation)
        #expect(a.transitionPerStep == b.transitionPerStep, sourceLocation: sourceLocation)
        #expect(a.transitionConversion == b.transitionConversion, sourceLocation: sourceLocation)
        #expect(a.ageMultipliers == b.ageMultipliers, sourceLocation: sourceLocation)
        #expect(a.durationMultipliers == b.durationMultipliers, sourceLocation: sourceLocation)
        #expect(a.practices.count == b.practices.count, sourceLocation: sourceLocation)
        for (p, q) in zip(a.practices, b.practices) {
            #expect(p.name == q.name && p.intensity == q.intensity && p.areas == q.areas && p.share == q.share,
                    sourceLocation: sourceLocation)
            #expect(p.escalationEffect == q.escalationEffect && p.stepDownEffect == q.stepDownEffect
                && p.timeToEffectYears == q.timeToEffectYears && p.effect.name == q.effect.name,
                    sourceLocation: sourceLocation)
        }
        #expect(a.programmeCostPerYear == b.programmeCostPerYear, sourceLocation: sourceLocation)
        #expect(a.programmeCostPerChildReachedPerYear == b.programmeCostPerChildReachedPerYear, sourceLocation: sourceLocation)
        #expect(a.costDiscountRatePerYear == b.costDiscountRatePerYear
            && a.qolDiscountRatePerYear == b.qolDiscountRatePerYear, sourceLocation: sourceLocation)
        #expect(a.rewardTiming == b.rewardTiming, sourceLocation: sourceLocation)
    }
}
