import CGSL
import Foundation
import Model
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An output folder that appears whole or not at all and never costs the user a file.
///
/// The rules (docs/guarantees.md):
/// - `--out` may not be empty, `/`, the current folder, the home folder or a
///   folder above either; paths are compared after resolving `.`, `..` and
///   symbolic links.
/// - The target must be absent or empty; with `--overwrite` it may also be a
///   folder girfec made: its `manifest.json` carries `format` =
///   ``OutputFolder/format`` and it holds only the files that manifest lists
///   and girfec's derived files (``OutputFolder/derivedEntries``).
/// - Before any work a probe folder is made and removed in the parent (or
///   the nearest existing folder above it), and the free space is compared
///   with an estimate; missing parent folders are created only when writing.
/// - Files are written into `.NAME.partial-PID` (with the marker
///   ``OutputFolder/partialMarker`` while incomplete), then renamed to NAME;
///   a girfec folder being replaced is exchanged with the new one in one step
///   (Linux `renameat2` with `RENAME_EXCHANGE`), so NAME is always the old or
///   the new result.
/// - Leftovers of girfec processes that no longer exist in the same parent
///   (`.NAME.partial-PID`, `.NAME.replaced-PID`) are removed or restored at
///   the next check, and said so on standard error.
/// - If entries appear in NAME during the run, they are kept and the result
///   is written beside it, as `NAME.new-PID`.
public enum OutputFolder {
    /// The format identifier in every manifest girfec writes; `--overwrite` replaces only such folders.
    public static let format = "girfec-output-folder/1"
    /// The file that marks a partial folder as girfec's while it is written (format, process id, host).
    public static let partialMarker = ".girfec-partial"
    /// The file added to an old folder while it is set aside as `.NAME.replaced-PID` (process id, host).
    public static let replacedMarker = ".girfec-replaced"
    /// Entries girfec's own tools add to an output folder after it is written:
    /// `figures/` (scripts/*figures.py), the files of `girfec report` and the PDF of its report.tex
    /// (scripts/run-default.sh).
    public static let derivedEntries: Set<String> = ["figures", "report.md", "report-tables.tex", "report.tex", "report.pdf"]
    /// The longest last component of `--out`: NAME_MAX (255) less room for `.NAME.replaced-PID`.
    public static let maximumNameBytes = 255 - 32
    /// File types the figure scripts write into `figures/`, and the suffix of the captions they write beside them.
    static let figureExtensions: Set<String> = ["png", "pdf", "svg"]
    static let captionSuffix = ".caption.txt"

    /// Why an output folder cannot be used or written.
    public struct Failure: Error, CustomStringConvertible {
        public enum Kind: Sendable { case input, io, cancelled }
        public var kind: Kind
        /// What is wrong and what is expected, without what the command did about it.
        public var problem: String
        /// The problem, followed for bad input by "Nothing was run or written."
        public var description: String { kind == .input ? problem + " Nothing was run or written." : problem }
        init(_ kind: Kind, _ problem: String) {
            self.kind = kind
            self.problem = problem
        }
    }

    /// An output folder checked before any work, ready to receive a result.
    public struct Target: Sendable {
        /// `--out` as the user gave it.
        public let given: String
        /// The absolute path, with `.`, `..` and symbolic links resolved.
        public let path: String
        let parent: String
        let name: String
        /// `--overwrite`: a folder girfec made may be replaced.
        let overwrite: Bool
    }

    /// Where a result went.
    public enum Written: Sendable {
        /// At the target.
        case atTarget
        /// Beside the target, at `path`, because `appeared` entries came into the target during the run.
        case beside(path: String, appeared: [String])
    }

    // MARK: - Checking before any work

