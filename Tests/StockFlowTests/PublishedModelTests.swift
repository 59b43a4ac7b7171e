import Experiments
import Foundation
import Model
import StockFlow
import Testing
import TestSupport

/// The published health-economics models in experiments/published/ against exact cohort values computed
/// here from each model's definition (not with girfec's aggregate code): the aggregate model in cohort
/// mode to 1e-9 relative, the agents within 4 Monte Carlo standard errors (fixed seeds, cohorts made small
/// through the scenario text; a false alarm has probability about 6e-5 per check).
@Suite("Published models")
struct PublishedModelTests {
    static let folder = RewardConventionTests.root.appendingPathComponent("experiments/published")
    static let microsimulation = folder.appendingPathComponent("sick-sicker-microsimulation/scenario.yaml").path
    static let timeDependent = folder.appendingPathComponent("sick-sicker-timedep-cohort/scenario.yaml").path
    static let timeDependentDARTH = folder.appendingPathComponent("sick-sicker-timedep-cohort/scenario-darth-probabilities.yaml").path

    /// Mean and Monte Carlo standard error of `values`.
    static func meanAndMCSE(_ values: [Double]) -> (mean: Double, mcse: Double) {
        let mean = values.reduce(0, +) / Double(values.count)
        let sd = (values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(values.count - 1)).squareRoot()
        return (mean, sd / Double(values.count).squareRoot())
    }

    /// The scenario at `path` with its cohort of `from` people made `to` people (the relative file paths
    /// of its tables still resolve in its folder).
    static func smaller(_ path: String, from: String, to: String) throws -> Scenario {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        #expect(text.contains(from))
        let folder = URL(fileURLWithPath: path).deletingLastPathComponent()
        return try ScenarioDecoder.decode(yaml: text.replacingOccurrences(of: from, with: to), file: path, readFile: { name in
            try? String(contentsOf: folder.appendingPathComponent(name), encoding: .utf8)
        })
    }

    /// Every arm's per-person mean discounted cost and QoL-years, and every later arm's difference from
    /// the first, within 4 MCSE of `exact` (per person, per arm).
    static func expectAgentsWithin4MCSE(_ result: RunResult, people: Double, exact: [(cost: Double, qol: Double)], _ what: String) {
        func perPerson(_ arm: Int, _ value: (ReplicationTotals) -> Double) -> [Double] {
            result.rows.filter { $0.arm == arm }.sorted { $0.replication < $1.replication }.map { value($0.totals) / people }
        }
        for arm in exact.indices {
            let cost = perPerson(arm, \.costDiscounted), qol = perPerson(arm, \.qolYearsDiscounted)
            var checks = [(cost, exact[arm].cost, "cost"), (qol, exact[arm].qol, "QALYs")]
            if arm > 0 {
                let cost0 = perPerson(0, \.costDiscounted), qol0 = perPerson(0, \.qolYearsDiscounted)
                checks.append((zip(cost, cost0).map { $0 - $1 }, exact[arm].cost - exact[0].cost, "Δcost"))
                checks.append((zip(qol, qol0).map { $0 - $1 }, exact[arm].qol - exact[0].qol, "ΔQALYs"))
            }
            for (values, expected, name) in checks {
                let (mean, mcse) = meanAndMCSE(values)
                #expect(mcse > 0 && abs(mean - expected) <= 4 * mcse, "\(what) arm \(arm) \(name): mean \(mean), exact \(expected), MCSE \(mcse)")
            }
        }
    }

    // MARK: Krijkamp et al. 2018, Appendix B

