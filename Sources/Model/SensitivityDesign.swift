import Foundation

/// A deterministic sensitivity analysis: which scenario values to vary and how,
/// read from an experiment file (docs/sensitivity.md).
///
/// Every point is a copy of the scenario with some numbers replaced, run
/// with the same seed and replications, so points differ by their values
/// alone, not by chance (common random numbers across points; Law 2015,
/// "Simulation Modeling and Analysis", §11.2).
public struct SensitivityDesign: Sendable {
    /// One run of the analysis: which family it belongs to and the values it sets.
    public struct Point: Sendable {
        /// `base`, `oneWay`, `twoWay` or `sweep`.
        public var analysis: String
        /// The entry's label in the experiment file (empty for the base).
        public var name: String
        /// Index within its analysis entry.
        public var index: Int
        /// `low` or `high` for a one-way point, empty otherwise.
        public var bound: String
        public var values: [(path: String, value: Double)]
    }

    /// The scenario file, resolved against the experiment file's folder.
    public var scenarioPath: String
    public var seed: UInt64
    public var replications: Int
    public var willingnessToPay: [Double]
    public var points: [Point]
    /// The experiment file, for messages.
    public var file = ""
    /// Where each parameter path is first named in the experiment file: its field path and line.
    var places: [String: (field: String, line: Int?)] = [:]

    static let keys = ["scenario", "seed", "replications", "willingnessToPay", "oneWay", "twoWay", "sweeps"]

    /// Read and check an experiment file; every problem at once, with its place.
    public static func load(path: String) throws(ScenarioError) -> SensitivityDesign {
        try decode(yaml: Tree.readText(path: path, what: "YAML experiment file"), file: path)
    }

    public static func decode(yaml: String, file: String) throws(ScenarioError) -> SensitivityDesign {
        let root = try Tree.parse(yaml: yaml, file: file)
        let log = IssueLog(file: file)
        guard let f = log.fields(root, allowed: keys, what: "a sensitivity experiment") else { throw ScenarioError(file: file, issues: log.issues) }
        var scenarioPath = ""
        if let t = f.required("scenario", expected: "the scenario file, relative to this file"), let s = log.string(t) {
            let folder = PathText.folder(of: file)
            scenarioPath = s.hasPrefix("/") || folder.isEmpty ? s : PathText.join(folder, s)
        }
        var seed: UInt64 = 1
        if let t = f["seed"] { seed = log.seed(t) ?? seed }
        let replications = f["replications"].flatMap { log.integer($0, minimum: 1, maximum: Int(UInt32.max)) } ?? 100
        var wtp = [20_000.0, 30_000]
        if let t = f["willingnessToPay"], let items = log.list(t, what: "a list of amounts in £ per QoL-year") {
            wtp = items.compactMap { log.number($0, .money) }
        }

        var points = [Point(analysis: "base", name: "", index: 0, bound: "", values: [])]
        var places: [String: (field: String, line: Int?)] = [:]
        func pathOf(_ t: Tree?, _ where_: Tree) -> String? {
            guard let t = t ?? nil else {
                log.add(where_, found: "no path", expected: "path: the field path of a number in the scenario")
                return nil
            }
            guard let path = log.string(t) else { return nil }
            if places[path] == nil { places[path] = (t.path, t.line) }
            return path
        }
        func valueList(_ f: Fields, _ owner: Tree) -> [Double]? {
            if let t = f["values"] {
                guard let items = log.list(t, what: "a list of numbers") else { return nil }
                let v = items.compactMap { log.number($0, .parameterValue) }
                if v.count != items.count { return nil }
                if v.isEmpty { log.add(t, expected: "at least one value") }
                return v
            }
            guard let from = f.required("from", expected: "values: [...], or from, to and count").flatMap({ log.number($0, .parameterValue) }),
                  let to = f.required("to", expected: "the last value").flatMap({ log.number($0, .parameterValue) }),
                  let count = f.required("count", expected: "the number of evenly spaced values, >= 2").flatMap({ log.integer($0, minimum: 2, maximum: 400) })
            else { return nil }
            // Rounded to 12 significant digits, so 0.2 + 0.4·1 prints as 0.6, not 0.6000000000000001.
            return (0..<count).map { k in
                let x = from + (to - from) * Double(k) / Double(count - 1)
                guard x != 0, x.isFinite else { return x }
                let scale = pow(10, 11 - floor(log10(abs(x))))
                return (x * scale).rounded() / scale
            }
        }

        if let t = f["oneWay"], let entries = log.namedEntries(t, what: "a mapping from labels to {path, low, high}") {
            for (name, e) in entries where log.checkName(name, at: e, what: "entry") {
                guard let ef = log.fields(e, allowed: ["path", "low", "high"], what: "a one-way entry"),
                      let path = pathOf(ef["path"], e),
                      let low = ef.required("low", expected: "the low value").flatMap({ log.number($0, .parameterValue) }),
                      let high = ef.required("high", expected: "the high value").flatMap({ log.number($0, .parameterValue) }) else { continue }
                points.append(Point(analysis: "oneWay", name: name, index: 0, bound: "low", values: [(path, low)]))
                points.append(Point(analysis: "oneWay", name: name, index: 1, bound: "high", values: [(path, high)]))
            }
        }
        if let t = f["twoWay"], let entries = log.namedEntries(t, what: "a mapping from labels to {x, y}") {
            for (name, e) in entries where log.checkName(name, at: e, what: "entry") {
                guard let ef = log.fields(e, allowed: ["x", "y"], what: "a two-way grid"),
                      let xt = ef.required("x", expected: "{path, values} (or from, to, count)"),
                      let yt = ef.required("y", expected: "{path, values} (or from, to, count)"),
                      let xf = log.fields(xt, allowed: ["path", "values", "from", "to", "count"], what: "an axis"),
                      let yf = log.fields(yt, allowed: ["path", "values", "from", "to", "count"], what: "an axis"),
                      let xp = pathOf(xf["path"], xt), let yp = pathOf(yf["path"], yt),
                      let xs = valueList(xf, xt), let ys = valueList(yf, yt) else { continue }
                if xs.count > 400 || ys.count > 400 || xs.count * ys.count > 400 {
                    log.add(e, found: "a \(xs.count) × \(ys.count) grid", expected: "at most 400 points")
                    continue
                }
                var i = 0
                for x in xs { for y in ys {
                    points.append(Point(analysis: "twoWay", name: name, index: i, bound: "", values: [(xp, x), (yp, y)]))
                    i += 1
                } }
            }
        }
        if let t = f["sweeps"], let entries = log.namedEntries(t, what: "a mapping from labels to {path, values}") {
            for (name, e) in entries where log.checkName(name, at: e, what: "entry") {
                guard let ef = log.fields(e, allowed: ["path", "values", "from", "to", "count"], what: "a sweep"),
                      let path = pathOf(ef["path"], e), let xs = valueList(ef, e) else { continue }
                if xs.count > 400 { log.add(e, found: "\(xs.count) values", expected: "at most 400"); continue }
                for (i, x) in xs.sorted().enumerated() {
                    points.append(Point(analysis: "sweep", name: name, index: i, bound: "", values: [(path, x)]))
                }
            }
        }
        if points.count > 2001 {
            log.add(root, found: "\(points.count - 1) points", expected: "at most 2000 points in one experiment (each is a whole run)")
        }
        if points.count == 1 && log.issues.isEmpty {
            log.add(root, found: "no oneWay, twoWay or sweeps entries", expected: "at least one analysis")
        }
        if !log.issues.isEmpty { throw ScenarioError(file: file, issues: log.issues) }
        var design = SensitivityDesign(scenarioPath: scenarioPath, seed: seed, replications: replications, willingnessToPay: wtp, points: points)
        design.file = file
        design.places = places
        return design
    }

