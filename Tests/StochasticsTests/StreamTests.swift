import CGSL
import Foundation
import Stochastics
import Synchronization
import Testing

@Suite("Addressed random streams")
struct StreamTests {
    /// 10^6 stream ids over (replication, purpose, arm lane, index) under one seed:
    /// every first block differs, so no two streams share a block.
    @Test func millionStreamsAreDistinct() {
        var seen = Set<UInt64>()
        seen.reserveCapacity(1_000_000)
        var ids = 0
        let purposes: [RandomPurpose] = [.initialChild, .births, .enteringChild, .childStep]
        for replication in UInt32(0)..<5_000 {
            for purpose in purposes {
                for index in UInt32(0)..<50 {
                    let a = StreamAddress(seed: 42, replication: replication, purpose: purpose, index: index)
                    let b = Philox.block(a, position: 0)
                    // 64 of the 128 output bits: a collision here would be a shared block (probability ~3e-8 by chance).
                    seen.insert(UInt64(b.0) << 32 | UInt64(b.1))
                    ids += 1
                }
            }
        }
        #expect(ids == 1_000_000)
        #expect(seen.count == ids, "\(ids - seen.count) of \(ids) streams share their first block")
    }

    /// Seeds that agree in their low 32 bits give different streams (MT19937 and
    /// ranlxd would not tell them apart), and so do the two arm lanes.
    @Test func seedsDifferInAllSixtyFourBits() {
        let a = StreamAddress(seed: 1, replication: 0, purpose: .childStep, index: 0)
        let b = StreamAddress(seed: 1 + (1 << 32), replication: 0, purpose: .childStep, index: 0)
        #expect(Philox.block(a, position: 0) != Philox.block(b, position: 0))
        var c = a
        c.armLane = 1
        #expect(Philox.block(a, position: 0) != Philox.block(c, position: 0))
    }

    /// The reason for addressed streams: GSL's MT19937 reduces seeds to 32 bits.
    @Test func mt19937SeedsCollideModulo2To32() {
        let r1 = gsl_rng_alloc(girfec_rng_mt19937())!, r2 = gsl_rng_alloc(girfec_rng_mt19937())!
        defer { gsl_rng_free(r1); gsl_rng_free(r2) }
        gsl_rng_set(r1, 7)
        gsl_rng_set(r2, 7 + (1 << 32))
        let same = (0..<100).allSatisfy { _ in gsl_rng_get(r1) == gsl_rng_get(r2) }
        #expect(same)
    }

    /// The hot path (pure Philox) and the GSL generator interface give the same words.
    @Test func gslInterfaceMatchesPureFunction() {
        let address = StreamAddress(seed: 99, replication: 3, purpose: .enteringChild, index: 17)
        let stream = RandomStream(address, position: 5)
        for position in UInt32(5)..<9 {
            let b = Philox.block(address, position: position)
            #expect([stream.nextWord(), stream.nextWord(), stream.nextWord(), stream.nextWord()] == [b.0, b.1, b.2, b.3])
        }
    }

    /// Random123's published known-answer vector for Philox4x32-10 (kat_vectors):
    /// counter and key all 0xffffffff... is checked by the library's own tests; here the
    /// all-zero vector: philox4x32 10 rounds, ctr 0, key 0 → 6627e8d5 e169c58d bc57ac4c 9b00dbd8.
    @Test func philoxKnownAnswer() {
        let b = girfec_philox4x32(0, 0, 0, 0, 0, 0).v
        #expect([b.0, b.1, b.2, b.3] == [0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8])
    }

    /// Uniforms from addressed streams: mean 1/2 and variance 1/12 within 4 standard errors.
    @Test func uniformMoments() {
        let n = 200_000
        var sum = 0.0, sumSq = 0.0
        for i in 0..<UInt32(n) {
            let u = Philox.unit(Philox.block(StreamAddress(seed: 5, replication: 0, purpose: .testing, index: i), position: 0).0)
            sum += u
            sumSq += u * u
        }
        let mean = sum / Double(n), variance = sumSq / Double(n) - mean * mean
        #expect(abs(mean - 0.5) < 4 * (1.0 / 12 / Double(n)).squareRoot())
        // Var of u² is 4/45; the sample variance's standard error is about sqrt(1/180/n).
        #expect(abs(variance - 1.0 / 12) < 4 * (1.0 / 180 / Double(n)).squareRoot())
    }

    @Test func poissonMeanFromGSL() {
        let stream = RandomStream(StreamAddress(seed: 8, replication: 0, purpose: .testing))
        let n = 50_000, mean = 3.7
        let total = (0..<n).reduce(0) { acc, _ in acc + stream.poisson(mean: mean) }
        #expect(abs(Double(total) / Double(n) - mean) < 4 * (mean / Double(n)).squareRoot())
    }
}

