import Testing
@testable import Model
import TestSupport
import Foundation

let probeBase = """
name: probe
time: {stepMonths: 1, horizonYears: 1}
levels:
  Low: {costPerChildYear: 100, qolWeight: 0.9}
  Mid: {costPerChildYear: 1000, qolWeight: 0.8}
  High: {costPerChildYear: 10000, qolWeight: 0.6}
population:
  initialCounts: {Low: 100, Mid: 20, High: 5}
transitions:
  unit: probabilitiesPerStep
  matrix:
    Low: {Low: 0.9, Mid: 0.1}
    Mid: {Low: 0.2, Mid: 0.7, High: 0.1}
    High: {Mid: 0.3}
"""

func dump(_ label: String, _ yaml: String) {
    var out = "=== \(label)\n"
    do { _ = try ScenarioDecoder.decode(yaml: yaml, file: "t.yaml"); out += "VALID\n" }
    catch { for i in error.issues { out += "line=\(i.line.map(String.init) ?? "nil") path=[\(i.path)] found=[\(i.found)] expected=[\(i.expected)]\n" } }
    FileHandle.standardError.write(out.data(using: .utf8)!)
}
func r(_ s: String, _ a: String, _ b: String) -> String { precondition(s.contains(a), a); return s.replacingOccurrences(of: a, with: b) }

