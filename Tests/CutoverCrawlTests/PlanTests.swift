import CutoverCore
import CutoverStore
import Foundation
import Testing

/// The plan over a crawled inventory: flips, groups, refusals, events.
@Suite struct PlanTests {
    func fixture() throws -> CrawlFixture {
        let fixture = try CrawlFixture()
        for file in ["index.php", "page-1.php", "page-2.php", "old page.php", "about/index.php", "blog/a.php", "blog/b.php", "css/site.css"] {
            try fixture.write(file)
        }
        try fixture.crawl()
        return fixture
    }

    @Test func flipRecordsEventsAndRollsBack() throws {
        let fixture = try fixture()
        defer { fixture.cleanup() }
        let database = fixture.database
        let id = fixture.site.id
        let result = try database.flip(siteID: id, .paths(["/old page.php"]), to: .swift, reason: "rewritten", actor: "test")
        #expect(result.changed == ["/old%20page.php"])
        let url = try #require(try fixture.urls()["/old%20page.php"])
        #expect(url.plannedOwner == .swift && url.expectedOwner == .swift && url.owner == .php)
        var events = try database.ownershipEvents(urlID: url.id)
        #expect(events.map(\.toOwner) == [.swift])
        #expect(events.last?.reason == "planned: rewritten" && events.last?.actor == "test")
        // Flipping again changes nothing and records nothing.
        #expect(try database.flip(siteID: id, .paths(["/old%20page.php"]), to: .swift, reason: "again").changed.isEmpty)
        _ = try database.flip(siteID: id, .paths(["/old%20page.php"]), to: .php, reason: "roll back")
        events = try database.ownershipEvents(urlID: url.id)
        #expect(events.map(\.toOwner) == [.swift, .php])
        #expect(try fixture.urls()["/old%20page.php"]?.expectedOwner == .php)
    }

    @Test func directoryURLAndItsIndexFileMoveTogether() throws {
        let fixture = try fixture()
        defer { fixture.cleanup() }
        let result = try fixture.database.flip(siteID: fixture.site.id, .paths(["/"]), to: .swift, reason: "root cutover")
        #expect(result.changed == ["/", "/index.php"])
        #expect(try fixture.urls()["/about/"]?.plannedOwner == nil)
    }

    @Test func bulkByPrefixAndGlobSkipStaticFiles() throws {
        let fixture = try fixture()
        defer { fixture.cleanup() }
        #expect(
            try fixture.database.flip(siteID: fixture.site.id, .prefix("/blog/"), to: .swift, reason: "").changed == ["/blog/a.php", "/blog/b.php"]
        )
        #expect(
            try fixture.database.flip(siteID: fixture.site.id, .glob("/page-*"), to: .swift, reason: "").changed == ["/page-1.php", "/page-2.php"]
        )
        #expect(throws: PlanError.nothingSelected("prefix '/css/'")) {
            try fixture.database.flip(siteID: fixture.site.id, .prefix("/css/"), to: .swift, reason: "")
        }
    }

    @Test func refusalsChangeNothing() throws {
        let fixture = try fixture()
        defer { fixture.cleanup() }
        let id = fixture.site.id
        let before = try fixture.urls()
        #expect(throws: PlanError.staticFile("/css/site.css")) {
            try fixture.database.flip(siteID: id, .paths(["/page-1.php", "/css/site.css"]), to: .swift, reason: "")
        }
        #expect(throws: PlanError.unknownURL("/nope.php")) {
            try fixture.database.flip(siteID: id, .paths(["/page-1.php", "/nope.php"]), to: .swift, reason: "")
        }
        #expect(throws: PlanError.invalidPath("page-1.php")) { try fixture.database.flip(siteID: id, .paths(["page-1.php"]), to: .swift, reason: "") }
        #expect(throws: PlanError.invalidTarget(.static)) { try fixture.database.flip(siteID: id, .paths(["/page-1.php"]), to: .static, reason: "") }
        #expect(try fixture.urls() == before)
        // A page whose file is gone cannot go back to PHP.
        try fixture.remove("page-2.php")
        try fixture.crawl()
        #expect(throws: PlanError.noPHPFile("/page-2.php")) { try fixture.database.flip(siteID: id, .paths(["/page-2.php"]), to: .php, reason: "") }
    }

    @Test func exportInputHasFlipsWithFilesAndRedirects() throws {
        let fixture = try fixture()
        defer { fixture.cleanup() }
        let id = fixture.site.id
        _ = try fixture.database.flip(siteID: id, .paths(["/page-1.php"]), to: .swift, reason: "")
        _ = try fixture.database.flip(siteID: id, .paths(["/page-2.php"]), to: .swift, reason: "", redirectTo: "/pages/two")
        let input = try fixture.database.exportInput(site: fixture.site)
        #expect(input.flips == [PageFlip(path: "/page-1.php")])
        #expect(input.redirects == [PageRedirect(from: "/page-2.php", to: "/pages/two")])
    }
}
