import ArgumentParser
import Model
import Reports

struct Validate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check a scenario file against every rule, report all problems at once, run nothing.")

    @Argument(help: "The scenario file (YAML).")
    var scenario: String

    @OptionGroup var resources: ResourceLimit

    func run() throws {
        do throws(ScenarioError) {
            let s = try ScenarioDecoder.load(path: scenario)
            if let problem = resources.problem(s, file: scenario) { throw problem }
            print(Summary.describe(s, file: scenario))
        } catch {
            printError(error.description)
            throw ExitCode(invalidInputStatus)
        }
    }
}

enum Summary {
    static func describe(_ s: Scenario, file: String) -> String {
        let a = s.arms[0]
        let n = a.levels.count, moves = RecordLayout.moveCount(arm: a)
        /// `OutputEstimate.runFolder` at `r` replications (the scenario's text size taken as 64 kB).
        func folder(_ r: Int) -> String {
            OutputFolder.bytesText(OutputEstimate.runFolder(arms: s.arms.count, steps: a.steps, stepMonths: a.stepMonths, levels: n,
                                                            moves: moves, areas: a.areas.count, replications: r,
                                                            parameters: s.uncertainty?.columns.count ?? 0, scenarioBytes: 65_536))
        }
        var lines = ["\(file): valid. '\(s.name)'",
                     "  arms: \(s.arms.map(\.name).joined(separator: ", ")) (differences are against '\(a.name)')",
                     "  levels: \(s.levels.joined(separator: ", "))",
                     "  areas: \(a.areas.joined(separator: ", "))",
                     "  time: \(a.steps) steps of \(a.stepMonths) month\(a.stepMonths == 1 ? "" : "s") (\(a.horizonYears) years)",
                     "  initial children: \(a.initialCounts.flatMap { $0 }.reduce(0, +))",
                     "  resources: \(ResourceEstimate(scenario: s).summary)",
                     "  moves that can happen: \(moves) of \(n * (n - 1)) pairs of levels (flows are recorded for these)",
                     "  output: a run folder of at most about \(folder(100)) at 100 replications, \(folder(1000)) at 1,000 (girfec run; --quantities writes less)"]
        for arm in s.arms {
            let practices = arm.practices.map(\.name)
            lines.append("  arm \(arm.name): transitions \(arm.transitionConversion); practice: \(practices.isEmpty ? "none" : practices.joined(separator: ", ")); reward timing \(arm.rewardTiming)")
            for d in arm.dependence {
                let names = arm.levels.map(\.name)
                let from = d.from.count == 1 ? names[d.from[0]] : "{\(d.from.map { names[$0] }.joined(separator: ", "))}"
                let keys = d.keys.count == 1 ? "from \(CSV.number(d.keys[0])) \(d.on.keyUnit)"
                    : "\(d.keys.count) rows, \(CSV.number(d.keys[0]))–\(CSV.number(d.keys[d.keys.count - 1])) \(d.on.keyUnit)"
                lines.append("    dependence: \(from) → \(names[d.to]) on \(d.on.rawValue) (\(keys)), \(d.unit.rawValue)\(d.factor != 1 ? " × \(CSV.number(d.factor))" : "")")
            }
            if let r = arm.transitionRewards {
                let names = arm.levels.map(\.name)
                func amounts(_ cost: Double, _ qol: Double) -> String {
                    [cost != 0 ? "£\(CSV.number(cost))" : nil, qol != 0 ? "\(CSV.number(qol)) QoL-years" : nil]
                        .compactMap { $0 }.joined(separator: ", ")
                }
                var parts: [String] = []
                for i in names.indices {
                    for j in names.indices where i != j && (r.moveCost[i][j] != 0 || r.moveQolChange[i][j] != 0) {
                        parts.append("\(names[i]) → \(names[j]) \(amounts(r.moveCost[i][j], r.moveQolChange[i][j]))")
                    }
                }
                for l in names.indices where r.intoCost[l] != 0 || r.intoQolChange[l] != 0 {
                    parts.append("into \(names[l]) \(amounts(r.intoCost[l], r.intoQolChange[l]))")
                }
                lines.append("    one-off rewards per move (at the end of its step): \(parts.isEmpty ? "all zero" : parts.joined(separator: "; "))")
            }
        }
        if let u = s.uncertainty {
            lines.append("  parameter uncertainty: \(u.parameters.count) distribution\(u.parameters.count == 1 ? "" : "s") over \(u.columns.count) value\(u.columns.count == 1 ? "" : "s")"
                         + (u.drawTable.map { "; draws file \($0.file) with \($0.rows.count) rows" } ?? "")
                         + (u.groups.isEmpty ? "" : "; EVPPI groups \(u.groups.map(\.name).joined(separator: ", "))"))
            for p in u.parameters {
                lines.append("    \(p.name): \(p.path) ~ \(p.distribution.label)")
            }
        }
        return lines.joined(separator: "\n")
    }
}
