import Foundation
import Model

/// The aggregate stock-flow model: the same validated `ArmModel` as the
/// agent engine, deterministic, expected numbers of children per level.
///
/// State: stocks per (area, coverage mask) group, age class and level. Age
/// classes are months of age when children age (a conveyor that moves by the
/// step length each step, so ageing out at 18 is exact), or the age bands of
/// the transition multipliers when they do not. Coverage groups have the
/// expected shares of children each combination of practices reaches.
///
/// A step mirrors the agent engine's order (docs/methods.md, section 2):
/// transitions, ageing, ageing out, out-migration, then entries. In `cohort`
/// mode the transition is S·P(t), P modulated as for the agents; in `sd`
/// mode the stocks follow dS/dt = S·Q(t) through the step with Q = log(P)/dt
/// modulated the same way, integrated by Euler or RK4 (the same operator
/// splitting: entries, ageing and exits at step ends).
///
/// When every child in a level shares one P (no practice heterogeneity, no
/// duration dependence) cohort mode is the exact expectation of the agent
/// model. What it cannot carry without extra stocks, it approximates and
/// says so in `AggregateResult.approximations`:
/// - duration dependence: each level's stationary mean leave multiplier,
///   m̄ = Σ_d π_d m_d / Σ_d π_d with π_d the chance of staying d months at
///   the baseline leave probability (the constant hazard with the same mean stay);
///   or, with `DurationTracking.exact`, a stock per step spent in the level up to
///   the last duration band (exact in cohort mode);
/// - exposure: one mean per group (`meanField`) or per age stock (`stocks`);
///   the effect is then f(mean exposure), not the mean of f (Jensen's inequality).
///   With `exact` (or `separateEntrants`) entrants keep a stock per entry step,
///   whose exposure is the agents' own: Σ x(u)·dt over the steps since entry.
public enum AggregateModel {
    /// - Parameter referenceCostPerYear: the first arm's cost rate at each time point, for the
    ///   reinvestment loop (ignored without reinvestment).
    public static func run(arm: ArmModel, options: AggregateOptions = AggregateOptions(),
                           referenceCostPerYear: [Double]? = nil) throws(AggregateError) -> AggregateResult {
        var engine = try Runner(arm: arm, options: options)
        return engine.run(referenceCostPerYear: referenceCostPerYear)
    }

    /// The number of stocks a run with these options carries (groups × entry-step slots × age
    /// classes × levels × duration classes), each a Double, twice over during a step.
    public static func stockCount(arm: ArmModel, options: AggregateOptions = AggregateOptions()) throws(AggregateError) -> Int {
        let r = try Runner(arm: arm, options: options)
        return r.groups.count * r.slots * r.classes * r.n * r.durations
    }

    /// Checks that the model can run with these options (an integration step that divides
    /// the model's, a generator for sd mode) without running it.
    public static func check(arm: ArmModel, options: AggregateOptions = AggregateOptions()) throws(AggregateError) {
        _ = try Runner(arm: arm, options: options)
    }

    /// Each level's stationary mean leave multiplier under duration dependence (1 without it).
    public static func stationaryLeaveMultipliers(arm: ArmModel) -> [Double] {
        arm.levels.indices.map { l in
            arm.durationMultipliers[l].isEmpty ? 1 : StationaryStay(arm: arm, level: l).meanLeaveMultiplier
        }
    }

    struct Group {
        var area: Int
        var mask: Int
        var weight: Double
    }

    struct Runner {
        /// An expected count as a whole number; counts beyond Int's range (never from a validated scenario) saturate.
        static func whole(_ x: Double) -> Int {
            Int(exactly: x.rounded()) ?? (x > 0 ? Int.max : 0)
        }

