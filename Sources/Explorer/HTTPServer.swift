import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One HTTP/1.1 request, read whole (headers and a body of bounded size).
public struct HTTPRequest: Sendable {
    public var method: String
    /// The path without the query, e.g. `/api/run`.
    public var path: String
    /// Query parameters, percent-decoded.
    public var query: [String: String]
    /// Header fields, names lower-cased.
    public var headers: [String: String]
    public var body: [UInt8]

    public init(method: String, path: String, query: [String: String] = [:], headers: [String: String] = [:], body: [UInt8] = []) {
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers
        self.body = body
    }
}

/// A whole response, written with `Connection: close`.
public struct HTTPResponse: Sendable {
    public var status: Int
    public var contentType: String
    public var body: [UInt8]
    public var headers: [(String, String)]

    public init(status: Int, contentType: String, body: [UInt8], headers: [(String, String)] = []) {
        self.status = status
        self.contentType = contentType
        self.body = body
        self.headers = headers
    }

    public init(status: Int, text: String) {
        self.init(status: status, contentType: "text/plain; charset=utf-8", body: Array(text.utf8))
    }

    public static func json(_ object: Any, status: Int = 200) -> HTTPResponse {
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data("{}".utf8)
        return HTTPResponse(status: status, contentType: "application/json; charset=utf-8", body: Array(data))
    }

    /// An error as JSON: `{"error": message}`, which the page shows.
    public static func error(_ status: Int, _ message: String) -> HTTPResponse {
        json(["error": message], status: status)
    }
}

/// What a handler answers: a whole response, or a stream of server-sent events.
public enum HTTPReply: Sendable {
    case response(HTTPResponse)
    /// `text/event-stream`: the closure writes events until it returns; `send` says false once the client has gone.
    case events(@Sendable (_ send: (String, String) -> Bool) -> Void)
}

/// Bounds on what one client may make the server do.
public struct ServerLimits: Sendable {
    /// Request line and header fields together.
    public var maximumHeaderBytes = 16 * 1024
    /// A request body (the page's settings are a few kilobytes).
    public var maximumBodyBytes = 256 * 1024
    /// Connections handled at once; more are answered 503.
    public var maximumConnections = 32
    /// A client that sends nothing for this long is dropped.
    public var readTimeoutSeconds = 10
    public init() {}
}

/// A small HTTP/1.1 server on POSIX sockets: one thread per connection, `Connection: close`,
/// bounded header and body sizes and read timeouts; no keep-alive, no chunked request bodies.
public final class HTTPServer: Sendable {
    public let host: String
    /// The port bound (the one asked for, or the one the system chose for 0).
    public let port: Int
    let socket: Int32
    let limits: ServerLimits
    let handler: @Sendable (HTTPRequest) -> HTTPReply
    let open = Mutex(0)

    public struct StartError: Error, CustomStringConvertible {
        public var description: String
    }

