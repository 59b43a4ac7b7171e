import Analysis
import Experiments
import Foundation
import Model
import StockFlow

/// The version of girfec written into every manifest.
public enum GirfecVersion {
    public static let string = "0.1.0"

    /// The git commit of the source tree girfec was built from, fixed at build
    /// time (`Sources/BuildInfoPlugin`); nil if it was built outside a git checkout.
    public static func gitCommit() -> String? { BuildInfo.gitCommit == "unknown" ? nil : BuildInfo.gitCommit }
}

/// Turns a run state into the files of a run folder (docs/outputs.md).
public enum RunFolder {
    /// Facts about how the run was made, for the manifest.
    public struct Context: Sendable {
        public var command: [String]
        public var scenarioPath: String
        public var shard: String
        public var threads: Int
        public var startedAt: Date
        /// A run to a target precision: outcome, target and achieved MCSE, replications used (manifest `precisionTarget`).
        public var precision: [String: String]? = nil
        /// The engine asked for, the one used, and why (manifest `engine`); nil for merged folders.
        public var engine: [String: String]? = nil
        public init(command: [String], scenarioPath: String, shard: String, threads: Int, startedAt: Date) {
            self.command = command
            self.scenarioPath = scenarioPath
            self.shard = shard
            self.threads = threads
            self.startedAt = startedAt
        }
    }

    public static let generator = "philox4x32-10 (Random123, Salmon et al. 2011) through a GSL gsl_rng type; addressed streams"

    /// The files of a run folder, serialised from values computed once by the caller, who also shows some of them.
    /// - Parameters:
    ///   - results: `RunResults(state:scenario:)`: the agents' bands, summaries and uncertainty analyses.
    ///   - comparison: the aggregate model beside the agents (`Comparison.Analysis.make(state:scenario:bands:threads:)`).
    public static func files(state: RunState, scenario: Scenario, results: RunResults, comparison: Comparison.Analysis,
                             context: Context) -> [(name: String, bytes: [UInt8])] {
        let written = state.quantities
        let bands = Tables.bands(scenario: scenario, bands: results.bands, quantities: written)
        let replications = Tables.replications(scenario: scenario, rows: state.rows)
        var extra: [(name: String, bytes: [UInt8])] = []
        var skipped: [String] = []
        extra += IncrementalTables.files(scenario: scenario, results: results)
        if let u = state.drawnUncertainty(scenario) {
            extra.append(("parameters.csv", Array(Tables.parameters(columns: u.columns, rows: state.rows).utf8)))
            extra.append(("uncertainty.csv", Array(UncertaintyTables.variance(scenario: scenario, results: results).utf8)))
            extra.append(("importance.csv", Array(UncertaintyTables.importance(scenario: scenario, results: results).utf8)))
            if let voi = results.valueOfInformation {
                extra.append(("voi.csv", Array(UncertaintyTables.valueOfInformation(scenario: scenario, result: voi).utf8)))
                skipped = voi.skipped
            }
        }
        let manifest = manifestJSON(state: state, scenario: scenario, context: context, aggregateParameters: comparison.aggregates.parameters,
                                    extraFiles: extra.map(\.name), skippedValueOfInformation: skipped)
        let aggregates = comparison.aggregates
        let files: [(name: String, bytes: [UInt8])] = [
            ("bands.csv", Array(bands.utf8)),
            ("replications.csv", Array(replications.utf8)),
            ("bands-yearly.csv", Array(Tables.yearlyBands(scenario: scenario, bands: results.yearlyBands, quantities: written).utf8)),
            ("replications-yearly.csv", Array(Tables.yearlyReplications(scenario: scenario, rows: state.rows, quantities: written).utf8)),
            ("aggregate.csv", Array(Comparison.aggregateCSV(scenario, aggregates, quantities: written).utf8)),
            ("comparison.csv", Array(Comparison.comparisonCSV(scenario, results.bands, aggregates, quantities: written).utf8)),
            ("summary.json", Comparison.summaryJSON(scenario, comparison)),
            ("summary.csv", Array(Tables.summary(scenario: scenario, results: results).utf8)),
            ("per-person.csv", Array(Tables.perPerson(scenario: scenario, results: results).utf8)),
            ("manifest.json", manifest),
            ("scenario.yaml", Array(state.scenarioText.utf8)),
            ("state.bin", state.encoded()),
        ]
        return files + extra
    }

