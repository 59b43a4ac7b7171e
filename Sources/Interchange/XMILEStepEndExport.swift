import Foundation
import Model
import StockFlow

/// The XMILE document of an arm whose `sd`-mode step ends change the stocks (ageing, ageing out,
/// births, migration) or whose step's own exposure acts in the step (`exposureTiming: includingStep`):
/// each step-end event written as a flow that, under Euler with DT = the model step h, moves in one
/// DT exactly what girfec moves at the step's end (docs/xmile.md, "Step ends as flows").
///
/// ```
/// A_l        = S_l + h · (Σ transitions in − Σ transitions out)        (after the step's transitions)
/// ageing_out = A_l · ages_out / h          out_migration = A_l · (1 − ages_out) · (1 − e^(−μh)) / h
/// births     = births_per_year · newborn · entry_share_l
/// in_migration = in_per_year · age_share(age + step) · in_share_l
/// S_l(t + h) = S_l + h · (in − out) = A_l · (1 − ages_out) · e^(−μh) + h · (births + in_migration)
/// ```
///
/// Children are counted by birth month (the array dimension `cohort`), so ageing moves nobody: a
/// cohort's age is the step index × step months − its birth month, which sets its age band and when
/// it ages out; without ageing the dimension is the age bands. Exposure is one mean per coverage
/// group, diluted at step ends by the newcomers as girfec's aggregate does:
/// E(t + h) = (E + h·x) · (1 − newcomers / children after the step). The equations hold only with
/// Euler at DT = h (Sterman 2000, *Business Dynamics*, appendix A: Euler's update
/// S(t + DT) = S(t) + DT · net flow; girfec's operator splitting: docs/methods.md §9).
struct StepEndWriter {
    let arm: ArmModel
    let s: SystemDynamicsStructure
    var w: Writer

    init(arm: ArmModel, structure: SystemDynamicsStructure) {
        self.arm = arm
        s = structure
        w = Writer(arm: arm, structure: structure)
    }

    /// One array dimension of the file: its name and element names.
    struct Dimension {
        var name: String
        var elements: [String]
    }

    /// An arrayed variable's `<dimensions>` block.
    static func dims(_ names: [String]) -> String {
        names.isEmpty ? "" : "\n        <dimensions>" + names.map { "<dim name=\"\($0)\"/>" }.joined() + "</dimensions>"
    }

    /// A variable with one equation per element of a one-dimensional array.
    mutating func perElement(_ name: String, dim: Dimension, values: [String], doc: String, units: String) {
        guard dim.elements.count > 1 else { w.aux(name, values[0], doc: doc, units: units); return }
        let elements = zip(dim.elements, values).map { "        <element subscript=\"\($0.0)\"><eqn>\(Writer.escape($0.1))</eqn></element>" }
        w.variables.append("""
              <aux name="\(name)">
                <doc>\(Writer.escape(doc))</doc>\(Self.dims([dim.name]))
        \(elements.joined(separator: "\n"))
                <units>\(Writer.escape(units))</units>
              </aux>
        """)
    }

    /// An apply-to-all arrayed variable (`kind` aux or flow).
    mutating func arrayed(_ kind: String, _ name: String, dims: [String], _ equation: String, doc: String, units: String) {
        w.variables.append("""
              <\(kind) name="\(name)">
                <doc>\(Writer.escape(doc))</doc>\(Self.dims(dims))
                <eqn>\(Writer.escape(equation))</eqn>
                <units>\(Writer.escape(units))</units>
              </\(kind)>
        """)
    }

    mutating func arrayedStock(_ name: String, dims: [String], initial: String, inflows: [String], outflows: [String], doc: String, units: String) {
        let lines = inflows.map { "        <inflow>\($0)</inflow>" } + outflows.map { "        <outflow>\($0)</outflow>" }
        w.variables.append("""
              <stock name="\(name)">
                <doc>\(Writer.escape(doc))</doc>\(Self.dims(dims))
                <eqn>\(Writer.escape(initial))</eqn>
        \(lines.joined(separator: "\n"))
                <units>\(Writer.escape(units))</units>
              </stock>
        """)
    }

