import Analysis
import CGSL
import Foundation
import Model
import Stochastics

/// `girfec calibrate`: read the data a configuration names, estimate, and
/// produce the output files (docs/calibration.md).
public enum Calibrate {
    /// One estimated yearly rate, for estimates.csv.
    public struct RateRow: Sendable {
        public var areas: [String]
        public var from: String
        public var to: String
        public var rate: Double
        public var low: Double?
        public var high: Double?
        public var method: String
        /// Stock-only fits: identified, weak, not identified; empty otherwise.
        public var identified: String
        /// The standard error of the log-rate: panel fits (the inverse Hessian); nil otherwise.
        public var seLogRate: Double? = nil
    }

    /// The `area` of a pooled fit, in estimates.csv and every other output and message: all the
    /// data's areas together, whatever their names, as for a file without areas and a scenario
    /// without `areas`. A per-area fit is labelled by its area's name.
    public static let pooledArea = "all"

    /// The areas a fit is labelled with: `[pooledArea]` for a pooled fit (or data without areas),
    /// else the one area of a per-area fit.
    static func fitAreas(_ areas: [String], pooled: Bool) -> [String] {
        pooled || areas.isEmpty ? [pooledArea] : areas
    }

    /// A note naming the areas a pooled fit summed, when the data name any other than `pooledArea`.
    static func pooledAreasNote(_ method: String, _ areas: [String], pooled: Bool) -> [String] {
        guard pooled, !areas.isEmpty, areas != [pooledArea] else { return [] }
        return ["\(method): areas pooled (area '\(pooledArea)' in the outputs): " + areas.joined(separator: ", ")]
    }

    /// What an estimator produced for one area (or the pooled areas).
    public struct Fit: Sendable {
        public var areas: [String]
        public var rates: [RateRow]
        /// Posterior (or sampling) draws of the level → level rates per year, keyed by scenario field path.
        public var draws: [[String: Double]]
        /// Extra files of this fit (fit.csv, identifiability.csv, ...).
        public var files: [(name: String, text: String)] = []
        /// Plain-language notes and warnings.
        public var notes: [String] = []
        /// False when a sampler's chains did not pass the convergence gate (stock-only fits): then
        /// `rates` and `draws` are empty and `files` are the diagnostics.
        public var converged = true
    }

    /// The data files a configuration names, read and checked together: every problem of every file at once.
    public struct Data: Sendable {
        public var stocks: [StockCount] = []
        public var flows: [FlowCount] = []
        public var panel: PanelData? = nil

        public init(stocks: [StockCount] = [], flows: [FlowCount] = [], panel: PanelData? = nil) {
            self.stocks = stocks
            self.flows = flows
            self.panel = panel
        }
    }

    public static func read(_ config: CalibrationConfig, scenario: Scenario) throws(CalibrationDataError) -> Data {
        let levels = scenario.levels
        let areas = scenario.arms[0].areas == ["all"] ? nil : scenario.arms[0].areas
        var data = Data()
        var issues: [DataIssue] = []
        if let p = config.stocksPath {
            do { data.stocks = try DataFiles.stocks(atPath: p, levels: levels, areas: areas) } catch { issues += error.issues }
        }
        if let p = config.flowsPath {
            do { data.flows = try DataFiles.flows(atPath: p, levels: levels, areas: areas) } catch { issues += error.issues }
        }
        if let p = config.panelPath {
            do { data.panel = try DataFiles.panel(atPath: p, levels: levels, areas: areas) } catch { issues += error.issues }
        }
        if !issues.isEmpty { throw CalibrationDataError(issues: issues) }
        return data
    }

    static func allowed(_ config: CalibrationConfig, default fallback: AllowedMoves) -> AllowedMoves {
        switch config.allowedMoves {
        case nil: return fallback
        case "adjacent": return .adjacent
        case "only": return .only(Set(config.explicitMoves.map { LevelMove($0.from, $0.to) }))
        default: return .all
        }
    }

    static func path(_ from: String, _ to: String) -> String { "transitions.matrix.\(from).\(to)" }

    static func quantile(_ xs: [Double], _ p: Double) -> Double? { xs.isEmpty ? nil : Statistics.quantile(xs, p) }

