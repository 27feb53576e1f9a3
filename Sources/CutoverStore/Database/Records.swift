import CutoverCore
import Foundation
import GRDB

/// A registered site: where its docroot is and where Apache and the Swift app answer.
package struct SiteRecord: Codable, FetchableRecord, MutablePersistableRecord, Sendable, Hashable {
    package static let databaseTableName = "sites"

    /// nil only between `init(settings:createdAt:)` and the insert: the store hands out only
    /// records it fetched or inserted, so `id` is always there for callers.
    var storedID: SiteID?
    package var id: SiteID {
        guard let storedID else { preconditionFailure("a site record was used before it was saved") }
        return storedID
    }
    package var name: String
    package var docroot: String
    package var publicURL: String
    package var backendURL: String
    /// Apache's `DirectoryIndex` entries, stored as a JSON array (migration 0009).
    package var directoryIndex: [String]
    /// Endings such as `.php`, stored as a JSON array.
    package var phpExtensions: [String]
    package var ownerHeader: String
    package var probeRetention: Int
    package var crawlEverySeconds: Int?
    /// Stored as a JSON array (migration 0012).
    package var accessLogs: [String]
    package var accessLogFormat: String
    /// Stored as a JSON array of `{script, key}` (migration 0014).
    package var pageKeys: [PageKey]
    package var frontController: String?
    /// The user declined a detected front controller (migration 0023).
    package var frontControllerDeclined: Bool
    /// The front controller the last crawl found in the docroot's `.htaccess` (a catch-all
    /// rule or `FallbackResource`), kept by the crawl, never by a settings change.
    package var detectedFrontController: String?
    /// Stored as 1, 0 or NULL (migration 0025).
    package var directoriesToSwift: Bool?
    /// Stored as a JSON array of `{urlPath, directory}` (migration 0026).
    package var aliases: [PathAlias]
    /// Stored as a JSON array (migration 0019).
    package var sensitiveQueryKeys: [String]
    /// Stored as a JSON array (migration 0020).
    package var probeSkip: [String]
    /// Stored as a JSON object (migration 0031).
    package var parity: ParitySettings
    /// Stored as a JSON array of base URLs (migration 0035).
    package var nodes: [String]
    /// Stored as a JSON object or NULL (migration 0036).
    package var fleet: FleetSettings?
    package var lastScheduledAt: Date?
    package var createdAt: Date

    enum CodingKeys: String, CodingKey {
        case storedID = "id"
        case name, docroot
        case publicURL = "public_url"
        case backendURL = "backend_url"
        case directoryIndex = "directory_index"
        case phpExtensions = "php_extensions"
        case ownerHeader = "owner_header"
        case probeRetention = "probe_retention"
        case crawlEverySeconds = "crawl_every_seconds"
        case accessLogs = "access_logs"
        case accessLogFormat = "access_log_format"
        case pageKeys = "page_keys"
        case frontController = "front_controller"
        case frontControllerDeclined = "front_controller_declined"
        case detectedFrontController = "detected_front_controller"
        case directoriesToSwift = "directories_to_swift"
        case aliases
        case sensitiveQueryKeys = "sensitive_query_keys"
        case probeSkip = "probe_skip"
        case parity = "parity_settings"
        case nodes, fleet
        case lastScheduledAt = "last_scheduled_at"
        case createdAt = "created_at"
    }

    init(settings: SiteSettings, createdAt: Date) {
        self.name = settings.name
        self.docroot = settings.docroot
        self.publicURL = settings.publicURL
        self.backendURL = settings.backendURL
        self.directoryIndex = settings.directoryIndex
        self.phpExtensions = settings.phpExtensions
        self.ownerHeader = settings.ownerHeader
        self.probeRetention = settings.probeRetention
        self.crawlEverySeconds = settings.crawlEverySeconds
        self.accessLogs = settings.accessLogs
        self.accessLogFormat = settings.accessLogFormat
        self.pageKeys = settings.pageKeys
        self.frontController = settings.frontController
        self.frontControllerDeclined = settings.frontController == nil && settings.frontControllerDeclined
        self.directoriesToSwift = settings.directoriesToSwift
        self.aliases = settings.aliases
        self.sensitiveQueryKeys = settings.sensitiveQueryKeys
        self.probeSkip = settings.probeSkip
        self.parity = settings.parity
        self.nodes = settings.nodes.map(SiteNodes.normalized)
        self.fleet = settings.fleet
        self.createdAt = createdAt
    }

    package var settings: SiteSettings {
        SiteSettings(
            name: name,
            docroot: docroot,
            publicURL: publicURL,
            backendURL: backendURL,
            directoryIndex: directoryIndex,
            phpExtensions: phpExtensions,
            ownerHeader: ownerHeader,
            probeRetention: probeRetention,
            crawlEverySeconds: crawlEverySeconds,
            accessLogs: accessLogs,
            accessLogFormat: accessLogFormat,
            pageKeys: pageKeys,
            frontController: frontController,
            sensitiveQueryKeys: sensitiveQueryKeys,
            probeSkip: probeSkip,
            frontControllerDeclined: frontControllerDeclined,
            directoriesToSwift: directoriesToSwift,
            aliases: aliases,
            parity: parity,
            nodes: nodes,
            fleet: fleet
        )
    }

    /// Whether the export sends directories without an index file to Swift: the setting, else
    /// yes unless a front controller answers URLs without a file.
    package var sendsDirectoriesToSwift: Bool { directoriesToSwift ?? (routingFrontController == nil) }

    /// The script that answers URLs without a file: the one the user set, else the one the
    /// crawl detected unless the user declined it. Owners, probes, log attribution and route
    /// rules follow it; only dropping the Swift fallback from the export waits for `frontController`.
    package var routingFrontController: String? {
        InventoryRules.routingFrontController(set: frontController, declined: frontControllerDeclined, detected: detectedFrontController)
    }

    /// The routing front controller was detected, not set by the user.
    package var frontControllerUnconfirmed: Bool { frontController == nil && routingFrontController != nil }

    package mutating func didInsert(_ inserted: InsertionSuccess) { storedID = SiteID(inserted.rowID) }

    /// When the schedule runs next (nil: not scheduled). A site never run is due now.
    package var nextScheduledAt: Date? {
        guard let every = crawlEverySeconds else { return nil }
        return lastScheduledAt.map { $0.addingTimeInterval(TimeInterval(every)) } ?? createdAt
    }
}

