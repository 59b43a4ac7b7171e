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
        do { text = try String(contentsOfFile: file, encoding: .utf8) } catch {
            printError("girfec import: cannot read \(file) as UTF-8 text: \(error.localizedDescription)\nNothing was written.")
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
