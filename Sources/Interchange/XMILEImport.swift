import Foundation
import Model

/// Reads an XMILE 1.0 stock-flow model (Stella, Vensim, PySD, or girfec's own export) into a
/// scenario where it fits: each stock a level, each flow from one stock to another a constant
/// rate per year, the stocks' initial values the initial counts (docs/xmile.md, "Import").
///
/// A flow fits when its equation is the source stock times (or divided by) constants:
///
/// ```
/// flow = S_i · c_1 · c_2 / c_3 …     →     transitions.matrix.<i>.<j> += c_1 · c_2 / c_3   (per year)
/// ```
///
/// Everything else is reported, every problem at once, naming the XMILE element and what was
/// expected: flows from or to outside the model (births, exits), rates that change with time or
/// other stocks (table functions, feedback), arrays, modules, conveyors and queues.
public enum XMILEImport {
    /// One thing that does not fit: the element (with its line), what it holds, what would fit.
    public struct Problem: Sendable, Equatable, CustomStringConvertible {
        public var element: String
        public var found: String
        public var expected: String
        public var description: String { "\(element): found \(found); expected \(expected)" }
    }

    /// The file does not fit a scenario: every problem at once.
    public struct Failure: Error, Sendable, CustomStringConvertible {
        public var file: String
        public var problems: [Problem]
        public var description: String {
            "\(file) does not fit a girfec scenario:\n" + problems.map { "  - \($0)" }.joined(separator: "\n")
        }
    }

    /// The scenario's YAML text and what the import assumed or left out, in words.
    public struct Result: Sendable {
        public var yaml: String
        public var notes: [String]
    }

    public static func scenario(xml: String, file: String) throws(Failure) -> Result {
        let root: XMLElement
        do { root = try XMLReader.parse(xml) } catch {
            let parts = error.message.components(separatedBy: "; expected ")
            let found = parts[0].hasPrefix("found ") ? String(parts[0].dropFirst(6)) : parts[0]
            throw Failure(file: file, problems: [Problem(element: "line \(error.line)", found: found,
                                                         expected: parts.count > 1 ? parts[1] : "well-formed XML")])
        }
        var reader = Reader(file: file)
        return try reader.read(root)
    }
}

/// One import: the problems and notes so far.
struct Reader {
    let file: String
    var problems: [XMILEImport.Problem] = []
    var notes: [String] = []

    init(file: String) { self.file = file }

    static func describe(_ e: XMLElement) -> String {
        let name = e.attributes["name"].map { " name=\"\($0)\"" } ?? ""
        return "<\(e.name)\(name)> (line \(e.line))"
    }

    mutating func problem(_ e: XMLElement, found: String, expected: String) {
        problems.append(.init(element: Self.describe(e), found: found, expected: expected))
    }

    /// XMILE names compare ignoring case, with spaces and underscores the same (XMILE 1.0 §3.2.2).
    static func canonical(_ name: String) -> String {
        name.trimmingCharacters(in: .whitespacesAndNewlines).replacingOccurrences(of: "\"", with: "")
            .replacingOccurrences(of: " ", with: "_").replacingOccurrences(of: "\\n", with: "_").lowercased()
    }