package enum CrawlStatus: String, Codable, Sendable, DatabaseValueConvertible {
    case running, succeeded, failed, interrupted
}

/// One walk of a site's docroot.
package struct CrawlRecord: Codable, FetchableRecord, MutablePersistableRecord, Sendable, Hashable {
    package static let databaseTableName = "crawls"

    package var id: Int64?
    package var siteID: SiteID
    package var startedAt: Date
    package var finishedAt: Date?
    package var status: CrawlStatus
    package var pid: Int32?
    package var filesSeen: Int
    package var urlsAdded: Int
    package var urlsChanged: Int
    package var urlsRemoved: Int
    package var errorCount: Int
    package var error: String?

    enum CodingKeys: String, CodingKey {
        case id, status, pid, error
        case siteID = "site_id"
        case startedAt = "started_at"
        case finishedAt = "finished_at"
        case filesSeen = "files_seen"
        case urlsAdded = "urls_added"
        case urlsChanged = "urls_changed"
        case urlsRemoved = "urls_removed"
        case errorCount = "error_count"
    }

    package mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }
}

/// One URL of a site's inventory.
package struct URLRecord: Codable, FetchableRecord, PersistableRecord, Sendable, Hashable {
    package static let databaseTableName = "urls"

    package var id: Int64
    package var siteID: SiteID
    package var path: String
    package var filePath: String?
    package var owner: Owner
    package var plannedOwner: Owner?
    package var size: Int64?
    package var mtime: Double?
    package var contentHash: String?
    package var firstSeenCrawl: Int64?
    /// The crawl that last added, changed or removed this row.
    package var changedCrawl: Int64?
    package var gone: Bool
    package var flags: Int
    package var observedOwner: Owner?
    package var observedSource: OwnerSource?
    package var lastStatus: Int?
    package var lastLatencyMs: Double?
    package var lastProbeRun: Int64?
    package var lastError: String?
    package var readyToFlip: Bool
    package var drift: Bool
    /// Planned new URL: Apache answers this one with a 301 there.
    package var redirectTo: String?
    /// The latest parity verdict (migration 0030); nil until a run compared the page.
    package var parity: PageParity? = nil
    /// The parity run that gave it.
    package var parityRun: Int64? = nil

    enum CodingKeys: String, CodingKey {
        case id, path, owner, size, mtime, gone, flags, drift, parity
        case parityRun = "parity_run"
        case siteID = "site_id"
        case filePath = "file_path"
        case plannedOwner = "planned_owner"
        case contentHash = "content_hash"
        case firstSeenCrawl = "first_seen_crawl"
        case changedCrawl = "changed_crawl"
        case observedOwner = "observed_owner"
        case observedSource = "observed_source"
        case lastStatus = "last_status"
        case lastLatencyMs = "last_latency_ms"
        case lastProbeRun = "last_probe_run"
        case lastError = "last_error"
        case readyToFlip = "ready_to_flip"
        case redirectTo = "redirect_to"
    }

    /// The owner the site should have: the plan's when there is one, the inventory's otherwise.
    package var expectedOwner: Owner { plannedOwner ?? owner }

    package enum Columns {
        package static let siteID = Column(CodingKeys.siteID)
        package static let path = Column(CodingKeys.path)
        package static let owner = Column(CodingKeys.owner)
        package static let gone = Column(CodingKeys.gone)
    }

    package var urlFlags: URLFlags { URLFlags(rawValue: flags) }
}

extension URLRecord {
    /// The columns every URLRecord request selects, in this order, and `init(row:)` reads by
    /// position: URL pages decode up to 1,000 rows per request, and column name lookups and the
    /// synthesized Decodable path were most of their time (scripts/bench-api.sh, perf). Raw SQL
    /// that fetches URLRecords must select `columns` too.
    package static let columns = [
        "id", "site_id", "path", "file_path", "owner", "planned_owner", "size", "mtime", "content_hash", "first_seen_crawl",
        "changed_crawl", "gone", "flags", "observed_owner", "observed_source", "last_status", "last_latency_ms", "last_probe_run",
        "last_error", "ready_to_flip", "drift", "redirect_to", "parity", "parity_run",
    ]

