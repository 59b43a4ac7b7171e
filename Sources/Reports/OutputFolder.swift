import Foundation

/// A run folder that appears whole or not at all.
///
/// Files are written into a hidden sibling folder, which is then renamed to
/// the target in one step; a run that fails or is interrupted before that
/// leaves the target untouched.
public enum OutputFolder {
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    /// Check, before any work, that `path` can receive a run: it is absent,
    /// an empty folder, or `overwrite` is set.
    public static func checkWritable(_ path: String, overwrite: Bool) throws(Failure) {
        let fm = FileManager.default
        var isDirectory: ObjCBool = false
        guard fm.fileExists(atPath: path, isDirectory: &isDirectory) else {
            let parent = (path as NSString).deletingLastPathComponent
            if !parent.isEmpty && !fm.fileExists(atPath: parent) {
                do { try fm.createDirectory(atPath: parent, withIntermediateDirectories: true) } catch {
                    throw Failure(description: "cannot create the folder \(parent) for --out \(path): \(error.localizedDescription)")
                }
            }
            return
        }
        guard isDirectory.boolValue else {
            throw Failure(description: "--out \(path) is a file; expected a folder name (absent, or an empty folder)")
        }
        let contents = (try? fm.contentsOfDirectory(atPath: path)) ?? []
        if !contents.isEmpty && !overwrite {
            throw Failure(description: "--out \(path) already holds \(contents.count) entries (\(contents.sorted().prefix(3).joined(separator: ", "))\(contents.count > 3 ? ", ..." : "")); expected an absent or empty folder, or pass --overwrite to replace it")
        }
    }

    /// Write `files` (name → bytes) as the folder `path`, replacing it if it exists.
    public static func write(_ files: [(name: String, bytes: [UInt8])], to path: String) throws(Failure) {
        let fm = FileManager.default
        let pid = ProcessInfo.processInfo.processIdentifier
        let target = URL(fileURLWithPath: path).standardizedFileURL
        let partial = target.deletingLastPathComponent().appendingPathComponent(".\(target.lastPathComponent).partial-\(pid)")
        let replaced = target.deletingLastPathComponent().appendingPathComponent(".\(target.lastPathComponent).replaced-\(pid)")
        do {
            try? fm.removeItem(at: partial)
            try fm.createDirectory(at: partial, withIntermediateDirectories: true)
            for file in files {
                try Data(file.bytes).write(to: partial.appendingPathComponent(file.name))
            }
            if fm.fileExists(atPath: target.path) {
                try fm.moveItem(at: target, to: replaced)
                try fm.moveItem(at: partial, to: target)
                try? fm.removeItem(at: replaced)
            } else {
                try fm.moveItem(at: partial, to: target)
            }
        } catch {
            try? fm.removeItem(at: partial)
            if !fm.fileExists(atPath: target.path) && fm.fileExists(atPath: replaced.path) {
                try? fm.moveItem(at: replaced, to: target)
            }
            throw Failure(description: "could not write \(path): \(error.localizedDescription); nothing was written")
        }
    }
}
