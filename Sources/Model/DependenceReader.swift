import Foundation

/// `transitions.dependence`: a list of transition-specific dependencies (docs/scenario-format.md §8, "Transition-specific dependence").
extension ArmReader {
    static let dependenceFields = ["from", "to", "on", "unit", "factor", "table", "points"]

    func readDependence(_ tree: Tree, levels: [Level]) -> [TransitionDependence] {
        let names = levels.map(\.name)
        guard let items = log.list(tree, what: "a list of dependencies {from, to, on, unit, factor, table or points}") else { return [] }
        if items.count > 1000 { log.add(tree, found: "\(items.count) dependencies", expected: "at most 1000"); return [] }
        var out: [TransitionDependence] = []
        func level(_ t: Tree) -> Int? {
            guard let s = log.string(t) else { return nil }
            if let l = names.firstIndex(of: s) { return l }
            log.add(t, found: "unknown level '\(MessageText.excerpt(s))'", expected: "one of the levels: \(names.joined(separator: ", "))")
            return nil
        }
        for item in items {
            guard let f = log.fields(item, allowed: Self.dependenceFields, what: "a dependence") else { continue }
            let before = log.issues.count
            let to = f.required("to", expected: "the level moved to, e.g. Dead").flatMap(level)
            let on = f.required("on", expected: "one of age, year, sojourn")
                .flatMap { log.choice($0, DependenceVariable.allCases.map { ($0.rawValue, $0) }) }
            let unit = f.required("unit", expected: "one of \(DependenceUnit.allCases.map(\.rawValue).joined(separator: ", "))")
                .flatMap { log.choice($0, DependenceUnit.allCases.map { ($0.rawValue, $0) }) }
            let factor = f["factor"].flatMap { log.number($0, .multiplier) } ?? 1
            // from: a level, a list of levels, or `any` (every level that is not absorbing, except `to`).
            var from: [Int] = []
            if let ft = f.required("from", expected: "a level, a list of levels, or any") {
                switch ft.value {
                case .scalar(let s) where s == "any":
                    from = levels.indices.filter { !levels[$0].absorbing && $0 != to }
                case .sequence(let list):
                    if list.isEmpty { log.add(ft, expected: "at least one level") }
                    from = list.compactMap(level)
                default:
                    if let l = level(ft) { from = [l] }
                }
                if case .scalar(let s) = ft.value, s == "any" {} else {
                    for l in from where levels[l].absorbing {
                        log.add(ft, found: "'\(names[l])', an absorbing level", expected: "levels children can leave (nothing moves out of an absorbing level)")
                    }
                    if let to, from.contains(to) {
                        log.add(ft, found: "'\(names[to])', the level moved to", expected: "levels other than `to` (staying is what remains)")
                    }
                    if Set(from).count != from.count { log.add(ft, found: "a level named twice", expected: "each level once") }
                }
            }
            var table: (keys: [Double], values: [Double])? = nil
            if let on, let unit {
                let tableTree = f["table"], pointsTree = f["points"]
                switch (tableTree, pointsTree) {
                case (nil, nil): log.add(item, found: "neither table nor points", expected: "a table {file, key, value} or a list of points {at, value}")
                case (.some, .some): log.add(item, found: "both table and points", expected: "one of them")
                case (let t?, nil): table = readDependenceFile(t, on: on, unit: unit)
                case (nil, let p?): table = readDependencePoints(p, on: on, unit: unit)
                }
            }
            guard log.issues.count == before, let to, let on, let unit, let table else { continue }
            out.append(TransitionDependence(from: from, to: to, on: on, unit: unit, factor: factor,
                                            keys: table.keys, values: table.values, path: item.path))
        }
        // At most one table replaces the rate of each move.
        var replacing: [Int: String] = [:]
        for d in out where d.replaces {
            for i in d.from {
                let key = i * max(names.count, 1) + d.to
                if let first = replacing[key] {
                    log.add(path: d.path, line: tree.line,
                            found: "a second table replacing the rate of \(names[i]) → \(names[d.to]) (the first is \(first))",
                            expected: "at most one probabilitiesPerYear or ratesPerYear table per move; hazardRatio tables multiply it")
                } else {
                    replacing[key] = d.path
                }
            }
        }
        return out
    }

    /// The range of a table's values in this unit.
    static func dependenceRange(_ unit: DependenceUnit) -> (range: NumberRange, phrase: String) {
        switch unit {
        case .probabilitiesPerYear: return (NumberRange(low: 0, high: 0.999999999999), "a probability per year in [0, 1)")
        case .ratesPerYear: return (.ratePerYear, "a rate per year in [0, 1000]")
        case .hazardRatio: return (.multiplier, "a hazard ratio in [0, 1000]")
        }
    }

    /// The range of a table's keys.
    static func keyRange(_ on: DependenceVariable) -> (range: NumberRange, phrase: String) {
        // Months in the level as `durationDependence` bounds them: the aggregate model keeps a class per step up to the last key.
        on == .sojourn ? (NumberRange(low: 0, high: 1200), "months in the level in [0, 1200]")
                       : (NumberRange(low: 0, high: 1000), "\(on == .age ? "an age" : "a time") in years in [0, 1000]")
    }

    /// A number in `range`, or an issue that says what was expected in words.
    private func checked(_ tree: Tree, _ range: NumberRange, _ phrase: String) -> Double? {
        guard let x = log.number(tree) else { return nil }
        if range.contains(x) { return x }
        log.add(tree, found: IssueLog.format(x), expected: phrase)
        return nil
    }

