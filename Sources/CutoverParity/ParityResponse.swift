/// One answer of a page: as parity fetched it through Apache, or as a Swift app's own test has it.
public struct ParityResponse: Sendable, Hashable {
    public struct Header: Sendable, Hashable {
        public var name: String
        public var value: String

        public init(_ name: String, _ value: String) {
            self.name = name
            self.value = value
        }
    }

    public var status: Int
    /// Header fields in the order received; names compare without case.
    public var headers: [Header]
    public var body: [UInt8]
    /// The fetch stopped at its cap: the body is only the start of the answer.
    public var truncated: Bool

    public init(status: Int, headers: [Header] = [], body: [UInt8] = [], truncated: Bool = false) {
        self.status = status
        self.headers = headers
        self.body = body
        self.truncated = truncated
    }

    public init(status: Int, headers: [(String, String)], body: String) {
        self.init(status: status, headers: headers.map { Header($0.0, $0.1) }, body: Array(body.utf8))
    }

    /// Every value of the header `name`, in order.
    public func values(_ name: String) -> [String] {
        let wanted = Array(name.utf8)
        return headers.filter { Self.sameName($0.name, wanted) }.map(\.value)
    }

    /// ASCII case-insensitive equality of a header name (names are ASCII tokens), without
    /// lowercasing either: a lowercased copy per header per look-up was a measurable share of a
    /// parity run (perf).
    static func sameName(_ name: String, _ wanted: [UInt8]) -> Bool {
        var utf8 = name.utf8.makeIterator()
        for expected in wanted {
            guard let byte = utf8.next() else { return false }
            if byte != expected, byte | 0x20 != expected | 0x20 || !((byte | 0x20) >= 0x61 && (byte | 0x20) <= 0x7A) { return false }
        }
        return utf8.next() == nil
    }

    public var contentType: ContentType? { values("content-type").first.flatMap(ContentType.init) }
}

/// A `Content-Type` value as parity compares it: the media type and the charset, lowercased.
public struct ContentType: Sendable, Hashable {
    public var mediaType: String
    public var charset: String?

    public init?(_ header: String) {
        let parts = header.split(separator: ";").map { $0.trimming(" \t") }
        guard let first = parts.first, !first.isEmpty else { return nil }
        mediaType = first.lowercased()
        for parameter in parts.dropFirst() {
            let pair = parameter.split(separator: "=", maxSplits: 1).map { $0.trimming(" \t\"") }
            if pair.count == 2, pair[0].lowercased() == "charset" { charset = pair[1].lowercased() }
        }
    }

    /// How a body of this type is compared.
    var kind: BodyKind {
        switch mediaType {
        case "text/html", "application/xhtml+xml": .html
        case "application/json", "text/json": .json
        case "text/xml", "application/xml", "application/rss+xml", "application/atom+xml": .xml
        default:
            if mediaType.hasSuffix("+json") {
                .json
            } else if mediaType.hasSuffix("+xml") {
                .xml
            } else if mediaType.hasPrefix("text/") {
                .text
            } else {
                .bytes
            }
        }
    }
}

enum BodyKind {
    case html, json, xml, text, bytes
}

extension StringProtocol {
    /// Without the given characters at either end.
    func trimming(_ set: String) -> String {
        var slice = Substring(self)
        while let first = slice.first, set.contains(first) { slice = slice.dropFirst() }
        while let last = slice.last, set.contains(last) { slice = slice.dropLast() }
        return String(slice)
    }
}
