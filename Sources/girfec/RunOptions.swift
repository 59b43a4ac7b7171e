import Analysis
import ArgumentParser
import Experiments
import Foundation
import Model
import StockFlow

/// Everything besides the scenario, `--replications` and `--shard` that a run's results, or its acceptance, depend on.
///
/// `run` and `slurm` share this group, and `slurm` writes ``arguments()`` into every
/// shard's command, so a cluster run forwards every option a local run has by
/// construction. What a run only decides locally (`--out`, `--threads`,
/// `--quiet`, `--overwrite`) or what cannot be split into shards
/// (`--replication`, `--target-mcse`, `--outcome`, `--batch`) is not here.
/// A new option added here must also be rendered by ``arguments()``;
/// `RunOptionsTests` fails until it is.
struct RunOptions: ParsableArguments {
    @Option(help: "Master seed (0 ... 2^64-1); with the scenario and version it fixes every number.")
    var seed: UInt64 = 1

    @Option(help: "Replications per parameter draw (nested runs: outer draws × inner replications); replication i uses draw ⌊i/K⌋.")
    var replicationsPerDraw: Int = 1

    @Flag(help: "Ignore the scenario's parameter distributions (uncertainty section) and run the file's own values.")
    var baseCase = false

    @Flag(help: "Give each arm its own random streams instead of common random numbers (to measure what they buy).")
    var independentStreams = false

    @Option(help: "The engine: events (each child's moves and exits drawn directly, exact in distribution), steps (every child, every step), or auto (events where exact for the scenario, else steps, saying why).")
    var engine: EngineChoice = .auto

    @OptionGroup(title: "The aggregate model beside the agents (aggregate.csv, comparison.csv, summary.json)")
    var aggregate: AggregateFlags

    @OptionGroup var written: QuantitiesOption

    @OptionGroup(title: "Cost-effectiveness (summary.csv, voi.csv)")
    var costEffectiveness: CostEffectivenessFlags

    @OptionGroup(title: "Limits checked before anything runs")
    var resources: ResourceLimit

    func validate() throws {
        guard replicationsPerDraw >= 1 else { throw ValidationError("--replications-per-draw must be at least 1, but is \(replicationsPerDraw).") }
    }

    /// The options as command-line arguments that parse back to the same values: every option with its value,
    /// a flag when it is set, an optional value when it is given.
    func arguments() -> [String] {
        ["--seed", String(seed), "--replications-per-draw", String(replicationsPerDraw)]
            + (baseCase ? ["--base-case"] : []) + (independentStreams ? ["--independent-streams"] : [])
            + ["--engine", engine.rawValue, "--quantities", written.quantities]
            + aggregate.arguments() + costEffectiveness.arguments() + resources.arguments()
    }
}

/// `--quantities`: the quantity groups a run folder's per-step and per-year files hold.
struct QuantitiesOption: ParsableArguments {
    @Option(help: "Quantity groups written to bands.csv, bands-yearly.csv, replications-yearly.csv, aggregate.csv and comparison.csv, comma-separated: stocks, flows, costs, qol, or all. Summaries, per-person results and the report are not affected.")
    var quantities = "all"

    func validate() throws {
        if case .failure(let e) = QuantityGroup.parse(quantities) { throw ValidationError("--quantities '\(MessageText.excerpt(quantities, limit: 60))': \(e.description).") }
    }

    /// The groups (valid after `validate`).
    var groups: Set<QuantityGroup> { (try? QuantityGroup.parse(quantities).get()) ?? QuantityGroup.every }
}

/// The willingness-to-pay values and the acceptability curve of summary.csv.
struct CostEffectivenessFlags: ParsableArguments {
    @Option(help: "Willingness to pay per QoL-year for net monetary benefit in summary.csv, £, comma-separated (default: 20000,30000).",
            transform: { try WillingnessToPay(parsing: $0) })
    var wtp: WillingnessToPay = WillingnessToPay(values: CostEffectiveness.Settings().willingnessToPay)

    @Option(help: "The acceptability curve in summary.csv runs from £0 to this, per QoL-year.")
    var ceacMax: Double = CostEffectiveness.Settings().curveMaximum

    @Option(help: "Step of the acceptability curve, £ per QoL-year.")
    var ceacStep: Double = CostEffectiveness.Settings().curveStep

    func validate() throws {
        guard ceacMax >= 0, ceacStep > 0, ceacMax / ceacStep <= 100_000 else {
            throw ValidationError("--ceac-max must be >= 0 and --ceac-step > 0 with at most 100000 points, but they are \(ceacMax) and \(ceacStep).")
        }
    }

    var settings: CostEffectiveness.Settings {
        CostEffectiveness.Settings(willingnessToPay: wtp.values, curveMaximum: ceacMax, curveStep: ceacStep)
    }

    /// The options as command-line arguments that parse back to the same values.
    func arguments() -> [String] {
        ["--wtp", wtp.argumentText, "--ceac-max", ArgumentText.number(ceacMax), "--ceac-step", ArgumentText.number(ceacStep)]
    }
}

/// `--wtp`: amounts >= 0 in £ per QoL-year, comma-separated, e.g. 20000,30000.
struct WillingnessToPay: Equatable, ExpressibleByArgument {
    var values: [Double]

    init(values: [Double]) { self.values = values }

    /// Parse comma-separated amounts, or say which item is wrong and what is expected.
    init(parsing text: String) throws {
        let expected = "expected comma-separated amounts >= 0 in £ per QoL-year, e.g. 20000,30000"
        var values: [Double] = []
        for (index, item) in text.split(separator: ",", omittingEmptySubsequences: false).enumerated() {
            let trimmed = item.trimmingCharacters(in: .whitespaces)
            guard let value = Double(trimmed), value >= 0, value.isFinite else {
                throw ValidationError("found '\(trimmed)' as amount \(index + 1) of '\(text)'; \(expected)")
            }
            values.append(value)
        }
        self.init(values: values)
    }

    init?(argument: String) {
        guard let parsed = try? WillingnessToPay(parsing: argument) else { return nil }
        self = parsed
    }

    /// The values as one argument that parses back to the same values.
    var argumentText: String { values.map(ArgumentText.number).joined(separator: ",") }

    var defaultValueDescription: String { argumentText }
}

/// `--shard K/M`. Options parse it with `Shard(parsing:)` as their transform, so a bad value says what is wrong.
extension Shard: ExpressibleByArgument {
    public init?(argument: String) {
        guard let parsed = try? Shard(parsing: argument) else { return nil }
        self = parsed
    }

    public var defaultValueDescription: String { description }
}

extension AggregateMode: ExpressibleByArgument {}
extension EngineChoice: ExpressibleByArgument {}
extension IntegrationMethod: ExpressibleByArgument {}
extension ExposureTracking: ExpressibleByArgument {}
extension DurationTracking: ExpressibleByArgument {}

/// Text for values written back onto a command line.
enum ArgumentText {
    /// `value` as text that `Double(_:)` reads back to the same value: whole numbers without ".0", others
    /// in Swift's shortest round-trip form (e.g. 0.1, 1e-05).
    static func number(_ value: Double) -> String {
        if value.isFinite, value == value.rounded(), abs(value) < 9e18, !(value == 0 && value.sign == .minus) { return String(Int64(value)) }
        return value.description
    }
}
