import Foundation

/// A value of an arm that a parameter may set: an uncertain parameter, a
/// draws-file column, a sensitivity point or a calibrated rate.
///
/// Only values that leave the shape of the outputs alone are parameters: the
/// steps, levels, areas and the population's make-up are the model's
/// structure (`ParameterIndex` refuses them, saying why). Indices are an
/// arm's: level, area, practice, band and trajectory-point positions.
public enum ModelParameter: Sendable, Hashable {
    case levelCost(level: Int)
    case levelAddOnCost(level: Int)
    case qolWeight(level: Int)
    /// An entry of the baseline matrix as the file states it, in its unit.
    case transitionEntry(from: Int, to: Int)
    case birthsPerYear(area: Int)
    case immigrationPerYear(area: Int)
    case emigrationRate
    case ageEscalationMultiplier(band: Int)
    case ageStepDownMultiplier(band: Int)
    case durationLeaveMultiplier(level: Int, band: Int)
    /// The value of point `point` of a practice's intensity (a constant intensity is point 0).
    case practiceIntensity(practice: Int, point: Int)
    case practiceEscalationEffect(practice: Int)
    case practiceStepDownEffect(practice: Int)
    case practiceTimeToEffect(practice: Int)
    case practiceCoverageShare(practice: Int)
    /// The value of point `point` of the programme's cost per year (a constant cost is point 0).
    case programmeCost(point: Int)
    case programmeCostPerChildReached
    case costDiscountRate
    case qolDiscountRate
    case reinvestmentFraction
    case reinvestmentDelay
    case reinvestmentSmoothing
    case reinvestmentMoneyScale
    case moveCost(from: Int, to: Int)
    case moveQolChange(from: Int, to: Int)
    case intoCost(level: Int)
    case intoQolChange(level: Int)
    /// The `factor` of an arm's dependence `index` (`transitions.dependence[index].factor`).
    case dependenceFactor(index: Int)
    /// The value of point `point` of an arm's dependence `index` written with `points`.
    case dependenceValue(index: Int, point: Int)

    /// The range the decoder checks the same field against.
    func range(in arm: ArmModel) -> NumberRange {
        switch self {
        case .levelCost, .levelAddOnCost, .programmeCost, .programmeCostPerChildReached, .moveCost, .intoCost: return .money
        case .qolWeight, .moveQolChange, .intoQolChange: return .utility
        case .practiceIntensity, .practiceEscalationEffect, .practiceCoverageShare,
             .costDiscountRate, .qolDiscountRate, .reinvestmentFraction: return .unit
        case .transitionEntry(let i, let j): return TransitionMatrixInput.range(unit: arm.transitionInput.unit, diagonal: i == j)
        case .birthsPerYear, .immigrationPerYear: return .perYear
        case .emigrationRate: return .ratePerYear
        case .ageEscalationMultiplier, .ageStepDownMultiplier, .durationLeaveMultiplier, .practiceStepDownEffect: return .multiplier
        case .practiceTimeToEffect, .reinvestmentDelay, .reinvestmentSmoothing: return .years
        case .reinvestmentMoneyScale: return ReinvestmentRanges.moneyScale
        case .dependenceFactor: return .multiplier
        case .dependenceValue(let k, _): return ArmReader.dependenceRange(arm.dependence[k].unit).range
        }
    }

    /// Whether the value feeds the largest practice and age multipliers the stay check uses (`StayCheck.Envelope`).
    var changesStayEnvelope: Bool {
        switch self {
        case .practiceIntensity, .practiceEscalationEffect, .practiceStepDownEffect, .practiceTimeToEffect, .practiceCoverageShare,
             .ageEscalationMultiplier, .ageStepDownMultiplier, .reinvestmentFraction, .birthsPerYear, .immigrationPerYear:
            return true
        default: return false
        }
    }
}

enum ReinvestmentRanges {
    /// M₀ only divides money (exp(−m / M₀)), so any positive amount is valid.
    static let moneyScale = NumberRange(low: 0, high: 1e300, lowOpen: true)
}