    mutating func read(_ root: XMLElement) throws(XMILEImport.Failure) -> XMILEImport.Result {
        guard root.name == "xmile" else {
            throw XMILEImport.Failure(file: file, problems: [.init(element: Self.describe(root), found: "a <\(root.name)> document", expected: "an <xmile> document (XMILE 1.0)")])
        }
        // Time: units, DT as whole months, the horizon.
        var unitYears = 1.0, stepMonths = 1, horizonYears = 1.0
        if let specs = root.child("sim_specs") {
            let units = Self.canonical(specs.attributes["time_units"] ?? "years")
            switch units {
            case "year", "years", "yr", "yrs": unitYears = 1
            case "month", "months", "mo": unitYears = 1.0 / 12
            default: problem(specs, found: "time_units=\"\(specs.attributes["time_units"] ?? "")\"", expected: "years or months")
            }
            let start = specs.value("start").flatMap(Double.init) ?? 0
            let stop = specs.value("stop").flatMap(Double.init)
            if let stop, stop > start { horizonYears = (stop - start) * unitYears } else {
                problem(specs, found: "start \(specs.value("start") ?? "none"), stop \(specs.value("stop") ?? "none")", expected: "numbers with stop > start")
            }
            if start != 0 { notes.append("sim_specs start \(specs.value("start") ?? ""): the scenario starts at 0, so its times are shifted by \(start)") }
            if let dtNode = specs.child("dt"), var dt = Double(dtNode.text.trimmingCharacters(in: .whitespacesAndNewlines)) {
                if dtNode.attributes["reciprocal"]?.lowercased() == "true" { dt = 1 / dt }
                let months = dt * unitYears * 12
                // At most 1,200 months, the scenario's limit (and a finite number before it becomes an Int).
                if months >= 1 && months <= 1200 && abs(months - months.rounded()) < 1e-9 { stepMonths = Int(months.rounded()) } else {
                    problem(dtNode, found: "DT = \(dtNode.text.trimmingCharacters(in: .whitespaces)) \(specs.attributes["time_units"] ?? "years")",
                            expected: "a DT of whole months (1 to 1,200), the model step (girfec's sd mode integrates within the step with its own --dt)")
                }
            }
            if let method = specs.attributes["method"] { notes.append("sim_specs method \(method): choose it with girfec aggregate --mode sd --method") }
        } else {
            problem(root, found: "no <sim_specs>", expected: "<sim_specs> with start, stop and dt")
        }
        let models = root.all("model")
        guard models.count == 1, let model = models.first, let variables = model.child("variables") else {
            problem(root, found: "\(models.count) <model> elements", expected: "exactly one <model> with <variables> (no modules)")
            throw XMILEImport.Failure(file: file, problems: problems)
        }

        // Variables by canonical name.
        var stocks: [XMLElement] = [], flows: [String: XMLElement] = [:], auxes: [String: XMLElement] = [:]
        var arrayed: [XMLElement] = []
        for v in variables.children {
            guard let name = v.attributes["name"] else {
                if v.name != "group" { problem(v, found: "an element without a name", expected: "stock, flow or aux with a name") }
                continue
            }
            if v.child("dimensions") != nil { arrayed.append(v); continue }
            switch v.name {
            case "stock":
                if v.child("conveyor") != nil || v.child("queue") != nil {
                    problem(v, found: "a \(v.child("conveyor") != nil ? "conveyor" : "queue")", expected: "a plain stock (girfec's levels hold children with a constant leave rate)")
                }
                stocks.append(v)
            case "flow": flows[Self.canonical(name)] = v
            case "aux": auxes[Self.canonical(name)] = v
            case "module": problem(v, found: "a module", expected: "one model without modules")
            default: problem(v, found: "a <\(v.name)>", expected: "stock, flow or aux")
            }
        }
        // Arrays: one problem for all of them (girfec's own export of an arm with ageing, births or
        // migration is arrayed by coverage group and birth month), and nothing else is read.
        if !arrayed.isEmpty {
            let dims = root.child("dimensions")?.all("dim").compactMap { $0.attributes["name"] } ?? []
            let girfec = root.child("header")?.value("vendor")?.trimmingCharacters(in: .whitespacesAndNewlines) == "girfec"
            let first = arrayed.prefix(3).map(Self.describe).joined(separator: ", ")
            problems.append(.init(
                element: root.child("dimensions").map(Self.describe) ?? Self.describe(arrayed[0]),
                found: "\(arrayed.count) arrayed variables\(dims.isEmpty ? "" : " over " + dims.joined(separator: " × ")) (\(first)\(arrayed.count > 3 ? ", …" : ""))",
                expected: "scalar stocks, flows and auxiliaries: a scenario's levels are named one by one and its transitions are constant rates"
                    + (girfec ? "; this is girfec's export of an arm with ageing, births, migration or exposureTiming: includingStep, whose coverage groups, "
                        + "birth-month cohorts and step-end flows no scenario field reads back: use the scenario it was exported from"
                        : "; export each array element as a stock of its own")))
            throw XMILEImport.Failure(file: file, problems: problems)
        }
        var constants = Constants(auxes: auxes)

        // Which stock each flow leaves and enters.
        var source: [String: Int] = [:], target: [String: Int] = [:]
        for (s, stock) in stocks.enumerated() {
            for o in stock.all("outflow") { source[Self.canonical(o.text)] = s }
            for i in stock.all("inflow") { target[Self.canonical(i.text)] = s }
        }
        // Accumulators: stocks fed only from outside whose value no flow reads (a cumulative cost).
        let equations = flows.values.map { $0.value("eqn") ?? "" }
        let accumulator = stocks.map { stock -> Bool in
            let name = Self.canonical(stock.attributes["name"] ?? "")
            let ins = stock.all("inflow").map { Self.canonical($0.text) }
            return stock.all("outflow").isEmpty && !ins.isEmpty && ins.allSatisfy { source[$0] == nil }
                && !equations.contains { Expression.identifiers(in: $0).contains(name) }
        }
        let levels = stocks.indices.filter { !accumulator[$0] }
        let skipped = stocks.indices.filter { accumulator[$0] }.compactMap { stocks[$0].attributes["name"] }
        if !skipped.isEmpty {
            notes.append("not levels: \(skipped.joined(separator: ", ")) (stocks fed only from outside that no flow reads, such as cumulative costs; girfec computes costs and QoL itself)")
        }
        guard !levels.isEmpty else {
            problem(variables, found: "no stock that could be a level", expected: "at least one stock of children")
            throw XMILEImport.Failure(file: file, problems: problems)
        }
        let levelIndex = Dictionary(uniqueKeysWithValues: levels.enumerated().map { ($1, $0) })
        let names = levels.map { stocks[$0].attributes["name"] ?? "" }

        // Initial counts: whole numbers.
        var initial = [Int](repeating: 0, count: levels.count)
        for (k, s) in levels.enumerated() {
            let stock = stocks[s]
            switch constants.value(stock.value("eqn") ?? "") {
            case .success(let v) where v >= 0 && abs(v - v.rounded()) <= 1e-9 * max(v, 1) && v < 1e15:
                // Within 1e-9 relative of a whole number (a sum of shares that is 1 to rounding): that number.
                initial[k] = Int(v.rounded())
            case .success(let v): problem(stock, found: "initial value \(v)", expected: "a whole number of children >= 0 (population.initialCounts)")
            case .failure(let why): problem(stock, found: "initial value '\(stock.value("eqn") ?? "")' (\(why))", expected: "a constant whole number of children")
            }
            if stock.child("non_negative") != nil { notes.append("\(names[k]): <non_negative/> dropped (girfec's stocks cannot go negative)") }
        }

        // Rates: each flow between two levels is the source stock times constants.
        var rate = [[Double]](repeating: [Double](repeating: 0, count: levels.count), count: levels.count)
        for (key, flow) in flows.sorted(by: { $0.value.line < $1.value.line }) {
            let from = source[key].flatMap { levelIndex[$0] }, to = target[key].flatMap { levelIndex[$0] }
            if source[key] == nil && target[key].map({ accumulator[$0] }) == true { continue }  // feeds an accumulator
            guard let from, let to else {
                let what = source[key] == nil && target[key] == nil ? "a flow connected to no stock"
                    : source[key] == nil ? "an inflow from outside the model (such as births)" : "an outflow to outside the model (such as exits)"
                problem(flow, found: what, expected: "a flow from one stock to another: girfec's births and exits are not per-level flows (population.births, population.migration) and its sd mode applies them at step ends")
                continue
            }
            guard from != to else { problem(flow, found: "a flow from a stock to itself", expected: "a flow between two stocks"); continue }
            let equation = flow.value("eqn") ?? ""
            switch constants.rate(equation, stock: Self.canonical(names[from])) {
            case .success(let r) where r >= 0 && r.isFinite:
                rate[from][to] += r / unitYears
            case .success(let r): problem(flow, found: "a rate of \(r) per \(unitYears == 1 ? "year" : "month")", expected: "a rate >= 0")
            case .failure(let why):
                problem(flow, found: "'\(equation)' (\(why))", expected: "\(names[from]) times or divided by constants: a constant rate per \(unitYears == 1 ? "year" : "month")")
            }
        }

        // Costs and QoL by girfec's own names, when present.
        func constant(_ name: String) -> Double? {
            guard auxes[Self.canonical(name)] != nil, case .success(let v) = constants.value(name) else { return nil }
            return v
        }
        var costs: [Double] = [], weights: [Double] = []
        var missing: [String] = []
        for name in names {
            let c = constant("cost_per_child_year_" + name), q = constant("qol_weight_" + name)
            if c == nil || q == nil { missing.append(name) }
            costs.append(c ?? 0)
            weights.append(q ?? 1)
        }
        if !missing.isEmpty {
            notes.append("no cost_per_child_year_<level> or qol_weight_<level> for \(missing.joined(separator: ", ")): cost 0 and QoL weight 1 written; edit levels in the scenario")
        }
        guard problems.isEmpty else { throw XMILEImport.Failure(file: file, problems: problems) }

        // The scenario.
        func q(_ s: String) -> String { YAMLScalar.doubleQuoted(s) }
        func n(_ x: Double) -> String { IssueText.number(x) }
        let title = root.child("header")?.value("name") ?? file
        var out = ["# Imported from \(file) by girfec import (docs/xmile.md, \"Import\").",
                   "# Each stock is a level; each flow between two stocks a constant rate per year.",
                   "# exposureTiming: beforeStep and rewardTiming: start are what an SD tool computes (Euler at DT = the step).",
                   "name: \(q(title))",
                   "time: {stepMonths: \(stepMonths), horizonYears: \(n(horizonYears))}",
                   "levels:"]
        for (k, name) in names.enumerated() { out.append("  \(q(name)): {costPerChildYear: \(n(costs[k])), qolWeight: \(n(weights[k]))}") }
        out.append("population:")
        out.append("  initialCounts: {\(names.enumerated().map { "\(q($1)): \(initial[$0])" }.joined(separator: ", "))}")
        out.append("  ageing: false")
        out.append("transitions:")
        out.append("  unit: ratesPerYear")
        out.append("  matrix:")
        for (i, name) in names.enumerated() {
            let row = names.indices.filter { $0 != i && rate[i][$0] > 0 }.map { "\(q(names[$0])): \(n(rate[i][$0]))" }
            out.append("    \(q(name)): {\(row.joined(separator: ", "))}")
        }
        if let rc = constant("cost_discount_rate"), let rq = constant("qol_discount_rate") {
            out.append("discounting: {costRatePerYear: \(n(rc)), qolRatePerYear: \(n(rq))}")
        } else {
            notes.append("no cost_discount_rate and qol_discount_rate: girfec's default discounting (3.5 % a year) applies")
        }
        if let p = constant("programme_cost_per_year") {
            let perChild = constant("programme_cost_per_child_reached_per_year") ?? 0
            out.append("programme: {costPerYear: \(n(p)), costPerChildReachedPerYear: \(n(perChild))}")
        }
        out.append("rewardTiming: start")
        out.append("exposureTiming: beforeStep")
        return XMILEImport.Result(yaml: out.joined(separator: "\n") + "\n", notes: notes)
    }
}

