import CutoverCore
import Foundation
import GRDB

/// Counts for one URL path (or one path on one day) from a stretch of access log.
public struct TrafficCounts: Sendable, Equatable {
    public var hits = 0
    public var bytes = 0
    public var firstSeen = Int.max
    public var lastSeen = Int.min
    public var status2xx = 0
    public var status3xx = 0
    public var status4xx = 0
    public var status5xx = 0
    public var statusOther = 0
    public var botHits = 0
    public var attributed = 0
    public var servedSwift = 0
    public var servedPHP = 0
    /// Of the requests by people (not bots): attributed by the log line, and served by Swift.
    public var humanAttributed = 0
    public var humanServedSwift = 0
    /// Of a path's requests on one day: those that named a query page, and those by people.
    public var pageHits = 0
    public var pageHumanHits = 0

    public init() {}

    public mutating func add(_ other: TrafficCounts) {
        hits += other.hits
        bytes += other.bytes
        firstSeen = min(firstSeen, other.firstSeen)
        lastSeen = max(lastSeen, other.lastSeen)
        status2xx += other.status2xx
        status3xx += other.status3xx
        status4xx += other.status4xx
        status5xx += other.status5xx
        statusOther += other.statusOther
        botHits += other.botHits
        attributed += other.attributed
        servedSwift += other.servedSwift
        servedPHP += other.servedPHP
        humanAttributed += other.humanAttributed
        humanServedSwift += other.humanServedSwift
        pageHits += other.pageHits
        pageHumanHits += other.pageHumanHits
    }
}

/// What one stretch of one log file adds, ready to store in one transaction.
public struct TrafficBatch: Sendable {
    public struct DayKey: Hashable, Sendable {
        public var day: Int
        public var path: String
        public init(day: Int, path: String) {
            self.day = day
            self.path = path
        }
    }

    public struct QueryKey: Hashable, Sendable {
        public var path: String
        public var query: String
        public init(path: String, query: String) {
            self.path = path
            self.query = query
        }
    }

    public struct ValueKey: Hashable, Sendable {
        public var path: String
        public var key: String
        public var value: String
        public init(path: String, key: String, value: String) {
            self.path = path
            self.key = key
            self.value = value
        }
    }

    public var paths: [String: TrafficCounts] = [:]
    public var days: [DayKey: TrafficCounts] = [:]
    public var queries: [QueryKey: Int] = [:]
    public var values: [ValueKey: Int] = [:]
    /// Hits of values that cannot be stored (too long, control bytes), by path and key (value "").
    public var otherValues: [ValueKey: Int] = [:]
    /// Hits of query strings too long to store, by path (`traffic.other_query_hits`).
    public var otherQueryHits: [String: Int] = [:]
    /// Hits of keys that cannot be stored or lie past a request's key cap, by path (`traffic.other_key_hits`).
    public var otherKeyHits: [String: Int] = [:]
    /// Requests per UTC day of pages of the site's page keys, by the page's URL
    /// (`/index.php?page=about`); stored for pages the inventory holds (`query_page_daily`).
    public var pageDays: [DayKey: TrafficCounts] = [:]

    public init() {}

    public var isEmpty: Bool { paths.isEmpty }
}

/// How far one log file has been read (the `log_files` table).
public struct LogFileState: Codable, Sendable, Equatable, FetchableRecord, MutablePersistableRecord {
    public static let databaseTableName = "log_files"

    public var id: Int64?
    public var siteID: SiteID
    public var path: String
    public var device: Int64
    public var inode: Int64
    public var size: Int64
    public var gzip: Bool
    public var fingerprint: String
    public var fingerprintLength: Int
    public var offset: Int64
    public var lines: Int
    public var badLines: Int
    public var skippedLines: Int
    public var format: String
    public var firstImportedAt: Date
    public var lastImportedAt: Date

    enum CodingKeys: String, CodingKey {
        case id
        case siteID = "site_id"
        case path, device, inode, size, gzip, fingerprint
        case fingerprintLength = "fingerprint_length"
        case offset, lines
        case badLines = "bad_lines"
        case skippedLines = "skipped_lines"
        case format
        case firstImportedAt = "first_imported_at"
        case lastImportedAt = "last_imported_at"
    }

    public init(
        siteID: SiteID,
        path: String,
        device: Int64,
        inode: Int64,
        size: Int64,
        gzip: Bool,
        fingerprint: String,
        fingerprintLength: Int,
        format: String,
        now: Date
    ) {
        self.siteID = siteID
        self.path = path
        self.device = device
        self.inode = inode
        self.size = size
        self.gzip = gzip
        self.fingerprint = fingerprint
        self.fingerprintLength = fingerprintLength
        offset = 0
        lines = 0
        badLines = 0
        skippedLines = 0
        self.format = format
        firstImportedAt = now
        lastImportedAt = now
    }

    public mutating func didInsert(_ inserted: InsertionSuccess) {
        id = inserted.rowID
    }
}

/// One row of the `traffic` table.
public struct TrafficRow: Sendable, Equatable {
    public var path: String
    public var counts: TrafficCounts
    public var otherQueryHits: Int
    public var otherKeyHits: Int
}
