import Foundation

/// The Apache settings that decide how a site's docroot maps to URLs and who owns them.
public struct SiteSettings: Sendable, Hashable, Codable {
    public static let defaultDirectoryIndex = ["index.php", "index.html"]
    public static let defaultPHPExtensions = [".php"]
    /// Probe runs of history kept per site.
    public static let defaultProbeRetention = 30
    /// Apache's LogFormat preset of the site's access logs.
    public static let defaultAccessLogFormat = "combined"

    public var name: String
    /// Absolute path of Apache's DocumentRoot for this site.
    public var docroot: String
    /// Where Apache answers (the public front), e.g. `http://127.0.0.1:8081`.
    public var publicURL: String
    /// Where the Swift application answers directly, e.g. `http://127.0.0.1:8080`.
    public var backendURL: String
    /// Apache's `DirectoryIndex`, in order.
    public var directoryIndex: [String]
    /// File name endings that Apache hands to PHP, e.g. `.php`.
    public var phpExtensions: [String]
    /// Response header naming the owner (`swift`, `php`, `static`) that probes trust.
    public var ownerHeader: String
    /// How many probe runs of history to keep.
    public var probeRetention: Int
    /// Crawl then probe this often, in seconds, inside `cutover serve` (nil: no schedule).
    public var crawlEverySeconds: Int?
    /// Access logs to import before each scheduled crawl: absolute paths or globs
    /// (`/var/log/apache2/access.log*`).
    public var accessLogs: [String]
    /// Their Apache `LogFormat` string, or a preset name (`combined`).
    public var accessLogFormat: String
    /// Scripts whose pages are told apart by a query value (`/doku.php` → `id`).
    public var pageKeys: [PageKey]
    /// The PHP script the app's own `.htaccess` sends every URL without a file to (WordPress's
    /// `/index.php`): such URLs are PHP's, there is no Swift fallback, and each URL or prefix
    /// moves to Swift by its own rule. Nil for a site where the fallback takes those URLs.
    public var frontController: String?
    /// The user said the site has no front controller: one the crawl detects in the docroot's
    /// `.htaccess` is not used. Until then a detected one counts (as not confirmed).
    public var frontControllerDeclined: Bool
    /// Whether directories without an index file (Apache answers 403, 404 or a listing) go to Swift
    /// with the export's fallback; nil: yes, unless a front controller answers URLs without a
    /// file (there the app keeps them).
    public var directoriesToSwift: Bool?
    /// The vhost's `Alias` directories (`/wp-content` → `/var/lib/wordpress/wp-content`): Apache
    /// serves them from outside the docroot, so the crawl walks them at their URL prefix with
    /// the docroot's rules; no Swift fallback reaches them.
    public var aliases: [PathAlias] = []
    /// Query keys whose values are masked at log import besides the built-in ones (`voucher`).
    public var sensitiveQueryKeys: [String]
    /// URL path globs (`*` also matches `/`) a probe never requests: requesting a cron or
    /// install script runs it.
    public var probeSkip: [String]
    /// How parity runs compare the site's pages, and whether the schedule runs them.
    public var parity = ParitySettings()
    /// The site's Apache nodes behind its load balancer, each as the base URL that reaches that
    /// node alone (`http://10.0.0.2:80`): a probe then asks every node directly, with the site
    /// URL's `Host`, and names a node that answers otherwise (node drift). Empty: one Apache.
    public var nodes: [String] = []
    /// Most nodes a site lists.
    public static let maxNodes = 32
    /// The fleet's route table and whether plan changes are published to it (nil: no fleet).
    public var fleet: FleetSettings?
    /// The usual scripts with side effects (migration 0020 gives them to every site).
    public static let defaultProbeSkip = [
        "*cron*.php", "*/install*.php", "*/setup*.php", "*/upgrade*.php", "*/install/*", "*/setup/*", "*/upgrade/*",
    ]

