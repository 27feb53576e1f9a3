import CutoverCore
import Foundation
import GRDB
import GRDBSQLite

#if canImport(Glibc)
import Glibc
#endif

/// A problem found while walking, before it is stored.
package struct CrawlIssue: Sendable, Hashable, Codable {
    package var filePath: String
    package var kind: String
    package var message: String

    package init(filePath: String, kind: String, message: String) {
        self.filePath = filePath
        self.kind = kind
        self.message = message
    }
}

extension CrawlStore {
    /// Records a crawl as running. Crawls left `running` by a process that no longer exists
    /// (killed, crashed) are marked `interrupted` first.
    @available(*, noasync)
    package func begin(siteID: SiteID) throws -> CrawlRecord {
        try writer.write { db in
            try Self.markInterruptedCrawls(db, now: clock.now())
            var crawl = CrawlRecord(
                siteID: siteID,
                startedAt: clock.now(),
                status: .running,
                pid: getpid(),
                filesSeen: 0,
                urlsAdded: 0,
                urlsChanged: 0,
                urlsRemoved: 0,
                errorCount: 0
            )
            try crawl.insert(db)
            return crawl
        }
    }

    @discardableResult
    static func markInterruptedCrawls(_ db: Database, now: Date) throws -> Int {
        try AppDatabase.interruptDeadRuns(
            db,
            table: CrawlRecord.databaseTableName,
            message: "the crawling process stopped before committing",
            now: now
        )
    }

    /// The inventory of a site as the reconciler needs it, read straight from SQLite's rows
    /// into one compact table (no String or dictionary entry per row: at a million URLs that was
    /// most of a re-crawl's memory).
    @available(*, noasync)
    package func knownURLs(siteID: SiteID) throws -> KnownInventory {
        try writer.read { db in
            let statement = try db.makeStatement(
                sql: "SELECT id, path, owner, file_path, size, mtime, content_hash, flags, gone FROM urls WHERE site_id = ?"
            )
            statement.arguments = [siteID]
            let handle = statement.sqliteStatement
            defer { sqlite3_reset(handle) }
            var known = KnownInventory.Builder()
            func text(_ column: Int32) -> UnsafeBufferPointer<UInt8>? {
                guard sqlite3_column_type(handle, column) != SQLITE_NULL else { return nil }
                let start = sqlite3_column_text(handle, column)
                return UnsafeBufferPointer(start: start, count: Int(sqlite3_column_bytes(handle, column)))
            }
            func optional<T>(_ column: Int32, _ value: (Int32) -> T) -> T? {
                sqlite3_column_type(handle, column) == SQLITE_NULL ? nil : value(column)
            }
            while true {
                let code = sqlite3_step(handle)
                if code == SQLITE_DONE { break }
                guard code == SQLITE_ROW else {
                    throw DatabaseError(resultCode: ResultCode(rawValue: code), message: String(cString: sqlite3_errmsg(db.sqliteConnection)))
                }
                known.append(
                    id: sqlite3_column_int64(handle, 0),
                    path: text(1) ?? UnsafeBufferPointer(start: nil, count: 0),
                    owner: Owner(text(2)),
                    filePath: text(3),
                    size: optional(4) { sqlite3_column_int64(handle, $0) },
                    mtime: optional(5) { sqlite3_column_double(handle, $0) },
                    contentHash: text(6),
                    flags: URLFlags(rawValue: Int(sqlite3_column_int64(handle, 7))),
                    gone: sqlite3_column_int64(handle, 8) != 0
                )
            }
            return known.build()
        }
    }