    /// The scenario of every point, all checked before any runs: every
    /// problem of every point at once, each naming its point.
    ///
    /// Each path is resolved once (`Scenario.bindings`); a path that cannot
    /// be a parameter (structure such as `time.horizonYears`, or not a value
    /// of the file) is reported at the place the experiment file names it.
    /// Each point's values are then put in place by `Scenario.arms(applying:)`.
    public func scenarios(_ scenario: Scenario) throws(ScenarioError) -> [Scenario] {
        var paths: [String] = []
        for p in points { for v in p.values where !paths.contains(v.path) { paths.append(v.path) } }
        let (bound, refused) = scenario.bindings(paths)
        // Every point records the moves any point can make: one layout for the experiment.
        var base = scenario
        base.allowMoves(varying: bound)
        var issues: [ValidationIssue] = refused.map { r in
            let place = places[r.path]
            return ValidationIssue(file: file, line: place?.line, path: place?.field ?? r.path,
                                   found: "path \(r.refusal.quoted) of scenario \(base.file), \(r.refusal.reason)", expected: r.refusal.expected)
        }
        let binding = Dictionary(zip(bound.map(\.path), bound), uniquingKeysWith: { a, _ in a })
        var out: [Scenario] = []
        for p in points where p.values.allSatisfy({ binding[$0.path] != nil }) {
            do {
                var s = Scenario(name: base.name, description: base.description,
                                 arms: try base.arms(applying: p.values.map { (binding[$0.path]!, $0.value) }))
                s.file = base.file
                s.parameterIndex = base.parameterIndex
                out.append(s)
            } catch {
                let label = p.analysis == "base" ? "the base" : "\(p.analysis) '\(p.name)' point \(p.index)"
                let set = p.values.map { "\($0.path) = \(IssueLog.format($0.value))" }.joined(separator: ", ")
                for i in error.issues where !issues.contains(where: { $0.path == i.path && $0.expected == i.expected }) {
                    var issue = i
                    issue.found = "\(i.found) at \(label) (\(set))"
                    issues.append(issue)
                }
            }
        }
        if !issues.isEmpty { throw ScenarioError(file: refused.isEmpty ? base.file : file, issues: issues) }
        return out
    }
}
