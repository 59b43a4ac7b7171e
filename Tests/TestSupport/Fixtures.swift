import Foundation
import Model
import Testing

/// Scenario texts and helpers shared by the test targets.
public enum Fixtures {
    /// A small valid scenario: 3 levels, 2 areas, births, one practice, two arms.
    public static let smallScenario = """
    name: small
    time: {stepMonths: 1, horizonYears: 2}
    levels:
      Low: {costPerChildYear: 100, qolWeight: 0.9}
      Mid: {costPerChildYear: 1000, qolWeight: 0.8}
      High: {costPerChildYear: 10000, qolWeight: 0.6}
    areas: [north, south]
    population:
      initialCounts:
        north: {Low: 300, Mid: 60, High: 20}
        south: {Low: 200, Mid: 40, High: 10}
      births:
        perYear: {north: 30, south: 20}
        entryLevels: {Low: 0.9, Mid: 0.1}
      migration: {inPerYear: {north: 6, south: 4}, outRatePerYear: 0.02}
    transitions:
      unit: ratesPerYear
      matrix:
        Low: {Mid: 0.1, High: 0.01}
        Mid: {Low: 0.3, High: 0.05}
        High: {Low: 0.05, Mid: 0.3}
    arms:
      baseline: {}
      practice:
        practice:
          relational:
            intensity: [{timeYears: 0, value: 0.2}, {timeYears: 1, value: 0.9}]
            coverage: {areas: [north], share: 0.7}
            escalationEffect: 0.3
            stepDownEffect: 0.4
            timeToEffectYears: 0.5
        programme: {costPerYear: 50000}
    """

    /// Decode YAML text that must be valid; a failure records the issues at the caller.
    public static func scenario(_ yaml: String, file: String = "test.yaml",
                                sourceLocation: SourceLocation = #_sourceLocation) throws -> Scenario {
        do {
            return try ScenarioDecoder.decode(yaml: yaml, file: file)
        } catch {
            Issue.record("scenario did not validate: \(error.description)", sourceLocation: sourceLocation)
            throw error
        }
    }

    /// The issues reported for YAML text that must be invalid.
    public static func issues(_ yaml: String, file: String = "test.yaml",
                              sourceLocation: SourceLocation = #_sourceLocation) -> [ValidationIssue] {
        do {
            _ = try ScenarioDecoder.decode(yaml: yaml, file: file)
            Issue.record("scenario validated but was expected to fail", sourceLocation: sourceLocation)
            return []
        } catch {
            return error.issues
        }
    }

    /// The built `girfec` next to the running test bundle, for tests that launch it as a user does;
    /// `.build/debug/girfec` if it is not found there.
    public static let girfecExecutable: URL = {
        var dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for _ in 0..<4 {
            let candidate = dir.appendingPathComponent("girfec")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
            dir = dir.deletingLastPathComponent()
        }
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return root.appendingPathComponent(".build/debug/girfec")
    }()

    /// A fresh empty folder under one temporary folder per test process,
    /// which is removed when the process ends.
    public static func temporaryFolder(_ name: String = "girfec-test") -> String {
        let path = root + "/\(name)-\(UUID().uuidString)"
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    private static let root: String = {
        let path = NSTemporaryDirectory() + "/girfec-tests-\(ProcessInfo.processInfo.processIdentifier)"
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        atexit { try? FileManager.default.removeItem(atPath: NSTemporaryDirectory() + "/girfec-tests-\(getpid())") }
        return path
    }()
}
