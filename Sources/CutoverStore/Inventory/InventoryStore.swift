import CutoverCore
import Foundation
import GRDB

/// Counts that answer "how far along is the migration?". A page is counted once, by the
/// plan in force and what the last probe saw: `swift` only when Swift owns it by the plan (a
/// flip, or a retired `.php` file the fallback now serves) and a probe observed Swift answer it.
package struct InventorySummary: Sendable, Hashable, Codable {
    /// Pages PHP answers by the plan.
    package var php: Int
    /// Pages on Swift: Swift's by the plan, and the last probe observed Swift.
    package var swift: Int
    /// Pages Swift owns by the plan that no probe has observed on Swift yet (not exported,
    /// not installed, or not probed since).
    package var planned = 0
    package var `static`: Int
    /// Static files that disappeared from the docroot.
    package var gone: Int
    package var hidden: Int
    package var sensitive: Int
    /// PHP files that are includes, not pages (flag `include`); `php` leaves them out.
    package var includes: Int
    /// Other URLs of pages (`/about/index.php` of `/about/`, flag `alias`): `php` and `swift`
    /// count each page once.
    package var aliases = 0
    /// URLs without a file the fallback caught that were never pages (flag `neverAPage`: the
    /// logs never saw them answered 2xx or 3xx, or scanners' names like `/.env`).
    package var neverPages = 0

    package init(php: Int, swift: Int, static: Int, gone: Int, hidden: Int, sensitive: Int, includes: Int) {
        self.php = php
        self.swift = swift
        self.static = `static`
        self.gone = gone
        self.hidden = hidden
        self.sensitive = sensitive
        self.includes = includes
    }

    /// Every page, wherever it is: PHP, planned for Swift, on Swift.
    package var pages: Int { php + planned + swift }

    /// Share of pages on Swift (observed there), 0...100.
    package var percentOnSwift: Double {
        pages == 0 ? 0 : (Double(swift) * 100 / Double(pages))
    }

    /// Counts one group of URLs sharing these columns.
    mutating func add(count: Int, gone: Bool, owner: Owner, flags: URLFlags, planned: Owner?, observed: Owner?) {
        if gone {
            self.gone += count
            return
        }
        if flags.contains(.hidden) { hidden += count }
        if flags.contains(.sensitive) { sensitive += count }
        if owner == .static {
            self.static += count
        } else if owner == .php && flags.contains(.include) {
            includes += count
        } else if flags.contains(.alias) {
            aliases += count
        } else if flags.contains(.neverAPage) {
            neverPages += count
        } else {
            switch planned ?? owner {
            case .php: php += count
            case .swift where observed == .swift: swift += count
            case .swift: self.planned += count
            case .static: self.static += count
            }
        }
    }
}

/// Sort orders for URL lists.
package enum URLSort: String, Sendable, Hashable, CaseIterable, Codable {
    case path, owner, status, latency
    /// Requests in the imported access logs; URLs never requested come last in descending order.
    case hits
    case lastSeen
}

/// Filters for listing a site's URLs.
package struct URLQuery: Sendable, Hashable {
    package var owner: Owner?
    package var plannedOwner: Owner?
    package var observedOwner: Owner?
    /// Swift answers and the latest parity verdict is `same` (see `URLEntry.isReadyToFlip`).
    package var readyToFlip: Bool?
    /// Only URLs with this latest parity verdict; `.notCompared` is a URL no run compared.
    package var parity: PageParity?
    /// Only includes (true) or only pages and static files (false); see `URLFlags.include`.
    package var include: Bool?
    /// Only URLs requested at least this many times in the imported access logs.
    package var minHits: Int?
    /// Case-insensitive substring of the path or file path.
    package var search: String?
    package var sort: URLSort = .path
    package var descending = false
    /// Keyset pagination (path order only): URLs after this path (before it when descending).
    package var afterPath: String?
    package var pathPrefix: String?
    package var includeGone: Bool
    package var driftOnly: Bool
    package var limit: Int?
    package var offset: Int

    package init(
        owner: Owner? = nil,
        pathPrefix: String? = nil,
        includeGone: Bool = false,
        driftOnly: Bool = false,
        limit: Int? = nil,
        offset: Int = 0
    ) {
        self.driftOnly = driftOnly
        self.owner = owner
        self.pathPrefix = pathPrefix
        self.includeGone = includeGone
        self.limit = limit
        self.offset = offset
    }
}

extension InventoryStore {
    /// Counts by owner, read from the covering index `urls_site_counts` (group by the raw
    /// columns so SQLite walks the index in order).
    @available(*, noasync)
    package func summary(siteID: SiteID) throws -> InventorySummary {
        try writer.read { db in try InventoryStore.summary(db, siteID: siteID) }
    }

