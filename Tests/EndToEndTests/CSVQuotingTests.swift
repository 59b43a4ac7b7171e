import Foundation
import Model
import Testing
import TestSupport

/// Every CSV girfec writes parses under RFC 4180, whatever the names in the scenario.
@Suite("CSV quoting")
struct CSVQuotingTests {
    /// Split RFC 4180 text into records of fields: quoted fields may hold commas,
    /// doubled quotes and line breaks; records end in LF or CRLF. A malformed
    /// quote records an issue and returns what was read.
    static func parse(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) -> [[String]] {
        var records: [[String]] = [], fields: [String] = [], field = ""
        var scalars = Array(text.unicodeScalars)[...]
        var quoted = false, wasQuoted = false
        while let c = scalars.popFirst() {
            if quoted {
                if c == "\"" {
                    if scalars.first == "\"" { field.unicodeScalars.append("\""); scalars.removeFirst() } else { quoted = false }
                } else {
                    field.unicodeScalars.append(c)
                }
                continue
            }
            switch c {
            case "\"":
                if !field.isEmpty || wasQuoted { Issue.record("a quote inside an unquoted field after '\(field)'", sourceLocation: sourceLocation) }
                quoted = true; wasQuoted = true
            case ",":
                fields.append(field); field = ""; wasQuoted = false
            case "\r" where scalars.first == "\n":
                break
            case "\n":
                fields.append(field); records.append(fields); fields = []; field = ""; wasQuoted = false
            case "\r":
                Issue.record("a bare carriage return outside quotes after '\(field)'", sourceLocation: sourceLocation)
            default:
                if wasQuoted { Issue.record("text after a closing quote: '\(c)'", sourceLocation: sourceLocation) }
                field.unicodeScalars.append(c)
            }
        }
        if quoted { Issue.record("the text ends inside a quoted field", sourceLocation: sourceLocation) }
        if !field.isEmpty || !fields.isEmpty { fields.append(field); records.append(fields) }
        return records
    }

    @Test(arguments: ["plain", "a,b", "say \"hi\"", "line\nfeed", "carriage\rreturn", "crlf\r\nname", "\r\n", "é, 子 \"\"", ""])
    func textRoundTrips(_ name: String) {
        let row = CSV.row([CSV.text(name), CSV.number(1.5), CSV.text(name)])
        let records = Self.parse(row)
        #expect(records == [[name, "1.5", name]])
    }

    @Test func runFolderCSVsParseWithAwkwardNames() throws {
        let yaml = Fixtures.smallScenario
            .replacingOccurrences(of: "Low", with: "\"Low, \\\"universal\\\"\"")
            .replacingOccurrences(of: "north", with: "\"north; é 子\"")
            .replacingOccurrences(of: "baseline: {}", with: "\"base,line\": {}")
        let scenario = try CommandLineTests.write(yaml, name: "awkward.yaml")
        let out = Fixtures.temporaryFolder("girfec-e2e") + "/awkward"
        let r = try CommandLineTests.girfec(["run", scenario, "--replications", "4", "--seed", "5", "--out", out, "--quiet"])
        #expect(r.status == 0, "stderr: \(r.stderr)")
        var checked = 0
        for file in try FileManager.default.contentsOfDirectory(atPath: out).sorted() where file.hasSuffix(".csv") {
            let records = Self.parse(try String(contentsOfFile: out + "/" + file, encoding: .utf8))
            let width = records.first?.count ?? 0
            for (i, record) in records.enumerated() where record.count != width {
                Issue.record("\(file) row \(i + 1): \(record.count) fields; expected \(width) as in the header")
            }
            checked += records.count
        }
        #expect(checked > 100)
        let bands = Self.parse(try String(contentsOfFile: out + "/bands.csv", encoding: .utf8))
        #expect(bands.contains { $0[0] == "base,line" && $0[4] == "Low, \"universal\"" })
        let replications = Self.parse(try String(contentsOfFile: out + "/replications.csv", encoding: .utf8))
        #expect(replications[0].contains { $0.contains("Low, \"universal\"") })
    }
}
