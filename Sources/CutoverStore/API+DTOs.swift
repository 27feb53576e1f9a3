import CutoverCore
import Foundation

// The shapes the REST API and the CLI's `--json` show: camelCase, built from records, never the
// records themselves (their column names stay in the store). URLView and SiteProgress are the
// other two.

/// A registered site.
public struct SiteView: Codable, Sendable, Hashable {
    public var name: String
    public var docroot: String
    public var publicURL: String
    public var backendURL: String
    public var directoryIndex: [String]
    public var phpExtensions: [String]
    public var ownerHeader: String
    public var probeRetention: Int
    /// Schedule as text (`15m`), nil when not scheduled.
    public var crawlEvery: String?
    /// Access logs imported before each scheduled crawl (paths or globs), and their LogFormat.
    public var accessLogs: [String]
    public var accessLogFormat: String
    /// Scripts whose pages are told apart by a query value.
    public var pageKeys: [PageKey]
    /// The script the app's `.htaccess` sends URLs without a file to (no Swift fallback then).
    public var frontController: String?
    /// The user declined a detected front controller (`frontController: ""`).
    public var frontControllerDeclined: Bool
    /// The front controller the last crawl found in the docroot's `.htaccess`.
    public var detectedFrontController: String?
    /// Who answers URLs without a file: `frontController`, else the detected one unless declined.
    public var routingFrontController: String?
    /// Directories without an index file go to Swift: the setting (nil: automatic) and the result.
    public var directoriesToSwift: Bool?
    public var sendsDirectoriesToSwift: Bool
    /// The vhost's Alias directories, crawled at their URL prefix.
    public var aliases: [PathAlias]
    /// Query keys masked at log import besides the built-in ones.
    public var sensitiveQueryKeys: [String]
    /// URL path globs a probe never requests (cron, install scripts).
    public var probeSkip: [String]
    public var lastRun: Date?
    public var nextRun: Date?
    public var createdAt: Date

    public init(_ site: SiteRecord) {
        let settings = site.settings
        name = settings.name
        docroot = settings.docroot
        publicURL = settings.publicURL
        backendURL = settings.backendURL
        directoryIndex = settings.directoryIndex
        phpExtensions = settings.phpExtensions
        ownerHeader = settings.ownerHeader
        probeRetention = settings.probeRetention
        crawlEvery = settings.crawlEverySeconds.map(Interval.text)
        accessLogs = settings.accessLogs
        accessLogFormat = settings.accessLogFormat
        pageKeys = settings.pageKeys
        frontController = settings.frontController
        frontControllerDeclined = site.frontControllerDeclined
        detectedFrontController = site.detectedFrontController
        routingFrontController = site.routingFrontController
        directoriesToSwift = site.directoriesToSwift
        sendsDirectoriesToSwift = site.sendsDirectoriesToSwift
        aliases = site.aliases
        sensitiveQueryKeys = settings.sensitiveQueryKeys
        probeSkip = settings.probeSkip
        lastRun = site.lastScheduledAt
        nextRun = site.nextScheduledAt
        createdAt = site.createdAt
    }
}

/// One crawl of a site.
public struct CrawlView: Codable, Sendable, Hashable {
    public var id: Int64
    public var status: CrawlStatus
    public var startedAt: Date
    public var finishedAt: Date?
    public var filesSeen: Int
    public var urlsAdded: Int
    public var urlsChanged: Int
    public var urlsRemoved: Int
    public var errorCount: Int
    public var error: String?

    public init(_ crawl: CrawlRecord) {
        id = crawl.id ?? 0
        status = crawl.status
        startedAt = crawl.startedAt
        finishedAt = crawl.finishedAt
        filesSeen = crawl.filesSeen
        urlsAdded = crawl.urlsAdded
        urlsChanged = crawl.urlsChanged
        urlsRemoved = crawl.urlsRemoved
        errorCount = crawl.errorCount
        error = crawl.error
    }
}

