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

extension TrafficStore {
    /// Most normalised query strings kept per path, and values kept per query key.
    public static let queriesPerPath = 50
    public static let valuesPerKey = 200
    /// Most query keys kept per path (the rest: `traffic.other_key_hits`).
    public static let keysPerPath = 50

    /// Stores a stretch of log and how far the file has been read, in one transaction: a crash
    /// between two stretches loses nothing and counts nothing twice.
    ///
    /// A compare-and-set on the stored offset, in the same transaction as the counts, makes two
    /// importers of one file (two cron runs, the CLI beside `serve`'s logs job) count each line
    /// once: `storedOffset` is the offset this importer last read from the row (nil for a file
    /// not yet remembered); if the row moved meanwhile, nothing is stored and
    /// `StoreError.concurrentLogImport` says so.
    ///
    /// `addingRequestedURLs` (the import's last stretch) adds the requested URLs in the same
    /// transaction: a kill between the counts and the URLs cannot leave URLs that no later
    /// import adds ("nothing new"). Returns the new state and how many URLs were added.
    @available(*, noasync)
    @discardableResult
    public func recordStretch(
        _ state: LogFileState,
        batch: TrafficBatch,
        storedOffset: Int64?,
        addingRequestedURLs: Bool = false
    ) throws -> (state: LogFileState, urlsAdded: Int) {
        try writer.write { db in
            var state = state
            if let id = state.id {
                let current = try Int64.fetchOne(db, sql: "SELECT offset FROM log_files WHERE id = ?", arguments: [id])
                guard current == storedOffset else { throw StoreError.concurrentLogImport(state.path) }
            } else {
                let taken = try Bool.fetchOne(
                    db,
                    sql: "SELECT 1 FROM log_files WHERE site_id = ? AND fingerprint = ? AND fingerprint_length = ?",
                    arguments: [state.siteID, state.fingerprint, state.fingerprintLength]
                )
                guard taken == nil else { throw StoreError.concurrentLogImport(state.path) }
            }
            state.lastImportedAt = clock.now()
            try state.save(db)
            try Self.add(batch, siteID: state.siteID, db: db)
            return (state, addingRequestedURLs ? try Self.addRequestedURLs(db, siteID: state.siteID) : 0)
        }
    }

    /// Forgets how far a log file was read, so the next import reads it from the start: only
    /// when its stored stretches counted nothing (every line bad or skipped, as a wrong format or
    /// host left it before imports refused such stretches); otherwise reading it again would
    /// count its lines twice. Returns the forgotten rows.
    @available(*, noasync)
    @discardableResult
    public func resetLogFile(siteID: SiteID, path: String) throws -> [LogFileState] {
        try writer.write { db in
            let rows = try LogFileState.filter(Column("site_id") == siteID && Column("path") == path).fetchAll(db)
            guard !rows.isEmpty else { throw StoreError.unknownLogFile(path) }
            for row in rows where row.lines - row.badLines - row.skippedLines > 0 {
                throw StoreError.logFileCounted(path, row.lines - row.badLines - row.skippedLines)
            }
            for row in rows { _ = try row.delete(db) }
            return rows
        }
    }

    /// Most requested URLs without a file added to the inventory per import.
    public static let requestedURLsPerImport = 10_000

    /// Adds requested URLs that have no row yet to the inventory, owned by the fallback (Swift; on
    /// a front-controller site, PHP: they are its routes)
    /// and flagged `log`, most requested first; returns how many. Left out: URLs that only ever
    /// got 4xx (noise), a folder's URL without its slash when the folder is known (Apache
    /// redirects it), `script.php/more` (PHP answers it with PATH_INFO), and paths with control
    /// characters (`%0A`, `%00`: the export refuses them in a config file, and no page has them).
    @available(*, noasync)
    @discardableResult
    public func addRequestedURLs(siteID: SiteID) throws -> Int {
        try writer.write { db in try Self.addRequestedURLs(db, siteID: siteID) }
    }

