import Analysis
import Experiments
import Foundation
import Microsimulation
import Model
import Reports
import Stochastics
import Testing
import TestSupport

/// The event engine against the step engine: the same model, so the same distribution of every
/// output (docs/methods.md §12, docs/testing.md).
///
/// For each scenario both engines run the same replications (fixed seeds; the engines use
/// different random numbers, so the samples are independent). Then:
/// - every band cell (arm, step, quantity, level; and every paired difference): the two means
///   differ by at most z·√(MCSE₁² + MCSE₂²), with z = 4 — or, where a scenario has so many cells
///   that 4 would be passed by chance, the Bonferroni bound for a family-wise level of 0.001 over
///   its cells (z = Φ⁻¹(1 − 0.0005/cells), e.g. 5.3 for 24,000 cells); a cell constant in both
///   engines must be equal;
/// - per-replication totals (discounted cost, discounted QoL-years, child-years, per arm): the
///   two-sample Kolmogorov–Smirnov test does not reject at level 0.001.
/// A cell defined in fewer than 20 replications of either engine (a mean length of stay in a step
/// when few children leave) is left to `lengthsOfStayAgreeWhenPooled`, where every stay counts.
@Suite("Event engine against step engine")
struct EventEngineTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// The scenario with every head count (initial children, births, in-migrants) divided by `factor`
    /// and the horizon cut to at most `steps` steps.
    static func scaled(_ scenario: Scenario, by factor: Int, steps: Int = .max) -> Scenario {
        var s = scenario
        for a in s.arms.indices {
            s.arms[a].steps = min(s.arms[a].steps, steps)
            s.arms[a].initialCounts = s.arms[a].initialCounts.map { $0.map { ($0 + factor - 1) / factor } }
            s.arms[a].birthsPerYear = s.arms[a].birthsPerYear.map { $0 / Double(factor) }
            s.arms[a].immigrationPerYear = s.arms[a].immigrationPerYear.map { $0 / Double(factor) }
        }
        return s
    }

    struct Comparison {
        var worstZ = 0.0
        var worstCell = ""
        var cells = 0
        var threshold = 4.0
        var failures: [String] = []
    }

    /// Compare both engines on `scenario` over `replications` replications.
    static func compare(_ scenario: Scenario, replications: Int, seed: UInt64, baseCase: Bool = false) throws -> Comparison {
        func run(_ engine: EngineChoice) throws -> RunResult {
            var plan = RunPlan(scenario: scenario, seed: seed, replications: replications, threads: 2)
            plan.engine = engine
            plan.baseCase = baseCase
            return try Runner.run(plan)
        }
        let steps = try run(.steps), events = try run(.events)
        #expect(events.engine.kind == .events && steps.engine.kind == .steps)
        var c = Comparison()
        let a = steps.aggregator, b = events.aggregator
        c.cells = a.cells.count
        // Bonferroni for a family-wise level of 0.001 over the cells, never below 4.
        c.threshold = max(4, Quantiles.standardNormal(1 - 0.0005 / Double(a.cells.count)))
        let layout = RecordLayout(arm: scenario.arms[0])
        for i in a.cells.indices {
            // Mean and MCSE as bands.csv computes them (`SampleStatistics`), without its percentiles.
            let x = a.cells[i].moments, y = b.cells[i].moments
            let xMcse = Statistics.mcse(standardDeviation: x.standardDeviation, units: Int(x.count))
            let yMcse = Statistics.mcse(standardDeviation: y.standardDeviation, units: Int(y.count))
            let slot = layout.slots[i % a.slots]
            var name: String { "cell \(i) (block \(i / ((a.steps + 1) * a.slots)), step \(i / a.slots % (a.steps + 1)), \(slot.quantity.rawValue) level \(slot.level.map(String.init) ?? "all"))" }
            // The MCSE's normal approximation needs replications: a cell defined in few (a mean stay
            // when few leave) is checked through the pooled stays of `poolStays` instead.
            guard x.count >= 20 && y.count >= 20 else { continue }
            let se = (xMcse * xMcse + yMcse * yMcse).squareRoot()
            let diff = abs(x.mean - y.mean)
            if se == 0 {
                if diff > 1e-9 * max(1, abs(x.mean)) { c.failures.append("\(name): constant \(x.mean) (steps) vs \(y.mean) (events)") }
                continue
            }
            let z = diff / se
            if z > c.worstZ { c.worstZ = z; c.worstCell = "\(name): steps \(x.mean) ± \(xMcse), events \(y.mean) ± \(yMcse)" }
            if z > c.threshold { c.failures.append("\(name): steps \(x.mean) ± \(xMcse), events \(y.mean) ± \(yMcse), z = \(z)") }
        }
        // Each area's yearly values (replications-yearly.csv), which no band cell holds: the same
        // z-test on the replications' means, with its own Bonferroni threshold.
        let yearly = YearlyLayout(arm: scenario.arms[0])
        if !yearly.areas.isEmpty {
            let values = yearly.size - yearly.allAreasSize
            let threshold = max(4, Quantiles.standardNormal(1 - 0.0005 / Double(values * scenario.arms.count)))
            for arm in scenario.arms.indices {
                let xs = steps.rows.filter { $0.arm == arm }.map(\.yearly), ys = events.rows.filter { $0.arm == arm }.map(\.yearly)
                for i in yearly.allAreasSize..<yearly.size {
                    let x = SampleStatistics(xs.map { $0[i] }), y = SampleStatistics(ys.map { $0[i] })
                    let se = (x.mcse * x.mcse + y.mcse * y.mcse).squareRoot(), diff = abs(x.mean - y.mean)
                    let k = (i - yearly.allAreasSize) % yearly.areaSize
                    var name: String { "arm \(arm) area \((i - yearly.allAreasSize) / yearly.areaSize) year \(k / yearly.areaSlots.count + 1) \(yearly.slots[yearly.areaSlots[k % yearly.areaSlots.count]].quantity.rawValue)" }
                    if se == 0 {
                        if diff > 1e-9 * max(1, abs(x.mean)) { c.failures.append("\(name): constant \(x.mean) (steps) vs \(y.mean) (events)") }
                    } else if diff / se > threshold {
                        c.failures.append("\(name): steps \(x.mean) ± \(x.mcse), events \(y.mean) ± \(y.mcse), z = \(diff / se)")
                    }
                }
            }
        }
        for arm in scenario.arms.indices {
            for (label, value) in [("discounted cost", \ReplicationTotals.costDiscounted), ("discounted QoL-years", \.qolYearsDiscounted),
                                   ("child-years", \.childYears)] {
                let xs = steps.rows.filter { $0.arm == arm }.map { $0.totals[keyPath: value] }
                let ys = events.rows.filter { $0.arm == arm }.map { $0.totals[keyPath: value] }
                let p = TwoSample.kolmogorovSmirnovPValue(xs, ys)
                if p < 0.001 { c.failures.append("arm \(arm) \(label): Kolmogorov–Smirnov p = \(p)") }
            }
        }
        return c
    }

    static func check(_ c: Comparison, _ label: String) {
        #expect(c.failures.isEmpty, "\(label): \(c.failures.count) of \(c.cells) cells disagree beyond z = \(c.threshold): \(c.failures.prefix(5))")
    }

    /// `GIRFEC_ENGINE_AGREEMENT=full`: every comparison with 4× the replications and a tenth of the
    /// down-scaling (minutes in a debug build; run it with `swift test -c release`).
    static let full = ProcessInfo.processInfo.environment["GIRFEC_ENGINE_AGREEMENT"] == "full"

    /// The example scenarios `girfec run` accepts, with their populations scaled down and horizons cut
    /// to 60 steps so both engines run fast in a debug build.
    static let examples: [(file: String, scale: Int, replications: Int)] = [
        ("experiments/examples/age-and-duration.yaml", 2, 30),
        ("experiments/examples/areas-and-coverage.yaml", 2, 30),
        ("experiments/examples/effect-functions.yaml", 2, 30),
        ("experiments/examples/health-economics-markov.yaml", 1, 40),
        ("experiments/examples/four-strategies.yaml", 1, 40),
        ("experiments/examples/migration.yaml", 2, 30),
        ("experiments/examples/minimal.yaml", 1, 40),
        ("experiments/examples/per-step-probabilities.yaml", 1, 40),
        ("experiments/examples/reward-timing.yaml", 1, 40),
        ("experiments/examples/reward-conventions.yaml", 1, 40),
        ("experiments/examples/yearly-probabilities.yaml", 2, 30),
        ("experiments/examples/life-table-mortality.yaml", 4, 30),  // transition-specific dependence
        ("experiments/default/scenario.yaml", 400, 20),
        ("experiments/agents-vs-stocks/without-duration-dependence.yaml", 400, 20),
        ("experiments/agents-vs-stocks/zero-durations.yaml", 400, 20),
        ("experiments/same-stock-different-flows/scenario.yaml", 400, 20),
        ("experiments/wm2u-uncertainty/scenario.yaml", 400, 20),
        ("calibration/scenario.yaml", 100, 30),
    ]

    @Test(arguments: examples.indices)
    func enginesAgreeOnTheExample(_ k: Int) throws {
        let e = Self.examples[k]
        let scenario = try ScenarioDecoder.load(path: Self.root.appendingPathComponent(e.file).path)
        let small = Self.full ? Self.scaled(scenario, by: max(1, e.scale / 10)) : Self.scaled(scenario, by: e.scale, steps: 60)
        let c = try Self.compare(small, replications: Self.full ? 4 * e.replications : e.replications, seed: 7 + UInt64(k),
                                 baseCase: scenario.uncertainty != nil)
        Self.check(c, e.file)
    }

    /// Parameter uncertainty drawn per replication: the event engine's tables are rebuilt per draw.
    @Test func enginesAgreeWithParameterUncertainty() throws {
        let scenario = try ScenarioDecoder.load(path: Self.root.appendingPathComponent("Tests/ReportsTests/Scenarios/uncertainty.yaml").path)
        #expect(scenario.uncertainty != nil)
        let c = try Self.compare(scenario, replications: Self.full ? 800 : 200, seed: 41)
        Self.check(c, "uncertainty.yaml")
    }

    /// A random small scenario: 2–4 levels (the last sometimes absorbing), random rates, age and
    /// duration bands, one or two practices with partial coverage, ageing out, births, migration,
    /// a random reward timing and step length.
    static func randomScenario(_ k: Int) -> String {
        let stream = RandomStream(StreamAddress(seed: 99, replication: UInt32(k), purpose: .testing))
        func u() -> Double { stream.uniform() }
        func pick<T>(_ xs: [T]) -> T { xs[min(xs.count - 1, Int(u() * Double(xs.count)))] }
        let n = 2 + Int(u() * 3)
        let absorbing = n >= 3 && u() < 0.3
        let names = (0..<n).map { "L\($0)" }
        let stepMonths = pick([1, 1, 3, 6, 12])
        let years = stepMonths >= 6 ? 8 : 3
        var levels = "", counts = "", matrix = "", duration = ""
        for (i, name) in names.enumerated() {
            let last = absorbing && i == n - 1
            levels += "  \(name): {costPerChildYear: \(Int(u() * 20000)), qolWeight: \(String(format: "%.2f", 0.5 + 0.5 * u()))\(last ? ", absorbing: true" : "")}\n"
            counts += "\(name): \(last ? 0 : 20 + Int(u() * 120)), "
            if last { continue }
            var row: [String] = []
            for (j, other) in names.enumerated() where j != i && u() < 0.8 { row.append("\(other): \(String(format: "%.3f", 0.02 + 0.6 * u() * u()))") }
            if row.isEmpty { row.append("\(names[(i + 1) % n]): 0.2") }
            matrix += "    \(name): {\(row.joined(separator: ", "))}\n"
            if u() < 0.5 {
                let cut = pick([3, 6, 12, 24])
                duration += "    \(name): [{fromMonths: 0, leaveMultiplier: \(String(format: "%.2f", 0.5 + u()))}, {fromMonths: \(cut), leaveMultiplier: \(String(format: "%.2f", 0.4 + u()))}]\n"
            }
        }
        let ageOut = pick([6, 10, 18])
        let timing = pick(["start", "end", "halfCycle", "simpson"])
        let effect = pick(["saturating", "linear", "immediate"])
        return """
        name: random \(k)
        time: {stepMonths: \(stepMonths), horizonYears: \(years)}
        levels:
        \(levels)areas: [a, b]
        population:
          initialCounts:
            a: {\(counts)}
            b: {\(counts)}
          ageDistribution: [{fromYears: 0, toYears: \(ageOut), share: 1}]
          ageing: \(u() < 0.8)
          ageOutYears: \(ageOut)
          births: {perYear: {a: \(Int(u() * 40)), b: \(Int(u() * 20))}, entryLevels: {\(names[0]): 1}}
          migration: {inPerYear: {a: \(Int(u() * 10)), b: 2}, outRatePerYear: \(String(format: "%.3f", 0.1 * u()))}
        transitions:
          unit: ratesPerYear
          matrix:
        \(matrix)  ageMultipliers:
            - {fromYears: 0, escalationMultiplier: \(String(format: "%.2f", 0.8 + 0.5 * u())), stepDownMultiplier: 1}
            - {fromYears: \(ageOut / 2), escalationMultiplier: 1, stepDownMultiplier: \(String(format: "%.2f", 0.8 + 0.4 * u()))}
        \(duration.isEmpty ? "" : "  durationDependence:\n" + duration)discounting: {costRatePerYear: 0.035, qolRatePerYear: 0.015}
        rewardTiming: \(timing)
        arms:
          base: {}
          practice:
            practice:
              p1:
                intensity: [{timeYears: 0, value: \(String(format: "%.2f", 0.2 * u()))}, {timeYears: \(years / 2), value: \(String(format: "%.2f", 0.5 + 0.5 * u()))}]
                coverage: {areas: [a], share: \(String(format: "%.2f", 0.3 + 0.7 * u()))}
                escalationEffect: \(String(format: "%.2f", 0.5 * u()))
                stepDownEffect: \(String(format: "%.2f", 0.6 * u()))
                timeToEffectYears: \(String(format: "%.2f", 2 * u()))
                effectFunction: \(effect)
              p2:
                intensity: 0.5
                coverage: {areas: [a, b], share: 0.5}
                escalationEffect: 0.1
                stepDownEffect: 0.2
                timeToEffectYears: 1
        """
    }

    @Test(arguments: 0..<(full ? 24 : 5))
    func enginesAgreeOnARandomScenario(_ k: Int) throws {
        let yaml = Self.randomScenario(k)
        let scenario = try ScenarioDecoder.decode(yaml: yaml, file: "random \(k)")
        let c = try Self.compare(scenario, replications: Self.full ? 160 : 40, seed: 300 + UInt64(k))
        Self.check(c, "random scenario \(k):\n\(yaml)")
    }

    /// Per replication and level, the mean length of the stays that ended during the run (months
    /// summed over every step / stays ended): both engines' means agree within 4 MCSE, on scenarios
    /// with duration dependence, stationary initial durations, ageing out and migration.
    @Test(arguments: ["experiments/default/scenario.yaml", "experiments/examples/age-and-duration.yaml"])
    func lengthsOfStayAgreeWhenPooled(_ file: String) throws {
        let scenario = Self.scaled(try ScenarioDecoder.load(path: Self.root.appendingPathComponent(file).path), by: file.contains("default") ? 80 : 1)
        let arm = scenario.arms.count - 1
        let tables = ArmTables(arm: scenario.arms[arm]), events = EventTables(tables: tables)
        let layout = tables.layout, n = layout.levelCount
        func pooled(_ record: [Double]) -> [Double] {
            (0..<n).map { l in
                var months = 0.0, stays = 0.0
                for t in 1...layout.steps {
                    let leavers = record[layout.index(step: t, slot: layout.slot(.outflow, level: l))]
                    if leavers > 0 { months += 12 * leavers * record[layout.index(step: t, slot: layout.slot(.lengthOfStayYears, level: l))]; stays += leavers }
                }
                return stays > 0 ? months / stays : .nan
            }
        }
        var a: [[Double]] = [], b: [[Double]] = []
        for r in 0..<40 {
            a.append(pooled(try Engine.run(tables: tables, seed: 17, replication: UInt32(r)).record))
            b.append(pooled(EventEngine.run(events: events, seed: 17, replication: UInt32(r)).record))
        }
        for l in 0..<n {
            let x = a.map { $0[l] }.filter { !$0.isNaN }, y = b.map { $0[l] }.filter { !$0.isNaN }
            guard x.count >= 20 && y.count >= 20 else { continue }
            let se = (pow(Statistics.standardDeviation(x), 2) / Double(x.count) + pow(Statistics.standardDeviation(y), 2) / Double(y.count)).squareRoot()
            let z = abs(Statistics.mean(x) - Statistics.mean(y)) / se
            #expect(z <= 4, "\(file) level \(l): mean stay \(Statistics.mean(x)) months (steps) vs \(Statistics.mean(y)) (events), z = \(z)")
        }
    }

    /// One bound across a level's age bands (`EventTables.mergeAgeBands`) is taken where it adds few
    /// candidates (Low: 0.05 a year, age multipliers 0.2, 3 and 1) and left where it would add many
    /// (Mid: 1.5 a year); either way the event engine agrees with the step engine, its candidates
    /// accepted with p_t / q and p_t read in the candidate's own age band.
    @Test func ageBandsShareABoundWhereThatIsCheapAndStayExact() throws {
        let yaml = """
        name: age bands with one bound
        time: {stepMonths: 1, horizonYears: 6}
        levels:
          Low: {costPerChildYear: 500, qolWeight: 0.9}
          Mid: {costPerChildYear: 3000, qolWeight: 0.8}
          High: {costPerChildYear: 9000, qolWeight: 0.7}
        population:
          initialCounts: {Low: 300, Mid: 60, High: 40}
          ageDistribution: [{fromYears: 0, toYears: 14, share: 1}]
          ageOutYears: 14
          births: {perYear: 40, entryLevels: {Low: 1}}
        transitions:
          unit: ratesPerYear
          matrix:
            Low: {Mid: 0.05}
            Mid: {High: 1.5, Low: 0.2}
            High: {Mid: 0.5}
          ageMultipliers:
            - {fromYears: 0, escalationMultiplier: 0.2, stepDownMultiplier: 1}
            - {fromYears: 4, escalationMultiplier: 3, stepDownMultiplier: 1}
            - {fromYears: 10, escalationMultiplier: 1, stepDownMultiplier: 1}
        """
        let scenario = try ScenarioDecoder.decode(yaml: yaml, file: "age bands")
        let events = EventTables.forArms(scenario.arms.map { ArmTables(arm: $0) })
        #expect(events[0].ageBandsMerged == [true, false, true])
        var frozen = scenario
        frozen.arms[0].ageing = false
        #expect(EventTables.forArms(frozen.arms.map { ArmTables(arm: $0) })[0].ageBandsMerged == [false, false, false],
                "children who do not age never change age band: nothing to merge")
        let c = try Self.compare(scenario, replications: Self.full ? 800 : 200, seed: 57)
        Self.check(c, "age bands with one bound")
    }

    /// The children's Philox blocks made eight at a time (`BlockBatch`: vector code where the processor
    /// has AVX2, one by one otherwise) or child by child with their rounds interleaved give every
    /// arm's record and totals bit for bit.
    @Test func blocksMadeEightAtOnceGiveTheSameReplications() throws {
        let scenario = Self.scaled(try ScenarioDecoder.load(path: Self.root.appendingPathComponent("experiments/default/scenario.yaml").path),
                                   by: 20)
        let events = EventTables.forArms(scenario.arms.map { ArmTables(arm: $0) })
        for r in UInt32(0)..<3 {
            let vector = EventEngine.run(arms: events, seed: 5, replication: r, eightAtOnce: true)
            let single = EventEngine.run(arms: events, seed: 5, replication: r, eightAtOnce: false)
            for a in events.indices {
                #expect(vector[a].record.map(\.bitPattern) == single[a].record.map(\.bitPattern), "replication \(r), arm \(a)")
                #expect(vector[a].totals == single[a].totals)
            }
        }
    }

    /// The comparison can fail: a step-down 40 % more likely in one engine's scenario is found.
    @Test func theComparisonDetectsAChangedModel() throws {
        let scenario = try ScenarioDecoder.load(path: Self.root.appendingPathComponent("experiments/examples/minimal.yaml").path)
        var changed = scenario
        for a in changed.arms.indices {
            let n = changed.arms[a].levels.count
            let p = changed.arms[a].transitionPerStep[n - 1][0] * 1.4
            changed.arms[a].transitionPerStep[n - 1][n - 1] -= p - changed.arms[a].transitionPerStep[n - 1][0]
            changed.arms[a].transitionPerStep[n - 1][0] = p
        }
        func run(_ s: Scenario, _ engine: EngineChoice) throws -> RunResult {
            var plan = RunPlan(scenario: s, seed: 11, replications: 120, threads: 2)
            plan.engine = engine
            return try Runner.run(plan)
        }
        let steps = try run(scenario, .steps), events = try run(changed, .events)
        let totalsA = steps.rows.map(\.totals.costDiscounted), totalsB = events.rows.map(\.totals.costDiscounted)
        #expect(TwoSample.kolmogorovSmirnovPValue(totalsA, totalsB) < 0.001)
    }

    /// Reinvestment cannot be simulated event-wise: auto takes the step engine and says why;
    /// `events` refuses with the reason.
    @Test func reinvestmentFallsBackToTheStepEngine() throws {
        let scenario = try ScenarioDecoder.load(path: Self.root.appendingPathComponent("experiments/reinvestment/scenario.yaml").path)
        var plan = RunPlan(scenario: scenario, seed: 1, replications: 1, threads: 1)
        plan.engine = .auto
        let decision = try Runner.decide(plan)
        #expect(decision.kind == .steps)
        #expect(decision.reason?.contains("arm 'wm2u-reinvest' reinvests its savings") == true, "\(decision)")
        plan.engine = .events
        #expect { try Runner.decide(plan) } throws: { error in
            "\(error)".contains("--engine events cannot simulate this scenario exactly: arm 'wm2u-reinvest' reinvests its savings")
        }
        plan.engine = .auto
        plan.scenario = try ScenarioDecoder.load(path: Self.root.appendingPathComponent("experiments/default/scenario.yaml").path)
        #expect(try Runner.decide(plan) == EngineDecision(kind: .events, reason: nil))
    }

    /// The event engine's bytes do not depend on threads or shards.
    /// Arms run together (`EventEngine.run(arms:)`: shared arrivals, children reached by no practice
    /// simulated once, first-stay months corrected per arm, the other children's copies stepped together
    /// until they part) give every arm, value for value, what it
    /// gets alone. The default experiment's arms differ in practices (so in coverage words, and in the
    /// initial children's months in level), and one level has duration bands.
    @Test(arguments: ["experiments/default/scenario.yaml", "experiments/examples/areas-and-coverage.yaml",
                      "experiments/examples/age-and-duration.yaml"])
    func armsTogetherGiveWhatEachArmGetsAlone(_ file: String) throws {
        let scenario = Self.scaled(try ScenarioDecoder.load(path: Self.root.appendingPathComponent(file).path),
                                   by: file.contains("default") ? 20 : 1)
        let events = EventTables.forArms(scenario.arms.map { ArmTables(arm: $0) })
        for r in 0..<6 {
            let together = EventEngine.run(arms: events, seed: 23, replication: UInt32(r))
            #expect(together.count == events.count)
            for (a, e) in events.enumerated() {
                let alone = EventEngine.run(events: e, seed: 23, replication: UInt32(r))
                #expect(together[a].record.map(\.bitPattern) == alone.record.map(\.bitPattern),
                        "\(file) replication \(r) arm \(a): the record differs when the arms run together")
                #expect(together[a].totals == alone.totals, "\(file) replication \(r) arm \(a): totals differ")
                #expect(together[a].areaRecords.map { $0.map(\.bitPattern) } == alone.areaRecords.map { $0.map(\.bitPattern) },
                        "\(file) replication \(r) arm \(a): an area's record differs when the arms run together")
            }
        }
    }

    @Test func eventEngineBytesAreTheSameForAnyThreadsAndShards() throws {
        let scenario = try Fixtures.scenario(Fixtures.smallScenario)
        func plan(threads: Int, shard: Shard = .whole) -> RunPlan {
            var p = RunPlan(scenario: scenario, seed: 5, replications: 6, shard: shard, threads: threads)
            p.engine = .events
            return p
        }
        let one = try DeterminismTests.outputs(plan(threads: 1))
        let two = try DeterminismTests.outputs(plan(threads: 2))
        #expect(two.bands == one.bands && two.replications == one.replications && two.yearly == one.yearly)
        var parts: [(source: String, state: RunState)] = []
        for k in [2, 1] {
            let shard = try DeterminismTests.outputs(plan(threads: 2, shard: Shard(index: k, count: 2)))
            parts.append(("shard \(k)", try RunState.decode(shard.state.encoded(), source: "shard \(k)")))
        }
        let merged = try RunState.merge(parts)
        #expect(Tables.bands(scenario: scenario, bands: RunResults(state: merged, scenario: scenario).bands) == one.bands)
        #expect(Tables.replications(scenario: scenario, rows: merged.rows) == one.replications)
        #expect(DeterminismTests.yearly(scenario, merged) == one.yearly)
        // And the event engine is not the step engine.
        var steps = plan(threads: 1)
        steps.engine = .steps
        #expect(try DeterminismTests.outputs(steps).replications != one.replications)
    }

    /// Common random numbers still pair the arms in the event engine: the paired difference has a
    /// far smaller variance than with independent streams (measured against the step engine's in docs/performance.md).
    @Test func commonRandomNumbersReduceThePairedVarianceInTheEventEngine() throws {
        let scenario = try Fixtures.scenario(Fixtures.smallScenario)
        func pairedVariance(_ crn: Bool) throws -> Double {
            var plan = RunPlan(scenario: scenario, seed: 21, replications: 60, threads: 2, commonRandomNumbers: crn)
            plan.engine = .events
            let result = try Runner.run(plan)
            let deltas = stride(from: 0, to: result.rows.count, by: 2).map {
                result.rows[$0 + 1].totals.costDiscounted - result.rows[$0].totals.costDiscounted
            }
            let mean = deltas.reduce(0, +) / Double(deltas.count)
            return deltas.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(deltas.count - 1)
        }
        let common = try pairedVariance(true), independent = try pairedVariance(false)
        #expect(common * 2 < independent, "variance of Δcost: common \(common), independent \(independent)")
    }
}

