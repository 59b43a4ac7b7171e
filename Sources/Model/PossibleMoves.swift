/// A move from one level to another (from ≠ to), by level index.
public struct Move: Sendable, Hashable, Comparable {
    public var from: Int
    public var to: Int

    public init(from: Int, to: Int) {
        self.from = from
        self.to = to
    }

    public static func < (a: Move, b: Move) -> Bool { (a.from, a.to) < (b.from, b.to) }

    /// Every move between `n` levels, by origin then destination.
    public static func all(levels n: Int) -> [Move] {
        (0..<n).flatMap { i in (0..<n).compactMap { j in i == j ? nil : Move(from: i, to: j) } }
    }
}

/// The moves a run can see: those with a positive per-step probability in some arm, or that a
/// varied parameter can make positive. Flows are recorded, aggregated and written for these moves
/// only (docs/outputs.md), so a model with many levels and few moves (an age-indexed cohort) costs
/// memory and output in proportion to its moves, not to the square of its levels.
///
/// A move i → j of an arm can happen when its per-step probability P_ij > 0 (P after the unit's
/// conversion, `TransitionMatrixInput.perStep`). Practice, age and duration multipliers only scale
/// the escalation and step-down probabilities, and the destination follows the baseline row, so
/// they never make a zero entry positive; a transition-specific dependence that replaces a move's
/// rate (`TransitionDependence.replaces`) can, and its moves are included. A parameter that changes entries W of the written matrix
/// can: P = exp(Q·dt) and the principal root A^dt are power series in the written matrix, so their
/// positive entries lie within the transitive closure of the written matrix's positive off-diagonal
/// entries and W (chains of moves within one step); per-step probabilities are used as written, so
/// their positive entries are those written and W.
public enum PossibleMoves {
    /// The moves of `arms` with a positive per-step probability in some arm, widened by the written
    /// entries `varied` (arm, from, to) that a parameter changes; sorted by origin then destination.
    public static func of(_ arms: [ArmModel], varied: [(arm: Int, from: Int, to: Int)] = []) -> [Move] {
        guard let n = arms.first?.levels.count else { return [] }
        var possible = [Bool](repeating: false, count: n * n)
        for arm in arms where arm.transitionPerStep.count == n {
            for i in 0..<n where arm.transitionPerStep[i].count == n {
                for j in 0..<n where i != j && arm.transitionPerStep[i][j] > 0 { possible[i * n + j] = true }
            }
            // A table that replaces a move's rate can make it positive where P is 0, at any value a
            // parameter gives it; a hazard ratio only scales a rate, so it opens no move.
            for d in arm.dependence where d.replaces && d.to < n {
                for i in d.from where i < n && i != d.to { possible[i * n + d.to] = true }
            }
        }
        for (a, arm) in arms.enumerated() {
            let here = varied.filter { $0.arm == a && $0.from != $0.to && $0.from < n && $0.to < n }
            guard !here.isEmpty else { continue }
            var written = [Bool](repeating: false, count: n * n)
            for (i, row) in arm.transitionInput.written.enumerated() where i < n {
                for (j, x) in row.enumerated() where j < n && i != j && (x ?? 0) != 0 { written[i * n + j] = true }
            }
            for v in here { written[v.from * n + v.to] = true }
            if arm.transitionInput.unit != .probabilitiesPerStep { closeTransitively(&written, n: n) }
            for k in written.indices where written[k] { possible[k] = true }
        }
        return (0..<n).flatMap { i in (0..<n).compactMap { j in possible[i * n + j] ? Move(from: i, to: j) : nil } }
    }

    /// The written entries (arm, from, to) that `bindings` change.
    public static func varied(by bindings: [ParameterBinding]) -> [(arm: Int, from: Int, to: Int)] {
        bindings.flatMap { b in
            b.targets.compactMap { t -> (arm: Int, from: Int, to: Int)? in
                if case .transitionEntry(let i, let j) = t.parameter, i != j { return (t.arm, i, j) }
                return nil
            }
        }
    }

    /// Marks i → k whenever i → j and j → k are marked (Warshall 1962), never i → i.
    static func closeTransitively(_ m: inout [Bool], n: Int) {
        for j in 0..<n {
            for i in 0..<n where i != j && m[i * n + j] {
                for k in 0..<n where m[j * n + k] { m[i * n + k] = true }
            }
        }
        for i in 0..<n { m[i * n + i] = false }
    }
}

extension Scenario {
    /// Adds to every arm's `possibleMoves` (and to the base arms of its uncertainty) the moves of the
    /// arms widened by the entries the given parameters change (`PossibleMoves.of`), so that every
    /// value they can take is recorded by the one layout of the run (the decoder, with the
    /// `uncertainty` parameters; a sensitivity experiment and calibration, with the paths they vary).
    public mutating func allowMoves(varying bindings: [ParameterBinding]) {
        let found = PossibleMoves.of(arms, varied: PossibleMoves.varied(by: bindings))
        let moves = Array(Set(found).union(arms.flatMap { $0.possibleMoves ?? [] })).sorted()
        for a in arms.indices { arms[a].possibleMoves = moves }
        uncertainty?.setPossibleMoves(moves)
    }
}