/// A field path of the scenario resolved to what it sets in each arm.
///
/// A path in the base reaches every arm that does not override that field;
/// one under `arms.NAME.` reaches that arm alone (docs/scenario-format.md §19).
public struct ParameterBinding: Sendable {
    public var path: String
    /// Its line in the file, when it is written there.
    public var line: Int?
    /// The arms (by index) the value reaches, and what it sets in each.
    public var targets: [(arm: Int, parameter: ModelParameter)]
}

extension ParameterBinding {
    /// `arms` with these bound values in place: each arm gets the values
    /// that reach it (`ArmModel.applying(_:)`); every problem at once.
    public static func apply(_ values: [(binding: ParameterBinding, value: Double)], to arms: [ArmModel],
                             file: String) throws(ScenarioError) -> [ArmModel] {
        var perArm = [[ParameterValue]](repeating: [], count: arms.count)
        for (b, x) in values {
            for t in b.targets { perArm[t.arm].append(ParameterValue(parameter: t.parameter, value: x, path: b.path, line: b.line)) }
        }
        var out = arms
        var issues: [ValidationIssue] = []
        for a in arms.indices where !perArm[a].isEmpty {
            do { out[a] = try arms[a].applying(perArm[a], file: file) } catch {
                for i in error.issues where !issues.contains(i) { issues.append(i) }
            }
        }
        if !issues.isEmpty { throw ScenarioError(file: file, issues: issues) }
        return out
    }
}

/// Why a field path cannot be a parameter: `found` describes the path for a message.
public struct ParameterRefusal: Error, Sendable, Equatable {
    /// The path, quoted for a message.
    public var quoted: String
    /// Why, e.g. "which changes the number of steps, so …".
    public var reason: String
    public var expected: String
    /// E.g. "'time.horizonYears', which changes the number of steps, so …".
    public var found: String { "\(quoted), \(reason)" }
}

/// Every field path of a scenario that could name a parameter, resolved once
/// at validation: to a `ParameterBinding`, or to the reason it is refused.
/// The YAML tree is not kept: runs, sensitivity points and calibration use
/// the bindings alone.
public struct ParameterIndex: Sendable {
    enum Resolution: Sendable {
        case bound(ParameterBinding)
        case refused(String)
    }
    struct Entry: Sendable {
        var fileValue: Double?
        var resolution: Resolution
    }
    var entries: [String: Entry] = [:]
    /// Level and area positions by name while the index is built (every arm shares them).
    private var levelIndex: [String: Int] = [:]
    private var areaIndex: [String: Int] = [:]

    public init() {}

    static let expectedValue = "the field path of a value that leaves the shape of the outputs alone, written in the scenario file (docs/scenario-format.md §19 lists them)"

    /// The binding of `path`, or why it cannot be a parameter.
    public func binding(_ path: String) -> Result<ParameterBinding, ParameterRefusal> {
        let quoted = "'\(MessageText.excerpt(path, limit: 80))'"
        if let first = path.split(separator: ".").first.map(String.init), ["name", "description", "uncertainty", "include"].contains(first) || path.isEmpty {
            return .failure(ParameterRefusal(quoted: quoted, reason: "which is not a model value", expected: Self.expectedValue))
        }
        guard let entry = entries[path] else {
            return .failure(ParameterRefusal(quoted: quoted, reason: "which is not a value in the file", expected: Self.expectedValue))
        }
        switch entry.resolution {
        case .bound(let b): return .success(b)
        case .refused(let why): return .failure(ParameterRefusal(quoted: quoted, reason: "which \(why)", expected: Self.expectedValue))
        }
    }

    /// The number the file writes at `path` (nil where it writes none, e.g. an implied diagonal).
    public func fileValue(_ path: String) -> Double? { entries[path]?.fileValue }

    // MARK: Building

    enum Part: Equatable {
        case key(String)
        case index(Int)
    }

