import ArgumentParser
import Foundation
import Model
import Reports
import StockFlow

/// Flags that choose how the aggregate model runs beside the agents in `run` (and every shard of `slurm`).
struct AggregateFlags: ParsableArguments {
    @Option(name: .customLong("aggregate-mode"), help: "cohort: S(t) = S(t-1)·P(t); sd: dS/dt = S·Q(t) integrated within each step.")
    var mode: AggregateMode = .cohort

    @Option(name: .customLong("aggregate-dt"), help: "sd mode: integration step DT in years; must divide the model step (default: the model step).")
    var dtYears: Double?

    @Option(name: .customLong("aggregate-method"), help: "sd mode: euler (Stella and Vensim's default) or rk4.")
    var method: IntegrationMethod = .euler

    @Option(name: .customLong("aggregate-exposure"), help: "meanField: one mean exposure per area and coverage group; stocks: one per age stock; exact: one per entry step, as the agents.")
    var exposure: ExposureTracking = .meanField

    func validate() throws { try Self.checkStep(dtYears, option: "--aggregate-dt") }

    var options: AggregateOptions { AggregateOptions(mode: mode, dtYears: dtYears, method: method, exposure: exposure) }

    /// The flags as command-line arguments that parse back to the same values; an unset DT is left out.
    func arguments() -> [String] {
        ["--aggregate-mode", mode.rawValue] + (dtYears.map { ["--aggregate-dt", ArgumentText.number($0)] } ?? [])
            + ["--aggregate-method", method.rawValue, "--aggregate-exposure", exposure.rawValue]
    }

    /// Refuse an integration step that is not a positive number of years.
    static func checkStep(_ dtYears: Double?, option: String) throws {
        if let dtYears, !(dtYears > 0) || !dtYears.isFinite {
            throw ValidationError("\(option) must be a positive number of years, but is \(dtYears).")
        }
    }
}

struct Aggregate: ParsableCommand, InterruptibleCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the aggregate stock-flow model alone: deterministic, in milliseconds.",
        discussion: """
        Reads the same scenario as `girfec run` and writes DIR/aggregate.csv (expected stocks, \
        flows, entries, exits, costs and QoL per arm and step) and DIR/manifest.json. For fast \
        what-ifs and calibration; `girfec run` writes the same file beside the agents' bands \
        and compares them.
        """)

    @Argument(help: "The scenario file (YAML).")
    var scenario: String

    @OptionGroup var output: OutputOptions

    @Option(help: "cohort: S(t) = S(t-1)·P(t); sd: dS/dt = S·Q(t) integrated within each step.")
    var mode: AggregateMode = .cohort

    @Option(name: .customLong("dt"), help: "sd mode: integration step DT in years (default: the model step).")
    var dtYears: Double?

    @Option(help: "sd mode: euler or rk4.")
    var method: IntegrationMethod = .euler

    @OptionGroup var quietOption: QuietOption
    var quiet: Bool { quietOption.quiet }

    @OptionGroup var written: QuantitiesOption

    @OptionGroup var resources: ResourceLimit

    @Option(help: "meanField: one mean exposure per area and coverage group; stocks: one per age stock; exact: one per entry step, as the agents.")
    var exposure: ExposureTracking = .meanField

    @Option(help: "stationaryMean: each level's stationary mean leave multiplier; exact: a stock per step spent in the level (cohort mode).")
    var durations: DurationTracking = .stationaryMean

    func validate() throws { try AggregateFlags.checkStep(dtYears, option: "--dt") }

    func run() throws {
        let options = AggregateOptions(mode: mode, dtYears: dtYears, method: method, exposure: exposure, durations: durations)
        let (model, text) = try loadScenarioOrExit(scenario)
        try resources.check(model, file: scenario, agents: false)
        // aggregate.csv: one row per arm, step and record slot, about 100 bytes each; the scenario text; the manifest.
        let slots = RecordLayout.slotCount(arm: model.arms[0])
        let rows: Double = Double(model.arms.count) * Double(model.arms[0].steps + 1) * Double(slots)
        let estimate = Int64(min(rows * 100 + Double(text.utf8.count + 65_536), 1e18))
        let target = try output.prepare(command: "aggregate", estimatedBytes: estimate)
        let start = Date()
        let aggregates: Comparison.Aggregates
        do { aggregates = try Comparison.Aggregates.run(model, options: options) } catch {
            printError("girfec aggregate: \(error)\nNothing was written.")
            throw ExitCode(invalidInputStatus)
        }
        let seconds = Date().timeIntervalSince(start)
        let manifest: [String: Any] = [
            "scenario": ["path": scenario, "sha256": SHA256.hex(Array(text.utf8)), "name": model.name,
                         "arms": model.arms.map(\.name), "levels": model.levels] as [String: Any],
            "aggregateModel": ["mode": options.mode.rawValue, "method": options.method.rawValue,
                               "dtYears": options.dtYears ?? model.arms[0].stepYears, "exposure": options.exposure.rawValue,
                               "durations": options.durations.rawValue, "parameters": aggregates.parameters.label] as [String: Any],
            "approximations": Dictionary(uniqueKeysWithValues: zip(model.arms.map(\.name), aggregates.approximations)),
            "wallSeconds": seconds,
            "files": ["aggregate.csv", "manifest.json", "scenario.yaml"],
        ]
        let json = Manifest.json(command: CommandLine.arguments, manifest)
        try writeFolderOrExit(target, command: "aggregate") {
            [("aggregate.csv", Array(Comparison.aggregateCSV(model, aggregates, quantities: written.groups).utf8)),
             ("manifest.json", json), ("scenario.yaml", Array(text.utf8))]
        }
        guard !quiet else { return }
        print(String(format: "aggregate model (%@) of %d arms in %.1f ms; wrote %@", options.label, model.arms.count, seconds * 1000, output.out))
        for line in TerminalSummary.aggregate(scenario: model, aggregates: aggregates) { print(line) }
        for (arm, approximations) in zip(model.arms, aggregates.approximations) where !approximations.isEmpty {
            print("  \(arm.name) approximates: " + approximations.joined(separator: "; "))
        }
    }
}
