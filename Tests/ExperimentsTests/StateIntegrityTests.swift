import Analysis
import Experiments
import Foundation
import Model
import Reports
import Testing
import TestSupport

/// `state.bin` proves itself: damage is caught by its SHA-256, and a file
/// that is intact but inconsistent (edited and re-signed, or written by a
/// bug) is refused by the checks after decoding. Nothing here may trap.
@Suite("state.bin integrity")
struct StateIntegrityTests {
    static let minimalPath = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("experiments/examples/minimal.yaml").path

    /// A real run (or shard) of `text`, as `girfec run` stores it.
    static func state(_ text: String, file: String, seed: UInt64 = 4, replications: Int = 6, shard: Shard = .whole) throws -> RunState {
        let scenario = try Fixtures.scenario(text, file: file)
        let result = try Runner.run(RunPlan(scenario: scenario, seed: seed, replications: replications, shard: shard, threads: 2))
        var state = RunState(scenarioFileName: file, scenarioText: text, seed: seed, replications: replications,
                             commonRandomNumbers: true, covered: [result.covered], aggregator: result.aggregator,
                             rows: result.rows, childSteps: result.childSteps, wallSeconds: result.wallSeconds)
        state.setShard(shard)
        return state
    }

    /// The minimal example cut to one yearly step: a state file of about 9 kB, so that
    /// thousands of damaged copies can be checked in seconds (SHA-256 runs at about
    /// 1 MB/s in a debug build). What the bytes hold does not matter to the checksum.
    static func minimal(replications: Int = 1) throws -> RunState {
        let text = try String(contentsOfFile: minimalPath, encoding: .utf8)
            .replacingOccurrences(of: "stepMonths: 1 ", with: "stepMonths: 12 ")
            .replacingOccurrences(of: "horizonYears: 2 ", with: "horizonYears: 1 ")
        return try state(text, file: "minimal.yaml", replications: replications)
    }

    /// The test fixture's two arms and three levels over one yearly step, 6 replications (about 230 kB).
    static let smallText = Fixtures.smallScenario.replacingOccurrences(of: "time: {stepMonths: 1, horizonYears: 2}",
                                                                      with: "time: {stepMonths: 12, horizonYears: 1}")

    static func small(seed: UInt64 = 4, shard: Shard = .whole) throws -> RunState {
        try state(smallText, file: "small.yaml", seed: seed, shard: shard)
    }

    /// The message `decode` refuses `bytes` with; nil if it accepts them.
    static func refusal(_ bytes: [UInt8], source: String = "x/state.bin") -> String? {
        do { _ = try RunState.decode(bytes, source: source); return nil } catch { return error.description }
    }

    /// The bytes with their trailing SHA-256 recomputed, as a careful forger (or a bug) would write them.
    static func resigned(_ bytes: [UInt8]) -> [UInt8] {
        let body = Array(bytes.dropLast(32))
        return body + SHA256.digest(body)
    }

    // MARK: Damage

    @Test func everyFlippedByteIsRefusedByTheChecksum() throws {
        let bytes = try Self.minimal().encoded()
        #expect(Self.refusal(bytes) == nil, "the intact file is refused: \(Self.refusal(bytes) ?? "")")
        #expect(try RunState.decode(bytes, source: "x").encoded() == bytes, "a decoded state re-encodes to other bytes")
        #expect(try RunState.decode(Self.minimal(replications: 3).encoded(), source: "x").rows.count == 3)
        // Every byte of the header and the checksum, and every 11th byte between (11 is prime
        // to the 4- and 8-byte fields, so every byte position within a field is hit).
        let positions = Array(0..<256) + Array(stride(from: 256, to: bytes.count - 64, by: 11)) + Array(bytes.count - 64..<bytes.count)
        var accepted: [Int] = [], otherMessage: [Int: String] = [:]
        for i in positions {
            var damaged = bytes
            damaged[i] ^= 0xFF
            guard let message = Self.refusal(damaged) else { accepted.append(i); continue }
            if !message.hasPrefix("x/state.bin: checksum mismatch: the file was changed or damaged after girfec wrote it; re-run that shard") {
                otherMessage[i] = message
            }
        }
        #expect(accepted.isEmpty, "\(accepted.count) damaged files accepted, first at byte \(accepted.first ?? -1)")
        #expect(otherMessage.isEmpty, "\(otherMessage.count) flips gave another message, e.g. \(otherMessage.first.map { "byte \($0.key): \($0.value)" } ?? "")")
        print("flipped \(positions.count) of \(bytes.count) bytes: all refused by the checksum")
    }

