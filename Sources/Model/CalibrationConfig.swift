import Foundation

/// What `girfec calibrate` is asked to do, read from a YAML file (docs/calibration.md).
public struct CalibrationConfig: Sendable {
    public enum Estimator: String, Sendable, CaseIterable {
        /// Dirichlet–multinomial posterior per row from flow counts.
        case flows
        /// Maximum likelihood of the yearly rate matrix from panel records.
        case panel
        /// Least squares and a Bayesian posterior from stock counts alone.
        case stocks
    }

    /// A prior on one free rate of a stock-only fit: log-normal on the rate per year.
    ///
    /// Given in `stocks.free.PATH` as `{median, sdLog}`, as `{prior: NAME}` (an entry of the
    /// `stocks.priors` file, its median and sdLog, sdLog overridable), or as `{}` / nothing:
    /// nil median or sdLog take the weakly informative default (`Calibration.RatePrior.weaklyInformative`).
    public struct RatePrior: Sendable, Equatable {
        public var path: String
        /// Median of the prior, per year; nil: the default (the scenario's value).
        public var median: Double?
        /// Standard deviation of log(rate); nil: the default.
        public var sdLog: Double?
        /// The entry of the priors file it comes from, and its source, when it does.
        public var national: String? = nil
        public var source: String? = nil
        public init(path: String, median: Double?, sdLog: Double?, national: String? = nil, source: String? = nil) {
            self.path = path; self.median = median; self.sdLog = sdLog; self.national = national; self.source = source
        }
    }

    /// Files resolved against the configuration file's folder.
    public var scenarioPath: String
    public var stocksPath: String?
    public var flowsPath: String?
    public var panelPath: String?
    public var estimator: Estimator
    /// Estimate per area, or pooled over areas with shared dynamics.
    public var pooled: Bool
    /// `all`, `adjacent`, `only` (the explicit "From → To" moves), or nil when not given
    /// (flows: all moves; panel: adjacent levels only).
    public var allowedMoves: String?
    public var explicitMoves: [(from: String, to: String)]
    /// Posterior draws to write (draws.csv).
    public var draws: Int
    public var seed: UInt64
    /// Dirichlet prior concentration per allowed destination (flows).
    public var concentration: Double
    /// Period probabilities to yearly rates: `matrixLogarithm` (default) or `competingRisks`.
    public var flowConversion: String
    /// The scenario's time 0 as a date (stock-only fits place census dates on the model's clock).
    public var startDate: String?
    /// Stock-only fits: the free rates (field paths) and their priors.
    public var priors: [RatePrior]
    /// Stock-only fits: the priors file of `stocks.priors`, resolved against the configuration's folder.
    public var priorsPath: String? = nil
    /// A small audit of individual records for a stock-only fit: of `atRisk` children in the
    /// from-level, `moved` made the move within `years`.
    public struct Audit: Sendable, Equatable {
        public var from: String
        public var to: String
        public var atRisk: Int
        public var moved: Int
        public var years: Double
    }
    /// Stock-only fits: audits of individual records (a constraint whose effect is shown).
    public var audits: [Audit] = []
    /// Stock-only fits: MCMC chains (`stocks.chains`, default 4).
    public var chains: Int
    /// Stock-only fits: draws kept per chain at first, after warm-up, and the size of each extension
    /// round while the convergence gate fails (`stocks.iterations`, default 500).
    public var iterations: Int
    /// Stock-only fits: warm-up iterations per chain (`stocks.burnIn`, default 500).
    public var burnIn: Int
    /// Stock-only fits: the most draws kept per chain, extension rounds included
    /// (`stocks.maxIterations`, default the larger of 4000 and `iterations`; equal to `iterations`: no extension).
    public var maxIterations = CalibrationConfig.defaultMaxIterations
    /// The default of `stocks.maxIterations` when `stocks.iterations` is at most this.
    public static let defaultMaxIterations = 4000
    /// Stock-only fits, NUTS: the metric adapted in warm-up (`diagonal` or `dense`).
    public var metric = "diagonal"
    /// Stock-only fits, NUTS: the mean acceptance statistic the step size is tuned to (Stan's adapt_delta).
    public var targetAcceptance = 0.8
    /// Stock-only fits, NUTS: the largest tree depth (at most 2^depth − 1 leapfrog steps per draw).
    public var maxTreeDepth = 10
    /// Stock-only fits, NUTS: the coordinates of the rates it moves in (`softplus` or `log`).
    public var coordinates = "softplus"
    /// The configuration file, for messages.
    public var file = ""
    /// The line of each free rate under `stocks.free`.
    var freeLines: [String: Int?] = [:]
    /// Every file the configuration names: its field (`scenario`, `data.flows`, …), the path as
    /// written, as resolved against the configuration file's folder, and the field's line.
    public var namedFiles: [(field: String, given: String, resolved: String, line: Int?)] = []

