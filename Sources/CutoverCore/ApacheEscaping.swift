/// Escaping of untrusted text (file names from the docroot) for Apache config files.
///
/// Every file-derived string is turned into an ASCII regex in which anything but letters,
/// digits, `_`, `-`, `/` and `.` is written as `\xHH`. Quotes, `>`, spaces, `%`, `$`, `<`
/// and non-ASCII bytes therefore never appear raw in the config: a name cannot end a section,
/// close a quoted argument or add a directive. Control characters (newline, NUL, ...) are
/// refused outright: such URLs cannot be requested sensibly anyway.
public enum ApacheEscaping {
    /// A mod_rewrite pattern matching exactly this URL path in server context, or against
    /// `%{REQUEST_URI}` anywhere: the decoded path with its leading slash.
    public static func serverPattern(forPath path: String) throws -> String {
        guard let bytes = PathEncoding.decode(path), bytes.first == UInt8(ascii: "/") else {
            throw ExportError.unsafeName(path: path, reason: "not a URL path")
        }
        return "^" + (try regexLiteral(bytes, path: path)) + "$"
    }

    /// Bytes as a PCRE literal using only `[A-Za-z0-9_/.-]`, `\.` and `\xHH`.
    public static func regexLiteral(_ bytes: [UInt8], path: String) throws -> String {
        var out = ""
        for byte in bytes {
            if byte < 0x20 || byte == 0x7F {
                throw ExportError.unsafeName(path: path, reason: "it contains a control character (byte 0x\(hex(byte)))")
            }
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                UInt8(ascii: "_"), UInt8(ascii: "-"), UInt8(ascii: "/"):
                out.append(Character(Unicode.Scalar(byte)))
            case UInt8(ascii: "."):
                out += "\\."
            default:
                out += "\\x" + hex(byte)
            }
        }
        return out
    }

    /// A local redirect target for a RewriteRule substitution: the canonical encoded path with
    /// `%`, `$` and `\` escaped (mod_rewrite would read `%2` as a back-reference), quoted.
    /// A control character, raw or percent-encoded, is refused, never re-encoded: the target is a
    /// stored value and a newline in it was put there by someone who meant harm.
    public static func substitutionPath(_ path: String) throws -> String {
        guard let bytes = PathEncoding.decode(path), let canonical = PathEncoding.canonical(path) else {
            throw ExportError.unsafeName(path: path, reason: "not a URL path")
        }
        if let byte = bytes.first(where: { $0 < 0x20 || $0 == 0x7F }) {
            throw ExportError.unsafeName(path: path, reason: "it contains a control character (byte 0x\(hex(byte)))")
        }
        var out = ""
        for character in canonical {
            if character == "%" || character == "$" || character == "\\" { out.append("\\") }
            out.append(character)
        }
        return out
    }

    /// The backend base URL as it may appear in a substitution: only URL-safe characters, no
    /// `%`, `$`, quotes or spaces, since it is text an operator typed.
    public static func backendBase(_ url: String) throws -> String {
        let base = HTTPBaseURL.normalized(url)
        guard HTTPBaseURL.problem(with: base) == nil, ConfigText.isBackendURL(base) else {
            throw ExportError.unsafeSetting(
                "backend URL '\(ConfigText.visible(url))' cannot be used in a RewriteRule: use scheme://host:port[/path] without %, $, quotes or spaces"
            )
        }
        return base
    }

    /// A path that is placed inside double quotes in a config file (docroot, map file).
    public static func quotedPath(_ path: String, what: String) throws -> String {
        guard path.hasPrefix("/") else { throw ExportError.unsafeSetting("\(what) '\(ConfigText.visible(path))' must be an absolute path") }
        if let problem = ConfigText.pathProblem(path) { throw ExportError.unsafeSetting("\(what) '\(ConfigText.visible(path))' \(problem)") }
        return "\"\(path)\""
    }

    /// A RewriteMap `txt:` key: the decoded path, when it has no white space (keys are
    /// white-space separated); nil means the page needs a per-page rule instead.
    public static func mapKey(forPath path: String) throws -> [UInt8]? {
        guard let bytes = PathEncoding.decode(path) else { throw ExportError.unsafeName(path: path, reason: "not a URL path") }
        _ = try regexLiteral(bytes, path: path)  // refuses control characters
        if bytes.contains(UInt8(ascii: " ")) || bytes.first == UInt8(ascii: "#") { return nil }
        return bytes
    }

    package static func hex(_ byte: UInt8) -> String {
        let digits = Array("0123456789ABCDEF")
        return String([digits[Int(byte >> 4)], digits[Int(byte & 0x0F)]])
    }
}
