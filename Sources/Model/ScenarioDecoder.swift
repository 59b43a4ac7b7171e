import Foundation

/// Reads a scenario file into a validated `Scenario`, or reports every
/// broken rule at once. The format is documented in docs/scenario-format.md.
public enum ScenarioDecoder {
    static let topLevelKeys = ["name", "description", "time", "levels", "areas", "population", "transitions",
                               "practice", "programme", "reinvestment", "discounting", "rewardTiming", "transitionRewards", "exposureTiming", "arms",
                               "uncertainty", "include"]
    static let armKeys = topLevelKeys.filter { !["name", "description", "arms", "uncertainty", "include"].contains($0) }
    /// Practice variables per arm; coverage masks are bytes and the schedule has 2^k masks.
    public static let maximumPractices = 6

    /// Read and validate the scenario file at `path`.
    public static func load(path: String) throws(ScenarioError) -> Scenario {
        let text = try Tree.readText(path: path, what: "YAML scenario file")
        let folder = PathText.folder(of: path)
        return try decode(yaml: text, file: path, reading: { name in attachedFile(name, folder: folder) })
    }

    /// The text of a file a scenario names (`include`, `uncertainty.draws`):
    /// a path relative to the scenario's folder, naming a regular UTF-8 file
    /// of at most 16 MiB. Absolute paths and `~` are refused, so a scenario
    /// means the same on every machine and cannot point into the system.
    public static func attachedFile(_ name: String, folder: String) -> Result<String, Tree.FileProblem> {
        if name.isEmpty { return .failure(.init(found: "an empty file name")) }
        if name.hasPrefix("/") || name.hasPrefix("~") {
            return .failure(.init(found: "an absolute path"))
        }
        if name.unicodeScalars.contains(where: IssueLog.isControl) {
            return .failure(.init(found: "a file name with a control character"))
        }
        let full = folder.isEmpty ? name : PathText.join(folder, name)
        return Tree.readRegularFile(full)
    }

    /// Validate YAML text; `file` names it in messages. `readFile` reads
    /// the files the scenario names, relative to it (`include` fragments,
    /// the `uncertainty.draws` file); nil means a file cannot be read.
    public static func decode(yaml: String, file: String,
                              readFile: @escaping (String) -> String? = { _ in nil }) throws(ScenarioError) -> Scenario {
        try decode(yaml: yaml, file: file, reading: { name in
            readFile(name).map { .success($0) } ?? .failure(.init(found: "a file that cannot be read"))
        })
    }

    /// Validate YAML text; `reading` gives the text of a file the scenario
    /// names, or why it cannot be read.
    public static func decode(yaml: String, file: String,
                              reading: @escaping (String) -> Result<String, Tree.FileProblem>) throws(ScenarioError) -> Scenario {
        var attached: [String: String] = [:]
        let reader: (String) -> Result<String, Tree.FileProblem> = { name in
            let result = reading(name)
            if case .success(let text) = result { attached[name] = text }
            return result
        }
        let root = try including(Tree.parse(yaml: yaml, file: file), file: file, readFile: reader)
        let log = IssueLog(file: file)
        guard let top = log.fields(root, allowed: topLevelKeys, what: "a scenario") else {
            throw ScenarioError(file: file, issues: log.issues)
        }
        let name = top["name"].flatMap { log.string($0) } ?? PathText.lastComponent(of: file)
        let description = top["description"].flatMap { log.string($0) } ?? ""
        guard let arms = readArms(root, file: file, log: log, reading: reader) else { throw ScenarioError(file: file, issues: log.issues) }
        var scenario = Scenario(name: name, description: description, arms: arms)
        scenario.parameterIndex = ParameterIndex.build(root: root, arms: arms)
        scenario.file = file
        if let ut = top["uncertainty"] {
            scenario.uncertainty = UncertaintyReader(log: log, root: root, scenario: scenario, drawsText: reader).read(ut)
        }
        scenario.attachedFiles = attached
        if !log.issues.isEmpty { throw ScenarioError(file: file, issues: log.issues) }
        scenario.allowMoves(varying: scenario.uncertainty?.bindings ?? [])
        return scenario
    }

    /// The tree with its `include` fragments merged under it: each fragment
    /// (a YAML mapping of model values, e.g. the `transitions` that
    /// `girfec calibrate` fits) is read in order, and the file's own values
    /// override what they give.
    static func including(_ root: Tree, file: String, readFile: (String) -> Result<String, Tree.FileProblem>) throws(ScenarioError) -> Tree {
        guard case .mapping(let entries) = root.value, let includeTree = entries.first(where: { $0.key == "include" })?.value else { return root }
        let log = IssueLog(file: file)
        var names: [Tree] = []
        switch includeTree.value {
        case .scalar: names = [includeTree]
        case .sequence(let items): names = items
        default: log.add(includeTree, expected: "a file name, or a list of file names, of YAML fragments relative to the scenario")
        }
        var merged = Tree(value: .mapping([]), path: "", line: root.line)
        for item in names {
            guard let name = log.string(item) else { continue }
            let text: String
            switch readFile(name) {
            case .success(let t): text = t
            case .failure(let problem):
                log.add(item, found: "'\(MessageText.excerpt(name, limit: 200))', \(problem.found)",
                        expected: "a readable YAML fragment of at most 16 MiB, by a path relative to the scenario's folder")
                continue
            }
            let fragment: Tree
            do { fragment = try Tree.parse(yaml: text, file: name) } catch {
                for issue in error.issues {
                    log.add(path: "include", line: item.line, found: "in '\(MessageText.excerpt(name, limit: 200))' line \(issue.line.map(String.init) ?? "?"): \(issue.found)", expected: issue.expected)
                }
                continue
            }
            guard case .mapping(let keys) = fragment.value else {
                log.add(item, found: "'\(MessageText.excerpt(name, limit: 200))', which is not a YAML mapping", expected: "a mapping of scenario fields")
                continue
            }
            for (key, _) in keys where !armKeys.contains(key) {
                log.add(item, found: "field '\(MessageText.excerpt(key))' in '\(MessageText.excerpt(name, limit: 200))'", expected: "only model values in an included fragment: \(armKeys.joined(separator: ", "))")
            }
            merged = merged.merging(fragment)
        }
        if !log.issues.isEmpty { throw ScenarioError(file: file, issues: log.issues) }
        let own = Tree(value: .mapping(entries.filter { $0.key != "include" }), path: "", line: root.line)
        return merged.merging(own)
    }

