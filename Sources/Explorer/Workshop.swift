import Foundation
import Model

/// What the page edits: the values a workshop debates, as the text typed in each field,
/// so that the scenario validator judges exactly what was typed.
///
/// Everything becomes arm overrides in the scenario's own format (docs/scenario-format.md):
/// `time.horizonYears` and `levels.L.{costPerChildYear, qolWeight}` in every arm (arms must
/// share time; level valuations are shared by all arms), and per arm its practices and
/// programme cost, over the overrides of the scenario arm it was copied from.
public struct WorkshopSettings: Codable, Sendable, Equatable {
    public struct Point: Codable, Sendable, Equatable {
        public var timeYears: String
        public var value: String
        public init(timeYears: String, value: String) { self.timeYears = timeYears; self.value = value }
    }

    public struct PracticeSetting: Codable, Sendable, Equatable {
        public var name: String
        public var escalationEffect: String
        public var stepDownEffect: String
        /// Coverage share of the children in the practice's areas.
        public var share: String
        public var timeToEffectYears: String
        /// One point at time 0 is a constant intensity.
        public var intensity: [Point]
    }

    public struct LevelSetting: Codable, Sendable, Equatable {
        public var name: String
        public var costPerChildYear: String
        public var qolWeight: String
    }

    public struct ArmSetting: Codable, Sendable, Equatable {
        public var name: String
        /// The scenario arm whose overrides this arm starts from (nil: the scenario's base).
        public var basedOn: String?
        public var practices: [PracticeSetting]
        /// Nil when the arm's programme cost is not one constant (then it is left as written).
        public var programmeCostPerYear: String?
    }

    public var horizonYears: String
    public var levels: [LevelSetting]
    public var arms: [ArmSetting]
    /// `cohort` (the default of `girfec run`) or `sd`.
    public var mode: String?

    /// Largest number of arms the page may ask for.
    public static let maximumArms = 12
}

/// The scenario file behind the page, and how settings become a scenario.
public struct WorkshopScenario: Sendable {
    /// The path as given on the command line (named in messages).
    public let file: String
    public let text: String
    /// The files the scenario names (`include`, draws), read once at start; nothing else is read.
    public let attached: [String: String]
    public let scenario: Scenario
    /// Each scenario arm's own overrides, as written.
    let overrides: [(name: String, tree: Tree?)]

    /// Read and validate `path` (the same `ScenarioDecoder.load` as `girfec validate`).
    public init(path: String) throws(ScenarioError) {
        let text: String
        switch Tree.readRegularFile(path) {
        case .success(let t): text = t
        case .failure:
            // The validator's own message for a file that cannot be read.
            _ = try ScenarioDecoder.load(path: path)
            throw ScenarioError(file: path, issues: [])
        }
        let folder = PathText.folder(of: path)
        let scenario = try ScenarioDecoder.decode(yaml: text, file: path, reading: { ScenarioDecoder.attachedFile($0, folder: folder) })
        try self.init(file: path, text: text, scenario: scenario)
    }

    /// A scenario already read (tests).
    public init(file: String, text: String, scenario: Scenario) throws(ScenarioError) {
        self.file = file
        self.text = text
        self.scenario = scenario
        attached = scenario.attachedFiles
        let root = try Tree.parse(yaml: text, file: file)
        var overrides: [(String, Tree?)] = []
        if case .mapping(let entries) = root.value, let arms = entries.first(where: { $0.key == "arms" })?.value,
           case .mapping(let named) = arms.value {
            for (name, tree) in named {
                if case .null = tree.value { overrides.append((name, nil)) } else { overrides.append((name, tree)) }
            }
        }
        self.overrides = overrides
    }

    /// The settings as the scenario has them: the page's starting point.
    public var settings: WorkshopSettings {
        let first = scenario.arms[0]
        let levels = first.levels.map {
            WorkshopSettings.LevelSetting(name: $0.name, costPerChildYear: CSV.number($0.costPerChildYear), qolWeight: CSV.number($0.qolWeight))
        }
        let arms = scenario.arms.map { arm in
            WorkshopSettings.ArmSetting(
                name: arm.name, basedOn: overrides.contains { $0.name == arm.name } ? arm.name : nil,
                practices: arm.practices.map { p in
                    WorkshopSettings.PracticeSetting(
                        name: p.name, escalationEffect: CSV.number(p.escalationEffect), stepDownEffect: CSV.number(p.stepDownEffect),
                        share: CSV.number(p.share), timeToEffectYears: CSV.number(p.timeToEffectYears),
                        intensity: p.intensity.points.map { .init(timeYears: CSV.number($0.timeYears), value: CSV.number($0.value)) })
                },
                programmeCostPerYear: arm.programmeCostPerYear.points.count == 1 && arm.programmeCostPerYear.points[0].timeYears == 0
                    ? CSV.number(arm.programmeCostPerYear.points[0].value) : nil)
        }
        return WorkshopSettings(horizonYears: CSV.number(first.horizonYears), levels: levels, arms: arms, mode: "cohort")
    }