    /// The index of a validated scenario tree whose arms are `arms`.
    static func build(root: Tree, arms: [ArmModel]) -> ParameterIndex {
        var index = ParameterIndex()
        guard case .mapping(let top) = root.value, let first = arms.first else { return index }
        for (i, l) in first.levels.enumerated() where index.levelIndex[l.name] == nil { index.levelIndex[l.name] = i }
        for (i, a) in first.areas.enumerated() where index.areaIndex[a] == nil { index.areaIndex[a] = i }
        let armsTree = top.first { $0.key == "arms" }?.value
        var overrides: [(arm: Int, tree: Tree?)] = []
        var armEntries: [(key: String, value: Tree)] = []
        if let armsTree, case .mapping(let entries) = armsTree.value {
            armEntries = entries
            for (name, tree) in entries {
                if let a = arms.firstIndex(where: { $0.name == name }) { overrides.append((a, tree)) }
            }
        } else {
            overrides = arms.indices.map { ($0, nil) }
        }
        let everyArm = overrides
        for (key, tree) in top where !["name", "description", "uncertainty", "include", "arms"].contains(key) {
            index.walk(tree, chain: [.key(key)], reach: { chain in
                everyArm.filter { !Self.overrides($0.tree, chain) }.map(\.arm)
            }, arms: arms)
        }
        for (name, tree) in armEntries {
            guard let a = arms.firstIndex(where: { $0.name == name }) else { continue }
            index.walk(tree, chain: [], reach: { _ in [a] }, arms: arms)
        }
        index.levelIndex = [:]
        index.areaIndex = [:]
        return index
    }

    /// Whether an arm's overrides replace the field at `chain`: they write it,
    /// or replace (or remove) a mapping or list on the way to it.
    static func overrides(_ tree: Tree?, _ chain: [Part]) -> Bool {
        guard var node = tree else { return false }
        if case .null = node.value { return false }
        for part in chain {
            guard case .key(let key) = part, case .mapping(let entries) = node.value else { return true }
            guard let child = entries.first(where: { $0.key == key })?.value else { return false }
            node = child
        }
        return true
    }

    private mutating func walk(_ tree: Tree, chain: [Part], reach: ([Part]) -> [Int], arms: [ArmModel]) {
        switch tree.value {
        case .scalar(let text):
            guard let x = Double(text.replacingOccurrences(of: "_", with: "")), x.isFinite else {
                entries[tree.path] = Entry(fileValue: nil, resolution: .refused("holds \(tree.shortDescription), not a number"))
                return
            }
            entries[tree.path] = Entry(fileValue: x, resolution: resolve(path: tree.path, line: tree.line, chain: chain, arms: reach(chain), all: arms))
        case .mapping(let items):
            entries[tree.path] = Entry(fileValue: nil, resolution: .refused("holds \(tree.shortDescription), not a number"))
            for (key, child) in items { walk(child, chain: chain + [.key(key)], reach: reach, arms: arms) }
            // Entries a transition row leaves out (its implied diagonal, a move it does not allow) may be set too.
            if chain.count == 3, chain[0] == .key("transitions"), chain[1] == .key("matrix"), let levels = arms.first?.levels {
                for level in levels where !items.contains(where: { $0.key == level.name }) {
                    let path = Tree.join(tree.path, level.name)
                    let c = chain + [.key(level.name)]
                    entries[path] = Entry(fileValue: nil, resolution: resolve(path: path, line: tree.line, chain: c, arms: reach(c), all: arms))
                }
            }
        case .sequence(let items):
            entries[tree.path] = Entry(fileValue: nil, resolution: .refused("holds \(tree.shortDescription), not a number"))
            for (i, child) in items.enumerated() { walk(child, chain: chain + [.index(i)], reach: reach, arms: arms) }
        case .null:
            break
        }
    }

    private func resolve(path: String, line: Int?, chain: [Part], arms reached: [Int], all arms: [ArmModel]) -> Resolution {
        // A value is resolved in each arm it reaches; a field no arm sees is still checked against the first.
        if reached.isEmpty, case .refused(let why) = classify(chain, arm: arms[0]) { return .refused(why) }
        var targets: [(arm: Int, parameter: ModelParameter)] = []
        for a in reached {
            switch classify(chain, arm: arms[a]) {
            case .value(let p): targets.append((a, p))
            case .refused(let why): return .refused(why)
            }
        }
        return .bound(ParameterBinding(path: path, line: line, targets: targets))
    }

    enum Classified {
        case value(ModelParameter)
        case refused(String)
    }

