import Foundation
import Model
import StockFlow

/// Writes one arm's aggregate `sd`-mode model as an XMILE 1.0 document (OASIS, "XML Interchange
/// Language for System Dynamics", 2015): the stocks, flows and auxiliaries of
/// `SystemDynamicsStructure`, turned into equations and nothing computed here (docs/xmile.md).
///
/// ```
/// d S_gci/dt   = Σ_j flow_gcji − Σ_j flow_gcij
/// flow_gcij    = S_gci · q_ij · (j > i ? red_g · escalation_c : green_g · stepDown_c) · leave_i
/// d E_k/dt     = x_k(step)                        (exposure, a stock per practice)
/// s_k          = f_k(x_k, E_k, τ_k)               red_g = Π_{k ∈ g} (1 − a_k s_k), green_g = Π (1 + b_k s_k)
/// d Cost_D/dt  = cost_rate · (1 + r_c)^(−TIME)    cost_rate = Σ_l N_l·c_l + programme + per child reached
/// d QoL_D/dt   = Σ_l N_l·w_l · (1 + r_q)^(−TIME)
/// ```
///
/// Only what the XMILE model states exactly is exported; everything else is refused with the reason
/// (`problems`). Exposure is a stock read at the start of each DT, which is girfec's
/// `exposureTiming: beforeStep` (Sterman 2000, *Business Dynamics*, appendix A).
public enum XMILEExport {
    /// Why an arm cannot be exported: the field, what it holds and what an export needs.
    public struct Problem: Sendable, Equatable, CustomStringConvertible {
        public var field: String
        public var found: String
        public var expected: String
        public var description: String { "\(field): found \(found); expected \(expected)" }
    }

    /// The export failed: every problem at once.
    public struct Refusal: Error, Sendable, CustomStringConvertible {
        public var arm: String
        public var problems: [Problem]
        public var description: String {
            "arm '\(arm)' cannot be written as XMILE exactly:\n" + problems.map { "  - \($0)" }.joined(separator: "\n")
        }
    }

    /// Whether girfec's `sd` mode changes this arm's stocks or exposure at step ends (ageing, ageing out,
    /// births, migration) or lets a step's own exposure act in it (`includingStep`): the file then writes
    /// those events as flows that hold only with Euler at DT = the model step (docs/xmile.md).
    public static func hasStepEnds(arm: ArmModel) -> Bool {
        arm.ageing || arm.birthsPerYear.contains { $0 > 0 } || arm.immigrationPerYear.contains { $0 > 0 }
            || arm.emigrationRatePerYear > 0 || (!arm.practices.isEmpty && arm.exposureTiming == .includingStep)
    }

    /// The features of an arm that an XMILE stock-flow model cannot state as girfec's `sd` mode runs them,
    /// with the integration the file would pin (`dtYears` nil: the model step).
    public static func problems(arm: ArmModel, dtYears: Double? = nil, method: IntegrationMethod = .euler) -> [Problem] {
        var out: [Problem] = []
        if hasStepEnds(arm: arm) {
            var why: [String] = []
            if arm.ageing { why.append("ageing") }
            if arm.birthsPerYear.contains(where: { $0 > 0 }) { why.append("births") }
            if arm.immigrationPerYear.contains(where: { $0 > 0 }) { why.append("in-migration") }
            if arm.emigrationRatePerYear > 0 { why.append("out-migration") }
            if !arm.practices.isEmpty && arm.exposureTiming == .includingStep { why.append("exposureTiming: includingStep") }
            let reason = "this arm has \(why.joined(separator: ", ")), which girfec's sd mode applies at step ends; the file writes them as flows that equal girfec only with Euler at DT = the model step (docs/xmile.md)"
            if let dt = dtYears, abs(dt - arm.stepYears) > 1e-12 * arm.stepYears {
                out.append(Problem(field: "--dt", found: "\(IssueText.number(dt)) years", expected: "the model step, \(IssueText.number(arm.stepYears)) years: \(reason)"))
            }
            if method != .euler {
                out.append(Problem(field: "--method", found: method.rawValue, expected: "euler: \(reason)"))
            }
            if arm.ageing, let top = arm.ageOutMonths, let band = arm.ageDistribution.first(where: { $0.toMonths > top }) {
                out.append(Problem(field: "population.ageDistribution", found: "a band to \(band.toMonths) months, beyond ageOutYears (\(top) months)",
                                   expected: "bands below the age-out age: girfec's aggregate puts such children in its last month class, which a cohort's age does not state"))
            }
        }
        if arm.reinvestment != nil {
            out.append(Problem(field: "reinvestment", found: "a reinvestment loop",
                               expected: "none: the loop reads the savings against the first arm, another model, through girfec's own smoothing and delay"))
        }
        if arm.transitionRewards != nil {
            out.append(Problem(field: "transitionRewards", found: "one-off rewards of moves",
                               expected: "none: girfec counts them at step ends from the step's flows"))
        }
        if !arm.dependence.isEmpty {
            out.append(Problem(field: "transitions.dependence", found: "transition-specific dependence on age, calendar time or months in a level",
                               expected: "none: girfec's sd mode does not run it (the aggregate model carries it in cohort mode only)"))
        }
        for p in arm.practices where PracticeEffects.named[p.effect.name] == nil || !["saturating", "linear", "immediate"].contains(p.effect.name) {
            out.append(Problem(field: "practice.\(p.name).effectFunction", found: "'\(p.effect.name)'",
                               expected: "saturating, linear or immediate (the functions with an XMILE equation)"))
        }
        return out
    }