    /// The scenario file these settings make: the original text with its `arms` replaced.
    ///
    /// Comments and every other section stay as written; each arm is the overrides of the arm
    /// it was copied from with the page's values merged over them (`Tree.merging`).
    public func yaml(_ settings: WorkshopSettings, header: String? = nil) -> String {
        let settings0 = self.settings
        var lines = ["arms:"]
        for arm in settings.arms {
            let base = arm.basedOn.flatMap { name in overrides.first { $0.name == name } }?.tree
            let edits = Self.edits(arm, settings, original: settings0)
            let merged = base.map { $0.merging(edits) } ?? edits
            if case .mapping(let entries) = merged.value, entries.isEmpty {
                lines.append("  \(YAMLText.key(arm.name)): {}")
            } else {
                lines.append("  \(YAMLText.key(arm.name)):")
                YAMLText.emit(merged, indent: 4, into: &lines)
            }
        }
        let armsText = lines.joined(separator: "\n") + "\n"
        let body = YAMLText.replacingArms(in: text, with: armsText)
        return (header.map { $0.split(separator: "\n", omittingEmptySubsequences: false).map { "# \($0)" }.joined(separator: "\n") + "\n" } ?? "") + body
    }

    /// Validate settings with the scenario validator (`ScenarioDecoder.decode`, as `girfec validate`);
    /// reads no file: the scenario's attached files were read at start.
    public func scenario(_ settings: WorkshopSettings) -> Result<(scenario: Scenario, yaml: String), ScenarioError> {
        let text = yaml(settings)
        let attached = self.attached
        do {
            let s = try ScenarioDecoder.decode(yaml: text, file: file, reading: { name in
                attached[name].map { .success($0) } ?? .failure(.init(found: "a file the explorer did not read at start"))
            })
            return .success((s, text))
        } catch {
            return .failure(error)
        }
    }

    /// One arm's values from the page, as an override tree: only those that differ from what the
    /// scenario gives (`original`: its settings as written), so the exported arms stay as short as
    /// the workshop's changes.
    static func edits(_ arm: WorkshopSettings.ArmSetting, _ settings: WorkshopSettings, original: WorkshopSettings) -> Tree {
        func scalar(_ s: String) -> Tree { Tree(value: .scalar(s), path: "", line: nil) }
        func map(_ entries: [(String, Tree)]) -> Tree { Tree(value: .mapping(entries.map { (key: $0.0, value: $0.1) }), path: "", line: nil) }
        var top: [(String, Tree)] = []
        if settings.horizonYears != original.horizonYears {
            top.append(("time", map([("horizonYears", scalar(settings.horizonYears))])))
        }
        var levels: [(String, Tree)] = []
        for level in settings.levels {
            let was = original.levels.first { $0.name == level.name }
            var fields: [(String, Tree)] = []
            if level.costPerChildYear != was?.costPerChildYear { fields.append(("costPerChildYear", scalar(level.costPerChildYear))) }
            if level.qolWeight != was?.qolWeight { fields.append(("qolWeight", scalar(level.qolWeight))) }
            if !fields.isEmpty { levels.append((level.name, map(fields))) }
        }
        if !levels.isEmpty { top.append(("levels", map(levels))) }
        let from = original.arms.first { $0.name == arm.basedOn }
        var practices: [(String, Tree)] = []
        for p in arm.practices {
            let was = from?.practices.first { $0.name == p.name }
            var fields: [(String, Tree)] = []
            if p.intensity != was?.intensity {
                if p.intensity.count == 1, Double(p.intensity[0].timeYears) == 0 {
                    fields.append(("intensity", scalar(p.intensity[0].value)))
                } else {
                    fields.append(("intensity", Tree(value: .sequence(p.intensity.map { map([("timeYears", scalar($0.timeYears)), ("value", scalar($0.value))]) }),
                                                     path: "", line: nil)))
                }
            }
            if p.share != was?.share { fields.append(("coverage", map([("share", scalar(p.share))]))) }
            if p.escalationEffect != was?.escalationEffect { fields.append(("escalationEffect", scalar(p.escalationEffect))) }
            if p.stepDownEffect != was?.stepDownEffect { fields.append(("stepDownEffect", scalar(p.stepDownEffect))) }
            if p.timeToEffectYears != was?.timeToEffectYears { fields.append(("timeToEffectYears", scalar(p.timeToEffectYears))) }
            if !fields.isEmpty { practices.append((p.name, map(fields))) }
        }
        if !practices.isEmpty { top.append(("practice", map(practices))) }
        if let c = arm.programmeCostPerYear, c != from?.programmeCostPerYear { top.append(("programme", map([("costPerYear", scalar(c))]))) }
        return map(top)
    }
}