    private func readDependencePoints(_ tree: Tree, on: DependenceVariable, unit: DependenceUnit) -> (keys: [Double], values: [Double])? {
        guard let items = log.list(tree, what: "a list of points {at, value}") else { return nil }
        if items.isEmpty { log.add(tree, expected: "at least one point"); return nil }
        if items.count > TransitionDependence.maximumRows {
            log.add(tree, found: "\(items.count) points", expected: "at most \(TransitionDependence.maximumRows) points"); return nil
        }
        let (keyRange, keyPhrase) = Self.keyRange(on), (valueRange, valuePhrase) = Self.dependenceRange(unit)
        var keys: [Double] = [], values: [Double] = []
        let before = log.issues.count
        for item in items {
            guard let f = log.fields(item, allowed: ["at", "value"], what: "a point {at, value}"),
                  let at = f.required("at", expected: keyPhrase).flatMap({ checked($0, keyRange, keyPhrase) }),
                  let v = f.required("value", expected: valuePhrase).flatMap({ checked($0, valueRange, valuePhrase) }) else { continue }
            if let last = keys.last, at <= last {
                log.add(item, found: "at \(IssueLog.format(at)) after \(IssueLog.format(last))", expected: "points in increasing order of at")
            }
            keys.append(at); values.append(v)
        }
        return log.issues.count == before ? (keys, values) : nil
    }

    /// `table: {file, key, value}`: two columns of a CSV file, named in its header.
    private func readDependenceFile(_ tree: Tree, on: DependenceVariable, unit: DependenceUnit) -> (keys: [Double], values: [Double])? {
        guard let f = log.fields(tree, allowed: ["file", "key", "value"], what: "a table {file, key, value}") else { return nil }
        let fileTree = f.required("file", expected: "a CSV file, by a path relative to the scenario's folder")
        let name = fileTree.flatMap { log.string($0) }
        let keyName = f.required("key", expected: "the header of the key column (\(on.keyUnit))").flatMap { log.string($0) }
        let valueName = f.required("value", expected: "the header of the value column").flatMap { log.string($0) }
        guard let fileTree, let name, let keyName, let valueName else { return nil }
        let text: String
        switch readFile(name) {
        case .success(let t): text = t
        case .failure(let problem):
            log.add(fileTree, found: "'\(MessageText.excerpt(name, limit: 200))', \(problem.found)",
                    expected: "a readable CSV file of at most 16 MiB, by a path relative to the scenario's folder")
            return nil
        }
        let where_ = MessageText.excerpt(name, limit: 200)
        let (records, unclosed) = CSV.records(text)
        if let line = unclosed {
            log.add(fileTree, found: "\(where_):\(line): a quoted cell that is never closed", expected: "a closing double quote")
            return nil
        }
        guard let header = records.first else {
            log.add(fileTree, found: "\(where_): an empty file", expected: "a header naming the columns '\(keyName)' and '\(valueName)', and at least one row")
            return nil
        }
        let k = header.cells.firstIndex(of: keyName), v = header.cells.firstIndex(of: valueName)
        let columns = header.cells.map { "'\(MessageText.excerpt($0))'" }.prefix(20).joined(separator: ", ")
        if k == nil { log.add(f["key"] ?? tree, found: "\(where_):\(header.line): no column '\(MessageText.excerpt(keyName))' (the header has \(columns))", expected: "the header of the key column") }
        if v == nil { log.add(f["value"] ?? tree, found: "\(where_):\(header.line): no column '\(MessageText.excerpt(valueName))' (the header has \(columns))", expected: "the header of the value column") }
        guard let k, let v else { return nil }
        let rows = records.dropFirst()
        if rows.isEmpty { log.add(fileTree, found: "\(where_): a header and no rows", expected: "at least one row"); return nil }
        if rows.count > TransitionDependence.maximumRows {
            log.add(fileTree, found: "\(where_): \(rows.count) rows", expected: "at most \(TransitionDependence.maximumRows) rows"); return nil
        }
        let (keyRange, keyPhrase) = Self.keyRange(on), (valueRange, valuePhrase) = Self.dependenceRange(unit)
        var bad = ProblemListing<(found: String, expected: String)>(limit: 10)
        var keys: [Double] = [], values: [Double] = []
        for record in rows {
            let cells = record.cells, line = record.line
            guard cells.count == header.cells.count else {
                bad.add(("\(where_):\(line): \(cells.count) cells", "\(header.cells.count) cells, as in the header")); continue
            }
            let key = Double(cells[k]), value = Double(cells[v])
            var ok = true
            if key.map({ !$0.isFinite || !keyRange.contains($0) }) ?? true {
                bad.add(("\(where_):\(line): '\(MessageText.excerpt(cells[k]))' in column '\(MessageText.excerpt(keyName))'", keyPhrase)); ok = false
            }
            if value.map({ !$0.isFinite || !valueRange.contains($0) }) ?? true {
                bad.add(("\(where_):\(line): '\(MessageText.excerpt(cells[v]))' in column '\(MessageText.excerpt(valueName))'", valuePhrase)); ok = false
            }
            guard ok, let key, let value else { continue }
            if let last = keys.last, key <= last {
                bad.add(("\(where_):\(line): key \(IssueLog.format(key)) after \(IssueLog.format(last))", "keys in increasing order"))
            }
            keys.append(key); values.append(value)
        }
        for problem in bad.listed { log.add(fileTree, found: problem.found, expected: problem.expected) }
        if let more = bad.unlistedPhrase { log.add(fileTree, found: "\(more) in \(where_)", expected: "a clean file") }
        return bad.isEmpty ? (keys, values) : nil
    }
}