    /// Yearly rates from a period's transition probabilities by the matrix logarithm:
    /// Q = log(P)/Δ over the levels plus an absorbing `exit`, the generator whose
    /// exp(Q·Δ) is P (Israel, Rosenthal & Wei 2001, Math Finance 11(2):245–265).
    /// A logarithm with negative off-diagonal entries (the embedding problem) is
    /// regularised by setting them and disallowed moves to 0 and re-balancing the
    /// diagonal (their "diagonal adjustment"); nil when P has no real logarithm.
    /// - Returns: from → to → rate (to ≠ from; `exit` included) and the allowed moves whose rate
    ///   was negative and set to 0.
    static func logarithmRates(_ probabilities: [String: [String: Double]], levels: [String], periodYears: Double,
                               allowed: AllowedMoves) -> (rates: [String: [String: Double]], regularised: [LevelMove])? {
        let states = levels + [FlowEnd.exit]
        let n = states.count
        var p = [[Double]](repeating: [Double](repeating: 0, count: n), count: n)
        for (i, from) in states.enumerated() {
            if i == n - 1 { p[i][i] = 1; continue }
            guard let row = probabilities[from], !row.isEmpty else { p[i][i] = 1; continue }
            for (j, to) in states.enumerated() { p[i][j] = row[to] ?? 0 }
        }
        guard let l = MatrixFunctions.logarithm(p) else { return nil }
        var regularised: [LevelMove] = []
        var out: [String: [String: Double]] = [:]
        for i in 0..<(n - 1) where probabilities[states[i]] != nil {
            var row: [String: Double] = [:]
            for j in 0..<n where j != i {
                let allowedMove = j == n - 1 ? (probabilities[states[i]]?[FlowEnd.exit] != nil) : allowed.allows(i, j, levels: levels)
                var q = l[i][j] / periodYears
                if q < -1e-12 && allowedMove { regularised.append(LevelMove(states[i], states[j])) }
                if !allowedMove { q = 0 }
                q = max(0, q)
                if allowedMove { row[states[j]] = q }
            }
            out[states[i]] = row
        }
        return (out, regularised)
    }

    /// Flow and panel calibration estimate one constant matrix of rates from the data, which
    /// would ignore a scenario's transition-specific dependence (by age, calendar time or months in
    /// a level): such a scenario is refused. Stock calibration runs the aggregate model, which
    /// carries the dependence, and is not refused.
    static func refuseDependence(_ scenario: Scenario, source: String) throws(CalibrationDataError) {
        guard let arm = scenario.arms.first(where: { !$0.dependence.isEmpty }) else { return }
        throw CalibrationDataError(issues: [DataIssue(
            file: scenario.file, line: nil, column: nil,
            found: "transitions.dependence in arm '\(arm.name)': the rates of some moves depend on age, calendar time or months in the level",
            expected: "a scenario without transitions.dependence for calibration from \(source), which estimates one constant matrix of rates (its likelihood would ignore the dependence); calibrate from stocks instead, which runs the aggregate model")])
    }

