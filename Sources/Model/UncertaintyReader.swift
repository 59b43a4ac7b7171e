import Foundation

/// Reads a scenario's `uncertainty` section (docs/scenario-format.md §19).
struct UncertaintyReader {
    let log: IssueLog
    /// The scenario's tree, read at validation only (the file's Dirichlet rows and units).
    let root: Tree
    let scenario: Scenario
    var arms: [ArmModel] { scenario.arms }
    let drawsText: (String) -> Result<String, Tree.FileProblem>

    static let distributions = ["fixed", "uniform", "normal", "logNormal", "beta", "gamma", "dirichlet"]
    static let parameterKeys = ["path", "distribution", "source", "value", "min", "max", "mean", "sd",
                                "meanLog", "sdLog", "alpha", "beta", "shape", "scale", "counts", "prior", "effectiveSampleSize"]
    /// Top-level fields a parameter may not point into.
    static let notModelValues = ["name", "description", "uncertainty"]

    func read(_ tree: Tree) -> Uncertainty? {
        let before = log.issues.count
        guard let f = log.fields(tree, allowed: ["parameters", "draws", "groups"], what: "uncertainty settings") else { return nil }
        var parameters: [UncertainParameter] = []
        if let pt = f["parameters"], let entries = log.namedEntries(pt, what: "a mapping from parameter names to their distributions") {
            for (name, value) in entries where log.checkName(name, at: value, what: "parameter") {
                if let p = readParameter(name: name, value) { parameters.append(p) }
            }
        }
        var table: DrawTable? = nil
        if let dt = f["draws"], let name = log.string(dt) {
            table = readDraws(name, at: dt)
        }
        if parameters.isEmpty && table == nil && f["draws"] == nil {
            log.add(tree, expected: "at least one parameter under uncertainty.parameters, or a draws file under uncertainty.draws")
        }

        // Each field is drawn once: a path in two places would make one silently win.
        var owner: [String: String] = [:]
        var streams: [UInt32: String] = [:]
        for p in parameters {
            if let other = streams[p.streamIndex], other != p.path {
                log.add(path: "uncertainty.parameters.\(p.name).path", line: nil as Int?,
                        found: "path '\(p.path)', whose stream index collides with '\(other)'s (FNV-1a)",
                        expected: "paths with distinct stream indices: rename one field (this is very unlikely)")
            }
            streams[p.streamIndex] = p.path
        }
        for (c, who) in parameters.flatMap({ p in p.columns.map { ($0, "parameter '\(p.name)'") } })
            + (table?.columns.map { ($0, "the draws file") } ?? []) {
            if let other = owner[c] {
                log.add(path: "uncertainty", line: tree.line, found: "field '\(c)' drawn by both \(other) and \(who)",
                        expected: "each field drawn in one place only")
            }
            owner[c] = who
        }

        var groups: [(name: String, parameters: [String])] = []
        if let gt = f["groups"], let entries = log.namedEntries(gt, what: "a mapping from group names to lists of parameter names") {
            let known = parameters.map(\.name) + (table?.columns ?? [])
            for (name, value) in entries where log.checkName(name, at: value, what: "group") {
                guard let items = log.list(value, what: "a list of parameter names (or draws-file columns)") else { continue }
                var members: [String] = []
                for item in items {
                    guard let s = log.string(item) else { continue }
                    if known.contains(s) { members.append(s) } else {
                        log.add(item, found: "unknown parameter '\(s)'", expected: "one of: \(known.joined(separator: ", "))")
                    }
                }
                if members.isEmpty { log.add(value, expected: "at least one parameter name") }
                groups.append((name, members))
            }
        }
        // Every column resolved once: what it sets in each arm.
        var bindings: [ParameterBinding] = []
        for p in parameters {
            for c in p.columns {
                switch scenario.parameterIndex.binding(c) {
                case .success(let b): bindings.append(b)
                case .failure(let r):
                    log.add(path: "uncertainty.parameters.\(p.name).path", line: nil as Int?, found: "path \(r.found)", expected: r.expected)
                }
            }
        }
        guard log.issues.count == before else { return nil }
        for c in table?.columns ?? [] {
            if case .success(let b) = scenario.parameterIndex.binding(c) { bindings.append(b) }
        }

        let columns = parameters.flatMap(\.columns) + (table?.columns ?? [])
        let baseValues: [Double?] = columns.map { scenario.parameterIndex.fileValue($0) }
        let u = Uncertainty(parameters: parameters, drawTable: table, groups: groups, bindings: bindings,
                            baseArms: scenario.arms, file: scenario.file, baseValues: baseValues)
        // The arms must be valid at the distributions' means, and at the first row of a draws file.
        var checks: [(String, [Double])] = [("with every parameter at the mean of its distribution", u.meanValues)]
        if let t = table, !t.rows.isEmpty {
            checks.append(("with the draws file's first row (and other parameters at their means)",
                           parameters.flatMap(\.distribution.mean) + t.rows[0]))
        }
        for (when, values) in checks {
            do { _ = try u.arms(values: values) } catch {
                for issue in error.issues {
                    log.add(path: issue.path, line: issue.line, found: "\(issue.found) \(when)", expected: issue.expected)
                }
                return nil
            }
        }
        return u
    }