    @Test func everyTruncationIsRefused() throws {
        let bytes = try Self.minimal().encoded()
        // Every length up to 256 bytes and in the last 64, and every 9th between.
        let lengths = Array(0..<256) + Array(stride(from: 256, to: bytes.count - 64, by: 9)) + Array(bytes.count - 64..<bytes.count)
        var accepted: [Int] = [], unclear: [Int: String] = [:]
        for n in lengths {
            guard let message = Self.refusal(Array(bytes.prefix(n))) else { accepted.append(n); continue }
            if !(message.contains("checksum mismatch") || message.contains("cut short")) { unclear[n] = message }
        }
        #expect(accepted.isEmpty, "truncations accepted at lengths \(accepted.prefix(5))")
        #expect(unclear.isEmpty, "unclear messages: \(unclear.first.map { "\($0.key) bytes: \($0.value)" } ?? "")")
        #expect(Self.refusal(Array(bytes.prefix(bytes.count - 1)))?.contains("header says \(bytes.count)") == true)
        #expect(Self.refusal([])?.contains("it is 0 bytes, shorter than any state file") == true)
        #expect(Self.refusal(bytes + [0])?.contains("checksum mismatch") == true)
    }

    @Test func anOlderOrNewerFormatIsNamed() throws {
        // Format 4 began like this and had no checksum.
        var old = Array("GIRFECST".utf8) + [4, 0, 0, 0]
        old += [5, 0, 0, 0, 0, 0, 0, 0] + Array("0.9.1".utf8) + Array(repeating: 0, count: 200)
        #expect(Self.refusal(old) == "x/state.bin: written in state format 4 by girfec 0.9.1, but this girfec reads only format 8: re-run that shard with this girfec (or merge it with the girfec that wrote it)")
        // Format 7 recorded flows for every pair of levels and had no quantity groups.
        var previous = try Self.small().encoded()
        previous[8] = 7
        #expect(Self.refusal(Self.resigned(previous))?.contains("written in state format 7, but this girfec reads only format 8") == true)
        var newer = try Self.small().encoded()
        newer[8] = 9
        #expect(Self.refusal(Self.resigned(newer))?.contains("written in state format 9, but this girfec reads only format 8") == true)
    }

    // MARK: Intact but inconsistent (edited and re-signed, or a bug)

    @Test func aShardCannotClaimToBeCompleteWithoutItsRows() throws {
        var s = try Self.small(shard: Shard(index: 1, count: 3))  // replications 0 and 1 of 6
        s.setShard(.whole)
        s.covered = [0..<6]
        #expect(s.isComplete)
        let message = try #require(Self.refusal(s.encoded()))
        #expect(message.contains("it holds 4 replication rows, but 6 covered replications × 2 arms need 12"), "\(message)")
        #expect(message.contains("no statistic counts all 6 covered replications (at most 2)"), "\(message)")
        #expect(message.hasSuffix("It was not written like this by girfec; re-run that shard"))
    }

    @Test func aShardMustCoverExactlyItsReplications() throws {
        var s = try Self.small(shard: Shard(index: 2, count: 3))  // replications 2 and 3
        s.shards = [1]
        #expect(Self.refusal(s.encoded())?.contains("it covers replications 2..<4, but shard 1/3 of 6 replications covers 0..<2") == true)
        s.shards = [2]
        s.covered = [2..<5]
        #expect(Self.refusal(s.encoded())?.contains("it covers replications 2..<5, but shard 2/3 of 6 replications covers 2..<4") == true)
        s.covered = [3..<2 + 2, 2..<3]
        #expect(Self.refusal(s.encoded())?.contains("are not ascending, disjoint, non-empty ranges") == true)
        s.covered = [2..<4]
        s.shardCount = 7
        #expect(Self.refusal(s.encoded())?.contains("its shard count M = 7 is outside 1 ... 6") == true)
        s.shardCount = 3
        s.shards = [3, 2]
        #expect(Self.refusal(s.encoded())?.contains("its shard list 3, 2 is not ascending") == true)
    }

    @Test func rowsStatisticsAndHeaderMustAgree() throws {
        let good = try Self.small(shard: Shard(index: 2, count: 3))
        var s = good
        s.rows.swapAt(0, 2)
        #expect(Self.refusal(s.encoded())?.contains("its replication rows are not one per covered replication and arm in order") == true)
        s = good
        s.rows[1].totals.finalStocks.removeLast()
        #expect(Self.refusal(s.encoded())?.contains("replication 2 arm 1 has 2 final stocks for the scenario's 3 levels") == true)
        s = good
        s.rows[3].draw = 5
        #expect(Self.refusal(s.encoded())?.contains("replication 3 arm 1 says parameter draw 5, but replication 3 uses draw 0") == true)
        // A histogram whose bins no longer add up to its count.
        s = good
        var cells = s.aggregator.cells
        let i = try #require(cells.firstIndex { !$0.quantiles.bins.isEmpty })
        var bins = cells[i].quantiles.bins
        bins[0] += 1
        let q = cells[i].quantiles
        cells[i] = Cell(moments: cells[i].moments, quantiles: BinnedQuantiles(
            minimumExponent: q.minimumExponent, count: q.count, minimum: q.minimum, maximum: q.maximum,
            exponent: q.exponent, offset: q.offset, bins: bins))
        s.aggregator = Aggregator(arms: s.aggregator.arms, steps: s.aggregator.steps, integerSlots: s.aggregator.integerSlots, cells: cells)
        #expect(Self.refusal(s.encoded())?.contains("its histogram's bins do not add up to its count") == true)
        // The statistics of another layout.
        s = good
        s.aggregator = Aggregator(arms: 2, steps: 3, integerSlots: good.aggregator.integerSlots)
        #expect(Self.refusal(s.encoded()) != nil)
        // The header's scenario hash must be the scenario's.
        var bytes = good.encoded()
        bytes[20] ^= 1
        #expect(Self.refusal(Self.resigned(bytes))?.contains("its scenario text does not match the scenario SHA-256 in its header") == true)
        // Not UTF-8 where a string is due: the girfec version, the body's first field, after a
        // 116-byte header (one shard, one range; docs/outputs.md) and its 8-byte length.
        bytes = good.encoded()
        bytes[124] = 0xFF
        #expect(Self.refusal(Self.resigned(bytes))?.contains("its girfec version or scenario file name is cut short or not UTF-8") == true)
    }