    /// Applies a crawl's changes and marks it succeeded, all in one transaction: a crawl that
    /// dies before this returns leaves the previous inventory exactly as it was.
    @available(*, noasync)
    package func finish<Found: FoundURLs>(
        _ crawl: CrawlRecord,
        changes: InventoryChanges<Found>,
        issues: [CrawlIssue],
        filesSeen: Int,
        htaccess: [HtaccessFile] = [],
        bareDirectories: [String] = []
    ) throws -> CrawlRecord {
        guard let crawlID = crawl.id else { preconditionFailure("crawl was not inserted") }
        return try writer.write { db in
            let now = clock.now()
            try Self.replaceHtaccessFiles(db, siteID: crawl.siteID, htaccess)
            try db.execute(sql: "DELETE FROM bare_directories WHERE site_id = ?", arguments: [crawl.siteID])
            let bare = try db.makeStatement(sql: "INSERT OR IGNORE INTO bare_directories (site_id, path) VALUES (?, ?)")
            for path in bareDirectories { try bare.execute(arguments: [crawl.siteID, path]) }
            // The docroot's own front controller, as this crawl found it: when it appears, moves or
            // goes, URLs without a file change hands (unless the user set or declined one).
            let routingBefore = try InventoryRules.missingOwner(db, siteID: crawl.siteID)
            try db.execute(
                sql: "UPDATE sites SET detected_front_controller = ? WHERE id = ?",
                arguments: [htaccess.first { $0.directory.isEmpty }?.frontController, crawl.siteID]
            )
            let routingChanged = try InventoryRules.missingOwner(db, siteID: crawl.siteID) != routingBefore
            var events: [(Int64, OwnerChange)] = []
            let remove = try db.makeStatement(
                sql: "UPDATE urls SET owner = ?, gone = ?, file_path = CASE WHEN ? THEN file_path ELSE NULL END, changed_crawl = ? WHERE id = ?"
            )
            for removal in changes.removals {
                try remove.execute(arguments: [removal.newOwner, removal.markGone, removal.markGone, crawlID, removal.id])
                if let change = removal.ownerChange { events.append((removal.id, change)) }
            }
            var update = try BoundStatement(
                db,
                sql: """
                    UPDATE urls SET file_path = ?, owner = ?, size = ?, mtime = ?, content_hash = ?, flags = ? | (flags & \(URLFlags.derived.rawValue)),
                    gone = 0, changed_crawl = ? WHERE id = ?
                    """
            )
            for item in changes.updates {
                let url = changes.found.url(at: item.index)
                update.bind(url.filePath)
                update.bind(url.owner.rawValue)
                update.bind(url.size)
                update.bind(url.mtime)
                update.bind(url.contentHash)
                update.bind(url.flags.rawValue)
                update.bind(crawlID)
                update.bind(item.id)
                try update.run()
                if let change = item.ownerChange { events.append((item.id, change)) }
            }
            try Self.insertURLs(db, changes.inserts.lazy.map(changes.found.url(at:)), siteID: crawl.siteID, crawlID: crawlID)
            let event = try db.makeStatement(
                sql: "INSERT INTO ownership_events (url_id, from_owner, to_owner, at, reason, actor) VALUES (?, ?, ?, ?, ?, 'crawl')"
            )
            for (urlID, change) in events {
                try event.execute(arguments: [urlID, change.from, change.to, now, change.reason])
            }
            let issue = try db.makeStatement(sql: "INSERT INTO crawl_issues (crawl_id, file_path, kind, message) VALUES (?, ?, ?, ?)")
            for item in issues {
                try issue.execute(arguments: [crawlID, item.filePath, item.kind, item.message])
            }
            try InventoryRules.syncQueryPages(db, siteID: crawl.siteID)
            if routingChanged {
                try InventoryRules.syncRouteOwners(db, siteID: crawl.siteID)
                try InventoryRules.refreshDrift(db, siteID: crawl.siteID)
            }
            try InventoryRules.applyRoutePrefixes(db, siteID: crawl.siteID)
            try InventoryRules.markAliases(db, siteID: crawl.siteID)
            try InventoryRules.markNeverPages(db, siteID: crawl.siteID)
            try InventoryStore.recordSnapshot(db, siteID: crawl.siteID, source: "crawl", at: now)
            var done = crawl
            done.finishedAt = now
            done.status = .succeeded
            done.filesSeen = filesSeen
            done.urlsAdded = changes.inserts.count
            done.urlsChanged = changes.updates.count
            done.urlsRemoved = changes.removals.count
            done.errorCount = issues.count
            try done.update(db)
            return done
        }
    }

