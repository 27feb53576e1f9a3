import Foundation
/// The Apache settings that decide how a site's docroot maps to URLs and who owns them.
public struct SiteSettings: Sendable, Hashable, Codable {
    public static let defaultDirectoryIndex = ["index.php", "index.html"]
    public static let defaultPHPExtensions = [".php"]

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

    public init(
        name: String,
        docroot: String,
        publicURL: String,
        backendURL: String,
        directoryIndex: [String] = SiteSettings.defaultDirectoryIndex,
        phpExtensions: [String] = SiteSettings.defaultPHPExtensions,
        ownerHeader: String = OwnerFingerprint.defaultOwnerHeader,
        probeRetention: Int = 30,
        crawlEverySeconds: Int? = nil
    ) {
        self.name = name
        self.docroot = docroot
        self.publicURL = publicURL
        self.backendURL = backendURL
        self.directoryIndex = directoryIndex
        self.phpExtensions = phpExtensions
        self.ownerHeader = ownerHeader
        self.probeRetention = probeRetention
        self.crawlEverySeconds = crawlEverySeconds
    }

    /// Checks every field and returns the problems found, one sentence each (empty when valid).
    public func problems() -> [String] {
        var found: [String] = []
        if !SiteName.isValid(name) {
            found.append("site name '\(name)' must be 1-64 characters of letters, digits, '-', '_' or '.'")
        }
        if !docroot.hasPrefix("/") {
            found.append("docroot '\(docroot)' must be an absolute path")
        } else if docroot.allSatisfy({ $0 == "/" }) {
            // A crawl would walk every file system, /proc included; no site's DocumentRoot is '/'.
            found.append("docroot '/' is the whole file system: give the site's DocumentRoot")
        }
        for (label, value) in [("site URL", publicURL), ("backend URL", backendURL)] {
            if let problem = HTTPBaseURL.problem(with: value) { found.append("\(label): \(problem)") }
        }
        if directoryIndex.isEmpty || directoryIndex.contains(where: { $0.isEmpty || $0.contains("/") }) {
            found.append("DirectoryIndex must list one or more file names without '/'")
        }
        if phpExtensions.isEmpty || phpExtensions.contains(where: { !$0.hasPrefix(".") || $0.count < 2 || $0.contains("/") }) {
            found.append("PHP extensions must look like '.php'")
        }
        if ownerHeader.isEmpty || !ownerHeader.utf8.allSatisfy({ byte in
            (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A) || byte == UInt8(ascii: "-")
        }) {
            found.append("owner header '\(ownerHeader)' must be a header name (letters, digits, '-')")
        }
        if !(1...10_000).contains(probeRetention) { found.append("probe retention must be between 1 and 10000 runs") }
        if let every = crawlEverySeconds, every < Interval.minimumSeconds {
            found.append("the schedule must be at least \(Interval.minimumSeconds) seconds ('1m')")
        }
        return found
    }
}

/// Site names appear in file names, URLs and CLI arguments, so they are kept simple.
public enum SiteName {
    public static func isValid(_ name: String) -> Bool {
        guard (1...64).contains(name.utf8.count) else { return false }
        return name.utf8.allSatisfy { byte in
            (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_") || byte == UInt8(ascii: ".")
        }
    }
}

/// Validation of the base URLs Cutover talks to (the Apache front and the Swift backend).
public enum HTTPBaseURL {
    /// Returns why `text` is not an absolute `http`/`https` URL with a host and no query or fragment, or nil.
    public static func problem(with text: String) -> String? {
        guard let components = URLComponents(string: text), let scheme = components.scheme?.lowercased() else {
            return "'\(text)' is not a URL"
        }
        guard scheme == "http" || scheme == "https" else { return "'\(text)' must start with http:// or https://" }
        guard let host = components.host, !host.isEmpty else { return "'\(text)' has no host" }
        if components.query != nil || components.fragment != nil { return "'\(text)' must not have a query or fragment" }
        return nil
    }

    /// The URL without a trailing slash, so that `base + "/path"` is well formed.
    public static func normalized(_ text: String) -> String {
        var result = text
        while result.hasSuffix("/") { result.removeLast() }
        return result
    }
}
