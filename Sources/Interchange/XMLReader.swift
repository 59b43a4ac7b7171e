import Foundation

/// An element of an XML document: its local name (namespace prefix dropped), attributes, child
/// elements and text, with the line it starts on for messages.
struct XMLElement: Sendable {
    var name: String
    var attributes: [String: String]
    var children: [XMLElement]
    var text: String
    var line: Int

    func child(_ name: String) -> XMLElement? { children.first { $0.name == name } }
    func all(_ name: String) -> [XMLElement] { children.filter { $0.name == name } }
    /// The trimmed text of a child element, if present.
    func value(_ name: String) -> String? { child(name).map { $0.text.trimmingCharacters(in: .whitespacesAndNewlines) } }
}

/// Why an XML text could not be read: where, and what was expected.
struct XMLProblem: Error, Sendable {
    var line: Int
    var message: String
}

/// A small reader for the XML that XMILE files use: elements, attributes, text, the five
/// predefined entities and numeric character references, comments, CDATA, the XML declaration
/// and processing instructions. No DTDs (an XMILE file has none); nothing is fetched.
struct XMLReader {
    private let bytes: [UInt8]
    private var i = 0
    private var line = 1
    /// Elements open around the one being read; an XMILE file nests a few deep.
    private var depth = 0
    /// The deepest nesting read: deeper documents are refused, not read by ever deeper recursion.
    static let maximumDepth = 256

    init(_ text: String) { bytes = Array(text.utf8) }

    static func parse(_ text: String) throws(XMLProblem) -> XMLElement {
        var reader = XMLReader(text)
        return try reader.document()
    }

    private var atEnd: Bool { i >= bytes.count }

    private func starts(with s: String) -> Bool {
        let u = Array(s.utf8)
        return i + u.count <= bytes.count && Array(bytes[i..<i + u.count]) == u
    }

    private mutating func advance(_ n: Int = 1) {
        for _ in 0..<n where i < bytes.count {
            if bytes[i] == UInt8(ascii: "\n") { line += 1 }
            i += 1
        }
    }

    private mutating func skip(until end: String, what: String) throws(XMLProblem) {
        let start = line
        while !atEnd && !starts(with: end) { advance() }
        guard !atEnd else { throw XMLProblem(line: start, message: "found \(what) that is never closed; expected '\(end)'") }
        advance(end.utf8.count)
    }

    private mutating func skipSpace() {
        while !atEnd, [UInt8(ascii: " "), UInt8(ascii: "\n"), UInt8(ascii: "\t"), UInt8(ascii: "\r")].contains(bytes[i]) { advance() }
    }

    /// Comments, processing instructions and the declaration before or between elements.
    private mutating func skipMisc() throws(XMLProblem) {
        while true {
            skipSpace()
            if starts(with: "<!--") { try skip(until: "-->", what: "a comment") } else if starts(with: "<?") {
                try skip(until: "?>", what: "a processing instruction")
            } else if starts(with: "<!DOCTYPE") {
                throw XMLProblem(line: line, message: "found a DOCTYPE declaration; expected none (XMILE files have no DTD)")
            } else { return }
        }
    }

    private mutating func document() throws(XMLProblem) -> XMLElement {
        if starts(with: "\u{FEFF}") { advance(3) }
        try skipMisc()
        guard starts(with: "<") else { throw XMLProblem(line: line, message: "found text before the first element; expected an XML document") }
        let root = try element()
        try skipMisc()
        guard atEnd else { throw XMLProblem(line: line, message: "found content after the root element; expected the end of the file") }
        return root
    }

    private mutating func name() throws(XMLProblem) -> String {
        let start = i
        while !atEnd {
            let c = bytes[i]
            if c == UInt8(ascii: " ") || c == UInt8(ascii: ">") || c == UInt8(ascii: "/") || c == UInt8(ascii: "=")
                || c == UInt8(ascii: "\n") || c == UInt8(ascii: "\t") || c == UInt8(ascii: "\r") { break }
            advance()
        }
        guard i > start else { throw XMLProblem(line: line, message: "found no name; expected an element or attribute name") }
        return String(decoding: bytes[start..<i], as: UTF8.self)
    }

    private static func local(_ qualified: String) -> String {
        qualified.split(separator: ":").last.map(String.init) ?? qualified
    }

