import CutoverCore
import CutoverCrawl
import CutoverStore
import CutoverTestSupport
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

@Suite struct RecrawlTests {
    /// The walk's compact tables put URL paths, display paths and filesystem paths together
    /// from a directory's prefixes and a name in an arena: on a tree with nested folders,
    /// directory indexes, names that need percent-encoding and a name that is not UTF-8, a
    /// second crawl must find every row unchanged, and a changed index file must change both
    /// its URL and its directory's.
    @Test func secondCrawlOfAVariedTreeChangesNothing() async throws {
        let fixture = try await CrawlFixture()
        defer { fixture.cleanup() }
        try fixture.write("dir/index.php", "<?php echo 1;")
        try fixture.write("dir/sub/deeper/page.php")
        try fixture.write("odd name é #1.html")
        try fixture.write("a%b?c.php")
        try fixture.write(".hidden/x.css")
        try fixture.write("index.html", "home")
        let bad: [UInt8] = Array("\(fixture.docroot)/dir/sub/bad".utf8) + [0xFF] + Array(".php".utf8) + [0]
        let fd = bad.withUnsafeBufferPointer { buffer in
            buffer.baseAddress!.withMemoryRebound(to: CChar.self, capacity: buffer.count) { open($0, O_CREAT | O_WRONLY, 0o644) }
        }
        #expect(fd >= 0)
        close(fd)
        let first = try fixture.crawl().crawl
        let before = try fixture.urls()
        #expect(
            Set(before.keys) == [
                "/", "/index.html", "/dir/", "/dir/index.php", "/dir/sub/deeper/page.php", "/odd%20name%20%C3%A9%20%231.html",
                "/a%25b%3Fc.php", "/.hidden/x.css", "/dir/sub/bad%FF.php",
            ]
        )
        #expect(before["/dir/sub/bad%FF.php"]?.filePath == "dir/sub/bad\u{FFFD}.php")
        #expect(before["/odd%20name%20%C3%A9%20%231.html"]?.filePath == "odd name é #1.html")
        #expect(before["/dir/"]?.filePath == "dir/index.php")
        #expect(before["/dir/"]?.contentHash != nil && before["/dir/"]?.contentHash == before["/dir/index.php"]?.contentHash)
        #expect(before["/"]?.contentHash == before["/index.html"]?.contentHash)

        let second = try fixture.crawl().crawl
        #expect(second.urlsAdded == 0 && second.urlsChanged == 0 && second.urlsRemoved == 0)
        let after = try fixture.urls()
        for (path, url) in after {
            #expect(url == before[path], "\(path)")
            #expect(url.changedCrawl == first.id)
        }

