import Foundation
@testable import Reports
import Testing
import TestSupport

/// A number that appears in two outputs is the same number in both (docs/methods.md,
/// "Statistics used by all outputs"): a nested run with parameter uncertainty and two
/// arms (65 draws, enough for EVPPI and importance of one parameter), its run folder
/// and `girfec report`, compared file against file.
///
/// CSV cells are full precision, so they are compared as text; report.md and
/// report-tables.tex round, so the test formats the CSV's value with the report's
/// formatting and looks for that text.
@Suite("One number everywhere")
struct OutputConsistencyTests {
    typealias Row = [String: String]

    static func table(_ path: String) throws -> [Row] { try UncertaintyCommandTests.csv(path) }

    /// The LaTeX row the report makes of `cells`.
    static func texRow(_ cells: [String]) -> String { ReportDocument.latexRow(cells) }

    static func mdRow(_ cells: [String]) -> String { "| " + cells.joined(separator: " | ") + " |" }

    @Test func everySharedNumberIsIdenticalAcrossOutputs() throws {
        let file = try CommandLineTests.write(UncertaintyCommandTests.scenario, name: "same.yaml")
        let out = Fixtures.temporaryFolder("girfec-e2e") + "/same"
        let run = try CommandLineTests.girfec(["run", file, "--replications", "130", "--replications-per-draw", "2", "--seed", "11",
                                               "--out", out, "--threads", "2"])
        #expect(run.status == 0, "stderr: \(run.stderr)")
        let report = try CommandLineTests.girfec(["report", out])
        #expect(report.status == 0, "stderr: \(report.stderr)")
        let md = try String(contentsOfFile: out + "/report.md", encoding: .utf8)
        let tex = try String(contentsOfFile: out + "/report-tables.tex", encoding: .utf8)
        let texLines = Set(tex.split(separator: "\n").map(String.init))
        let document = try String(contentsOfFile: out + "/report.tex", encoding: .utf8)
        let documentLines = Set(document.split(separator: "\n").map(String.init))
        let bands = try Self.table(out + "/bands.csv")
        let summary = try Self.table(out + "/summary.csv")
        func num(_ row: Row, _ column: String) -> Double { Double(row[column] ?? "") ?? .nan }
        func expectInBoth(_ cells: [String], sourceLocation: SourceLocation = #_sourceLocation) {
            #expect(md.contains(Self.mdRow(cells)), "report.md lacks \(Self.mdRow(cells))", sourceLocation: sourceLocation)
            #expect(texLines.contains(Self.texRow(cells)), "report-tables.tex lacks \(Self.texRow(cells))", sourceLocation: sourceLocation)
            #expect(documentLines.contains(Self.texRow(cells)), "report.tex lacks \(Self.texRow(cells))", sourceLocation: sourceLocation)
        }
        let last = try #require(bands.map { Int($0["step"]!)! }.max())
        func band(_ arm: String, _ quantity: String, step: Int? = nil, level: String = "all") throws -> Row {
            try #require(bands.first { $0["arm"] == arm && $0["quantity"] == quantity && $0["step"] == String(step ?? last) && $0["level"] == level },
                         "no bands.csv row \(arm) \(quantity)")
        }