    /// The XMILE document of `arm`'s `sd`-mode model, integrated by `method` with step `dtYears`
    /// (default: the model step); `scenarioName` goes into the header.
    public static func document(arm: ArmModel, scenarioName: String, dtYears: Double? = nil,
                                method: IntegrationMethod = .euler, version: String = "") throws -> String {
        let problems = problems(arm: arm, dtYears: dtYears, method: method)
        guard problems.isEmpty else { throw Refusal(arm: arm.name, problems: problems) }
        try AggregateModel.check(arm: arm, options: AggregateOptions(mode: .sd, dtYears: dtYears, method: method))
        if hasStepEnds(arm: arm) {
            // The structure is stated for children who do not age; its groups, rates, leave multipliers and
            // intensities do not depend on ageing, and the month classes are written here.
            var still = arm
            still.ageing = false
            var w = StepEndWriter(arm: arm, structure: try AggregateModel.systemDynamicsStructure(arm: still))
            return w.document(scenarioName: scenarioName, version: version)
        }
        let structure = try AggregateModel.systemDynamicsStructure(arm: arm)
        var w = Writer(arm: arm, structure: structure)
        return w.document(scenarioName: scenarioName, dtYears: dtYears ?? arm.stepYears, method: method, version: version)
    }
}

/// Numbers as XMILE and messages write them: the shortest text that reads back to the same Double.
enum IssueText {
    static func number(_ x: Double) -> String {
        x == x.rounded() && abs(x) < 1e15 ? String(Int(x)) : "\(x)"
    }
}

/// Builds the variables of one document.
struct Writer {
    let arm: ArmModel
    let s: SystemDynamicsStructure
    var variables: [String] = []
    var used: Set<String> = []

    init(arm: ArmModel, structure: SystemDynamicsStructure) {
        self.arm = arm
        s = structure
    }

