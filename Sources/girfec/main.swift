import Foundation
import Model
import Microsimulation
let s = try ScenarioDecoder.load(path: CommandLine.arguments[1])
for arm in s.arms {
  let tables = ArmTables(arm: arm)
  let pop = Population()
  let t0 = Date()
  var steps = 0
  for r in 0..<5 { let o = try Engine.run(tables: tables, seed: 1, replication: UInt32(r), population: pop); steps += o.totals.childSteps; if r == 0 { print(arm.name, o.totals) } }
  let dt = Date().timeIntervalSince(t0)
  print(arm.name, Double(steps)/dt/1e6, "M child-steps/s")
}
