import Experiments
import Explorer
import Foundation
import Model
import Reports
import StockFlow
import Testing
import TestSupport

/// `girfec serve`'s request handling, without a browser (the browser test is
/// scripts/tests/test_explorer_browser.py).
@Suite struct ExplorerTests {
    static func workshop() throws -> WorkshopScenario {
        try WorkshopScenario(file: "small.yaml", text: Fixtures.smallScenario, scenario: Fixtures.scenario(Fixtures.smallScenario))
    }

    static func explorer(_ limits: Explorer.Limits = Explorer.Limits()) throws -> Explorer {
        try Explorer(workshop: workshop(), limits: limits, allowedHosts: ["127.0.0.1:8080"], threads: 1)
    }

    static func post(_ path: String, _ body: [UInt8]) -> HTTPRequest {
        HTTPRequest(method: "POST", path: path, headers: ["host": "127.0.0.1:8080", "origin": "http://127.0.0.1:8080"], body: body)
    }

    static func json(_ settings: WorkshopSettings) throws -> [UInt8] { Array(try JSONEncoder().encode(settings)) }

    static func response(_ reply: HTTPReply) -> HTTPResponse {
        guard case .response(let r) = reply else {
            Issue.record("expected a whole response, got an event stream")
            return HTTPResponse(status: 0, text: "")
        }
        return r
    }