    static func addRequestedURLs(_ db: Database, siteID: SiteID) throws -> Int {
        do {
            // The fallback's (Swift) or, on a front-controller site, the front controller's (PHP).
            let owner = try InventoryRules.missingOwner(db, siteID: siteID)
            try db.execute(
                sql: """
                    INSERT INTO urls (site_id, path, owner, flags)
                    SELECT t.site_id, t.path, ?, ? | cutover_name_flags(t.path) FROM traffic t
                    WHERE t.site_id = ? AND t.status_4xx < t.hits AND instr(t.path, '.php/') = 0
                      AND t.path NOT GLOB '*%[01][0-9A-F]*' AND instr(t.path, '%7F') = 0
                      AND NOT EXISTS (SELECT 1 FROM urls u WHERE u.site_id = t.site_id AND u.path = t.path)
                      AND NOT EXISTS (SELECT 1 FROM urls u WHERE u.site_id = t.site_id AND u.path = t.path || '/')
                      AND NOT \(InventoryRules.underAlias("t"))
                    ORDER BY t.hits DESC, t.path LIMIT ?
                    """,
                arguments: [owner, URLFlags.fromLog.rawValue, siteID, Self.requestedURLsPerImport]
            )
            let added = db.changesCount + (try InventoryRules.syncQueryPages(db, siteID: siteID))
            try InventoryRules.applyRoutePrefixes(db, siteID: siteID)
            try InventoryRules.markNeverPages(db, siteID: siteID)
            // A file someone requested is a page after all; the traffic decides with the probes.
            try InventoryRules.markIncludes(db, siteID: siteID)
            return added
        }
    }

    /// Stores counts that belong to no remembered file (standard input).
    @available(*, noasync)
    public func record(_ batch: TrafficBatch, siteID: SiteID) throws {
        try writer.write { db in try Self.add(batch, siteID: siteID, db: db) }
    }

