import Foundation
import Testing
@testable import Model

/// `transitions.dependence` as the decoder reads it: every field, and every broken rule reported with
/// its field path, file and row, all at once.
@Suite("Transition-specific dependence: decoding")
struct DependenceDecoderTests {
    static func scenario(_ dependence: String) -> String {
        """
        name: dependence
        time: {stepMonths: 12, horizonYears: 5}
        levels:
          Well: {costPerChildYear: 0, qolWeight: 1}
          Sick: {costPerChildYear: 0, qolWeight: 0.5}
          Dead: {costPerChildYear: 0, qolWeight: 0, absorbing: true}
        population:
          initialCounts: {Well: 10}
        transitions:
          unit: probabilitiesPerYear
          matrix:
            Well: {Sick: 0.1, Dead: 0.01}
            Sick: {Well: 0.2, Dead: 0.05}
          dependence:
        \(dependence)
        """
    }

    static func decode(_ dependence: String, files: [String: String] = [:]) throws -> Scenario {
        try ScenarioDecoder.decode(yaml: scenario(dependence), file: "s.yaml", readFile: { files[$0] })
    }

    /// The problems of a scenario that must fail, as `file:line: path: found …; expected …` lines.
    static func problems(_ dependence: String, files: [String: String] = [:]) -> [String] {
        do {
            _ = try decode(dependence, files: files)
            return []
        } catch let error as ScenarioError {
            return error.issues.map { "\($0.path): found \($0.found); expected \($0.expected)" }
        } catch {
            return ["\(error)"]
        }
    }

    @Test func aTableFileAndPointsAreRead() throws {
        let s = try Self.decode("""
                - {from: any, to: Dead, on: age, unit: probabilitiesPerYear, factor: 1.5, table: {file: lt.csv, key: age, value: qx}}
                - {from: [Sick], to: Well, on: sojourn, unit: hazardRatio, points: [{at: 0, value: 1}, {at: 12, value: 0.5}]}
                - {from: Well, to: Sick, on: year, unit: ratesPerYear, points: [{at: 0, value: 0.2}]}
            """, files: ["lt.csv": "age,sex,qx\n0,f,0.01\n\"50\",f,0.02\r\n100,f,0.5\n"])
        let d = s.arms[0].dependence
        #expect(d.count == 3)
        #expect(d[0].from == [0, 1] && d[0].to == 2 && d[0].on == .age && d[0].unit == .probabilitiesPerYear && d[0].factor == 1.5)
        #expect(d[0].keys == [0, 50, 100] && d[0].values == [0.01, 0.02, 0.5])
        #expect(d[0].effects[1] == -log1p(-0.02) * 1.5)
        #expect(d[1].from == [1] && d[1].on == .sojourn && !d[1].replaces)
        #expect(d[2].path == "transitions.dependence[2]" || d[2].path.hasPrefix("transitions.dependence"))
        // Beyond the table: the last value; before the first key: the first.
        let c = TransitionDependence.Combiner(arm: s.arms[0])
        #expect(c.touched == [true, true, false])
        #expect(c.sojournCapMonths == [0, 12, 0])
    }

