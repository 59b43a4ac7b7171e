import Foundation
import Interchange
import Model
import StockFlow
import Testing
import TestSupport

@Suite("XMILE import into a scenario")
struct XMILEImportTests {
    /// Four levels, duration dependence, costs, a programme; closed, no practice.
    static let closed = """
    name: round trip
    time: {stepMonths: 1, horizonYears: 4}
    levels:
      Universal: {costPerChildYear: 300, qolWeight: 0.85}
      Additional: {costPerChildYear: 2000, qolWeight: 0.8}
      Intensive: {costPerChildYear: 19000, qolWeight: 0.7}
      Compulsory: {costPerChildYear: 63000, qolWeight: 0.6}
    population:
      initialCounts: {Universal: 19240, Additional: 3600, Intensive: 720, Compulsory: 440}
      ageing: false
    transitions:
      unit: ratesPerYear
      matrix:
        Universal:  {Additional: 0.045, Intensive: 0.004, Compulsory: 0.0005}
        Additional: {Universal: 0.25, Intensive: 0.04, Compulsory: 0.005}
        Intensive:  {Universal: 0.05, Additional: 0.30, Compulsory: 0.16}
        Compulsory: {Universal: 0.02, Additional: 0.04, Intensive: 0.18}
      durationDependence:
        Compulsory:
          - {fromMonths: 0, leaveMultiplier: 1.5}
          - {fromMonths: 6, leaveMultiplier: 0.8}
    discounting: {costRatePerYear: 0.03, qolRatePerYear: 0.015}
    programme: {costPerYear: 250000}
    rewardTiming: start
    """

    /// export → import → validate → the same sd-mode numbers: every level stock and the cumulative
    /// discounted cost and QoL at every step, to 1e-9 relative (measured about 1e-15), with Euler and RK4.
    @Test(arguments: [IntegrationMethod.euler, .rk4])
    func roundTrip(method: IntegrationMethod) throws {
        let original = try Fixtures.scenario(Self.closed).arms[0]
        let xml = try XMILEExport.document(arm: original, scenarioName: "round trip")
        let imported = try XMILEImport.scenario(xml: xml, file: "rt.xmile")
        let again = try Fixtures.scenario(imported.yaml).arms[0]
        #expect(again.levels.map(\.name) == original.levels.map(\.name))
        #expect(again.initialCounts == original.initialCounts)
        let options = AggregateOptions(mode: .sd, method: method)
        let a = try AggregateModel.run(arm: original, options: options), b = try AggregateModel.run(arm: again, options: options)
        let layout = RecordLayout(arm: original)
        var worst = 0.0
        for t in 0...original.steps {
            var slots = (0..<4).map { layout.slot(.stock, level: $0) }
            if t > 0 { slots += [layout.slot(.cumulativeCostDiscounted, level: nil), layout.slot(.cumulativeQolYearsDiscounted, level: nil)] }
            for slot in slots {
                let x = a.record[layout.index(step: t, slot: slot)], y = b.record[layout.index(step: t, slot: slot)]
                worst = max(worst, abs(x - y) / abs(x))
            }
        }
        #expect(worst < 1e-9, "largest relative difference \(worst)")
        #expect(imported.notes.contains { $0.hasPrefix("not levels: cumulative_cost,") })
    }

    /// girfec's arrayed export (an arm with ageing and births) is refused with one problem that names
    /// the arrays and the way back, not one per arrayed variable.
    @Test func girfecsArrayedExportIsRefusedWithOneProblem() throws {
        let text = Self.closed.replacingOccurrences(of: "  ageing: false", with: "  ageing: true\n  births: {perYear: 100}")
        let arm = try Fixtures.scenario(text).arms[0]
        let xml = try XMILEExport.document(arm: arm, scenarioName: "arrayed")
        do {
            _ = try XMILEImport.scenario(xml: xml, file: "arrayed.xmile")
            Issue.record("imported an arrayed model")
        } catch {
            #expect(error.problems.count == 1)
            let message = error.problems.first?.description ?? ""
            #expect(message.hasPrefix("<dimensions> (line "))
            #expect(message.contains("arrayed variables over cohort ("))
            #expect(message.contains("this is girfec's export of an arm with ageing, births, migration or exposureTiming: includingStep"))
            #expect(message.hasSuffix("use the scenario it was exported from"))
        }
    }

