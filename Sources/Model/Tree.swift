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

    /// The text of a YAML file, or the error a user sees when it cannot be read.
    static func readText(path: String, what: String) throws(ScenarioError) -> String {
        do { return try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw ScenarioError(file: path, issues: [ValidationIssue(file: path, line: nil, path: "",
                found: "a file that cannot be read (\(error.localizedDescription))", expected: "a readable UTF-8 \(what)")])
        }
    }

    /// Parse YAML text. Errors carry the file name and the parser's line.
    public static func parse(yaml: String, file: String) throws(ScenarioError) -> Tree {
        let node: Node?
        do {
            node = try Yams.compose(yaml: yaml)
        } catch let error as YamlError {
            throw ScenarioError(file: file, issues: [ValidationIssue(
                file: file, line: Self.line(of: error), path: "",
                found: "text that is not valid YAML (\(Self.summary(of: error)))",
                expected: "a YAML mapping (see docs/scenario-format.md)")])
        } catch {
            throw ScenarioError(file: file, issues: [ValidationIssue(
                file: file, line: nil, path: "", found: "unreadable YAML (\(error))",
                expected: "a YAML mapping")])
        }
        guard let node else {
            throw ScenarioError(file: file, issues: [ValidationIssue(
                file: file, line: nil, path: "", found: "an empty document", expected: "a YAML mapping")])
        }
        return Tree(node: node, path: "")
    }

    init(node: Node, path: String) {
        self.path = path
        self.line = node.mark.map { $0.line }
        switch node {
        case .scalar(let s):
            let isNull = s.style == .plain && ["", "~", "null", "Null", "NULL"].contains(s.string)
            value = isNull ? .null : .scalar(s.string)
        case .mapping(let m):
            value = .mapping(m.map { pair in
                let key = pair.key.scalar?.string ?? "\(pair.key)"
                var child = Tree(node: pair.value, path: Tree.join(path, key))
                // Report a field at its key's line (a block mapping's own mark is its first entry's line).
                if let keyLine = pair.key.mark?.line { child.line = keyLine }
                return (key: key, value: child)
            })
        case .sequence(let s):
            value = .sequence(s.enumerated().map { i, n in Tree(node: n, path: "\(path)[\(i)]") })
        case .alias:
            value = .null
        }
    }

    static func join(_ path: String, _ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

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
            return "the key\(duplicates.count == 1 ? "" : "s") \(duplicates.sorted().map { "'\($0)'" }.joined(separator: ", ")) repeated in one mapping"
        default:
            return "\(error)"
        }
    }

    /// A short rendering of this value for messages.
    public var shortDescription: String {
        switch value {
        case .scalar(let s): return "'\(s)'"
        case .null: return "nothing (null)"
        case .mapping(let m): return "a mapping with keys \(m.map(\.key).joined(separator: ", "))"
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