    @Test func everyBrokenFieldIsReportedAtOnce() {
        let found = Self.problems("""
                - {from: Dead, to: Well, on: age, unit: ratesPerYear, points: [{at: 0, value: 1}]}
                - {from: Sick, to: Sick, on: height, unit: probabilitiesPerYear, points: [{at: 0, value: 0.1}]}
                - {from: Nowhere, to: Dead, on: year, unit: odds, points: [{at: 0, value: 1}]}
                - {from: Well, to: Dead, on: year, unit: probabilitiesPerYear, points: [{at: 1, value: 0.5}, {at: 0, value: 0.5}, {at: 2, value: 1}]}
                - {from: Well, to: Dead, on: age, unit: hazardRatio}
                - {from: Well, to: Dead, on: age, unit: hazardRatio, points: [{at: 0, value: .nan}], table: {file: x.csv, key: a, value: b}}
            """)
        let text = found.joined(separator: "\n")
        #expect(text.contains("found 'Dead', an absorbing level; expected levels children can leave"), "\(text)")
        #expect(text.contains("found 'Sick', the level moved to; expected levels other than `to`"), "\(text)")
        #expect(text.contains("on: found 'height'; expected one of age, year, sojourn"), "\(text)")
        #expect(text.contains("found unknown level 'Nowhere'"), "\(text)")
        #expect(text.contains("unit: found 'odds'; expected one of probabilitiesPerYear, ratesPerYear, hazardRatio"), "\(text)")
        #expect(text.contains("transitions.dependence[3].points[2].value: found 1; expected a probability per year in [0, 1)"), "\(text)")
        #expect(text.contains("found at 0 after 1; expected points in increasing order of at"), "\(text)")
        #expect(text.contains("found neither table nor points"), "\(text)")
        #expect(text.contains("found both table and points; expected one of them"), "\(text)")
        #expect(found.count >= 9, "\(text)")
    }