    /// Flow counts → Dirichlet–multinomial posterior; rates by the matrix logarithm of each
    /// period matrix (default) or the per-row competing-risks conversion; draws by GSL.
    public static func fromFlows(_ config: CalibrationConfig, scenario: Scenario, data: Data) throws(CalibrationDataError) -> [Fit] {
        try refuseDependence(scenario, source: "flows")
        let options = FlowEstimator.Options(concentration: config.concentration, allowed: allowed(config, default: .all),
                                            pooling: config.pooled ? .pooled : .perArea)
        let estimates = try FlowEstimator.estimate(flows: data.flows, stocks: data.stocks, levels: scenario.levels, options: options,
                                                   flowsFile: config.flowsPath ?? "flows.csv", stocksFile: config.stocksPath ?? "stocks.csv")
        return estimates.enumerated().map { k, e in
            let stream = RandomStream(StreamAddress(seed: config.seed, replication: UInt32(k), purpose: .calibration, index: 1))
            let flowDraws = e.draws(config.draws, from: stream)
            let moves = allowed(config, default: .all)
            let areas = fitAreas(e.areas, pooled: config.pooled)
            var regularisedDraws = 0, failedDraws = 0
            var regularisedByMove: [LevelMove: Int] = [:]
            let useLogarithm = config.flowConversion == "matrixLogarithm"
            let draws: [[String: [String: Double]]] = flowDraws.compactMap { d in
                guard useLogarithm else { return d.ratesPerYear }
                guard let r = logarithmRates(d.probabilities, levels: e.levels, periodYears: e.periodYears, allowed: moves) else {
                    failedDraws += 1
                    return nil
                }
                if !r.regularised.isEmpty { regularisedDraws += 1 }
                for m in r.regularised { regularisedByMove[m, default: 0] += 1 }
                return r.rates
            }
            let meanRates = useLogarithm
                ? logarithmRates(e.meanProbabilities, levels: e.levels, periodYears: e.periodYears, allowed: moves)?.rates ?? e.meanRatesPerYear
                : e.meanRatesPerYear
            var rates: [RateRow] = []
            for (from, row) in meanRates.sorted(by: { e.levels.firstIndex(of: $0.key)! < e.levels.firstIndex(of: $1.key)! }) {
                for to in e.destinations where row[to] != nil {
                    let xs = draws.compactMap { $0[from]?[to] }
                    rates.append(RateRow(areas: areas, from: from, to: to, rate: row[to]!, low: quantile(xs, 0.025),
                                         high: quantile(xs, 0.975), method: "flows", identified: ""))
                }
            }
            let keyed = draws.map { d in
                Dictionary(uniqueKeysWithValues: d.flatMap { from, row in
                    row.filter { $0.key != FlowEnd.exit }.map { (path(from, $0.key), $0.value) }
                })
            }
            var notes = ["flows: \(e.periodCount) period table\(e.periodCount == 1 ? "" : "s") of \(String(format: "%.3g", e.periodYears)) years; rates by "
                         + (useLogarithm ? "the matrix logarithm of each period matrix (Israel, Rosenthal & Wei 2001)" : "the competing-risks conversion of each row (Fleurence & Hollenbeak 2007)")]
            notes += pooledAreasNote("flows", e.areas, pooled: config.pooled)
            // The children seen making each move, over all periods pooled.
            func seen(_ m: LevelMove) -> Int {
                guard let i = e.levels.firstIndex(of: m.from), let j = e.destinations.firstIndex(of: m.to) else { return 0 }
                return e.rows[i].counts[j]
            }
            if e.noExitsObserved {
                notes.append("flows: no child left the population in any period (no exit counts): exit is not a destination "
                             + "(a closed population, or exits not recorded), so no exit rate is estimated and each row is the chance of a move among children who stay")
            }
            let neverSeen = e.rows.enumerated().flatMap { i, row in
                e.destinations.indices.filter { j in j != i && row.alpha[j] > 0 && row.counts[j] == 0 }.map { LevelMove(row.from, e.destinations[$0]) }
            }
            if !neverSeen.isEmpty {
                notes.append("flows: never seen in any period: " + neverSeen.map(\.description).joined(separator: ", ")
                             + "; their rates rest on the prior's \(number(config.concentration)) pseudo-count, so read rate_high as an upper bound "
                             + "(list the moves that can happen in allowedMoves to make the others 0)")
            }
            if regularisedDraws > 0 {
                let byMove = regularisedByMove.sorted { a, b in
                    (e.levels.firstIndex(of: a.key.from)!, e.destinations.firstIndex(of: a.key.to)!)
                        < (e.levels.firstIndex(of: b.key.from)!, e.destinations.firstIndex(of: b.key.to)!)
                }
                notes.append("flows: \(regularisedDraws) of \(flowDraws.count) draws had a matrix logarithm with negative rates, set to 0 "
                             + "(diagonal adjustment; usual for a move that seldom happens directly within a period): "
                             + byMove.map { "\($0.key) in \($0.value) draw\($0.value == 1 ? "" : "s") (\(seen($0.key)) seen)" }.joined(separator: ", "))
            }
            if failedDraws > 0 { notes.append("flows: \(failedDraws) of \(flowDraws.count) draws had no real matrix logarithm and were left out") }
            for row in e.rows { notes.append("flows: stayers of \(row.from) from \(row.stayersFrom.rawValue); \(row.atRisk) children at risk") }
            if !e.entriesPerYear.isEmpty {
                notes.append("flows: entries per year " + e.levels.compactMap { l in e.entriesPerYear[l].map { "\(l) \(String(format: "%.4g", $0))" } }.joined(separator: ", ")
                             + " (set population.births / migration from these)")
            }
            return Fit(areas: areas, rates: rates, draws: keyed, notes: notes)
        }
    }