    static func summary(_ db: Database, siteID: SiteID) throws -> InventorySummary {
        var summary = InventorySummary(php: 0, swift: 0, static: 0, gone: 0, hidden: 0, sensitive: 0, includes: 0)
        let rows = try Row.fetchCursor(
            db,
            sql: """
                SELECT gone, owner, flags, planned_owner, observed_owner, COUNT(*) FROM urls WHERE site_id = ?
                GROUP BY gone, owner, flags, planned_owner, observed_owner
                """,
            arguments: [siteID]
        )
        while let row = try rows.next() {
            summary.add(
                count: row[5],
                gone: row[0],
                owner: row[1],
                flags: URLFlags(rawValue: row[2]),
                planned: row[3],
                observed: row[4]
            )
        }
        return summary
    }

    /// One page of URLs, through a cached statement (prepared once per query shape).
    @available(*, noasync)
    package func urls(siteID: SiteID, query: URLQuery = URLQuery()) throws -> [URLRecord] {
        let sql = URLQuerySQL(siteID: siteID, query: query)
        return try writer.read { db in
            let statement = try db.cachedStatement(sql: sql.page)
            return try URLRecord.fetchAll(statement, arguments: sql.arguments)
        }
    }

    /// One page of URLs as the API and `--json` show them, with their traffic.
    @available(*, noasync)
    package func views(siteID: SiteID, query: URLQuery = URLQuery()) throws -> [URLEntry] {
        let sql = URLQuerySQL(siteID: siteID, query: query)
        return try writer.read { db in
            let statement = try db.cachedStatement(sql: sql.page)
            let hits = URLRecord.columns.count
            return try Row.fetchAll(statement, arguments: sql.arguments).map { row in
                URLEntry(
                    try URLRecord(row: row),
                    hits: row[hits],
                    lastSeen: (row[hits + 1] as Int64?).map { Date(timeIntervalSince1970: Double($0)) }
                )
            }
        }
    }

    /// How many URLs match `query` (its limit, offset and cursor aside), read on GRDB's reader
    /// queues. At 1,000,000 URLs it reads for ~0.1 s: a long read, kept off the server's few
    /// blocking-pool threads that serve the pages (no p99 change measured at 1,000,000 URLs,
    /// where the cached total is recomputed every two seconds).
    package func count(siteID: SiteID, query: URLQuery) async throws -> Int {
        var unlimited = query
        unlimited.limit = nil
        unlimited.offset = 0
        unlimited.afterPath = nil
        let sql = URLQuerySQL(siteID: siteID, query: unlimited, ordered: false)
        return try await writer.read { db in try Int.fetchOne(db.cachedStatement(sql: sql.count), arguments: sql.arguments) ?? 0 }
    }

    @available(*, noasync)
    package func url(siteID: SiteID, id: Int64) throws -> URLRecord? {
        try writer.read { db in try Self.url(db, siteID: siteID, id: id) }
    }

    static func url(_ db: Database, siteID: SiteID, id: Int64) throws -> URLRecord? {
        try URLRecord.filter(URLRecord.Columns.siteID == siteID && Column("id") == id).fetchOne(db)
    }

    @available(*, noasync)
    package func url(siteID: SiteID, path: String) throws -> URLRecord? {
        try writer.read { db in
            try URLRecord.filter(URLRecord.Columns.siteID == siteID && URLRecord.Columns.path == path).fetchOne(db)
        }
    }

    @available(*, noasync)
    package func events(urlID: Int64) throws -> [OwnershipEventRecord] {
        try writer.read { db in try Self.ownershipEvents(db, urlID: urlID) }
    }

    static func ownershipEvents(_ db: Database, urlID: Int64) throws -> [OwnershipEventRecord] {
        try OwnershipEventRecord.fetchAll(
            db,
            sql: """
                SELECT e.id, e.url_id, e.from_owner, e.to_owner, e.at, e.actor, e.operation_id,
                       CASE WHEN o.id IS NULL THEN e.reason ELSE e.reason || ': ' || o.reason END AS reason
                FROM ownership_events e LEFT JOIN flip_operations o ON o.id = e.operation_id
                WHERE e.url_id = ? ORDER BY e.id
                """,
            arguments: [urlID]
        )
    }

}

/// The SQL of a URL query, with its arguments. Values are always bound, never spliced, and the
/// text depends only on which filters are set, so each connection prepares a shape once
/// (`cachedStatement`) however many pages are read. It reads `urls` alone: a URL's traffic is
/// on its row (`URLRecord.pageColumns`).
struct URLQuerySQL {
    /// " WHERE ...", then " ORDER BY ..." (when ordered) and " LIMIT ? OFFSET ?" (when ordered
    /// and limited).
    private var filter = ""
    private var order = ""
    private var limit = ""
    private(set) var arguments = StatementArguments()

    /// The page: `URLRecord.pageColumns` of the matching URLs.
    var page: String { select(URLRecord.pageColumns) }

    /// A page of other columns of `urls`. SQLite skips an OFFSET's rows before it reads their
    /// columns, so a deep page costs the index walk to it, not the skipped rows' columns.
    func select(_ columns: String) -> String { "SELECT \(columns) FROM urls" + filter + order + limit }