    public init(
        name: String,
        docroot: String,
        publicURL: String,
        backendURL: String,
        directoryIndex: [String] = SiteSettings.defaultDirectoryIndex,
        phpExtensions: [String] = SiteSettings.defaultPHPExtensions,
        ownerHeader: String = OwnerFingerprint.defaultOwnerHeader,
        probeRetention: Int = SiteSettings.defaultProbeRetention,
        crawlEverySeconds: Int? = nil,
        accessLogs: [String] = [],
        accessLogFormat: String = SiteSettings.defaultAccessLogFormat,
        pageKeys: [PageKey] = [],
        frontController: String? = nil,
        sensitiveQueryKeys: [String] = [],
        probeSkip: [String] = SiteSettings.defaultProbeSkip,
        frontControllerDeclined: Bool = false,
        directoriesToSwift: Bool? = nil,
        aliases: [PathAlias] = [],
        parity: ParitySettings = ParitySettings(),
        nodes: [String] = [],
        fleet: FleetSettings? = nil
    ) {
        self.fleet = fleet
        self.nodes = nodes
        self.parity = parity
        self.aliases = aliases
        self.directoriesToSwift = directoriesToSwift
        self.frontControllerDeclined = frontControllerDeclined
        self.sensitiveQueryKeys = sensitiveQueryKeys
        self.probeSkip = probeSkip
        self.pageKeys = pageKeys
        self.frontController = frontController
        self.name = name
        self.docroot = docroot
        self.publicURL = publicURL
        self.backendURL = backendURL
        self.directoryIndex = directoryIndex
        self.phpExtensions = phpExtensions
        self.ownerHeader = ownerHeader
        self.probeRetention = probeRetention
        self.crawlEverySeconds = crawlEverySeconds
        self.accessLogs = accessLogs
        self.accessLogFormat = accessLogFormat
    }

    /// Most bytes of text one site's settings may hold (every string summed): what one create or
    /// update can store. Each field has its own bound too (see `problems`).
    public static let maxStoredBytes = 16 * 1024

    /// The bytes of text the settings hold.
    public var storedBytes: Int {
        let lists =
            directoryIndex + phpExtensions + accessLogs + pageKeys.flatMap { [$0.script, $0.key] } + sensitiveQueryKeys + probeSkip
            + aliases.flatMap { [$0.urlPath, $0.directory] } + nodes
        return [name, docroot, publicURL, backendURL, ownerHeader, accessLogFormat, frontController ?? ""].map(\.utf8.count).reduce(0, +)
            + lists.map(\.utf8.count).reduce(0, +) + parity.storedBytes + (fleet?.storedBytes ?? 0)
    }

