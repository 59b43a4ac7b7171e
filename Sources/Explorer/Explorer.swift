import Analysis
import Experiments
import Foundation
import Model
import Reports
import StockFlow
import Synchronization

/// The workshop explorer behind `girfec serve`: the page, the aggregate model on every change,
/// agent simulations streamed as server-sent events, and exports (docs/workshop.md).
///
/// It reads no file but the scenario it was given (and the files that scenario names, once,
/// at start) and writes none: exports are downloads the browser saves.
public final class Explorer: Sendable {
    /// Bounds on what the page may ask for.
    public struct Limits: Sendable {
        /// Replications of one agent simulation.
        public var maximumReplications = 200
        /// Children in one replication of one arm (initial children plus everyone who enters).
        public var maximumChildren = 1_000_000.0
        /// Agent simulations running at once.
        public var maximumSimulations = 1
        /// Steps of the horizon the page may ask for (the response carries every step).
        public var maximumSteps = 1200
        public init() {}
    }

    public let workshop: WorkshopScenario
    public let limits: Limits
    /// The `Host` header values a request may carry (DNS rebinding: a page of another site that
    /// resolves its own name to this machine is refused); empty: any.
    public let allowedHosts: Set<String>
    let simulations = Mutex<[String: Simulation]>([:])
    let counter = Atomic<Int>(0)
    let threads: Int

    final class Simulation: Sendable {
        let cancelled = Atomic<Bool>(false)
    }

    public init(workshop: WorkshopScenario, limits: Limits = Limits(), allowedHosts: Set<String> = [],
                threads: Int = ProcessInfo.processInfo.activeProcessorCount) {
        self.workshop = workshop
        self.limits = limits
        self.allowedHosts = allowedHosts
        self.threads = max(1, threads)
    }

    // MARK: - Routes

    /// Answer one request.
    public func handle(_ request: HTTPRequest) -> HTTPReply {
        if !allowedHosts.isEmpty, let host = request.headers["host"], !allowedHosts.contains(host) {
            return .response(.error(403, "requests for host '\(host)' are refused: open the address girfec serve printed"))
        }
        if request.method == "POST", let origin = request.headers["origin"], let host = request.headers["host"],
           origin != "http://\(host)" {
            return .response(.error(403, "a request from another site (\(origin)) is refused"))
        }
        switch (request.method, request.path) {
        case ("GET", "/"), ("GET", "/index.html"):
            return .response(HTTPResponse(status: 200, contentType: "text/html; charset=utf-8", body: Array(Page.html.utf8)))
        case ("GET", "/favicon.ico"):
            return .response(HTTPResponse(status: 204, contentType: "image/x-icon", body: []))
        case ("GET", "/api/scenario"):
            return .response(start())
        case ("POST", "/api/run"):
            return .response(withSettings(request) { run($0) })
        case ("POST", "/api/export"):
            return .response(withSettings(request) { export($0) })
        case ("POST", "/api/simulate"):
            return simulate(request)
        case ("POST", "/api/cancel"):
            return .response(cancel(request.query["id"] ?? ""))
        case (_, "/"), (_, "/api/scenario"), (_, "/api/run"), (_, "/api/export"), (_, "/api/simulate"), (_, "/api/cancel"):
            return .response(.error(405, "\(request.method) is not allowed on \(request.path)"))
        default:
            return .response(.error(404, "no page at \(request.path)"))
        }
    }

    /// The scenario's settings and the aggregate model of its arms as written.
    func start() -> HTTPResponse {
        let settings = workshop.settings
        var body = aggregate(settings)
        body["settings"] = (try? JSONSerialization.jsonObject(with: JSONEncoder().encode(settings))) ?? [:]
        let first = workshop.scenario.arms[0]
        body["scenario"] = [
            "file": workshop.file, "name": workshop.scenario.name, "description": workshop.scenario.description,
            "levels": workshop.scenario.levels, "areas": first.areas,
            "practiceAreas": Dictionary(workshop.scenario.arms.flatMap { $0.practices.map { ($0.name, $0.areas.map { first.areas[$0] }) } },
                                        uniquingKeysWith: { a, _ in a }),
            "absorbing": first.levels.map(\.absorbing),
        ] as [String: Any]
        body["limits"] = ["maximumReplications": limits.maximumReplications, "maximumSimulations": limits.maximumSimulations]
        return .json(body)
    }

