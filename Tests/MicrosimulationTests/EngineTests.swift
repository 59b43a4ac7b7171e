import Foundation
import Microsimulation
import Model
import Stochastics
import Testing
import TestSupport

@Suite("Agent engine")
struct EngineTests {
    /// One yearly step of 100,000 children in level B, with a practice of
    /// immediate effect at intensity x = 0.5 covering everyone. Observed
    /// destinations against the modulated probabilities of docs/methods.md §4:
    /// red × (1 − a·x), green × (1 + b·x), stay the rest. Chi-square with 3
    /// degrees of freedom; the test fails when p < 0.001 (fixed seed).
    @Test func oneStepFrequenciesMatchModulatedProbabilities() throws {
        let a = 0.4, b = 0.6, x = 0.5
        let yaml = """
        time: {stepMonths: 12, horizonYears: 1}
        levels:
          A: {costPerChildYear: 0, qolWeight: 1}
          B: {costPerChildYear: 0, qolWeight: 1}
          C: {costPerChildYear: 0, qolWeight: 1}
          D: {costPerChildYear: 0, qolWeight: 1}
        population:
          initialCounts: {B: 100000}
          ageing: false
        transitions:
          unit: probabilitiesPerStep
          matrix:
            A: {B: 0.1}
            B: {A: 0.2, C: 0.1, D: 0.05}
            C: {B: 0.1}
            D: {C: 0.1}
        practice:
          p: {intensity: \(x), escalationEffect: \(a), stepDownEffect: \(b), effectFunction: immediate}
        """
        let arm = try Fixtures.scenario(yaml).arms[0]
        let tables = ArmTables(arm: arm)
        let outcome = try Engine.run(tables: tables, seed: 2024, replication: 0)
        let layout = tables.layout
        let observed = [0, 1, 2, 3].map { j in
            j == 1 ? outcome.record[layout.index(step: 1, slot: layout.slot(.stock, level: 1))]
                   : outcome.record[layout.index(step: 1, slot: layout.flowSlot(from: 1, to: j)!)]
        }
        let pA = 0.2 * (1 + b * x), pC = 0.1 * (1 - a * x), pD = 0.05 * (1 - a * x)
        let expected = [pA, 1 - pA - pC - pD, pC, pD].map { $0 * 100_000 }
        let chiSquare = zip(observed, expected).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) / $1.1 }
        let p = Quantiles.chiSquareUpperTail(chiSquare, degreesOfFreedom: 3)
        #expect(p > 0.001, "chi-square \(chiSquare), p = \(p); observed \(observed), expected \(expected)")
    }

    /// When every child in a level shares one per-step matrix P, the mean
    /// stocks over replications follow S(t) = S(t−1)·P·(1 − q) + λ·dt·e
    /// exactly (q the out-migration probability, λ births per year, e the entry
    /// shares). Checked at every step and level within 4 Monte Carlo standard errors.
    @Test func meanStocksFollowTheCohortRecursion() throws {
        let yaml = """
        time: {stepMonths: 1, horizonYears: 3}
        levels:
          Low: {costPerChildYear: 0, qolWeight: 1}
          Mid: {costPerChildYear: 0, qolWeight: 1}
          High: {costPerChildYear: 0, qolWeight: 1}
        population:
          initialCounts: {Low: 600, Mid: 150, High: 50}
          ageing: false
          births: {perYear: 60, entryLevels: {Low: 0.8, Mid: 0.2}}
          migration: {outRatePerYear: 0.05}
        transitions:
          unit: ratesPerYear
          matrix:
            Low: {Mid: 0.2, High: 0.02}
            Mid: {Low: 0.6, High: 0.1}
            High: {Low: 0.1, Mid: 0.5}
        practice:
          everyone: {intensity: 0.6, escalationEffect: 0.3, stepDownEffect: 0.5, effectFunction: immediate}
        """
        let arm = try Fixtures.scenario(yaml).arms[0]
        let tables = ArmTables(arm: arm)
        let layout = tables.layout
        let n = arm.levels.count
        // The shared modulated matrix.
        var p = arm.transitionPerStep
        for i in 0..<n {
            for j in 0..<n where j != i { p[i][j] *= j > i ? (1 - 0.3 * 0.6) : (1 + 0.5 * 0.6) }
            p[i][i] = 1 - (0..<n).filter { $0 != i }.reduce(0) { $0 + p[i][$1] }
        }
        let q = 1 - exp(-0.05 / 12)
        var expected = [[Double]](repeating: [600, 150, 50], count: arm.steps + 1)
        for t in 1...arm.steps {
            for j in 0..<n {
                let moved = (0..<n).reduce(0) { $0 + expected[t - 1][$1] * p[$1][j] }
                expected[t][j] = moved * (1 - q) + 60.0 / 12 * [0.8, 0.2, 0][j]
            }
        }
        let replications = 400
        var sums = [Double](repeating: 0, count: layout.recordSize), squares = sums
        let population = Population()
        for r in 0..<replications {
            let record = try Engine.run(tables: tables, seed: 77, replication: UInt32(r), population: population).record
            for i in record.indices { sums[i] += record[i]; squares[i] += record[i] * record[i] }
        }
        var worst = 0.0
        for t in 1...arm.steps {
            for l in 0..<n {
                let i = layout.index(step: t, slot: layout.slot(.stock, level: l))
                let mean = sums[i] / Double(replications)
                let variance = (squares[i] - Double(replications) * mean * mean) / Double(replications - 1)
                let mcse = (variance / Double(replications)).squareRoot()
                let z = abs(mean - expected[t][l]) / mcse
                worst = max(worst, z)
                #expect(z < 4, "step \(t), level \(arm.levels[l].name): agent mean \(mean), cohort \(expected[t][l]), MCSE \(mcse)")
            }
        }
        #expect(worst > 0, "the comparison must have been made")
    }

    /// Stocks + cumulative exits = initial + cumulative entries, level by level and step by step.
    @Test func childrenAreConserved() throws {
        let scenario = try Fixtures.scenario(Fixtures.smallScenario)
        for arm in scenario.arms {
            let tables = ArmTables(arm: arm)
            let layout = tables.layout
            let record = try Engine.run(tables: tables, seed: 3, replication: 1).record
            let n = arm.levels.count
            func v(_ t: Int, _ q: Quantity, _ l: Int?) -> Double { record[layout.index(step: t, slot: layout.slot(q, level: l))] }
            var totalEntries = 0.0, totalExits = 0.0
            for t in 1...arm.steps {
                for l in 0..<n {
                    // Pairs that are not recorded cannot happen: no flow.
                    func flow(_ i: Int, _ j: Int) -> Double { layout.flowSlot(from: i, to: j).map { record[layout.index(step: t, slot: $0)] } ?? 0 }
                    let inflow = (0..<n).filter { $0 != l }.reduce(0.0) { $0 + flow($1, l) }
                    let outflow = (0..<n).filter { $0 != l }.reduce(0.0) { $0 + flow(l, $1) }
                    #expect(v(t, .stock, l) == v(t - 1, .stock, l) + inflow - outflow + v(t, .entries, l) - v(t, .exits, l),
                            "arm \(arm.name), step \(t), level \(arm.levels[l].name)")
                }
                totalEntries += v(t, .entries, nil)
                totalExits += v(t, .exits, nil)
                #expect(v(t, .stock, nil) + totalExits == v(0, .stock, nil) + totalEntries)
            }
            #expect(totalEntries > 0 && totalExits > 0, "the scenario must exercise entries and exits")
        }
    }

    /// Two identical arms meet identical random numbers: every child does the same.
    @Test func identicalArmsGiveIdenticalRecords() throws {
        let yaml = Fixtures.smallScenario.replacingOccurrences(of: "  practice:\n    practice:", with: "  copy:\n    practice:")
        let scenario = try Fixtures.scenario(yaml)
        let base = scenario.arms[0]
        let same = try Engine.run(tables: ArmTables(arm: base), seed: 11, replication: 4).record
        let again = try Engine.run(tables: ArmTables(arm: base), seed: 11, replication: 4).record
        // Bit patterns: an undefined mean stay is NaN, and NaN != NaN.
        #expect(same.map(\.bitPattern) == again.map(\.bitPattern))
        let otherLane = try Engine.run(tables: ArmTables(arm: base), seed: 11, replication: 4, armLane: 1).record
        #expect(same.map(\.bitPattern) != otherLane.map(\.bitPattern))
    }

    /// Half-cycle costs from a constant stock: N · c · dt per step, discounted at both ends.
    @Test func rewardsFollowTheTimingRule() throws {
        let yaml = """
        time: {stepMonths: 12, horizonYears: 3}
        levels:
          Only: {costPerChildYear: 1000, qolWeight: 0.5}
        population:
          initialCounts: {Only: 10}
          ageing: false
        transitions: {unit: probabilitiesPerStep, matrix: {Only: {Only: 1}}}
        discounting: {costRatePerYear: 0.05, qolRatePerYear: 0.0}
        rewardTiming: halfCycle
        """
        let arm = try Fixtures.scenario(yaml).arms[0]
        let tables = ArmTables(arm: arm)
        let layout = tables.layout
        let record = try Engine.run(tables: tables, seed: 1, replication: 0).record
        for t in 1...3 {
            let d0 = pow(1.05, -Double(t - 1)), d1 = pow(1.05, -Double(t))
            let cost = record[layout.index(step: t, slot: layout.slot(.costDiscounted, level: nil))]
            #expect(abs(cost - 10 * 1000 * (d0 + d1) / 2) < 1e-9)
            #expect(record[layout.index(step: t, slot: layout.slot(.qolYearsDiscounted, level: 0))] == 5)
        }
        let simpson = Rewards.weights(step: 1, steps: 4, timing: .simpson)
        let second = Rewards.weights(step: 2, steps: 4, timing: .simpson)
        #expect(abs(simpson.0 + simpson.1 + second.0 + second.1 - 2) < 1e-15)
        #expect(abs(simpson.0 - 1.0 / 3) < 1e-15 && abs(simpson.1 + second.0 - 4.0 / 3) < 1e-15)
    }

    /// With everyone covered, children reached are the children not in an absorbing level.
    @Test func childrenInAnAbsorbingLevelAreNotReached() throws {
        let yaml = """
        time: {stepMonths: 12, horizonYears: 10}
        levels:
          Well: {costPerChildYear: 0, qolWeight: 1}
          Ill: {costPerChildYear: 0, qolWeight: 0.5}
          Dead: {costPerChildYear: 0, qolWeight: 0, absorbing: true}
        population:
          initialCounts: {Well: 500, Ill: 100}
          ageing: false
          births: {perYear: 20, entryLevels: {Well: 1}}
        transitions:
          unit: probabilitiesPerYear
          matrix:
            Well: {Ill: 0.1, Dead: 0.02}
            Ill: {Well: 0.2, Dead: 0.1}
        practice:
          everyone: {intensity: 0.5, escalationEffect: 0.2, stepDownEffect: 0.2}
        programme: {costPerChildReachedPerYear: 100}
        """
        let arm = try Fixtures.scenario(yaml).arms[0]
        let tables = ArmTables(arm: arm)
        let layout = tables.layout
        let record = try Engine.run(tables: tables, seed: 4, replication: 0).record
        for t in 0...arm.steps {
            let alive = record[layout.index(step: t, slot: layout.slot(.stock, level: 0))]
                + record[layout.index(step: t, slot: layout.slot(.stock, level: 1))]
            #expect(record[layout.index(step: t, slot: layout.slot(.childrenReached, level: nil))] == alive, "step \(t)")
        }
        #expect(record[layout.index(step: arm.steps, slot: layout.slot(.stock, level: 2))] > 0, "some children must have died")
    }

    /// The reinvestment loop recomputes the practice multipliers step by step.
    /// When its money cannot move intensity (an enormous M₀), the records equal
    /// those of the precomputed table bit for bit; with a realistic M₀ and
    /// positive savings, the arm spends money on prevention.
    @Test func reinvestmentLoopMatchesTheStaticScheduleWhenMoneyHasNoEffect() throws {
        let loop = "    reinvestment: {fraction: 0.5, delayYears: 0.25, smoothingYears: 0.5, practice: relational, moneyScalePerYear: SCALE}"
        func arms(_ scale: String) throws -> [ArmModel] {
            let yaml = Fixtures.smallScenario.replacingOccurrences(of: "    programme: {costPerYear: 50000}",
                                                                   with: "    programme: {costPerYear: 50000}\n" + loop.replacingOccurrences(of: "SCALE", with: scale))
            return try Fixtures.scenario(yaml).arms
        }
        let plain = try Fixtures.scenario(Fixtures.smallScenario).arms
        let reference = try Engine.run(tables: ArmTables(arm: plain[0]), seed: 9, replication: 2).record
        let layout = RecordLayout(arm: plain[0])
        let path = Rewards.costRatePath(record: reference, layout: layout, arm: plain[0])
        let staticRecord = try Engine.run(tables: ArmTables(arm: plain[1]), seed: 9, replication: 2).record
        let inert = try arms("1e300")[1]
        #expect(inert.reinvestment != nil)
        let inertRecord = try Engine.run(tables: ArmTables(arm: inert), seed: 9, replication: 2, referenceCostPerYear: path).record
        let programme = layout.slot(.programmeCost, level: nil)
        for t in 0...layout.steps {
            for s in 0..<layout.slotCount where s != programme {
                let i = layout.index(step: t, slot: s)
                #expect(inertRecord[i].bitPattern == staticRecord[i].bitPattern, "step \(t), \(layout.slots[s].quantity)")
            }
        }
        // A reference £1m a year dearer: savings are positive, so money flows after the delay.
        let dearer = path.map { $0 + 1_000_000 }
        let active = try Engine.run(tables: ArmTables(arm: try arms("100000")[1]), seed: 9, replication: 2, referenceCostPerYear: dearer).record
        let spent = (1...layout.steps).reduce(0.0) { $0 + active[layout.index(step: $1, slot: programme)] }
        let planned = (1...layout.steps).reduce(0.0) { $0 + staticRecord[layout.index(step: $1, slot: programme)] }
        #expect(spent > planned, "reinvested money is spent on prevention: \(spent) vs \(planned)")
    }

    /// A worker's population is reused across replications and arms and grows
    /// when entries outnumber its capacity: every record equals the one from a
    /// fresh population (bit for bit).
    @Test func reusedPopulationGivesTheRecordsOfAFreshOne() throws {
        let small = try Fixtures.scenario(Fixtures.smallScenario).arms
        // Many more children and births than the small arms: the columns must grow, and keep what they hold.
        let larger = Fixtures.smallScenario
            .replacingOccurrences(of: "north: {Low: 300, Mid: 60, High: 20}", with: "north: {Low: 3000, Mid: 600, High: 200}")
            .replacingOccurrences(of: "perYear: {north: 30, south: 20}", with: "perYear: {north: 3000, south: 2000}")
        let big = try Fixtures.scenario(larger).arms
        let population = Population()
        for (r, arm) in [small[0], big[1], small[1], big[0], small[0]].enumerated() {
            let tables = ArmTables(arm: arm)
            let reused = try Engine.run(tables: tables, seed: 5, replication: UInt32(r), population: population).record
            let fresh = try Engine.run(tables: tables, seed: 5, replication: UInt32(r)).record
            #expect(reused.map(\.bitPattern) == fresh.map(\.bitPattern), "run \(r), arm \(arm.name)")
        }
    }

    /// The engine's own check on leave probabilities, for arms that did not come through the
    /// decoder's validation: B's only move is a step-down of 0.25 per step; with an immediate
    /// effect at intensity 1 and b = 4 it becomes 0.25 · (1 + 4) = 1.25 > 1 in step 1.
    @Test func aLeaveProbabilityAboveOneStopsTheEngineWithArmLevelAndStep() throws {
        let yaml = """
        time: {stepMonths: 12, horizonYears: 2}
        levels:
          A: {costPerChildYear: 0, qolWeight: 1}
          B: {costPerChildYear: 0, qolWeight: 1}
        population:
          initialCounts: {B: 10}
          ageing: false
        transitions:
          unit: probabilitiesPerStep
          matrix:
            A: {B: 0.1}
            B: {A: 0.25}
        practice:
          p: {intensity: 1, escalationEffect: 0, stepDownEffect: 0.5, effectFunction: immediate}
        """
        var arm = try Fixtures.scenario(yaml).arms[0]
        arm.practices[0].stepDownEffect = 4
        #expect(throws: EngineError.self) { try Engine.run(tables: ArmTables(arm: arm), seed: 1, replication: 0) }
        do {
            _ = try Engine.run(tables: ArmTables(arm: arm), seed: 1, replication: 0)
        } catch {
            #expect(error.description == "arm '\(arm.name)', level 'B', step 1: escalation multiplier 0.0, step-down multiplier 5.0 "
                    + "give a leave probability of 1.25 > 1 (stay probability below zero)")
        }
    }
}
