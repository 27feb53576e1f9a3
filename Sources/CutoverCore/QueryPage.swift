/// A PHP script whose pages are told apart by one query value: `/doku.php` with key `id`
/// makes `/doku.php?id=start` and `/doku.php?id=wiki:syntax` pages of their own.
public struct PageKey: Sendable, Hashable, Codable {
    /// The script's canonical URL path (`/doku.php`, `/index.php`, or `/` for the site root).
    public var script: String
    /// The query key that names the page (`id`, `page`).
    public var key: String

    public init(script: String, key: String) {
        self.script = script
        self.key = key
    }

    /// `script=key`, as the CLI takes it (`--page-key /doku.php=id`).
    public init?(argument: String) {
        guard let equals = argument.lastIndex(of: "=") else { return nil }
        self.init(script: String(argument[..<equals]), key: String(argument[argument.index(after: equals)...]))
    }

    public var argument: String { "\(script)=\(key)" }

    /// Why this page key cannot be used, or nil. The script must be a canonical path without
    /// a query; the key letters, digits, `_` and `-` (PHP rewrites `.`, spaces and `[` in key
    /// names, so such keys would not name what the user typed).
    public var problem: String? {
        guard PathEncoding.resolved(script) == script, !script.contains("?"), script.utf8.count <= 2048 else {
            return "page key script '\(ConfigText.visible(script))' must be a URL path such as /doku.php (no '//', '.' or '..' segments, "
                + "no control characters, at most 2048 bytes)"
        }
        guard QueryPage.isKeyName(key) else {
            return "page key '\(ConfigText.visible(key))' must be 1-64 letters, digits, '_' or '-'"
        }
        return nil
    }
}

/// URLs of query-identified pages (`/doku.php?id=wiki:syntax`) and the mod_rewrite condition
/// that matches one of them the way PHP reads the query string.
///
/// The canonical URL is the script's canonical path, `?`, the key, `=` and the value as PHP
/// decodes it (`+` is a space, `%XX` a byte), re-encoded: letters, digits and `-._~:@/!$'()*,;`
/// stay, everything else is `%XX`. So `?id=wiki%3Asyntax` and `?id=wiki:syntax` are one page,
/// and `?id=a+b` is `?id=a%20b`.
///
/// PHP keeps the last occurrence of a repeated key (`?id=start&id=x` is page `x`): the
/// condition agrees, it matches only when no later pair names the key (`id=`, `id&`, `id[]`).
public enum QueryPage {
    /// The longest value a page URL may carry (bytes, decoded).
    public static let maxValueLength = 256

    static let keptInValue: [Bool] = {
        var table = [Bool](repeating: false, count: 256)
        for byte in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~:@/!$'()*,;".utf8 { table[Int(byte)] = true }
        return table
    }()