    // MARK: Merging

    @Test func mergeRefusesDuplicatedOverlappingAndForeignShards() throws {
        let parts = try (1...3).map { k in try Self.small(shard: Shard(index: k, count: 3)) }
        func decoded(_ s: RunState, _ name: String) throws -> (source: String, state: RunState) {
            (name, try RunState.decode(s.encoded(), source: name))
        }
        // Duplicated: the same shard twice.
        #expect(throws: RunState.MergeError.self) { try RunState.merge([try decoded(parts[0], "a"), try decoded(parts[0], "b")]) }
        do { _ = try RunState.merge([try decoded(parts[0], "a"), try decoded(parts[0], "b")]) } catch {
            #expect("\(error)" == "b repeats replications 0..<2 (shard 1/3), already covered by a: each shard may be merged once")
        }
        // Overlapping: a partial merge of shards 1 and 2, then shard 2 again.
        let partial = try RunState.merge([try decoded(parts[0], "a"), try decoded(parts[1], "b")])
        #expect(partial.shards == [1, 2] && partial.covered == [0..<4] && !partial.isComplete)
        #expect(partial.missingShards == ["3"])
        let partialAgain = try decoded(partial, "ab")  // a merged state is a valid state file too
        do { _ = try RunState.merge([partialAgain, try decoded(parts[1], "c")]) ; Issue.record("overlap accepted") } catch {
            #expect("\(error)".contains("c repeats replications 2..<4 (shard 2/3), already covered by ab"))
        }
        // Foreign: another seed, another scenario text; every problem of every part at once.
        let otherSeed = try Self.small(seed: 5, shard: Shard(index: 2, count: 3))
        var otherText = try Self.small(shard: Shard(index: 3, count: 3))
        otherText.scenarioText += "\n# edited\n"
        do {
            _ = try RunState.merge([try decoded(parts[0], "a"), try decoded(otherSeed, "b"), try decoded(otherText, "c"), try decoded(parts[0], "d")])
            Issue.record("foreign shards accepted")
        } catch {
            let lines = "\(error)".split(separator: "\n").map(String.init)
            #expect(lines.count == 3, "\(error)")
            #expect(lines.contains("b is not a shard of the same run as a: seed 5 differs from a's 4"))
            #expect(lines.contains { $0.hasPrefix("c is not a shard of the same run as a: scenario SHA-256 ") })
            #expect(lines.contains("d repeats replications 0..<2 (shard 1/3), already covered by a: each shard may be merged once"))
        }
        // All three, in any order, give the unsharded run's tables.
        let whole = try Self.small()
        let scenario = try Fixtures.scenario(Self.smallText, file: "small.yaml")
        for order in [[2, 0, 1], [1, 2, 0]] {
            let merged = try RunState.merge(try order.map { try decoded(parts[$0], "s\($0)") })
            #expect(merged.isComplete && merged.shards == [1, 2, 3])
            #expect(Tables.bands(scenario: scenario, bands: RunResults(state: merged, scenario: scenario).bands)
                    == Tables.bands(scenario: scenario, bands: RunResults(state: whole, scenario: scenario).bands))
            #expect(Tables.replications(scenario: scenario, rows: merged.rows) == Tables.replications(scenario: scenario, rows: whole.rows))
            #expect(Self.refusal(merged.encoded()) == nil)
        }
    }

    @Test func oneReplicationAloneIsShardIPlusOneOfN() throws {
        let text = Self.smallText
        let scenario = try Fixtures.scenario(text, file: "small.yaml")
        var plan = RunPlan(scenario: scenario, seed: 4, replications: 6, threads: 1)
        plan.onlyReplication = 3
        let r = try Runner.run(plan)
        var s = RunState(scenarioFileName: "small.yaml", scenarioText: text, seed: 4, replications: 6, commonRandomNumbers: true,
                         covered: [r.covered], aggregator: r.aggregator, rows: r.rows, childSteps: r.childSteps, wallSeconds: 0)
        s.setShard(Shard(index: 4, count: 6))
        #expect(Self.refusal(s.encoded()) == nil)
    }
}