    // MARK: Parameters

    private func readParameter(name: String, _ tree: Tree) -> UncertainParameter? {
        guard let f = log.fields(tree, allowed: Self.parameterKeys, what: "a parameter: path, distribution and its settings") else { return nil }
        let before = log.issues.count
        let source = f["source"].flatMap { log.string($0) } ?? ""
        guard let pathTree = f.required("path", expected: "the field path of the value, e.g. levels.Intensive.costPerChildYear"),
              let path = log.string(pathTree),
              let kindTree = f.required("distribution", expected: "one of \(Self.distributions.joined(separator: ", "))"),
              let kind = log.choice(kindTree, Self.distributions.map { ($0, $0) }) else { return nil }
        if let first = path.split(separator: ".").first.map(String.init), Self.notModelValues.contains(first) || path.isEmpty {
            log.add(pathTree, found: "path '\(path)'", expected: "the path of a model value (not name, description or uncertainty)")
            return nil
        }
        let target = root.find(path: path)

        // Settings that belong to other distributions are mistakes worth naming.
        let allowedByKind: [String: [String]] = [
            "fixed": ["value"], "uniform": ["min", "max"], "normal": ["mean", "sd", "min", "max"],
            "logNormal": ["mean", "sd", "meanLog", "sdLog"], "beta": ["mean", "sd", "alpha", "beta"],
            "gamma": ["mean", "sd", "shape", "scale"], "dirichlet": ["counts", "prior", "mean", "effectiveSampleSize"],
        ]
        for (key, value) in f.entries where !["path", "distribution", "source"].contains(key) && !(allowedByKind[kind] ?? []).contains(key) {
            log.add(path: value.path, line: value.line, found: "'\(key)', which a \(kind) distribution does not take",
                    expected: "for \(kind): \((allowedByKind[kind] ?? []).joined(separator: ", "))")
        }
        guard log.issues.count == before else { return nil }

        if kind == "dirichlet" { return readDirichlet(name: name, path: path, pathTree: pathTree, target: target, f, source: source) }

        guard let target else {
            log.add(pathTree, found: "path '\(path)', which is not a value in the file",
                    expected: "the path of a number written in the scenario file (e.g. levels.Intensive.costPerChildYear)")
            return nil
        }
        guard case .scalar(let text) = target.value, let fileValue = Double(text.replacingOccurrences(of: "_", with: "")) else {
            log.add(pathTree, found: "path '\(path)', which holds \(target.shortDescription)",
                    expected: "the path of a single number (a transition row takes distribution: dirichlet)")
            return nil
        }
        // Structure (the steps, levels, areas, the population's make-up) is refused, saying why.
        if case .failure(let r) = scenario.parameterIndex.binding(path) {
            log.add(pathTree, found: "path \(r.found)", expected: r.expected)
            return nil
        }
        func number(_ key: String, _ range: NumberRange = .parameterValue) -> Double? { f[key].flatMap { log.number($0, range) } }
        func need(_ key: String, _ what: String, _ range: NumberRange = .parameterValue) -> Double? {
            f.required(key, expected: what).flatMap { log.number($0, range) }
        }
        let mean = number("mean") ?? fileValue
        var distribution: ParameterDistribution? = nil
        switch kind {
        case "fixed":
            distribution = .fixed(number("value") ?? fileValue)
        case "uniform":
            if let a = need("min", "the lower end"), let b = need("max", "the upper end, above min") {
                if b > a { distribution = .uniform(min: a, max: b) } else {
                    log.add(tree, found: "min \(a) and max \(b)", expected: "max above min")
                }
            }
        case "normal":
            if let sd = need("sd", "the standard deviation, > 0", .spread) {
                let lo = number("min"), hi = number("max")
                if let lo, let hi, hi <= lo { log.add(tree, found: "min \(lo) and max \(hi)", expected: "max above min") }
                else if let lo, mean < lo - 10 * sd { log.add(tree, found: "mean \(mean), min \(lo), sd \(sd)", expected: "a truncation that keeps most of the distribution") }
                else if let hi, mean > hi + 10 * sd { log.add(tree, found: "mean \(mean), max \(hi), sd \(sd)", expected: "a truncation that keeps most of the distribution") }
                else { distribution = .normal(mean: mean, sd: sd, min: lo, max: hi) }
            }
        case "logNormal":
            if f["meanLog"] != nil || f["sdLog"] != nil {
                if let m = need("meanLog", "μ, the mean of the logarithm", NumberRange(low: -50, high: 50)), let s = need("sdLog", "σ > 0, the sd of the logarithm", NumberRange(low: 0, high: 10, lowOpen: true)) {
                    distribution = .logNormal(meanLog: m, sdLog: s)
                }
            } else if let s = need("sd", "the standard deviation, > 0 (or meanLog and sdLog)", .spread) {
                if mean > 0 {
                    let v = log1p(s * s / (mean * mean))
                    distribution = .logNormal(meanLog: Foundation.log(mean) - v / 2, sdLog: v.squareRoot())
                } else { log.add(tree, found: "mean \(mean)", expected: "a mean > 0 for a log-normal distribution") }
            }
        case "beta":
            if f["alpha"] != nil || f["beta"] != nil {
                if let a = need("alpha", "α > 0", .shape), let b = need("beta", "β > 0", .shape) { distribution = .beta(alpha: a, beta: b) }
            } else if let s = need("sd", "the standard deviation, > 0 (or alpha and beta)", .spread) {
                let c = mean * (1 - mean) / (s * s) - 1
                if mean > 0, mean < 1, c > 0 { distribution = .beta(alpha: mean * c, beta: (1 - mean) * c) } else {
                    log.add(tree, found: "mean \(mean) and sd \(s)",
                            expected: "0 < mean < 1 and sd below √(mean·(1 − mean)) = \(IssueLog.format((max(0, mean * (1 - mean))).squareRoot())) for a beta distribution")
                }
            }
        case "gamma":
            if f["shape"] != nil || f["scale"] != nil {
                if let k = need("shape", "k > 0", .shape), let theta = need("scale", "θ > 0", .spread) { distribution = .gamma(shape: k, scale: theta) }
            } else if let s = need("sd", "the standard deviation, > 0 (or shape and scale)", .spread) {
                if mean > 0 { distribution = .gamma(shape: mean * mean / (s * s), scale: s * s / mean) } else {
                    log.add(tree, found: "mean \(mean)", expected: "a mean > 0 for a gamma distribution")
                }
            }
        default: break
        }
        guard let distribution, log.issues.count == before else { return nil }
        return UncertainParameter(name: name, path: path, distribution: distribution, components: [], source: source)
    }