        // 1. Totals at the horizon: bands.csv (last step) = summary.csv = report.md = report-tables.tex = the run's headline.
        let statistics = ["replications", "mean", "mcse", "ci_low", "ci_high", "p2_5", "p50", "p97_5"]
        for (quantity, measure) in [("delta_cumulative_cost_discounted", "delta_cost_discounted"),
                                    ("delta_cumulative_qol_years_discounted", "delta_qol_years_discounted")] {
            let b = try band("practice", quantity)
            let s = try #require(summary.first { $0["arm"] == "practice" && $0["measure"] == measure })
            for c in statistics { #expect(b[c] == s[c], "\(measure) \(c): bands.csv \(b[c] ?? "") vs summary.csv \(s[c] ?? "")") }
        }
        for (label, quantity, arm, money) in [("baseline: cost", "cumulative_cost_discounted", "baseline", true),
                                              ("baseline: QoL-years", "cumulative_qol_years_discounted", "baseline", false),
                                              ("practice: cost", "cumulative_cost_discounted", "practice", true),
                                              ("practice: QoL-years", "cumulative_qol_years_discounted", "practice", false),
                                              ("practice − baseline: Δcost", "delta_cumulative_cost_discounted", "practice", true),
                                              ("practice − baseline: ΔQoL-years", "delta_cumulative_qol_years_discounted", "practice", false)] {
            let b = try band(arm, quantity)
            let ci = HumanFormat.together([num(b, "mean"), num(b, "ci_low"), num(b, "ci_high")], width: num(b, "ci_high") - num(b, "ci_low"), money: money)
            let range = HumanFormat.together([num(b, "p2_5"), num(b, "p97_5")], width: num(b, "p97_5") - num(b, "p2_5"), money: money)
            expectInBoth([label, ci[0], "\(ci[1]) to \(ci[2])", "\(range[0]) to \(range[1])"])
            let headline = "\(ci[0]) (95 % CI \(ci[1]) to \(ci[2]); 2.5–97.5 % of replications \(range[0]) to \(range[1]))"
            #expect(run.stdout.contains(headline), "the headline lacks \(label) \(headline):\n\(run.stdout)")
        }

        // 2. Cost-effectiveness: summary.csv = report.md = report-tables.tex.
        func ce(_ measure: String, wtp: String = "") throws -> Row {
            try #require(summary.first { $0["arm"] == "practice" && $0["measure"] == measure && $0["willingness_to_pay"] == wtp })
        }
        func interval(_ r: Row, money: Bool) -> String { HumanFormat.interval(num(r, "mean"), num(r, "ci_low"), num(r, "ci_high"), money: money) }
        expectInBoth(["practice", "Δcost", interval(try ce("delta_cost_discounted"), money: true)])
        expectInBoth(["practice", "ΔQoL-years", interval(try ce("delta_qol_years_discounted"), money: false)])
        // The ICER in words, from the same mean differences (summary.csv's icer row is their ratio).
        let dc = num(try ce("delta_cost_discounted"), "mean"), dq = num(try ce("delta_qol_years_discounted"), "mean")
        #expect(abs(num(try ce("icer"), "mean") - dc / dq) <= 1e-9 * abs(dc / dq))
        expectInBoth(["practice", "ICER (ratio of mean differences)", HumanFormat.icer(deltaCost: dc, deltaQol: dq)])
        #expect(run.stdout.contains("practice − baseline: ICER " + HumanFormat.icer(deltaCost: dc, deltaQol: dq)), "\(run.stdout)")
        for wtp in ["20000", "30000"] {
            let l = Report.money(Double(wtp)!)
            expectInBoth(["practice", "net monetary benefit at \(l)/QoL-year", interval(try ce("net_monetary_benefit", wtp: wtp), money: true)])
            let nmb = try ce("net_monetary_benefit", wtp: wtp)
            let ci = HumanFormat.together([num(nmb, "mean"), num(nmb, "ci_low"), num(nmb, "ci_high")], width: num(nmb, "ci_high") - num(nmb, "ci_low"), money: true)
            let range = HumanFormat.together([num(nmb, "p2_5"), num(nmb, "p97_5")], width: num(nmb, "p97_5") - num(nmb, "p2_5"), money: true)
            let line = "practice − baseline: ΔNMB at \(l) per QoL-year \(ci[0]) (95 % CI \(ci[1]) to \(ci[2]); 2.5–97.5 % of replications \(range[0]) to \(range[1]))"
            #expect(run.stdout.contains(line), "the headline lacks \(line):\n\(run.stdout)")
            expectInBoth(["practice", "probability cost-effective at \(l)/QoL-year", interval(try ce("probability_cost_effective", wtp: wtp), money: false)])
        }
        expectInBoth(["practice", "probability cheaper and better", interval(try ce("probability_win_win"), money: false)])
        expectInBoth(["practice", "probability cost-saving", interval(try ce("probability_cost_saving"), money: false)])

        // 3. Variance split: uncertainty.csv = report.
        let split = try Self.table(out + "/uncertainty.csv")
        #expect(!split.isEmpty)
        for r in split where !(r["parameter_share"] ?? "").isEmpty {
            let ci = (r["parameter_share_ci_low"] ?? "").isEmpty ? ""
                : " (\(Report.fmt(num(r, "parameter_share_ci_low") * 100, digits: 3)) to \(Report.fmt(num(r, "parameter_share_ci_high") * 100, digits: 3)))"
            expectInBoth([r["arm"]!, r["outcome"]!, "\(Report.fmt(num(r, "parameter_share") * 100, digits: 3)) %\(ci)"])
        }

        // 4. Importance: the largest main-effect share of each difference, importance.csv = report.
        let importance = try Self.table(out + "/importance.csv")
        for outcome in ["delta_cost_discounted", "delta_qol_years_discounted"] {
            let top = try #require(importance.first { $0["outcome"] == outcome && $0["parameter_group"] != "both" })
            expectInBoth(["practice", outcome, top["parameter_group"]!, "\(Report.fmt(num(top, "main_effect_share") * 100, digits: 3)) %"])
        }

        // 5. Value of information at the summary's willingness to pay: voi.csv = report.
        let voi = try Self.table(out + "/voi.csv").filter { ["20000", "30000"].contains($0["willingness_to_pay"]) }
        #expect(voi.contains { $0["measure"] == "evpi" })
        for r in voi {
            expectInBoth([r["measure"]!.uppercased(), (r["parameter_group"] ?? "").isEmpty ? "all" : r["parameter_group"]!,
                          Report.money(num(r, "willingness_to_pay")), Report.money(num(r, "value")), r["optimal_arm"]!])
        }

        // 5b. Incremental analysis: incremental.csv's means are bands.csv's last step; it, acceptability.csv,
        // the report and the printed lines agree.
        let incremental = try Self.table(out + "/incremental.csv")
        #expect(incremental.map { $0["arm"]! }.sorted() == ["baseline", "practice"])
        for r in incremental {
            #expect(r["cost_discounted"] == (try band(r["arm"]!, "cumulative_cost_discounted"))["mean"])
            #expect(r["qol_years_discounted"] == (try band(r["arm"]!, "cumulative_qol_years_discounted"))["mean"])
            let icer = (r["icer"] ?? "").isEmpty ? "—" : HumanFormat.money(num(r, "icer")) + " per QoL-year gained"
            func opt(_ c: String, money: Bool) -> String {
                (r[c] ?? "").isEmpty ? "—" : money ? Report.money(num(r, c)) : Report.fmt(num(r, c))
            }
            let status = r["status"] == "frontier" ? "frontier" : "dominated by " + r["dominated_by"]!
            expectInBoth([r["arm"]!, Report.money(num(r, "cost_discounted")), Report.fmt(num(r, "qol_years_discounted")), status,
                          (r["comparator"] ?? "").isEmpty ? "—" : r["comparator"]!, opt("inc_cost", money: true),
                          opt("inc_qol_years", money: false), icer])
        }
        let acceptability = try Self.table(out + "/acceptability.csv")
        for wtp in ["20000", "30000"] {
            let rows = acceptability.filter { $0["willingness_to_pay"] == wtp }
            #expect(rows.count == 2)
            #expect(abs(rows.reduce(0) { $0 + num($1, "probability_best") } - 1) < 1e-12)
            let best = try #require(rows.first { $0["on_frontier"] == "true" })
            let other = try #require(rows.first { $0["on_frontier"] == "false" })
            #expect(best["units"] == "65")  // the draws of this nested run
            expectInBoth([Report.money(Double(wtp)!), best["arm"]!,
                          HumanFormat.interval(num(best, "expected_nmb"), num(best, "nmb_ci_low"), num(best, "nmb_ci_high"), money: true),
                          HumanFormat.fixed(num(best, "probability_best"), decimals: 3),
                          "\(other["arm"]!) \(HumanFormat.fixed(num(other, "probability_best"), decimals: 3))"])
            let line = "at \(Report.money(Double(wtp)!)) per QoL-year: \(best["arm"]!) has the highest expected net monetary benefit, \(HumanFormat.money(num(best, "expected_nmb"))); probability it is best \(HumanFormat.fixed(num(best, "probability_best"), decimals: 2))"
            #expect(run.stdout.contains(line), "the headline lacks \(line):\n\(run.stdout)")
        }

        // 6. summary.json's largest difference: the agents' numbers are bands.csv's.
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out + "/summary.json"))) as! [String: Any]
        for entry in json["comparison"] as! [[String: Any]] {
            guard let d = entry["largestDifference"] as? [String: Any] else { continue }
            let b = try band(entry["arm"] as! String, "stock", step: d["step"] as? Int, level: d["level"] as! String)
            // JSONSerialization writes 15 significant digits: compare with bands.csv's value written the same way.
            func asJSON(_ x: Double) throws -> Double? {
                let data = try JSONSerialization.data(withJSONObject: ["x": x])
                return (try JSONSerialization.jsonObject(with: data) as? [String: Any])?["x"] as? Double
            }
            #expect(d["agentMean"] as? Double == (try asJSON(num(b, "mean"))))
            #expect(d["agentCILow"] as? Double == (try asJSON(num(b, "ci_low"))))
            #expect(d["agentCIHigh"] as? Double == (try asJSON(num(b, "ci_high"))))
        }

        // 7. Every table of report.md is in report-tables.tex and report.tex, and the sections are numbered alike.
        let mdTables = md.split(separator: "\n").filter { $0.hasPrefix("|---") }.count
        let texTables = tex.components(separatedBy: "\\begin{longtable}").count - 1
        let documentTables = document.components(separatedBy: "\\begin{longtable}").count - 1
        #expect(mdTables == texTables && mdTables == documentTables && mdTables >= 7,
                "report.md has \(mdTables) tables, report-tables.tex \(texTables), report.tex \(documentTables)")
        let mdSections = md.split(separator: "\n").filter { $0.hasPrefix("## ") }.map { String($0.dropFirst(3)) }
        #expect(mdSections == mdSections.indices.map { i in "\(i + 1). " + mdSections[i].split(separator: " ", maxSplits: 1)[1] },
                "report.md's sections are not numbered 1, 2, 3, …: \(mdSections)")
        #expect(document.components(separatedBy: "\\section{").count - 1 == mdSections.count)
    }

    /// The yearly files agree with each other and with the per-step and horizon outputs: each
    /// bands-yearly.csv mean is the mean of replications-yearly.csv's column (each `delta_` mean of
    /// the paired differences), the last year's cumulative totals are replications.csv's and
    /// summary.csv's, the end-of-year stocks of the last year are the final stocks, escalations and
    /// step-downs add up to the moves, and a year's mean flows are the sum of its steps' means in bands.csv.
    @Test func yearlyResultsAgreeWithEveryOtherOutput() throws {
        let file = try CommandLineTests.write(UncertaintyCommandTests.scenario, name: "yearly.yaml")
        let out = Fixtures.temporaryFolder("girfec-e2e") + "/yearly"
        let run = try CommandLineTests.girfec(["run", file, "--replications", "30", "--replications-per-draw", "2", "--seed", "5",
                                               "--out", out, "--threads", "2", "--quiet"])
        #expect(run.status == 0, "stderr: \(run.stderr)")
        // The rows of all areas (those of each area are checked by `areaResultsAddUpToAllAreas`).
        let yearly = try Self.table(out + "/replications-yearly.csv").filter { $0["area"] == "all" }
        let yearlyBands = try Self.table(out + "/bands-yearly.csv").filter { $0["area"] == "all" }
        let replications = try Self.table(out + "/replications.csv")
        let bands = try Self.table(out + "/bands.csv")
        let summary = try Self.table(out + "/summary.csv")
        func num(_ row: Row, _ column: String) -> Double { Double(row[column] ?? "") ?? .nan }
        func close(_ a: Double, _ b: Double, _ what: String, absolute: Double = 0, sourceLocation: SourceLocation = #_sourceLocation) {
            #expect(abs(a - b) <= max(absolute, 1e-9 * max(1, abs(a), abs(b))), "\(what): \(a) vs \(b)", sourceLocation: sourceLocation)
        }
        let years = Set(yearly.map { $0["year"]! }).sorted { Int($0)! < Int($1)! }
        let lastYear = try #require(years.last)
        #expect(years.count >= 2)
        #expect(yearly.count == replications.count * years.count)
        let levels = ["Low", "Mid", "High"]
        #expect(!levels.isEmpty)

        // 1. Per replication: the last year against replications.csv; escalations and step-downs against the moves.
        for r in replications {
            let rows = yearly.filter { $0["replication"] == r["replication"] && $0["arm"] == r["arm"] }
            #expect(rows.map { $0["year"]! } == years)
            let last = try #require(rows.last)
            #expect(last["cumulative_cost_discounted"] == r["cost_discounted"])
            #expect(last["cumulative_qol_years_discounted"] == r["qol_years_discounted"])
            for l in levels { #expect(last["stock_" + l] == r["final_stock_" + l]) }
            close(rows.map { num($0, "cost_discounted") }.reduce(0, +), num(r, "cost_discounted"), "Σ yearly cost_discounted")
            for row in rows {
                var up = 0.0, down = 0.0
                for (i, from) in levels.enumerated() {
                    for (j, to) in levels.enumerated() where i != j {
                        let moves = num(row, "flow_\(from)_to_\(to)")
                        if j > i { up += moves } else { down += moves }
                    }
                }
                #expect(num(row, "escalations") == up && num(row, "step_downs") == down)
                close(levels.map { num(row, "cost_" + $0) }.reduce(0, +) + num(row, "programme_cost"), num(row, "cost"), "budget by level")
            }
        }

        // 2. bands-yearly.csv: each mean is the mean of the per-replication values (and of paired differences).
        var compared = 0
        for b in yearlyBands where b["level"] == "all" || b["quantity"]!.hasSuffix("stock") {
            let delta = b["quantity"]!.hasPrefix("delta_")
            let quantity = delta ? String(b["quantity"]!.dropFirst(6)) : b["quantity"]!
            let column = quantity + (b["level"] == "all" || b["level"] == "" ? "" : "_" + b["level"]!)
            guard yearly[0][column] != nil else { continue }
            let rows = yearly.filter { $0["year"] == b["year"] && $0["arm"] == b["arm"] }
            var values = rows.map { num($0, column) }
            if delta {
                let first = yearly.filter { $0["year"] == b["year"] && $0["arm"] == "baseline" }
                values = zip(values, first).map { $0 - num($1, column) }
            }
            #expect(num(b, "replications") == Double(values.count))
            // An end-of-year state is bands.csv's statistic, whose exact sums take each value to a multiple of 2^−16.
            let state = ["stock", "children_reached", "cumulative_cost_discounted", "cumulative_qol_years_discounted"].contains(quantity)
            close(values.reduce(0, +) / Double(values.count), num(b, "mean"), "\(b["arm"]!) year \(b["year"]!) \(b["quantity"]!) \(column)",
                  absolute: state ? 0x1p-16 : 0)
            compared += 1
        }
        // Per arm and year: 3 stocks by level and the 20 quantities of all levels (replications-yearly.csv's
        // columns without a level); for each of the two arms and the difference block.
        #expect(compared == 3 * years.count * (3 + 20), "compared \(compared) yearly bands")

        // 3. The last year's cumulative totals are bands.csv's last step and summary.csv's, cell for cell.
        let lastStep = try #require(bands.map { Int($0["step"]!)! }.max())
        for (quantity, measure) in [("delta_cumulative_cost_discounted", "delta_cost_discounted"),
                                    ("delta_cumulative_qol_years_discounted", "delta_qol_years_discounted")] {
            let y = try #require(yearlyBands.first { $0["arm"] == "practice" && $0["year"] == lastYear && $0["quantity"] == quantity })
            let b = try #require(bands.first { $0["arm"] == "practice" && $0["step"] == String(lastStep) && $0["quantity"] == quantity })
            let s = try #require(summary.first { $0["arm"] == "practice" && $0["measure"] == measure })
            for c in ["replications", "mean", "mcse", "ci_low", "ci_high", "p2_5", "p50", "p97_5"] {
                #expect(y[c] == b[c] && y[c] == s[c], "\(quantity) \(c): bands-yearly \(y[c] ?? "") bands \(b[c] ?? "") summary \(s[c] ?? "")")
            }
        }

        // 4. An end-of-year state is bands.csv's row at the year's last step, cell for cell.
        let statistics = ["replications", "mean", "mcse", "ci_low", "ci_high", "p2_5", "p5", "p25", "p50", "p75", "p95", "p97_5"]
        var states = 0
        for y in yearlyBands where ["stock", "delta_stock", "children_reached", "cumulative_cost_discounted"].contains(y["quantity"]!) {
            let step = String(Int(Double(y["end_years"]!)! * 12))
            let b = try #require(bands.first { $0["arm"] == y["arm"] && $0["step"] == step && $0["quantity"] == y["quantity"] && $0["level"] == y["level"] })
            for c in statistics { #expect(y[c] == b[c], "\(y["arm"]!) year \(y["year"]!) \(y["quantity"]!) \(y["level"]!) \(c)") }
            states += 1
        }
        #expect(states == years.count * (2 * 4 + 4 + 2 + 2))

        // 5. Per child (per-person.csv) is the horizon total's mean over the mean children ever: here
        // the total is bands.csv's last cumulative row, and children ever the mean of replications.csv's.
        let perPerson = try Self.table(out + "/per-person.csv")
        for (arm, prefix) in [("baseline", ""), ("practice", ""), ("practice", "delta_")] {
            for (measure, quantity) in [("cost_discounted_per_child", "cumulative_cost_discounted"),
                                        ("qol_years_discounted_per_child", "cumulative_qol_years_discounted")] {
                let p = try #require(perPerson.first { $0["arm"] == arm && $0["measure"] == prefix + measure })
                let b = try #require(bands.first { $0["arm"] == arm && $0["step"] == String(lastStep) && $0["quantity"] == prefix + quantity })
                let ever = replications.filter { $0["arm"] == arm }.map { num($0, "children_ever") }
                #expect(num(p, "children_ever") == ever.reduce(0, +) / Double(ever.count))
                if prefix.isEmpty {
                    close(num(p, "mean") * num(p, "children_ever"), num(b, "mean"), "\(arm) \(measure) × children ever", absolute: 0x1p-16)
                }
                #expect(num(p, "ci_low") < num(p, "mean") && num(p, "mean") < num(p, "ci_high"))
            }
        }

        // 6. A year's mean moves are the sum of its steps' mean moves in bands.csv.
        let stepsPerYear = Double(lastStep) / Double(years.count)
        for y in yearlyBands where y["quantity"] == "escalations" || y["quantity"] == "entries" && y["level"] == "all" {
            let year = Double(y["year"]!)!
            let sum = bands.filter { b in
                guard b["arm"] == y["arm"], b["quantity"] == y["quantity"], b["level"] == y["level"], let t = Double(b["step"]!) else { return false }
                return t > (year - 1) * stepsPerYear && t <= year * stepsPerYear
            }.map { num($0, "mean") }.reduce(0, +)
            close(sum, num(y, "mean"), "\(y["arm"]!) year \(y["year"]!) \(y["quantity"]!)")
        }
    }

    /// With two areas, each area's yearly values add up to those of all areas, the programme's cost
    /// apart (authority-wide: empty in an area's row, and the difference between the authority's
    /// cost and the sum of its areas'), and each bands-yearly.csv row of an area has the mean of
    /// replications-yearly.csv's values of that area.
    @Test func areaResultsAddUpToAllAreas() throws {
        let file = CalibrateCommandTests.root + "/experiments/examples/areas-and-coverage.yaml"
        let out = Fixtures.temporaryFolder("girfec-e2e") + "/areas"
        let run = try CommandLineTests.girfec(["run", file, "--replications", "12", "--seed", "3", "--out", out, "--quiet"])
        #expect(run.status == 0, "stderr: \(run.stderr)")
        let yearly = try Self.table(out + "/replications-yearly.csv")
        let yearlyBands = try Self.table(out + "/bands-yearly.csv")
        func num(_ row: Row, _ column: String) -> Double { Double(row[column] ?? "") ?? .nan }
        let areas = ["north", "south"]
        #expect(Set(yearly.map { $0["area"]! }) == Set(["all"] + areas))
        let columns = try #require(yearly.first).keys.filter { !["replication", "arm", "area", "year", "start_years", "end_years"].contains($0) }
        #expect(columns.count > 40)
        var checked = 0
        for all in yearly where all["area"] == "all" {
            let parts = areas.map { a in yearly.first { $0["area"] == a && $0["replication"] == all["replication"] && $0["arm"] == all["arm"] && $0["year"] == all["year"] } }
            let rows = try parts.map { try #require($0) }
            for c in columns {
                if c.hasPrefix("programme_cost") {
                    #expect(rows.allSatisfy { $0[c] == "" }, "\(c) has a value by area")
                    continue
                }
                let sum = rows.map { num($0, c) }.reduce(0, +)
                // The authority's costs are its areas' plus the programme's (cumulative: discounted, to the year's end).
                let programme: Double = switch c {
                case "cost": num(all, "programme_cost")
                case "cost_discounted": num(all, "programme_cost_discounted")
                case "cumulative_cost_discounted":
                    yearly.filter { $0["area"] == "all" && $0["replication"] == all["replication"] && $0["arm"] == all["arm"]
                        && Int($0["year"]!)! <= Int(all["year"]!)! }.map { num($0, "programme_cost_discounted") }.reduce(0, +)
                default: 0
                }
                let expected = num(all, c)
                #expect(abs(sum + programme - expected) <= 1e-9 * max(1, abs(expected)),
                        "replication \(all["replication"]!) \(all["arm"]!) year \(all["year"]!) \(c): areas \(sum) + programme \(programme) vs all \(expected)")
                checked += 1
            }
        }
        #expect(checked > 1000)
        // Every area row of bands-yearly.csv is the mean of that area's values (or of the paired differences).
        var compared = 0
        for b in yearlyBands where b["area"] != "all" {
            let delta = b["quantity"]!.hasPrefix("delta_")
            let quantity = delta ? String(b["quantity"]!.dropFirst(6)) : b["quantity"]!
            let column = quantity == "flow" ? "flow_\(b["from_level"]!)_to_\(b["to_level"]!)"
                : quantity + (b["level"] == "all" ? "" : "_" + b["level"]!)
            let rows = yearly.filter { $0["area"] == b["area"] && $0["year"] == b["year"] && $0["arm"] == b["arm"] }
            var values = rows.map { num($0, column) }
            if delta {
                let first = yearly.filter { $0["area"] == b["area"] && $0["year"] == b["year"] && $0["arm"] == "usual" }
                values = zip(values, first).map { $0 - num($1, column) }
            }
            let mean = values.reduce(0, +) / Double(values.count)
            #expect(abs(mean - num(b, "mean")) <= 1e-9 * max(1, abs(mean)), "\(b["arm"]!) \(b["area"]!) year \(b["year"]!) \(b["quantity"]!) \(column)")
            #expect(!b["quantity"]!.contains("programme"))
            compared += 1
        }
        #expect(compared == 3 * 2 * Set(yearly.map { $0["year"]! }).count * (columns.count - 2))

        // The report's table by area shows the last year's means of these rows (to the digits shown).
        let report = try CommandLineTests.girfec(["report", out, "--quiet"])
        #expect(report.status == 0, "stderr: \(report.stderr)")
        let markdown = try String(contentsOfFile: out + "/report.md", encoding: .utf8)
        let lastYear = yearlyBands.map { $0["year"]! }.max { Int($0)! < Int($1)! }!
        var shown = 0
        for line in markdown.split(separator: "\n") where line.hasPrefix("| north |") || line.hasPrefix("| south |") {
            let cells = line.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
            let quantity = ["children at the year's end": "stock", "escalations": "escalations", "step-downs": "step_downs", "cost": "cost"][cells[1]]
            let q = try #require(quantity, "row \(line)")
            for (k, arm) in ["usual", "relational"].enumerated() {
                let b = try #require(yearlyBands.first { $0["area"] == cells[0] && $0["arm"] == arm && $0["year"] == lastYear
                    && $0["quantity"] == q && $0["level"] == "all" })
                let text = String(cells[2 + k].prefix { $0 != " " }).replacingOccurrences(of: "£", with: "").replacingOccurrences(of: ",", with: "")
                let value = try #require(Double(text), "cell \(cells[2 + k])")
                let mean = num(b, "mean")
                #expect(abs(value - mean) <= 5e-4 * abs(mean) + 0.05, "\(cells[0]) \(q) \(arm): report \(value), bands-yearly.csv \(mean)")
                shown += 1
            }
        }
        #expect(shown == 2 * 4 * 2)
    }
}