    /// Panel records → maximum likelihood of Q; draws from the asymptotic normal of the log-rates.
    public static func fromPanel(_ config: CalibrationConfig, scenario: Scenario, data: Data) throws(CalibrationDataError) -> [Fit] {
        try refuseDependence(scenario, source: "panel")
        guard let panel = data.panel else { return [] }
        let options = PanelEstimator.Options(allowed: allowed(config, default: .adjacent),
                                             pooling: config.pooled ? .pooled : .perArea)
        let estimates = try PanelEstimator.estimate(panel, levels: scenario.levels, options: options, file: config.panelPath ?? "panel.csv")
        return estimates.enumerated().map { k, e in
            let areas = fitAreas(e.areas, pooled: config.pooled)
            let rates = e.rates.map { r in
                RateRow(areas: areas, from: r.move.from, to: r.move.to, rate: r.rate, low: r.lower, high: r.upper, method: "panel",
                        identified: "", seLogRate: r.logStandardError)
            }
            // Draws: log q ~ N(log q̂, Σ), Σ the inverse observed information (msm's normal approximation; Jackson 2011).
            var draws: [[String: Double]] = []
            if let cov = e.covarianceOfLogRates, let chol = Statistics.cholesky(cov) {
                let stream = RandomStream(StreamAddress(seed: config.seed, replication: UInt32(k), purpose: .calibration, index: 2))
                for _ in 0..<config.draws {
                    let z = (0..<e.rates.count).map { _ in stream.withGenerator { gsl_ran_ugaussian($0) } }
                    var d: [String: Double] = [:]
                    for (i, r) in e.rates.enumerated() {
                        var x = log(r.rate)
                        for j in 0...i { x += chol[i][j] * z[j] }
                        d[path(r.move.from, r.move.to)] = exp(x)
                    }
                    draws.append(d)
                }
            }
            var notes = ["panel: \(e.children) children, \(e.pairs) pairs of visits; log-likelihood \(String(format: "%.6g", e.logLikelihood)); \(e.converged ? "converged" : "NOT converged") after \(e.iterations) iterations"]
            notes += pooledAreasNote("panel", e.areas, pooled: config.pooled)
            let level = String(format: "%g", 100 * e.confidenceLevel)
            notes += e.rates.map { r in
                let se = r.logStandardError.map { "SE of log-rate \(String(format: "%.3g", $0)), \(level) % interval "
                    + "\(String(format: "%.4g", r.lower!))–\(String(format: "%.4g", r.upper!))" } ?? "no standard error"
                return "panel: \(r.move) \(String(format: "%.4g", r.rate)) per year (\(se)); \(r.observedChanges) changes seen between visits"
            }
            notes += e.notes.map { "panel: " + $0 }
            if draws.isEmpty { notes.append("panel: no draws (the information matrix is singular): rates near 0 or not estimable") }
            return Fit(areas: areas, rates: rates, draws: draws, notes: notes)
        }
    }

    /// What a stock-only fit is built from: the problem and the observations it was made of.
    public struct StockSetup: Sendable {
        /// The posterior: priors, likelihood, declared constraints and audits.
        public var problem: StockCalibrationProblem
        /// The same problem without `stocks.audits` (nil when there are none), to show what they buy.
        public var withoutAudits: StockCalibrationProblem?
        /// The pooled observations, on the scenario's clock.
        public var observations: [StockObservation]
        /// The date of the scenario's time 0 (`stocks.startDate`).
        public var origin: Day
        /// Field path of each simulator parameter, in the simulator's order.
        public var paths: [String]
        /// Which stock model and likelihood `StockModels.make` chose, and why.
        public var modelNote: String
    }

    /// The stock-only problem a configuration, its scenario and its data define (docs/calibration.md §5):
    /// what `fromStocks` samples and `girfec calibrate --log-density` evaluates.
    public static func stockProblem(_ config: CalibrationConfig, scenario: Scenario, data: Data) throws(CalibrationDataError) -> StockCalibrationProblem {
        try stockSetup(config, scenario: scenario, data: data).problem
    }

    /// The names of the sampling coordinates of `problem`, in order: each free rate (`From→To`, sampled as
    /// its logarithm), then the likelihood's estimated parameter (`relative extra sd` c of the Markov
    /// model's multivariate normal, or `negative binomial size` k; sampled as its logarithm), if any.
    /// posterior.csv's `parameter` column and `--log-density`'s header use these names.
    public static func samplingNames(_ problem: StockCalibrationProblem) -> [String] {
        problem.freeNames + (problem.likelihood.extraName.map { [$0] } ?? [])
    }

