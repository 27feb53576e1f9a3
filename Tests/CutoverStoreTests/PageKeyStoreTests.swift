import CutoverCore
import CutoverStore
import CutoverTestSupport
import Foundation
import GRDB
import Testing

/// Page keys in the store: values from the logs become pages that follow their script, a
/// flip can name a page no log saw, a key with flipped pages cannot be dropped, and keys are
/// suggested from traffic with their evidence.
@Suite struct PageKeyStoreTests {
    static func crawl(_ database: AppDatabase, siteID: SiteID, _ paths: [String]) throws {
        let changes = InventoryChanges.between(
            known: try database.crawls.knownURLs(siteID: siteID),
            found: paths.map { FoundURL(path: $0, filePath: String($0.dropFirst()), owner: .php, size: 1, mtime: 1, contentHash: "x", flags: []) }
        )
        try database.crawls.finish(try database.crawls.begin(siteID: siteID), changes: changes, issues: [], filesSeen: paths.count)
    }

    @Test func valuesBecomePagesThatFollowTheirScript() async throws {
        let database = try AppDatabase(writer: DatabaseQueue())
        let settings = SiteSettings(name: "wiki", docroot: "/srv/www", publicURL: "http://127.0.0.1:8081", backendURL: "http://127.0.0.1:8080")
        var site = try await database.sites.add(settings)
        let siteID = site.id
        try Self.crawl(database, siteID: siteID, ["/doku.php", "/feed.php"])

        var batch = TrafficBatch()
        var counts = TrafficCounts()
        counts.hits = 20
        counts.status2xx = 20
        batch.paths["/doku.php"] = counts
        for (value, hits) in [("start", 9), ("wiki:syntax", 6), ("a b", 3), ("bad\nline", 1), ("", 1)] {
            batch.values[TrafficBatch.ValueKey(path: "/doku.php", key: "id", value: value)] = hits
        }
        for (value, hits) in [("edit", 4), ("show", 3), ("diff", 2)] {
            batch.values[TrafficBatch.ValueKey(path: "/doku.php", key: "do", value: value)] = hits
        }
        // A cron's timestamp: a new value on every request, so no value names a page.
        var cron = TrafficCounts()
        cron.hits = 40
        cron.status2xx = 40
        batch.paths["/feed.php"] = cron
        for second in 0..<40 { batch.values[TrafficBatch.ValueKey(path: "/feed.php", key: "t", value: "\(1_764_000_000 + second)")] = 1 }
        _ = try storeCall { try database.traffic.record(batch, siteID: siteID) }

        // Suggested before it is declared, with its evidence; `do` covers too few requests, and
        // `t` has about as many values as requests.
        let suggestions = try await database.inventory.pageKeySuggestions(siteID: siteID)
        #expect(suggestions.map { "\($0.script)=\($0.key)" } == ["/doku.php=id"], "\(suggestions)")
        #expect(suggestions.first?.distinctValues == 5 && suggestions.first?.keyHits == 20 && suggestions.first?.scriptHits == 20)
        #expect(suggestions.first?.topValues.first?.value == "start")

        var keyed = settings
        keyed.pageKeys = [PageKey(script: "/doku.php", key: "id")]
        site = try await database.sites.save(keyed)
        let pages = try storeCall { try database.inventory.urls(siteID: siteID) }.filter { $0.urlFlags.contains(.queryPage) }
        // The empty value and the one with a line break are no pages.
        #expect(pages.map(\.path) == ["/doku.php?id=a%20b", "/doku.php?id=start", "/doku.php?id=wiki:syntax"])
        #expect(pages.allSatisfy { $0.owner == .php && $0.filePath == "doku.php" })
        // Each page has the hits of its value; sorting by hits ranks them.
        var byHits = URLQuery()
        byHits.minHits = 1
        byHits.sort = .hits
        byHits.descending = true
        let ranked = try storeCall { try database.inventory.views(siteID: siteID, query: byHits) }
        #expect(ranked.map(\.path) == ["/feed.php", "/doku.php", "/doku.php?id=start", "/doku.php?id=wiki:syntax", "/doku.php?id=a%20b"])
        #expect(ranked.map(\.hits) == [40, 20, 9, 6, 3])
        #expect(try await database.inventory.pageKeySuggestions(siteID: siteID).isEmpty, "a declared key is no suggestion")
        #expect(try storeCall { try database.inventory.summary(siteID: siteID) }.php == 5)

        // A flip names any page of the key, seen in the logs or not; /doku.php itself stays PHP.
        let flip = try await database.plan.flip(
            siteID: siteID,
            .paths(["/doku.php?id=wiki%3Asyntax", "/doku.php?id=new+page"]),
            to: .swift,
            reason: ""
        )
        #expect(flip.changed == ["/doku.php?id=new%20page", "/doku.php?id=wiki:syntax"])
        #expect(try storeCall { try database.inventory.url(siteID: siteID, path: "/doku.php") }?.plannedOwner == nil)
        await #expect(throws: PlanError.self) {
            try await database.plan.flip(siteID: siteID, .paths(["/feed.php?id=x"]), to: .swift, reason: "")
        }
        let input = try storeCall { try database.plan.exportInput(site: site) }
        #expect(input.flips.map(\.path) == ["/doku.php?id=new%20page", "/doku.php?id=wiki:syntax"])