    /// A Dirichlet over a transition row: from counts (α = counts + prior) or a mean row and an effective sample size (α = n·p).
    private func readDirichlet(name: String, path: String, pathTree: Tree, target: Tree?, _ f: Fields, source: String) -> UncertainParameter? {
        let levels = arms[0].levels.map(\.name)
        // The row must be one of a transition matrix whose unit is a probability.
        let parts = path.components(separatedBy: ".")
        let matrixPrefix = parts.count >= 3 && parts[0] == "transitions" && parts[1] == "matrix" ? 2
            : parts.count >= 5 && parts[0] == "arms" && parts[2] == "transitions" && parts[3] == "matrix" ? 4 : nil
        guard let matrixPrefix, parts.count == matrixPrefix + 1, levels.contains(parts[matrixPrefix]) else {
            log.add(pathTree, found: "path '\(path)'", expected: "a transition row, transitions.matrix.LEVEL (or arms.ARM.transitions.matrix.LEVEL), for a dirichlet distribution")
            return nil
        }
        let unitPath = matrixPrefix == 2 ? "transitions.unit" : "arms.\(parts[1]).transitions.unit"
        let unit = (root.find(path: unitPath) ?? root.find(path: "transitions.unit")).flatMap { t -> String? in
            if case .scalar(let s) = t.value { return s }
            return nil
        }
        guard unit == TransitionUnit.probabilitiesPerYear.rawValue || unit == TransitionUnit.probabilitiesPerStep.rawValue else {
            log.add(pathTree, found: "a dirichlet row in a matrix with unit '\(unit ?? "none")'",
                    expected: "unit probabilitiesPerYear or probabilitiesPerStep for a dirichlet row (for ratesPerYear, give each rate its own gamma distribution)")
            return nil
        }
        // The file's row, with the diagonal implied where it is not written.
        var fileRow = [Double](repeating: 0, count: levels.count)
        let from = levels.firstIndex(of: parts[matrixPrefix])!
        if let target, case .mapping(let entries) = target.value {
            var diagonalGiven = false
            for (key, value) in entries {
                guard let j = levels.firstIndex(of: key), case .scalar(let s) = value.value, let x = Double(s) else { continue }
                fileRow[j] = x
                if j == from { diagonalGiven = true }
            }
            if !diagonalGiven { fileRow[from] = max(0, 1 - fileRow.reduce(0, +)) }
        } else {
            log.add(pathTree, found: "path '\(path)', which is not a row written in the file",
                    expected: "a transition row written in the scenario file")
            return nil
        }
        func levelMapping(_ key: String, _ range: NumberRange) -> [Double]? {
            guard let t = f[key], let entries = log.namedEntries(t, what: "a mapping from level names to numbers") else { return nil }
            var out = [Double](repeating: 0, count: levels.count)
            for (k, v) in entries {
                guard let j = levels.firstIndex(of: k) else {
                    log.add(path: v.path, line: v.line, found: "unknown level '\(k)'", expected: "one of the levels: \(levels.joined(separator: ", "))")
                    return nil
                }
                guard let x = log.number(v, range) else { return nil }
                out[j] = x
            }
            return out
        }
        var alpha: [Double]
        if f["counts"] != nil {
            guard let counts = levelMapping("counts", NumberRange(low: 0, high: 1e9)) else { return nil }
            let prior = f["prior"].flatMap { log.number($0, NumberRange(low: 0, high: 1e9)) } ?? 0
            alpha = counts.map { $0 + prior }
        } else {
            guard let n = f.required("effectiveSampleSize", expected: "n > 0: α = n·p for the mean row p (or give counts)")
                .flatMap({ log.number($0, .shape) }) else { return nil }
            var p = fileRow
            if f["mean"] != nil {
                guard let m = levelMapping("mean", .unit) else { return nil }
                p = m
            }
            let sum = p.reduce(0, +)
            guard abs(sum - 1) <= 1e-9 else {
                log.add(f["mean"] ?? pathTree, found: "a mean row summing to \(sum)", expected: "a mean row summing to 1 (within 1e-9)")
                return nil
            }
            alpha = p.map { $0 * n }
        }
        // Structural zeros stay zero: components with α = 0 are not drawn.
        let drawn = levels.indices.filter { alpha[$0] > 0 }
        guard drawn.count >= 2 else {
            log.add(f.tree, found: "\(drawn.count) destination\(drawn.count == 1 ? "" : "s") with α > 0",
                    expected: "at least two levels with α > 0 (add counts or a prior > 0)")
            return nil
        }
        for j in levels.indices where alpha[j] == 0 && fileRow[j] > 0 {
            log.add(f.tree, found: "α = 0 for \(levels[from]) → \(levels[j]), which the file sets to \(fileRow[j])",
                    expected: "α > 0 for every move the file allows (add counts or a prior > 0), or 0 in the file")
        }
        return UncertainParameter(name: name, path: path, distribution: .dirichlet(alpha: drawn.map { alpha[$0] }),
                                  components: drawn.map { levels[$0] }, source: source)
    }

