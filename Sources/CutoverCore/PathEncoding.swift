/// Percent-encoding of URL paths per RFC 3986, over raw bytes so that file names that are
/// not valid UTF-8 still get an exact, reversible URL.
public enum PathEncoding {
    /// Bytes allowed unencoded in a path segment: unreserved, sub-delims, ':' and '@' (RFC 3986 `pchar`).
    @usableFromInline static let allowed: [Bool] = {
        var table = [Bool](repeating: false, count: 256)
        for scalar in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~!$&'()*+,;=:@".utf8 {
            table[Int(scalar)] = true
        }
        return table
    }()
    static let hex = Array("0123456789ABCDEF".utf8)

    /// Encodes one path segment (a file or directory name).
    public static func encodeSegment<Bytes: Sequence<UInt8>>(_ bytes: Bytes) -> String {
        encode(bytes, keeping: allowed)
    }

    /// Encodes one path segment into `out`, which has room for 3 bytes per input byte; returns
    /// how many bytes it wrote. Allocates nothing (the crawl encodes a million names this way).
    public static func encodeSegment(_ bytes: UnsafeBufferPointer<UInt8>, into out: UnsafeMutablePointer<UInt8>) -> Int {
        var count = 0
        for byte in bytes {
            if allowed[Int(byte)] {
                out[count] = byte
                count += 1
            } else {
                out[count] = UInt8(ascii: "%")
                out[count + 1] = hex[Int(byte >> 4)]
                out[count + 2] = hex[Int(byte & 0x0F)]
                count += 3
            }
        }
        return count
    }

    /// Percent-encodes every byte that `kept` does not allow as it is (uppercase hex).
    static func encode<Bytes: Sequence<UInt8>>(_ bytes: Bytes, keeping kept: [Bool]) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.underestimatedCount + 8)
        for byte in bytes {
            if kept[Int(byte)] {
                out.append(byte)
            } else {
                out.append(UInt8(ascii: "%"))
                out.append(hex[Int(byte >> 4)])
                out.append(hex[Int(byte & 0x0F)])
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Encodes a path of segments as an absolute URL path; `trailingSlash` marks a directory URL.
    public static func urlPath(segments: [[UInt8]], trailingSlash: Bool = false) -> String {
        var path = ""
        for segment in segments {
            path += "/"
            path += encodeSegment(segment)
        }
        if trailingSlash || segments.isEmpty { path += "/" }
        return path
    }

    /// Whether `bytes` are already what `resolved` makes of them: an absolute path of bytes kept
    /// as they are (no `%`, no control byte) without empty, `.` or `..` segments. Most requested
    /// paths are; they are then stored as sent, with no decoding and re-encoding (one scan).
    @inlinable public static func isCanonical<Bytes: Collection<UInt8>>(_ bytes: Bytes) -> Bool {
        guard bytes.first == UInt8(ascii: "/") else { return false }
        // The current segment's length, and how many of its bytes are dots (all: `.` or `..`).
        var length = -1
        var dots = 0
        for byte in bytes {
            if byte == UInt8(ascii: "/") {
                if length == 0 || (length <= 2 && dots == length && length > 0) { return false }
                length = 0
                dots = 0
                continue
            }
            guard allowed[Int(byte)] else { return false }
            length += 1
            if byte == UInt8(ascii: ".") { dots += 1 }
        }
        return !(length > 0 && length <= 2 && dots == length)
    }

    /// Decodes `%XX` escapes into bytes; returns nil for a malformed escape.
    public static func decode(_ text: String) -> [UInt8]? {
        var out: [UInt8] = []
        var iterator = Array(text.utf8).makeIterator()
        while let byte = iterator.next() {
            guard byte == UInt8(ascii: "%") else {
                out.append(byte)
                continue
            }
            guard let high = iterator.next().flatMap(hexValue), let low = iterator.next().flatMap(hexValue) else { return nil }
            out.append(high << 4 | low)
        }
        return out
    }

    static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    /// Puts a URL path in the canonical form Cutover stores: decoded, then re-encoded segment by segment.
    /// Returns nil when the text is not an absolute path or has a malformed escape.
    public static func canonical(_ path: String) -> String? {
        guard path.hasPrefix("/"), let bytes = decode(path) else { return nil }
        let segments = bytes.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false).dropFirst()
        var result = ""
        for segment in segments {
            result += "/" + encodeSegment(segment)
        }
        return result.isEmpty ? "/" : result
    }

    /// The path as Apache maps it: `%XX` decoded, `//` merged, `.` and `..` segments resolved,
    /// then re-encoded segment by segment; a trailing slash (or a last `.`/`..`) is kept. Nil for
    /// a malformed escape, a path that climbs above the root, or a control byte (`%0A`, `%00`):
    /// no request reaches such a script or prefix, and a config file cannot hold it.
    /// `/blog/%2e%2e/` and `/blog/../` are `/`; `//index.php` is `/index.php`.
    public static func resolved(_ path: String) -> String? {
        guard path.hasPrefix("/"), let bytes = decode(path), !bytes.contains(where: { $0 < 0x20 || $0 == 0x7F }) else { return nil }
        return resolved(decoded: bytes)
    }

    /// `resolved` over bytes already decoded (`%U` in a log line); nil when they climb above the root.
    public static func resolved(decoded: [UInt8]) -> String? {
        guard decoded.first == UInt8(ascii: "/") else { return nil }
        var segments: [ArraySlice<UInt8>] = []
        let parts = decoded.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: true)
        for part in parts {
            if part.elementsEqual(".".utf8) { continue }
            if part.elementsEqual("..".utf8) {
                guard !segments.isEmpty else { return nil }
                segments.removeLast()
                continue
            }
            segments.append(part)
        }
        let trailingSlash =
            decoded.count > 1
            && (decoded.last == UInt8(ascii: "/") || parts.last.map { $0.elementsEqual(".".utf8) || $0.elementsEqual("..".utf8) } == true)
        var path = ""
        for segment in segments {
            path += "/"
            path += encodeSegment(segment)
        }
        if segments.isEmpty || trailingSlash { path += "/" }
        return path
    }
}
