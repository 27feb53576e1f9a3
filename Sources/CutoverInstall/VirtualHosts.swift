import Foundation

/// One `<VirtualHost>` as Apache reads it: where it is defined, the names it answers to, and
/// (from `-D DUMP_CONFIG`) its directives with variables expanded.
package struct VirtualHost: Sendable, Hashable, Codable {
    /// The file Apache read it from, as Apache names it (a `sites-enabled/` link on Debian).
    package var file: String
    /// The line of its `<VirtualHost ...>`.
    package var line: Int
    package var port: Int?
    package var serverName: String?
    package var aliases: [String] = []
    /// Its directives in order (`DocumentRoot /srv/www`, `Alias /media /srv/media`, ...), when known.
    package var directives: [String] = []

    package var location: String { "\(file):\(line)" }

    package init(file: String, line: Int, port: Int? = nil, serverName: String? = nil, aliases: [String] = []) {
        self.file = file
        self.line = line
        self.port = port
        self.serverName = serverName
        self.aliases = aliases
    }

    /// The vhost's `DocumentRoot`, without quotes.
    package var documentRoot: String? {
        directives.lazy.compactMap { Self.arguments(of: $0, directive: "DocumentRoot")?.first }.first
    }

    /// Its `Alias URL-path DIRECTORY` directives.
    package var pathAliases: [(urlPath: String, directory: String)] {
        directives.compactMap { line in
            guard let arguments = Self.arguments(of: line, directive: "Alias"), arguments.count == 2 else { return nil }
            return (arguments[0], arguments[1])
        }
    }

    /// A vhost that sends every request elsewhere (`Redirect / https://...`, or certbot's
    /// `RewriteRule ^ https://%{SERVER_NAME}%{REQUEST_URI} [END,NE,R=permanent]`) serves no page.
    package var onlyRedirects: Bool {
        directives.contains { line in
            if let arguments = Self.arguments(of: line, directive: "Redirect") ?? Self.arguments(of: line, directive: "RedirectPermanent") {
                let path = arguments.count >= 3 ? arguments[1] : arguments.first
                return path == "/"
            }
            if let arguments = Self.arguments(of: line, directive: "RedirectMatch"), arguments.count >= 2 {
                let pattern = arguments.count >= 3 ? arguments[1] : arguments[0]
                return Self.matchesEveryPath(pattern)
            }
            if let arguments = Self.arguments(of: line, directive: "RewriteRule"), arguments.count >= 3 {
                let flags = arguments[2].lowercased()
                let redirects = flags.contains("r=") || flags.contains("[r,") || flags.contains(",r]") || flags.contains(",r,") || flags == "[r]"
                return redirects && Self.matchesEveryPath(arguments[0]) && arguments[1].contains("://")
            }
            return false
        }
    }

    static func matchesEveryPath(_ pattern: String) -> Bool {
        ["^", ".*", "^.*", "^.*$", "(.*)", "^(.*)$", "^/(.*)$", "^/?(.*)$", "^/?(.*)", "^/(.*)", "/(.*)", "(.*)$"].contains(pattern)
    }

    /// The arguments of `line` when it is `directive` (case-insensitive), quotes removed.
    static func arguments(of line: String, directive: String) -> [String]? {
        let words = ConfigWords.split(line)
        guard let first = words.first, first.caseInsensitiveCompare(directive) == .orderedSame else { return nil }
        return Array(words.dropFirst())
    }

    /// Whether a request for `host` reaches this vhost by name (ServerName or ServerAlias, `*`
    /// and `?` wildcards in aliases as Apache allows).
    package func answers(host: String) -> Bool {
        let host = host.lowercased()
        if serverName?.lowercased() == host { return true }
        return aliases.contains { fnmatch($0.lowercased(), host, 0) == 0 }
    }
}

/// Splits a config line into words: white space separates, double quotes group.
enum ConfigWords {
    static func split(_ line: String) -> [String] {
        var words: [String] = []
        var current = ""
        var quoted = false
        var inWord = false
        for character in line.trimmingCharacters(in: .whitespaces) {
            if character == "\"" {
                quoted.toggle()
                inWord = true
            } else if character.isWhitespace, !quoted {
                if inWord { words.append(current) }
                current = ""
                inWord = false
            } else {
                current.append(character)
                inWord = true
            }
        }
        if inWord { words.append(current) }
        return words
    }
}

