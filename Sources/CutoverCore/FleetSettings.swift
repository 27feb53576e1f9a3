import Foundation

/// Where a site's fleet reads its plan (#28.2): the PostgreSQL the node agents listen to, and
/// whether every plan change made through Cutover is published there at once. Untrusted text,
/// shown to every local reader of the settings: the URL never holds a password (only the path of
/// a file that does), checked where it enters (`problems`).
public struct FleetSettings: Sendable, Hashable, Codable {
    /// `postgres://USER@HOST:PORT/DATABASE[?sslmode=…&connect_timeout=…&statement_timeout=…]`.
    public var databaseURL: String
    /// Absolute path of a file whose first line is the password (nil: none, or `PGPASSWORD_FILE`).
    public var passwordFile: String?
    /// Publish after each flip, rollback or plan restore made through Cutover (API, dashboard, CLI).
    public var autoPublish: Bool

    public init(databaseURL: String, passwordFile: String? = nil, autoPublish: Bool = true) {
        self.databaseURL = databaseURL
        self.passwordFile = passwordFile
        self.autoPublish = autoPublish
    }

    public var storedBytes: Int { databaseURL.utf8.count + (passwordFile?.utf8.count ?? 0) }

    /// One sentence per problem (empty when valid). The URL's query is checked by the publisher
    /// when it connects; here, what must never be stored.
    public func problems() -> [String] {
        var found: [String] = []
        let shown = ConfigText.visible(databaseURL)
        if databaseURL.utf8.count > 2048 || databaseURL.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) {
            found.append("fleet database URL must be at most 2048 bytes without control characters")
        } else if let components = URLComponents(string: databaseURL) {
            if !["postgres", "postgresql"].contains(components.scheme?.lowercased() ?? "") {
                found.append("fleet database URL '\(shown)' must start with postgres://")
            }
            // Settings are open reads on loopback: no password in the URL, nor in its query.
            if components.password != nil || components.queryItems?.contains(where: { $0.name.lowercased() == "password" }) == true {
                found.append("fleet database URL must not hold a password: give a password file")
            }
        } else {
            found.append("fleet database URL '\(shown)' is not a URL")
        }
        if let passwordFile, !passwordFile.hasPrefix("/") || passwordFile.utf8.count > 4096 || ConfigText.pathProblem(passwordFile) != nil {
            found.append("fleet password file '\(ConfigText.visible(passwordFile))' must be an absolute path without control characters or quotes")
        }
        return found
    }
}