    static let notAValue = "is not a value girfec can vary"
    static let shares = "is one of shares that must sum to 1, so it cannot change alone"
    static let boundary = "is a band boundary or the time of a point, which sets which children or steps share a value: vary the values instead"

    /// What the field at `chain` (relative to an arm) is.
    func classify(_ chain: [Part], arm: ArmModel) -> Classified {
        func level(_ name: String) -> Int? { levelIndex[name] }
        func area(_ name: String) -> Int? { areaIndex[name] }
        func practice(_ name: String) -> Int? { arm.practices.firstIndex { $0.name == name } }
        let keys = chain.map { part -> String in if case .key(let k) = part { return k } else { return "[]" } }
        func index(_ k: Int) -> Int? { if chain.indices.contains(k), case .index(let i) = chain[k] { return i } else { return nil } }
        guard let first = keys.first else { return .refused(Self.notAValue) }
        switch first {
        case "time":
            if keys == ["time", "horizonYears"] {
                return .refused("changes the number of steps, so outputs of different replications (or points) would not line up")
            }
            if keys == ["time", "stepMonths"] {
                return .refused("changes the step length and with it the number of steps and the time of every output row, so outputs would not line up")
            }
        case "levels":
            if keys.count == 3, let l = level(keys[1]) {
                switch keys[2] {
                case "costPerChildYear": return .value(.levelCost(level: l))
                case "addOnCostPerChildYear": return .value(.levelAddOnCost(level: l))
                case "qolWeight": return .value(.qolWeight(level: l))
                default: break
                }
            }
            return .refused("is part of the levels, which give the outputs their columns")
        case "areas":
            return .refused("is part of the areas, which give the outputs their rows")
        case "population":
            let second = keys.count > 1 ? keys[1] : ""
            switch second {
            case "initialCounts":
                return .refused("is a count of children at the start: it sets the agents a run creates, whole numbers a draw need not give (vary births or migration instead)")
            case "ageDistribution", "ageOutYears", "ageing":
                return .refused("shapes the population's ages, which is the model's structure")
            case "births", "migration":
                if keys.count >= 3, ["entryLevels", "inLevels"].contains(keys[2]) { return .refused(Self.shares) }
                if keys == ["population", "migration", "outRatePerYear"] { return .value(.emigrationRate) }
                if keys.count >= 3, (second == "births" && keys[2] == "perYear") || (second == "migration" && keys[2] == "inPerYear") {
                    let a: Int? = keys.count == 3 ? (arm.areas.count == 1 ? 0 : nil) : keys.count == 4 ? area(keys[3]) : nil
                    if let a { return .value(second == "births" ? .birthsPerYear(area: a) : .immigrationPerYear(area: a)) }
                }
            default: break
            }
        case "transitions":
            if keys.count == 4, keys[1] == "matrix", let i = level(keys[2]), let j = level(keys[3]) {
                return .value(.transitionEntry(from: i, to: j))
            }
            if keys.count >= 2, keys[1] == "dependence" {
                if keys.count >= 4, let k = index(2), arm.dependence.indices.contains(k) {
                    if keys.count == 4, keys[3] == "factor" { return .value(.dependenceFactor(index: k)) }
                    if keys.count == 6, keys[3] == "points", let i = index(4), arm.dependence[k].keys.indices.contains(i) {
                        if keys[5] == "value" { return .value(.dependenceValue(index: k, point: i)) }
                        if keys[5] == "at" { return .refused(Self.boundary) }
                    }
                }
                return .refused("is part of a transition-specific dependence (transitions.dependence) other than its factor or a point's value (a table file's rows are not fields: vary the factor)")
            }
            if keys.count == 4, keys[1] == "ageMultipliers", let b = index(2) {
                if keys[3] == "escalationMultiplier" { return .value(.ageEscalationMultiplier(band: b)) }
                if keys[3] == "stepDownMultiplier" { return .value(.ageStepDownMultiplier(band: b)) }
                if keys[3] == "fromYears" { return .refused(Self.boundary) }
            }
            if keys.count == 5, keys[1] == "durationDependence", let l = level(keys[2]), let b = index(3) {
                if keys[4] == "leaveMultiplier" { return .value(.durationLeaveMultiplier(level: l, band: b)) }
                if keys[4] == "fromMonths" { return .refused(Self.boundary) }
            }
        case "practice":
            if keys.count >= 3, let p = practice(keys[1]) {
                switch keys[2] {
                case "intensity":
                    if keys.count == 3 { return .value(.practiceIntensity(practice: p, point: 0)) }
                    if keys.count == 5, let i = index(3) {
                        if keys[4] == "value" { return .value(.practiceIntensity(practice: p, point: i)) }
                        if keys[4] == "timeYears" { return .refused(Self.boundary) }
                    }
                case "escalationEffect" where keys.count == 3: return .value(.practiceEscalationEffect(practice: p))
                case "stepDownEffect" where keys.count == 3: return .value(.practiceStepDownEffect(practice: p))
                case "timeToEffectYears" where keys.count == 3: return .value(.practiceTimeToEffect(practice: p))
                case "coverage" where keys == ["practice", keys[1], "coverage", "share"]: return .value(.practiceCoverageShare(practice: p))
                default: break
                }
            }
        case "programme":
            if keys == ["programme", "costPerYear"] { return .value(.programmeCost(point: 0)) }
            if keys.count == 4, keys[1] == "costPerYear", let i = index(2) {
                if keys[3] == "value" { return .value(.programmeCost(point: i)) }
                if keys[3] == "timeYears" { return .refused(Self.boundary) }
            }
            if keys == ["programme", "costPerChildReachedPerYear"] { return .value(.programmeCostPerChildReached) }
        case "discounting":
            if keys == ["discounting", "costRatePerYear"] { return .value(.costDiscountRate) }
            if keys == ["discounting", "qolRatePerYear"] { return .value(.qolDiscountRate) }
        case "transitionRewards":
            if keys.count == 5, keys[1] == "moves", let i = level(keys[2]), let j = level(keys[3]), i != j {
                if keys[4] == "cost" { return .value(.moveCost(from: i, to: j)) }
                if keys[4] == "qolChange" { return .value(.moveQolChange(from: i, to: j)) }
            }
            if keys.count == 4, keys[1] == "into", let l = level(keys[2]) {
                if keys[3] == "cost" { return .value(.intoCost(level: l)) }
                if keys[3] == "qolChange" { return .value(.intoQolChange(level: l)) }
            }
        case "reinvestment":
            if keys.count == 2 {
                switch keys[1] {
                case "fraction": return .value(.reinvestmentFraction)
                case "delayYears": return .value(.reinvestmentDelay)
                case "smoothingYears": return .value(.reinvestmentSmoothing)
                case "moneyScalePerYear": return .value(.reinvestmentMoneyScale)
                default: break
                }
            }
        default: break
        }
        return .refused(Self.notAValue)
    }
}

