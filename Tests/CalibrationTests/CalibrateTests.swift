import Calibration
import Foundation
import Model
import Testing

/// `Calibrate.fromFlows` and `fromPanel` on the data of calibration/synthetic/identified
/// (3 levels, one area; the truth has adjacent moves only), read from memory.
@Suite("Calibrate: flows and panel fits, their notes and estimates.csv")
struct CalibrateTests {
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path + "/calibration/synthetic/identified"

    static func scenario() throws -> Scenario { try ScenarioDecoder.load(path: folder + "/scenario.yaml") }

    static func config(_ yaml: String) throws -> CalibrationConfig {
        try CalibrationConfig.decode(yaml: "scenario: scenario.yaml\n" + yaml, file: folder + "/test.yaml")
    }

    /// flows.csv of the example, each row kept or changed by `edit` (nil drops it).
    static func flows(_ edit: ([String]) -> [String]?) throws -> [FlowCount] {
        let lines = try String(contentsOfFile: folder + "/flows.csv", encoding: .utf8).split(separator: "\n").map(String.init)
        let rows = lines.dropFirst().compactMap { edit($0.components(separatedBy: ",")) }.map { $0.joined(separator: ",") }
        return try DataFiles.flows(csv: ([lines[0]] + rows).joined(separator: "\n"), levels: try scenario().levels)
    }

    /// The `area` column of estimates.csv.
    static func areaColumn(_ fits: [Calibrate.Fit]) -> [String] {
        Calibrate.estimatesCSV(fits).split(separator: "\n").dropFirst().map { String($0.split(separator: ",", omittingEmptySubsequences: false)[0]) }
    }

