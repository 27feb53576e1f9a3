import CutoverCore
import CutoverCrawl
import CutoverStore
import CutoverTestSupport
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

@Suite struct CrawlMappingTests {
    @Test func mapsFilesAndIndexesLikeApache() async throws {
        let fixture = try await CrawlFixture()
        defer { fixture.cleanup() }
        try fixture.write("index.php", "<?php echo 1;")
        try fixture.write("page.php")
        try fixture.write("old page.php")
        try fixture.write("img/a.png")
        try fixture.write("about/index.php")
        try fixture.write("docs/index.html")
        try fixture.write("docs/v1/guide/index.php")
        try fixture.write("blog/post.php")  // no index: no /blog/ URL
        try fixture.write("both/index.html")
        try fixture.write("both/index.php")  // DirectoryIndex lists index.php first
        try fixture.crawl()
        let owners = try fixture.owners()
        #expect(
            owners == [
                "/": .php, "/index.php": .php, "/page.php": .php, "/old%20page.php": .php, "/img/a.png": .static,
                "/about/": .php, "/about/index.php": .php, "/docs/": .static, "/docs/index.html": .static,
                "/docs/v1/guide/": .php, "/docs/v1/guide/index.php": .php, "/blog/post.php": .php,
                "/both/": .php, "/both/index.html": .static, "/both/index.php": .php,
            ]
        )
        let urls = try fixture.urls()
        #expect(urls["/about/"]?.filePath == "about/index.php")
        #expect(urls["/about/"]?.urlFlags.contains(.directoryIndex) == true)
        #expect(urls["/old%20page.php"]?.filePath == "old page.php")
        // sha256sum of "<?php echo 1;"
        #expect(urls["/index.php"]?.contentHash == "1b90fd3730db41d00c70bac79074ab336a3acb01f3677629d90a16693362744c")
        #expect(urls["/about/"]?.contentHash == urls["/about/index.php"]?.contentHash)
    }

    @Test func directoryIndexSettingChangesRootOwner() async throws {
        let fixture = try await CrawlFixture(directoryIndex: ["index.html", "index.php"])
        defer { fixture.cleanup() }
        try fixture.write("index.php")
        try fixture.write("index.html")
        try fixture.crawl()
        #expect(try fixture.owners()["/"] == .static)
    }

    @Test func dotfilesAreRecordedWithFlags() async throws {
        let fixture = try await CrawlFixture()
        defer { fixture.cleanup() }
        try fixture.write(".env", "SECRET=1")
        try fixture.write(".htaccess", "Deny from all")
        try fixture.write(".git/config")
        try fixture.write(".well-known/security.txt")
        try fixture.crawl()
        let urls = try fixture.urls()
        #expect(urls["/.env"]?.urlFlags == [.hidden, .sensitive])
        #expect(urls["/.htaccess"]?.urlFlags == [.hidden, .sensitive])
        #expect(urls["/.git/config"]?.urlFlags == [.hidden, .sensitive])
        #expect(urls["/.well-known/security.txt"]?.urlFlags == [.hidden])
        #expect(try storeCall { try fixture.database.inventory.summary(siteID: fixture.site.id) }.sensitive == 3)
    }

    @Test func symlinksInsideAreFollowedOutsideAndLoopsAreNot() async throws {
        let fixture = try await CrawlFixture()
        defer { fixture.cleanup() }
        let outside = try TemporaryDirectory(prefix: "outside")
        defer { outside.remove() }
        try outside.write("secret.php", "outside")
        try outside.write("dir/x.php")
        try fixture.write("real/page.php")
        try fixture.symlink("alias.php", to: "real/page.php")  // file link inside
        try fixture.symlink("mirror", to: "real")  // directory link inside
        try fixture.symlink("leak.php", to: outside.appending("secret.php"))
        try fixture.symlink("leakdir", to: outside.path)
        try fixture.symlink("real/up", to: "..")  // loop back to the docroot
        try fixture.symlink("dangling.php", to: "nowhere.php")
        let result = try fixture.crawl()
        let urls = try fixture.urls()
        #expect(urls["/alias.php"]?.owner == .php)
        #expect(urls["/alias.php"]?.urlFlags.contains(.viaSymlink) == true)
        #expect(urls["/mirror/page.php"] != nil)
        // Apache follows links out of the docroot (FollowSymLinks): so does the inventory, flagged.
        #expect(urls["/leak.php"]?.urlFlags.contains(.outsideDocroot) == true)
        #expect(urls["/leakdir/dir/x.php"]?.urlFlags.isSuperset(of: [.outsideDocroot, .viaSymlink]) == true)
        #expect(urls["/mirror/page.php"]?.urlFlags.contains(.outsideDocroot) == false)
        #expect(urls.keys.allSatisfy { !$0.contains("/up/") })
        let kinds = Dictionary(grouping: result.issues, by: \.kind).mapValues { $0.map(\.filePath).sorted() }
        #expect(kinds["symlink-outside-docroot"] == ["leak.php", "leakdir"])
        #expect(result.issues.first { $0.filePath == "leak.php" }?.message.contains(outside.appending("secret.php")) == true)
        #expect(kinds["symlink-loop"]?.contains("real/up") == true)
        #expect(kinds["broken-symlink"] == ["dangling.php"])
        #expect(try storeCall { try fixture.database.crawls.issues(crawlID: result.crawl.id!) }.count == result.issues.count)
    }

    @Test func linksIntoPlacesThatShouldNeverBePublicAreExposures() async throws {
        let fixture = try await CrawlFixture()
        defer { fixture.cleanup() }
        try fixture.symlink("hosts.txt", to: "/etc/hosts")
        try fixture.symlink("kernel", to: "/proc/self")
        try fixture.symlink(".htpasswd", to: "/etc/hosts")  // Apache denies .ht* files by default
        let result = try fixture.crawl()
        let urls = try fixture.urls()
        // Never followed: nothing in /etc is read, hashed or listed; the link itself is the finding.
        #expect(urls["/hosts.txt"] == nil)
        #expect(urls.keys.allSatisfy { !$0.hasPrefix("/kernel") })
        let kinds = Dictionary(grouping: result.issues, by: \.kind).mapValues { $0.map(\.filePath).sorted() }
        #expect(kinds["exposure"] == ["hosts.txt"])
        #expect(kinds["pseudo-filesystem"] == ["kernel"])
        #expect(kinds["symlink-outside-docroot"] == [".htpasswd"])
    }

    @Test func namesThatAreNotUTF8DoNotStopTheCrawl() async throws {
        let fixture = try await CrawlFixture()
        defer { fixture.cleanup() }
        let name: [UInt8] = Array("\(fixture.docroot)/bad".utf8) + [0xFF, 0xFE] + Array(".php".utf8) + [0]
        let fd = name.withUnsafeBufferPointer { buffer in
            buffer.baseAddress!.withMemoryRebound(to: CChar.self, capacity: buffer.count) { open($0, O_CREAT | O_WRONLY, 0o644) }
        }
        #expect(fd >= 0)
        close(fd)
        try fixture.write("ok.php")
        try fixture.crawl()
        let urls = try fixture.urls()
        #expect(urls["/bad%FF%FE.php"]?.owner == .php)
        #expect(urls["/bad%FF%FE.php"]?.urlFlags.contains(.nonUTF8Name) == true)
        #expect(urls["/ok.php"] != nil)
    }

    @Test func socketsAndFIFOsAreSkippedWithAnIssue() async throws {
        let fixture = try await CrawlFixture()
        defer { fixture.cleanup() }
        #expect(mkfifo("\(fixture.docroot)/pipe.php", 0o644) == 0)
        let result = try fixture.crawl()
        #expect(try fixture.urls().isEmpty)
        #expect(result.issues.map(\.kind) == ["not-a-file"])
    }

    @Test func missingDocrootFailsAndIsRecorded() async throws {
        let fixture = try await CrawlFixture()
        defer { fixture.cleanup() }
        try FileManager.default.removeItem(atPath: fixture.docroot)
        #expect(throws: CrawlError.docrootMissing(fixture.docroot)) { try fixture.crawl() }
        let crawls = try storeCall { try fixture.database.crawls.recent(siteID: fixture.site.id) }
        #expect(crawls.first?.status == .failed)
        #expect(crawls.first?.error?.contains("does not exist") == true)
    }

    @Test func docrootThatIsAFileFails() async throws {
        let fixture = try await CrawlFixture()
        defer { fixture.cleanup() }
        try FileManager.default.removeItem(atPath: fixture.docroot)
        try fixture.root.write("htdocs", "not a folder")
        #expect(throws: CrawlError.docrootNotDirectory(fixture.docroot)) { try fixture.crawl() }
    }
}