/// One probe run of a site.
public struct ProbeRunView: Codable, Sendable, Hashable {
    public var id: Int64
    public var status: CrawlStatus
    public var startedAt: Date
    public var finishedAt: Date?
    public var concurrency: Int
    public var urlCount: Int
    public var driftCount: Int
    public var errorCount: Int
    public var readyCount: Int
    public var fallbackHealthy: Bool?
    public var fallbackStatus: Int?
    public var fallbackDetail: String?
    public var error: String?
    public var skippedIncludes: Int
    public var skippedDenied: Int
    public var timeoutsRetried: Int

    public init(_ run: ProbeRunRecord) {
        skippedIncludes = run.skippedIncludes
        skippedDenied = run.skippedDenied
        timeoutsRetried = run.timeoutsRetried
        id = run.id ?? 0
        status = run.status
        startedAt = run.startedAt
        finishedAt = run.finishedAt
        concurrency = run.concurrency
        urlCount = run.urlCount
        driftCount = run.driftCount
        errorCount = run.errorCount
        readyCount = run.readyCount
        fallbackHealthy = run.fallbackHealthy
        fallbackStatus = run.fallbackStatus
        fallbackDetail = run.fallbackDetail
        error = run.error
    }
}

/// What one probe run saw at one URL.
public struct ProbeResultView: Codable, Sendable, Hashable {
    public var runID: Int64
    public var expectedOwner: Owner?
    public var status: Int?
    public var observedOwner: Owner?
    public var ownerSource: OwnerSource?
    public var latencyMs: Double
    public var contentType: String?
    public var contentLength: Int64?
    public var bodyHash: String?
    public var bodyTruncated: Bool
    public var location: String?
    public var errorKind: ProbeErrorKind?
    public var errorMessage: String?
    public var backendStatus: Int?
    public var backendError: String?
    public var readyToFlip: Bool
    public var drift: Bool

    public init(_ result: ProbeResultRecord) {
        runID = result.runID
        expectedOwner = result.expectedOwner
        status = result.status
        observedOwner = result.observedOwner
        ownerSource = result.ownerSource
        latencyMs = result.latencyMs
        contentType = result.contentType
        contentLength = result.contentLength
        bodyHash = result.bodyHash
        bodyTruncated = result.bodyTruncated
        location = result.location
        errorKind = result.errorKind
        errorMessage = result.errorMessage
        backendStatus = result.backendStatus
        backendError = result.backendError
        readyToFlip = result.readyToFlip
        drift = result.drift
    }
}

/// A change of owner of one URL.
public struct OwnershipEventView: Codable, Sendable, Hashable {
    public var at: Date
    public var fromOwner: Owner?
    public var toOwner: Owner
    public var reason: String
    public var actor: String

    public init(_ event: OwnershipEventRecord) {
        at = event.at
        fromOwner = event.fromOwner
        toOwner = event.toOwner
        reason = event.reason
        actor = event.actor
    }
}

/// A docroot `.htaccess` as the last crawl found it, and what it means for the export.
public struct HtaccessView: Codable, Sendable, Hashable {
    /// URL folder: `/`, `/blog/`.
    public var directory: String
    public var rewriteEngine: Bool?
    public var rewriteOptions: [String]
    public var ruleCount: Int
    public var fallbackResource: String?
    /// The PHP script that answers every URL without a file below this folder, when detected.
    public var frontController: String?
    /// Its rules replace the vhost's `<Directory>` rules below it (the export works around them).
    public var hasOwnRewriteRules: Bool
    /// Set when it keeps the export's fallback from applying below it (`RewriteEngine Off`, `IgnoreInherit`).
    public var blocksFallback: String?

    public init(_ file: HtaccessFile) {
        directory = file.directory.isEmpty ? "/" : "/" + file.directory + "/"
        rewriteEngine = file.rewriteEngine
        rewriteOptions = file.rewriteOptions
        ruleCount = file.ruleCount
        fallbackResource = file.fallbackResource
        frontController = file.frontController
        hasOwnRewriteRules = file.hasOwnRewriteRules
        blocksFallback = file.blocksInheritance
    }
}

