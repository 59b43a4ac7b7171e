import Foundation
import Stochastics

/// A scenario value that is uncertain: where it is, how it is distributed, where the figure comes from.
public struct UncertainParameter: Sendable {
    /// The label the scenario gives it (a key of `uncertainty.parameters`).
    public var name: String
    /// The field path it replaces, e.g. `levels.Intensive.costPerChildYear`
    /// or, for a Dirichlet row, `transitions.matrix.Universal`.
    public var path: String
    public var distribution: ParameterDistribution
    /// For a Dirichlet row: the destination levels drawn, in order.
    public var components: [String]
    /// Where the distribution comes from, for the report.
    public var source: String

    /// Column names in parameters.csv and in a draws file: the scalar field paths.
    public var columns: [String] { components.isEmpty ? [path] : components.map { "\(path).\($0)" } }
    /// Its stream index: FNV-1a of the path, so its draws do not depend on other parameters.
    public var streamIndex: UInt32 { fnv1a32(path) }
}

/// Parameter draws read from a CSV file, one row per draw.
public struct DrawTable: Sendable {
    /// The file name as the scenario gives it.
    public var file: String
    /// The file's text, kept so a merge reproduces the run without the file.
    public var text: String
    /// Scalar field paths, one per value column.
    public var columns: [String]
    /// Values per draw, in draw order.
    public var rows: [[Double]]
}

/// Second-order uncertainty: the scenario's uncertain parameters, and how a
/// replication's values become that replication's arms.
///
/// Draw d of parameter p is the first draw of the stream (seed, replication = d,
/// purpose = parameters, index = FNV-1a(path of p)). Every column's path is
/// resolved at validation to what it sets in each arm (`ParameterBinding`):
/// a parameter in the base is shared by every arm that does not override
/// that field, and one under `arms.NAME` is that arm's alone. A draw's
/// values are put in place by `Scenario.arms(applying:)`, which checks them
/// by the same rules as the file.
public struct Uncertainty: Sendable {
    public var parameters: [UncertainParameter]
    public var drawTable: DrawTable?
    /// EVPPI parameter groups: name → parameter names. Every parameter is also a group on its own.
    public var groups: [(name: String, parameters: [String])]
    /// What each column sets, in column order.
    let bindings: [ParameterBinding]
    /// The arms with the file's values, to which draws are applied, and the scenario file's name.
    private(set) var baseArms: [ArmModel]
    let file: String
    /// The value at each column's path in the file (nil where the file has none).
    public let baseValues: [Double?]

    /// All columns: the parameters', then the draws file's.
    public var columns: [String] { parameters.flatMap(\.columns) + (drawTable?.columns ?? []) }

    /// The base arms' recorded moves (`Scenario.allowMoves`).
    mutating func setPossibleMoves(_ moves: [Move]) {
        for a in baseArms.indices { baseArms[a].possibleMoves = moves }
    }

    /// Draws the file offers (nil: unlimited).
    public var drawsAvailable: Int? { drawTable?.rows.count }

    /// What value-of-information and importance tables report on: every parameter and
    /// draws-file column on its own, then each declared group.
    public var reportedGroups: [(name: String, members: [String])] {
        parameters.map { ($0.name, [$0.name]) } + (drawTable?.columns ?? []).map { ($0, [$0]) }
            + groups.map { ($0.name, $0.parameters) }
    }

    /// Column indices of a group's parameters.
    public func columnIndices(ofGroup names: [String]) -> [Int] {
        var out: [Int] = []
        var at = 0
        for p in parameters {
            if names.contains(p.name) { out += Array(at..<(at + p.columns.count)) }
            at += p.columns.count
        }
        if let t = drawTable {
            for (i, c) in t.columns.enumerated() where names.contains(c) { out.append(at + i) }
        }
        return out
    }

    /// The values of draw `draw`, one per column.
    public func values(draw: Int, seed: UInt64) -> [Double] {
        var out: [Double] = []
        for p in parameters {
            let stream = RandomStream(StreamAddress(seed: seed, replication: UInt32(draw), purpose: .parameters, index: p.streamIndex))
            out += p.distribution.draw(stream)
        }
        if let t = drawTable { out += t.rows[draw] }
        return out
    }

    /// Every column at its distribution's mean (draws-file columns at their mean over rows).
    public var meanValues: [Double] {
        var out = parameters.flatMap(\.distribution.mean)
        if let t = drawTable, !t.rows.isEmpty {
            out += t.columns.indices.map { c in t.rows.reduce(0) { $0 + $1[c] } / Double(t.rows.count) }
        }
        return out
    }

    /// The arms with these column values in place (`Scenario.arms(applying:)`).
    public func arms(values: [Double]) throws(ScenarioError) -> [ArmModel] {
        try ParameterBinding.apply(Array(zip(bindings, values)), to: baseArms, file: file)
    }
}
