import Foundation
import Model
import Testing
import TestSupport

/// The moves a run records (`PossibleMoves`): positive per-step probabilities, the closure of the
/// written matrix for converted units, and the entries a parameter can change.
@Suite("Possible moves: only moves that can happen are recorded")
struct PossibleMovesTests {
    /// Three levels and Dead; `UNIT` and `MATRIX` are filled in per test.
    static func yaml(unit: String, matrix: String, extra: String = "") -> String {
        """
        name: moves
        time: {stepMonths: 12, horizonYears: 3}
        levels:
          A: {costPerChildYear: 100, qolWeight: 0.9}
          B: {costPerChildYear: 200, qolWeight: 0.8}
          C: {costPerChildYear: 300, qolWeight: 0.7}
          Dead: {costPerChildYear: 0, qolWeight: 0, absorbing: true}
        population:
          initialCounts: {A: 100}
          ageing: false
        transitions:
          unit: \(unit)
          matrix:
        \(matrix)
        arms:
          one: {}
        \(extra)
        """
    }

    static let chain = """
            A: {B: 0.1, Dead: 0.01}
            B: {C: 0.1, Dead: 0.02}
            C: {Dead: 0.05}
        """

    static func names(_ s: Scenario) -> [String] {
        let levels = s.levels
        return RecordLayout(arm: s.arms[0]).moves.map { "\(levels[$0.from])>\(levels[$0.to])" }
    }

    @Test func perStepProbabilitiesRecordTheWrittenMovesOnly() throws {
        let s = try Fixtures.scenario(Self.yaml(unit: "probabilitiesPerStep", matrix: Self.chain))
        #expect(Self.names(s) == ["A>B", "A>Dead", "B>C", "B>Dead", "C>Dead"])
        let layout = RecordLayout(arm: s.arms[0])
        #expect(layout.flowSlot(from: 0, to: 2) == nil, "A → C cannot happen in one step")
        #expect(layout.slotCount == RecordLayout.slotCount(arm: s.arms[0]))
        #expect(layout.slotCount == RecordLayout(levelCount: 4, steps: 3).slotCount - (12 - 5))
    }

    @Test func ratesRecordChainsWithinAStep() throws {
        // P = exp(Q·dt): A → C within a year through B, A → Dead through B and C.
        let s = try Fixtures.scenario(Self.yaml(unit: "ratesPerYear", matrix: Self.chain))
        #expect(Self.names(s) == ["A>B", "A>C", "A>Dead", "B>C", "B>Dead", "C>Dead"])
        let p = s.arms[0].transitionPerStep
        #expect(p[0][2] > 0 && p[2][0] == 0)
    }

    @Test func anUncertainEntryThatIsZeroInTheFileIsRecorded() throws {
        let extra = """
        uncertainty:
          parameters:
            cToA:
              path: transitions.matrix.C.A
              distribution: uniform
              min: 0
              max: 0.2
        """
        let plain = try Fixtures.scenario(Self.yaml(unit: "probabilitiesPerStep", matrix: Self.chain))
        #expect(!Self.names(plain).contains("C>A"))
        let matrix = """
                A: {B: 0.1, Dead: 0.01}
                B: {C: 0.1, Dead: 0.02}
                C: {A: 0, Dead: 0.05}
            """
        let s = try Fixtures.scenario(Self.yaml(unit: "probabilitiesPerStep", matrix: matrix, extra: extra))
        #expect(Self.names(s) == ["A>B", "A>Dead", "B>C", "B>Dead", "C>A", "C>Dead"])
    }

    @Test func aValueThatMakesAnUnrecordedMovePossibleIsRefusedWithTheMove() throws {
        let matrix = """
                A: {B: 0.1, Dead: 0.01}
                B: {C: 0.1, Dead: 0.02}
                C: {A: 0, Dead: 0.05}
            """
        let s = try Fixtures.scenario(Self.yaml(unit: "probabilitiesPerStep", matrix: matrix))
        let binding = try #require(s.bindings(["transitions.matrix.C.A"]).bound.first)
        do {
            _ = try s.arms(applying: [(binding, 0.1)])
            Issue.record("a value making C → A possible was accepted")
        } catch {
            let text = error.description
            #expect(text.contains("transitions.matrix.C.A"), "\(text)")
            #expect(text.contains("C → A") && text.contains("which is 0 in the scenario"), "\(text)")
        }
        // Allowed once the scenario is told the entry varies (as a sensitivity experiment does).
        var varied = s
        varied.allowMoves(varying: [binding])
        let arms = try varied.arms(applying: [(binding, 0.1)])
        #expect(RecordLayout(arm: arms[0]).flowSlot(from: 2, to: 0) != nil)
    }
}
