import Foundation

/// An Apache `LogFormat` string compiled into the pieces a log line is read with: literal text
/// the line must repeat byte for byte, and fields whose value ends where the next literal
/// begins. Apache's own format strings are accepted as written in the config (mod_log_config),
/// or one of the presets Debian's apache2.conf defines.
public struct LogFormat: Sendable, Equatable {
    /// What a field's value means to Cutover.
    public enum Field: Sendable, Equatable {
        /// Read past and not kept (`%l`, `%u`, `%I`, `%p`, other headers ...).
        case skipped
        /// `%h`, `%a`: the client's address (the site's own address is no person).
        case clientAddress
        /// `%t`: `[10/Oct/2000:13:55:36 -0700]`, brackets included.
        case time
        /// `%{format}t`: strftime-style or `sec`/`msec`/`usec`.
        case customTime(TimeFormat)
        /// `%r`: `GET /path?query HTTP/1.1`.
        case requestLine
        /// `%m`.
        case method
        /// `%U`: the URL path, without the query.
        case urlPath
        /// `%q`: `?query` or empty.
        case query
        /// `%>s` (final) or `%s` / `%<s` (original).
        case status(final: Bool)
        /// `%b`, `%B`: response body bytes (`-` is 0). `%O` (bytes sent, with headers) when
        /// `%b` is absent.
        case bodyBytes
        case bytesSent
        /// `%v`, `%V`, or the request's `Host` header.
        case virtualHost
        /// `%R`: the handler that answered (`proxy-server` is Swift behind the fallback).
        case handler
        /// `%{User-Agent}i`.
        case userAgent
        /// `%{X-Cutover-Owner}o`: the owner the answering side declared.
        case ownerHeader
        /// `%D` (microseconds), `%T` (seconds), `%{us}T`, `%{ms}T`, `%{s}T`: how long the
        /// request took, kept in microseconds; `microsecondsPerUnit` is what one written unit is.
        case duration(microsecondsPerUnit: Int)
    }

    public enum Piece: Sendable, Equatable {
        case literal([UInt8])
        case field(Field)
    }

    public let pieces: [Piece]
    /// The format string as given (or the preset's expansion).
    public let text: String

    /// Debian's presets (apache2.conf), by the nickname `LogFormat` gives them.
    public static let presets: [String: String] = [
        "common": #"%h %l %u %t "%r" %>s %O"#,
        "combined": #"%h %l %u %t "%r" %>s %O "%{Referer}i" "%{User-Agent}i""#,
        "vhost_combined": #"%v:%p %h %l %u %t "%r" %>s %O "%{Referer}i" "%{User-Agent}i""#,
    ]

    /// Compiles a preset name or a LogFormat string.
    public init(_ formatOrPreset: String) throws(LogFormatError) {
        let text = Self.presets[formatOrPreset] ?? Self.unquote(formatOrPreset)
        self.text = text
        pieces = try Self.compile(text)
        guard pieces.contains(where: { $0 == .field(.requestLine) || $0 == .field(.urlPath) }) else {
            throw .noRequest(text)
        }
    }

    /// `%U` without `%r`: Apache writes the path decoded (`%20` as a space), so it must not be
    /// decoded again.
    public var pathIsDecoded: Bool {
        !pieces.contains(.field(.requestLine))
    }

    /// True when the line says which side answered (`%R` or the owner header).
    public var attributesOwner: Bool {
        pieces.contains { $0 == .field(.handler) || $0 == .field(.ownerHeader) }
    }

    public var hasVirtualHost: Bool {
        pieces.contains { $0 == .field(.virtualHost) }
    }

