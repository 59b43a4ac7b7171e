import Experiments
import Foundation
import Microsimulation
import Model
import StockFlow
import Testing
import TestSupport

/// Transition-specific dependence (`transitions.dependence`, docs/scenario-format.md §8.4) against
/// exact cohort traces computed here: the aggregate model in cohort mode to 1e-9, the step engine
/// within 4 Monte Carlo standard errors (fixed seeds; a false alarm has probability about 6e-5 per check).
@Suite("Transition-specific dependence")
struct TransitionDependenceTests {
    /// An illustrative life table: q_x = 1 − exp(−(0.0005 + 0.00004·e^(0.09·x))) for ages 0 … 100.
    static func q(age x: Int) -> Double { 1 - exp(-(0.0005 + 0.00004 * exp(0.09 * Double(x)))) }
    static let lifeTable = "age,qx\n" + (0...100).map { "\($0),\(q(age: $0))" }.joined(separator: "\n") + "\n"

    static func decode(_ yaml: String, files: [String: String] = [:]) throws -> Scenario {
        try ScenarioDecoder.decode(yaml: yaml, file: "test.yaml", readFile: { files[$0] })
    }

    /// The combination rule written out on its own: per-step row p (stay p[i]) to hazards, the
    /// dependence applied by `apply`, back to probabilities.
    static func combined(_ p: [Double], from i: Int, dt: Double, apply: (inout [Double]) -> Void) -> [Double] {
        let stay = p[i]
        var rate = p.indices.map { j in j == i ? 0 : (stay < 1 ? -log(stay) / dt * p[j] / (1 - stay) : 0) }
        apply(&rate)
        let total = rate.reduce(0, +)
        let leave = 1 - exp(-total * dt)
        return rate.indices.map { j in j == i ? 1 - leave : (total > 0 ? leave * rate[j] / total : 0) }
    }

    /// The cohort trace S_t = S_{t−1}·P_t for per-step matrices `matrix(t)`.
    static func trace(start: [Double], steps: Int, matrix: (Int) -> [[Double]]) -> [[Double]] {
        var s = start
        var out = [s]
        for t in 1...steps {
            let p = matrix(t)
            s = s.indices.map { j in s.indices.map { s[$0] * p[$0][j] }.reduce(0, +) }
            out.append(s)
        }
        return out
    }

    /// Stocks of `level` at every step, per replication of the step engine (or the event engine).
    static func agentStocks(_ arm: ArmModel, replications: Int, seed: UInt64, engine: EngineKind = .steps) throws -> [[Double]] {
        let tables = ArmTables(arm: arm)
        let events = EventTables(tables: tables)
        #expect(events.unsupported == nil, "\(events.unsupported ?? "")")
        let layout = RecordLayout(arm: arm)
        return try (0..<replications).map { r in
            let o = engine == .steps ? try Engine.run(tables: tables, seed: seed, replication: UInt32(r))
                                     : EventEngine.run(events: events, seed: seed, replication: UInt32(r))
            return (0...arm.steps).flatMap { t in arm.levels.indices.map { o.record[layout.index(step: t, slot: layout.slot(.stock, level: $0))] } }
        }
    }

    static func aggregateStocks(_ arm: ArmModel) throws -> [[Double]] {
        let result = try AggregateModel.run(arm: arm, options: AggregateOptions(mode: .cohort))
        let layout = RecordLayout(arm: arm)
        return (0...arm.steps).map { t in arm.levels.indices.map { result.record[layout.index(step: t, slot: layout.slot(.stock, level: $0))] } }
    }

    /// Each listed (step, level) of the agents' mean stock within 4 MCSE of the exact value.
    static func expectWithin4MCSE(_ runs: [[Double]], exact: [[Double]], levels n: Int, steps: [Int], _ what: String) {
        for t in steps {
            for l in 0..<n {
                let values = runs.map { $0[t * n + l] }
                let mean = values.reduce(0, +) / Double(values.count)
                let sd = (values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(values.count - 1)).squareRoot()
                let mcse = sd / Double(values.count).squareRoot()
                #expect(abs(mean - exact[t][l]) <= 4 * mcse + 1e-12, "\(what) step \(t) level \(l): mean \(mean), exact \(exact[t][l]), MCSE \(mcse)")
            }
        }
    }