    /// Issue 13: in a closed population (no exit counts at all) 840 of 1000 draws were "regularised",
    /// every one in the exit column, and the note did not say which rates. Now exit is not a
    /// destination there (no exit rate), and the note names each regularised move with its draws
    /// and the children seen making it.
    @Test func aClosedPopulationHasNoExitRateAndTheNoteNamesEachRegularisedMove() throws {
        let closed = try Self.flows { $0[3] == FlowEnd.entry || $0[4] == FlowEnd.exit ? nil : $0 }
        let fits = try Calibrate.fromFlows(try Self.config("data: {flows: flows.csv}\ndraws: 400\n"), scenario: try Self.scenario(),
                                           data: Calibrate.Data(flows: closed))
        let fit = try #require(fits.first)
        #expect(fit.rates.allSatisfy { $0.to != FlowEnd.exit }, "\(fit.rates.map { "\($0.from)→\($0.to)" })")
        #expect(fit.notes.contains { $0.contains("no child left the population in any period") }, "\(fit.notes)")
        let note = try #require(fit.notes.first { $0.contains("matrix logarithm with negative rates") }, "\(fit.notes)")
        #expect(!note.contains("exit"), "\(note)")
        // "N of 400 draws …: A→B in n draws (k seen), …": every move named has 1 ≤ n ≤ N, and the
        // largest n is at least N / (moves named) (a draw with a negative rate counts for each of its moves).
        let total = try #require(Int(note.components(separatedBy: "flows: ")[1].components(separatedBy: " of ")[0]))
        let named = note.components(separatedBy: "): ")[1].components(separatedBy: ", ")
        let perMove = try named.map { part -> (String, Int) in
            let words = part.components(separatedBy: " ")
            return (words[0], try #require(Int(words[2])))
        }
        #expect(!perMove.isEmpty && perMove.allSatisfy { $0.1 >= 1 && $0.1 <= total }, "\(note)")
        #expect(perMove.map(\.1).max()! * perMove.count >= total, "\(note)")
        // Universal→Intensive: 177 children went two levels up within a year (two adjacent moves).
        #expect(note.contains("Universal→Intensive in ") && note.contains("(177 seen)"), "\(note)")

        // With exits in the data, exit is a destination and has a rate.
        let open = try Calibrate.fromFlows(try Self.config("data: {flows: flows.csv}\ndraws: 50\n"), scenario: try Self.scenario(),
                                           data: Calibrate.Data(flows: try Self.flows { $0[3] == FlowEnd.entry ? nil : $0 }))
        #expect(open[0].rates.filter { $0.to == FlowEnd.exit }.count == 3)
        #expect(!open[0].notes.contains { $0.contains("no child left") })
    }

    /// Issue 13: the area was `Locality`, `all` or blank depending on the data. One rule: a pooled fit
    /// is `all`, a per-area fit its area's name, for flows and panel alike (stock fits are pooled: `all`).
    @Test func theAreaColumnIsAllForPooledFitsAndTheAreaForPerAreaFits() throws {
        let scenario = try Self.scenario()
        let local = try Self.flows { var r = $0; r[2] = "Locality"; return r[3] == FlowEnd.entry ? nil : r }
        let pooled = try Calibrate.fromFlows(try Self.config("data: {flows: flows.csv}\ndraws: 20\n"), scenario: scenario,
                                             data: Calibrate.Data(flows: local))
        #expect(Set(Self.areaColumn(pooled)) == ["all"])
        #expect(pooled[0].notes.contains("flows: areas pooled (area 'all' in the outputs): Locality"), "\(pooled[0].notes)")
        let perArea = try Calibrate.fromFlows(try Self.config("data: {flows: flows.csv}\nareas: perArea\ndraws: 20\n"), scenario: scenario,
                                              data: Calibrate.Data(flows: local))
        #expect(Set(Self.areaColumn(perArea)) == ["Locality"])

        let text = try String(contentsOfFile: Self.folder + "/panel.csv", encoding: .utf8)
        let withoutArea = text.split(separator: "\n").map { $0.split(separator: ",").prefix(3).joined(separator: ",") }.joined(separator: "\n")
        for areas in ["pooled", "perArea"] {
            let panel = try DataFiles.panel(csv: withoutArea, levels: scenario.levels)
            let fits = try Calibrate.fromPanel(try Self.config("data: {panel: panel.csv}\nareas: \(areas)\ndraws: 20\n"), scenario: scenario,
                                               data: Calibrate.Data(panel: panel))
            #expect(Set(Self.areaColumn(fits)) == ["all"], "panel without an area column, \(areas)")
        }
        let named = try DataFiles.panel(csv: text.replacingOccurrences(of: ",all", with: ",Locality"), levels: scenario.levels)
        let fits = try Calibrate.fromPanel(try Self.config("data: {panel: panel.csv}\nareas: perArea\ndraws: 20\n"), scenario: scenario,
                                           data: Calibrate.Data(panel: named))
        #expect(Set(Self.areaColumn(fits)) == ["Locality"])
    }

    /// Issue 13: panel standard errors were computed but neither printed nor written. The notes give
    /// each rate with the SE of its log and its interval, and estimates.csv has `se_log_rate`,
    /// whose interval exp(log q̂ ± 1.96·se) is the row's.
    @Test func panelStandardErrorsArePrintedAndWritten() throws {
        let scenario = try Self.scenario()
        let panel = try DataFiles.panel(csv: try String(contentsOfFile: Self.folder + "/panel.csv", encoding: .utf8), levels: scenario.levels)
        let fits = try Calibrate.fromPanel(try Self.config("data: {panel: panel.csv}\ndraws: 20\n"), scenario: scenario,
                                           data: Calibrate.Data(panel: panel))
        let csv = Calibrate.estimatesCSV(fits).split(separator: "\n").map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
        let header = csv[0]
        #expect(header.joined(separator: ",") == Calibrate.estimatesHeader)
        let col = try #require(header.firstIndex(of: "se_log_rate"))
        #expect(csv.count == 5)
        for row in csv.dropFirst() {
            let rate = try #require(Double(row[3])), low = try #require(Double(row[4])), high = try #require(Double(row[5]))
            let se = try #require(Double(row[col]), "\(row)")
            #expect(abs(log(low) - (log(rate) - 1.959963984540054 * se)) < 1e-9 && abs(log(high) - (log(rate) + 1.959963984540054 * se)) < 1e-9)
            let note = try #require(fits[0].notes.first { $0.hasPrefix("panel: \(row[1])→\(row[2]) ") }, "\(fits[0].notes)")
            #expect(note.contains("SE of log-rate \(String(format: "%.3g", se)), 95 % interval "
                                  + "\(String(format: "%.4g", low))–\(String(format: "%.4g", high))"), "\(note)")
        }
        // Flows: the intervals are posterior quantiles; no se_log_rate.
        let flows = try Calibrate.fromFlows(try Self.config("data: {flows: flows.csv}\ndraws: 20\n"), scenario: scenario,
                                            data: Calibrate.Data(flows: try Self.flows { $0 }))
        let flowRows = Calibrate.estimatesCSV(flows).split(separator: "\n").dropFirst()
        #expect(flowRows.allSatisfy { $0.split(separator: ",", omittingEmptySubsequences: false)[col].isEmpty })
    }
}
