import CutoverCore
import CutoverStore
import CutoverTestSupport
import Foundation
import GRDB
import Testing

@Suite struct SiteStoreTests {
    let database: AppDatabase
    init() throws { database = try AppDatabase(writer: DatabaseQueue()) }

    func settings(_ name: String = "shop") -> SiteSettings {
        SiteSettings(name: name, docroot: "/srv/www", publicURL: "http://127.0.0.1:8081", backendURL: "http://127.0.0.1:8080")
    }

    @Test func addListReadRemove() throws {
        try database.addSite(settings("b"))
        try database.addSite(settings("a"))
        #expect(try database.sites().map(\.name) == ["a", "b"])
        #expect(try database.site(named: "a").settings == settings("a"))
        try database.removeSite(named: "a")
        #expect(throws: StoreError.unknownSite("a")) { try database.site(named: "a") }
        #expect(throws: StoreError.unknownSite("a")) { try database.removeSite(named: "a") }
    }

    @Test func duplicateNamesAreRefused() throws {
        try database.addSite(settings())
        #expect(throws: StoreError.siteExists("shop")) { try database.addSite(settings()) }
    }

    @Test func invalidSettingsAreRefusedAndNothingIsWritten() throws {
        var bad = settings()
        bad.publicURL = "ftp://x"
        #expect(throws: StoreError.self) { try database.addSite(bad) }
        #expect(try database.sites().isEmpty)
    }

    @Test func upsertKeepsIdentity() throws {
        let first = try database.upsertSite(settings())
        var changed = settings()
        changed.backendURL = "http://127.0.0.1:9000"
        let second = try database.upsertSite(changed)
        #expect(first.id == second.id)
        #expect(try database.site(named: "shop").backendURL == "http://127.0.0.1:9000")
    }

    @Test func crawlsOfDeadProcessesAreMarkedInterrupted() throws {
        let site = try database.addSite(settings())
        try database.writer.write { db in
            // pid 2^22+1 is above Linux's pid_max default range and cannot be a live process.
            try db.execute(
                sql: "INSERT INTO crawls (site_id, started_at, status, pid) VALUES (?, '2025-01-01 00:00:00.000', 'running', 4194305)",
                arguments: [site.id]
            )
        }
        let live = try database.beginCrawl(siteID: site.id)
        let crawls = try database.crawls(siteID: site.id)
        #expect(crawls.first { $0.id != live.id }?.status == .interrupted)
        #expect(crawls.first { $0.id == live.id }?.status == .running)
    }

    @Test func probeRunsOfDeadProcessesAreMarkedInterrupted() async throws {
        let site = try await database.addSite(settings())
        try await database.writer.write { db in
            try db.execute(
                sql:
                    "INSERT INTO probe_runs (site_id, started_at, status, pid, concurrency) VALUES (?, '2025-01-01 00:00:00.000', 'running', 4194305, 16)",
                arguments: [site.id]
            )
        }
        let live = try await database.beginProbeRun(siteID: site.id, concurrency: 4)
        let runs = try await database.probeRuns(siteID: site.id)
        #expect(runs.first { $0.id != live.id }?.status == .interrupted)
        #expect(runs.first { $0.id == live.id }?.status == .running)
    }
}

extension SiteStoreTests {
    /// Setting a front controller makes the routes PHP's: a route PHP answered is no longer drift
    /// (it stayed "expected php, observed php" until the next probe).
    @Test func driftFollowsTheSettingsAtOnce() throws {
        let site = try database.addSite(settings())
        try database.writer.write { db in
            try db.execute(
                sql: """
                    INSERT INTO urls (site_id, path, owner, flags, observed_owner, drift) VALUES (?1, '/hello/', 'swift', 0, 'php', 1),
                      (?1, '/gone-wrong/', 'swift', 0, 'static', 1)
                    """,
                arguments: [site.id]
            )
        }
        #expect(try database.driftCount(siteID: site.id) == 2)
        var withController = settings()
        withController.frontController = "/index.php"
        try database.upsertSite(withController)
        #expect(try database.driftedURLs(siteID: site.id).map(\.path) == ["/gone-wrong/"])
        try database.upsertSite(settings())
        #expect(try database.driftCount(siteID: site.id) == 2)
    }
}