    /// An XMILE name from words: letters, digits and underscores, starting with a letter, unique in the model.
    mutating func name(_ words: String...) -> String {
        var text = words.filter { !$0.isEmpty }.joined(separator: "_")
        text = String(text.unicodeScalars.map { CharacterSet.alphanumerics.contains($0) && $0.isASCII ? Character($0) : "_" })
        if text.first.map({ !$0.isLetter }) ?? true { text = "v_" + text }
        var candidate = text, k = 2
        while used.contains(candidate.lowercased()) { candidate = "\(text)_\(k)"; k += 1 }
        used.insert(candidate.lowercased())
        return candidate
    }

    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }

    static func n(_ x: Double) -> String { IssueText.number(x) }

    mutating func aux(_ name: String, _ equation: String, doc: String, units: String? = nil) {
        variables.append("""
              <aux name="\(name)">
                <doc>\(Self.escape(doc))</doc>
                <eqn>\(Self.escape(equation))</eqn>\(units.map { "\n        <units>\(Self.escape($0))</units>" } ?? "")
              </aux>
        """)
    }

    mutating func flow(_ name: String, _ equation: String, doc: String, units: String) {
        variables.append("""
              <flow name="\(name)">
                <doc>\(Self.escape(doc))</doc>
                <eqn>\(Self.escape(equation))</eqn>
                <units>\(Self.escape(units))</units>
              </flow>
        """)
    }

    mutating func stock(_ name: String, initial: String, inflows: [String], outflows: [String], doc: String, units: String) {
        let lines = inflows.map { "        <inflow>\($0)</inflow>" } + outflows.map { "        <outflow>\($0)</outflow>" }
        variables.append("""
              <stock name="\(name)">
                <doc>\(Self.escape(doc))</doc>
                <eqn>\(Self.escape(initial))</eqn>
        \(lines.joined(separator: "\n"))\(lines.isEmpty ? "" : "\n")        <units>\(Self.escape(units))</units>
              </stock>
        """.replacingOccurrences(of: "\n\n", with: "\n"))
    }

    /// Values held for each step, as an equation of the step index: one term per run of equal values,
    /// (IF a ≤ index < b THEN v ELSE 0), the last run held beyond. Written as an equation rather than a
    /// graphical function because PySD 3.14 reads a table's points to 8 significant digits.
    static func stepTable(_ values: [Double], index: String) -> String {
        var terms: [String] = [], start = 0
        while start < values.count {
            var end = start + 1
            while end < values.count && values[end] == values[start] { end += 1 }
            if start == 0 && end == values.count { return n(values[start]) }
            let condition = start == 0 ? "\(index) < \(end)" : end == values.count ? "\(index) >= \(start)" : "\(index) >= \(start) AND \(index) < \(end)"
            if values[start] != 0 { terms.append("(IF \(condition) THEN \(n(values[start])) ELSE 0)") }
            start = end
        }
        return terms.isEmpty ? "0" : terms.joined(separator: " + ")
    }

    /// A trajectory of TIME, linear between its points and held beyond them (`Trajectory.value(at:)`):
    /// one term per segment, (IF t_a < TIME ≤ t_b THEN v_a + (v_b − v_a)·(TIME − t_a)/(t_b − t_a) ELSE 0).
    static func trajectory(_ points: [(timeYears: Double, value: Double)]) -> String {
        guard let first = points.first, let last = points.last else { return "0" }
        var terms = ["(IF TIME <= \(n(first.timeYears)) THEN \(n(first.value)) ELSE 0)"]
        for (a, b) in zip(points, points.dropFirst()) {
            let span = b.timeYears - a.timeYears
            let value = span <= 0 ? n(b.value) : "\(n(a.value)) + (\(n(b.value - a.value))) * (TIME - (\(n(a.timeYears)))) / \(n(span))"
            terms.append("(IF TIME > \(n(a.timeYears)) AND TIME <= \(n(b.timeYears)) THEN \(value) ELSE 0)")
        }
        terms.append("(IF TIME > \(n(last.timeYears)) THEN \(n(last.value)) ELSE 0)")
        return terms.joined(separator: " + ")
    }


    mutating func document(scenarioName: String, dtYears: Double, method: IntegrationMethod, version: String) -> String {
        let levels = arm.levels, nLevels = levels.count
        let practices = arm.practices
        let levelNames = levels.map { name($0.name) }
        let stepYears = name("step_years")
        aux(stepYears, Self.n(arm.stepYears), doc: "The model step: the practice intensity is held for a step (its value at the step's middle).", units: "years")

        // Transition rates and their modifiers.
        var rate = [[String?]](repeating: [String?](repeating: nil, count: nLevels), count: nLevels)
        for i in 0..<nLevels {
            for j in 0..<nLevels where j != i && s.generatorPerYear[i][j] > 0 {
                let r = name("rate", levels[i].name, "to", levels[j].name)
                aux(r, Self.n(s.generatorPerYear[i][j]),
                    doc: "Baseline rate of moves \(levels[i].name) → \(levels[j].name): Q = log(P)/dt of the scenario's transitions (\(arm.transitionConversion)).",
                    units: "1/years")
                rate[i][j] = r
            }
        }
        let leave = (0..<nLevels).map { l -> String in
            let v = name("leave_multiplier", levels[l].name)
            let dependent = !arm.durationMultipliers[l].isEmpty
            aux(v, Self.n(s.leaveMultipliers[l]),
                doc: dependent ? "Duration dependence replaced by the level's stationary mean leave multiplier, as girfec's aggregate model does (docs/methods.md §9)."
                               : "No duration dependence in this level.", units: "dmnl")
            return v
        }
        let classList = s.classes
        let classLabel = { (c: Int) -> String in classList.count > 1 ? "from\(classList[c].fromMonths)months" : "" }
        let ageMultipliers = s.classes.indices.map { c -> (String, String) in
            let up = name("escalation_age_multiplier", classLabel(c)), down = name("step_down_age_multiplier", classLabel(c))
            aux(up, Self.n(s.classes[c].escalationMultiplier), doc: "Age multiplier of escalations for children aged from \(s.classes[c].fromMonths) months.", units: "dmnl")
            aux(down, Self.n(s.classes[c].stepDownMultiplier), doc: "Age multiplier of step-downs for children aged from \(s.classes[c].fromMonths) months.", units: "dmnl")
            return (up, down)
        }

        // Practice: intensity, exposure stock, strength.
        let stepIndex = practices.contains { $0.intensity.points.count > 1 } ? name("step_index") : ""
        if !stepIndex.isEmpty {
            aux(stepIndex, "INT(TIME / \(stepYears) + 0.000001)", doc: "Steps completed: 0 during the first step.", units: "dmnl")
        }
        var strength: [String] = [], effectNames: [(String, String)] = []
        for (k, p) in practices.enumerated() {
            let x = name("intensity", p.name)
            let values = s.intensityPerStep.map { $0[k] }
            if p.intensity.points.count > 1 {
                aux(x, Self.stepTable(values, index: stepIndex), doc: "Intensity of \(p.name) in each step: the scenario's trajectory at the step's middle, held for the step.",
                    units: "dmnl")
            } else {
                aux(x, Self.n(values.first ?? p.intensity.value(at: 0)), doc: "Intensity of \(p.name) (constant).", units: "dmnl")
            }
            let gain = name("exposure_gain", p.name), exposure = name("exposure", p.name)
            flow(gain, x, doc: "Exposure accrues at the intensity: a covered child gains x years of exposure a year.", units: "dmnl")
            stock(exposure, initial: "0", inflows: [gain], outflows: [],
                  doc: "Exposure E of a covered child to \(p.name) (every covered child is present from the start, so all share it).", units: "years")
            let tau = name("time_to_effect", p.name)
            aux(tau, Self.n(p.timeToEffectYears), doc: "τ: years of full-intensity exposure to most of the effect.", units: "years")
            let a = name("escalation_effect", p.name), b = name("step_down_effect", p.name)
            aux(a, Self.n(p.escalationEffect), doc: "a: escalation rates are multiplied by (1 − a·s).", units: "dmnl")
            aux(b, Self.n(p.stepDownEffect), doc: "b: step-down rates are multiplied by (1 + b·s).", units: "dmnl")
            let sName = name("strength", p.name)
            let equation: String
            switch p.effect.name {
            case "saturating": equation = p.timeToEffectYears <= 0 ? x : "\(x) * (1 - EXP(-\(exposure) / \(tau)))"
            case "linear": equation = p.timeToEffectYears <= 0 ? x : "\(x) * MIN(\(exposure) / \(tau), 1)"
            default: equation = x
            }
            aux(sName, equation, doc: "Effect strength s of \(p.name) (effect function \(p.effect.name)).", units: "dmnl")
            strength.append(sName)
            effectNames.append((a, b))
        }
        var multipliers: [Int: (String, String)] = [:]
        for mask in Set(s.groups.map(\.mask)).sorted() where mask != 0 {
            let members = practices.indices.filter { mask & (1 << $0) != 0 }
            let label = members.map { practices[$0].name }.joined(separator: "_and_")
            let red = name("red_multiplier", label), green = name("green_multiplier", label)
            aux(red, members.map { "(1 - \(effectNames[$0].0) * \(strength[$0]))" }.joined(separator: " * "),
                doc: "Escalation multiplier of children reached by \(label): Π (1 − a·s).", units: "dmnl")
            aux(green, members.map { "(1 + \(effectNames[$0].1) * \(strength[$0]))" }.joined(separator: " * "),
                doc: "Step-down multiplier of children reached by \(label): Π (1 + b·s).", units: "dmnl")
            multipliers[mask] = (red, green)
        }

        // Level stocks and transition flows per coverage group and age class. With one group and one
        // class, each level is one stock, named as the level.
        let single = s.groups.count == 1 && s.classes.count == 1
        var levelStocks = [[String]](repeating: [], count: nLevels)
        var reachedStocks: [String] = []
        for (g, group) in s.groups.enumerated() {
            let members = practices.indices.filter { group.mask & (1 << $0) != 0 }
            let reach = practices.isEmpty ? "" : members.isEmpty ? "no_practice" : members.map { practices[$0].name }.joined(separator: "_and_")
            let area = arm.areas.count > 1 ? arm.areas[group.area] : ""
            for c in s.classes.indices {
                let stockNames = single ? levelNames : (0..<nLevels).map { name(levels[$0].name, area, reach, classLabel(c)) }
                var inflows = [[String]](repeating: [], count: nLevels), outflows = inflows
                var flows: [(String, String, String)] = []
                for i in 0..<nLevels {
                    for j in 0..<nLevels {
                        guard let r = rate[i][j] else { continue }
                        let f = name(stockNames[i], "to", levels[j].name)
                        let modulation: String
                        if let (red, green) = multipliers[group.mask] {
                            modulation = j > i ? "\(red) * \(ageMultipliers[c].0)" : "\(green) * \(ageMultipliers[c].1)"
                        } else {
                            modulation = j > i ? ageMultipliers[c].0 : ageMultipliers[c].1
                        }
                        flows.append((f, "\(stockNames[i]) * \(r) * \(modulation) * \(leave[i])",
                                      "\(j > i ? "Escalations" : "Step-downs") \(levels[i].name) → \(levels[j].name) of this group."))
                        outflows[i].append(f)
                        inflows[j].append(f)
                    }
                }
                let where_ = [area.isEmpty ? nil : "area \(area)", practices.isEmpty ? nil : members.isEmpty ? "reached by no practice" : "reached by \(reach.replacingOccurrences(of: "_and_", with: " and "))",
                              s.classes.count > 1 ? "aged from \(s.classes[c].fromMonths) months" : nil].compactMap { $0 }.joined(separator: ", ")
                for l in 0..<nLevels {
                    stock(stockNames[l], initial: Self.n(s.initialStocks[g][c][l]), inflows: inflows[l], outflows: outflows[l],
                          doc: "Expected children in \(levels[l].name)\(where_.isEmpty ? "" : ": " + where_) (share \(Self.n(group.weight)) of the area's children).",
                          units: "children")
                    levelStocks[l].append(stockNames[l])
                    if group.mask != 0 && !levels[l].absorbing { reachedStocks.append(stockNames[l]) }
                }
                for (f, eqn, doc) in flows { flow(f, eqn, doc: doc, units: "children/years") }
            }
        }

        // Totals, costs and QoL.
        for l in 0..<nLevels where !single {
            aux(levelNames[l], levelStocks[l].joined(separator: " + "), doc: "Expected children in \(levels[l].name), all groups.", units: "children")
        }
        costsAndQoL(levelNames: levelNames, reachedTerms: reachedStocks,
                    correctTiming: method == .euler && abs(dtYears - arm.stepYears) <= 1e-12 * arm.stepYears)
        return wrap(scenarioName: scenarioName, dtYears: dtYears, method: method, version: version, dimensions: [])
    }

    /// Children reached, the cost and QoL rates and their cumulative stocks. With `correctTiming` (Euler at
    /// DT = the model step h) a cumulative quantity follows girfec's `rewardTiming`, step t weighing the
    /// value rates V at its start and end by (w0_t, w1_t) (`Rewards.weights`):
    ///
    /// ```
    /// Σ_{t=1..T} h·[w0_t·V(t−1) + w1_t·V(t)] = h·Σ_{u=0..T−1} c_u·V(u) + h·w1_T·V(T),   c_u = w1_u + w0_{u+1} (w1_0 = 0)
    /// ```
    ///
    /// an Euler stock of c·V (the weight at the step that starts) plus an auxiliary end term
    /// (Elbasha & Chhatwal 2016); with `rewardTiming: start` c = 1 and the end term is 0.
    mutating func costsAndQoL(levelNames: [String], reachedTerms: [String], correctTiming: Bool) {
        let levels = arm.levels, nLevels = levels.count
        let reached = name("children_reached")
        aux(reached, reachedTerms.isEmpty ? "0" : reachedTerms.joined(separator: " + "),
            doc: "Children reached by at least one practice, outside absorbing levels.", units: "children")
        let costs = (0..<nLevels).map { l -> String in
            let v = name("cost_per_child_year", levels[l].name)
            aux(v, Self.n(levels[l].costPerChildYear + levels[l].addOnCostPerChildYear), doc: "Cost of a child-year in \(levels[l].name) (with the arm's add-on).", units: "pounds/years")
            return v
        }
        let weights = (0..<nLevels).map { l -> String in
            let v = name("qol_weight", levels[l].name)
            aux(v, Self.n(levels[l].qolWeight), doc: "QoL weight of a year in \(levels[l].name).", units: "dmnl")
            return v
        }
        let programme = name("programme_cost_per_year")
        let points = arm.programmeCostPerYear.points
        if points.count > 1 {
            aux(programme, Self.trajectory(points.map { ($0.timeYears, $0.value) }), doc: "The programme's cost per year, linear between the scenario's points and held beyond them.",
                units: "pounds/years")
        } else {
            aux(programme, Self.n(points.first?.value ?? 0), doc: "The programme's cost per year.", units: "pounds/years")
        }
        let perChild = name("programme_cost_per_child_reached_per_year")
        aux(perChild, Self.n(arm.programmeCostPerChildReachedPerYear), doc: "Programme cost per child reached per year.", units: "pounds/children/years")
        let costRate = name("cost_rate")
        aux(costRate, (0..<nLevels).map { "\(levelNames[$0]) * \(costs[$0])" }.joined(separator: " + ") + " + \(programme) + \(perChild) * \(reached)",
            doc: "Cost per year: children in each level × its cost, plus the programme.", units: "pounds/years")
        let qolRate = name("qol_rate")
        aux(qolRate, (0..<nLevels).map { "\(levelNames[$0]) * \(weights[$0])" }.joined(separator: " + "),
            doc: "QoL-years per year: children in each level × its QoL weight.", units: "dmnl")
        let rc = name("cost_discount_rate"), rq = name("qol_discount_rate")
        aux(rc, Self.n(arm.costDiscountRatePerYear), doc: "D(t) = (1 + r)^(−t) for costs.", units: "1/years")
        aux(rq, Self.n(arm.qolDiscountRatePerYear), doc: "D(t) = (1 + r)^(−t) for QoL.", units: "1/years")
        let pairs: [(String, String, String, String, String)] = [
            ("cumulative_cost", "cost_flow", costRate, "Cost so far, undiscounted.", "pounds"),
            ("cumulative_cost_discounted", "discounted_cost_flow", "\(costRate) * (1 + \(rc)) ^ (-TIME)", "Cost so far, discounted to time 0.", "pounds"),
            ("cumulative_qol_years", "qol_flow", qolRate, "QoL-years so far, undiscounted.", "years"),
            ("cumulative_qol_years_discounted", "discounted_qol_flow", "\(qolRate) * (1 + \(rq)) ^ (-TIME)", "QoL-years so far, discounted to time 0.", "years"),
        ]
        let steps = arm.steps
        let w = (0...steps).map { t in t == 0 ? (0.0, 0.0) : Rewards.weights(step: t, steps: steps, timing: arm.rewardTiming) }
        let startWeights = (0..<steps).map { u in (u == 0 ? 0 : w[u].1) + w[u + 1].0 }
        let endWeights = w.map(\.1)
        let timed = correctTiming && !(startWeights.allSatisfy { $0 == 1 } && endWeights.allSatisfy { $0 == 0 })
        var startWeight = "", endWeight = ""
        if timed {
            startWeight = name("reward_weight_at_step_start")
            endWeight = name("reward_weight_at_step_end")
            let stepIndex = used.contains("step_index") ? "step_index" : "INT(TIME / step_years + 0.000001)"
            let constant = startWeights.dropFirst().allSatisfy { $0 == 1 } && endWeights.dropFirst().allSatisfy { $0 == endWeights.last }
            if constant {
                aux(startWeight, "IF \(stepIndex) = 0 THEN \(Self.n(startWeights[0])) ELSE 1",
                    doc: "Weight of the value rate at a step's start in the cumulative sums (rewardTiming \(arm.rewardTiming)): w0 of the first step, then w1 + w0 = 1.", units: "dmnl")
                aux(endWeight, "IF \(stepIndex) = 0 THEN 0 ELSE \(Self.n(endWeights.last ?? 0))",
                    doc: "Weight w1 of the value rate now, as the end of the step just completed.", units: "dmnl")
            } else {
                aux(startWeight, Self.stepTable(startWeights, index: stepIndex),
                    doc: "Weight of the value rate at each step's start in the cumulative sums (rewardTiming \(arm.rewardTiming)): w1 of the step before plus w0 of the step.",
                    units: "dmnl")
                aux(endWeight, Self.stepTable(endWeights, index: stepIndex),
                    doc: "Weight w1 of the value rate now, as the end of the step just completed (rewardTiming \(arm.rewardTiming)).", units: "dmnl")
            }
        }
        for (stockName, flowName, equation, doc, units) in pairs {
            let f = name(flowName)
            guard timed else {
                flow(f, equation, doc: "Accrual of: \(doc.lowercased())", units: "\(units)/years")
                stock(name(stockName), initial: "0", inflows: [f], outflows: [],
                      doc: doc + (correctTiming ? " Euler with DT = the model step: girfec's rewardTiming start."
                                  : " Under Euler with DT = the model step this is girfec's rewardTiming: start."), units: units)
                continue
            }
            let rateName = name(flowName.replacingOccurrences(of: "_flow", with: "_rate_now"))
            aux(rateName, equation, doc: "The value rate now: \(doc.lowercased())", units: "\(units)/years")
            flow(f, "\(rateName) * \(startWeight)", doc: "Accrual, the rate weighted as the start of the step that begins now.", units: "\(units)/years")
            let st = name(stockName, "at_step_starts"), total = name(stockName)
            stock(st, initial: "0", inflows: [f], outflows: [], doc: doc + " The steps' start terms (Euler with DT = the model step).", units: units)
            aux(total, "\(st) + step_years * \(endWeight) * \(rateName)",
                doc: doc + " girfec's rewardTiming \(arm.rewardTiming): the start terms plus the end term of the step just completed.", units: units)
        }
    }

    /// The document around the variables: header, sim_specs, optional array dimensions, closing comment.
    func wrap(scenarioName: String, dtYears: Double, method: IntegrationMethod, version: String, dimensions: [String], notice: String? = nil) -> String {

        let dt: String
        let perYear = 1 / dtYears
        if abs(perYear - perYear.rounded()) < 1e-9 && perYear.rounded() >= 1 {
            dt = "<dt reciprocal=\"true\">\(Int(perYear.rounded()))</dt>"
        } else {
            dt = "<dt>\(Self.n(dtYears))</dt>"
        }
        let approximations = s.approximations.isEmpty ? "" : " girfec's aggregate model approximates: " + s.approximations.joined(separator: "; ") + "."
        return """
        <?xml version="1.0" encoding="utf-8"?>
        <xmile version="1.0" xmlns="http://docs.oasis-open.org/xmile/ns/XMILE/v1.0">\(notice.map { "\n  <!-- " + Self.escape($0).replacingOccurrences(of: "--", with: "- -") + " -->" } ?? "")
          <header>
            <name>\(Self.escape(scenarioName)) — arm \(Self.escape(arm.name))</name>
            <vendor>girfec</vendor>
            <product version="\(Self.escape(version))" lang="en">girfec</product>
          </header>
          <sim_specs method="\(method == .euler ? "Euler" : "RK4")" time_units="years">
            <start>0</start>
            <stop>\(Self.n(arm.horizonYears))</stop>
            \(dt)
          </sim_specs>\(dimensions.isEmpty ? "" : "\n  <dimensions>\n" + dimensions.joined(separator: "\n") + "\n  </dimensions>")
          <model>
            <variables>
        \(variables.joined(separator: "\n"))
            </variables>
          </model>
        </xmile>

        """ + "<!-- Written by girfec export from the aggregate model's sd mode (docs/xmile.md).\(Self.escape(approximations).replacingOccurrences(of: "--", with: "- -")) -->\n"
    }
}
