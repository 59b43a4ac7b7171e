import Analysis
import Testing

@Suite("Incremental analysis across arms and acceptability of every arm")
struct IncrementalAnalysisTests {
    typealias Arm = IncrementalAnalysis.Arm

    /// Expect `rows` to be these (arm, status, dominatedBy, comparator, Δcost, ΔQoL, ICER), in order;
    /// the increments within 1e-9 relative (they are differences of decimal inputs).
    func expectRows(_ rows: [Arm], _ expected: [(Int, IncrementalAnalysis.Status, [Int], Int?, Double?, Double?, Double?)]) {
        #expect(rows.map(\.arm) == expected.map(\.0))
        for (r, e) in zip(rows, expected) {
            #expect(r.status == e.1, "arm \(r.arm)")
            #expect(r.dominatedBy == e.2, "arm \(r.arm)")
            #expect(r.comparator == e.3, "arm \(r.arm)")
            for (got, want) in [(r.incrementalCost, e.4), (r.incrementalQolYears, e.5), (r.icer, e.6)] {
                if let want { #expect(abs(got! - want) <= 1e-9 * abs(want), "arm \(r.arm): \(String(describing: got)) vs \(want)") } else { #expect(got == nil) }
            }
        }
    }

    /// A textbook case with every status, worked by hand (Drummond et al. 2015, ch. 4, the method):
    ///
    /// | arm | cost | QoL-years | by hand |
    /// |---|---|---|---|
    /// | 0 A | 10,000 | 1.0 | cheapest: first on the frontier |
    /// | 1 B | 12,000 | 1.1 | ICER vs A 2,000/0.1 = 20,000 > C's vs B 3,000/0.3 = 10,000: extendedly dominated, between A and C |
    /// | 2 C | 15,000 | 1.4 | frontier: vs A 5,000/0.4 = 12,500 |
    /// | 3 D | 16,000 | 1.3 | dearer than C, fewer QoL-years: dominated by C |
    /// | 4 E | 25,000 | 1.9 | frontier: vs C 10,000/0.5 = 20,000 (> 12,500, so C stays) |
    /// | 5 F | 10,000 | 1.0 | the same as A, later in the scenario: dominated by A |
    /// | 6 H | 15,000 | 1.2 | the same cost as C, fewer QoL-years: dominated by C (A and B gain less than H) |
    ///
    /// Order: cost ascending, QoL-years descending, scenario order: A F B C H D E.
    @Test func textbookCaseWithStrictAndExtendedDominanceAndTies() throws {
        let rows = try IncrementalAnalysis.analyse(cost: [10_000, 12_000, 15_000, 16_000, 25_000, 10_000, 15_000],
                                                   qolYears: [1.0, 1.1, 1.4, 1.3, 1.9, 1.0, 1.2])
        expectRows(rows, [
            (0, .frontier, [], nil, nil, nil, nil),
            (5, .dominated, [0], nil, nil, nil, nil),
            (1, .extendedlyDominated, [0, 2], nil, nil, nil, nil),
            (2, .frontier, [], 0, 5_000, 0.4, 12_500),
            (6, .dominated, [2], nil, nil, nil, nil),
            (3, .dominated, [2], nil, nil, nil, nil),
            (4, .frontier, [], 2, 10_000, 0.5, 20_000),
        ])
    }

    /// Extended dominance that appears only after another arm is removed, worked by hand:
    /// A(0, 0), B(10, 1), C(30, 2.5), D(40, 3.0), E(50, 4.2). ICERs along the undominated arms:
    /// B 10, C 20/1.5 = 13.33, D 10/0.5 = 20, E 10/1.2 = 8.33: D goes (20 > 8.33). Then E vs C is
    /// 20/1.7 = 11.76 < 13.33: C goes. Then E vs B is 40/3.2 = 12.5 > 10: frontier A, B, E.
    @Test func extendedDominanceIsRepeatedUntilNoneIsLeft() throws {
        let rows = try IncrementalAnalysis.analyse(cost: [0, 10, 30, 40, 50], qolYears: [0, 1, 2.5, 3.0, 4.2])
        expectRows(rows, [
            (0, .frontier, [], nil, nil, nil, nil),
            (1, .frontier, [], 0, 10, 1, 10),
            (2, .extendedlyDominated, [1, 4], nil, nil, nil, nil),
            (3, .extendedlyDominated, [1, 4], nil, nil, nil, nil),
            (4, .frontier, [], 1, 40, 3.2, 12.5),
        ])
    }

    /// Arms on a straight line (equal ICERs) all stay on the frontier, as in dampack (a strict comparison).
    @Test func collinearArmsStayOnTheFrontier() throws {
        let rows = try IncrementalAnalysis.analyse(cost: [20, 0, 10], qolYears: [2, 0, 1])
        expectRows(rows, [(1, .frontier, [], nil, nil, nil, nil), (2, .frontier, [], 1, 10, 1, 10), (0, .frontier, [], 2, 10, 1, 10)])
    }

    /// Equal QoL-years at a higher cost is dominated: arm 0 (5, 1) by both arm 1 (3, 1) and arm 2 (4, 2);
    /// the one named is the cheapest, arm 1.
    @Test func equalQolYearsAtAHigherCostIsDominated() throws {
        let rows = try IncrementalAnalysis.analyse(cost: [5, 3, 4], qolYears: [1, 1, 2])
        expectRows(rows, [(1, .frontier, [], nil, nil, nil, nil), (2, .frontier, [], 1, 1, 1, 1), (0, .dominated, [1], nil, nil, nil, nil)])
    }

    @Test func oneArmIsTheFrontierWithNothingToCompare() throws {
        let rows = try IncrementalAnalysis.analyse(cost: [7], qolYears: [3])
        expectRows(rows, [(0, .frontier, [], nil, nil, nil, nil)])
    }

    @Test func badInputSaysWhatIsWrong() {
        #expect(throws: IncrementalAnalysis.InputError(description: "Arm 1 has cost nan and QoL-years 2.0; both must be finite.")) {
            try IncrementalAnalysis.analyse(cost: [1, .nan], qolYears: [1, 2])
        }
        #expect(throws: IncrementalAnalysis.InputError(description: "Incremental analysis needs one cost and one QoL-years value per arm, but got 2 costs and 1 QoL-years values.")) {
            try IncrementalAnalysis.analyse(cost: [1, 2], qolYears: [1])
        }
    }

    /// Three arms, four replications, worked by hand (costs 0, 10, 20 in every replication):
    ///
    /// | replication | QoL-years | NMB at 10 | best at 10 | NMB at 20 | best at 20 |
    /// |---|---|---|---|---|---|
    /// | 0 | 0, 1, 1.5 | 0, 0, −5 | 0 and 1 tie | 0, 10, 10 | 1 and 2 tie |
    /// | 1 | 0, 0.5, 2 | 0, −5, 0 | 0 and 2 tie | 0, 0, 20 | 2 |
    /// | 2 | 0, 1, 1 | 0, 0, −10 | 0 and 1 tie | 0, 10, 0 | 1 |
    /// | 3 | 0, 0, 0.5 | 0, −10, −15 | 0 | 0, −10, −10 | 0 |
    ///
    /// A tie shares the replication. At 0: P = (1, 0, 0). At 10: (2.5, 1, 0.5)/4 = (0.625, 0.25, 0.125).
    /// At 20: (1, 1.5, 1.5)/4 = (0.25, 0.375, 0.375). Mean QoL-years 0, 0.625, 1.25, so expected NMB
    /// at 10 is 0, −3.75, −7.5 (arm 0 on the frontier) and at 20 is 0, 2.5, 5 (arm 2).
    @Test func probabilityBestAndFrontierByHand() {
        let reps: [Acceptability.Replication] = [
            .init(cost: [0, 10, 20], qolYears: [0, 1, 1.5]), .init(cost: [0, 10, 20], qolYears: [0, 0.5, 2]),
            .init(cost: [0, 10, 20], qolYears: [0, 1, 1]), .init(cost: [0, 10, 20], qolYears: [0, 0, 0.5]),
        ]
        let points = Acceptability.compute(reps, willingnessToPay: [0, 10, 20])
        #expect(points.map(\.willingnessToPay) == [0, 0, 0, 10, 10, 10, 20, 20, 20])
        #expect(points.map(\.arm) == [0, 1, 2, 0, 1, 2, 0, 1, 2])
        #expect(points.map(\.probabilityBest) == [1, 0, 0, 0.625, 0.25, 0.125, 0.25, 0.375, 0.375])
        #expect(points.map(\.netBenefit.mean) == [0, -10, -20, 0, -3.75, -7.5, 0, 2.5, 5])
        #expect(points.map(\.onFrontier) == [true, false, false, true, false, false, false, false, true])
        #expect(points.allSatisfy { $0.units == 4 && $0.netBenefit.count == 4 })
    }

    /// In a nested run the units are the draws' means: two draws of two replications, arm 1 costs 10 and
    /// gains QoL-years (1, 0) in draw 0 and (2, 1) in draw 1, so the draw means are 0.5 and 1.5. At 10:
    /// draw NMBs −5 and 5, so each arm is best in one draw of two; expected NMB 0 for both (a tie: arm 0
    /// on the frontier); the MCSE of arm 1's NMB is that of the draw means, sd(−5, 5)/√2 = 5.
    @Test func nestedRunsUseDrawMeans() {
        let reps: [Acceptability.Replication] = [
            .init(cost: [0, 10], qolYears: [0, 1], draw: 0), .init(cost: [0, 10], qolYears: [0, 0], draw: 0),
            .init(cost: [0, 10], qolYears: [0, 2], draw: 1), .init(cost: [0, 10], qolYears: [0, 1], draw: 1),
        ]
        let points = Acceptability.compute(reps, willingnessToPay: [10])
        #expect(points.map(\.probabilityBest) == [0.5, 0.5])
        #expect(points.map(\.units) == [2, 2])
        #expect(points.map(\.onFrontier) == [true, false])
        #expect(points[1].netBenefit.mean == 0)
        #expect(abs(points[1].netBenefit.mcse - 5) < 1e-12)
    }

    /// P(best) sums to 1 at every λ, whatever the ties, and the same input gives the same output.
    @Test func probabilitiesSumToOneAndOutputIsDeterministic() {
        var reps: [Acceptability.Replication] = []
        for i in 0..<50 {
            let x = Double(i % 7), y = Double((i * 3) % 5)
            reps.append(.init(cost: [0, 100 * x, 50 * y, 100 * x], qolYears: [0, x / 100, y / 50, x / 100]))
        }
        let grid = stride(from: 0.0, through: 20_000, by: 500).map { $0 }
        let points = Acceptability.compute(reps, willingnessToPay: grid)
        for l in grid {
            let sum = points.filter { $0.willingnessToPay == l }.reduce(0) { $0 + $1.probabilityBest }
            #expect(abs(sum - 1) < 1e-12, "at \(l): \(sum)")
            #expect(points.filter { $0.willingnessToPay == l && $0.onFrontier }.count == 1)
        }
        #expect(points == Acceptability.compute(reps, willingnessToPay: grid))
    }
}