    /// A Stella-style model that fits: names with spaces, an outflow as stock / residence time,
    /// rates per month, DT of one month.
    @Test func stellaStyleModelFits() throws {
        let xml = """
        <?xml version="1.0" encoding="utf-8"?>
        <xmile version="1.0" xmlns="http://docs.oasis-open.org/xmile/ns/XMILE/v1.0" xmlns:isee="http://iseesystems.com/XMILE">
          <header><name>Care</name><vendor>isee systems, inc.</vendor><product version="3.0">Stella Architect</product></header>
          <sim_specs method="Euler" time_units="Months"><start>0</start><stop>24</stop><dt>1</dt></sim_specs>
          <model>
            <variables>
              <stock name="In Care"><eqn>100</eqn><outflow>leaving_care</outflow><inflow>entering_care</inflow></stock>
              <stock name="At Home"><eqn>900</eqn><inflow>leaving_care</inflow><outflow>entering_care</outflow><non_negative/></stock>
              <flow name="leaving care"><eqn>In_Care / "average stay"</eqn></flow>
              <flow name="entering care"><eqn>At_Home * 0.01 * 0.5</eqn></flow>
              <aux name="average stay"><eqn>20</eqn><units>months</units></aux>
              <!-- a comment -->
            </variables>
          </model>
        </xmile>
        """
        let result = try XMILEImport.scenario(xml: xml, file: "care.stmx")
        let arm = try Fixtures.scenario(result.yaml).arms[0]
        #expect(arm.levels.map(\.name) == ["In Care", "At Home"])
        #expect(arm.stepMonths == 1 && arm.steps == 24)
        #expect(arm.initialCounts == [[100, 900]])
        // Rates per month × 12: 12/20 out of care, 12 · 0.01 · 0.5 into care (to rounding).
        func rate(_ row: String) -> Double? {
            guard let line = result.yaml.split(separator: "\n").first(where: { $0.hasPrefix("    \"\(row)\": {") }),
                  let colon = line.split(separator: ":").last else { return nil }
            return Double(colon.trimmingCharacters(in: CharacterSet(charactersIn: " }")))
        }
        #expect(abs((rate("In Care") ?? 0) - 0.6) < 1e-15, "\(result.yaml)")
        #expect(abs((rate("At Home") ?? 0) - 0.06) < 1e-15, "\(result.yaml)")
        #expect(result.notes.contains { $0.contains("<non_negative/> dropped") })
    }

    /// What does not fit, every problem at once, each naming the element, its line and what was expected.
    @Test func whatDoesNotFit() {
        let xml = """
        <xmile version="1.0" xmlns="http://docs.oasis-open.org/xmile/ns/XMILE/v1.0">
          <sim_specs time_units="years"><start>0</start><stop>5</stop><dt>0.1</dt></sim_specs>
          <model>
            <variables>
              <stock name="A"><eqn>10.5</eqn><inflow>births</inflow><outflow>a_to_b</outflow><outflow>c_to_d</outflow></stock>
              <stock name="B"><eqn>5</eqn><inflow>a_to_b</inflow><inflow>c_to_d</inflow></stock>
              <flow name="births"><eqn>3</eqn></flow>
              <flow name="a to b"><eqn>A * seasonal</eqn></flow>
              <flow name="c to d"><eqn>A * B / 100</eqn></flow>
              <aux name="seasonal"><eqn>TIME</eqn><gf><xpts>0,1</xpts><ypts>0.1,0.2</ypts></gf></aux>
            </variables>
          </model>
        </xmile>
        """
        do {
            _ = try XMILEImport.scenario(xml: xml, file: "bad.xmile")
            Issue.record("imported a model that does not fit")
        } catch {
            #expect(error.problems.map(\.element) == [
                "<dt> (line 2)", #"<stock name="A"> (line 5)"#, #"<flow name="births"> (line 7)"#,
                #"<flow name="a to b"> (line 8)"#, #"<flow name="c to d"> (line 9)"#,
            ])
            #expect(error.problems[0].expected.hasPrefix("a DT of whole months"))
            #expect(error.problems[1].found == "initial value 10.5")
            #expect(error.problems[2].found == "an inflow from outside the model (such as births)")
            #expect(error.problems[3].found == "'A * seasonal' ('seasonal' is a table (graphical function): girfec's baseline rates are constant in time)")
            #expect(error.problems[4].found == "'A * B / 100' ('b' is not a constant auxiliary (a stock, a flow or unknown))")
            #expect(error.problems[4].expected == "A times or divided by constants: a constant rate per year")
        }
    }

    /// Malformed XML names the line and what was expected.
    @Test func malformedXML() {
        do {
            _ = try XMILEImport.scenario(xml: "<xmile>\n<model>\n</xmile>", file: "broken.xmile")
            Issue.record("read malformed XML")
        } catch {
            #expect(error.description == "broken.xmile does not fit a girfec scenario:\n  - line 3: found </xmile>; expected </model> (opened on line 2)")
        }
    }

    /// Nesting beyond `XMLReader.maximumDepth` is refused with the line, not read by a recursion
    /// that would exhaust the stack (a fuzz finding: 200,000 nested elements crashed girfec import).
    @Test func deepNestingIsRefused() {
        let depth = 100_000
        let xml = "<xmile>" + String(repeating: "<a>", count: depth) + String(repeating: "</a>", count: depth) + "</xmile>"
        do {
            _ = try XMILEImport.scenario(xml: xml, file: "deep.xmile")
            Issue.record("read 100,000 nested elements")
        } catch {
            #expect(error.description == "deep.xmile does not fit a girfec scenario:\n  - line 1: found elements nested more than 256 deep; expected an XMILE document (a few levels deep)")
        }
    }
}
