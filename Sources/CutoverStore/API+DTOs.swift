import CutoverCore
import Foundation

// The shapes the REST API and the CLI's `--json` show: camelCase, built from records, never the
// records themselves (their column names stay in the store). URLView and SiteProgress are the
// other two.

/// A registered site.
package struct SiteView: Codable, Sendable, Hashable {
    package var name: String
    package var docroot: String
    package var publicURL: String
    package var backendURL: String
    package var directoryIndex: [String]
    package var phpExtensions: [String]
    package var ownerHeader: String
    package var probeRetention: Int
    /// Schedule as text (`15m`), nil when not scheduled.
    package var crawlEvery: String?
    /// Access logs imported before each scheduled crawl (paths or globs), and their LogFormat.
    package var accessLogs: [String]
    package var accessLogFormat: String
    /// Scripts whose pages are told apart by a query value.
    package var pageKeys: [PageKey]
    /// The script the app's `.htaccess` sends URLs without a file to (no Swift fallback then).
    package var frontController: String?
    /// The user declined a detected front controller (`frontController: ""`).
    package var frontControllerDeclined: Bool
    /// The front controller the last crawl found in the docroot's `.htaccess`.
    package var detectedFrontController: String?
    /// Who answers URLs without a file: `frontController`, else the detected one unless declined.
    package var routingFrontController: String?
    /// Directories without an index file go to Swift: the setting (nil: automatic) and the result.
    package var directoriesToSwift: Bool?
    package var sendsDirectoriesToSwift: Bool
    /// The vhost's Alias directories, crawled at their URL prefix.
    package var aliases: [PathAlias]
    /// Query keys masked at log import besides the built-in ones.
    package var sensitiveQueryKeys: [String]
    /// URL path globs a probe never requests (cron, install scripts).
    package var probeSkip: [String]
    package var lastRun: Date?
    package var nextRun: Date?
    package var createdAt: Date

    package init(_ site: SiteRecord) {
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
package struct CrawlView: Codable, Sendable, Hashable {
    package var id: Int64
    package var status: CrawlStatus
    package var startedAt: Date
    package var finishedAt: Date?
    package var filesSeen: Int
    package var urlsAdded: Int
    package var urlsChanged: Int
    package var urlsRemoved: Int
    package var errorCount: Int
    package var error: String?

    package init(_ crawl: CrawlRecord) {
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
package struct ProbeRunView: Codable, Sendable, Hashable {
    package var id: Int64
    package var status: CrawlStatus
    package var startedAt: Date
    package var finishedAt: Date?
    package var concurrency: Int
    package var urlCount: Int
    package var driftCount: Int
    package var errorCount: Int
    package var readyCount: Int
    package var fallbackHealthy: Bool?
    package var fallbackStatus: Int?
    package var fallbackDetail: String?
    package var error: String?
    package var skippedIncludes: Int
    package var skippedDenied: Int
    package var timeoutsRetried: Int

    package init(_ run: ProbeRunRecord) {
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
package struct ProbeResultView: Codable, Sendable, Hashable {
    package var runID: Int64
    package var expectedOwner: Owner?
    package var status: Int?
    package var observedOwner: Owner?
    package var ownerSource: OwnerSource?
    package var latencyMs: Double
    package var contentType: String?
    package var contentLength: Int64?
    package var bodyHash: String?
    package var bodyTruncated: Bool
    package var location: String?
    package var errorKind: ProbeErrorKind?
    package var errorMessage: String?
    package var backendStatus: Int?
    package var backendError: String?
    package var readyToFlip: Bool
    package var drift: Bool

    package init(_ result: ProbeResultRecord) {
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
package struct OwnershipEventView: Codable, Sendable, Hashable {
    package var at: Date
    package var fromOwner: Owner?
    package var toOwner: Owner
    package var reason: String
    package var actor: String

    package init(_ event: OwnershipEventRecord) {
        at = event.at
        fromOwner = event.fromOwner
        toOwner = event.toOwner
        reason = event.reason
        actor = event.actor
    }
}

/// A docroot `.htaccess` as the last crawl found it, and what it means for the export.
package struct HtaccessView: Codable, Sendable, Hashable {
    /// URL folder: `/`, `/blog/`.
    package var directory: String
    package var rewriteEngine: Bool?
    package var rewriteOptions: [String]
    package var ruleCount: Int
    package var fallbackResource: String?
    /// The PHP script that answers every URL without a file below this folder, when detected.
    package var frontController: String?
    /// Its rules replace the vhost's `<Directory>` rules below it (the export works around them).
    package var hasOwnRewriteRules: Bool
    /// Set when it keeps the export's fallback from applying below it (`RewriteEngine Off`, `IgnoreInherit`).
    package var blocksFallback: String?

    package init(_ file: HtaccessFile) {
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
package struct TrafficView: Codable, Sendable, Hashable {
    package var path: String
    package var hits: Int
    /// Hits whose user agent is not a crawler (BotList).
    package var humanHits: Int
    package var bytes: Int
    package var firstSeen: Date
    package var lastSeen: Date
    package var status2xx: Int
    package var status3xx: Int
    package var status4xx: Int
    package var status5xx: Int
    /// Hits whose log line said who answered (`%R` or the owner header), and of those, how many
    /// Swift and PHP served.
    package var attributed: Int
    package var servedSwift: Int
    package var servedPHP: Int
    /// Hits of query strings beyond the per-path cap or too long to keep.
    package var otherQueryHits: Int
    /// Hits of query keys beyond the per-path cap (50), too long, or past a request's first 32
    /// keys; a request counts once per such key.
    package var otherKeyHits: Int

    package init(_ row: TrafficRow) {
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
package struct QueryValue: Codable, Sendable, Hashable {
    package var key: String
    package var value: String?
    package var hits: Int

    package init(key: String, value: String?, hits: Int) {
        self.key = key
        self.value = value
        self.hits = hits
    }
}

/// A page of the traffic table.
package struct TrafficPage: Codable, Sendable, Hashable {
    package var items: [TrafficView]
    package var total: Int
    package var offset: Int
    package var limit: Int

    package init(items: [TrafficView], total: Int, offset: Int, limit: Int) {
        self.items = items
        self.total = total
        self.offset = offset
        self.limit = limit
    }
}

/// All requests of one UTC day.
package struct TrafficDayView: Codable, Sendable, Hashable {
    /// `2026-12-03`.
    package var day: String
    package var hits: Int
    package var humanHits: Int
    package var attributed: Int
    package var servedSwift: Int
    package var servedPHP: Int

    package init(day: Int, hits: Int, humanHits: Int, attributed: Int, servedSwift: Int, servedPHP: Int) {
        self.day = CivilDate.text(daysSince1970: day)
        self.hits = hits
        self.humanHits = humanHits
        self.attributed = attributed
        self.servedSwift = servedSwift
        self.servedPHP = servedPHP
    }
}

/// An access log file and how far it has been read.
package struct LogFileView: Codable, Sendable, Hashable {
    package var path: String
    package var gzip: Bool
    /// The file's size on disk when last read (compressed for a `.gz` file).
    package var size: Int64
    /// Content bytes read so far: every line before it is counted. For a `.gz` file it counts
    /// decompressed bytes, so it is not comparable with `size`.
    package var offset: Int64
    package var lines: Int
    package var badLines: Int
    package var skippedLines: Int
    package var format: String
    package var firstImportedAt: Date
    package var lastImportedAt: Date

    package init(_ state: LogFileState) {
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
package enum CivilDate {
    /// `2026-12-03`.
    package static func text(daysSince1970 days: Int) -> String {
        let (year, month, day) = from(daysSince1970: days)
        return String(format: "%04d-%02d-%02d", year, month, day)
    }

    package static func from(daysSince1970 days: Int) -> (year: Int, month: Int, day: Int) {
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
package struct TrafficShare: Codable, Sendable, Hashable {
    package var days: Int
    /// Requests to pages (PHP or Swift URLs, and requested URLs without a file that the fallback
    /// answers); static files and 4xx-only noise are left out.
    package var pageHits: Int
    package var swiftHits: Int
    /// nil when there were no page requests.
    package var percentOnSwift: Double?
    /// How the page hits were attributed: by the log line itself (`%R`, owner header), by the
    /// latest probe of the URL, or by the inventory and plan where no probe exists.
    package var byLog: Int
    package var byProbe: Int
    package var byPlan: Int
    /// The same for requests by people only (bots left out by their user agent): attributed by
    /// the log where the line says, else by the probe or the inventory as above.
    package var humanPageHits: Int
    package var humanSwiftHits: Int
    package var humanPercentOnSwift: Double?

    package init(days: Int) {
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
package struct RankedPage: Codable, Sendable, Hashable {
    package var path: String
    package var hits: Int
    package var humanHits: Int

    package init(path: String, hits: Int, humanHits: Int) {
        self.path = path
        self.hits = hits
        self.humanHits = humanHits
    }
}

/// What the imported access logs say about a site's migration.
package struct TrafficSummary: Codable, Sendable, Hashable {
    /// Days without a person's request after which a PHP page is an orphan, unless asked otherwise.
    package static let defaultOrphanDays = 30
    /// First and last UTC day with imported traffic (nil: no log imported yet).
    package var logsFrom: String?
    package var logsTo: String?
    package var last7: TrafficShare
    package var last30: TrafficShare
    /// PHP pages not yet planned for Swift that people requested, most requested first.
    package var portNext: [RankedPage]
    /// PHP pages no person requested in the last `orphanDays` days: candidates to delete rather
    /// than port (only as good as the logs' coverage: see `logsFrom`).
    package var orphanDays: Int
    package var orphanCount: Int
    package var orphans: [String]
    /// `.php` files no person ever requested that answer with an error (403, 404, 5xx) or an
    /// empty body when probed: included files, not pages (URLs flagged `include`).
    package var includeCount: Int
    /// The first of them by path (`GET /api/sites/S/urls?include=true` lists them all).
    package var includes: [String]
    /// Requested URLs without a file that only ever got 4xx (scanners, mistyped links): kept
    /// out of the page figures.
    package var noiseCount: Int
    package var noiseHits: Int
    package var noise: [RankedPage]
    /// Query keys that look like they name a script's pages (`/doku.php` → `id`), not yet declared.
    package var pageKeySuggestions: [PageKeySuggestion]

    package init(orphanDays: Int) {
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
package struct SiteDefaultsView: Codable, Sendable, Hashable {
    package var directoryIndex: [String]
    package var phpExtensions: [String]
    package var ownerHeader: String
    package var probeRetention: Int
    package var crawlEvery: String
    package var accessLogFormat: String
    package var sensitiveQueryKeys: [String]
    package var probeSkip: [String]

    package init() {
        let settings = SiteSettings(name: "", docroot: "", publicURL: "", backendURL: "")
        directoryIndex = settings.directoryIndex
        phpExtensions = settings.phpExtensions
        ownerHeader = settings.ownerHeader
        probeRetention = settings.probeRetention
        crawlEvery = settings.crawlEverySeconds.map(Interval.text) ?? "off"
        accessLogFormat = settings.accessLogFormat
        sensitiveQueryKeys = settings.sensitiveQueryKeys
        probeSkip = settings.probeSkip
    }
}