    /// Check, before any work, that `given` can receive a result; clean its parent's leftovers first.
    ///
    /// Refuses destructive paths, a file, a non-empty folder (unless
    /// `overwrite` and girfec made it), an unwritable parent, and a
    /// filesystem with less free space than `estimatedBytes`. Cleans the
    /// leftovers of dead girfec processes in the parent first, telling `note`.
    public static func prepare(_ given: String, option: String = "--out", overwrite: Bool, estimatedBytes: Int64,
                               note: (String) -> Void) throws(Failure) -> Target {
        let resolved = try refuseDestructive(given, option: option)
        let parent = PathText.folder(of: resolved)
        let name = PathText.lastComponent(of: resolved)
        let quoted = "\(option) '\(given)'"
        // Room for the sibling names girfec uses (.NAME.partial-PID, .NAME.replaced-PID) within NAME_MAX (255 bytes).
        guard name.utf8.count <= maximumNameBytes else {
            throw Failure(.input, "\(quoted): its last component is \(name.utf8.count) bytes long; expected at most \(maximumNameBytes) bytes, to leave room for the hidden folder girfec writes first (.NAME.partial-PID).")
        }
        if isDirectory(parent) { cleanLeftovers(in: parent, writing: name, note: note) }

        var info = stat()
        if lstat(resolved, &info) == 0 {
            let isFolder = (info.st_mode & S_IFMT) == S_IFDIR
            let followsToFolder = (info.st_mode & S_IFMT) == S_IFLNK && isDirectory(resolved)
            guard isFolder || followsToFolder else {
                throw Failure(.input, "\(quoted) is a file; expected a folder name (absent, or an empty folder).")
            }
            let entries = contents(of: resolved)
            if !entries.isEmpty {
                let listed = "\(entries.count) entr\(entries.count == 1 ? "y" : "ies") (\(entries.sorted().prefix(3).joined(separator: ", "))\(entries.count > 3 ? ", ..." : ""))"
                let reason = notGirfecs(resolved)
                if !overwrite {
                    let advice = reason == nil
                        ? "or pass --overwrite to replace it"
                        : "it is not a folder girfec made, or not only that (\(reason!)), so --overwrite would not replace it either: choose another \(option), or move its entries away yourself"
                    throw Failure(.input, "\(quoted) already holds \(listed); expected an absent or empty folder, \(advice).")
                }
                if let reason {
                    throw Failure(.input, "\(quoted) holds \(listed) and is not a folder girfec made, or not only that (\(reason)); --overwrite replaces only a folder girfec wrote. Choose another \(option), or move its entries away yourself.")
                }
            }
        }

        // The nearest existing folder receives the probe; missing parents are created only when writing.
        var folder = parent
        while !folder.isEmpty, folder != "/", !exists(folder) { folder = PathText.folder(of: folder) }
        if !isDirectory(folder) {
            throw Failure(.input, "\(quoted): \(folder) is a file, not a folder; expected \(option) inside a folder.")
        }
        let probe = PathText.join(folder, ".\(name).probe-\(getpid())")
        guard mkdir(probe, 0o700) == 0 else {
            throw Failure(.input, "\(quoted): cannot write in \(folder) (\(errnoText())); expected a folder you can write to.")
        }
        rmdir(probe)
        try checkSpace(near: resolved, given: given, option: option, estimatedBytes: estimatedBytes)
        return Target(given: given, path: resolved, parent: parent, name: name, overwrite: overwrite)
    }

    /// Check that the filesystem holding `path` has at least `estimatedBytes` free.
    public static func checkSpace(near path: String, given: String, option: String = "--out", estimatedBytes: Int64) throws(Failure) {
        var folder = path
        while !exists(folder), folder != "/", !folder.isEmpty { folder = PathText.folder(of: folder) }
        var s = statvfs()
        guard statvfs(folder, &s) == 0 else { return }
        let free = Int64(clamping: UInt64(s.f_bavail) &* UInt64(s.f_frsize))
        if estimatedBytes > free {
            throw Failure(.input, "\(option) '\(given)': the results need about \(bytesText(estimatedBytes)) (an estimate), but the filesystem of \(folder) has \(bytesText(free)) free; expected enough free space: free some, choose another \(option), or run fewer replications.")
        }
    }