    /// Areas pooled by summing their counts per (date, level): the scenario's aggregate model gives the
    /// authority's totals. Every problem with the configuration is one `CalibrationDataError`.
    public static func stockSetup(_ config: CalibrationConfig, scenario: Scenario, data: Data) throws(CalibrationDataError) -> StockSetup {
        let file = config.stocksPath ?? "stocks.csv"
        func fail(_ found: String, _ expected: String) -> CalibrationDataError {
            CalibrationDataError(issues: [DataIssue(file: file, line: nil, column: nil, found: found, expected: expected)])
        }
        guard config.pooled else {
            throw fail("areas: perArea with the stocks estimator", "areas: pooled (counts of all areas summed; per-area stock fits need one scenario per area)")
        }
        guard let startText = config.startDate, let origin = Day(iso: startText) else {
            throw fail("stocks.startDate '\(config.startDate ?? "missing")'", "the scenario's time 0 as YYYY-MM-DD (the census of its initialCounts)")
        }
        // Census dates a year apart are 365 or 366 days, not 365.25: a last census up to a week past the
        // horizon is read at the horizon.
        let horizon = scenario.arms[0].horizonYears
        let observations = try StockObservation.series(from: data.stocks, area: nil, origin: origin, levels: scenario.levels).map { o in
            var o = o
            if o.timeYears > horizon && o.timeYears - horizon <= 7 / 365.25 { o.timeYears = horizon }
            return o
        }
        let paths = config.priors.map(\.path)
        do {
            let (simulator, likelihood, note) = try StockModels.make(scenario: scenario, parameterPaths: paths, observations: observations)
            var constraints: [RateConstraint] = []
            if config.allowedMoves == "adjacent" { constraints = RateConstraint.adjacentOnly(names: simulator.parameterNames, levels: scenario.levels) }
            let priors = RatePrior.resolve(config.priors, baseValues: StockCalibrationProblem.baseValues(of: simulator)?.map { $0 ?? 0 })
            let audits = config.audits.map { RecordAudit(parameter: "\($0.from)→\($0.to)", atRisk: $0.atRisk, moved: $0.moved, years: $0.years) }
            let plain = audits.isEmpty ? nil
                : try StockCalibrationProblem(simulator: simulator, priors: priors, likelihood: likelihood, constraints: constraints)
            let problem = try StockCalibrationProblem(simulator: simulator, priors: priors, likelihood: likelihood, constraints: constraints,
                                                      audits: audits)
            return StockSetup(problem: problem, withoutAudits: plain, observations: observations, origin: origin, paths: paths, modelNote: note)
        } catch {
            throw fail("a stock-only fit that cannot run (\(error.description))", "stock dates within the scenario's horizon from stocks.startDate, and free rates at transitions.matrix paths of a ratesPerYear scenario")
        }
    }