    /// Decode the page's settings from a request body; a body that is not settings is refused with where it broke.
    public static func settings(from body: [UInt8]) -> Result<WorkshopSettings, Refused> {
        do {
            let s = try JSONDecoder().decode(WorkshopSettings.self, from: Data(body))
            if s.arms.isEmpty || s.arms.count > WorkshopSettings.maximumArms {
                return .failure(Refused(.error(422, "\(s.arms.count) arms; between 1 and \(WorkshopSettings.maximumArms) are accepted")))
            }
            return .success(s)
        } catch let DecodingError.keyNotFound(key, context) {
            return .failure(Refused(.error(400, "settings without '\(key.stringValue)' at \(Self.codingPath(context.codingPath))")))
        } catch let DecodingError.typeMismatch(_, context), let DecodingError.valueNotFound(_, context) {
            return .failure(Refused(.error(400, "settings with a wrong value at \(Self.codingPath(context.codingPath)): \(context.debugDescription)")))
        } catch {
            return .failure(Refused(.error(400, "a request body that is not the page's settings (JSON): \(error.localizedDescription)")))
        }
    }

    /// A request refused, with the response that says why.
    public struct Refused: Error {
        public var response: HTTPResponse
        init(_ response: HTTPResponse) { self.response = response }
    }

    static func codingPath(_ path: [any CodingKey]) -> String {
        path.isEmpty ? "(top level)" : path.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined().trimmingCharacters(in: CharacterSet(charactersIn: "."))
    }

    func withSettings(_ request: HTTPRequest, _ body: (WorkshopSettings) -> HTTPResponse) -> HTTPResponse {
        switch Self.settings(from: request.body) {
        case .success(let s): return body(s)
        case .failure(let refused): return refused.response
        }
    }

    /// The validator's problems as the page shows them: field path, what was found, what was expected.
    public static func issues(_ error: ScenarioError) -> [[String: String]] {
        error.issues.map { ["path": $0.path, "found": $0.found, "expected": $0.expected] }
    }

    func options(_ settings: WorkshopSettings) -> AggregateOptions {
        AggregateOptions(mode: settings.mode == "sd" ? .sd : .cohort)
    }

    // MARK: - The aggregate model

    /// Validate and run the aggregate model: `{ok, issues}` plus the model's numbers when valid.
    public func aggregate(_ settings: WorkshopSettings) -> [String: Any] {
        let start = Date()
        switch workshop.scenario(settings) {
        case .failure(let error):
            return ["ok": false, "issues": Self.issues(error)]
        case .success(let (scenario, _)):
            if let problem = stepsProblem(scenario) { return ["ok": false, "issues": [problem]] }
            if let mode = settings.mode, mode != "cohort", mode != "sd" {
                return ["ok": false, "issues": [["path": "mode", "found": "'\(mode)'", "expected": "cohort or sd"]]]
            }
            do {
                let aggregates = try Comparison.Aggregates.run(scenario, options: options(settings))
                var out = AggregateJSON.make(scenario, aggregates)
                out["ok"] = true
                out["issues"] = [] as [Any]
                out["serverMilliseconds"] = Date().timeIntervalSince(start) * 1000
                return out
            } catch {
                return ["ok": false, "issues": [["path": "", "found": error.description, "expected": "settings the aggregate model can run"]]]
            }
        }
    }

    func run(_ settings: WorkshopSettings) -> HTTPResponse { .json(aggregate(settings)) }

    // MARK: - Export

