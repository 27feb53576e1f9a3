import Foundation

/// Why no `<VirtualHost>` was chosen, with the ones a user may pick from (`--vhost FILE:LINE`).
package struct VirtualHostRefusal: Error, Sendable, CustomStringConvertible {
    package var reason: String
    package var candidates: [VirtualHost]

    package var description: String {
        var text = reason
        if candidates.isEmpty {
            text += "\n(apache2ctl -S lists no <VirtualHost>: add one for the site, or include the export in the server config yourself)"
        } else {
            text += "\ncandidates (pick one with --vhost FILE:LINE):"
            for host in candidates {
                let names = ([host.serverName].compactMap { $0 } + host.aliases).joined(separator: ", ")
                let root = host.documentRoot.map { ", DocumentRoot \($0)" } ?? ""
                text += "\n  \(host.location)  port \(host.port.map(String.init) ?? "?")  \(names)\(root)"
                if host.onlyRedirects { text += "  (only redirects)" }
            }
        }
        return text
    }
}

/// Finds the `<VirtualHost>` that serves a site: the scheme, host and port of its public URL
/// against the names and aliases Apache lists (https means port 443).
package enum VirtualHostChoice {
    package static func choose(
        siteURL: String,
        docroot: String,
        among hosts: [VirtualHost],
        pick: String? = nil
    ) throws(VirtualHostRefusal)
        -> VirtualHost
    {
        if let pick {
            guard let chosen = hosts.first(where: { $0.location == pick || (realPath($0.file) + ":\($0.line)") == pick }) else {
                throw VirtualHostRefusal(reason: "no <VirtualHost> starts at \(pick)", candidates: hosts)
            }
            return chosen
        }
        guard let components = URLComponents(string: siteURL), let host = components.host?.lowercased() else {
            throw VirtualHostRefusal(reason: "the site URL '\(siteURL)' has no host", candidates: hosts)
        }
        let port = components.port ?? (components.scheme?.lowercased() == "https" ? 443 : 80)
        let onPort = hosts.filter { $0.port == port }
        let named = onPort.filter { $0.answers(host: host) }
        guard !named.isEmpty else {
            throw VirtualHostRefusal(
                reason: "no <VirtualHost> on port \(port) has the name or alias \(host) (the site URL is \(siteURL))",
                candidates: onPort.isEmpty ? hosts : onPort
            )
        }
        let serving = named.filter { !$0.onlyRedirects }
        guard !serving.isEmpty else {
            throw VirtualHostRefusal(
                reason: "the <VirtualHost> for \(host) on port \(port) only redirects: the site is served elsewhere (https?)",
                candidates: named
            )
        }
        guard serving.count == 1 else {
            throw VirtualHostRefusal(
                reason: "\(serving.count) <VirtualHost> blocks answer to \(host) on port \(port) (Apache uses the first it read)",
                candidates: serving
            )
        }
        let chosen = serving[0]
        if let root = chosen.documentRoot, realPath(root) != realPath(docroot) {
            throw VirtualHostRefusal(
                reason: "the <VirtualHost> for \(host) on port \(port) serves DocumentRoot \(root), not the site's docroot \(docroot)",
                candidates: serving
            )
        }
        return chosen
    }

    static func realPath(_ path: String) -> String {
        guard let resolved = realpath(path, nil) else { return path.count > 1 && path.hasSuffix("/") ? String(path.dropLast()) : path }
        defer { free(resolved) }
        return String(cString: resolved)
    }
}

/// The edit that includes Cutover's file inside a `<VirtualHost>`: two lines before its
/// `</VirtualHost>`, once.
package struct VirtualHostEdit: Sendable {
    /// The file written: the real file behind Apache's name for it (Debian's `sites-enabled/`
    /// entries are links into `sites-available/`, which must stay links).
    package var file: String
    package var original: String
    /// nil: the include is already there.
    package var edited: String?
    /// Line (1-based) of the new `Include` in the edited file.
    package var line: Int
    /// The lines the edit adds (a comment and the `Include`), empty when it adds none.
    package var added: [String] = []

    package static func including(_ includeFile: String, site: String, in host: VirtualHost) throws -> VirtualHostEdit {
        let file = VirtualHostChoice.realPath(host.file)
        let original: String
        do {
            original = try String(contentsOfFile: file, encoding: .utf8)
        } catch {
            throw InstallError.cannotRead(file, "\(error.localizedDescription)")
        }
        var lines = original.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard host.line >= 1, host.line <= lines.count,
            lines[host.line - 1].trimmingCharacters(in: .whitespaces).lowercased().hasPrefix("<virtualhost")
        else {
            throw InstallError.cannotRead(file, "line \(host.line) is not a <VirtualHost> line (did the file change?)")
        }
        guard let end = lines[host.line...].firstIndex(where: { $0.trimmingCharacters(in: .whitespaces).lowercased().hasPrefix("</virtualhost") })
        else {
            throw InstallError.cannotRead(file, "no </VirtualHost> after line \(host.line)")
        }
        for index in host.line..<end {
            let words = ConfigWords.split(lines[index])
            if words.count == 2, ["include", "includeoptional"].contains(words[0].lowercased()), words[1] == includeFile {
                return VirtualHostEdit(file: file, original: original, edited: nil, line: index + 1)
            }
        }
        let body = lines[(host.line)..<end].first { !$0.trimmingCharacters(in: .whitespaces).isEmpty }
        let indent = body.map { String($0.prefix { $0 == " " || $0 == "\t" }) } ?? "    "
        let added = [
            "\(indent)# Cutover, site '\(site)': added by `cutover install`; delete these two lines to remove it.",
            "\(indent)Include \"\(includeFile)\"",
        ]
        lines.insert(contentsOf: added, at: end)
        return VirtualHostEdit(file: file, original: original, edited: lines.joined(separator: "\n"), line: end + 2, added: added)
    }
}