    /// Stock counts alone → weighted least squares and a posterior on the aggregate model, gated on
    /// convergence; when the chains converged, a joint point estimate (the posterior mode), joint draws,
    /// and identifiability from posterior contraction and profile likelihoods (docs/calibration.md §5–6).
    /// When they did not, the fit has no rates and no draws, `converged` is false, and its files are the
    /// diagnostics (posterior.csv, convergence.csv).
    /// - Parameter progress: (what is being done, done, total), from any thread, while the chains run.
    public static func fromStocks(_ config: CalibrationConfig, scenario: Scenario, data: Data,
                                  progress: (@Sendable (String, Int, Int) -> Void)? = nil) throws(CalibrationDataError) -> [Fit] {
        let file = config.stocksPath ?? "stocks.csv"
        let setup = try stockSetup(config, scenario: scenario, data: data)
        let problem = setup.problem
        let nuts = NUTSSettings(chains: config.chains, warmup: config.burnIn, samples: config.iterations, seed: config.seed,
                                maxTreeDepth: config.maxTreeDepth, targetAcceptance: config.targetAcceptance,
                                metric: NUTSSettings.Metric(rawValue: config.metric) ?? .diagonal)
        let ls: StockLeastSquaresFit
        let samples: StockSamples
        var plainSamples: StockSamples? = nil
        do {
            ls = try StockEstimator.leastSquares(problem, settings: StockLeastSquaresSettings(seed: config.seed))
            let coordinates = StockCoordinates(rawValue: config.coordinates) ?? .softplus
            func phase(_ what: String) -> (@Sendable (String, Int, Int) -> Void)? {
                guard let progress else { return nil }
                return { round, done, total in progress(round.isEmpty ? what : "\(what), \(round)", done, total) }
            }
            samples = try StockSampling.sample(problem, settings: nuts, coordinates: coordinates, maxSamples: config.maxIterations,
                                               progress: phase("sampling the posterior"))
            // The same fit without the audits, to show what they buy.
            if let plain = setup.withoutAudits {
                plainSamples = try StockSampling.sample(plain, settings: nuts, coordinates: coordinates, maxSamples: config.maxIterations,
                                                        progress: phase("sampling without the audits"))
            }
        } catch {
            throw CalibrationDataError(issues: [DataIssue(file: file, line: nil, column: nil, found: "a stock-only fit that cannot run (\(error.description))",
                                                          expected: "stock dates within the scenario's horizon from stocks.startDate, and free rates at transitions.matrix paths of a ratesPerYear scenario")])
        }
        let convergence = StockConvergence.assess(samples)
        let pathOf = Dictionary(uniqueKeysWithValues: zip(problem.simulator.parameterNames, setup.paths))
        var notes = ["stocks: " + ls.description.components(separatedBy: "\n")[0]]
        notes += ls.description.components(separatedBy: "\n").filter { $0.contains("poorly pinned") }.map { "stocks: " + $0.trimmingCharacters(in: .whitespaces) }
        notes.append("stocks: " + setup.modelNote)
        notes.append("stocks: posterior by \(samples.sampler)")
        for (r, round) in samples.rounds.enumerated() {
            notes.append("stocks: extension round \(r + 1): \(round.drawsBefore) → \(round.drawsAfter) draws per chain, because \(round.reason)")
        }
        let worst = (convergence.checks.filter { $0.check == "r_hat" }.map(\.value).max() ?? .nan,
                     convergence.checks.filter { $0.check == "ess_bulk" }.map(\.value).min() ?? .nan,
                     convergence.checks.filter { $0.check == "ess_tail" }.map(\.value).min() ?? .nan)
        let gate = String(format: "largest R̂ %.3f, smallest bulk ESS %.0f, tail ESS %.0f", worst.0, worst.1, worst.2)
        notes += priorNotes(config, priors: problem.priors)
        // Restricted against every move free, by maximum likelihood: also when the chains did not converge.
        let allDraws = samples.draws
        let comparison = modelComparison(problem: problem, start: allDraws.isEmpty ? nil
                                         : (0..<allDraws[0].count).map { k in allDraws.map { $0[k] }.reduce(0, +) / Double(allDraws.count) })
        notes += comparison.notes
        guard convergence.converged else {
            notes.append("stocks: NOT converged (\(gate)); no estimates, draws, fragment or identifiability verdicts were written:")
            notes += convergence.failures.map { "stocks:   " + $0 }
            notes += convergence.advice.map { "stocks: what to do next: " + $0 }
            let files = [("posterior.csv", posteriorCSV(samples, pathOf: pathOf, leastSquares: ls, report: nil, joint: nil)),
                         ("convergence.csv", convergence.csv)] + comparison.files
            return [Fit(areas: ["all"], rates: [], draws: [], files: files, notes: notes, converged: false)]
        }
        notes.append("stocks: converged (\(gate); thresholds: R̂ < 1.01, ESS ≥ 400, no chain apart\(samples.divergences == nil ? "" : ", no divergences"))")

        let joint = StockJointEstimate.find(problem, draws: samples.draws, logPosterior: samples.logPosterior)
        let report = Identifiability.assess(problem, draws: samples.draws, centre: joint.coordinates, seed: config.seed)
        notes.append("stocks: joint estimate (the posterior mode, from the best draw): X² = \(String(format: "%.4g", joint.pearsonX2)) on \(problem.observed.count) counts, "
                     + "log posterior \(String(format: "%.6g", joint.logPosterior))\(joint.converged ? "" : " (the optimiser stopped before its tolerance)")")
        var rates: [RateRow] = []
        for (k, name) in problem.freeNames.enumerated() {
            let parts = name.components(separatedBy: "→")
            let s = samples.summaries[k]
            let p = report.parameters[k]
            rates.append(RateRow(areas: ["all"], from: parts.first ?? name, to: parts.count > 1 ? parts[1] : "", rate: joint.rates[k],
                                 low: s.q025, high: s.q975, method: "stocks", identified: p.verdict.rawValue))
            var profile = ""
            if let pl = p.profile {
                profile = pl.flat ? ", profile flat" : String(format: ", profile %@%.3g–%.3g%@", pl.closedLow ? "" : "≤", pl.low, pl.high, pl.closedHigh ? "" : "+")
            }
            notes.append(String(format: "stocks:   %@ = %.4g per year (95 %% %.4g–%.4g), contraction %.2f", name, joint.rates[k], s.q025, s.q975, p.contraction)
                         + profile + ": " + p.verdict.rawValue)
        }
        // Draws for `girfec run`: whole joint draws, thinned evenly.
        let draws = samples.thinned(to: config.draws).map { d in
            Dictionary(uniqueKeysWithValues: problem.freeNames.enumerated().compactMap { k, n in pathOf[n].map { ($0, exp(d[k])) } })
        }

        // Observed against fitted: the posterior mean and 95 % band of the expected counts (200 joint draws).
        let fitted: [[Double]] = samples.thinned(to: 200).compactMap { d in
            try? problem.simulator.stocks(problem.rates(free: d.prefix(problem.freeIndices.count).map { exp($0) }))
        }
        var fit = "date,time_years,area,level,observed,fitted,fitted_low,fitted_high\n"
        for (j, o) in setup.observations.enumerated() {
            let xs = fitted.map { $0[j] }
            let date = Day(daysSinceEpoch: setup.origin.daysSinceEpoch + Int((o.timeYears * 365.25).rounded()))
            fit += [date.description, number(o.timeYears), "all", cell(scenario.levels[o.level]), number(o.count),
                    number(xs.isEmpty ? nil : Statistics.mean(xs)), number(quantile(xs, 0.025)), number(quantile(xs, 0.975))].joined(separator: ",") + "\n"
        }
        notes += report.warnings.map { "WARNING: " + $0 }
        if let plain = setup.withoutAudits, let before = plainSamples {
            let audited = config.audits.map { "\($0.from)→\($0.to) (\($0.moved) of \($0.atRisk) in \(number($0.years)) years)" }.joined(separator: ", ")
            if StockConvergence.assess(before).converged {
                let start = StockJointEstimate.find(plain, draws: before.draws, logPosterior: before.logPosterior)
                let baseline = Identifiability.assess(plain, draws: before.draws, centre: start.coordinates, seed: config.seed)
                notes += report.effect(of: "the audit of \(audited)", comparedWith: baseline).description
                    .components(separatedBy: "\n").map { "stocks: " + $0 }
            } else {
                notes.append("stocks: the fit without the audit of \(audited) did not converge: its identifiability is not compared")
            }
        }
        if !problem.likelihood.isMultivariateNormal {
            notes.append("stocks: counts are treated as independent given the model's expectation; the same children are counted every year, so posterior widths are optimistic")
        }
        let check = predictiveCheck(problem: problem, draws: samples.thinned(to: 1000), levels: scenario.levels, origin: setup.origin, seed: config.seed)
        notes += check.notes
        let files = [("fit.csv", fit), ("identifiability.csv", identifiabilityCSV(report)), ("profile.csv", profileCSV(report)),
                     ("posterior.csv", posteriorCSV(samples, pathOf: pathOf, leastSquares: ls, report: report, joint: joint)),
                     ("convergence.csv", convergence.csv)] + check.files + comparison.files
        return [Fit(areas: ["all"], rates: rates, draws: draws, files: files, notes: notes)]
    }