    /// Every arm of a scenario tree, validated; nil (with the problems in
    /// `log`) if any rule is broken.
    static func readArms(_ root: Tree, file: String, log: IssueLog,
                         reading: @escaping (String) -> Result<String, Tree.FileProblem> = { _ in .failure(.init(found: "a file that cannot be read")) }) -> [ArmModel]? {
        guard case .mapping(let entries) = root.value else { return nil }
        // The base: everything but the arms and what is not a model value.
        let base = Tree(value: .mapping(entries.filter { !["arms", "name", "description", "uncertainty"].contains($0.key) }),
                        path: "", line: root.line)
        let armsTree = entries.first { $0.key == "arms" }?.value

        var armTrees: [(String, Tree)] = []
        if let armsTree, let arms = log.namedEntries(armsTree, what: "a mapping from arm names to overrides") {
            if arms.isEmpty { log.add(armsTree, expected: "at least one arm") }
            for (armName, override) in arms {
                guard log.checkName(armName, at: override, what: "arm") else { continue }
                if case .null = override.value {
                    armTrees.append((armName, base))
                } else if log.fields(override, allowed: armKeys, what: "overrides for arm '\(armName)'") != nil {
                    armTrees.append((armName, base.merging(override)))
                }
            }
        } else if armsTree == nil {
            armTrees = [("base", base)]
        }

        // Each arm is read on its own. A problem every arm shares is the base's
        // and is reported once; one that only some arms have is theirs, and
        // says so even when it sits at a path of the base (an override that
        // broke a base row, say).
        let before = log.issues.count
        var arms: [ArmModel] = []
        var armIssues: [(name: String, issues: [ValidationIssue])] = []
        for (armName, tree) in armTrees {
            let armLog = IssueLog(file: file)
            if let arm = ArmReader(log: armLog, armName: armName, readFile: reading).read(tree) { arms.append(arm) }
            armIssues.append((armName, armLog.issues))
        }
        for (armName, issues) in armIssues {
            for issue in issues {
                let shared = armIssues.allSatisfy { $0.issues.contains(issue) }
                let named = issue.path.hasPrefix("arms.\(armName).") || issue.found.contains("arm '\(armName)'")
                log.add(path: issue.path, line: issue.line,
                        found: shared || named ? issue.found : "\(issue.found) in arm '\(armName)'",
                        expected: issue.expected)
            }
        }
        if log.issues.count != before || arms.count != armTrees.count || arms.isEmpty { return nil }
        if let first = arms.first, first.reinvestment != nil, arms.count > 1 {
            log.add(path: "arms.\(first.name).reinvestment", line: nil as Int?, found: "reinvestment in the first arm",
                    expected: "reinvestment only in later arms: savings are measured against the first arm")
        }
        if let first = arms.first {
            for arm in arms.dropFirst() where arm.levels.map(\.name) != first.levels.map(\.name)
                || arm.areas != first.areas || arm.steps != first.steps || arm.stepMonths != first.stepMonths {
                log.add(path: "arms.\(arm.name)", line: nil as Int?,
                        found: "levels, areas or time that differ from arm '\(first.name)'",
                        expected: "every arm to share levels (names and order), areas and time, so arms can be compared")
            }
        }
        return log.issues.count == before ? arms : nil
    }
}

/// Reads one arm's merged tree.
struct ArmReader {
    let log: IssueLog
    let armName: String
    /// The text of a file the scenario names, relative to it (`transitions.dependence[k].table.file`).
    var readFile: (String) -> Result<String, Tree.FileProblem> = { _ in .failure(.init(found: "a file that cannot be read")) }

