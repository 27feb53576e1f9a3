import CutoverCore

/// Like the vhost form, but per-page flips live in a RewriteMap file that Apache re-reads when its
/// mtime changes: flips then need no reload. `txt:` (the rewritemap form) is searched line by
/// line on each cache miss; `dbm=gdbm:` (the dbm form, `hashed`) is one hashed look-up, written
/// by `cutover apply --form dbm` (`HashedMapFile`). Paths that cannot be map keys (a space, a
/// query, a hashed key over `HashedMapFile.maxKeyBytes`) keep a rule each.
struct RewriteMapForm: ExportFormRules {
    var hashed = false
    var directoryContext: Bool { false }
    var warnsAboutRuleCount: Bool { false }
    var usesMapFile: Bool { true }

    func split(_ flips: [PageFlip]) throws -> (mapKeys: [[UInt8]], rules: [PageFlip]) {
        var keys: [[UInt8]] = []
        var rules: [PageFlip] = []
        for flip in flips {
            // Map keys are paths: a query-identified page keeps a rule of its own.
            if !flip.path.contains("?"), let key = try ApacheEscaping.mapKey(forPath: flip.path),
                !hashed || key.count <= HashedMapFile.maxKeyBytes
            {
                keys.append(key)
            } else {
                rules.append(flip)
            }
        }
        return (keys, rules)
    }

    func flipSectionOpening(_ input: ExportInput, rules: [PageFlip], proxyTarget: String) throws -> [String] {
        var lines = [
            hashed
                ? "#    Pages in the hashed map file (one look-up; Apache re-opens it when its mtime changes, no reload):"
                : "#    Pages listed in the map file (Apache re-reads it when its mtime changes, no reload):",
            "RewriteCond ${\(DirectiveRenderer.mapName(input.settings)):%{REQUEST_URI}|php} =swift",
            DirectiveRenderer.requestPathCondition,
            "RewriteRule ^ \(proxyTarget)",
        ]
        if !rules.isEmpty {
            lines.append("#    Pages whose path has a space, and query-identified pages (/doku.php?id=x), cannot be map keys;")
            lines.append("#    they get their own rule:")
        }
        return lines
    }

    func layout(_ parts: ExportParts) throws -> [String] {
        guard let mapFile = parts.input.mapFilePath else { throw ExportError.mapFileRequired }
        let quoted = try ApacheEscaping.quotedPath(mapFile, what: "map file").dropFirst().dropLast()
        let declaration = "RewriteMap \(DirectiveRenderer.mapName(parts.input.settings)) \"\(mapScheme):\(quoted)\""
        return try VhostForm.serverContext(parts, declarations: [declaration])
    }

    /// How the `RewriteMap` line names the map's type.
    var mapScheme: String { hashed ? "dbm=gdbm" : "txt" }

    /// Puts the rendered map (its text, as stored with the export) at `path` as Apache reads it:
    /// the text as written, or its keys as a GNU dbm file; atomically either way.
    func writeMap(_ text: [UInt8], to path: String) throws {
        if hashed {
            try HashedMapFile.write(keys: HashedMapFile.keys(ofTextMap: text), to: path)
        } else {
            try Exporter.writeMapFile(text, to: path)
        }
    }

    func mapFile(_ settings: SiteSettings, keys: [[UInt8]]) -> [UInt8]? {
        Array("# Cutover page flips for site '\(settings.name)': URL path, then owner. Written by `cutover apply`.\n".utf8)
            + keys.flatMap { $0 + Array(" swift\n".utf8) }
    }
}