    /// How many URLs match (build with `ordered: false`).
    var count: String { "SELECT COUNT(*) FROM urls" + filter }

    init(siteID: SiteID, query: URLQuery, ordered: Bool = true) {
        var conditions = ["urls.site_id = ?"]
        var values: [(any DatabaseValueConvertible)?] = [siteID]
        func add(_ condition: String, _ bound: (any DatabaseValueConvertible)?...) {
            conditions.append(condition)
            values.append(contentsOf: bound)
        }
        if let owner = query.owner { add("urls.owner = ?", owner.rawValue) }
        if !query.includeGone { add("urls.gone = 0") }
        if query.driftOnly { add("urls.drift = 1") }
        if let planned = query.plannedOwner { add("COALESCE(urls.planned_owner, urls.owner) = ?", planned.rawValue) }
        if let observed = query.observedOwner { add("urls.observed_owner = ?", observed.rawValue) }
        // An include is never ready to flip: it is no page.
        if let ready = query.readyToFlip {
            add("(urls.ready_to_flip = 1 AND ifnull(urls.parity, '') = 'same' AND urls.flags & \(URLFlags.include.rawValue) = 0) = ?", ready)
        }
        if let parity = query.parity {
            if parity == .notCompared { add("urls.parity IS NULL") } else { add("urls.parity = ?", parity.rawValue) }
        }
        if let include = query.include { add("(urls.flags & \(URLFlags.include.rawValue) != 0) = ?", include) }
        // Every URL has at least 0 requests; "at least 1" reads the hits index (NULL is none).
        if let minHits = query.minHits, minHits > 0 { add("urls.hits >= ?", minHits) }
        if let search = query.search, !search.isEmpty {
            let pattern = "%" + String(InventoryRules.likePrefix(search).dropLast()) + "%"
            add("(urls.path LIKE ? ESCAPE '\\' OR urls.file_path LIKE ? ESCAPE '\\')", pattern, pattern)
        }
        if let prefix = query.pathPrefix, !prefix.isEmpty { add("urls.path LIKE ? ESCAPE '\\'", InventoryRules.likePrefix(prefix)) }
        if let after = query.afterPath, query.sort == .path { add(query.descending ? "urls.path < ?" : "urls.path > ?", after) }
        filter = " WHERE " + conditions.joined(separator: " AND ")
        if ordered {
            let column =
                switch query.sort {
                case .path: "urls.path"
                case .owner: "urls.owner"
                case .status: "urls.last_status"
                case .latency: "urls.last_latency_ms"
                case .hits: "urls.hits"
                case .lastSeen: "urls.last_seen"
                }
            let direction = query.descending ? " DESC" : " ASC"
            // Paths are unique per site: no tie-break, so SQLite walks the (site_id, path) index
            // instead of sorting every row. Other ties go by id in the same direction (descending
            // is ascending reversed), so hits and last_seen walk their (site_id, column) index
            // backwards or forwards, with the row id its last column.
            order = " ORDER BY " + column + direction + (query.sort == .path ? "" : ", urls.id" + direction)
            if let limit = query.limit {
                self.limit = " LIMIT ? OFFSET ?"
                values.append(limit)
                values.append(query.offset)
            }
        }
        arguments = StatementArguments(values)
    }
}

/// One URL with its probe history and ownership events, read as one snapshot.
package struct URLDetailRecords: Sendable {
    package var url: URLRecord
    package var probes: [ProbeResultRecord]
    package var events: [OwnershipEventRecord]
    /// Its requests in the imported access logs, and its query values (nil, [] without logs).
    package var traffic: TrafficRow?
    package var queryValues: [QueryValue]
    /// Its parity results, newest first, each with its run.
    package var parity: [ParityHistoryEntry] = []
    /// The steps and decisions of canaries it is in, newest first, each with the canary's name.
    package var canary: [(name: String, decision: CanaryDecision)] = []
}

extension InventoryStore {
    /// The URL's detail in one read transaction (a probe finishing meanwhile cannot show a URL
    /// state without its probe), or nil for an unknown id.
    package func detail(siteID: SiteID, id: Int64) async throws -> URLDetailRecords? {
        try await writer.read { db in
            guard let url = try Self.url(db, siteID: siteID, id: id) else { return nil }
            return URLDetailRecords(
                url: url,
                probes: try ProbeStore.probeHistory(db, urlID: url.id, limit: 50),
                events: try Self.ownershipEvents(db, urlID: url.id),
                traffic: try TrafficStore.traffic(db, siteID: siteID, path: url.path),
                queryValues: try TrafficStore.queryValues(db, siteID: siteID, path: url.path),
                parity: try ParityStore.history(db, urlID: url.id, limit: 20),
                canary: try PlanStore.canaryDecisions(db, urlID: url.id, limit: 50)
            )
        }
    }
}
