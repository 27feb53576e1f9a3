import CutoverCore
import CutoverStore
import CutoverTestSupport
import Foundation
import Testing

/// The plan over a crawled inventory: flips, groups, refusals, events.
@Suite struct PlanTests {
    func fixture() async throws -> CrawlFixture {
        let fixture = try await CrawlFixture()
        for file in ["index.php", "page-1.php", "page-2.php", "old page.php", "about/index.php", "blog/a.php", "blog/b.php", "css/site.css"] {
            try fixture.write(file)
        }
        try fixture.crawl()
        return fixture
    }

    @Test func flipRecordsEventsAndRollsBack() async throws {
        let fixture = try await fixture()
        defer { fixture.cleanup() }
        let database = fixture.database
        let id = fixture.site.id
        let result = try await database.plan.flip(siteID: id, .paths(["/old page.php"]), to: .swift, reason: "rewritten", actor: "test")
        #expect(result.changed == ["/old%20page.php"])
        let url = try #require(try fixture.urls()["/old%20page.php"])
        #expect(url.plannedOwner == .swift && url.expectedOwner == .swift && url.owner == .php)
        var events = try storeCall { try database.inventory.events(urlID: url.id) }
        #expect(events.map(\.toOwner) == [.swift])
        #expect(events.last?.reason == "planned: rewritten" && events.last?.actor == "test")
        // Flipping again changes nothing and records nothing.
        await #expect(try database.plan.flip(siteID: id, .paths(["/old%20page.php"]), to: .swift, reason: "again").changed.isEmpty)
        _ = try await database.plan.flip(siteID: id, .paths(["/old%20page.php"]), to: .php, reason: "roll back")
        events = try storeCall { try database.inventory.events(urlID: url.id) }
        #expect(events.map(\.toOwner) == [.swift, .php])
        #expect(try fixture.urls()["/old%20page.php"]?.expectedOwner == .php)
    }

    @Test func directoryURLAndItsIndexFileMoveTogether() async throws {
        let fixture = try await fixture()
        defer { fixture.cleanup() }
        let result = try await fixture.database.plan.flip(siteID: fixture.site.id, .paths(["/"]), to: .swift, reason: "root cutover")
        #expect(result.changed == ["/", "/index.php"])
        #expect(try fixture.urls()["/about/"]?.plannedOwner == nil)
    }

    @Test func bulkByPrefixAndGlobSkipStaticFiles() async throws {
        let fixture = try await fixture()
        defer { fixture.cleanup() }
        await #expect(
            try await fixture.database.plan.flip(siteID: fixture.site.id, .prefix("/blog/"), to: .swift, reason: "").changed == [
                "/blog/a.php", "/blog/b.php",
            ]
        )
        await #expect(
            try await fixture.database.plan.flip(siteID: fixture.site.id, .glob("/page-*"), to: .swift, reason: "").changed == [
                "/page-1.php", "/page-2.php",
            ]
        )
        await #expect(throws: PlanError.nothingSelected("prefix '/css/'")) {
            try await fixture.database.plan.flip(siteID: fixture.site.id, .prefix("/css/"), to: .swift, reason: "")
        }
    }

    @Test func refusalsChangeNothing() async throws {
        let fixture = try await fixture()
        defer { fixture.cleanup() }
        let id = fixture.site.id
        let before = try fixture.urls()
        await #expect(throws: PlanError.staticFile("/css/site.css")) {
            try await fixture.database.plan.flip(siteID: id, .paths(["/page-1.php", "/css/site.css"]), to: .swift, reason: "")
        }
        await #expect(throws: PlanError.unknownURL("/nope.php")) {
            try await fixture.database.plan.flip(siteID: id, .paths(["/page-1.php", "/nope.php"]), to: .swift, reason: "")
        }
        await #expect(throws: PlanError.invalidPath("page-1.php")) {
            try await fixture.database.plan.flip(siteID: id, .paths(["page-1.php"]), to: .swift, reason: "")
        }
        await #expect(throws: PlanError.invalidTarget(.static)) {
            try await fixture.database.plan.flip(siteID: id, .paths(["/page-1.php"]), to: .static, reason: "")
        }
        #expect(try fixture.urls() == before)
        // A page whose file is gone cannot go back to PHP.
        try fixture.remove("page-2.php")
        try fixture.crawl()
        await #expect(throws: PlanError.noPHPFile("/page-2.php")) {
            try await fixture.database.plan.flip(siteID: id, .paths(["/page-2.php"]), to: .php, reason: "")
        }
    }

    @Test func exportInputHasFlipsWithFilesAndRedirects() async throws {
        let fixture = try await fixture()
        defer { fixture.cleanup() }
        let id = fixture.site.id
        _ = try await fixture.database.plan.flip(siteID: id, .paths(["/page-1.php"]), to: .swift, reason: "")
        _ = try await fixture.database.plan.flip(siteID: id, .paths(["/page-2.php"]), to: .swift, reason: "", redirectTo: "/pages/two")
        let input = try storeCall { try fixture.database.plan.exportInput(site: fixture.site) }
        #expect(input.flips == [PageFlip(path: "/page-1.php")])
        #expect(input.redirects == [PageRedirect(from: "/page-2.php", to: "/pages/two")])
    }
}
