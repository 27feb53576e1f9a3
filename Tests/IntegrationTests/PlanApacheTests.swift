import CutoverCore
import CutoverExport
import CutoverProbe
import CutoverStore
import CutoverTestSupport
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The whole loop on a real Apache: plan → export → apply → probe → roll back.
@Suite(.enabled(if: Integration.enabled, "needs apache2 and libapache2-mod-php (always runs when CI=true)"))
struct PlanApacheTests {
    static let files = [
        "index.php": "<?php echo 'php home';",
        "page-1.php": "<?php echo 'php one';",
        "about/index.php": "<?php echo 'php about';",
        "style.css": "body{}",
    ]

    /// Writes the site's vhost export as the Apache include and reloads.
    func apply(_ live: LiveSite, form: ExportForm = .vhost, map: String? = nil) async throws {
        let (_, rendered) = try storeCall { try Exporter(database: live.database).export(site: live.site, form: form, mapFilePath: map) }
        if let map, rendered.mapFile != nil { try Exporter.writeMap(rendered, to: map) }
        let include = live.apache.workDirectory.appending("cutover.conf")
        let firstTime = !FileManager.default.fileExists(atPath: include)
        try rendered.text.write(toFile: include, atomically: true, encoding: .utf8)
        if firstTime { try live.apache.appendToConfig("Include \"\(include)\"") }
        #expect(try await offPool { try live.apache.configTest() }.status == 0)
        try await offPool { try live.apache.gracefulReload() }
    }

    @Test func rootCutoverAndRollback() async throws {
        let live = try await LiveSite(files: Self.files, directoryConfig: "")
        defer { Task { await live.shutdown() } }
        try await live.crawl()
        try await apply(live)
        var report = try await live.probe()
        #expect(live.observed(report)["/"] == .php)

        _ = try await live.database.plan.flip(siteID: live.site.id, .paths(["/"]), to: .swift, reason: "root cutover")
        try await apply(live)
        report = try await live.probe()
        var observed = live.observed(report)
        #expect(observed["/"] == .swift)
        #expect(observed["/index.php"] == .swift)
        #expect(observed["/about/"] == .php)
        #expect(observed["/page-1.php"] == .php)
        #expect(report.drifted.isEmpty, "\(report.drifted.map(\.target.path))")
        #expect(FileManager.default.fileExists(atPath: "\(live.htdocs)/index.php"))
        let before = live.backend.requestTargets.count
        _ = try await get("\(live.apache.baseURL)/?utm=a%20b")
        #expect(live.backend.requestTargets.dropFirst(before).first == "/?utm=a%20b")

        _ = try await live.database.plan.flip(siteID: live.site.id, .paths(["/"]), to: .php, reason: "roll back")
        try await apply(live)
        report = try await live.probe()
        observed = live.observed(report)
        #expect(observed["/"] == .php)
        #expect(observed["/index.php"] == .php)
        #expect(report.drifted.isEmpty)
        #expect(try storeCall { try live.database.exports.list(siteID: live.site.id) }.count == 3)
    }

    /// A page planned to move answers 301 to its new URL once applied: that is no drift, and
    /// still answering the old page before the export is applied is.
    @Test func redirectIsTheExpectedAnswerOfAMovedPage() async throws {
        let live = try await LiveSite(files: Self.files, directoryConfig: "")
        defer { Task { await live.shutdown() } }
        try await live.crawl()
        try await apply(live)
        _ = try await live.database.plan.flip(
            siteID: live.site.id,
            .paths(["/page-1.php"]),
            to: .swift,
            reason: "moved",
            redirectTo: "/pages/one"
        )
        var report = try await live.probe()
        #expect(report.drifted.map(\.target.path) == ["/page-1.php"])

        try await apply(live)
        report = try await live.probe()
        #expect(report.drifted.isEmpty, "\(report.drifted.map { ($0.target.path, $0.observation.status, $0.observation.location) })")
        let moved = try #require(report.outcomes.first { $0.target.path == "/page-1.php" })
        #expect(moved.observation.status == 301)
        #expect(moved.observation.location?.hasSuffix("/pages/one") == true)
    }