    /// A format pasted from a config file keeps its surrounding quotes: `"%h %l ..."`.
    static func unquote(_ text: String) -> String {
        var text = Substring(text)
        while text.first == " " { text.removeFirst() }
        while text.last == " " { text.removeLast() }
        if text.count >= 2, text.first == "\"", text.last == "\"" {
            // Inside a config file's quotes, \" is a quote.
            return String(text.dropFirst().dropLast()).replacingOccurrences(of: #"\""#, with: "\"")
        }
        return String(text)
    }

    static func compile(_ text: String) throws(LogFormatError) -> [Piece] {
        let bytes = Array(text.utf8)
        var pieces: [Piece] = []
        var literal: [UInt8] = []
        var index = 0
        func flushLiteral() {
            if !literal.isEmpty { pieces.append(.literal(literal)) }
            literal = []
        }
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\\"), index + 1 < bytes.count {
                // mod_log_config's own escapes in format strings.
                switch bytes[index + 1] {
                case UInt8(ascii: "n"): literal.append(10)
                case UInt8(ascii: "t"): literal.append(9)
                default: literal.append(bytes[index + 1])
                }
                index += 2
                continue
            }
            guard byte == UInt8(ascii: "%") else {
                literal.append(byte)
                index += 1
                continue
            }
            let start = index
            index += 1
            guard index < bytes.count else { throw .malformed(text, "ends with a lone %") }
            if bytes[index] == UInt8(ascii: "%") {
                literal.append(UInt8(ascii: "%"))
                index += 1
                continue
            }
            // Modifiers: `<` / `>` (original or final request), status conditions `!400,501`.
            var final: Bool? = nil
            while index < bytes.count {
                let modifier = bytes[index]
                if modifier == UInt8(ascii: ">") {
                    final = true
                } else if modifier == UInt8(ascii: "<") {
                    final = false
                } else if modifier == UInt8(ascii: "!") || modifier == UInt8(ascii: ",") || (modifier >= 0x30 && modifier <= 0x39) {
                    // Conditions make Apache write "-" instead: read like any value.
                } else {
                    break
                }
                index += 1
            }
            var argument: String? = nil
            if index < bytes.count, bytes[index] == UInt8(ascii: "{") {
                guard let close = bytes[index...].firstIndex(of: UInt8(ascii: "}")) else {
                    throw .malformed(text, "an unclosed { at byte \(index + 1)")
                }
                argument = String(decoding: bytes[(index + 1)..<close], as: UTF8.self)
                index = close + 1
            }
            guard index < bytes.count else { throw .malformed(text, "ends inside a directive") }
            let letter = bytes[index]
            index += 1
            let directive = String(decoding: bytes[start..<index], as: UTF8.self)
            let field = try Self.field(letter: letter, argument: argument, final: final, directive: directive)
            flushLiteral()
            if case .field(let previous) = pieces.last, !previous.delimitsItself, !(previous == .urlPath && field == .query) {
                throw .malformed(text, "\(directive) follows another directive with nothing between them")
            }
            pieces.append(.field(field))
        }
        flushLiteral()
        // Prefer %b over %O for bytes, %>s over %s, when both are present.
        if pieces.contains(.field(.bodyBytes)) {
            pieces = pieces.map { $0 == .field(.bytesSent) ? .field(.skipped) : $0 }
        }
        if pieces.contains(.field(.status(final: true))) {
            pieces = pieces.map { $0 == .field(.status(final: false)) ? .field(.skipped) : $0 }
        }
        if pieces.contains(.field(.virtualHost)) {
            // %v and the Host header both: keep the first.
            var seen = false
            pieces = pieces.map {
                guard $0 == .field(.virtualHost) else { return $0 }
                defer { seen = true }
                return seen ? .field(.skipped) : $0
            }
        }
        return pieces
    }

    static func field(letter: UInt8, argument: String?, final: Bool?, directive: String) throws(LogFormatError) -> Field {
        switch Character(UnicodeScalar(letter)) {
        case "h", "a":
            // `%{c}a` is the peer of the connection, `%a` the client as mod_remoteip sees it.
            return .clientAddress
        case "l", "u", "I", "p", "P", "L", "f", "k", "X", "c", "S", "^":
            return .skipped
        case "t":
            guard let argument else { return .time }
            return .customTime(try TimeFormat(argument, directive: directive))
        case "r": return .requestLine
        case "m": return .method
        case "U": return .urlPath
        case "q": return .query
        case "H": return .skipped
        case "s": return .status(final: final ?? false)
        case "b", "B": return .bodyBytes
        case "O": return .bytesSent
        case "D": return .duration(microsecondsPerUnit: 1)
        case "T":
            switch argument {
            case nil, "s": return .duration(microsecondsPerUnit: 1_000_000)
            case "ms": return .duration(microsecondsPerUnit: 1000)
            case "us": return .duration(microsecondsPerUnit: 1)
            default: throw .unsupported(directive)
            }
        case "v", "V": return .virtualHost
        case "R": return .handler
        case "i":
            guard let argument else { throw .unsupported(directive) }
            switch argument.lowercased() {
            case "user-agent": return .userAgent
            case "host": return .virtualHost
            default: return .skipped
            }
        case "o":
            guard let argument else { throw .unsupported(directive) }
            return argument.lowercased() == "x-cutover-owner" ? .ownerHeader : .skipped
        case "e", "n", "C":
            guard argument != nil else { throw .unsupported(directive) }
            return .skipped
        default:
            throw .unsupported(directive)
        }
    }
}

public enum LogFormatError: Error, Equatable, CustomStringConvertible {
    case unsupported(String)
    case malformed(String, String)
    case noRequest(String)

    public var description: String {
        switch self {
        case .unsupported(let directive):
            "unsupported LogFormat directive \(directive) (supported: %h %a %l %u %t %{...}t %r %m %U %q %H %>s %s %b %B %D %T %v %V %p %R %{NAME}i %{NAME}o %{NAME}e %I %O %%)"
        case .malformed(let format, let reason):
            "malformed LogFormat \"\(format)\": \(reason)"
        case .noRequest(let format):
            "LogFormat \"\(format)\" has no %r or %U: lines would not say which URL was requested"
        }
    }
}

extension LogFormat.Field {
    /// Time fields are read by their own shape, so another directive may follow directly.
    var delimitsItself: Bool {
        switch self {
        case .time, .customTime: true
        default: false
        }
    }
}
