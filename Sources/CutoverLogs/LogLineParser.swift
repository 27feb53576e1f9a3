import CutoverCore
import Glibc

/// What one access-log line says, as byte ranges of the line (which the parser may rewrite in
/// place to decode Apache's escapes). Read with `LogLineParser.parse`; valid until the next line.
package struct LogEntry {
    /// Seconds since 1970; nil when the format has no time.
    package var time: Int? = nil
    /// 0 when the format has no status.
    package var status = 0
    package var bytes = 0
    /// The request target: path and query (`/p?q`), Apache's escapes decoded, absolute-form
    /// reduced to its path. Empty when the line has no usable target (`-`, `*`, a TLS handshake).
    package var target: Range<Int> = 0..<0
    package var virtualHost: Range<Int>? = nil
    package var userAgent: Range<Int>? = nil
    package var client: Range<Int>? = nil
    package var handler: Range<Int>? = nil
    package var ownerHeader: Range<Int>? = nil
    /// How long the request took, in microseconds (`%D`, `%T`); nil when the format has none.
    package var durationMicroseconds: Int? = nil
    fileprivate var query: Range<Int>? = nil

    package init() {}
}

/// Reads lines of one LogFormat at byte level: no String per line, no allocation per line.
package struct LogLineParser: Sendable {
    package let format: LogFormat
    private let pieces: [LogFormat.Piece]
    /// For each piece: the byte that ends a field there (the next literal's first byte), or nil
    /// for a field that runs to the end of the line.
    private let terminators: [UInt8?]
    private static let standardTime = try! TimeFormat("%d/%b/%Y:%H:%M:%S %z", directive: "%t")

    package init(format: LogFormat) {
        self.format = format
        pieces = format.pieces
        var terminators: [UInt8?] = []
        for index in pieces.indices {
            // `%U%q`: the path ends where the query's field ends (or at its `?`, found while parsing).
            var next = index + 1
            if pieces[index] == .field(.urlPath), next < pieces.count, pieces[next] == .field(.query) { next += 1 }
            if next < pieces.count, case .literal(let bytes) = pieces[next] {
                terminators.append(bytes.first)
            } else {
                terminators.append(nil)
            }
        }
        self.terminators = terminators
    }

    package enum Outcome {
        /// The line matched the format and names a target.
        case request
        /// The line matched the format but its request names no path (`-`, `*`, garbage).
        case noTarget
        /// The line does not match the format.
        case malformed
    }

    /// Parses `line` (without its newline) into `entry`.
    package func parse(_ line: UnsafeMutableBufferPointer<UInt8>, into entry: inout LogEntry) -> Outcome {
        entry = LogEntry()
        let readOnly = UnsafeBufferPointer(line)
        var index = 0
        var request: Range<Int>? = nil
        var urlPath: Range<Int>? = nil
        for pieceIndex in pieces.indices {
            switch pieces[pieceIndex] {
            case .literal(let bytes):
                guard index + bytes.count <= line.count else { return .malformed }
                for offset in 0..<bytes.count where line[index + offset] != bytes[offset] { return .malformed }
                index += bytes.count
            case .field(.time):
                guard index < line.count, line[index] == UInt8(ascii: "[") else { return .malformed }
                index += 1
                guard Self.standardTime.read(readOnly, at: &index, into: &entry.time) else { return .malformed }
                guard index < line.count, line[index] == UInt8(ascii: "]") else { return .malformed }
                index += 1
            case .field(.customTime(let format)):
                var seconds: Int? = nil
                guard format.read(readOnly, at: &index, into: &seconds) else { return .malformed }
                if let seconds { entry.time = seconds }
            case .field(let field):
                let start = index
                index = Self.fieldEnd(readOnly, from: index, terminator: terminators[pieceIndex])
                if field == .urlPath, pieceIndex + 1 < pieces.count, pieces[pieceIndex + 1] == .field(.query),
                    let questionMark = readOnly[start..<index].firstIndex(of: UInt8(ascii: "?"))
                {
                    index = questionMark
                }
                let value = start..<index
                switch field {
                case .requestLine: request = value
                case .urlPath: urlPath = value
                case .query: entry.query = value
                // Apache writes numbers here (`-` for no body): anything else means the LogFormat
                // is not the one that wrote the line (`common` read over `combined` lines).
                case .status:
                    guard let status = Self.number(readOnly, value) else { return .malformed }
                    entry.status = status
                case .bodyBytes, .bytesSent:
                    if value.count == 1, readOnly[value.lowerBound] == UInt8(ascii: "-") { break }
                    guard let bytes = Self.number(readOnly, value) else { return .malformed }
                    entry.bytes = bytes
                case .duration(let microsecondsPerUnit):
                    guard let duration = Self.number(readOnly, value) else { return .malformed }
                    let (microseconds, overflow) = duration.multipliedReportingOverflow(by: microsecondsPerUnit)
                    guard !overflow else { return .malformed }
                    entry.durationMicroseconds = microseconds
                case .virtualHost: entry.virtualHost = value
                case .handler: entry.handler = value
                case .userAgent: entry.userAgent = value
                case .clientAddress: entry.client = value
                case .ownerHeader: entry.ownerHeader = value
                case .skipped, .method, .time, .customTime: break
                }
            }
        }
        guard index == line.count else { return .malformed }
        if let request {
            entry.target = Self.target(inRequest: readOnly, request)
        } else if let urlPath {
            // %U is decoded by Apache; %q follows it as "?query" or nothing.
            var end = urlPath.upperBound
            if let query = entry.query, query.lowerBound == end, query.count > 1 { end = query.upperBound }
            entry.target = urlPath.lowerBound..<end
        }
        guard !entry.target.isEmpty else { return .noTarget }
        entry.target = Self.unescape(line, entry.target)
        entry.target = Self.originForm(readOnly, entry.target)
        guard !entry.target.isEmpty, line[entry.target.lowerBound] == UInt8(ascii: "/") else {
            entry.target = 0..<0
            return .noTarget
        }
        return .request
    }

    /// Where a field that ends at `terminator` ends: Apache writes a quote inside a value as `\"`
    /// and a backslash as `\\`, so a terminator after an odd number of backslashes is text.
    @inline(__always)
    static func fieldEnd(_ line: UnsafeBufferPointer<UInt8>, from start: Int, terminator: UInt8?) -> Int {
        guard let terminator else { return line.count }
        guard let base = line.baseAddress else { return start }
        var index = start
        while index < line.count {
            guard let found = memchr(base + index, Int32(terminator), line.count - index) else { return line.count }
            let position = base.distance(to: found.assumingMemoryBound(to: UInt8.self))
            var backslashes = 0
            while position - backslashes - 1 >= start, line[position - backslashes - 1] == UInt8(ascii: "\\") { backslashes += 1 }
            if backslashes % 2 == 0 { return position }
            index = position + 1
        }
        return line.count
    }

    @inline(__always)
    static func number(_ line: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> Int? {
        guard !range.isEmpty, range.count <= 18 else { return nil }
        var value = 0
        for index in range {
            let digit = line[index] &- 0x30
            guard digit < 10 else { return nil }
            value = value * 10 + Int(digit)
        }
        return value
    }

    /// The target of `METHOD TARGET PROTOCOL` (or `METHOD TARGET` from HTTP/0.9).
    static func target(inRequest line: UnsafeBufferPointer<UInt8>, _ request: Range<Int>) -> Range<Int> {
        guard let firstSpace = line[request].firstIndex(of: UInt8(ascii: " ")) else { return 0..<0 }
        var end = request.upperBound
        if let lastSpace = line[request].lastIndex(of: UInt8(ascii: " ")), lastSpace > firstSpace {
            end = lastSpace
        }
        return (firstSpace + 1)..<end
    }

    /// `http://host/p?q` → `/p?q`; anything else unchanged.
    static func originForm(_ line: UnsafeBufferPointer<UInt8>, _ target: Range<Int>) -> Range<Int> {
        guard target.count > 7, line[target.lowerBound] | 0x20 == UInt8(ascii: "h") else { return target }
        let lowered = line[target.lowerBound..<min(target.upperBound, target.lowerBound + 8)].map { $0 | 0x20 }
        let schemeLength: Int
        if lowered.starts(with: Array("http://".utf8)) {
            schemeLength = 7
        } else if lowered.starts(with: Array("https://".utf8)) {
            schemeLength = 8
        } else {
            return target
        }
        let authorityStart = target.lowerBound + schemeLength
        guard let slash = line[authorityStart..<target.upperBound].firstIndex(where: { $0 == UInt8(ascii: "/") || $0 == UInt8(ascii: "?") }) else {
            return 0..<0
        }
        return slash..<target.upperBound
    }

    /// Decodes Apache's log escapes (`\"`, `\\`, `\xHH`, `\n` ...) in place; returns the
    /// shorter range the decoded bytes occupy.
    static func unescape(_ line: UnsafeMutableBufferPointer<UInt8>, _ range: Range<Int>) -> Range<Int> {
        guard let base = line.baseAddress, memchr(base + range.lowerBound, Int32(UInt8(ascii: "\\")), range.count) != nil else { return range }
        var read = range.lowerBound
        var write = range.lowerBound
        while read < range.upperBound {
            var byte = line[read]
            read += 1
            if byte == UInt8(ascii: "\\"), read < range.upperBound {
                let next = line[read]
                read += 1
                switch next {
                case UInt8(ascii: "x"):
                    if read + 1 < range.upperBound, let high = hexValue(line[read]), let low = hexValue(line[read + 1]) {
                        byte = high << 4 | low
                        read += 2
                    } else {
                        byte = next
                    }
                case UInt8(ascii: "n"): byte = 10
                case UInt8(ascii: "r"): byte = 13
                case UInt8(ascii: "t"): byte = 9
                case UInt8(ascii: "b"): byte = 8
                case UInt8(ascii: "v"): byte = 11
                default: byte = next
                }
            }
            line[write] = byte
            write += 1
        }
        return range.lowerBound..<write
    }

    @inline(__always)
    static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