        // The key cannot be dropped while pages of it are planned for Swift.
        await #expect(throws: StoreError.self) { try await database.sites.save(settings) }
        try await database.plan.flip(siteID: siteID, .prefix("/doku.php?id="), to: .php, reason: "")
        // A re-crawl keeps the pages; when doku.php goes, its pages go to the fallback with it.
        try Self.crawl(database, siteID: siteID, ["/doku.php", "/feed.php"])
        #expect(try storeCall { try database.inventory.urls(siteID: siteID) }.filter { $0.urlFlags.contains(.queryPage) }.count == 4)
        try Self.crawl(database, siteID: siteID, ["/feed.php"])
        let moved = try storeCall { try database.inventory.urls(siteID: siteID) }.filter { $0.urlFlags.contains(.queryPage) }
        #expect(moved.count == 4 && moved.allSatisfy { $0.owner == .swift }, "\(moved.map { "\($0.path) \($0.owner)" })")
        // Dropping the key (nothing planned now) drops its pages.
        try await database.sites.save(settings)
        #expect(try storeCall { try database.inventory.urls(siteID: siteID) }.filter { $0.urlFlags.contains(.queryPage) }.isEmpty)
    }

    /// On a front-controller site a prefix without a query is a route; one with a query still
    /// selects query-identified pages; a prefix with a control character is refused where it enters.
    @Test func prefixesOnAFrontControllerSite() async throws {
        let database = try AppDatabase(writer: DatabaseQueue())
        var settings = SiteSettings(name: "app", docroot: "/srv/www", publicURL: "http://127.0.0.1:8081", backendURL: "http://127.0.0.1:8080")
        settings.frontController = "/index.php"
        settings.pageKeys = [PageKey(script: "/index.php", key: "page")]
        let site = try await database.sites.add(settings)
        try Self.crawl(database, siteID: site.id, ["/index.php"])
        try await database.plan.flip(siteID: site.id, .paths(["/index.php?page=about", "/index.php?page=team"]), to: .swift, reason: "")
        let back = try await database.plan.flip(siteID: site.id, .prefix("/index.php?page="), to: .php, reason: "")
        #expect(back.changed == ["/index.php?page=about", "/index.php?page=team"])
        #expect(try storeCall { try database.plan.routePrefixes(siteID: site.id) }.isEmpty)
        await #expect(throws: PlanError.invalidPath("/blog%0A/")) {
            try await database.plan.flip(siteID: site.id, .prefix("/blog%0A/"), to: .swift, reason: "")
        }
        let route = try await database.plan.flip(siteID: site.id, .prefix("/blog/"), to: .swift, reason: "")
        let prefixes = try storeCall { try database.plan.routePrefixes(siteID: site.id) }
        #expect(route.changed == ["/blog/*"] && prefixes == ["/blog/"])
    }
}
