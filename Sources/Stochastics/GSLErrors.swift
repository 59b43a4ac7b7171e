import CGSL
import Synchronization

/// One process-wide GSL error handler that records instead of aborting.
///
/// GSL's default handler calls `abort()`. Arguments are validated in Swift
/// before GSL sees them; should GSL still report an error, the handler keeps
/// the first message, and `GSLErrors.check()` turns it into a Swift error.
public enum GSLErrors {
    /// An error GSL reported: its reason, source file and line, and GSL code.
    public struct Failure: Error, CustomStringConvertible, Sendable {
        public var reason: String
        public var file: String
        public var line: Int
        public var code: Int
        public var description: String { "GSL error \(code) at \(file):\(line): \(reason)" }
    }

    private static let recorded = Mutex<Failure?>(nil)
    private static let installed = Mutex<Bool>(false)

    /// Install the handler once; later calls do nothing.
    public static func install() {
        installed.withLock { done in
            guard !done else { return }
            _ = gsl_set_error_handler { reason, file, line, code in
                let failure = Failure(
                    reason: reason.map { String(cString: $0) } ?? "unknown",
                    file: file.map { String(cString: $0) } ?? "unknown",
                    line: Int(line), code: Int(code))
                GSLErrors.record(failure)
            }
            done = true
        }
    }

    static func record(_ failure: Failure) {
        recorded.withLock { if $0 == nil { $0 = failure } }
    }

    /// Throw (and clear) the first error GSL reported since the last check.
    public static func check() throws(Failure) {
        let failure = recorded.withLock { f -> Failure? in
            defer { f = nil }
            return f
        }
        if let failure { throw failure }
    }
}