/// A value for one parameter of one arm, with where it was named (for messages).
public struct ParameterValue: Sendable {
    public var parameter: ModelParameter
    public var value: Double
    public var path: String
    public var line: Int?

    public init(parameter: ModelParameter, value: Double, path: String, line: Int? = nil) {
        self.parameter = parameter
        self.value = value
        self.path = path
        self.line = line
    }
}

extension ArmModel {
    /// The expected text of a stay-probability problem.
    static let stayExpected = "multipliers that keep every stay probability >= 0: lower the step-down effects, intensities or multipliers"

    /// The most children a step may bring in per area (Poisson draws with 32-bit results), or the problem.
    static func entryLimitProblem(perYear: [Double], stepMonths: Int) -> (found: String, expected: String)? {
        guard let most = perYear.max(), most * Double(stepMonths) / 12 > 1e8 else { return nil }
        return ("\(IssueLog.format(most)) children a year, \(IssueLog.format(most * Double(stepMonths) / 12)) in a step of \(stepMonths) months",
                "at most 100000000 children per step and area: fewer, or shorter steps")
    }

    /// This arm with the given values in place, checked by the decoder's rules.
    ///
    /// Each value is range-checked as the decoder checks the field; what
    /// derives from it is recomputed by the code the decoder uses: the
    /// completed matrix and its per-step conversion
    /// (`TransitionMatrixInput`), the reinvestment delay in steps, the entry
    /// limits and the stay check (`StayCheck.violations`, with the
    /// multiplier envelope rebuilt only when a practice, age band,
    /// reinvestment or entry value changed).
    ///
    /// - Throws: every problem, at the paths the values were named at.
    public func applying(_ values: [ParameterValue], file: String = "") throws(ScenarioError) -> ArmModel {
        var arm = self
        var issues: [ValidationIssue] = []
        func problem(_ v: ParameterValue, _ found: String, _ expected: String) {
            let issue = ValidationIssue(file: file, line: v.line, path: v.path, found: found, expected: expected)
            if !issues.contains(issue) { issues.append(issue) }
        }
        // The first value (by index) that changed each derived quantity, for messages.
        var matrixAt: Int? = nil, envelopeAt: Int? = nil, entriesAt: Int? = nil, stayAt: Int? = nil
        for (k, v) in values.enumerated() {
            let range = v.parameter.range(in: arm)
            guard v.value.isFinite, range.contains(v.value) else {
                problem(v, IssueLog.format(v.value), "a number \(range.phrase)")
                continue
            }
            Self.set(v.parameter, v.value, in: &arm)
            switch v.parameter {
            case .transitionEntry: matrixAt = matrixAt ?? k
            case .birthsPerYear, .immigrationPerYear: entriesAt = entriesAt ?? k
            case .durationLeaveMultiplier: stayAt = stayAt ?? k
            default: break
            }
            if v.parameter.changesStayEnvelope { envelopeAt = envelopeAt ?? k }
        }
        if !issues.isEmpty { throw ScenarioError(file: file, issues: issues) }

        if let k = entriesAt {
            let v = values[k]
            for perYear in [arm.birthsPerYear, arm.immigrationPerYear] {
                if let p = Self.entryLimitProblem(perYear: perYear, stepMonths: arm.stepMonths) { problem(v, p.found, p.expected) }
            }
        }
        if let k = matrixAt {
            let v = values[k]
            let (matrix, rowProblems) = arm.transitionInput.completed(levels: arm.levels)
            for p in rowProblems { problem(v, "\(p.found) in row '\(arm.levels[p.row].name)'", p.expected) }
            if rowProblems.isEmpty {
                switch TransitionMatrixInput.perStep(matrix, unit: arm.transitionInput.unit, stepMonths: arm.stepMonths, levels: arm.levels) {
                case .success(let p):
                    arm.transitionPerStep = p
                    // The run's records have flows for its possible moves only (`PossibleMoves`), fixed before it starts.
                    if let moves = arm.possibleMoves.map(Set.init) {
                        for i in p.indices { for j in p[i].indices where i != j && p[i][j] > 0 && !moves.contains(Move(from: i, to: j)) {
                            problem(v, "a per-step probability \(IssueLog.format(p[i][j])) of the move \(arm.levels[i].name) → \(arm.levels[j].name), which is 0 in the scenario",
                                    "a value that keeps that move at 0, or the entry among the parameters the run varies (uncertainty, or the experiment's paths), so that its flow is recorded")
                        } }
                    }
                case .failure(let p): problem(v, p.found, p.expected)
                }
            }
        }
        if !issues.isEmpty { throw ScenarioError(file: file, issues: issues) }

        if envelopeAt != nil || arm.stayEnvelope == nil { arm.stayEnvelope = StayCheck.Envelope(arm: arm) }
        if let k = matrixAt ?? envelopeAt ?? stayAt {
            let v = values[k]
            for violation in StayCheck.violations(arm: arm, envelope: arm.stayEnvelope!) {
                problem(v, violation.description, Self.stayExpected)
            }
        }
        if !issues.isEmpty { throw ScenarioError(file: file, issues: issues) }
        return arm
    }
}

