import ArgumentParser
import Foundation
import Interchange
import Model

struct Import: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Read a Stella, Vensim or PySD stock-flow model (XMILE) into a scenario file.",
        discussion: """
        Each stock becomes a level (in the file's order: a move to a later level is an escalation), \
        each flow from one stock to another whose equation is the source stock times or divided by \
        constants a rate per year, and the stocks' initial values the initial counts. What does not \
        fit (flows from or to outside the model, rates that change with time or other stocks, \
        arrays, modules, conveyors) is reported, naming the XMILE element and what was expected; \
        nothing is written then. The scenario is validated before it is written (docs/xmile.md).
        """)

    @Argument(help: "The XMILE file (.xmile or .stmx).")
    var file: String

    @Option(help: "The scenario file to write (YAML; replaced if it exists).")
    var out: String

    @OptionGroup var quietOption: QuietOption

    func run() throws {
        let text: String
        switch Tree.readRegularFile(file) {
        case .success(let t): text = t
        case .failure(let problem):
            printError("girfec import: \(file): found \(problem.found); expected a readable UTF-8 XMILE file of at most 16 MiB.\nNothing was written.")
            throw ExitCode(invalidInputStatus)
        }
        if OutputFile.isSameFile(out, file) {
            printError("girfec import: --out \(out) is the XMILE file being read; expected another path (the file would be replaced).\nNothing was written.")
            throw ExitCode(invalidInputStatus)
        }
        let result: XMILEImport.Result
        do { result = try XMILEImport.scenario(xml: text, file: file) } catch {
            printError("girfec import: \(error)\nNothing was written (docs/xmile.md says what fits a scenario).")
            throw ExitCode(invalidInputStatus)
        }
        do { _ = try ScenarioDecoder.decode(yaml: result.yaml, file: out) } catch {
            printError("girfec import: the scenario made from \(file) does not validate:\n\(error.description)\nNothing was written.")
            throw ExitCode(invalidInputStatus)
        }
        do { try Data(result.yaml.utf8).write(to: URL(fileURLWithPath: out), options: .atomic) } catch {
            printError("girfec import: cannot write \(out): \(error.localizedDescription)")
            throw ExitCode(1)
        }
        guard !quietOption.quiet else { return }
        print("wrote \(out) from \(file)")
        for note in result.notes { print("  note: \(note)") }
    }
}
