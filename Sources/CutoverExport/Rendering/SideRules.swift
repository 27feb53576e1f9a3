import Crypto
import CutoverCore

/// The rules that let a request choose its side (`SideHeader`), written into every form.
///
/// A request naming Swift is proxied by the first rule, before redirects and flips. A request
/// naming PHP must pass every Cutover rule by, and only those: the app's own rules (a front
/// controller) still answer it, so a `[L]` that would end all rewriting is not enough. Each other
/// Cutover rule gets one condition that fails for it, after the rule's own tests (so it is
/// evaluated only when the rule would otherwise apply) and before its path capture (see
/// `guarded`); `-z` skips the digest for requests without the header.
/// `req_novary` reads the header without adding it to `Vary`, which would change how caches
/// store every proxied page.
struct SideRules {
    let swiftDigest: String
    let phpDigest: String

    init(secret: String) throws {
        guard SideHeader.isValidSecret(secret) else {
            throw ExportError.unsafeSetting("the site's side-header secret is not 32 lowercase hex digits: it was changed outside Cutover")
        }
        swiftDigest = Self.digest(SideHeader.value(.swift, secret: secret))
        phpDigest = Self.digest(SideHeader.value(.php, secret: secret))
    }

    /// Lowercase hex SHA-1, as Apache's `sha1()` writes it.
    static func digest(_ value: String) -> String { Hex.encode(Insecure.SHA1.hash(data: Array(value.utf8))) }

    static let header = "req_novary('\(SideHeader.name)')"

    /// Section 0: the request that names Swift reaches it, whatever the plan.
    func section(proxyTarget: String) -> [String] {
        [
            "# 0. Choosing the side: a request whose \(SideHeader.name) header is swift;SECRET reaches Swift, and one whose",
            "#    header is php;SECRET passes every Cutover rule by (PHP and the app's own rules answer), whatever the",
            "#    plan. SECRET is the site's (`cutover site side-secret`); only SHA-1 digests are written here.",
            "RewriteCond expr \"sha1(\(Self.header)) == '\(swiftDigest)'\"",
            DirectiveRenderer.requestPathCondition,
            "RewriteRule ^ \(proxyTarget)",
            "",
        ]
    }

    /// The condition that ends every other Cutover rule.
    var phpGuard: String { "RewriteCond expr \"-z \(Self.header) || sha1(\(Self.header)) != '\(phpDigest)'\"" }

    /// `lines` with the guard in each rule: right before the rule, or before the condition that
    /// captures the request path when the rule has one. `%1` in a substitution is the group of
    /// the last condition that matched, and the guard (an `expr`) has none: placed after the
    /// capture, it sent every proxied request to the backend's root.
    func guarded(_ lines: [String]) -> [String] {
        var out: [String] = []
        out.reserveCapacity(lines.count + lines.count / 2)
        for line in lines {
            if line.hasPrefix("RewriteRule ") {
                if out.last == DirectiveRenderer.requestPathCondition {
                    out.insert(phpGuard, at: out.count - 1)
                } else {
                    out.append(phpGuard)
                }
            }
            out.append(line)
        }
        return out
    }
}
