import Analysis
import ArgumentParser
import Experiments
import Foundation
import Microsimulation
import Model
import Reports
import StockFlow

struct Run: ParsableCommand, InterruptibleCommand {
    static let configuration = CommandConfiguration(
        abstract: "Simulate replications of every arm of a scenario and write bands and totals.",
        discussion: """
        Writes DIR/bands.csv, replications.csv, bands-yearly.csv, replications-yearly.csv, \
        aggregate.csv, comparison.csv, summary.json, \
        summary.csv, manifest.json, scenario.yaml and state.bin (docs/outputs.md). The folder \
        appears whole or not at all. The same scenario, seed and --replications give the same \
        bytes for any --threads and any --shard split merged with `girfec merge`. Draw figures \
        with `python3 scripts/figures.py DIR`.
        """)

    @Argument(help: "The scenario file (YAML, docs/scenario-format.md).")
    var scenario: String

    @Option(help: "Replications in the whole run (all shards together).")
    var replications: Int = 1000

    @OptionGroup var output: OutputOptions

    @Option(help: "Worker threads; the default is the number of cores.")
    var threads: Int = ProcessInfo.processInfo.activeProcessorCount

    @Option(help: "Run only shard K of M (1-based), e.g. 2/8; merge shard folders with `girfec merge` (default: 1/1, the whole run).",
            transform: { try Shard(parsing: $0) })
    var shard: Shard = .whole

    @Option(help: "Run only replication I (0-based) of the N: its row in replications.csv is bit for bit the one of the full run.")
    var replication: Int?

    @Option(help: "Add replications until the Monte Carlo standard error of --outcome's mean is at most this (in its unit); --replications is then the cap.")
    var targetMcse: Double?

    @Option(help: "The outcome --target-mcse watches: cost_discounted, qol_years_discounted, delta_cost_discounted, delta_qol_years_discounted or delta_net_benefit_<£>, optionally ARM:NAME.")
    var outcome: String?

    @Option(help: "With --target-mcse: the first batch of replications, and the smallest later one.")
    var batch: Int = 100

    @OptionGroup var quietOption: QuietOption
    var quiet: Bool { quietOption.quiet }

    /// What the results depend on; `girfec slurm` forwards all of it to every shard.
    @OptionGroup var options: RunOptions

    func validate() throws {
        guard replications >= 1 else { throw ValidationError("--replications must be at least 1, but is \(replications).") }
        guard threads >= 1 else { throw ValidationError("--threads must be at least 1, but is \(threads).") }
        guard shard.count <= replications else {
            throw ValidationError("--shard \(shard) splits \(replications) replications into \(shard.count) shards; expected at most one shard per replication.")
        }
        guard replications <= Int(UInt32.max) else { throw ValidationError("--replications must be below 2^32, but is \(replications).") }
        if let replication {
            guard replication >= 0, replication < replications else {
                throw ValidationError("--replication must be between 0 and --replications − 1 (\(replications - 1)), but is \(replication).")
            }
            guard shard == .whole else { throw ValidationError("--replication and --shard cannot be combined: give one or the other.") }
        }
        if let targetMcse {
            guard targetMcse > 0, targetMcse.isFinite else { throw ValidationError("--target-mcse must be a positive number, but is \(targetMcse).") }
            guard outcome != nil else { throw ValidationError("--target-mcse needs --outcome NAME: the outcome whose Monte Carlo standard error is watched.") }
            guard shard == .whole, replication == nil else {
                throw ValidationError("--target-mcse decides the replication count as it runs, so it cannot be combined with --shard or --replication.")
            }
            guard batch >= 2 else { throw ValidationError("--batch must be at least 2, but is \(batch).") }
        } else if outcome != nil {
            throw ValidationError("--outcome is used only with --target-mcse.")
        }
    }

