import ArgumentParser
import Foundation
import Interchange
import Model
import Reports
import StockFlow

/// File formats `girfec export` writes.
enum ExportFormat: String, ExpressibleByArgument, CaseIterable {
    /// XMILE 1.0, the OASIS interchange format of Stella, Vensim and PySD.
    case xmile
}

struct Export: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write a scenario's aggregate model in another tool's format.",
        discussion: """
        --format xmile writes one arm's aggregate system-dynamics model (girfec aggregate --mode sd) \
        as an XMILE 1.0 file for Stella, Vensim or PySD: a stock per level and coverage group, a flow \
        per move with its rate equation, the practice effect as an exposure stock and auxiliaries, \
        costs and QoL as stocks, and sim_specs with start, stop, DT and method. An arm with ageing, \
        births, migration or exposureTiming: includingStep is written as arrays over coverage group and \
        birth-month cohort, its step-end events as flows that equal girfec only with Euler at DT = the \
        model step (pinned; another --dt or --method is refused). Only what the file states exactly is \
        written: reinvestment and one-off move rewards are refused with the reason (docs/xmile.md). \
        XMILE is the only format today; another (an xlsx workbook, \
        which `python3 -m girfec_py.workbook` writes from a run folder now) can sit beside it as a \
        --format value.
        """)

    @Argument(help: "The scenario file (YAML).")
    var scenario: String

    @Option(help: "The format to write: xmile.")
    var format: ExportFormat

    @Option(help: "The file to write (replaced if it exists).")
    var out: String

    @Option(help: "The arm to write (required when the scenario has several arms).")
    var arm: String?

    @Option(name: .customLong("dt"), help: "Integration step DT in years written into sim_specs (default: the model step); must divide the step.")
    var dtYears: Double?

    @Option(help: "Integration method written into sim_specs: euler or rk4.")
    var method: IntegrationMethod = .euler

    @OptionGroup var quietOption: QuietOption

    func validate() throws { try AggregateFlags.checkStep(dtYears, option: "--dt") }

    func run() throws {
        if OutputFile.isSameFile(out, scenario) {
            printError("girfec export: --out \(out) is the scenario file being read; expected another path (the file would be replaced).\nNothing was written.")
            throw ExitCode(invalidInputStatus)
        }
        let (model, _) = try loadScenarioOrExit(scenario)
        let names = model.arms.map(\.name)
        let chosen: ArmModel
        if let arm {
            guard let a = model.arms.first(where: { $0.name == arm }) else {
                printError("girfec export: --arm '\(arm)' is not an arm of \(scenario); expected one of \(names.joined(separator: ", ")).\nNothing was written.")
                throw ExitCode(invalidInputStatus)
            }
            chosen = a
        } else {
            guard model.arms.count == 1 else {
                printError("girfec export: \(scenario) has \(names.count) arms (\(names.joined(separator: ", "))); choose one with --arm (an XMILE file holds one model).\nNothing was written.")
                throw ExitCode(invalidInputStatus)
            }
            chosen = model.arms[0]
        }
        let text: String
        do {
            text = try XMILEExport.document(arm: chosen, scenarioName: model.name, dtYears: dtYears, method: method, version: GirfecVersion.string)
        } catch let refusal as XMILEExport.Refusal {
            printError("girfec export: \(scenario): \(refusal)\nNothing was written (docs/xmile.md says what an XMILE export can state).")
            throw ExitCode(invalidInputStatus)
        } catch {
            printError("girfec export: \(scenario): \(error)\nNothing was written.")
            throw ExitCode(invalidInputStatus)
        }
        do {
            try Data(text.utf8).write(to: URL(fileURLWithPath: out), options: .atomic)
        } catch {
            printError("girfec export: cannot write \(out): \(error.localizedDescription)")
            throw ExitCode(1)
        }
        if !quietOption.quiet {
            print("wrote \(out): XMILE 1.0, arm \(chosen.name), \(method == .euler ? "Euler" : "RK4") with DT = \(dtYears ?? chosen.stepYears) years")
        }
    }
}
