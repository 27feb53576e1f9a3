import CutoverCore
import CutoverTestSupport
import Foundation
import GRDB
import Testing

@testable import CutoverStore

/// Swift's share of page traffic, port next, orphans, includes and noise, from a real inventory
/// and imported traffic in one database.
@Suite struct TrafficSummaryTests {
    @Test func figuresComeFromTheInventoryTheProbesAndTheLog() async throws {
        var database = try AppDatabase(writer: DatabaseQueue())
        let now = Date(timeIntervalSince1970: 1_793_707_200)  // 2026-11-03 12:00 UTC
        database.clock = .fixed(now)
        let site = try await database.sites.add(
            SiteSettings(name: "shop", docroot: "/srv/www", publicURL: "http://127.0.0.1:8081", backendURL: "http://127.0.0.1:8080")
        )
        let siteID = site.id
        let crawl = try storeCall { try database.crawls.begin(siteID: siteID) }
        let changes = InventoryChanges(
            inserting: ["/a.php", "/b.php", "/c.php", "/d.php", "/e.php", "/style.css"].map { path in
                FoundURL(
                    path: path,
                    filePath: String(path.dropFirst()),
                    owner: path.hasSuffix(".css") ? .static : .php,
                    size: 1,
                    mtime: 1,
                    contentHash: "x",
                    flags: []
                )
            }
        )
        _ = try storeCall { try database.crawls.finish(crawl, changes: changes, issues: [], filesSeen: 6) }
        // What probes saw: /b.php already answers from Swift, /c.php is refused (an include).
        try await database.writer.write { db in
            try db.execute(sql: "UPDATE urls SET observed_owner = 'swift', last_status = 200 WHERE path = '/b.php'")
            try db.execute(sql: "UPDATE urls SET observed_owner = 'php', last_status = 403 WHERE path = '/c.php'")
            try db.execute(sql: "UPDATE urls SET last_status = 200 WHERE path = '/d.php'")
        }
        let yesterday = 20_759
        var batch = TrafficBatch()
        func add(_ path: String, hits: Int, bots: Int = 0, status4xx: Int = 0, attributed: Int = 0, swift: Int = 0) {
            var counts = TrafficCounts()
            counts.hits = hits
            counts.botHits = bots
            counts.status4xx = status4xx
            counts.status2xx = hits - status4xx
            counts.attributed = attributed
            counts.servedSwift = swift
            if bots == 0 {
                counts.humanAttributed = attributed
                counts.humanServedSwift = swift
            }
            counts.firstSeen = yesterday * 86_400
            counts.lastSeen = yesterday * 86_400
            batch.paths[path] = counts
            batch.days[TrafficBatch.DayKey(day: yesterday, path: path)] = counts
        }
        add("/a.php", hits: 10, bots: 2)
        add("/b.php", hits: 5)
        add("/e.php", hits: 3, attributed: 3, swift: 3)
        add("/style.css", hits: 100)
        add("/missing/route", hits: 4)
        add("/wp-login.php", hits: 7, bots: 7, status4xx: 7)
        // Requested URLs with control characters: pages of the fallback in the figures, never rows.
        add("/x%0ALoadModule%20evil%20/tmp/e.so", hits: 2, bots: 2)
        add("/y%7F", hits: 1, bots: 1)
        _ = try storeCall { try database.traffic.record(batch, siteID: siteID) }

        let summary = try await database.traffic.summary(siteID: siteID, orphanDays: 30)
        #expect(summary.logsFrom == "2026-11-02" && summary.logsTo == "2026-11-02")
        let share = summary.last7
        #expect(share.pageHits == 25)
        #expect(share.swiftHits == 15)
        #expect(share.byLog == 3 && share.byProbe == 5 && share.byPlan == 17)
        #expect(abs((share.percentOnSwift ?? 0) - 1500.0 / 25) < 0.001)
        // People only: /a.php loses its 2 bot hits, the control-character URLs were all bots.
        #expect(share.humanPageHits == 20 && share.humanSwiftHits == 12 && share.humanPercentOnSwift == 60)
        #expect(
            summary.last30
                == {
                    var same = share
                    same.days = 30
                    return same
                }()
        )
        #expect(summary.portNext.map(\.path) == ["/a.php", "/b.php", "/e.php"])
        #expect(summary.portNext.first?.humanHits == 8)
        #expect(summary.orphans == ["/d.php"] && summary.orphanCount == 1)
        // The probes here are written by hand, so nothing has marked includes yet.
        #expect(summary.includeCount == 0)
        #expect(summary.noiseCount == 1 && summary.noiseHits == 7 && summary.noise.map(\.path) == ["/wp-login.php"])

