import CutoverCore
import Foundation

/// The rules that send a share of visitors to Swift for a canary's pages (#29), written into the
/// map forms. The weights are files Apache tests with a `stat` (`CanaryTree`: a link per page to
/// its canary's folder, which holds one file per bucket on Swift), so a weight changes without a
/// reload, and a request for any other page pays one `stat`. A visitor's bucket (0-99) is drawn
/// once from an `rnd:` map (`MAP.buckets`) and kept in the cohort cookie, set on whichever side
/// answers. Measured live (APACHE-NOTES): every field of `[CO=…]` must be filled (empty ones
/// collapse); with `secure` false Apache also drops `HttpOnly` (it stops at the first absent
/// attribute), so the cookie is HttpOnly on https sites only — it holds a number from 0 to 99,
/// nothing secret.
struct CanaryRules {
    let settings: SiteSettings
    let mapFilePath: String
    let canaries: [CanaryRoute]

    /// The canaries' pages' links (`CanaryTree`).
    var pagesFolder: String { CanaryTree.pagesFolder(mapFilePath) }
    var bucketsPath: String { mapFilePath + ".buckets" }
    var bucketsMap: String { DirectiveRenderer.mapName(settings) + "_bucket" }

    /// The canaries as `CanaryTree` writes them, and as text for people (`MAP.canaries`).
    func map() throws -> CanaryMap { try Self.map(site: settings.name, canaries: canaries) }

    /// The canaries of site `site` as `CanaryTree` writes them, and as text for people.
    static func map(site: String, canaries: [CanaryRoute]) throws -> CanaryMap {
        var text = Array("# Cutover canaries of site '\(site)': URL path, then the share of visitors (0-100) on Swift.\n".utf8)
        var tree: [CanaryTree.Canary] = []
        for canary in canaries.sorted(by: { $0.name < $1.name }) {
            let weight = max(0, min(100, canary.weight))
            var keys: [[UInt8]] = []
            for page in canary.pages.sorted() {
                guard let key = try ApacheEscaping.mapKey(forPath: page), !page.contains("?"),
                    MarkerTree.representable(key, suffix: CanaryTree.suffix)
                else {
                    throw ExportError.unsafeName(path: page, reason: "a canary page must be a path without a space or a query (a file name)")
                }
                keys.append(key)
                text += key + Array(" \(weight)\n".utf8)
            }
            tree.append(CanaryTree.Canary(name: canary.name, weight: weight, keys: keys))
        }
        if let problem = CanaryTree.problem(tree.flatMap(\.keys)) {
            throw ExportError.unsafeName(path: canaries.first?.pages.first ?? "", reason: problem)
        }
        return CanaryMap(canaries: tree, text: text)
    }

    /// The buckets map: one key whose 100 values are drawn from at random.
    static let bucketsFile = Array(
        "# Cutover cohort buckets: one of 0-99 is drawn per new visitor.\nbucket \((0..<100).map(String.init).joined(separator: "|"))\n".utf8
    )

    func declarations() throws -> [String] {
        try MarkerTree.checkFolder(pagesFolder)
        try MarkerTree.checkFolder(CanaryTree.weightsFolder(mapFilePath))
        let buckets = try ApacheEscaping.quotedPath(bucketsPath, what: "bucket map").dropFirst().dropLast()
        return [
            "# Canaries: the buckets visitors draw (their weights are files under \(pagesFolder)).",
            "RewriteMap \(bucketsMap) \"rnd:\(buckets)\"",
        ]
    }

    /// The section's rules, in server context after the flips and prefix routes: the rules that
    /// set the weight, the bucket and the cookie (they only set variables), then the one that
    /// proxies (`proxy`; the side header's guard goes there: a guard after a capturing condition
    /// would empty its `%1`).
    func section(proxyTarget: String) -> (setup: [String], proxy: [String]) {
        // The cookie's domain: the site URL's host when it is a plain name (validated where settings
        // enter, checked again here: a stored row may predate that), otherwise the server's name.
        let host =
            URLComponents(string: settings.publicURL)?.host.flatMap { HTTPBaseURL.isHostName($0) && !$0.hasPrefix("[") ? $0 : nil }
            ?? "%{SERVER_NAME}"
        let secure = settings.publicURL.lowercased().hasPrefix("https:") ? "true" : "false"
        let cookie = Canary.cookie
        let setup = [
            "",
            "#    Canaries (\(canaries.map(\.name).joined(separator: ", "))): a share of visitors reaches Swift for their pages.",
            "#    Each visitor draws a bucket (0-99) once, kept in the \(cookie) cookie; a visitor is on Swift where the page's",
            "#    canary folder holds a file named after their bucket (0 up to its weight), so raising a weight only moves",
            "#    visitors from PHP to Swift.",
            "RewriteCond \"\(pagesFolder)%{REQUEST_URI}\(CanaryTree.suffix)\" -d",
            "RewriteRule ^ - [E=CUTOVER_CANARY:1]",
            "RewriteCond %{ENV:CUTOVER_CANARY} =1",
            // A bucket as Apache wrote it (0-99, no leading zero: it names a file); anything else draws a new one.
            "RewriteCond %{HTTP_COOKIE} \"(?:^|;)\\s*\(cookie)=([1-9]?[0-9])(?:;|$)\"",
            "RewriteRule ^ - [E=CUTOVER_BUCKET:%1]",
            "RewriteCond %{ENV:CUTOVER_CANARY} =1",
            "RewriteCond %{ENV:CUTOVER_BUCKET} ^$",
            "RewriteRule ^ - [E=CUTOVER_BUCKET:${\(bucketsMap):bucket},E=CUTOVER_NEW_BUCKET:1]",
            "RewriteCond %{ENV:CUTOVER_NEW_BUCKET} =1",
            "RewriteRule ^ - [CO=\(cookie):%{ENV:CUTOVER_BUCKET}:\(host):\(Canary.cookieMinutes):/:\(secure):HttpOnly:Lax]",
        ]
        let proxy = [
            "RewriteCond %{ENV:CUTOVER_CANARY} =1",
            "RewriteCond \"\(pagesFolder)%{REQUEST_URI}\(CanaryTree.suffix)/%{ENV:CUTOVER_BUCKET}\" -f",
            DirectiveRenderer.requestPathCondition,
            "RewriteRule ^ \(proxyTarget)",
        ]
        return (setup, proxy)
    }
}

/// The running canaries of an export, as files (`CanaryTree`) and as text.
package struct CanaryMap: Sendable, Hashable {
    package var canaries: [CanaryTree.Canary]
    /// `MAP.canaries`: each page and its weight, for people.
    package var text: [UInt8]

    /// No canary running: the rules still loaded find no page.
    package static let none = CanaryMap(canaries: [], text: Array("# Cutover canaries: none running.\n".utf8))
}
