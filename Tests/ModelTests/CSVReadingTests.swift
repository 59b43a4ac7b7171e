import Model
import Testing

/// `CSV.records`, the one CSV reader (calibration data files; draws files).
@Suite("CSV reading")
struct CSVReadingTests {
    @Test func cellsWrittenByCSVTextReadBackUnchanged() {
        let awkward = ["plain", "a, comma", "a \"quote\"", "two\nlines", "cr\r\nlf", " spaced ", ""]
        let text = CSV.row(["name", "value"].map(CSV.text)) + awkward.map { CSV.row([CSV.text($0), "1"]) }.joined()
        let (records, unclosed) = CSV.records(text)
        #expect(unclosed == nil)
        // Unquoted cells are trimmed, so " spaced " reads as "spaced", and a CRLF inside quotes reads
        // as LF (line ends are normalised); every other cell comes back as written.
        let read = ["plain", "a, comma", "a \"quote\"", "two\nlines", "cr\nlf", "spaced", ""]
        let expected = [["name", "value"]] + read.map { [$0, "1"] }
        #expect(records.map(\.cells) == expected)
    }

    @Test func recordsKnowTheLineTheyStartOn() {
        // BOM skipped; blank line skipped but counted; a quoted line break moves later lines down.
        let text = "\u{FEFF}a,b\r\n\r\n1,\"x\ny\"\n2,3\n"
        let (records, _) = CSV.records(text)
        #expect(records.map(\.line) == [1, 3, 5])
        #expect(records.map(\.cells) == [["a", "b"], ["1", "x\ny"], ["2", "3"]])
    }

    @Test func aLoneCarriageReturnIsALineOnlyInAFileWithoutLineFeeds() {
        #expect(CSV.records("a\rb\rc").records.map(\.line) == [1, 2, 3])
        // In an LF file a stray CR is neither a line end (editors and `grep -n` do not see one) nor a
        // record end: a character of its cell, trimmed at an unquoted cell's ends, kept in quotes.
        let stray = CSV.records("a\rb,x\r\n\rc\r,\"d\re\"\n").records
        #expect(stray.map(\.line) == [1, 2])
        #expect(stray.map(\.cells) == [["a\rb", "x"], ["c", "d\re"]])
    }

    @Test func anUnclosedQuoteIsReportedWithItsLine() {
        let (records, unclosed) = CSV.records("a,b\n1,2\n3,\"never closed\n4,5\n")
        #expect(unclosed == 3)
        #expect(records.map(\.cells) == [["a", "b"], ["1", "2"]])
    }
}