/// Two-sample tests for the engine comparison.
enum TwoSample {
    /// The two-sample Kolmogorov–Smirnov statistic D = sup |F₁ − F₂| and its asymptotic p-value
    /// Q(λ) = 2 Σ_{k≥1} (−1)^{k−1} exp(−2k²λ²), λ = (√nₑ + 0.12 + 0.11/√nₑ)·D, nₑ = n₁n₂/(n₁+n₂)
    /// (Stephens 1970; Press et al., Numerical Recipes, §14.3).
    static func kolmogorovSmirnovPValue(_ a: [Double], _ b: [Double]) -> Double {
        let x = a.sorted(), y = b.sorted()
        var i = 0, j = 0, d = 0.0
        while i < x.count && j < y.count {
            let v = min(x[i], y[j])
            while i < x.count && x[i] <= v { i += 1 }
            while j < y.count && y[j] <= v { j += 1 }
            d = max(d, abs(Double(i) / Double(x.count) - Double(j) / Double(y.count)))
        }
        let ne = Double(x.count * y.count) / Double(x.count + y.count)
        let lambda = (ne.squareRoot() + 0.12 + 0.11 / ne.squareRoot()) * d
        if lambda < 0.2 { return 1 }
        var sum = 0.0, sign = 1.0
        for k in 1...100 {
            let term = sign * exp(-2 * Double(k * k) * lambda * lambda)
            sum += term
            if abs(term) < 1e-12 { break }
            sign = -sign
        }
        return min(1, max(0, 2 * sum))
    }
}