    static func object(_ r: HTTPResponse) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(r.body))) as? [String: Any] ?? [:]
    }

    /// The page's numbers for the scenario as written are the StockFlow model's own, run here
    /// arm by arm (`AggregateModel.run`, cohort mode, the default of `girfec run`).
    @Test func aggregateNumbersAreTheStockFlowModels() throws {
        let explorer = try Self.explorer()
        let out = explorer.aggregate(explorer.workshop.settings)
        #expect(out["ok"] as? Bool == true)
        let arms = try #require(out["arms"] as? [[String: Any]])
        let scenario = explorer.workshop.scenario
        #expect(arms.map { $0["name"] as? String } == ["baseline", "practice"])
        let layout = RecordLayout(arm: scenario.arms[0])
        var totals: [(cost: Double, qol: Double)] = []
        for (a, arm) in scenario.arms.enumerated() {
            let record = try AggregateModel.run(arm: arm, options: AggregateOptions(mode: .cohort)).record
            let stock = try #require(arms[a]["stock"] as? [[Double]])
            for l in 0..<3 {
                for step in 0...layout.steps {
                    let expected = record[layout.index(step: step, slot: layout.slot(.stock, level: l))]
                    #expect(abs(stock[l][step] - expected) <= 1e-9 * max(1, abs(expected)), "arm \(arm.name) level \(l) step \(step)")
                }
            }
            let costPerYear = try #require(arms[a]["costPerYear"] as? [Double])
            let step1 = record[layout.index(step: 1, slot: layout.slot(.cost, level: nil))] * 12
            #expect(abs(costPerYear[0] - step1) <= 1e-9 * abs(step1))
            let cost = record[layout.index(step: layout.steps, slot: layout.slot(.cumulativeCostDiscounted, level: nil))]
            let qol = record[layout.index(step: layout.steps, slot: layout.slot(.cumulativeQolYearsDiscounted, level: nil))]
            #expect(abs((arms[a]["costDiscounted"] as? Double ?? .nan) - cost) <= 1e-9 * abs(cost))
            totals.append((cost, qol))
        }
        let deltaCost = try #require(arms[1]["deltaCost"] as? Double)
        #expect(abs(deltaCost - (totals[1].cost - totals[0].cost)) <= 1e-9 * abs(totals[0].cost))
        #expect((arms[1]["winWin"] as? Bool) == (totals[1].cost <= totals[0].cost && totals[1].qol > totals[0].qol))
    }

    /// Bad values are judged by the scenario validator and come back with their field paths.
    @Test func validationErrorsCarryFieldPaths() throws {
        let explorer = try Self.explorer()
        var settings = explorer.workshop.settings
        settings.arms[1].practices[0].escalationEffect = "1.5"
        settings.levels[0].qolWeight = "abc"
        settings.horizonYears = "-1"
        let reply = Self.response(explorer.handle(Self.post("/api/run", try Self.json(settings))))
        let out = Self.object(reply)
        #expect(out["ok"] as? Bool == false)
        let issues = try #require(out["issues"] as? [[String: String]])
        let escalation = issues.first { $0["path"] == "arms.practice.practice.relational.escalationEffect" }
        #expect(escalation?["found"]?.contains("1.5") == true, "\(issues)")
        #expect(escalation?["expected"]?.contains("[0, 1]") == true, "\(issues)")
        #expect(issues.contains { $0["path"]?.hasSuffix("levels.Low.qolWeight") == true && $0["found"]?.contains("abc") == true }, "\(issues)")
        #expect(issues.contains { $0["path"]?.hasSuffix("time.horizonYears") == true && $0["found"]?.contains("-1") == true }, "\(issues)")

        // a valid horizon longer than the explorer draws is refused at the same field
        var limits = Explorer.Limits()
        limits.maximumSteps = 12
        let short = try Self.explorer(limits)
        var long = short.workshop.settings
        long.horizonYears = "1.5"
        let refused = short.aggregate(long)
        #expect(refused["ok"] as? Bool == false)
        #expect((refused["issues"] as? [[String: String]])?.first
                == ["path": "time.horizonYears", "found": "1.5 years, 18 steps of 1 month",
                    "expected": "at most 12 steps in the explorer (girfec aggregate and girfec run take longer horizons)"])
    }

    /// A body that is not the page's settings is refused with where it broke.
    @Test func malformedSettingsAreRefusedWithTheirPath() throws {
        let explorer = try Self.explorer()
        let r = Self.response(explorer.handle(Self.post("/api/run", Array(#"{"horizonYears": "10", "levels": [], "arms": [{"name": "x", "practices": [{"name": "p"}]}]}"#.utf8))))
        #expect(r.status == 400)
        let message = Self.object(r)["error"] as? String ?? ""
        #expect(message.contains("'escalationEffect'") && message.contains("arms[0].practices[0]"), "\(message)")
        var settings = explorer.workshop.settings
        settings.arms = Array(repeating: settings.arms[0], count: WorkshopSettings.maximumArms + 1)
        let many = Self.response(explorer.handle(Self.post("/api/run", try Self.json(settings))))
        #expect(many.status == 422)
        #expect((Self.object(many)["error"] as? String)?.contains("between 1 and 12") == true)
    }

    /// Request and simulation sizes are bounded, and the refusals say by how much.
    @Test func sizeLimitsRefuseWithAMessage() throws {
        var limits = ServerLimits()
        limits.maximumBodyBytes = 1000
        let head = Array("POST /api/run HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nContent-Length: 5000".utf8)
        let refused = HTTPServer.parse(head: head, body: [], limits: limits) { _ in Issue.record("read a body it should refuse"); return nil }
        #expect(throws: HTTPServer.Refusal(status: 413, message: "a request body of 5000 bytes; at most 1000 bytes are accepted")) { try refused.get() }

        // headers larger than the limit, through a socket
        var fds: [Int32] = [0, 0]
        #expect(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &fds) == 0)
        defer { close(fds[0]); close(fds[1]) }
        let big = Array(("GET / HTTP/1.1\r\nX-Filler: " + String(repeating: "a", count: 20_000) + "\r\n\r\n").utf8)
        let peer = fds[1]
        let writer = Thread { _ = big.withUnsafeBytes { send(peer, $0.baseAddress!, $0.count, 0) } }
        writer.start()
        let headers = HTTPServer.readRequest(fds[0], limits: ServerLimits())
        #expect(throws: HTTPServer.Refusal(status: 431, message: "request headers larger than 16384 bytes")) { try headers.get() }

        var small = Explorer.Limits()
        small.maximumReplications = 10
        small.maximumChildren = 100
        let explorer = try Self.explorer(small)
        #expect(explorer.simulationProblem(explorer.workshop.scenario, replications: 11)
                == "replications: found 11; expected 1 to 10 (girfec serve --max-replications)")
        #expect(explorer.simulationProblem(explorer.workshop.scenario, replications: 2)?.contains("the explorer simulates at most 100") == true)
    }

    /// The exported file is a scenario the validator accepts, with the page's arms, and its
    /// aggregate model gives the page's numbers (as `girfec run` would).
    @Test func exportedScenarioRevalidatesAndReproduces() throws {
        let explorer = try Self.explorer()
        var settings = explorer.workshop.settings
        var wider = settings.arms[1]
        wider.name = "wider"
        wider.practices[0].share = "1"
        wider.practices[0].intensity[1].value = "0.95"
        settings.arms.append(wider)
        let r = Self.response(explorer.handle(Self.post("/api/export", try Self.json(settings))))
        #expect(r.status == 200)
        #expect(r.headers.contains { $0.0 == "Content-Disposition" && $0.1 == "attachment; filename=\"small-whatif.yaml\"" })
        let text = try #require(String(bytes: r.body, encoding: .utf8))
        #expect(text.hasPrefix("# Exported by girfec serve from small.yaml"))
        let exported = try ScenarioDecoder.decode(yaml: text, file: "exported.yaml")
        #expect(exported.arms.map(\.name) == ["baseline", "practice", "wider"])
        #expect(exported.arms[2].practices[0].share == 1)
        #expect(exported.arms[2].practices[0].areas == [0])  // coverage areas kept from the arm it copies
        #expect(exported.arms[2].programmeCostPerYear.points[0].value == 50000)
        let page = explorer.aggregate(settings)
        let pageArms = try #require(page["arms"] as? [[String: Any]])
        let rerun = try Comparison.Aggregates.run(exported, options: AggregateOptions())
        let layout = RecordLayout(arm: exported.arms[0])
        for a in 0..<3 {
            let cost = rerun.records[a][layout.index(step: layout.steps, slot: layout.slot(.cumulativeCostDiscounted, level: nil))]
            #expect(pageArms[a]["costDiscounted"] as? Double == cost)
        }
        // an invalid arm is not exported
        settings.arms[2].practices[0].share = "2"
        let bad = Self.response(explorer.handle(Self.post("/api/export", try Self.json(settings))))
        #expect(bad.status == 422)
        #expect((Self.object(bad)["issues"] as? [[String: String]])?.first?["path"] == "arms.wider.practice.relational.coverage.share")
    }

    /// Other sites' pages and other host names are refused; unknown routes say so.
    @Test func hostOriginAndRoutes() throws {
        let explorer = try Self.explorer()
        let rebinding = Self.response(explorer.handle(HTTPRequest(method: "GET", path: "/", headers: ["host": "evil.example:8080"])))
        #expect(rebinding.status == 403)
        let crossSite = Self.response(explorer.handle(HTTPRequest(method: "POST", path: "/api/run",
                                                                  headers: ["host": "127.0.0.1:8080", "origin": "http://evil.example"])))
        #expect(crossSite.status == 403)
        #expect(Self.response(explorer.handle(HTTPRequest(method: "GET", path: "/etc/passwd", headers: ["host": "127.0.0.1:8080"]))).status == 404)
        #expect(Self.response(explorer.handle(HTTPRequest(method: "DELETE", path: "/api/run", headers: ["host": "127.0.0.1:8080"]))).status == 405)
        let page = Self.response(explorer.handle(HTTPRequest(method: "GET", path: "/", headers: ["host": "127.0.0.1:8080"])))
        #expect(page.status == 200)
        let html = String(decoding: page.body, as: UTF8.self)
        #expect(!html.contains("http://") || !html.contains("src=\"http"))  // no outside assets
        #expect(!html.contains("<script src"))
    }

    /// An agent simulation streams started, progress and done; its bands equal one whole run's;
    /// a second simulation is refused while one runs.
    @Test func agentSimulationStreamsAndIsBounded() throws {
        let explorer = try Self.explorer()
        let body = try JSONSerialization.data(withJSONObject: [
            "settings": try JSONSerialization.jsonObject(with: Data(Self.json(explorer.workshop.settings))),
            "replications": 3, "seed": 7,
        ])
        let first = explorer.handle(Self.post("/api/simulate", Array(body)))
        guard case .events(let produce) = first else {
            Issue.record("expected an event stream, got \(Self.object(Self.response(first)))")
            return
        }
        let second = Self.response(explorer.handle(Self.post("/api/simulate", Array(body))))
        #expect(second.status == 429)
        #expect((Self.object(second)["error"] as? String)?.contains("already running") == true)
        var events: [(String, [String: Any])] = []
        produce { event, data in
            events.append((event, (try? JSONSerialization.jsonObject(with: Data(data.utf8))) as? [String: Any] ?? [:]))
            return true
        }
        #expect(events.first?.0 == "started")
        #expect(events.last?.0 == "done")
        #expect(events.filter { $0.0 == "progress" }.count == 3)  // batches of one replication on one thread
        let last = try #require(events.last { $0.0 == "progress" }?.1)
        #expect(last["done"] as? Int == 3)
        // the same replications run at once give the same bands
        let whole = try Experiments.Runner.run(RunPlan(scenario: explorer.workshop.scenario, seed: 7, replications: 3, threads: 1))
        let layout = RecordLayout(arm: explorer.workshop.scenario.arms[0])
        let arms = try #require(last["arms"] as? [[String: Any]])
        let stock = try #require(arms[1]["stock"] as? [[String: [Double]]])
        for step in [0, 5, layout.steps] {
            let band = whole.aggregator.band(arm: 1, difference: false, step: step, slot: layout.slot(.stock, level: 2))
            #expect(abs(stock[2]["mean"]![step] - band.mean) <= 1e-9 * max(1, band.mean))
        }
        // finished: the next simulation is admitted
        guard case .events = explorer.handle(Self.post("/api/simulate", Array(body))) else {
            Issue.record("a simulation after the first finished was refused")
            return
        }
    }
}