    // MARK: Draws file

    /// A CSV of draws: a header of field paths (optional `replication` and
    /// `draw` columns, as in parameters.csv), one row per draw. With a
    /// `draw` column, draw d is the row whose draw is d.
    private func readDraws(_ name: String, at tree: Tree) -> DrawTable? {
        let text: String
        switch drawsText(name) {
        case .success(let t): text = t
        case .failure(let problem):
            log.add(tree, found: "'\(MessageText.excerpt(name, limit: 200))', \(problem.found)",
                    expected: "a readable CSV of draws of at most 16 MiB, by a path relative to the scenario's folder")
            return nil
        }
        let where_ = "draws file \(MessageText.excerpt(name, limit: 200))"
        let (records, unclosedQuote) = CSV.records(text)
        if let line = unclosedQuote {
            log.add(tree, found: "a quoted cell that is never closed on line \(line) of \(where_)", expected: "a closing double quote")
        }
        guard let header = records.first else {
            log.add(tree, found: "an empty \(where_)", expected: "a header of field paths and at least one row")
            return nil
        }
        let names = header.cells
        var columns: [String] = []
        var valueIndex: [Int] = []
        var drawIndex: Int? = nil
        for (i, c) in names.enumerated() {
            if c == "replication" { continue }
            if c == "draw" { drawIndex = i; continue }
            if case .failure(let r) = scenario.parameterIndex.binding(c) {
                log.add(tree, found: "column \(i + 1) of \(where_) (line \(header.line)): \(r.found)", expected: r.expected)
                continue
            }
            columns.append(c); valueIndex.append(i)
        }
        if Set(columns).count != columns.count {
            log.add(tree, found: "repeated columns in \(where_)", expected: "each field path once")
        }
        var byDraw: [Int: [Double]] = [:]
        var rows: [[Double]] = []
        var bad = ProblemListing<(found: String, expected: String)>(limit: 10)
        for record in records.dropFirst() {
            let cells = record.cells, lineNumber = record.line
            guard cells.count == names.count else {
                bad.add(("\(cells.count) cells on line \(lineNumber) of \(where_)", "\(names.count) cells, as in the header")); continue
            }
            var row: [Double] = []
            for (k, i) in valueIndex.enumerated() {
                if let x = Double(cells[i]), x.isFinite { row.append(x) } else {
                    bad.add(("'\(MessageText.excerpt(cells[i]))' on line \(lineNumber), column '\(columns[k])' of \(where_)", "a finite number"))
                }
            }
            guard row.count == valueIndex.count else { continue }
            if let d = drawIndex {
                guard let draw = Int(cells[d]), draw >= 0 else {
                    bad.add(("draw '\(MessageText.excerpt(cells[d]))' on line \(lineNumber) of \(where_)", "a draw number >= 0")); continue
                }
                if let seen = byDraw[draw], seen != row {
                    bad.add(("draw \(draw) on line \(lineNumber) of \(where_) with values that differ from an earlier row of the same draw", "one set of values per draw"))
                }
                byDraw[draw] = row
            } else {
                rows.append(row)
            }
        }
        for problem in bad.listed { log.add(tree, found: problem.found, expected: problem.expected) }
        if let more = bad.unlistedPhrase { log.add(tree, found: "\(more) in \(where_)", expected: "a clean file") }
        if drawIndex != nil {
            let count = byDraw.count
            if let missing = (0..<count).first(where: { byDraw[$0] == nil }) {
                log.add(tree, found: "draws numbered up to \(byDraw.keys.max() ?? 0) in \(where_) but no draw \(missing)", expected: "draws numbered 0, 1, 2, … without gaps")
            }
            rows = (0..<count).compactMap { byDraw[$0] }
        }
        if rows.isEmpty && bad.isEmpty { log.add(tree, found: "no rows in \(where_)", expected: "at least one draw") }
        if columns.isEmpty { log.add(tree, found: "no value columns in \(where_)", expected: "at least one field-path column") }
        return DrawTable(file: name, text: text, columns: columns, rows: rows)
    }
}