    /// The resolved absolute path of `given`, or a refusal if writing there could destroy the user's files.
    public static func refuseDestructive(_ given: String, option: String = "--out") throws(Failure) -> String {
        let advice = "girfec replaces the whole \(option) folder, so it refuses /, the current folder, the home folder and any folder above them."
        guard !given.isEmpty else {
            throw Failure(.input, "\(option) is empty; expected the name of a new folder for the results, e.g. \(option) results/run1 (an unset shell variable gives an empty value). \(advice)")
        }
        let cwd = realPath(".") ?? FileManager.default.currentDirectoryPath
        let resolved = resolve(given, in: cwd)
        var homes: [String] = []
        if let h = ProcessInfo.processInfo.environment["HOME"], !h.isEmpty { homes.append(realPath(h) ?? resolve(h, in: cwd)) }
        if let pw = getpwuid(getuid()), let dir = pw.pointee.pw_dir {
            let h = String(cString: dir)
            if !h.isEmpty { homes.append(realPath(h) ?? resolve(h, in: cwd)) }
        }
        func isAncestor(_ a: String, of b: String) -> Bool { a == "/" ? b != "/" : b.hasPrefix(a + "/") }
        var what: String? = nil
        if resolved == "/" { what = "the root folder /" }
        else if resolved == cwd { what = "the current folder (\(cwd))" }
        else if homes.contains(resolved) { what = "the home folder (\(resolved))" }
        else if isAncestor(resolved, of: cwd) { what = "\(resolved), a folder above the current folder (\(cwd))" }
        else if let h = homes.first(where: { isAncestor(resolved, of: $0) }) { what = "\(resolved), a folder above the home folder (\(h))" }
        if let what {
            throw Failure(.input, "\(option) '\(given)' is \(what); expected a new folder for the results, e.g. \(option) results/run1. \(advice)")
        }
        return resolved
    }

    // MARK: - Writing

