import CGSL
import Foundation
import Synchronization

/// One process-wide GSL error handler that records instead of aborting.
///
/// GSL's default handler calls `abort()`. Arguments are validated in Swift
/// before GSL sees them; should GSL still report an error, the handler keeps
/// the first message **of the thread that made the failing call** (GSL calls
/// the handler on that thread), and `GSLErrors.check()` on that thread turns
/// it into a Swift error. Errors are per thread so that work running in
/// parallel (two runs, a run and a calibration) never sees another's errors.
public enum GSLErrors {
    /// An error GSL reported: its reason, source file and line, and GSL code.
    public struct Failure: Error, CustomStringConvertible, Sendable {
        public var reason: String
        public var file: String
        public var line: Int
        public var code: Int
        public var description: String { "GSL error \(code) at \(file):\(line): \(reason)" }
    }

    private static let installed = Mutex<Bool>(false)
    private static let key = "girfec.GSLErrors.recorded"

    /// A boxed failure, to keep in a thread dictionary.
    private final class Box: NSObject { let failure: Failure; init(_ f: Failure) { failure = f } }

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
        let dictionary = Thread.current.threadDictionary
        if dictionary[key] == nil { dictionary[key] = Box(failure) }
    }

    /// Throw (and clear) the first error GSL reported on this thread since the last check or reset.
    public static func check() throws(Failure) {
        let dictionary = Thread.current.threadDictionary
        guard let box = dictionary[key] as? Box else { return }
        dictionary[key] = nil
        throw box.failure
    }

    /// Forget any error recorded on this thread (before work whose errors are checked on their own).
    public static func reset() {
        Thread.current.threadDictionary[key] = nil
    }
}