    static func add(_ batch: TrafficBatch, siteID: SiteID, db: Database) throws {
        guard !batch.isEmpty else { return }
        var paths = try BoundStatement(
            db,
            sql: """
                INSERT INTO traffic (site_id, path, hits, bytes, first_seen, last_seen, status_2xx, status_3xx, status_4xx, status_5xx,
                  status_other, bot_hits, attributed, served_swift, served_php)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (site_id, path) DO UPDATE SET
                  hits = hits + excluded.hits, bytes = bytes + excluded.bytes,
                  first_seen = min(first_seen, excluded.first_seen), last_seen = max(last_seen, excluded.last_seen),
                  status_2xx = status_2xx + excluded.status_2xx, status_3xx = status_3xx + excluded.status_3xx,
                  status_4xx = status_4xx + excluded.status_4xx, status_5xx = status_5xx + excluded.status_5xx,
                  status_other = status_other + excluded.status_other, bot_hits = bot_hits + excluded.bot_hits,
                  attributed = attributed + excluded.attributed, served_swift = served_swift + excluded.served_swift,
                  served_php = served_php + excluded.served_php
                """
        )
        for (path, counts) in batch.paths {
            paths.bind(siteID)
            paths.bind(path)
            for value in [
                counts.hits, counts.bytes, counts.firstSeen, counts.lastSeen, counts.status2xx, counts.status3xx, counts.status4xx,
                counts.status5xx, counts.statusOther, counts.botHits, counts.attributed, counts.servedSwift, counts.servedPHP,
            ] {
                paths.bind(value)
            }
            try paths.run()
        }
        var days = try BoundStatement(
            db,
            sql: """
                INSERT INTO traffic_daily (site_id, day, path, hits, human_hits, attributed, served_swift, served_php,
                  human_attributed, human_served_swift, page_hits, page_human_hits)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (site_id, day, path) DO UPDATE SET
                  hits = hits + excluded.hits, human_hits = human_hits + excluded.human_hits,
                  page_hits = page_hits + excluded.page_hits, page_human_hits = page_human_hits + excluded.page_human_hits,
                  attributed = attributed + excluded.attributed, served_swift = served_swift + excluded.served_swift,
                  served_php = served_php + excluded.served_php, human_attributed = human_attributed + excluded.human_attributed,
                  human_served_swift = human_served_swift + excluded.human_served_swift
                """
        )
        for (key, counts) in batch.days {
            days.bind(siteID)
            days.bind(key.day)
            days.bind(key.path)
            for value in [
                counts.hits, counts.hits - counts.botHits, counts.attributed, counts.servedSwift, counts.servedPHP, counts.humanAttributed,
                counts.humanServedSwift, counts.pageHits, counts.pageHumanHits,
            ] {
                days.bind(value)
            }
            try days.run()
        }
        var queries = try BoundStatement(
            db,
            sql: """
                INSERT INTO traffic_queries (site_id, path, query, hits) VALUES (?, ?, ?, ?)
                ON CONFLICT (site_id, path, query) DO UPDATE SET hits = hits + excluded.hits
                """
        )
        for (key, hits) in batch.queries {
            queries.bind(siteID)
            queries.bind(key.path)
            queries.bind(key.query)
            queries.bind(hits)
            try queries.run()
        }
        var values = try BoundStatement(
            db,
            sql: """
                INSERT INTO traffic_query_values (site_id, path, key, is_other, value, hits) VALUES (?, ?, ?, 0, ?, ?)
                ON CONFLICT (site_id, path, key, is_other, value) DO UPDATE SET hits = hits + excluded.hits
                """
        )
        for (key, hits) in batch.values {
            values.bind(siteID)
            values.bind(key.path)
            values.bind(key.key)
            values.bind(key.value)
            values.bind(hits)
            try values.run()
        }
        var otherValues = try BoundStatement(
            db,
            sql: """
                INSERT INTO traffic_query_values (site_id, path, key, is_other, value, hits) VALUES (?, ?, ?, 1, '', ?)
                ON CONFLICT (site_id, path, key, is_other, value) DO UPDATE SET hits = hits + excluded.hits
                """
        )
        for (key, hits) in batch.otherValues {
            otherValues.bind(siteID)
            otherValues.bind(key.path)
            otherValues.bind(key.key)
            otherValues.bind(hits)
            try otherValues.run()
        }
        for (path, hits) in batch.otherQueryHits {
            try db.execute(
                sql: "UPDATE traffic SET other_query_hits = other_query_hits + ? WHERE site_id = ? AND path = ?",
                arguments: [hits, siteID, path]
            )
        }
        for (path, hits) in batch.otherKeyHits {
            try db.execute(
                sql: "UPDATE traffic SET other_key_hits = other_key_hits + ? WHERE site_id = ? AND path = ?",
                arguments: [hits, siteID, path]
            )
        }
        try capQueries(siteID: siteID, paths: Set(batch.queries.keys.map(\.path)), db: db)
        let valuePaths = Set(batch.values.keys.map(\.path)).union(batch.otherValues.keys.map(\.path))
        try capKeys(siteID: siteID, paths: valuePaths, db: db)
        try capValues(siteID: siteID, paths: valuePaths, db: db)
        try addPageDays(batch.pageDays, siteID: siteID, db: db)
    }

    /// Stores the days of query pages the inventory holds, after adding the pages these values
    /// made (`syncQueryPages`): a value outside the kept top ones leaves no row.
    private static func addPageDays(_ pageDays: [TrafficBatch.DayKey: TrafficCounts], siteID: SiteID, db: Database) throws {
        guard !pageDays.isEmpty else { return }
        try InventoryRules.syncQueryPages(db, siteID: siteID)
        var insert = try BoundStatement(
            db,
            sql: """
                INSERT INTO query_page_daily (site_id, path, day, hits, human_hits)
                SELECT ?1, ?2, ?3, ?4, ?5 WHERE EXISTS (SELECT 1 FROM urls WHERE site_id = ?1 AND path = ?2 AND flags & \(URLFlags.queryPage.rawValue) != 0)
                ON CONFLICT (site_id, path, day) DO UPDATE SET hits = hits + excluded.hits, human_hits = human_hits + excluded.human_hits
                """
        )
        for (key, counts) in pageDays {
            insert.bind(siteID)
            insert.bind(key.path)
            insert.bind(key.day)
            insert.bind(counts.hits)
            insert.bind(counts.hits - counts.botHits)
            try insert.run()
        }
    }

