import CutoverCore
import Foundation
import GRDB

// What a log import stores: stretches of a file, counts per path and day, and the caps that
// keep anonymous paths, keys and values bounded.
extension TrafficStore {
    /// Most normalised query strings kept per path, and values kept per query key.
    package static let queriesPerPath = 50
    package static let valuesPerKey = 200
    /// Most query keys kept per path (the rest: `traffic.other_key_hits`).
    package static let keysPerPath = 50

    /// Stores a stretch of log and how far the file has been read, in one transaction: a crash
    /// between two stretches loses nothing and counts nothing twice.
    ///
    /// A compare-and-set on the stored offset, in the same transaction as the counts, makes two
    /// importers of one file (two cron runs, the CLI beside `serve`'s logs job) count each line
    /// once: `storedOffset` is the offset this importer last read from the row (nil for a file
    /// not yet remembered); if the row moved meanwhile, nothing is stored and
    /// `StoreError.concurrentLogImport` says so.
    ///
    /// `closing` says this is the import's last stretch (the tail then judges days by what they
    /// hold so far); `addingRequestedURLs` (the import's last stretch) adds the requested URLs in the same
    /// transaction: a kill between the counts and the URLs cannot leave URLs that no later
    /// import adds ("nothing new"). Returns the new state and how many URLs were added.
    @available(*, noasync)
    @discardableResult
    package func recordStretch(
        _ state: LogFileState,
        batch: TrafficBatch,
        storedOffset: Int64?,
        tail: TrafficTail,
        closing: Bool = false,
        addingRequestedURLs: Bool = false
    ) throws -> (state: LogFileState, urlsAdded: Int, tailHits: Int) {
        try Self.invalidating(tail) {
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
                let tailHits = try Self.add(batch, siteID: state.siteID, tail: tail, closing: closing, db: db)
                return (state, addingRequestedURLs ? try Self.addRequestedURLs(db, siteID: state.siteID) : 0, tailHits)
            }
        }
    }

    /// Runs a write with `tail`; if it fails, the transaction's changes to the summaries are
    /// gone, so the tail reads them again next time.
    private static func invalidating<T>(_ tail: TrafficTail, _ write: () throws -> T) throws -> T {
        do { return try write() } catch {
            tail.invalidate()
            throw error
        }
    }

    /// Forgets how far a log file was read, so the next import reads it from the start: only
    /// when its stored stretches counted nothing (every line bad or skipped, as a wrong format or
    /// host left it before imports refused such stretches); otherwise reading it again would
    /// count its lines twice. Returns the forgotten rows.
    @available(*, noasync)
    @discardableResult
    package func resetLogFile(siteID: SiteID, path: String) throws -> [LogFileState] {
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
    package static let requestedURLsPerImport = 10_000

    /// Adds requested URLs that have no row yet to the inventory, owned by the fallback (Swift; on
    /// a front-controller site, PHP: they are its routes)
    /// and flagged `log`, most requested first; returns how many. Left out: URLs that only ever
    /// got 4xx (noise), a folder's URL without its slash when the folder is known (Apache
    /// redirects it), `script.php/more` (PHP answers it with PATH_INFO), and paths with control
    /// characters (`%0A`, `%00`: the export refuses them in a config file, and no page has them).
    @available(*, noasync)
    @discardableResult
    package func addRequestedURLs(siteID: SiteID) throws -> Int {
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

    /// Stores counts that belong to no remembered file (standard input); returns the requests
    /// counted in the tail.
    @available(*, noasync)
    @discardableResult
    package func record(_ batch: TrafficBatch, siteID: SiteID, tail: TrafficTail? = nil) throws -> Int {
        let tail = tail ?? TrafficTail(siteID: siteID)
        return try Self.invalidating(tail) {
            try writer.write { db in try Self.add(batch, siteID: siteID, tail: tail, closing: true, db: db) }
        }
    }

    /// Stores a stretch's counts: the tail's in its summaries, the rest as exact rows. Returns the
    /// requests counted in the tail. `closing`: the import's last stretch (see `TrafficTail.split`).
    static func add(_ batch: TrafficBatch, siteID: SiteID, tail: TrafficTail, closing: Bool, db: Database) throws -> Int {
        var exact = batch
        let split = try tail.split(&exact, closing: closing, db: db)
        try addExact(exact, siteID: siteID, db: db)
        try addSides(exact.sides, siteID: siteID, pruning: closing, db: db)
        try addCanarySamples(batch.canarySamples, siteID: siteID, pruning: closing, db: db)
        try tail.store(split, db: db)
        return split.tailHits
    }

    /// Days of per-side figures kept, back from the newest.
    package static let sideDays = 90

    /// Adds each side's statuses and durations to its page's day; `pruning` drops days older
    /// than `sideDays` before the newest.
    private static func addSides(_ sides: [TrafficBatch.SideKey: SideTally], siteID: SiteID, pruning: Bool, db: Database) throws {
        guard !sides.isEmpty else { return }
        var upsert = try BoundStatement(
            db,
            sql: """
                INSERT INTO traffic_sides (site_id, path, day, side, hits, status_2xx, status_3xx, status_4xx, status_5xx, status_other,
                  timed, latency)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (site_id, path, day, side) DO UPDATE SET
                  hits = hits + excluded.hits, status_2xx = status_2xx + excluded.status_2xx,
                  status_3xx = status_3xx + excluded.status_3xx, status_4xx = status_4xx + excluded.status_4xx,
                  status_5xx = status_5xx + excluded.status_5xx, status_other = status_other + excluded.status_other,
                  timed = timed + excluded.timed, latency = cutover_latency_merge(latency, excluded.latency)
                """
        )
        for (key, tally) in sides {
            upsert.bind(siteID)
            upsert.bind(key.path)
            upsert.bind(key.day)
            upsert.bind(key.side.rawValue)
            for value in [tally.hits, tally.status2xx, tally.status3xx, tally.status4xx, tally.status5xx, tally.statusOther, tally.latency.total] {
                upsert.bind(value)
            }
            upsert.bind(tally.latency.encoded)
            try upsert.run()
        }
        guard pruning else { return }
        try db.execute(
            sql: """
                DELETE FROM traffic_sides WHERE site_id = ?1
                  AND day < (SELECT max(day) FROM traffic_sides WHERE site_id = ?1) - ?2
                """,
            arguments: [siteID, sideDays]
        )
    }

    /// Minutes of canary samples kept, back from the newest.
    package static let canaryMinutes = 30 * 24 * 60

    /// Adds each side's requests to a canary's page per minute (#29); `pruning` drops minutes
    /// older than `canaryMinutes` before the newest.
    private static func addCanarySamples(_ samples: [TrafficBatch.CanaryKey: SideTally], siteID: SiteID, pruning: Bool, db: Database) throws {
        guard !samples.isEmpty else { return }
        var upsert = try BoundStatement(
            db,
            sql: """
                INSERT INTO canary_samples (site_id, path, minute, side, hits, status_5xx, timed, latency)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (site_id, minute, path, side) DO UPDATE SET
                  hits = hits + excluded.hits, status_5xx = status_5xx + excluded.status_5xx,
                  timed = timed + excluded.timed, latency = cutover_latency_merge(latency, excluded.latency)
                """
        )
        for (key, tally) in samples {
            upsert.bind(siteID)
            upsert.bind(key.path)
            upsert.bind(key.minute)
            upsert.bind(key.side.rawValue)
            for value in [tally.hits, tally.status5xx, tally.latency.total] { upsert.bind(value) }
            upsert.bind(tally.latency.encoded)
            try upsert.run()
        }
        guard pruning else { return }
        try db.execute(
            sql: """
                DELETE FROM canary_samples WHERE site_id = ?1
                  AND minute < (SELECT max(minute) FROM canary_samples WHERE site_id = ?1) - ?2
                """,
            arguments: [siteID, canaryMinutes]
        )
    }

    private static func addExact(_ batch: TrafficBatch, siteID: SiteID, db: Database) throws {
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
        let crowded = try crowdedPaths(
            of: paths,
            siteID: siteID,
            where: "(SELECT count(DISTINCT \(cap.item)) FROM \(cap.table) c WHERE c.site_id = ?1 AND c.path = p.value) > ?3",
            limit: cap.limit,
            db: db
        )
        for path in crowded {
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

    /// Of `paths`, those `condition` holds for, in one statement: a stretch touches thousands of
    /// paths and almost none is over a cap, so one query per path (three per stretch and path)
    /// cost more than storing the counts. In `condition`, `p.value` is the path, `?1` the site,
    /// `?3` the limit.
    private static func crowdedPaths(of paths: Set<String>, siteID: SiteID, where condition: String, limit: Int, db: Database) throws -> [String] {
        guard !paths.isEmpty else { return [] }
        let list = String(decoding: try JSONEncoder().encode(Array(paths)), as: UTF8.self)
        return try String.fetchAll(
            db,
            sql: "SELECT p.value FROM json_each(?2) p WHERE \(condition)",
            arguments: [siteID, list, limit]
        )
    }

    /// Keeps the top `valuesPerKey` values of each key of each touched path; the rest are summed
    /// into the key's `is_other` row.
    private static func capValues(siteID: SiteID, paths: Set<String>, db: Database) throws {
        let crowdedPaths = try crowdedPaths(
            of: paths,
            siteID: siteID,
            where: """
                EXISTS (SELECT 1 FROM traffic_query_values v WHERE v.site_id = ?1 AND v.path = p.value AND v.is_other = 0
                  GROUP BY v.key HAVING count(*) > ?3)
                """,
            limit: valuesPerKey,
            db: db
        )
        for path in crowdedPaths {
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
}