/// Reads what `apache2ctl -S` and `apache2ctl -t -D DUMP_CONFIG` print.
package enum VirtualHostListing {
    /// The vhosts `apache2ctl -S` lists, once each (a name-based vhost appears once as the
    /// default server and once as a `namevhost`).
    package static func parse(summary: String) -> [VirtualHost] {
        var hosts: [VirtualHost] = []
        var current: Int?
        var port: Int?
        func add(name: String, location: String, port: Int?) {
            guard let (file, line) = Self.location(location) else { return }
            if let index = hosts.firstIndex(where: { $0.file == file && $0.line == line }) {
                if hosts[index].serverName == nil { hosts[index].serverName = name }
                current = index
                return
            }
            hosts.append(VirtualHost(file: file, line: line, port: port, serverName: name))
            current = hosts.count - 1
        }
        for raw in summary.split(separator: "\n") {
            let line = raw.trimmingCharacters(in: .whitespaces)
            let words = line.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
            guard let first = words.first else { continue }
            if line.hasPrefix("ServerRoot:") { break }
            if !raw.hasPrefix(" "), !raw.hasPrefix("\t"), first.contains(":") || first.hasPrefix("*") {
                // `ADDRESS:PORT  is a NameVirtualHost` or `ADDRESS:PORT  NAME (FILE:LINE)`.
                port = first.split(separator: ":").last.flatMap { Int($0) }
                if words.count >= 3, words[1] != "is", let location = words.last, location.hasPrefix("(") {
                    add(name: words[1], location: location, port: port)
                }
                continue
            }
            if first == "default", words.count >= 4, words[1] == "server" {
                add(name: words[2], location: words[3], port: port)
            } else if first == "port", words.count >= 5, words[2] == "namevhost" {
                add(name: words[3], location: words[4], port: Int(words[1]) ?? port)
            } else if first == "alias", words.count >= 2, let current {
                if !hosts[current].aliases.contains(words[1]) { hosts[current].aliases.append(words[1]) }
            } else if first == "wild", words.count >= 3, words[1] == "alias", let current {
                if !hosts[current].aliases.contains(words[2]) { hosts[current].aliases.append(words[2]) }
            }
        }
        return hosts
    }

    /// `(FILE:LINE)` → (FILE, LINE).
    static func location(_ text: String) -> (String, Int)? {
        guard text.hasPrefix("("), text.hasSuffix(")") else { return nil }
        let inner = text.dropFirst().dropLast()
        guard let colon = inner.lastIndex(of: ":"), let line = Int(inner[inner.index(after: colon)...]) else { return nil }
        return (String(inner[..<colon]), line)
    }

    /// Adds each vhost's directives from `-D DUMP_CONFIG` output (`# In file: F`, `#  N:` before
    /// each directive), matched by file and line.
    package static func addDirectives(from dump: String, to hosts: inout [VirtualHost]) {
        var file = ""
        var lineNumber = 0
        var open: (file: String, line: Int, directives: [String])?
        for raw in dump.split(separator: "\n") {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.hasPrefix("# In file: ") {
                file = String(line.dropFirst("# In file: ".count))
                continue
            }
            if line.hasPrefix("#"), line.hasSuffix(":"), let number = Int(line.dropFirst().dropLast().trimmingCharacters(in: .whitespaces)) {
                lineNumber = number
                continue
            }
            if line.lowercased().hasPrefix("<virtualhost") {
                open = (file, lineNumber, [])
            } else if line.lowercased().hasPrefix("</virtualhost") {
                if let block = open, let index = hosts.firstIndex(where: { $0.file == block.file && $0.line == block.line }) {
                    hosts[index].directives = block.directives
                }
                open = nil
            } else if open != nil, !line.isEmpty, !line.hasPrefix("#") {
                open?.directives.append(line)
            }
        }
    }
}
