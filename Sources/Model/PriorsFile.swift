import Foundation

/// A file of named log-normal priors on yearly rates, derived from published figures
/// (docs/calibration.md, "Priors"; `calibration/priors/scotland-national.yaml`).
///
/// ```yaml
/// name: Scotland, national flows 2023-24
/// priors:
///   Looked after → Not looked after:      # a move in the file's own level names
///     median: 0.29                        # per child-year in the from-level
///     sdLog: 0.5
///     source: "Scottish Government (2025), Children's Social Work Statistics Scotland: 2023-24"
///     derivation: "3,398 ceased in 2023-24 / 11,844 looked after on 31 July 2024"
/// ```
///
/// A calibration configuration names the file in `stocks.priors` and picks an entry per
/// free rate (`stocks.free.PATH: {prior: NAME}`): the analyst maps the file's levels onto
/// the scenario's, since authorities name and cut their levels differently.
public struct PriorsFile: Sendable {
    public struct Entry: Sendable, Equatable {
        public var name: String
        /// Prior median of the rate, per year.
        public var median: Double
        /// Standard deviation of log(rate).
        public var sdLog: Double
        /// The publication the median comes from.
        public var source: String
        /// How the median and sdLog were derived, in words.
        public var derivation: String
        public var line: Int?
    }

    public var name: String
    public var entries: [Entry]
    public var file: String

    public func entry(_ name: String) -> Entry? { entries.first { $0.name == name } }

    public static func load(path: String) throws(ScenarioError) -> PriorsFile {
        try decode(yaml: Tree.readText(path: path, what: "YAML priors file"), file: path)
    }

    /// Every problem at once, each with the file, line and field path.
    public static func decode(yaml: String, file: String) throws(ScenarioError) -> PriorsFile {
        let root = try Tree.parse(yaml: yaml, file: file)
        let log = IssueLog(file: file)
        guard let f = log.fields(root, allowed: ["name", "priors"], what: "a priors file") else { throw ScenarioError(file: file, issues: log.issues) }
        let name = f["name"].flatMap { log.string($0) } ?? ""
        var entries: [Entry] = []
        if let t = f.required("priors", expected: "priors: a mapping from a move 'From → To' to {median, sdLog, source, derivation}"),
           let items = log.namedEntries(t, what: "a mapping from a move 'From → To' to {median, sdLog, source, derivation}") {
            for (key, value) in items {
                guard let e = log.fields(value, allowed: ["median", "sdLog", "source", "derivation"], what: "a log-normal prior with its source"),
                      let median = e.required("median", expected: "the prior median rate per year, > 0").flatMap({ log.number($0, NumberRange(low: 0, high: 1000, lowOpen: true)) }),
                      let sd = e.required("sdLog", expected: "the prior sd of log(rate), > 0").flatMap({ log.number($0, NumberRange(low: 0, high: 10, lowOpen: true)) }),
                      let source = e.required("source", expected: "the publication the median comes from").flatMap({ log.string($0) })
                else { continue }
                if source.trimmingCharacters(in: .whitespaces).isEmpty { log.add(path: Tree.join(value.path, "source"), line: value.line, found: "an empty source", expected: "the publication the median comes from") }
                let derivation = e["derivation"].flatMap { log.string($0) } ?? ""
                entries.append(Entry(name: key, median: median, sdLog: sd, source: source, derivation: derivation, line: value.line))
            }
            if items.isEmpty { log.add(t, found: "no priors", expected: "at least one prior") }
        }
        if !log.issues.isEmpty { throw ScenarioError(file: file, issues: log.issues) }
        return PriorsFile(name: name, entries: entries, file: file)
    }
}