    private func decode(_ raw: String, line: Int) throws(XMLProblem) -> String {
        guard raw.contains("&") else { return raw }
        var out = "", rest = Substring(raw)
        while let amp = rest.firstIndex(of: "&") {
            out += rest[..<amp]
            guard let semi = rest[amp...].firstIndex(of: ";") else {
                throw XMLProblem(line: line, message: "found '&' without ';'; expected an entity such as &amp;")
            }
            let entity = String(rest[rest.index(after: amp)..<semi])
            switch entity {
            case "amp": out += "&"
            case "lt": out += "<"
            case "gt": out += ">"
            case "quot": out += "\""
            case "apos": out += "'"
            default:
                let hex = entity.hasPrefix("#x"), dec = entity.hasPrefix("#")
                guard dec, let code = UInt32(entity.dropFirst(hex ? 2 : 1), radix: hex ? 16 : 10), let scalar = Unicode.Scalar(code) else {
                    throw XMLProblem(line: line, message: "found the entity &\(entity);; expected &amp;, &lt;, &gt;, &quot;, &apos; or a character reference")
                }
                out.unicodeScalars.append(scalar)
            }
            rest = rest[rest.index(after: semi)...]
        }
        return out + rest
    }

    private mutating func element() throws(XMLProblem) -> XMLElement {
        let startLine = line
        depth += 1
        defer { depth -= 1 }
        guard depth <= Self.maximumDepth else {
            throw XMLProblem(line: startLine, message: "found elements nested more than \(Self.maximumDepth) deep; expected an XMILE document (a few levels deep)")
        }
        advance()  // <
        let qualified = try name()
        var attributes: [String: String] = [:]
        while true {
            skipSpace()
            guard !atEnd else { throw XMLProblem(line: startLine, message: "found <\(qualified) never closed; expected '>'") }
            if starts(with: "/>") {
                advance(2)
                return XMLElement(name: Self.local(qualified), attributes: attributes, children: [], text: "", line: startLine)
            }
            if starts(with: ">") { advance(); break }
            let key = try name()
            skipSpace()
            guard starts(with: "=") else { throw XMLProblem(line: line, message: "found attribute \(key) without a value; expected \(key)=\"…\"") }
            advance()
            skipSpace()
            guard !atEnd, bytes[i] == UInt8(ascii: "\"") || bytes[i] == UInt8(ascii: "'") else {
                throw XMLProblem(line: line, message: "found an unquoted value of \(key); expected a quoted value")
            }
            let quote = bytes[i]
            advance()
            let start = i
            while !atEnd && bytes[i] != quote { advance() }
            guard !atEnd else { throw XMLProblem(line: startLine, message: "found the value of \(key) never closed; expected a closing quote") }
            attributes[Self.local(key)] = try decode(String(decoding: bytes[start..<i], as: UTF8.self), line: line)
            advance()
        }
        var children: [XMLElement] = []
        var text = ""
        while true {
            guard !atEnd else { throw XMLProblem(line: startLine, message: "found <\(qualified)> never closed; expected </\(qualified)>") }
            if starts(with: "</") {
                advance(2)
                let closing = try name()
                guard closing == qualified else {
                    throw XMLProblem(line: line, message: "found </\(closing)>; expected </\(qualified)> (opened on line \(startLine))")
                }
                skipSpace()
                guard starts(with: ">") else { throw XMLProblem(line: line, message: "found </\(closing) not closed; expected '>'") }
                advance()
                return XMLElement(name: Self.local(qualified), attributes: attributes, children: children, text: text, line: startLine)
            }
            if starts(with: "<!--") { try skip(until: "-->", what: "a comment"); continue }
            if starts(with: "<![CDATA[") {
                advance(9)
                let start = i
                try skip(until: "]]>", what: "a CDATA section")
                text += String(decoding: bytes[start..<(i - 3)], as: UTF8.self)
                continue
            }
            if starts(with: "<?") { try skip(until: "?>", what: "a processing instruction"); continue }
            if starts(with: "<") { children.append(try element()); continue }
            let start = i, textLine = line
            while !atEnd && bytes[i] != UInt8(ascii: "<") { advance() }
            text += try decode(String(decoding: bytes[start..<i], as: UTF8.self), line: textLine)
        }
    }
}
