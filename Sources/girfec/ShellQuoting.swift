import Foundation

/// Quoting of every value that `girfec slurm` writes into a job script, and the values it cannot carry.
///
/// A job script is read twice, by two different parsers. Its `#SBATCH` lines
/// are read by sbatch itself, not by a shell: sbatch splits a directive at
/// whitespace, honours single and double quotes (alike) and backslash escapes,
/// and treats an unquoted `#` as the start of a comment. The value of
/// `--output=` is then expanded as a filename pattern (`%a`, `%j`, `%%`, and a
/// backslash anywhere turns the expansion off). The rest of the script is bash.
/// Measured with sbatch 22.05 (docs/cluster.md, section 8).
enum ScriptQuoting {
    /// Where in a job script a value is written.
    enum Context {
        /// A word of the bash part of a script.
        case shellWord
        /// The value of an `#SBATCH --option=VALUE` line.
        case directive
        /// A literal path written as the start of an `#SBATCH --output=` filename pattern.
        case outputPath
    }

    /// `value` quoted for `context`: the one function through which every value written into a job script passes.
    ///
    /// - `shellWord`: POSIX single quotes, always (`'` becomes `'\''`); nothing inside is expanded.
    /// - `directive`: bare when it holds only ASCII letters, digits and `_ . / : , = + @ % -`; otherwise in
    ///   double quotes with `\` and `"` escaped by a backslash, which is how sbatch's directive parser reads them.
    /// - `outputPath`: every `%` doubled (sbatch's `%%`, a literal `%`), then quoted as a directive. Append a
    ///   pattern such as `/shard-%a.out` with `outputPattern(folder:pattern:)`.
    ///
    /// Values must have passed `refusal(of:in:)`: a control character cannot be quoted for sbatch.
    static func quote(_ value: String, for context: Context) -> String {
        switch context {
        case .shellWord:
            return "'" + value.replacingOccurrences(of: "'", with: "'\\''") + "'"
        case .directive:
            if !value.isEmpty, value.unicodeScalars.allSatisfy({ bareDirectiveScalars.contains($0) }) { return value }
            var quoted = "\""
            for ch in value.unicodeScalars {
                if ch == "\\" || ch == "\"" { quoted.unicodeScalars.append("\\") }
                quoted.unicodeScalars.append(ch)
            }
            return quoted + "\""
        case .outputPath:
            return outputPattern(folder: value, pattern: "")
        }
    }

    /// The value of `#SBATCH --output=`: the literal `folder` (each `%` doubled) followed by a trusted filename
    /// `pattern` such as `/shard-%a.out`, quoted as a directive.
    static func outputPattern(folder: String, pattern: String) -> String {
        quote(folder.replacingOccurrences(of: "%", with: "%%") + pattern, for: .directive)
    }

    /// Why `value` cannot be written into a job script in `context` ("found …; expected …"), or nil when it can.
    static func refusal(of value: String, in context: Context) -> String? {
        for (offset, scalar) in value.unicodeScalars.enumerated() {
            if scalar == "\u{FFFD}" {
                return "found a character that is not valid UTF-8 (shown as \u{FFFD}) at position \(offset + 1) of \(visible(value)); expected valid UTF-8 text"
            }
            if isControl(scalar) {
                return "found \(describe(scalar)) at position \(offset + 1) of \(visible(value)); expected no control characters (each value is written on one line of a job script, and a line break would start a new line of shell or of #SBATCH)"
            }
        }
        if context == .outputPath, value.contains("\\") {
            return "found a backslash in \(visible(value)); expected a path without '\\' (sbatch stops expanding %a in a log file name that holds a backslash and drops the backslash, so the logs would land elsewhere)"
        }
        return nil
    }

    /// `value` in single quotes, with control characters shown as escapes (`\n`, `\u{7}`), for messages.
    static func visible(_ value: String) -> String {
        var shown = ""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\n": shown += "\\n"
            case "\r": shown += "\\r"
            case "\t": shown += "\\t"
            default: shown += isControl(scalar) ? "\\u{\(String(scalar.value, radix: 16, uppercase: true))}" : String(scalar)
            }
        }
        return "'" + shown + "'"
    }

    /// ASCII letters, digits and `_ . / : , = + @ % -`: left bare in a directive.
    private static let bareDirectiveScalars: Set<Unicode.Scalar> = Set(
        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_./:,=+@%-".unicodeScalars)

    /// C0 and C1 controls, DEL, and the Unicode line and paragraph separators.
    private static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        scalar.properties.generalCategory == .control || scalar == "\u{2028}" || scalar == "\u{2029}"
    }

    private static func describe(_ scalar: Unicode.Scalar) -> String {
        switch scalar {
        case "\n": return "a newline"
        case "\r": return "a carriage return"
        case "\t": return "a tab"
        default: return "the control character U+\(String(format: "%04X", scalar.value))"
        }
    }
}