    /// Write `files` (name → bytes) as the folder `target`, replacing it if girfec made it.
    ///
    /// `isCancelled` is polled after each file and just before the result is
    /// put in place; if it returns true, the partial folder is removed and
    /// ``Failure/Kind/cancelled`` is thrown. Once the result is in place an
    /// interruption no longer undoes it.
    public static func write(_ files: [(name: String, bytes: [UInt8])], to target: Target,
                             isCancelled: () -> Bool = { false }, note: (String) -> Void = { _ in }) throws(Failure) -> Written {
        let fm = FileManager.default
        let pid = getpid()
        let partial = PathText.join(target.parent, ".\(target.name).partial-\(pid)")
        let marker = PathText.join(partial, partialMarker)
        var created: [String] = []
        func discard() {
            EmergencyCleanup.clear()
            try? fm.removeItem(atPath: partial)
            removeFolders(created)
        }
        func fail(_ what: String) -> Failure {
            discard()
            return Failure(.io, "could not write \(target.given): \(what); nothing was written")
        }
        var folder = target.parent
        while !folder.isEmpty, folder != "/", !exists(folder) {
            created.insert(folder, at: 0)
            folder = PathText.folder(of: folder)
        }
        for f in created where mkdir(f, 0o777) != 0 && errno != EEXIST {
            throw fail("cannot create the folder \(f) (\(errnoText()))")
        }
        if exists(partial) {
            // Left by an earlier process with this id: removed only if it is recognisably girfec's.
            guard self.exists(PathText.join(partial, partialMarker)) || notGirfecs(partial) == nil else {
                throw Failure(.io, "could not write \(target.given): \(partial) exists and is not girfec's; move it away. Nothing was written")
            }
            try? fm.removeItem(atPath: partial)
        }
        guard mkdir(partial, 0o777) == 0 else { throw fail("cannot create \(partial) (\(errnoText()))") }
        EmergencyCleanup.set([marker] + files.map { PathText.join(partial, $0.name) } + [partial] + created.reversed())
        guard fm.createFile(atPath: marker, contents: markerText(pid: pid)) else {
            throw fail("cannot write \(marker)")
        }
        for file in files {
            if isCancelled() { discard(); throw Failure(.cancelled, "the run was interrupted; nothing was written") }
            do { try Data(file.bytes).write(to: URL(fileURLWithPath: PathText.join(partial, file.name))) } catch {
                throw fail("\(file.name): \(error.localizedDescription)")
            }
        }
        unlink(marker)
        commitGateForTests()
        // From here a signal is held (EmergencyCleanup.isCommitting) until the folder is in place.
        EmergencyCleanup.committing.store(true, ordering: .sequentiallyConsistent)
        defer { EmergencyCleanup.committing.store(false, ordering: .sequentiallyConsistent) }
        if isCancelled() { discard(); throw Failure(.cancelled, "the run was interrupted; nothing was written") }
        EmergencyCleanup.clear()

        // Put the result in place: the target is now absent, empty, a girfec folder, or something else.
        for _ in 0..<3 {
            var info = stat()
            if lstat(target.path, &info) != 0 {
                if rename(partial, target.path) == 0 { return .atTarget }
                if errno == EEXIST || errno == ENOTEMPTY { continue }
                throw fail("cannot rename \(partial) to \(target.path) (\(errnoText()))")
            }
            let entries = (info.st_mode & S_IFMT) == S_IFDIR ? contents(of: target.path) : ["(a file)"]
            if entries.isEmpty {
                if rename(partial, target.path) == 0 { return .atTarget }
                if errno == EEXIST || errno == ENOTEMPTY { continue }
                throw fail("cannot rename \(partial) to \(target.path) (\(errnoText()))")
            }
            guard target.overwrite, (info.st_mode & S_IFMT) == S_IFDIR, notGirfecs(target.path) == nil else { break }
            // A girfec folder: it is replaced only with --overwrite, which `prepare` required.
            let mayExchange = ProcessInfo.processInfo.environment["GIRFEC_TEST_NO_EXCHANGE"] == nil  // tests of the fallback
            if mayExchange && girfec_exchange_paths(partial, target.path) == 0 {
                removeReplaced(partial, target: target, note: note)
                return .atTarget
            }
            // No exchange here (another system, or a filesystem such as NFS): set the old folder aside,
            // marked with this host so that only girfec on this computer restores it after a kill.
            let replaced = PathText.join(target.parent, ".\(target.name).replaced-\(pid)")
            let oldMarker = PathText.join(target.path, replacedMarker)
            _ = fm.createFile(atPath: oldMarker, contents: markerText(pid: pid))
            guard rename(target.path, replaced) == 0 else {
                let problem = errnoText()
                unlink(oldMarker)
                throw fail("cannot move \(target.path) aside (\(problem))")
            }
            if rename(partial, target.path) != 0 {
                let problem = errnoText()
                if rename(replaced, target.path) == 0 { unlink(oldMarker) }
                throw fail("cannot rename \(partial) to \(target.path) (\(problem))")
            }
            removeReplaced(replaced, target: target, note: note)
            return .atTarget
        }
        // Entries appeared in the target during the run: keep them, and the result beside.
        let appeared = contents(of: target.path).sorted()
        var beside = PathText.join(target.parent, "\(target.name).new-\(pid)")
        var n = 1
        while exists(beside) { n += 1; beside = PathText.join(target.parent, "\(target.name).new-\(pid)-\(n)") }
        guard rename(partial, beside) == 0 else { throw fail("cannot rename \(partial) to \(beside) (\(errnoText()))") }
        return .beside(path: beside, appeared: appeared)
    }

    /// Remove the replaced old folder at `path` if it is still wholly girfec's; otherwise keep it, visibly.
    static func removeReplaced(_ path: String, target: Target, note: (String) -> Void) {
        if notGirfecs(path) == nil {
            try? FileManager.default.removeItem(atPath: path)
            return
        }
        var kept = PathText.join(target.parent, "\(target.name).previous-\(getpid())")
        var n = 1
        while exists(kept) { n += 1; kept = kept + "-\(n)" }
        if rename(path, kept) == 0 { note("entries appeared in the old \(target.given) while it was being replaced; the old folder was kept as \(kept)") }
    }