    /// The scenario file with the page's arms, validated again as `girfec validate` would; a download.
    public func export(_ settings: WorkshopSettings) -> HTTPResponse {
        let header = """
            Exported by girfec serve from \(workshop.file) (\(workshop.scenario.name)).
            Arms: \(settings.arms.map(\.name).joined(separator: ", ")); differences are against '\(settings.arms[0].name)'.
            Check with `girfec validate FILE`; run with `girfec run FILE --out DIR`.
            """
        let text = workshop.yaml(settings, header: header)
        let attached = workshop.attached
        do {
            _ = try ScenarioDecoder.decode(yaml: text, file: workshop.file, reading: { name in
                attached[name].map { .success($0) } ?? .failure(.init(found: "a file the explorer did not read at start"))
            })
        } catch {
            return .json(["ok": false, "issues": Self.issues(error)], status: 422)
        }
        let base = PathText.lastComponent(of: workshop.file).replacingOccurrences(of: ".yaml", with: "")
            .filter { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }
        return HTTPResponse(status: 200, contentType: "application/yaml; charset=utf-8", body: Array(text.utf8),
                            headers: [("Content-Disposition", "attachment; filename=\"\(base.isEmpty ? "scenario" : base)-whatif.yaml\"")])
    }

    // MARK: - Agents

    /// Start an agent simulation of the settings and stream its bands as replications finish.
    ///
    /// Events: `started` {id, total}, `progress` {done, total, bands}, then `done`, `cancelled` or `failed`.
    func simulate(_ request: HTTPRequest) -> HTTPReply {
        struct Body: Decodable {
            var settings: WorkshopSettings
            var replications: Int
            var seed: UInt64?
        }
        let body: Body
        do { body = try JSONDecoder().decode(Body.self, from: Data(request.body)) } catch {
            return .response(.error(400, "a request body that is not {settings, replications, seed}: \(error.localizedDescription)"))
        }
        guard body.settings.arms.count <= WorkshopSettings.maximumArms else {
            return .response(.error(422, "\(body.settings.arms.count) arms; at most \(WorkshopSettings.maximumArms) are accepted"))
        }
        let scenario: Scenario
        switch workshop.scenario(body.settings) {
        case .failure(let error): return .response(.json(["ok": false, "issues": Self.issues(error)], status: 422))
        case .success(let (s, _)): scenario = s
        }
        if let problem = simulationProblem(scenario, replications: body.replications) {
            return .response(.error(422, problem))
        }
        let id = "sim\(counter.wrappingAdd(1, ordering: .relaxed).newValue)"
        let simulation = Simulation()
        let admitted = simulations.withLock { running -> Bool in
            guard running.count < limits.maximumSimulations else { return false }
            running[id] = simulation
            return true
        }
        guard admitted else {
            return .response(.error(429, "\(limits.maximumSimulations) agent simulation\(limits.maximumSimulations == 1 ? " is" : "s are") already running; cancel it or wait for it to finish"))
        }
        // The base case, as the aggregate model on the page: parameter distributions would replace the page's values.
        var basePlan = RunPlan(scenario: scenario, seed: body.seed ?? 20261206, replications: body.replications, threads: threads)
        basePlan.baseCase = true
        let plan = basePlan
        return .events { [self] send in
            defer { _ = simulations.withLock { $0.removeValue(forKey: id) } }
            AgentStream.run(plan: plan, id: id, isCancelled: { simulation.cancelled.load(ordering: .relaxed) },
                            cancel: { simulation.cancelled.store(true, ordering: .relaxed) }, send: send)
        }
    }

    /// The horizon as an issue at its field, if it has more steps than the explorer draws.
    func stepsProblem(_ scenario: Scenario) -> [String: String]? {
        let arm = scenario.arms[0]
        guard arm.steps > limits.maximumSteps else { return nil }
        return ["path": "time.horizonYears", "found": "\(CSV.number(arm.horizonYears)) years, \(arm.steps) steps of \(arm.stepMonths) month\(arm.stepMonths == 1 ? "" : "s")",
                "expected": "at most \(limits.maximumSteps) steps in the explorer (girfec aggregate and girfec run take longer horizons)"]
    }

    /// Why these replications of `scenario` are too large for the explorer, if they are.
    public func simulationProblem(_ scenario: Scenario, replications: Int) -> String? {
        if let problem = stepsProblem(scenario) { return "\(problem["path"]!): found \(problem["found"]!); expected \(problem["expected"]!)" }
        if replications < 1 || replications > limits.maximumReplications {
            return "replications: found \(replications); expected 1 to \(limits.maximumReplications) (girfec serve --max-replications)"
        }
        let estimate = ResourceEstimate(scenario: scenario, threads: threads)
        if let memory = estimate.problem(limitGiB: ResourceEstimate.defaultLimitGiB, file: workshop.file) {
            return "\(memory.found); expected \(memory.expected)"
        }
        let children = estimate.childrenEver
        if children > limits.maximumChildren {
            return "about \(Int(children)) children in one replication of one arm; the explorer simulates at most \(Int(limits.maximumChildren)) (use girfec run for larger runs)"
        }
        return nil
    }

