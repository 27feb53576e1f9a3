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

    public init(_ run: ProbeRunRecord) {
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