    /// Wait, when the environment names a FIFO in `GIRFEC_TEST_COMMIT_GATE`,
    /// until a test writes to it: lets tests act between writing and renaming.
    static func commitGateForTests() {
        guard let fifo = ProcessInfo.processInfo.environment["GIRFEC_TEST_COMMIT_GATE"], !fifo.isEmpty else { return }
        let fd = open(fifo, O_RDONLY)
        guard fd >= 0 else { return }
        var byte: UInt8 = 0
        _ = read(fd, &byte, 1)
        close(fd)
    }

    // MARK: - Whose folder

    /// Nil if girfec made the folder at `path` (its manifest's format and only
    /// its listed and derived entries); otherwise why not, in a few words.
    public static func notGirfecs(_ path: String) -> String? {
        guard let data = FileManager.default.contents(atPath: PathText.join(path, "manifest.json")) else {
            return "it has no manifest.json"
        }
        guard let manifest = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
            return "its manifest.json is not a JSON object"
        }
        guard let f = manifest["format"] as? String, f == format else {
            return "its manifest.json has no \"format\": \"\(format)\"; folders from girfec before this check lack it"
        }
        let listed = Set((manifest["files"] as? [String]) ?? []).union(["manifest.json", replacedMarker])
        var strangers = contents(of: path).filter { !listed.contains($0) && !derivedEntries.contains($0) }.sorted()
        let figures = PathText.join(path, "figures")
        if exists(figures) {
            if !isDirectory(figures) { strangers.append("figures (not a folder)") }
            for f in contents(of: figures).sorted() {
                let ext = f.split(separator: ".").last.map { String($0).lowercased() } ?? ""
                var info = stat()
                let isFile = lstat(PathText.join(figures, f), &info) == 0 && (info.st_mode & S_IFMT) == S_IFREG
                let isFigure = figureExtensions.contains(ext) || (f.hasSuffix(captionSuffix) && f.count > captionSuffix.count)
                if !isFile || !f.contains(".") || !isFigure { strangers.append("figures/\(f)") }
            }
        }
        if !strangers.isEmpty {
            return "it holds entries girfec did not write: \(strangers.prefix(5).joined(separator: ", "))\(strangers.count > 5 ? ", ..." : "")"
        }
        return nil
    }

    // MARK: - Leftovers of killed runs

    /// Remove (or restore) what girfec processes that no longer exist left in `parent`.
    ///
    /// A leftover is acted on only if its process is gone (`kill(PID, 0)`
    /// fails with ESRCH) and it is this computer's: its marker names this
    /// host, or, without a marker, it is a leftover of `writing`, the folder
    /// about to be written. (On a filesystem shared by several computers a
    /// process id says nothing about the other computers' processes.)
    /// `.NAME.partial-PID` is removed if it carries ``partialMarker`` or is
    /// a complete girfec folder; `.NAME.replaced-PID` is moved back to NAME
    /// when NAME is missing (the process died inside the swap), and removed
    /// when NAME exists. Anything else is named, not touched.
    public static func cleanLeftovers(in parent: String, writing: String, note: (String) -> Void) {
        let host = hostName()
        for entry in contents(of: parent).sorted() {
            guard let leftover = Leftover(entry), leftover.pid != getpid(), !isAlive(leftover.pid) else { continue }
            let path = PathText.join(parent, entry)
            guard isDirectory(path) else { continue }
            let target = PathText.join(parent, leftover.name)
            let markerPath = PathText.join(path, leftover.kind == .partial ? partialMarker : replacedMarker)
            let markerHost = FileManager.default.contents(atPath: markerPath).map { markerHostName(in: $0) }
            guard markerHost.map({ $0 == host }) ?? (leftover.name == writing) else { continue }
            guard markerHost != nil || notGirfecs(path) == nil else {
                note("\(path) looks like a leftover of girfec process \(leftover.pid), which has ended, but is not recognisably girfec's; it was left untouched: remove it yourself if you do not need it")
                continue
            }
            switch leftover.kind {
            case .partial:
                if (try? FileManager.default.removeItem(atPath: path)) != nil {
                    note("removed \(path): an unfinished output folder of girfec process \(leftover.pid), which ended before completing it")
                }
            case .replaced:
                if !exists(target) {
                    if rename(path, target) == 0 {
                        unlink(PathText.join(target, replacedMarker))
                        note("restored \(target) from \(path): girfec process \(leftover.pid) was stopped while replacing it")
                    }
                } else if (try? FileManager.default.removeItem(atPath: path)) != nil {
                    note("removed \(path): the old folder that girfec process \(leftover.pid) had already replaced with \(target)")
                }
            }
        }
    }

    /// The text of a marker file: the format, this process and this host.
    static func markerText(pid: pid_t) -> Data {
        Data("\(format)\nprocess \(pid)\nhost \(hostName())\n".utf8)
    }

    /// The host a marker names ("" if none).
    static func markerHostName(in data: Data) -> String {
        let lines = String(decoding: data, as: UTF8.self).split(separator: "\n")
        return lines.first { $0.hasPrefix("host ") }.map { String($0.dropFirst(5)) } ?? ""
    }

    /// This computer's name, as gethostname(2) gives it.
    static func hostName() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0 else { return "" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// A `.NAME.partial-PID` or `.NAME.replaced-PID` entry.
    struct Leftover {
        enum Kind { case partial, replaced }
        var name: String
        var kind: Kind
        var pid: pid_t
        init?(_ entry: String) {
            guard entry.hasPrefix("."), let dash = entry.lastIndex(of: "-"),
                  let pid = pid_t(entry[entry.index(after: dash)...]), pid > 0 else { return nil }
            let head = entry[entry.index(after: entry.startIndex)..<dash]
            if head.hasSuffix(".partial") { kind = .partial; name = String(head.dropLast(".partial".count)) }
            else if head.hasSuffix(".replaced") { kind = .replaced; name = String(head.dropLast(".replaced".count)) }
            else { return nil }
            guard !name.isEmpty, name != ".", name != ".." else { return nil }
            self.pid = pid
        }
    }

    /// True unless `kill(pid, 0)` says no such process (ESRCH).
    static func isAlive(_ pid: pid_t) -> Bool {
        kill(pid, 0) == 0 || errno != ESRCH
    }

    // MARK: - Paths

    /// `given` made absolute against `cwd`, with symbolic links, `.` and `..`
    /// resolved as the system would: the longest existing prefix through
    /// realpath(3), the rest by its text.
    static func resolve(_ given: String, in cwd: String) -> String {
        let absolute = given.hasPrefix("/") ? given : PathText.join(cwd, given)
        var components = absolute.split(separator: "/").map(String.init)
        var rest: [String] = []
        var base = "/"
        while !components.isEmpty {
            if let r = realPath("/" + components.joined(separator: "/")) { base = r; break }
            rest.insert(components.removeLast(), at: 0)
        }
        var parts = base.split(separator: "/").map(String.init)
        for c in rest {
            if c == "." { continue }
            if c == ".." { if !parts.isEmpty { parts.removeLast() }; continue }
            parts.append(c)
        }
        return "/" + parts.joined(separator: "/")
    }

    static func realPath(_ path: String) -> String? {
        guard let r = realpath(path, nil) else { return nil }
        defer { free(r) }
        return String(cString: r)
    }

    static func exists(_ path: String) -> Bool {
        var info = stat()
        return lstat(path, &info) == 0
    }

    static func isDirectory(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
    }

    static func contents(of path: String) -> [String] {
        (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
    }

    static func removeFolders(_ folders: [String]) {
        for f in folders.reversed() { rmdir(f) }
    }

    static func errnoText() -> String { String(cString: strerror(errno)) }

    /// Bytes in B, kB, MB, GB or TB, three significant digits.
    public static func bytesText(_ n: Int64) -> String {
        let units = ["B", "kB", "MB", "GB", "TB", "PB", "EB"]
        var v = Double(n), u = 0
        while v >= 1000 && u < units.count - 1 { v /= 1000; u += 1 }
        return u == 0 ? "\(n) B" : String(format: "%.3g %@", v, units[u])
    }
}

/// The partial folder being written, for a signal handler to remove before exiting at once.
///
/// Holds C strings (files first, then the folder and the parent folders
/// created for it, deepest first) behind an atomic word, so
/// that ``removeNow()`` uses only async-signal-safe calls (unlink, rmdir).
public enum EmergencyCleanup {
    static let list = Atomic<Int>(0)
    static let committing = Atomic<Bool>(false)

    /// True while a finished folder is being put in place: a signal handler should only note the signal.
    public static var isCommitting: Bool { committing.load(ordering: .sequentiallyConsistent) }

    static func set(_ paths: [String]) {
        let array = UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>.allocate(capacity: paths.count + 1)
        for (i, p) in paths.enumerated() { array[i] = strdup(p) }
        array[paths.count] = nil
        list.store(Int(bitPattern: array), ordering: .releasing)  // an earlier list is leaked: a few bytes, never read again
    }

    static func clear() { list.store(0, ordering: .releasing) }

    /// Remove the registered partial folder; safe to call from a signal handler.
    public static func removeNow() {
        guard let array = UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>(bitPattern: list.load(ordering: .acquiring)) else { return }
        var i = 0
        while let p = array[i] { unlink(p); i += 1 }
        i = 0
        while let p = array[i] { rmdir(p); i += 1 }
    }
}

/// Estimates of the bytes a command writes, for the free-space check before any work.
public enum OutputEstimate {
    /// A run or merged folder (`girfec run`, `girfec merge`), within about a factor 2.
    ///
    /// With A arms, T steps of m months, S record slots per step (RecordLayout), L levels,
    /// R replications and P drawn parameter columns, there are
    /// C = (2A − 1)(T + 1)S band cells (each arm, then each later arm's
    /// difference from the first), Y years and V = Y·S·(1 + G) yearly values per replication and arm
    /// for G areas with values of their own (`YearlyLayout`: 0 with one area), and
    ///
    ///     bytes ≈ C · (160 + 250 + 96 + 4·B)                 bands.csv row; aggregate.csv and comparison.csv;
    ///                                                         state.bin cell with B histogram bins
    ///           + R·A · ((14 + L)·10 + (14 + L + P)·8 + P·20)  replications.csv, state.bin rows, parameters.csv
    ///           + R·A · V · (14 + 8)                         replications-yearly.csv, state.bin's yearly values
    ///           + (2A − 1) · V · 200                          bands-yearly.csv
    ///           + 2 · scenario text + 64 kB                   scenario.yaml, state.bin, manifest, summaries
    ///
    /// with B = 1 for one replication and 512 for more (a histogram holds at
    /// most 1024 bins; measured runs average 250–400). Measured against the
    /// examples minimal.yaml (200 replications) and areas-and-coverage.yaml
    /// (100 replications): the estimate is 1.2–1.4 times the real size.
    public static func runFolder(arms: Int, steps: Int, stepMonths: Int, levels: Int, moves: Int, areas: Int = 1, replications: Int,
                                 parameters: Int, scenarioBytes: Int) -> Int64 {
        let slots = Int64(RecordLayout.slotCount(levels: levels, moves: moves))
        let yearlyValues = Double(YearlyLayout.yearCount(steps: steps, stepMonths: stepMonths)) * Double(slots)
            * Double(1 + (areas >= 2 ? areas : 0))
        let a = Int64(max(arms, 1)), t = Int64(max(steps, 0)), l = Int64(levels), r = Int64(max(replications, 0)), p = Int64(parameters)
        let cells = (2 * a - 1).multipliedReportingOverflow(by: (t + 1) * slots)
        let bins: Int64 = r > 1 ? 512 : 1
        let perCell: Int64 = 160 + 250 + 96 + 4 * bins
        let perRow: Int64 = (14 + l) * 10 + (14 + l + p) * 8 + p * 20
        let total = Double(cells.partialValue) * Double(perCell) + Double(r) * Double(a) * Double(perRow)
            + Double(r) * Double(a) * yearlyValues * 22 + Double(2 * a - 1) * yearlyValues * 200
            + Double(2 * scenarioBytes) + 65_536
        return total >= Double(Int64.max) || cells.overflow ? Int64.max : Int64(total)
    }
}