    @Test func rewriteMapFlipsWithoutReload() async throws {
        let live = try await LiveSite(files: Self.files, directoryConfig: "")
        defer { Task { await live.shutdown() } }
        try await live.crawl()
        let map = live.docroot.appending("flips.map")
        try await apply(live, form: .rewritemap, map: map)
        #expect(try await get("\(live.apache.baseURL)/page-1.php").body == "php one")

        _ = try await live.database.plan.flip(siteID: live.site.id, .paths(["/page-1.php"]), to: .swift, reason: "map flip")
        let (_, rendered) = try storeCall { try Exporter(database: live.database).export(site: live.site, form: .rewritemap, mapFilePath: map) }
        try Exporter.writeMapFile(try #require(rendered.mapFile), to: map)
        // Apache compares mtimes; make sure the new map's differs even within the same second.
        var times = [timespec(tv_sec: time(nil) + 5, tv_nsec: 0), timespec(tv_sec: time(nil) + 5, tv_nsec: 0)]
        #expect(utimensat(AT_FDCWD, map, &times, 0) == 0)
        let flipped = try await get("\(live.apache.baseURL)/page-1.php?x=%20")
        #expect(flipped.headers[RecordingBackend.markerHeader].first == "swift")
        #expect(live.backend.requestTargets.last == "/page-1.php?x=%20")
        let report = try await live.probe()
        #expect(live.observed(report)["/page-1.php"] == .swift)
        #expect(report.drifted.isEmpty)
        #expect(live.apache.log().components(separatedBy: "Graceful restart").count == 2)  // only the first apply reloaded
    }

    /// The dbm form (#28.1): a GNU dbm hash map written whole and renamed over the old one flips
    /// a page on the next request and rolls it back, with one reload in all (the first apply);
    /// a name with a non-ASCII byte is a key like any other.
    @Test func hashedMapFlipsAndRollsBackWithoutReload() async throws {
        var files = Self.files
        files["café.php"] = "<?php echo 'php café';"
        let live = try await LiveSite(files: files, directoryConfig: "")
        defer { Task { await live.shutdown() } }
        try await live.crawl()
        let map = live.docroot.appending("flips.gdbm")
        try await apply(live, form: .dbm, map: map)
        #expect(try await get("\(live.apache.baseURL)/page-1.php").body == "php one")
        let include = try String(contentsOfFile: live.apache.workDirectory.appending("cutover.conf"), encoding: .utf8)
        #expect(include.contains(#""dbm=gdbm:\#(map)""#), "\(include)")

        func publish() throws {
            let (_, rendered) = try storeCall { try Exporter(database: live.database).export(site: live.site, form: .dbm, mapFilePath: map) }
            try Exporter.writeMap(rendered, to: map)
            // Apache compares mtimes; make sure the new map's differs even within the same second.
            var times = [timespec(tv_sec: time(nil) + 5, tv_nsec: 0), timespec(tv_sec: time(nil) + 5, tv_nsec: 0)]
            #expect(utimensat(AT_FDCWD, map, &times, 0) == 0)
        }
        let cafe = PathEncoding.urlPath(segments: [Array("café.php".utf8)])
        _ = try await live.database.plan.flip(siteID: live.site.id, .paths(["/page-1.php", cafe]), to: .swift, reason: "hashed flip")
        try publish()
        #expect(try await live.reachesSwift("/page-1.php?x=1").swift)
        #expect(try await live.reachesSwift(cafe).swift)
        #expect(try await live.reachesSwift("/index.php").swift == false)
        // No temporary file is left beside the map.
        #expect(try FileManager.default.contentsOfDirectory(atPath: live.docroot.path).filter { $0.hasPrefix(".flips.gdbm") }.isEmpty)

        _ = try await live.database.plan.flip(siteID: live.site.id, .paths(["/page-1.php"]), to: .php, reason: "roll back")
        var times = [timespec(tv_sec: time(nil) + 10, tv_nsec: 0), timespec(tv_sec: time(nil) + 10, tv_nsec: 0)]
        let (_, rendered) = try storeCall { try Exporter(database: live.database).export(site: live.site, form: .dbm, mapFilePath: map) }
        try Exporter.writeMap(rendered, to: map)
        #expect(utimensat(AT_FDCWD, map, &times, 0) == 0)
        #expect(try await get("\(live.apache.baseURL)/page-1.php").body == "php one")
        #expect(try await live.reachesSwift(cafe).swift)
        let report = try await live.probe()
        #expect(report.drifted.isEmpty, "\(report.drifted.map(\.target.path))")
        #expect(live.apache.log().components(separatedBy: "Graceful restart").count == 2)  // only the first apply reloaded
    }

    /// The tree form (#28): each flip a marker file, one stat per request; flips and rollbacks
    /// reach the next request without a reload, exactly the flipped URLs, and no request path
    /// reaches outside the folder.
    @Test func markerTreeFlipsAndRollsBackWithoutReload() async throws {
        var files = Self.files
        files["café.php"] = "<?php echo 'php café';"
        files["PAGE-1.php"] = "<?php echo 'php upper';"
        let live = try await LiveSite(files: files, directoryConfig: "")
        defer { Task { await live.shutdown() } }
        try await live.crawl()
        let folder = live.docroot.appending("flips")
        try await apply(live, form: .tree, map: folder)
        #expect(try await get("\(live.apache.baseURL)/page-1.php").body == "php one")
        let include = try String(contentsOfFile: live.apache.workDirectory.appending("cutover.conf"), encoding: .utf8)
        #expect(include.contains(#"RewriteCond "\#(folder)%{REQUEST_URI}.cutover-flip" -f"#), "\(include)")

        func publish() throws {
            let (_, rendered) = try storeCall { try Exporter(database: live.database).export(site: live.site, form: .tree, mapFilePath: folder) }
            try Exporter.writeMap(rendered, to: folder)
        }
        let cafe = PathEncoding.urlPath(segments: [Array("café.php".utf8)])
        _ = try await live.database.plan.flip(siteID: live.site.id, .paths(["/page-1.php", cafe, "/about/"]), to: .swift, reason: "tree flip")
        try publish()
        #expect(try await live.reachesSwift("/page-1.php?x=1").swift)
        #expect(try await live.reachesSwift(cafe).swift)
        #expect(try await live.reachesSwift("/about/").swift)
        #expect(try await live.reachesSwift("/about/index.php").swift)  // the same file as /about/
        #expect(try await live.reachesSwift("/index.php").swift == false)
        // Other PHP pages stay PHP's, whatever their spelling; paths above the root never reach the folder.
        for probe in ["/../flips/page-1.php", "/%2e%2e/flips/page-1.php", "/page-1.php/", "/PAGE-1.php"] {
            #expect(try await live.reachesSwift(probe).swift == false, "\(probe)")
        }

        _ = try await live.database.plan.flip(siteID: live.site.id, .paths(["/page-1.php"]), to: .php, reason: "roll back")
        try publish()
        #expect(try await get("\(live.apache.baseURL)/page-1.php").body == "php one")
        #expect(try await live.reachesSwift(cafe).swift)
        let report = try await live.probe()
        #expect(report.drifted.isEmpty, "\(report.drifted.map(\.target.path))")
        #expect(live.apache.log().components(separatedBy: "Graceful restart").count == 2)  // only the first apply reloaded
    }

    @Test func hostileNamesAreAcceptedByApacheAndFlipExactly() async throws {
        let names = [
            "q\"uote.php", "gt>.php", "</Files>.php", "pct%20.php", "dollar$1.php", "sp ace.php", "[br].php", "star*.php",
            "back\\slash.php", "café.php", "a+b(1).php", "semi;colon.php", "{brace}.php", "a'b.php",
        ]
        var files = Self.files
        for name in names { files[name] = "<?php echo 'php';" }
        let live = try await LiveSite(files: files, directoryConfig: "")
        defer { Task { await live.shutdown() } }
        try await live.crawl()
        let encoded = names.map { PathEncoding.urlPath(segments: $0.split(separator: "/").map { Array($0.utf8) }) }
        let flipped = try await live.database.plan.flip(siteID: live.site.id, .paths(encoded), to: .swift, reason: "hostile")
        #expect(flipped.changed.count == names.count)
        let paths = try storeCall { try live.database.inventory.urls(siteID: live.site.id) }.filter { $0.plannedOwner == .swift }.map(\.path)
        #expect(Set(paths) == Set(encoded))
        try await apply(live)
        let check = try ApacheConfigCheck().check(
            try DirectiveRenderer.render(try storeCall { try live.database.plan.exportInput(site: live.site) }, form: .htaccess),
            settings: live.site.settings,
            mapFilePath: nil
        )
        #expect(check.accepted, "\(check.message)")
        let report = try await live.probe()
        let observed = live.observed(report)
        for path in paths { #expect(observed[path] == .swift, "\(path)") }
        #expect(observed["/page-1.php"] == .php)
        #expect(report.drifted.isEmpty, "\(report.drifted.map(\.target.path))")
        // The backend got each page at exactly the path the prober sent.
        let received = Set(live.backend.requestTargets)
        for path in paths { #expect(received.contains(path), "\(path)") }
    }

    @Test func rewriteMapCheckWritesNothingBesideTheMapPath() throws {
        let settings = SiteSettings(name: "x", docroot: "/tmp", publicURL: "http://127.0.0.1", backendURL: "http://127.0.0.1:8080")
        let map = "/nonexistent-cutover-dir/flips.map"
        let rendered = try DirectiveRenderer.render(
            ExportInput(settings: settings, flips: [PageFlip(path: "/a.php")], mapFilePath: map),
            form: .rewritemap
        )
        let result = try ApacheConfigCheck().check(rendered, settings: settings, mapFilePath: map)
        #expect(result.accepted, "\(result.message)")
        #expect(!FileManager.default.fileExists(atPath: "/nonexistent-cutover-dir"))
    }

    @Test func configCheckReportsTheRejectedLine() throws {
        let settings = SiteSettings(name: "x", docroot: "/tmp", publicURL: "http://127.0.0.1", backendURL: "http://127.0.0.1:8080")
        var rendered = try DirectiveRenderer.render(ExportInput(settings: settings, flips: [PageFlip(path: "/a.php")]), form: .vhost)
        var lines = rendered.text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        lines.insert("    RewriteRule broken", at: 10)
        rendered.text = lines.joined(separator: "\n")
        let result = try ApacheConfigCheck().check(rendered, settings: settings, mapFilePath: nil)
        #expect(!result.accepted)
        #expect(result.exportLine == 11)
        #expect(result.message.contains("RewriteRule"))
    }
}
