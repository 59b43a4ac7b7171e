import Foundation
import Model

/// The report of a `girfec sensitivity` folder (`girfec report DIR`): the design, the base point,
/// the one-way analyses as tornado tables, the two-way grids and the sweeps, and how to
/// reproduce them; the same three files as a run's report (`ReportDocument`).
///
/// A sensitivity folder has no `state.bin`: its results are the rows of `sensitivity.csv`,
/// which hold every number at full precision (shortest round-trip form), so the report reads
/// them back and only formats them — it computes nothing but the swing of a one-way entry
/// (high − low), the difference the tornado is ordered by.
public enum SensitivityReport {
    /// One row of sensitivity.csv (`SensitivityTable.header`).
    public struct Row: Sendable, Equatable {
        public var analysis: String
        public var name: String
        public var point: Int
        public var parameter1: String
        public var value1: Double?
        public var parameter2: String
        public var value2: Double?
        public var bound: String
        public var arm: String
        public var outcome: String
        public var replications: Int
        public var mean: Double
        public var mcse: Double?
        public var ciLow: Double?
        public var ciHigh: Double?
    }

    /// The rows of a sensitivity.csv text, or every problem found (file, line, column, what was found).
    public static func rows(csv text: String, source: String) -> Result<[Row], ReportInputError> {
        let (records, unclosed) = CSV.records(text)
        var problems: [String] = []
        if let line = unclosed { problems.append("\(source): line \(line): a quoted cell is never closed") }
        guard let head = records.first else {
            return .failure(ReportInputError(problems: problems + ["\(source): empty; expected the sensitivity.csv of `girfec sensitivity`"]))
        }
        guard head.cells == SensitivityTable.header else {
            return .failure(ReportInputError(problems: problems + ["\(source): line \(head.line): header \(head.cells.joined(separator: ",")); expected \(SensitivityTable.header.joined(separator: ","))"]))
        }
        var rows: [Row] = []
        for r in records.dropFirst() {
            guard r.cells.count == head.cells.count else {
                problems.append("\(source): line \(r.line): \(r.cells.count) cells; expected \(head.cells.count)")
                continue
            }
            let c = r.cells
            func number(_ k: Int, optional: Bool) -> Double? {
                if c[k].isEmpty && optional { return nil }
                guard let v = Double(c[k]), v.isFinite else {
                    problems.append("\(source): line \(r.line), column \(head.cells[k]): '\(c[k])'; expected a finite number")
                    return nil
                }
                return v
            }
            func whole(_ k: Int) -> Int {
                guard let v = Int(c[k]), v >= 0 else {
                    problems.append("\(source): line \(r.line), column \(head.cells[k]): '\(c[k])'; expected a whole number ≥ 0")
                    return 0
                }
                return v
            }
            guard ["base", "oneWay", "twoWay", "sweep"].contains(c[0]) else {
                problems.append("\(source): line \(r.line), column analysis: '\(c[0])'; expected base, oneWay, twoWay or sweep")
                continue
            }
            rows.append(Row(analysis: c[0], name: c[1], point: whole(2), parameter1: c[3], value1: number(4, optional: true),
                            parameter2: c[5], value2: number(6, optional: true), bound: c[7], arm: c[8], outcome: c[9],
                            replications: whole(10), mean: number(11, optional: false) ?? .nan, mcse: number(12, optional: true),
                            ciLow: number(13, optional: true), ciHigh: number(14, optional: true)))
        }
        if rows.isEmpty { problems.append("\(source): no rows; expected at least the base point's") }
        return problems.isEmpty ? .success(rows) : .failure(ReportInputError(problems: problems))
    }

    /// What a sensitivity folder's manifest.json says that the report shows.
    public struct Provenance: Sendable {
        public var scenarioName: String
        public var scenarioPath: String
        public var scenarioSHA256: String
        public var experimentPath: String
        public var experimentSHA256: String
        public var seed: String
        public var replicationsPerPoint: Int
        public var version: String
        public var gitCommit: String

        /// From the parsed manifest.json; what is missing reads "unknown".
        public init(manifest m: [String: Any]) {
            let scenario = m["scenario"] as? [String: Any] ?? [:]
            let experiment = m["experiment"] as? [String: Any] ?? [:]
            scenarioName = scenario["name"] as? String ?? "unknown"
            scenarioPath = scenario["path"] as? String ?? "unknown"
            scenarioSHA256 = scenario["sha256"] as? String ?? "unknown"
            experimentPath = experiment["path"] as? String ?? "unknown"
            experimentSHA256 = experiment["sha256"] as? String ?? "unknown"
            seed = m["seed"] as? String ?? (m["seed"] as? Int).map(String.init) ?? "unknown"
            replicationsPerPoint = m["replicationsPerPoint"] as? Int ?? 0
            version = m["version"] as? String ?? "unknown"
            gitCommit = m["gitCommit"] as? String ?? "unknown"
        }
    }

