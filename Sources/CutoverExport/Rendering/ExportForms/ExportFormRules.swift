import CutoverCore

/// What makes one export form different from the others; `DirectiveRenderer` writes the rest
/// (redirects, flips, prefix routes, the fallback) the same way for every form. A new form is a
/// type in this folder and a case of `ExportForm`.
protocol ExportFormRules: Sendable {
    /// Directory context (a `.htaccess`): rules test `REQUEST_URI`, since inherited into a
    /// subdirectory a pattern would match the path relative to it. Server context: the rule's
    /// pattern matches the URL path.
    var directoryContext: Bool { get }

    /// Per-page rules are checked on every request: the export recommends a map form above
    /// `DirectiveRenderer.recommendedMaxRules` of them in the forms that have no map.
    var warnsAboutRuleCount: Bool { get }

    /// The flips this form keeps in a map file, as map keys, and those that get a rule each.
    func split(_ flips: [PageFlip]) throws -> (mapKeys: [[UInt8]], rules: [PageFlip])

    /// Lines of section 2 before its per-page rules.
    func flipSectionOpening(_ input: ExportInput, rules: [PageFlip], proxyTarget: String) throws -> [String]

    /// The file around the sections: where they go and what they need.
    func layout(_ parts: ExportParts) throws -> [String]

    /// The map file's bytes, for forms with a map.
    func mapFile(_ settings: SiteSettings, keys: [[UInt8]]) -> [UInt8]?

    /// True for forms that need a map file path to render.
    var usesMapFile: Bool { get }

    /// How the `RewriteMap` line names the map's type (`txt`, `dbm=gdbm`), for forms with a map.
    var mapScheme: String { get }

    /// Writes the rendered map text at `path` as the form's `RewriteMap` reads it, for forms with a map.
    func writeMap(_ text: [UInt8], to path: String) throws
}

/// The rendered sections a form lays out.
struct ExportParts {
    var input: ExportInput
    var findings: HtaccessFindings
    /// Redirects, flips and prefix routes: matched first.
    var early: [String]
    /// The index-less directory rule and the fallback: after the app's own rules.
    var late: [String]
    /// The backend's base URL, escaped.
    var backend: String
    /// The canaries' `RewriteMap` lines (server context), when the site has running canaries.
    var canaryDeclarations: [String] = []
}

extension ExportForm {
    /// True for forms that need a map file path (`--map-file`, the API's `map`).
    package var usesMapFile: Bool { rules.usesMapFile }
    /// True for the form that is itself a `.htaccess` (Apache reads it inside `<Directory>`).
    package var isDirectoryContext: Bool { rules.directoryContext }

    var rules: any ExportFormRules {
        switch self {
        case .vhost: VhostForm()
        case .htaccess: HtaccessForm()
        case .rewritemap: RewriteMapForm()
        case .dbm: RewriteMapForm(hashed: true)
        case .tree: MarkerTreeForm()
        }
    }
}

extension ExportFormRules {
    var warnsAboutRuleCount: Bool { true }
    var usesMapFile: Bool { false }

    func split(_ flips: [PageFlip]) throws -> (mapKeys: [[UInt8]], rules: [PageFlip]) { ([], flips) }

    func flipSectionOpening(_ input: ExportInput, rules: [PageFlip], proxyTarget: String) throws -> [String] {
        rules.isEmpty ? ["#    (none)"] : []
    }

    func mapFile(_ settings: SiteSettings, keys: [[UInt8]]) -> [UInt8]? { nil }

    var mapScheme: String { "" }

    func writeMap(_ text: [UInt8], to path: String) throws {}
}