    static func uncertaintyManifest(state: RunState, scenario: Scenario) -> Any {
        guard let u = scenario.uncertainty else { return NSNull() }
        var out: [String: Any] = [
            "drawn": !state.baseCase,
            "replicationsPerDraw": state.replicationsPerDraw,
            "draws": (state.replications + state.replicationsPerDraw - 1) / state.replicationsPerDraw,
            "parameters": u.parameters.map { p in
                ["name": p.name, "path": p.path, "distribution": p.distribution.label, "source": p.source,
                 "columns": p.columns, "streamIndex": p.streamIndex] as [String: Any]
            },
        ]
        if let t = u.drawTable {
            out["drawsFile"] = ["file": t.file, "sha256": SHA256.hex(Array(t.text.utf8)), "rows": t.rows.count,
                                "columns": t.columns] as [String: Any]
        }
        return out
    }

    static func manifestJSON(state: RunState, scenario: Scenario, context: Context,
                             aggregateParameters: Comparison.Parameters = .baseCase, extraFiles: [String] = [],
                             skippedValueOfInformation: [String] = []) -> [UInt8] {
        let iso = ISO8601DateFormatter()
        let arm0 = scenario.arms[0]
        let perSecond = state.wallSeconds > 0 ? Double(state.childSteps) / state.wallSeconds : 0
        let manifest: [String: Any] = [
            "scenario": [
                "path": context.scenarioPath,
                "fileName": state.scenarioFileName,
                "sha256": state.scenarioHash,
                "name": scenario.name,
                "arms": scenario.arms.map(\.name),
                "levels": scenario.levels,
                "areas": arm0.areas,
                "stepMonths": arm0.stepMonths,
                "steps": arm0.steps,
                "attachedFiles": Dictionary(uniqueKeysWithValues: state.attachedFiles.map { ($0.key, SHA256.hex(Array($0.value.utf8))) }),
                "transitionConversion": Dictionary(uniqueKeysWithValues: scenario.arms.map { ($0.name, $0.transitionConversion) }),
                "rewardTiming": arm0.rewardTiming.description,
                "exposureTiming": Dictionary(uniqueKeysWithValues: scenario.arms.map { ($0.name, $0.exposureTiming.rawValue) }),
            ] as [String: Any],
            "seed": String(state.seed),
            "replications": state.replications,
            "replicationsCovered": state.covered.map { [$0.lowerBound, $0.upperBound] },
            "complete": state.isComplete,
            "shard": context.shard,
            "threads": context.threads,
            "generator": generator,
            "commonRandomNumbers": state.commonRandomNumbers,
            "startedAt": iso.string(from: context.startedAt),
            "wallSeconds": state.wallSeconds,
            "childSteps": state.childSteps,
            "childStepsPerSecond": perSecond,
            "aggregateModel": [
                "mode": state.aggregateOptions.mode.rawValue, "method": state.aggregateOptions.method.rawValue,
                "dtYears": state.aggregateOptions.dtYears ?? arm0.stepYears, "exposure": state.aggregateOptions.exposure.rawValue,
                "parameters": aggregateParameters.label, "draws": aggregateParameters.draws,
            ] as [String: Any],
            "quantities": QuantityGroup.names(state.quantities),
            "moves": ["recorded": RecordLayout.moveCount(arm: arm0), "pairsOfLevels": arm0.levels.count * (arm0.levels.count - 1)] as [String: Any],
            "willingnessToPay": ["values": state.costEffectiveness.willingnessToPay,
                                 "curveMaximum": state.costEffectiveness.curveMaximum, "curveStep": state.costEffectiveness.curveStep] as [String: Any],
            "files": ["bands.csv", "replications.csv", "bands-yearly.csv", "replications-yearly.csv", "aggregate.csv", "comparison.csv", "summary.json", "summary.csv",
                      "per-person.csv", "manifest.json", "scenario.yaml", "state.bin"] + extraFiles,
            "valueOfInformationSkipped": skippedValueOfInformation,
            "parameterUncertainty": uncertaintyManifest(state: state, scenario: scenario),
            "precisionTarget": context.precision.map { $0 as Any } ?? NSNull(),
            "engine": context.engine.map { $0 as Any } ?? NSNull(),
        ]
        return Manifest.json(command: context.command, manifest)
    }
}

extension RunResults {
    /// Every result of the run or merged shards a state holds.
    public init(state: RunState, scenario: Scenario) {
        self.init(scenario: scenario, rows: state.rows, aggregator: state.aggregator, replicationsPerDraw: state.replicationsPerDraw,
                  uncertainty: state.drawnUncertainty(scenario), settings: state.costEffectiveness)
    }
}