    func read(_ tree: Tree) -> ArmModel? {
        let before = log.issues.count
        // Top-level keys, of the base and of the arm's overrides, were checked in `decode`.
        guard let top = log.fields(tree, allowed: ScenarioDecoder.armKeys, what: "a scenario", reportUnknown: false) else { return nil }

        // time
        var stepMonths = 1, horizonYears = 10.0
        if let t = top["time"], let f = log.fields(t, allowed: ["stepMonths", "horizonYears"], what: "time settings") {
            if let v = f["stepMonths"] { stepMonths = log.integer(v, minimum: 1, maximum: 1200) ?? stepMonths }
            if let v = f["horizonYears"] { horizonYears = log.number(v, NumberRange(low: 0, high: 5000, lowOpen: true)) ?? horizonYears }
        }
        // Both are bounded above, so the step count is at most 60000 and converts exactly.
        let stepsExact = horizonYears * 12 / Double(stepMonths)
        let steps = Int(exactly: stepsExact.rounded()) ?? 0
        if abs(stepsExact - Double(steps)) > 1e-9 || steps < 1 {
            log.add(path: "time.horizonYears", line: top["time"]?.line,
                    found: "\(horizonYears) years, which is \(stepsExact) steps of \(stepMonths) months",
                    expected: "a horizon that is a whole number (at least 1) of steps")
        }
        if steps > 60_000 {
            log.add(path: "time.horizonYears", line: top["time"]?.line, found: "\(steps) steps",
                    expected: "at most 60000 steps (entry steps are stored in 16 bits)")
        }

        // levels
        var levels: [Level] = []
        if let lt = top.required("levels", expected: "a mapping from level names to their costs and QoL weights"),
           let entries = log.namedEntries(lt, what: "a mapping from level names to their costs and QoL weights") {
            if entries.isEmpty { log.add(lt, expected: "at least one level") }
            for (name, value) in entries {
                if name == "all" {
                    log.add(path: value.path, line: value.line, found: "level name '\(name)'",
                            expected: "a non-empty name other than 'all' (reserved for totals)")
                } else {
                    log.checkName(name, at: value, what: "level")
                }
                guard let f = log.fields(value, allowed: ["absorbing", "costPerChildYear", "addOnCostPerChildYear", "qolWeight"],
                                         what: "level settings") else { continue }
                let cost = f.required("costPerChildYear", expected: "cost of a child-year in this level, pounds >= 0").flatMap { log.number($0, .money) }
                let qol = f.required("qolWeight", expected: "QoL weight of a year in this level, in [-1, 1]").flatMap { log.number($0, .utility) }
                levels.append(Level(name: name, absorbing: f["absorbing"].flatMap { log.bool($0) } ?? false,
                                    costPerChildYear: cost ?? 0,
                                    addOnCostPerChildYear: f["addOnCostPerChildYear"].flatMap { log.number($0, .money) } ?? 0,
                                    qolWeight: qol ?? 0))
            }
        }
        if levels.count > 250 {
            log.add(path: "levels", line: top["levels"]?.line, found: "\(levels.count) levels", expected: "at most 250 levels")
        }
        let levelNames = levels.map(\.name)
        let n = levels.count

        // areas
        var areas = ["all"]
        let areasDeclared = top["areas"] != nil
        if let at = top["areas"], let items = log.list(at, what: "a list of area names") {
            let names = items.compactMap { item in log.string(item).map { (item, $0) } }
                .filter { log.checkName($0.1, at: $0.0, what: "area") }.map(\.1)
            if names.isEmpty { log.add(at, expected: "at least one area name") }
            if Set(names).count != names.count { log.add(at, found: "repeated area names", expected: "distinct area names") }
            // With two or more areas, results have rows of each area beside those of all areas together, named 'all'.
            if names.count >= 2, let k = names.firstIndex(of: "all") {
                log.add(items[k], found: "area name 'all' among \(names.count) areas",
                        expected: "a name other than 'all' (reserved for all areas together in the results by area)")
            }
            if names.count > 250 { log.add(at, found: "\(names.count) areas", expected: "at most 250 areas") }
            if !names.isEmpty { areas = names }
        }

        // population
        var initial = [[Int]](repeating: [Int](repeating: 0, count: n), count: areas.count)
        var ageing = true
        var initialDurations = InitialDurations.zero
        var ageOutYears: Double? = 18
        var ageDistribution: [AgeShare] = []
        var births = [Double](repeating: 0, count: areas.count)
        var entryShares: [Double] = n > 0 ? [1] + [Double](repeating: 0, count: n - 1) : []
        var immigration = [Double](repeating: 0, count: areas.count)
        var immigrationShares: [Double]? = nil
        var emigrationRate = 0.0
        if let pt = top.required("population", expected: "initial counts and, optionally, births, migration and ageing"),
           let p = log.fields(pt, allowed: ["initialCounts", "initialMonthsInLevel", "ageDistribution", "ageing", "ageOutYears", "births", "migration"],
                              what: "population settings") {
            if let ic = p.required("initialCounts", expected: areasDeclared
                ? "a mapping from area names to counts per level" : "a mapping from level names to counts") {
                if areasDeclared {
                    if let perArea = log.namedEntries(ic, what: "a mapping from area names to counts per level") {
                        for (areaName, counts) in perArea {
                            guard let a = areas.firstIndex(of: areaName) else {
                                log.add(path: counts.path, line: counts.line, found: "unknown area '\(areaName)'",
                                        expected: "one of the areas: \(areas.joined(separator: ", "))")
                                continue
                            }
                            initial[a] = levelCounts(counts, levelNames)
                        }
                    }
                } else {
                    initial[0] = levelCounts(ic, levelNames)
                }
            }
            if let v = p["initialMonthsInLevel"] {
                initialDurations = log.choice(v, InitialDurations.allCases.map { ($0.rawValue, $0) }) ?? .zero
            }
            if let v = p["ageing"] { ageing = log.bool(v) ?? true }
            if let v = p["ageOutYears"] {
                if case .null = v.value { ageOutYears = nil } else { ageOutYears = log.number(v, NumberRange(low: 0, high: 100, lowOpen: true)) }
            }
            if !ageing { ageOutYears = nil }
            let defaultTop = Self.months(ageOutYears ?? 18)
            ageDistribution = [AgeShare(fromMonths: 0, toMonths: max(defaultTop, 1), share: 1)]
            if let v = p["ageDistribution"] { ageDistribution = readAgeDistribution(v) ?? ageDistribution }
            if let bt = p["births"], let b = log.fields(bt, allowed: ["perYear", "entryLevels"], what: "births settings") {
                if let v = b["perYear"] { births = perArea(v, areas: areas, declared: areasDeclared) }
                if let v = b["entryLevels"] { entryShares = shares(v, levelNames) ?? entryShares }
            }
            if let mt = p["migration"], let m = log.fields(mt, allowed: ["inPerYear", "inLevels", "outRatePerYear"], what: "migration settings") {
                if let v = m["inPerYear"] { immigration = perArea(v, areas: areas, declared: areasDeclared) }
                if let v = m["inLevels"] { immigrationShares = shares(v, levelNames) }
                if let v = m["outRatePerYear"] { emigrationRate = log.number(v, .ratePerYear) ?? 0 }
            }
        }
        // Entries are drawn per step and area from a Poisson whose result has 32 bits.
        for (field, perYear) in [("births.perYear", births), ("migration.inPerYear", immigration)] {
            if let problem = ArmModel.entryLimitProblem(perYear: perYear, stepMonths: stepMonths) {
                log.add(path: "population.\(field)", line: top["population"]?.line, found: problem.found, expected: problem.expected)
            }
        }
        if immigrationShares == nil {
            let totals = (0..<n).map { l in Double(initial.reduce(0) { $0 + $1[l] }) }
            let sum = totals.reduce(0, +)
            immigrationShares = sum > 0 ? totals.map { $0 / sum } : entryShares
        }

        // transitions
        var perStep = [[Double]](repeating: [Double](repeating: 0, count: n), count: n)
        var conversion = ""
        var transitionInput = TransitionMatrixInput(unit: .probabilitiesPerStep, written: [], absorbing: [])
        var ageMultipliers = [AgeMultiplier(fromMonths: 0, escalationMultiplier: 1, stepDownMultiplier: 1)]
        var durations = [[DurationMultiplier]](repeating: [], count: n)
        var dependence: [TransitionDependence] = []
        if let tt = top.required("transitions", expected: "the baseline transition matrix and its unit"),
           let t = log.fields(tt, allowed: ["unit", "matrix", "ageMultipliers", "durationDependence", "dependence"], what: "transition settings") {
            let unit = t.required("unit", expected: "one of \(TransitionUnit.allCases.map(\.rawValue).joined(separator: ", "))")
                .flatMap { log.choice($0, TransitionUnit.allCases.map { ($0.rawValue, $0) }) }
            if let mt = t.required("matrix", expected: "a mapping from each level to its row {to-level: value}"),
               let unit, n > 0 {
                if let input = readMatrix(mt, unit: unit, levels: levels) {
                    transitionInput = input
                    switch TransitionMatrixInput.perStep(input.completed(levels: levels).matrix, unit: unit, stepMonths: stepMonths, levels: levels) {
                    case .success(let p):
                        perStep = p
                        conversion = TransitionMatrixInput.describe(unit, stepMonths: stepMonths)
                    case .failure(let problem):
                        log.add(mt, found: problem.found, expected: problem.expected)
                    }
                }
            }
            if let v = t["ageMultipliers"] { ageMultipliers = readAgeMultipliers(v) ?? ageMultipliers }
            if let v = t["durationDependence"], let entries = log.namedEntries(v, what: "a mapping from level names to duration bands") {
                for (levelName, bands) in entries {
                    guard let l = levelNames.firstIndex(of: levelName) else {
                        log.add(path: bands.path, line: bands.line, found: "unknown level '\(levelName)'",
                                expected: "one of the levels: \(levelNames.joined(separator: ", "))")
                        continue
                    }
                    durations[l] = readDurationBands(bands) ?? []
                }
            }
            if let v = t["dependence"] { dependence = readDependence(v, levels: levels) }
        }

        // practice
        var practices: [Practice] = []
        let practiceTree = top["practice"]
        if let pt = practiceTree, let entries = log.namedEntries(pt, what: "a mapping from practice names to their settings") {
            if entries.count > ScenarioDecoder.maximumPractices {
                log.add(pt, found: "\(entries.count) practice variables", expected: "at most \(ScenarioDecoder.maximumPractices)")
            }
            for (name, value) in entries where log.checkName(name, at: value, what: "practice") {
                if let p = readPractice(name: name, value, areas: areas) { practices.append(p) }
            }
        }

        // The practice multipliers are tabulated per (step, coverage mask, entry step): 16 bytes each.
        let tableBytes = 16.0 * Double(steps) * Double(1 << practices.count) * Double(steps + 1)
        let tableFits = tableBytes <= 2e9
        if !tableFits {
            log.add(practiceTree ?? top["time"] ?? tree, found: "\(practices.count) practice variables over \(steps) steps, which need \(String(format: "%.1f", tableBytes / 1e9)) GB of multiplier tables",
                    expected: "at most 2 GB (16 bytes × steps × 2^practices × (steps + 1)): fewer practice variables or longer steps")
        }

        // programme, discounting, timing
        var programmeCost = Trajectory(constant: 0)
        var perChildReached = 0.0
        if let pt = top["programme"], let p = log.fields(pt, allowed: ["costPerYear", "costPerChildReachedPerYear"], what: "programme costs") {
            if let v = p["costPerYear"] { programmeCost = readTrajectory(v, .money, what: "pounds per year") ?? programmeCost }
            if let v = p["costPerChildReachedPerYear"] { perChildReached = log.number(v, .money) ?? 0 }
        }
        var costRate = 0.035, qolRate = 0.035
        if let dt = top["discounting"], let d = log.fields(dt, allowed: ["costRatePerYear", "qolRatePerYear"], what: "discount rates") {
            // A fraction per year: 0.035 is 3.5 %. Rates above 1 are almost always a percentage typed as a number.
            if let v = d["costRatePerYear"] { costRate = log.number(v, .unit) ?? costRate }
            if let v = d["qolRatePerYear"] { qolRate = log.number(v, .unit) ?? qolRate }
        }
        var reinvestment: Reinvestment? = nil
        if let rt = top["reinvestment"], let r = log.fields(rt, allowed: ["fraction", "delayYears", "smoothingYears", "practice", "moneyScalePerYear"],
                                                            what: "reinvestment of savings") {
            let fraction = r.required("fraction", expected: "r in [0, 1]: the share of smoothed savings that funds prevention").flatMap { log.number($0, .unit) }
            let delay = r["delayYears"].flatMap { log.number($0, .years) } ?? 1
            let smoothing = r["smoothingYears"].flatMap { log.number($0, .years) } ?? 1
            let scale = r.required("moneyScalePerYear", expected: "M0 > 0, pounds per year that close 63 % of the gap to full intensity")
                .flatMap { log.number($0, ReinvestmentRanges.moneyScale) }
            var index: Int? = nil
            if let pt = r.required("practice", expected: "the name of the practice variable the money raises"), let name = log.string(pt) {
                index = practices.firstIndex { $0.name == name }
                if index == nil {
                    log.add(pt, found: "'\(name)', which is not a practice variable of this arm",
                            expected: "one of the practice variables: \(practices.map(\.name).joined(separator: ", "))")
                }
            }
            if let fraction, let scale, let index {
                reinvestment = Reinvestment(fraction: fraction, delaySteps: Reinvestment.delaySteps(years: delay, stepMonths: stepMonths),
                                            smoothingYears: smoothing, practice: index, moneyScalePerYear: scale)
            }
        }
        var timing = RewardTiming.halfCycle
        if let v = top["rewardTiming"] { timing = readRewardTiming(v) ?? timing }
        let transitionRewards = top["transitionRewards"].flatMap { readTransitionRewards($0, levels: levels) }
        let exposureTiming = top["exposureTiming"].flatMap { log.choice($0, ExposureTiming.allCases.map { ($0.rawValue, $0) }) } ?? .includingStep

        guard log.issues.count == before else { return nil }
        var arm = ArmModel(
            name: armName, levels: levels, areas: areas, stepMonths: stepMonths, steps: steps,
            initialCounts: initial, ageDistribution: ageDistribution, ageing: ageing,
            ageOutMonths: ageOutYears.map { Self.months($0) },
            birthsPerYear: births, entryLevelShares: entryShares, immigrationPerYear: immigration,
            immigrationLevelShares: immigrationShares ?? entryShares, emigrationRatePerYear: emigrationRate,
            transitionPerStep: perStep, transitionConversion: conversion, ageMultipliers: ageMultipliers,
            durationMultipliers: durations, practices: practices, programmeCostPerYear: programmeCost,
            programmeCostPerChildReachedPerYear: perChildReached, costDiscountRatePerYear: costRate,
            qolDiscountRatePerYear: qolRate, rewardTiming: timing, reinvestment: reinvestment)
        arm.initialDurations = initialDurations
        arm.transitionInput = transitionInput
        arm.transitionRewards = transitionRewards
        arm.dependence = dependence
        arm.exposureTiming = exposureTiming
        // The check tabulates the practice multipliers; a table too big to build was reported above.
        if tableFits { checkStayProbabilities(&arm, practiceTree: practiceTree ?? tree) }
        return log.issues.count == before ? arm : nil
    }