@Test func probe() {
    let s = Fixtures.smallScenario
    dump("small", s)
    dump("rowsum", r(probeBase, "Mid: 0.7", "Mid: 0.6"))
    dump("row1e-10", r(probeBase, "Mid: 0.7", "Mid: 0.7000000001"))
    dump("prob>1", r(probeBase, "High: {Mid: 0.3}", "High: {Mid: 1.5}"))
    dump("prob<0", r(probeBase, "High: {Mid: 0.3}", "High: {Mid: -0.1}"))
    dump("ratesum", r(s, "Low: {Mid: 0.1, High: 0.01}", "Low: {Low: -0.2, Mid: 0.1, High: 0.01}"))
    dump("rateneg", r(s, "Low: {Mid: 0.1, High: 0.01}", "Low: {Mid: -0.1, High: 0.01}"))
    dump("ratediagpos", r(s, "Low: {Mid: 0.1, High: 0.01}", "Low: {Low: 0.5, Mid: 0.1, High: 0.01}"))
    dump("unkrow", r(s, "    High: {Low: 0.05, Mid: 0.3}", "    High: {Low: 0.05, Mid: 0.3}\n    Top: {Low: 0.1}"))
    dump("unkcol", r(s, "Low: {Mid: 0.1, High: 0.01}", "Low: {Mid: 0.1, Hgh: 0.01}"))
    dump("unkinit", r(s, "north: {Low: 300, Mid: 60, High: 20}", "north: {Low: 300, Mid: 60, Hi: 20}"))
    dump("unkentry", r(s, "entryLevels: {Low: 0.9, Mid: 0.1}", "entryLevels: {Low: 0.9, Middle: 0.1}"))
    dump("unkdur", r(s, "  unit: ratesPerYear", "  unit: ratesPerYear\n  durationDependence:\n    Top: [{fromMonths: 0, leaveMultiplier: 1}]"))
    dump("unkarea-init", r(s, "south: {Low: 200, Mid: 40, High: 10}", "east: {Low: 200, Mid: 40, High: 10}"))
    dump("unkarea-births", r(s, "perYear: {north: 30, south: 20}", "perYear: {north: 30, west: 20}"))
    dump("unkarea-cov", r(s, "areas: [north]", "areas: [nowhere]"))
    dump("unk-top", r(s, "areas: [north, south]", "areas: [north, south]\ntransition: 3"))
    dump("unk-level", r(s, "Mid: {costPerChildYear: 1000, qolWeight: 0.8}", "Mid: {costPerChildYear: 1000, qolWieght: 0.8}"))
    dump("unk-practice", r(s, "        escalationEffect: 0.3", "        escalationEfect: 0.3"))
    dump("unk-armtop", r(s, "  baseline: {}", "  baseline: {transition: 1}"))
    dump("negcount", r(s, "Mid: 40", "Mid: -40"))
    dump("miss-levels", r(probeBase, """
levels:
  Low: {costPerChildYear: 100, qolWeight: 0.9}
  Mid: {costPerChildYear: 1000, qolWeight: 0.8}
  High: {costPerChildYear: 10000, qolWeight: 0.6}

""", ""))
    dump("miss-cost", r(s, "Mid: {costPerChildYear: 1000, qolWeight: 0.8}", "Mid: {qolWeight: 0.8}"))
    dump("miss-qol", r(s, "Mid: {costPerChildYear: 1000, qolWeight: 0.8}", "Mid: {costPerChildYear: 1000}"))
    dump("miss-unit", r(s, "  unit: ratesPerYear\n", ""))
    dump("miss-matrix", r(probeBase, "  matrix:\n    Low: {Low: 0.9, Mid: 0.1}\n    Mid: {Low: 0.2, Mid: 0.7, High: 0.1}\n    High: {Mid: 0.3}", ""))
    dump("miss-row", r(probeBase, "\n    High: {Mid: 0.3}", ""))
    dump("miss-esc", r(s, "        escalationEffect: 0.3\n", ""))
    dump("absorb", r(r(probeBase, "High: {costPerChildYear: 10000, qolWeight: 0.6}", "High: {costPerChildYear: 10000, qolWeight: 0.6, absorbing: true}"), "High: {Mid: 0.3}", "High: {Mid: 0.1}"))
    dump("shares", r(s, "entryLevels: {Low: 0.9, Mid: 0.1}", "entryLevels: {Low: 0.5, Mid: 0.4}"))
    dump("horizon", r(s, "time: {stepMonths: 1, horizonYears: 2}", "time: {stepMonths: 5, horizonYears: 1}"))
    dump("armlevels", r(s, "  baseline: {}", "  baseline: {}\n  bigger:\n    levels: {Top: {costPerChildYear: 5, qolWeight: 0.5}}\n    transitions: {matrix: {Top: {Low: 0.1}}}"))
    dump("yearly-neg-eig", """
levels:
  A: {costPerChildYear: 1, qolWeight: 1}
  B: {costPerChildYear: 1, qolWeight: 1}
population: {initialCounts: {A: 1, B: 1}}
transitions:
  unit: probabilitiesPerYear
  matrix:
    A: {A: 0.1, B: 0.9}
    B: {A: 0.9, B: 0.1}
""")
    dump("yearly-negentry", """
levels:
  A: {costPerChildYear: 1, qolWeight: 1}
  B: {costPerChildYear: 1, qolWeight: 1}
  C: {costPerChildYear: 1, qolWeight: 1, absorbing: true}
population: {initialCounts: {A: 1, B: 1}}
transitions:
  unit: probabilitiesPerYear
  matrix:
    A: {A: 0.5, B: 0.5}
    B: {B: 0.5, C: 0.5}
""")
    dump("stay", probeBase.replacingOccurrences(of: "horizonYears: 1", with: "horizonYears: 2") + """

arms:
  base: {}
  wm2u:
    practice:
      relational: {intensity: 1, escalationEffect: 0, stepDownEffect: 4, timeToEffectYears: 1}
""")
    dump("dupkey", r(s, "  High: {costPerChildYear: 10000, qolWeight: 0.6}", "  High: {costPerChildYear: 10000, qolWeight: 0.6}\n  High: {costPerChildYear: 1, qolWeight: 0.6}"))
    dump("badyaml", "a: [1, 2\nb: 3")
    dump("empty", "")
    dump("null-remove-cost", r(s, "  baseline: {}", "  baseline: {levels: {Mid: {costPerChildYear: null}}}"))
    dump("arm-override-esc", r(s, "    programme: {costPerYear: 50000}", "    programme: {costPerYear: 50000}\n  wm2u: {practice: {relational: {escalationEffect: 1.5}}}"))
    dump("empty-arms", r(s, "arms:\n  baseline: {}", "arms:\n  baseline: ~"))
}