    /// Keeps the `keysPerPath` most requested query keys of each touched path (ties: the
    /// smaller key); the others' rows go and their hits are summed into `traffic.other_key_hits`.
    /// Anonymous requests choose the keys, so without this one path could hold millions.
    private static func capKeys(siteID: SiteID, paths: Set<String>, db: Database) throws {
        try cap(.init(table: "traffic_query_values", item: "key", others: "other_key_hits", limit: keysPerPath), siteID: siteID, paths: paths, db: db)
    }

    /// Keeps the top `queriesPerPath` query strings of each touched path; the rest are summed
    /// into `traffic.other_query_hits`. Ties keep the smaller string, so the cut is stable.
    private static func capQueries(siteID: SiteID, paths: Set<String>, db: Database) throws {
        try cap(
            .init(table: "traffic_queries", item: "query", others: "other_query_hits", limit: queriesPerPath),
            siteID: siteID,
            paths: paths,
            db: db
        )
    }

    /// One per-path collection and its cap: `item` names the rows kept (a key has several rows,
    /// one per value, so items are ranked by their summed hits).
    private struct Cap {
        var table: String
        var item: String
        var others: String
        var limit: Int
    }

    /// Keeps the `limit` most requested items of each touched path; the others' rows go and their
    /// hits are added to `traffic.<others>`. Table and column names are constants of this file.
    private static func cap(_ cap: Cap, siteID: SiteID, paths: Set<String>, db: Database) throws {
        for path in paths {
            let count =
                try Int.fetchOne(
                    db,
                    sql: "SELECT count(DISTINCT \(cap.item)) FROM \(cap.table) WHERE site_id = ? AND path = ?",
                    arguments: [siteID, path]
                ) ?? 0
            guard count > cap.limit else { continue }
            let cut = """
                SELECT \(cap.item) FROM \(cap.table) WHERE site_id = ?1 AND path = ?2
                GROUP BY \(cap.item) ORDER BY sum(hits) DESC, \(cap.item) LIMIT -1 OFFSET ?3
                """
            try db.execute(
                sql: """
                    UPDATE traffic SET \(cap.others) = \(cap.others)
                      + (SELECT coalesce(sum(hits), 0) FROM \(cap.table) WHERE site_id = ?1 AND path = ?2 AND \(cap.item) IN (\(cut)))
                    WHERE site_id = ?1 AND path = ?2
                    """,
                arguments: [siteID, path, cap.limit]
            )
            try db.execute(
                sql: "DELETE FROM \(cap.table) WHERE site_id = ?1 AND path = ?2 AND \(cap.item) IN (\(cut))",
                arguments: [siteID, path, cap.limit]
            )
        }
    }

    /// Keeps the top `valuesPerKey` values of each key of each touched path; the rest are summed
    /// into the key's `is_other` row.
    private static func capValues(siteID: SiteID, paths: Set<String>, db: Database) throws {
        for path in paths {
            let crowded = try String.fetchAll(
                db,
                sql: """
                    SELECT key FROM traffic_query_values WHERE site_id = ? AND path = ? AND is_other = 0
                    GROUP BY key HAVING count(*) > ?
                    """,
                arguments: [siteID, path, valuesPerKey]
            )
            for key in crowded {
                let cut = """
                    SELECT value FROM traffic_query_values WHERE site_id = ?1 AND path = ?2 AND key = ?3 AND is_other = 0
                    ORDER BY hits DESC, value LIMIT -1 OFFSET ?4
                    """
                try db.execute(
                    sql: """
                        INSERT INTO traffic_query_values (site_id, path, key, is_other, value, hits)
                        SELECT ?1, ?2, ?3, 1, '', coalesce(sum(hits), 0) FROM traffic_query_values
                          WHERE site_id = ?1 AND path = ?2 AND key = ?3 AND is_other = 0 AND value IN (\(cut))
                        ON CONFLICT (site_id, path, key, is_other, value) DO UPDATE SET hits = hits + excluded.hits
                        """,
                    arguments: [siteID, path, key, valuesPerKey]
                )
                try db.execute(
                    sql: "DELETE FROM traffic_query_values WHERE site_id = ?1 AND path = ?2 AND key = ?3 AND is_other = 0 AND value IN (\(cut))",
                    arguments: [siteID, path, key, valuesPerKey]
                )
            }
        }
    }