    func run() throws {
        let started = Date()
        let (model, text) = try loadScenarioOrExit(scenario)
        let seed = options.seed, replicationsPerDraw = options.replicationsPerDraw, baseCase = options.baseCase
        let independentStreams = options.independentStreams
        let shardReplications = replication != nil ? 1 : (replications + shard.count - 1) / shard.count
        try options.resources.check(model, file: scenario, threads: threads, runs: shardReplications)
        var plan = RunPlan(scenario: model, seed: seed, replications: replications, shard: shard, threads: threads,
                           commonRandomNumbers: !independentStreams)
        plan.onlyReplication = replication
        plan.replicationsPerDraw = replicationsPerDraw
        plan.baseCase = baseCase
        plan.engine = options.engine
        let engine: EngineDecision
        do { engine = try Runner.decide(plan) } catch {
            printError("girfec run: \(error.description) Nothing was run or written.")
            throw ExitCode(invalidInputStatus)
        }
        if let reason = engine.reason { printError("girfec run: note: engine auto chose the step engine: \(reason).") }
        let estimate = OutputEstimate.runFolder(arms: model.arms.count, steps: model.arms[0].steps, stepMonths: model.arms[0].stepMonths,
                                                levels: model.levels.count, moves: RecordLayout.moveCount(arm: model.arms[0]),
                                                areas: model.arms[0].areas.count,
                                                replications: plan.range.count, parameters: plan.activeUncertainty?.columns.count ?? 0,
                                                scenarioBytes: text.utf8.count)
        let folder = try output.prepare(command: "run", estimatedBytes: estimate)
        try Interrupt.checkpoint("run")
        let aggregateOptions = options.aggregate.options
        let ceSettings = options.costEffectiveness.settings
        do { for arm in model.arms { try AggregateModel.check(arm: arm, options: aggregateOptions) } } catch {
            printError("girfec run: the aggregate model cannot run: \(error)\nNothing was run or written.")
            throw ExitCode(invalidInputStatus)
        }
        try Interrupt.checkpoint("run")
        if let problem = plan.problem {
            printError("girfec run: \(problem). Nothing was run or written.")
            throw ExitCode(invalidInputStatus)
        }
        var target: PrecisionTarget? = nil
        if let targetMcse, let outcome {
            do { target = PrecisionTarget(outcome: try Outcome.parse(outcome, arms: model.arms.map(\.name)), mcse: targetMcse, batch: batch) } catch {
                printError("girfec run: --outcome: \(error.description). Nothing was run or written.")
                throw ExitCode(invalidInputStatus)
            }
        }
        let bar = ProgressBar(label: "girfec run", quiet: quiet)
        var result: RunResult
        var precision: [String: String]? = nil
        Interrupt.beginPolling()
        defer { Interrupt.endPolling() }
        do {
            if let target {
                let r = try Runner.runToPrecision(plan, target: target, progress: { bar.update(done: $0, total: $1) },
                                                  isCancelled: { Interrupt.isRequested })
                result = r.result
                precision = ["outcome": "\(model.arms[target.outcome.arm].name):\(target.outcome.name)",
                             "targetMCSE": "\(target.mcse)", "achievedMCSE": "\(r.mcse)", "reached": "\(r.reached)",
                             "replicationsUsed": "\(result.covered.count)", "replicationsCap": "\(replications)"]
                let line = String(format: "%@: MCSE %.6g after %d replications (target %.6g%@)", precision!["outcome"]!, r.mcse,
                                  result.covered.count, target.mcse, r.reached ? "" : "; NOT reached: the cap --replications \(replications) stopped the run")
                bar.finish()
                if !quiet || !r.reached { printError("girfec run: " + line) }
            } else {
                result = try Runner.run(plan, progress: { bar.update(done: $0, total: $1) }, isCancelled: { Interrupt.isRequested })
            }
        } catch {
            bar.finish()
            printError("girfec run: \(error.description)")
            if case .cancelled = error { throw ExitCode(130) }
            throw ExitCode(1)
        }
        bar.finish()
        Interrupt.endPolling()
        try Interrupt.checkpoint("run")  // a stop asked for during the last replications, which no longer poll
        var state = RunState(scenarioFileName: PathText.lastComponent(of: scenario), scenarioText: text, seed: seed,
                             replications: target == nil ? replications : result.covered.count, commonRandomNumbers: !independentStreams,
                             covered: result.covered.isEmpty ? [] : [result.covered], aggregator: result.aggregator,
                             rows: result.rows, childSteps: result.childSteps, wallSeconds: result.wallSeconds,
                             aggregateOptions: aggregateOptions, costEffectiveness: ceSettings)
        state.setShard(replication.map { Shard(index: $0 + 1, count: replications) } ?? shard)
        state.replicationsPerDraw = replicationsPerDraw
        state.baseCase = baseCase
        state.quantities = options.written.groups
        state.attachedFiles = model.attachedFiles
        var context = RunFolder.Context(command: CommandLine.arguments, scenarioPath: scenario,
                                        shard: replication.map { "replication \($0) alone" } ?? shard.description,
                                        threads: threads, startedAt: started)
        context.precision = precision
        context.engine = ["requested": options.engine.rawValue, "used": result.engine.kind.rawValue,
                          "reason": result.engine.reason ?? (options.engine == .auto ? "the event engine is exact for every arm" : "asked for")]
        // The aggregate model, once: per parameter draw when the agents drew parameters.
        let (results, comparison) = try analyseOrExit(state, scenario: model, threads: threads, command: "run")
        try Interrupt.checkpoint("run")
        try writeFolderOrExit(folder, command: "run") {
            RunFolder.files(state: state, scenario: model, results: results, comparison: comparison, context: context)
        }
        if !quiet { print(TerminalSummary.run(state: state, scenario: model, results: results, out: output.out)) }
    }
}
