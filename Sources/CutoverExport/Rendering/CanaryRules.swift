import CutoverCore
import Foundation

/// The rules that send a share of visitors to Swift for a canary's pages (#29), written into the
/// map forms. The weights are a GNU dbm map beside the form's map (`MAP.canaries.dbm`: page,
/// weight; `MAP.canaries` is the same as text, for people), which Apache re-opens when it
/// changes, so a weight changes without a reload. Only a canary's page looks its weight up: a
/// marker file per page (`MAP.canary-pages`, one `stat`) tells the others there is nothing to
/// look up — with a map look-up on every request (txt or dbm, each a search or an open on a
/// child's cache miss) Apache lost 30-40 % of its throughput with 100 canaries
/// (bench-apache.py canaries); a visitor's
/// bucket (0-99) is drawn once from an `rnd:` map (`MAP.buckets`) and kept in the cohort cookie,
/// set on whichever side answers. Measured live (APACHE-NOTES): `-lt` compares two variables only
/// inside `expr`, and every field of `[CO=…]` must be filled (empty ones collapse); with `secure`
/// false Apache also drops `HttpOnly` (it stops at the first absent attribute), so the cookie is
/// HttpOnly on https sites only — it holds a number from 0 to 99, nothing secret.
struct CanaryRules {
    let settings: SiteSettings
    let mapFilePath: String
    let canaries: [CanaryRoute]

    var weightsPath: String { mapFilePath + ".canaries" }
    var weightsHashedPath: String { mapFilePath + ".canaries.dbm" }
    /// Marker files of the canaries' pages (as the tree form's): one `stat` tells a request for
    /// any other page that it has nothing to look up.
    var pagesFolder: String { Self.pagesFolder(mapFilePath) }
    static func pagesFolder(_ mapFilePath: String) -> String { mapFilePath + ".canary-pages" }
    var bucketsPath: String { mapFilePath + ".buckets" }
    var weightsMap: String { DirectiveRenderer.mapName(settings) + "_canary" }
    var bucketsMap: String { DirectiveRenderer.mapName(settings) + "_bucket" }

    /// The weights map: each page's key and its canary's weight.
    func weightsFile() throws -> [UInt8] {
        var out = Array("# Cutover canaries of site '\(settings.name)': URL path, then the share of visitors (0-100) on Swift.\n".utf8)
        for canary in canaries.sorted(by: { $0.name < $1.name }) {
            for page in canary.pages.sorted() {
                guard let key = try ApacheEscaping.mapKey(forPath: page), !page.contains("?"), MarkerTree.representable(key) else {
                    throw ExportError.unsafeName(path: page, reason: "a canary page must be a path without a space or a query (the map's key)")
                }
                out += key + Array(" \(max(0, min(100, canary.weight)))\n".utf8)
            }
        }
        return out
    }

    /// The weights map once no canary runs: the rules still loaded find no page in it.
    static let noWeightsFile = Array("# Cutover canaries: none running.\n".utf8)

    /// The buckets map: one key whose 100 values are drawn from at random.
    static let bucketsFile = Array(
        "# Cutover cohort buckets: one of 0-99 is drawn per new visitor.\nbucket \((0..<100).map(String.init).joined(separator: "|"))\n".utf8
    )

    func declarations() throws -> [String] {
        try MarkerTree.checkFolder(pagesFolder)
        let weights = try ApacheEscaping.quotedPath(weightsHashedPath, what: "canary map").dropFirst().dropLast()
        let buckets = try ApacheEscaping.quotedPath(bucketsPath, what: "bucket map").dropFirst().dropLast()
        return [
            "# Canaries: each page's share of visitors on Swift (re-read when it changes), and the buckets visitors draw.",
            "RewriteMap \(weightsMap) \"dbm=gdbm:\(weights)\"",
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
            "#    Canaries (\(canaries.map { "\($0.name) \($0.weight) %" }.joined(separator: ", "))): a share of visitors reaches Swift for their pages.",
            "#    Each visitor draws a bucket (0-99) once, kept in the \(cookie) cookie; a visitor is on Swift where the page's",
            "#    weight is above their bucket, so raising a weight only moves visitors from PHP to Swift.",
            "RewriteCond \"\(pagesFolder)%{REQUEST_URI}\(MarkerTree.suffix)\" -f",
            "RewriteCond ${\(weightsMap):%{REQUEST_URI}|-} ^([0-9]{1,3})$",
            "RewriteRule ^ - [E=CUTOVER_WEIGHT:%1]",
            "RewriteCond %{ENV:CUTOVER_WEIGHT} ^[0-9]",
            "RewriteCond %{HTTP_COOKIE} \"(?:^|;)\\s*\(cookie)=([0-9]{1,2})(?:;|$)\"",
            "RewriteRule ^ - [E=CUTOVER_BUCKET:%1]",
            "RewriteCond %{ENV:CUTOVER_WEIGHT} ^[0-9]",
            "RewriteCond %{ENV:CUTOVER_BUCKET} ^$",
            "RewriteRule ^ - [E=CUTOVER_BUCKET:${\(bucketsMap):bucket},E=CUTOVER_NEW_BUCKET:1]",
            "RewriteCond %{ENV:CUTOVER_NEW_BUCKET} =1",
            "RewriteRule ^ - [CO=\(cookie):%{ENV:CUTOVER_BUCKET}:\(host):\(Canary.cookieMinutes):/:\(secure):HttpOnly:Lax]",
        ]
        let proxy = [
            "RewriteCond %{ENV:CUTOVER_WEIGHT} ^[0-9]",
            "RewriteCond expr \"%{ENV:CUTOVER_BUCKET} -lt %{ENV:CUTOVER_WEIGHT}\"",
            DirectiveRenderer.requestPathCondition,
            "RewriteRule ^ \(proxyTarget)",
        ]
        return (setup, proxy)
    }
}