    /// How the traffic table can be ordered.
    public enum TrafficOrder: String, Sendable, CaseIterable {
        case hits, humanHits, lastSeen, path

        var sql: String {
            switch self {
            case .hits: "hits DESC, path"
            case .humanHits: "hits - bot_hits DESC, path"
            case .lastSeen: "last_seen DESC, path"
            case .path: "path"
            }
        }
    }

    /// One page of a site's traffic table and how many rows match, in one read transaction.
    /// `prefix` keeps paths that start with it.
    public func page(
        siteID: SiteID,
        order: TrafficOrder,
        prefix: String?,
        limit: Int,
        offset: Int
    ) async throws -> (rows: [TrafficRow], total: Int) {
        try await writer.read { db in
            var filter = "site_id = ?"
            var arguments: StatementArguments = [siteID]
            if let prefix, !prefix.isEmpty {
                // substr() instead of LIKE: no wildcard in a path can widen the match.
                filter += " AND substr(path, 1, ?) = ?"
                _ = arguments.append(contentsOf: [prefix.utf8.count, prefix])
            }
            let total = try Int.fetchOne(db, sql: "SELECT count(*) FROM traffic WHERE \(filter)", arguments: arguments) ?? 0
            let rows = try Row.fetchAll(
                db,
                sql: "SELECT * FROM traffic WHERE \(filter) ORDER BY \(order.sql) LIMIT ? OFFSET ?",
                arguments: arguments + [limit, offset]
            ).map(Self.trafficRow)
            return (rows, total)
        }
    }