    // MARK: Age: a life table

    static let lifeTableScenario = """
        name: life table
        time: {stepMonths: 12, horizonYears: 30}
        levels:
          Well: {costPerChildYear: 0, qolWeight: 1}
          Sick: {costPerChildYear: 0, qolWeight: 0.5}
          Dead: {costPerChildYear: 0, qolWeight: 0, absorbing: true}
        population:
          initialCounts: {Well: 1000}
          ageDistribution: [{fromYears: 50, toYears: 50.0833333333333, share: 1}]
          ageOutYears: null
        transitions:
          unit: probabilitiesPerYear
          matrix:
            Well: {Sick: 0.1}
            Sick: {Well: 0.2, Dead: 0.02}
          dependence:
            - {from: any, to: Dead, on: age, unit: probabilitiesPerYear, table: {file: life.csv, key: age, value: qx}}
            - {from: Sick, to: Dead, on: age, unit: hazardRatio, points: [{at: 0, value: 2}]}
        """

    /// The exact trace: at step t everyone alive is 50 + t − 1 years old at its start.
    static func lifeTableTrace(steps: Int) -> [[Double]] {
        trace(start: [1000, 0, 0], steps: steps) { t in
            let age = 50 + t - 1
            let mortality = -log(1 - q(age: age))
            let well = combined([0.9, 0.1, 0], from: 0, dt: 1) { $0[2] = mortality }
            // The matrix's Sick → Dead 0.02 is replaced by the table, then doubled.
            let sick = combined([0.2, 0.78, 0.02], from: 1, dt: 1) { $0[2] = mortality * 2 }
            return [well, sick, [0, 0, 1]]
        }
    }