/// Block-style YAML for a `Tree`, and the replacement of a file's `arms` section.
enum YAMLText {
    /// A scalar as YAML: plain when it cannot be misread, else double-quoted (JSON escapes are YAML's).
    static func scalar(_ s: String) -> String {
        let plain = !s.isEmpty && s.unicodeScalars.allSatisfy { c in
            (c >= "a" && c <= "z") || (c >= "A" && c <= "Z") || (c >= "0" && c <= "9") || "_.+-/ ".unicodeScalars.contains(c)
        } && !s.hasPrefix(" ") && !s.hasSuffix(" ") && !s.hasPrefix("-") && !["null", "~", "true", "false", "yes", "no", "on", "off"].contains(s.lowercased())
        return plain || Double(s) != nil && !s.contains(" ") ? s : YAMLScalar.doubleQuoted(s)
    }

    static func key(_ s: String) -> String { scalar(s) }

    /// Append `tree`'s lines, a mapping's keys at `indent` spaces.
    static func emit(_ tree: Tree, indent: Int, into lines: inout [String]) {
        let pad = String(repeating: " ", count: indent)
        switch tree.value {
        case .scalar(let s): lines.append(pad + scalar(s))
        case .null: lines.append(pad + "null")
        case .mapping(let entries):
            if entries.isEmpty { lines.append(pad + "{}") }
            for (k, v) in entries {
                if let inline = inline(v) {
                    lines.append("\(pad)\(key(k)): \(inline)")
                } else {
                    lines.append("\(pad)\(key(k)):")
                    emit(v, indent: indent + 2, into: &lines)
                }
            }
        case .sequence(let items):
            if items.isEmpty { lines.append(pad + "[]") }
            for item in items {
                if let inline = inline(item) {
                    lines.append("\(pad)- \(inline)")
                } else {
                    var inner: [String] = []
                    emit(item, indent: indent + 2, into: &inner)
                    inner[0] = pad + "- " + inner[0].dropFirst(indent + 2)
                    lines += inner
                }
            }
        }
    }

    /// A value written on its key's line: a scalar, null, an empty collection, or a flat mapping.
    static func inline(_ tree: Tree) -> String? {
        switch tree.value {
        case .scalar(let s): return scalar(s)
        case .null: return "null"
        case .mapping(let entries) where entries.isEmpty: return "{}"
        case .sequence(let items) where items.isEmpty: return "[]"
        case .mapping(let entries) where entries.count <= 4 && entries.allSatisfy({ if case .scalar = $0.value.value { true } else { false } }):
            return "{" + entries.map { "\(key($0.key)): \(inline($0.value)!)" }.joined(separator: ", ") + "}"
        case .sequence(let items) where items.allSatisfy({ if case .scalar = $0.value { true } else { false } }):
            return "[" + items.map { inline($0)! }.joined(separator: ", ") + "]"
        default: return nil
        }
    }

    /// `text` with its top-level `arms:` block (up to the next top-level key; the comments just
    /// before that key stay with it) replaced by `arms`; appended when there is none.
    static func replacingArms(in text: String, with arms: String) -> String {
        var lines = text.components(separatedBy: "\n")
        if lines.last == "" { lines.removeLast() }
        guard let start = lines.firstIndex(where: { $0.hasPrefix("arms:") }) else {
            return lines.joined(separator: "\n") + "\n" + arms
        }
        var end = lines[(start + 1)...].firstIndex { line in
            guard let c = line.first else { return false }
            return c != " " && c != "#" && c != "\t"
        } ?? lines.count
        while end > start + 1, lines[end - 1].hasPrefix("#") || lines[end - 1].trimmingCharacters(in: .whitespaces).isEmpty, end < lines.count {
            end -= 1
        }
        let after = end < lines.count ? "\n" + lines[end...].joined(separator: "\n") + "\n" : ""
        return lines[..<start].joined(separator: "\n") + "\n" + arms + after
    }
}
