/// A request header parity sends under one URL prefix (#27.2): a test account's session cookie
/// for logged-in pages, an `Authorization` for a staging login. Kept like the API token: stored
/// apart from the site's settings, never logged, shown only masked (`masked`), sent only with
/// requests whose path starts with `prefix` (an allow-list), and only by parity and its fixtures.
public struct ParityCredential: Sendable, Hashable {
    /// A URL path prefix (`/account/`); `/` allows every page.
    public var prefix: String
    /// The header's name (`Cookie`, `Authorization`).
    public var name: String
    public var value: String

    public init(prefix: String, name: String, value: String) {
        self.prefix = prefix
        self.name = name
        self.value = value
    }

    /// Headers parity owns or HTTP framing needs: never replaced by a credential.
    public static let reservedNames: Set<String> = [
        "host", "user-agent", "x-cutover-side", "content-length", "transfer-encoding", "connection", "keep-alive", "te", "upgrade",
        "expect", "proxy-connection", "accept-encoding", "accept",
    ]

    /// The value as shown anywhere: its first 4 characters.
    public var masked: String { value.count <= 4 ? "…" : String(value.prefix(4)) + "…" }

    /// Whether `path` is under the credential's prefix.
    public func applies(to path: String) -> Bool { path.hasPrefix(prefix) }

    /// One sentence per problem (empty when valid); values are never quoted back.
    public func problems() -> [String] {
        var found: [String] = []
        if !prefix.hasPrefix("/") || prefix.utf8.count > 1024 || prefix.unicodeScalars.contains(where: { $0.value <= 0x20 || $0.value == 0x7F }) {
            found.append("the prefix '\(ConfigText.visible(prefix))' must be a URL path (starting with '/', without spaces or control characters)")
        }
        let token = Set("!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
        if name.isEmpty || name.count > 64 || !name.allSatisfy(token.contains) {
            found.append("the header name '\(ConfigText.visible(name))' must be an HTTP token of at most 64 characters")
        } else if Self.reservedNames.contains(name.lowercased()) {
            found.append("the header \(name) is parity's own (or the connection's) and cannot be set")
        }
        if value.isEmpty || value.utf8.count > 8192 || !value.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) {
            found.append("the header value must be 1 to 8192 characters of printable ASCII (no line breaks or control characters)")
        }
        return found
    }

    /// The headers for `path`: every credential whose prefix it is under.
    public static func headers(for path: String, in credentials: [ParityCredential]) -> [(String, String)] {
        credentials.filter { $0.applies(to: path) }.map { ($0.name, $0.value) }
    }
}
