import ArgumentParser
import Foundation
import Model
import Reports

/// A finished run folder read back for `girfec report` and `girfec ce`: its `state.bin` and the scenario stored in it.
enum RunFolderInput {
    /// The state and scenario of `folder`, or the problem printed as `girfec COMMAND: …` (ending with
    /// `trailer`) and exit status 2.
    /// - Parameter expected: what the folder should be, for the message when `state.bin` cannot be read.
    static func read(folder: String, command: String, expected: String, trailer: String = "") throws -> (state: RunState, scenario: Scenario) {
        let path = PathText.join(folder, "state.bin")
        guard let data = FileManager.default.contents(atPath: path) else {
            printError("girfec \(command): \(path) cannot be read; expected \(expected)\(trailer)")
            throw ExitCode(invalidInputStatus)
        }
        do {
            let state = try RunState.decode(Array(data), source: path)
            let scenario = try ScenarioDecoder.decode(yaml: state.scenarioText, file: state.scenarioFileName) { state.attachedFiles[$0] }
            return (state, scenario)
        } catch let error as RunState.MergeError {
            printError("girfec \(command): \(error.description)\(trailer)")
            throw ExitCode(invalidInputStatus)
        } catch {
            printError("girfec \(command): the scenario stored in \(path) does not validate with this version: \(error)\(trailer)")
            throw ExitCode(invalidInputStatus)
        }
    }
}