    /// Checks every field and returns the problems found, one sentence each (empty when valid).
    /// Runs where settings enter (API, CLI); `resolve` gives a path's real path (symlinks
    /// followed, nil when it does not exist), so a docroot is judged by where it really leads.
    public func problems(resolve: (String) -> String? = DocrootPolicy.realPath) -> [String] {
        var found = configProblems()
        if found.allSatisfy({ !$0.hasPrefix("docroot") }), let problem = DocrootPolicy.problem(docroot, resolve: resolve) {
            found.append(problem)
        }
        if let problem = HTTPBaseURL.problem(with: publicURL) { found.append("site URL: \(problem)") }
        if publicURL.utf8.count > 2048 { found.append("site URL is longer than 2048 bytes") }
        if accessLogFormat.utf8.count > 1024 { found.append("access log format is longer than 1024 bytes") }
        if storedBytes > Self.maxStoredBytes {
            found.append("the settings take \(storedBytes) bytes; at most \(Self.maxStoredBytes) are stored per site")
        }
        if !(1...10_000).contains(probeRetention) { found.append("probe retention must be between 1 and 10000 runs") }
        found += parity.problems()
        if let every = crawlEverySeconds, every < Interval.minimumSeconds {
            found.append("the schedule must be at least \(Interval.minimumSeconds) seconds ('1m')")
        }
        if accessLogs.count > 32 {
            found.append("at most 32 access log paths")
        }
        for path in accessLogs
        where !path.hasPrefix("/") || path.utf8.count > 4096 || path.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7f }) {
            found.append("access log '\(ConfigText.visible(path))' must be an absolute path or glob without control characters")
        }
        if pageKeys.count > 16 { found.append("at most 16 page keys") }
        if sensitiveQueryKeys.count > 32 || !sensitiveQueryKeys.allSatisfy(QueryPage.isKeyName) {
            found.append("sensitive query keys: at most 32, each 1-64 letters, digits, '_' or '-'")
        }
        if aliases.count > 16 { found.append("at most 16 aliases") }
        found += SiteNodes.problems(nodes)
        found += fleet?.problems() ?? []
        found += aliases.compactMap(\.problem)
        // Judged like the docroot, by where it really leads: never the whole disk or /proc.
        for alias in aliases where alias.problem == nil {
            if let problem = DocrootPolicy.problem(alias.directory, resolve: resolve) { found.append("alias \(alias.urlPath): \(problem)") }
        }
        if probeSkip.count > 64 || !probeSkip.allSatisfy(ProbeSkip.isValidGlob) {
            found.append("probe skip: at most 64 URL path globs, each 1-200 bytes starting with '/' or '*', without control characters")
        }
        found += pageKeys.compactMap(\.problem)
        if Set(pageKeys.map(\.script)).count != pageKeys.count { found.append("each script can have one page key") }
        do {
            if accessLogFormat.utf8.count <= 1024 { _ = try LogFormat(accessLogFormat) }
        } catch {
            found.append("access log format: \(ConfigText.visible(error.description, limit: 300))")
        }
        return found
    }

    /// The checks on every field that is written into Apache config text (site name, docroot,
    /// backend URL, DirectoryIndex, PHP extensions, owner header). The renderer runs them again,
    /// so a row stored by an older version that allowed more can never reach a config file.
    public func configProblems() -> [String] {
        var found: [String] = []
        if !SiteName.isValid(name) {
            found.append("site name '\(ConfigText.visible(name))' must be 1-64 characters of letters, digits, '-', '_' or '.', and not '.' or '..'")
        }
        if !docroot.hasPrefix("/") {
            found.append("docroot '\(ConfigText.visible(docroot))' must be an absolute path")
        } else if let problem = ConfigText.pathProblem(docroot) {
            found.append("docroot '\(ConfigText.visible(docroot))' \(problem)")
        }
        if let problem = HTTPBaseURL.problem(with: backendURL) {
            found.append("backend URL: \(problem)")
        } else if !ConfigText.isBackendURL(backendURL) {
            found.append(
                "backend URL '\(ConfigText.visible(backendURL))' must be scheme://host[:port][/path] without %, $, quotes, spaces or backslashes"
            )
        }
        if directoryIndex.isEmpty || directoryIndex.count > 32 || !directoryIndex.allSatisfy(ConfigText.isFileName) {
            found.append("DirectoryIndex must list 1 to 32 file names of letters, digits, '.', '_' and '-' (no spaces or '/'), such as 'index.php'")
        }
        if phpExtensions.isEmpty || phpExtensions.count > 32
            || !phpExtensions.allSatisfy({ $0.hasPrefix(".") && $0.count >= 2 && ConfigText.isFileName(String($0.dropFirst())) })
        {
            found.append("PHP extensions must look like '.php' (a dot, then letters, digits, '.', '_' or '-')")
        }
        if let script = frontController,
            PathEncoding.resolved(script) != script || script.contains("?") || script.utf8.count > 2048
                || !phpExtensions.contains(where: { script.hasSuffix($0) })
        {
            let suggestion = PathEncoding.resolved(script).map { $0 != script ? " (did you mean \(ConfigText.visible($0))?)" : "" } ?? ""
            found.append(
                "front controller '\(ConfigText.visible(script))' must be the URL path of a PHP script, such as /index.php: "
                    + "no '//', '.' or '..' segments, no control characters, at most 2048 bytes\(suggestion)"
            )
        }
        if !(1...64).contains(ownerHeader.utf8.count) || !ownerHeader.utf8.allSatisfy({ ConfigText.isWordByte($0) || $0 == UInt8(ascii: "-") }) {
            found.append("owner header '\(ConfigText.visible(ownerHeader))' must be a header name (1-64 letters, digits, '-')")
        }
        return found
    }
}

