import Foundation
import Testing
@testable import Model
import TestSupport

/// Every number has a range, names are clean, resources are estimated before
/// allocation, parsing is bounded, and files named by a scenario are checked.
@Suite("Input limits: ranges, names, resources, bounded parsing, named files")
struct InputLimitTests {
    // MARK: Ranges

    static let rangeCases: [RuleCase] = [
        RuleCase(name: "horizon of 1e300 years", base: ScenarioText.perStep,
                 edits: [("horizonYears: 2", "horizonYears: 1e300")],
                 issues: [.init("time.horizonYears", found: "1e+300", expected: "a number in (0, 5000]",
                                line: .at("horizonYears: 1e300"))]),
        RuleCase(name: "step of 10^6 months", base: ScenarioText.perStep,
                 edits: [("stepMonths: 1", "stepMonths: 1000000")],
                 issues: [.init("time.stepMonths", found: "1000000", expected: "a whole number in [1, 1200]",
                                line: .at("stepMonths: 1000000"))],
                 exhaustive: false),
        RuleCase(name: "a count at Int64.max", base: ScenarioText.perStep,
                 edits: [("Low: 100,", "Low: 9223372036854775807,")],
                 issues: [.init("population.initialCounts.Low", found: "'9223372036854775807'",
                                expected: "a whole number in [0, 100000000]", line: .at("Low: 9223372036854775807"))]),
        RuleCase(name: "a count of 1e18", base: ScenarioText.perStep,
                 edits: [("Low: 100,", "Low: 1e18,")],
                 issues: [.init("population.initialCounts.Low", found: "'1e18'",
                                expected: "a whole number in [0, 100000000]", line: .at("Low: 1e18"))]),
        RuleCase(name: "10^9 children in one cell", base: ScenarioText.perStep,
                 edits: [("Low: 100,", "Low: 1000000000,")],
                 issues: [.init("population.initialCounts.Low", found: "1000000000",
                                expected: "a whole number in [0, 100000000]", line: .at("Low: 1000000000"))]),
        RuleCase(name: "1e18 births a year", base: ScenarioText.rates,
                 edits: [("perYear: {north: 30, south: 20}", "perYear: {north: 1e18, south: 20}")],
                 issues: [.init("population.births.perYear.north", found: "1e+18", expected: "a number in [0, 100000000]",
                                line: .at("north: 1e18"))]),
        RuleCase(name: "1e18 in-migrants a year", base: ScenarioText.perStep,
                 edits: [("  initialCounts: {Low: 100, Mid: 20, High: 5}",
                          "  initialCounts: {Low: 100, Mid: 20, High: 5}\n  migration: {inPerYear: 1e18}")],
                 issues: [.init("population.migration.inPerYear", found: "1e+18", expected: "a number in [0, 100000000]",
                                line: .at("inPerYear: 1e18"))]),
        RuleCase(name: "10^8 births a year in two-year steps: 2·10^8 in one Poisson draw", base: ScenarioText.perStep,
                 edits: [("time: {stepMonths: 1, horizonYears: 2}", "time: {stepMonths: 24, horizonYears: 2}"),
                         ("  initialCounts: {Low: 100, Mid: 20, High: 5}",
                          "  initialCounts: {Low: 100, Mid: 20, High: 5}\n  births: {perYear: 1e8}")],
                 issues: [.init("population.births.perYear", found: "100000000 children a year, 200000000 in a step of 24 months",
                                expected: "at most 100000000 children per step and area: fewer, or shorter steps", line: .at("population:"))]),
        RuleCase(name: "an age band to 1e9 years", base: ScenarioText.perStep,
                 edits: [("  initialCounts: {Low: 100, Mid: 20, High: 5}",
                          "  initialCounts: {Low: 100, Mid: 20, High: 5}\n  ageDistribution: [{fromYears: 0, toYears: 1e9, share: 1}]")],
                 issues: [.init("population.ageDistribution[0].toYears", found: "1000000000", expected: "a number in (0, 100]",
                                line: .at("toYears: 1e9"))]),
        RuleCase(name: "a duration band from 1e15 months", base: ScenarioText.rates,
                 edits: [("{fromMonths: 6, leaveMultiplier: 0.8}", "{fromMonths: 1e15, leaveMultiplier: 0.8}")],
                 issues: [.init("transitions.durationDependence.High[1].fromMonths", found: "'1e15'",
                                expected: "a whole number in [0, 1200]", line: .at("fromMonths: 1e15"))]),
        RuleCase(name: "300 age bands, more than a byte numbers", base: ScenarioText.perStep,
                 edits: [("  matrix:\n", "  ageMultipliers: [" + (0..<300).map { "{fromYears: \(Double($0) / 4)}" }.joined(separator: ", ") + "]\n  matrix:\n")],
                 issues: [.init("transitions.ageMultipliers", found: "300 bands", expected: "at most 250 bands",
                                line: .at("ageMultipliers:"))]),
        RuleCase(name: "a level cost of 1e300", base: ScenarioText.perStep,
                 edits: [("Low: {costPerChildYear: 100,", "Low: {costPerChildYear: 1e300,")],
                 issues: [.init("levels.Low.costPerChildYear", found: "1e+300", expected: "a number in [0, 1000000000000]",
                                line: .at("costPerChildYear: 1e300"))]),
        RuleCase(name: "a yearly rate of 1e18", base: ScenarioText.rates,
                 edits: [("Low: {Mid: 0.1, High: 0.01}", "Low: {Mid: 1e18, High: 0.01}")],
                 issues: [.init("transitions.matrix.Low.Mid", found: "1e+18", expected: "a number in [0, 1000]",
                                line: .at("Mid: 1e18"))]),
        RuleCase(name: "a practice taking 1e300 years to act", base: ScenarioText.rates,
                 edits: [("timeToEffectYears: 0.5", "timeToEffectYears: 1e300")],
                 issues: [.init("practice.relational.timeToEffectYears", found: "1e+300 in arm 'wm2u'", expected: "a number in [0, 1000]",
                                line: .at("timeToEffectYears: 1e300"))]),
    ]