    /// Whether a list of bands has at most 250 (the engine numbers bands in a byte); reports it if not.
    static func fewBands(_ items: [Tree], _ tree: Tree, _ log: IssueLog) -> Bool {
        guard items.count > 250 else { return true }
        log.add(tree, found: "\(items.count) bands", expected: "at most 250 bands")
        return false
    }

    /// Whole months in `years`, for a number of years a range check bounded.
    static func months(_ years: Double) -> Int { Int(exactly: (years * 12).rounded()) ?? 0 }

    // MARK: Pieces

    private func levelCounts(_ tree: Tree, _ levels: [String]) -> [Int] {
        var counts = [Int](repeating: 0, count: levels.count)
        guard let entries = log.namedEntries(tree, what: "a mapping from level names to counts") else { return counts }
        for (name, value) in entries {
            guard let l = levels.firstIndex(of: name) else {
                log.add(path: value.path, line: value.line, found: "unknown level '\(name)'",
                        expected: "one of the levels: \(levels.joined(separator: ", "))")
                continue
            }
            counts[l] = log.integer(value, minimum: 0, maximum: 100_000_000) ?? 0
        }
        return counts
    }

    private func perArea(_ tree: Tree, areas: [String], declared: Bool) -> [Double] {
        if case .scalar = tree.value {
            let total = log.number(tree, .perYear) ?? 0
            if !declared || areas.count == 1 { return [total] }
            log.add(tree, expected: "a mapping from area names to yearly numbers (areas are declared)")
            return [Double](repeating: 0, count: areas.count)
        }
        var values = [Double](repeating: 0, count: areas.count)
        guard let entries = log.namedEntries(tree, what: "a number per year, or a mapping from area names to numbers per year") else { return values }
        for (name, value) in entries {
            guard let a = areas.firstIndex(of: name) else {
                log.add(path: value.path, line: value.line, found: "unknown area '\(name)'",
                        expected: "one of the areas: \(areas.joined(separator: ", "))")
                continue
            }
            values[a] = log.number(value, .perYear) ?? 0
        }
        return values
    }

