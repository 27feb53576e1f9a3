import CutoverCore

/// Server (vhost) context, for an `Include` inside the site's `<VirtualHost>`: redirects and
/// flips are matched while Apache maps the URL, the fallback in `<Directory>` blocks.
struct VhostForm: ExportFormRules {
    var directoryContext: Bool { false }

    func layout(_ parts: ExportParts) throws -> [String] {
        try Self.serverContext(parts, declarations: [])
    }

    /// The vhost layout, with `declarations` (a `RewriteMap`) before the rules that use them.
    static func serverContext(_ parts: ExportParts, declarations: [String]) throws -> [String] {
        let settings = parts.input.settings
        var lines = [
            "# Include it inside the <VirtualHost> that serves the site (`cutover install` does): rules in server context never reach a vhost."
        ]
        lines += parts.findings.vhostNotes
        lines += declarations + parts.canaryDeclarations
        lines.append("# Rewrites the backend's own Location headers so its internal address never leaks.")
        lines.append("ProxyPassReverse \"/\" \"\(parts.backend)/\"")
        lines.append("# Say who answered each response, proxied flips included; `cutover probe` reads it (needs mod_headers).")
        lines.append(ApacheSnippets.ownerMarker)
        lines.append("# Redirects and flips are matched here, while Apache maps the URL: before any .htaccess is read.")
        lines.append("RewriteEngine On")
        lines.append("")
        lines += parts.early
        lines.append("")
        if let script = settings.frontController {
            lines.append("# The app's front controller \(script) answers every other URL without a file (its own .htaccess):")
            lines.append("# no Swift fallback on this site. The rules above run first, while Apache maps the URL.")
            return lines
        }
        let docroot = try ApacheEscaping.quotedPath(settings.docroot, what: "docroot")
        var blocks: [(String, String)] = [(docroot, "the docroot")]
        for directory in parts.findings.subdirectoryBlocks {
            blocks.append(
                (
                    try ApacheEscaping.quotedPath(directory.path, what: "directory"),
                    "/\(directory.relative)/, whose .htaccess has its own rewrite rules"
                )
            )
        }
        for (index, (path, what)) in blocks.enumerated() {
            if index > 0 { lines.append("") }
            lines.append("# The fallback for \(what): after the app's own rules there (InheritDown).")
            lines.append("<Directory \(path)>")
            var body = [
                "RewriteOptions InheritDown", "# Let rewrite rules see directory URLs before mod_dir picks an index file.",
                "DirectoryCheckHandler On", "RewriteEngine On", "",
            ]
            body += parts.late
            lines += body.map { $0.isEmpty ? "" : "    " + $0 }
            lines.append("</Directory>")
        }
        return lines
    }
}
