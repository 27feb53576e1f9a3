/// Choosing the side of a page through Apache (#27.1): a request whose `X-Cutover-Side` header is
/// `swift;<secret>` reaches the Swift backend, and one whose header is `php;<secret>` passes every
/// Cutover rule by (PHP and the app's own rules answer, as before any flip), whatever the plan
/// says, in every export form. Parity fetches both sides of a page through the same Apache this
/// way; testers reach Swift before any visitor does.
///
/// The secret is the site's (`site_secrets`); the export holds only SHA-1 digests of the two
/// header values (Apache's `sha1()` in a `RewriteCond expr`), so the secret is never written in
/// a config file, a stored export or a diff. Without the secret, or with any other value
/// (two headers are one value joined by a comma), the header changes nothing.
public enum SideHeader {
    public static let name = "X-Cutover-Side"

    /// The sides a request can choose.
    public enum Side: String, Sendable, CaseIterable {
        case swift
        case php
    }

    /// The header's value that chooses `side`.
    public static func value(_ side: Side, secret: String) -> String { "\(side.rawValue);\(secret)" }

    /// A secret as the store keeps it: 32 lowercase hex digits (128 random bits).
    public static func isValidSecret(_ secret: String) -> Bool {
        secret.utf8.count == 32 && secret.utf8.allSatisfy { (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }
    }

    /// The secret as people may see it where it is not asked for: its first four digits.
    public static func masked(_ secret: String) -> String { String(secret.prefix(4)) + "…" }
}
