import Foundation
import Model

/// A report as a list of blocks, written once and rendered three ways: Markdown
/// (`report.md`), the tables alone for a paper to `\input` (`report-tables.tex`) and a
/// standalone LaTeX document that compiles with pdflatex (`report.tex`).
///
/// Sections are numbered when rendered, in order, so the numbers agree between the
/// files and have no gaps whatever sections a run has. Inline code (`` `x` ``) in text and
/// cells becomes `\texttt{x}`; everything else is escaped (`ReportDocument.latexText`).
struct ReportDocument {
    /// How a column is laid out in LaTeX: left-aligned at its natural width, or a paragraph
    /// column of a fraction of the line width that wraps (so a wide table fits the page).
    enum Column: Equatable {
        case left
        case wrap(Double)
    }

    /// A table in every file: Markdown, and a booktabs `longtable` (breaks across pages, the
    /// header repeated on each) in LaTeX.
    struct Table {
        var caption: String
        var label: String
        var header: [String]
        var rows: [[String]]
        /// One per column; nil: every column `.left`.
        var columns: [Column]? = nil
    }

    enum Block {
        case section(String)
        case paragraph(String)
        case table(Table)
        /// Lines of shell commands, shown as code.
        case code([String])
        /// A figure file relative to the report, e.g. figures/stocks.png, with its caption.
        case figure(ReportFigure)
    }

    var title: String
    var blocks: [Block] = []

    mutating func section(_ title: String) { blocks.append(.section(title)) }
    mutating func paragraph(_ text: String) { blocks.append(.paragraph(text)) }
    mutating func table(_ t: Table) { blocks.append(.table(t)) }

    /// The report's files, ending with a "Figures" section when `figures` is not empty:
    /// report.md, report-tables.tex and report.tex, each headed with girfec's version and `folder`.
    func files(folder: String, figures: [ReportFigure]) -> [(name: String, text: String)] {
        var doc = self
        if !figures.isEmpty {
            doc.section("Figures")
            for f in figures { doc.blocks.append(.figure(f)) }
        }
        let comment = "girfec \(GirfecVersion.string): \(folder)"
        return [("report.md", doc.markdown()), ("report-tables.tex", doc.latexTables(header: comment + ", tables")),
                ("report.tex", doc.latexDocument(comment: comment))]
    }

    // MARK: Markdown

    /// report.md: `# title`, numbered `## N. section` headings, pipe tables.
    func markdown() -> String {
        var md = ["# \(title)"]
        var number = 0
        for block in blocks {
            switch block {
            case .section(let s):
                number += 1
                md += ["", "## \(number). \(s)"]
            case .paragraph(let p): md += ["", p]
            case .table(let t): md += ["", Self.markdownTable(t.header, t.rows)]
            case .code(let lines): md += ["", "```sh"] + lines + ["```"]
            case .figure(let f):
                md += ["", "![\(f.path)](\(f.path))"]
                if let c = f.caption { md += ["", "*\(Self.flat(c))*"] }
            }
        }
        return md.joined(separator: "\n") + "\n"
    }

    /// A Markdown table; pipes in cells are escaped and line breaks become spaces.
    static func markdownTable(_ header: [String], _ rows: [[String]]) -> String {
        func line(_ cells: [String]) -> String {
            "| " + cells.map { flat($0).replacingOccurrences(of: "|", with: "\\|") }.joined(separator: " | ") + " |"
        }
        return ([line(header), "|" + String(repeating: "---|", count: header.count)] + rows.map(line)).joined(separator: "\n")
    }

    // MARK: LaTeX

    /// The packages the tables need, named in both LaTeX files.
    static let tablePackages = "booktabs, longtable, array"

    /// report-tables.tex: every table of the report, in order, for `\input` in a paper.
    func latexTables(header comment: String) -> String {
        var tex = ["% \(comment); needs \\usepackage{\(Self.tablePackages)}", ""]
        for case .table(let t) in blocks { tex += Self.latexTable(t) }
        return tex.joined(separator: "\n") + "\n"
    }

