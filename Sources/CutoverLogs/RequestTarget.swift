import CutoverCore

/// A request target from a log line, put in the forms Cutover stores: the canonical path (as the
/// crawl spells URLs), the normalised query string, and the query's values as PHP reads them.
package enum RequestTarget {
    /// Query keys that never identify a page: campaign tags, click ids, session ids.
    package static let noiseKeys: Set<String> = [
        "fbclid", "gclid", "dclid", "msclkid", "yclid", "mc_cid", "mc_eid", "_ga", "_gl", "phpsessid", "sid", "sessionid", "jsessionid",
        "_hsenc", "_hsmi", "igshid", "ref_src",
    ]
    /// Longest key and value stored in the query tables. A longer key, or one with a control
    /// byte, is no key (counted in `traffic.other_key_hits`); a longer value, or one with a
    /// control byte (`%00`, `%0A`), is no value (counted in the key's "other values" row): never
    /// cut, so a value nobody sent can never become a page.
    package static let maxKeyBytes = 100
    package static let maxValueBytes = 200
    /// Keys of one request read as values; the rest of a request's keys count as other keys.
    /// PHP reads 1,000 (`max_input_vars`); a page tells its views apart with a few.
    package static let maxKeysPerRequest = 32
    /// Longest normalised query string stored per path; longer ones count as other queries.
    package static let maxQueryBytes = 1024

    /// `%XX` decoded, `//` merged, `.` and `..` segments resolved (as Apache does before it maps
    /// a URL), then re-encoded segment by segment. Nil for a malformed escape or a path that
    /// climbs above the root.
    /// `alreadyDecoded`: the bytes come from `%U`, which Apache writes decoded.
    package static func canonicalPath<Bytes: Collection<UInt8>>(_ raw: Bytes, alreadyDecoded: Bool = false) -> String? {
        guard raw.first == UInt8(ascii: "/") else { return nil }
        if PathEncoding.isCanonical(raw) { return String(decoding: raw, as: UTF8.self) }
        guard let decoded = alreadyDecoded ? Array(raw) : percentDecode(raw, plusIsSpace: false) else { return nil }
        return PathEncoding.resolved(decoded: decoded)
    }

    /// `a=1&b=2` as raw (still encoded) key/value pairs, in order; empty pieces dropped.
    package static func queryPairs<Bytes: Collection<UInt8>>(_ query: Bytes) -> [(key: ArraySlice<UInt8>, value: ArraySlice<UInt8>?)] {
        Array(query).split(separator: UInt8(ascii: "&"), omittingEmptySubsequences: true).map { pair in
            if let equals = pair.firstIndex(of: UInt8(ascii: "=")) {
                return (pair[..<equals], pair[(equals + 1)...])
            }
            return (pair, nil)
        }
    }

    static func isNoise(_ rawKey: ArraySlice<UInt8>) -> Bool {
        guard let decoded = percentDecode(rawKey, plusIsSpace: true) else { return false }
        let key = String(decoding: decoded, as: UTF8.self).lowercased()
        return key.hasPrefix("utm_") || noiseKeys.contains(key)
    }

    /// The query without noise parameters, pairs sorted by key (stable for a repeated key), as
    /// sent otherwise.
    package static func normalisedQuery(_ pairs: [(key: ArraySlice<UInt8>, value: ArraySlice<UInt8>?)]) -> String {
        let kept = pairs.enumerated().filter { !isNoise($0.element.key) }
        let sorted = kept.sorted { left, right in
            left.element.key.lexicographicallyPrecedes(right.element.key)
                || (left.element.key.elementsEqual(right.element.key) && left.offset < right.offset)
        }
        var out: [UInt8] = []
        for (_, pair) in sorted {
            if !out.isEmpty { out.append(UInt8(ascii: "&")) }
            out += pair.key
            if let value = pair.value {
                out.append(UInt8(ascii: "="))
                out += value
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Each key's value as PHP's `$_GET` reads it: `+` and `%20` are a space, `%XX` decoded, the
    /// last of a repeated key wins. Noise keys are left out. Keys and values that are not valid
    /// UTF-8 are kept percent-encoded. A value that cannot be stored (too long, a control byte)
    /// is nil; keys that cannot be stored, and keys past `maxKeysPerRequest`, are counted in
    /// `otherKeys`. Linear in the number of pairs.
    package static func phpValues(
        _ pairs: [(key: ArraySlice<UInt8>, value: ArraySlice<UInt8>?)]
    ) -> (values: [(key: String, value: String?)], otherKeys: Int) {
        var values: [(key: String, value: String?)] = []
        var position: [String: Int] = [:]
        var otherKeys = 0
        for pair in pairs where !isNoise(pair.key) {
            guard let key = text(pair.key, limit: maxKeyBytes) else {
                otherKeys += 1
                continue
            }
            let value = text(pair.value ?? [], limit: maxValueBytes)
            if let existing = position[key] {
                values[existing].value = value
            } else if values.count < maxKeysPerRequest {
                position[key] = values.count
                values.append((key, value))
            } else {
                otherKeys += 1
            }
        }
        return (values, otherKeys)
    }

    /// The decoded text, or nil when it has a control byte or is longer than `limit` bytes.
    static func text(_ raw: ArraySlice<UInt8>, limit: Int) -> String? {
        let bytes = percentDecode(raw, plusIsSpace: true) ?? Array(raw)
        guard bytes.count <= limit, !bytes.contains(where: { $0 < 0x20 || $0 == 0x7F }) else { return nil }
        if let text = String(validating: bytes, as: UTF8.self) { return text }
        return PathEncoding.encodeSegment(bytes)
    }

    /// Decodes `%XX` (and `+` when asked); nil for a malformed escape.
    static func percentDecode<Bytes: Collection<UInt8>>(_ raw: Bytes, plusIsSpace: Bool) -> [UInt8]? {
        var out: [UInt8] = []
        out.reserveCapacity(raw.count)
        var iterator = raw.makeIterator()
        while let byte = iterator.next() {
            if byte == UInt8(ascii: "%") {
                guard let high = iterator.next().flatMap(hex), let low = iterator.next().flatMap(hex) else { return nil }
                out.append(high << 4 | low)
            } else if plusIsSpace, byte == UInt8(ascii: "+") {
                out.append(UInt8(ascii: " "))
            } else {
                out.append(byte)
            }
        }
        return out
    }

    static func hex(_ byte: UInt8) -> UInt8? {
        LogLineParser.hexValue(byte)
    }
}