        let arm: ArmModel
        let options: AggregateOptions
        let n: Int
        let groups: [Group]
        /// Age in months of each class (ageing), or nil for band classes (no ageing).
        let classAge: [Int]?
        let classBand: [Int]
        let classes: Int
        /// Entry-step slots: 1, or steps + 1 when some entrants are carried by entry step (slot 0:
        /// children present at the start and entrants averaged in; slot t: those joining at the end of step t).
        let slots: Int
        let birthsBySlot: Bool
        let immigrantsBySlot: Bool
        /// One exposure per age class (`stocks`) rather than per slot.
        let exposurePerAge: Bool
        /// Duration classes: steps already spent in the level, the last one open-ended (1 without tracking).
        let durations: Int
        /// The last duration class of each level.
        let lastDuration: [Int]
        /// Leave multiplier per level and duration class, [l · durations + d].
        let leaveMultiplier: [Double]
        let generator: [[Double]]?
        let schedule: PracticeSchedule
        /// Transition-specific dependence (`TransitionDependence.Combiner`); nil without any.
        let combiner: TransitionDependence.Combiner?
        var approximations: [String] = []

        init(arm: ArmModel, options: AggregateOptions) throws(AggregateError) {
            self.arm = arm
            self.options = options
            n = arm.levels.count
            schedule = PracticeSchedule(arm: arm)
            var gs: [Group] = []
            for a in arm.areas.indices {
                for mask in 0..<(1 << arm.practices.count) {
                    var w = 1.0
                    for (k, p) in arm.practices.enumerated() {
                        let covers = p.areas.contains(a)
                        let on = mask & (1 << k) != 0
                        w *= covers ? (on ? p.share : 1 - p.share) : (on ? 0 : 1)
                    }
                    if w > 0 { gs.append(Group(area: a, mask: mask, weight: w)) }
                }
            }
            groups = gs
            let bandOf = { (months: Int) in arm.ageMultipliers.lastIndex { $0.fromMonths <= months } ?? 0 }
            let combiner = arm.dependence.isEmpty ? nil : TransitionDependence.Combiner(arm: arm)
            self.combiner = combiner
            if combiner != nil && options.mode != .cohort {
                throw AggregateError("transition-specific dependence (transitions.dependence) moves children once per step by their age, the step and their months in the level; it needs the aggregate model's cohort mode, not sd")
            }
            if arm.ageing || combiner?.readsAge == true {
                // A class per month of age: ages grow by the step (ageing), or stay as they were drawn
                // when children do not age but a dependence reads their age.
                classAge = Array(0..<AgeClasses.monthCount(arm))
                classBand = classAge!.map(bandOf)
            } else {
                classAge = nil
                classBand = Array(arm.ageMultipliers.indices)
            }
            classes = classBand.count
            let practices = !arm.practices.isEmpty
            let byStep = practices ? options.entrantsByEntryStep : []
            birthsBySlot = byStep.contains(.births) && arm.birthsPerYear.contains { $0 > 0 }
            immigrantsBySlot = byStep.contains(.immigrants) && arm.immigrationPerYear.contains { $0 > 0 }
            slots = birthsBySlot || immigrantsBySlot ? arm.steps + 1 : 1
            exposurePerAge = options.exposure == .stocks
            let mean = AggregateModel.stationaryLeaveMultipliers(arm: arm)
            let dependent = arm.durationMultipliers.contains { !$0.isEmpty }
            // Months in the level a dependence reads: a duration class per step up to its last key (tunnel
            // stocks), exact in cohort mode whatever `options.durations` says.
            // Starting at 0 months, no child has spent more than `steps` − 1 steps in a level at a step's start.
            let reachable = arm.initialDurations == .zero ? arm.steps : Int.max
            let sojournLast = arm.levels.indices.map { l in
                combiner.map { c in arm.levels[l].absorbing ? 0 : min(reachable, (c.sojournCapMonths[l] + arm.stepMonths - 1) / arm.stepMonths) } ?? 0
            }
            if options.durations == .exact && dependent {
                guard options.mode == .cohort else {
                    throw AggregateError("exact duration tracking moves children once per step; it needs --aggregate-mode cohort, not sd")
                }
                let last = arm.levels.indices.map { l in
                    max(sojournLast[l], arm.durationMultipliers[l].isEmpty || arm.levels[l].absorbing ? 0 : StationaryStay(arm: arm, level: l).head.count)
                }
                lastDuration = last
                durations = (last.max() ?? 0) + 1
                var m = [Double](repeating: 1, count: n * durations)
                for l in 0..<n {
                    for d in 0..<durations {
                        let months = min(d, last[l]) * arm.stepMonths
                        m[l * durations + d] = arm.durationMultipliers[l].last { $0.fromMonths <= months }?.leaveMultiplier ?? 1
                    }
                }
                leaveMultiplier = m
            } else {
                lastDuration = sojournLast
                let classes = (sojournLast.max() ?? 0) + 1
                durations = classes
                leaveMultiplier = (0..<n).flatMap { l in [Double](repeating: mean[l], count: classes) }
            }
            if options.mode == .sd {
                guard let log = MatrixFunctions.logarithm(arm.transitionPerStep) else {
                    throw AggregateError("sd mode needs a generator Q = log(P)/dt, but the per-step matrix has no real logarithm; use --mode cohort")
                }
                var q = MatrixFunctions.scale(log, 1 / arm.stepYears)
                for i in 0..<n {
                    for j in 0..<n where i != j {
                        if q[i][j] < -1e-9 {
                            throw AggregateError("sd mode needs a generator Q = log(P)/dt with rates >= 0, but Q[\(arm.levels[i].name)][\(arm.levels[j].name)] = \(q[i][j]) (the per-step matrix is not embeddable); use --mode cohort")
                        }
                        q[i][j] = max(q[i][j], 0)
                    }
                    q[i][i] = -(0..<n).filter { $0 != i }.reduce(0) { $0 + q[i][$1] }
                }
                generator = q
                let dt = options.dtYears ?? arm.stepYears
                let substeps = arm.stepYears / dt
                guard dt > 0, abs(substeps - substeps.rounded()) < 1e-9 else {
                    throw AggregateError("--dt \(dt) years must be positive and divide the step of \(arm.stepYears) years into a whole number of parts")
                }
                guard substeps <= 1_000_000 else {
                    throw AggregateError("--dt \(dt) years divides the step of \(arm.stepYears) years into \(substeps) parts; expected at most 1000000")
                }
                approximations.append("sd mode: transitions in continuous time with Q = log(P)/dt, \(options.method.rawValue) with DT = \(dt) years; entries, ageing and exits at step ends")
            } else {
                generator = nil
            }
            if dependent && options.durations != .exact {
                let named = arm.levels.indices.filter { !arm.durationMultipliers[$0].isEmpty }
                    .map { "\(arm.levels[$0].name) \(String(format: "%.3f", mean[$0]))" }
                approximations.append("duration dependence: replaced by each level's stationary mean leave multiplier (\(named.joined(separator: ", ")))")
            }
            if practices {
                var averaged: [String] = []
                if !exposurePerAge && !birthsBySlot && arm.birthsPerYear.contains(where: { $0 > 0 }) { averaged.append("births") }
                if !immigrantsBySlot && arm.immigrationPerYear.contains(where: { $0 > 0 }) { averaged.append("in-migrants") }
                if !averaged.isEmpty {
                    let cell = exposurePerAge ? "age stock" : "area and coverage group"
                    approximations.append("exposure: one mean per \(cell); \(averaged.joined(separator: " and ")) join with zero exposure and are averaged in: the effect of the mean exposure, not the mean effect")
                }
            }
        }

