import CutoverCore
import Foundation
import GRDB

/// Counts for one URL path (or one path on one day) from a stretch of access log.
package struct TrafficCounts: Sendable, Equatable {
    package var hits = 0
    package var bytes = 0
    package var firstSeen = Int.max
    package var lastSeen = Int.min
    package var status2xx = 0
    package var status3xx = 0
    package var status4xx = 0
    package var status5xx = 0
    package var statusOther = 0
    package var botHits = 0
    package var attributed = 0
    package var servedSwift = 0
    package var servedPHP = 0
    /// Of the requests by people (not bots): attributed by the log line, and served by Swift.
    package var humanAttributed = 0
    package var humanServedSwift = 0
    /// Of a path's requests on one day: those that named a query page, and those by people.
    package var pageHits = 0
    package var pageHumanHits = 0

    package init() {}

    package mutating func add(_ other: TrafficCounts) {
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
package struct TrafficBatch: Sendable {
    package struct DayKey: Hashable, Sendable {
        package var day: Int
        package var path: String
        package init(day: Int, path: String) {
            self.day = day
            self.path = path
        }
    }

    package struct QueryKey: Hashable, Sendable {
        package var path: String
        package var query: String
        package init(path: String, query: String) {
            self.path = path
            self.query = query
        }
    }

    package struct ValueKey: Hashable, Sendable {
        package var path: String
        package var key: String
        package var value: String
        package init(path: String, key: String, value: String) {
            self.path = path
            self.key = key
            self.value = value
        }
    }

    package var paths: [String: TrafficCounts] = [:]
    package var days: [DayKey: TrafficCounts] = [:]
    package var queries: [QueryKey: Int] = [:]
    package var values: [ValueKey: Int] = [:]
    /// Hits of values that cannot be stored (too long, control bytes), by path and key (value "").
    package var otherValues: [ValueKey: Int] = [:]
    /// Hits of query strings too long to store, by path (`traffic.other_query_hits`).
    package var otherQueryHits: [String: Int] = [:]
    /// Hits of keys that cannot be stored or lie past a request's key cap, by path (`traffic.other_key_hits`).
    package var otherKeyHits: [String: Int] = [:]
    /// Per path, UTC day and the side that served it (by the log line): statuses and durations.
    package var sides: [SideKey: SideTally] = [:]
    /// Requests per UTC day of pages of the site's page keys, by the page's URL
    /// (`/index.php?page=about`); stored for pages the inventory holds (`query_page_daily`).
    package var pageDays: [DayKey: TrafficCounts] = [:]
    /// Per minute and side, for the pages of running canaries only (`canary_samples`, #29).
    package var canarySamples: [CanaryKey: SideTally] = [:]

    package init() {}

    package var isEmpty: Bool { paths.isEmpty }
}

extension TrafficBatch {
    package struct CanaryKey: Hashable, Sendable {
        package var path: String
        /// Minutes since 1970 (UTC).
        package var minute: Int
        package var side: Owner

        package init(path: String, minute: Int, side: Owner) {
            self.path = path
            self.minute = minute
            self.side = side
        }
    }

    package struct SideKey: Hashable, Sendable {
        package var path: String
        package var day: Int
        package var side: Owner

        package init(path: String, day: Int, side: Owner) {
            self.path = path
            self.day = day
            self.side = side
        }
    }
}

/// One side's requests to a path on a day: status classes and the durations the lines carried.
package struct SideTally: Sendable, Equatable {
    package var hits = 0
    package var status2xx = 0
    package var status3xx = 0
    package var status4xx = 0
    package var status5xx = 0
    package var statusOther = 0
    package var latency = LatencyHistogram()

    package init() {}

    package mutating func count(status: Int, microseconds: Int?) {
        hits += 1
        switch status / 100 {
        case 2: status2xx += 1
        case 3: status3xx += 1
        case 4: status4xx += 1
        case 5: status5xx += 1
        default: statusOther += 1
        }
        if let microseconds { latency.record(microseconds) }
    }

    package mutating func add(_ other: SideTally) {
        hits += other.hits
        status2xx += other.status2xx
        status3xx += other.status3xx
        status4xx += other.status4xx
        status5xx += other.status5xx
        statusOther += other.statusOther
        latency.merge(other.latency)
    }
}

/// How far one log file has been read (the `log_files` table).
package struct LogFileState: Codable, Sendable, Equatable, FetchableRecord, MutablePersistableRecord {
    package static let databaseTableName = "log_files"

    package var id: Int64?
    package var siteID: SiteID
    package var path: String
    package var device: Int64
    package var inode: Int64
    package var size: Int64
    package var gzip: Bool
    package var fingerprint: String
    package var fingerprintLength: Int
    package var offset: Int64
    package var lines: Int
    package var badLines: Int
    package var skippedLines: Int
    package var format: String
    package var firstImportedAt: Date
    package var lastImportedAt: Date

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

    package init(
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

    package mutating func didInsert(_ inserted: InsertionSuccess) {
        id = inserted.rowID
    }
}

/// One row of the `traffic` table.
package struct TrafficRow: Sendable, Equatable {
    package var path: String
    package var counts: TrafficCounts
    package var otherQueryHits: Int
    package var otherKeyHits: Int
    /// When the row began counting, if the tail's day summaries counted the path before it
    /// earned its row (Unix seconds); nil when the row has every request of the path.
    package var exactSince: Int? = nil
    /// What the summaries had counted for it by then (an upper bound).
    package var estimatedBefore = 0
}