    @Test func twoReplacingTablesOnOneMoveNameBoth() {
        let found = Self.problems("""
                - {from: any, to: Dead, on: age, unit: probabilitiesPerYear, points: [{at: 0, value: 0.01}]}
                - {from: Sick, to: Dead, on: year, unit: ratesPerYear, points: [{at: 0, value: 0.1}]}
                - {from: Sick, to: Dead, on: sojourn, unit: hazardRatio, points: [{at: 0, value: 2}]}
            """)
        #expect(found == ["transitions.dependence[1]: found a second table replacing the rate of Sick → Dead (the first is transitions.dependence[0]); expected at most one probabilitiesPerYear or ratesPerYear table per move; hazardRatio tables multiply it"],
                "\(found)")
    }

    @Test func fileProblemsSayFileAndRow() {
        let dep = "    - {from: any, to: Dead, on: age, unit: probabilitiesPerYear, table: {file: lt.csv, key: age, value: qx}}"
        #expect(Self.problems(dep) == ["transitions.dependence[0].table.file: found 'lt.csv', a file that cannot be read; expected a readable CSV file of at most 16 MiB, by a path relative to the scenario's folder"])
        #expect(Self.problems(dep, files: ["lt.csv": ""]).first?.contains("lt.csv: an empty file") == true)
        #expect(Self.problems(dep, files: ["lt.csv": "age,qx\n"]).first?.contains("lt.csv: a header and no rows") == true)
        #expect(Self.problems(dep, files: ["lt.csv": "years,q\n0,0.1\n"]) == [
            "transitions.dependence[0].table.key: found lt.csv:1: no column 'age' (the header has 'years', 'q'); expected the header of the key column",
            "transitions.dependence[0].table.value: found lt.csv:1: no column 'qx' (the header has 'years', 'q'); expected the header of the value column"])
        let bad = Self.problems(dep, files: ["lt.csv": "age,qx\n0,0.1\n1,nan\n2,1\n2,0.3\n1e300,0.1\n5\n-1,0.2\n7,\"0.1\n"])
        #expect(bad.contains("transitions.dependence[0].table.file: found lt.csv:9: a quoted cell that is never closed; expected a closing double quote"), "\(bad)")
        let rows = Self.problems(dep, files: ["lt.csv": "age,qx\n0,0.1\n1,nan\n2,1\n2,0.3\n1e300,0.1\n5\n-1,0.2\n1.5,0.2\n"])
        #expect(rows == [
            "transitions.dependence[0].table.file: found lt.csv:3: 'nan' in column 'qx'; expected a probability per year in [0, 1)",
            "transitions.dependence[0].table.file: found lt.csv:4: '1' in column 'qx'; expected a probability per year in [0, 1)",
            "transitions.dependence[0].table.file: found lt.csv:6: '1e300' in column 'age'; expected an age in years in [0, 1000]",
            "transitions.dependence[0].table.file: found lt.csv:7: 1 cells; expected 2 cells, as in the header",
            "transitions.dependence[0].table.file: found lt.csv:8: '-1' in column 'age'; expected an age in years in [0, 1000]",
            "transitions.dependence[0].table.file: found lt.csv:9: key 1.5 after 2; expected keys in increasing order"], "\(rows)")
    }

    /// Hostile tables are refused without a crash: a million rows, NaN and infinite values, huge keys.
    @Test func hostileTablesAreRefused() {
        let dep = "    - {from: any, to: Dead, on: sojourn, unit: ratesPerYear, table: {file: t.csv, key: m, value: r}}"
        var big = "m,r\n"
        big.reserveCapacity(12_000_000)
        for k in 0..<1_000_000 { big += "\(k),0.1\n" }
        #expect(Self.problems(dep, files: ["t.csv": big]) == ["transitions.dependence[0].table.file: found t.csv: 1000000 rows; expected at most 10000 rows"])
        let nasty = "m,r\ninf,0.1\n1,inf\n2,-0\n3,1e309\n99999999,0.2\n4,-nan\n"
        let found = Self.problems(dep, files: ["t.csv": nasty])
        #expect(found.count == 5, "\(found)")
        #expect(found.allSatisfy { $0.hasPrefix("transitions.dependence[0].table.file: found t.csv:") }, "\(found)")
        let points = Self.problems("    - {from: Well, to: Dead, on: age, unit: hazardRatio, points: [{at: .inf, value: 1}, {at: 1, value: 1e999}]}")
        #expect(points.count == 2, "\(points)")
    }

    /// An arm's `transitions.dependence` replaces the base's list.
    @Test func armsOverrideTheWholeList() throws {
        let text = Self.scenario("    - {from: Sick, to: Dead, on: age, unit: hazardRatio, points: [{at: 0, value: 3}]}") + """

            arms:
              standard: {}
              treated:
                transitions:
                  dependence:
                    - {from: Sick, to: Dead, on: age, unit: hazardRatio, points: [{at: 0, value: 2}]}
              none:
                transitions: {dependence: []}
            """
        let s = try ScenarioDecoder.decode(yaml: text, file: "s.yaml")
        #expect(s.arms.map { $0.dependence.map(\.values) } == [[[3]], [[2]], []])
        // The factor and the points' values are parameters; the keys and table files are not.
        let base = try #require(try? s.parameterIndex.binding("transitions.dependence[0].points[0].value").get())
        #expect(base.targets.map(\.arm) == [0])
        let treated = try #require(try? s.parameterIndex.binding("arms.treated.transitions.dependence[0].points[0].value").get())
        #expect(treated.targets.map(\.arm) == [1])
        let changed = try ParameterBinding.apply([(base, 1.5), (treated, 4)], to: s.arms, file: "s.yaml")
        #expect(changed[0].dependence[0].values == [1.5] && changed[1].dependence[0].values == [4])
        let withFactor = try ScenarioDecoder.decode(yaml: text.replacingOccurrences(of: "unit: hazardRatio, points: [{at: 0, value: 3}]",
                                                                                      with: "unit: hazardRatio, factor: 2, points: [{at: 0, value: 3}]"),
                                                    file: "s.yaml")
        let factor = try #require(try? withFactor.parameterIndex.binding("transitions.dependence[0].factor").get())
        #expect(try ParameterBinding.apply([(factor, 0.5)], to: withFactor.arms, file: "s.yaml")[0].dependence[0].factor == 0.5)
        #expect(throws: ScenarioError.self) { try ParameterBinding.apply([(treated, -1)], to: s.arms, file: "s.yaml") }
        for path in ["transitions.dependence[0].points[0].at", "transitions.dependence[0].to"] {
            if case .failure(let r) = s.parameterIndex.binding(path) { #expect(r.found.hasPrefix("'\(path)', which ")) } else {
                Issue.record("\(path) bound as a parameter")
            }
        }
    }
}