    @Test("numbers out of their range", arguments: rangeCases)
    func rangeRule(_ rule: RuleCase) {
        check(rule)
    }

    @Test("a sweep of 10^12 values is refused before any value is made")
    func hugeSweep() {
        let yaml = "scenario: s.yaml\nsweeps:\n  cost: {path: levels.Low.costPerChildYear, from: 0, to: 1, count: 1e12}\n"
        do {
            _ = try SensitivityDesign.decode(yaml: yaml, file: "e.yaml")
            Issue.record("expected a problem")
        } catch {
            #expect(error.issues.map(\.description) == [
                "e.yaml:3: sweeps.cost.count: found 1000000000000; expected a whole number in [2, 400]",
            ])
        }
    }

    @Test("60000 steps are refused at once, before any table is built")
    func sixtyThousandSteps() {
        let text = edited(ScenarioText.perStep, [("horizonYears: 2", "horizonYears: 5000")])
        let start = Date()
        let issues = Fixtures.issues(text)
        #expect(Date().timeIntervalSince(start) < 5)
        #expect(issues.count == 1)
        #expect(issues.first?.path == "time")
        #expect(issues.first?.found.contains("60000 steps") == true)
        #expect(issues.first?.expected.hasPrefix("at most 2 GB") == true)
    }

    // MARK: Names

    static let nameCases: [RuleCase] = [
        RuleCase(name: "arms named 1 and \"1\"", base: ScenarioText.perStep,
                 edits: [("    High: {Mid: 0.3}", "    High: {Mid: 0.3}\narms:\n  1: {}\n  \"1\": {}")],
                 issues: [.init("arms.1", found: "the key '1' a second time in one mapping (YAML types 1 and \"1\" apart, girfec does not)",
                                expected: "each key once in a mapping", line: .at("\"1\": {}"))]),
        RuleCase(name: "a level name with a line feed", base: ScenarioText.perStep,
                 edits: [("  Low: {costPerChildYear: 100", "  \"Lo\\nw\": {costPerChildYear: 1, qolWeight: 1}\n  Low: {costPerChildYear: 100")],
                 issues: [.init("levels.Lo\nw", found: "level name 'Lo\\nw', which holds a control character",
                                expected: "a name without control characters (line breaks, tabs, …)", line: .at("Lo\\nw"))],
                 exhaustive: false),
        RuleCase(name: "an arm name with a carriage return", base: ScenarioText.perStep,
                 edits: [("    High: {Mid: 0.3}", "    High: {Mid: 0.3}\narms:\n  \"a\\rb\": {}")],
                 issues: [.init("arms.a\rb", found: "arm name 'a\\rb', which holds a control character",
                                expected: "a name without control characters (line breaks, tabs, …)", line: .at("a\\rb"))],
                 exhaustive: false),
        RuleCase(name: "an empty arm name", base: ScenarioText.perStep,
                 edits: [("    High: {Mid: 0.3}", "    High: {Mid: 0.3}\narms:\n  \"\": {}")],
                 issues: [.init("arms.", found: "an empty arm name", expected: "a non-empty name", line: .at("\"\": {}"))],
                 exhaustive: false),
        RuleCase(name: "an area name with a tab", base: ScenarioText.rates,
                 edits: [("areas: [north, south]", "areas: [north, south, \"ea\\tst\"]")],
                 issues: [.init("areas[2]", found: "area name 'ea\\tst', which holds a control character",
                                expected: "a name without control characters (line breaks, tabs, …)", line: .at("ea\\tst"))],
                 exhaustive: false),
    ]

    @Test("names: unique after YAML typing, non-empty, no control characters", arguments: nameCases)
    func nameRule(_ rule: RuleCase) {
        check(rule)
    }

    @Test("a message shows at most 40 characters of a value, control characters escaped")
    func excerpts() {
        #expect(MessageText.excerpt("a\r\nb\u{7}") == "a\\r\\nb\\u{7}")
        #expect(MessageText.excerpt(String(repeating: "x", count: 100)) == String(repeating: "x", count: 40) + "…")
        let long = Tree(value: .scalar(String(repeating: "secret ", count: 50)), path: "p", line: 1)
        #expect(long.shortDescription.count < 50)
    }

    // MARK: Bounded parsing

    @Test("an alias bomb stops at a million values")
    func aliasBomb() {
        var text = "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
        for (name, previous) in zip(["b", "c", "d", "e", "f", "g", "h", "i"], ["a", "b", "c", "d", "e", "f", "g", "h"]) {
            text += "\(name): &\(name) [" + Array(repeating: "*\(previous)", count: 10).joined(separator: ", ") + "]\n"
        }
        let issues = Fixtures.issues(text)
        #expect(issues.count == 1)
        #expect(issues.first?.found == "a document of more than 1000000 values once its aliases (*name) are expanded")
        #expect(issues.first?.expected == "at most 1000000 values: fewer aliases, or aliases of smaller values")
    }

    // MARK: Resources

    @Test("a scenario's memory is estimated, and refused above the limit naming its largest part")
    func memoryEstimate() throws {
        let text = edited(ScenarioText.perStep, [("Low: 100,", "Low: 100000000,")])
        let scenario = try Fixtures.scenario(text)
        let estimate = ResourceEstimate(scenario: scenario, threads: 8)
        #expect(estimate.problem(limitGiB: 100, file: "test.yaml") == nil)
        let issue = try #require(estimate.problem(limitGiB: 1, file: "test.yaml"))
        #expect(issue.path == "(resources)")
        #expect(issue.found.contains("most of it the children's columns (100000025 children alive at most"))
        #expect(issue.expected.hasPrefix("at most 1.0 GiB: fewer initial children, births or in-migrants"))
        #expect(issue.expected.hasSuffix("or raise the limit with --max-memory-gb if this machine has the memory"))
    }

    @Test("10^9 children, 10^8 in each of ten cells, are refused under the default limit")
    func aBillionChildren() throws {
        let areas = (0..<10).map { "a\($0)" }
        let text = edited(ScenarioText.perStep, [
            ("population:\n  initialCounts: {Low: 100, Mid: 20, High: 5}",
             "areas: [\(areas.joined(separator: ", "))]\npopulation:\n  initialCounts:\n"
                + areas.map { "    \($0): {Low: 100000000}" }.joined(separator: "\n")),
        ])
        let scenario = try Fixtures.scenario(text)
        let issue = try #require(ResourceEstimate(scenario: scenario).problem(limitGiB: ResourceEstimate.defaultLimitGiB, file: "test.yaml"))
        #expect(issue.found.hasPrefix("an estimated 29.8 GiB of memory, most of it the children's columns (1000000000 children alive at most"))
    }

    @Test("children beyond 32-bit numbering are refused")
    func childrenEver() throws {
        let text = edited(ScenarioText.perStep, [("horizonYears: 2", "horizonYears: 100"),
                                                 ("  initialCounts: {Low: 100, Mid: 20, High: 5}",
                                                  "  initialCounts: {Low: 100, Mid: 20, High: 5}\n  births: {perYear: 1e8}")])
        let scenario = try Fixtures.scenario(text)
        let issue = try #require(ResourceEstimate(scenario: scenario).problem(limitGiB: 1e6, file: "test.yaml"))
        #expect(issue.path == "population")
        #expect(issue.found == "about 10000000125 children in one replication of one arm (initial children plus births and in-migrants over the horizon)")
    }

    // MARK: Files named by a scenario

    @Test("an included absolute path is refused without reading it")
    func absoluteInclude() {
        let text = "include: /etc/passwd\n" + ScenarioText.perStep
        do {
            _ = try ScenarioDecoder.decode(yaml: text, file: "s.yaml", reading: { ScenarioDecoder.attachedFile($0, folder: "/tmp") })
            Issue.record("expected a problem")
        } catch {
            #expect(error.issues.map(\.found) == ["'/etc/passwd', an absolute path"])
            #expect(error.issues.first?.expected == "a readable YAML fragment of at most 16 MiB, by a path relative to the scenario's folder")
        }
    }

    @Test("kernel files, folders and FIFOs are not regular files")
    func nonRegularFiles() throws {
        let folder = Fixtures.temporaryFolder("girfec-input-limits")
        let fifo = folder + "/fifo"
        try? FileManager.default.removeItem(atPath: fifo)
        #expect(mkfifo(fifo, 0o600) == 0)
        let cases: [(String, String)] = [
            ("/proc/self/environ", "a file of the kernel (/proc or /sys), not a regular file"),
            (folder, "a folder, not a regular file"),
            (fifo, "a pipe, not a regular file"),
            ("/dev/zero", "a device, not a regular file"),
        ]
        // A link to a regular file is read; a link into /proc is not.
        try "x: 1\n".write(toFile: folder + "/real.yaml", atomically: true, encoding: .utf8)
        try? FileManager.default.removeItem(atPath: folder + "/link.yaml")
        try? FileManager.default.removeItem(atPath: folder + "/environ")
        try FileManager.default.createSymbolicLink(atPath: folder + "/link.yaml", withDestinationPath: folder + "/real.yaml")
        try FileManager.default.createSymbolicLink(atPath: folder + "/environ", withDestinationPath: "/proc/self/environ")
        #expect(try Tree.readRegularFile(folder + "/link.yaml").get() == "x: 1\n")
        for (path, found) in cases + [(folder + "/environ", "a file of the kernel (/proc or /sys), not a regular file")] {
            guard case .failure(let problem) = Tree.readRegularFile(path) else {
                Issue.record("\(path) was read")
                continue
            }
            #expect(problem.found == found, "\(path)")
        }
    }

    @Test("an include is read relative to the scenario's folder, whatever the current folder")
    func relativeInclude() throws {
        let folder = Fixtures.temporaryFolder("girfec-input-limits-include")
        try FileManager.default.createDirectory(atPath: folder + "/scenarios/fits", withIntermediateDirectories: true)
        try "time: {stepMonths: 1, horizonYears: 3}\n".write(toFile: folder + "/scenarios/fits/time.yaml", atomically: true, encoding: .utf8)
        let text = "include: fits/time.yaml\n" + ScenarioText.perStep.replacingOccurrences(of: "time: {stepMonths: 1, horizonYears: 2}\n", with: "")
        try text.write(toFile: folder + "/scenarios/s.yaml", atomically: true, encoding: .utf8)
        // The test's current folder is not the scenario's.
        #expect(FileManager.default.currentDirectoryPath != folder + "/scenarios")
        let scenario = try ScenarioDecoder.load(path: folder + "/scenarios/s.yaml")
        #expect(scenario.arms[0].steps == 36)
        #expect(scenario.attachedFiles.keys.sorted() == ["fits/time.yaml"])
    }

    @Test("a draws file's bad cell is shown cut to 40 characters")
    func drawsCellsAreCut() {
        let text = ScenarioText.perStep + "\nuncertainty: {draws: d.csv}\n"
        let secret = "levels.Low.costPerChildYear\n" + String(repeating: "s3cr3t", count: 30) + "\n"
        do {
            _ = try ScenarioDecoder.decode(yaml: text, file: "s.yaml") { _ in secret }
            Issue.record("expected a problem")
        } catch {
            let found = error.issues.map(\.found).joined(separator: " ")
            #expect(!found.contains(String(repeating: "s3cr3t", count: 8)), "\(found)")
            #expect(found.contains(String(repeating: "s3cr3t", count: 6) + "s3cr…"), "\(found)")
        }
    }

    private func check(_ rule: RuleCase, sourceLocation: SourceLocation = #_sourceLocation) {
        let text = edited(rule.base, rule.edits, sourceLocation: sourceLocation)
        let issues = Fixtures.issues(text, sourceLocation: sourceLocation)
        expectIssues(issues, rule.issues, in: text, exhaustive: rule.exhaustive, sourceLocation: sourceLocation)
    }
}
