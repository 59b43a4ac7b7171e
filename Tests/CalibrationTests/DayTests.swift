import Calibration
import Testing

@Suite("Calendar days")
struct DayTests {
    @Test func parsesPrintsAndCounts() throws {
        let d = try #require(Day(iso: "2024-07-31"))
        #expect(d.description == "2024-07-31")
        #expect(Day(iso: "1970-01-01")?.daysSinceEpoch == 0)
        #expect(Day(iso: "2000-03-01")!.daysSinceEpoch - Day(iso: "2000-02-28")!.daysSinceEpoch == 2, "2000 is a leap year")
        #expect(Day(iso: "1900-03-01")!.daysSinceEpoch - Day(iso: "1900-02-28")!.daysSinceEpoch == 1, "1900 is not")
        #expect(Day(iso: "2023-02-29") == nil && Day(iso: "2023-13-01") == nil && Day(iso: "31/07/2024") == nil)
        for n in stride(from: -700_000, through: 2_900_000, by: 9_973) {  // years 0053 to 9909
            #expect(Day(iso: Day(daysSinceEpoch: n).description)?.daysSinceEpoch == n)
        }
        #expect(abs(Day(iso: "2025-07-31")!.years(since: d) - 365.0 / 365.25) < 1e-12)
    }
}