/// The constant auxiliaries of a model, evaluated on demand (cycles and non-constants reported).
struct Constants {
    let auxes: [String: XMLElement]
    var cache: [String: Result<Double, Expression.Why>] = [:]
    var visiting: Set<String> = []

    init(auxes: [String: XMLElement]) { self.auxes = auxes }

    /// The value of an equation made of numbers, constant auxiliaries, + − * / and parentheses.
    mutating func value(_ equation: String) -> Result<Double, Expression.Why> {
        switch Expression.parse(equation) {
        case .failure(let why): return .failure(why)
        case .success(let e): return evaluate(e)
        }
    }

    mutating func constant(_ name: String) -> Result<Double, Expression.Why> {
        if let hit = cache[name] { return hit }
        guard let aux = auxes[name] else {
            return .failure(.init(name == "time" ? "it depends on TIME" : "'\(name)' is not a constant auxiliary (a stock, a flow or unknown)"))
        }
        if aux.child("gf") != nil { return .failure(.init("'\(name)' is a table (graphical function): girfec's baseline rates are constant in time")) }
        guard !visiting.contains(name) else { return .failure(.init("'\(name)' is defined through itself")) }
        visiting.insert(name)
        let result = value(aux.value("eqn") ?? "")
        visiting.remove(name)
        cache[name] = result
        return result
    }