        try fixture.write("dir/index.php", "<?php echo 'changed';")
        let third = try fixture.crawl().crawl
        #expect(third.urlsChanged == 2 && third.urlsAdded == 0 && third.urlsRemoved == 0)
        let changed = try fixture.urls()
        #expect(changed["/dir/index.php"]?.contentHash != before["/dir/index.php"]?.contentHash)
        #expect(changed["/dir/"]?.contentHash == changed["/dir/index.php"]?.contentHash)
        #expect(changed["/dir/sub/deeper/page.php"] == before["/dir/sub/deeper/page.php"])
    }

    @Test func secondCrawlWithoutChangesChangesNothing() async throws {
        let fixture = try await CrawlFixture()
        defer { fixture.cleanup() }
        try fixture.write("a.php")
        try fixture.write("b.css")
        let first = try fixture.crawl().crawl
        let before = try fixture.urls()
        let second = try fixture.crawl().crawl
        #expect(second.urlsAdded == 0 && second.urlsChanged == 0 && second.urlsRemoved == 0)
        let after = try fixture.urls()
        #expect(after.keys == before.keys)
        for (path, url) in after {
            #expect(url.firstSeenCrawl == first.id)
            // A no-change crawl writes no URL row (it used to rewrite them all).
            #expect(url.changedCrawl == first.id)
            #expect(url == before[path])
            #expect(url.contentHash == before[path]?.contentHash)
        }
    }

    @Test func addedAndChangedFilesAreSeen() async throws {
        let fixture = try await CrawlFixture()
        defer { fixture.cleanup() }
        try fixture.write("a.php", "one")
        try fixture.crawl()
        let oldHash = try fixture.urls()["/a.php"]?.contentHash
        try fixture.write("a.php", "two")  // same size: only mtime and content differ
        try fixture.touch("a.php", secondsAgo: -5)
        try fixture.write("new.php")
        let crawl = try fixture.crawl().crawl
        #expect(crawl.urlsAdded == 1)
        #expect(crawl.urlsChanged == 1)
        let urls = try fixture.urls()
        #expect(urls["/new.php"]?.firstSeenCrawl == crawl.id)
        #expect(urls["/a.php"]?.contentHash != oldHash)
        #expect(urls["/a.php"]?.changedCrawl == crawl.id)
    }

    @Test func hashIsNotRecomputedWhenSizeAndMtimeAreUnchanged() async throws {
        let fixture = try await CrawlFixture()
        defer { fixture.cleanup() }
        let stamp = Date(timeIntervalSince1970: 1_700_000_000)
        try fixture.write("a.php", "one")
        try FileManager.default.setAttributes([.modificationDate: stamp], ofItemAtPath: "\(fixture.docroot)/a.php")
        try fixture.crawl()
        // Same size, same mtime, different bytes: a crawl that trusts size+mtime keeps the old hash.
        try fixture.write("a.php", "two")
        try FileManager.default.setAttributes([.modificationDate: stamp], ofItemAtPath: "\(fixture.docroot)/a.php")
        let hashBefore = try fixture.urls()["/a.php"]?.contentHash
        try fixture.crawl()
        #expect(try fixture.urls()["/a.php"]?.contentHash == hashBefore)
    }

    @Test func removedPHPPageBecomesSwiftWithAnEvent() async throws {
        let fixture = try await CrawlFixture()
        defer { fixture.cleanup() }
        try fixture.write("page-1.php")
        try fixture.write("page-2.php")
        try fixture.crawl()
        try fixture.remove("page-1.php")
        let crawl = try fixture.crawl().crawl
        #expect(crawl.urlsRemoved == 1)
        let url = try #require(try fixture.urls()["/page-1.php"])
        #expect(url.owner == .swift)
        #expect(url.filePath == nil)
        let events = try storeCall { try fixture.database.inventory.events(urlID: url.id) }
        #expect(events.map(\.fromOwner) == [.php])
        #expect(events.map(\.toOwner) == [.swift])
        #expect(events.first?.reason.contains("fallback") == true)
        // Swift's by the plan, but no probe has seen Swift answer it: planned, not on Swift.
        let summary = try storeCall { try fixture.database.inventory.summary(siteID: fixture.site.id) }
        #expect(summary.planned == 1 && summary.swift == 0 && summary.php == 1 && summary.percentOnSwift == 0)
        // A third crawl must not add a second event.
        try fixture.crawl()
        #expect(try storeCall { try fixture.database.inventory.events(urlID: url.id) }.count == 1)
        // The file coming back hands the page back to PHP.
        try fixture.write("page-1.php")
        try fixture.crawl()
        #expect(try fixture.urls()["/page-1.php"]?.owner == .php)
        #expect(try storeCall { try fixture.database.inventory.events(urlID: url.id) }.map(\.toOwner) == [.swift, .php])
    }

    @Test func removedIndexMovesTheDirectoryURLToSwift() async throws {
        let fixture = try await CrawlFixture()
        defer { fixture.cleanup() }
        try fixture.write("about/index.php")
        try fixture.write("about/team.php")
        try fixture.crawl()
        try fixture.remove("about/index.php")
        try fixture.crawl()
        let owners = try fixture.owners()
        #expect(owners["/about/"] == .swift)
        #expect(owners["/about/index.php"] == .swift)
        #expect(owners["/about/team.php"] == .php)
    }

    @Test func removedStaticFileIsMarkedGone() async throws {
        let fixture = try await CrawlFixture()
        defer { fixture.cleanup() }
        try fixture.write("img/a.png")
        try fixture.crawl()
        try fixture.remove("img/a.png")
        try fixture.crawl()
        let url = try #require(try fixture.urls()["/img/a.png"])
        #expect(url.gone)
        #expect(url.owner == .static)
        #expect(try fixture.owners()["/img/a.png"] == nil)
        #expect(try storeCall { try fixture.database.inventory.summary(siteID: fixture.site.id) }.gone == 1)
    }

    @Test func failedCrawlLeavesPreviousInventoryIntact() async throws {
        let fixture = try await CrawlFixture()
        defer { fixture.cleanup() }
        try fixture.write("a.php")
        try fixture.crawl()
        let before = try fixture.urls()
        try FileManager.default.removeItem(atPath: fixture.docroot)
        #expect(throws: CrawlError.self) { try fixture.crawl() }
        #expect(try fixture.urls() == before)
    }
}