    private func shares(_ tree: Tree, _ levels: [String]) -> [Double]? {
        guard let entries = log.namedEntries(tree, what: "a mapping from level names to shares") else { return nil }
        var shares = [Double](repeating: 0, count: levels.count)
        var ok = true
        for (name, value) in entries {
            guard let l = levels.firstIndex(of: name) else {
                log.add(path: value.path, line: value.line, found: "unknown level '\(name)'",
                        expected: "one of the levels: \(levels.joined(separator: ", "))")
                ok = false
                continue
            }
            if let x = log.number(value, .unit) { shares[l] = x } else { ok = false }
        }
        let sum = shares.reduce(0, +)
        if ok && abs(sum - 1) > 1e-9 {
            log.add(tree, found: "shares summing to \(sum)", expected: "shares summing to 1 (within 1e-9)")
            return nil
        }
        return ok ? shares : nil
    }

    private func readAgeDistribution(_ tree: Tree) -> [AgeShare]? {
        guard let items = log.list(tree, what: "a list of {fromYears, toYears, share}"),
              Self.fewBands(items, tree, log) else { return nil }
        var bands: [AgeShare] = []
        for item in items {
            guard let f = log.fields(item, allowed: ["fromYears", "toYears", "share"], what: "an age band") else { continue }
            guard let from = f.required("fromYears", expected: "age in years >= 0").flatMap({ log.number($0, .ageYears) }),
                  let to = f.required("toYears", expected: "age in years > fromYears").flatMap({ log.number($0, NumberRange(low: 0, high: 100, lowOpen: true)) }),
                  let share = f.required("share", expected: "a share in [0, 1]").flatMap({ log.number($0, .unit) }) else { continue }
            let a = Self.months(from), b = Self.months(to)
            if b <= a { log.add(item, found: "fromYears \(from), toYears \(to)", expected: "toYears above fromYears by at least a month") }
            bands.append(AgeShare(fromMonths: a, toMonths: b, share: share))
        }
        let sum = bands.reduce(0) { $0 + $1.share }
        if !bands.isEmpty && abs(sum - 1) > 1e-9 {
            log.add(tree, found: "shares summing to \(sum)", expected: "shares summing to 1 (within 1e-9)")
        }
        return bands.isEmpty ? nil : bands
    }