    /// Exact discounted (cost, QALYs) per person of the Appendix B microsimulation: a cohort over
    /// (state, years sick) as in the paper's MicroSim (dur counts consecutive cycles in S1 or S2; the
    /// arrival state is valued with dur before its update; E[X] = 1), rewards at boundaries 0 … 30 with
    /// weight 1, discounted 3 % a year.
    static func microsimulationExact(treated: Bool) -> (cost: Double, qol: Double) {
        let rHD = -log(1 - 0.005), trt = treated ? 1.0 : 0.0
        // States 0 H, 1 S1, 2 S2, 3 D.
        func probabilities(_ state: Int, _ dur: Int) -> [Double] {
            let m = 1 + 0.2 * Double(dur)
            switch state {
            case 0: return [0.845, 0.15, 0, 0.005]
            case 1: let d = 1 - exp(-3 * rHD * m); return [0.5, 1 - 0.5 - 0.105 - d, 0.105, d]
            case 2: let d = 1 - exp(-10 * rHD * m); return [0, 0, 1 - d, d]
            default: return [0, 0, 0, 1]
            }
        }
        func cost(_ s: Int) -> Double { [2000, 4000 + 12000 * trt, 15000 + 12000 * trt, 0][s] }
        func qol(_ s: Int, _ dur: Int) -> Double { s == 1 ? trt * (0.95 - 0.03 * Double(dur)) + (1 - trt) * 0.75 : [1, 0, 0.5, 0][s] }
        var mass: [Int: Double] = [0: 1]                     // key: state · 100 + dur
        var total = (cost: cost(0), qol: 1.0)
        for t in 1...30 {
            var next: [Int: Double] = [:]
            var c = 0.0, e = 0.0
            for (key, m) in mass {
                let (s, dur) = (key / 100, key % 100)
                for (j, p) in probabilities(s, dur).enumerated() where p > 0 {
                    c += m * p * cost(j)
                    e += m * p * qol(j, dur)
                    next[j * 100 + (j == 1 || j == 2 ? dur + 1 : 0), default: 0] += m * p
                }
            }
            mass = next
            let d = pow(1.03, -Double(t))
            total.cost += c * d
            total.qol += e * d
        }
        return total
    }

    @Test func theMicrosimulationsAggregateModelIsExact() throws {
        let scenario = try ScenarioDecoder.load(path: Self.microsimulation)
        #expect(scenario.arms.map(\.name) == ["no_treatment", "treatment"])
        for (arm, treated) in zip(scenario.arms, [false, true]) {
            let exact = Self.microsimulationExact(treated: treated)
            let totals = try AggregateModel.run(arm: arm, options: AggregateOptions(mode: .cohort)).totals
            #expect(abs(totals.costDiscounted / 100_000 - exact.cost) <= 1e-9 * exact.cost, "\(arm.name): \(totals.costDiscounted / 100_000) vs \(exact.cost)")
            #expect(abs(totals.qolYearsDiscounted / 100_000 - exact.qol) <= 1e-9 * exact.qol, "\(arm.name): \(totals.qolYearsDiscounted / 100_000) vs \(exact.qol)")
        }
        // The Python script's values (experiments/published/sick-sicker-microsimulation/exact.py) agree.
        #expect(abs(Self.microsimulationExact(treated: false).cost - 62706.618484) < 1e-5)
        #expect(abs(Self.microsimulationExact(treated: true).qol - 15.80555197) < 1e-7)
    }

    /// 40 replications of 2,500 people, seed 2018, event engine (exact in distribution here).
    @Test func theMicrosimulationsAgentsAreWithin4MCSE() throws {
        let scenario = try Self.smaller(Self.microsimulation, from: "initialCounts: {H: 100000}", to: "initialCounts: {H: 2500}")
        var plan = RunPlan(scenario: scenario, seed: 2018, replications: 40, threads: 2)
        plan.engine = .events
        let result = try Runner.run(plan)
        Self.expectAgentsWithin4MCSE(result, people: 2500, exact: [false, true].map { Self.microsimulationExact(treated: $0) }, "microsimulation")
    }

    // MARK: Alarid-Escudero et al. 2023, time-dependent cohort

    /// Central death rates m_x (column Total) of the life table the scenario reads, by age.
    static func lifeTable() throws -> [Int: Double] {
        let path = URL(fileURLWithPath: timeDependent).deletingLastPathComponent().appendingPathComponent("LifeTable_USA_Mx_2015.csv")
        let lines = try String(contentsOf: path, encoding: .utf8).split(whereSeparator: \.isNewline).dropFirst()
        var mu: [Int: Double] = [:]
        for line in lines {
            let cells = line.split(separator: ",")
            mu[Int(cells[1])!] = Double(cells[4])!
        }
        return mu
    }

