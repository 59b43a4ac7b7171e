import Foundation
import Yams

/// A YAML document as plain values that remember where they came from.
///
/// Yams parses; this tree keeps each value's field path and line, so that a
/// rule broken anywhere, even in a value an arm merged over the base, is
/// reported at the place the user wrote it.
public indirect enum TreeValue: Sendable {
    case scalar(String)
    case mapping([(key: String, value: Tree)])
    case sequence([Tree])
    case null
}

public struct Tree: Sendable {
    public var value: TreeValue
    /// Field path of this value, e.g. `practice.relational.stepDownEffect`.
    public var path: String
    /// 1-based line, when known.
    public var line: Int?

    public init(value: TreeValue, path: String, line: Int?) {
        self.value = value
        self.path = path
        self.line = line
    }

    /// Largest file a scenario, a fragment, a draws table or an experiment file may be.
    public static let maximumFileBytes = 16 << 20
    /// Largest number of values a YAML document may hold once its aliases are expanded.
    public static let maximumNodes = 1_000_000

    /// Why a file cannot be read, as a message's "found" says it.
    public struct FileProblem: Error, Sendable {
        public var found: String
        public init(found: String) { self.found = found }
    }

    /// Why `path` cannot be read as a data or scenario file, before any read: it does not exist,
    /// a folder of its path cannot be searched, it is a folder, device, pipe, socket or `/proc`
    /// file, or this user may not read it; nil for a readable regular file.
    ///
    /// Each case has its own words, so that a missing file is never reported as unreadable text.
    public static func fileProblem(_ path: String) -> FileProblem? {
        // stat follows symbolic links: a link to a regular file is fine, a link to a device is not.
        var info = stat()
        guard stat(path, &info) == 0 else {
            switch errno {
            case ENOENT, ENOTDIR: return FileProblem(found: "no such file")
            case EACCES: return FileProblem(found: "a file in a folder this user may not open (permission denied)")
            default: return FileProblem(found: "a file that cannot be opened (\(String(cString: strerror(errno))))")
            }
        }
        let kind = info.st_mode & S_IFMT
        guard kind == S_IFREG else {
            let what: String
            switch kind {
            case S_IFDIR: what = "a folder"
            case S_IFCHR, S_IFBLK: what = "a device"
            case S_IFIFO: what = "a pipe"
            case S_IFSOCK: what = "a socket"
            default: what = "a special file"
            }
            return FileProblem(found: "\(what), not a regular file")
        }
        // /proc and /sys files say they are regular; their text is the system's, not the user's data.
        let canonical = realpath(path, nil).map { pointer in
            defer { free(pointer) }
            return String(cString: pointer)
        } ?? path
        guard !(canonical.hasPrefix("/proc/") || canonical.hasPrefix("/sys/")) else {
            return FileProblem(found: "a file of the kernel (/proc or /sys), not a regular file")
        }
        guard access(path, R_OK) == 0 else {
            return FileProblem(found: errno == EACCES ? "a file this user may not read (permission denied)"
                                                      : "a file that cannot be read (\(String(cString: strerror(errno))))")
        }
        return nil
    }

    /// The text of a regular UTF-8 file of at most `maximumBytes` (by default `maximumFileBytes`).
    /// Devices, FIFOs, folders and `/proc` files are refused before any read (`fileProblem`).
    public static func readRegularFile(_ path: String, maximumBytes: Int = maximumFileBytes) -> Result<String, FileProblem> {
        if let problem = fileProblem(path) { return .failure(problem) }
        var info = stat()
        guard stat(path, &info) == 0 else { return .failure(FileProblem(found: "no such file")) }
        let size = Int64(info.st_size)
        guard size <= Int64(maximumBytes) else {
            return .failure(FileProblem(found: "a file of \(size) bytes, above the limit of \(maximumBytes) bytes (\(maximumBytes >> 20) MiB)"))
        }
        guard let handle = FileHandle(forReadingAtPath: path) else {
            return .failure(FileProblem(found: "a file that cannot be opened"))
        }
        defer { try? handle.close() }
        let data: Data
        do { data = try handle.read(upToCount: maximumBytes + 1) ?? Data() } catch {
            return .failure(FileProblem(found: "a file that cannot be read"))
        }
        guard data.count <= maximumBytes else {
            return .failure(FileProblem(found: "a file above the limit of \(maximumBytes) bytes (\(maximumBytes >> 20) MiB)"))
        }
        guard let text = String(data: data, encoding: .utf8) else {
            return .failure(FileProblem(found: "a file that is not UTF-8 text (save it as UTF-8)"))
        }
        return .success(text)
    }