    /// The matrix as written; its rows completed and checked by `TransitionMatrixInput.completed()`.
    /// `transitionRewards: {moves: {FROM: {TO: {cost, qolChange}}}, into: {LEVEL: {cost, qolChange}}}`:
    /// one-off pounds (>= 0) and QoL-years (in [−1, 1]) per child moving, or arriving in a level.
    private func readTransitionRewards(_ tree: Tree, levels: [Level]) -> TransitionRewards? {
        let names = levels.map(\.name)
        guard let f = log.fields(tree, allowed: ["moves", "into"], what: "one-off rewards of moves") else { return nil }
        var rewards = TransitionRewards(levels: names.count)
        func level(_ name: String, at t: Tree) -> Int? {
            if let l = names.firstIndex(of: name) { return l }
            log.add(path: t.path, line: t.line, found: "unknown level '\(name)'", expected: "one of the levels: \(names.joined(separator: ", "))")
            return nil
        }
        /// The cost and QoL change of one move or arrival.
        func amounts(_ t: Tree, what: String) -> (cost: Double, qol: Double)? {
            guard let a = log.fields(t, allowed: ["cost", "qolChange"], what: what) else { return nil }
            if a["cost"] == nil && a["qolChange"] == nil { log.add(t, found: "neither", expected: "cost (pounds >= 0), qolChange (QoL-years in [-1, 1]) or both") }
            return (a["cost"].flatMap { log.number($0, .money) } ?? 0, a["qolChange"].flatMap { log.number($0, .utility) } ?? 0)
        }
        if let mt = f["moves"], let rows = log.namedEntries(mt, what: "a mapping from each level moved from to {level moved to: {cost, qolChange}}") {
            for (fromName, row) in rows {
                guard let i = level(fromName, at: row),
                      let entries = log.namedEntries(row, what: "a mapping from the level moved to to {cost, qolChange}") else { continue }
                if levels[i].absorbing {
                    log.add(row, found: "moves out of '\(fromName)', an absorbing level", expected: "moves out of a level children can leave")
                }
                for (toName, value) in entries {
                    guard let j = level(toName, at: value) else { continue }
                    if i == j {
                        log.add(value, found: "a move from '\(fromName)' to itself", expected: "a move to another level (staying is valued by the level's cost and QoL weight)")
                        continue
                    }
                    guard let a = amounts(value, what: "the one-off cost and QoL change of a move") else { continue }
                    rewards.moveCost[i][j] = a.cost
                    rewards.moveQolChange[i][j] = a.qol
                }
            }
        }
        if let it = f["into"], let entries = log.namedEntries(it, what: "a mapping from level names to {cost, qolChange}") {
            for (name, value) in entries {
                guard let l = level(name, at: value), let a = amounts(value, what: "the one-off cost and QoL change of arriving in a level") else { continue }
                rewards.intoCost[l] = a.cost
                rewards.intoQolChange[l] = a.qol
            }
        }
        return rewards
    }

