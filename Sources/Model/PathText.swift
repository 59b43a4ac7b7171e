/// Folder and last component of a path, as text, for any path.
///
/// Foundation's `NSString.deletingLastPathComponent` and `lastPathComponent`
/// trap on some one-character paths (`o`, `é`) on Linux, so girfec splits
/// paths itself. Trailing slashes are ignored, as the system does.
public enum PathText {
    /// The folder part of `path`: "" for a bare name, "/" for a name in the root.
    public static func folder(of path: String) -> String {
        let trimmed = withoutTrailingSlashes(path)
        guard let slash = trimmed.lastIndex(of: "/") else { return "" }
        let head = withoutTrailingSlashes(String(trimmed[..<slash]))
        return head.isEmpty ? "/" : head
    }

    /// The last component of `path` ("" for an empty path, "/" for the root).
    public static func lastComponent(of path: String) -> String {
        let trimmed = withoutTrailingSlashes(path)
        guard let slash = trimmed.lastIndex(of: "/") else { return trimmed }
        let tail = String(trimmed[trimmed.index(after: slash)...])
        return tail.isEmpty ? "/" : tail
    }

    /// `name` inside `folder` ("" is the current folder).
    public static func join(_ folder: String, _ name: String) -> String {
        if folder.isEmpty || name.hasPrefix("/") { return name }
        return folder.hasSuffix("/") ? folder + name : folder + "/" + name
    }

    static func withoutTrailingSlashes(_ path: String) -> String {
        var s = Substring(path)
        while s.count > 1, s.hasSuffix("/") { s = s.dropLast() }
        return String(s)
    }
}