@Suite("GSL errors and quantiles")
struct GSLErrorTests {
    @Test func anErrorIsSeenOnlyOnTheThreadWhoseCallFailed() throws {
        GSLErrors.install()
        GSLErrors.reset()
        let seenThere = Mutex<String?>(nil)
        let done = DispatchSemaphore(value: 0)
        let thread = Thread {
            GSLErrors.reset()
            _ = gsl_cdf_binomial_P(1, 2.0, 3)  // p above 1: GSL_EDOM, recorded instead of aborting
            do { try GSLErrors.check(); seenThere.withLock { $0 = "none" } } catch { seenThere.withLock { $0 = "\(error)" } }
            done.signal()
        }
        thread.start()
        done.wait()
        #expect(seenThere.withLock { $0 }?.contains("GSL error") == true, "\(String(describing: seenThere.withLock { $0 }))")
        #expect(throws: Never.self) { try GSLErrors.check() }
    }

    @Test func betaQuantilesAreRightWhereGSLsNewtonIterationGivesUp() {
        for (p, a, b) in [(0.025, 0.5, 200_000.0), (0.975, 3.0, 1e7), (0.5, 2.0, 6.0), (0.025, 5e5, 0.5)] {
            let x = Quantiles.beta(p, a, b)
            #expect(abs(gsl_cdf_beta_P(x, a, b) - p) < 1e-9, "Beta(\(a), \(b)) quantile \(p): \(x)")
        }
    }
}

@Suite("Philox in Swift")
struct PhiloxSwiftTests {
    /// `Philox.block(counter:key:)` and `Philox.blocks` give Random123's words (the C shim's
    /// `girfec_philox4x32`) for 200,000 counters and keys from a fixed splitmix64 sequence, and
    /// for the all-zero and all-ones inputs.
    @Test func swiftPhiloxIsRandom123Philox() {
        var state: UInt64 = 20_231_129
        func next() -> UInt32 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return UInt32(truncatingIfNeeded: z ^ (z >> 31))
        }
        var mismatches = 0
        func check(_ c: (UInt32, UInt32, UInt32, UInt32), _ k: (UInt32, UInt32)) {
            let expected = girfec_philox4x32(c.0, c.1, c.2, c.3, k.0, k.1).v
            if Philox.block(counter: c, key: k) != expected { mismatches += 1 }
        }
        check((0, 0, 0, 0), (0, 0))
        check((.max, .max, .max, .max), (.max, .max))
        for _ in 0..<200_000 { check((next(), next(), next(), next()), (next(), next())) }
        #expect(mismatches == 0)
        for i in UInt32(0)..<1_000 {
            let a = StreamAddress(seed: UInt64(next()) << 32 | UInt64(next()), replication: next(), purpose: .childEvent,
                                  armLane: UInt8(i % 3), index: next())
            var b = a, c = a
            b.purpose = .initialChild; c.index &+= 1
            let three = Philox.blocks(a, position: i, b, position: 1, c, position: 0)
            #expect(three.0 == Philox.block(a, position: i) && three.1 == Philox.block(b, position: 1)
                    && three.2 == Philox.block(c, position: 0))
        }
    }

    /// `Philox.blocks8` gives Random123's words for eight streams at once, on the vector path (when
    /// this processor has AVX2: `eightAtOnce`) and on the one-by-one path, for 25,000 random sets of
    /// eight counters sharing a position, replication, purpose word and key, and for all-ones inputs.
    @Test func eightBlocksAtOnceAreRandom123Philox() {
        var state: UInt64 = 20_261_206
        func next() -> UInt32 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return UInt32(truncatingIfNeeded: z ^ (z >> 31))
        }
        var index = [UInt32](repeating: 0, count: 8), out = [UInt32](repeating: 0, count: 32)
        var mismatches = 0, sets = 0
        func check(position: UInt32, replication: UInt32, purpose: UInt32, key: (UInt32, UInt32)) {
            for vector in Philox.eightAtOnce ? [true, false] : [false] {
                out.withUnsafeMutableBufferPointer { o in
                    Philox.blocks8(position: position, index: index, replication: replication, purposeWord: purpose, key: key,
                                   eightAtOnce: vector, into: o.baseAddress!)
                }
                for i in 0..<8 {
                    let b = girfec_philox4x32(position, index[i], replication, purpose, key.0, key.1).v
                    if [out[i], out[8 + i], out[16 + i], out[24 + i]] != [b.0, b.1, b.2, b.3] { mismatches += 1 }
                }
                sets += 1
            }
        }
        index = [UInt32](repeating: .max, count: 8)
        check(position: .max, replication: .max, purpose: .max, key: (.max, .max))
        for _ in 0..<25_000 {
            for i in 0..<8 { index[i] = next() }
            check(position: next(), replication: next(), purpose: next(), key: (next(), next()))
        }
        #expect(mismatches == 0, "\(mismatches) blocks of \(sets * 8) differ from Random123's")
    }
}