    /// Exact discounted (cost, QALYs) per person of the time-dependent Sick-Sicker model as girfec reads
    /// it: a cohort trace over H, S1, S2, D from age 25 for 75 yearly cycles; each row either DARTH's
    /// death-first probabilities (`darth`) or the matrix row's hazards plus the death hazard m_x·(1, 3, 10)
    /// as competing risks; state rewards with Simpson's 1/3 weights (the last, odd step ½, ½), one-off
    /// rewards (H → S1 £1,000 and −0.01; each death £2,000) at the end of their step; 3 % discounting.
    static func timeDependentExact(strategy: String, darth: Bool, mu: [Int: Double]) -> (cost: Double, qol: Double) {
        let a = strategy.contains("A"), b = strategy.contains("B")
        let add = (a ? 12000.0 : 0) + (b ? 13000.0 : 0)
        let cost = [2000, 4000 + add, 15000 + add, 0], qol = [1, a ? 0.95 : 0.75, 0.5, 0]
        let pHS1 = 1 - exp(-0.15), pS1H = 1 - exp(-0.5), pS1S2 = 1 - exp(-0.105 * (b ? 0.6 : 1))
        func row(_ i: Int, _ m: Double) -> [Double] {
            let hr = [1.0, 3, 10][i]
            if darth {
                let d = 1 - exp(-hr * m)
                return [[(1 - d) * (1 - pHS1), (1 - d) * pHS1, 0, d],
                        [(1 - d) * pS1H, (1 - d) * (1 - pS1H - pS1S2), (1 - d) * pS1S2, d], [0, 0, 1 - d, d]][i]
            }
            let moves = [[0, pHS1, 0], [pS1H, 0, pS1S2], [0, 0, 0]][i]
            let leave = moves.reduce(0, +)
            var hazard = moves.map { leave > 0 ? -log(1 - leave) * $0 / leave : 0 } + [hr * m]
            let total = hazard.reduce(0, +), stay = exp(-total)
            hazard = hazard.map { (1 - stay) * $0 / total }
            hazard[i] = stay
            return hazard
        }
        var weight = [Double](repeating: 0, count: 76)
        for t in stride(from: 1, through: 73, by: 2) { weight[t - 1] += 1.0 / 3; weight[t] += 4.0 / 3; weight[t + 1] += 1.0 / 3 }
        weight[74] += 0.5; weight[75] += 0.5
        var s = [1.0, 0, 0, 0]
        var total = (cost: weight[0] * 2000, qol: weight[0])
        for t in 1...75 {
            let p = (0..<3).map { row($0, mu[25 + t - 1]!) }
            let sick = s[0] * p[0][1], deaths = (0..<3).map { s[$0] * p[$0][3] }.reduce(0, +)
            s = (0..<4).map { j in (0..<3).map { s[$0] * p[$0][j] }.reduce(0, +) + (j == 3 ? s[3] : 0) }
            let d = pow(1.03, -Double(t))
            total.cost += d * (weight[t] * (0..<4).map { s[$0] * cost[$0] }.reduce(0, +) + 1000 * sick + 2000 * deaths)
            total.qol += d * (weight[t] * (0..<4).map { s[$0] * qol[$0] }.reduce(0, +) - 0.01 * sick)
        }
        return total
    }

    @Test(arguments: [false, true])
    func theTimeDependentAggregateModelIsExact(darth: Bool) throws {
        let mu = try Self.lifeTable()
        let scenario = try ScenarioDecoder.load(path: darth ? Self.timeDependentDARTH : Self.timeDependent)
        #expect(scenario.arms.map(\.name) == ["SoC", "A", "B", "AB"])
        for arm in scenario.arms {
            let exact = Self.timeDependentExact(strategy: arm.name, darth: darth, mu: mu)
            let totals = try AggregateModel.run(arm: arm, options: AggregateOptions(mode: .cohort)).totals
            #expect(abs(totals.costDiscounted / 10_000 - exact.cost) <= 1e-9 * exact.cost, "\(arm.name): \(totals.costDiscounted / 10_000) vs \(exact.cost)")
            #expect(abs(totals.qolYearsDiscounted / 10_000 - exact.qol) <= 1e-9 * exact.qol, "\(arm.name): \(totals.qolYearsDiscounted / 10_000) vs \(exact.qol)")
        }
        // The Python script's values (experiments/published/sick-sicker-timedep-cohort/exact.py) agree.
        let soc = Self.timeDependentExact(strategy: "SoC", darth: darth, mu: mu)
        #expect(abs(soc.cost - (darth ? 117100.7408 : 118126.9579)) < 1e-3 && abs(soc.qol - (darth ? 19.19953947 : 19.37328492)) < 1e-7)
    }

    /// 100 replications of 100 people, seed 2023, step engine (the event engine refuses a dependence).
    @Test func theTimeDependentAgentsAreWithin4MCSE() throws {
        let mu = try Self.lifeTable()
        let scenario = try Self.smaller(Self.timeDependent, from: "initialCounts: {H: 10000}", to: "initialCounts: {H: 100}")
        var plan = RunPlan(scenario: scenario, seed: 2023, replications: 100, threads: 2)
        plan.engine = .steps
        let result = try Runner.run(plan)
        let exact = ["SoC", "A", "B", "AB"].map { Self.timeDependentExact(strategy: $0, darth: false, mu: mu) }
        Self.expectAgentsWithin4MCSE(result, people: 100, exact: exact, "time-dependent")
    }
}
