import ArgumentParser
import Calibration
import CGSL
import Experiments
import Foundation
import Microsimulation
import Model
import Stochastics

struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure engine speed (child-steps per second) and peak memory, or generator speed.",
        discussion: """
        The engine benchmark runs a synthetic scenario through the same decoder, runner and \
        aggregator as `girfec run`: 4 levels, --children children (no births, ageing or \
        migration, so the count stays fixed), --steps monthly steps, one practice variable \
        covering everyone and duration dependence on one level. Results in docs/performance.md.
        """)

    @Option(help: "Children in the synthetic scenario.")
    var children: Int = 25_000

    @Option(help: "Monthly steps.")
    var steps: Int = 120

    @Option(help: "Replications to time.")
    var replications: Int = 100

    @Option(help: "Worker threads (default: all cores).")
    var threads: Int = ProcessInfo.processInfo.activeProcessorCount

    @Option(help: "The engine to time: steps (the default), events or auto; with --engines, time only this one.")
    var engine: EngineChoice?

    @Flag(help: "Time both engines on --scenario (--replications) and on a closed cohort of --cohort-children (--cohort-replications), in one run.")
    var engines = false

    @Option(help: "With --engines: the scenario timed first.")
    var scenario: String = "experiments/default/scenario.yaml"

    @Option(help: "With --engines: children in the closed cohort (the synthetic scenario).")
    var cohortChildren: Int = 1_000_000

    @Option(help: "With --engines: replications of the closed cohort.")
    var cohortReplications: Int = 4

    @Flag(help: "Time the candidate random-number generators instead (ns per 32-bit draw).")
    var generators = false

    @Option(help: "Time the gradient of the stock-only log posterior of this calibrate configuration instead: reverse mode against dual numbers, at prior draws.")
    var stockGradient: String?

    func run() throws {
        if generators { return timeGenerators() }
        if let stockGradient { return try timeStockGradient(stockGradient) }
        if engines { return try compareEngines() }
        let yaml = Self.syntheticScenario(children: children, steps: steps)
        let scenario = try ScenarioDecoder.decode(yaml: yaml, file: "bench (synthetic)")
        var plan = RunPlan(scenario: scenario, seed: 1, replications: replications, threads: threads)
        plan.engine = engine ?? .steps
        let result = try Runner.run(plan)
        let rate = Double(result.childSteps) / result.wallSeconds
        print(String(format: "engine %@: %d children × %d steps × %d replications, %d threads: %.2f s, %.3g child-steps per second, peak RSS %.1f MiB",
                     result.engine.kind.rawValue, children, steps, replications, threads, result.wallSeconds, rate, Self.peakResidentMiB()))
    }

    /// Child-step equivalents per second of the step and event engines on one scenario and on the
    /// closed cohort: the child-steps a run represents (children present × steps, the step engine's
    /// work) over its wall time, which covers the engine, the records and the aggregation.
    func compareEngines() throws {
        let file = try ScenarioDecoder.load(path: scenario)
        let cohort = try ScenarioDecoder.decode(yaml: Self.syntheticScenario(children: cohortChildren, steps: steps), file: "bench (closed cohort)")
        for (label, model, count) in [(scenario, file, replications), ("closed cohort of \(cohortChildren) children, \(steps) steps", cohort, cohortReplications)] {
            var rates: [EngineChoice: Double] = [:]
            for choice in engine.map({ [$0] }) ?? [EngineChoice.steps, .events] {
                var plan = RunPlan(scenario: model, seed: 1, replications: count, threads: threads)
                plan.engine = choice
                let result = try Runner.run(plan)
                let rate = Double(result.childSteps) / result.wallSeconds
                rates[choice] = rate
                print(String(format: "%@ — %@ engine: %d replications × %d arms, %d threads: %.3f s, %.3g child-step equivalents per second",
                             label, choice.rawValue, count, model.arms.count, threads, result.wallSeconds, rate))
            }
            if let e = rates[.events], let s = rates[.steps] { print(String(format: "%@ — events / steps: %.1f×", label, e / s)) }
        }
        print(String(format: "peak RSS of the whole process %.1f MiB", Self.peakResidentMiB()))
    }

    /// µs of CPU time per log posterior of a stock-only calibration (value only, value and gradient by
    /// reverse mode, value and gradient by dual numbers), on one thread, averaged over 16 prior draws
    /// (the chains' starts of seed 1) repeated until at least a second of CPU time has passed; and the largest gap between the
    /// two gradients relative to the largest component.
    func timeStockGradient(_ path: String) throws {
        let settings = try CalibrationConfig.load(path: path)
        let (scenario, _) = try loadScenarioOrExit(settings.scenarioPath)
        let problem = try Calibrate.stockProblem(settings, scenario: scenario, data: try Calibrate.read(settings, scenario: scenario))
        let points = try StockSampling.starts(problem, chains: 16, seed: 1)
        func time(_ label: String, _ body: ([Double]) -> Double) {
            // CPU time of this thread: on a shared machine, wall time counts the other processes too.
            func cpuSeconds() -> Double {
                var t = timespec()
                clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t)
                return Double(t.tv_sec) + Double(t.tv_nsec) / 1e9
            }
            var calls = 0, sink = 0.0
            let t0 = cpuSeconds(), w0 = DispatchTime.now().uptimeNanoseconds
            var elapsed = 0.0
            while elapsed < 1 {
                for φ in points { sink += body(φ) }
                calls += points.count
                elapsed = cpuSeconds() - t0
            }
            let wall = Double(DispatchTime.now().uptimeNanoseconds - w0) / 1e9
            print(label.padding(toLength: 36, withPad: " ", startingAt: 0)
                  + String(format: "%8.1f µs CPU per call (wall %.1f µs; %d calls; checksum %.6g)",
                           elapsed / Double(calls) * 1e6, wall / Double(calls) * 1e6, calls, sink))
        }
        print("\(path): \(problem.dimension) coordinates (\(problem.freeNames.count) rates), \(problem.observed.count) counts; \(points.count) prior draws")
        time("log posterior (value only)") { problem.logPosterior($0) }
        time("value and gradient, reverse mode") { problem.logPosteriorAndGradient($0).gradient[0] }
        time("value and gradient, dual numbers") { problem.logPosteriorAndGradient($0, differentiation: .forward).gradient[0] }
        var worst = 0.0
        for φ in points {
            let r = problem.logPosteriorAndGradient(φ), f = problem.logPosteriorAndGradient(φ, differentiation: .forward)
            let scale = f.gradient.map(abs).max() ?? 1
            worst = max(worst, zip(r.gradient, f.gradient).map { abs($0 - $1) }.max()! / scale)
        }
        print(String(format: "largest gap between the gradients over the draws: %.2g of the largest component", worst))
    }

    static func peakResidentMiB() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return Double(usage.ru_maxrss) / 1024
    }

    static func syntheticScenario(children: Int, steps: Int) -> String {
        let u = children * 80 / 100, a = children * 15 / 100, i = children * 4 / 100
        let c = children - u - a - i
        return """
        name: bench
        time: {stepMonths: 1, horizonYears: \(Double(steps) / 12)}
        levels:
          L1: {costPerChildYear: 300, qolWeight: 0.85}
          L2: {costPerChildYear: 2000, qolWeight: 0.8}
          L3: {costPerChildYear: 19000, qolWeight: 0.7}
          L4: {costPerChildYear: 63000, qolWeight: 0.6}
        population:
          initialCounts: {L1: \(u), L2: \(a), L3: \(i), L4: \(c)}
          ageing: false
        transitions:
          unit: ratesPerYear
          matrix:
            L1: {L2: 0.045, L3: 0.004, L4: 0.0005}
            L2: {L1: 0.25, L3: 0.04, L4: 0.005}
            L3: {L1: 0.05, L2: 0.30, L4: 0.16}
            L4: {L1: 0.02, L2: 0.04, L3: 0.18}
          durationDependence:
            L4: [{fromMonths: 0, leaveMultiplier: 1.5}, {fromMonths: 6, leaveMultiplier: 0.8}]
        practice:
          relational: {intensity: 0.8, escalationEffect: 0.25, stepDownEffect: 0.3, timeToEffectYears: 2}
        """
    }

    /// ns per 32-bit word for GSL's classic generators and for Philox and Threefry.
    func timeGenerators() {
        let draws = 50_000_000
        func time(_ name: String, _ body: () -> UInt64) {
            let t0 = DispatchTime.now().uptimeNanoseconds
            let sink = body()
            let ns = Double(DispatchTime.now().uptimeNanoseconds - t0) / Double(draws)
            print(name.padding(toLength: 56, withPad: " ", startingAt: 0) + String(format: "%6.2f ns per 32-bit word  (checksum %llu)", ns, sink))
        }
        for (name, type) in [("taus2 via gsl_rng_get", girfec_rng_taus2()), ("mt19937 via gsl_rng_get", girfec_rng_mt19937()),
                             ("ranlxd1 via gsl_rng_get", girfec_rng_ranlxd1()), ("philox4x32-10 via gsl_rng_get", girfec_rng_philox())] {
            let r = gsl_rng_alloc(type)!
            gsl_rng_set(r, 12345)
            time(name) { var s: UInt64 = 0; for _ in 0..<draws { s &+= UInt64(gsl_rng_get(r)) }; return s }
            gsl_rng_free(r)
        }
        time("philox4x32-10 block per (child, step), 1 word used") {
            var s: UInt64 = 0
            for i in 0..<UInt32(draws) { s &+= UInt64(girfec_philox4x32(i & 127, i >> 7, 7, 5, 1, 0).v.0) }
            return s
        }
        time("philox4x32-10 block, all 4 words used") {
            var s: UInt64 = 0
            for i in 0..<UInt32(draws / 4) { let b = girfec_philox4x32(i, 0, 7, 5, 1, 0).v; s &+= UInt64(b.0) &+ UInt64(b.1) &+ UInt64(b.2) &+ UInt64(b.3) }
            return s
        }
        time("threefry4x32-20 block per (child, step), 1 word used") {
            var s: UInt64 = 0
            for i in 0..<UInt32(draws) { s &+= UInt64(girfec_threefry4x32(i & 127, i >> 7, 7, 5, 1, 0).v.0) }
            return s
        }
    }
}