    private func readMatrix(_ tree: Tree, unit: TransitionUnit, levels: [Level]) -> TransitionMatrixInput? {
        let names = levels.map(\.name), n = names.count
        guard let rows = log.namedEntries(tree, what: "a mapping from each level to its row {to-level: value}") else { return nil }
        var written = [[Double?]](repeating: [Double?](repeating: nil, count: n), count: n)
        var rowTrees: [Int: Tree] = [:]
        var order: [Int] = []
        var badRows = Set<Int>()
        var ok = true
        for (fromName, rowTree) in rows {
            guard let i = names.firstIndex(of: fromName) else {
                log.add(path: rowTree.path, line: rowTree.line, found: "unknown level '\(fromName)'",
                        expected: "one of the levels: \(names.joined(separator: ", "))")
                ok = false
                continue
            }
            rowTrees[i] = rowTree
            order.append(i)
            guard let entries = log.namedEntries(rowTree, what: "a row: a mapping from level names to values") else { ok = false; badRows.insert(i); continue }
            for (toName, value) in entries {
                guard let j = names.firstIndex(of: toName) else {
                    log.add(path: value.path, line: value.line, found: "unknown level '\(toName)'",
                            expected: "one of the levels: \(names.joined(separator: ", "))")
                    badRows.insert(i)
                    continue
                }
                guard let x = log.number(value, TransitionMatrixInput.range(unit: unit, diagonal: i == j)) else { badRows.insert(i); continue }
                written[i][j] = x
            }
        }
        let input = TransitionMatrixInput(unit: unit, written: written, absorbing: levels.map(\.absorbing))
        let problems = input.completed(levels: levels).problems
        for i in order where !badRows.contains(i) {
            for p in problems where p.row == i {
                log.add(rowTrees[i]!, found: p.found, expected: p.expected)
                ok = false
            }
        }
        if !badRows.isEmpty { ok = false }
        for i in 0..<n where rowTrees[i] == nil && !levels[i].absorbing {
            log.add(path: Tree.join(tree.path, names[i]), line: tree.line, found: "nothing (the row is missing)",
                    expected: "a row for every level that is not absorbing")
            ok = false
        }
        return ok ? input : nil
    }

    private func readAgeMultipliers(_ tree: Tree) -> [AgeMultiplier]? {
        guard let items = log.list(tree, what: "a list of {fromYears, escalationMultiplier, stepDownMultiplier}"),
              Self.fewBands(items, tree, log) else { return nil }
        var bands: [AgeMultiplier] = []
        for item in items {
            guard let f = log.fields(item, allowed: ["fromYears", "escalationMultiplier", "stepDownMultiplier"], what: "an age band") else { continue }
            guard let from = f.required("fromYears", expected: "age in years >= 0").flatMap({ log.number($0, .ageYears) }) else { continue }
            let esc = f["escalationMultiplier"].flatMap { log.number($0, .multiplier) } ?? 1
            let down = f["stepDownMultiplier"].flatMap { log.number($0, .multiplier) } ?? 1
            let months = Self.months(from)
            if let last = bands.last, months <= last.fromMonths {
                log.add(item, found: "fromYears \(from)", expected: "bands in increasing order of fromYears")
            }
            bands.append(AgeMultiplier(fromMonths: months, escalationMultiplier: esc, stepDownMultiplier: down))
        }
        if let first = bands.first, first.fromMonths != 0 {
            log.add(tree, found: "a first band from \(Double(first.fromMonths) / 12) years", expected: "a first band from 0 years")
        }
        return bands.isEmpty ? nil : bands
    }

    private func readDurationBands(_ tree: Tree) -> [DurationMultiplier]? {
        guard let items = log.list(tree, what: "a list of {fromMonths, leaveMultiplier}"),
              Self.fewBands(items, tree, log) else { return nil }
        var bands: [DurationMultiplier] = []
        for item in items {
            guard let f = log.fields(item, allowed: ["fromMonths", "leaveMultiplier"], what: "a duration band"),
                  let from = f.required("fromMonths", expected: "months in the level, >= 0").flatMap({ log.integer($0, maximum: 1200) }),
                  let m = f.required("leaveMultiplier", expected: "a multiplier >= 0 on the chance of leaving").flatMap({ log.number($0, .multiplier) })
            else { continue }
            if let last = bands.last, from <= last.fromMonths {
                log.add(item, found: "fromMonths \(from)", expected: "bands in increasing order of fromMonths")
            }
            bands.append(DurationMultiplier(fromMonths: from, leaveMultiplier: m))
        }
        if let first = bands.first, first.fromMonths != 0 {
            log.add(tree, found: "a first band from \(first.fromMonths) months", expected: "a first band from 0 months")
        }
        return bands.isEmpty ? nil : bands
    }

