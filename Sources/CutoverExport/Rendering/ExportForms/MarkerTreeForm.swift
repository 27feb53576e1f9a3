import CutoverCore

/// Like the dbm form, but each flipped page is an empty marker file under a folder the service
/// owns, tested with one `stat` per request: `RewriteCond "DIR%{REQUEST_URI}.cutover-flip" -f`.
/// mod_rewrite opens a dbm map on every cache miss (about 30 µs at 50,000 keys); a `stat` of a
/// path the kernel has cached costs a microsecond or two. Apache has already normalised
/// `REQUEST_URI` ('..' and '.' resolved, slashes merged, `%2F` refused), so the tested path never
/// leaves the folder. Pages whose key cannot be a marker path (`MarkerTree.markerKeys`) keep a
/// rule each.
struct MarkerTreeForm: ExportFormRules {
    var directoryContext: Bool { false }
    var warnsAboutRuleCount: Bool { false }
    var usesMapFile: Bool { true }

    func split(_ flips: [PageFlip]) throws -> (mapKeys: [[UInt8]], rules: [PageFlip]) {
        var candidates: [([UInt8], PageFlip)] = []
        var rules: [PageFlip] = []
        for flip in flips {
            if !flip.path.contains("?"), let key = try ApacheEscaping.mapKey(forPath: flip.path), MarkerTree.representable(key) {
                candidates.append((key, flip))
            } else {
                rules.append(flip)
            }
        }
        let clashing = MarkerTree.clashing(candidates.map(\.0))
        var keys: [[UInt8]] = []
        for (key, flip) in candidates {
            if clashing.contains(key) { rules.append(flip) } else { keys.append(key) }
        }
        return (keys, rules)
    }

    func flipSectionOpening(_ input: ExportInput, rules: [PageFlip], proxyTarget: String) throws -> [String] {
        // The folder is written into the config: only a name `checkFolder` accepts.
        guard let folder = input.mapFilePath else { throw ExportError.mapFileRequired }
        try MarkerTree.checkFolder(folder)
        var lines = [
            "#    Pages with a marker file in the flip folder (one stat per request; written page by page, no reload):",
            "RewriteCond \"\(folder)%{REQUEST_URI}\(MarkerTree.suffix)\" -f",
            DirectiveRenderer.requestPathCondition,
            "RewriteRule ^ \(proxyTarget)",
        ]
        if !rules.isEmpty {
            lines.append("#    Query-identified pages (/doku.php?id=x) and paths that cannot be marker files get their own rule:")
        }
        return lines
    }

    func layout(_ parts: ExportParts) throws -> [String] {
        try VhostForm.serverContext(parts, declarations: [])
    }

    /// No `RewriteMap` line: the config check needs no map.
    var mapScheme: String { "" }

    func writeMap(_ text: [UInt8], to path: String) throws {
        _ = try MarkerTree.write(keys: HashedMapFile.keys(ofTextMap: text), to: path)
    }

    func mapFile(_ settings: SiteSettings, keys: [[UInt8]]) -> [UInt8]? {
        Array("# Cutover page flips for site '\(settings.name)': URL path, then owner. Written as marker files by `cutover apply`.\n".utf8)
            + keys.flatMap { $0 + Array(" swift\n".utf8) }
    }
}