    /// report.tex: the whole report as a standalone article (pdflatex, Debian's
    /// texlive-latex-recommended and lmodern): the same sections, text, tables and figures.
    func latexDocument(comment: String) -> String {
        var tex = ["% \(comment)",
                   "% Compile with: pdflatex report.tex (twice, for the table numbers)",
                   "\\documentclass[11pt,a4paper]{article}",
                   "\\usepackage[T1]{fontenc}",
                   "\\usepackage[utf8]{inputenc}",
                   "\\usepackage{lmodern}",
                   "\\usepackage{textcomp}",
                   "\\usepackage[margin=2.2cm]{geometry}",
                   "\\usepackage{\(Self.tablePackages), graphicx}",
                   "\\setlength{\\LTcapwidth}{\\linewidth}",
                   "\\title{\(Self.latexText(title))}",
                   "\\author{}",
                   "\\date{}",
                   "\\begin{document}",
                   "\\maketitle", ""]
        for block in blocks {
            switch block {
            case .section(let s): tex += ["\\section{\(Self.latexText(s))}", ""]
            case .paragraph(let p): tex += [Self.latexText(p), ""]
            case .table(let t): tex += Self.latexTable(t)
            case .code(let lines):
                tex += ["\\begin{flushleft}\\small"]
                tex += lines.enumerated().map { i, l in Self.latexText("`" + l.replacingOccurrences(of: "`", with: "'") + "`") + (i < lines.count - 1 ? "\\\\" : "") }
                tex += ["\\end{flushleft}", ""]
            case .figure(let figure):
                let f = figure.path
                // Only plain file names reach \includegraphics; any other is named in text.
                if f.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "._-/".contains($0)) }) && f.hasSuffix(".png") {
                    tex += ["\\begin{figure}[htbp]", "\\centering", "\\includegraphics[width=\\linewidth]{\(f)}",
                            "\\caption{\(figure.caption.map { Self.latexText($0) + " (\\texttt{\(Self.latexText(f))})" } ?? "\\texttt{\(Self.latexText(f))}")}",
                            "\\end{figure}", ""]
                } else {
                    tex += ["Figure file \\texttt{\(Self.latexText(f))} (not included: its name is not a plain file name).", ""]
                }
            }
        }
        tex += ["\\end{document}"]
        return tex.joined(separator: "\n") + "\n"
    }

    /// A booktabs longtable in small type: caption and label, the header on every page, the rows.
    static func latexTable(_ t: Table) -> [String] {
        let columns = t.columns ?? t.header.map { _ in .left }
        // A wrapping column's fraction is of the line less the space between columns (2·\tabcolsep each).
        let gaps = 2 * max(columns.count - 1, 0)
        let spec = columns.map { c -> String in
            switch c {
            case .left: return "l"
            case .wrap(let f):
                return ">{\\raggedright\\arraybackslash}p{\(String(format: "%.2f", f))\\dimexpr\\linewidth-\(gaps)\\tabcolsep\\relax}"
            }
        }.joined()
        let head = t.header.map(latexText).joined(separator: " & ") + " \\\\"
        return ["\\begingroup\\small", "\\begin{longtable}{@{}\(spec)@{}}",
                "\\caption{\(latexText(t.caption))}\\label{\(t.label)}\\\\",
                "\\toprule", head, "\\midrule", "\\endfirsthead",
                "\\toprule", head, "\\midrule", "\\endhead",
                "\\bottomrule", "\\endlastfoot"]
            + t.rows.map(latexRow)
            + ["\\end{longtable}", "\\endgroup", ""]
    }

    /// One row of a LaTeX table: the cells escaped, joined by `&`.
    static func latexRow(_ cells: [String]) -> String { cells.map(latexText).joined(separator: " & ") + " \\\\" }

    /// Text for pdflatex: `` `code` `` as `\texttt{code}`, breakable after `_ / .` and inside camelCase (other text after `_`); LaTeX's special characters escaped;
    /// the symbols girfec writes (£ − Δ – — × → ≈ ≤ ≥ ² θ λ μ σ Σ · … ″ §) as LaTeX commands;
    /// Latin letters with accents (U+00C0–U+017F) as they are (T1 fonts have them); any other
    /// character, which pdflatex cannot set, as its code point, e.g. `[U+4E2D]`; line breaks and
    /// tabs as spaces.
    static func latexText(_ s: String) -> String {
        var out = ""
        var inCode = false
        var previous: Character = " "
        for c in flat(s) {
            defer { previous = c }
            // camelCase names in code may also break before an inner capital.
            if inCode && c.isUppercase && previous.isLowercase { out += "\\allowbreak{}" }
            if c == "`" {
                out += inCode ? "}" : "\\texttt{"
                inCode.toggle()
                continue
            }
            // In code "--" stays two hyphens (no en dash ligature).
            out += inCode && c == "-" ? "-{}" : latexCharacter(c)
            // Names with underscores (outcomes, columns) may break after _, and code also after / and .,
            // so they fit a column.
            if c == "_" || (inCode && "/.".contains(c)) { out += "\\allowbreak{}" }
        }
        if inCode { out += "}" }
        return out
    }

    static func latexCharacter(_ c: Character) -> String {
        switch c {
        case "\\": return "\\textbackslash{}"
        case "&", "%", "$", "#", "_", "{", "}": return "\\\(c)"
        case "~": return "\\textasciitilde{}"
        case "^": return "\\textasciicircum{}"
        case "<": return "\\textless{}"
        case ">": return "\\textgreater{}"
        case "|": return "\\textbar{}"
        case "\"": return "\\textquotedbl{}"
        case "£": return "\\pounds{}"
        case "−": return "$-$"
        case "Δ": return "$\\Delta$"
        case "Σ": return "$\\Sigma$"
        case "θ": return "$\\theta$"
        case "λ": return "$\\lambda$"
        case "μ": return "$\\mu$"
        case "σ": return "$\\sigma$"
        case "–": return "--"
        case "—": return "---"
        case "×": return "$\\times$"
        case "→": return "$\\rightarrow$"
        case "≈": return "$\\approx$"
        case "≤": return "$\\leq$"
        case "≥": return "$\\geq$"
        case "±": return "$\\pm$"
        case "·": return "$\\cdot$"
        case "²": return "\\textsuperscript{2}"
        case "³": return "\\textsuperscript{3}"
        case "…": return "\\ldots{}"
        case "″": return "$''$"
        case "§": return "\\S{}"
        case "°": return "\\textdegree{}"
        case "‘", "’": return "'"
        case "“": return "``"
        case "”": return "''"
        case "\u{00A0}": return "~"
        default:
            guard let scalar = c.unicodeScalars.first, c.unicodeScalars.count == 1 else { return codePoints(c) }
            if scalar.isASCII { return scalar.value < 0x20 || scalar.value == 0x7F ? " " : String(c) }
            if (0xC0...0x17F).contains(scalar.value) && scalar.value != 0xD7 && scalar.value != 0xF7 { return String(c) }
            return codePoints(c)
        }
    }

    /// `[U+XXXX]` for each scalar of a character pdflatex cannot set.
    static func codePoints(_ c: Character) -> String {
        c.unicodeScalars.map { "[U+" + String(format: "%04X", $0.value) + "]" }.joined()
    }

    /// Line breaks, tabs and other control characters as single spaces.
    static func flat(_ s: String) -> String {
        String(s.map { $0.isNewline || $0 == "\t" ? " " : $0 })
    }
}

/// A figure of a report: its path relative to the folder and the caption the figure scripts
/// wrote beside it (`figures/NAME.caption.txt`), if any.
public struct ReportFigure: Sendable, Equatable {
    public var path: String
    public var caption: String?

    public init(path: String, caption: String? = nil) {
        self.path = path
        self.caption = caption
    }

    /// The PNG figures in `folder`/figures, sorted, each with the caption beside it when that is
    /// UTF-8 text of at most 20 kB (what the figure scripts write); anything else is left out.
    public static func inFolder(_ folder: String) -> [ReportFigure] {
        let figures = PathText.join(folder, "figures")
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: figures)) ?? []).filter { $0.hasSuffix(".png") }.sorted()
        return names.map { name in
            let captionPath = PathText.join(figures, String(name.dropLast(4)) + ".caption.txt")
            let data = FileManager.default.contents(atPath: captionPath).flatMap { $0.count <= 20_000 ? $0 : nil }
            let caption = data.flatMap { String(data: $0, encoding: .utf8) }?.trimmingCharacters(in: .whitespacesAndNewlines)
            return ReportFigure(path: "figures/\(name)", caption: caption?.isEmpty == false ? caption : nil)
        }
    }
}
