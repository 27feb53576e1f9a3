import CutoverCore
import CutoverTestSupport
import Foundation
import GRDB
import Testing

@testable import CutoverStore

/// Bounded writes, list settings that survive a round trip, and databases this version must not touch.
@Suite struct HardeningStoreTests {
    /// Rows of the space-separated era come back as JSON arrays, losing nothing.
    @Test func listSettingsBecomeJSONArrays() async throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        let path = folder.appending("old.sqlite")
        do {
            let old = try AppDatabase(path: path, migrateUpTo: "0008_owner_path_index")
            try await old.writer.write { db in
                for (name, index, extensions) in [("a", "index.php  home.php", ".php .inc"), ("b", " ", ".php"), ("c", #"x"y.php a\b"#, ".php")] {
                    try db.execute(
                        sql: """
                            INSERT INTO sites (name, docroot, public_url, backend_url, directory_index, php_extensions, created_at)
                            VALUES (?, '/srv', 'http://a', 'http://b', ?, ?, '2025-01-01 00:00:00.000')
                            """,
                        arguments: [name, index, extensions]
                    )
                }
            }
        }
        let current = try AppDatabase(path: path)
        #expect(try await current.sites.named("a").settings.directoryIndex == ["index.php", "home.php"])
        #expect(try await current.sites.named("a").settings.phpExtensions == [".php", ".inc"])
        #expect(try await current.sites.named("b").settings.directoryIndex == [])
        #expect(try await current.sites.named("c").settings.directoryIndex == [#"x"y.php"#, #"a\b"#])
        // The empty list that old rows could hold is refused clearly, and a valid PUT repairs it.
        var settings = try await current.sites.named("b").settings
        #expect(settings.configProblems().contains { $0.contains("DirectoryIndex") })
        settings.directoryIndex = ["index.php"]
        #expect(try await current.sites.save(settings).settings.directoryIndex == ["index.php"])
    }

    @Test func entriesWithSpacesAreRefusedNotSplit() async throws {
        let database = try AppDatabase(writer: DatabaseQueue())
        var settings = SiteSettings(name: "s", docroot: "/srv/www", publicURL: "http://a", backendURL: "http://b")
        settings.directoryIndex = ["home page.php"]
        await #expect(throws: StoreError.self) { try await database.sites.add(settings) }
        settings.directoryIndex = ["home-page.php", "index.php"]
        #expect(try await database.sites.add(settings).settings.directoryIndex == ["home-page.php", "index.php"])
    }

    /// A database migrated by a newer Cutover is refused in one line, and its file is not written.
    @Test func newerSchemaIsRefusedBeforeAnyWrite() throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        let path = folder.appending("new.sqlite")
        do {
            let database = try AppDatabase(path: path)
            try database.writer.write { db in try db.execute(sql: "INSERT INTO grdb_migrations (identifier) VALUES ('0042_from_the_future')") }
        }
        // Everything checkpointed into the main file and the connection closed: any later write shows in its bytes.
        let settle = try DatabaseQueue(path: path)
        try settle.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA wal_checkpoint(TRUNCATE)") }
        try settle.close()
        let before = try Data(contentsOf: URL(fileURLWithPath: path))
        for access in [AppDatabase.Access.readWrite, .readOnly] {
            #expect(throws: StoreError.newerSchema(["0042_from_the_future"])) { try AppDatabase(path: path, access: access) }
        }
        #expect(StoreError.newerSchema(["0042_from_the_future"]).description.contains("newer Cutover"))
        let after = try Data(contentsOf: URL(fileURLWithPath: path))
        let changed = zip(before, after).enumerated().filter { $0.element.0 != $0.element.1 }.map(\.offset)
        #expect(after == before, "bytes changed at \(changed.prefix(20)), sizes \(before.count) \(after.count)")
        let wal = (try? FileManager.default.attributesOfItem(atPath: path + "-wal")[.size] as? Int) ?? 0
        #expect(wal == 0, "nothing was written to the WAL either")
    }

    /// A reason is stored once per flip operation, and at most 1,000 characters of it.
    @Test func flipReasonIsBoundedAndStoredOnce() async throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        let database = try AppDatabase(path: folder.appending("db.sqlite"))
        let site = try await database.sites.add(SiteSettings(name: "s", docroot: "/srv/www", publicURL: "http://a", backendURL: "http://b"))
        try await database.writer.write { db in
            for index in 0..<100 {
                try db.execute(
                    sql: "INSERT INTO urls (site_id, path, file_path, owner) VALUES (?, ?, ?, 'php')",
                    arguments: [site.id, "/p\(index).php", "p\(index).php"]
                )
            }
        }
        let tooLong = String(repeating: "x", count: PlanStore.maxReasonLength + 1)
        await #expect(throws: PlanError.reasonTooLong(1001)) {
            try await database.plan.flip(siteID: site.id, .glob("*"), to: .swift, reason: tooLong)
        }
        let reason = String(repeating: "é", count: PlanStore.maxReasonLength)
        let result = try await database.plan.flip(siteID: site.id, .glob("*"), to: .swift, reason: reason)
        #expect(result.changed.count == 100)
        let (operations, longest) = try await database.writer.read { db in
            (
                try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM flip_operations")!,
                try Int.fetchOne(db, sql: "SELECT MAX(length(reason)) FROM ownership_events")!
            )
        }
        #expect(operations == 1)
        #expect(longest < 20)
        let url = try #require(try storeCall { try database.inventory.url(siteID: site.id, path: "/p7.php") })
        #expect(try storeCall { try database.inventory.events(urlID: url.id) }.last?.reason == "planned: " + reason)
        // An empty reason is still a recorded operation.
        _ = try await database.plan.flip(siteID: site.id, .paths(["/p7.php"]), to: .php, reason: "")
        #expect(try storeCall { try database.inventory.events(urlID: url.id) }.last?.reason == "planned: no reason given")
    }
}