    /// Rows per INSERT statement of a crawl: each statement run opens and closes a cursor on
    /// the table, its five indexes and three parents; 64 rows a statement cut a 1,000,000-file
    /// first crawl's save from 17.9 s to 11.3 s.
    static let insertBatch = 64

    static func insertURLs(_ db: Database, _ urls: some Collection<FoundURL>, siteID: SiteID, crawlID: Int64) throws {
        let columns =
            "INSERT INTO urls (site_id, path, file_path, owner, size, mtime, content_hash, flags, first_seen_crawl, changed_crawl, gone) VALUES "
        let row = "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0)"
        var batch = try BoundStatement(db, sql: columns + Array(repeating: row, count: insertBatch).joined(separator: ", "))
        var single = try BoundStatement(db, sql: columns + row)
        // Full batches while 64 or more rows are left, then one row a statement.
        var pending = 0
        var left = urls.count
        for url in urls {
            left -= 1
            if pending > 0 || left + 1 >= insertBatch {
                bind(url, siteID: siteID, crawlID: crawlID, to: &batch)
                pending += 1
                if pending == insertBatch {
                    try batch.run()
                    pending = 0
                }
            } else {
                bind(url, siteID: siteID, crawlID: crawlID, to: &single)
                try single.run()
            }
        }
    }

    private static func bind(_ url: FoundURL, siteID: SiteID, crawlID: Int64, to statement: inout BoundStatement) {
        statement.bind(siteID)
        statement.bind(url.path)
        statement.bind(url.filePath)
        statement.bind(url.owner.rawValue)
        statement.bind(url.size)
        statement.bind(url.mtime)
        statement.bind(url.contentHash)
        statement.bind(url.flags.rawValue)
        statement.bind(crawlID)
        statement.bind(crawlID)
    }

    /// Records that a crawl failed; the inventory is untouched.
    @available(*, noasync)
    package func fail(_ crawl: CrawlRecord, error: String) throws {
        try writer.write { db in
            var failed = crawl
            failed.status = .failed
            failed.finishedAt = clock.now()
            failed.error = error
            try failed.update(db)
        }
    }

    @available(*, noasync)
    package func find(id: Int64) throws -> CrawlRecord? {
        try writer.read { db in try CrawlRecord.fetchOne(db, key: id) }
    }

    @available(*, noasync)
    package func recent(siteID: SiteID, limit: Int = 20) throws -> [CrawlRecord] {
        try writer.read { db in try Self.crawls(db, siteID: siteID, limit: limit) }
    }

    static func crawls(_ db: Database, siteID: SiteID, limit: Int) throws -> [CrawlRecord] {
        try CrawlRecord.filter(Column("site_id") == siteID).order(Column("id").desc).limit(limit).fetchAll(db)
    }

    @available(*, noasync)
    package func issues(crawlID: Int64) throws -> [CrawlIssueRecord] {
        try writer.read { db in try CrawlIssueRecord.filter(Column("crawl_id") == crawlID).order(Column("id")).fetchAll(db) }
    }
    /// The symbolic links the last successful crawl found making a private place public, by path.
    package func exposures(siteID: SiteID) async throws -> [Exposure] {
        try await writer.read { db in
            try CrawlIssueRecord.fetchAll(
                db,
                sql: """
                    SELECT * FROM crawl_issues WHERE kind = 'exposure' AND crawl_id = (
                      SELECT id FROM crawls WHERE site_id = ? AND status = 'succeeded' ORDER BY id DESC LIMIT 1)
                    ORDER BY file_path
                    """,
                arguments: [siteID]
            )
            .map { Exposure(filePath: $0.filePath, detail: $0.message) }
        }
    }
}