        /// Stocks are [((((group · slots + slot) · classes + class) · n + level) · durations + duration].
        func index(_ g: Int, _ e: Int, _ c: Int, _ l: Int, _ d: Int) -> Int { (((g * slots + e) * classes + c) * n + l) * durations + d }

        /// The exposure cell of a stock (times the practice count).
        func exposureCell(_ g: Int, _ e: Int, _ c: Int) -> Int { exposurePerAge ? (g * slots + e) * classes + c : g * slots + e }

        /// Expected share of a set of children in each class, from age shares.
        func classShares(_ bands: [AgeShare]) -> [Double] {
            AgeClasses.shares(bands, arm: arm, classCount: classes, monthly: classAge != nil)
        }

        /// Share of a level's starting children in each duration class.
        func initialDurationShares(level l: Int) -> [Double] {
            var shares = [Double](repeating: 0, count: durations)
            guard durations > 1, lastDuration[l] > 0, arm.initialDurations == .stationary else { shares[0] = 1; return shares }
            let stay = StationaryStay(arm: arm, level: l)
            guard stay.total > 0 else { shares[0] = 1; return shares }
            // P(j steps already spent) as `StationaryStay.months` draws it: S_j / total in the head, then
            // S_J · (1 − p)^k / total for the k-th step of the geometric tail; the last class takes the rest.
            let last = lastDuration[l]
            var listed = 0.0
            for j in 0..<last {
                let s: Double
                if j < stay.head.count { s = stay.head[j] } else if stay.tailLeave > 0 {
                    s = stay.tailSurvival * pow(1 - min(stay.tailLeave, 1), Double(j - stay.head.count))
                } else { s = 0 }
                shares[j] = s / stay.total
                listed += shares[j]
            }
            shares[last] = max(0, 1 - listed)
            return shares
        }