    /// The text of a YAML file, or the error a user sees when it cannot be read.
    static func readText(path: String, what: String) throws(ScenarioError) -> String {
        switch readRegularFile(path) {
        case .success(let text): return text
        case .failure(let problem):
            throw ScenarioError(file: path, issues: [ValidationIssue(file: path, line: nil, path: "",
                found: problem.found, expected: "a readable UTF-8 \(what) of at most 16 MiB")])
        }
    }

    /// Parse YAML text. Errors carry the file name and the line an editor shows (`editorLines`).
    public static func parse(yaml: String, file: String) throws(ScenarioError) -> Tree {
        guard yaml.utf8.count <= maximumFileBytes else {
            throw ScenarioError(file: file, issues: [ValidationIssue(
                file: file, line: nil, path: "", found: "a document of \(yaml.utf8.count) bytes",
                expected: "a document of at most \(maximumFileBytes) bytes (16 MiB)")])
        }
        let node: Node?
        do {
            node = try Yams.compose(yaml: yaml)
        } catch let error as YamlError {
            throw ScenarioError(file: file, issues: [ValidationIssue(
                file: file, line: Self.line(of: error).map { Self.editorLine($0, editorLines(yaml)) }, path: "",
                found: "text that is not valid YAML (\(Self.summary(of: error)))",
                expected: "a YAML mapping (see docs/scenario-format.md)")])
        } catch {
            throw ScenarioError(file: file, issues: [ValidationIssue(
                file: file, line: nil, path: "", found: "unreadable YAML",
                expected: "a YAML mapping")])
        }
        guard let node else {
            throw ScenarioError(file: file, issues: [ValidationIssue(
                file: file, line: nil, path: "", found: "an empty document", expected: "a YAML mapping")])
        }
        let builder = Builder(file: file, editorLines: editorLines(yaml))
        let tree = builder.tree(node, path: "")
        if !builder.issues.isEmpty { throw ScenarioError(file: file, issues: builder.issues) }
        return tree
    }

    /// Builds a tree from Yams's nodes, counting values as aliases expand
    /// (an alias bomb stops at `maximumNodes`) and refusing a key that
    /// occurs twice once YAML types are dropped (`1` and `"1"`).
    private final class Builder {
        let file: String
        var nodes = 0
        var issues: [ValidationIssue] = []
        var overflowed = false
        let editorLines: [Int]?

        init(file: String, editorLines: [Int]?) {
            self.file = file
            self.editorLines = editorLines
        }

        func tree(_ node: Node, path: String) -> Tree {
            nodes += 1
            let line = node.mark.map { Tree.editorLine($0.line, editorLines) }
            if nodes > Tree.maximumNodes {
                if !overflowed {
                    overflowed = true
                    issues.append(ValidationIssue(file: file, line: line, path: path,
                        found: "a document of more than \(Tree.maximumNodes) values once its aliases (*name) are expanded",
                        expected: "at most \(Tree.maximumNodes) values: fewer aliases, or aliases of smaller values"))
                }
                return Tree(value: .null, path: path, line: line)
            }
            switch node {
            case .scalar(let s):
                let isNull = s.style == .plain && ["", "~", "null", "Null", "NULL"].contains(s.string)
                return Tree(value: isNull ? .null : .scalar(s.string), path: path, line: line)
            case .mapping(let m):
                var seen: Set<String> = []
                var entries: [(key: String, value: Tree)] = []
                for pair in m {
                    if overflowed { break }
                    let key = pair.key.scalar?.string ?? "(a \(pair.key.mapping != nil ? "mapping" : "list") as a key)"
                    var child = tree(pair.value, path: Tree.join(path, key))
                    // Report a field at its key's line (a block mapping's own mark is its first entry's line).
                    if let keyLine = pair.key.mark?.line { child.line = Tree.editorLine(keyLine, editorLines) }
                    if !seen.insert(key).inserted {
                        issues.append(ValidationIssue(file: file, line: child.line, path: child.path,
                            found: "the key '\(MessageText.excerpt(key))' a second time in one mapping (YAML types 1 and \"1\" apart, girfec does not)",
                            expected: "each key once in a mapping"))
                        continue
                    }
                    entries.append((key: key, value: child))
                }
                return Tree(value: .mapping(entries), path: path, line: line)
            case .sequence(let s):
                var items: [Tree] = []
                for (i, n) in s.enumerated() {
                    if overflowed { break }
                    items.append(tree(n, path: "\(path)[\(i)]"))
                }
                return Tree(value: .sequence(items), path: path, line: line)
            case .alias:
                return Tree(value: .null, path: path, line: line)
            }
        }
    }

