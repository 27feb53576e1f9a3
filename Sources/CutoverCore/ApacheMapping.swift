/// How Apache maps docroot files to URLs and who answers them, under one site's settings.
/// Pure rules over names; the crawler feeds them what it finds on disk.
public struct ApacheMapping: Sendable {
    public let settings: SiteSettings
    private let phpSuffixes: [[UInt8]]
    private let indexNames: [[UInt8]]

    public init(settings: SiteSettings) {
        self.settings = settings
        self.phpSuffixes = settings.phpExtensions.map { Array($0.utf8) }
        self.indexNames = settings.directoryIndex.map { Array($0.utf8) }
    }

    /// The owner of a regular file with this name. Debian's handler rule is
    /// `<FilesMatch ".+\.ph(ar|p|tml)$">`: case-sensitive and at least one character before
    /// the extension, so a file named just `.php` is not run by PHP.
    public func owner(ofFileNamed name: [UInt8]) -> Owner {
        name.withUnsafeBufferPointer { owner(ofFileNamed: $0) }
    }

    public func owner(ofFileNamed name: UnsafeBufferPointer<UInt8>) -> Owner {
        for suffix in phpSuffixes where name.count > suffix.count && name.suffix(suffix.count).elementsEqual(suffix) {
            return .php
        }
        return .static
    }

    /// The rank of `name` in DirectoryIndex (0 is mod_dir's first choice), or nil.
    public func indexRank(ofFileNamed name: [UInt8]) -> Int? {
        name.withUnsafeBufferPointer { indexRank(ofFileNamed: $0) }
    }

    public func indexRank(ofFileNamed name: UnsafeBufferPointer<UInt8>) -> Int? {
        indexNames.firstIndex { $0.count == name.count && $0.elementsEqual(name) }
    }

    /// Flags for a file at this docroot-relative location.
    public static func flags(forSegments segments: [[UInt8]]) -> URLFlags {
        segments.reduce(into: []) { flags, segment in flags.formUnion(segment.withUnsafeBufferPointer { Self.flags(ofSegment: $0) }) }
    }

    /// Flags a URL path's segments contribute (hidden, sensitive), read percent-decoded: what
    /// the crawl would have flagged had a file answered it.
    public static func flags(ofURLPath path: String) -> URLFlags {
        guard let bytes = PathEncoding.decode(path) else { return [] }
        return bytes.split(separator: UInt8(ascii: "/")).reduce(into: []) { flags, segment in
            flags.formUnion(Array(segment).withUnsafeBufferPointer { Self.flags(ofSegment: $0) })
        }
    }

    /// Flags one path segment contributes: hidden, sensitive.
    public static func flags(ofSegment name: UnsafeBufferPointer<UInt8>) -> URLFlags {
        var flags: URLFlags = []
        if name.first == UInt8(ascii: ".") { flags.insert(.hidden) }
        if SensitiveNames.matches(name) { flags.insert(.sensitive) }
        return flags
    }
}

/// Per-URL flags stored as a bit set.
public struct URLFlags: OptionSet, Sendable, Hashable, Codable {
    public let rawValue: Int
    public init(rawValue: Int) { self.rawValue = rawValue }

    /// A path component starts with a dot (`.env`, `.git/`): Apache serves it unless a rule denies it.
    public static let hidden = URLFlags(rawValue: 1 << 0)
    /// Looks like configuration, credentials, backups or VCS data that should never be public.
    public static let sensitive = URLFlags(rawValue: 1 << 1)
    /// The directory URL (`/dir/`) answered by its DirectoryIndex file.
    public static let directoryIndex = URLFlags(rawValue: 1 << 2)
    /// The file name is not valid UTF-8; its URL is still exact (percent-encoded bytes).
    public static let nonUTF8Name = URLFlags(rawValue: 1 << 3)
    /// Reached through a symbolic link inside the docroot.
    public static let viaSymlink = URLFlags(rawValue: 1 << 4)
    /// Known from the access logs, not from a file: a requested URL that the routing sends to
    /// the fallback.
    public static let fromLog = URLFlags(rawValue: 1 << 5)
    /// Reached through a symbolic link whose target is outside the docroot (Apache follows it
    /// under `Options FollowSymLinks`, Debian's default).
    public static let outsideDocroot = URLFlags(rawValue: 1 << 6)
    /// A `.php` file no person requested whose latest probe answered an error or an empty 2xx
    /// body: code other pages include (a class, a library), not a page. Set from the probes and
    /// the logs, never by the crawl; the burndown, "% on Swift" and "ready to flip" leave it out.
    public static let include = URLFlags(rawValue: 1 << 7)

