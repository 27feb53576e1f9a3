import CutoverCore
import CutoverTestSupport
import Foundation
import GRDB
import Testing

@testable import CutoverStore

/// `urls.hits` and `urls.last_seen` are copies of the URL's traffic kept by triggers
/// (Migrations/0017_url_traffic_columns.sql). After every kind of write on either side they
/// equal what the traffic tables say, and a migrated database starts out equal.
@Suite struct URLTrafficColumnsTests {
    /// URLs whose copies differ from `traffic` and `query_page_hits`, as "path hits last_seen".
    static func mismatches(_ database: AppDatabase) async throws -> [String] {
        try await database.writer.read { db in
            try String.fetchAll(
                db,
                sql: """
                    SELECT u.path || ' ' || coalesce(u.hits, '-') || ' ' || coalesce(u.last_seen, '-') FROM urls u
                    LEFT JOIN traffic t ON t.site_id = u.site_id AND t.path = u.path
                    LEFT JOIN query_page_hits q ON q.site_id = u.site_id AND q.path = u.path
                    WHERE u.hits IS NOT coalesce(t.hits, q.hits) OR u.last_seen IS NOT t.last_seen
                    """
            )
        }
    }

    static func hits(_ database: AppDatabase, _ path: String) async throws -> (Int?, Int64?) {
        try await database.writer.read { db in
            let row = try Row.fetchOne(db, sql: "SELECT hits, last_seen FROM urls WHERE path = ?", arguments: [path])
            return (row?["hits"], row?["last_seen"])
        }
    }

    static func batch(_ entries: [(String, Int, Int)]) -> TrafficBatch {
        var batch = TrafficBatch()
        for (path, hits, lastSeen) in entries {
            var counts = TrafficCounts()
            counts.hits = hits
            counts.status2xx = hits
            counts.firstSeen = 1_700_000_000
            counts.lastSeen = lastSeen
            batch.paths[path] = counts
        }
        return batch
    }

    @Test func copiesFollowEveryWriteOnEitherSide() async throws {
        let database = try AppDatabase(writer: DatabaseQueue())
        let settings = SiteSettings(name: "wiki", docroot: "/srv/www", publicURL: "http://127.0.0.1:8081", backendURL: "http://127.0.0.1:8080")
        let siteID = try await database.sites.add(settings).id
        try PageKeyStoreTests.crawl(database, siteID: siteID, ["/doku.php", "/a.php"])

        // Requests logged before their file is crawled: the crawl's new URL takes them.
        try await offPool {
            try database.traffic.record(Self.batch([("/a.php", 3, 1_700_000_100), ("/later.php", 7, 1_700_000_200)]), siteID: siteID)
        }
        #expect(try await Self.hits(database, "/a.php") == (3, 1_700_000_100))
        try PageKeyStoreTests.crawl(database, siteID: siteID, ["/doku.php", "/a.php", "/later.php"])
        #expect(try await Self.hits(database, "/later.php") == (7, 1_700_000_200))
        #expect(try await Self.hits(database, "/doku.php") == (nil, nil))

        // A second import adds to the counts and moves last_seen.
        try await offPool {
            try database.traffic.record(Self.batch([("/a.php", 2, 1_700_000_900), ("/doku.php", 20, 1_700_000_050)]), siteID: siteID)
        }
        #expect(try await Self.hits(database, "/a.php") == (5, 1_700_000_900))

        // Query-identified pages take their value's hits when the key is declared.
        var batch = Self.batch([("/doku.php", 9, 1_700_000_300)])
        batch.values[TrafficBatch.ValueKey(path: "/doku.php", key: "id", value: "start")] = 9
        _ = try storeCall { try database.traffic.record(batch, siteID: siteID) }
        var keyed = settings
        keyed.pageKeys = [PageKey(script: "/doku.php", key: "id")]
        _ = try await database.sites.save(keyed)
        #expect(try await Self.hits(database, "/doku.php?id=start") == (9, nil))

        // Saving a URLRecord (a flip, a probe) leaves the copies alone.
        try await database.writer.write { db in
            var record = try URLRecord.fetchOne(db, sql: "SELECT \(URLRecord.columns.joined(separator: ", ")) FROM urls WHERE path = '/a.php'")!
            record.lastStatus = 200
            try record.update(db)
        }
        #expect(try await Self.hits(database, "/a.php") == (5, 1_700_000_900))
        #expect(try await Self.mismatches(database) == [])

        // Traffic rows removed: the copies fall back to the query page's hits, or NULL.
        try await database.writer.write { db in
            try db.execute(
                sql: "INSERT INTO traffic (site_id, path, hits, first_seen, last_seen) VALUES (?, '/doku.php?id=start', 4, 1, 2)",
                arguments: [siteID]
            )
        }
        #expect(try await Self.hits(database, "/doku.php?id=start") == (4, 2))
        try await database.writer.write { db in try db.execute(sql: "DELETE FROM traffic") }
        #expect(try await Self.hits(database, "/doku.php?id=start") == (9, nil))
        #expect(try await Self.hits(database, "/a.php") == (nil, nil))
        try await database.writer.write { db in try db.execute(sql: "DELETE FROM query_page_hits") }
        #expect(try await Self.hits(database, "/doku.php?id=start") == (nil, nil))
        #expect(try await Self.mismatches(database) == [])
    }

    /// A database written before the copies existed gets them filled by the migration.
    @Test func migrationFillsTheCopies() async throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        let path = folder.appending("db.sqlite")
        do {
            let old = try AppDatabase(path: path, migrateUpTo: "0016_human_attribution")
            // Raw SQL, not SiteRecord: the record follows the newest schema, which has columns 0016 lacks.
            let siteID = try await old.writer.write { db -> Int64 in
                try db.execute(
                    sql: """
                        INSERT INTO sites (name, docroot, public_url, backend_url, created_at)
                        VALUES ('wiki', '/srv/www', 'http://127.0.0.1:8081', 'http://127.0.0.1:8080', '2026-01-01T00:00:00Z')
                        """
                )
                return db.lastInsertedRowID
            }
            try await old.writer.write { db in
                for path in ["/a.php", "/b.php", "/doku.php?id=start", "/doku.php?id=both"] {
                    try db.execute(sql: "INSERT INTO urls (site_id, path, owner) VALUES (?, ?, 'php')", arguments: [siteID, path])
                }
                try db.execute(
                    sql: """
                        INSERT INTO traffic (site_id, path, hits, first_seen, last_seen) VALUES
                          (?1, '/a.php', 5, 1, 50), (?1, '/doku.php?id=both', 2, 1, 60), (?1, '/never-crawled.php', 1, 1, 70)
                        """,
                    arguments: [siteID]
                )
                try db.execute(
                    sql: """
                        INSERT INTO query_page_hits (site_id, path, hits) VALUES (?1, '/doku.php?id=start', 9), (?1, '/doku.php?id=both', 8);
                        """,
                    arguments: [siteID]
                )
            }
        }

        let migrated = try AppDatabase(path: path)
        #expect(try await Self.hits(migrated, "/a.php") == (5, 50))
        #expect(try await Self.hits(migrated, "/b.php") == (nil, nil))
        #expect(try await Self.hits(migrated, "/doku.php?id=start") == (9, nil))
        // The URL's own traffic row wins over its value's hits, as the page showed before.
        #expect(try await Self.hits(migrated, "/doku.php?id=both") == (2, 60))
        #expect(try await Self.mismatches(migrated) == [])
    }
}