    static func join(_ path: String, _ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    /// The editor's line of each YAML line (index: the YAML line, from 1), or nil when they agree.
    ///
    /// YAML breaks lines at LF, CRLF, a lone CR, NEL, LS and PS (YAML 1.1 §5.4), editors and
    /// `grep -n` only at LF (and CRLF), or at CR in a file without any LF; the CSV reader counts
    /// the same way (`CSV.records`). The parse is YAML's; only the line numbers reported are the editor's.
    static func editorLines(_ text: String) -> [Int]? {
        let s = Array(text.unicodeScalars)
        let hasLF = s.contains("\n")
        func isOtherBreak(_ c: Unicode.Scalar) -> Bool { c == "\u{85}" || c == "\u{2028}" || c == "\u{2029}" }
        guard s.contains(where: { ($0 == "\r" && hasLF) || isOtherBreak($0) }) else { return nil }
        var map = [1, 1]
        var editor = 1
        var i = 0
        while i < s.count {
            let c = s[i]
            if c == "\r", i + 1 < s.count, s[i + 1] == "\n" {
                editor += 1
                map.append(editor)
                i += 2
                continue
            }
            if c == "\n" || (c == "\r" && !hasLF) {
                editor += 1
                map.append(editor)
            } else if c == "\r" || isOtherBreak(c) {
                map.append(editor)
            }
            i += 1
        }
        return map
    }

    /// The editor's line of a YAML line (`editorLines`).
    static func editorLine(_ yamlLine: Int, _ map: [Int]?) -> Int {
        guard let map, yamlLine >= 0 else { return yamlLine }
        return map[min(yamlLine, map.count - 1)]
    }

    private static func line(of error: YamlError) -> Int? {
        switch error {
        case .scanner(_, _, let mark, _), .parser(_, _, let mark, _), .composer(_, _, let mark, _):
            return mark.line
        case .duplicatedKeysInMapping(_, let context):
            return context.mark.line
        default:
            return nil
        }
    }

    private static func summary(of error: YamlError) -> String {
        switch error {
        case .scanner(_, let problem, _, _), .parser(_, let problem, _, _), .composer(_, let problem, _, _):
            return problem
        case .duplicatedKeysInMapping(let duplicates, _):
            return "the key\(duplicates.count == 1 ? "" : "s") \(duplicates.sorted().prefix(5).map { "'\(MessageText.excerpt($0))'" }.joined(separator: ", ")) repeated in one mapping"
        default:
            return MessageText.excerpt("\(error)", limit: 200)
        }
    }

    /// A short rendering of this value for messages.
    public var shortDescription: String {
        switch value {
        case .scalar(let s): return "'\(MessageText.excerpt(s))'"
        case .null: return "nothing (null)"
        case .mapping(let m):
            let keys = m.prefix(10).map { MessageText.excerpt($0.key) }.joined(separator: ", ")
            return "a mapping with keys \(keys)\(m.count > 10 ? ", … (\(m.count) in all)" : "")"
        case .sequence(let s): return "a list of \(s.count) items"
        }
    }

    /// The value with `override` merged over it: mappings merge key by key,
    /// recursively; any other value in `override` replaces; a null in
    /// `override` removes the key. Paths and lines of overriding values are
    /// kept, so errors point into the override.
    public func merging(_ override: Tree) -> Tree {
        guard case .mapping(let base) = value, case .mapping(let over) = override.value else {
            return override
        }
        var result = base
        for (key, newValue) in over {
            if let i = result.firstIndex(where: { $0.key == key }) {
                if case .null = newValue.value {
                    result.remove(at: i)
                } else {
                    result[i].value = result[i].value.merging(newValue)
                }
            } else if case .null = newValue.value {
                continue
            } else {
                result.append((key: key, value: newValue))
            }
        }
        return Tree(value: .mapping(result), path: path, line: line)
    }
}

extension Tree {
    /// The value at field path `path` (as in messages: `a.b[2].c`), if any.
    public func find(path target: String) -> Tree? {
        if path == target { return self }
        switch value {
        case .mapping(let entries):
            for (_, child) in entries where target.hasPrefix(child.path) {
                if let hit = child.find(path: target) { return hit }
            }
        case .sequence(let items):
            for child in items where target.hasPrefix(child.path) {
                if let hit = child.find(path: target) { return hit }
            }
        default: break
        }
        return nil
    }
}

/// Writing text as a YAML scalar, for the commands that write scenario files (`girfec import`, the
/// explorer's export), so every writer escapes alike and the decoder reads back the same text.
public enum YAMLScalar {
    /// `s` as a YAML double-quoted scalar: `"` and `\` escaped, line breaks and tabs as `\n` and
    /// `\t`, other control characters as `\xHH` (YAML 1.2, §5.7 escaped characters).
    public static func doubleQuoted(_ s: String) -> String {
        var out = "\""
        for c in s.unicodeScalars {
            switch c {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case _ where c.value < 0x20 || c.value == 0x7f: out += String(format: "\\x%02X", c.value)
            default: out.unicodeScalars.append(c)
            }
        }
        return out + "\""
    }
}