    /// A page of a script told apart by a query value (`/doku.php?id=start`, the site's page
    /// keys): its path carries the query, and it lives as long as its script does.
    public static let queryPage = URLFlags(rawValue: 1 << 8)

    /// Another URL of a page: the index file's own URL (`/about/index.php`) when its directory
    /// URL (`/about/`) is the page. Counted once, with the directory URL; flipped with it. Not
    /// for front-controller and page-key scripts, whose `/` and `/index.php` stay two pages
    /// (flipping the home page must not flip the app). Set after each crawl and settings change.
    public static let alias = URLFlags(rawValue: 1 << 9)

    /// Another PHP file of the site includes this one (`include __DIR__ . '/_header.php'`, read
    /// from the sources after each crawl): with no person requesting it, it is an include.
    public static let includedBySource = URLFlags(rawValue: 1 << 10)

    /// A URL without a file that only the fallback (or the front controller) ever caught, and
    /// never as a page: the logs never saw it answered 2xx or 3xx, or its name is hidden,
    /// sensitive or a script's (`/.env`, `/wp-login.php`: scanners). Not while a plan names it.
    /// Set after each log import, crawl, flip and settings change.
    public static let neverAPage = URLFlags(rawValue: 1 << 11)

    /// Flags worked out from probes, traffic and the other URLs, not from the file: a crawl
    /// keeps them as they are (and recomputes `alias` after it).
    public static let derived: URLFlags = [.include, .alias, .includedBySource, .neverAPage]
    /// URLs that are no pages of their own: left out of page counts, "% on Swift" and the burndown.
    public static let notAPage: URLFlags = [.include, .alias, .neverAPage]

    public var names: [String] {
        var result: [String] = []
        if contains(.hidden) { result.append("hidden") }
        if contains(.sensitive) { result.append("sensitive") }
        if contains(.directoryIndex) { result.append("directory-index") }
        if contains(.nonUTF8Name) { result.append("non-utf8-name") }
        if contains(.viaSymlink) { result.append("symlink") }
        if contains(.fromLog) { result.append("log") }
        if contains(.outsideDocroot) { result.append("outside-docroot") }
        if contains(.include) { result.append("include") }
        if contains(.queryPage) { result.append("page-key") }
        if contains(.alias) { result.append("alias") }
        if contains(.includedBySource) { result.append("included-by-source") }
        if contains(.neverAPage) { result.append("never-a-page") }
        return result
    }
}

/// Names that usually hold secrets or internals when they end up in a docroot.
enum SensitiveNames {
    static let exact: Set<String> = [
        ".env", ".htaccess", ".htpasswd", ".git", ".svn", ".hg", ".ds_store", "composer.json", "composer.lock",
        "package.json", "wp-config.php.bak", "phpinfo.php", ".user.ini", "php.ini", "web.config", "id_rsa",
    ]
    static let prefixes = [".env.", ".ht"]
    static let suffixes = [
        ".bak", ".old", ".orig", ".swp", "~", ".sql", ".sqlite", ".db", ".log", ".ini", ".pem", ".key", ".tar", ".tar.gz",
        ".tgz", ".zip", ".conf",
    ]

    private static let exactBytes = exact.map { Array($0.utf8) }
    private static let prefixBytes = prefixes.map { Array($0.utf8) }
    private static let suffixBytes = suffixes.map { Array($0.utf8) }
    private static let longestExact = exact.map(\.utf8.count).max() ?? 0

    /// Compared over bytes with ASCII case folding (every pattern is ASCII), as Apache compares
    /// names: the walk asks this of every file, and lowercasing a String for each was a fifth
    /// of a re-crawl's walk (perf).
    static func matches(_ name: UnsafeBufferPointer<UInt8>) -> Bool {
        func folded(_ byte: UInt8) -> UInt8 { byte >= 0x41 && byte <= 0x5A ? byte | 0x20 : byte }
        func hasSuffix(_ pattern: [UInt8]) -> Bool {
            guard name.count >= pattern.count else { return false }
            let start = name.count - pattern.count
            for index in 0..<pattern.count where folded(name[start + index]) != pattern[index] { return false }
            return true
        }
        func hasPrefix(_ pattern: [UInt8]) -> Bool {
            guard name.count >= pattern.count else { return false }
            for index in 0..<pattern.count where folded(name[index]) != pattern[index] { return false }
            return true
        }
        if name.count <= longestExact, exactBytes.contains(where: { $0.count == name.count && hasPrefix($0) }) { return true }
        return prefixBytes.contains(where: hasPrefix) || suffixBytes.contains(where: hasSuffix)
    }
}