    /// `rewardTiming`: a named convention, or `{weights: [w0, w1]}` with each weight in
    /// [0, 1] and w0 + w1 = 1 within 1e-9, so that a step's child-years stay dt × stock.
    private func readRewardTiming(_ tree: Tree) -> RewardTiming? {
        let names = RewardTiming.named.compactMap(\.name).joined(separator: ", ")
        let form = "one of \(names), or a mapping {weights: [w0, w1]}"
        switch tree.value {
        case .scalar(let text):
            if let hit = RewardTiming.named.first(where: { $0.name == text }) { return hit }
            log.add(tree, expected: form)
            return nil
        case .mapping:
            guard let f = log.fields(tree, allowed: ["weights"], what: "user-given within-cycle weights"),
                  let w = f.required("weights", expected: Self.weightsExpected) else { return nil }
            guard case .sequence(let items) = w.value, items.count == 2 else {
                let found: String? = { if case .sequence(let items) = w.value { return "a list of \(items.count) item\(items.count == 1 ? "" : "s")" } else { return nil } }()
                log.add(w, found: found, expected: Self.weightsExpected)
                return nil
            }
            let before = log.issues.count
            let numbers = items.map { log.number($0, .unit) }
            guard log.issues.count == before, let w0 = numbers[0], let w1 = numbers[1] else { return nil }
            guard abs(w0 + w1 - 1) <= 1e-9 else {
                log.add(w, found: "[\(IssueLog.format(w0)), \(IssueLog.format(w1))], which sum to \(IssueLog.format(Double(String(format: "%.12g", w0 + w1)) ?? w0 + w1))",
                        expected: "weights summing to 1 (within 1e-9), so that a step's child-years stay dt × stock")
                return nil
            }
            return .weights(start: w0, end: w1)
        default:
            log.add(tree, expected: form)
            return nil
        }
    }

    static let weightsExpected = "a list of two numbers [w0, w1]: the weights on a step's start and end, each in [0, 1], summing to 1"

    private func readTrajectory(_ tree: Tree, _ range: NumberRange, what: String) -> Trajectory? {
        if case .scalar = tree.value { return log.number(tree, range).map { Trajectory(constant: $0) } }
        guard let items = log.list(tree, what: "a number, or a list of {timeYears, value} points (\(what))") else { return nil }
        // The value is looked up by a scan of the points at every step.
        if items.count > 1000 { log.add(tree, found: "\(items.count) points", expected: "at most 1000 points"); return nil }
        var points: [(timeYears: Double, value: Double)] = []
        for item in items {
            guard let f = log.fields(item, allowed: ["timeYears", "value"], what: "a trajectory point"),
                  let t = f.required("timeYears", expected: "time in years >= 0").flatMap({ log.number($0, .years) }),
                  let v = f.required("value", expected: "a number \(range.phrase)").flatMap({ log.number($0, range) }) else { continue }
            if let last = points.last, t < last.timeYears {
                log.add(item, found: "timeYears \(t) after \(last.timeYears)", expected: "points in non-decreasing order of timeYears")
            }
            points.append((t, v))
        }
        if points.isEmpty { log.add(tree, expected: "at least one point"); return nil }
        return Trajectory(points: points)
    }

    private func readPractice(name: String, _ tree: Tree, areas: [String]) -> Practice? {
        guard let f = log.fields(tree, allowed: ["intensity", "coverage", "escalationEffect", "stepDownEffect",
                                                 "timeToEffectYears", "effectFunction"], what: "practice settings") else { return nil }
        let intensity = f.required("intensity", expected: "intensity in [0, 1]: a number or a list of {timeYears, value}")
            .flatMap { readTrajectory($0, .unit, what: "intensity in [0, 1]") }
        let a = f.required("escalationEffect", expected: "a in [0, 1]: red probabilities are multiplied by (1 − a·s)")
            .flatMap { log.number($0, .unit) }
        let b = f.required("stepDownEffect", expected: "b >= 0: green probabilities are multiplied by (1 + b·s)")
            .flatMap { log.number($0, .multiplier) }
        let tau = f["timeToEffectYears"].flatMap { log.number($0, .years) } ?? 1
        var effect: any PracticeEffectFunction = SaturatingEffect()
        if let v = f["effectFunction"] {
            effect = log.choice(v, PracticeEffects.named.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }) ?? effect
        }
        var covered = Array(areas.indices)
        var share = 1.0
        if let ct = f["coverage"], let c = log.fields(ct, allowed: ["areas", "share"], what: "coverage") {
            if let at = c["areas"], let items = log.list(at, what: "a list of area names") {
                covered = []
                for item in items {
                    guard let s = log.string(item) else { continue }
                    if let i = areas.firstIndex(of: s) { covered.append(i) } else {
                        log.add(item, found: "unknown area '\(s)'", expected: "one of the areas: \(areas.joined(separator: ", "))")
                    }
                }
            }
            if let v = c["share"] { share = log.number(v, .unit) ?? 1 }
        }
        guard let intensity, let a, let b else { return nil }
        return Practice(name: name, intensity: intensity, areas: covered, share: share, escalationEffect: a,
                        stepDownEffect: b, timeToEffectYears: tau, effect: effect)
    }

    /// The stay probability check (docs/scenario-format.md §9, `StayCheck.violations`): with every multiplier at the
    /// largest value a child can meet in a step, the stay probability must stay >= 0.
    private func checkStayProbabilities(_ arm: inout ArmModel, practiceTree: Tree) {
        let envelope = StayCheck.Envelope(arm: arm)
        arm.stayEnvelope = envelope
        for v in StayCheck.violations(arm: arm, envelope: envelope) {
            log.add(practiceTree, found: v.description, expected: ArmModel.stayExpected)
        }
    }
}
