import Foundation
import Testing
@testable import Model
import TestSupport

/// ScenarioText.perStep with the given practice block and a horizon of 2 years (24 monthly steps).
private func armWithPractice(_ practice: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> ArmModel {
    try Fixtures.scenario(ScenarioText.perStep + "\npractice:\n" + practice, sourceLocation: sourceLocation).arms[0]
}

private let relational = "  relational: {intensity: 0.6, escalationEffect: 0.3, stepDownEffect: 0.4, timeToEffectYears: 0.5}"
private let community = "  community: {intensity: 0.8, escalationEffect: 0.5, stepDownEffect: 0.2, timeToEffectYears: 2}"

/// s = x·(1 − exp(−E/τ)).
private func saturating(_ x: Double, _ exposure: Double, _ tau: Double) -> Double {
    x * (1 - Foundation.exp(-exposure / tau))
}

@Suite("PracticeSchedule: red and green multipliers")
struct PracticeScheduleTests {
    /// One practice at constant intensity x = 0.6, τ = 0.5, a = 0.3, b = 0.4;
    /// a child present from step 0 has E = x·t/12 after t monthly steps.
    @Test("one practice, constant intensity, from step 0: the formula by hand", arguments: [1, 2, 6, 12, 13, 24])
    func handComputed(step t: Int) throws {
        let arm = try armWithPractice(relational)
        let schedule = PracticeSchedule(arm: arm)
        #expect(schedule.steps == 24)
        #expect(schedule.masks == 2)
        let s = saturating(0.6, 0.6 * Double(t) / 12, 0.5)
        let m = schedule.multipliers(step: t, mask: 1, entryStep: 0)
        #expect(abs(m.red - (1 - 0.3 * s)) < 1e-14, "red \(m.red)")
        #expect(abs(m.green - (1 + 0.4 * s)) < 1e-14, "green \(m.green)")
    }

    @Test("step 12 by hand: s = 0.6·(1 − e^(−1.2)), red = 0.874215…, green = 1.167713…")
    func stepTwelveNumbers() throws {
        let m = PracticeSchedule(arm: try armWithPractice(relational)).multipliers(step: 12, mask: 1, entryStep: 0)
        // s = 0.6 · (1 − e^−1.2) = 0.6 · 0.698805788 = 0.419283473
        #expect(abs(m.red - 0.874215) < 1e-6)
        #expect(abs(m.green - 1.167713) < 1e-6)
    }

    @Test("a child entering at step e has exposure x·(t − e)/12", arguments: [(5, 1), (5, 4), (24, 12), (24, 23)])
    func entryStep(_ t: Int, _ e: Int) throws {
        let schedule = PracticeSchedule(arm: try armWithPractice(relational))
        let s = saturating(0.6, 0.6 * Double(t - e) / 12, 0.5)
        let m = schedule.multipliers(step: t, mask: 1, entryStep: e)
        #expect(abs(m.red - (1 - 0.3 * s)) < 1e-14)
        #expect(abs(m.green - (1 + 0.4 * s)) < 1e-14)
    }

    @Test("mask 0 (not covered) gives (1, 1) at every step and entry step")
    func uncovered() throws {
        let schedule = PracticeSchedule(arm: try armWithPractice(relational + "\n" + community))
        #expect(schedule.masks == 4)
        for t in 1...schedule.steps {
            for e in 0..<t {
                let m = schedule.multipliers(step: t, mask: 0, entryStep: e)
                #expect(m.red == 1 && m.green == 1, "step \(t), entry \(e)")
            }
        }
    }

    @Test("two practices: each mask multiplies the factors of the practices it covers", arguments: [1, 2, 3])
    func products(mask: Int) throws {
        let schedule = PracticeSchedule(arm: try armWithPractice(relational + "\n" + community))
        let t = 9
        let s0 = saturating(0.6, 0.6 * Double(t) / 12, 0.5)
        let s1 = saturating(0.8, 0.8 * Double(t) / 12, 2)
        var red = 1.0, green = 1.0
        if mask & 1 != 0 { red *= 1 - 0.3 * s0; green *= 1 + 0.4 * s0 }
        if mask & 2 != 0 { red *= 1 - 0.5 * s1; green *= 1 + 0.2 * s1 }
        let m = schedule.multipliers(step: t, mask: mask, entryStep: 0)
        #expect(abs(m.red - red) < 1e-14)
        #expect(abs(m.green - green) < 1e-14)
    }

    /// x(u) = (u − 0.5)/12 at the middle of step u ≤ 12, so after t ≤ 12 steps
    /// E = Σ x(u)/12 = t²/288.
    @Test("rising intensity: x at the middle of the step, exposure summed over steps", arguments: [1, 6, 12])
    func risingIntensity(step t: Int) throws {
        let arm = try armWithPractice("  p: {intensity: [{timeYears: 0, value: 0}, {timeYears: 1, value: 1}], "
            + "escalationEffect: 0.5, stepDownEffect: 0.5, timeToEffectYears: 0.25}")
        let schedule = PracticeSchedule(arm: arm)
        let x = (Double(t) - 0.5) / 12
        #expect(abs(schedule.intensity[t - 1][0] - x) < 1e-15)
        let s = saturating(x, Double(t * t) / 288, 0.25)
        let m = schedule.multipliers(step: t, mask: 1, entryStep: 0)
        #expect(abs(m.red - (1 - 0.5 * s)) < 1e-14)
        #expect(abs(m.green - (1 + 0.5 * s)) < 1e-14)
        #expect(schedule.intensity[23][0] == 1, "constant after the last point")
    }

    @Test("effect functions named in a scenario", arguments: [
        ("linear", 0.6 * min(0.6 * 3 / 12 / 0.5, 1)), ("immediate", 0.6), ("saturating", saturating(0.6, 0.6 * 3 / 12, 0.5)),
    ])
    func namedEffects(_ name: String, _ strength: Double) throws {
        let arm = try armWithPractice("  relational: {intensity: 0.6, escalationEffect: 0.3, stepDownEffect: 0.4, "
            + "timeToEffectYears: 0.5, effectFunction: \(name)}")
        #expect(arm.practices[0].effect.name == name)
        let m = PracticeSchedule(arm: arm).multipliers(step: 3, mask: 1, entryStep: 0)
        #expect(abs(m.red - (1 - 0.3 * strength)) < 1e-14)
        #expect(abs(m.green - (1 + 0.4 * strength)) < 1e-14)
    }

    @Test("effect functions: formulas, saturation and τ = 0")
    func effectFunctions() {
        let sat = SaturatingEffect(), lin = LinearEffect(), now = ImmediateEffect()
        #expect(sat.strength(intensity: 0.5, exposureYears: 0, timeToEffectYears: 1) == 0)
        #expect(abs(sat.strength(intensity: 0.5, exposureYears: 1, timeToEffectYears: 1) - 0.5 * (1 - Foundation.exp(-1))) < 1e-15)
        #expect(sat.strength(intensity: 0.5, exposureYears: 3, timeToEffectYears: 0) == 0.5)
        #expect(lin.strength(intensity: 0.5, exposureYears: 0.5, timeToEffectYears: 2) == 0.125)
        #expect(lin.strength(intensity: 0.5, exposureYears: 5, timeToEffectYears: 2) == 0.5)
        #expect(now.strength(intensity: 0.5, exposureYears: 0, timeToEffectYears: 2) == 0.5)
        #expect(Set(PracticeEffects.named.keys) == ["saturating", "linear", "immediate"])
        for (name, f) in PracticeEffects.named { #expect(f.name == name) }
    }

    @Test("trajectories interpolate linearly and are constant outside their points")
    func trajectory() {
        let tr = Trajectory(points: [(1, 0.2), (3, 0.6), (3, 0.9), (4, 0.9)])
        #expect(tr.value(at: 0) == 0.2)
        #expect(abs(tr.value(at: 2) - 0.4) < 1e-15)
        #expect(tr.value(at: 3.5) == 0.9)
        #expect(tr.value(at: 10) == 0.9)
        #expect(Trajectory(points: []).value(at: 1) == 0)
        #expect(Trajectory(constant: 0.3).value(at: 7) == 0.3)
    }
}

@Suite("StayCheck: the largest leave probability a child can meet")
struct StayCheckTests {
    @Test("direction sums: escalation to higher levels, step-down to lower")
    func directionSums() {
        let sums = StayCheck.directionSums([[0.7, 0.2, 0.1], [0.3, 0.6, 0.1], [0.05, 0.25, 0.7]])
        #expect(sums.count == 3)
        #expect(abs(sums[0].red - 0.3) < 1e-15 && sums[0].green == 0)
        #expect(sums[1].red == 0.1 && sums[1].green == 0.3)
        #expect(sums[2].red == 0 && abs(sums[2].green - 0.3) < 1e-15)
    }

    @Test("a valid arm has no violations")
    func noViolation() throws {
        let arm = try armWithPractice(relational)
        #expect(StayCheck.firstViolations(arm: arm, schedule: PracticeSchedule(arm: arm)).isEmpty)
    }

    /// High steps down with 0.3 per step; with x = 1, τ = 1, b = 4 the leave
    /// probability 0.3·(1 + 4·(1 − e^(−t/12))) first exceeds 1 at t = 11.
    @Test("a strong step-down effect: first violating step, level and multipliers")
    func stepDownViolation() throws {
        var arm = try armWithPractice(relational)
        arm.practices[0].intensity = Trajectory(constant: 1)
        arm.practices[0].timeToEffectYears = 1
        arm.practices[0].stepDownEffect = 4
        let violations = StayCheck.firstViolations(arm: arm, schedule: PracticeSchedule(arm: arm))
        let s = 1 - Foundation.exp(-11.0 / 12)
        #expect(violations.count == 1)
        let v = try #require(violations.first)
        #expect(v.arm == "base" && v.level == "High" && v.step == 11)
        #expect(abs(v.timeYears - 11.0 / 12) < 1e-15)
        #expect(abs(v.escalationMultiplier - (1 - 0.3 * s)) < 1e-14)
        #expect(abs(v.stepDownMultiplier - (1 + 4 * s)) < 1e-14)
        #expect(abs(v.leaveProbability - 0.3 * (1 + 4 * s)) < 1e-14)
        #expect(v.description.hasPrefix("in arm 'base', level 'High' at step 11 (year 0.92): escalation multiplier "))
    }

    @Test("duration multipliers: the largest leave multiplier of a level counts from step 1")
    func durationViolation() throws {
        var arm = try Fixtures.scenario(ScenarioText.perStep).arms[0]
        arm.durationMultipliers[2] = [DurationMultiplier(fromMonths: 0, leaveMultiplier: 1),
                                      DurationMultiplier(fromMonths: 6, leaveMultiplier: 3.5)]
        let violations = StayCheck.firstViolations(arm: arm, schedule: PracticeSchedule(arm: arm))
        #expect(violations.map(\.level) == ["High"])
        #expect(violations.map(\.step) == [1])
        #expect(abs((violations.first?.leaveProbability ?? 0) - 1.05) < 1e-14)
        #expect(violations.first?.description == "in arm 'base', level 'High' at step 1 (year 0.08): escalation multiplier 3.5, "
            + "step-down multiplier 3.5 give a leave probability of 1.05, so a stay probability of -0.05")
    }

    @Test("age multipliers: every band is checked")
    func ageViolation() throws {
        var arm = try Fixtures.scenario(ScenarioText.perStep).arms[0]
        arm.ageMultipliers = [AgeMultiplier(fromMonths: 0, escalationMultiplier: 1, stepDownMultiplier: 1),
                              AgeMultiplier(fromMonths: 120, escalationMultiplier: 12, stepDownMultiplier: 1)]
        let violations = StayCheck.firstViolations(arm: arm, schedule: PracticeSchedule(arm: arm))
        // Low escalates with 0.1 per step: 1.2 in the second band. Mid: 0.1·12 + 0.2 = 1.4. High has no red flow.
        #expect(violations.map(\.level) == ["Low", "Mid"])
        #expect(violations.map(\.step) == [1, 1])
        #expect(violations.map(\.escalationMultiplier) == [12, 12])
    }

    @Test("absorbing levels are not checked")
    func absorbingSkipped() throws {
        var arm = try Fixtures.scenario(ScenarioText.perStep).arms[0]
        arm.durationMultipliers[2] = [DurationMultiplier(fromMonths: 0, leaveMultiplier: 10)]
        #expect(StayCheck.firstViolations(arm: arm, schedule: PracticeSchedule(arm: arm)).map(\.level) == ["High"])
        arm.levels[2].absorbing = true
        #expect(StayCheck.firstViolations(arm: arm, schedule: PracticeSchedule(arm: arm)).isEmpty)
    }
}

@Suite("ExposureTiming: whether a step's own exposure acts in it")
struct ExposureTimingTests {
    /// With `beforeStep` the effect in step t uses C(t − 1) − C(e): a child present from
    /// step 0 has E = x·(t − 1)/12, so step 1 has no effect at all; with the default it has
    /// E = x·t/12. Constant intensity x = 0.6, τ = 0.5, a = 0.3, b = 0.4.
    @Test("beforeStep uses the exposure to the end of the previous step", arguments: [1, 2, 12, 24])
    func beforeStepByHand(step t: Int) throws {
        var arm = try armWithPractice(relational)
        #expect(arm.exposureTiming == .includingStep)
        arm.exposureTiming = .beforeStep
        let schedule = PracticeSchedule(arm: arm)
        let s = saturating(0.6, 0.6 * Double(t - 1) / 12, 0.5)
        let m = schedule.multipliers(step: t, mask: 1, entryStep: 0)
        #expect(abs(m.red - (1 - 0.3 * s)) < 1e-14, "red \(m.red)")
        #expect(abs(m.green - (1 + 0.4 * s)) < 1e-14, "green \(m.green)")
        // A child who entered at the end of step t − 1 has no exposure yet in step t.
        #expect(schedule.multipliers(step: t, mask: 1, entryStep: t - 1) == (red: 1, green: 1))
    }

    /// Step t under `beforeStep` is step t − 1 under the default, for every entry step before it.
    @Test func beforeStepIsTheDefaultOneStepLater() throws {
        let arm = try armWithPractice(relational + "\n" + community)
        var before = arm
        before.exposureTiming = .beforeStep
        let a = PracticeSchedule(arm: arm), b = PracticeSchedule(arm: before)
        for t in 2...24 {
            for mask in 0..<4 {
                for e in 0..<(t - 1) {
                    // Intensity is constant, so only the exposure differs.
                    #expect(b.multipliers(step: t, mask: mask, entryStep: e) == a.multipliers(step: t - 1, mask: mask, entryStep: e))
                }
            }
        }
    }

    /// The scenario field: absent gives the default; `beforeStep` in the base reaches every arm.
    @Test func scenarioField() throws {
        #expect(try Fixtures.scenario(ScenarioText.rates).arms.allSatisfy { $0.exposureTiming == .includingStep })
        let yaml = ScenarioText.rates.replacingOccurrences(of: "programme: {costPerYear: 50000}\narms:",
                                                           with: "programme: {costPerYear: 50000}\nexposureTiming: beforeStep\narms:")
        #expect(yaml != ScenarioText.rates)
        #expect(try Fixtures.scenario(yaml).arms.allSatisfy { $0.exposureTiming == .beforeStep })
    }
}