    static let keys = ["scenario", "data", "estimator", "areas", "allowedMoves", "draws", "seed", "flows", "stocks"]

    /// Read and check a configuration file, and check that every file it names can be read
    /// (`fileProblems`): all problems at once.
    public static func load(path: String) throws(ScenarioError) -> CalibrationConfig {
        let config = try decode(yaml: Tree.readText(path: path, what: "YAML calibration file"), file: path)
        let problems = config.fileProblems()
        if !problems.isEmpty { throw ScenarioError(file: path, issues: problems) }
        return config
    }

    /// One problem per named file that is missing, a folder or another non-regular file, or
    /// unreadable (`Tree.fileProblem`), at its field, with the path as written and as resolved
    /// against the configuration file's folder (made absolute, so the user sees where it was looked for).
    public func fileProblems() -> [ValidationIssue] {
        namedFiles.sorted { ($0.line ?? 0) < ($1.line ?? 0) }.compactMap { f in
            guard let problem = Tree.fileProblem(f.resolved) else { return nil }
            let absolute = f.resolved.hasPrefix("/") ? f.resolved : PathText.join(FileManager.default.currentDirectoryPath, f.resolved)
            let place = f.given.hasPrefix("/") ? "'\(f.given)'"
                : "'\(f.given)', relative to the configuration file's folder: \(absolute)"
            let expected = f.field == "scenario" ? "a scenario file (YAML)" : "a CSV file (docs/calibration.md §1)"
            return ValidationIssue(file: file, line: f.line, path: f.field, found: "\(place): \(problem.found)",
                                   expected: "\(expected) that exists and this user may read, relative to the configuration file's folder unless absolute")
        }
    }