extension ArmModel {
    /// Puts one checked value in its field.
    @inline(never)
    static func set(_ parameter: ModelParameter, _ x: Double, in arm: inout ArmModel) {
        switch parameter {
        case .levelCost(let l): arm.levels[l].costPerChildYear = x
        case .levelAddOnCost(let l): arm.levels[l].addOnCostPerChildYear = x
        case .qolWeight(let l): arm.levels[l].qolWeight = x
        case .transitionEntry(let i, let j): arm.transitionInput.written[i][j] = x
        case .birthsPerYear(let a): arm.birthsPerYear[a] = x
        case .immigrationPerYear(let a): arm.immigrationPerYear[a] = x
        case .emigrationRate: arm.emigrationRatePerYear = x
        case .ageEscalationMultiplier(let b): arm.ageMultipliers[b].escalationMultiplier = x
        case .ageStepDownMultiplier(let b): arm.ageMultipliers[b].stepDownMultiplier = x
        case .durationLeaveMultiplier(let l, let b): arm.durationMultipliers[l][b].leaveMultiplier = x
        case .practiceIntensity(let p, let i): arm.practices[p].intensity.points[i].value = x
        case .practiceEscalationEffect(let p): arm.practices[p].escalationEffect = x
        case .practiceStepDownEffect(let p): arm.practices[p].stepDownEffect = x
        case .practiceTimeToEffect(let p): arm.practices[p].timeToEffectYears = x
        case .practiceCoverageShare(let p): arm.practices[p].share = x
        case .programmeCost(let i): arm.programmeCostPerYear.points[i].value = x
        case .programmeCostPerChildReached: arm.programmeCostPerChildReachedPerYear = x
        case .costDiscountRate: arm.costDiscountRatePerYear = x
        case .qolDiscountRate: arm.qolDiscountRatePerYear = x
        case .reinvestmentFraction: arm.reinvestment?.fraction = x
        case .reinvestmentDelay: arm.reinvestment?.delaySteps = Reinvestment.delaySteps(years: x, stepMonths: arm.stepMonths)
        case .reinvestmentSmoothing: arm.reinvestment?.smoothingYears = x
        case .reinvestmentMoneyScale: arm.reinvestment?.moneyScalePerYear = x
        case .moveCost(let i, let j): arm.transitionRewards?.moveCost[i][j] = x
        case .moveQolChange(let i, let j): arm.transitionRewards?.moveQolChange[i][j] = x
        case .intoCost(let l): arm.transitionRewards?.intoCost[l] = x
        case .intoQolChange(let l): arm.transitionRewards?.intoQolChange[l] = x
        case .dependenceFactor(let k): arm.dependence[k].factor = x
        case .dependenceValue(let k, let i): arm.dependence[k].values[i] = x
        }
    }
}