    mutating func document(scenarioName: String, version: String) -> String {
        let levels = arm.levels, nLevels = levels.count
        let practices = arm.practices
        let absorbing = levels.map(\.absorbing)
        let births = arm.birthsPerYear.contains { $0 > 0 }
        let immigration = arm.immigrationPerYear.contains { $0 > 0 }
        let outMigration = arm.emigrationRatePerYear > 0
        let ageOut = arm.ageing ? arm.ageOutMonths : nil
        let entries = births || immigration

        // Dimensions: coverage groups, and birth-month cohorts (ageing) or age bands.
        var groupElements: [String] = []
        for group in s.groups {
            let members = practices.indices.filter { group.mask & (1 << $0) != 0 }
            let reach = practices.isEmpty ? [] : members.isEmpty ? ["no", "practice"] : Array(members.map { [practices[$0].name] }.joined(separator: ["and"]))
            let area = arm.areas.count > 1 ? [arm.areas[group.area]] : []
            groupElements.append(w.name(Self.camel(area + (reach.isEmpty && area.isEmpty ? ["all"] : reach))))
        }
        let group = Dimension(name: w.name("group"), elements: groupElements)
        let top = AgeClasses.monthCount(arm)
        let birthMonths: [Int] = arm.ageing ? Array(-(top - 1)...(arm.steps * arm.stepMonths)) : []
        let cohort: Dimension
        if arm.ageing {
            cohort = Dimension(name: w.name("cohort"), elements: birthMonths.map { w.name($0 < 0 ? "bornM\(-$0)" : "born\($0)") })
        } else {
            cohort = Dimension(name: w.name("age_band"), elements: s.classes.map { w.name("from\($0.fromMonths)Months") })
        }
        // A dimension of one element is left out (the variables are scalars along it): PySD reads a
        // reference along a one-element dimension as a number without dimensions.
        let G = group.name, C = cohort.name
        let multiGroup = group.elements.count > 1, multiCohort = cohort.elements.count > 1
        let gDims = multiGroup ? [G] : [], cDims = multiCohort ? [C] : []
        let gc = gDims + cDims
        let atGC = gc.isEmpty ? "" : "[" + gc.joined(separator: ", ") + "]", atG = multiGroup ? "[\(G)]" : "", atC = multiCohort ? "[\(C)]" : ""
        func perGroup(_ x: String) -> String { multiCohort ? "SUM(\(x)[" + (multiGroup ? "\(G), " : "") + "\(C)!])" : "\(x)\(atG)" }
        func overGroups(_ x: String) -> String { multiGroup ? "SUM(\(x)[\(G)!])" : x }
        func overAll(_ x: String) -> String { gc.isEmpty ? x : "SUM(\(x)[" + gc.map { $0 + "!" }.joined(separator: ", ") + "])" }

        let stepYears = w.name("step_years"), stepMonths = w.name("step_months")
        w.aux(stepYears, Writer.n(arm.stepYears),
              doc: "The model step h. The step-end flows move in one DT what girfec moves at a step's end: this file reproduces girfec only with Euler and DT = step_years.",
              units: "years")
        w.aux(stepMonths, String(arm.stepMonths), doc: "The model step in months: how far a child ages in a step.", units: "months")
        let stepIndex = w.name("step_index")
        w.aux(stepIndex, "INT(TIME / \(stepYears) + 0.000001)", doc: "Steps completed: 0 during the first step.", units: "dmnl")

        // Rates and their modifiers.
        var rate = [[String?]](repeating: [String?](repeating: nil, count: nLevels), count: nLevels)
        for i in 0..<nLevels {
            for j in 0..<nLevels where j != i && s.generatorPerYear[i][j] > 0 {
                let r = w.name("rate", levels[i].name, "to", levels[j].name)
                w.aux(r, Writer.n(s.generatorPerYear[i][j]),
                      doc: "Baseline rate of moves \(levels[i].name) → \(levels[j].name): Q = log(P)/dt of the scenario's transitions (\(arm.transitionConversion)).",
                      units: "1/years")
                rate[i][j] = r
            }
        }
        let leave = (0..<nLevels).map { l -> String in
            let v = w.name("leave_multiplier", levels[l].name)
            w.aux(v, Writer.n(s.leaveMultipliers[l]),
                  doc: arm.durationMultipliers[l].isEmpty ? "No duration dependence in this level."
                      : "Duration dependence replaced by the level's stationary mean leave multiplier, as girfec's aggregate model does (docs/methods.md §9).",
                  units: "dmnl")
            return v
        }

        // Age: per cohort (ageing) or per band.
        let up = w.name("escalation_age_multiplier"), down = w.name("step_down_age_multiplier")
        var agesOut = "", newborn = "", inAgeShare = ""
        let initialShares: [Double]
        if arm.ageing {
            let birth = w.name("birth_month"), age = w.name("age_months")
            perElement(birth, dim: cohort, values: birthMonths.map(String.init),
                       doc: "Month of birth of the cohort, counted from the start (0: aged 0 months at the start).", units: "months")
            w.variables.append("""
                  <aux name="\(age)">
                    <doc>Age of the cohort in months in the current step: girfec's month class of these children.</doc>\(Self.dims(cDims))
                    <eqn>\(stepIndex) * \(stepMonths) - \(birth)\(atC)</eqn>
                    <units>months</units>
                  </aux>
            """)
            func band(_ value: (AgeMultiplier) -> Double) -> String {
                let bands = arm.ageMultipliers
                guard bands.count > 1 else { return Writer.n(bands.first.map(value) ?? 1) }
                var text = Writer.n(value(bands[0]))
                for b in bands.indices.dropFirst() {
                    text = "IF \(age)\(atC) >= \(bands[b].fromMonths) THEN \(Writer.n(value(bands[b]))) ELSE \(b == 1 ? text : "(\(text))")"
                }
                return text
            }
            // Wrapped in (… ) * 1 so the array has the cohort dimension even when the bands agree.
            w.variables.append("""
                  <aux name="\(up)">
                    <doc>Age multiplier of escalations: the band of the cohort's age in months (the last band starting at or before it).</doc>\(Self.dims(cDims))
                    <eqn>\(Writer.escape(Self.wrap(band(\.escalationMultiplier), age: "\(age)\(atC)")))</eqn>
                    <units>dmnl</units>
                  </aux>
                  <aux name="\(down)">
                    <doc>Age multiplier of step-downs, by the same bands.</doc>\(Self.dims(cDims))
                    <eqn>\(Writer.escape(Self.wrap(band(\.stepDownMultiplier), age: "\(age)\(atC)")))</eqn>
                    <units>dmnl</units>
                  </aux>
            """)
            let shares = AgeClasses.shares(arm.ageDistribution, arm: arm, classCount: top, monthly: true)
            initialShares = birthMonths.map { b in b <= 0 && -b < top ? shares[-b] : 0 }
            if let ageOut {
                agesOut = w.name("ages_out")
                let limit = w.name("age_out_months")
                w.aux(limit, String(ageOut), doc: "Children leave at this age (population.ageOutYears), at the end of the step in which they reach it.", units: "months")
                arrayed("aux", agesOut, dims: cDims, "IF \(age)\(atC) + \(stepMonths) >= \(limit) THEN 1 ELSE 0",
                        doc: "1 for the cohort that reaches the age-out month at the end of this step (girfec: class c + step months ≥ age out).", units: "dmnl")
            }
            if births {
                newborn = w.name("newborn")
                arrayed("aux", newborn, dims: cDims, "IF \(age)\(atC) + \(stepMonths) = 0 THEN 1 ELSE 0",
                        doc: "1 for the cohort born at the end of this step: births join girfec's month class 0 at step ends.", units: "dmnl")
            }
            if immigration {
                inAgeShare = w.name("in_migrant_age_share")
                let terms = arm.ageDistribution.filter { $0.toMonths > $0.fromMonths }.map { b in
                    "(IF \(age)\(atC) + \(stepMonths) >= \(b.fromMonths) AND \(age)\(atC) + \(stepMonths) < \(b.toMonths) THEN \(Writer.n(b.share / Double(b.toMonths - b.fromMonths))) ELSE 0)"
                }
                arrayed("aux", inAgeShare, dims: cDims, terms.isEmpty ? "0 * \(age)\(atC)" : terms.joined(separator: " + "),
                        doc: "Share of in-migrants joining the cohort at the end of this step: population.ageDistribution per month of age, at the age the cohort then has.",
                        units: "dmnl")
            }
        } else {
            perElement(up, dim: cohort, values: s.classes.map { Writer.n($0.escalationMultiplier) }, doc: "Age multiplier of escalations in each age band (children do not age).", units: "dmnl")
            perElement(down, dim: cohort, values: s.classes.map { Writer.n($0.stepDownMultiplier) }, doc: "Age multiplier of step-downs in each age band.", units: "dmnl")
            let shares = AgeClasses.shares(arm.ageDistribution, arm: arm, classCount: s.classes.count, monthly: arm.ageing)
            initialShares = shares
            if births {
                newborn = w.name("newborn")
                let band = arm.ageMultipliers.lastIndex { $0.fromMonths <= 0 } ?? 0
                perElement(newborn, dim: cohort, values: s.classes.indices.map { $0 == band ? "1" : "0" },
                           doc: "1 for the age band of newborns.", units: "dmnl")
            }
            if immigration {
                inAgeShare = w.name("in_migrant_age_share")
                perElement(inAgeShare, dim: cohort, values: shares.map(Writer.n), doc: "Share of in-migrants in each age band (population.ageDistribution).", units: "dmnl")
            }
        }
        let initialAgeShare = w.name("initial_age_share")
        perElement(initialAgeShare, dim: cohort, values: initialShares.map(Writer.n),
                   doc: "Share of each area's starting children in each \(arm.ageing ? "month of age (cohort)" : "age band"): population.ageDistribution.", units: "dmnl")

        // Per group: starting children, entries, coverage.
        let initialChildren = (0..<nLevels).map { l -> String in
            let v = w.name("initial_children", levels[l].name)
            perElement(v, dim: group, values: s.groups.map { Writer.n(Double(arm.initialCounts[$0.area][l]) * $0.weight) },
                       doc: "Starting children in \(levels[l].name): the area's count × the group's share of it.", units: "children")
            return v
        }
        var birthsPerYear = "", inPerYear = "", outFraction = ""
        if births {
            birthsPerYear = w.name("births_per_year")
            perElement(birthsPerYear, dim: group, values: s.groups.map { Writer.n(arm.birthsPerYear[$0.area] * $0.weight) },
                       doc: "Births a year into the group: the area's births × the group's share.", units: "children/years")
        }
        if immigration {
            inPerYear = w.name("in_migration_per_year")
            perElement(inPerYear, dim: group, values: s.groups.map { Writer.n(arm.immigrationPerYear[$0.area] * $0.weight) },
                       doc: "In-migrants a year into the group: the area's in-migration × the group's share.", units: "children/years")
        }
        if outMigration {
            let rateName = w.name("out_migration_rate_per_year")
            w.aux(rateName, Writer.n(arm.emigrationRatePerYear), doc: "Out-migration rate μ (population.migration.outRatePerYear).", units: "1/years")
            outFraction = w.name("out_migration_fraction_per_step")
            w.aux(outFraction, "1 - EXP(-\(rateName) * \(stepYears))", doc: "Share of the children leaving at a step's end: 1 − exp(−μh).", units: "dmnl")
        }
        let entryShares = (0..<nLevels).map { l -> String? in
            guard births, arm.entryLevelShares[l] > 0 else { return nil }
            let v = w.name("entry_share", levels[l].name)
            w.aux(v, Writer.n(arm.entryLevelShares[l]), doc: "Share of newborns entering \(levels[l].name).", units: "dmnl")
            return v
        }
        let inShares = (0..<nLevels).map { l -> String? in
            guard immigration, arm.immigrationLevelShares[l] > 0 else { return nil }
            let v = w.name("in_migrant_share", levels[l].name)
            w.aux(v, Writer.n(arm.immigrationLevelShares[l]), doc: "Share of in-migrants entering \(levels[l].name).", units: "dmnl")
            return v
        }

        // Practice: intensity, exposure per group, strength, multipliers.
        var covered: [String] = [], strength: [String] = [], effects: [(String, String)] = [], intensity: [String] = []
        for (k, p) in practices.enumerated() {
            let x = w.name("intensity", p.name)
            let values = s.intensityPerStep.map { $0[k] }
            if p.intensity.points.count > 1 {
                w.aux(x, Writer.stepTable(values, index: stepIndex), doc: "Intensity of \(p.name) in each step: the scenario's trajectory at the step's middle, held for the step.",
                      units: "dmnl")
            } else {
                w.aux(x, Writer.n(values.first ?? p.intensity.value(at: 0)), doc: "Intensity of \(p.name) (constant).", units: "dmnl")
            }
            intensity.append(x)
            let cov = w.name("covered", p.name)
            perElement(cov, dim: group, values: s.groups.map { $0.mask & (1 << k) != 0 ? "1" : "0" },
                       doc: "1 for the groups \(p.name) reaches.", units: "dmnl")
            covered.append(cov)
            let tau = w.name("time_to_effect", p.name)
            w.aux(tau, Writer.n(p.timeToEffectYears), doc: "τ: years of full-intensity exposure to most of the effect.", units: "years")
            let a = w.name("escalation_effect", p.name), b = w.name("step_down_effect", p.name)
            w.aux(a, Writer.n(p.escalationEffect), doc: "a: escalation rates are multiplied by (1 − a·s).", units: "dmnl")
            w.aux(b, Writer.n(p.stepDownEffect), doc: "b: step-down rates are multiplied by (1 + b·s).", units: "dmnl")
            effects.append((a, b))
            strength.append(tau)
        }

        // Level stocks and their flows.
        var stockNames: [String] = [], byGroup: [String] = []
        for l in 0..<nLevels {
            stockNames.append(w.name(levels[l].name, "by", C))
            byGroup.append(w.name(levels[l].name, "by", G))
        }
        let exposureNames = practices.map { w.name("exposure", $0.name) }
        let redName = practices.isEmpty ? "" : w.name("red_multiplier"), greenName = practices.isEmpty ? "" : w.name("green_multiplier")
        for (k, p) in practices.enumerated() {
            let acting = w.name("acting_exposure", p.name)
            let eqn = arm.exposureTiming == .includingStep
                ? "\(exposureNames[k])\(atG) + \(stepYears) * \(covered[k])\(atG) * \(intensity[k])" : "\(exposureNames[k])\(atG) * 1"
            arrayed("aux", acting, dims: gDims, eqn,
                    doc: arm.exposureTiming == .includingStep
                        ? "Exposure acting in this step (exposureTiming: includingStep): the exposure before the step plus the step's own, h·x."
                        : "Exposure acting in this step (exposureTiming: beforeStep): the exposure before the step.",
                    units: "years")
            let tau = strength[k], x = intensity[k]
            let sName = w.name("strength", p.name)
            let equation: String
            switch p.effect.name {
            case "saturating": equation = p.timeToEffectYears <= 0 ? "\(covered[k])\(atG) * 0 + \(x)" : "\(x) * (1 - EXP(-\(acting)\(atG) / \(tau)))"
            case "linear": equation = p.timeToEffectYears <= 0 ? "\(covered[k])\(atG) * 0 + \(x)" : "\(x) * MIN(\(acting)\(atG) / \(tau), 1)"
            default: equation = "\(covered[k])\(atG) * 0 + \(x)"
            }
            arrayed("aux", sName, dims: gDims, equation, doc: "Effect strength s of \(p.name) (effect function \(p.effect.name)).", units: "dmnl")
            strength[k] = sName
        }
        if !practices.isEmpty {
            arrayed("aux", redName, dims: gDims, practices.indices.map { "(1 - \(effects[$0].0) * \(strength[$0])\(atG) * \(covered[$0])\(atG))" }.joined(separator: " * "),
                    doc: "Escalation multiplier of each group: Π over the practices reaching it of (1 − a·s).", units: "dmnl")
            arrayed("aux", greenName, dims: gDims, practices.indices.map { "(1 + \(effects[$0].1) * \(strength[$0])\(atG) * \(covered[$0])\(atG))" }.joined(separator: " * "),
                    doc: "Step-down multiplier of each group: Π over the practices reaching it of (1 + b·s).", units: "dmnl")
        }
        var inflows = [[String]](repeating: [], count: nLevels), outflows = inflows
        var transitionIn = inflows, transitionOut = inflows, entryFlows = inflows, exitFlows = inflows
        var moves: [(String, Int, Int)] = []
        for i in 0..<nLevels {
            for j in 0..<nLevels {
                guard let r = rate[i][j] else { continue }
                let f = w.name(levels[i].name, "to", levels[j].name)
                let modulation = j > i ? (practices.isEmpty ? "" : "\(redName)\(atG) * ") + "\(up)\(atC)" : (practices.isEmpty ? "" : "\(greenName)\(atG) * ") + "\(down)\(atC)"
                arrayed("flow", f, dims: gc, "\(stockNames[i])\(atGC) * \(r) * \(modulation) * \(leave[i])",
                        doc: "\(j > i ? "Escalations" : "Step-downs") \(levels[i].name) → \(levels[j].name).", units: "children/years")
                outflows[i].append(f); inflows[j].append(f)
                transitionOut[i].append(f); transitionIn[j].append(f)
                moves.append((f, i, j))
            }
        }
        var entering: [String] = [], afterStep: [String] = []
        for l in 0..<nLevels {
            let after = w.name(levels[l].name, "after_transitions")
            let net = (transitionIn[l].map { " + \($0)\(atGC)" } + transitionOut[l].map { " - \($0)\(atGC)" }).joined()
            arrayed("aux", after, dims: gc, net.isEmpty ? "\(stockNames[l])\(atGC) * 1" : "\(stockNames[l])\(atGC) + \(stepYears) * (0\(net))",
                    doc: "Children in \(levels[l].name) after the step's transitions: the stock one DT on (Euler, DT = step_years), before the step's end.",
                    units: "children")
            if !absorbing[l] {
                if !agesOut.isEmpty {
                    let f = w.name(levels[l].name, "ageing_out")
                    arrayed("flow", f, dims: gc, "\(after)\(atGC) * \(agesOut)\(atC) / \(stepYears)",
                            doc: "Children reaching the age-out month leave at the step's end.", units: "children/years")
                    outflows[l].append(f); exitFlows[l].append(f)
                }
                if outMigration {
                    let f = w.name(levels[l].name, "out_migration")
                    let stay = agesOut.isEmpty ? "" : " * (1 - \(agesOut)\(atC))"
                    arrayed("flow", f, dims: gc, "\(after)\(atGC)\(stay) * \(outFraction) / \(stepYears)",
                            doc: "Out-migration at the step's end: 1 − exp(−μh) of the children after the transitions (not those ageing out).", units: "children/years")
                    outflows[l].append(f); exitFlows[l].append(f)
                }
            }
            if let share = entryShares[l] {
                let f = w.name(levels[l].name, "births")
                arrayed("flow", f, dims: gc, "\(birthsPerYear)\(atG) * \(newborn)\(atC) * \(share)",
                        doc: "Births into \(levels[l].name) at the step's end, into the newborn \(arm.ageing ? "cohort" : "band").", units: "children/years")
                inflows[l].append(f); entryFlows[l].append(f)
                if !absorbing[l] { entering.append(f) }
            }
            if let share = inShares[l] {
                let f = w.name(levels[l].name, "in_migration")
                arrayed("flow", f, dims: gc, "\(inPerYear)\(atG) * \(inAgeShare)\(atC) * \(share)",
                        doc: "In-migrants into \(levels[l].name) at the step's end, by the age they then have.", units: "children/years")
                inflows[l].append(f); entryFlows[l].append(f)
                if !absorbing[l] { entering.append(f) }
            }
            arrayedStock(stockNames[l], dims: gc, initial: "\(initialChildren[l])\(atG) * \(initialAgeShare)\(atC)", inflows: inflows[l], outflows: outflows[l],
                         doc: "Expected children in \(levels[l].name) by coverage group and \(arm.ageing ? "month of birth" : "age band").", units: "children")
            if !practices.isEmpty && entries && !absorbing[l] {
                let v = w.name(levels[l].name, "after_step")
                let net = (inflows[l].map { " + \($0)\(atGC)" } + outflows[l].map { " - \($0)\(atGC)" }).joined()
                arrayed("aux", v, dims: gc, "\(stockNames[l])\(atGC) + \(stepYears) * (0\(net))",
                        doc: "Children in \(levels[l].name) at the step's end (the stock one DT on).", units: "children")
                afterStep.append(v)
            }
        }
        // Exposure per group: gains h·x a step, diluted by newcomers at step ends.
        var dilution = ""
        if !practices.isEmpty && entries {
            let newcomers = w.name("entering"), present = w.name("present_after_step")
            arrayed("aux", newcomers, dims: gDims, entering.map(perGroup).joined(separator: " + "),
                    doc: "Children entering the group's levels (not absorbing ones) a year at this step's end.", units: "children/years")
            arrayed("aux", present, dims: gDims, afterStep.map(perGroup).joined(separator: " + "),
                    doc: "Children in the group's non-absorbing levels at this step's end, newcomers included.", units: "children")
            dilution = w.name("exposure_dilution")
            arrayed("aux", dilution, dims: gDims,
                    "IF \(newcomers)\(atG) > 0 THEN (IF \(present)\(atG) > 0 THEN \(stepYears) * \(newcomers)\(atG) / \(present)\(atG) ELSE 1) ELSE 0",
                    doc: "Share of the group's children at the step's end who joined at it, with no exposure: the mean exposure is diluted by it.", units: "dmnl")
        }
        for (k, p) in practices.enumerated() {
            let change = w.name("exposure_change", p.name)
            let gain = "\(covered[k])\(atG) * \(intensity[k])"
            let eqn = dilution.isEmpty ? gain
                : "\(gain) - (\(exposureNames[k])\(atG) + \(stepYears) * \(gain)) * \(dilution)\(atG) / \(stepYears)"
            arrayed("flow", change, dims: gDims, eqn,
                    doc: "Exposure gained at the intensity x by the covered groups\(dilution.isEmpty ? "" : ", less its dilution by newcomers at the step's end: E(t + h) = (E + h·x)·(1 − dilution)").",
                    units: "dmnl")
            arrayedStock(exposureNames[k], dims: gDims, initial: "\(covered[k])\(atG) * 0", inflows: [change], outflows: [],
                         doc: "Mean exposure E to \(p.name) of the group's children (girfec's mean field: one exposure per coverage group).", units: "years")
        }

        // Totals.
        var levelNames: [String] = []
        for l in 0..<nLevels {
            arrayed("aux", byGroup[l], dims: gDims, perGroup(stockNames[l]), doc: "Children in \(levels[l].name) in each group.", units: "children")
            let total = w.name(levels[l].name)
            w.aux(total, overGroups(byGroup[l]), doc: "Expected children in \(levels[l].name), all groups and ages.", units: "children")
            levelNames.append(total)
        }
        for (f, i, j) in moves {
            w.aux(w.name("moves", levels[i].name, "to", levels[j].name), overAll(f),
                  doc: "Moves \(levels[i].name) → \(levels[j].name) a year, all groups and ages: h × this is girfec's flow of the step that starts now.",
                  units: "children/years")
        }
        for l in 0..<nLevels {
            if !entryFlows[l].isEmpty {
                w.aux(w.name("entries", levels[l].name), entryFlows[l].map(overAll).joined(separator: " + "),
                      doc: "Births and in-migrants into \(levels[l].name) a year: h × this is girfec's entries at the end of the step that starts now.",
                      units: "children/years")
            }
            if !exitFlows[l].isEmpty {
                w.aux(w.name("exits", levels[l].name), exitFlows[l].map(overAll).joined(separator: " + "),
                      doc: "Children ageing out of or migrating from \(levels[l].name) a year: h × this is girfec's exits at the end of the step that starts now.",
                      units: "children/years")
            }
        }
        var reachedTerms: [String] = []
        for (g, grp) in s.groups.enumerated() where grp.mask != 0 {
            for l in 0..<nLevels where !absorbing[l] { reachedTerms.append(multiGroup ? "\(byGroup[l])[\(group.elements[g])]" : byGroup[l]) }
        }
        w.costsAndQoL(levelNames: levelNames, reachedTerms: reachedTerms, correctTiming: true)
        return w.wrap(scenarioName: scenarioName, dtYears: arm.stepYears, method: .euler, version: version,
                      dimensions: [group, cohort].filter { $0.elements.count > 1 }.map { d in
                          "    <dim name=\"\(d.name)\">" + d.elements.map { "<elem name=\"\($0)\"/>" }.joined() + "</dim>"
                      },
                      notice: "This model reproduces girfec's sd mode only with Euler integration and DT = \(Writer.n(arm.stepYears)) years (the model step): "
                          + "ageing, ageing out, births, migration and the step's own exposure are written as flows that move in one DT what girfec moves at a step's end. "
                          + "Another DT or method changes the model. Sums over an array dimension are written SUM(x[group, cohort!]), the notation PySD reads.")
    }

    /// Words as one array element name without underscores (PySD reads an underscore in a subscript as a
    /// space): the first word as written, the others capitalised, other characters dropped.
    static func camel(_ words: [String]) -> String {
        let parts = words.flatMap { $0.split { !($0.isASCII && ($0.isLetter || $0.isNumber)) }.map(String.init) }
        return parts.enumerated().map { $0.offset == 0 ? $0.element : $0.element.prefix(1).uppercased() + $0.element.dropFirst() }.joined()
    }

    /// An age-dependent equation that keeps the cohort dimension when it is a constant.
    static func wrap(_ equation: String, age: String) -> String {
        equation.contains("IF ") ? equation : "\(age) * 0 + \(equation)"
    }
}