/// Requests to one URL path, from the imported access logs.
public struct TrafficView: Codable, Sendable, Hashable {
    public var path: String
    public var hits: Int
    /// Hits whose user agent is not a crawler (BotList).
    public var humanHits: Int
    public var bytes: Int
    public var firstSeen: Date
    public var lastSeen: Date
    public var status2xx: Int
    public var status3xx: Int
    public var status4xx: Int
    public var status5xx: Int
    /// Hits whose log line said who answered (`%R` or the owner header), and of those, how many
    /// Swift and PHP served.
    public var attributed: Int
    public var servedSwift: Int
    public var servedPHP: Int
    /// Hits of query strings beyond the per-path cap or too long to keep.
    public var otherQueryHits: Int
    /// Hits of query keys beyond the per-path cap (50), too long, or past a request's first 32
    /// keys; a request counts once per such key.
    public var otherKeyHits: Int

    public init(_ row: TrafficRow) {
        let counts = row.counts
        path = row.path
        hits = counts.hits
        humanHits = counts.hits - counts.botHits
        bytes = counts.bytes
        firstSeen = Date(timeIntervalSince1970: Double(counts.firstSeen))
        lastSeen = Date(timeIntervalSince1970: Double(counts.lastSeen))
        status2xx = counts.status2xx
        status3xx = counts.status3xx
        status4xx = counts.status4xx
        status5xx = counts.status5xx
        attributed = counts.attributed
        servedSwift = counts.servedSwift
        servedPHP = counts.servedPHP
        otherQueryHits = row.otherQueryHits
        otherKeyHits = row.otherKeyHits
    }
}

/// A query key's value as PHP reads it, and its hits; `value` nil sums the values beyond the cap.
public struct QueryValue: Codable, Sendable, Hashable {
    public var key: String
    public var value: String?
    public var hits: Int

    public init(key: String, value: String?, hits: Int) {
        self.key = key
        self.value = value
        self.hits = hits
    }
}

/// A page of the traffic table.
public struct TrafficPage: Codable, Sendable, Hashable {
    public var items: [TrafficView]
    public var total: Int
    public var offset: Int
    public var limit: Int

    public init(items: [TrafficView], total: Int, offset: Int, limit: Int) {
        self.items = items
        self.total = total
        self.offset = offset
        self.limit = limit
    }
}

/// All requests of one UTC day.
public struct TrafficDayView: Codable, Sendable, Hashable {
    /// `2026-12-03`.
    public var day: String
    public var hits: Int
    public var humanHits: Int
    public var attributed: Int
    public var servedSwift: Int
    public var servedPHP: Int

    public init(day: Int, hits: Int, humanHits: Int, attributed: Int, servedSwift: Int, servedPHP: Int) {
        self.day = CivilDate.text(daysSince1970: day)
        self.hits = hits
        self.humanHits = humanHits
        self.attributed = attributed
        self.servedSwift = servedSwift
        self.servedPHP = servedPHP
    }
}

/// An access log file and how far it has been read.
public struct LogFileView: Codable, Sendable, Hashable {
    public var path: String
    public var gzip: Bool
    /// The file's size on disk when last read (compressed for a `.gz` file).
    public var size: Int64
    /// Content bytes read so far: every line before it is counted. For a `.gz` file it counts
    /// decompressed bytes, so it is not comparable with `size`.
    public var offset: Int64
    public var lines: Int
    public var badLines: Int
    public var skippedLines: Int
    public var format: String
    public var firstImportedAt: Date
    public var lastImportedAt: Date

    public init(_ state: LogFileState) {
        path = state.path
        gzip = state.gzip
        size = state.size
        offset = state.offset
        lines = state.lines
        badLines = state.badLines
        skippedLines = state.skippedLines
        format = state.format
        firstImportedAt = state.firstImportedAt
        lastImportedAt = state.lastImportedAt
    }
}

/// Days since 1970 to a civil (proleptic Gregorian, UTC) date: Howard Hinnant's civil_from_days.
public enum CivilDate {
    /// `2026-12-03`.
    public static func text(daysSince1970 days: Int) -> String {
        let (year, month, day) = from(daysSince1970: days)
        return String(format: "%04d-%02d-%02d", year, month, day)
    }

    public static func from(daysSince1970 days: Int) -> (year: Int, month: Int, day: Int) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
        let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }
}

