import ArgumentParser
import Foundation
import Reports
import Synchronization

/// Progress on standard error: a bar with an ETA, redrawn in place, when standard error is a
/// terminal; otherwise single lines every 10 s and one at the end (`ProgressLines`), for logs,
/// CI and notebooks; nothing with `--quiet`.
final class ProgressBar: Sendable {
    enum Style { case bar, lines, off }
    let style: Style
    let start = Date()
    let label: String
    let unit: String
    private let lastDrawn = Mutex<Double>(-1)
    private let lines = Mutex(ProgressLines())

    init(label: String, unit: String = "replications", quiet: Bool) {
        self.label = label
        self.unit = unit
        style = quiet ? .off : isatty(STDERR_FILENO) == 1 ? .bar : .lines
    }

    func update(done: Int, total: Int) {
        guard total > 0 else { return }
        let elapsed = Date().timeIntervalSince(start)
        switch style {
        case .off: return
        case .lines:
            guard lines.withLock({ $0.due(done: done, total: total, elapsed: elapsed) }) else { return }
            let line = ProgressLines.line(label: label, done: done, total: total, unit: unit, elapsed: elapsed) + "\n"
            FileHandle.standardError.write(Data(line.utf8))
        case .bar:
            let shouldDraw = lastDrawn.withLock { last -> Bool in
                if done < total && elapsed - last < 0.1 { return false }
                last = elapsed
                return true
            }
            guard shouldDraw else { return }
            let width = 30
            let fraction = Double(done) / Double(total)
            let filled = Int(fraction * Double(width))
            let eta = done > 0 ? elapsed / Double(done) * Double(total - done) : 0
            let bar = String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled)
            let line = "\r\(label) [\(bar)] \(Int(fraction * 100))% \(done)/\(total)  elapsed \(ProgressLines.clock(elapsed))  ETA \(ProgressLines.clock(eta)) "
            FileHandle.standardError.write(Data(line.utf8))
        }
    }

    func finish() {
        guard style == .bar else { return }
        FileHandle.standardError.write(Data("\n".utf8))
    }
}

/// Progress of work in named phases, one after another (e.g. sampling with and without audits):
/// a `ProgressBar` per phase, the previous one finished when the next begins.
final class PhasedProgress: Sendable {
    let command: String
    let unit: String
    let quiet: Bool
    private let current = Mutex<(phase: String, bar: ProgressBar)?>(nil)

    init(command: String, unit: String, quiet: Bool) {
        self.command = command
        self.unit = unit
        self.quiet = quiet
    }

    func update(phase: String, done: Int, total: Int) {
        let bar = current.withLock { now -> ProgressBar in
            if let now, now.phase == phase { return now.bar }
            now?.bar.finish()
            let bar = ProgressBar(label: "\(command): \(phase)", unit: unit, quiet: quiet)
            now = (phase, bar)
            return bar
        }
        bar.update(done: done, total: total)
    }

    func finish() { current.withLock { $0?.bar.finish(); $0 = nil } }
}

/// Ctrl-C (SIGINT) or SIGTERM: the command stops and writes nothing (exit status 130).
///
/// ``install()`` runs first in `main()`. Outside a ``polling(_:)`` section a
/// signal stops the process at once: the handler removes the partial folder
/// being written, if any, says so and exits. Inside one (replications,
/// sensitivity points, writing the partial folder) the first signal only sets
/// a flag that the work polls, so it ends cleanly and says where it stopped; a
/// second signal stops at once. While a finished folder is being put in place
/// (a few renames) a signal is held until the folder is in place.
enum Interrupt {
    static let requested = Atomic<Bool>(false)
    static let polled = Atomic<Bool>(false)
    /// False for commands that do not write a result folder (their own files may be half-written).
    static let writesNothingWhenStopped = Atomic<Bool>(true)

    static func install() {
        signal(SIGINT) { _ in Interrupt.handle() }
        signal(SIGTERM) { _ in Interrupt.handle() }
        // A parent may have blocked these signals (the mask is inherited across exec): unblock them,
        // after the handler is in place, so that a signal pending since exec reaches it.
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, SIGINT)
        sigaddset(&set, SIGTERM)
        pthread_sigmask(SIG_UNBLOCK, &set, nil)
    }

    /// The signal handler: only async-signal-safe work (atomics, unlink, rmdir, write, _exit).
    static func handle() {
        if EmergencyCleanup.isCommitting {
            requested.store(true, ordering: .relaxed)
            return
        }
        let first = !requested.exchange(true, ordering: .relaxed)
        if first && polled.load(ordering: .relaxed) { return }
        EmergencyCleanup.removeNow()
        let message: StaticString = writesNothingWhenStopped.load(ordering: .relaxed)
            ? "\ngirfec: the run was interrupted; nothing was written\n" : "\ngirfec: interrupted\n"
        _ = write(STDERR_FILENO, message.utf8Start, message.utf8CodeUnitCount)
        _exit(130)
    }

    /// For a command that writes no result folder: a signal just stops it.
    static func forOtherCommands() {
        writesNothingWhenStopped.store(false, ordering: .relaxed)
    }

    /// From now until ``endPolling()`` a first signal only sets the flag, which the work polls (``isRequested``).
    static func beginPolling() { polled.store(true, ordering: .relaxed) }

    /// Back to stopping at once; check ``checkpoint(_:)`` next for a stop asked for meanwhile.
    static func endPolling() { polled.store(false, ordering: .relaxed) }

    static var isRequested: Bool { requested.load(ordering: .relaxed) }

    /// If a stop was requested: say that nothing was written and exit with status 130.
    static func checkpoint(_ command: String) throws {
        guard isRequested else { return }
        printError("girfec \(command): the run was interrupted; nothing was written")
        throw ExitCode(130)
    }
}
