import CutoverCore

/// Renders the Apache directives that make the live site match the plan.
///
/// Pure and deterministic: the same input gives the same bytes.
///
/// In the vhost and rewritemap forms, redirects and per-page flips sit in server (vhost)
/// context: Apache applies them while it maps the URL, before it reads any `.htaccess`, so an
/// app's own rewrite rules in the docroot or a subdirectory can neither replace nor shadow them
/// (measured, APACHE-NOTES). The fallback and the index-less directory rule need real file
/// tests (`REQUEST_FILENAME`), so they stay in `<Directory DOCROOT>` with
/// `RewriteOptions InheritDown`: where a `.htaccess` has rules of its own, Apache appends these
/// after the app's, so the app keeps every URL it rewrites and the fallback gets the rest.
/// A subdirectory whose `.htaccess` has rules gets its own `<Directory>` block with the same two
/// rules, which keeps the root `.htaccess` rules out of it exactly as before the export.
package enum DirectiveRenderer {
    /// Captures the path exactly as the client sent it (percent-encoding intact); only
    /// origin-form targets (starting with '/') match, so the backend host cannot be changed.
    static let requestPathCondition = #"RewriteCond %{THE_REQUEST} "^\S+\s+(/[^?\s]*)""#

    package static func render(_ input: ExportInput, form: ExportForm) throws -> RenderedExport {
        let settings = input.settings
        // Stored rows from older versions may hold values that are refused today.
        let problems = settings.configProblems()
        guard problems.isEmpty else { throw ExportError.unsafeSetting("the site's settings cannot be exported: " + problems.joined(separator: "; ")) }
        let backend = try ApacheEscaping.backendBase(settings.backendURL)
        let proxyTarget = "\"\(backend)%1\" [P,L,NE,QSA,NS]"
        let flips = input.flips.sorted { $0.path < $1.path }
        let redirects = input.redirects.sorted { $0.from < $1.from }
        let htaccess = input.htaccess.sorted { $0.directory < $1.directory }
        let rules = form.rules
        let (mapKeys, ruleFlips) = try rules.split(flips)

        // Rules that name a URL: in server context they match the URL path; in a .htaccess they
        // test REQUEST_URI, which also works when the rules are inherited into a subdirectory
        // (a pattern there would match the path relative to that subdirectory).
        // A query-identified page (`/doku.php?id=start`) adds a condition on the query string.
        func matching(_ path: String) throws -> (conditions: [String], pattern: String) {
            var conditions: [String] = []
            var scriptPath = path
            if path.contains("?") {
                guard let page = QueryPage.parse(path) else { throw ExportError.unsafeName(path: path, reason: "not a URL path with one key=value") }
                scriptPath = page.script
                conditions.append("RewriteCond %{QUERY_STRING} \"\(try QueryPage.queryPattern(key: page.key, value: page.value, url: path))\"")
            }
            var full = try ApacheEscaping.serverPattern(forPath: scriptPath)
            // A page of a script that answers its directory URL: `/?page=x` is the same page.
            if path.contains("?"), let directory = input.scriptDirectories[scriptPath], scriptPath.hasPrefix(directory),
                let directoryBytes = PathEncoding.decode(directory),
                let nameBytes = PathEncoding.decode(String(scriptPath.dropFirst(directory.count)))
            {
                full =
                    "^" + (try ApacheEscaping.regexLiteral(directoryBytes, path: directory)) + "(?:"
                    + (try ApacheEscaping.regexLiteral(nameBytes, path: scriptPath)) + ")?$"
            }
            return rules.directoryContext ? (["RewriteCond %{REQUEST_URI} \"\(full)\""] + conditions, "^") : (conditions, "\"\(full)\"")
        }

        var early: [String] = []
        early.append("# 1. Redirects: URLs that moved answer 301 with their new Swift URL.")
        if redirects.isEmpty { early.append("#    (none)") }
        for redirect in redirects {
            // Every value is checked (and refused) before any text of it is written, comments included.
            let (conditions, pattern) = try matching(redirect.from)
            let target = try ApacheEscaping.substitutionPath(redirect.to)
            early.append("#    \(redirect.from) -> \(redirect.to)")
            early += conditions
            // A query-identified page's redirect drops the old query (QSD): it named the page.
            let flags = redirect.from.contains("?") ? "R=301,L,NE,QSD" : "R=301,L,NE"
            early.append("RewriteRule \(pattern) \"\(target)\" [\(flags)]")
        }
        early.append("")
        early.append("# 2. Per-page flips: Swift answers these while their .php file stays on disk. The backend")
        early.append("#    receives the path exactly as the client sent it, and the query string.")
        early += try rules.flipSectionOpening(input, rules: ruleFlips, proxyTarget: proxyTarget)
        for flip in ruleFlips {
            let (conditions, pattern) = try matching(flip.path)
            early.append("#    \(flip.path)")
            early += conditions
            early.append(requestPathCondition)
            early.append("RewriteRule \(pattern) \(proxyTarget)")
        }

        var canaryRules: CanaryRules?
        if !input.canaries.isEmpty {
            guard rules.usesMapFile, !rules.directoryContext else { throw ExportError.canaryNeedsMapForm(form) }
            guard let mapFilePath = input.mapFilePath else { throw ExportError.mapFileRequired }
            canaryRules = CanaryRules(settings: settings, mapFilePath: mapFilePath, canaries: input.canaries)
        }

        // Prefix routes exist on front-controller sites, confirmed or only detected.
        if settings.frontController != nil || !input.prefixes.isEmpty {
            early.append("")
            early.append("#    Prefix routes: every URL below these reaches Swift, known or not.")
            if input.prefixes.isEmpty { early.append("#    (none)") }
            for prefix in input.prefixes.sorted() {
                guard let bytes = PathEncoding.decode(prefix), bytes.first == UInt8(ascii: "/") else {
                    throw ExportError.unsafeName(path: prefix, reason: "not a URL path")
                }
                let pattern = "^" + (try ApacheEscaping.regexLiteral(bytes, path: prefix))
                early.append("#    \(prefix)*")
                if rules.directoryContext { early.append("RewriteCond %{REQUEST_URI} \"\(pattern)\"") }
                early.append(requestPathCondition)
                early.append("RewriteRule \(rules.directoryContext ? "^" : "\"\(pattern)\"") \(proxyTarget)")
            }
        }

        var late: [String] = []
        if input.directoriesToSwift {
            late.append("# 3. Directories without an index file reach Swift at their own path (/dir/, not /dir/index.php).")
            late.append("RewriteCond %{REQUEST_FILENAME} -d")
            for name in settings.directoryIndex { late.append("RewriteCond %{REQUEST_FILENAME}/\(name) !-f") }
            late.append(requestPathCondition)
            late.append("RewriteRule ^ \(proxyTarget)")
        } else {
            late.append("# 3. Directories without an index file stay Apache's (403, 404 or a listing): site setting directoriesToSwift off.")
        }
        late.append("")
        late.append("# 4. The fallback: every URL without a file or directory goes to the Swift app.")
        late.append("RewriteCond %{REQUEST_FILENAME} !-f")
        late.append("RewriteCond %{REQUEST_FILENAME} !-d")
        late.append(requestPathCondition)
        late.append("RewriteRule ^ \(proxyTarget)")

        let sides = try input.sideSecret.map(SideRules.init(secret:))
        if let sides {
            early = sides.section(proxyTarget: proxyTarget) + sides.guarded(early)
            late = sides.guarded(late)
        }
        // Canaries last among the early rules; only their proxying rule is guarded (see CanaryRules).
        if let (setup, proxy) = canaryRules?.section(proxyTarget: proxyTarget) {
            early += setup + (sides?.guarded(proxy) ?? proxy)
        }

        var lines: [String] = [
            "# Cutover export for site '\(settings.name)' (\(form.rawValue) form): \(flips.count) page flips, \(redirects.count) redirects.",
            "# Generated by `cutover export`; edit the plan, not this file. Needs mod_rewrite, mod_proxy,",
            "# mod_proxy_http and mod_headers. Roll back by applying an earlier export (`cutover export --id N`).",
        ]
        if rules.warnsAboutRuleCount, ruleFlips.count > recommendedMaxRules {
            lines.append(
                "# \(ruleFlips.count) per-page rules are checked on every request: above \(recommendedMaxRules) the tree form (a marker file per page, one stat per request) is faster."
            )
        }
        if (try? LogFormat(settings.accessLogFormat))?.attributesOwner != true {
            lines.append("# Tip: end the site's LogFormat with %R (the handler: proxy-server is Swift) so that `cutover logs`")
            lines.append("# counts who really answered each request instead of inferring it from probes.")
        }
        let findings = HtaccessFindings(
            htaccess,
            flips: flips,
            directoryContext: rules.directoryContext,
            docroot: settings.docroot,
            writesDirectoryBlocks: settings.frontController == nil
        )
        let conflicts = findings.conflicts
        for conflict in conflicts { lines.append("# CONFLICT: \(conflict)") }
        var parts = ExportParts(input: input, findings: findings, early: early, late: late, backend: backend)
        parts.canaryDeclarations = try canaryRules?.declarations() ?? []
        lines += try rules.layout(parts)
        let mapFile = rules.mapFile(settings, keys: mapKeys)
        try ConfigLines.verify(lines, mapFile: mapFile)
        var rendered = RenderedExport(form: form, text: lines.joined(separator: "\n") + "\n", mapFile: mapFile, conflicts: conflicts)
        rendered.canaries = try canaryRules?.map()
        return rendered
    }

    /// Above this many per-page rules the export recommends the tree form: measured
    /// (scripts/bench-apache.py fleet, 50,000 flips) against no flips: rules 0.02 x, txt map 0.08 x,
    /// gdbm map 0.51 x, marker files 0.90 x.
    package static let recommendedMaxRules = 500

    /// The RewriteMap name for a site. Map names are server-wide, so two sites must never share
    /// one: letters and digits stay, every other byte is written `_HH` and `_` itself `__`, which
    /// no other name produces (`shop.v2` → `cutover_shop_2Ev2`, `shop_v2` → `cutover_shop__v2`).
    package static func mapName(_ settings: SiteSettings) -> String {
        var out = "cutover_"
        for byte in settings.name.utf8 {
            if ConfigText.isWordByte(byte) {
                out.append(Character(Unicode.Scalar(byte)))
            } else if byte == UInt8(ascii: "_") {
                out += "__"
            } else {
                out += "_" + ApacheEscaping.hex(byte)
            }
        }
        return out
    }
}