    package static var databaseSelection: [any SQLSelectable] { columns.map { Column($0) } }

    /// What a URL page selects: `columns`, then the URL's requests (`hits`) and the last time one
    /// was logged (`last_seen`, Unix seconds), NULL for a URL no log line named. Both are kept on
    /// the URL's row by triggers (Migrations/0017_url_traffic_columns.sql) from `traffic` and, for
    /// a query-identified page, `query_page_hits`: the page reads one table, and a sort or filter
    /// on hits walks an index.
    static let pageColumns = (columns + trafficColumns).map { "urls." + $0 }.joined(separator: ", ")

    /// The columns of `urls` that are copies of the URL's traffic, written by triggers only: a
    /// URLRecord neither reads nor saves them, so saving one cannot put back stale counts.
    package static let trafficColumns = ["hits", "last_seen"]

    /// Columns of `urls` only the probe's SQL writes and reads: the content hash at the last
    /// probe (`probed_hash`, migration 0020), which decides whether an include is asked again.
    package static let probeColumns = ["probed_hash"]

    /// A row selected with `columns`, read by position. A value the model cannot hold (an
    /// unknown owner, say) throws instead of trapping.
    package init(row: Row) throws {
        id = try row.decode(atIndex: 0)
        siteID = try row.decode(atIndex: 1)
        path = try row.decode(atIndex: 2)
        filePath = try row.decode(atIndex: 3)
        guard let owner: Owner = try Self.enumValue(row, 4) else { throw InvalidStoredValue(column: "owner", value: nil) }
        self.owner = owner
        plannedOwner = try Self.enumValue(row, 5)
        size = try row.decode(atIndex: 6)
        mtime = try row.decode(atIndex: 7)
        contentHash = try row.decode(atIndex: 8)
        firstSeenCrawl = try row.decode(atIndex: 9)
        changedCrawl = try row.decode(atIndex: 10)
        gone = try row.decode(atIndex: 11)
        flags = try row.decode(atIndex: 12)
        observedOwner = try Self.enumValue(row, 13)
        observedSource = try Self.enumValue(row, 14)
        lastStatus = try row.decode(atIndex: 15)
        lastLatencyMs = try row.decode(atIndex: 16)
        lastProbeRun = try row.decode(atIndex: 17)
        lastError = try row.decode(atIndex: 18)
        readyToFlip = try row.decode(atIndex: 19)
        drift = try row.decode(atIndex: 20)
        redirectTo = try row.decode(atIndex: 21)
        parity = try Self.enumValue(row, 22)
        parityRun = try row.decode(atIndex: 23)
    }

    /// An enum stored as text, read through the fast String path (the generic
    /// DatabaseValueConvertible one was most of the page's decoding time).
    private static func enumValue<Value: RawRepresentable<String>>(_ row: Row, _ index: Int) throws -> Value? {
        guard let text: String = try row.decode(atIndex: index) else { return nil }
        guard let value = Value(rawValue: text) else { throw InvalidStoredValue(column: columns[index], value: text) }
        return value
    }
}

/// A stored value the model cannot hold (a database edited by hand, or by a newer version).
package struct InvalidStoredValue: Error, CustomStringConvertible {
    package var column: String
    package var value: String?

    package var description: String { "the database holds \(value.map { "'\($0)'" } ?? "NULL") in column \(column), which this version cannot read" }
}

extension Owner: DatabaseValueConvertible {}
extension OwnerSource: DatabaseValueConvertible {}
extension ProbeErrorKind: DatabaseValueConvertible {}

/// A change of owner of one URL, with who or what made it and why.
package struct OwnershipEventRecord: Codable, FetchableRecord, PersistableRecord, Sendable, Hashable {
    package static let databaseTableName = "ownership_events"

    package var id: Int64?
    package var urlID: Int64
    package var fromOwner: Owner?
    package var toOwner: Owner
    package var at: Date
    /// Why; for a flip, "planned: " and the reason given once for the whole operation.
    package var reason: String
    package var actor: String
    /// The flip operation this event belongs to (nil for crawl events).
    package var operationID: Int64?

    enum CodingKeys: String, CodingKey {
        case id, at, reason, actor
        case operationID = "operation_id"
        case urlID = "url_id"
        case fromOwner = "from_owner"
        case toOwner = "to_owner"
    }
}

/// A problem met during a crawl; the walk goes on past it.
package struct CrawlIssueRecord: Codable, FetchableRecord, PersistableRecord, Sendable, Hashable {
    package static let databaseTableName = "crawl_issues"

    package var id: Int64?
    package var crawlID: Int64
    package var filePath: String
    package var kind: String
    package var message: String

    enum CodingKeys: String, CodingKey {
        case id, kind, message
        case crawlID = "crawl_id"
        case filePath = "file_path"
    }
}
