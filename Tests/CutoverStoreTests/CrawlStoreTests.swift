import CutoverCore
import CutoverStore
import CutoverTestSupport
import Foundation
import GRDB
import Testing

/// The crawl's one write transaction, bound value by value (BoundStatement).
@Suite struct CrawlStoreTests {
    let database: AppDatabase
    let siteID: SiteID
    init() async throws {
        database = try AppDatabase(writer: DatabaseQueue())
        siteID = try await database.sites.add(
            SiteSettings(name: "shop", docroot: "/srv/www", publicURL: "http://127.0.0.1:8081", backendURL: "http://127.0.0.1:8080")
        ).id
    }

    func found(_ path: String, owner: Owner = .php, hash: String? = "ab") -> FoundURL {
        FoundURL(path: path, filePath: String(path.dropFirst()), owner: owner, size: 12, mtime: 1_700_000_000.5, contentHash: hash, flags: [.hidden])
    }

    @Test func insertsAndUpdatesStoreEveryValue() throws {
        let first = try database.crawls.begin(siteID: siteID)
        let changes = InventoryChanges(inserting: [found("/a.php"), found("/é b.css", owner: .static, hash: nil)])
        try database.crawls.finish(first, changes: changes, issues: [], filesSeen: 2)
        let stored = try database.inventory.urls(siteID: siteID).sorted { $0.path < $1.path }
        #expect(stored.map(\.path) == ["/a.php", "/é b.css"])
        #expect(stored[0].size == 12 && stored[0].mtime == 1_700_000_000.5 && stored[0].contentHash == "ab" && stored[0].urlFlags == [.hidden])
        #expect(stored[1].contentHash == nil && stored[1].filePath == "é b.css" && stored[1].owner == .static)
        #expect(stored.allSatisfy { $0.firstSeenCrawl == first.id && $0.changedCrawl == first.id })

        let second = try database.crawls.begin(siteID: siteID)
        var changed = found("/a.php", owner: .static, hash: nil)
        changed.size = 99
        let update = InventoryChanges.between(
            known: try database.crawls.knownURLs(siteID: siteID),
            found: [changed, found("/é b.css", owner: .static, hash: nil)]
        )
        #expect(update.updates.count == 1 && update.inserts.isEmpty && update.removals.isEmpty)
        try database.crawls.finish(second, changes: update, issues: [], filesSeen: 2)
        let after = try #require(try database.inventory.url(siteID: siteID, id: stored[0].id))
        #expect(after.size == 99 && after.owner == .static && after.contentHash == nil && after.changedCrawl == second.id)
        #expect(after.firstSeenCrawl == first.id)
    }

    /// Rows go in 64 to a statement, the rest one by one: every row keeps its own values, in order.
    @Test func batchedInsertsStoreEveryRowInOrder() throws {
        let crawl = try database.crawls.begin(siteID: siteID)
        let urls = (0..<133).map { (index: Int) -> FoundURL in
            let owner: Owner = index % 3 == 0 ? .static : .php
            let hash: String? = index % 5 == 0 ? nil : "h\(index)"
            let flags: URLFlags = index % 7 == 0 ? [.hidden] : []
            return FoundURL(
                path: "/p\(index).php",
                filePath: "p\(index).php",
                owner: owner,
                size: Int64(index),
                mtime: Double(index) + 0.25,
                contentHash: hash,
                flags: flags
            )
        }
        try database.crawls.finish(crawl, changes: InventoryChanges(inserting: urls), issues: [], filesSeen: urls.count)
        let stored = try database.inventory.urls(siteID: siteID).sorted { $0.id < $1.id }
        #expect(stored.count == 133)
        #expect(stored.map { $0.path } == urls.map { $0.path })
        for (row, url) in zip(stored, urls) {
            #expect(row.filePath == url.filePath)
            #expect(row.owner == url.owner)
            #expect(row.size == url.size)
            #expect(row.mtime == url.mtime)
            #expect(row.contentHash == url.contentHash)
            #expect(row.urlFlags == url.flags)
            #expect(row.firstSeenCrawl == crawl.id)
        }
    }

    /// A value the schema refuses fails the whole crawl commit with SQLite's own message, and
    /// nothing of it is stored.
    @Test func aRefusedRowRollsBackTheCrawl() throws {
        let crawl = try database.crawls.begin(siteID: siteID)
        let changes = InventoryChanges(inserting: [found("/a.php"), found("/a.php")])
        #expect {
            try database.crawls.finish(crawl, changes: changes, issues: [], filesSeen: 2)
        } throws: { error in
            (error as? DatabaseError)?.extendedResultCode == .SQLITE_CONSTRAINT_UNIQUE
        }
        #expect(try database.inventory.urls(siteID: siteID).isEmpty)
    }

    /// Every time the store records comes from its clock, so it can be fixed in tests.
    @Test func recordedTimesComeFromTheInjectedClock() async throws {
        var database = try AppDatabase(writer: DatabaseQueue())
        let instant = Date(timeIntervalSince1970: 1_234_567_890)
        database.clock = .fixed(instant)
        let site = try await database.sites.add(
            SiteSettings(name: "clock", docroot: "/srv/www", publicURL: "http://127.0.0.1:8081", backendURL: "http://127.0.0.1:8080")
        )
        #expect(site.createdAt == instant)
        let crawl = try storeCall { try database.crawls.begin(siteID: site.id) }
        #expect(crawl.startedAt == instant)
        let changes = InventoryChanges(inserting: [found("/a.php")])
        let finished = try storeCall { try database.crawls.finish(crawl, changes: changes, issues: [], filesSeen: 1) }
        #expect(finished.finishedAt == instant)
        #expect(try storeCall { try database.inventory.snapshots(siteID: site.id) }.map(\.at) == [instant])
        let url = try #require(try storeCall { try database.inventory.urls(siteID: site.id) }.first)
        try await database.plan.flip(siteID: site.id, .paths([url.path]), to: .swift, reason: "clock")
        #expect(try storeCall { try database.inventory.events(urlID: url.id) }.map(\.at) == [instant])
    }
}