        /// Initial children: each area's counts, split by coverage group, age and time already in the
        /// level, laid out as `index`.
        func initialStocks() -> [Double] {
            var stock = [Double](repeating: 0, count: groups.count * slots * classes * n * durations)
            let initialShares = classShares(arm.ageDistribution)
            let durationShares = (0..<n).map { initialDurationShares(level: $0) }
            for (g, group) in groups.enumerated() {
                for l in 0..<n {
                    let count = Double(arm.initialCounts[group.area][l]) * group.weight
                    for c in 0..<classes where initialShares[c] > 0 {
                        for d in 0..<durations where durationShares[l][d] > 0 { stock[index(g, 0, c, l, d)] += count * initialShares[c] * durationShares[l][d] }
                    }
                }
            }
            return stock
        }

        mutating func run(referenceCostPerYear: [Double]?) -> AggregateResult {
            let layout = RecordLayout(arm: arm)
            let flowsAt = layout.offset(.flow)
            var record = [Double](repeating: 0, count: layout.recordSize)
            let k = arm.practices.count
            let kk1 = max(k, 1)
            let D = durations
            let cellCount = groups.count * slots * classes
            let exposureCells = exposurePerAge ? cellCount : groups.count * slots
            var stock = initialStocks()
            var exposure = [Double](repeating: 0, count: exposureCells * kk1)
            let absorbing = arm.levels.map(\.absorbing)
            let pFlat = arm.transitionPerStep.flatMap { $0 }
            let escalationByClass = classBand.map { arm.ageMultipliers[$0].escalationMultiplier }
            let stepDownByClass = classBand.map { arm.ageMultipliers[$0].stepDownMultiplier }
            let dt = arm.stepYears

            let immigrantShares = classShares(arm.ageDistribution)
            let newbornClass = classAge != nil ? 0 : (arm.ageMultipliers.lastIndex { $0.fromMonths <= 0 } ?? 0)

            var stocksPath = [[Double]](repeating: [Double](repeating: 0, count: n), count: arm.steps + 1)
            var reachedPath = [Double](repeating: 0, count: arm.steps + 1)
            func summarise(_ t: Int) {
                var levels = [Double](repeating: 0, count: n), reached = 0.0
                let perGroup = slots * classes * n * D
                for g in groups.indices {
                    let base = g * perGroup
                    for i in 0..<perGroup {
                        let s = stock[base + i]
                        guard s != 0 else { continue }
                        let l = (i / D) % n
                        levels[l] += s
                        if groups[g].mask != 0 && !absorbing[l] { reached += s }
                    }
                }
                stocksPath[t] = levels
                reachedPath[t] = reached
            }
            summarise(0)
            var childrenEver = stocksPath[0].reduce(0, +)
            var childSteps = 0.0
            let loop = arm.reinvestment.flatMap { r in r.fraction > 0 && referenceCostPerYear != nil ? r : nil }
            var loopState = loop.map { Reinvestment.State($0, stepYears: arm.stepYears) }
            var money = [Double](repeating: 0, count: arm.steps + 1)
            var m = [Double](repeating: 1, count: n * n)
            var moved = [Double](repeating: 0, count: n * D)
            var dependenceRow = [Double](repeating: 0, count: n)
            var red = [Double](repeating: 1, count: exposureCells), green = [Double](repeating: 1, count: exposureCells)

            for t in stride(from: 1, through: arm.steps, by: 1) {
                childSteps += stocksPath[t - 1].reduce(0, +)
                var flows = [Double](repeating: 0, count: n * n)
                var exits = [Double](repeating: 0, count: n)
                var entries = [Double](repeating: 0, count: n)
                var x = k > 0 ? schedule.intensity[t - 1] : []
                if let loop, let state = loopState {
                    x[loop.practice] = loop.intensity(planned: x[loop.practice], moneyPerYear: state.moneyPerYear)
                    money[t] = state.moneyPerYear
                }
                // The practice multipliers of every exposure cell this step.
                if k > 0 {
                    for (g, group) in groups.enumerated() {
                        for cell in 0..<min(slots, t) * (exposurePerAge ? classes : 1) {
                            let e = g * (exposureCells / groups.count) + cell
                            (red[e], green[e]) = practiceMultipliers(mask: group.mask, intensity: x) { q in
                                arm.exposureTiming.actingExposureYears(before: exposure[e * k + q], thisStep: x[q] * dt)
                            }
                        }
                    }
                }

                // 1. Transitions, cell by cell (a cell: n·D stocks, contiguous; empty cells skipped).
                let block = n * D
                let stepStartYears = Double(t - 1) * dt
                if let q = generator {
                    for g in groups.indices {
                        for e in 0..<min(slots, t) {
                            for c in 0..<classes {
                                let base = index(g, e, c, 0, 0)  // D = 1 in sd mode
                                guard (0..<n).contains(where: { stock[base + $0] != 0 }) else { continue }
                                let cell = exposureCell(g, e, c)
                                // m[i][j]: the modulation of the move i → j, as for the agents.
                                func modulation(red: Double, green: Double) -> [Double] {
                                    let up = red * escalationByClass[c], down = green * stepDownByClass[c]
                                    for i in 0..<n {
                                        for j in 0..<n where j != i { m[i * n + j] = (j > i ? up : down) * leaveMultiplier[i] }
                                    }
                                    return m
                                }
                                var s = Array(stock[base..<base + n])
                                if exposureGrowsWithinStep {
                                    // Exposure at time τ into the step: E(τ) = E(start) + x·τ, read at every stage.
                                    let mask = groups[g].mask
                                    integrate(&s, q: q, varying: true, flows: &flows) { tau in
                                        let (r, gr) = practiceMultipliers(mask: mask, intensity: x) { p in exposure[cell * k + p] + x[p] * tau }
                                        return modulation(red: r, green: gr)
                                    }
                                } else {
                                    let fixed = modulation(red: red[cell], green: green[cell])
                                    integrate(&s, q: q, varying: false, flows: &flows) { _ in fixed }
                                }
                                for l in 0..<n { stock[base + l] = s[l] }
                            }
                        }
                    }
                } else {
                    let visible = min(slots, t)
                    stock.withUnsafeMutableBufferPointer { stockBuffer in
                    flows.withUnsafeMutableBufferPointer { flow in
                    moved.withUnsafeMutableBufferPointer { moved in
                    pFlat.withUnsafeBufferPointer { p in
                    leaveMultiplier.withUnsafeBufferPointer { leaveMultiplier in
                    lastDuration.withUnsafeBufferPointer { lastDuration in
                    dependenceRow.withUnsafeMutableBufferPointer { row in
                        for g in groups.indices {
                            for e in 0..<visible {
                                for c in 0..<classes {
                                    let base = index(g, e, c, 0, 0)
                                    var occupied = false
                                    for i in 0..<block where stockBuffer[base + i] != 0 { occupied = true; break }
                                    guard occupied else { continue }
                                    let cell = exposureCell(g, e, c)
                                    // The modulation of a move up (j > i) or down, as for the agents, before duration.
                                    let up = red[cell] * escalationByClass[c], down = green[cell] * stepDownByClass[c]
                                    for i in 0..<block { moved[i] = 0 }
                                    for i in 0..<n {
                                        for d in 0..<D {
                                            let si = stockBuffer[base + i * D + d]
                                            guard si > 0 else { continue }
                                            let leave = leaveMultiplier[i * D + d]
                                            let upLeave = up * leave, downLeave = down * leave
                                            if let combiner, combiner.touched[i] {
                                                // The row as the agents form it, then combined with the
                                                // dependence at this class's age, the step's start and d steps in the level.
                                                for j in 0..<n { row[j] = j == i ? 0 : p[i * n + j] * (j > i ? upLeave : downLeave) }
                                                let ok = combiner.combine(level: i, row: row, ageYears: Double(classAge?[c] ?? 0) / 12,
                                                                          timeYears: stepStartYears,
                                                                          sojournMonths: Double(min(d, lastDuration[i]) * arm.stepMonths))
                                                if ok {
                                                    var out = 0.0
                                                    for j in 0..<n where j != i {
                                                        let f = si * row[j]
                                                        moved[j * D] += f
                                                        flow[i * n + j] += f
                                                        out += f
                                                    }
                                                    moved[i * D + min(d + 1, lastDuration[i])] += si - out
                                                    continue
                                                }
                                            }
                                            var out = 0.0
                                            for j in 0..<n where j != i {
                                                let f = si * p[i * n + j] * (j > i ? upLeave : downLeave)
                                                moved[j * D] += f
                                                flow[i * n + j] += f
                                                out += f
                                            }
                                            moved[i * D + min(d + 1, lastDuration[i])] += si - out
                                        }
                                    }
                                    for i in 0..<block { stockBuffer[base + i] = moved[i] }
                                }
                            }
                        }
                    }}}}}}}
                }
                // Exposure grows by x·dt for every covered child present (slots entered by now).
                if k > 0 {
                    for (g, group) in groups.enumerated() {
                        for e in 0..<min(slots, t) {
                            for c in 0..<(exposurePerAge ? classes : 1) {
                                let cell = exposureCell(g, e, c)
                                for q in 0..<k where group.mask & (1 << q) != 0 { exposure[cell * k + q] += x[q] * dt }
                            }
                        }
                    }
                }

                // 2. Ageing (a conveyor by the step length), ageing out, out-migration.
                let pOut = 1 - exp(-arm.emigrationRatePerYear * dt)
                var next = [Double](repeating: 0, count: stock.count)
                var nextExposure = exposurePerAge ? [Double](repeating: 0, count: exposure.count) : exposure
                let shift = classAge != nil && arm.ageing ? arm.stepMonths : 0
                stock.withUnsafeBufferPointer { from in
                    next.withUnsafeMutableBufferPointer { to in
                        for g in groups.indices {
                            for e in 0..<min(slots, t) {
                                for c in 0..<classes {
                                    let target = min(c + shift, classes - 1)
                                    let agedOut = classAge != nil && arm.ageOutMonths != nil && c + shift >= arm.ageOutMonths!
                                    if exposurePerAge && !agedOut {
                                        for q in 0..<k { nextExposure[exposureCell(g, e, target) * k + q] = exposure[exposureCell(g, e, c) * k + q] }
                                    }
                                    let base = index(g, e, c, 0, 0), moveTo = index(g, e, target, 0, 0)
                                    for l in 0..<n {
                                        for d in 0..<D {
                                            let s = from[base + l * D + d]
                                            guard s > 0 else { continue }
                                            if absorbing[l] { to[base + l * D + d] += s; continue }
                                            if agedOut { exits[l] += s; continue }
                                            let leaving = s * pOut
                                            exits[l] += leaving
                                            to[moveTo + l * D + d] += s - leaving
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
                stock = next
                exposure = nextExposure

                // 3. Entries: births into the newborn class, in-migrants by age; zero exposure,
                // in their own entry-step slot or averaged into slot 0.
                for (g, group) in groups.enumerated() {
                    let births = arm.birthsPerYear[group.area] * dt * group.weight
                    let immigrants = arm.immigrationPerYear[group.area] * dt * group.weight
                    var added = [Double](repeating: 0, count: classes)  // joining slot 0, not absorbed
                    if births > 0 {
                        let e = birthsBySlot ? t : 0
                        for l in 0..<n {
                            let v = births * arm.entryLevelShares[l]
                            stock[index(g, e, newbornClass, l, 0)] += v
                            entries[l] += v
                            if e == 0 && !absorbing[l] { added[newbornClass] += v }
                        }
                    }
                    if immigrants > 0 {
                        let e = immigrantsBySlot ? t : 0
                        for c in 0..<classes where immigrantShares[c] > 0 {
                            for l in 0..<n {
                                let v = immigrants * immigrantShares[c] * arm.immigrationLevelShares[l]
                                stock[index(g, e, c, l, 0)] += v
                                entries[l] += v
                                if e == 0 && !absorbing[l] { added[c] += v }
                            }
                        }
                    }
                    guard k > 0, added.contains(where: { $0 > 0 }) else { continue }
                    // Dilute the mean exposure of the slot-0 stocks the newcomers join.
                    func present(_ c: Int) -> Double {
                        var sum = 0.0
                        for l in 0..<n where !absorbing[l] { for d in 0..<D { sum += stock[index(g, 0, c, l, d)] } }
                        return sum
                    }
                    if exposurePerAge {
                        for c in 0..<classes where added[c] > 0 {
                            let now = present(c)
                            let before = now - added[c]
                            let cell = exposureCell(g, 0, c)
                            for q in 0..<k { exposure[cell * k + q] = now > 0 ? exposure[cell * k + q] * before / now : 0 }
                        }
                    } else {
                        var now = 0.0  // summed in the order of the classes, levels and durations
                        for c in 0..<classes { for l in 0..<n where !absorbing[l] { for d in 0..<D { now += stock[index(g, 0, c, l, d)] } } }
                        let newcomers = added.reduce(0, +)
                        let cell = exposureCell(g, 0, 0)
                        for q in 0..<k { exposure[cell * k + q] = now > 0 ? exposure[cell * k + q] * (now - newcomers) / now : 0 }
                    }
                }
                childrenEver += entries.reduce(0, +)

                // 4. Record the step.
                summarise(t)
                if loop != nil, let reference = referenceCostPerYear {
                    let own = Rewards.costRatePerYear(arm: arm, stocks: stocksPath[t], reached: reachedPath[t],
                                                      timeYears: Double(t) * dt, preventionMoneyPerYear: money[t])
                    loopState?.record(savingsPerYear: reference[t] - own)
                }
                // The recorded moves (`PossibleMoves`): every other pair has P = 0, so no flow.
                for (k, m) in layout.moves.enumerated() {
                    record[layout.index(step: t, slot: flowsAt + k)] = flows[m.from * n + m.to]
                }
                for l in 0...n {
                    let level: Int? = l < n ? l : nil
                    record[layout.index(step: t, slot: layout.slot(.entries, level: level))] = l < n ? entries[l] : entries.reduce(0, +)
                    record[layout.index(step: t, slot: layout.slot(.exits, level: level))] = l < n ? exits[l] : exits.reduce(0, +)
                }
            }
            layout.fillDerivedFlows(&record)
            for t in stride(from: 1, through: arm.steps, by: 1) {
                var stockAll = 0.0, outAll = 0.0
                for l in 0...n {
                    let level: Int? = l < n ? l : nil
                    let stockBefore = l < n ? stocksPath[t - 1][l] : stockAll
                    let outflow = l < n ? record[layout.index(step: t, slot: layout.slot(.outflow, level: l))] : outAll
                    if l < n { stockAll += stockBefore; outAll += outflow }
                    record[layout.index(step: t, slot: layout.slot(.lengthOfStayYears, level: level))] =
                        outflow > 0 ? stockBefore * dt / outflow : .nan
                }
            }
            let totals = Rewards.fill(record: &record, layout: layout, arm: arm, stocks: stocksPath.flatMap { $0 }, reached: reachedPath,
                                      preventionMoneyPerYear: loop != nil ? money : nil,
                                      childrenEver: Self.whole(childrenEver), childSteps: Self.whole(childSteps))
            return AggregateResult(record: record, totals: totals, approximations: approximations)
        }

        /// The practice multipliers (red, green) = (Π_k (1 − a_k·s_k), Π_k (1 + b_k·s_k)) of a coverage
        /// mask, s_k = f_k(x_k, E_k, τ_k) with E_k = `exposure(k)` (`PracticeSchedule`).
        func practiceMultipliers(mask: Int, intensity x: [Double], exposure: (Int) -> Double) -> (red: Double, green: Double) {
            var r = 1.0, gr = 1.0
            for (q, practice) in arm.practices.enumerated() where mask & (1 << q) != 0 {
                let s = practice.effect.strength(intensity: x[q], exposureYears: exposure(q), timeToEffectYears: practice.timeToEffectYears)
                r *= 1 - practice.escalationEffect * s
                gr *= 1 + practice.stepDownEffect * s
            }
            return (r, gr)
        }

        /// In `sd` mode with `ExposureTiming.beforeStep`, exposure grows within the step and each
        /// integrator stage reads it at its own time; otherwise the step's multipliers are held.
        var exposureGrowsWithinStep: Bool {
            generator != nil && arm.exposureTiming == .beforeStep && !arm.practices.isEmpty
        }

        /// Integrate dS/dt = S·Q̃(τ) over one model step, Q̃_ij(τ) = q_ij·m_ij(τ) (i ≠ j) with τ the
        /// time since the step's start, accumulating the flows ∫ S_i Q̃_ij dτ; `s` ends as the stocks
        /// at the step's end. Euler reads m at each substep's start, RK4 at its four stage times
        /// (start, middle twice, end); with `varying` false m is read once, at τ = 0.
        func integrate(_ s: inout [Double], q: [[Double]], varying: Bool, flows: inout [Double],
                       multipliers: (Double) -> [Double]) {
            func rates(_ m: [Double]) -> [[Double]] {
                var rate = [[Double]](repeating: [Double](repeating: 0, count: n), count: n)
                for i in 0..<n {
                    var out = 0.0
                    for j in 0..<n where j != i { rate[i][j] = q[i][j] * m[i * n + j]; out += rate[i][j] }
                    rate[i][i] = -out
                }
                return rate
            }
            let fixed = rates(multipliers(0))
            let h = options.dtYears ?? arm.stepYears
            let substeps = Int(exactly: (arm.stepYears / h).rounded()) ?? 1  // at most 10^6, checked in init
            func rate(at tau: Double) -> [[Double]] { varying ? rates(multipliers(tau)) : fixed }
            func derivative(_ y: [Double], _ rate: [[Double]]) -> [Double] {
                var d = [Double](repeating: 0, count: n)
                for i in 0..<n where y[i] != 0 { for j in 0..<n { d[j] += y[i] * rate[i][j] } }
                return d
            }
            func addFlows(_ y: [Double], _ weight: Double, _ rate: [[Double]]) {
                for i in 0..<n where y[i] != 0 { for j in 0..<n where j != i { flows[i * n + j] += weight * y[i] * rate[i][j] } }
            }
            var y = s
            for step in 0..<substeps {
                let tau = Double(step) * h
                switch options.method {
                case .euler:
                    let r = step == 0 ? fixed : rate(at: tau)
                    addFlows(y, h, r)
                    let d = derivative(y, r)
                    for i in 0..<n { y[i] += h * d[i] }
                case .rk4:
                    let r1 = step == 0 ? fixed : rate(at: tau), r2 = rate(at: tau + h / 2), r4 = rate(at: tau + h)
                    let k1 = derivative(y, r1)
                    let y2 = (0..<n).map { y[$0] + h / 2 * k1[$0] }
                    let k2 = derivative(y2, r2)
                    let y3 = (0..<n).map { y[$0] + h / 2 * k2[$0] }
                    let k3 = derivative(y3, r2)
                    let y4 = (0..<n).map { y[$0] + h * k3[$0] }
                    let k4 = derivative(y4, r4)
                    addFlows(y, h / 6, r1); addFlows(y2, h / 3, r2); addFlows(y3, h / 3, r2); addFlows(y4, h / 6, r4)
                    for i in 0..<n { y[i] += h / 6 * (k1[i] + 2 * k2[i] + 2 * k3[i] + k4[i]) }
                }
            }
            s = y
        }
    }
}