    static let identifiabilityHeader = "parameter,prior_sd_log,posterior_sd_log,contraction,profile_low,profile_high,profile_closed_low,profile_closed_high,verdict,max_abs_correlation,most_correlated_with"

    /// identifiability.csv: one row per free rate (docs/calibration.md §7).
    static func identifiabilityCSV(_ report: IdentifiabilityReport) -> String {
        var out = identifiabilityHeader + "\n"
        for (k, p) in report.parameters.enumerated() {
            var best = (0.0, "")
            for (m, q) in report.parameters.enumerated() where m != k && abs(report.correlations[k][m]) > abs(best.0) {
                best = (report.correlations[k][m], q.name)
            }
            out += [cell(p.name), number(p.priorSD), number(p.posteriorSD), number(p.contraction), number(p.profile?.low), number(p.profile?.high),
                    p.profile.map { $0.closedLow ? "true" : "false" } ?? "", p.profile.map { $0.closedHigh ? "true" : "false" } ?? "",
                    p.verdict.rawValue, number(abs(best.0)), cell(best.1)].joined(separator: ",") + "\n"
        }
        return out
    }

    static let profileHeader = "parameter,rate_per_year,profile_log_likelihood,delta_log_likelihood,inside_95,converged"

    /// profile.csv: each rate's profile likelihood, one row per grid point, ascending in rate.
    static func profileCSV(_ report: IdentifiabilityReport) -> String {
        var out = profileHeader + "\n"
        for p in report.parameters {
            guard let pl = p.profile else { continue }
            for point in pl.points {
                let delta = point.logLikelihood - pl.maximum
                out += [cell(p.name), number(point.rate), number(point.logLikelihood), number(delta),
                        delta >= -report.thresholds.deltaLogLikelihood ? "true" : "false", point.converged ? "true" : "false"].joined(separator: ",") + "\n"
            }
        }
        return out
    }