    /// Requests per UTC day over the last `days` days (today included, by the store's clock),
    /// oldest first; days without traffic are left out.
    public func byDay(siteID: SiteID, days: Int) async throws -> [TrafficDayView] {
        let today = Int(clock.now().timeIntervalSince1970.rounded(.down)) / 86_400
        return try await writer.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT day, sum(hits) AS hits, sum(human_hits) AS human_hits, sum(attributed) AS attributed,
                      sum(served_swift) AS served_swift, sum(served_php) AS served_php
                    FROM traffic_daily WHERE site_id = ? AND day > ? GROUP BY day ORDER BY day
                    """,
                arguments: [siteID, today - days]
            ).map { row in
                TrafficDayView(
                    day: row["day"],
                    hits: row["hits"],
                    humanHits: row["human_hits"],
                    attributed: row["attributed"],
                    servedSwift: row["served_swift"],
                    servedPHP: row["served_php"]
                )
            }
        }
    }

    /// The stored state of each log file of the site (synchronous: the importer reads it on its
    /// blocking thread; the server reads it through `blockingRead`).
    @available(*, noasync)
    public func logFiles(siteID: SiteID) throws -> [LogFileState] {
        try writer.read { db in
            try LogFileState.filter(Column("site_id") == siteID).order(Column("id")).fetchAll(db)
        }
    }

    /// The most requested paths of a site.
    @available(*, noasync)
    public func top(siteID: SiteID, limit: Int) throws -> [TrafficRow] {
        try writer.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT * FROM traffic WHERE site_id = ? ORDER BY hits DESC, path LIMIT ?
                    """,
                arguments: [siteID, limit]
            ).map(Self.trafficRow)
        }
    }

    @available(*, noasync)
    public func row(siteID: SiteID, path: String) throws -> TrafficRow? {
        try writer.read { db in try Self.traffic(db, siteID: siteID, path: path) }
    }

    static func traffic(_ db: Database, siteID: SiteID, path: String) throws -> TrafficRow? {
        try Row.fetchOne(db, sql: "SELECT * FROM traffic WHERE site_id = ? AND path = ?", arguments: [siteID, path]).map(Self.trafficRow)
    }

    /// Query keys of a path with their most requested values (at most `valuesPerKey` each, and
    /// the key's "other values" row), by key. Bounded: keys per path are capped at `keysPerPath`.
    @available(*, noasync)
    public func queryValues(siteID: SiteID, path: String, valuesPerKey: Int = TrafficStore.valuesPerKey) throws -> [QueryValue] {
        try writer.read { db in try Self.queryValues(db, siteID: siteID, path: path, valuesPerKey: valuesPerKey) }
    }

    /// What a URL's detail shows of each key: its 20 most requested values.
    public static let valuesShownPerKey = 20

    static func queryValues(_ db: Database, siteID: SiteID, path: String, valuesPerKey: Int = valuesShownPerKey) throws -> [QueryValue] {
        try Row.fetchAll(
            db,
            sql: """
                SELECT key, is_other, value, hits FROM (
                  SELECT key, is_other, value, hits, row_number() OVER (PARTITION BY key, is_other ORDER BY hits DESC, value) AS rank
                  FROM traffic_query_values WHERE site_id = ? AND path = ?
                ) WHERE rank <= ?
                ORDER BY key, is_other, hits DESC, value LIMIT ?
                """,
            arguments: [siteID, path, valuesPerKey, keysPerPath * (valuesPerKey + 1)]
        ).map { row in QueryValue(key: row["key"], value: (row["is_other"] as Bool) ? nil : row["value"], hits: row["hits"]) }
    }

    @available(*, noasync)
    public func queries(siteID: SiteID, path: String) throws -> [(query: String, hits: Int)] {
        try writer.read { db in
            try Row.fetchAll(
                db,
                sql: "SELECT query, hits FROM traffic_queries WHERE site_id = ? AND path = ? ORDER BY hits DESC, query LIMIT ?",
                arguments: [siteID, path, Self.queriesPerPath]
            ).map { ($0["query"], $0["hits"]) }
        }
    }

    static func trafficRow(_ row: Row) -> TrafficRow {
        var counts = TrafficCounts()
        counts.hits = row["hits"]
        counts.bytes = row["bytes"]
        counts.firstSeen = row["first_seen"]
        counts.lastSeen = row["last_seen"]
        counts.status2xx = row["status_2xx"]
        counts.status3xx = row["status_3xx"]
        counts.status4xx = row["status_4xx"]
        counts.status5xx = row["status_5xx"]
        counts.statusOther = row["status_other"]
        counts.botHits = row["bot_hits"]
        counts.attributed = row["attributed"]
        counts.servedSwift = row["served_swift"]
        counts.servedPHP = row["served_php"]
        return TrafficRow(path: row["path"], counts: counts, otherQueryHits: row["other_query_hits"], otherKeyHits: row["other_key_hits"])
    }
}

extension TrafficStore {
    /// The traffic figures of a site in one read transaction: Swift's share of page requests over
    /// 7 and 30 days, what to port next, orphans, includes and noise.
    public func summary(siteID: SiteID, orphanDays: Int = TrafficSummary.defaultOrphanDays, listLimit: Int = 20) async throws -> TrafficSummary {
        let today = Int(clock.now().timeIntervalSince1970.rounded(.down)) / 86_400
        return try await writer.read { db in try Self.trafficSummary(db, siteID: siteID, today: today, orphanDays: orphanDays, listLimit: listLimit) }
    }