extension Reinvestment {
    /// Whole steps in a delay of `years`: round(years · 12 / stepMonths).
    static func delaySteps(years: Double, stepMonths: Int) -> Int {
        Int(exactly: (years * 12 / Double(stepMonths)).rounded()) ?? 0
    }
}

extension Scenario {
    /// The bindings of field paths, or every refusal at once (at the paths as given).
    public func bindings(_ paths: [String]) -> (bound: [ParameterBinding], refused: [(path: String, refusal: ParameterRefusal)]) {
        var out: [ParameterBinding] = []
        var refused: [(path: String, refusal: ParameterRefusal)] = []
        for path in paths {
            switch parameterIndex.binding(path) {
            case .success(let b): out.append(b)
            case .failure(let r): refused.append((path, r))
            }
        }
        return (out, refused)
    }

    /// The arms with these bound values in place (`ParameterBinding.apply`), every problem at once.
    public func arms(applying values: [(binding: ParameterBinding, value: Double)]) throws(ScenarioError) -> [ArmModel] {
        try ParameterBinding.apply(values, to: arms, file: file)
    }

    /// This scenario with the numbers at the given field paths replaced
    /// (`arms(applying:)`); its parameter distributions are dropped: the values are fixed.
    ///
    /// - Throws: a path that cannot be a parameter (with why), or a value the rules refuse.
    public func applying(_ values: [(path: String, value: Double)]) throws(ScenarioError) -> Scenario {
        let (bound, refused) = bindings(values.map(\.path))
        if !refused.isEmpty {
            throw ScenarioError(file: file, issues: refused.map {
                ValidationIssue(file: file, line: nil, path: $0.path, found: "path \($0.refusal.found)", expected: $0.refusal.expected)
            })
        }
        var out = self
        out.arms = try arms(applying: Array(zip(bound, values.map(\.value))))
        out.uncertainty = nil
        return out
    }
}