        // Requested URLs without a file join the inventory as the fallback's, once; noise does not.
        #expect(try storeCall { try database.traffic.addRequestedURLs(siteID: siteID) } == 1)
        let added = try #require(try storeCall { try database.inventory.urls(siteID: siteID) }.first { $0.path == "/missing/route" })
        #expect(added.owner == .swift && added.urlFlags == [.fromLog] && added.filePath == nil)
        #expect(try storeCall { try database.traffic.addRequestedURLs(siteID: siteID) } == 0)
        // The import marked /c.php (refused, never requested) as an include.
        #expect(try await database.traffic.summary(siteID: siteID).includes == ["/c.php"])
        #expect(try storeCall { try database.inventory.urls(siteID: siteID) }.contains { $0.path == "/wp-login.php" } == false)
        #expect(
            try storeCall { try database.inventory.urls(siteID: siteID) }.contains { $0.path.hasPrefix("/x%0A") || $0.path == "/y%7F" } == false
        )
        // A re-crawl that finds no file for it leaves it alone; the figures do not change.
        let recrawl = InventoryChanges.between(known: try storeCall { try database.crawls.knownURLs(siteID: siteID) }, found: [])
        #expect(!recrawl.removals.contains { $0.id == added.id })
        #expect(try await database.traffic.summary(siteID: siteID).last7 == share)

        // A flip planned for /a.php takes it off "port next"; a week later the window is empty.
        try await database.writer.write { db in try db.execute(sql: "UPDATE urls SET planned_owner = 'swift' WHERE path = '/a.php'") }
        #expect(try await database.traffic.summary(siteID: siteID).portNext.map(\.path) == ["/b.php", "/e.php"])
        database.clock = .fixed(now.addingTimeInterval(8 * 86_400))
        let later = try await database.traffic.summary(siteID: siteID)
        #expect(later.last7.pageHits == 0 && later.last7.percentOnSwift == nil && later.last30.pageHits == 25)
    }

    /// Includes come from a real probe run and the traffic: the burndown, "% on Swift", ready to
    /// flip and the URL filters count pages only; a request by a person makes an include a page
    /// again, and a re-crawl keeps the flag without counting the file as changed.
    @Test func includesAreNoPages() async throws {
        let database = try AppDatabase(writer: DatabaseQueue())
        let site = try await database.sites.add(
            SiteSettings(name: "wiki", docroot: "/srv/www", publicURL: "http://127.0.0.1:8081", backendURL: "http://127.0.0.1:8080")
        )
        let siteID = site.id
        func found(_ path: String, mtime: Double = 1) -> FoundURL {
            FoundURL(
                path: path,
                filePath: String(path.dropFirst()),
                owner: path.hasSuffix(".css") ? .static : .php,
                size: 1,
                mtime: mtime,
                contentHash: "x",
                flags: path.hasPrefix("/.") ? [.hidden] : []
            )
        }
        let paths = ["/index.php", "/lib/a.php", "/lib/b.php", "/empty.php", "/style.css"]
        let changes = InventoryChanges(inserting: paths.map { found($0) })
        _ = try await offPool {
            try database.crawls.finish(try database.crawls.begin(siteID: siteID), changes: changes, issues: [], filesSeen: paths.count)
        }

        let answers: [String: (status: Int, length: Int64)] = [
            "/index.php": (200, 120), "/lib/a.php": (403, 199), "/lib/b.php": (500, 0), "/empty.php": (200, 0), "/style.css": (200, 7),
        ]
        let run = try await database.probes.beginRun(siteID: siteID, concurrency: 1)
        let outcomes = try await database.probes.targets(siteID: siteID).map { target in
            let answer = answers[target.path]!
            return ProbeOutcome(
                target: target,
                observation: ProbeObservation(status: answer.status, observedOwner: target.owner, contentLength: answer.length),
                backendStatus: target.owner == .php ? 200 : nil
            )
        }
        try await database.probes.saveResults(runID: run.id!, outcomes)
        let finished = try await database.probes.finishRun(run, fallback: FallbackHealth(path: "/x", observation: ProbeObservation(status: 200)))

        #expect(finished.readyCount == 1, "the three includes are no pages to flip")
        let counts = try storeCall { try database.inventory.summary(siteID: siteID) }
        #expect(counts.php == 1 && counts.includes == 3 && counts.static == 1)
        let progress = try await database.inventory.progress(of: site)
        #expect(progress.series.last?.php == 1, "the burndown counts pages")
        var ready = URLQuery()
        ready.readyToFlip = true
        #expect(try storeCall { try database.inventory.urls(siteID: siteID, query: ready) }.isEmpty, "answers, not compared: not ready")
        // Parity found the pages the same (an include too): ready to flip is the page only.
        try await database.writer.write { db in try db.execute(sql: "UPDATE urls SET parity = 'same'") }
        #expect(try storeCall { try database.inventory.urls(siteID: siteID, query: ready) }.map(\.path) == ["/index.php"])
        var includes = URLQuery()
        includes.include = true
        #expect(
            try storeCall { try database.inventory.urls(siteID: siteID, query: includes) }.map(\.path) == [
                "/empty.php", "/lib/a.php", "/lib/b.php",
            ]
        )
        includes.include = false
        #expect(try storeCall { try database.inventory.urls(siteID: siteID, query: includes) }.map(\.path) == ["/index.php", "/style.css"])
        #expect(try storeCall { try database.inventory.urls(siteID: siteID, query: ready) }.first?.urlFlags.names == [])

        // A person asks for /empty.php (a bot's requests do not count): it is a page after all.
        var batch = TrafficBatch()
        for (path, bots) in [("/empty.php", 0), ("/lib/a.php", 3)] {
            var counts = TrafficCounts()
            counts.hits = 3
            counts.botHits = bots
            counts.status2xx = 3
            batch.paths[path] = counts
        }
        _ = try storeCall { try database.traffic.record(batch, siteID: siteID) }
        _ = try storeCall { try database.traffic.addRequestedURLs(siteID: siteID) }
        let after = try storeCall { try database.inventory.summary(siteID: siteID) }
        #expect(after.php == 2 && after.includes == 2)
        let summary = try await database.traffic.summary(siteID: siteID)
        #expect(summary.includeCount == 2 && summary.includes == ["/lib/a.php", "/lib/b.php"])

        // A re-crawl: unchanged files are not updates, and a changed include stays one.
        let known = try storeCall { try database.crawls.knownURLs(siteID: siteID) }
        let same = InventoryChanges.between(known: known, found: paths.map { found($0) })
        #expect(same.updates.isEmpty && same.inserts.isEmpty)
        let touched = InventoryChanges.between(known: known, found: paths.map { found($0, mtime: $0 == "/lib/a.php" ? 2 : 1) })
        #expect(touched.updates.count == 1)
        _ = try await offPool {
            try database.crawls.finish(try database.crawls.begin(siteID: siteID), changes: touched, issues: [], filesSeen: paths.count)
        }
        #expect(try storeCall { try database.inventory.summary(siteID: siteID) }.includes == 2)
    }
}
