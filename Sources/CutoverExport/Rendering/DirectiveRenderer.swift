import CutoverCore

/// Rendered directives, plus the map file's content in rewritemap form (raw bytes: keys are
/// decoded URL paths, which need not be UTF-8).
package struct RenderedExport: Sendable, Hashable {
    package var form: ExportForm
    package var text: String
    package var mapFile: [UInt8]?
    /// Why the live site would not do what this export says (a `.htaccess` that overrides it);
    /// `export --check` fails on these. Also written into the text as comments.
    package var conflicts: [String] = []
    /// The running canaries' weights (`CanaryTree`, and `MAP.canaries` as text), when the site has any.
    package var canaries: CanaryMap?
}
