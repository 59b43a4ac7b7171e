import Foundation
import Synchronization

/// A progress bar with an ETA on standard error, drawn only when it is a terminal.
final class ProgressBar: Sendable {
    let enabled: Bool
    let start = Date()
    private let lastDrawn = Mutex<Double>(-1)
    let label: String

    init(label: String, enabled: Bool = isatty(STDERR_FILENO) == 1) {
        self.label = label
        self.enabled = enabled
    }

    func update(done: Int, total: Int) {
        guard enabled, total > 0 else { return }
        let elapsed = Date().timeIntervalSince(start)
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
        let line = "\r\(label) [\(bar)] \(Int(fraction * 100))% \(done)/\(total)  elapsed \(Self.clock(elapsed))  ETA \(Self.clock(eta)) "
        FileHandle.standardError.write(Data(line.utf8))
    }

    func finish() {
        guard enabled else { return }
        FileHandle.standardError.write(Data("\n".utf8))
    }

    static func clock(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        return s >= 3600 ? String(format: "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60) : String(format: "%d:%02d", s / 60, s % 60)
    }
}

/// Ctrl-C (SIGINT) or SIGTERM asks the run to stop at the next replication; nothing is written.
enum Interrupt {
    static let requested = Atomic<Bool>(false)

    static func install() {
        // A parent may have blocked these signals (the mask is inherited across exec): unblock them.
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, SIGINT)
        sigaddset(&set, SIGTERM)
        pthread_sigmask(SIG_UNBLOCK, &set, nil)
        signal(SIGINT) { _ in Interrupt.requested.store(true, ordering: .relaxed) }
        signal(SIGTERM) { _ in Interrupt.requested.store(true, ordering: .relaxed) }
    }

    static var isRequested: Bool { requested.load(ordering: .relaxed) }
}