/// Site names appear in file names, URLs, map names and CLI arguments, so they are kept simple.
public enum SiteName {
    public static func isValid(_ name: String) -> Bool {
        guard (1...64).contains(name.utf8.count), name != ".", name != ".." else { return false }
        return name.utf8.allSatisfy { byte in
            ConfigText.isWordByte(byte) || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_") || byte == UInt8(ascii: ".")
        }
    }
}

/// Rules for operator-typed text that ends up inside an Apache config file. Refusing is the
/// escaping here: Apache expands `${VAR}` anywhere in a config line, a quote or newline ends an
/// argument or a directive, and `<`/`>` delimit sections; none of them has a use in a path.
public enum ConfigText {
    /// Why `path` cannot be written between double quotes in a config file, or nil.
    public static func pathProblem(_ path: String) -> String? {
        if path.utf8.count > 4096 { return "is longer than 4096 bytes" }
        if path.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) {
            return "must not contain control characters (newline, tab, ...)"
        }
        if let bad = path.first(where: { "\"\\<>$%`".contains($0) }) {
            return "must not contain '\(bad)' (quotes, backslashes, '<', '>', '$', '%' and '`' are refused in paths written to Apache config)"
        }
        return nil
    }

    /// A base URL that may appear in a RewriteRule substitution and a ProxyPassReverse argument.
    public static func isBackendURL(_ url: String) -> Bool {
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~:/[]@")
        return url.count <= 2048 && url.allSatisfy(allowed.contains)
    }

    /// A plain file name: letters, digits, `.`, `_`, `-`; not `.` or `..`.
    public static func isFileName(_ name: String) -> Bool {
        (1...255).contains(name.utf8.count) && name != "." && name != ".."
            && name.utf8.allSatisfy { isWordByte($0) || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: "-") }
    }

    package static func isWordByte(_ byte: UInt8) -> Bool {
        (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
    }

    /// Text safe to print in a message or a terminal: C0/C1 control characters (ESC, BEL, CSI,
    /// newlines unless `keepingLineBreaks`) as `\xHH`, at most `limit` characters.
    public static func visible(_ text: String, limit: Int = 200, keepingLineBreaks: Bool = false) -> String {
        var out = ""
        var count = 0
        for scalar in text.unicodeScalars {
            let value = scalar.value
            let kept = keepingLineBreaks && (value == 0x0A || value == 0x09)
            if !kept, value < 0x20 || value == 0x7F || (0x80..<0xA0).contains(value) {
                out += "\\x" + ApacheEscaping.hex(UInt8(truncatingIfNeeded: value))
            } else {
                out.unicodeScalars.append(scalar)
            }
            count += 1
            if count >= limit { return out + "..." }
        }
        return out
    }
}

/// Validation of the base URLs Cutover talks to (the Apache front and the Swift backend).
public enum HTTPBaseURL {
    /// Returns why `text` is not an absolute `http`/`https` URL with a host and no query or fragment, or nil.
    public static func problem(with text: String) -> String? {
        let shown = ConfigText.visible(text)
        guard let components = URLComponents(string: text), let scheme = components.scheme?.lowercased() else {
            return "'\(shown)' is not a URL"
        }
        guard scheme == "http" || scheme == "https" else { return "'\(shown)' must start with http:// or https://" }
        guard let host = components.host, !host.isEmpty else { return "'\(shown)' has no host" }
        // The host is decoded (`%0a` is a line break) and reaches Apache's config (the canary cookie's domain).
        guard isHostName(host) else { return "'\(shown)' has a host that is not a DNS name, an IPv4 address or a bracketed IPv6 address" }
        // Settings are open reads on loopback: a password in a URL would be shown to every local process.
        if components.user != nil || components.password != nil { return "'\(shown)' must not hold credentials (user:password@)" }
        if components.query != nil || components.fragment != nil { return "'\(shown)' must not have a query or fragment" }
        return nil
    }

    /// Whether `host` (as `URLComponents.host` gives it, decoded) is a DNS name or IPv4 address
    /// (ASCII letters, digits, '-', '_', '.') or a bracketed IPv6 address: nothing else may reach a
    /// config line.
    public static func isHostName(_ host: String) -> Bool {
        let name = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.")
        if host.hasPrefix("["), host.hasSuffix("]"), host.count > 2 {
            return host.dropFirst().dropLast().allSatisfy { $0.isHexDigit && $0.isASCII || $0 == ":" || $0 == "." }
        }
        return !host.isEmpty && host.count <= 253 && host.allSatisfy { name.contains($0) } && !host.hasPrefix("-") && !host.hasPrefix(".")
    }