    func cancel(_ id: String) -> HTTPResponse {
        guard let simulation = simulations.withLock({ $0[id] }) else {
            return .error(404, "no running simulation '\(id)'")
        }
        simulation.cancelled.store(true, ordering: .relaxed)
        return .json(["ok": true, "id": id])
    }
}

/// The aggregate model's numbers as the page draws them.
public enum AggregateJSON {
    /// Per arm, from the record (`RecordLayout`): stocks at every step, flows, escalations,
    /// step-downs, cost and QoL per year in each step (the step's amount ÷ step length in years),
    /// discounted totals over the horizon, and each later arm's differences from the first
    /// with the quadrant in words (`HumanFormat.icer`); win-win is more QoL-years at no more cost.
    public static func make(_ scenario: Scenario, _ aggregates: Comparison.Aggregates) -> [String: Any] {
        let first = scenario.arms[0]
        let n = first.levels.count
        let layout = RecordLayout(arm: first)
        let perYear = 1 / first.stepYears
        func series(_ record: [Double], _ slot: Int, from: Int = 1, scale: Double = 1) -> [Double] {
            (from...max(from, layout.steps)).map { record[layout.index(step: $0, slot: slot)] * scale }
        }
        func last(_ record: [Double], _ q: Quantity) -> Double { record[layout.index(step: layout.steps, slot: layout.slot(q, level: nil))] }
        let baseCost = last(aggregates.records[0], .cumulativeCostDiscounted)
        let baseQol = last(aggregates.records[0], .cumulativeQolYearsDiscounted)
        var arms: [[String: Any]] = []
        for (a, arm) in scenario.arms.enumerated() {
            let r = aggregates.records[a]
            var flows: [String: [Double]] = [:]
            let none = [Double](repeating: 0, count: layout.steps)  // a move that cannot happen
            for i in 0..<n {
                for j in 0..<n where i != j { flows["\(i)-\(j)"] = layout.flowSlot(from: i, to: j).map { series(r, $0, scale: perYear) } ?? none }
            }
            let cost = last(r, .cumulativeCostDiscounted), qol = last(r, .cumulativeQolYearsDiscounted)
            var entry: [String: Any] = [
                "name": arm.name,
                "stock": (0..<n).map { series(r, layout.slot(.stock, level: $0), from: 0) },
                "stockTotal": series(r, layout.slot(.stock, level: nil), from: 0),
                "flowPerYear": flows,
                "escalationsPerYear": series(r, layout.slot(.escalations, level: nil), scale: perYear),
                "stepDownsPerYear": series(r, layout.slot(.stepDowns, level: nil), scale: perYear),
                "costPerYear": series(r, layout.slot(.cost, level: nil), scale: perYear),
                "qolYearsPerYear": series(r, layout.slot(.qolYears, level: nil), scale: perYear),
                "costDiscounted": cost, "qolYearsDiscounted": qol,
                "practices": arm.practices.map { p in ["name": p.name, "escalationEffect": p.escalationEffect, "stepDownEffect": p.stepDownEffect] },
            ]
            if a > 0 {
                let dc = cost - baseCost, dq = qol - baseQol
                entry["deltaCost"] = dc
                entry["deltaQolYears"] = dq
                entry["verdict"] = HumanFormat.icer(deltaCost: dc, deltaQol: dq)
                entry["winWin"] = CostEffectiveness.Quadrant.of(deltaCost: dc, deltaQol: dq) == .southEast
            }
            arms.append(entry)
        }
        return ["levels": first.levels.map(\.name), "steps": layout.steps, "stepYears": first.stepYears,
                "mode": aggregates.options.label, "arms": arms]
    }
}