    static let posteriorHeader = "parameter,path,mean,sd,q2_5,median,q97_5,r_hat,ess_bulk,ess_tail,contraction,joint_estimate,least_squares"

    /// posterior.csv: one row per sampling coordinate, on the rate scale (docs/calibration.md §7).
    static func posteriorCSV(_ samples: StockSamples, pathOf: [String: String], leastSquares ls: StockLeastSquaresFit,
                             report: IdentifiabilityReport?, joint: StockJointEstimate?) -> String {
        var out = posteriorHeader + "\n"
        for (j, s) in samples.summaries.enumerated() {
            let lsIndex = ls.names.firstIndex(of: s.name)
            out += [cell(s.name), cell(pathOf[s.name] ?? ""), number(s.mean), number(s.sd), number(s.q025), number(s.median),
                    number(s.q975), number(s.rHat), number(s.essBulk), number(s.essTail), number(report?.parameter(s.name)?.contraction),
                    number(joint.map { exp($0.coordinates[j]) }), number(lsIndex.map { ls.rates[$0] })].joined(separator: ",") + "\n"
        }
        return out
    }

    // MARK: Files

    /// A finite number as `CSV.number` writes it; nil and non-finite values as an empty cell.
    static func number(_ x: Double?) -> String {
        guard let x, x.isFinite else { return "" }
        return CSV.number(x)
    }

    static func cell(_ s: String) -> String { CSV.text(s) }

    public static let estimatesHeader = "area,from_level,to_level,rate_per_year,rate_low,rate_high,se_log_rate,method,identified"

    public static func estimatesCSV(_ fits: [Fit]) -> String {
        var out = estimatesHeader + "\n"
        for f in fits {
            for r in f.rates {
                out += [cell(r.areas.joined(separator: ";")), cell(r.from), cell(r.to), number(r.rate), number(r.low), number(r.high),
                        number(r.seLogRate), r.method, r.identified].joined(separator: ",") + "\n"
            }
        }
        return out
    }

    /// The draws file `girfec run` reads (`uncertainty.draws`): a `draw` column, then one column per field path.
    public static func drawsCSV(_ fit: Fit) -> String {
        let columns = Array(Set(fit.draws.flatMap(\.keys))).sorted()
        var out = (["draw"] + columns).map(cell).joined(separator: ",") + "\n"
        for (i, d) in fit.draws.enumerated() {
            out += ([String(i)] + columns.map { number(d[$0]) }).joined(separator: ",") + "\n"
        }
        return out
    }

    /// A scenario fragment (`include:`) with the fitted yearly rates of the level → level moves.
    public static func fragment(_ fit: Fit, levels: [String], source: String) -> String {
        var lines = ["# Fitted by girfec calibrate (\(source)).",
                     "# Include it from a scenario (`include: THIS_FILE`) whose own file has no transitions.matrix:",
                     "# the scenario's own values win over an included fragment. Exits and entries are not here:",
                     "# see estimates.csv and set population.migration / births from them.",
                     "transitions:", "  unit: ratesPerYear", "  matrix:"]
        for from in levels {
            let row = fit.rates.filter { $0.from == from && $0.to != FlowEnd.exit && levels.contains($0.to) && $0.rate.isFinite }
            guard !row.isEmpty else { continue }
            lines.append("    \(from): {" + row.map { "\($0.to): \(number($0.rate))" }.joined(separator: ", ") + "}")
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