    /// Bind and listen on `host`:`port` (an IPv4 address); `serve()` then accepts.
    public init(host: String, port: Int, limits: ServerLimits = ServerLimits(),
                handler: @escaping @Sendable (HTTPRequest) -> HTTPReply) throws(StartError) {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(truncatingIfNeeded: port).bigEndian)
        guard (0...65535).contains(port) else { throw StartError(description: "--port \(port) is not a port number (0 to 65535)") }
        guard inet_pton(AF_INET, host, &address.sin_addr) == 1 else {
            throw StartError(description: "--host \(host) is not an IPv4 address (e.g. 127.0.0.1 or 0.0.0.0)")
        }
        #if canImport(Glibc)
        let fd = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #else
        let fd = Darwin.socket(AF_INET, SOCK_STREAM, 0)
        #endif
        guard fd >= 0 else { throw StartError(description: "cannot open a socket: \(String(cString: strerror(errno)))") }
        var yes: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0 else {
            let reason = String(cString: strerror(errno))
            close(fd)
            throw StartError(description: "cannot listen on \(host):\(port): \(reason)")
        }
        guard listen(fd, 64) == 0 else {
            close(fd)
            throw StartError(description: "cannot listen on \(host):\(port): \(String(cString: strerror(errno)))")
        }
        var actual = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &actual) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        self.host = host
        self.port = Int(UInt16(bigEndian: actual.sin_port))
        socket = fd
        self.limits = limits
        self.handler = handler
    }

    /// Accept connections until the process ends, each on its own thread.
    public func serve() -> Never {
        signal(SIGPIPE, SIG_IGN)
        while true {
            let client = accept(socket, nil, nil)
            if client < 0 { continue }
            let admitted = open.withLock { count -> Bool in
                guard count < limits.maximumConnections else { return false }
                count += 1
                return true
            }
            guard admitted else {
                Self.write(client, Self.head(status: 503, contentType: "text/plain; charset=utf-8", length: 40) + Array("too many connections; try again shortly\n".utf8))
                close(client)
                continue
            }
            let thread = Thread { [self] in
                handle(client)
                close(client)
                open.withLock { $0 -= 1 }
            }
            thread.stackSize = 4 << 20
            thread.start()
        }
    }

    func handle(_ fd: Int32) {
        var timeout = timeval(tv_sec: limits.readTimeoutSeconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let request: HTTPRequest
        switch Self.readRequest(fd, limits: limits) {
        case .success(let r): request = r
        case .failure(let refusal):
            respond(fd, .error(refusal.status, refusal.message))
            return
        }
        switch handler(request) {
        case .response(let response): respond(fd, response)
        case .events(let produce):
            let head = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\nConnection: close\r\n\r\n"
            guard Self.write(fd, Array(head.utf8)) else { return }
            produce { event, data in
                let lines = data.split(separator: "\n", omittingEmptySubsequences: false).map { "data: \($0)" }.joined(separator: "\n")
                return Self.write(fd, Array("event: \(event)\n\(lines)\n\n".utf8))
            }
        }
    }

    func respond(_ fd: Int32, _ response: HTTPResponse) {
        var head = Self.head(status: response.status, contentType: response.contentType, length: response.body.count,
                             extra: response.headers)
        head += response.body
        _ = Self.write(fd, head)
    }

    static func head(status: Int, contentType: String, length: Int, extra: [(String, String)] = []) -> [UInt8] {
        var text = "HTTP/1.1 \(status) \(reason(status))\r\nContent-Type: \(contentType)\r\nContent-Length: \(length)\r\n"
        // The page's own assets only: no framing by other sites, no sniffing, no outside resources.
        text += "Cache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\nX-Frame-Options: DENY\r\n"
        text += "Content-Security-Policy: default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; connect-src 'self'\r\n"
        for (name, value) in extra { text += "\(name): \(value)\r\n" }
        text += "Connection: close\r\n\r\n"
        return Array(text.utf8)
    }

    static func reason(_ status: Int) -> String {
        switch status {
        case 200: "OK"
        case 400: "Bad Request"
        case 403: "Forbidden"
        case 404: "Not Found"
        case 405: "Method Not Allowed"
        case 408: "Request Timeout"
        case 411: "Length Required"
        case 413: "Content Too Large"
        case 422: "Unprocessable Content"
        case 429: "Too Many Requests"
        case 431: "Request Header Fields Too Large"
        case 501: "Not Implemented"
        case 503: "Service Unavailable"
        default: "Status"
        }
    }

    /// Write all of `bytes`; false once the peer has gone.
    @discardableResult
    static func write(_ fd: Int32, _ bytes: [UInt8]) -> Bool {
        var sent = 0
        while sent < bytes.count {
            let n = bytes.withUnsafeBytes { buffer in
                #if canImport(Glibc)
                send(fd, buffer.baseAddress! + sent, bytes.count - sent, Int32(MSG_NOSIGNAL))
                #else
                send(fd, buffer.baseAddress! + sent, bytes.count - sent, 0)
                #endif
            }
            if n <= 0 { return false }
            sent += n
        }
        return true
    }

    /// Why a request was refused before any handler saw it.
    public struct Refusal: Error, Equatable {
        public var status: Int
        public var message: String
        public init(status: Int, message: String) { self.status = status; self.message = message }
    }

    /// Read one request from `fd` within the limits.
    public static func readRequest(_ fd: Int32, limits: ServerLimits) -> Result<HTTPRequest, Refusal> {
        var buffer: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16 * 1024)
        var headerEnd: Int? = nil
        while headerEnd == nil {
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress!, $0.count, 0) }
            if n <= 0 { return .failure(Refusal(status: 408, message: "the request did not arrive whole within \(limits.readTimeoutSeconds) s")) }
            buffer += chunk[0..<n]
            headerEnd = find(Array("\r\n\r\n".utf8), in: buffer)
            if headerEnd == nil && buffer.count > limits.maximumHeaderBytes || (headerEnd ?? 0) > limits.maximumHeaderBytes {
                return .failure(Refusal(status: 431, message: "request headers larger than \(limits.maximumHeaderBytes) bytes"))
            }
        }
        let end = headerEnd!
        return parse(head: Array(buffer[0..<end]), body: Array(buffer[(end + 4)...]), limits: limits) { needed in
            var body: [UInt8] = []
            while body.count < needed {
                let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress!, min($0.count, needed - body.count), 0) }
                if n <= 0 { return nil }
                body += chunk[0..<n]
            }
            return body
        }
    }

    /// Parse a request head; `more(n)` reads the n body bytes still to come (nil: the client stopped).
    public static func parse(head: [UInt8], body start: [UInt8], limits: ServerLimits, more: (Int) -> [UInt8]?) -> Result<HTTPRequest, Refusal> {
        guard let text = String(bytes: head, encoding: .utf8) else {
            return .failure(Refusal(status: 400, message: "request headers that are not UTF-8 text"))
        }
        var lines = text.components(separatedBy: "\r\n")
        let requestLine = lines.removeFirst().split(separator: " ")
        guard requestLine.count == 3, requestLine[2].hasPrefix("HTTP/1.") else {
            return .failure(Refusal(status: 400, message: "a request line other than METHOD PATH HTTP/1.x"))
        }
        var headers: [String: String] = [:]
        for line in lines {
            guard let colon = line.firstIndex(of: ":") else {
                return .failure(Refusal(status: 400, message: "a header line without a colon"))
            }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        if headers["transfer-encoding"] != nil {
            return .failure(Refusal(status: 501, message: "a chunked request body; send Content-Length"))
        }
        var body = start
        if let lengthText = headers["content-length"] {
            guard let length = Int(lengthText), length >= 0 else {
                return .failure(Refusal(status: 400, message: "Content-Length '\(lengthText)', not a byte count"))
            }
            guard length <= limits.maximumBodyBytes else {
                return .failure(Refusal(status: 413, message: "a request body of \(length) bytes; at most \(limits.maximumBodyBytes) bytes are accepted"))
            }
            if body.count < length {
                guard let rest = more(length - body.count) else {
                    return .failure(Refusal(status: 408, message: "the request body did not arrive whole within \(limits.readTimeoutSeconds) s"))
                }
                body += rest
            }
            body = Array(body.prefix(length))
        } else {
            body = []
        }
        let target = String(requestLine[1])
        let parts = target.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        var query: [String: String] = [:]
        if parts.count == 2 {
            for pair in parts[1].split(separator: "&") {
                let kv = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                let key = String(kv[0]).removingPercentEncoding ?? String(kv[0])
                query[key] = kv.count == 2 ? (String(kv[1]).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? "") : ""
            }
        }
        return .success(HTTPRequest(method: String(requestLine[0]), path: String(parts[0]), query: query, headers: headers, body: body))
    }

    static func find(_ needle: [UInt8], in haystack: [UInt8]) -> Int? {
        guard haystack.count >= needle.count else { return nil }
        for i in 0...(haystack.count - needle.count) where haystack[i] == needle[0] {
            if Array(haystack[i..<(i + needle.count)]) == needle { return i }
        }
        return nil
    }
}
