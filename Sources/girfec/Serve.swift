import ArgumentParser
import Explorer
import Foundation
import Model

/// `girfec serve`: the workshop explorer in a browser (docs/workshop.md).
struct Serve: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve a page for a modelling workshop: the stock-flow diagram, what-ifs, agents, exports.",
        discussion: """
        Open the printed address in a browser on this machine. Every change re-runs the aggregate \
        model; "Simulate agents" runs the agent model and draws its bands as replications finish; \
        what-if arms are compared with the baseline and exported as a scenario file (a download). \
        The server reads only SCENARIO (and the files it names) and writes nothing. It listens on \
        127.0.0.1 only, unless --host says otherwise. Stop it with Ctrl-C.
        """)

    @Argument(help: "The scenario file (YAML).")
    var scenario: String

    @Option(help: "Port to listen on (0: any free port).")
    var port: Int = 8080

    @Option(help: "Address to listen on. Anything but 127.0.0.1 lets other machines use the explorer.")
    var host: String = "127.0.0.1"

    @Option(name: .customLong("max-replications"), help: "Most replications one agent simulation may ask for.")
    var maxReplications: Int = 200

    @Option(name: .customLong("max-children"), help: "Most children one replication of one arm may have (initial plus entrants).")
    var maxChildren: Double = 1_000_000

    @Option(name: .customLong("max-simulations"), help: "Agent simulations that may run at once.")
    var maxSimulations: Int = 1

    func validate() throws {
        guard (0...65535).contains(port) else { throw ValidationError("--port must be 0 to 65535, but is \(port).") }
        guard maxReplications >= 1 else { throw ValidationError("--max-replications must be at least 1, but is \(maxReplications).") }
        guard maxChildren >= 1, maxChildren.isFinite else { throw ValidationError("--max-children must be at least 1, but is \(maxChildren).") }
        guard maxSimulations >= 1 else { throw ValidationError("--max-simulations must be at least 1, but is \(maxSimulations).") }
    }

    func run() throws {
        let workshop: WorkshopScenario
        do { workshop = try WorkshopScenario(path: scenario) } catch {
            printError(error.description + "\nNothing was served.")
            throw ExitCode(invalidInputStatus)
        }
        var limits = Explorer.Limits()
        limits.maximumReplications = maxReplications
        limits.maximumChildren = maxChildren
        limits.maximumSimulations = maxSimulations
        let local = host == "127.0.0.1"
        // Bound elsewhere, a request may name this machine any way; on loopback only these names.
        let server: HTTPServer
        let explorerBox = ExplorerBox()
        do {
            server = try HTTPServer(host: host, port: port) { explorerBox.explorer!.handle($0) }
        } catch {
            printError("girfec serve: \(error.description)")
            throw ExitCode(1)
        }
        let hosts: Set<String> = local ? ["127.0.0.1:\(server.port)", "localhost:\(server.port)"] : []
        explorerBox.explorer = Explorer(workshop: workshop, limits: limits, allowedHosts: hosts)
        if !local {
            printError("girfec serve: warning: listening on \(host):\(server.port), not 127.0.0.1: anyone who can reach this machine can use the explorer and run simulations on it. There is no password; use --host only on a network you trust.")
        }
        let address = host == "0.0.0.0" ? "127.0.0.1" : host
        let others = local ? "" : " (from other machines: this machine's address, port \(server.port))"
        let line = "girfec serve: \(workshop.scenario.name) (\(scenario)) at http://\(address):\(server.port)/\(others) — open it in a browser; Ctrl-C stops.\n"
        FileHandle.standardOutput.write(Data(line.utf8))
        server.serve()
    }
}

/// The explorer, set once before the server accepts its first connection.
final class ExplorerBox: @unchecked Sendable {
    var explorer: Explorer?
}