    static func trafficSummary(_ db: Database, siteID: SiteID, today: Int, orphanDays: Int, listLimit: Int) throws -> TrafficSummary {
        var summary = TrafficSummary(orphanDays: orphanDays)
        let range = try Row.fetchOne(db, sql: "SELECT min(day) AS first, max(day) AS last FROM traffic_daily WHERE site_id = ?", arguments: [siteID])
        summary.logsFrom = (range?["first"] as Int?).map(CivilDate.text)
        summary.logsTo = (range?["last"] as Int?).map(CivilDate.text)
        summary.last7 = try share(db, siteID: siteID, since: today - 7, days: 7)
        summary.last30 = try share(db, siteID: siteID, since: today - 30, days: 30)
        // Pages by their own requests: a query page's (`/index.php?page=about`) are its own rows,
        // not its script's.
        let portable = """
            u.site_id = ?2 AND u.owner = 'php' AND u.gone = 0 AND coalesce(u.planned_owner, 'php') = 'php'
            AND coalesce(u.last_status, 200) < 400
            """
        summary.portNext = try Row.fetchAll(
            db,
            sql: """
                SELECT u.path AS path, sum(d.hits - d.page_hits) AS hits, sum(d.human_hits - d.page_human_hits) AS human FROM urls u
                JOIN traffic_daily d ON d.site_id = u.site_id AND d.path = u.path AND d.day > ?1
                WHERE \(portable) GROUP BY u.path HAVING human > 0
                UNION ALL
                SELECT u.path AS path, sum(d.hits) AS hits, sum(d.human_hits) AS human FROM urls u
                JOIN query_page_daily d ON d.site_id = u.site_id AND d.path = u.path AND d.day > ?1
                WHERE \(portable) AND u.flags & \(URLFlags.queryPage.rawValue) != 0 GROUP BY u.path HAVING human > 0
                ORDER BY human DESC, hits DESC, path LIMIT ?3
                """,
            arguments: [today - 30, siteID, listLimit]
        ).map { RankedPage(path: $0["path"], hits: $0["hits"], humanHits: $0["human"]) }
        // A query page requested before its days were kept (query_page_hits only) is no orphan.
        let orphanFilter = """
            FROM urls u WHERE u.site_id = ?1 AND u.owner = 'php' AND u.gone = 0 AND u.flags & \(URLFlags.include.rawValue) = 0
            AND coalesce(u.last_status, 0) < 400
            AND NOT EXISTS (SELECT 1 FROM traffic_daily d WHERE d.site_id = u.site_id AND d.path = u.path AND d.day > ?2 AND d.human_hits > 0)
            AND NOT EXISTS (SELECT 1 FROM query_page_daily q WHERE q.site_id = u.site_id AND q.path = u.path AND q.day > ?2 AND q.human_hits > 0)
            AND NOT (u.flags & \(URLFlags.queryPage.rawValue) != 0 AND coalesce(u.hits, 0) > 0
              AND NOT EXISTS (SELECT 1 FROM query_page_daily q WHERE q.site_id = u.site_id AND q.path = u.path))
            """
        summary.orphanCount = try Int.fetchOne(db, sql: "SELECT count(*) \(orphanFilter)", arguments: [siteID, today - orphanDays]) ?? 0
        summary.orphans = try String.fetchAll(
            db,
            sql: "SELECT u.path \(orphanFilter) ORDER BY u.path LIMIT ?3",
            arguments: [siteID, today - orphanDays, listLimit]
        )
        let includeFilter = "FROM urls WHERE site_id = ? AND owner = 'php' AND gone = 0 AND flags & \(URLFlags.include.rawValue) != 0"
        summary.includeCount = try Int.fetchOne(db, sql: "SELECT count(*) \(includeFilter)", arguments: [siteID]) ?? 0
        summary.includes = try String.fetchAll(db, sql: "SELECT path \(includeFilter) ORDER BY path LIMIT ?", arguments: [siteID, listLimit])
        let noiseFilter = """
            FROM traffic t WHERE t.site_id = ? AND t.status_4xx = t.hits
            AND NOT EXISTS (SELECT 1 FROM urls u WHERE u.site_id = t.site_id AND u.path = t.path AND u.gone = 0)
            """
        if let row = try Row.fetchOne(db, sql: "SELECT count(*) AS paths, coalesce(sum(t.hits), 0) AS hits \(noiseFilter)", arguments: [siteID]) {
            summary.noiseCount = row["paths"]
            summary.noiseHits = row["hits"]
        }
        summary.noise = try Row.fetchAll(
            db,
            sql: "SELECT t.path, t.hits, t.hits - t.bot_hits AS human \(noiseFilter) ORDER BY t.hits DESC, t.path LIMIT ?",
            arguments: [siteID, listLimit]
        ).map { RankedPage(path: $0["path"], hits: $0["hits"], humanHits: $0["human"]) }
        summary.pageKeySuggestions = try InventoryStore.pageKeySuggestions(db, siteID: siteID, limit: 5)
        return summary
    }

