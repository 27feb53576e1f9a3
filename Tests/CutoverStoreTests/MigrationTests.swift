import CutoverCore
import CutoverTestSupport
import Foundation
import GRDB
import Testing

@testable import CutoverStore

@Suite struct MigrationTests {
    @Test func migrationsAreNumberedAndOrdered() throws {
        let names = try AppDatabase.migrationFiles().map(\.lastPathComponent)
        #expect(names.count >= 2)
        #expect(names == names.sorted())
        #expect(names.allSatisfy { $0.range(of: #"^\d{4}_[a-z0-9_]+\.sql$"#, options: .regularExpression) != nil })
    }

    @Test func databaseFromFirstVersionMigratesForwardKeepingRows() async throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        let path = folder.appending("old.sqlite")
        let first = try AppDatabase.migrationFiles()[0].deletingPathExtension().lastPathComponent
        // An "old release": only the first migration, with rows written the way it wrote them.
        do {
            let old = try AppDatabase(path: path, migrateUpTo: first)
            try await old.writer.write { db in
                try db.execute(
                    sql:
                        "INSERT INTO sites (name, docroot, public_url, backend_url, created_at) VALUES ('legacy', '/srv', 'http://a', 'http://b', '2025-01-01 00:00:00.000')"
                )
                try db.execute(sql: "INSERT INTO crawls (site_id, started_at, status) VALUES (1, '2025-01-01 00:00:00.000', 'succeeded')")
                try db.execute(sql: "INSERT INTO urls (site_id, path, file_path, owner, first_seen_crawl) VALUES (1, '/a.php', 'a.php', 'php', 1)")
                try db.execute(
                    sql:
                        "INSERT INTO ownership_events (url_id, from_owner, to_owner, at, reason) VALUES (1, NULL, 'php', '2025-01-01 00:00:00.000', 'seed')"
                )
            }
            let applied = try await old.writer.read { db in try AppDatabase.migrator().appliedIdentifiers(db) }
            #expect(applied == [first])
        }
        let current = try AppDatabase(path: path)
        let applied = try await current.writer.read { db in try AppDatabase.migrator().appliedIdentifiers(db) }
        #expect(applied.count == (try AppDatabase.migrationFiles().count))
        let site = try await current.sites.named("legacy")
        #expect(site.docroot == "/srv")
        let urls = try storeCall { try current.inventory.urls(siteID: site.id) }
        #expect(urls.map(\.path) == ["/a.php"])
        #expect(try storeCall { try current.inventory.events(urlID: urls[0].id) }.map(\.reason) == ["seed"])
        // A site from before 0029 has its side-header secret; sites added later get their own.
        let secret = try await current.sites.sideSecret(site: site)
        #expect(SideHeader.isValidSecret(secret))
        let added = try await current.sites.add(
            SiteSettings(name: "later", docroot: "/srv2", publicURL: "http://127.0.0.1/", backendURL: "http://127.0.0.1:8080/")
        )
        let other = try await current.sites.sideSecret(site: added)
        #expect(SideHeader.isValidSecret(other) && other != secret)
    }

    /// 0022 counts pages by plan and observation: URLs an older release took from the logs get
    /// the flags the store's rules give them (never a page, a scanner's name) as it migrates.
    @Test func progressMigrationFlagsLogURLsThatWereNeverPages() throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        let path = folder.appending("old.sqlite")
        do {
            let old = try AppDatabase(path: path, migrateUpTo: "0021_php_includes")
            try old.writer.write { db in
                try db.execute(
                    sql:
                        "INSERT INTO sites (name, docroot, public_url, backend_url, created_at) VALUES ('legacy', '/srv', 'http://a', 'http://b', '2025-01-01 00:00:00.000')"
                )
                for (path, ok, failed) in [("/route", 3, 0), ("/broken", 0, 2), ("/.env", 1, 0)] {
                    try db.execute(sql: "INSERT INTO urls (site_id, path, owner, flags) VALUES (1, ?, 'swift', 32)", arguments: [path])
                    try db.execute(
                        sql: "INSERT INTO traffic (site_id, path, hits, first_seen, last_seen, status_2xx, status_5xx) VALUES (1, ?, ?, 0, 0, ?, ?)",
                        arguments: [path, ok + failed, ok, failed]
                    )
                }
            }
        }
        let current = try AppDatabase(path: path)
        let flags = try Dictionary(uniqueKeysWithValues: current.inventory.urls(siteID: SiteID(1)).map { ($0.path, $0.urlFlags) })
        #expect(flags["/route"]?.contains(.neverAPage) == false)
        #expect(flags["/broken"]?.contains(.neverAPage) == true)
        #expect(flags["/.env"]?.isSuperset(of: [.neverAPage, .hidden, .sensitive]) == true)
        let summary = try current.inventory.summary(siteID: SiteID(1))
        #expect(summary.planned == 1 && summary.neverPages == 2)
    }

    /// Migration 0020 gives every existing site the deny-list new sites get from
    /// `SiteSettings.defaultProbeSkip`: the two lists are written twice, so pin them together.
    @Test func probeSkipDefaultsOfTheMigrationAndTheSettingsAgree() throws {
        let database = try AppDatabase(writer: DatabaseQueue())
        let stored = try database.writer.write { db -> String? in
            try db.execute(
                sql:
                    "INSERT INTO sites (name, docroot, public_url, backend_url, created_at) VALUES ('x', '/srv', 'http://a', 'http://b', '2025-01-01 00:00:00.000')"
            )
            return try String.fetchOne(db, sql: "SELECT probe_skip FROM sites WHERE name = 'x'")
        }
        let decoded = try JSONDecoder().decode([String].self, from: Data((stored ?? "").utf8))
        #expect(decoded == SiteSettings.defaultProbeSkip)
    }

    @Test func openingUsesWALAndForeignKeys() throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        let database = try AppDatabase(path: folder.appending("db.sqlite"))
        let (mode, foreignKeys) = try database.writer.read { db in
            (try String.fetchOne(db, sql: "PRAGMA journal_mode"), try Bool.fetchOne(db, sql: "PRAGMA foreign_keys"))
        }
        #expect(mode == "wal")
        #expect(foreignKeys == true)
    }

    /// URLRecord reads its columns by position from an explicit list: after the last migration
    /// that list must still name every column of the table but the trigger-kept traffic copies
    /// and the probe's own bookkeeping.
    @Test func urlRecordReadsEveryColumnOfTheTable() throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        let database = try AppDatabase(path: folder.appending("db.sqlite"))
        let columns = try database.writer.read { db in try db.columns(in: "urls").map(\.name) }
        #expect(Set(columns) == Set(URLRecord.columns + URLRecord.trafficColumns + URLRecord.probeColumns))
        #expect(columns.count == URLRecord.columns.count + URLRecord.trafficColumns.count + URLRecord.probeColumns.count)
    }

    @Test func missingFolderIsAClearError() {
        #expect(throws: StoreError.databaseDirectoryMissing("/nonexistent-cutover")) {
            try AppDatabase(path: "/nonexistent-cutover/db.sqlite")
        }
    }
}
