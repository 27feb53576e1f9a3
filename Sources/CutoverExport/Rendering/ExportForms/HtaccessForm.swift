import CutoverCore

/// Directory context, for a docroot `.htaccess` on hosts without config access.
struct HtaccessForm: ExportFormRules {
    var directoryContext: Bool { true }

    func layout(_ parts: ExportParts) throws -> [String] {
        var lines = ["# Place in the docroot as .htaccess; needs `AllowOverride FileInfo Indexes` and `Options FollowSymLinks`."]
        lines += parts.findings.htaccessGuidance
        lines.append("")
        lines.append("# Say who answered each response; `cutover probe` reads it (needs mod_headers).")
        lines.append(ApacheSnippets.ownerMarker)
        lines.append("# Let rewrite rules see directory URLs before mod_dir picks an index file (root cutover).")
        lines.append("DirectoryCheckHandler On")
        lines.append("RewriteEngine On")
        lines.append("")
        lines += parts.early
        lines.append("")
        if let script = parts.input.settings.frontController {
            lines.append("# ---- The app's own rewrite rules go here, after the flips: its front controller \(script) ----")
            lines.append("# ---- answers every other URL without a file. No Swift fallback on this site.             ----")
        } else {
            lines.append("# ---- The app's own rewrite rules, if it has any, go here: after the flips, before the fallback. ----")
            lines.append("")
            lines += parts.late
        }
        return lines
    }
}
