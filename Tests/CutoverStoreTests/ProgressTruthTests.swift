import CutoverCore
import CutoverTestSupport
import Foundation
import GRDB
import Testing

@testable import CutoverStore

/// What "on Swift" means (#24.2): Swift's by the plan and seen there by a probe; planned
/// otherwise; URLs the fallback caught that were never pages are no pages.
@Suite struct ProgressTruthTests {
    /// A site with three PHP files, a retired one, and a log with a route, a scanner's hit and
    /// a URL that only ever failed.
    static func fixture() async throws -> (AppDatabase, SiteID) {
        var database = try AppDatabase(writer: DatabaseQueue())
        database.clock = .fixed(Date(timeIntervalSince1970: 1_793_707_200))
        let site = try await database.sites.add(
            SiteSettings(name: "shop", docroot: "/srv/www", publicURL: "http://127.0.0.1:8081", backendURL: "http://127.0.0.1:8080")
        )
        let siteID = site.id
        let crawl = try storeCall { try database.crawls.begin(siteID: siteID) }
        let found = ["/a.php", "/b.php", "/c.php", "/old.php"].map { path in
            FoundURL(path: path, filePath: String(path.dropFirst()), owner: .php, size: 1, mtime: 1, contentHash: "x", flags: [])
        }
        _ = try storeCall {
            try database.crawls.finish(crawl, changes: InventoryChanges(inserting: found), issues: [], filesSeen: 4)
        }
        // /old.php retired: the fallback answers it now.
        try await database.writer.write { db in
            try db.execute(sql: "UPDATE urls SET owner = 'swift', file_path = NULL WHERE path = '/old.php'")
        }
        var batch = TrafficBatch()
        func add(_ path: String, ok: Int, failed5xx: Int = 0) {
            var counts = TrafficCounts()
            counts.hits = ok + failed5xx
            counts.status2xx = ok
            counts.status5xx = failed5xx
            counts.firstSeen = 20_759 * 86_400
            counts.lastSeen = 20_759 * 86_400
            batch.paths[path] = counts
            batch.days[TrafficBatch.DayKey(day: 20_759, path: path)] = counts
        }
        add("/route", ok: 4)
        add("/.env", ok: 3)  // a scanner the fallback answered with 200
        add("/broken", ok: 0, failed5xx: 2)
        add("/wp-login.php", ok: 5)  // a catch-all answered a scanner 200: no crawl found such a file
        _ = try storeCall { try database.traffic.record(batch, siteID: siteID) }
        #expect(try storeCall { try database.traffic.addRequestedURLs(siteID: siteID) } == 4)
        return (database, siteID)
    }

    @Test func onSwiftNeedsThePlanAndAProbeThatSawSwift() async throws {
        let (database, siteID) = try await Self.fixture()
        var summary = try storeCall { try database.inventory.summary(siteID: siteID) }
        // /old.php and /route are Swift's by the plan, but no probe saw them: planned.
        #expect(summary.php == 3 && summary.planned == 2 && summary.swift == 0)
        #expect(summary.neverPages == 3, "/.env, /broken and /wp-login.php")
        #expect(
            try storeCall { try database.inventory.url(siteID: siteID, path: "/.env") }?.urlFlags.contains([.neverAPage, .hidden, .sensitive])
                == true
        )

        _ = try await database.plan.flip(siteID: siteID, .paths(["/b.php"]), to: .swift, reason: "ported")
        summary = try storeCall { try database.inventory.summary(siteID: siteID) }
        #expect(summary.php == 2 && summary.planned == 3 && summary.swift == 0 && summary.percentOnSwift == 0)

        // A probe saw Swift answer /b.php and /old.php, and PHP still answer /route.
        try await database.writer.write { db in
            try db.execute(sql: "UPDATE urls SET observed_owner = 'swift' WHERE path IN ('/b.php', '/old.php')")
            try db.execute(sql: "UPDATE urls SET observed_owner = 'php' WHERE path = '/route'")
        }
        summary = try storeCall { try database.inventory.summary(siteID: siteID) }
        #expect(summary.php == 2 && summary.planned == 1 && summary.swift == 2)
        #expect(summary.percentOnSwift == 40)

        // Flipped back to PHP but not yet exported: PHP's by the plan, whatever was seen.
        _ = try await database.plan.flip(siteID: siteID, .paths(["/b.php"]), to: .php, reason: "regression")
        summary = try storeCall { try database.inventory.summary(siteID: siteID) }
        #expect(summary.php == 3 && summary.swift == 1)
    }

    @Test func aPlanMakesANeverPageAPageAgain() async throws {
        let (database, siteID) = try await Self.fixture()
        _ = try await database.plan.flip(siteID: siteID, .paths(["/broken"]), to: .swift, reason: "the new app serves it")
        let summary = try storeCall { try database.inventory.summary(siteID: siteID) }
        #expect(summary.neverPages == 2 && summary.planned == 3)
        #expect(try storeCall { try database.inventory.url(siteID: siteID, path: "/broken") }?.urlFlags.contains(.neverAPage) == false)
    }

    @Test func aLaterSuccessMakesItAPage() async throws {
        let (database, siteID) = try await Self.fixture()
        var batch = TrafficBatch()
        var counts = TrafficCounts()
        counts.hits = 1
        counts.status2xx = 1
        counts.firstSeen = 20_760 * 86_400
        counts.lastSeen = 20_760 * 86_400
        batch.paths["/broken"] = counts
        batch.days[TrafficBatch.DayKey(day: 20_760, path: "/broken")] = counts
        _ = try storeCall { try database.traffic.record(batch, siteID: siteID) }
        _ = try storeCall { try database.traffic.addRequestedURLs(siteID: siteID) }
        #expect(try storeCall { try database.inventory.summary(siteID: siteID) }.neverPages == 2)
    }

    @Test func theBurndownCountsAsTheSummaryDoes() async throws {
        let (database, siteID) = try await Self.fixture()
        _ = try await database.plan.flip(siteID: siteID, .paths(["/b.php"]), to: .swift, reason: "ported")
        try await database.writer.write { db in try db.execute(sql: "UPDATE urls SET observed_owner = 'swift' WHERE path = '/old.php'") }
        let crawl = try storeCall { try database.crawls.begin(siteID: siteID) }
        _ = try storeCall { try database.crawls.finish(crawl, changes: InventoryChanges(inserting: []), issues: [], filesSeen: 3) }
        let summary = try storeCall { try database.inventory.summary(siteID: siteID) }
        let latest = try #require(try storeCall { try database.inventory.snapshots(siteID: siteID) }.last)
        #expect(latest.php == summary.php && latest.swift == summary.swift && latest.planned == summary.planned)
        #expect(latest.php == 2 && latest.swift == 1 && latest.planned == 2)
    }
}