    /// The URL without a trailing slash, so that `base + "/path"` is well formed.
    public static func normalized(_ text: String) -> String {
        var result = text
        while result.hasSuffix("/") { result.removeLast() }
        return result
    }
}

/// The `nodes` setting: base URLs of single Apache nodes.
public enum SiteNodes {
    /// Why `nodes` cannot be stored, one sentence each.
    public static func problems(_ nodes: [String]) -> [String] {
        var found: [String] = []
        if nodes.count > SiteSettings.maxNodes { found.append("at most \(SiteSettings.maxNodes) nodes") }
        for node in nodes {
            if let problem = HTTPBaseURL.problem(with: node) {
                found.append("node: \(problem)")
            } else if node.utf8.count > 2048 {
                found.append("node URL is longer than 2048 bytes")
            } else if let path = URLComponents(string: node)?.percentEncodedPath, !path.isEmpty, path != "/" {
                // A node answers the site's own URLs: the path comes from the site URL.
                found.append("node '\(ConfigText.visible(node))' must be scheme://host[:port] without a path")
            }
        }
        if Set(nodes.map(normalized)).count != nodes.count { found.append("each node can be listed once") }
        return found
    }

    /// `node` as stored: lower-case scheme and host, no trailing slash.
    public static func normalized(_ node: String) -> String {
        guard var components = URLComponents(string: node) else { return node }
        components.scheme = components.scheme?.lowercased()
        components.host = components.host?.lowercased()
        components.path = ""
        return components.string ?? node
    }

    /// A short name for messages and metrics: `host:port` of the node's URL.
    public static func label(_ node: String) -> String {
        guard let components = URLComponents(string: node), let host = components.host else { return node }
        let port = components.port ?? (components.scheme?.lowercased() == "https" ? 443 : 80)
        // Foundation keeps an IPv6 literal's brackets in `host`.
        return host.contains(":") && !host.hasPrefix("[") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }
}

/// One `Alias URL-path directory` of the site's vhost.
public struct PathAlias: Codable, Sendable, Hashable {
    /// `/wp-content`: the URL path Apache maps, canonical, without a trailing slash.
    public var urlPath: String
    /// The absolute directory it maps to.
    public var directory: String

    public init(urlPath: String, directory: String) {
        var path = urlPath
        while path.count > 1, path.hasSuffix("/") { path.removeLast() }
        self.urlPath = path
        var folder = directory
        while folder.count > 1, folder.hasSuffix("/") { folder.removeLast() }
        self.directory = folder
    }

    enum CodingKeys: String, CodingKey { case urlPath, directory }

    /// Decoded (API, stored JSON) as built: trailing slashes dropped.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(urlPath: try container.decode(String.self, forKey: .urlPath), directory: try container.decode(String.self, forKey: .directory))
    }

    /// `URL=DIRECTORY` as the command line takes it.
    public init?(argument: String) {
        guard let equals = argument.firstIndex(of: "="), equals != argument.startIndex else { return nil }
        self.init(urlPath: String(argument[..<equals]), directory: String(argument[argument.index(after: equals)...]))
    }

    /// URLs below it start with this (`/wp-content/`).
    public var urlPrefix: String { urlPath == "/" ? "/" : urlPath + "/" }

    /// Why it cannot be used, or nil.
    public var problem: String? {
        let controls = { (text: String) in text.unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x7f } }
        guard urlPath.hasPrefix("/"), urlPath != "/", !controls(urlPath), urlPath.utf8.count <= 1024,
            PathEncoding.canonical(urlPath) == urlPath
        else {
            return "alias '\(ConfigText.visible(urlPath))' must be a canonical URL path below '/' (like /wp-content)"
        }
        guard directory.hasPrefix("/"), directory != "/", !controls(directory), directory.utf8.count <= 4096 else {
            return "alias directory '\(ConfigText.visible(directory))' must be an absolute path other than '/'"
        }
        return nil
    }
}
