import Foundation

/// The `manifest.json` of every output folder girfec writes (docs/outputs.md).
///
/// One builder, so every command's manifest carries the same identifying fields
/// (`format`, `tool`, `version`, `gitCommit`, `command`) spelt the same way,
/// serialised with sorted keys so that equal manifests are equal bytes.
public enum Manifest {
    /// The manifest's bytes: the common fields, then `fields` (a command's own; a
    /// key of `fields` never replaces a common one), pretty-printed JSON and a final newline.
    public static func json(command: [String], _ fields: [String: Any]) -> [UInt8] {
        let common: [String: Any] = [
            "format": OutputFolder.format, "tool": "girfec", "version": GirfecVersion.string,
            "gitCommit": GirfecVersion.gitCommit() ?? "unknown", "command": command,
        ]
        let manifest = fields.merging(common) { _, common in common }
        let data = (try? JSONSerialization.data(withJSONObject: manifest, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])) ?? Data()
        return Array(data) + [10]
    }
}
