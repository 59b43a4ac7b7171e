import Analysis
import ArgumentParser
import Experiments
import Foundation
import Model
import Reports

/// `girfec ce RUN --wtp ... --out DIR`: a finished run's cost-effectiveness at other willingness-to-pay values, without re-simulating.
struct CostEffectivenessCommand: ParsableCommand, InterruptibleCommand {
    static let configuration = CommandConfiguration(
        commandName: "ce",
        abstract: "Re-analyse a finished run's cost-effectiveness at other willingness-to-pay values, without re-simulating.",
        discussion: """
        Reads RUN/state.bin (from `girfec run` or `girfec merge`) and writes to --out the files \
        `girfec run` would have written with these values: summary.csv (each later arm against the \
        first), incremental.csv (efficiency frontier, dominance, ICERs between neighbours), \
        acceptability.csv (net monetary benefit, probability each arm is best, acceptability \
        frontier), voi.csv when the run drew parameters, and manifest.json. The numbers are computed \
        by the same code as `girfec run`. Options not given keep the run's values (docs/outputs.md).
        """)

    @Argument(help: "A folder of `girfec run` or `girfec merge`.")
    var folder: String

    @Option(help: "Willingness to pay per QoL-year for net monetary benefit, £, comma-separated (default: the run's).",
            transform: { try WillingnessToPay(parsing: $0) })
    var wtp: WillingnessToPay?

    @Option(help: "The acceptability curves run from £0 to this, per QoL-year (default: the run's).")
    var ceacMax: Double?

    @Option(help: "Step of the acceptability curves, £ per QoL-year (default: the run's).")
    var ceacStep: Double?

    @OptionGroup var output: OutputOptions

    @OptionGroup var quietOption: QuietOption
    var quiet: Bool { quietOption.quiet }

    func validate() throws {
        if let ceacMax, !(ceacMax >= 0 && ceacMax.isFinite) {
            throw ValidationError("--ceac-max must be a finite amount >= 0, but is \(ceacMax).")
        }
        if let ceacStep, !(ceacStep > 0 && ceacStep.isFinite) {
            throw ValidationError("--ceac-step must be a finite amount > 0, but is \(ceacStep).")
        }
    }

    func run() throws {
        var (state, scenario) = try RunFolderInput.read(folder: folder, command: "ce",
                                                        expected: "a folder written by `girfec run` or `girfec merge` (with state.bin).",
                                                        trailer: " Nothing was written.")
        var settings = state.costEffectiveness
        if let wtp { settings.willingnessToPay = wtp.values }
        if let ceacMax { settings.curveMaximum = ceacMax }
        if let ceacStep { settings.curveStep = ceacStep }
        guard settings.curveMaximum / settings.curveStep <= 100_000 else {
            printError("girfec ce: --ceac-max / --ceac-step gives more than 100000 points (\(ArgumentText.number(settings.curveMaximum)) / \(ArgumentText.number(settings.curveStep))); expected at most 100000. Nothing was written.")
            throw ExitCode(invalidInputStatus)
        }
        state.costEffectiveness = settings
        let target = try output.prepare(command: "ce")
        let results = RunResults(state: state, scenario: scenario)
        try writeFolderOrExit(target, command: "ce") {
            IncrementalTables.reanalysisFiles(state: state, scenario: scenario, results: results, source: folder,
                                              command: CommandLine.arguments)
        }
        guard !quiet else { return }
        print((["re-analysed \(folder) at \(settings.willingnessToPay.map { HumanFormat.money($0) }.joined(separator: ", ")) per QoL-year; wrote \(output.out)"]
               + TerminalSummary.lines(state: state, scenario: scenario, results: results)).joined(separator: "\n"))
    }
}