/// An agent simulation in batches of replications, with the bands so far after each batch.
enum AgentStream {
    /// Runs `plan` a batch at a time (`RunPlan.batch`: the same replications, seeds and results as
    /// one run), merging the statistics and sending `progress` with the bands after each batch.
    static func run(plan: RunPlan, id: String, isCancelled: @escaping @Sendable () -> Bool,
                    cancel: @escaping @Sendable () -> Void, send: (String, String) -> Bool) {
        let total = plan.replications
        guard send("started", json(["id": id, "total": total])) else { return cancel() }
        let first = plan.scenario.arms[0]
        let layout = RecordLayout(arm: first)
        var aggregator: Aggregator? = nil
        let batchSize = max(1, min(plan.threads * 2, max(1, total / 10)))
        var done = 0
        let start = Date()
        while done < total {
            var batchPlan = plan
            batchPlan.batch = done..<min(total, done + batchSize)
            let result: RunResult
            do {
                result = try Runner.run(batchPlan, isCancelled: isCancelled)
            } catch {
                if case .cancelled = error {
                    _ = send("cancelled", json(["done": done, "total": total]))
                } else {
                    _ = send("failed", json(["error": error.description]))
                }
                return
            }
            if aggregator == nil { aggregator = result.aggregator } else { aggregator!.merge(result.aggregator) }
            done = batchPlan.batch!.upperBound
            var payload = bands(aggregator!, scenario: plan.scenario, layout: layout)
            payload["done"] = done
            payload["total"] = total
            payload["seconds"] = Date().timeIntervalSince(start)
            if !send("progress", json(payload)) { return cancel() }
            if isCancelled() {
                _ = send("cancelled", json(["done": done, "total": total]))
                return
            }
        }
        _ = send("done", json(["done": done, "total": total]))
    }

    /// Mean and 2.5–97.5 % of replications (`Band`, as bands.csv) of each level's stock at every step,
    /// cost and QoL per year, and the discounted totals and differences from the first arm.
    static func bands(_ aggregator: Aggregator, scenario: Scenario, layout: RecordLayout) -> [String: Any] {
        let n = layout.levelCount
        let perYear = 1 / scenario.arms[0].stepYears
        let low = Statistics.percentiles.firstIndex { $0.label == "p2_5" }!
        let high = Statistics.percentiles.firstIndex { $0.label == "p97_5" }!
        func band(_ arm: Int, _ slot: Int, from: Int, scale: Double = 1, difference: Bool = false) -> [String: [Double]] {
            var mean: [Double] = [], lo: [Double] = [], hi: [Double] = []
            for step in from...max(from, layout.steps) {
                let b = Band(aggregator.cells[aggregator.index(arm: arm, difference: difference, step: step, slot: slot)])
                mean.append(b.mean * scale)
                lo.append(b.percentiles[low] * scale)
                hi.append(b.percentiles[high] * scale)
            }
            return ["mean": mean, "low": lo, "high": hi]
        }
        func total(_ arm: Int, _ q: Quantity, difference: Bool) -> [String: Double] {
            let b = band(arm, layout.slot(q, level: nil), from: layout.steps, difference: difference)
            return ["mean": b["mean"]![0], "low": b["low"]![0], "high": b["high"]![0]]
        }
        var arms: [[String: Any]] = []
        for (a, arm) in scenario.arms.enumerated() {
            var entry: [String: Any] = [
                "name": arm.name,
                "stock": (0..<n).map { band(a, layout.slot(.stock, level: $0), from: 0) },
                "costPerYear": band(a, layout.slot(.cost, level: nil), from: 1, scale: perYear),
                "qolYearsPerYear": band(a, layout.slot(.qolYears, level: nil), from: 1, scale: perYear),
                "costDiscounted": total(a, .cumulativeCostDiscounted, difference: false),
                "qolYearsDiscounted": total(a, .cumulativeQolYearsDiscounted, difference: false),
            ]
            if a > 0 {
                entry["qolYearsPerYearDelta"] = band(a, layout.slot(.qolYears, level: nil), from: 1, scale: perYear, difference: true)
                entry["deltaCost"] = total(a, .cumulativeCostDiscounted, difference: true)
                entry["deltaQolYears"] = total(a, .cumulativeQolYearsDiscounted, difference: true)
            }
            arms.append(entry)
        }
        return ["arms": arms]
    }

    static func json(_ object: Any) -> String {
        (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])).flatMap { String(data: $0, encoding: .utf8) } ?? "{}"
    }
}