/// How much of the page traffic of the last `days` days Swift served.
public struct TrafficShare: Codable, Sendable, Hashable {
    public var days: Int
    /// Requests to pages (PHP or Swift URLs, and requested URLs without a file that the fallback
    /// answers); static files and 4xx-only noise are left out.
    public var pageHits: Int
    public var swiftHits: Int
    /// nil when there were no page requests.
    public var percentOnSwift: Double?
    /// How the page hits were attributed: by the log line itself (`%R`, owner header), by the
    /// latest probe of the URL, or by the inventory and plan where no probe exists.
    public var byLog: Int
    public var byProbe: Int
    public var byPlan: Int
    /// The same for requests by people only (bots left out by their user agent): attributed by
    /// the log where the line says, else by the probe or the inventory as above.
    public var humanPageHits: Int
    public var humanSwiftHits: Int
    public var humanPercentOnSwift: Double?

    public init(days: Int) {
        self.days = days
        humanPageHits = 0
        humanSwiftHits = 0
        pageHits = 0
        swiftHits = 0
        byLog = 0
        byProbe = 0
        byPlan = 0
    }
}

/// A page and its requests over the summary's window.
public struct RankedPage: Codable, Sendable, Hashable {
    public var path: String
    public var hits: Int
    public var humanHits: Int

    public init(path: String, hits: Int, humanHits: Int) {
        self.path = path
        self.hits = hits
        self.humanHits = humanHits
    }
}

/// What the imported access logs say about a site's migration.
public struct TrafficSummary: Codable, Sendable, Hashable {
    /// Days without a person's request after which a PHP page is an orphan, unless asked otherwise.
    public static let defaultOrphanDays = 30
    /// First and last UTC day with imported traffic (nil: no log imported yet).
    public var logsFrom: String?
    public var logsTo: String?
    public var last7: TrafficShare
    public var last30: TrafficShare
    /// PHP pages not yet planned for Swift that people requested, most requested first.
    public var portNext: [RankedPage]
    /// PHP pages no person requested in the last `orphanDays` days: candidates to delete rather
    /// than port (only as good as the logs' coverage: see `logsFrom`).
    public var orphanDays: Int
    public var orphanCount: Int
    public var orphans: [String]
    /// `.php` files no person ever requested that answer with an error (403, 404, 5xx) or an
    /// empty body when probed: included files, not pages (URLs flagged `include`).
    public var includeCount: Int
    /// The first of them by path (`GET /api/sites/S/urls?include=true` lists them all).
    public var includes: [String]
    /// Requested URLs without a file that only ever got 4xx (scanners, mistyped links): kept
    /// out of the page figures.
    public var noiseCount: Int
    public var noiseHits: Int
    public var noise: [RankedPage]
    /// Query keys that look like they name a script's pages (`/doku.php` → `id`), not yet declared.
    public var pageKeySuggestions: [PageKeySuggestion]

    public init(orphanDays: Int) {
        pageKeySuggestions = []
        last7 = TrafficShare(days: 7)
        last30 = TrafficShare(days: 30)
        portNext = []
        self.orphanDays = orphanDays
        orphanCount = 0
        orphans = []
        includeCount = 0
        includes = []
        noiseCount = 0
        noiseHits = 0
        noise = []
    }
}

/// What a new site gets for each setting it does not give (`GET /api/site-defaults`): the
/// dashboard's form starts from these, so the defaults are named once, in `SiteSettings`.
public struct SiteDefaultsView: Codable, Sendable, Hashable {
    public var directoryIndex: [String]
    public var phpExtensions: [String]
    public var ownerHeader: String
    public var probeRetention: Int
    public var crawlEvery: String
    public var accessLogFormat: String
    public var sensitiveQueryKeys: [String]
    public var probeSkip: [String]

    public init() {
        let settings = SiteSettings(name: "", docroot: "", publicURL: "", backendURL: "")
        directoryIndex = settings.directoryIndex
        phpExtensions = settings.phpExtensions
        ownerHeader = settings.ownerHeader
        probeRetention = settings.probeRetention
        crawlEvery = settings.crawlEverySeconds.map { "\($0)s" } ?? "off"
        accessLogFormat = settings.accessLogFormat
        sensitiveQueryKeys = settings.sensitiveQueryKeys
        probeSkip = settings.probeSkip
    }
}
