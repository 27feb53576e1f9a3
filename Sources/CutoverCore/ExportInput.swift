/// The forms an export can take.
public enum ExportForm: String, CaseIterable, Codable, Sendable {
    /// Server/vhost context (for `Include` or `a2enconf`): a `<Directory>` block with per-page rules.
    case vhost
    /// Directory context, for a docroot `.htaccess` on hosts without config access.
    case htaccess
    /// Like `vhost`, but per-page flips live in a `txt:` RewriteMap file Apache re-reads by mtime:
    /// flips then need no reload.
    case rewritemap
    /// Like `rewritemap`, but the map is a GNU dbm hash file (`dbm=gdbm:`), written by
    /// `cutover apply --form dbm`: one hashed look-up per request whatever the number of flips.
    case dbm
    /// Per-page flips are empty marker files under a folder (`--map-file DIR`), one `stat` per
    /// request (`RewriteCond "DIR%{REQUEST_URI}.cutover-flip" -f`), written page by page by
    /// `cutover apply --form tree` or the node agent: no reload, no file opened per request.
    case tree
}

/// A page the plan sends to Swift while its PHP file stays on disk.
public struct PageFlip: Sendable, Hashable, Codable {
    /// Canonical URL path (`/old%20page.php`, `/about/`, `/`).
    public var path: String
    public init(path: String) { self.path = path }
}

/// A URL that moves: Apache answers it with a 301 to the new URL.
public struct PageRedirect: Sendable, Hashable, Codable {
    public var from: String
    public var to: String
    public init(from: String, to: String) {
        self.from = from
        self.to = to
    }
}

/// Everything the renderer needs; rendering is a pure function of this value.
public struct ExportInput: Sendable, Hashable {
    public var settings: SiteSettings
    public var flips: [PageFlip]
    public var redirects: [PageRedirect]
    /// Where the RewriteMap file will live (rewritemap form only).
    public var mapFilePath: String?
    /// The docroot's `.htaccess` files as the last crawl found them.
    public var htaccess: [HtaccessFile]
    /// Front-controller sites: URL prefixes planned for Swift (`/blog/`: every URL below).
    public var prefixes: [String]
    /// Page-key scripts that are their directory's index file, by script (`/index.php` → `/`):
    /// their pages are reached at the directory URL too (`/?page=about`), and flip with it.
    public var scriptDirectories: [String: String] = [:]
    /// Directories without an index file go to Swift with the fallback (rule 3); the site
    /// setting `directoriesToSwift`, off by default where a front controller answers.
    public var directoriesToSwift = true
    /// The site's side-header secret (`SideHeader`): the export then lets a request choose its
    /// side. Never rendered; only digests of the header values are.
    public var sideSecret: String?
    /// Running canaries (#29): a share of visitors reaches Swift for their pages.
    public var canaries: [CanaryRoute] = []

    public init(
        settings: SiteSettings,
        flips: [PageFlip],
        redirects: [PageRedirect] = [],
        mapFilePath: String? = nil,
        htaccess: [HtaccessFile] = [],
        prefixes: [String] = [],
        scriptDirectories: [String: String] = [:],
        directoriesToSwift: Bool = true,
        sideSecret: String? = nil
    ) {
        self.sideSecret = sideSecret
        self.directoriesToSwift = directoriesToSwift
        self.prefixes = prefixes
        self.scriptDirectories = scriptDirectories
        self.settings = settings
        self.flips = flips
        self.redirects = redirects
        self.mapFilePath = mapFilePath
        self.htaccess = htaccess
    }
}

public enum ExportError: Error, CustomStringConvertible, Equatable {
    /// A URL whose name cannot be placed safely in a config file (control characters).
    case unsafeName(path: String, reason: String)
    case unsafeSetting(String)
    case mapFileRequired
    /// Canaries change weights without a reload: only the map forms can route them.
    case canaryNeedsMapForm(ExportForm)

    public var description: String {
        switch self {
        case .unsafeName(let path, let reason): "refusing to export '\(ConfigText.visible(path))': \(reason)"
        case .unsafeSetting(let message): message
        case .mapFileRequired: "the rewritemap, dbm and tree forms need a map file path (--map-file)"
        case .canaryNeedsMapForm(let form):
            "the site has running canaries, whose weights change without a reload: the \(form.rawValue) form cannot declare the map "
                + "they need; export the tree, dbm or rewritemap form (or end the canaries with 'cutover canary abort')"
        }
    }
}

extension ExportError: ReportedError {
    public var kind: ErrorKind { .invalid }
}
