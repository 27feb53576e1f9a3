import CutoverCore
import CutoverTestSupport
import Foundation
import GRDB
import Testing

@testable import CutoverStore

/// Parity runs as stored (#27.5): each page's latest verdict on its URL row, counts, the
/// probe's retention, a run that fails or dies storing nothing, hostile values kept as text.
@Suite struct ParityStoreTests {
    static func site() async throws -> (AppDatabase, SiteRecord, [String: Int64]) {
        let database = try AppDatabase(writer: DatabaseQueue())
        var settings = SiteSettings(name: "shop", docroot: "/srv/www", publicURL: "http://127.0.0.1:9", backendURL: "http://127.0.0.1:9")
        settings.probeRetention = 2
        let site = try await database.sites.add(settings)
        let paths = ["/a.php", "/b.php", "/c.php"]
        let changes = InventoryChanges(
            inserting: paths.map { FoundURL(path: $0, filePath: String($0.dropFirst()), owner: .php, size: 1, mtime: 1, contentHash: "x", flags: []) }
        )
        let siteID = site.id
        _ = try await offPool {
            try database.crawls.finish(try database.crawls.begin(siteID: siteID), changes: changes, issues: [], filesSeen: paths.count)
        }
        let urls = try storeCall { try database.inventory.urls(siteID: site.id, query: URLQuery()) }
        return (database, site, Dictionary(uniqueKeysWithValues: urls.map { ($0.path, $0.id) }))
    }

    @Test func aRunSetsEachComparedPagesLatestVerdict() async throws {
        let (database, site, ids) = try await Self.site()
        let hostile = "</td><script>alert(1)</script>\u{0}"
        let first = try await database.parity.beginRun(siteID: site.id, concurrency: 2)
        let done = try await database.parity.finishRun(
            first,
            results: [
                ParityResultRecord(
                    urlID: ids["/a.php"]!,
                    verdict: .same,
                    noise: ["html/body/footer/text()"],
                    fields: 12,
                    phpHash: "aa",
                    swiftHash: "bb"
                ),
                ParityResultRecord(
                    urlID: ids["/b.php"]!,
                    verdict: .different,
                    differences: [ParityFieldDifference(field: "html/head/title/text()", php: hostile, swift: nil)],
                    hidden: ["header:vary": 2]
                ),
                ParityResultRecord(urlID: ids["/c.php"]!, verdict: .notCompared, reason: "on the probe's deny-list (/c*)"),
            ],
            siteNoise: ["html/body/footer/text()"],
            retention: site.probeRetention
        )
        #expect(done.status == .succeeded && done.urlCount == 3 && done.sameCount == 1 && done.differentCount == 1 && done.notComparedCount == 1)
        #expect(done.siteNoise == ["html/body/footer/text()"])
        var urls = try storeCall { try database.inventory.urls(siteID: site.id, query: URLQuery()) }
        #expect(urls.map(\.parity) == [.same, .different, nil], "a page not compared has no verdict")
        #expect(urls.allSatisfy { $0.parity == nil || $0.parityRun == done.id })
        let stored = try storeCall { try database.parity.results(runID: done.id!) }
        #expect(stored.map(\.path) == ["/a.php", "/b.php", "/c.php"])
        #expect(stored[1].result.differences.first?.php == hostile, "kept as text, byte for byte")
        #expect(stored[1].result.hidden == ["header:vary": 2] && stored[0].result.noise == ["html/body/footer/text()"])

        // A later run that compares only /b.php leaves /a.php's verdict; a run that failed changes nothing.
        let second = try await database.parity.beginRun(siteID: site.id, concurrency: 1)
        _ = try await database.parity.finishRun(
            second,
            results: [ParityResultRecord(urlID: ids["/b.php"]!, verdict: .same)],
            siteNoise: [],
            retention: site.probeRetention
        )
        let failed = try await database.parity.beginRun(siteID: site.id, concurrency: 1)
        try await database.parity.failRun(failed, error: "cancelled")
        urls = try storeCall { try database.inventory.urls(siteID: site.id, query: URLQuery()) }
        #expect(urls.map(\.parity) == [.same, .same, nil])
        #expect(try storeCall { try database.parity.history(urlID: ids["/b.php"]!) }.map(\.result.verdict) == [.same, .different])

        // Retention 2, as the probe's: a run keeps itself and the newest other run (the failed
        // one); older runs go with their results, and each page keeps its latest verdict.
        let third = try await database.parity.beginRun(siteID: site.id, concurrency: 1)
        _ = try await database.parity.finishRun(third, results: [], siteNoise: [], retention: site.probeRetention)
        #expect(try storeCall { try database.parity.runs(siteID: site.id) }.map(\.id) == [third.id, failed.id])
        #expect(try storeCall { try database.parity.history(urlID: ids["/b.php"]!) }.isEmpty)
        #expect(try await database.writer.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM parity_results") } == 0)
        urls = try storeCall { try database.inventory.urls(siteID: site.id, query: URLQuery()) }
        #expect(urls.map(\.parity) == [.same, .same, nil])
    }

    /// A run whose process died is marked interrupted when the database is next opened for work.
    @Test func aDeadRunIsInterrupted() async throws {
        let (database, site, _) = try await Self.site()
        var run = try await database.parity.beginRun(siteID: site.id, concurrency: 1)
        run.pid = Int32.max - 7
        try await database.writer.write { [run] db in try run.update(db) }
        #expect(try storeCall { try database.recoverInterruptedRuns() } == 1)
        #expect(try storeCall { try database.parity.runs(siteID: site.id) }.first?.status == .interrupted)
    }
}