    /// The URL's latest probe found an error (403, 404, 5xx) or an empty 2xx body: a file that
    /// only defines code (a class, a library) or that its app refuses to run directly.
    static let answersLikeAnInclude = """
        (coalesce(u.last_status, 0) >= 400 OR EXISTS (SELECT 1 FROM probe_results pr WHERE pr.url_id = u.id AND pr.run_id = u.last_probe_run
          AND pr.status BETWEEN 200 AND 299 AND pr.content_length = 0))
        """

    /// A PHP file that answers like an include, or that other PHP files include, and that no
    /// person has requested.
    static let isInclude = """
        (u.owner = 'php' AND u.gone = 0 AND u.file_path IS NOT NULL AND u.flags & \(URLFlags.queryPage.rawValue) = 0
          AND (u.flags & \(URLFlags.includedBySource.rawValue) != 0 OR \(answersLikeAnInclude))
          AND NOT EXISTS (SELECT 1 FROM traffic t WHERE t.site_id = u.site_id AND t.path = u.path AND t.hits > t.bot_hits))
        """

    /// Swift's share of page requests on days after `since`. Each path's hits are attributed
    /// by the log where its lines said who answered, else by the URL's latest probe, else by
    /// the inventory (a requested URL without a file is the fallback's: Swift).
    static func share(_ db: Database, siteID: SiteID, since: Int, days: Int) throws -> TrafficShare {
        var share = TrafficShare(days: days)
        let rows = try Row.fetchAll(
            db,
            sql: """
                SELECT sum(d.hits) AS hits, sum(d.attributed) AS attributed, sum(d.served_swift) AS swift,
                  sum(d.human_hits) AS human, sum(d.human_attributed) AS human_attributed, sum(d.human_served_swift) AS human_swift,
                  u.owner AS owner, u.observed_owner AS observed, t.hits AS total, t.status_4xx AS total4xx
                FROM traffic_daily d
                JOIN traffic t ON t.site_id = d.site_id AND t.path = d.path
                LEFT JOIN urls u ON u.site_id = d.site_id AND u.path = d.path AND u.gone = 0
                WHERE d.site_id = ? AND d.day > ?
                GROUP BY d.path
                """,
            arguments: [siteID, since]
        )
        for row in rows {
            let owner: String? = row["owner"]
            if owner == Owner.static.rawValue { continue }
            if owner == nil, (row["total4xx"] as Int) == (row["total"] as Int) { continue }
            let hits: Int = row["hits"]
            let attributed: Int = row["attributed"]
            share.pageHits += hits
            share.swiftHits += row["swift"] as Int
            share.byLog += attributed
            let human: Int = row["human"]
            share.humanPageHits += human
            share.humanSwiftHits += row["human_swift"] as Int
            let observed: String? = row["observed"]
            let restOnSwift = (observed ?? owner ?? Owner.swift.rawValue) == Owner.swift.rawValue
            if restOnSwift { share.humanSwiftHits += human - (row["human_attributed"] as Int) }
            let rest = hits - attributed
            guard rest > 0 else { continue }
            if observed != nil { share.byProbe += rest } else { share.byPlan += rest }
            if restOnSwift { share.swiftHits += rest }
        }
        share.percentOnSwift = share.pageHits > 0 ? Double(share.swiftHits) * 100 / Double(share.pageHits) : nil
        share.humanPercentOnSwift = share.humanPageHits > 0 ? Double(share.humanSwiftHits) * 100 / Double(share.humanPageHits) : nil
        return share
    }
}