    mutating func evaluate(_ e: Expression) -> Result<Double, Expression.Why> {
        switch e {
        case .number(let x): return .success(x)
        case .name(let n): return constant(n)
        case .negate(let a): return evaluate(a).map { -$0 }
        case .binary(let op, let a, let b):
            switch (evaluate(a), evaluate(b)) {
            case (.success(let x), .success(let y)):
                switch op {
                case "+": return .success(x + y)
                case "-": return .success(x - y)
                case "*": return .success(x * y)
                default: return .success(x / y)
                }
            case (.failure(let why), _), (_, .failure(let why)): return .failure(why)
            }
        case .call(let f, _): return .failure(.init("it calls \(f.uppercased())"))
        }
    }

    /// The rate of a flow whose equation is `stock` times or divided by constants.
    mutating func rate(_ equation: String, stock: String) -> Result<Double, Expression.Why> {
        guard case .success(let e) = Expression.parse(equation) else { return Expression.parse(equation).map { _ in 0 } }
        // Split the top-level product into factors with their powers (+1 multiply, −1 divide).
        var factors: [(Expression, Bool)] = []
        func collect(_ e: Expression, _ up: Bool) {
            if case .binary(let op, let a, let b) = e, op == "*" || op == "/" {
                collect(a, up)
                collect(b, op == "*" ? up : !up)
            } else { factors.append((e, up)) }
        }
        collect(e, true)
        let isStock = factors.map { if case .name(let n) = $0.0 { return n == stock } else { return false } }
        guard isStock.filter({ $0 }).count == 1, let k = isStock.firstIndex(of: true), factors[k].1 else {
            return .failure(.init("it is not the source stock times constants"))
        }
        var r = 1.0
        for (i, (f, up)) in factors.enumerated() where i != k {
            switch evaluate(f) {
            case .success(let v): r = up ? r * v : r / v
            case .failure(let why): return .failure(why)
            }
        }
        return .success(r)
    }
}

