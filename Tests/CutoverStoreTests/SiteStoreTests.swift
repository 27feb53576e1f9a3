import CutoverCore
import CutoverTestSupport
import Foundation
import GRDB
import Testing

@testable import CutoverStore

@Suite struct SiteStoreTests {
    let database: AppDatabase
    init() throws { database = try AppDatabase(writer: DatabaseQueue()) }

    func settings(_ name: String = "shop") -> SiteSettings {
        SiteSettings(name: name, docroot: "/srv/www", publicURL: "http://127.0.0.1:8081", backendURL: "http://127.0.0.1:8080")
    }

    @Test func addListReadRemove() async throws {
        try await database.sites.add(settings("b"))
        try await database.sites.add(settings("a"))
        #expect(try await database.sites.all().map(\.name) == ["a", "b"])
        #expect(try await database.sites.named("a").settings == settings("a"))
        try await database.sites.remove(named: "a")
        await #expect(throws: StoreError.unknownSite("a")) { try await database.sites.named("a") }
        await #expect(throws: StoreError.unknownSite("a")) { try await database.sites.remove(named: "a") }
    }

    @Test func duplicateNamesAreRefused() async throws {
        try await database.sites.add(settings())
        await #expect(throws: StoreError.siteExists("shop")) { try await database.sites.add(settings()) }
    }

    @Test func invalidSettingsAreRefusedAndNothingIsWritten() async throws {
        var bad = settings()
        bad.publicURL = "ftp://x"
        await #expect(throws: StoreError.self) { try await database.sites.add(bad) }
        #expect(try await database.sites.all().isEmpty)
    }

    @Test func upsertKeepsIdentity() async throws {
        let first = try await database.sites.save(settings())
        var changed = settings()
        changed.backendURL = "http://127.0.0.1:9000"
        let second = try await database.sites.save(changed)
        #expect(first.id == second.id)
        #expect(try await database.sites.named("shop").backendURL == "http://127.0.0.1:9000")
    }

    @Test func nodesAreStoredNormalisedInTheirOrder() async throws {
        var withNodes = settings()
        withNodes.nodes = ["http://10.0.0.3:80/", "HTTP://Node-2.Example"]
        try await database.sites.save(withNodes)
        #expect(try await database.sites.named("shop").nodes == ["http://10.0.0.3:80", "http://node-2.example"])
        withNodes.nodes = []
        try await database.sites.save(withNodes)
        #expect(try await database.sites.named("shop").nodes.isEmpty)
    }

    @Test func crawlsOfDeadProcessesAreMarkedInterrupted() async throws {
        let site = try await database.sites.add(settings())
        try await database.writer.write { db in
            // pid 2^22+1 is above Linux's pid_max default range and cannot be a live process.
            try db.execute(
                sql: "INSERT INTO crawls (site_id, started_at, status, pid) VALUES (?, '2025-01-01 00:00:00.000', 'running', 4194305)",
                arguments: [site.id]
            )
        }
        let live = try storeCall { try database.crawls.begin(siteID: site.id) }
        let crawls = try storeCall { try database.crawls.recent(siteID: site.id) }
        #expect(crawls.first { $0.id != live.id }?.status == .interrupted)
        #expect(crawls.first { $0.id == live.id }?.status == .running)
    }

    @Test func probeRunsOfDeadProcessesAreMarkedInterrupted() async throws {
        let site = try await database.sites.add(settings())
        try await database.writer.write { db in
            try db.execute(
                sql:
                    "INSERT INTO probe_runs (site_id, started_at, status, pid, concurrency) VALUES (?, '2025-01-01 00:00:00.000', 'running', 4194305, 16)",
                arguments: [site.id]
            )
        }
        let live = try await database.probes.beginRun(siteID: site.id, concurrency: 4)
        let runs = try try await storeCall { try database.probes.runs(siteID: site.id) }
        #expect(runs.first { $0.id != live.id }?.status == .interrupted)
        #expect(runs.first { $0.id == live.id }?.status == .running)
    }
}

extension SiteStoreTests {
    /// Setting a front controller makes the routes PHP's: a route PHP answered is no longer drift
    /// (it stayed "expected php, observed php" until the next probe).
    @Test func driftFollowsTheSettingsAtOnce() async throws {
        let site = try await database.sites.add(settings())
        try await database.writer.write { db in
            try db.execute(
                sql: """
                    INSERT INTO urls (site_id, path, owner, flags, observed_owner, drift) VALUES (?1, '/hello/', 'swift', 0, 'php', 1),
                      (?1, '/gone-wrong/', 'swift', 0, 'static', 1)
                    """,
                arguments: [site.id]
            )
        }
        #expect(try storeCall { try database.inventory.driftCount(siteID: site.id) } == 2)
        var withController = settings()
        withController.frontController = "/index.php"
        try await database.sites.save(withController)
        #expect(try storeCall { try database.probes.driftedURLs(siteID: site.id) }.map(\.path) == ["/gone-wrong/"])
        try await database.sites.save(settings())
        #expect(try storeCall { try database.inventory.driftCount(siteID: site.id) } == 2)
    }
}