    @Test func theAggregateModelFollowsTheLifeTableExactly() throws {
        let scenario = try Self.decode(Self.lifeTableScenario, files: ["life.csv": Self.lifeTable])
        let exact = Self.lifeTableTrace(steps: 30)
        let stocks = try Self.aggregateStocks(scenario.arms[0])
        for t in 0...30 { for l in 0..<3 { #expect(abs(stocks[t][l] - exact[t][l]) <= 1e-9, "step \(t) level \(l): \(stocks[t][l]) vs \(exact[t][l])") } }
        // Mortality rises with age: the trace is not that of a constant matrix.
        #expect(exact[30][2] > 300)
    }

    @Test func theStepEngineFollowsTheLifeTableWithin4MCSE() throws {
        let scenario = try Self.decode(Self.lifeTableScenario, files: ["life.csv": Self.lifeTable])
        let runs = try Self.agentStocks(scenario.arms[0], replications: 100, seed: 41)
        Self.expectWithin4MCSE(runs, exact: Self.lifeTableTrace(steps: 30), levels: 3, steps: [5, 15, 30], "life table")
        // The event engine simulates the same law: every step of a touched row is a candidate.
        Self.expectWithin4MCSE(try Self.agentStocks(scenario.arms[0], replications: 100, seed: 41, engine: .events), exact: Self.lifeTableTrace(steps: 30), levels: 3, steps: [5, 15, 30], "life table, event engine")
    }

    /// With `ageing: false` a child's age stays as drawn: the table is read at the starting age.
    @Test func frozenAgesReadTheTableAtTheStartingAge() throws {
        let text = Self.lifeTableScenario.replacingOccurrences(of: "ageOutYears: null", with: "ageing: false")
        let scenario = try Self.decode(text, files: ["life.csv": Self.lifeTable])
        let exact = Self.trace(start: [1000, 0, 0], steps: 30) { _ in
            let mortality = -log(1 - Self.q(age: 50))
            return [Self.combined([0.9, 0.1, 0], from: 0, dt: 1) { $0[2] = mortality },
                    Self.combined([0.2, 0.78, 0.02], from: 1, dt: 1) { $0[2] = mortality * 2 }, [0, 0, 1]]
        }
        let stocks = try Self.aggregateStocks(scenario.arms[0])
        for t in 0...30 { for l in 0..<3 { #expect(abs(stocks[t][l] - exact[t][l]) <= 1e-9) } }
    }

    // MARK: Sojourn: a semi-Markov recovery

    static let sojournScenario = """
        name: sojourn
        time: {stepMonths: 12, horizonYears: 12}
        levels:
          Well: {costPerChildYear: 0, qolWeight: 1}
          Sick: {costPerChildYear: 0, qolWeight: 0.5}
          Dead: {costPerChildYear: 0, qolWeight: 0, absorbing: true}
        population:
          initialCounts: {Well: 1000}
          ageing: false
        transitions:
          unit: probabilitiesPerYear
          matrix:
            Well: {Sick: 0.2, Dead: 0.01}
            Sick: {Well: 0.5, Dead: 0.05}
          dependence:
            - from: Sick
              to: Well
              on: sojourn
              unit: probabilitiesPerYear
              points: [{at: 0, value: 0.5}, {at: 12, value: 0.3}, {at: 36, value: 0.1}]
        """

    /// The exact trace with tunnel states Sick_0, Sick_1, Sick_2, Sick_3+ (steps already Sick, whose
    /// months 0, 12, 24, 36+ read recovery 0.5, 0.3, 0.3, 0.1 a year), summed back to Well, Sick, Dead.
    static func sojournTrace(steps: Int) -> [[Double]] {
        let recovery = [0.5, 0.3, 0.3, 0.1]
        // States: Well, Sick_0 … Sick_3, Dead.
        var p = [[Double]](repeating: [Double](repeating: 0, count: 6), count: 6)
        p[0][0] = 0.79; p[0][1] = 0.2; p[0][5] = 0.01
        for d in 0..<4 {
            let row = combined([0.5, 0.45, 0.05], from: 1, dt: 1) { $0[0] = -log(1 - recovery[d]) }
            p[1 + d][0] = row[0]; p[1 + d][5] = row[2]; p[1 + d][1 + min(d + 1, 3)] = row[1]
        }
        p[5][5] = 1
        return trace(start: [1000, 0, 0, 0, 0, 0], steps: steps) { _ in p }.map { s in [s[0], s[1] + s[2] + s[3] + s[4], s[5]] }
    }

    @Test func theAggregateModelCarriesSojournInTunnelStocksExactly() throws {
        let scenario = try Self.decode(Self.sojournScenario)
        let exact = Self.sojournTrace(steps: 12)
        let stocks = try Self.aggregateStocks(scenario.arms[0])
        for t in 0...12 { for l in 0..<3 { #expect(abs(stocks[t][l] - exact[t][l]) <= 1e-9, "step \(t) level \(l): \(stocks[t][l]) vs \(exact[t][l])") } }
    }

    @Test func theStepEngineIsSemiMarkovWithin4MCSE() throws {
        let scenario = try Self.decode(Self.sojournScenario)
        let runs = try Self.agentStocks(scenario.arms[0], replications: 200, seed: 7)
        let exact = Self.sojournTrace(steps: 12)
        Self.expectWithin4MCSE(runs, exact: exact, levels: 3, steps: [3, 6, 12], "sojourn")
        // The event engine simulates the same law: every step of a touched row is a candidate.
        Self.expectWithin4MCSE(try Self.agentStocks(scenario.arms[0], replications: 200, seed: 7, engine: .events), exact: exact, levels: 3, steps: [3, 6, 12], "sojourn, event engine")
        // Not the Markov trace of the matrix as written.
        let markov = Self.trace(start: [1000, 0, 0], steps: 12) { _ in [[0.79, 0.2, 0.01], [0.5, 0.45, 0.05], [0, 0, 1]] }
        #expect(abs(markov[12][1] - exact[12][1]) > 20)
    }

    // MARK: Calendar time, half-year steps

    static let calendarScenario = """
        name: calendar
        time: {stepMonths: 6, horizonYears: 12}
        levels:
          Well: {costPerChildYear: 0, qolWeight: 1}
          Sick: {costPerChildYear: 0, qolWeight: 0.5}
          Dead: {costPerChildYear: 0, qolWeight: 0, absorbing: true}
        population:
          initialCounts: {Well: 800, Sick: 200}
          ageing: false
        transitions:
          unit: ratesPerYear
          matrix:
            Well: {Sick: 0.2}
            Sick: {Well: 0.3, Dead: 0.02}
          dependence:
            - {from: Well, to: Dead, on: year, unit: ratesPerYear, points: [{at: 0, value: 0.01}, {at: 5, value: 0.03}, {at: 10, value: 0.05}]}
            - {from: Sick, to: Dead, on: year, unit: hazardRatio, factor: 1.5, points: [{at: 0, value: 1}, {at: 4, value: 2}]}
        """

    /// Step t starts at (t − 1)/2 years; the per-step rows without dependence are the arm's P = exp(Q/2).
    static func calendarTrace(_ arm: ArmModel) -> [[Double]] {
        let p = arm.transitionPerStep
        return trace(start: [800, 200, 0], steps: arm.steps) { t in
            let year = Double(t - 1) / 2
            let death = year >= 10 ? 0.05 : year >= 5 ? 0.03 : 0.01
            let ratio = (year >= 4 ? 2.0 : 1.0) * 1.5
            return [combined(p[0], from: 0, dt: 0.5) { $0[2] = death },
                    combined(p[1], from: 1, dt: 0.5) { $0[2] *= ratio }, [0, 0, 1]]
        }
    }

    @Test func calendarTimeIsReadAtTheStartOfEachStep() throws {
        let arm = try Self.decode(Self.calendarScenario).arms[0]
        let exact = Self.calendarTrace(arm)
        let stocks = try Self.aggregateStocks(arm)
        for t in 0...arm.steps { for l in 0..<3 { #expect(abs(stocks[t][l] - exact[t][l]) <= 1e-9, "step \(t) level \(l)") } }
        let runs = try Self.agentStocks(arm, replications: 200, seed: 5)
        Self.expectWithin4MCSE(runs, exact: exact, levels: 3, steps: [8, 16, 24], "calendar")
        // The event engine simulates the same law: every step of a touched row is a candidate.
        Self.expectWithin4MCSE(try Self.agentStocks(arm, replications: 200, seed: 5, engine: .events), exact: exact, levels: 3, steps: [8, 16, 24], "calendar, event engine")
    }

    // MARK: Everything together

    /// Practice, age bands, duration bands, births, in-migration, ageing out, stationary starting months
    /// and all three kinds of dependence: the step engine's mean stocks lie within 4 MCSE of the aggregate
    /// model with exposure and durations carried exactly (the agents' expectation).
    @Test func withEveryOtherFeatureTheAgentsMatchTheExactAggregate() throws {
        let text = """
            name: together
            time: {stepMonths: 3, horizonYears: 4}
            levels:
              Low: {costPerChildYear: 0, qolWeight: 1}
              Mid: {costPerChildYear: 0, qolWeight: 0.8}
              High: {costPerChildYear: 0, qolWeight: 0.5}
              Gone: {costPerChildYear: 0, qolWeight: 0, absorbing: true}
            population:
              initialCounts: {Low: 600, Mid: 250, High: 150}
              initialMonthsInLevel: stationary
              ageDistribution: [{fromYears: 0, toYears: 10, share: 0.6}, {fromYears: 10, toYears: 16, share: 0.4}]
              ageOutYears: 18
              births: {perYear: 40, entryLevels: {Low: 1}}
              migration: {inPerYear: 20, outRatePerYear: 0.02}
            transitions:
              unit: ratesPerYear
              matrix:
                Low: {Mid: 0.2, High: 0.02}
                Mid: {Low: 0.4, High: 0.1}
                High: {Mid: 0.3, Low: 0.05}
              ageMultipliers: [{fromYears: 0, escalationMultiplier: 1.2}, {fromYears: 12, escalationMultiplier: 0.8, stepDownMultiplier: 1.1}]
              durationDependence:
                High: [{fromMonths: 0, leaveMultiplier: 0.7}, {fromMonths: 6, leaveMultiplier: 1.2}]
              dependence:
                - {from: any, to: Gone, on: age, unit: probabilitiesPerYear, points: [{at: 0, value: 0.01}, {at: 5, value: 0.002}, {at: 15, value: 0.02}]}
                - {from: Mid, to: High, on: year, unit: hazardRatio, points: [{at: 0, value: 1}, {at: 2, value: 1.5}]}
                - {from: High, to: Mid, on: sojourn, unit: ratesPerYear, factor: 2, points: [{at: 0, value: 0.1}, {at: 9, value: 0.3}]}
            practice:
              support:
                intensity: [{timeYears: 0, value: 0.3}, {timeYears: 2, value: 0.8}]
                coverage: {share: 0.5}
                escalationEffect: 0.3
                stepDownEffect: 0.4
            """
        let arm = try Self.decode(text).arms[0]
        let result = try AggregateModel.run(arm: arm, options: AggregateOptions(mode: .cohort, exposure: .exact, durations: .exact))
        #expect(result.approximations.isEmpty, "\(result.approximations)")
        let layout = RecordLayout(arm: arm)
        let exact = (0...arm.steps).map { t in (0..<4).map { result.record[layout.index(step: t, slot: layout.slot(.stock, level: $0))] } }
        let runs = try Self.agentStocks(arm, replications: 200, seed: 11)
        Self.expectWithin4MCSE(runs, exact: exact, levels: 4, steps: [4, 8, 16], "together")
        // The event engine simulates the same law: every step of a touched row is a candidate.
        Self.expectWithin4MCSE(try Self.agentStocks(arm, replications: 200, seed: 11, engine: .events), exact: exact, levels: 4, steps: [4, 8, 16], "together, event engine")
        // The dependence matters here: without it the exact stocks differ by far more than the tolerance.
        var bare = arm
        bare.dependence = []
        let without = try AggregateModel.run(arm: bare, options: AggregateOptions(mode: .cohort, exposure: .exact, durations: .exact))
        #expect(abs(without.record[layout.index(step: 16, slot: layout.slot(.stock, level: 3))] - exact[16][3]) > 10)
    }

    // MARK: Untouched rows, engines, refusals

    /// Dependence on one row leaves the other rows' fast path: a hazard ratio of 1 everywhere gives the
    /// same stocks as no dependence in the aggregate model (to rounding), and `auto` takes the step engine, saying why, while `--engine events` runs it.
    @Test func aHazardRatioOfOneChangesNothingAndAutoTakesTheStepEngine() throws {
        let base = try Self.decode(Self.calendarScenario.components(separatedBy: "  dependence:")[0])
        let one = try Self.decode(Self.calendarScenario.components(separatedBy: "  dependence:")[0] + """
              dependence:
                - {from: Sick, to: Dead, on: year, unit: hazardRatio, points: [{at: 0, value: 1}]}
            """)
        let a = try Self.aggregateStocks(base.arms[0]), b = try Self.aggregateStocks(one.arms[0])
        for t in a.indices { for l in 0..<3 { #expect(abs(a[t][l] - b[t][l]) <= 1e-9) } }
        #expect(EventTables(tables: ArmTables(arm: base.arms[0])).unsupported == nil)
        #expect(EventTables(tables: ArmTables(arm: one.arms[0])).unsupported == nil)
        var plan = RunPlan(scenario: one, seed: 1, replications: 2, threads: 1)
        plan.engine = .auto
        let auto = try Runner.decide(plan)
        #expect(auto.kind == .steps)
        #expect(auto.reason?.contains("arm 'base' has transition-specific dependence (transitions.dependence)") == true)
        var events = plan
        events.engine = .events
        #expect(try Runner.decide(events).kind == .events)
    }

    @Test func sdModeRefusesDependence() throws {
        let arm = try Self.decode(Self.sojournScenario).arms[0]
        #expect(throws: AggregateError.self) { try AggregateModel.run(arm: arm, options: AggregateOptions(mode: .sd)) }
    }

    /// The example scenario validates and runs on the step engine.
    @Test func theExampleRuns() throws {
        let path = RewardConventionTests.root.appendingPathComponent("experiments/examples/life-table-mortality.yaml").path
        let scenario = try ScenarioDecoder.load(path: path)
        #expect(scenario.arms.allSatisfy { $0.dependence.count == 3 })
        #expect(scenario.arms[1].dependence[1].values == [2])
        let result = try Runner.run(RunPlan(scenario: scenario, seed: 3, replications: 2, threads: 1))
        #expect(result.rows.count == 4)
    }
}