    public static func decode(yaml: String, file: String) throws(ScenarioError) -> CalibrationConfig {
        let root = try Tree.parse(yaml: yaml, file: file)
        let log = IssueLog(file: file)
        guard let f = log.fields(root, allowed: keys, what: "a calibration configuration") else { throw ScenarioError(file: file, issues: log.issues) }
        let folder = PathText.folder(of: file)
        func resolve(_ s: String) -> String { s.hasPrefix("/") || folder.isEmpty ? s : PathText.join(folder, s) }

        var namedFiles: [(field: String, given: String, resolved: String, line: Int?)] = []
        func named(_ field: String, _ t: Tree?) -> String? {
            guard let t, let given = log.string(t) else { return nil }
            namedFiles.append((field, given, resolve(given), t.line))
            return resolve(given)
        }
        var scenario = ""
        if let t = f.required("scenario", expected: "the scenario file whose levels and areas the data use"), let s = named("scenario", t) { scenario = s }
        var stocks: String?, flows: String?, panel: String?
        if let t = f.required("data", expected: "data: {stocks: FILE, flows: FILE, panel: FILE}, at least one"),
           let d = log.fields(t, allowed: ["stocks", "flows", "panel"], what: "data files") {
            stocks = named("data.stocks", d["stocks"])
            flows = named("data.flows", d["flows"])
            panel = named("data.panel", d["panel"])
            if stocks == nil && flows == nil && panel == nil { log.add(t, expected: "at least one of stocks, flows, panel") }
        }
        var estimator: Estimator = flows != nil ? .flows : panel != nil ? .panel : .stocks
        if let t = f["estimator"] { estimator = log.choice(t, Estimator.allCases.map { ($0.rawValue, $0) }) ?? estimator }
        let needed: String? = switch estimator {
        case .flows: flows == nil ? "data.flows" : nil
        case .panel: panel == nil ? "data.panel" : nil
        case .stocks: stocks == nil ? "data.stocks" : nil
        }
        if let needed { log.add(path: "estimator", line: f["estimator"]?.line ?? root.line, found: "estimator \(estimator.rawValue) without \(needed)", expected: "the data file the estimator needs") }
        var pooled = true
        if let t = f["areas"] { pooled = log.choice(t, [("pooled", true), ("perArea", false)]) ?? true }
        var allowed: String? = nil
        var moves: [(String, String)] = []
        if let t = f["allowedMoves"] {
            if case .sequence(let items) = t.value {
                allowed = "only"
                for item in items {
                    guard let s = log.string(item) else { continue }
                    let parts = s.replacingOccurrences(of: "->", with: "→").components(separatedBy: "→").map { $0.trimmingCharacters(in: .whitespaces) }
                    if parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty { moves.append((parts[0], parts[1])) } else {
                        log.add(item, expected: "a move written 'From → To' (or 'From -> To')")
                    }
                }
            } else {
                allowed = log.choice(t, [("all", "all"), ("adjacent", "adjacent")])
            }
        }
        let draws = f["draws"].flatMap { log.integer($0, minimum: 1, maximum: 1_000_000) } ?? 1000
        var seed: UInt64 = 1
        if let t = f["seed"] { seed = log.seed(t) ?? seed }
        var concentration = 0.5
        var conversion = "matrixLogarithm"
        if let t = f["flows"], let ff = log.fields(t, allowed: ["concentration", "conversion"], what: "flow estimator settings") {
            if let v = ff["concentration"] { concentration = log.number(v, NumberRange(low: 0, high: 1e6)) ?? concentration }
            if let v = ff["conversion"] { conversion = log.choice(v, [("matrixLogarithm", "matrixLogarithm"), ("competingRisks", "competingRisks")]) ?? conversion }
        }
        var priors: [RatePrior] = []
        var freeLines: [String: Int?] = [:]
        var startDate: String? = nil
        var chains = 4, iterations = 500, burnIn = 500
        var maxIterations: Int? = nil
        var metric = "diagonal", targetAcceptance = 0.8, maxTreeDepth = 10, coordinates = "softplus"
        var audits: [Audit] = []
        var priorsPath: String? = nil
        var priorsFileIssues: [ValidationIssue] = []
        if let t = f["stocks"], let sf = log.fields(t, allowed: ["startDate", "free", "priors", "chains", "iterations", "maxIterations", "burnIn", "audits",
                                                                   "metric", "targetAcceptance", "maxTreeDepth", "coordinates"], what: "stock-only fit settings") {
            var national: PriorsFile? = nil
            if let v = sf["priors"], let p = log.string(v) {
                priorsPath = resolve(p)
                do { national = try PriorsFile.load(path: resolve(p)) } catch {
                    log.add(v, found: "'\(p)', which cannot be used (\(error.issues.count) problem\(error.issues.count == 1 ? "" : "s") below)",
                            expected: "a priors file (docs/calibration.md, Priors)")
                    priorsFileIssues = error.issues
                }
            }
            if let v = sf["audits"], let items = log.list(v, what: "a list of {move: 'From → To', atRisk, moved, years}") {
                for item in items {
                    guard let af = log.fields(item, allowed: ["move", "atRisk", "moved", "years"], what: "an audit of individual records"),
                          let move = af.required("move", expected: "the move audited, 'From → To'").flatMap({ log.string($0) }),
                          let atRisk = af.required("atRisk", expected: "children followed in the from-level, >= 1").flatMap({ log.integer($0, minimum: 1, maximum: 1_000_000_000) }),
                          let moved = af.required("moved", expected: "how many of them made the move, 0 ... atRisk").flatMap({ log.integer($0, minimum: 0, maximum: 1_000_000_000) }),
                          let years = af.required("years", expected: "how long they were followed, years > 0").flatMap({ log.number($0, NumberRange(low: 0, high: 1000, lowOpen: true)) })
                    else { continue }
                    let parts = move.replacingOccurrences(of: "->", with: "→").components(separatedBy: "→").map { $0.trimmingCharacters(in: .whitespaces) }
                    guard parts.count == 2, moved <= atRisk else {
                        log.add(item, expected: "move 'From → To' and moved <= atRisk")
                        continue
                    }
                    audits.append(Audit(from: parts[0], to: parts[1], atRisk: atRisk, moved: moved, years: years))
                }
            }
            if let v = sf["startDate"] { startDate = log.string(v) }
            if let v = sf["chains"] { chains = log.integer(v, minimum: 2, maximum: 64) ?? chains }
            if let v = sf["iterations"] { iterations = log.integer(v, minimum: 100, maximum: 1_000_000) ?? iterations }
            if let v = sf["burnIn"] { burnIn = log.integer(v, minimum: 0, maximum: 1_000_000) ?? burnIn }
            if let v = sf["maxIterations"], let m = log.integer(v, minimum: 100, maximum: 1_000_000) {
                if m < iterations {
                    log.add(v, found: "\(m), fewer than the \(iterations) draws per chain of stocks.iterations\(sf["iterations"] == nil ? " (its default)" : "")",
                            expected: "the most draws kept per chain, extension rounds included: at least stocks.iterations (equal to it: no extension)")
                } else {
                    maxIterations = m
                }
            }
            if let v = sf["metric"] { metric = log.choice(v, [("diagonal", "diagonal"), ("dense", "dense")]) ?? metric }
            if let v = sf["targetAcceptance"] {
                targetAcceptance = log.number(v, NumberRange(low: 0.5, high: 0.999)) ?? targetAcceptance
            }
            if let v = sf["coordinates"] { coordinates = log.choice(v, [("softplus", "softplus"), ("log", "log")]) ?? coordinates }
            if let v = sf["maxTreeDepth"] { maxTreeDepth = log.integer(v, minimum: 1, maximum: 15) ?? maxTreeDepth }
            if let v = sf["free"], let entries = log.namedEntries(v, what: "a mapping from field paths of yearly rates to {median, sdLog}, {prior: NAME} or {}") {
                for (path, p) in entries {
                    freeLines[path] = p.line
                    if case .null = p.value { priors.append(RatePrior(path: path, median: nil, sdLog: nil)); continue }
                    if case .scalar(let text) = p.value, text.isEmpty { priors.append(RatePrior(path: path, median: nil, sdLog: nil)); continue }
                    guard let pf = log.fields(p, allowed: ["median", "sdLog", "prior"], what: "a log-normal prior {median, sdLog}, {prior: NAME} or {}") else { continue }
                    let median = pf["median"].flatMap { log.number($0, NumberRange(low: 0, high: 1000, lowOpen: true)) }
                    let sd = pf["sdLog"].flatMap { log.number($0, NumberRange(low: 0, high: 10, lowOpen: true)) }
                    if (pf["median"] != nil && median == nil) || (pf["sdLog"] != nil && sd == nil) { continue }
                    guard let t = pf["prior"] else {
                        priors.append(RatePrior(path: path, median: median, sdLog: sd))
                        continue
                    }
                    guard let name = log.string(t) else { continue }
                    if pf["median"] != nil {
                        log.add(path: Tree.join(p.path, "median"), line: p.line, found: "both median and prior '\(name)'",
                                expected: "either a median or a prior from the priors file (sdLog may widen the latter)")
                        continue
                    }
                    guard let national else {
                        if sf["priors"] == nil {
                            log.add(t, found: "prior '\(name)' without stocks.priors", expected: "stocks.priors: FILE, the priors file whose entry this names")
                        }
                        continue
                    }
                    guard let e = national.entry(name) else {
                        log.add(t, found: "'\(name)', not in \(national.file)",
                                expected: "one of its priors: " + national.entries.map { "'\($0.name)'" }.joined(separator: ", "))
                        continue
                    }
                    priors.append(RatePrior(path: path, median: e.median, sdLog: sd ?? e.sdLog, national: e.name, source: e.source))
                }
            }
        }
        if estimator == .stocks && priors.isEmpty {
            log.add(path: "stocks.free", line: f["stocks"]?.line ?? root.line, found: "no free rates",
                    expected: "stocks.free: the yearly rates to fit, each {median, sdLog} (a log-normal prior), {prior: NAME} or {}")
        }
        if !log.issues.isEmpty || !priorsFileIssues.isEmpty { throw ScenarioError(file: file, issues: log.issues + priorsFileIssues) }
        var config = CalibrationConfig(scenarioPath: scenario, stocksPath: stocks, flowsPath: flows, panelPath: panel, estimator: estimator,
                                 pooled: pooled, allowedMoves: allowed, explicitMoves: moves, draws: draws, seed: seed,
                                 concentration: concentration, flowConversion: conversion, startDate: startDate, priors: priors, chains: chains,
                                 iterations: iterations, burnIn: burnIn)
        config.audits = audits
        config.maxIterations = maxIterations ?? max(defaultMaxIterations, iterations)
        config.metric = metric
        config.targetAcceptance = targetAcceptance
        config.maxTreeDepth = maxTreeDepth
        config.coordinates = coordinates
        config.priorsPath = priorsPath
        config.file = file
        config.freeLines = freeLines
        config.namedFiles = namedFiles
        return config
    }

    /// The free rates of a stock-only fit that cannot be parameters of `scenario`
    /// (`ParameterIndex`: structure, or not a value of the file), each at its
    /// place under `stocks.free`; nil when every one can.
    public func freeParameterProblems(_ scenario: Scenario) -> ScenarioError? {
        guard estimator == .stocks else { return nil }
        let refused = scenario.bindings(priors.map(\.path)).refused
        guard !refused.isEmpty else { return nil }
        return ScenarioError(file: file, issues: refused.map { r in
            ValidationIssue(file: file, line: freeLines[r.path] ?? nil, path: "stocks.free.\(r.path)",
                            found: "path \(r.refusal.quoted) of scenario \(scenario.file), \(r.refusal.reason)", expected: r.refusal.expected)
        })
    }
}