/// XMILE equations, as far as an import needs them: numbers, names, + − * / ^, unary minus,
/// parentheses and function calls.
indirect enum Expression {
    case number(Double)
    case name(String)
    case negate(Expression)
    case binary(Character, Expression, Expression)
    case call(String, [Expression])

    struct Why: Error, Sendable, CustomStringConvertible {
        var description: String
        init(_ d: String) { description = d }
    }

    enum Token: Equatable {
        case number(Double)
        case name(String)
        case op(Character)
    }

    static func tokens(_ text: String) -> Result<[Token], Why> {
        var out: [Token] = []
        let chars = Array(text)
        var i = 0
        while i < chars.count {
            let c = chars[i]
            if c.isWhitespace { i += 1; continue }
            if c.isNumber || (c == "." && i + 1 < chars.count && chars[i + 1].isNumber) {
                var j = i
                while j < chars.count, chars[j].isNumber || chars[j] == "." { j += 1 }
                if j < chars.count, chars[j] == "e" || chars[j] == "E" {
                    var k = j + 1
                    if k < chars.count, chars[k] == "+" || chars[k] == "-" { k += 1 }
                    if k < chars.count, chars[k].isNumber {
                        j = k
                        while j < chars.count, chars[j].isNumber { j += 1 }
                    }
                }
                guard let v = Double(String(chars[i..<j])) else { return .failure(Why("'\(String(chars[i..<j]))' is not a number")) }
                out.append(.number(v))
                i = j
            } else if c.isLetter || c == "_" || c == "\"" {
                var j = i
                if c == "\"" {
                    j += 1
                    while j < chars.count, chars[j] != "\"" { j += 1 }
                    j = min(j + 1, chars.count)
                } else {
                    while j < chars.count, chars[j].isLetter || chars[j].isNumber || chars[j] == "_" || chars[j] == "." { j += 1 }
                }
                out.append(.name(Reader.canonical(String(chars[i..<j]))))
                i = j
            } else if "+-*/^(),".contains(c) {
                out.append(.op(c))
                i += 1
            } else {
                return .failure(Why("'\(c)' is not part of an equation girfec reads"))
            }
        }
        return .success(out)
    }

    static func parse(_ text: String) -> Result<Expression, Why> {
        switch tokens(text) {
        case .failure(let why): return .failure(why)
        case .success(let ts):
            guard !ts.isEmpty else { return .failure(Why("it is empty")) }
            var p = Parser(tokens: ts)
            do throws(Why) {
                let e = try p.sum()
                guard p.i == ts.count else { throw Why("it has more after a complete expression") }
                return .success(e)
            } catch { return .failure(error) }
        }
    }

    /// The names an equation mentions (canonical), for telling whether a stock is read.
    static func identifiers(in text: String) -> Set<String> {
        guard case .success(let ts) = tokens(text) else { return [] }
        return Set(ts.compactMap { if case .name(let n) = $0 { return n } else { return nil } })
    }

    struct Parser {
        let tokens: [Token]
        var i = 0

        mutating func sum() throws(Why) -> Expression {
            var e = try product()
            while i < tokens.count, case .op(let c) = tokens[i], c == "+" || c == "-" {
                i += 1
                e = .binary(c, e, try product())
            }
            return e
        }

        mutating func product() throws(Why) -> Expression {
            var e = try power()
            while i < tokens.count, case .op(let c) = tokens[i], c == "*" || c == "/" {
                i += 1
                e = .binary(c, e, try power())
            }
            return e
        }

        mutating func power() throws(Why) -> Expression {
            let base = try unary()
            if i < tokens.count, tokens[i] == .op("^") {
                i += 1
                return .call("^", [base, try unary()])
            }
            return base
        }

        mutating func unary() throws(Why) -> Expression {
            guard i < tokens.count else { throw Why("it ends early") }
            switch tokens[i] {
            case .op("-"): i += 1; return .negate(try unary())
            case .op("+"): i += 1; return try unary()
            case .op("("):
                i += 1
                let e = try sum()
                guard i < tokens.count, tokens[i] == .op(")") else { throw Why("a '(' is not closed") }
                i += 1
                return e
            case .number(let v): i += 1; return .number(v)
            case .name(let n):
                i += 1
                if i < tokens.count, tokens[i] == .op("(") {
                    i += 1
                    var args: [Expression] = []
                    if i < tokens.count, tokens[i] == .op(")") { i += 1; return .call(n, args) }
                    while true {
                        args.append(try sum())
                        guard i < tokens.count else { throw Why("a call to \(n.uppercased()) is not closed") }
                        if tokens[i] == .op(")") { i += 1; return .call(n, args) }
                        guard tokens[i] == .op(",") else { throw Why("a call to \(n.uppercased()) has a stray token") }
                        i += 1
                    }
                }
                return .name(n)
            case .op(let c): throw Why("it has '\(c)' where a value was expected")
            }
        }
    }
}
