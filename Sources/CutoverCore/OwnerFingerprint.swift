import Foundation

/// How an observed owner was decided.
public enum OwnerSource: String, Codable, Sendable {
    /// From a marker header the deployment sets (reliable).
    case marker
    /// From header heuristics only (labelled as a guess).
    case guessed
}

/// Decides who answered a response. Debian's mod_php sends no `X-Powered-By` and proxied
/// responses carry the backend's own headers, so Cutover relies on markers:
/// - `X-Cutover-Owner: swift|php|static`, set by the Swift app's middleware (or anything else);
/// - `X-Cutover-Handler`, which Cutover's exported Apache config sets to `%{HANDLER}`
///   (`proxy-server` for the Swift app, `application/x-httpd-php` for PHP, the file type otherwise).
/// Without either, header heuristics give a guess.
public struct OwnerFingerprint: Sendable, Hashable {
    public static let defaultOwnerHeader = "X-Cutover-Owner"
    public static let handlerHeader = "X-Cutover-Handler"

    /// Name of the header that names the owner directly.
    public var ownerHeader: String

    public init(ownerHeader: String = OwnerFingerprint.defaultOwnerHeader) {
        self.ownerHeader = ownerHeader
    }

    /// The owner behind a response, or nil when nobody identifiable answered (e.g. Apache's own 404).
    /// `header` looks a header up case-insensitively and returns its first value.
    public func observe(status: Int, header: (String) -> String?) -> (owner: Owner, source: OwnerSource)? {
        if let value = header(ownerHeader), let owner = Owner(parsing: value.trimmingCharacters(in: .whitespaces)) {
            return (owner, .marker)
        }
        if let handler = header(Self.handlerHeader)?.lowercased() {
            if handler.hasPrefix("proxy") { return (.swift, .marker) }
            if handler.contains("php") { return (.php, .marker) }
            // Apache answered from the docroot without PHP or the proxy: a file, or its own error.
            return status < 400 ? (.static, .marker) : nil
        }
        return Self.guess(status: status, header: header)
    }

    /// Heuristics for a site without markers (stock Debian, see APACHE-NOTES):
    /// a non-Apache `Server` header is the backend; Apache with ETag/Last-Modified is a file;
    /// Apache HTML without them is PHP.
    static func guess(status: Int, header: (String) -> String?) -> (owner: Owner, source: OwnerSource)? {
        let server = header("Server")?.lowercased() ?? ""
        guard server.hasPrefix("apache") else { return (.swift, .guessed) }
        guard status < 400 else { return nil }
        if header("ETag") != nil || header("Last-Modified") != nil || header("Accept-Ranges") != nil {
            return (.static, .guessed)
        }
        return (.php, .guessed)
    }
}