    /// A readable name of an outcome column and whether it is money:
    /// delta_net_benefit_20000 → ("ΔNMB at £20,000/QoL-year", true).
    static func label(_ outcome: String) -> (text: String, money: Bool) {
        switch outcome {
        case "cost_discounted": return ("discounted cost", true)
        case "qol_years_discounted": return ("discounted QoL-years", false)
        case "delta_cost_discounted": return ("Δcost", true)
        case "delta_qol_years_discounted": return ("ΔQoL-years", false)
        default:
            let prefix = "delta_net_benefit_"
            if outcome.hasPrefix(prefix), let l = Double(outcome.dropFirst(prefix.count)) {
                return ("ΔNMB at \(HumanFormat.money(l))/QoL-year", true)
            }
            return (outcome, false)
        }
    }

    static func estimate(_ r: Row) -> String {
        let money = label(r.outcome).money
        guard let low = r.ciLow, let high = r.ciHigh else { return HumanFormat.together([r.mean], width: .nan, money: money)[0] }
        return HumanFormat.interval(r.mean, low, high, money: money)
    }

    /// The report files of a sensitivity folder: `report.md`, `report.tex`, `report-tables.tex`.
    public static func files(rows: [Row], provenance p: Provenance, folder: String, figures: [ReportFigure]) -> [(name: String, text: String)] {
        var arms: [String] = []
        for r in rows where !arms.contains(r.arm) { arms.append(r.arm) }
        // The outcomes a reader compares first: the later arms' differences, or a single arm's levels.
        var keys: [(arm: String, outcome: String)] = []
        for r in rows where r.analysis == "base" && (arms.count > 1 ? r.arm != arms[0] && r.outcome.hasPrefix("delta_") : true) {
            keys.append((r.arm, r.outcome))
        }
        func key(_ r: Row) -> Bool { keys.contains { $0.arm == r.arm && $0.outcome == r.outcome } }
        func value(_ v: Double?) -> String { v.map { HumanFormat.number($0, digits: 6) } ?? "—" }

        var doc = ReportDocument(title: "Sensitivity analysis of \(p.scenarioName)")
        doc.paragraph("Generated by `girfec report` from `\(folder)`, written by `girfec sensitivity`. Every point is the scenario with some values replaced, run with the same seed and random numbers (common random numbers), so differences between points are the effect of their values. Means with the 95 % confidence interval of the mean (Student's t) over \(HumanFormat.count(p.replicationsPerPoint)) replications per point; the same numbers as sensitivity.csv.")

        doc.section("Base point")
        doc.paragraph("The scenario's own values.")
        doc.table(.init(caption: "Base point", label: "tab:sensitivity-base", header: ["arm", "outcome", "mean (95 % CI)"],
                        rows: rows.filter { $0.analysis == "base" }.map { [$0.arm, label($0.outcome).text, estimate($0)] },
                        columns: [.wrap(0.25), .wrap(0.3), .wrap(0.4)]))

        let oneWay = rows.filter { $0.analysis == "oneWay" }
        if !oneWay.isEmpty {
            doc.section("One-way analyses")
            doc.paragraph("Each parameter at its low and high value, the others at the base; entries ordered by their swing, |high − low| of the outcome (the tornado of uncertainty_figures.py).")
            var n = 0
            for k in keys {
                let base = rows.first { $0.analysis == "base" && $0.arm == k.arm && $0.outcome == k.outcome }
                var entries: [(name: String, path: String, low: Row?, high: Row?)] = []
                for r in oneWay where r.arm == k.arm && r.outcome == k.outcome {
                    if let i = entries.firstIndex(where: { $0.name == r.name }) {
                        if r.bound == "low" { entries[i].low = r } else { entries[i].high = r }
                    } else {
                        entries.append((r.name, r.parameter1, r.bound == "low" ? r : nil, r.bound == "low" ? nil : r))
                    }
                }
                func swing(_ e: (name: String, path: String, low: Row?, high: Row?)) -> Double {
                    guard let l = e.low?.mean, let h = e.high?.mean else { return 0 }
                    return abs(h - l)
                }
                entries.sort { swing($0) > swing($1) }
                let money = label(k.outcome).money
                n += 1
                doc.table(.init(caption: "One-way analyses: \(label(k.outcome).text) of \(k.arm)\(base.map { " (base \(estimate($0)))" } ?? "")",
                                label: "tab:sensitivity-oneway-\(n)",
                                header: ["entry", "parameter", "low", "at low", "high", "at high", "swing"],
                                rows: entries.map { e in
                                    ["`\(e.name)`", "`\(e.path)`", value(e.low?.value1), e.low.map(estimate) ?? "—",
                                     value(e.high?.value1), e.high.map(estimate) ?? "—",
                                     e.low != nil && e.high != nil ? HumanFormat.together([swing(e)], width: .nan, money: money)[0] : "—"]
                                },
                                columns: [.wrap(0.13), .wrap(0.19), .wrap(0.1), .wrap(0.18), .wrap(0.1), .wrap(0.18), .wrap(0.11)]))
            }
        }

        let twoWay = rows.filter { $0.analysis == "twoWay" && key($0) }
        if !twoWay.isEmpty {
            doc.section("Two-way analyses")
            doc.paragraph("Every combination of two parameters' values, the others at the base (the heatmaps of uncertainty_figures.py).")
            var n = 0
            var names: [String] = []
            for r in twoWay where !names.contains(r.name) { names.append(r.name) }
            for name in names {
                for k in keys {
                    let cells = twoWay.filter { $0.name == name && $0.arm == k.arm && $0.outcome == k.outcome }.sorted { $0.point < $1.point }
                    guard let first = cells.first else { continue }
                    n += 1
                    doc.table(.init(caption: "Two-way analysis '\(name)': \(label(k.outcome).text) of \(k.arm)",
                                    label: "tab:sensitivity-twoway-\(n)",
                                    header: ["`\(first.parameter1)`", "`\(first.parameter2)`", "mean (95 % CI)"],
                                    rows: cells.map { [value($0.value1), value($0.value2), estimate($0)] },
                                    columns: [.wrap(0.3), .wrap(0.3), .wrap(0.35)]))
                }
            }
        }

        let sweeps = rows.filter { $0.analysis == "sweep" && key($0) }
        if !sweeps.isEmpty {
            doc.section("Sweeps")
            doc.paragraph("One parameter over a range of values, the others at the base (the lines of uncertainty_figures.py).")
            var names: [String] = []
            for r in sweeps where !names.contains(r.name) { names.append(r.name) }
            for (n, name) in names.enumerated() {
                let entry = sweeps.filter { $0.name == name }
                let points = Array(Set(entry.map(\.point))).sorted()
                let path = entry.first?.parameter1 ?? ""
                doc.table(.init(caption: "Sweep '\(name)'", label: "tab:sensitivity-sweep-\(n + 1)",
                                header: ["`\(path)`"] + keys.map { "\(label($0.outcome).text)\(arms.count > 2 ? " (\($0.arm))" : "")" },
                                rows: points.map { point in
                                    let at = entry.filter { $0.point == point }
                                    return [value(at.first?.value1)] + keys.map { k in
                                        at.first { $0.arm == k.arm && $0.outcome == k.outcome }.map(estimate) ?? "—"
                                    }
                                },
                                columns: [.wrap(0.16)] + keys.map { _ in .wrap(min(0.26, 0.78 / Double(max(keys.count, 1)))) }))
            }
        }

        doc.section("Reproduce")
        doc.table(.init(caption: "How to reproduce the analysis", label: "tab:reproduce", header: ["item", "value"], rows: [
            ["girfec version", p.version],
            ["git commit", "\(p.gitCommit) (from manifest.json)"],
            ["experiment", "`\(p.experimentPath)`"],
            ["experiment SHA-256", "`\(p.experimentSHA256)`"],
            ["scenario", "`\(p.scenarioPath)`"],
            ["scenario SHA-256", "`\(p.scenarioSHA256)`"],
            ["seed", p.seed],
            ["replications per point", HumanFormat.count(p.replicationsPerPoint)],
        ], columns: [.wrap(0.22), .wrap(0.76)]))
        doc.blocks.append(.code(["girfec sensitivity \(p.experimentPath) --replications \(p.replicationsPerPoint) --out DIR"]))
        doc.paragraph("The folder holds the experiment and scenario files as run (experiment.yaml, scenario.yaml); docs/sensitivity.md describes the analyses.")
        return doc.files(folder: folder, figures: figures)
    }
}

/// What is wrong with a folder's files `girfec report` reads: every problem, each naming its file.
public struct ReportInputError: Error, Sendable, CustomStringConvertible {
    public var problems: [String]
    public var description: String { problems.joined(separator: "\n") }
}