    public static func isKeyName(_ key: String) -> Bool {
        (1...64).contains(key.utf8.count)
            && key.utf8.allSatisfy { ConfigText.isWordByte($0) || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: "-") }
    }

    /// A query component as PHP's `urldecode` reads it: `+` is a space, `%XX` a byte, and a `%`
    /// that starts no escape stays as it is.
    public static func phpDecode<Bytes: Collection<UInt8>>(_ text: Bytes) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(text.count)
        var index = text.startIndex
        while index != text.endIndex {
            let byte = text[index]
            index = text.index(after: index)
            if byte == UInt8(ascii: "+") {
                out.append(UInt8(ascii: " "))
            } else if byte == UInt8(ascii: "%"), index != text.endIndex, let high = PathEncoding.hexValue(text[index]),
                text.index(after: index) != text.endIndex, let low = PathEncoding.hexValue(text[text.index(after: index)])
            {
                out.append(high << 4 | low)
                index = text.index(index, offsetBy: 2)
            } else {
                out.append(byte)
            }
        }
        return out
    }

    public static func encodeValue(_ bytes: [UInt8]) -> String {
        PathEncoding.encode(bytes, keeping: keptInValue)
    }

    /// The canonical URL of the page whose key has this (decoded) value; nil when the value is
    /// empty, too long or has control characters (no config file may carry those).
    public static func url(script: String, key: String, value: [UInt8]) -> String? {
        guard !value.isEmpty, value.count <= maxValueLength, !value.contains(where: { $0 < 0x20 || $0 == 0x7F }) else { return nil }
        return script + "?" + key + "=" + encodeValue(value)
    }

    /// A page URL's parts: `/doku.php?id=wiki%3Asyntax` → (`/doku.php`, `id`, `wiki:syntax`).
    /// Nil unless the text is a path, `?` and exactly one `key=value` pair with a valid key.
    public static func parse(_ text: String) -> (script: String, key: String, value: [UInt8])? {
        guard let question = text.firstIndex(of: "?"), let script = PathEncoding.canonical(String(text[..<question])) else { return nil }
        let query = text.utf8[text.utf8.index(after: question)...]
        guard !query.contains(UInt8(ascii: "&")), let equals = query.firstIndex(of: UInt8(ascii: "=")) else { return nil }
        let key = String(decoding: phpDecode(query[..<equals]), as: UTF8.self)
        guard isKeyName(key) else { return nil }
        return (script, key, phpDecode(query[query.index(after: equals)...]))
    }

    /// The canonical form of a page URL in any spelling PHP reads alike, or nil.
    public static func canonical(_ text: String) -> String? {
        guard let (script, key, value) = parse(text) else { return nil }
        return url(script: script, key: key, value: value)
    }

    /// A prefix of page URLs (`/doku.php?id=wiki:`) in canonical form, for prefix selections.
    public static func canonicalPrefix(_ text: String) -> String? {
        guard let question = text.firstIndex(of: "?"), let script = PathEncoding.canonical(String(text[..<question])) else { return nil }
        let query = text.utf8[text.utf8.index(after: question)...]
        guard !query.contains(UInt8(ascii: "&")) else { return nil }
        guard let equals = query.firstIndex(of: UInt8(ascii: "=")) else {
            let key = String(decoding: phpDecode(query), as: UTF8.self)
            return key.isEmpty || isKeyName(key) ? script + "?" + key : nil
        }
        let key = String(decoding: phpDecode(query[..<equals]), as: UTF8.self)
        let value = phpDecode(query[query.index(after: equals)...])
        guard isKeyName(key), value.count <= maxValueLength, !value.contains(where: { $0 < 0x20 || $0 == 0x7F }) else { return nil }
        return script + "?" + key + "=" + encodeValue(value)
    }

    /// The `RewriteCond %{QUERY_STRING}` pattern that matches this page: the key's last
    /// occurrence has exactly this value, in any spelling PHP decodes to it (`%3A`/`%3a`/`:`,
    /// `%20`/`+`). ASCII only: every byte that is not a letter or digit is written `\xHH`.
    public static func queryPattern(key: String, value: [UInt8], url: String) throws -> String {
        guard isKeyName(key) else { throw ExportError.unsafeName(path: url, reason: "the page key is not a plain name") }
        guard !value.isEmpty, value.count <= maxValueLength else {
            throw ExportError.unsafeName(path: url, reason: "its query value is empty or longer than \(maxValueLength) bytes")
        }
        if let control = value.first(where: { $0 < 0x20 || $0 == 0x7F }) {
            throw ExportError.unsafeName(path: url, reason: "its query value contains a control character (byte 0x\(ApacheEscaping.hex(control)))")
        }
        let keyPattern = Array(key.utf8).map { spellings(of: $0, inKey: true) }.joined()
        let valuePattern = value.map { spellings(of: $0, inKey: false) }.joined()
        // A later pair naming the key again (`&id=`, `&id&`, `&id` at the end, `&id[]=`) wins in PHP.
        return "(?:^|&)" + keyPattern + "=" + valuePattern + "(?=&|$)(?!.*&" + keyPattern + "(?:[=&]|\\[|%5[bB]|$))"
    }

    /// Every spelling of one byte that PHP decodes to it, as a PCRE group.
    static func spellings(of byte: UInt8, inKey: Bool) -> String {
        var alternatives: [String] = []
        let special: [UInt8] = inKey ? Array("&+%#=".utf8) : Array("&+%#".utf8)
        if byte > 0x20, byte != 0x7F, !special.contains(byte) { alternatives.append(regexByte(byte)) }
        alternatives.append("%" + hexDigitPattern(byte >> 4) + hexDigitPattern(byte & 0x0F))
        if byte == UInt8(ascii: " ") { alternatives.append("\\+") }
        // PHP turns '.' and ' ' in a key name into '_'.
        if inKey, byte == UInt8(ascii: "_") { alternatives += ["\\.", "%2[eE]", "\\+", "%20"] }
        if alternatives.count == 1 { return alternatives[0] }
        return "(?:" + alternatives.joined(separator: "|") + ")"
    }

    static func regexByte(_ byte: UInt8) -> String {
        if ConfigText.isWordByte(byte) { return String(Character(Unicode.Scalar(byte))) }
        return "\\x" + ApacheEscaping.hex(byte)
    }

    static func hexDigitPattern(_ nibble: UInt8) -> String {
        let digit = Character(Unicode.Scalar(PathEncoding.hex[Int(nibble)]))
        return nibble < 10 ? String(digit) : "[\(digit)\(Character(digit.lowercased()))]"
    }
}
